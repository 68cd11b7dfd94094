"""Lazily built, cached clients for one profile (imports of proxmoxer/kubernetes stay off start-up)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from hks_tui.clients.errors import HksError
from hks_tui.clients.guard import TransportGuard

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.clients.metrics import MetricsClient
    from hks_tui.clients.proxmox import ProxmoxClient

T = TypeVar("T")

log = logging.getLogger(__name__)


class ClientSet:
    """The Proxmox, host-cluster, vCluster and metrics clients of one profile.

    Each is built on first use (on an executor thread) and cached; a construction failure (missing
    kubeconfig, unreadable secret) is raised as :class:`HksError` each time it is asked for.
    """

    def __init__(
        self, profile: Any, guard: TransportGuard, *, insecure: bool = False, kube_timeout: float = 10.0
    ) -> None:
        self.profile = profile
        self.guard = guard
        self.insecure = insecure
        self.kube_timeout = kube_timeout
        self._lock = threading.RLock()
        self._cache: dict[Any, Any] = {}
        self._closed = False

    def _get(self, key: Any, build: Callable[[], T]) -> T:
        with self._lock:
            if self._closed:
                raise HksError("Use a backend client", "the console is shutting down")
            if key not in self._cache:
                self._cache[key] = build()
            return self._cache[key]  # type: ignore[no-any-return]

    @property
    def proxmox(self) -> ProxmoxClient:
        def build() -> ProxmoxClient:
            from hks_tui.clients.proxmox import ProxmoxClient
            from hks_tui.secretref import resolve_secret

            pve = self.profile.proxmox
            try:
                secret = resolve_secret(pve.token_secret)
            except Exception as exc:
                raise HksError(
                    "Read the Proxmox token secret",
                    str(exc),
                    "Fix `token_secret` in the profile.",
                    backend="proxmox",
                ) from None
            insecure = bool(pve.insecure or self.insecure)
            if insecure:
                log.warning("TLS verification of Proxmox VE at %s is OFF (insecure)", pve.url)
            return ProxmoxClient(
                url=pve.url,
                token_id=pve.token_id,
                token_secret=secret,
                guard=self.guard,
                # an explicit --insecure wins over the profile's CA file / pin
                ca_file=None if self.insecure else pve.ca_file,
                fingerprint=None if self.insecure else pve.fingerprint,
                insecure=insecure,
                timeout=float(pve.timeout),
            )

        return self._get("proxmox", build)

    def kube(self, kubeconfig: Path, context: str, backend: str) -> KubeClient:
        def build() -> KubeClient:
            from hks_tui.clients.kube import KubeClient

            return KubeClient(
                kubeconfig=kubeconfig,
                context=context,
                guard=self.guard,
                backend=backend,
                timeout=self.kube_timeout,
            )

        return self._get(("kube", str(kubeconfig), context, backend), build)

    @property
    def host(self) -> KubeClient:
        ctx = self.profile.host_cluster
        return self.kube(ctx.kubeconfig, ctx.context, "host")

    @property
    def vcluster(self) -> KubeClient:
        ctx = self.profile.vcluster
        return self.kube(ctx.kubeconfig, ctx.context, "vcluster")

    @property
    def metrics(self) -> MetricsClient:
        def build() -> MetricsClient:
            from hks_tui.clients.metrics import MetricsClient

            return MetricsClient(guard=self.guard, prometheus_url=self.profile.prometheus_url)

        return self._get("metrics", build)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            clients = list(self._cache.values())
            self._cache.clear()
        for client in clients:
            try:
                client.close()
            except Exception:
                pass
