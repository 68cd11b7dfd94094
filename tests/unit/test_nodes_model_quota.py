"""Quota gauges, dedicated aggregates and the one-alert-per-crossing logic (with a real SQLite store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hks_tui.models import Plan
from hks_tui.services.nodes_model import GIB, NodeRow
from hks_tui.services.quota import (
    QuotaGauge,
    QuotaService,
    QuotaThresholds,
    dedicated_gauges,
    shared_gauges,
    summarize,
)
from hks_tui.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "q.db")
    yield s
    s.close()


def service(store: Any) -> QuotaService:
    # evaluate() needs only the store and the thresholds
    return QuotaService(None, None, None, store)  # type: ignore[arg-type]


def cpu(used: float, hard: float = 4.0) -> list[QuotaGauge]:
    return [QuotaGauge(resource="cpu", used=used, hard=hard, unit="cores")]


def test_thresholds_validate_and_classify() -> None:
    t = QuotaThresholds()
    assert (t.level(0.79), t.level(3.2 / 4), t.level(0.95), t.level(1.2)) == (
        "ok",
        "warning",
        "critical",
        "critical",
    )
    with pytest.raises(ValidationError):
        QuotaThresholds(warning=0.9, critical=0.8)


def test_one_alert_per_crossing_with_escalation_and_hysteresis(store: Store) -> None:
    svc = service(store)
    first = svc.evaluate("dev", cpu(3.2))
    assert [(c.resource, c.severity) for c in first] == [("cpu", "warning")]
    assert "80%" in first[0].message and "dedicated node" in first[0].message
    assert svc.evaluate("dev", cpu(3.3)) == []  # still above: no second notification
    assert len(store.alerts.list("dev")) == 1
    up = svc.evaluate("dev", cpu(3.9))
    assert [c.severity for c in up] == ["critical"]
    alerts = store.alerts.list("dev")
    assert len(alerts) == 1 and alerts[0].severity == "critical" and alerts[0].fingerprint == "quota:dev:cpu"
    assert svc.evaluate("dev", cpu(3.7)) == []  # 92.5 %: inside the hysteresis band, stays critical
    assert store.alerts.list("dev")[0].severity == "critical"
    assert svc.evaluate("dev", cpu(3.4)) == []  # 85 %: back to warning without a new notification
    assert store.alerts.list("dev")[0].severity == "warning"
    assert svc.evaluate("dev", cpu(3.1)) == []  # 77.5 %: within hysteresis, still firing
    assert store.alerts.list("dev", active_only=True)
    assert svc.evaluate("dev", cpu(2.9)) == []  # 72.5 %: resolved
    assert store.alerts.list("dev", active_only=True) == []
    again = svc.evaluate("dev", cpu(3.3))  # a new crossing → a new alert and one notification
    assert [c.severity for c in again] == ["warning"]
    assert len(store.alerts.list("dev")) == 2 and len(store.alerts.list("dev", active_only=True)) == 1


def test_acknowledged_alert_is_not_renotified_and_other_workspaces_are_separate(store: Store) -> None:
    svc = service(store)
    [crossing] = svc.evaluate("dev", cpu(3.3))
    assert crossing.alert_id is not None
    store.alerts.set_state(crossing.alert_id, "acknowledged")
    assert svc.evaluate("dev", cpu(3.3)) == []
    assert [c.workspace for c in svc.evaluate("qa", cpu(3.3))] == ["qa"]
    # a second console sharing the database does not notify again either
    assert service(store).evaluate("dev", cpu(3.3)) == []


def test_configurable_thresholds_and_no_store(store: Store) -> None:
    svc = QuotaService(None, None, None, None)  # type: ignore[arg-type]
    svc.set_thresholds(0.5, 0.6)
    assert [c.severity for c in svc.evaluate("dev", cpu(2.2))] == ["warning"]
    assert svc.evaluate("dev", cpu(2.2)) == []
    assert [c.severity for c in svc.evaluate("dev", cpu(2.5))] == ["critical"]
    assert svc.evaluate("dev", cpu(1.0)) == [] and svc._levels == {}
    assert svc.evaluate("dev", [QuotaGauge(resource="pods", used=3, hard=0, unit="pods")]) == []


def test_shared_gauges_from_resource_quotas() -> None:
    quota = {
        "metadata": {"name": "hks-quota", "namespace": "default"},
        "spec": {"hard": {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "20"}},
        "status": {
            "hard": {"requests.cpu": "4", "requests.memory": "8Gi", "pods": "20"},
            "used": {"requests.cpu": "3200m", "requests.memory": "2560Mi", "pods": "7"},
        },
    }
    other = {"metadata": {"name": "q2", "namespace": "apps"}, "spec": {"hard": {"cpu": "2"}}, "status": {}}
    gauges = {g.resource: g for g in shared_gauges([quota, other])}
    assert gauges["cpu"].hard == 6.0 and gauges["cpu"].used == pytest.approx(3.2)
    assert gauges["memory"].ratio == pytest.approx(2560 / 8192)
    assert gauges["pods"].percent == pytest.approx(35.0)
    assert shared_gauges([]) == []


def row(name: str, status: str, ready: bool | None, **kw: Any) -> NodeRow:
    base: dict[str, Any] = {
        "vcpu": 4,
        "ram_bytes": 8 * GIB,
        "disk_bytes": 40 * GIB,
        "cpu_allocatable": 4.0,
        "mem_allocatable": float(8 * GIB),
        "pods_capacity": 110,
        "monthly_cost": 80.0,
    }
    return NodeRow(name=name, status=status, ready=ready, **(base | kw))


def test_dedicated_summary_and_gauges() -> None:
    rows = [
        row(
            "a",
            "Running · Ready",
            True,
            pods=3,
            cpu_requests=1.5,
            mem_requests=GIB,
            cpu_usage=0.5,
            mem_usage=2.0 * GIB,
        ),
        row("b", "Running · Ready", True, pods=1, cpu_requests=0.5, mem_requests=GIB, cpu_usage=0.25),
        row("c", "Stopped · NotReady", False, pods=0),
        row("d", "Not joined", None, monthly_cost=None),
    ]
    s = summarize("prod", rows)
    assert s.by_status == {"Running · Ready": 2, "Stopped · NotReady": 1, "Not joined": 1}
    assert s.cpu_capacity == 8.0 and s.cpu_requests == 2.0 and s.cpu_usage == pytest.approx(0.75)
    assert s.mem_capacity == 16 * GIB and s.mem_usage == 2.0 * GIB
    assert (s.pods, s.pods_capacity) == (4, 220)
    assert s.disk_capacity == 160 * GIB
    assert s.monthly_cost == 240.0 and s.unpriced == 1
    gauges = {g.resource: g for g in dedicated_gauges(s)}
    assert gauges["cpu"].ratio == pytest.approx(0.25) and gauges["pods"].hard == 220
    empty = summarize("prod", [])
    assert empty.cpu_usage is None and empty.monthly_cost == 0 and dedicated_gauges(empty)[0].ratio == 0.0


def test_messages_name_the_plan(store: Store) -> None:
    svc = service(store)
    [c] = svc.evaluate(
        "prod", [QuotaGauge(resource="memory", used=7 * GIB, hard=8 * GIB, unit="bytes")], Plan.DEDICATED
    )
    assert "capacity (7.0 GiB of 8.0 GiB)" in c.message
