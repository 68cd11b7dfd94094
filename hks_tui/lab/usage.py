"""Deterministic resource usage of the lab's pods, nodes and volumes.

Used by the metrics exporter (``/metrics``), ``metrics.k8s.io`` and the kubelet stats summary, so every
view of the same pod agrees. Nothing here is random: usage is a smooth function of the pod's resource
requests/limits, the lab clock and a stable hash of the pod's *identity*. A vCluster pod and its host-side
mirror (``<pod>-x-<namespace>-x-<vcluster>`` in the vCluster's host namespace, carrying the
``vcluster.loft.sh/object-name`` / ``object-namespace`` annotations) share one identity and so report the
same usage.

* CPU (cores): ``request × (0.45 + 0.25·h + 0.15·sin(2πt/P + φ))`` where ``h``/``φ``/``P`` come from the
  identity hash; capped by the CPU limit; 0.05 cores assumed when nothing is requested.
* memory (bytes): ``request × (0.55 + 0.25·h + 0.05·sin(...))``, capped by the memory limit; 64 MiB assumed.
* node: the sum over its running pods plus a system overhead, capped by capacity.
* PVC: ``world.pvc_used_bytes[(cluster, namespace, pvc)]`` when set (the storage/backup controllers grow it),
  otherwise 5–15 % of the capacity; always ≤ capacity.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hks_tui.lab.world import LabWorld

_SUFFIXES = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
    "n": 1e-9,
    "u": 1e-6,
    "m": 1e-3,
    "": 1,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$")

DEFAULT_CPU_REQUEST = 0.05
DEFAULT_MEMORY_REQUEST = 64 * 2**20
NODE_SYSTEM_CPU = 0.1  # cores used by the OS/kubelet on every node, plus 2 % of the node's CPUs
NODE_SYSTEM_MEMORY = 600 * 2**20
VCLUSTER_OBJECT_NAME = "vcluster.loft.sh/object-name"
VCLUSTER_OBJECT_NAMESPACE = "vcluster.loft.sh/object-namespace"


def parse_quantity(value: Any) -> float:
    """A Kubernetes resource quantity (``"250m"``, ``"1.5Gi"``, ``2``) as a float in base units."""
    if isinstance(value, int | float):
        return float(value)
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise ValueError(f"invalid quantity {value!r}")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def _hash01(*parts: str) -> float:
    return (zlib.crc32("\x00".join(parts).encode()) & 0xFFFFFFFF) / 0xFFFFFFFF


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    return meta if isinstance(meta, dict) else {}


def identity(world: LabWorld, cluster_name: str, obj: dict[str, Any]) -> tuple[str, str, str]:
    """(cluster, namespace, name) of the object an object stands for.

    A host-side copy of a vCluster object (in a workspace's host namespace, annotated by the syncer)
    stands for the vCluster object; anything else stands for itself.
    """
    meta = _meta(obj)
    namespace = str(meta.get("namespace") or "")
    name = str(meta.get("name") or "")
    if cluster_name == "host":
        notes = meta.get("annotations") or {}
        labels = meta.get("labels") or {}
        vname = notes.get(VCLUSTER_OBJECT_NAME) or labels.get(VCLUSTER_OBJECT_NAME)
        vns = notes.get(VCLUSTER_OBJECT_NAMESPACE) or labels.get(VCLUSTER_OBJECT_NAMESPACE)
        if vname and vns:
            for ws in world.workspaces.values():
                if ws.host_namespace == namespace:
                    return ws.name, str(vns), str(vname)
    return cluster_name, namespace, name


def _container_spec(pod: dict[str, Any], container: str) -> dict[str, Any] | None:
    for spec in (pod.get("spec") or {}).get("containers") or []:
        if spec.get("name") == container:
            return dict(spec)
    return None


def _resource(spec: dict[str, Any], kind: str, resource: str) -> float | None:
    value = ((spec.get("resources") or {}).get(kind) or {}).get(resource)
    if value is None:
        return None
    try:
        return parse_quantity(value)
    except ValueError:
        return None


def _running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running"


def _container_running(pod: dict[str, Any], container: str) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses")
    if not statuses:
        return True  # phase Running and no per-container detail: assume it runs
    for status in statuses:
        if status.get("name") == container:
            return "running" in (status.get("state") or {})
    return False


def container_usage(
    world: LabWorld, cluster_name: str, pod: dict[str, Any], container: str
) -> tuple[float, int]:
    """(CPU cores, memory working-set bytes) of one container; (0, 0) unless it is running."""
    spec = _container_spec(pod, container)
    if spec is None or not _running(pod) or not _container_running(pod, container):
        return 0.0, 0
    ident = identity(world, cluster_name, pod)
    key = (*ident, container)
    h = _hash01(*key)
    phase = 2 * math.pi * _hash01("phase", *key)
    period = 600.0 + 1800.0 * _hash01("period", *key)
    wave = math.sin(2 * math.pi * world.clock.now() / period + phase)

    cpu_request = (
        _resource(spec, "requests", "cpu") or _resource(spec, "limits", "cpu") or DEFAULT_CPU_REQUEST
    )
    cpu = cpu_request * (0.45 + 0.25 * h + 0.15 * wave)
    cpu_limit = _resource(spec, "limits", "cpu")
    if cpu_limit is not None:
        cpu = min(cpu, cpu_limit)

    mem_request = (
        _resource(spec, "requests", "memory") or _resource(spec, "limits", "memory") or DEFAULT_MEMORY_REQUEST
    )
    memory = mem_request * (0.55 + 0.25 * h + 0.05 * wave)
    mem_limit = _resource(spec, "limits", "memory")
    if mem_limit is not None:
        memory = min(memory, mem_limit * 0.98)
    return max(0.0, round(cpu, 6)), max(0, int(memory))


def pod_usage(world: LabWorld, cluster_name: str, pod: dict[str, Any]) -> tuple[float, int]:
    """Sum of :func:`container_usage` over the pod's containers."""
    cpu, memory = 0.0, 0
    for spec in (pod.get("spec") or {}).get("containers") or []:
        c_cpu, c_mem = container_usage(world, cluster_name, pod, str(spec.get("name")))
        cpu += c_cpu
        memory += c_mem
    return round(cpu, 6), memory


def node_capacity(node: dict[str, Any]) -> tuple[float, int]:
    """(CPU cores, memory bytes) from ``status.capacity`` (falls back to ``allocatable``)."""
    status = node.get("status") or {}
    capacity = status.get("capacity") or status.get("allocatable") or {}
    try:
        cpus = parse_quantity(capacity.get("cpu", 0))
        memory = int(parse_quantity(capacity.get("memory", 0)))
    except ValueError:
        return 0.0, 0
    return cpus, memory


def _node_ready(node: dict[str, Any]) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def node_usage(
    world: LabWorld, cluster_name: str, node: dict[str, Any], pods: Iterable[dict[str, Any]] | None = None
) -> tuple[float, int]:
    """(CPU cores, memory bytes) in use on a node: its running pods plus the system overhead.

    A vCluster node is a synced host node, so its usage is the host node's (which includes the pods of
    every tenant scheduled there). A NotReady node reports (0, 0). ``pods`` (the node's pods, when the
    caller has already grouped them) saves a scan of the cluster's pods.
    """
    name = str(_meta(node).get("name") or "")
    if cluster_name != "host" and "host" in world.clusters:
        host_node = world.clusters["host"].store.find("nodes", name)
        if host_node is not None:
            return node_usage(world, "host", host_node, pods)
    if not _node_ready(node):
        return 0.0, 0
    cpus, mem_total = node_capacity(node)
    cluster = world.clusters[cluster_name]
    cpu = NODE_SYSTEM_CPU + 0.02 * cpus
    memory = NODE_SYSTEM_MEMORY + int(0.03 * mem_total)
    if pods is None:
        pods = cluster.store.iter_objects("pods", field_selector=f"spec.nodeName={name}")
    for pod in pods:
        p_cpu, p_mem = pod_usage(world, cluster_name, pod)
        cpu += p_cpu
        memory += p_mem
    if cpus:
        cpu = min(cpu, cpus)
    if mem_total:
        memory = min(memory, int(mem_total * 0.97))
    return round(cpu, 6), memory


def _pvc_capacity(pvc: dict[str, Any]) -> int:
    status_cap = ((pvc.get("status") or {}).get("capacity") or {}).get("storage")
    requested = (((pvc.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    for value in (status_cap, requested):
        if value is not None:
            try:
                return int(parse_quantity(value))
            except ValueError:
                continue
    return 0


def pvc_usage(world: LabWorld, cluster_name: str, namespace: str, pvc_name: str) -> tuple[int, int]:
    """(used bytes, capacity bytes) of a PVC. Raises ``KeyError`` if the PVC does not exist."""
    pvc = world.clusters[cluster_name].store.find("persistentvolumeclaims", pvc_name, namespace)
    if pvc is None:
        raise KeyError(f"persistentvolumeclaim {namespace}/{pvc_name} not found in cluster {cluster_name}")
    capacity = _pvc_capacity(pvc)
    ident = identity(world, cluster_name, pvc)
    used = world.pvc_used_bytes.get(ident)
    if used is None:
        used = world.pvc_used_bytes.get((cluster_name, namespace, pvc_name))
    if used is None:
        used = int(capacity * (0.05 + 0.10 * _hash01("pvc", *ident)))
    return max(0, min(int(used), capacity)), capacity
