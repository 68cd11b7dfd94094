"""Dedicated-node inventory: PVE VMs of a workspace joined with the host K3s Nodes and the vCluster view.

Per refresh: ONE ``GET /cluster/resources?type=vm`` (the whole Proxmox inventory) and ONE node-metrics
list; the host Nodes, the host pods and the vCluster's Nodes come from the shared
:class:`~hks_tui.services.watch_cache.WatchCache` (list+watch, started once). So the number of HTTP
requests per refresh does not grow with the number of VMs, Nodes or pods. Per-VM calls (config, tasks,
guest-agent interfaces, events) happen only in :meth:`NodeService.detail`. No Textual imports.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hks_tui.clients.errors import HksError, NotFoundError
from hks_tui.models import DEFAULT_CATALOG, InstanceType
from hks_tui.services.clients import ClientSet
from hks_tui.services.executor import ServiceExecutor
from hks_tui.services.nodes_detail import node_events, pods_on, pve_facts, vm_created
from hks_tui.services.nodes_inflight import from_store
from hks_tui.services.nodes_model import (
    NodeDetail,
    NodeRow,
    build_rows,
    is_workspace_vm,
    node_ready,
)
from hks_tui.services.watch_cache import ERROR, SYNCED, WatchCache, WatchEvent

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.services.workspaces import WorkspaceRef

log = logging.getLogger(__name__)

SYNC_TIMEOUT = 20.0

ChangeCallback = Callable[[str], None]


class NodeService:
    """``await nodes.rows("prod")`` → :class:`NodeRow` list; ``await nodes.detail("prod", name)``."""

    def __init__(
        self,
        clients: ClientSet,
        executor: ServiceExecutor,
        watch_cache: WatchCache,
        store: Any,
        refs: list[WorkspaceRef],
        *,
        catalog: Callable[[], list[InstanceType]] | None = None,
        sync_timeout: float = SYNC_TIMEOUT,
    ) -> None:
        self.clients = clients
        self.executor = executor
        self.watch_cache = watch_cache
        self.store = store
        self.refs = {r.name: r for r in refs}
        self._catalog = catalog
        self.sync_timeout = sync_timeout
        self._lock = threading.Lock()
        self._synced: dict[tuple[str, str, str | None], threading.Event] = {}
        self._subs: list[Any] = []
        self._listeners: list[ChangeCallback] = []
        self._errors: dict[tuple[str, str, str | None], HksError] = {}
        self.last_usage_error: HksError | None = None
        self.last_pve_error: HksError | None = None

    # ------------------------------------------------------------------ clients
    def _ref(self, workspace: str) -> WorkspaceRef:
        ref = self.refs.get(workspace)
        if ref is None:
            raise HksError(
                f"Open workspace {workspace}",
                f"unknown workspace (known: {', '.join(sorted(self.refs)) or 'none'})",
            )
        return ref

    def host_client(self, workspace: str) -> KubeClient:
        ref = self._ref(workspace)
        return self.clients.kube(Path(ref.kubeconfig), ref.host_context, "host")

    def vcluster_client(self, workspace: str) -> KubeClient:
        ref = self._ref(workspace)
        return self.clients.kube(
            Path(ref.vcluster_kubeconfig or ref.kubeconfig), ref.vcluster_context, "vcluster"
        )

    def set_catalog(self, catalog: list[InstanceType]) -> None:
        """Price nodes with this catalog (e.g. ``settings.catalog``) instead of the store's."""
        self._catalog = lambda: list(catalog)

    def catalog(self) -> list[InstanceType]:
        """The price catalog: the one set, else the store's ``instance_types``, else the defaults."""
        if self._catalog is not None:
            return list(self._catalog())
        try:
            found = self.store.instance_types.list() if self.store is not None else []
        except Exception as exc:  # an unreadable catalog must not hide the nodes
            log.info("cannot read the instance-type catalog: %s", exc)
            found = []
        return list(found) or list(DEFAULT_CATALOG)

    def regions(self) -> dict[str, str]:
        """PVE node → region name, from the profile's ``regions``."""
        out: dict[str, str] = {}
        for region, spec in (getattr(self.clients.profile, "regions", None) or {}).items():
            for node in getattr(spec, "pve_nodes", []) or []:
                out[str(node)] = str(region)
        return out

    # ------------------------------------------------------------------ watches
    def on_change(self, callback: ChangeCallback) -> Callable[[], None]:
        """Call ``callback(resource)`` (on the watch dispatcher thread) whenever a watched Node or pod
        changes; returns a function that removes the callback. A screen bridges it with post_message."""
        self._listeners.append(callback)

        def remove() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return remove

    def _watch(self, client: KubeClient, resource: str) -> threading.Event:
        key = (client.context, resource, None)
        with self._lock:
            event = self._synced.get(key)
            if event is not None:
                return event
            event = threading.Event()
            self._synced[key] = event

        def callback(ev: WatchEvent) -> None:
            if ev.type == SYNCED:
                self._errors.pop(key, None)
                event.set()
            elif ev.type == ERROR:
                if ev.error is not None:
                    self._errors[key] = ev.error
                return
            for listener in list(self._listeners):
                try:
                    listener(resource)
                except Exception:
                    log.exception("node listener failed")

        self._subs.append(self.watch_cache.subscribe(client, resource, callback))
        return event

    def _ensure_watches(self, workspace: str) -> tuple[KubeClient, KubeClient | None]:
        host = self.host_client(workspace)
        for resource in ("nodes", "pods"):
            key = (host.context, resource, None)
            if not self._wait(key, self._watch(host, resource), self.sync_timeout):
                err = self._errors.get(key)
                why = (err.why or str(err)) if err else f"no answer in {self.sync_timeout:.0f}s"
                raise HksError(
                    f"Read the nodes of {workspace}",
                    f"cannot list {resource} of the host cluster {host.context}: {why}",
                    "Check the host cluster's health in the header; the list retries by itself.",
                    backend="host",
                )
        try:
            vcluster = self.vcluster_client(workspace)
            event = self._watch(vcluster, "nodes")
        except HksError as err:  # the vCluster view is optional
            log.info("no vCluster view for %s: %s", workspace, err)
            return host, None
        # a slow or broken vCluster must not hold the list up: wait briefly, then show it without
        self._wait((vcluster.context, "nodes", None), event, min(self.sync_timeout, 3.0))
        return host, vcluster

    def _wait(self, key: tuple[str, str, str | None], event: threading.Event, timeout: float) -> bool:
        """Wait for a watch's first list, giving up early once the watch reported an error."""
        deadline = time.monotonic() + timeout
        while not event.is_set():
            left = deadline - time.monotonic()
            if left <= 0 or key in self._errors:
                return event.is_set()
            event.wait(min(left, 0.05))
        return True

    def close(self) -> None:
        for sub in self._subs:
            sub.unsubscribe()
        self._subs.clear()

    # ------------------------------------------------------------------ the list
    async def rows(
        self, workspace: str, *, in_flight: Mapping[str, str] | None = None, with_usage: bool = True
    ) -> list[NodeRow]:
        """The workspace's dedicated nodes (sorted by name).

        ``in_flight`` (node name → status text) overrides the journal's view of actions in flight;
        by default it is read from the store's unfinished node workflows."""
        return await self.executor.run(self.rows_sync, workspace, in_flight, with_usage)

    def rows_sync(
        self, workspace: str, in_flight: Mapping[str, str] | None = None, with_usage: bool = True
    ) -> list[NodeRow]:
        host, vcluster = self._ensure_watches(workspace)
        pve_error: str | None = None
        try:
            vms = self.clients.proxmox.cluster_resources(type="vm")
            self.last_pve_error = None
        except HksError as err:  # show the Kubernetes side with the reason rather than nothing
            self.last_pve_error = err
            pve_error = err.why or str(err)
            vms = []
        host_nodes = list(self.watch_cache.snapshot(host.context, "nodes").values())
        pods = list(self.watch_cache.snapshot(host.context, "pods").values())
        synced = (
            [
                str(n["metadata"]["name"])
                for n in self.watch_cache.snapshot(vcluster.context, "nodes").values()
            ]
            if vcluster is not None
            else []
        )
        if in_flight is None:
            in_flight = self.in_flight_sync(workspace)
        usage: dict[str, tuple[float, float]] = {}
        if with_usage and any(is_workspace_vm(v, workspace) for v in vms):
            usage = self._usage(host)
        return build_rows(
            workspace,
            vms,
            host_nodes,
            pods=pods,
            vcluster_nodes=synced,
            usage=usage,
            catalog=self.catalog(),
            regions=self.regions(),
            in_flight=in_flight,
            pve_error=pve_error,
        )

    def in_flight_sync(self, workspace: str) -> dict[str, str]:
        """Node name → action text of the workspace's unfinished node workflows (from the journal)."""
        try:
            return from_store(self.store, workspace)
        except Exception as exc:  # the journal is local; a failure must not hide the nodes
            log.warning("cannot read the workflow journal: %s", exc)
            return {}

    def _usage(self, host: KubeClient) -> dict[str, tuple[float, float]]:
        """Node CPU/memory from ``metrics.k8s.io`` (one list call); empty when unavailable."""
        try:
            found = self.clients.metrics.node_usage(host)
        except HksError as err:
            self.last_usage_error = err
            log.info("node usage unavailable: %s", err)
            return {}
        self.last_usage_error = None
        return {u.name: (u.cpu, u.memory) for u in found}

    # ------------------------------------------------------------------ the detail
    async def detail(self, workspace: str, name: str) -> NodeDetail:
        """One node's Proxmox and Kubernetes facts (a few extra calls, only for this node)."""
        return await self.executor.run(self.detail_sync, workspace, name)

    def detail_sync(self, workspace: str, name: str) -> NodeDetail:
        rows = self.rows_sync(workspace, with_usage=True)
        row = next((r for r in rows if r.name == name or str(r.vmid) == name), None)
        if row is None:
            raise NotFoundError(
                f"Show node {name}",
                f"workspace {workspace} has no dedicated node {name!r}"
                f" (known: {', '.join(r.name for r in rows) or 'none'})",
                "Check the name in the node list.",
            )
        host = self.host_client(workspace)
        errors: list[str] = []
        facts: dict[str, Any] = {}
        if row.vmid is not None and row.pve_node:
            facts.update(pve_facts(self.clients.proxmox, row, errors))
        node = self.watch_cache.snapshot(host.context, "nodes").get(row.name)
        if node is not None:
            status = node.get("status") or {}
            facts["conditions"] = list(status.get("conditions") or [])
            facts["labels"] = dict((node.get("metadata") or {}).get("labels") or {})
            facts["taints"] = list((node.get("spec") or {}).get("taints") or [])
            facts["allocatable"] = {k: str(v) for k, v in (status.get("allocatable") or {}).items()}
            facts["pods"] = pods_on(self.watch_cache.snapshot(host.context, "pods").values(), row.name)
            facts["events"] = node_events(host, row.name, errors)
        if row.ip is None and facts.get("agent_ips"):
            row = row.model_copy(update={"ip": facts["agent_ips"][0]})
        if row.created_at is None and facts.get("config"):
            created = vm_created(facts["config"])
            if created is not None:
                row = row.model_copy(update={"created_at": created})
        return NodeDetail(row=row, errors=errors, **facts)


__all__ = ["NodeDetail", "NodeRow", "NodeService", "node_ready"]
