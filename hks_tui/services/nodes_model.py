"""Dedicated-node rows: the pure join of Proxmox VMs and Kubernetes Nodes (no I/O, no Textual).

A workspace's dedicated nodes are the PVE VMs tagged ``hks-managed`` + ``hks-ws-<ws>`` and the host K3s
Nodes labelled ``hks.io/workspace=<ws>``. A VM and a Node are the same machine when the Node's
``spec.providerID`` is ``proxmox://<region>/<vmid>``, or (without one) when the names are equal.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hks_tui.models import InstanceType

MANAGED_TAG = "hks-managed"
WORKSPACE_TAG_PREFIX = "hks-ws-"
POOL_TAG_PREFIX = "hks-pool-"
WORKSPACE_LABEL = "hks.io/workspace"
POOL_LABEL = "hks.io/pool"
REGION_LABEL = "topology.kubernetes.io/region"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
GIB = 2**30
TERMINAL_PHASES = ("Succeeded", "Failed")

# combined status texts
RUNNING_READY = "Running · Ready"
RUNNING_NOT_READY = "Running · NotReady"
STOPPED = "Stopped"
STOPPED_NOT_READY = "Stopped · NotReady"
MISSING_VM = "Missing VM"
NOT_JOINED = "Not joined"
DRAINING = "Draining"


class NodeRow(BaseModel):
    """One dedicated node as the node list shows it (Proxmox + Kubernetes combined)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    name: str
    vmid: int | None = None
    pve_node: str | None = None
    region: str | None = None
    pool: str | None = None
    status: str
    vm_status: str | None = None  # running | stopped | … (None: no VM)
    ready: bool | None = None  # the Node's Ready condition (None: no Node)
    cordoned: bool = False
    in_vcluster: bool = False  # the workspace's vCluster syncs this node
    vcpu: int = 0
    ram_bytes: int = 0
    disk_bytes: int = 0
    disk_used_bytes: int = 0
    ip: str | None = None
    created_at: datetime | None = None
    uptime_s: int | None = None
    lock: str | None = None
    pods: int = 0
    pods_capacity: int = 0
    cpu_allocatable: float = 0.0
    mem_allocatable: float = 0.0
    cpu_requests: float = 0.0  # cores requested by the pods on the node
    mem_requests: float = 0.0  # bytes
    cpu_usage: float | None = None  # cores, when metrics are available
    mem_usage: float | None = None  # bytes
    instance_type: str | None = None
    monthly_cost: float | None = None
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """A stable row key: the VMID when there is a VM, else the Node name."""
        return f"vm/{self.vmid}" if self.vmid is not None else f"node/{self.name}"

    @property
    def ram_gib(self) -> float:
        return self.ram_bytes / GIB

    @property
    def disk_gib(self) -> float:
        return self.disk_bytes / GIB

    @property
    def specs(self) -> str:
        """``4 vCPU · 8 GiB · 40 GiB`` (vCPU, RAM, disk)."""
        return f"{self.vcpu} vCPU · {_gib(self.ram_bytes)} GiB · {_gib(self.disk_bytes)} GiB"

    @property
    def cpu_percent(self) -> float | None:
        capacity = self.cpu_allocatable or float(self.vcpu)
        return None if self.cpu_usage is None or not capacity else 100.0 * self.cpu_usage / capacity

    @property
    def mem_percent(self) -> float | None:
        capacity = self.mem_allocatable or float(self.ram_bytes)
        return None if self.mem_usage is None or not capacity else 100.0 * self.mem_usage / capacity


