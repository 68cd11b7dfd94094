"""The lab's Prometheus exposition endpoint: ``GET /metrics`` (text format 0.0.4).

One endpoint plays every exporter a production HKS cluster is scraped through, with the real metric
names and labels (see docs/lab.md):

* **node-exporter** per host node — ``node_cpu_seconds_total{cpu,mode}``, ``node_memory_MemTotal_bytes``,
  ``node_memory_MemAvailable_bytes``; labels ``instance`` and ``node`` = node name (Prometheus must scrape
  with ``honor_labels: true`` to keep ``instance``); NotReady nodes are absent (their exporter is down);
* **kubelet / cAdvisor** on the host nodes — ``kubelet_volume_stats_{used,capacity,available}_bytes`` for
  PVCs mounted by a running pod (with its ``node``) and, unlike a real kubelet, also for Bound PVCs nobody
  mounts right now (no ``node`` label) so storage alerts see idle volumes; ``container_cpu_usage_seconds_total``,
  ``container_memory_working_set_bytes``. The kubelet only knows host objects, so a vCluster's pods and
  PVCs appear under their **host** names as the vCluster syncer writes them
  (``<name>-x-<namespace>-x-<vcluster>`` in the vCluster's host namespace);
* **kube-state-metrics**, one per cluster (the host's and one inside each vCluster) —
  ``kube_resourcequota``, ``kube_pod_info``, ``kube_node_status_condition``, ``kube_job_status_failed``,
  ``kube_job_status_succeeded``, ``kube_job_owner``, ``kube_cronjob_status_last_successful_time``,
  ``kube_cronjob_status_last_schedule_time``, ``kube_persistentvolumeclaim_resource_requests_storage_bytes``.

Every series carries ``cluster`` (``host`` or the workspace name). Counters integrate usage over **lab**
time, so under a time scale of N, ``rate()`` over real time reads N times the simulated usage.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hks_tui.lab.exposition import CONTENT_TYPE, Exposition, Labels
from hks_tui.lab.usage import (
    VCLUSTER_OBJECT_NAME,
    VCLUSTER_OBJECT_NAMESPACE,
    container_usage,
    identity,
    node_capacity,
    node_usage,
    parse_quantity,
    pvc_usage,
)

if TYPE_CHECKING:
    from hks_tui.lab.world import LabWorld

_STATE_KEY = "metrics.counters"
_CONDITION_STATUSES = (("true", "True"), ("false", "False"), ("unknown", "Unknown"))


def _ts(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


class _Counters:
    """Counters integrated over lab time; monotonic because every rate is ≥ 0."""

    def __init__(self) -> None:
        self.values: dict[tuple[str, ...], tuple[float, float]] = {}
        self.seen: set[tuple[str, ...]] = set()

    def step(self, key: tuple[str, ...], rate: float, now: float, start: float | None) -> float:
        self.seen.add(key)
        previous = self.values.get(key)
        if previous is None:
            value = max(0.0, rate) * max(0.0, now - (start if start is not None else now))
        else:
            value = previous[0] + max(0.0, rate) * max(0.0, now - previous[1])
        self.values[key] = (value, now)
        return value

    def pause(self, key_prefix: tuple[str, ...], now: float) -> None:
        """Keep the counters of an absent target without integrating the gap."""
        for key, (value, _) in list(self.values.items()):
            if key[: len(key_prefix)] == key_prefix:
                self.values[key] = (value, now)
                self.seen.add(key)

    def prune(self) -> None:
        for key in set(self.values) - self.seen:
            del self.values[key]
        self.seen = set()


def _counters(world: LabWorld) -> _Counters:
    state = world.extra.get(_STATE_KEY)
    if not isinstance(state, _Counters):
        state = _Counters()
        world.extra[_STATE_KEY] = state
    return state


def _ready(node: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def _node_exporter(world: LabWorld, out: Exposition, counters: _Counters, now: float) -> None:
    host = world.clusters["host"]
    by_node: dict[str, list[dict[str, Any]]] = {}
    for pod in host.store.iter_objects("pods"):
        by_node.setdefault(str((pod.get("spec") or {}).get("nodeName") or ""), []).append(pod)
    for node in host.store.iter_objects("nodes"):
        name = str(_meta(node).get("name"))
        if not _ready(node):
            counters.pause(("node", name), now)
            continue
        cpus, mem_total = node_capacity(node)
        used_cpu, used_mem = node_usage(world, "host", node, by_node.get(name, []))
        labels = {"cluster": "host", "instance": name, "node": name}
        out.add("node_memory_MemTotal_bytes", labels, mem_total)
        out.add("node_memory_MemAvailable_bytes", labels, max(0, mem_total - used_mem))
        n_cpu = max(1, int(cpus))
        busy = min(1.0, used_cpu / n_cpu)
        rates = {"user": 0.8 * busy, "system": 0.2 * busy, "iowait": 0.01 * (1 - busy)}
        rates["idle"] = max(0.0, 1.0 - sum(rates.values()))
        start = _ts(_meta(node).get("creationTimestamp"))
        for cpu in range(n_cpu):
            for mode, rate in rates.items():
                value = counters.step(("node", name, str(cpu), mode), rate, now, start)
                out.add("node_cpu_seconds_total", {**labels, "cpu": str(cpu), "mode": mode}, value)


def _container_started(pod: dict[str, Any], container: str) -> float | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status.get("name") == container:
            return _ts(((status.get("state") or {}).get("running") or {}).get("startedAt"))
    return _ts((pod.get("status") or {}).get("startTime"))


def _pvc_for_volume(
    world: LabWorld, pod: dict[str, Any], claim: str
) -> tuple[tuple[str, str, str], int, int] | None:
    """(identity, used, capacity) of a PVC a host pod mounts; the vCluster side if no host copy exists."""
    namespace = str(_meta(pod).get("namespace"))
    host_pvc = world.clusters["host"].store.find("persistentvolumeclaims", claim, namespace)
    if host_pvc is not None:
        used, capacity = pvc_usage(world, "host", namespace, claim)
        return identity(world, "host", host_pvc), used, capacity
    notes = _meta(pod).get("annotations") or {}
    vname, vns = notes.get(VCLUSTER_OBJECT_NAME), notes.get(VCLUSTER_OBJECT_NAMESPACE)
    ws = next((w.name for w in world.workspaces.values() if w.host_namespace == namespace), None)
    if not (vname and vns and ws and ws in world.clusters):
        return None
    vpod = world.clusters[ws].store.find("pods", vname, vns)
    host_volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    for volume in ((vpod or {}).get("spec") or {}).get("volumes") or []:
        vclaim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        host_volume = host_volumes.get(volume.get("name")) or {}
        if vclaim and (host_volume.get("persistentVolumeClaim") or {}).get("claimName") == claim:
            try:
                used, capacity = pvc_usage(world, ws, str(vns), str(vclaim))
            except KeyError:
                return None
            return (ws, str(vns), str(vclaim)), used, capacity
    return None


def _volume_stats(
    out: Exposition, namespace: str, claim: str, node: str | None, used: int, capacity: int
) -> None:
    labels = {"cluster": "host", "namespace": namespace, "persistentvolumeclaim": claim}
    if node:
        labels["node"] = node
    out.add("kubelet_volume_stats_capacity_bytes", labels, capacity)
    out.add("kubelet_volume_stats_used_bytes", labels, used)
    out.add("kubelet_volume_stats_available_bytes", labels, max(0, capacity - used))


def _idle_volumes(world: LabWorld, out: Exposition, seen: set[tuple[str, str, str]]) -> None:
    """Bound PVCs no running pod mounts, under their host names (see the module docstring)."""
    from hks_tui.lab.controllers.vcluster import translate_name

    for cluster_name in sorted(world.clusters):
        info = world.workspaces.get(cluster_name) if cluster_name != "host" else None
        if cluster_name != "host" and info is None:
            continue
        for pvc in world.clusters[cluster_name].store.iter_objects("persistentvolumeclaims"):
            if (pvc.get("status") or {}).get("phase") != "Bound":
                continue
            ident = identity(world, cluster_name, pvc)
            if ident in seen:
                continue
            seen.add(ident)
            namespace, name = str(_meta(pvc).get("namespace")), str(_meta(pvc).get("name"))
            used, capacity = pvc_usage(world, cluster_name, namespace, name)
            if info is not None:
                namespace, name = info.host_namespace, translate_name(name, namespace, info.vcluster)
            _volume_stats(out, namespace, name, None, used, capacity)


def _kubelet(world: LabWorld, out: Exposition, counters: _Counters, now: float) -> None:
    host = world.clusters["host"]
    ready_nodes = {str(_meta(n).get("name")) for n in host.store.iter_objects("nodes") if _ready(n)}
    volumes_seen: set[tuple[str, str, str]] = set()
    for pod in host.store.iter_objects("pods"):
        meta, spec = _meta(pod), pod.get("spec") or {}
        node = str(spec.get("nodeName") or "")
        if (pod.get("status") or {}).get("phase") != "Running" or node not in ready_nodes:
            continue
        namespace, name, uid = str(meta.get("namespace")), str(meta.get("name")), str(meta.get("uid", ""))
        base = {"cluster": "host", "namespace": namespace, "pod": name, "node": node}
        for container in spec.get("containers") or []:
            cname = str(container.get("name"))
            cpu, memory = container_usage(world, "host", pod, cname)
            labels = {
                **base,
                "container": cname,
                "image": str(container.get("image", "")),
                "name": f"k8s_{cname}_{name}_{namespace}_{uid}_0",
                "id": f"/kubepods/burstable/pod{uid}/{cname}",
            }
            started = _container_started(pod, cname)
            value = counters.step(("container", uid, cname), cpu, now, started)
            out.add("container_cpu_usage_seconds_total", labels, value)
            out.add("container_memory_working_set_bytes", labels, memory)
        for volume in spec.get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            found = _pvc_for_volume(world, pod, str(claim))
            if found is None or found[0] in volumes_seen:
                continue
            volumes_seen.add(found[0])
            _volume_stats(out, namespace, str(claim), node, found[1], found[2])
    _idle_volumes(world, out, volumes_seen)


def _quantity(value: Any) -> float | None:
    try:
        return parse_quantity(value)
    except (TypeError, ValueError):
        return None


def _ksm(world: LabWorld, cluster_name: str, out: Exposition) -> None:
    store = world.clusters[cluster_name].store
    cl = {"cluster": cluster_name}
    for node in store.iter_objects("nodes"):
        name = str(_meta(node).get("name"))
        for cond in (node.get("status") or {}).get("conditions") or []:
            for label, status_text in _CONDITION_STATUSES:
                labels = {**cl, "node": name, "condition": str(cond.get("type")), "status": label}
                out.add("kube_node_status_condition", labels, 1 if cond.get("status") == status_text else 0)
    for pod in store.iter_objects("pods"):
        meta, spec, status = _meta(pod), pod.get("spec") or {}, pod.get("status") or {}
        owner: dict[str, Any] = next(iter(meta.get("ownerReferences") or []), {})
        out.add(
            "kube_pod_info",
            {
                **cl,
                "namespace": str(meta.get("namespace")),
                "pod": str(meta.get("name")),
                "uid": str(meta.get("uid", "")),
                "host_ip": str(status.get("hostIP", "")),
                "pod_ip": str(status.get("podIP", "")),
                "node": str(spec.get("nodeName", "")),
                "created_by_kind": str(owner.get("kind", "<none>")),
                "created_by_name": str(owner.get("name", "<none>")),
                "priority_class": str(spec.get("priorityClassName", "")),
                "host_network": "true" if spec.get("hostNetwork") else "false",
            },
            1,
        )
    for quota in store.iter_objects("resourcequotas"):
        meta, status = _meta(quota), quota.get("status") or {}
        base = {**cl, "namespace": str(meta.get("namespace")), "resourcequota": str(meta.get("name"))}
        for kind in ("hard", "used"):
            for resource, raw in (status.get(kind) or {}).items():
                amount = _quantity(raw)
                if amount is not None:
                    out.add("kube_resourcequota", {**base, "resource": str(resource), "type": kind}, amount)
    for pvc in store.iter_objects("persistentvolumeclaims"):
        meta = _meta(pvc)
        requested = _quantity(
            ((pvc.get("spec") or {}).get("resources") or {}).get("requests", {}).get("storage")
        )
        if requested is not None:
            labels = {
                **cl,
                "namespace": str(meta.get("namespace")),
                "persistentvolumeclaim": str(meta.get("name")),
            }
            out.add("kube_persistentvolumeclaim_resource_requests_storage_bytes", labels, requested)
    _ksm_jobs(store.iter_objects("jobs"), cl, out)
    for cronjob in store.iter_objects("cronjobs"):
        meta, status = _meta(cronjob), cronjob.get("status") or {}
        labels = {**cl, "namespace": str(meta.get("namespace")), "cronjob": str(meta.get("name"))}
        out.add("kube_cronjob_spec_suspend", labels, 1 if (cronjob.get("spec") or {}).get("suspend") else 0)
        for field_name, metric in (
            ("lastSuccessfulTime", "kube_cronjob_status_last_successful_time"),
            ("lastScheduleTime", "kube_cronjob_status_last_schedule_time"),
        ):
            ts = _ts(status.get(field_name))
            if ts is not None:
                out.add(metric, labels, ts)


def _ksm_jobs(jobs: Iterable[dict[str, Any]], cl: Labels, out: Exposition) -> None:
    for job in jobs:
        meta, status = _meta(job), job.get("status") or {}
        labels = {**cl, "namespace": str(meta.get("namespace")), "job_name": str(meta.get("name"))}
        failed = int(status.get("failed") or 0)
        reasons = [
            str(c.get("reason") or "")
            for c in status.get("conditions") or []
            if c.get("type") == "Failed" and c.get("status") == "True"
        ]
        if reasons and reasons[0]:
            out.add("kube_job_status_failed", {**labels, "reason": reasons[0]}, failed)
        else:
            out.add("kube_job_status_failed", labels, failed)
        out.add("kube_job_status_succeeded", labels, int(status.get("succeeded") or 0))
        out.add("kube_job_status_active", labels, int(status.get("active") or 0))
        owners = meta.get("ownerReferences") or []
        if not owners:
            owner = {
                **labels,
                "owner_kind": "<none>",
                "owner_name": "<none>",
                "owner_is_controller": "<none>",
            }
            out.add("kube_job_owner", owner, 1)
        for ref in owners:
            owner = {
                **labels,
                "owner_kind": str(ref.get("kind", "")),
                "owner_name": str(ref.get("name", "")),
                "owner_is_controller": "true" if ref.get("controller") else "false",
            }
            out.add("kube_job_owner", owner, 1)


def collect(world: LabWorld) -> Exposition:
    """Every series of the lab's world at the current lab time."""
    out = Exposition()
    counters = _counters(world)
    now = world.clock.now()
    if "host" in world.clusters:
        _node_exporter(world, out, counters, now)
        _kubelet(world, out, counters, now)
    for name in sorted(world.clusters):
        _ksm(world, name, out)
    counters.prune()
    return out


def render_metrics(world: LabWorld) -> str:
    return collect(world).render()


WORLD_KEY: web.AppKey[LabWorld] = web.AppKey("metrics_world")


async def get_metrics(request: web.Request) -> web.Response:
    body = render_metrics(request.app[WORLD_KEY])
    return web.Response(body=body.encode(), headers={"Content-Type": CONTENT_TYPE})


async def get_index(request: web.Request) -> web.Response:
    return web.Response(text="HKS lab metrics exporter: see /metrics\n")


def build_metrics_app(world: LabWorld) -> web.Application:
    app = web.Application()
    app[WORLD_KEY] = world
    app.router.add_get("/metrics", get_metrics)
    app.router.add_get("/", get_index)
    return app
