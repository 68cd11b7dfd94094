"""Quota usage for the Node Overview, and quota warnings (one alert per threshold crossing).

* Shared plan: the workspace ``ResourceQuota`` (vCluster side) — used/hard for CPU, memory and pods.
* Dedicated plan: capacity, requests and usage summed over the workspace's dedicated nodes (from
  :class:`~hks_tui.services.nodes.NodeService`), counts by status and the nodes' monthly cost.

Each :meth:`QuotaService.refresh` stores a sample per gauge (SQLite history) and checks the thresholds
(``ui.quota_warning`` / ``ui.quota_critical``): reaching one raises ONE alert in ``store.alerts``
(fingerprint ``quota:<ws>:<resource>``) and returns it among ``crossings`` so the UI notifies once; the
alert is resolved when the ratio falls ``hysteresis`` below the warning threshold. No Textual imports.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hks_tui.models import Alert, Plan, utcnow
from hks_tui.services.clients import ClientSet
from hks_tui.services.executor import ServiceExecutor
from hks_tui.services.nodes import NodeService
from hks_tui.services.nodes_model import NodeRow, parse_quantity
from hks_tui.services.usage_history import QUOTA_RESOURCES, History, UsageHistory

Level = Literal["ok", "warning", "critical"]
_RANK = {"ok": 0, "warning": 1, "critical": 2}
UNITS = {"cpu": "cores", "memory": "bytes", "pods": "pods", "disk": "bytes"}
LABELS = {"cpu": "CPU", "memory": "memory", "pods": "pods", "disk": "disk"}
ALERT_SOURCE = "QuotaService"
ALERT_KIND = "quota"


class QuotaThresholds(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    warning: float = Field(default=0.80, gt=0, le=1)
    critical: float = Field(default=0.95, gt=0, le=1)
    hysteresis: float = Field(default=0.05, ge=0, lt=0.5)

    @model_validator(mode="after")
    def _ordered(self) -> QuotaThresholds:
        if self.warning >= self.critical:
            raise ValueError("the warning threshold must be below the critical one")
        return self

    def level(self, ratio: float) -> Level:
        # a tiny tolerance so 3.2/4 (= 0.8 in binary floating point, or just under) counts as 80 %
        if ratio + 1e-9 >= self.critical:
            return "critical"
        if ratio + 1e-9 >= self.warning:
            return "warning"
        return "ok"


class QuotaGauge(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    resource: str  # cpu | memory | pods | disk
    used: float
    hard: float
    unit: str
    level: Level = "ok"

    @property
    def ratio(self) -> float:
        return self.used / self.hard if self.hard else 0.0

    @property
    def percent(self) -> float:
        return 100.0 * self.ratio


class QuotaCrossing(BaseModel):
    """A threshold newly reached: notify the user once."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    workspace: str
    resource: str
    severity: Literal["warning", "critical"]
    ratio: float
    message: str
    alert_id: int | None = None


