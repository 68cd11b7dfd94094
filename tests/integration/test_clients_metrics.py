"""MetricsClient: the Kubernetes-native fallback against the session lab, and Prometheus (the Debian
binary scraping a lab of its own) through prometheus-api-client behind the guard."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients import errors as e
from hks_tui.clients.guard import RetryPolicy, TransportGuard
from hks_tui.clients.kube import KubeClient
from hks_tui.clients.metrics import MetricsClient
from tests.conftest import require_binary


def _kube(lab: Any, guard: TransportGuard, workspace: str | None = None) -> KubeClient:
    context = lab.info["vcluster_contexts"][workspace] if workspace else lab.info["host_context"]
    return KubeClient(
        kubeconfig=Path(lab.info["kubeconfig"]),
        context=context,
        guard=guard,
        backend="vcluster" if workspace else "host",
    )


def test_kubernetes_native_fallback(lab: Any) -> None:
    guard = TransportGuard()
    metrics = MetricsClient(guard=guard)
    assert not metrics.has_prometheus
    with pytest.raises(e.HksError) as info:
        metrics.query("up")
    assert "no Prometheus URL" in str(info.value)
    dev, host = _kube(lab, guard, "dev"), _kube(lab, guard)
    quota = metrics.quota_usage(dev)
    cpu = [q for q in quota if q.resource in ("requests.cpu", "limits.cpu")]
    assert cpu and all(q.hard > 0 for q in cpu)
    assert any(0 < q.ratio < 1.5 for q in quota)
    nodes = metrics.node_usage(host)
    assert nodes and all(n.cpu >= 0 and n.memory > 0 for n in nodes)
    assert metrics.pod_usage(dev)
    summary = metrics.kubelet_summary(host, nodes[0].name)
    assert summary["node"]["nodeName"] == nodes[0].name
    for pvc in metrics.pvc_usage(host):
        assert pvc.capacity_bytes > 0 and 0 <= pvc.ratio <= 1


@pytest.fixture(scope="module")
def prom_lab() -> Iterator[Any]:
    require_binary("prometheus")
    from hks_tui.lab.server import start_lab_in_thread

    with tempfile.TemporaryDirectory(prefix="hks-prom-lab-") as state:
        running = start_lab_in_thread(state_dir=Path(state), seed="demo", time_scale=20.0, prometheus=True)
        try:
            yield running
        finally:
            running.stop()


def test_prometheus_queries_through_the_guard(prom_lab: Any) -> None:
    url = prom_lab.info["prometheus_url"]
    assert url, "the lab did not start Prometheus"
    guard = TransportGuard(readonly=True, retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01))
    metrics = MetricsClient(guard=guard, prometheus_url=url)
    assert "Ready" in metrics.ready()
    deadline = time.monotonic() + 60
    while not metrics.query('kube_resourcequota{type="hard"}'):
        assert time.monotonic() < deadline, "Prometheus never scraped the lab"
        time.sleep(0.5)
    quota = metrics.quota_usage(_kube(prom_lab, guard, "dev"))
    assert quota and all(q.hard > 0 for q in quota)
    with pytest.raises(e.InvalidError) as info:
        metrics.query("sum(rate(")
    assert "parse error" in str(info.value)
    assert guard.stats.requests[("prometheus", "GET")] >= 3
    metrics.close()
