"""Turn any exception into words for the error hub: what failed, why, what to do next.

Domain errors (``hks_tui.clients.errors.HksError``) already carry ``what``/``why``/``next_step``; anything
else is described from its type and message. A traceback is never part of the result.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ErrorInfo:
    """A readable description of a failure, ready for a notification or the error panel."""

    source: str
    what: str
    why: str
    next_step: str
    backend: str | None = None
    status: int | None = None
    kind: str = "error"

    @property
    def one_line(self) -> str:
        """The notification text: what failed and why."""
        return f"{self.what} failed: {self.why}" if self.why else f"{self.what} failed"

    def details(self) -> list[tuple[str, str]]:
        """Label/value rows for the details part of the error panel."""
        rows = [("Source", self.source), ("Kind", self.kind)]
        if self.backend:
            rows.append(("Backend", self.backend))
        if self.status is not None:
            rows.append(("Status", str(self.status)))
        return rows


_GENERIC_NEXT = "Retry; if it keeps failing, check the backend's health (B) and the audit log (:audit)."


def describe_error(error: BaseException | None, source: str = "task") -> ErrorInfo:
    """Describe ``error`` (raised by the worker or action named ``source``) without a traceback."""
    if error is None:
        return ErrorInfo(source, source, "no error detail was recorded", _GENERIC_NEXT)
    what = getattr(error, "what", None)
    why = getattr(error, "why", None)
    if isinstance(what, str) and what:
        next_step = getattr(error, "next_step", None)
        backend = getattr(error, "backend", None)
        status = getattr(error, "status", None)
        return ErrorInfo(
            source=source,
            what=what,
            why=str(why) if why else "",
            next_step=str(next_step) if next_step else _GENERIC_NEXT,
            backend=str(backend) if backend else None,
            status=status if isinstance(status, int) else None,
            kind=type(error).__name__,
        )
    message = str(error).strip().splitlines()[0] if str(error).strip() else "(no message)"
    if isinstance(error, TimeoutError):
        next_step = "The backend did not answer in time; check the network path and retry."
    elif isinstance(error, ConnectionError | OSError):
        next_step = "Check that the backend is reachable from this machine, then retry."
    else:
        next_step = "This looks like a bug in the console; please report it with the audit log (:audit)."
    return ErrorInfo(
        source=source,
        what=source,
        why=f"{type(error).__name__}: {message}",
        next_step=next_step,
        kind=type(error).__name__,
    )
