"""``VolumeService``: the Storage section — volumes (Proxmox disk → StorageClass + PV), their usage and
price, the provisioned total vs the namespace storage quotas, and the create/expand/delete workflows.

Build it from :class:`~hks_tui.services.Services`: ``VolumeService(services, price_gib_month=…)``.
Every blocking call runs on the services' executor; the workflows run on a
:class:`~hks_tui.workflows.WorkflowEngine` journaled in the services' store.
"""

from __future__ import annotations

import builtins
from typing import Any

from hks_tui.clients.errors import HksError, InvalidError
from hks_tui.manifests.labels import VOLUME, WORKSPACE
from hks_tui.manifests.quotas import QUOTA_NAME, build_storage_quota, check_quota_ceiling
from hks_tui.manifests.volumes import VolumeSpec
from hks_tui.models import WorkflowRecord, WorkflowStatus
from hks_tui.models.workspace import DEFAULT_STORAGE_PRICE_GIB_MONTH
from hks_tui.services.volumes_model import (
    QuotaRow,
    StorageSummary,
    VolumeRow,
    namespace_quota_bytes,
    quota_rows,
    volume_row,
)
from hks_tui.validation import (
    ValidationProblem,
    check_grow_only,
    format_bytes,
    quantity_to_bytes,
    validate_dns1123_label,
    validate_size,
)
from hks_tui.workflows import WorkflowEngine
from hks_tui.workflows.storage import STORAGE_KINDS, StorageDeps
from hks_tui.workflows.storage.common import attached_to, is_dedicated, read_raw

MERGE = "application/merge-patch+json"
ACTIVE = (WorkflowStatus.PENDING, WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)


