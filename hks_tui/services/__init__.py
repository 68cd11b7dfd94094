"""Services: async facades over the guarded clients for the screens and headless commands.

``Services`` owns the bounded executor every blocking call runs on, the clients of the current profile
(built lazily), and the shared :class:`~hks_tui.services.watch_cache.WatchCache`. No Textual imports.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hks_tui.clients.guard import TransportGuard
from hks_tui.services.audit import AuditService
from hks_tui.services.clients import ClientSet
from hks_tui.services.executor import ServiceExecutor
from hks_tui.services.health import HealthService
from hks_tui.services.nodes import NodeService
from hks_tui.services.quota import QuotaService
from hks_tui.services.streams import LogFollower
from hks_tui.services.watch_cache import WatchCache, WatchEvent
from hks_tui.services.workspaces import WorkspaceRef, WorkspaceService

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.services.apps import AppService
    from hks_tui.services.backups import BackupService
    from hks_tui.services.volumes import VolumeService


class Services:
    """Everything the screens call. Build with :meth:`build`; ``close()`` stops threads and sockets."""

    def __init__(
        self,
        *,
        guard: TransportGuard,
        clients: ClientSet,
        store: Any,
        workspaces: list[WorkspaceRef],
        executor: ServiceExecutor | None = None,
        health_timeout: float = 3.0,
    ) -> None:
        self.guard = guard
        self.clients = clients
        self.store = store
        self.executor = executor or ServiceExecutor()
        self.health = HealthService(clients, self.executor, timeout=health_timeout)
        self.workspaces = WorkspaceService(clients, self.executor, store, workspaces)
        self.audit = AuditService(store, self.executor)
        self.watch_cache = WatchCache()
        self.nodes = NodeService(clients, self.executor, self.watch_cache, store, workspaces)
        self.quota = QuotaService(self.nodes, clients, self.executor, store)
        self._followers: list[LogFollower] = []
        self._closed = False
        self._apps: AppService | None = None
        self._volumes: VolumeService | None = None
        self._backups: BackupService | None = None
        self.storage_price_gib_month: float | None = None  # from the settings; None = the default price

    @property
    def apps(self) -> AppService:
        """Applications of the current workspace (imported on first use: it pulls in the workflow kinds)."""
        if self._apps is None:
            from hks_tui.services.apps import AppService

            self._apps = AppService(self)
        return self._apps

    @property
    def volumes(self) -> VolumeService:
        """Storage volumes (Proxmox disk → StorageClass + PV), created on first use."""
        if self._volumes is None:
            from hks_tui.services.volumes import VolumeService

            if self.storage_price_gib_month is None:
                self._volumes = VolumeService(self)
            else:
                self._volumes = VolumeService(self, price_gib_month=self.storage_price_gib_month)
        return self._volumes

    @property
    def backups(self) -> BackupService:
        """Scheduled backups (CronJobs), created on first use."""
        if self._backups is None:
            from hks_tui.services.backups import BackupService

            self._backups = BackupService(self)
        return self._backups

    async def aclose_feature_services(self) -> None:
        """Stop the workflow engines of the feature services that were used."""
        for service in (self._apps, self._volumes, self._backups):
            if service is not None:
                await service.aclose()

    @classmethod
    def build(
        cls,
        *,
        profile: Any,
        store: Any,
        workspaces: list[WorkspaceRef],
        readonly: bool = False,
        insecure: bool = False,
        actor: str | None = None,
        executor: ServiceExecutor | None = None,
    ) -> Services:
        guard = TransportGuard(
            readonly=readonly,
            audit=store.audit if store is not None else None,
            actor=actor,
            profile=getattr(profile, "name", ""),
        )
        _register_profile_secrets(guard, profile)
        clients = ClientSet(profile, guard, insecure=insecure)
        return cls(guard=guard, clients=clients, store=store, workspaces=workspaces, executor=executor)

    def follow_log(
        self,
        client: KubeClient,
        pod: str,
        namespace: str,
        on_line: Callable[[str], None],
        on_state: Callable[[str, str], None] | None = None,
        **options: Any,
    ) -> LogFollower:
        """Start following a pod's log on a dedicated thread (stopped by ``close()`` at the latest)."""
        follower = LogFollower(client, pod, namespace, on_line, on_state, **options)
        self._followers = [f for f in self._followers if f.alive]
        self._followers.append(follower)
        return follower.start()

    @property
    def readonly(self) -> bool:
        return self.guard.readonly

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for follower in self._followers:
            follower.stop(timeout=2.0)
        self.nodes.close()
        self.watch_cache.close()
        self.clients.close()
        self.executor.shutdown(wait=False)


def _register_profile_secrets(guard: TransportGuard, profile: Any) -> None:
    """Mask the profile's secrets everywhere, including ones no client sends (the K3s agent token)."""
    from hks_tui.secretref import resolve_secret

    refs = [getattr(getattr(profile, "k3s", None), "agent_token", None)]
    refs.append(getattr(getattr(profile, "proxmox", None), "token_secret", None))
    for ref in refs:
        if ref is None:
            continue
        try:
            guard.register_secret(resolve_secret(ref))
        except Exception:  # an unreadable secret is reported when the client that needs it is built
            pass


__all__ = [
    "AuditService",
    "ClientSet",
    "HealthService",
    "LogFollower",
    "NodeService",
    "QuotaService",
    "ServiceExecutor",
    "Services",
    "WatchCache",
    "WatchEvent",
    "WorkspaceRef",
    "WorkspaceService",
]
