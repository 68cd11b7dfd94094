"""``volume.expand`` and ``volume.delete``.

Expand (grow only, attached volumes only — the CSI "cannot resize unpublished" volumes): PVE disk resize on
the VM it is attached to → PVC request raised (the resize states are reported as they pass) → PV capacity
→ the claim reports the new capacity → billing re-priced. Delete: refused while bound unless the bound
claim was named; the claim (when confirmed), PV and StorageClass go, the PVE disk is released, billing closed.
"""

from __future__ import annotations

from typing import Any

from hks_tui.clients.errors import InvalidError
from hks_tui.manifests.volumes import claim_resize_patch, volume_capacity_patch
from hks_tui.validation import bytes_to_mib, quantity_to_bytes
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind
from hks_tui.workflows.storage.common import (
    attached_to,
    close_billing,
    delete_quietly,
    detach_disk,
    find_disk,
    open_billing,
    read_raw,
    release_disk,
    storage_deps,
    volid,
    wait_for,
)

FAST = Backoff(base=0.2, factor=2.0, cap=3.0)
MERGE = "application/merge-patch+json"
ATTACH_FIRST = "attach it to a running app first (the Proxmox CSI cannot resize an unattached disk)"


def locate(ctx: StepContext) -> dict[str, Any]:
    """The bound claim and the VM the disk is attached to; refuses an unattached volume."""
    deps = storage_deps(ctx.deps)
    p = ctx.params
    vid = volid(p["storage"], p["disk"])
    claim = p.get("claim_namespace"), p.get("claim_name")
    if not all(claim):
        raise InvalidError(f"Expand volume {p['name']}", f"the volume is not bound; {ATTACH_FIRST}")
    where = attached_to(deps.pve, p["workspace"], vid)
    if where is None:
        raise InvalidError(f"Expand volume {p['name']}", f"the volume is not attached; {ATTACH_FIRST}")
    node, vmid, slot = where
    ctx.remember(vm_node=node, vmid=vmid, slot=slot)
    return {"node": node, "vmid": vmid, "slot": slot}


