"""The lab's single in-memory world: one Proxmox VE cluster, one host K3s cluster, one vCluster per
workspace, all on one accelerated clock and one asyncio event loop (no locks needed: every handler and
controller runs on the lab's loop).

Ownership of the parts:

* ``pve``      — :class:`hks_tui.lab.pve.model.PveCluster` (VMs, disks, storages, tasks, guest agent);
* ``clusters`` — name → :class:`hks_tui.lab.kube.cluster.KubeCluster` (``"host"`` and one per workspace);
* ``faults``   — :class:`hks_tui.lab.faults.FaultRegistry` (latency, errors, dropped responses, stalls);
* ``pvc_used_bytes`` — bytes used on each PVC, keyed by (cluster, namespace, pvc name); grown by the
  storage/backup controllers and read by the metrics exporter;
* ``secrets``  — credentials the lab accepts (PVE token and user/password, Kubernetes bearer tokens,
  K3s agent token).
"""

from __future__ import annotations

import secrets as _secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hks_tui.lab.clock import LabClock

if TYPE_CHECKING:
    from hks_tui.lab.faults import FaultRegistry
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.pve.model import PveCluster


def _token() -> str:
    return _secrets.token_hex(16)


@dataclass
class LabCredentials:
    pve_user: str = "root@pam"
    pve_password: str = field(default_factory=_token)
    pve_token_id: str = "hks@pve!console"
    pve_token_secret: str = field(default_factory=lambda: str(__import__("uuid").uuid4()))
    kube_token: str = field(default_factory=_token)  # bearer token accepted by every Kubernetes server
    k3s_agent_token: str = field(
        default_factory=lambda: "K10" + _secrets.token_hex(32) + "::server:" + _token()
    )


@dataclass
class WorkspaceInfo:
    """A workspace = one vCluster on the host cluster."""

    name: str
    plan: str  # "shared" | "dedicated"
    vcluster: str  # vCluster name, e.g. "vc-prod"
    host_namespace: str  # host namespace the vCluster syncs pods into, e.g. "vcluster-prod"


@dataclass
class LabWorld:
    clock: LabClock
    pve: PveCluster
    clusters: dict[str, KubeCluster]
    faults: FaultRegistry
    credentials: LabCredentials
    workspaces: dict[str, WorkspaceInfo] = field(default_factory=dict)
    pvc_used_bytes: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # Filled by the server once it listens: "proxmox", "k3s" (host API), "<workspace>" (vCluster API), "metrics".
    urls: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> KubeCluster:
        return self.clusters["host"]
