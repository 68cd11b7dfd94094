"""Proxmox VE client: proxmoxer's https backend behind the transport guard.

TLS is verified by default: against the profile's CA file, or by a SHA-256 fingerprint pin checked in the
handshake, or (only when explicitly configured) not at all. Every request has an explicit timeout.
API-token auth only (stateless, no CSRF, no I/O in the constructor).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hks_tui.clients.errors import BackendTimeout, HksError, InvalidError
from hks_tui.clients.guard import TransportGuard
from hks_tui.clients.transport import mount_guard, normalize_fingerprint

BACKEND = "proxmox"


def split_token_id(token_id: str) -> tuple[str, str]:
    """``USER@REALM!TOKENID`` → (``USER@REALM``, ``TOKENID``)."""
    user, sep, name = token_id.partition("!")
    if not sep or not user or not name or "@" not in user:
        raise InvalidError(
            "Proxmox token id",
            f"{token_id!r} is not of the form USER@REALM!TOKENID",
            "Fix `token_id` in the profile (e.g. hks@pve!console).",
            backend=BACKEND,
        )
    return user, name


class ProxmoxClient:
    """One Proxmox VE cluster. All methods are synchronous: call them through the services executor."""

    def __init__(
        self,
        *,
        url: str,
        token_id: str,
        token_secret: str,
        guard: TransportGuard,
        ca_file: Path | str | None = None,
        fingerprint: str | None = None,
        insecure: bool = False,
        timeout: float = 10.0,
    ) -> None:
        from proxmoxer import ProxmoxAPI

        parts = urlsplit(url if "://" in url else f"https://{url}")
        if parts.scheme != "https" or not parts.hostname:
            raise InvalidError(
                "Proxmox URL", f"{url!r} is not an https:// URL", "Use https://HOST:8006.", backend=BACKEND
            )
        user, token_name = split_token_id(token_id)
        guard.register_secret(token_secret)
        self.guard = guard
        self.url = f"https://{parts.netloc}"
        self.timeout = timeout
        self.insecure = insecure
        verify: bool | str
        if fingerprint:
            try:
                fingerprint = normalize_fingerprint(fingerprint)
            except ValueError as exc:
                raise InvalidError("Proxmox fingerprint pin", str(exc), backend=BACKEND) from None
            verify = str(ca_file) if ca_file else False  # the pin is the trust anchor
        elif ca_file:
            verify = str(ca_file)
        elif insecure:
            verify = False
        else:
            verify = True
        prefix = parts.path.strip("/")
        if prefix.endswith("api2/json"):
            prefix = prefix[: -len("api2/json")].strip("/")
        self._api = ProxmoxAPI(
            parts.hostname,
            backend="https",
            port=parts.port or 8006,
            user=user,
            token_name=token_name,
            token_value=token_secret,
            verify_ssl=verify,
            timeout=timeout,
            path_prefix=prefix or None,
        )
        # proxmoxer keeps its requests session in the resource store; route it through the guard.
        mount_guard(self._api._store["session"], guard, BACKEND, fingerprint=fingerprint)

    def __repr__(self) -> str:
        return f"ProxmoxClient({self.url})"

    # ------------------------------------------------------------------ generic verbs
    def _resource(self, path: str) -> Any:
        return self._api(path.strip("/"))

    # PVE parameters whose names clash with the keyword arguments below (``target`` of a migration,
    # say) go in the positional ``data`` mapping instead: ``pve.post(path, {"target": "pve2"})``.

    def get(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        what: str = "",
        retries: int | None = None,
        timeout: float | None = None,
        **extra: Any,
    ) -> Any:
        """GET ``/api2/json/<path>``; idempotent, retried on transient failures.

        ``timeout`` overrides the client's per-request timeout for this call (e.g. health checks)."""
        query = {**(params or {}), **extra}
        return self.guard.call(
            BACKEND,
            what or f"GET {path}",
            lambda: self._resource(path).get(**query),
            max_attempts=retries,
            timeout=timeout,
        )

    def _mutate(
        self,
        method: str,
        path: str,
        data: Mapping[str, Any],
        *,
        action: str,
        target: str,
        what: str,
        idempotent: bool,
    ) -> Any:
        payload = dict(data)

        def send() -> Any:
            resource = self._resource(path)
            if method == "POST":
                return resource.post(**payload)
            if method == "PUT":
                return resource.put(**payload)
            return resource.delete(**payload)

        return self.guard.call(
            BACKEND,
            what or f"{method} {path}",
            send,
            mutating=True,
            idempotent=idempotent,
            action=action or f"pve.{method.lower()}",
            target=target or path,
            params=payload,
        )

    def post(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        /,
        *,
        action: str = "",
        target: str = "",
        what: str = "",
        idempotent: bool = False,
        **extra: Any,
    ) -> Any:
        """POST (create / run an action); returns the data (often a task UPID). Never retried by default.

        ``action``/``target`` name the audit row (e.g. ``"vm.start"``, ``"pve1/100"``)."""
        payload = {**(data or {}), **extra}
        return self._mutate(
            "POST", path, payload, action=action, target=target, what=what, idempotent=idempotent
        )

    def put(
        self,
        path: str,
        data: Mapping[str, Any] | None = None,
        /,
        *,
        action: str = "",
        target: str = "",
        what: str = "",
        idempotent: bool = True,
        **extra: Any,
    ) -> Any:
        """PUT (synchronous config change; idempotent, so retried on transient failures)."""
        payload = {**(data or {}), **extra}
        return self._mutate(
            "PUT", path, payload, action=action, target=target, what=what, idempotent=idempotent
        )

    def delete(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        /,
        *,
        action: str = "",
        target: str = "",
        what: str = "",
        idempotent: bool = False,
        **extra: Any,
    ) -> Any:
        """DELETE; returns the data (often a task UPID)."""
        payload = {**(params or {}), **extra}
        return self._mutate(
            "DELETE", path, payload, action=action, target=target, what=what, idempotent=idempotent
        )

    # ------------------------------------------------------------------ common reads
    def version(self, *, retries: int | None = None, timeout: float | None = None) -> dict[str, Any]:
        result = self.get("version", what="Read the Proxmox VE version", retries=retries, timeout=timeout)
        return dict(result or {})

    def cluster_resources(self, type: str | None = None) -> list[dict[str, Any]]:
        """The whole inventory in one call (``type``: vm | storage | node | sdn)."""
        params: dict[str, Any] = {"type": type} if type else {}
        return list(self.get("cluster/resources", what="List the Proxmox inventory", **params) or [])

    def nodes(self) -> list[dict[str, Any]]:
        return list(self.get("nodes", what="List Proxmox nodes") or [])

    def nextid(self) -> int:
        """The next free VMID (advisory; PVE returns it as a string)."""
        return int(self.get("cluster/nextid", what="Ask Proxmox for a free VMID"))

    def vm_status(self, node: str, vmid: int) -> dict[str, Any]:
        return dict(
            self.get(f"nodes/{node}/qemu/{vmid}/status/current", what=f"Read the status of VM {vmid}")
        )

    def vm_config(self, node: str, vmid: int) -> dict[str, Any]:
        return dict(self.get(f"nodes/{node}/qemu/{vmid}/config", what=f"Read the config of VM {vmid}"))

    def task_status(self, node: str, upid: str) -> dict[str, Any]:
        return dict(self.get(f"nodes/{node}/tasks/{upid}/status", what="Read a Proxmox task status"))

    def task_log(self, node: str, upid: str, *, start: int = 0, limit: int = 0) -> list[dict[str, Any]]:
        return list(
            self.get(
                f"nodes/{node}/tasks/{upid}/log", what="Read a Proxmox task log", start=start, limit=limit
            )
            or []
        )

    def wait_task(
        self, node: str, upid: str, *, timeout: float = 300.0, poll: float = 1.0, what: str = ""
    ) -> dict[str, Any]:
        """Poll a task until it stops; raise if it failed (``exitstatus`` != OK) or did not finish in time."""
        deadline = time.monotonic() + timeout
        label = what or f"Proxmox task {upid.split(':')[5] if upid.count(':') > 5 else upid}"
        while True:
            status = self.task_status(node, upid)
            if status.get("status") == "stopped":
                exit_status = str(status.get("exitstatus", ""))
                if exit_status != "OK" and not exit_status.startswith("WARNINGS"):
                    raise HksError(
                        label,
                        exit_status or "the task failed",
                        "See the task log for details.",
                        backend=BACKEND,
                        details={"upid": upid},
                    )
                return status
            if time.monotonic() >= deadline:
                raise BackendTimeout(
                    label,
                    f"the task was still running after {timeout:.0f}s",
                    "It may still finish; check the task list in Proxmox.",
                    backend=BACKEND,
                    details={"upid": upid},
                )
            time.sleep(poll)

    def close(self) -> None:
        try:
            self._api._store["session"].close()
        except Exception:
            pass


def proxmox_from_profile(settings: Any, guard: TransportGuard) -> ProxmoxClient:
    """Build a client from a profile's ``proxmox`` section (a :class:`hks_tui.config` ``ProxmoxSettings``)."""
    from hks_tui.secretref import resolve_secret

    secret = settings.token_secret
    value = secret if isinstance(secret, str) else resolve_secret(secret)
    return ProxmoxClient(
        url=settings.url,
        token_id=settings.token_id,
        token_secret=value,
        guard=guard,
        ca_file=getattr(settings, "ca_file", None),
        fingerprint=getattr(settings, "fingerprint", None),
        insecure=bool(getattr(settings, "insecure", False)),
        timeout=float(getattr(settings, "timeout", 10.0) or 10.0),
    )