def resize_disk(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    mib = bytes_to_mib(quantity_to_bytes(p["size"]))
    upid = deps.pve.put(
        f"nodes/{p['vm_node']}/qemu/{p['vmid']}/resize",
        action="vm.resize",
        target=f"{p['vm_node']}/{p['vmid']}/{p['slot']}",
        what=f"Resize disk of volume {p['name']}",
        idempotent=False,
        disk=p["slot"],
        size=f"{mib}M",
    )
    if isinstance(upid, str) and upid.startswith("UPID:"):
        ctx.record_upid(upid)
        deps.pve.wait_task(p["vm_node"], upid, timeout=deps.wait_timeout, poll=0.1)
    ctx.emit(f"Proxmox disk {p['slot']} of VM {p['vmid']} resized to {mib} MiB")
    return {"size_mib": mib}


def disk_already_big(ctx: StepContext) -> dict[str, Any] | None:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    found = find_disk(deps.pve, p["disk_node"], p["storage"], p["disk"])
    want = quantity_to_bytes(p["size"])
    if found is not None and int(found.get("size", 0)) >= want:
        return {"size_mib": bytes_to_mib(int(found["size"])), "adopted": True}
    return None


def raise_claim(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    kube = deps.vcluster
    kube.call(
        kube.core.patch_namespaced_persistent_volume_claim,
        p["claim_name"],
        p["claim_namespace"],
        claim_resize_patch(p["size"]),
        _content_type=MERGE,
        _preload_content=False,
    )
    return {"requested": p["size"]}


def pv_capacity(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    kube = deps.vcluster
    kube.call(
        kube.core.patch_persistent_volume,
        p["pv"],
        volume_capacity_patch(p["size"]),
        _content_type=MERGE,
        _preload_content=False,
    )
    return {"capacity": p["size"]}


def claim_resized(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    kube = deps.vcluster
    want = quantity_to_bytes(p["size"])
    seen: list[str] = []

    def probe() -> str | None:
        pvc = read_raw(
            kube,
            kube.core.read_namespaced_persistent_volume_claim,
            p["claim_name"],
            p["claim_namespace"],
        )
        status = (pvc or {}).get("status") or {}
        state = (status.get("allocatedResourceStatuses") or {}).get("storage")
        if state and state not in seen:
            seen.append(state)
            ctx.emit(f"resize state: {state}")
        cap = (status.get("capacity") or {}).get("storage")
        return cap if cap and quantity_to_bytes(cap) >= want else None

    cap = wait_for(
        probe,
        timeout=deps.wait_timeout,
        poll=deps.poll,
        what=f"Expand volume {p['name']}",
        why="the claim did not report the new capacity",
    )
    return {"capacity": cap, "states": seen}


def reprice(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    closed = close_billing(deps.store, p["workspace"], p["name"])
    opened = open_billing(
        deps.store, p["workspace"], p["name"], quantity_to_bytes(p["size"]), deps.price_gib_month
    )
    return {**closed, **opened}


VOLUME_EXPAND = WorkflowKind(
    "volume.expand",
    [
        Step("locate", run=locate, title="Find the attached VM", backoff=FAST),
        Step(
            "pve_resize",
            run=resize_disk,
            check=disk_already_big,
            title="Resize the Proxmox disk",
            idempotent=False,
            backoff=FAST,
        ),
        Step("claim", run=raise_claim, title="Raise the claim's request", backoff=FAST),
        Step("pv_capacity", run=pv_capacity, title="Update the PV capacity", backoff=FAST),
        Step("resized", run=claim_resized, title="Wait for the file system resize", backoff=FAST),
        Step("billing", run=reprice, title="Update the billing line"),
    ],
    on_failure=OnFailure.PAUSE,
    title="Expand storage volume",
    describe=lambda p: f"Expand volume {p.get('name')} to {p.get('size')}",
)


# -- delete ------------------------------------------------------------------------------------------


def delete_claim(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    kube = deps.vcluster
    if not p.get("claim_name"):
        return {"claim": None}
    gone = not delete_quietly(
        kube,
        kube.core.delete_namespaced_persistent_volume_claim,
        p["claim_name"],
        p["claim_namespace"],
    )
    return {"claim": f"{p['claim_namespace']}/{p['claim_name']}", "already_gone": gone}


def delete_kubernetes(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    kube = deps.vcluster
    pv = delete_quietly(kube, kube.core.delete_persistent_volume, p["pv"])
    sc = delete_quietly(kube, kube.storage.delete_storage_class, p["pv"])
    return {"pv_deleted": pv, "storage_class_deleted": sc}


def detach(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    removed = detach_disk(deps.pve, p["workspace"], volid(p["storage"], p["disk"]))
    for entry in removed:
        ctx.emit(f"detached from VM {entry}")
    return {"detached": removed}


def free_disk(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    p = ctx.params
    released = release_disk(deps.pve, p["disk_node"], p["storage"], p["disk"], timeout=deps.wait_timeout)
    return {"released": released}


def close_bill(ctx: StepContext) -> dict[str, Any]:
    deps = storage_deps(ctx.deps)
    return close_billing(deps.store, ctx.params["workspace"], ctx.params["name"])


VOLUME_DELETE = WorkflowKind(
    "volume.delete",
    [
        Step("claim", run=delete_claim, title="Delete the bound claim", backoff=FAST),
        Step("kubernetes", run=delete_kubernetes, title="Delete PV and StorageClass", backoff=FAST),
        Step("detach", run=detach, title="Detach the disk from its VM", backoff=FAST),
        Step("release", run=free_disk, title="Release the Proxmox disk", backoff=FAST),
        Step("billing", run=close_bill, title="Close the billing line"),
    ],
    on_failure=OnFailure.PAUSE,
    title="Delete storage volume",
    describe=lambda p: f"Delete volume {p.get('name')}",
)
