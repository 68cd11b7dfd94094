"""Declaring a workflow kind: ordered, named, idempotent steps with retry and compensation policy.

A step's ``run(ctx)`` performs one external effect and returns a JSON-able mapping (or ``None``).
It may be a plain function (run on the engine's executor thread: the clients are synchronous) or a
coroutine function. ``check(ctx)`` answers "has the effect already happened?" — it returns a result
mapping (or ``True``) to *adopt* the existing effect, or ``None``/``False`` when the step must run.
``compensate(ctx)`` undoes the effect; it must be idempotent (a ``NotFoundError`` counts as done).

Example::

    PROVISION = WorkflowKind(
        "node.provision",
        steps=[
            Step("clone", run=clone_vm, check=find_vm_by_name, compensate=destroy_vm, max_attempts=4),
            Step("start", run=start_vm, budget=300.0),
        ],
        on_failure=OnFailure.COMPENSATE,
    )
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias

from hks_tui.clients.errors import HksError, NotFoundError

if TYPE_CHECKING:
    from hks_tui.workflows.context import StepContext

StepResult: TypeAlias = Mapping[str, Any] | None
CheckResult: TypeAlias = Mapping[str, Any] | bool | None
RunFn: TypeAlias = Callable[["StepContext"], StepResult | Awaitable[StepResult]]
CheckFn: TypeAlias = Callable[["StepContext"], CheckResult | Awaitable[CheckResult]]
CompensateFn: TypeAlias = Callable[["StepContext"], Any]
RetryPredicate: TypeAlias = Callable[[BaseException], bool]


def default_retryable(exc: BaseException) -> bool:
    """Known-transient failures: HksError marked retryable (timeouts, unreachable, 429/503 busy) and 5xx.

    A step whose backend signals misconfiguration with a 500 (the Eviction API) passes its own
    ``retry_on`` instead.
    """
    if isinstance(exc, HksError):
        if exc.retryable:
            return True
        return exc.status is not None and 500 <= exc.status <= 599
    return isinstance(exc, TimeoutError | ConnectionError)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with "equal jitter": half the delay fixed, half random.

    ``delay(n)`` is the wait after the n-th failed attempt (n >= 1).
    """

    base: float = 1.0
    factor: float = 2.0
    cap: float = 30.0

    def __post_init__(self) -> None:
        if self.base < 0 or self.factor < 1 or self.cap < 0:
            raise ValueError("backoff needs base >= 0, factor >= 1 and cap >= 0")

    def ceiling(self, failed_attempts: int) -> float:
        exponent = max(0, failed_attempts - 1)
        # avoid float overflow for large exponents: the cap is reached long before
        if exponent > 64:
            return self.cap
        return min(self.cap, self.base * self.factor**exponent)

    def delay(self, failed_attempts: int, rng: random.Random) -> float:
        ceiling = self.ceiling(failed_attempts)
        half = ceiling / 2
        return half + rng.uniform(0, half)


class OnFailure(StrEnum):
    """What a workflow does once a step has failed for good."""

    PAUSE = "pause"  # stop in PAUSED with the error recorded; resume(id) retries the step
    COMPENSATE = "compensate"  # undo attempted steps in reverse, end COMPENSATED
    FAIL = "fail"  # stop in FAILED with the error recorded (resume(id) still allowed)


@dataclass(frozen=True)
class Step:
    """One named step. ``delete=True``: a ``NotFoundError`` from ``run`` means the thing is gone = success
    (``not_found`` may recognise more errors as "does not exist").

    ``idempotent=False`` with no ``check``: when a previous runner died during the call, the engine will
    not guess — it pauses with :class:`OutcomeUnknownError` (Crossplane's "cannot determine creation result").
    ``budget``: seconds for the whole step (all attempts and backoff); ``None`` means no limit.
    """

    name: str
    run: RunFn
    check: CheckFn | None = None
    compensate: CompensateFn | None = None
    title: str = ""
    max_attempts: int = 3
    backoff: Backoff = field(default_factory=Backoff)
    budget: float | None = None
    retry_on: RetryPredicate = default_retryable
    delete: bool = False
    idempotent: bool = True
    not_found: RetryPredicate | None = None

    def __post_init__(self) -> None:
        if not self.name or not self.name.replace("_", "").replace("-", "").replace(".", "").isalnum():
            raise ValueError(f"step name {self.name!r} must be a non-empty identifier (letters, digits, -_.)")
        if self.max_attempts < 1:
            raise ValueError(f"step {self.name!r}: max_attempts must be >= 1")
        if self.budget is not None and self.budget <= 0:
            raise ValueError(f"step {self.name!r}: budget must be positive")

    @property
    def label(self) -> str:
        return self.title or self.name

    def is_gone(self, exc: BaseException) -> bool:
        """``exc`` says the object does not exist (``NotFoundError``, or the step's own ``not_found``)."""
        return isinstance(exc, NotFoundError) or (self.not_found is not None and self.not_found(exc))

    def treats_as_done(self, exc: BaseException) -> bool:
        return self.delete and self.is_gone(exc)


@dataclass(frozen=True)
class WorkflowKind:
    """A named, ordered list of steps and the failure policy of the whole workflow."""

    name: str
    steps: Sequence[Step]
    on_failure: OnFailure = OnFailure.PAUSE
    compensate_on_cancel: bool = True
    title: str = ""
    describe: Callable[[Mapping[str, Any]], str] | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a workflow kind needs a name")
        if not self.steps:
            raise ValueError(f"workflow kind {self.name!r} has no steps")
        names = [s.name for s in self.steps]
        if len(set(names)) != len(names):
            raise ValueError(f"workflow kind {self.name!r} has duplicate step names: {names}")
        object.__setattr__(self, "steps", tuple(self.steps))

    @property
    def step_names(self) -> list[str]:
        return [s.name for s in self.steps]

    def step(self, name: str) -> Step:
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(f"workflow kind {self.name!r} has no step {name!r}")


def is_async(fn: Callable[..., Any]) -> bool:
    """A coroutine function, or an object whose ``__call__`` is one."""
    if inspect.iscoroutinefunction(fn):
        return True
    call = inspect.getattr_static(type(fn), "__call__", None)
    return call is not None and inspect.iscoroutinefunction(call)