class VolumeService:
    def __init__(
        self,
        services: Any,
        *,
        price_gib_month: float = DEFAULT_STORAGE_PRICE_GIB_MONTH,
        min_size: str = "1Gi",
        max_size: str = "16Ti",
        wait_timeout: float = 120.0,
    ) -> None:
        self.services = services
        self.clients = services.clients
        self.executor = services.executor
        self.store = services.store
        self.price = float(price_gib_month)
        self.min_bytes = quantity_to_bytes(min_size)
        self.max_bytes = quantity_to_bytes(max_size)
        self.wait_timeout = wait_timeout
        self._engine: WorkflowEngine | None = None

    # -- plumbing ------------------------------------------------------------------------------------
    @property
    def workspace(self) -> str:
        return str(self.clients.profile.workspace)

    def deps(self) -> StorageDeps:
        return StorageDeps(
            pve=self.clients.proxmox,
            host=self.clients.host,
            vcluster=self.clients.vcluster,
            store=self.store,
            price_gib_month=self.price,
            wait_timeout=self.wait_timeout,
        )

    async def engine(self) -> WorkflowEngine:
        if self._engine is None:
            deps = await self.executor.run(self.deps)
            self._engine = WorkflowEngine(self.store, STORAGE_KINDS, deps=deps, executor=self.executor)
        return self._engine

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.aclose()
            self._engine = None

    async def _run(self, kind: str, params: dict[str, Any], target: str) -> WorkflowRecord:
        engine = await self.engine()
        record = engine.create(kind, params, workspace=self.workspace, target=target, exclusive=True)
        return await engine.run(record.id)

    def _active(self, kind: str) -> set[str]:
        rows = self.store.workflows.list(workspace=self.workspace) if self.store is not None else []
        return {
            r.target.removeprefix("volume/")
            for r in rows
            if r.kind == kind and r.status in ACTIVE and r.target.startswith("volume/")
        }

    # -- reads ---------------------------------------------------------------------------------------
    async def list(self) -> StorageSummary:
        return await self.executor.run(self.list_sync)

    def list_sync(self) -> StorageSummary:
        kube = self.clients.vcluster
        pvs = kube.list_raw("persistentvolumes", label_selector=f"{VOLUME},{WORKSPACE}={self.workspace}")
        claims = {
            (c["metadata"].get("namespace", ""), c["metadata"]["name"]): c
            for c in kube.list_raw("persistentvolumeclaims").get("items") or []
        }
        usage = self._usage()
        disks = self._disks()
        expanding = self._active("volume.expand")
        rows = [
            row
            for pv in pvs.get("items") or []
            if (row := volume_row(pv, claims, usage, disks, self.price, expanding)) is not None
        ]
        known = {r.name for r in rows}
        for name in sorted(self._active("volume.create") - known):
            rows.append(_provisioning_row(name, self.store, self.workspace, self.price))
        quotas = quota_rows(kube.list_raw("resourcequotas").get("items") or [])
        return StorageSummary(
            workspace=self.workspace,
            volumes=sorted(rows, key=lambda r: r.name),
            provisioned_bytes=sum(r.size_bytes for r in rows if r.status != "Provisioning"),
            quota_bytes=sum(namespace_quota_bytes(quotas).values()),
            quotas=quotas,
        )

    def _usage(self) -> dict[tuple[str, str], tuple[int, int]]:
        try:
            found = self.clients.metrics.pvc_usage(self.clients.vcluster)
        except HksError:
            return {}
        return {(u.namespace, u.pvc): (int(u.used_bytes), int(u.capacity_bytes)) for u in found}

    def _disks(self) -> dict[str, int] | None:
        """volid → size of every CSI-owned disk (``None`` when Proxmox cannot be read)."""
        pve = self.clients.proxmox
        try:
            out: dict[str, int] = {}
            for row in pve.cluster_resources("storage"):
                if "images" not in str(row.get("content", "images")):
                    continue
                node, storage = row["node"], row["storage"]
                for disk in pve.get(f"nodes/{node}/storage/{storage}/content", vmid=9999) or []:
                    out[str(disk["volid"])] = int(disk.get("size", 0))
            return out
        except HksError:
            return None

    async def get(self, name: str) -> VolumeRow:
        summary = await self.list()
        for row in summary.volumes:
            if row.name == name:
                return row
        raise HksError(
            f"Find volume {name}",
            f"workspace {self.workspace} has no such volume "
            f"(volumes: {', '.join(r.name for r in summary.volumes) or 'none'})",
            "Run `hks-tui volumes list`.",
        )

    # -- create --------------------------------------------------------------------------------------
    async def plan_create(
        self, name: str, size: str, *, region: str | None = None, storage: str | None = None
    ) -> dict[str, Any]:
        """Validate the fields and pick the PVE node; returns the workflow params (raises on bad input)."""
        return await self.executor.run(self._plan_create, name, size, region, storage)

    def _plan_create(self, name: str, size: str, region: str | None, storage: str | None) -> dict[str, Any]:
        validate_dns1123_label(name, "name", max_length=40)
        canonical = validate_size(size, "size", min_bytes=self.min_bytes, max_bytes=self.max_bytes)
        regions = dict(self.clients.profile.regions)
        if not regions:
            raise ValidationProblem("region", region, "region", "the profile defines no regions")
        region = region or sorted(regions)[0]
        if region not in regions:
            raise ValidationProblem(
                "region", region, "region", f"unknown region {region!r} (known: {', '.join(sorted(regions))})"
            )
        nodes = list(regions[region].pve_nodes)
        storage = storage or regions[region].storage
        pve = self.clients.proxmox
        rows = [
            r
            for r in pve.cluster_resources("storage")
            if r.get("storage") == storage and r.get("node") in nodes
        ]
        if not rows:
            raise ValidationProblem(
                "storage", storage, "storage", f"storage {storage!r} is not available in region {region}"
            )
        best = max(rows, key=lambda r: int(r.get("maxdisk", 0)) - int(r.get("disk", 0)))
        free = int(best.get("maxdisk", 0)) - int(best.get("disk", 0))
        want = quantity_to_bytes(canonical)
        if want > free:
            raise ValidationProblem(
                "size",
                size,
                "size-free",
                f"size {canonical} is more than the {format_bytes(free)} free on {storage} ({best['node']})",
            )
        shared = bool(int(best.get("shared", 0)))
        spec = VolumeSpec(
            name=name,
            workspace=self.workspace,
            size=canonical,
            region=region,
            zone=None if shared else str(best["node"]),
            storage=storage,
        )
        params = spec.model_dump(
            mode="json", include={"name", "workspace", "size", "region", "zone", "storage"}
        )
        params["node"] = str(best["node"])
        params["free_bytes"] = free
        params["monthly_cost"] = round(want / 2**30 * self.price, 2)
        return params

    async def create(
        self, name: str, size: str, *, region: str | None = None, storage: str | None = None
    ) -> WorkflowRecord:
        params = await self.plan_create(name, size, region=region, storage=storage)
        if not await self.executor.run(is_dedicated, self.clients.host, self.workspace):
            raise InvalidError(
                f"Create volume {name}",
                f"workspace {self.workspace} is on the Shared plan; storage volumes need a Dedicated plan",
                "Upgrade the workspace to the Dedicated plan first.",
            )
        return await self._run("volume.create", params, f"volume/{name}")

    # -- expand --------------------------------------------------------------------------------------
    async def expand(self, name: str, size: str) -> WorkflowRecord:
        row = await self.get(name)
        new = check_grow_only(row.size, size, "size")
        if quantity_to_bytes(new) > self.max_bytes:
            raise ValidationProblem(
                "size", size, "size-max", f"size must be at most {format_bytes(self.max_bytes)}"
            )
        vid = f"{row.storage}:{row.disk}"
        attached = row.claim is not None and await self.executor.run(
            attached_to, self.clients.proxmox, self.workspace, vid
        )
        if not attached:
            state = "is not bound to any claim" if row.claim is None else "is not attached to any VM"
            raise InvalidError(
                f"Expand volume {name}",
                f"the volume {state}; attach it to a running app first",
                "The Proxmox CSI can only resize a disk attached to a running app's node.",
            )
        params = self._change_params(row) | {"size": new, "old_size": row.size}
        return await self._run("volume.expand", params, f"volume/{name}")

    def _change_params(self, row: VolumeRow) -> dict[str, Any]:
        ns, _, claim = (row.claim or "").partition("/")
        regions = dict(self.clients.profile.regions)
        disk_node = row.pve_node or (
            next(iter(regions[row.region].pve_nodes)) if row.region in regions else None
        )
        if disk_node is None:
            raise HksError(f"Change volume {row.name}", f"no Proxmox node is known for region {row.region}")
        return {
            "name": row.name,
            "workspace": self.workspace,
            "pv": row.pv,
            "storage": row.storage,
            "disk": row.disk,
            "disk_node": disk_node,
            "claim_namespace": ns or None,
            "claim_name": claim or None,
        }

    # -- delete --------------------------------------------------------------------------------------
    async def delete(self, name: str, *, confirm: str, bound_claim: str | None = None) -> WorkflowRecord:
        """``confirm`` must be the volume's name; a bound volume also needs ``bound_claim`` = its
        ``<ns>/<claim>`` (the claim — the app's data — is deleted with it)."""
        if confirm != name:
            raise ValidationProblem(
                "confirm", confirm, "confirm-name", f"type the volume name {name!r} to confirm"
            )
        row = await self.get(name)
        if row.claim is not None and bound_claim not in (row.claim, row.claim.split("/", 1)[1]):
            raise InvalidError(
                f"Delete volume {name}",
                f"the volume is bound to {row.claim}",
                f"Name the bound claim to confirm (--bound-claim {row.claim}) or detach the app first.",
            )
        return await self._run("volume.delete", self._change_params(row), f"volume/{name}")

    # -- quotas --------------------------------------------------------------------------------------
    async def quotas(self) -> builtins.list[QuotaRow]:
        summary = await self.list()
        return summary.quotas

    async def set_quota(
        self,
        namespace: str,
        *,
        storage: str,
        pvcs: int | None = None,
        per_class: dict[str, str] | None = None,
    ) -> QuotaRow:
        """Write quota ``hks-storage`` in ``namespace``: ``requests.storage``, ``persistentvolumeclaims`` and
        ``<class>.storageclass.storage.k8s.io/requests.storage``; refused (``ValidationProblem``, rule
        ``quota-ceiling``) when the namespaces' storage quotas would exceed the provisioned volumes."""
        return await self.executor.run(self._set_quota, namespace, storage, pvcs, per_class)

    def _set_quota(
        self, namespace: str, storage: str, pvcs: int | None, per_class: dict[str, str] | None
    ) -> QuotaRow:
        body = build_storage_quota(
            namespace, requests_storage=storage, persistent_volume_claims=pvcs, per_class=per_class
        )
        summary = self.list_sync()
        others = {
            ns: size
            for ns, size in namespace_quota_bytes(
                [q for q in summary.quotas if not (q.namespace == namespace and q.quota == QUOTA_NAME)]
            ).items()
            if ns != namespace
        }
        others[namespace] = quantity_to_bytes(body["spec"]["hard"]["requests.storage"])
        check_quota_ceiling(others, summary.provisioned_bytes, "requests.storage")
        kube = self.clients.vcluster
        existing = read_raw(kube, kube.core.read_namespaced_resource_quota, QUOTA_NAME, namespace)
        if existing is None:
            kube.call(kube.core.create_namespaced_resource_quota, namespace, body, _preload_content=False)
        else:
            kube.call(
                kube.core.patch_namespaced_resource_quota,
                QUOTA_NAME,
                namespace,
                {"spec": body["spec"]},
                _content_type=MERGE,
                _preload_content=False,
            )
        live = read_raw(kube, kube.core.read_namespaced_resource_quota, QUOTA_NAME, namespace) or body
        return quota_rows([live])[0]


def _provisioning_row(name: str, store: Any, workspace: str, price: float) -> VolumeRow:
    rows = [
        r
        for r in store.workflows.list(workspace=workspace)
        if r.kind == "volume.create" and r.target == f"volume/{name}" and r.status in ACTIVE
    ]
    p = rows[0].params if rows else {}
    size = str(p.get("size", "0"))
    size_bytes = quantity_to_bytes(size) if size != "0" else 0
    return VolumeRow(
        name=name,
        size=size,
        size_bytes=size_bytes,
        used_bytes=None,
        used_percent=None,
        region=str(p.get("region", "")),
        pve_node=p.get("zone"),
        storage=str(p.get("storage", "")),
        disk=f"vm-9999-hks-{workspace}-{name}",
        status="Provisioning" if not rows or rows[0].status != WorkflowStatus.PAUSED else "Error",
        claim=None,
        monthly_cost=round(size_bytes / 2**30 * price, 2),
        pv=f"hks-{workspace}-{name}",
        reason=rows[0].error if rows else "",
    )
