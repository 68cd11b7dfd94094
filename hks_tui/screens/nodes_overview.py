"""Node Overview (the default section): usage by plan and quota warnings.

* Shared plan — CPU / memory / pods gauges against the workspace ResourceQuota and their history.
* Dedicated plan — aggregate requests, usage and capacity (CPU, memory, pods, disk), a per-node strip
  (status + CPU/mem bars), counts by status, the nodes' monthly cost, and the way to the node list.

A named exclusive worker refreshes it; the next refresh is scheduled when one ends (never overlapping).
Each new threshold crossing (``QuotaSnapshot.crossings``) is notified once; active levels show in the
alert banner. The history charts are imported and mounted after the first frame (plotext is heavy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from hks_tui.screens.base import SectionScreen
from hks_tui.widgets.quota_gauge import QuotaGauge

REFRESH_GROUP = "overview-refresh"
GIB = 2**30
SHARED_GAUGES = ("cpu", "memory", "pods")
LABELS = {"cpu": "CPU", "memory": "Memory", "pods": "Pods", "disk": "Disk"}
#: gauge labels on the Dedicated plan (requests against allocatable capacity)
DEDICATED_LABELS = {"cpu": "CPU req", "memory": "Mem req", "pods": "Pods"}
UNITS = {"cpu": "cores", "memory": "GiB", "pods": "", "disk": "GiB"}
HISTORY_WINDOW = timedelta(hours=1)


def _scaled(resource: str, value: float) -> float:
    return value / GIB if resource in ("memory", "disk") else value


@dataclass
class OverviewLoaded(Message):
    """A fresh quota snapshot and the history (ratio points) of each gauge."""

    snapshot: Any
    histories: dict[str, list[float]] = field(default_factory=dict)


def bar(percent: float | None, width: int = 6) -> str:
    if percent is None:
        return "·" * width
    filled = max(0, min(width, round(percent / 100 * width)))
    return "█" * filled + "░" * (width - filled)


def node_strip(rows: list[Any]) -> Content:
    """One line per node: status glyph, name, status, CPU and memory bars."""
    if not rows:
        return Content("No dedicated nodes")
    width = max(len(r.name) for r in rows)
    parts: list[str | tuple[str, str]] = []
    for i, row in enumerate(rows):
        ok = row.status == "Running · Ready"
        bad = row.status.startswith("Error") or "NotReady" in row.status or row.status == "Missing VM"
        glyph, style = ("●", "$success") if ok else (("✖", "$error") if bad else ("◐", "$warning"))
        if i:
            parts.append("\n")
        cpu, mem = row.cpu_percent, row.mem_percent
        parts += [
            (f"{glyph} ", style),
            (f"{row.name:<{width}}  ", "bold"),
            (f"{row.status:<17.17} ", style),
            f"CPU {bar(cpu)}{'' if cpu is None else f'{cpu:3.0f}%':>5}  ",
            f"MEM {bar(mem)}{'' if mem is None else f'{mem:3.0f}%':>5}",
        ]
    return Content.assemble(*parts)


def summary_text(summary: Any) -> Content:
    counts = ", ".join(f"{n} {status}" for status, n in sorted(summary.by_status.items()))
    cost = f"${summary.monthly_cost:,.2f}/month"
    if summary.unpriced:
        cost += f" (+{summary.unpriced} unpriced)"
    usage = []
    if summary.cpu_usage is not None:
        usage.append(f"CPU in use {summary.cpu_usage:.2f} of {summary.cpu_capacity:g} cores")
    if summary.mem_usage is not None:
        usage.append(f"memory in use {summary.mem_usage / GIB:.1f} of {summary.mem_capacity / GIB:.1f} GiB")
    parts: list[str | tuple[str, str]] = [
        ("Nodes        ", "bold"),
        f"{len(summary.nodes)} ({counts or 'none'})\n",
        ("Monthly cost ", "bold"),
        f"{cost}\n",
        ("Usage        ", "bold"),
        f"{'; '.join(usage) or 'no metrics'}\n",
        ("Node list    ", "bold"),
        "press n or type :nodes",
    ]
    return Content.assemble(*parts)


def alert_lines(snapshot: Any) -> list[tuple[str, str]]:
    """(severity, text) for each gauge at or over a threshold."""
    out = []
    what = "quota" if str(snapshot.plan) == "shared" else "capacity"
    for g in snapshot.gauges:
        if g.level in ("warning", "critical"):
            tag = "CRITICAL" if g.level == "critical" else "WARNING"
            advice = "add a dedicated node" if what == "quota" else "add a node or move workloads"
            out.append(
                (
                    g.level,
                    f"{tag}: {LABELS.get(g.resource, g.resource)} at {g.percent:.0f}% of {what} — {advice}",
                )
            )
    return out


class NodeOverviewScreen(SectionScreen):
    """The Node Overview section."""

    SECTION = "overview"
    TITLE_TEXT = "Overview"
    AUTO_FOCUS = "#overview-body"
    BINDINGS = [Binding("r", "refresh", "Refresh"), Binding("n", "node_list", "Node list")]

    def __init__(self, refresh_interval: float = 15.0) -> None:
        super().__init__()
        self.refresh_interval = refresh_interval
        self.snapshot: Any = None
        self.notified: list[Any] = []
        self._timer: Timer | None = None
        self._charts: dict[str, Any] = {}
        self._pending = False

    def compose_body(self) -> ComposeResult:
        with VerticalScroll(id="overview-body"):
            yield Static("", id="quota-alert", classes="-hidden", markup=False)
            yield Static("Loading usage…", id="overview-plan")
            with Vertical(id="overview-gauges", classes="panel"):
                for key in ("cpu", "memory", "pods", "disk"):
                    yield QuotaGauge(LABELS[key], unit=UNITS[key], id=f"gauge-{key}", label_width=8)
                for key in ("cpu", "memory"):
                    yield QuotaGauge(
                        f"{LABELS[key][:3]} use", unit=UNITS[key], id=f"gauge-{key}-use", label_width=8
                    )
            yield Static("", id="overview-summary", classes="panel -hidden")
            yield Static("", id="overview-strip", classes="panel -hidden")
            yield Horizontal(id="overview-charts", classes="-hidden")

    def on_mount(self) -> None:
        self.query_one("#overview-gauges").border_title = "Usage"
        self.query_one("#overview-summary").border_title = "Dedicated nodes"
        self.query_one("#overview-strip").border_title = "Nodes"
        self.query_one("#overview-charts").border_title = "History (1 h)"
        for key in ("disk", "cpu-use", "memory-use"):
            self.query_one(f"#gauge-{key}").display = False
        self.watch(self.hks, "workspace", self.request_refresh, init=False)
        self.watch(self.hks, "connected", self.request_refresh, init=False)
        self.request_refresh()

    def request_refresh(self, _value: Any = None) -> None:
        """Refresh now, or right after the refresh in flight (never cancelled: a cancelled refresh
        would lose the threshold crossings it raised)."""
        if any(w.node is self and w.group == REFRESH_GROUP and not w.is_finished for w in self.workers):
            self._pending = True
            return
        self._pending = False
        self.refresh_overview()

    def action_refresh(self) -> None:
        self.request_refresh()

    def action_node_list(self) -> None:
        if "nodes" in {mode for mode, _title in getattr(self.hks, "SECTIONS", ())}:
            self.hks.action_section("nodes")

    @property
    def workspace(self) -> str:
        return str(self.hks.workspace or getattr(self.hks.runtime, "workspace", "") or "")

    @work(group=REFRESH_GROUP, exit_on_error=False)
    async def refresh_overview(self) -> None:
        if not self.hks.connected or not self.workspace:
            return
        from hks_tui.models import Plan

        services = self.hks.runtime.services
        if getattr(services, "quota", None) is None:  # a runtime without the quota service
            self.query_one("#overview-plan", Static).update("Usage is not available in this session")
            return
        plan = Plan(self.hks.plan) if self.hks.plan in ("shared", "dedicated") else None
        snapshot = await services.quota.refresh(self.workspace, plan)
        histories: dict[str, list[float]] = {}
        for gauge in snapshot.gauges:
            try:
                found = await services.quota.history(
                    self.workspace, gauge.resource, HISTORY_WINDOW, snapshot.plan
                )
            except Exception:  # a missing history must not hide the gauges
                continue
            histories[gauge.resource] = [
                p.used if p.used is not None else p.ratio * gauge.hard for p in found.points
            ]
        self.post_message(OverviewLoaded(snapshot, histories))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != REFRESH_GROUP:
            return
        if event.state == WorkerState.ERROR:
            event.stop()  # a repeating refresh: flash it and show it here, no stacking error panels
            info = self.hks.report_error(event.worker.error, source="overview", quiet=True)
            self.query_one("#overview-plan", Static).update(f"Usage unavailable: {info.one_line}")
        if event.state not in (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED):
            return
        if self._pending:
            self.call_later(self.request_refresh)
        elif self.refresh_interval > 0:
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.set_timer(self.refresh_interval, self.request_refresh, name="overview-poll")

    @on(OverviewLoaded)
    def _loaded(self, message: OverviewLoaded) -> None:
        snapshot = self.snapshot = message.snapshot
        for crossing in snapshot.crossings:
            self.notified.append(crossing)
            critical = crossing.severity == "critical"
            self.app.notify(
                crossing.message, title="Quota", severity="error" if critical else "warning", markup=False
            )
        self._show_alerts(snapshot)
        dedicated = snapshot.dedicated
        plan = str(snapshot.plan)
        head = f"Workspace {snapshot.workspace} · {plan.capitalize()} plan"
        if plan == "shared":
            head += f" · quota {', '.join(snapshot.quotas) or '(none found)'}"
        self.query_one("#overview-plan", Static).update(head)
        thresholds = getattr(self.hks.runtime.services.quota, "thresholds", None)
        by_resource = {g.resource: g for g in snapshot.gauges}
        for key in ("cpu", "memory", "pods"):
            gauge = self.query_one(f"#gauge-{key}", QuotaGauge)
            if thresholds is not None:
                gauge.warning, gauge.critical = thresholds.warning, thresholds.critical
            g = by_resource.get(key)
            gauge.display = g is not None
            if g is not None:
                gauge.label = LABELS[key] if plan == "shared" else DEDICATED_LABELS[key]
                gauge.update(_scaled(key, g.used), _scaled(key, g.hard))
        self._show_dedicated(dedicated)
        self._show_charts(snapshot, message.histories)

    def _show_alerts(self, snapshot: Any) -> None:
        lines = alert_lines(snapshot)
        banner = self.query_one("#quota-alert", Static)
        banner.update("\n".join(text for _level, text in lines))
        banner.set_class(not lines, "-hidden")
        banner.set_class(any(level == "critical" for level, _ in lines), "-critical")

    def _show_dedicated(self, dedicated: Any) -> None:
        summary = self.query_one("#overview-summary", Static)
        strip = self.query_one("#overview-strip", Static)
        summary.set_class(dedicated is None, "-hidden")
        strip.set_class(dedicated is None, "-hidden")
        for key in ("disk", "cpu-use", "memory-use"):
            self.query_one(f"#gauge-{key}").display = dedicated is not None
        if dedicated is None:
            return
        self.query_one("#gauge-disk", QuotaGauge).update(
            dedicated.disk_used / GIB, dedicated.disk_capacity / GIB
        )
        self.query_one("#gauge-cpu-use", QuotaGauge).update(
            dedicated.cpu_usage or 0.0, dedicated.cpu_capacity
        )
        self.query_one("#gauge-memory-use", QuotaGauge).update(
            (dedicated.mem_usage or 0.0) / GIB, dedicated.mem_capacity / GIB
        )
        summary.update(summary_text(dedicated))
        strip.update(node_strip(list(dedicated.nodes)))

    def _show_charts(self, snapshot: Any, histories: dict[str, list[float]]) -> None:
        from hks_tui.widgets.usage_chart import UsageChart

        box = self.query_one("#overview-charts", Horizontal)
        box.set_class(not histories, "-hidden")
        for g in snapshot.gauges:
            values = [_scaled(g.resource, v) for v in histories.get(g.resource, [])]
            chart = self._charts.get(g.resource)
            if chart is None:
                chart = UsageChart(LABELS.get(g.resource, g.resource), unit=UNITS.get(g.resource, ""))
                self._charts[g.resource] = chart
                box.mount(chart)
            chart.set_history(values, _scaled(g.resource, g.hard) or None)
