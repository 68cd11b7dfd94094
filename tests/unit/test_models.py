"""Domain models: validation, redaction, enums, frozen-ness — pure, no I/O."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from hks_tui.models import (
    DEFAULT_CATALOG,
    REDACTED,
    AuditEntry,
    HealthState,
    InstanceType,
    Plan,
    WorkflowStatus,
    Workspace,
    iso,
    redact,
)


def test_plan_enum() -> None:
    assert Plan("dedicated") is Plan.DEDICATED and str(Plan.SHARED) == "shared"
    assert Plan.DEDICATED.label == "Dedicated"
    with pytest.raises(ValueError):
        Plan("premium")
    ws = Workspace(name="prod", plan="dedicated")  # type: ignore[arg-type]
    assert ws.plan is Plan.DEDICATED
    with pytest.raises(ValidationError):
        ws.name = "x"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        Workspace(name="")


def test_default_catalog() -> None:
    assert [t.name for t in DEFAULT_CATALOG] == ["S", "M", "L", "XL"]
    assert all(
        a.vcpu < b.vcpu and a.monthly_price < b.monthly_price for a, b in itertools.pairwise(DEFAULT_CATALOG)
    )
    with pytest.raises(ValidationError):
        InstanceType(name="Z", vcpu=0, ram_gib=1, disk_gib=1, monthly_price=1)
    with pytest.raises(ValidationError):
        InstanceType(name="Z", vcpu=1, ram_gib=1, disk_gib=1, monthly_price=-1)


def test_redact_masks_secret_keys_and_known_values() -> None:
    params = {
        "name": "prod-m-1",
        "token_secret": "s1",
        "Password": "s2",
        "nested": {"api_key": "s3", "list": [{"cipassword": "s4"}, "keep"]},
        "input-data": "curl ... K3S_TOKEN=abc",
        "cmd": "echo SUPERSECRETVALUE",
        "empty_password": "",
        "count": 3,
        "when": datetime(2026, 1, 1, tzinfo=UTC),
    }
    out = redact(params, secrets=("SUPERSECRETVALUE",))
    assert out["name"] == "prod-m-1" and out["count"] == 3
    assert out["token_secret"] == out["Password"] == out["input-data"] == REDACTED
    assert out["nested"]["api_key"] == REDACTED and out["nested"]["list"] == [
        {"cipassword": REDACTED},
        "keep",
    ]
    assert out["cmd"] == f"echo {REDACTED}"
    assert out["empty_password"] == ""  # nothing to hide
    assert out["when"].startswith("2026-01-01")
    assert params["token_secret"] == "s1"  # the input is not modified


def test_audit_entry_redacts_on_construction_and_normalises_time() -> None:
    entry = AuditEntry(
        action="vm.clone",
        params={"password": "hunter2", "vmid": 101},
        ts=datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=9))),
    )
    assert entry.params == {"password": REDACTED, "vmid": 101}
    assert entry.ts == datetime(2026, 1, 1, 0, 0, tzinfo=UTC) and entry.ts.tzinfo is UTC
    assert "hunter2" not in entry.model_dump_json()
    with pytest.raises(ValidationError):
        AuditEntry(action="x", outcome="maybe")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        AuditEntry(action="")
    naive = AuditEntry(action="x", ts=datetime(2026, 1, 1, 0, 0))
    assert naive.ts.tzinfo is UTC


def test_health_state() -> None:
    assert HealthState(backend="proxmox", status="ok").is_ok
    assert HealthState(backend="prometheus", status="disabled").is_ok
    down = HealthState(backend="host", status="down", reason="connection refused")
    assert not down.is_ok and down.reason == "connection refused"
    with pytest.raises(ValidationError):
        HealthState(backend="mysql", status="ok")  # type: ignore[arg-type]


def test_workflow_status_finished() -> None:
    assert {s for s in WorkflowStatus if s.finished} == {
        WorkflowStatus.SUCCEEDED,
        WorkflowStatus.FAILED,
        WorkflowStatus.COMPENSATED,
        WorkflowStatus.CANCELLED,
    }


def test_iso_is_fixed_width_and_sortable() -> None:
    a = iso(datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC))
    b = iso(datetime(2026, 1, 1, 0, 0, 0, 5, tzinfo=UTC))
    assert len(a) == len(b) and a < b and a.endswith("+00:00")
