"""QEMU VM routes: list, clone, config (GET/POST/PUT), resize, destroy, cloud-init dump."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote

from hks_tui.lab.pve import routes_power, stats
from hks_tui.lab.pve.configspec import Invalid, verify_config_params, verify_name
from hks_tui.lab.pve.errors import PveError, param_error
from hks_tui.lab.pve.model import DISK_SLOT_RE, Vm, format_size, mac_for, uuid_for
from hks_tui.lab.pve.params import bool_param, check_lock, node_arg, vm_arg, vmid_value
from hks_tui.lab.pve.vmconfig import apply_config, config_digest, config_view, describe_changes, pending_view

if TYPE_CHECKING:
    from hks_tui.lab.pve.app import Ctx, Router
    from hks_tui.lab.pve.tasks import Task

CLONE_PARAMS = {
    "newid",
    "name",
    "description",
    "full",
    "target",
    "storage",
    "format",
    "pool",
    "snapname",
    "bwlimit",
}
RESIZE_RE = re.compile(r"^(\+)?(\d+(?:\.\d+)?)([KMGT])?$")
RESIZE_DISKS = re.compile(
    r"^(ide[0-3]|scsi([0-9]|[12][0-9]|30)|virtio([0-9]|1[0-5])|sata[0-5]|efidisk0|tpmstate0)$"
)
LINKED_CLONE_SECONDS = 3.0  # lab seconds; a full clone takes longer, by disk size
UNITS = {None: 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


async def vm_list(ctx: Ctx) -> object:
    node = node_arg(ctx)
    rows = []
    for vm in sorted(ctx.pve.vms.values(), key=lambda v: v.vmid):
        if vm.node != node.name:
            continue
        usage = stats.vm_usage(ctx.pve, vm)
        row: dict[str, object] = {"vmid": vm.vmid, "name": vm.name, "status": vm.status, **usage}
        if vm.template:
            row["template"] = 1
        if vm.tags:
            row["tags"] = ";".join(vm.tags)
        if vm.lock:
            row["lock"] = vm.lock
        rows.append(row)
    return rows


async def vm_index(ctx: Ctx) -> object:
    vm_arg(ctx)
    subdirs = ("config", "pending", "status", "agent", "resize", "clone", "cloudinit", "rrd", "firewall")
    return [{"subdir": name} for name in subdirs]


def _disk_slots(vm: Vm) -> list[tuple[str, str]]:
    return [
        (slot, volid)
        for slot, volid in vm.disks()
        if not slot.startswith("unused") and "media=cdrom" not in str(vm.config[slot])
    ]


async def clone(ctx: Ctx) -> object:
    src = vm_arg(ctx)
    pve = ctx.pve
    newid = vmid_value("newid", ctx.get("newid"))
    name = ctx.get("name")
    if name is not None:
        try:
            verify_name(name)
        except Invalid as exc:
            raise param_error("name", str(exc)) from None
    target = ctx.get("target") or src.node
    if target not in pve.nodes:
        raise param_error("target", f"no such cluster node '{target}'")
    full = bool_param(ctx, "full", not src.template)
    storage = ctx.get("storage")
    if storage and not full:
        raise PveError(500, "parameter 'storage' not allowed for linked clones")
    if not full and not src.template:
        raise PveError(500, "Linked clone feature is not supported for drive 'scsi0' (VM is not a template)")
    if target != src.node:
        for _, volid in _disk_slots(src):
            volume = pve.find_volume(volid)
            if volume is not None and volume.node is not None:
                raise PveError(500, f"can't clone VM to node '{target}' (VM uses local storage)")
    if storage:
        store = pve.storage_on(target, storage)
        if target != src.node and not store.shared:
            raise PveError(500, f"can't clone to non-shared storage '{storage}'")
    if newid in pve.vms:
        raise PveError(500, f"unable to create VM {newid}: config file already exists")
    if src.lock and not src.template:
        raise PveError(500, f"VM is locked ({src.lock})")

    config = {
        k: v for k, v in src.config.items() if not DISK_SLOT_RE.match(k) and k not in ("template", "lock")
    }
    config["name"] = name or f"Copy-of-VM-{src.name}"
    for key in list(config):
        if re.fullmatch(r"net\d+", key):
            model, _, rest = str(config[key]).partition(",")
            config[key] = f"{model.split('=', 1)[0]}={mac_for(newid, int(key[3:]))},{rest}".rstrip(",")
    config["smbios1"] = f"uuid={uuid_for(newid)}"
    config["vmgenid"] = uuid_for(newid, 1)
    if ctx.get("description") is not None:
        config["description"] = ctx.get("description")
    config["lock"] = "clone"
    new = Vm(vmid=newid, node=target, config=config)
    pve.seed_guest_files(new)
    pve.vms[newid] = new
    disks = [(slot, str(src.config[slot])) for slot in sorted(src.config) if DISK_SLOT_RE.match(slot)]

    async def worker(task: Task) -> None:
        created: list[str] = []
        try:
            for slot, entry in disks:
                if slot.startswith("unused"):
                    continue
                volid, _, options = entry.partition(",")
                volume = pve.find_volume(volid)
                if volume is None:
                    raise PveError(500, f"no such volume '{volid}'")
                if "media=cdrom" in options:
                    dest = storage or volume.storage
                    new_volid = pve.allocate_volume(target, dest, f"vm-{newid}-cloudinit", volume.size, newid)
                    created.append(new_volid)
                    new.config[slot] = f"{new_volid},media=cdrom"
                    continue
                index = len([c for c in created if "-disk-" in c])
                if full:
                    task.write(f"create full clone of drive {slot} ({volid})")
                    dest = storage or volume.storage
                    new_volid = pve.allocate_volume(
                        target, dest, f"vm-{newid}-disk-{index}", volume.size, newid
                    )
                    created.append(new_volid)
                    gib = volume.size / 1024**3
                    for step in (1, 2, 3, 4):
                        await ctx.world.clock.sleep(0.5 + gib * 0.25)
                        task.write(
                            f"transferred {gib * step / 4:.1f} GiB of {gib:.1f} GiB ({step * 25:.2f}%)"
                        )
                else:
                    task.write(f"create linked clone of drive {slot} ({volid})")
                    await ctx.world.clock.sleep(LINKED_CLONE_SECONDS)
                    new_volid = pve.allocate_volume(
                        target, volume.storage, f"vm-{newid}-disk-{index}", volume.size, newid
                    )
                    pve.volumes[new_volid].base = volid
                    created.append(new_volid)
                    task.write(f'  Logical volume "vm-{newid}-disk-{index}" created.')
                kept = [o for o in options.split(",") if o and not o.startswith("size=")]
                new.config[slot] = ",".join([new_volid, *kept, f"size={format_size(volume.size)}"])
        except BaseException:
            for volid in created:
                if pve.find_volume(volid) is not None:
                    pve.free_volume(volid)
            if pve.vms.get(newid) is new:
                del pve.vms[newid]
            raise
        new.lock = None

    return pve.tasks.start(src.node, "qmclone", str(src.vmid), ctx.user, worker).upid


async def config_get(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    return config_view(vm, current=bool(bool_param(ctx, "current", False)))


async def pending_get(ctx: Ctx) -> object:
    return pending_view(vm_arg(ctx))


def _config_request(ctx: Ctx) -> tuple[dict[str, object], list[str], str | None, bool]:
    params = {k: v for k, v in ctx.params.items() if k not in ("node", "vmid")}
    verified = verify_config_params(params)
    delete = list(verified.pop("delete", []) or [])  # type: ignore[call-overload]
    verified.pop("revert", None)
    verified.pop("background_delay", None)
    digest = verified.pop("digest", None)
    skiplock = bool(verified.pop("skiplock", 0))
    if not verified and not delete:
        raise PveError(500, "no options specified")
    return verified, delete, None if digest is None else str(digest), skiplock


async def config_put(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    changes, delete, digest, skiplock = _config_request(ctx)
    apply_config(ctx.pve, vm, changes, delete, digest=digest, skiplock=skiplock)
    return None


async def config_post(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    changes, delete, digest, skiplock = _config_request(ctx)

    async def worker(task: Task) -> None:
        task.write(f"update VM {vm.vmid}: {describe_changes(changes, delete)}")
        await ctx.world.clock.sleep(0.3)
        if ctx.pve.vms.get(vm.vmid) is not vm:
            raise PveError(
                500, f"Configuration file 'nodes/{vm.node}/qemu-server/{vm.vmid}.conf' does not exist"
            )
        apply_config(ctx.pve, vm, changes, delete, digest=digest, skiplock=skiplock, log=task.log)

    return ctx.pve.tasks.start(vm.node, "qmconfig", str(vm.vmid), ctx.user, worker).upid


async def resize(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    disk = ctx.get("disk")
    size = ctx.get("size")
    errors = {}
    if not disk:
        errors["disk"] = "property is missing and it is not optional"
    elif not RESIZE_DISKS.match(disk):
        errors["disk"] = f"value '{disk}' does not have a value in the enumeration"
    if not size:
        errors["size"] = "property is missing and it is not optional"
    elif not RESIZE_RE.match(size):
        errors["size"] = f"value does not match the regex pattern - got '{size}'"
    if errors:
        raise PveError(400, "Parameter verification failed.", errors)
    assert disk is not None and size is not None
    digest = ctx.get("digest")
    skiplock = bool_param(ctx, "skiplock", False)

    async def worker(task: Task) -> None:
        check_lock(vm, skiplock)
        if digest and digest != config_digest(vm):
            raise PveError(500, "detected modified configuration - file changed by other user? Try again.")
        entry = vm.config.get(disk)
        if entry is None:
            raise PveError(500, f"disk '{disk}' does not exist")
        volid, _, options = str(entry).partition(",")
        if "media=cdrom" in options:
            raise PveError(500, "you can't resize a cdrom")
        volume = ctx.pve.find_volume(volid)
        if volume is None:
            raise PveError(500, f"no such volume '{volid}'")
        match = RESIZE_RE.match(size)
        assert match is not None
        amount = int(float(match.group(2)) * UNITS[match.group(3)])
        new_size = volume.size + amount if match.group(1) else amount
        await ctx.world.clock.sleep(0.5)
        if new_size < volume.size:
            raise PveError(500, "shrinking disks is not supported")
        if new_size == volume.size:
            return
        old = volume.size
        ctx.pve.resize_volume(volid, new_size)
        task.write(
            f"  Size of logical volume pve/{volume.filename} changed from {old / 1024**3:.2f} GiB "
            f"to {new_size / 1024**3:.2f} GiB."
        )

    return ctx.pve.tasks.start(vm.node, "resize", str(vm.vmid), ctx.user, worker).upid


async def destroy(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    pve = ctx.pve
    skiplock = bool_param(ctx, "skiplock", False)
    purge = bool_param(ctx, "purge", False)
    unreferenced = bool_param(ctx, "destroy-unreferenced-disks", False)
    if vm.status == "running":
        raise PveError(500, f"VM {vm.vmid} is running - destroy failed")
    check_lock(vm, skiplock)
    if str(vm.config.get("protection", 0)) == "1":
        raise PveError(500, f"can't remove VM {vm.vmid} - protection mode enabled")

    async def worker(task: Task) -> None:
        await ctx.world.clock.sleep(1.0)
        own_disks = [volid for _, volid in vm.disks()]
        for volid in own_disks:
            if any(v.base == volid for v in pve.volumes.values()):
                raise PveError(500, f"base volume '{volid}' is still in use by linked cloned VM")
        for volid in own_disks:
            volume = pve.find_volume(volid)
            if volume is None or volume.vmid != vm.vmid:
                continue  # volumes owned by another VMID (e.g. CSI disks) survive
            pve.free_volume(volid)
            task.write(f'  Logical volume "{volume.filename}" successfully removed.')
        if unreferenced:
            for volume in [v for v in pve.volumes.values() if v.vmid == vm.vmid]:
                pve.free_volume(volume.volid)
                task.write(f"found unreferenced disk '{volume.volid}' - destroying")
        if purge:
            task.write(f"purging VM {vm.vmid} from related configurations..")
        if pve.vms.get(vm.vmid) is vm:
            del pve.vms[vm.vmid]

    return pve.tasks.start(vm.node, "qmdestroy", str(vm.vmid), ctx.user, worker).upid


async def cloudinit_dump(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    kind = ctx.get("type")
    if kind not in ("user", "network", "meta"):
        raise param_error(
            "type", f"value '{kind}' does not have a value in the enumeration 'user, network, meta'"
        )
    if kind == "meta":
        return f"instance-id: {uuid_for(vm.vmid)}\n"
    if kind == "network":
        ip = str(vm.config.get("ipconfig0", "ip=dhcp"))
        return f"version: 1\nconfig:\n    - type: physical\n      name: eth0\n      subnets:\n      - {ip}\n"
    lines = ["#cloud-config", f"hostname: {vm.name}", "manage_etc_hosts: true", "fqdn: " + vm.name]
    lines.append(f"user: {vm.config.get('ciuser', 'ubuntu')}")
    keys = unquote(str(vm.config.get("sshkeys", "")))
    if keys:
        lines.append("ssh_authorized_keys:")
        lines.extend(f"  - {key}" for key in keys.splitlines() if key.strip())
    upgrade = str(vm.config.get("ciupgrade", 1)) == "1"
    lines.append(f"package_upgrade: {'true' if upgrade else 'false'}")
    return "\n".join(lines) + "\n"


def register(router: Router) -> None:
    router.add("GET", "/nodes/{node}/qemu", vm_list)
    router.add("GET", "/nodes/{node}/qemu/{vmid}", vm_index)
    router.add(
        "DELETE", "/nodes/{node}/qemu/{vmid}", destroy, {"purge", "destroy-unreferenced-disks", "skiplock"}
    )
    router.add("POST", "/nodes/{node}/qemu/{vmid}/clone", clone, CLONE_PARAMS)
    router.add("GET", "/nodes/{node}/qemu/{vmid}/config", config_get, {"current", "snapshot"})
    router.add("POST", "/nodes/{node}/qemu/{vmid}/config", config_post)
    router.add("PUT", "/nodes/{node}/qemu/{vmid}/config", config_put)
    router.add("GET", "/nodes/{node}/qemu/{vmid}/pending", pending_get)
    router.add("PUT", "/nodes/{node}/qemu/{vmid}/resize", resize, {"disk", "size", "digest", "skiplock"})
    router.add("GET", "/nodes/{node}/qemu/{vmid}/cloudinit/dump", cloudinit_dump)
    routes_power.register(router)
