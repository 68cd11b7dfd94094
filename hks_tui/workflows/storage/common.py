"""Shared pieces of the storage workflows: their dependencies, raw Kubernetes reads, PVE disk helpers,
and the storage billing lines (opened on create, re-priced on expand, closed on delete)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hks_tui.clients.errors import ConflictError, HksError, NotFoundError
from hks_tui.manifests.labels import CSI_VMID, WORKSPACE
from hks_tui.models import BillingLine, utcnow

GIB = 2**30
MONTH = timedelta(days=30)


@dataclass
class StorageDeps:
    """What the storage steps call: Proxmox, the host cluster (plan check), the vCluster, the store."""

    pve: Any  # hks_tui.clients.proxmox.ProxmoxClient
    host: Any  # hks_tui.clients.kube.KubeClient
    vcluster: Any  # hks_tui.clients.kube.KubeClient
    store: Any = None  # hks_tui.store.Store (billing, alerts); None: no billing lines
    price_gib_month: float = 0.0
    poll: float = 0.2
    wait_timeout: float = 120.0


def storage_deps(deps: Any) -> StorageDeps:
    """The engine's ``deps`` as :class:`StorageDeps` (a ``Services`` object is accepted too, for resume)."""
    if isinstance(deps, StorageDeps):
        return deps
    found = getattr(deps, "storage_deps", None)
    if isinstance(found, StorageDeps):
        return found
    clients = getattr(deps, "clients", None)
    if clients is not None:
        from hks_tui.models.workspace import DEFAULT_STORAGE_PRICE_GIB_MONTH

        return StorageDeps(
            pve=clients.proxmox,
            host=clients.host,
            vcluster=clients.vcluster,
            store=getattr(deps, "store", None),
            price_gib_month=DEFAULT_STORAGE_PRICE_GIB_MONTH,
        )
    raise HksError("Run a storage workflow", "the workflow engine was built without storage clients")


# -- Kubernetes --------------------------------------------------------------------------------------


def read_raw(kube: Any, fn: Callable[..., Any], *args: Any, what: str = "") -> dict[str, Any] | None:
    """One object as API JSON, or ``None`` when it does not exist."""
    try:
        resp = kube.call(fn, *args, what=what, _preload_content=False)
    except NotFoundError:
        return None
    return dict(json.loads(resp.data))


def create_or_adopt(kube: Any, fn: Callable[..., Any], *args: Any, what: str = "") -> bool:
    """Create an object; ``False`` when it already existed (the caller checks it is ours)."""
    try:
        kube.call(fn, *args, what=what, _preload_content=False)
    except ConflictError:
        return False
    return True


def delete_quietly(kube: Any, fn: Callable[..., Any], *args: Any, what: str = "") -> bool:
    """Delete; ``False`` when it was already gone."""
    try:
        kube.call(fn, *args, what=what, _preload_content=False)
    except NotFoundError:
        return False
    return True


def is_dedicated(host: Any, workspace: str) -> bool:
    """The workspace has dedicated nodes joined to the host cluster (the Dedicated plan)."""
    nodes = host.list_raw("nodes", label_selector=f"{WORKSPACE}={workspace}")
    return bool(nodes.get("items"))


def wait_for(
    probe: Callable[[], Any], *, timeout: float, poll: float, what: str, why: str = "timed out"
) -> Any:
    """Call ``probe`` until it returns something truthy (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HksError(what, f"{why} after {timeout:.0f}s", "Resume the workflow to keep waiting.")
        time.sleep(poll)


# -- Proxmox -----------------------------------------------------------------------------------------


def volid(storage: str, disk: str) -> str:
    return f"{storage}:{disk}"


def find_disk(pve: Any, node: str, storage: str, disk: str) -> dict[str, Any] | None:
    """The disk's content entry on ``node``/``storage`` (owner VMID 9999), or ``None``."""
    rows = pve.get(
        f"nodes/{node}/storage/{storage}/content",
        what=f"List disks on {storage} of {node}",
        content="images",
        vmid=CSI_VMID,
    )
    wanted = volid(storage, disk)
    return next((dict(r) for r in rows or [] if r.get("volid") == wanted), None)


def is_missing_volume(exc: BaseException) -> bool:
    return isinstance(exc, NotFoundError) or (
        isinstance(exc, HksError) and "no such volume" in exc.why.lower()
    )


