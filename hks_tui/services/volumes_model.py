"""Rows of the Storage section: volumes (PV + PVE disk + usage + price) and namespace storage quotas."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from hks_tui.manifests.labels import CSI_DRIVER, VOLUME
from hks_tui.validation import quantity_to_bytes

GIB = 2**30


@dataclass(frozen=True)
class VolumeRow:
    name: str
    size: str
    size_bytes: int
    used_bytes: int | None
    used_percent: float | None
    region: str
    pve_node: str | None  # the zone; None on shared storage
    storage: str
    disk: str
    status: str  # Provisioning | Available | Bound to <ns>/<pvc> | Expanding | Error
    claim: str | None  # "<ns>/<pvc>" when bound
    monthly_cost: float
    pv: str
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QuotaRow:
    namespace: str
    quota: str
    requests_storage: str | None
    requests_storage_bytes: int | None
    used_storage: str | None
    persistent_volume_claims: str | None
    per_class: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StorageSummary:
    workspace: str
    volumes: list[VolumeRow]
    provisioned_bytes: int
    quota_bytes: int  # sum over namespaces of their storage quota
    quotas: list[QuotaRow]

    def to_json(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "volumes": [v.to_json() for v in self.volumes],
            "provisioned_bytes": self.provisioned_bytes,
            "quota_bytes": self.quota_bytes,
            "quotas": [q.to_json() for q in self.quotas],
        }


def parse_handle(handle: str) -> tuple[str, str | None, str, str] | None:
    """``region/zone/storage/disk`` (zone empty on shared storage)."""
    parts = handle.split("/")
    if len(parts) != 4:
        return None
    return parts[0], parts[1] or None, parts[2], parts[3]


def monthly_cost(size_bytes: int, price_gib_month: float) -> float:
    return round(size_bytes / GIB * price_gib_month, 2)


def volume_row(
    pv: Mapping[str, Any],
    claims: Mapping[tuple[str, str], Mapping[str, Any]],
    usage: Mapping[tuple[str, str], tuple[int, int]],
    disks: Mapping[str, int] | None,
    price: float,
    expanding: set[str],
) -> VolumeRow | None:
    meta = pv.get("metadata") or {}
    spec = pv.get("spec") or {}
    csi = spec.get("csi") or {}
    name = (meta.get("labels") or {}).get(VOLUME)
    parsed = parse_handle(str(csi.get("volumeHandle", "")))
    if not name or csi.get("driver") != CSI_DRIVER or parsed is None:
        return None
    region, zone, storage, disk = parsed
    size = str((spec.get("capacity") or {}).get("storage", "0"))
    size_bytes = quantity_to_bytes(size)
    phase = (pv.get("status") or {}).get("phase", "Pending")
    ref = spec.get("claimRef") or {}
    claim_key = (str(ref.get("namespace", "")), str(ref.get("name", "")))
    claim = claims.get(claim_key) if ref else None
    bound = phase == "Bound" and claim is not None
    status, reason = {"Available": "Available", "Pending": "Provisioning"}.get(phase, "Error"), ""
    if bound:
        status = f"Bound to {claim_key[0]}/{claim_key[1]}"
        claim_status = (claim or {}).get("status") or {}
        if name in expanding or (claim_status.get("allocatedResourceStatuses") or {}).get("storage"):
            status = "Expanding"
    elif phase in ("Released", "Failed"):
        reason = f"the PersistentVolume is {phase}"
    if disks is not None and f"{storage}:{disk}" not in disks:
        status, reason = "Error", f"the Proxmox disk {storage}:{disk} is missing"
    used = usage.get(claim_key) if bound else None
    used_bytes = used[0] if used else None
    capacity = used[1] if used and used[1] else size_bytes
    percent = round(100.0 * used_bytes / capacity, 1) if used_bytes is not None and capacity else None
    return VolumeRow(
        name=str(name),
        size=size,
        size_bytes=size_bytes,
        used_bytes=used_bytes,
        used_percent=percent,
        region=region,
        pve_node=zone,
        storage=storage,
        disk=disk,
        status=status,
        claim=f"{claim_key[0]}/{claim_key[1]}" if bound else None,
        monthly_cost=monthly_cost(size_bytes, price),
        pv=str(meta.get("name", "")),
        reason=reason,
    )


def quota_rows(items: list[dict[str, Any]]) -> list[QuotaRow]:
    rows: list[QuotaRow] = []
    for item in items:
        hard = (item.get("spec") or {}).get("hard") or {}
        used = (item.get("status") or {}).get("used") or {}
        per_class = {k.split(".storageclass.")[0]: v for k, v in hard.items() if ".storageclass." in k}
        if "requests.storage" not in hard and "persistentvolumeclaims" not in hard and not per_class:
            continue
        meta = item.get("metadata") or {}
        storage = hard.get("requests.storage")
        rows.append(
            QuotaRow(
                namespace=str(meta.get("namespace", "")),
                quota=str(meta.get("name", "")),
                requests_storage=storage,
                requests_storage_bytes=quantity_to_bytes(storage) if storage else None,
                used_storage=used.get("requests.storage"),
                persistent_volume_claims=hard.get("persistentvolumeclaims"),
                per_class=per_class,
            )
        )
    return sorted(rows, key=lambda r: (r.namespace, r.quota))


def namespace_quota_bytes(rows: list[QuotaRow]) -> dict[str, int]:
    """Per namespace, the binding storage quota (the smallest ``requests.storage`` of its quotas)."""
    out: dict[str, int] = {}
    for row in rows:
        if row.requests_storage_bytes is None:
            continue
        current = out.get(row.namespace)
        out[row.namespace] = (
            row.requests_storage_bytes if current is None else min(current, row.requests_storage_bytes)
        )
    return out
