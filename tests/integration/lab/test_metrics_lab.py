"""The seeded lab's /metrics over HTTP: the demo world as Prometheus would scrape it."""

from __future__ import annotations

import time
import urllib.request
from typing import Any

from tests.integration.lab.test_metrics import find, parse_exposition


def _scrape(lab: Any) -> tuple[str, str]:
    with urllib.request.urlopen(lab.info["metrics_url"], timeout=30) as resp:
        return resp.headers["Content-Type"], resp.read().decode()


def test_demo_world_exposition(lab: Any) -> None:
    content_type, text = _scrape(lab)
    assert content_type.startswith("text/plain; version=0.0.4")
    samples, types, _ = parse_exposition(text)

    # Shared plan: dev's quota near its CPU limit (kube-state-metrics inside the vCluster)
    cpu = {
        s[1]["type"]: s[2]
        for s in find(samples, "kube_resourcequota", cluster="dev", resource="requests.cpu")
    }
    assert cpu["hard"] > 0 and 0.6 <= cpu["used"] / cpu["hard"] <= 1.0

    # the 87 % storage volume of prod, under its host name
    used = find(
        samples, "kubelet_volume_stats_used_bytes", persistentvolumeclaim="backups-x-default-x-vc-prod"
    )
    cap = find(
        samples, "kubelet_volume_stats_capacity_bytes", persistentvolumeclaim="backups-x-default-x-vc-prod"
    )
    assert len(used) == len(cap) == 1 and used[0][1]["namespace"] == "vcluster-prod"
    assert 0.85 <= used[0][2] / cap[0][2] < 1.0

    # the backup CronJob's last run failed: the documented join finds it
    failed = {s[1]["job_name"] for s in find(samples, "kube_job_status_failed", cluster="prod") if s[2] > 0}
    owned = {
        s[1]["job_name"]
        for s in find(samples, "kube_job_owner", cluster="prod", owner_kind="CronJob")
        if s[2] == 1
    }
    assert failed & owned

    # cAdvisor series use host names and match the host's kube_pod_info
    host_pods = {(s[1]["namespace"], s[1]["pod"]) for s in find(samples, "kube_pod_info", cluster="host")}
    containers = {
        (s[1]["namespace"], s[1]["pod"]) for s in find(samples, "container_memory_working_set_bytes")
    }
    assert containers and containers <= host_pods
    assert any(ns == "vcluster-prod" and "-x-default-x-vc-prod" in pod for ns, pod in containers)
    assert all(s[2] > 0 for s in find(samples, "container_memory_working_set_bytes"))

    # node-exporter: one instance per Ready host node, memory available below total
    ready = {
        s[1]["node"]
        for s in find(samples, "kube_node_status_condition", cluster="host", condition="Ready", status="true")
        if s[2] == 1
    }
    totals = {s[1]["instance"]: s[2] for s in find(samples, "node_memory_MemTotal_bytes")}
    avail = {s[1]["instance"]: s[2] for s in find(samples, "node_memory_MemAvailable_bytes")}
    assert set(totals) == set(avail) == ready
    assert all(0 < avail[n] < totals[n] for n in ready)
    assert types["node_cpu_seconds_total"] == "counter"


def test_counters_never_go_backwards(lab: Any) -> None:
    def counters() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        samples, types, _ = parse_exposition(_scrape(lab)[1])
        return {(n, tuple(sorted(lab_.items()))): v for n, lab_, v in samples if types[n] == "counter"}

    first = counters()
    time.sleep(0.2)  # lab time moves on (time_scale 20); no clock jump in the shared lab
    second = counters()
    common = set(first) & set(second)
    assert common
    assert all(second[k] >= first[k] for k in common)
    idle = [k for k in common if k[0] == "node_cpu_seconds_total" and ("mode", "idle") in k[1]]
    assert idle and all(second[k] > first[k] for k in idle)
