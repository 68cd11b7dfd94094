"""Small PV/PVC helpers shared by the storage controllers and the world link."""

from __future__ import annotations

from typing import Any

from hks_tui.lab.controllers.quantity import QuantityError, units

CSI_DRIVER = "csi.proxmox.sinextra.dev"
MIB = 2**20


def requested_bytes(pvc: dict[str, Any]) -> int:
    try:
        return units(
            (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage", 0)
        )
    except QuantityError:
        return 0


def capacity_bytes(obj: dict[str, Any], where: str = "status") -> int:
    try:
        return units(((obj.get(where) or {}).get("capacity") or {}).get("storage", 0))
    except QuantityError:
        return 0


def parse_provider_id(provider_id: str) -> tuple[str, int] | None:
    """``proxmox://<region>/<vmid>`` → (region, vmid)."""
    if not provider_id.startswith("proxmox://"):
        return None
    region, _, vmid = provider_id[len("proxmox://") :].partition("/")
    try:
        return region, int(vmid)
    except ValueError:
        return None


def volid_of(pv: dict[str, Any]) -> str | None:
    csi = (pv.get("spec") or {}).get("csi") or {}
    if csi.get("driver") != CSI_DRIVER:
        return None
    parts = str(csi.get("volumeHandle", "")).split("/")
    return f"{parts[2]}:{parts[3]}" if len(parts) == 4 else None