class NodeDetail(BaseModel):
    """Everything the node detail view shows: the row plus Proxmox and Kubernetes facts."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    row: NodeRow
    # Proxmox
    storage: list[str] = Field(default_factory=list)  # volids of the VM's disks
    config: dict[str, Any] = Field(default_factory=dict)
    tasks: list[dict[str, Any]] = Field(default_factory=list)  # newest first
    agent_ips: list[str] = Field(default_factory=list)
    # Kubernetes
    conditions: list[dict[str, Any]] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    taints: list[dict[str, Any]] = Field(default_factory=list)
    allocatable: dict[str, str] = Field(default_factory=dict)
    pods: list[dict[str, str]] = Field(default_factory=list)  # namespace, name, phase, ready
    events: list[dict[str, Any]] = Field(default_factory=list)  # newest first
    errors: list[str] = Field(default_factory=list)  # facts that could not be read, with why


def _gib(value: int) -> str:
    gib = value / GIB
    return f"{gib:.0f}" if abs(gib - round(gib)) < 0.05 else f"{gib:.1f}"


def vm_tags(vm: Mapping[str, Any]) -> tuple[str, ...]:
    """PVE tags (``a;b`` — PVE also accepts ``,`` and spaces) as a tuple."""
    raw = str(vm.get("tags") or "")
    return tuple(t for t in raw.replace(",", ";").replace(" ", ";").split(";") if t)


def is_workspace_vm(vm: Mapping[str, Any], workspace: str) -> bool:
    tags = vm_tags(vm)
    return (
        vm.get("type", "qemu") == "qemu"
        and not vm.get("template")
        and MANAGED_TAG in tags
        and f"{WORKSPACE_TAG_PREFIX}{workspace}" in tags
    )


def provider_vmid(node: Mapping[str, Any]) -> int | None:
    """The VMID from ``spec.providerID`` ``proxmox://<region>/<vmid>`` (None for other providers)."""
    pid = str((node.get("spec") or {}).get("providerID") or "")
    if not pid.startswith("proxmox://"):
        return None
    tail = pid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else None


def node_ready(node: Mapping[str, Any]) -> tuple[bool, str]:
    """(Ready, reason) from the Node's Ready condition."""
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True", str(cond.get("reason") or cond.get("message") or "")
    return False, "no Ready condition"


def node_ip(node: Mapping[str, Any]) -> str | None:
    addresses = (node.get("status") or {}).get("addresses") or []
    for kind in ("InternalIP", "ExternalIP"):
        for addr in addresses:
            if addr.get("type") == kind and addr.get("address") not in (None, "", "0.0.0.0"):
                return str(addr["address"])
    return None


def parse_quantity(value: Any) -> float:
    """A Kubernetes quantity (``500m``, ``8Gi``, ``110``) in base units; 0 for missing or malformed."""
    if value is None or value == "":
        return 0.0
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    suffixes = {
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "Pi": 2**50,
        "Ei": 2**60,
        "n": 1e-9,
        "u": 1e-6,
        "m": 1e-3,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "P": 1e15,
        "E": 1e18,
    }
    for suffix in sorted(suffixes, key=len, reverse=True):
        if text.endswith(suffix):
            try:
                return float(text[: -len(suffix)]) * suffixes[suffix]
            except ValueError:
                return 0.0
    try:
        return float(text)
    except ValueError:
        return 0.0


def pod_requests(pod: Mapping[str, Any]) -> tuple[float, float]:
    """(CPU cores, memory bytes) requested by a pod: sum of its containers, or its largest init container."""
    spec = pod.get("spec") or {}

    def total(containers: Iterable[Mapping[str, Any]]) -> tuple[float, float]:
        cpu = mem = 0.0
        for c in containers:
            req = (c.get("resources") or {}).get("requests") or {}
            cpu += parse_quantity(req.get("cpu"))
            mem += parse_quantity(req.get("memory"))
        return cpu, mem

    cpu, mem = total(spec.get("containers") or [])
    for init in spec.get("initContainers") or []:
        icpu, imem = total([init])
        cpu, mem = max(cpu, icpu), max(mem, imem)
    return cpu, mem


