"""The lab's Proxmox VE infrastructure: three nodes in two regions, storages, one template per node.

=======  =========  ======  ===========  ============================================
node     region     cores   memory       template (cloud-init, ``agent=1``)
=======  =========  ======  ===========  ============================================
pve1     jp-east    32      256 GiB      9000 ``ubuntu-2404-cloudinit``
pve2     jp-east    32      256 GiB      9001 ``ubuntu-2404-cloudinit``
pve3     jp-west    24      192 GiB      9002 ``ubuntu-2404-cloudinit``
=======  =========  ======  ===========  ============================================

Storages: ``local-lvm`` (lvmthin, 2 TiB per node), ``local`` (dir, 100 GiB per node; iso/vztmpl/backup/
snippets) and ``shared-nfs`` (nfs, 8 TiB, shared by all nodes; images/snippets/backup). No workload VMs.
"""

from __future__ import annotations

from hks_tui.lab.clock import LabClock
from hks_tui.lab.pve.model import GIB, PveCluster, PveStorage

NODES: tuple[tuple[str, str, int, int], ...] = (
    ("pve1", "jp-east", 32, 256 * GIB),
    ("pve2", "jp-east", 32, 256 * GIB),
    ("pve3", "jp-west", 24, 192 * GIB),
)
TEMPLATE_NAME = "ubuntu-2404-cloudinit"
TEMPLATE_VMIDS = {"pve1": 9000, "pve2": 9001, "pve3": 9002}
TEMPLATE_DISK_GIB = 3.5


def build_infrastructure(clock: LabClock) -> PveCluster:
    pve = PveCluster(clock)
    for name, region, cpus, memory in NODES:
        pve.add_node(name, region, cpus, memory)
    names = tuple(pve.nodes)
    pve.add_storage(
        PveStorage(
            storage="local",
            type="dir",
            content=("iso", "vztmpl", "backup", "snippets"),
            shared=False,
            total_bytes=100 * GIB,
            nodes=names,
        )
    )
    pve.add_storage(
        PveStorage(
            storage="local-lvm",
            type="lvmthin",
            content=("images", "rootdir"),
            shared=False,
            total_bytes=2048 * GIB,
            nodes=names,
        )
    )
    pve.add_storage(
        PveStorage(
            storage="shared-nfs",
            type="nfs",
            content=("images", "snippets", "backup"),
            shared=True,
            total_bytes=8192 * GIB,
            nodes=names,
        )
    )
    for node, vmid in TEMPLATE_VMIDS.items():
        pve.create_vm(
            node,
            vmid,
            TEMPLATE_NAME,
            cores=2,
            memory_mib=2048,
            disk_gib=TEMPLATE_DISK_GIB,
            template=True,
            description="Ubuntu 24.04 cloud image with qemu-guest-agent (HKS node template)",
            tags=("hks-template",),
        )
    return pve
