"""The simulated Proxmox VE cluster: nodes, storages, volumes and VMs (no HTTP here).

Storage layout (built by :mod:`hks_tui.lab.pve.infra`):

* ``local-lvm`` — ``lvmthin``, one per node (not shared), content ``images,rootdir``;
* ``local`` — ``dir``, one per node, content ``iso,vztmpl,backup,snippets`` (no disk images);
* ``shared-nfs`` — ``nfs``, shared by every node, content ``images,snippets,backup``.

Volume ids are ``<storage>:<filename>`` and unique across the whole cluster (disk names embed the owner
VMID, CSI volumes a UUID), so :meth:`PveCluster.find_volume` needs no node. A VM config is kept exactly as
``GET .../config`` returns it (``memory`` and ``agent`` are property strings, ``cores``/``template`` are
integers, ``tags`` is ``;``-joined); the attributes of :class:`Vm` are views on it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hks_tui.lab.clock import LabClock
from hks_tui.lab.pve.errors import PveError, config_missing
from hks_tui.lab.pve.vm import (
    DISK_SLOT_RE,
    GIB,
    MIB,
    Vm,
    format_size,
    mac_for,
    stable_hex,
    uuid_for,
)

__all__ = [
    "AGENT_BOOT_SECONDS",
    "DISK_SLOT_RE",
    "GIB",
    "MIB",
    "ExecHandler",
    "GuestExecResult",
    "PveCluster",
    "PveNode",
    "PveStorage",
    "Vm",
    "Volume",
    "format_size",
    "mac_for",
    "stable_hex",
    "uuid_for",
]

if TYPE_CHECKING:
    from hks_tui.lab.pve.agent import GuestAgent
    from hks_tui.lab.pve.tasks import TaskRegistry

AGENT_BOOT_SECONDS = 20.0  # lab seconds between VM start and the guest agent answering
REGION_SUBNETS = {"jp-east": "10.10", "jp-west": "10.20"}  # /16 per region for DHCP-style addresses
_VOLUME_NAME_RE = re.compile(r"^(?:vm|base)-(\d+)-[A-Za-z0-9_.+\-]+$")


@dataclass
class GuestExecResult:
    """Outcome of one ``agent/exec`` (``duration`` in lab seconds: exec-status says exited=0 until then)."""

    exitcode: int
    out: str = ""
    err: str = ""
    duration: float = 0.0


ExecHandler = Callable[["Vm", list[str], bytes | None], GuestExecResult | None]


@dataclass
class PveNode:
    name: str
    region: str
    cpus: int
    memory_bytes: int
    online: bool = True
    disk_bytes: int = 100 * GIB  # root filesystem of the hypervisor


@dataclass
class PveStorage:
    storage: str
    type: str  # "lvmthin" | "dir" | "nfs"
    content: tuple[str, ...]
    shared: bool
    total_bytes: int  # per node for local storages, cluster-wide for shared ones
    nodes: tuple[str, ...]
    enabled: bool = True


@dataclass
class Volume:
    volid: str
    storage: str
    filename: str
    size: int  # bytes
    vmid: int  # owner VMID (from the name)
    node: str | None  # None on shared storage
    format: str = "raw"
    ctime: int = 0
    base: str | None = None  # volid of the template disk a linked clone is based on


class PveCluster:
    """Nodes, storages, volumes, VMs, tasks and guest-agent exec handlers of the simulated cluster."""

    def __init__(self, clock: LabClock, cluster_name: str = "hks-lab") -> None:
        from hks_tui.lab.pve.agent import GuestAgent
        from hks_tui.lab.pve.tasks import TaskRegistry

        self.clock = clock
        self.cluster_name = cluster_name
        self.nodes: dict[str, PveNode] = {}
        self.storages: dict[str, PveStorage] = {}
        self.volumes: dict[str, Volume] = {}
        self.vms: dict[int, Vm] = {}
        self.exec_handlers: list[ExecHandler] = []
        self.tasks: TaskRegistry = TaskRegistry(clock)
        self.agent: GuestAgent = GuestAgent(self)
        self.booted_at = clock.now() - 7 * 86400  # hypervisors have been up for a week
        self.agent_boot_seconds = AGENT_BOOT_SECONDS  # lab seconds from VM start to a responding agent

    # -- nodes and storages -------------------------------------------------------------------------
    def add_node(self, name: str, region: str, cpus: int, memory_bytes: int) -> PveNode:
        node = PveNode(name=name, region=region, cpus=cpus, memory_bytes=memory_bytes)
        self.nodes[name] = node
        return node

    def add_storage(self, storage: PveStorage) -> None:
        self.storages[storage.storage] = storage

    def node(self, name: str) -> PveNode:
        found = self.nodes.get(name)
        if found is None:
            raise PveError(500, f"hostname lookup '{name}' failed - failed to get address info for: {name}")
        return found

    def region_of(self, node: str) -> str:
        return self.node(node).region

    def storage_on(self, node: str, storage: str) -> PveStorage:
        found = self.storages.get(storage)
        if found is None or node not in found.nodes:
            raise PveError(500, f"storage '{storage}' does not exist")
        return found

    def storage_used(self, node: str, storage: str) -> int:
        store = self.storage_on(node, storage)
        return sum(
            v.size
            for v in self.volumes.values()
            if v.storage == storage and (store.shared or v.node == node) and v.base is None
        ) + sum(  # thin linked clones only use their delta; count a tenth of the virtual size
            v.size // 10
            for v in self.volumes.values()
            if v.storage == storage and (store.shared or v.node == node) and v.base is not None
        )

    # -- VMs ----------------------------------------------------------------------------------------
    def get_vm(self, vmid: int, node: str | None = None) -> Vm:
        vm = self.vms.get(vmid)
        if vm is None or (node is not None and vm.node != node):
            raise config_missing(node or (vm.node if vm else next(iter(self.nodes), "localhost")), vmid)
        return vm

    def next_free_vmid(self, start: int = 100) -> int:
        vmid = start
        while vmid in self.vms:
            vmid += 1
        return vmid

    def create_vm(
        self,
        node: str,
        vmid: int,
        name: str,
        *,
        cores: int,
        memory_mib: int,
        disk_gib: float,
        tags: tuple[str, ...] | list[str] = (),
        template: bool = False,
        running: bool = False,
        description: str = "",
        ipconfig0: str | None = None,
    ) -> Vm:
        """Create a VM with a boot disk on ``local-lvm`` and a cloud-init drive (no task, no HTTP)."""
        self.node(node)
        if vmid in self.vms:
            raise PveError(500, f"unable to create VM {vmid}: config file already exists")
        prefix = "base" if template else "vm"
        disk = self.allocate_volume(node, "local-lvm", f"{prefix}-{vmid}-disk-0", int(disk_gib * GIB), vmid)
        cloudinit = self.allocate_volume(node, "local-lvm", f"vm-{vmid}-cloudinit", 4 * MIB, vmid)
        config: dict[str, object] = {
            "name": name,
            "agent": "1",
            "boot": "order=scsi0",
            "cores": int(cores),
            "sockets": 1,
            "memory": str(int(memory_mib)),
            "ostype": "l26",
            "scsihw": "virtio-scsi-single",
            "scsi0": f"{disk},iothread=1,size={format_size(int(disk_gib * GIB))}",
            "ide2": f"{cloudinit},media=cdrom",
            "net0": f"virtio={mac_for(vmid)},bridge=vmbr0",
            "serial0": "socket",
            "vga": "serial0",
            "ciuser": "ubuntu",
            "ipconfig0": ipconfig0 or "ip=dhcp",
            "smbios1": f"uuid={uuid_for(vmid)}",
            "vmgenid": uuid_for(vmid, 1),
            "meta": f"creation-qemu=9.2.0,ctime={int(self.clock.now())}",
        }
        if description:
            config["description"] = description
        if tags:
            config["tags"] = ";".join(tags)
        if template:
            config["template"] = 1
        vm = Vm(vmid=vmid, node=node, config=config)
        self.seed_guest_files(vm)
        self.vms[vmid] = vm
        if running and not template:
            vm.status = "running"
            vm.started_at = self.clock.now() - 86400.0
        return vm

    def seed_guest_files(self, vm: Vm) -> None:
        vm.files["/etc/hostname"] = (vm.name + "\n").encode()
        vm.files["/etc/os-release"] = (
            b'PRETTY_NAME="Ubuntu 24.04.3 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
            b'VERSION="24.04.3 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
        )

    def power_on(self, vm: Vm) -> None:
        vm.apply_pending()  # qemu-server applies pending changes when the VM starts
        vm.status = "running"
        vm.started_at = self.clock.now()
        vm.files["/etc/hostname"] = (vm.name + "\n").encode()  # cloud-init sets the hostname on boot

    def power_off(self, vm: Vm) -> None:
        vm.status = "stopped"
        vm.started_at = None

    def agent_ready(self, vm: Vm) -> bool:
        """The guest agent answers once the VM has been running for ``agent_boot_seconds`` lab seconds."""
        if vm.status != "running" or vm.started_at is None or not vm.agent_enabled:
            return False
        return self.clock.now() - vm.started_at >= self.agent_boot_seconds

    def vm_ip(self, vm: Vm) -> str | None:
        """IPv4 of a running VM: the static ``ipconfig0`` address, else a per-region address from the VMID."""
        if vm.status != "running":
            return None
        for part in str(vm.config.get("ipconfig0", "ip=dhcp")).split(","):
            key, _, value = part.partition("=")
            if key == "ip" and value not in ("dhcp", ""):
                return value.split("/", 1)[0]
        subnet = REGION_SUBNETS.get(self.region_of(vm.node), "10.30")
        return f"{subnet}.{(vm.vmid // 200) % 256}.{vm.vmid % 200 + 10}"

    # -- volumes ------------------------------------------------------------------------------------
    def allocate_volume(self, node: str, storage: str, filename: str, size_bytes: int, vmid: int) -> str:
        store = self.storage_on(node, storage)
        if "images" not in store.content:
            raise PveError(500, f"storage '{storage}' does not support content type 'images'")
        match = _VOLUME_NAME_RE.match(filename)
        if match is None or int(match.group(1)) != int(vmid):
            raise PveError(500, f"illegal name '{filename}' - should be 'vm-{vmid}-*'")
        if size_bytes <= 0:
            raise PveError(500, "unable to allocate an image of size 0")
        volid = f"{storage}:{filename}"
        if volid in self.volumes:
            raise PveError(500, f"volume '{volid}' already exists")
        self.volumes[volid] = Volume(
            volid=volid,
            storage=storage,
            filename=filename,
            size=int(size_bytes),
            vmid=int(vmid),
            node=None if store.shared else node,
            ctime=int(self.clock.now()),
        )
        return volid

    def find_volume(self, volid: str) -> Volume | None:
        return self.volumes.get(volid)

    def _volume(self, volid: str) -> Volume:
        found = self.volumes.get(volid)
        if found is None:
            raise PveError(500, f"no such volume '{volid}'")
        return found

    def volume_size(self, volid: str) -> int:
        return self._volume(volid).size

    def free_volume(self, volid: str) -> None:
        self._volume(volid)
        del self.volumes[volid]

    def resize_volume(self, volid: str, size_bytes: int) -> None:
        volume = self._volume(volid)
        if size_bytes < volume.size:
            raise PveError(500, "shrinking disks is not supported")
        volume.size = int(size_bytes)
        for vm in self.vms.values():
            for slot, attached in vm.disks():
                if attached == volid:
                    vm.config[slot] = _with_size(str(vm.config[slot]), volume.size)

    def volume_users(self, volid: str) -> list[int]:
        return [vm.vmid for vm in self.vms.values() if any(v == volid for _, v in vm.disks())]

    def attach_volume(self, vmid: int, volid: str) -> str:
        """Attach ``volid`` to the first free ``scsiN`` (N ≥ 1) slot of the VM and return the slot."""
        vm = self.get_vm(vmid)
        volume = self._volume(volid)
        for slot, attached in vm.disks():
            if attached == volid:
                return slot
        if volume.node is not None and volume.node != vm.node:
            raise PveError(500, f"volume '{volid}' is on node '{volume.node}', VM {vmid} on '{vm.node}'")
        for index in range(1, 31):
            slot = f"scsi{index}"
            if slot not in vm.config:
                vm.config[slot] = f"{volid},backup=0,iothread=1,size={format_size(volume.size)}"
                return slot
        raise PveError(500, f"VM {vmid}: no free scsi slot")

    def detach_volume(self, vmid: int, volid: str) -> None:
        vm = self.get_vm(vmid)
        for slot, attached in vm.disks():
            if attached == volid:
                del vm.config[slot]
                return
        raise PveError(500, f"volume '{volid}' is not attached to VM {vmid}")


def _with_size(entry: str, size: int) -> str:
    parts = [p for p in entry.split(",") if not p.startswith("size=")]
    parts.append(f"size={format_size(size)}")
    return ",".join(parts)