def match_instance_type(
    catalog: Sequence[InstanceType], label: str | None, vcpu: int, ram_bytes: int
) -> InstanceType | None:
    """The catalog entry named by the instance-type label, else the one with exactly these cores/RAM."""
    if label:
        for it in catalog:
            if it.name.lower() == label.lower():
                return it
    ram_gib = ram_bytes / GIB
    for it in catalog:
        if it.vcpu == vcpu and abs(it.ram_gib - ram_gib) < 0.5:
            return it
    return None


def combine_status(
    vm: Mapping[str, Any] | None,
    node: Mapping[str, Any] | None,
    *,
    in_flight: str | None = None,
    pve_online: bool = True,
    pve_error: str | None = None,
) -> str:
    """The combined Proxmox + K3s status text of a node row (``pve_error``: the inventory is unknown)."""
    if in_flight:
        return in_flight
    if pve_error:
        return f"Error: Proxmox VE: {pve_error}"
    if vm is None:
        return MISSING_VM if node is not None else "Error: neither a VM nor a Node"
    vm_state = str(vm.get("status") or "unknown")
    if not pve_online or vm_state == "unknown":
        where = vm.get("node") or "?"
        return f"Error: Proxmox node {where} does not answer" if not pve_online else "Error: VM state unknown"
    if node is None:
        return NOT_JOINED if vm_state == "running" else STOPPED
    ready, _ = node_ready(node)
    if vm_state == "running":
        if (node.get("spec") or {}).get("unschedulable"):
            return DRAINING
        return RUNNING_READY if ready else RUNNING_NOT_READY
    if vm_state == "stopped":
        return STOPPED_NOT_READY if not ready else "Stopped · Ready"
    return f"{vm_state.capitalize()} · {'Ready' if ready else 'NotReady'}"


def _created(node: Mapping[str, Any] | None) -> datetime | None:
    stamp = ((node or {}).get("metadata") or {}).get("creationTimestamp")
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return None


