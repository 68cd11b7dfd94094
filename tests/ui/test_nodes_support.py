"""Fixed node data for the Nodes screens' snapshots and offline Pilot tests.

Only the node/quota read services are stand-ins returning fixed models (the real service classes are
covered against the lab); the store is real SQLite. Nothing is patched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hks_tui.models import Plan
from hks_tui.services.nodes_model import NodeDetail, NodeRow
from hks_tui.services.quota import (
    QuotaCrossing,
    QuotaGauge,
    QuotaSnapshot,
    QuotaThresholds,
    dedicated_gauges,
    summarize,
)
from hks_tui.services.usage_history import History, HistoryPoint
from tests.ui.test_shell_support import FROZEN, HandProfile, hand_runtime

GIB = 2**30


def node(
    name: str, vmid: int, status: str, *, pve: str, cpu: float | None, mem: float | None, pods: int
) -> NodeRow:
    ready = status == "Running · Ready"
    return NodeRow(
        name=name,
        vmid=vmid,
        pve_node=pve,
        region="tokyo",
        pool="default",
        status=status,
        vm_status="running" if status.startswith("Running") else "stopped",
        ready=ready,
        in_vcluster=ready,
        vcpu=4,
        ram_bytes=8 * GIB,
        disk_bytes=40 * GIB,
        disk_used_bytes=12 * GIB,
        ip=f"10.0.10.{vmid - 190}",
        created_at=FROZEN - timedelta(days=vmid - 190),
        uptime_s=86400 * 3 + 7200,
        pods=pods,
        pods_capacity=110,
        cpu_allocatable=4.0 if ready else 0.0,
        mem_allocatable=7.5 * GIB if ready else 0.0,
        cpu_requests=2.5 if ready else 0.0,
        mem_requests=5 * GIB if ready else 0.0,
        cpu_usage=cpu,
        mem_usage=mem,
        instance_type="standard-4",
        monthly_cost=80.0,
        tags=("hks-managed", "hks-ws-prod", "hks-pool-default"),
    )


PROD_ROWS = [
    node("prod-default-1", 201, "Running · Ready", pve="pve1", cpu=1.6, mem=4.2 * GIB, pods=9),
    node("prod-default-2", 202, "Running · Ready", pve="pve2", cpu=3.5, mem=6.9 * GIB, pods=14),
    node("prod-default-3", 203, "Stopped", pve="pve3", cpu=None, mem=None, pods=0),
]

DETAIL = NodeDetail(
    row=PROD_ROWS[0],
    storage=["local-lvm:vm-201-disk-0", "local-lvm:vm-201-cloudinit"],
    tasks=[
        {"starttime": 1767322800, "type": "qmstart", "status": "OK", "user": "hks@pve!console"},
        {"starttime": 1767322500, "type": "qmclone", "status": "OK", "user": "hks@pve!console"},
    ],
    conditions=[
        {"type": "MemoryPressure", "status": "False"},
        {"type": "DiskPressure", "status": "False"},
        {"type": "Ready", "status": "True"},
    ],
    labels={"hks.io/workspace": "prod", "hks.io/pool": "default", "topology.kubernetes.io/region": "tokyo"},
    taints=[{"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}],
    allocatable={"cpu": "4", "memory": "7680Mi", "pods": "110"},
    pods=[
        {"namespace": "default", "name": f"web-7d9f{i}", "phase": "Running", "ready": "1/1"} for i in range(4)
    ],
    events=[
        {"lastTimestamp": "2026-01-02T03:00:00Z", "type": "Normal", "reason": "NodeReady", "message": "ok"}
    ],
)


class FixedNodes:
    """``NodeService``'s read API over fixed rows."""

    def __init__(self, rows: list[NodeRow], detail: NodeDetail | None = None) -> None:
        self._rows = rows
        self._detail = detail
        self.listeners: list[Callable[[str], None]] = []
        self.calls: list[str] = []  # the workspace of each rows() call

    async def rows(self, workspace: str, **_kw: Any) -> list[NodeRow]:
        self.calls.append(workspace)
        return list(self._rows)

    async def detail(self, workspace: str, name: str) -> NodeDetail:
        assert self._detail is not None
        return self._detail

    def on_change(self, callback: Callable[[str], None]) -> Callable[[], None]:
        self.listeners.append(callback)
        return lambda: self.listeners.remove(callback)


def shared_snapshot() -> QuotaSnapshot:
    gauges = [
        QuotaGauge(resource="cpu", used=3.8, hard=4.0, unit="cores", level="critical"),
        QuotaGauge(resource="memory", used=6.6 * GIB, hard=8 * GIB, unit="bytes", level="warning"),
        QuotaGauge(resource="pods", used=9, hard=20, unit="pods"),
    ]
    crossing = QuotaCrossing(
        workspace="dev",
        resource="cpu",
        severity="critical",
        ratio=0.95,
        message="Workspace dev uses 95% of its CPU quota (3.8 cores of 4 cores) — critical.",
    )
    return QuotaSnapshot(
        workspace="dev",
        plan=Plan.SHARED,
        at=FROZEN,
        gauges=gauges,
        quotas=["default/hks-quota"],
        crossings=[crossing],
        starting_price=40.0,
    )


def dedicated_snapshot() -> QuotaSnapshot:
    summary = summarize("prod", PROD_ROWS)
    return QuotaSnapshot(
        workspace="prod", plan=Plan.DEDICATED, at=FROZEN, gauges=dedicated_gauges(summary), dedicated=summary
    )


class FixedQuota:
    """``QuotaService``'s read API: the snapshot (its crossings only the first time) and a fixed history."""

    def __init__(self, snapshot: QuotaSnapshot) -> None:
        self.snapshot = snapshot
        self.thresholds = QuotaThresholds()
        self.calls = 0

    async def refresh(self, workspace: str, plan: Any = None) -> QuotaSnapshot:
        self.calls += 1
        return self.snapshot if self.calls == 1 else self.snapshot.model_copy(update={"crossings": []})

    async def history(self, workspace: str, resource: str, window: Any = None, plan: Any = None) -> History:
        gauge = next(g for g in self.snapshot.gauges if g.resource == resource)
        ratios = [0.5 + 0.45 * i / 19 for i in range(20)]
        points = [
            HistoryPoint(ts=FROZEN - timedelta(minutes=60 - 3 * i), ratio=r, used=r * gauge.hard)
            for i, r in enumerate(ratios)
        ]
        return History(workspace=workspace, resource=resource, source="sqlite", points=points)


@dataclass
class NodeServices:
    health: Any
    workspaces: Any
    audit: Any
    nodes: Any
    quota: Any

    def close(self) -> None:
        pass


def nodes_runtime(tmp_path: Path, workspace: str) -> Any:
    """A hand runtime for ``workspace`` (dev: Shared near quota; prod: 3 dedicated nodes)."""
    runtime = hand_runtime(tmp_path, audit_rows=0, workspace=workspace)
    base = runtime.services
    snapshot = shared_snapshot() if workspace == "dev" else dedicated_snapshot()
    runtime.services = NodeServices(  # type: ignore[assignment]
        health=base.health,
        workspaces=base.workspaces,
        audit=base.audit,
        nodes=FixedNodes(PROD_ROWS if workspace == "prod" else [], DETAIL),
        quota=FixedQuota(snapshot),
    )
    runtime.profile = HandProfile(workspace=workspace, name=f"lab-{workspace}")
    return runtime


def frozen_clock() -> datetime:
    return datetime(2026, 1, 2, 3, 5, 0, tzinfo=UTC)
