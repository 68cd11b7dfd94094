"""The world link between Proxmox VMs and host Nodes: node registration (used by the seed and by the
K3s join handler), the node lifecycle controller (VM running → Ready, stopped or destroyed → NotReady
with the ``unreachable`` taints, pods evicted after their ``tolerationSeconds``), and pod garbage
collection for deleted nodes."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import (
    Recorder,
    is_deleting,
    name_of,
    ns_of,
    parse_iso,
    peek,
    safe_delete,
    set_condition,
    snapshot,
    write_status,
)
from hks_tui.lab.controllers.pvutil import parse_provider_id
from hks_tui.lab.controllers.scheduler import is_terminal, tolerates
from hks_tui.lab.kube.cluster import K3S_VERSION

if TYPE_CHECKING:
    from hks_tui.lab.pve.model import Vm
    from hks_tui.lab.world import LabWorld

READY_DELAY = 5.0  # lab seconds between the agent registering and the node turning Ready
UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"


def _ready_at(world: LabWorld) -> dict[str, float]:
    return world.extra.setdefault("node_ready_at", {})


def node_object(
    world: LabWorld,
    vm: Vm,
    name: str,
    labels: dict[str, str],
    taints: list[dict[str, str]],
    args: list[str],
    index: int,
) -> dict[str, Any]:
    pve = world.pve
    region = pve.region_of(vm.node)
    memory_ki = vm.memory * 1024
    disk_ki = 40 * 1024 * 1024
    all_labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        INSTANCE_TYPE: f"{vm.cores}c{vm.memory // 1024}g",
        "beta.kubernetes.io/instance-type": f"{vm.cores}c{vm.memory // 1024}g",
        "topology.kubernetes.io/region": region,
        "topology.kubernetes.io/zone": vm.node,
        **labels,
    }
    ip = pve.vm_ip(vm) or "0.0.0.0"
    resources = {
        "cpu": str(vm.cores),
        "memory": f"{memory_ki}Ki",
        "pods": "110",
        "ephemeral-storage": f"{disk_ki}Ki",
        "hugepages-1Gi": "0",
        "hugepages-2Mi": "0",
    }
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": all_labels,
            "annotations": {
                "k3s.io/node-args": json.dumps(["agent", *args]),
                "k3s.io/internal-ip": ip,
                "k3s.io/hostname": name,
                "node.alpha.kubernetes.io/ttl": "0",
                "volumes.kubernetes.io/controller-managed-attach-detach": "true",
                "flannel.alpha.coreos.com/backend-type": "vxlan",
                "flannel.alpha.coreos.com/public-ip": ip,
            },
        },
        "spec": {
            "podCIDR": f"10.42.{index}.0/24",
            "podCIDRs": [f"10.42.{index}.0/24"],
            "providerID": f"proxmox://{region}/{vm.vmid}",
            "taints": list(taints),
        },
        "status": {
            "capacity": dict(resources),
            "allocatable": dict(resources),
            "addresses": [{"type": "InternalIP", "address": ip}, {"type": "Hostname", "address": name}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "architecture": "amd64",
                "bootID": _uuid(f"boot/{vm.vmid}/{vm.started_at}"),
                "containerRuntimeVersion": "containerd://1.7.23-k3s2",
                "kernelVersion": "6.8.0-49-generic",
                "kubeProxyVersion": K3S_VERSION,
                "kubeletVersion": K3S_VERSION,
                "machineID": _uuid(f"machine/{vm.vmid}").replace("-", ""),
                "operatingSystem": "linux",
                "osImage": "Ubuntu 24.04.3 LTS",
                "systemUUID": _uuid(f"system/{vm.vmid}"),
            },
            "conditions": [],
            "images": [],
        },
    }


def _uuid(seed: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, "hks-lab/" + seed))


def _cidr_index(node: dict[str, Any]) -> int:
    cidr = str((node.get("spec") or {}).get("podCIDR") or "10.42.0.0/24")
    try:
        return int(cidr.split(".")[2])
    except (IndexError, ValueError):
        return 0


def register_node(
    world: LabWorld,
    vm: Vm,
    *,
    name: str | None = None,
    labels: dict[str, str] | None = None,
    taints: list[dict[str, str]] | None = None,
    args: list[str] | None = None,
    ready_delay: float = READY_DELAY,
    ready_now: bool = False,
) -> dict[str, Any]:
    """Create (or re-register) the host Node of a VM; it turns Ready ``ready_delay`` lab seconds later."""
    store = world.host.store
    node_name = name or vm.name
    existing = peek(store, "nodes", node_name)
    used = [_cidr_index(n) for n in store.iter_objects("nodes")]
    index = max(used, default=0) + 1
    if existing is not None:
        cidr = str((existing.get("spec") or {}).get("podCIDR", f"10.42.{index}.0/24"))
        index = int(cidr.split(".")[2])
    node = node_object(world, vm, node_name, labels or {}, list(taints or []), list(args or []), index)
    now = world.clock.now()
    iso = world.clock.iso(now)
    status = node["status"]
    for ctype, reason, message in (
        ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
        ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
        ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    ):
        status["conditions"].append(
            {
                "type": ctype,
                "status": "False",
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": iso,
                "lastTransitionTime": iso,
            }
        )
    ready = ready_now
    status["conditions"].append(
        {
            "type": "Ready",
            "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady",
            "message": "kubelet is posting ready status"
            if ready
            else "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady",
            "lastHeartbeatTime": iso,
            "lastTransitionTime": iso,
        }
    )
    if not ready:
        node["spec"]["taints"].append({"key": NOT_READY, "effect": "NoSchedule"})
    _ready_at(world)[node_name] = now if ready else now + ready_delay
    if existing is not None:
        merged = dict(existing)
        merged["metadata"] = {
            **existing["metadata"],
            "labels": {**(existing["metadata"].get("labels") or {}), **node["metadata"]["labels"]},
            "annotations": {
                **(existing["metadata"].get("annotations") or {}),
                **node["metadata"]["annotations"],
            },
        }
        merged["spec"] = {**existing.get("spec", {}), **node["spec"]}
        merged["metadata"].pop("resourceVersion", None)
        store.replace("nodes", merged)
        fresh = store.get("nodes", node_name)
        write_status(store, "nodes", fresh, status)
        return store.get("nodes", node_name)
    created = store.create("nodes", node)
    write_status(store, "nodes", created, status)
    return store.get("nodes", node_name)


class NodeLifecycle:
    """Ready/NotReady from the VM's power state, ``unreachable`` taints, taint-based eviction and pod GC."""

    def __init__(self, world: LabWorld, recorder: Recorder) -> None:
        self.world, self.recorder = world, recorder

    def reconcile(self) -> None:
        host = self.world.host
        store = host.store
        now = self.world.clock.now()
        iso = self.world.clock.iso(now)
        names = set()
        for node in snapshot(store, "nodes"):
            names.add(name_of(node))
            parsed = parse_provider_id(str((node.get("spec") or {}).get("providerID", "")))
            if parsed is None:
                continue
            vm = self.world.pve.vms.get(parsed[1])
            alive = vm is not None and vm.status == "running"
            due = _ready_at(self.world).get(name_of(node), 0.0)
            ready = alive and now >= due
            self._apply(node, alive, ready, iso)
            if not alive:
                self._ready_again_after(node)
        self._evict(store, names, now)

    def _ready_again_after(self, node: dict[str, Any]) -> None:
        # when the VM comes back, the kubelet needs a few seconds before it posts Ready again
        _ready_at(self.world)[name_of(node)] = self.world.clock.now() + READY_DELAY

    def _apply(self, node: dict[str, Any], alive: bool, ready: bool, iso: str) -> None:
        store = self.world.host.store
        status = dict(node.get("status") or {})
        conds = [dict(c) for c in status.get("conditions") or []]
        current = next((c for c in conds if c.get("type") == "Ready"), {})
        if ready:
            conds = set_condition(
                conds, "Ready", "True", iso, "KubeletReady", "kubelet is posting ready status"
            )
            taints = [
                t
                for t in (node.get("spec") or {}).get("taints") or []
                if t.get("key") not in (UNREACHABLE, NOT_READY)
            ]
        elif alive:
            if current.get("status") == "Unknown":
                conds = set_condition(conds, "Ready", "False", iso, "KubeletNotReady", "kubelet is starting")
            taints = [t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") != UNREACHABLE]
            if not any(t.get("key") == NOT_READY for t in taints):
                taints.append({"key": NOT_READY, "effect": "NoSchedule"})
        else:
            for ctype in ("Ready", "MemoryPressure", "DiskPressure", "PIDPressure"):
                conds = set_condition(
                    conds, ctype, "Unknown", iso, "NodeStatusUnknown", "Kubelet stopped posting node status."
                )
            taints = [
                t
                for t in (node.get("spec") or {}).get("taints") or []
                if t.get("key") not in (UNREACHABLE, NOT_READY)
            ]
            taints += [
                {"key": UNREACHABLE, "effect": "NoSchedule", "timeAdded": iso},
                {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": iso},
            ]
            old_unreachable = [
                t for t in (node.get("spec") or {}).get("taints") or [] if t.get("key") == UNREACHABLE
            ]
            if old_unreachable:
                taints = [t for t in taints if t.get("key") != UNREACHABLE] + old_unreachable
        for cond in conds:
            cond.setdefault("lastHeartbeatTime", iso)
        if [t.get("key") for t in (node.get("spec") or {}).get("taints") or []] != [
            t.get("key") for t in taints
        ] or [t.get("effect") for t in (node.get("spec") or {}).get("taints") or []] != [
            t.get("effect") for t in taints
        ]:
            store.patch("nodes", name_of(node), None, {"spec": {"taints": taints}}, "merge")
            node = store.get("nodes", name_of(node))
            if current.get("status") == "True" and not ready:
                self.recorder.record(
                    self.world.host,
                    node,
                    "Normal",
                    "NodeNotReady",
                    f"Node {name_of(node)} status is now: NodeNotReady",
                    "node-controller",
                )
            elif ready and current.get("status") != "True":
                self.recorder.record(
                    self.world.host,
                    node,
                    "Normal",
                    "NodeReady",
                    f"Node {name_of(node)} status is now: NodeReady",
                    "kubelet",
                    name_of(node),
                )
        status["conditions"] = conds
        write_status(store, "nodes", node, status)

    def _evict(self, store: Any, names: set[str], now: float) -> None:
        nodes = {name_of(n): n for n in store.iter_objects("nodes")}
        for pod in snapshot(store, "pods"):
            node_name = (pod.get("spec") or {}).get("nodeName")
            if not node_name or is_deleting(pod):
                continue
            if node_name not in names:
                safe_delete(store, "pods", name_of(pod), ns_of(pod))  # pod GC: its node is gone
                continue
            if is_terminal(pod):
                continue
            node = nodes.get(node_name) or {}
            for taint in (node.get("spec") or {}).get("taints") or []:
                if taint.get("effect") != "NoExecute":
                    continue
                tolerations = [
                    t
                    for t in (pod.get("spec") or {}).get("tolerations") or []
                    if t.get("effect") in (None, "", "NoExecute")
                ]
                matching = [t for t in tolerations if tolerates([t], taint)]
                added = parse_iso(taint.get("timeAdded")) or now
                if matching and all(t.get("tolerationSeconds") is None for t in matching):
                    continue
                limit = min(
                    (
                        float(t["tolerationSeconds"])
                        for t in matching
                        if t.get("tolerationSeconds") is not None
                    ),
                    default=0.0,
                )
                if now - added >= limit:
                    self.recorder.record(
                        self.world.host,
                        pod,
                        "Normal",
                        "TaintManagerEviction",
                        f"Marking for deletion Pod {ns_of(pod)}/{name_of(pod)}",
                        "taint-eviction-controller",
                    )
                    safe_delete(store, "pods", name_of(pod), ns_of(pod))
                    break