def build_rows(
    workspace: str,
    vms: Iterable[Mapping[str, Any]],
    host_nodes: Iterable[Mapping[str, Any]],
    *,
    pods: Iterable[Mapping[str, Any]] = (),
    vcluster_nodes: Iterable[str] = (),
    usage: Mapping[str, tuple[float, float]] | None = None,
    catalog: Sequence[InstanceType] = (),
    regions: Mapping[str, str] | None = None,
    offline_pve_nodes: Iterable[str] = (),
    in_flight: Mapping[str, str] | None = None,
    pve_error: str | None = None,
) -> list[NodeRow]:
    """Join the inventory (``/cluster/resources?type=vm`` rows, all of them) with the host Nodes.

    ``usage`` maps node name → (CPU cores, memory bytes); ``in_flight`` maps node name → an action text
    (e.g. ``Provisioning 3/6``) that overrides the status (and adds a row for a node that has neither
    a VM nor a Node yet); ``regions`` maps PVE node → region; ``pve_error`` (the inventory could not be
    read) turns every Node's status into ``Error: Proxmox VE: <why>`` instead of ``Missing VM``.
    """
    all_vms = [v for v in vms if v.get("type", "qemu") == "qemu" and not v.get("template")]
    by_vmid = {int(v["vmid"]): v for v in all_vms if v.get("vmid") is not None}
    ws_vms = {int(v["vmid"]): v for v in all_vms if is_workspace_vm(v, workspace)}
    ws_nodes = [
        n
        for n in host_nodes
        if ((n.get("metadata") or {}).get("labels") or {}).get(WORKSPACE_LABEL) == workspace
    ]
    by_name = {str(v.get("name")): vmid for vmid, v in ws_vms.items()}
    synced = set(vcluster_nodes)
    offline = set(offline_pve_nodes)
    usage = usage or {}
    in_flight = in_flight or {}
    regions = regions or {}

    per_node: dict[str, list[Mapping[str, Any]]] = {}
    for pod in pods:
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name and (pod.get("status") or {}).get("phase") not in TERMINAL_PHASES:
            per_node.setdefault(str(node_name), []).append(pod)

    pairs: list[tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]] = []
    matched: set[int] = set()
    for host_node in ws_nodes:
        vmid = provider_vmid(host_node)
        if vmid is None or vmid not in by_vmid:
            vmid = by_name.get(str(host_node["metadata"]["name"])) if vmid is None else None
        match = by_vmid.get(vmid) if vmid is not None else None
        if vmid is not None and match is not None:
            matched.add(vmid)
        pairs.append((match, host_node))
    pairs.extend((v, None) for vmid, v in ws_vms.items() if vmid not in matched)

    rows = []
    for vm, node in pairs:
        meta = (node or {}).get("metadata") or {}
        labels: dict[str, str] = dict(meta.get("labels") or {})
        status_k = (node or {}).get("status") or {}
        alloc = status_k.get("allocatable") or status_k.get("capacity") or {}
        name = str(meta.get("name") or (vm or {}).get("name") or f"vm-{(vm or {}).get('vmid')}")
        tags = vm_tags(vm) if vm else ()
        vcpu = int((vm or {}).get("maxcpu") or parse_quantity(alloc.get("cpu")))
        ram = int((vm or {}).get("maxmem") or parse_quantity(alloc.get("memory")))
        pve_node = str(vm["node"]) if vm and vm.get("node") else labels.get("topology.kubernetes.io/zone")
        pool = labels.get(POOL_LABEL) or next(
            (t[len(POOL_TAG_PREFIX) :] for t in tags if t.startswith(POOL_TAG_PREFIX)), None
        )
        itype = match_instance_type(catalog, labels.get(INSTANCE_TYPE_LABEL), vcpu, ram)
        node_pods = per_node.get(name, []) if node is not None else []
        requests = [pod_requests(p) for p in node_pods]
        used = usage.get(name)
        rows.append(
            NodeRow(
                name=name,
                vmid=int(vm["vmid"]) if vm else None,
                pve_node=pve_node,
                region=labels.get(REGION_LABEL) or (regions.get(pve_node) if pve_node else None),
                pool=pool,
                status=combine_status(
                    vm,
                    node,
                    in_flight=in_flight.get(name),
                    pve_online=not vm or str(vm.get("node")) not in offline,
                    pve_error=pve_error,
                ),
                vm_status=str(vm.get("status")) if vm else None,
                ready=node_ready(node)[0] if node is not None else None,
                cordoned=bool((node or {}).get("spec", {}).get("unschedulable")),
                in_vcluster=name in synced,
                vcpu=vcpu,
                ram_bytes=ram,
                disk_bytes=int((vm or {}).get("maxdisk") or 0),
                disk_used_bytes=int((vm or {}).get("disk") or 0),
                ip=node_ip(node) if node is not None else None,
                created_at=_created(node),
                uptime_s=int(vm["uptime"]) if vm and vm.get("uptime") is not None else None,
                lock=str(vm["lock"]) if vm and vm.get("lock") else None,
                pods=len(node_pods),
                pods_capacity=int(parse_quantity(alloc.get("pods"))),
                cpu_allocatable=parse_quantity(alloc.get("cpu")),
                mem_allocatable=parse_quantity(alloc.get("memory")),
                cpu_requests=sum(r[0] for r in requests),
                mem_requests=sum(r[1] for r in requests),
                cpu_usage=used[0] if used else None,
                mem_usage=used[1] if used else None,
                instance_type=itype.name if itype else labels.get(INSTANCE_TYPE_LABEL),
                monthly_cost=itype.monthly_price if itype else None,
                tags=tags,
            )
        )
    known = {r.name for r in rows}
    # an action on a node that has no VM or Node yet (a provision before its clone) still gets a row
    rows.extend(NodeRow(name=n, status=text) for n, text in in_flight.items() if n not in known)
    return sorted(rows, key=lambda r: (r.name, r.vmid or 0))
