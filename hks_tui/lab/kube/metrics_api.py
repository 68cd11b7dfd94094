"""``metrics.k8s.io/v1beta1`` (NodeMetrics, PodMetrics) and the kubelet Summary API served through
``/api/v1/nodes/{name}/proxy/stats/summary`` — both built from :mod:`hks_tui.lab.usage`."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from hks_tui.lab.kube.errors import ApiError, method_not_allowed, not_found
from hks_tui.lab.kube.httputil import Ctx, json_response
from hks_tui.lab.kube.resources import METRICS_GROUP, METRICS_VERSION
from hks_tui.lab.kube.tables import parse_time

WINDOW = "20.036s"
API_VERSION = f"{METRICS_GROUP}/{METRICS_VERSION}"


def cpu_quantity(cores: float) -> str:
    return f"{round(cores * 1e9)}n"


def memory_quantity(num_bytes: int) -> str:
    return f"{int(num_bytes) // 1024}Ki"


def _meta(obj: dict[str, Any], now: str) -> dict[str, Any]:
    meta = {"name": obj["metadata"]["name"], "creationTimestamp": now}
    if obj["metadata"].get("namespace"):
        meta["namespace"] = obj["metadata"]["namespace"]
    if obj["metadata"].get("labels"):
        meta["labels"] = dict(obj["metadata"]["labels"])
    return meta


def node_metrics(ctx: Ctx, node: dict[str, Any]) -> dict[str, Any]:
    from hks_tui.lab import usage

    cpu, memory = usage.node_usage(ctx.world, ctx.cluster_name, node)
    now = ctx.cluster.clock.iso()
    return {
        "kind": "NodeMetrics",
        "apiVersion": API_VERSION,
        "metadata": _meta(node, now),
        "timestamp": now,
        "window": WINDOW,
        "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)},
    }


def pod_metrics(ctx: Ctx, pod: dict[str, Any]) -> dict[str, Any]:
    from hks_tui.lab import usage

    now = ctx.cluster.clock.iso()
    containers = []
    for spec in (pod.get("spec") or {}).get("containers") or []:
        cpu, memory = usage.container_usage(ctx.world, ctx.cluster_name, pod, spec["name"])
        containers.append(
            {"name": spec["name"], "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)}}
        )
    return {
        "kind": "PodMetrics",
        "apiVersion": API_VERSION,
        "metadata": _meta(pod, now),
        "timestamp": now,
        "window": WINDOW,
        "containers": containers,
    }


def _running(pod: dict[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running"


async def serve_metrics(ctx: Ctx, plural: str, namespace: str | None, name: str | None) -> web.StreamResponse:
    if ctx.request.method != "GET":
        raise method_not_allowed(ctx.request.method)
    store = ctx.cluster.store
    labels = ctx.query.get("labelSelector")
    fields = ctx.query.get("fieldSelector")
    if plural == "nodes":
        if name:
            node = store.find("nodes", name)
            if node is None:
                raise not_found("nodes.metrics.k8s.io", name)
            return json_response(node_metrics(ctx, node))
        items = [node_metrics(ctx, n) for n in store.iter_objects("nodes", None, labels, fields)]
        return json_response(
            {"kind": "NodeMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}
        )
    if plural == "pods":
        if name:
            pod = store.find("pods", name, namespace)
            if pod is None or not _running(pod):
                raise not_found("pods.metrics.k8s.io", name)
            return json_response(pod_metrics(ctx, pod))
        items = [
            pod_metrics(ctx, p) for p in store.iter_objects("pods", namespace, labels, fields) if _running(p)
        ]
        return json_response(
            {"kind": "PodMetricsList", "apiVersion": API_VERSION, "metadata": {}, "items": items}
        )
    raise ApiError(404, "NotFound", "the server could not find the requested resource", {})


def _cpu_stats(cores: float, start: float, now: float, iso: str) -> dict[str, Any]:
    return {
        "time": iso,
        "usageNanoCores": int(cores * 1e9),
        "usageCoreNanoSeconds": int(cores * 1e9 * max(0.0, now - start)),
    }


def _memory_stats(num_bytes: int, capacity: int, iso: str) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "time": iso,
        "usageBytes": int(num_bytes * 1.15),
        "workingSetBytes": num_bytes,
        "rssBytes": int(num_bytes * 0.9),
        "pageFaults": 0,
        "majorPageFaults": 0,
    }
    if capacity:
        stats["availableBytes"] = max(0, capacity - num_bytes)
    return stats


def _ts(value: str | None, default: float) -> float:
    return parse_time(value) or default


async def stats_summary(ctx: Ctx, node_name: str) -> web.StreamResponse:
    """The kubelet ``/stats/summary`` document for one node, reached through the nodes proxy."""
    from hks_tui.lab import usage

    if ctx.request.method != "GET":
        raise method_not_allowed(ctx.request.method)
    store = ctx.cluster.store
    node = store.find("nodes", node_name)
    if node is None:
        raise not_found("nodes", node_name)
    clock = ctx.cluster.clock
    now, iso = clock.now(), clock.iso()
    node_start = _ts(node["metadata"].get("creationTimestamp"), now)
    _, mem_total = usage.node_capacity(node)
    cpu, memory = usage.node_usage(ctx.world, ctx.cluster_name, node)
    fs_capacity = 40 * 2**30
    fs_used = int(fs_capacity * 0.31)
    fs = {
        "time": iso,
        "availableBytes": fs_capacity - fs_used,
        "capacityBytes": fs_capacity,
        "usedBytes": fs_used,
        "inodesFree": 2_400_000,
        "inodes": 2_621_440,
        "inodesUsed": 221_440,
    }
    pods_out = []
    for pod in store.iter_objects("pods", None, None, f"spec.nodeName={node_name}"):
        if not _running(pod):
            continue
        meta = pod["metadata"]
        start = _ts((pod.get("status") or {}).get("startTime"), now)
        containers = []
        for spec in (pod.get("spec") or {}).get("containers") or []:
            c_cpu, c_mem = usage.container_usage(ctx.world, ctx.cluster_name, pod, spec["name"])
            containers.append(
                {
                    "name": spec["name"],
                    "startTime": clock.iso(start),
                    "cpu": _cpu_stats(c_cpu, start, now, iso),
                    "memory": _memory_stats(c_mem, 0, iso),
                }
            )
        p_cpu, p_mem = usage.pod_usage(ctx.world, ctx.cluster_name, pod)
        volumes = []
        for vol in (pod.get("spec") or {}).get("volumes") or []:
            claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
            if not claim:
                continue
            try:
                used, capacity = usage.pvc_usage(
                    ctx.world, ctx.cluster_name, meta.get("namespace", ""), claim
                )
            except KeyError:
                continue
            volumes.append(
                {
                    "time": iso,
                    "availableBytes": capacity - used,
                    "capacityBytes": capacity,
                    "usedBytes": used,
                    "inodesFree": max(0, capacity // 4096 - used // 4096),
                    "inodes": capacity // 4096,
                    "inodesUsed": used // 4096,
                    "name": vol["name"],
                    "pvcRef": {"name": claim, "namespace": meta.get("namespace", "")},
                }
            )
        pods_out.append(
            {
                "podRef": {"name": meta["name"], "namespace": meta.get("namespace", ""), "uid": meta["uid"]},
                "startTime": clock.iso(start),
                "containers": containers,
                "cpu": _cpu_stats(p_cpu, start, now, iso),
                "memory": _memory_stats(p_mem, 0, iso),
                "volume": volumes,
            }
        )
    summary = {
        "node": {
            "nodeName": node_name,
            "startTime": clock.iso(node_start),
            "cpu": _cpu_stats(cpu, node_start, now, iso),
            "memory": _memory_stats(memory, mem_total, iso),
            "fs": fs,
            "runtime": {"imageFs": dict(fs), "containerFs": dict(fs)},
            "rlimit": {"time": iso, "maxpid": 4194304, "curproc": 200 + 12 * len(pods_out)},
        },
        "pods": pods_out,
    }
    return json_response(summary)
