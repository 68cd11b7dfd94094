"""``volume.create``: Dedicated plan check → PVE disk (CSI naming, adopted if it exists) → StorageClass
(if missing) + PV in the vCluster → billing line opened → the PV is Available.

A PVE failure leaves no Kubernetes objects (the disk step comes first); a Kubernetes failure after the
allocation compensates: the PV/StorageClass made here are deleted and the disk is released.
"""

from __future__ import annotations

from typing import Any

from hks_tui.clients.errors import ConflictError, HksError, InvalidError
from hks_tui.manifests.labels import CSI_VMID, VOLUME, WORKSPACE
from hks_tui.manifests.volumes import VolumeSpec, build_persistent_volume, build_storage_class
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind
from hks_tui.workflows.storage.common import (
    close_billing,
    create_or_adopt,
    delete_quietly,
    find_disk,
    is_dedicated,
    open_billing,
    read_raw,
    release_disk,
    storage_deps,
    volid,
    wait_for,
)

FAST = Backoff(base=0.2, factor=2.0, cap=3.0)
SPEC_KEYS = ("name", "workspace", "size", "region", "zone", "storage")


def spec_of(params: dict[str, Any]) -> VolumeSpec:
    return VolumeSpec(**{k: params[k] for k in SPEC_KEYS if params.get(k) is not None})


def verify_plan(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    ws = ctx.params["workspace"]
    if not is_dedicated(deps.host, ws):
        raise InvalidError(
            f"Create volume {ctx.params['name']}",
            f"workspace {ws} is on the Shared plan; storage volumes need a Dedicated plan",
            "Upgrade the workspace to the Dedicated plan first.",
        )
    return {"plan": "dedicated"}


def allocate(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    node, vid = ctx.params["node"], volid(spec.storage, spec.disk_name)
    try:
        deps.pve.post(
            f"nodes/{node}/storage/{spec.storage}/content",
            action="storage.alloc",
            target=vid,
            what=f"Allocate disk {vid} on {node}",
            vmid=CSI_VMID,
            filename=spec.disk_name,
            size=f"{spec.size_mib}M",
            format="raw",
        )
    except HksError as exc:
        if "already exists" not in exc.why:
            raise
        return {"volid": vid, "node": node, "adopted": True}
    ctx.emit(f"allocated {vid} ({spec.size}) on {node}")
    return {"volid": vid, "node": node}


def find_allocated(ctx: StepContext) -> dict[str, Any] | None:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    found = find_disk(deps.pve, ctx.params["node"], spec.storage, spec.disk_name)
    if found is None:
        return None
    return {"volid": found["volid"], "node": ctx.params["node"], "adopted": True}


def release(ctx: StepContext) -> None:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    if release_disk(deps.pve, ctx.params["node"], spec.storage, spec.disk_name):
        ctx.emit(f"released {volid(spec.storage, spec.disk_name)}")


def _ours(obj: dict[str, Any] | None, spec: VolumeSpec) -> bool:
    labels = ((obj or {}).get("metadata") or {}).get("labels") or {}
    return labels.get(VOLUME) == spec.name and labels.get(WORKSPACE) == spec.workspace


def kubernetes_objects(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    kube = deps.vcluster
    made: dict[str, Any] = {"storage_class": spec.object_name, "pv": spec.object_name}
    sc_api, core = kube.storage, kube.core
    existing = read_raw(kube, sc_api.read_storage_class, spec.object_name)
    if existing is None:
        ctx.remember(made_storage_class=True)  # intent first: a crash after the call still cleans up
        create_or_adopt(kube, sc_api.create_storage_class, build_storage_class(spec))
        ctx.emit(f"StorageClass {spec.object_name} created")
    elif not _ours(existing, spec) and not ctx.params.get("made_storage_class"):
        raise ConflictError(
            f"Create StorageClass {spec.object_name}",
            "a StorageClass with that name exists and belongs to something else",
        )
    pv = read_raw(kube, core.read_persistent_volume, spec.object_name)
    if pv is None:
        ctx.remember(made_pv=True)
        create_or_adopt(kube, core.create_persistent_volume, build_persistent_volume(spec))
        ctx.emit(f"PersistentVolume {spec.object_name} created")
        return made
    handle = ((pv.get("spec") or {}).get("csi") or {}).get("volumeHandle")
    if not _ours(pv, spec) or handle != spec.volume_handle:
        raise ConflictError(
            f"Create PersistentVolume {spec.object_name}",
            "a PersistentVolume with that name exists and points at another disk",
        )
    ctx.remember(made_pv=True)
    made["adopted"] = True
    return made


def remove_kubernetes_objects(ctx: StepContext) -> None:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    kube = deps.vcluster
    if ctx.params.get("made_pv"):
        delete_quietly(kube, kube.core.delete_persistent_volume, spec.object_name)
    if ctx.params.get("made_storage_class"):
        delete_quietly(kube, kube.storage.delete_storage_class, spec.object_name)


def billing(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    return open_billing(deps.store, spec.workspace, spec.name, spec.size_bytes, deps.price_gib_month)


def unbill(ctx: StepContext) -> None:
    deps = storage_deps(ctx.deps)
    close_billing(deps.store, ctx.params["workspace"], ctx.params["name"])


def available(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    spec = spec_of(ctx.params)
    kube = deps.vcluster

    def phase() -> str | None:
        pv = read_raw(kube, kube.core.read_persistent_volume, spec.object_name)
        value = ((pv or {}).get("status") or {}).get("phase")
        return value if value in ("Available", "Bound") else None

    got = wait_for(
        phase,
        timeout=deps.wait_timeout,
        poll=deps.poll,
        what=f"Wait for volume {spec.name}",
        why="the PersistentVolume did not become Available",
    )
    return {"phase": got}


VOLUME_CREATE = WorkflowKind(
    "volume.create",
    [
        Step("verify_plan", run=verify_plan, title="Verify the Dedicated plan", backoff=FAST),
        Step(
            "allocate",
            run=allocate,
            check=find_allocated,
            compensate=release,
            title="Allocate the Proxmox disk",
            idempotent=False,
            backoff=FAST,
        ),
        Step(
            "kubernetes",
            run=kubernetes_objects,
            compensate=remove_kubernetes_objects,
            title="Create StorageClass and PersistentVolume",
            backoff=FAST,
        ),
        Step("billing", run=billing, compensate=unbill, title="Open the billing line"),
        Step("available", run=available, title="Wait until Available", backoff=FAST),
    ],
    on_failure=OnFailure.COMPENSATE,
    title="Create storage volume",
    describe=lambda p: f"Create volume {p.get('name')} ({p.get('size')}) on {p.get('storage')}",
)
