"""Node actions in flight from the workflow journal, and the quota history kept in SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from hks_tui.clients.errors import HksError
from hks_tui.models import StepStatus, WorkflowRecord, WorkflowStatus, WorkflowStep, utcnow
from hks_tui.services.nodes_inflight import action_label, from_store, in_flight
from hks_tui.services.nodes_model import build_rows
from hks_tui.services.usage_history import UsageHistory, step_seconds
from hks_tui.store import Store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "f.db")
    yield s
    s.close()


def journal(
    store: Store,
    wid: str,
    kind: str,
    target: str,
    done: int,
    total: int,
    status: WorkflowStatus = WorkflowStatus.RUNNING,
    workspace: str = "prod",
    error: str = "",
    age: int = 0,
) -> None:
    record = WorkflowRecord(
        id=wid,
        kind=kind,
        workspace=workspace,
        target=target,
        status=status,
        error=error,
        created_at=utcnow() - timedelta(seconds=age),
    )
    steps = [
        WorkflowStep(
            workflow_id=wid,
            index=i,
            name=f"step-{i}",
            status=StepStatus.SUCCEEDED if i < done else StepStatus.PENDING,
        )
        for i in range(total)
    ]
    store.workflows.create(record, steps)


def test_action_labels() -> None:
    assert action_label("node.provision") == "Provisioning"
    assert action_label("node.delete") == "Deleting"
    assert action_label("node.reboot") == "Rebooting"
    assert action_label("node.stop") == "Stopping"
    assert action_label("node.start") == "Starting"
    assert action_label("app.deploy") is None  # not a node workflow
    assert action_label("volume.delete") is None


def test_in_flight_from_the_journal(store: Store) -> None:
    journal(store, "wf-1", "node.provision", "prod-default-4", 3, 6)
    journal(store, "wf-2", "node.stop", "node/prod-default-1", 2, 5)
    journal(
        store, "wf-3", "node.delete", "prod-default-2", 1, 8, WorkflowStatus.PAUSED, error="PDB db blocks"
    )
    journal(store, "wf-4", "node.start", "prod-default-3", 4, 4, WorkflowStatus.SUCCEEDED)  # finished
    journal(store, "wf-5", "node.start", "dev-x", 0, 4, workspace="dev")  # other workspace
    journal(store, "wf-6", "app.deploy", "web", 1, 3)  # not a node workflow
    found = from_store(store, "prod")
    assert found == {
        "prod-default-4": "Provisioning 3/6",
        "prod-default-1": "Stopping 2/5",
        "prod-default-2": "Error: deleting stopped — PDB db blocks",
    }
    assert from_store(None, "prod") == {}
    # without the step journal there is no progress count
    records = store.workflows.list(workspace="prod", unfinished=True)
    assert in_flight(records)["prod-default-1"] == "Stopping"


def test_a_stop_in_its_drain_step_shows_draining(store: Store) -> None:
    record = WorkflowRecord(id="wf-d", kind="node.stop", workspace="prod", target="n2")
    names = ["cordon", "drain", "shutdown", "wait-notready"]
    steps = [
        WorkflowStep(
            workflow_id="wf-d",
            index=i,
            name=n,
            status=StepStatus.SUCCEEDED if i == 0 else StepStatus.PENDING,
        )
        for i, n in enumerate(names)
    ]
    store.workflows.create(record, steps)
    assert from_store(store, "prod") == {"n2": "Draining 1/4"}


def test_newest_workflow_per_node_wins(store: Store) -> None:
    journal(store, "old", "node.stop", "n1", 5, 5, WorkflowStatus.PAUSED, age=60)
    journal(store, "new", "node.start", "n1", 1, 4)
    assert from_store(store, "prod") == {"n1": "Starting 1/4"}


def test_in_flight_rows_override_status_and_add_placeholders() -> None:
    vm = {
        "type": "qemu",
        "vmid": 5,
        "name": "n1",
        "node": "pve1",
        "status": "running",
        "tags": "hks-managed;hks-ws-prod",
    }
    rows = build_rows("prod", [vm], [], in_flight={"n1": "Stopping 2/5", "n9": "Provisioning 1/6"})
    assert [(r.name, r.status, r.vmid) for r in rows] == [
        ("n1", "Stopping 2/5", 5),
        ("n9", "Provisioning 1/6", None),
    ]


def test_sqlite_history_records_reads_and_prunes(store: Store) -> None:
    history = UsageHistory(None, None, store, retention=timedelta(hours=2))  # type: ignore[arg-type]
    assert not history.has_prometheus
    now = utcnow()
    old = now - timedelta(hours=3)
    history.prune_every = timedelta(days=1)
    assert history.record("dev", [("cpu", 3.0, 4.0), ("pods", 5, 20)], plan="shared", ts=old) == 2
    history.record("dev", [("cpu", 3.2, 4.0)], ts=now - timedelta(minutes=10))
    history.record("prod", [("cpu", 1.0, 12.0)], ts=now - timedelta(minutes=5))
    found = history.history_sync("dev", "cpu", timedelta(hours=4), end=now)
    assert found.source == "sqlite" and found.note == ""
    assert [(p.ratio, p.used, p.hard) for p in found.points] == [
        (0.75, 3.0, 4.0),
        (pytest.approx(0.8), 3.2, 4.0),
    ]
    assert [p.ratio for p in history.history_sync("dev", "cpu", timedelta(hours=1), end=now).points] == [
        pytest.approx(0.8)
    ]
    history.prune_every = timedelta(0)
    history.record("dev", [("cpu", 3.6, 4.0)], ts=now)  # prunes what is older than the retention
    points = history.history_sync("dev", "cpu", timedelta(hours=4), end=now).points
    assert [p.used for p in points] == [3.2, 3.6]
    assert [p.used for p in history.history_sync("prod", "cpu", timedelta(hours=4), end=now).points] == [1.0]
    with pytest.raises(HksError):
        history.history_sync("dev", "gpu")
    assert UsageHistory(None, None, None).record("dev", [("cpu", 1, 2)]) == 0  # type: ignore[arg-type]


def test_step_seconds() -> None:
    assert step_seconds(timedelta(minutes=5)) == 15
    assert step_seconds(timedelta(hours=6)) == 180
