"""The SQLite store: pragmas, migrations, repositories, append-only audit, and clear errors."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hks_tui.models import (
    DEFAULT_CATALOG,
    Alert,
    AuditEntry,
    BillingLine,
    ChatMessage,
    InstanceType,
    MetricSample,
    Plan,
    StepStatus,
    WorkflowRecord,
    WorkflowStatus,
    WorkflowStep,
    Workspace,
)
from hks_tui.store import LATEST_VERSION, Store, StoreError
from hks_tui.store.migrations import MIGRATIONS

CANARY = "canary-store-secret-9876543210"
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "data" / "hks.db")
    yield s
    s.close()


def test_open_creates_dir_and_sets_pragmas(store: Store, tmp_path: Path) -> None:
    assert (tmp_path / "data" / "hks.db").is_file()
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("busy_timeout") >= 5000
    assert store.pragma("synchronous") == 2  # FULL
    assert store.pragma("foreign_keys") == 1
    assert store.schema_version == LATEST_VERSION


def test_migrations_from_empty_and_idempotent_reopen(tmp_path: Path) -> None:
    path = tmp_path / "hks.db"
    with Store.open(path) as first:
        tables = {r["name"] for r in first.query("SELECT name FROM sqlite_master WHERE type = 'table'")}
        first.audit.append(AuditEntry(action="vm.start", target="qemu/101"))
    for expected in (
        "workspaces",
        "instance_types",
        "prices",
        "workflows",
        "workflow_steps",
        "billing_lines",
        "alerts",
        "chat_messages",
        "audit",
        "metric_samples",
        "schema_version",
    ):
        assert expected in tables
    for _ in range(2):
        with Store.open(path) as again:
            assert again.schema_version == LATEST_VERSION
            rows = again.query("SELECT version FROM schema_version ORDER BY version")
            assert [r["version"] for r in rows] == [v for v, _, _ in MIGRATIONS]
            assert again.audit.count() == 1
            assert again.integrity_check() == "ok"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hks.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO schema_version VALUES (999, 'future', '2030-01-01')")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="schema version 999, newer"):
        Store.open(path)


def test_corrupt_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "hks.db"
    path.write_bytes(b"this is not sqlite at all\n" * 200)
    with pytest.raises(StoreError) as info:
        Store.open(path)
    message = str(info.value)
    assert "corrupt or not an SQLite database" in message and str(path) in message and "mv " in message


def test_truncated_database_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "hks.db"
    with Store.open(path) as s:
        for i in range(200):
            s.audit.append(AuditEntry(action="a", target=f"t{i}", detail="x" * 200))
    data = path.read_bytes()
    path.write_bytes(data[:100] + b"\x00" * 50 + data[150:4096])
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    with pytest.raises(StoreError, match="corrupt"):
        Store.open(path)


def test_unwritable_dir_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the data directory"):
        Store.open(blocker / "sub" / "hks.db")
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError, match="not a file"):
        Store.open(tmp_path / "dir.db")


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_dir_is_a_store_error(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(StoreError, match="permission denied"):
            Store.open(ro / "hks.db")
    finally:
        ro.chmod(0o700)


def test_closed_store_refuses(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "hks.db")
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.audit.list()


def test_write_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError), store.write() as db:
        db.execute("INSERT INTO prices (key, value) VALUES ('x', 1)")
        raise RuntimeError("boom")
    assert store.instance_types.get_price("x") is None
    with store.write() as db, store.write() as inner:  # nested joins the outer transaction
        assert inner is db
        db.execute("INSERT INTO prices (key, value) VALUES ('y', 2)")
    assert store.instance_types.get_price("y") == 2.0


def test_audit_append_only_redacted_and_filtered(store: Store) -> None:
    ids = [
        store.audit.append(
            AuditEntry(
                ts=T0,
                actor="alice",
                profile="prod",
                action="vm.clone",
                target="qemu/101",
                params={"name": "prod-m-1", "token_secret": CANARY},
                outcome="started",
            )
        ),
        store.audit.append(
            AuditEntry(
                ts=T0 + timedelta(seconds=5),
                actor="alice",
                profile="prod",
                action="vm.clone",
                target="qemu/101",
                outcome="ok",
                upid="UPID:pve1:0001:0002:00000003:qmclone:101:hks@pve!console:",
            )
        ),
        store.audit.append(
            AuditEntry(
                ts=T0 + timedelta(hours=1),
                action="node.drain",
                target="node/prod-m-1",
                outcome="error",
                detail="evictions blocked by a PDB",
            )
        ),
    ]
    assert ids == sorted(ids) and len(set(ids)) == 3
    rows = store.audit.list()
    assert [r.id for r in rows] == ids[::-1]  # newest first
    assert rows[2].params == {"name": "prod-m-1", "token_secret": "****"}
    assert rows[1].upid and rows[1].upid.startswith("UPID:pve1")
    assert rows[2].ts == T0
    dump = "\n".join(str(r) for r in store.query("SELECT * FROM audit"))
    assert CANARY not in dump
    assert [r.id for r in store.audit.list(action="vm.*")] == ids[1::-1]
    assert [r.id for r in store.audit.list(action="vm")] == []
    assert [r.id for r in store.audit.list(target="prod-m")] == [ids[2]]
    assert [r.id for r in store.audit.list(since=T0 + timedelta(minutes=1))] == [ids[2]]
    assert [r.id for r in store.audit.list(outcome="ok")] == [ids[1]]
    assert len(store.audit.list(limit=1)) == 1
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.write() as db:
        db.execute("UPDATE audit SET outcome = 'ok'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.write() as db:
        db.execute("DELETE FROM audit")
    assert store.audit.count() == 3


def test_workspaces_and_catalog(store: Store) -> None:
    store.workspaces.upsert(
        Workspace(name="prod", org="acme", plan=Plan.DEDICATED, host_context="h", vcluster_context="v")
    )
    store.workspaces.upsert(Workspace(name="dev", org="acme"))
    store.workspaces.upsert(Workspace(name="prod", org="acme", plan=Plan.SHARED, host_context="h2"))
    assert [w.name for w in store.workspaces.list()] == ["dev", "prod"]
    prod = store.workspaces.get("prod")
    assert prod is not None and prod.plan is Plan.SHARED and prod.host_context == "h2"
    assert store.workspaces.get("nope") is None
    assert store.workspaces.delete("dev") and not store.workspaces.delete("dev")

    store.instance_types.replace_all(DEFAULT_CATALOG)
    assert [t.name for t in store.instance_types.list()] == ["S", "M", "L", "XL"]
    store.instance_types.upsert(
        InstanceType(name="XXL", vcpu=32, ram_gib=64, disk_gib=640, monthly_price=640)
    )
    store.instance_types.upsert(InstanceType(name="S", vcpu=2, ram_gib=4, disk_gib=40, monthly_price=45))
    assert [t.name for t in store.instance_types.list()] == ["S", "M", "L", "XL", "XXL"]
    s = store.instance_types.get("S")
    assert s is not None and s.monthly_price == 45
    assert store.instance_types.storage_price() is None
    store.instance_types.set_storage_price(0.12)
    assert store.instance_types.storage_price() == 0.12


def test_workflow_journal_and_lease(store: Store) -> None:
    repo = store.workflows
    record = WorkflowRecord(
        id="wf-1",
        kind="provision_node",
        workspace="prod",
        target="prod-m-1",
        params={"type": "M"},
        created_at=T0,
        updated_at=T0,
    )
    repo.create(
        record,
        [
            WorkflowStep(workflow_id="wf-1", index=i, name=n)
            for i, n in enumerate(["clone", "configure", "start", "join"])
        ],
    )
    with pytest.raises(sqlite3.IntegrityError):
        repo.create(record)
    assert [s.name for s in repo.steps("wf-1")] == ["clone", "configure", "start", "join"]
    repo.save_step(
        WorkflowStep(
            workflow_id="wf-1",
            index=0,
            name="clone",
            status=StepStatus.SUCCEEDED,
            attempts=1,
            started_at=T0,
            finished_at=T0,
            upid="UPID:x",
            result={"vmid": 101},
        )
    )
    first = repo.steps("wf-1")[0]
    assert first.status is StepStatus.SUCCEEDED and first.result == {"vmid": 101} and first.upid == "UPID:x"
    repo.set_status("wf-1", WorkflowStatus.RUNNING)
    got = repo.get("wf-1")
    assert got is not None and got.status is WorkflowStatus.RUNNING and got.params == {"type": "M"}
    with pytest.raises(KeyError):
        repo.set_status("nope", "failed")

    ttl = timedelta(seconds=30)
    assert repo.acquire_lease("wf-1", "proc-a", ttl, now=T0)
    assert not repo.acquire_lease("wf-1", "proc-b", ttl, now=T0 + timedelta(seconds=10))
    assert repo.acquire_lease("wf-1", "proc-a", ttl, now=T0 + timedelta(seconds=10))  # renew by re-acquire
    assert repo.renew_lease("wf-1", "proc-a", ttl, now=T0 + timedelta(seconds=20))
    assert not repo.renew_lease("wf-1", "proc-b", ttl, now=T0 + timedelta(seconds=20))
    assert repo.acquire_lease("wf-1", "proc-b", ttl, now=T0 + timedelta(seconds=51))  # expired: taken over
    assert not repo.renew_lease("wf-1", "proc-a", ttl, now=T0 + timedelta(seconds=52))
    assert not repo.release_lease("wf-1", "proc-a") and repo.release_lease("wf-1", "proc-b")
    assert repo.acquire_lease("wf-1", "proc-c", ttl, now=T0 + timedelta(seconds=53))

    repo.create(
        WorkflowRecord(
            id="wf-2",
            kind="delete_node",
            workspace="dev",
            status=WorkflowStatus.SUCCEEDED,
            created_at=T0 + timedelta(seconds=1),
        )
    )
    assert [w.id for w in repo.list()] == ["wf-2", "wf-1"]
    assert [w.id for w in repo.list(unfinished=True)] == ["wf-1"]
    assert [w.id for w in repo.list(workspace="dev")] == ["wf-2"]
    repo.delete("wf-1")
    assert repo.get("wf-1") is None and repo.steps("wf-1") == []


def test_billing_alerts_chat_metrics(store: Store) -> None:
    line = BillingLine(
        workspace="prod",
        period_start=T0,
        period_end=T0 + timedelta(days=30),
        item="node prod-m-1",
        kind="instance",
        quantity=1,
        unit="month",
        unit_price=80,
        amount=80,
        ref="101",
    )
    store.billing.add(line)
    store.billing.add(
        line.model_copy(
            update={
                "item": "volume data",
                "kind": "storage",
                "quantity": 100,
                "unit": "GiB-month",
                "unit_price": 0.1,
                "amount": 10.0,
            }
        )
    )
    assert [b.item for b in store.billing.list("prod")] == ["node prod-m-1", "volume data"]
    assert store.billing.total("prod") == 90.0 and store.billing.list("dev") == []

    a1 = store.alerts.raise_alert(
        Alert(
            workspace="prod",
            severity="warning",
            kind="pvc_usage",
            target="db/data",
            message="87% used",
            fingerprint="pvc:prod/db/data",
        )
    )
    a2 = store.alerts.raise_alert(
        Alert(
            workspace="prod",
            severity="critical",
            kind="pvc_usage",
            target="db/data",
            message="96% used",
            fingerprint="pvc:prod/db/data",
        )
    )
    assert a1 == a2  # deduplicated while firing
    alert = store.alerts.get(a1)
    assert alert is not None and alert.severity == "critical" and alert.message == "96% used"
    store.alerts.set_state(a1, "acknowledged")
    acked = store.alerts.get(a1)
    assert acked is not None and acked.state == "acknowledged" and acked.acknowledged_at is not None
    assert store.alerts.resolve_fingerprint("pvc:prod/db/data") == 1
    assert store.alerts.list(active_only=True) == []
    a3 = store.alerts.raise_alert(Alert(workspace="prod", fingerprint="pvc:prod/db/data", message="again"))
    assert a3 != a1 and [a.id for a in store.alerts.list(workspace="prod")] == [a3, a1]

    for i in range(5):
        store.chat.add(
            ChatMessage(
                workspace="prod",
                role="user" if i % 2 == 0 else "agent",
                text=f"m{i}",
                action={"kind": "expand", "gib": 10} if i == 3 else None,
            )
        )
    msgs = store.chat.list("prod", limit=3)
    assert [m.text for m in msgs] == ["m2", "m3", "m4"] and msgs[1].action == {"kind": "expand", "gib": 10}

    samples = [
        MetricSample(
            ts=T0 + timedelta(minutes=i),
            workspace="prod",
            metric="pvc_used_ratio",
            target="db/data",
            value=0.8 + i / 100,
            labels={"ns": "db"},
        )
        for i in range(10)
    ]
    assert store.metric_samples.add_many(samples) == 10 and store.metric_samples.add_many([]) == 0
    series = store.metric_samples.series("pvc_used_ratio", "db/data", since=T0 + timedelta(minutes=5))
    assert [round(s.value, 2) for s in series] == [0.85, 0.86, 0.87, 0.88, 0.89] and series[0].labels == {
        "ns": "db"
    }
    assert store.metric_samples.prune(T0 + timedelta(minutes=8)) == 8
    assert len(store.metric_samples.series("pvc_used_ratio", "db/data")) == 2


def test_no_secret_reaches_the_database_file(tmp_path: Path) -> None:
    path = tmp_path / "hks.db"
    with Store.open(path) as s:
        s.audit.append(
            AuditEntry(
                action="agent.exec",
                params={
                    "input-data": f"K3S_TOKEN={CANARY}",
                    "password": CANARY,
                    "nested": {"api_key": CANARY},
                },
            )
        )
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert CANARY.encode() not in raw
