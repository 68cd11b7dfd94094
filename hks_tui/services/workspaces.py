"""Workspaces: the declared ones (profiles / the lab's vClusters) with the plan read from the clusters."""

from __future__ import annotations

import builtins
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hks_tui.clients.errors import HksError
from hks_tui.models import Plan, Workspace
from hks_tui.services.clients import ClientSet
from hks_tui.services.executor import ServiceExecutor

log = logging.getLogger(__name__)

WORKSPACE_LABEL = "hks.io/workspace"
SYSTEM_NAMESPACE_PREFIXES = ("kube-",)


@dataclass(frozen=True)
class WorkspaceRef:
    """Where a workspace lives: its host cluster and vCluster contexts."""

    name: str
    org: str
    kubeconfig: Path
    host_context: str
    vcluster_context: str
    vcluster_kubeconfig: Path | None = None


def refs_from_settings(settings: Any) -> list[WorkspaceRef]:
    """One ref per configured profile (de-duplicated by workspace name, first profile wins)."""
    refs: dict[str, WorkspaceRef] = {}
    for profile in (getattr(settings, "profiles", None) or {}).values():
        if profile.workspace in refs:
            continue
        refs[profile.workspace] = ref_from_profile(profile)
    return list(refs.values())


def ref_from_profile(profile: Any) -> WorkspaceRef:
    return WorkspaceRef(
        name=profile.workspace,
        org=profile.org,
        kubeconfig=Path(profile.host_cluster.kubeconfig),
        host_context=profile.host_cluster.context,
        vcluster_context=profile.vcluster.context,
        vcluster_kubeconfig=Path(profile.vcluster.kubeconfig),
    )


def refs_from_lab(info: dict[str, Any]) -> list[WorkspaceRef]:
    kubeconfig = Path(info["kubeconfig"])
    org = str(info.get("org") or "lab")
    return [
        WorkspaceRef(name, org, kubeconfig, str(info["host_context"]), str(ctx))
        for name, ctx in (info.get("vcluster_contexts") or {}).items()
    ]


class WorkspaceService:
    def __init__(
        self, clients: ClientSet, executor: ServiceExecutor, store: Any, refs: builtins.list[WorkspaceRef]
    ) -> None:
        self.clients = clients
        self.executor = executor
        self.store = store
        self.refs = {r.name: r for r in refs}

    async def list(self) -> builtins.list[Workspace]:
        """All known workspaces; plan = Dedicated when host nodes carry ``hks.io/workspace=<ws>``."""
        return await self.executor.run(self._list)

    def _list(self) -> builtins.list[Workspace]:
        by_host: dict[tuple[Path, str], builtins.list[WorkspaceRef]] = defaultdict(list)
        for ref in self.refs.values():
            by_host[(ref.kubeconfig, ref.host_context)].append(ref)
        result: builtins.list[Workspace] = []
        for (kubeconfig, context), refs in by_host.items():
            dedicated: set[str] | None
            try:
                nodes = self.clients.kube(kubeconfig, context, "host").list_raw(
                    "nodes", label_selector=WORKSPACE_LABEL
                )
                dedicated = {
                    str((n.get("metadata", {}).get("labels") or {}).get(WORKSPACE_LABEL, ""))
                    for n in nodes.get("items", [])
                }
            except HksError as err:
                log.info("cannot read host nodes of %s: %s", context, err)
                dedicated = None
            for ref in refs:
                if dedicated is None:
                    cached = self._cached(ref.name)
                    plan = cached.plan if cached else Plan.SHARED
                else:
                    plan = Plan.DEDICATED if ref.name in dedicated else Plan.SHARED
                ws = Workspace(
                    name=ref.name,
                    org=ref.org,
                    plan=plan,
                    host_context=ref.host_context,
                    vcluster_context=ref.vcluster_context,
                )
                if dedicated is not None:
                    self._remember(ws)
                result.append(ws)
        return sorted(result, key=lambda w: w.name)

    async def projects(self, workspace: str) -> builtins.list[str]:
        """Namespaces of the workspace's vCluster (system namespaces left out)."""
        return await self.executor.run(self._projects, workspace)

    def _projects(self, workspace: str) -> builtins.list[str]:
        ref = self.refs.get(workspace)
        if ref is None:
            raise HksError(
                f"List projects of {workspace}",
                f"unknown workspace (known: {', '.join(sorted(self.refs)) or 'none'})",
            )
        client = self.clients.kube(
            ref.vcluster_kubeconfig or ref.kubeconfig, ref.vcluster_context, "vcluster"
        )
        items = client.list_raw("namespaces").get("items", [])
        names = [str(i["metadata"]["name"]) for i in items]
        return sorted(n for n in names if not n.startswith(SYSTEM_NAMESPACE_PREFIXES))

    def _cached(self, name: str) -> Workspace | None:
        try:
            return self.store.workspaces.get(name) if self.store is not None else None
        except Exception:
            return None

    def _remember(self, ws: Workspace) -> None:
        if self.store is None:
            return
        try:
            if self.store.workspaces.get(ws.name) != ws:
                self.store.workspaces.upsert(ws)
        except Exception as exc:  # the cache is best effort
            log.warning("could not cache workspace %s: %s", ws.name, exc)