class DedicatedSummary(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    workspace: str
    nodes: list[NodeRow]
    by_status: dict[str, int]
    cpu_capacity: float  # cores (allocatable)
    cpu_requests: float
    cpu_usage: float | None
    mem_capacity: float  # bytes
    mem_requests: float
    mem_usage: float | None
    pods_capacity: int
    pods: int
    disk_capacity: float  # bytes (VM disks)
    disk_used: float
    monthly_cost: float
    unpriced: int  # nodes whose size matches no catalog entry


class QuotaSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    workspace: str
    plan: Plan
    at: datetime
    gauges: list[QuotaGauge]  # what the thresholds apply to (shared: quota; dedicated: requests)
    dedicated: DedicatedSummary | None = None
    quotas: list[str] = Field(default_factory=list)  # namespace/name of the ResourceQuotas read
    crossings: list[QuotaCrossing] = Field(default_factory=list)
    starting_price: float | None = None  # cheapest catalog node (the Shared plan's upgrade CTA)


class QuotaService:
    def __init__(
        self,
        nodes: NodeService,
        clients: ClientSet,
        executor: ServiceExecutor,
        store: Any,
        *,
        history: UsageHistory | None = None,
        thresholds: QuotaThresholds | None = None,
    ) -> None:
        self.nodes = nodes
        self.clients = clients
        self.executor = executor
        self.store = store
        self.history_source = history or UsageHistory(clients, executor, store)
        self.thresholds = thresholds or QuotaThresholds()
        self._lock = threading.Lock()
        self._levels: dict[str, Level] = {}  # fingerprint → level, when there is no store

    def set_thresholds(self, warning: float, critical: float, hysteresis: float | None = None) -> None:
        """Apply ``settings.ui.quota_warning`` / ``quota_critical``."""
        self.thresholds = QuotaThresholds(
            warning=warning,
            critical=critical,
            hysteresis=self.thresholds.hysteresis if hysteresis is None else hysteresis,
        )

    def configure(self, settings: Any) -> None:
        """Apply a :class:`~hks_tui.config.Settings`: quota thresholds (``ui``) and the price catalog."""
        ui = getattr(settings, "ui", None)
        if ui is not None:
            self.set_thresholds(float(ui.quota_warning), float(ui.quota_critical))
        catalog = getattr(settings, "catalog", None)
        if catalog:
            self.nodes.set_catalog(list(catalog))

    # ------------------------------------------------------------------ reads
    async def refresh(self, workspace: str, plan: Plan | None = None) -> QuotaSnapshot:
        """Read usage, store a history sample per gauge and evaluate the thresholds."""
        return await self.executor.run(self.refresh_sync, workspace, plan)

    def refresh_sync(self, workspace: str, plan: Plan | None = None) -> QuotaSnapshot:
        rows: list[NodeRow] | None = None
        if plan is None or plan == Plan.DEDICATED:
            rows = self.nodes.rows_sync(workspace)
            plan = Plan.DEDICATED if rows else Plan.SHARED
        dedicated = None
        quotas: list[str] = []
        if plan == Plan.DEDICATED:
            dedicated = summarize(workspace, rows or [])
            gauges = dedicated_gauges(dedicated)
        else:
            gauges, quotas = self.shared_sync(workspace)
        gauges = [g.model_copy(update={"level": self.thresholds.level(g.ratio)}) for g in gauges]
        self.history_source.record(
            workspace, [(g.resource, g.used, g.hard) for g in gauges if g.hard], plan=plan.value
        )
        crossings = self.evaluate(workspace, gauges, plan)
        catalog = self.nodes.catalog()
        return QuotaSnapshot(
            workspace=workspace,
            plan=plan,
            at=utcnow(),
            gauges=gauges,
            dedicated=dedicated,
            quotas=quotas,
            crossings=crossings,
            starting_price=min((it.monthly_price for it in catalog), default=None),
        )

    def shared_sync(self, workspace: str) -> tuple[list[QuotaGauge], list[str]]:
        """CPU/memory/pods gauges summed over the vCluster's ResourceQuotas (one list call)."""
        vcluster = self.nodes.vcluster_client(workspace)
        items = vcluster.list_raw("resourcequotas").get("items", [])
        return shared_gauges(items), sorted(
            f"{i['metadata'].get('namespace', '')}/{i['metadata']['name']}" for i in items
        )

    async def dedicated(self, workspace: str) -> DedicatedSummary:
        rows = await self.nodes.rows(workspace)
        return summarize(workspace, rows)

    async def history(
        self,
        workspace: str,
        resource: str,
        window: timedelta = timedelta(hours=1),
        plan: Plan = Plan.SHARED,
    ) -> History:
        """A gauge's history; Dedicated-plan gauges (requests/capacity) come from the stored samples."""
        return await self.history_source.history(workspace, resource, window, prometheus=plan == Plan.SHARED)

    # ------------------------------------------------------------------ warnings
    def evaluate(
        self, workspace: str, gauges: Sequence[QuotaGauge], plan: Plan = Plan.SHARED
    ) -> list[QuotaCrossing]:
        """Raise/resolve quota alerts; return the crossings that are new (notify once per crossing)."""
        crossings: list[QuotaCrossing] = []
        with self._lock:
            active = self._active(workspace)
            for g in gauges:
                if not g.hard:
                    continue
                fingerprint = f"quota:{workspace}:{g.resource}"
                current: Level = active.get(fingerprint, "ok")
                level = self.thresholds.level(g.ratio)
                if _RANK[level] > _RANK[current]:
                    message = _message(workspace, g, level, plan)
                    alert_id = self._raise(workspace, g, level, message, fingerprint)
                    crossings.append(
                        QuotaCrossing(
                            workspace=workspace,
                            resource=g.resource,
                            severity=level,  # type: ignore[arg-type]
                            ratio=g.ratio,
                            message=message,
                            alert_id=alert_id,
                        )
                    )
                elif current != "ok" and g.ratio < self.thresholds.warning - self.thresholds.hysteresis:
                    self._resolve(fingerprint)
                elif (
                    current == "critical" and g.ratio < self.thresholds.critical - self.thresholds.hysteresis
                ):
                    # back under critical: keep one (warning) alert, no new notification
                    self._raise(workspace, g, "warning", _message(workspace, g, "warning", plan), fingerprint)
        return crossings

    def _active(self, workspace: str) -> dict[str, Level]:
        if self.store is None:
            return {k: v for k, v in self._levels.items() if k.startswith(f"quota:{workspace}:")}
        out: dict[str, Level] = {}
        for alert in reversed(self.store.alerts.list(workspace=workspace, active_only=True, limit=None)):
            if alert.fingerprint.startswith(f"quota:{workspace}:") and alert.severity in _RANK:
                out[alert.fingerprint] = alert.severity  # type: ignore[assignment]
        return out

    def _raise(
        self, workspace: str, g: QuotaGauge, level: Level, message: str, fingerprint: str
    ) -> int | None:
        if self.store is None:
            self._levels[fingerprint] = level
            return None
        alert = Alert(
            workspace=workspace,
            severity=level if level != "ok" else "info",
            source=ALERT_SOURCE,
            kind=ALERT_KIND,
            target=f"{workspace}/{g.resource}",
            message=message,
            fingerprint=fingerprint,
        )
        return int(self.store.alerts.raise_alert(alert))

    def _resolve(self, fingerprint: str) -> None:
        if self.store is None:
            self._levels.pop(fingerprint, None)
        else:
            self.store.alerts.resolve_fingerprint(fingerprint)


# ---------------------------------------------------------------------- pure helpers
def shared_gauges(quota_items: Sequence[dict[str, Any]]) -> list[QuotaGauge]:
    """CPU, memory and pods gauges from raw ResourceQuota objects (summed over quotas)."""
    gauges = []
    for resource, names in QUOTA_RESOURCES.items():
        used = hard = 0.0
        found = False
        for item in quota_items:
            status = item.get("status") or {}
            hard_map = status.get("hard") or (item.get("spec") or {}).get("hard") or {}
            used_map = status.get("used") or {}
            name = next((n for n in names if n in hard_map), None)
            if name is None:
                continue
            found = True
            hard += parse_quantity(hard_map[name])
            used += parse_quantity(used_map.get(name, 0))
        if found:
            gauges.append(QuotaGauge(resource=resource, used=used, hard=hard, unit=UNITS[resource]))
    return gauges


def summarize(workspace: str, rows: Sequence[NodeRow]) -> DedicatedSummary:
    """Aggregate capacity, requests and usage across dedicated nodes (NotReady nodes add no capacity)."""
    live = [r for r in rows if r.ready]
    cpu_usage = [r.cpu_usage for r in live if r.cpu_usage is not None]
    mem_usage = [r.mem_usage for r in live if r.mem_usage is not None]
    return DedicatedSummary(
        workspace=workspace,
        nodes=list(rows),
        by_status=dict(Counter(r.status for r in rows)),
        cpu_capacity=sum(r.cpu_allocatable for r in live),
        cpu_requests=sum(r.cpu_requests for r in live),
        cpu_usage=sum(cpu_usage) if cpu_usage else None,
        mem_capacity=sum(r.mem_allocatable for r in live),
        mem_requests=sum(r.mem_requests for r in live),
        mem_usage=sum(mem_usage) if mem_usage else None,
        pods_capacity=sum(r.pods_capacity for r in live),
        pods=sum(r.pods for r in live),
        disk_capacity=float(sum(r.disk_bytes for r in rows)),
        disk_used=float(sum(r.disk_used_bytes for r in rows)),
        monthly_cost=round(sum(r.monthly_cost or 0.0 for r in rows), 2),
        unpriced=sum(1 for r in rows if r.monthly_cost is None),
    )


def dedicated_gauges(summary: DedicatedSummary) -> list[QuotaGauge]:
    """Requests against capacity: what limits scheduling on dedicated nodes."""
    return [
        QuotaGauge(resource="cpu", used=summary.cpu_requests, hard=summary.cpu_capacity, unit="cores"),
        QuotaGauge(resource="memory", used=summary.mem_requests, hard=summary.mem_capacity, unit="bytes"),
        QuotaGauge(resource="pods", used=float(summary.pods), hard=float(summary.pods_capacity), unit="pods"),
    ]


def _amount(value: float, unit: str) -> str:
    if unit == "bytes":
        return f"{value / 2**30:.1f} GiB"
    if unit == "cores":
        return f"{value:g} cores"
    return f"{value:g}"


def _message(workspace: str, g: QuotaGauge, level: Level, plan: Plan) -> str:
    what = LABELS.get(g.resource, g.resource)
    base = (
        f"Workspace {workspace} uses {g.percent:.0f}% of its {what} "
        f"{'quota' if plan == Plan.SHARED else 'capacity'} "
        f"({_amount(g.used, g.unit)} of {_amount(g.hard, g.unit)})"
    )
    tag = "critical" if level == "critical" else "warning"
    advice = (
        "add a dedicated node to grow beyond the Shared plan"
        if plan == Plan.SHARED
        else "add a dedicated node or move workloads"
    )
    return f"{base} — {tag}: {advice}."
