"""Applying verified config changes to a VM (shared by ``PUT`` (sync) and ``POST`` (worker) config)."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote

from hks_tui.lab.pve.errors import PveError
from hks_tui.lab.pve.model import DISK_SLOT_RE, GIB, PveCluster, Vm, format_size

NEW_DISK_RE = re.compile(r"^([a-zA-Z][\w\-]*):(\d+(?:\.\d+)?)$")
MASKED = "**********"


# Options a running VM cannot change live (default ``hotplug: network,disk,usb``): they become pending.
COLD_OPTIONS = re.compile(
    r"^(cores|sockets|vcpus|memory|cpu|numa|agent|ostype|scsihw|vga|bios|machine|boot|serial\d+)$"
)


def config_digest(vm: Vm) -> str:
    """SHA1 over the whole config file (current and pending section), like PVE's digest."""
    text = "\n".join(f"{key}: {vm.config[key]}" for key in sorted(vm.config))
    text += "\n[PENDING]\n" + "\n".join(f"{key}: {vm.pending[key]}" for key in sorted(vm.pending))
    text += "\ndelete: " + ",".join(sorted(vm.pending_delete))
    return hashlib.sha1(text.encode()).hexdigest()


def config_view(vm: Vm, current: bool = False) -> dict[str, object]:
    """``GET .../config``: pending values win unless ``current``; plus ``digest``."""
    view = dict(vm.config)
    if not current:
        for key in vm.pending_delete:
            view.pop(key, None)
        view.update(vm.pending)
    if "cipassword" in view:
        view["cipassword"] = MASKED
    view["digest"] = config_digest(vm)
    return view


def pending_view(vm: Vm) -> list[dict[str, object]]:
    """``GET .../pending``: every option with its current ``value`` and ``pending``/``delete`` markers."""
    rows: list[dict[str, object]] = []
    for key in sorted(set(vm.config) | set(vm.pending) | vm.pending_delete):
        row: dict[str, object] = {"key": key}
        if key in vm.config:
            row["value"] = MASKED if key == "cipassword" else vm.config[key]
        if key in vm.pending:
            row["pending"] = MASKED if key == "cipassword" else vm.pending[key]
        if key in vm.pending_delete:
            row["delete"] = 1
        rows.append(row)
    return rows


def _next_disk_index(pve: PveCluster, vmid: int) -> int:
    index = 0
    while any(v.filename.startswith(f"vm-{vmid}-disk-{index}") for v in pve.volumes.values()):
        index += 1
    return index


def _free_unused_slot(vm: Vm) -> str:
    index = 0
    while f"unused{index}" in vm.config:
        index += 1
    return f"unused{index}"


def describe_changes(changes: dict[str, object], delete: list[str]) -> str:
    parts = [f"-{key} {value}" for key, value in changes.items() if key != "cipassword"]
    if "cipassword" in changes:
        parts.append("-cipassword <hidden>")
    if delete:
        parts.append(f"-delete {','.join(delete)}")
    return " ".join(parts)


def apply_config(
    pve: PveCluster,
    vm: Vm,
    changes: dict[str, object],
    delete: list[str],
    *,
    digest: str | None,
    skiplock: bool,
    log: list[str] | None = None,
) -> None:
    """Apply ``changes`` and ``delete`` like qemu-server's update_vm (raises PveError on runtime errors)."""
    if vm.lock and not skiplock:
        raise PveError(500, f"VM is locked ({vm.lock})")
    if digest and digest != config_digest(vm):
        raise PveError(500, "detected modified configuration - file changed by other user? Try again.")
    for key in changes:
        if key in delete:
            raise PveError(500, f"unable to delete '{key}' - option is also set")
    if "sshkeys" in changes:
        decoded = unquote(str(changes["sshkeys"]))
        for line in decoded.splitlines():
            if line.strip() and not re.match(r"^(ssh-|ecdsa-|sk-)\S+\s+\S+", line.strip()):
                raise PveError(500, "SSH public key validation error")
    running = vm.status == "running"
    for key in delete:
        if key in vm.pending:
            del vm.pending[key]
        if key not in vm.config:
            continue
        if running and COLD_OPTIONS.match(key):
            vm.pending_delete.add(key)
        elif DISK_SLOT_RE.match(key):
            entry = str(vm.config.pop(key))
            volid = entry.split(",", 1)[0]
            volume = pve.find_volume(volid)
            if key.startswith("unused"):
                if volume is not None and volume.vmid == vm.vmid:
                    pve.free_volume(volid)
                    if log is not None:
                        log.append(f'  Logical volume "{volume.filename}" successfully removed.')
            elif volume is not None and "media=cdrom" not in entry:
                vm.config[_free_unused_slot(vm)] = volid
        else:
            del vm.config[key]
    for key, value in changes.items():
        if running and COLD_OPTIONS.match(key):
            vm.pending_delete.discard(key)
            if vm.config.get(key) == value:
                vm.pending.pop(key, None)
            else:
                vm.pending[key] = value
        elif DISK_SLOT_RE.match(key) and not key.startswith("unused"):
            vm.config[key] = _disk_entry(pve, vm, key, str(value), log)
        else:
            vm.config[key] = value
    if "name" in changes and vm.status != "running":
        vm.files["/etc/hostname"] = (vm.name + "\n").encode()


def _disk_entry(pve: PveCluster, vm: Vm, slot: str, value: str, log: list[str] | None) -> str:
    volume_part, _, options = value.partition(",")
    new = NEW_DISK_RE.match(volume_part)
    if new:
        storage, size_gib = new.group(1), float(new.group(2))
        if slot in vm.config:
            raise PveError(500, f"unable to create disk '{slot}': slot already in use")
        size = int(size_gib * GIB)
        filename = f"vm-{vm.vmid}-disk-{_next_disk_index(pve, vm.vmid)}"
        volid = pve.allocate_volume(vm.node, storage, filename, size, vm.vmid)
        if log is not None:
            log.append(f"{slot}: successfully created disk '{volid},size={format_size(size)}'")
        opts = [o for o in options.split(",") if o and not o.startswith("size=")]
        return ",".join([volid, *opts, f"size={format_size(size)}"])
    if volume_part in ("none", "cdrom") or "media=cdrom" in options:
        return value
    volume = pve.find_volume(volume_part)
    if volume is None:
        raise PveError(500, f"volume '{volume_part}' does not exist")
    opts = [o for o in options.split(",") if o and not o.startswith("size=")]
    return ",".join([volume_part, *opts, f"size={format_size(volume.size)}"])
