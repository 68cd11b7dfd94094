"""Node detail: one dedicated node's Proxmox facts, Kubernetes facts, pods, recent tasks and events.

Loaded by ``services.nodes.detail`` in a worker (a few calls for this node only); ``r`` reloads, the
action keys (``s`` start, ``t`` stop, ``R`` reboot, ``D`` delete) open the same dialogs as the list.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from hks_tui.services.nodes_model import NodeDetail

DETAIL_GROUP = "node-detail"
MAX_LINES = 12


def _lines(parts: Iterable[tuple[str, str]]) -> Content:
    out: list[str | tuple[str, str]] = []
    for i, (label, value) in enumerate(parts):
        if i:
            out.append("\n")
        out += [(f"{label:<14}", "bold"), value]
    return Content.assemble(*out)


def _uptime(seconds: int | None) -> str:
    if not seconds:
        return "—"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    return f"{days}d {hours}h {rest // 60}m" if days else f"{hours}h {rest // 60}m"


def _when(value: Any) -> str:
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC).strftime("%m-%d %H:%M:%S")
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M:%S")
    return str(value or "")[:19]


def proxmox_text(detail: NodeDetail) -> Content:
    row = detail.row
    gib = 2**30
    return _lines(
        [
            ("VMID", str(row.vmid) if row.vmid is not None else "— (no VM)"),
            ("PVE node", row.pve_node or "—"),
            ("Region", row.region or "—"),
            ("VM status", row.vm_status or "—"),
            ("Specs", row.specs),
            ("Disk used", f"{row.disk_used_bytes / gib:.1f} GiB" if row.disk_bytes else "—"),
            ("Storage", ", ".join(detail.storage) or "—"),
            ("Tags", ";".join(row.tags) or "—"),
            ("Uptime", _uptime(row.uptime_s)),
            ("Lock", row.lock or "—"),
            ("IP", row.ip or ", ".join(detail.agent_ips) or "—"),
            ("Instance type", row.instance_type or "—"),
            ("Monthly cost", f"${row.monthly_cost:,.2f}" if row.monthly_cost is not None else "—"),
        ]
    )


def kube_text(detail: NodeDetail) -> Content:
    row = detail.row
    conditions = " ".join(f"{c.get('type')}={c.get('status')}" for c in detail.conditions if c.get("type"))
    taints = ", ".join(f"{t.get('key')}={t.get('value', '')}:{t.get('effect')}" for t in detail.taints)
    labels = ", ".join(f"{k}={v}" for k, v in sorted(detail.labels.items()))
    alloc = ", ".join(f"{k}={v}" for k, v in sorted(detail.allocatable.items()))
    return _lines(
        [
            ("Status", row.status),
            ("Conditions", conditions or "— (no Node object)"),
            ("Schedulable", "no (cordoned)" if row.cordoned else "yes"),
            ("In vCluster", "yes" if row.in_vcluster else "no"),
            ("Pool", row.pool or "—"),
            ("Allocatable", alloc or "—"),
            ("Taints", taints or "—"),
            ("Labels", labels or "—"),
        ]
    )


def pods_text(detail: NodeDetail) -> str:
    if not detail.pods:
        return "No pods on this node"
    lines = [
        f"{p.get('namespace', '')}/{p.get('name', '')}  {p.get('phase', '')}  {p.get('ready', '')}".rstrip()
        for p in detail.pods[:MAX_LINES]
    ]
    if len(detail.pods) > MAX_LINES:
        lines.append(f"… and {len(detail.pods) - MAX_LINES} more")
    return "\n".join(lines)


def tasks_text(detail: NodeDetail) -> str:
    if not detail.tasks:
        return "No recent Proxmox tasks"
    return "\n".join(
        f"{_when(t.get('starttime'))}  {t.get('type', '')}  {t.get('status', 'running')}  {t.get('user', '')}".rstrip()
        for t in detail.tasks[:MAX_LINES]
    )


def events_text(detail: NodeDetail) -> str:
    if not detail.events:
        return "No recent events"
    return "\n".join(
        f"{_when(e.get('lastTimestamp') or e.get('eventTime'))}  {e.get('type', '')}  "
        f"{e.get('reason', '')}  {e.get('message', '')}".rstrip()
        for e in detail.events[:MAX_LINES]
    )


class NodeDetailScreen(Screen[None]):
    """One node, pushed over the node list (esc goes back)."""

    AUTO_FOCUS = "#node-detail-body"
    BINDINGS = [
        Binding("escape,b", "back", "Back"),
        Binding("r", "reload", "Refresh"),
        Binding("s", "node_action('start')", "Start"),
        Binding("t", "node_action('stop')", "Stop"),
        Binding("R", "node_action('reboot')", "Reboot"),
        Binding("D", "node_action('delete')", "Delete"),
    ]

    def __init__(self, workspace: str, name: str) -> None:
        super().__init__()
        self.workspace = workspace
        self.node_name = name
        self.detail: NodeDetail | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="node-detail-body"):
            yield Static(f"Node {self.node_name} — loading…", id="node-title", markup=False)
            yield Static("", id="node-errors", classes="panel -hidden", markup=False)
            yield Static("", id="node-proxmox", classes="panel")
            yield Static("", id="node-kube", classes="panel")
            yield Static("", id="node-pods", classes="panel", markup=False)
            yield Static("", id="node-tasks", classes="panel", markup=False)
            yield Static("", id="node-events", classes="panel", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        titles = {
            "#node-errors": "Could not read",
            "#node-proxmox": "Proxmox VE",
            "#node-kube": "Kubernetes",
            "#node-pods": "Pods",
            "#node-tasks": "Recent tasks",
            "#node-events": "Events",
        }
        for selector, title in titles.items():
            self.query_one(selector).border_title = title
        self.load()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_reload(self) -> None:
        self.load()

    @work(group=DETAIL_GROUP, exclusive=True, exit_on_error=False)
    async def load(self) -> NodeDetail:
        return await self.app.runtime.services.nodes.detail(  # type: ignore[attr-defined,no-any-return]
            self.workspace, self.node_name
        )

    @on(Worker.StateChanged)
    def _loaded(self, event: Worker.StateChanged) -> None:
        if event.worker.group != DETAIL_GROUP:
            return
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.show(event.worker.result)
        elif event.state == WorkerState.ERROR:
            event.stop()
            info = self.app.report_error(  # type: ignore[attr-defined]
                event.worker.error, source=f"node {self.node_name}", quiet=True
            )
            self.query_one("#node-title", Static).update(f"Node {self.node_name}: {info.one_line}")

    def show(self, detail: NodeDetail) -> None:
        self.detail = detail
        row = detail.row
        self.query_one("#node-title", Static).update(f"Node {row.name}  ·  {row.status}")
        errors = self.query_one("#node-errors", Static)
        errors.update("\n".join(detail.errors))
        errors.set_class(not detail.errors, "-hidden")
        self.query_one("#node-proxmox", Static).update(proxmox_text(detail))
        self.query_one("#node-kube", Static).update(kube_text(detail))
        self.query_one("#node-pods", Static).update(pods_text(detail))
        self.query_one("#node-pods").border_title = f"Pods ({len(detail.pods)})"
        self.query_one("#node-tasks", Static).update(tasks_text(detail))
        self.query_one("#node-events", Static).update(events_text(detail))

    def action_node_action(self, action: str) -> None:
        from hks_tui.screens.node_actions import WorkflowTimelineScreen, request_action, workflow_engine

        if self.detail is None:
            self.app.notify("The node is still loading", severity="warning")
            return
        app: Any = self.app

        def started(records: list[Any]) -> None:
            if records:
                app.push_screen(WorkflowTimelineScreen(workflow_engine(app), records[0].id))

        # the impact of a delete needs every node (last node? cost change): use the list's rows if open
        all_rows = [self.detail.row]
        for screen in app.screen_stack:
            rows = getattr(screen, "rows", None)
            if isinstance(rows, dict) and rows:
                all_rows = list(rows.values())
        request_action(app, action, [self.detail.row], all_rows, started)
