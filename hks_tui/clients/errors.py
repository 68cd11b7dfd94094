"""Domain errors raised by every client: what failed, why (the server's own words), what to do next.

Every failure that crosses the transport guard — an HTTP status, a Proxmox ``errors`` dict, a Kubernetes
``Status``, a TLS problem, a timeout, a refused connection — becomes one of these. ``str(err)`` is one
readable line suitable for a notification; the fields are there for an error panel.
"""

from __future__ import annotations

from typing import Any


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class HksError(Exception):
    """Base of every error the clients raise.

    ``what``: the operation that failed ("start VM 100 on pve1"); ``why``: the reason, in the server's
    words when there is one; ``next_step``: what the user can do; ``backend``: "proxmox" | "host" |
    "vcluster" | "prometheus" | ""; ``status``: the HTTP status if there was a response.
    """

    #: a transient failure worth retrying for idempotent calls
    retryable: bool = False
    default_next_step: str = "Check the details and try again."

    def __init__(
        self,
        what: str,
        why: str = "",
        next_step: str = "",
        *,
        backend: str = "",
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.what = _one_line(what)
        self.why = _one_line(why)
        self.next_step = _one_line(next_step or self.default_next_step)
        self.backend = backend
        self.status = status
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(str(self))

    def __str__(self) -> str:
        parts = [f"{self.what} failed"]
        if self.why:
            parts[0] += f": {self.why}"
        text = parts[0].rstrip(".") + "."
        if self.next_step:
            text += f" {self.next_step}"
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(what={self.what!r}, why={self.why!r}, status={self.status!r})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": type(self).__name__,
            "what": self.what,
            "why": self.why,
            "next_step": self.next_step,
            "backend": self.backend,
            "status": self.status,
            "details": self.details,
        }


class NotFoundError(HksError):
    default_next_step = "Refresh the view; it may have been deleted by someone else."


class ConflictError(HksError):
    default_next_step = "Someone else changed it meanwhile; refresh and retry."


class ForbiddenError(HksError):
    default_next_step = "Ask an administrator for the missing permission."


class QuotaExceededError(ForbiddenError):
    default_next_step = "Free resources in the workspace or raise its quota (or move to the Dedicated plan)."


class AuthError(HksError):
    default_next_step = "Check the credentials of this profile (`hks-tui config`)."


class TlsError(HksError):
    default_next_step = (
        "Check the CA file or the SHA-256 fingerprint pin in the profile; "
        "if the server certificate was renewed, re-pin it."
    )


class BackendTimeout(HksError):
    retryable = True
    default_next_step = "The backend is slow or overloaded; try again, or raise the profile's timeout."


TimeoutError_ = BackendTimeout


class UnreachableError(HksError):
    retryable = True
    default_next_step = "Check that the backend is running and the URL in the profile is right."


class ReadOnlyError(HksError):
    default_next_step = "The console runs with --readonly; restart it without --readonly to make changes."


class InvalidError(HksError):
    default_next_step = "Correct the highlighted fields and try again."

    @property
    def field_errors(self) -> dict[str, str]:
        errors = self.details.get("errors")
        return dict(errors) if isinstance(errors, dict) else {}


class ExpiredError(HksError):
    default_next_step = "The data is outdated; refresh the view."


class BusyError(HksError):
    retryable = True
    default_next_step = "The backend asked to retry later; wait a moment and try again."


class ServerError(HksError):
    default_next_step = "The backend reported an internal error; see its message and logs."


class RetryableServerError(ServerError):
    retryable = True
    default_next_step = "The backend is temporarily unavailable; try again shortly."


__all__ = [
    "AuthError",
    "BackendTimeout",
    "BusyError",
    "ConflictError",
    "ExpiredError",
    "ForbiddenError",
    "HksError",
    "InvalidError",
    "NotFoundError",
    "QuotaExceededError",
    "ReadOnlyError",
    "RetryableServerError",
    "ServerError",
    "TimeoutError_",
    "TlsError",
    "UnreachableError",
]
