"""QuotaService against the lab: dev's Shared-plan quota near its CPU limit raises one warning (not one per
refresh) and resolves when usage falls; history from the console's SQLite samples (and from a real
Prometheus when installed); prod's Dedicated-plan aggregates."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hks_tui.config import profile_from_lab
from hks_tui.lab.server import start_lab_in_thread
from hks_tui.models import Plan
from hks_tui.services import Services
from hks_tui.services.workspaces import refs_from_lab
from hks_tui.store import Store
from tests.conftest import require_binary

WAIT = 30.0
GIB = 2**30


class Env:
    def __init__(self, root: Path, *, prometheus: bool = False) -> None:
        self.lab = start_lab_in_thread(root / "lab", seed="demo", time_scale=20.0, prometheus=prometheus)
        self.store = Store.open(root / "s.db")
        self.services = Services.build(
            profile=profile_from_lab(self.lab.info, "dev"),
            store=self.store,
            workspaces=refs_from_lab(self.lab.info),
        )

    def close(self) -> None:
        self.services.close()
        self.store.close()
        self.lab.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    e = Env(tmp_path_factory.mktemp("quota"))
    yield e
    e.close()


def test_dedicated_aggregates_for_prod(env: Env) -> None:
    snap = env.services.quota.refresh_sync("prod")
    assert snap.plan == Plan.DEDICATED and snap.dedicated is not None
    d = snap.dedicated
    assert d.by_status == {"Running · Ready": 3} and len(d.nodes) == 3
    assert d.cpu_capacity == 12.0 and d.mem_capacity == 24 * GIB and d.pods_capacity == 330
    assert d.disk_capacity == 120 * GIB
    assert d.monthly_cost == 240.0 and d.unpriced == 0
    assert 0 < d.cpu_requests <= d.cpu_capacity and 0 < d.mem_requests <= d.mem_capacity
    assert d.pods == sum(r.pods for r in d.nodes) > 0
    assert d.cpu_usage is not None and 0 < d.cpu_usage < 12
    assert {g.resource for g in snap.gauges} == {"cpu", "memory", "pods"}
    assert snap.crossings == [] and all(g.level == "ok" for g in snap.gauges)


async def test_dev_near_cpu_quota_warns_once_and_keeps_history(env: Env) -> None:
    quota = env.services.quota
    first = await quota.refresh("dev")
    assert first.plan == Plan.SHARED and first.dedicated is None
    assert first.quotas == ["default/hks-quota"]
    gauges = {g.resource: g for g in first.gauges}
    assert gauges["cpu"].hard == 4.0 and gauges["cpu"].used == pytest.approx(3.2)
    assert gauges["cpu"].level == "warning" and round(gauges["cpu"].percent) == 80
    assert gauges["memory"].hard == 8 * GIB and gauges["memory"].level == "ok"
    assert gauges["pods"].hard == 20 and 0 < gauges["pods"].used < 20
    assert [(c.resource, c.severity) for c in first.crossings] == [("cpu", "warning")]
    assert first.starting_price == 40.0  # the upgrade call-to-action's "from" price
    second = await quota.refresh("dev", Plan.SHARED)
    assert second.crossings == []
    alerts = env.store.alerts.list("dev", active_only=True)
    assert [(a.kind, a.target, a.severity) for a in alerts] == [("quota", "dev/cpu", "warning")]
    history = await quota.history("dev", "cpu", timedelta(minutes=5))
    assert history.source == "sqlite" and len(history.points) >= 2
    assert all(p.ratio == pytest.approx(0.8) and p.hard == 4.0 for p in history.points)
    assert history.points == sorted(history.points, key=lambda p: p.ts)
    mem = await quota.history("dev", "memory", timedelta(minutes=5))
    assert len(mem.points) >= 2 and all(p.ratio < 0.8 for p in mem.points)


def test_stricter_thresholds_and_resolution_when_usage_falls(tmp_path: Path) -> None:
    e = Env(tmp_path)
    try:
        quota = e.services.quota
        quota.set_thresholds(0.3, 0.79)
        snap = quota.refresh_sync("dev", Plan.SHARED)
        assert {c.resource: c.severity for c in snap.crossings} == {
            "cpu": "critical",
            "memory": "warning",
            "pods": "warning",
        }
        quota.set_thresholds(0.80, 0.95)
        vc = e.services.clients.vcluster
        vc.call(vc.apps.patch_namespaced_deployment_scale, "web", "default", {"spec": {"replicas": 1}})
        deadline = time.monotonic() + WAIT
        while True:  # the lab's quota controller recomputes status.used on its next pass
            snap = quota.refresh_sync("dev", Plan.SHARED)
            cpu = next(g for g in snap.gauges if g.resource == "cpu")
            if cpu.used < 3.0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert cpu.used == pytest.approx(2.2) and cpu.level == "ok"
        assert snap.crossings == []
        assert e.store.alerts.list("dev", active_only=True) == []  # all three resolved (below 75 %)
        assert len(e.store.alerts.list("dev")) == 3
    finally:
        e.close()


def test_history_from_prometheus_when_configured(tmp_path: Path) -> None:
    require_binary("prometheus")
    e = Env(tmp_path, prometheus=True)
    try:
        assert e.lab.info["prometheus_url"]
        history = e.services.quota.history_source
        deadline = time.monotonic() + WAIT
        while True:  # until Prometheus has scraped the lab at least once
            found = history.history_sync("dev", "cpu", timedelta(minutes=2))
            if found.source == "prometheus" or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert found.source == "prometheus" and found.note == ""
        assert found.points and found.points[-1].ratio == pytest.approx(0.8)
        assert found.points[-1].hard == 4.0
    finally:
        e.close()
