"""Where synchronous step functions run: any object with ``submit(fn, *args) -> Future``.

``concurrent.futures.ThreadPoolExecutor`` and the services' ``ServiceExecutor`` both qualify.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Submitter(Protocol):
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]: ...
