"""Guarded API clients: Proxmox VE (proxmoxer), Kubernetes (official client), Prometheus.

Import the concrete clients from their modules (``hks_tui.clients.proxmox`` …); this package only
re-exports the light-weight error types so importing it stays cheap.
"""

from hks_tui.clients.errors import (
    AuthError,
    BackendTimeout,
    BusyError,
    ConflictError,
    ExpiredError,
    ForbiddenError,
    HksError,
    InvalidError,
    NotFoundError,
    QuotaExceededError,
    ReadOnlyError,
    ServerError,
    TimeoutError_,
    TlsError,
    UnreachableError,
)

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
    "ServerError",
    "TimeoutError_",
    "TlsError",
    "UnreachableError",
]
