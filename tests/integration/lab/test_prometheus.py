"""A real Prometheus (Debian `prometheus`) scrapes the lab's /metrics; prometheus-api-client queries it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.lab.prometheus import PrometheusProcess, start_prometheus
from tests.conftest import require_binary

DEADLINE = 90.0  # polling bound on a busy machine, not a speed assertion


@pytest.fixture(scope="module")
def prometheus(lab: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusProcess]:
    require_binary("prometheus")
    state_dir: Path = tmp_path_factory.mktemp("prom")
    proc = start_prometheus(state_dir, lab.info["metrics_url"])
    try:
        asyncio.run(proc.wait_ready(timeout=DEADLINE))
        yield proc
    finally:
        proc.stop()
    assert proc.process.poll() is not None


def _poll(query: Any, check: Any) -> Any:
    end = time.monotonic() + DEADLINE
    last: Any = None
    while time.monotonic() < end:
        last = query()
        if check(last):
            return last
        time.sleep(0.25)
    pytest.fail(f"condition never met; last result: {last!r}")


def test_prometheus_scrapes_the_lab(prometheus: PrometheusProcess, lab: Any) -> None:
    from prometheus_api_client import PrometheusConnect
    from urllib3.util.retry import Retry

    prom = PrometheusConnect(url=prometheus.url, disable_ssl=True, timeout=10, retry=Retry(total=0))
    assert prom.check_prometheus_connection()
    up = _poll(lambda: prom.custom_query('up{job="hks-lab"}'), lambda r: r and r[0]["value"][1] == "1")
    assert up[0]["metric"]["job"] == "hks-lab"

    # the Shared-plan workspace's quota, as kube-state-metrics inside the vCluster reports it
    quota = _poll(
        lambda: prom.custom_query('kube_resourcequota{cluster="dev", resource="requests.cpu"}'),
        lambda r: {s["metric"]["type"] for s in r} >= {"hard", "used"},
    )
    values = {s["metric"]["type"]: float(s["value"][1]) for s in quota}
    assert values["hard"] > 0 and 0.5 <= values["used"] / values["hard"] <= 1.0  # "near its quota"

    # the 87 % volume, through the documented ratio query (host-side names)
    ratio_query = (
        "max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_used_bytes)"
        " / max by (namespace, persistentvolumeclaim) (kubelet_volume_stats_capacity_bytes)"
    )
    ratios = _poll(
        lambda: prom.custom_query(ratio_query), lambda r: any(float(s["value"][1]) >= 0.85 for s in r)
    )
    full = [s for s in ratios if float(s["value"][1]) >= 0.85]
    assert all(float(s["value"][1]) <= 1.0 for s in ratios)
    assert all(
        "-x-" in s["metric"]["persistentvolumeclaim"] for s in full
    )  # a vCluster PVC under its host name

    # node-exporter counters (honor_labels keeps one `instance` per host node). Counters advance in lab
    # time, so over real time rate() reads time_scale × the simulated rate.
    scale = lab.world.clock.time_scale
    busy = _poll(
        lambda: prom.custom_query(
            f'1 - avg by (instance) (rate(node_cpu_seconds_total{{mode="idle"}}[5s])) / {scale}'
        ),
        lambda r: len(r) >= 1,
    )
    host_nodes = {n["metadata"]["name"] for n in lab.call(lambda: lab.world.host.store.list("nodes"))}
    assert {s["metric"]["instance"] for s in busy} <= host_nodes
    assert all(-0.05 <= float(s["value"][1]) <= 1.05 for s in busy)

    # history: a range query over the last seconds returns several points per series
    end = time.time()
    series = _poll(
        lambda: prom.custom_query_range("sum(kube_pod_info)", start_time=_dt(end - 30), end_time=_dt(time.time()),
                                        step="1s"),
        lambda r: r and len(r[0]["values"]) >= 3,
    )  # fmt: skip
    assert float(series[0]["values"][-1][1]) > 0


def _dt(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, tz=UTC)