def release_disk(pve: Any, node: str, storage: str, disk: str, *, timeout: float = 120.0) -> bool:
    """Delete the PVE disk and wait for the task; ``False`` when it was already gone."""
    vid = volid(storage, disk)
    try:
        upid = pve.delete(
            f"nodes/{node}/storage/{storage}/content/{vid}",
            action="storage.free",
            target=vid,
            what=f"Release disk {vid}",
        )
        pve.wait_task(node, str(upid), timeout=timeout, poll=0.1, what=f"Release disk {vid}")
    except HksError as exc:
        if is_missing_volume(exc) or find_disk(pve, node, storage, disk) is None:
            return False
        raise
    return True


def attached_to(
    pve: Any, workspace: str, vid: str, *, include_unused: bool = False
) -> tuple[str, int, str] | None:
    """(PVE node, VMID, slot) of the workspace VM the disk is hot-attached to, or ``None``.

    ``include_unused``: an ``unusedN`` entry (a detached disk still listed on the VM) counts too."""
    tag = f"hks-ws-{workspace}"
    prefixes = ("scsi", "virtio", "sata", "ide") + (("unused",) if include_unused else ())
    for vm in pve.cluster_resources("vm"):
        if tag not in str(vm.get("tags", "")).split(";"):
            continue
        node, vmid = str(vm["node"]), int(vm["vmid"])
        for key, value in pve.vm_config(node, vmid).items():
            if key.startswith(prefixes) and key[-1].isdigit() and str(value).split(",", 1)[0] == vid:
                return node, vmid, key
    return None


def detach_disk(pve: Any, workspace: str, vid: str, *, limit: int = 8) -> list[str]:
    """Take the disk off every workspace VM (``scsiN`` → ``unusedN`` → gone; the disk itself stays)."""
    removed: list[str] = []
    for _ in range(limit):
        where = attached_to(pve, workspace, vid, include_unused=True)
        if where is None:
            return removed
        node, vmid, slot = where
        pve.put(
            f"nodes/{node}/qemu/{vmid}/config",
            action="vm.detach",
            target=f"{node}/{vmid}/{slot}",
            what=f"Detach {vid} from VM {vmid}",
            delete=slot,
        )
        removed.append(f"{vmid}/{slot}")
    raise HksError(f"Detach {vid}", "the disk is still listed on a VM after several attempts")


# -- billing -----------------------------------------------------------------------------------------


def billing_ref(workspace: str, name: str) -> str:
    return f"volume:{workspace}/{name}"


def open_line(store: Any, workspace: str, ref: str) -> BillingLine | None:
    """The running line of ``ref``: a zero-length line with no closing line for the same start."""
    if store is None:
        return None
    lines = [line for line in store.billing.list(workspace) if line.ref == ref]
    closed = {line.period_start for line in lines if line.period_end > line.period_start}
    running = [line for line in lines if line.period_end == line.period_start]
    return next((line for line in reversed(running) if line.period_start not in closed), None)


def open_billing(store: Any, workspace: str, name: str, size_bytes: int, price: float) -> dict[str, Any]:
    ref = billing_ref(workspace, name)
    existing = open_line(store, workspace, ref)
    if store is None:
        return {"billing": "off"}
    if existing is not None:
        return {"billing_line": existing.id, "adopted": True}
    now = utcnow()
    gib = round(size_bytes / GIB, 3)
    line = BillingLine(
        workspace=workspace,
        period_start=now,
        period_end=now,
        item=f"volume {name}",
        kind="storage",
        quantity=gib,
        unit="GiB-month",
        unit_price=price,
        amount=0.0,
        ref=ref,
    )
    return {"billing_line": store.billing.add(line), "monthly": round(gib * price, 2)}


def close_billing(store: Any, workspace: str, name: str) -> dict[str, Any]:
    """Close the running line: a line for the elapsed period, priced pro rata."""
    ref = billing_ref(workspace, name)
    running = open_line(store, workspace, ref)
    if store is None or running is None:
        return {"closed": None}
    now = utcnow()
    months = max(0.0, (now - running.period_start) / MONTH)
    amount = round(running.quantity * running.unit_price * months, 6)
    line = running.model_copy(update={"id": None, "period_end": now, "amount": amount})
    return {"closed": store.billing.add(line), "amount": amount}
