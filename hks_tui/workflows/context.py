"""What a step sees while it runs: params, earlier results, dependencies, and ways to report progress."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hks_tui.workflows.journal import assert_no_secrets


@dataclass
class StepContext:
    """Passed to ``run``/``check``/``compensate``.

    * ``params`` — the workflow's persisted parameters (JSON, no secrets). A step may add keys (e.g. the
      VMID it chose); the engine persists them after the step.
    * ``results`` — the journaled result of every earlier finished step, by step name.
    * ``deps`` — whatever the engine was built with (clients, services); never persisted.
    * ``emit(line)`` — a detail line for the timeline (a PVE task log line, a Kubernetes event); safe from
      any thread.
    * ``remember(**values)`` — add to ``params`` and journal them at once, *before* the external call
      (intent before action: e.g. the VMID chosen for a clone survives a crash during the call).
    * ``record_upid(upid)`` — journal the backend task id right after the call returned.
    * ``cancel_requested`` — long waits inside a step may stop early when this becomes true.
    """

    workflow_id: str
    kind: str
    step: str
    index: int
    attempt: int
    params: dict[str, Any]
    results: Mapping[str, Mapping[str, Any]]
    deps: Any = None
    phase: str = "run"  # "run" | "check" | "compensate"
    _emit: Callable[[str], None] | None = field(default=None, repr=False)
    _record_upid: Callable[[str], None] | None = field(default=None, repr=False)
    _persist: Callable[[dict[str, Any]], None] | None = field(default=None, repr=False)
    _cancel: threading.Event | None = field(default=None, repr=False)
    _remaining: Callable[[], float | None] | None = field(default=None, repr=False)

    def emit(self, line: str) -> None:
        if self._emit is not None:
            self._emit(str(line))

    def remember(self, **values: Any) -> None:
        assert_no_secrets(values)  # raises SecretInParamsError: params are stored in SQLite
        self.params.update(values)
        if self._persist is not None:
            self._persist(self.params)

    def record_upid(self, upid: str) -> None:
        if self._record_upid is not None:
            self._record_upid(str(upid))

    @property
    def cancel_requested(self) -> bool:
        return self._cancel is not None and self._cancel.is_set()

    def remaining(self) -> float | None:
        """Seconds left in this step's budget (``None``: unlimited)."""
        return self._remaining() if self._remaining is not None else None

    def result(self, step: str) -> Mapping[str, Any]:
        """The result of an earlier step (``KeyError`` if it has not finished)."""
        return self.results[step]
