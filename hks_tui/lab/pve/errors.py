"""Errors the simulated Proxmox VE API raises, rendered with PVE's envelope.

``PveError`` is what an API handler ``die``s with before a worker starts: the HTTP status line carries the
message as reason phrase and the JSON body is ``{"data": null, "message": "...\\n"}`` plus an ``errors``
dict for parameter errors (400). ``TaskError`` is raised *inside* a worker task: it never becomes an HTTP
error, it ends the task with ``TASK ERROR: <message>``.
"""

from __future__ import annotations


class PveError(Exception):
    """An API error answered synchronously (HTTP status ≥ 400)."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


class ParamError(PveError):
    """``400 Parameter verification failed.`` with per-parameter messages."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(400, "Parameter verification failed.", errors)


class TaskError(Exception):
    """A failure inside a worker task (ends the task with ``TASK ERROR: <message>``)."""


def param_error(name: str, message: str) -> ParamError:
    return ParamError({name: message})


def not_implemented(method: str, path: str) -> PveError:
    return PveError(501, f"Method '{method} {path}' not implemented")


def config_missing(node: str, vmid: int) -> PveError:
    return PveError(500, f"Configuration file 'nodes/{node}/qemu-server/{vmid}.conf' does not exist")
