"""Dedicated Node List: the workspace's nodes (Proxmox + K3s combined), live, with row actions.

Rows come from ``services.nodes.rows`` (one inventory call + watch caches). The list refreshes on
``nodes.on_change`` (debounced) and on a timer that reschedules itself after each refresh, so fetches
never overlap. Enter opens the node detail; ``a`` opens the actions (Start / Stop / Reboot / Delete),
which apply to the selected rows (space selects).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from hks_tui.screens.base import SectionScreen
from hks_tui.screens.node_actions import (
    ACTION_LABELS,
    WorkflowTimelineScreen,
    request_action,
    workflow_engine,
)
from hks_tui.services.nodes_model import NodeRow
from hks_tui.widgets.resource_table import ResourceTable, RowAction
from hks_tui.widgets.table_messages import ActionChosen, RowSelected
from hks_tui.widgets.table_model import Column, Row

REFRESH_GROUP = "nodes-refresh"
DEBOUNCE = 0.5


def _created(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else ""


def _percent(value: Any) -> str:
    return "" if value is None else f"{value:.0f}%"


def _money(value: Any) -> str:
    return "" if value is None else f"${value:,.2f}"


NODE_COLUMNS = (
    Column("name", "Node Name", max_width=28),
    Column("status", "Status", max_width=30),
    Column("specs", "Specifications", max_width=26),
    Column("ip", "IP Address", max_width=16),
    Column("created", "Created At", width=16, formatter=_created),
    Column("region", "Region", max_width=12, optional=True, visible=False),
    Column("pve_node", "PVE Node", max_width=10, optional=True, visible=False),
    Column("vmid", "VMID", width=6, align="right", optional=True, visible=False),
    Column("pool", "Pool", max_width=12, optional=True, visible=False),
    Column("pods", "Pods", width=5, align="right", optional=True, visible=False),
    Column("cpu", "CPU", width=5, align="right", optional=True, visible=False, formatter=_percent),
    Column("mem", "Mem", width=5, align="right", optional=True, visible=False, formatter=_percent),
    Column("cost", "Monthly", width=10, align="right", optional=True, visible=False, formatter=_money),
)

NODE_ACTIONS = (
    RowAction("start", ACTION_LABELS["start"]),
    RowAction("stop", ACTION_LABELS["stop"]),
    RowAction("reboot", ACTION_LABELS["reboot"]),
    RowAction("delete", ACTION_LABELS["delete"], multi=False),
)


def status_style(status: str) -> str | None:
    if status.startswith("Error") or status in ("Missing VM", "Running · NotReady"):
        return "bold red"
    if status.startswith(("Provisioning", "Starting", "Stopping", "Rebooting", "Deleting", "Draining")):
        return "bold yellow"
    if status == "Running · Ready":
        return "green"
    return None


def node_row(row: NodeRow) -> Row:
    values = {
        "name": row.name,
        "status": row.status,
        "specs": row.specs,
        "ip": row.ip or "",
        "created": row.created_at,
        "region": row.region or "",
        "pve_node": row.pve_node or "",
        "vmid": row.vmid,
        "pool": row.pool or "",
        "pods": row.pods,
        "cpu": row.cpu_percent,
        "mem": row.mem_percent,
        "cost": row.monthly_cost,
    }
    style = status_style(row.status)
    return Row(key=row.key, values=values, styles={"status": style} if style else None)


class NodeTable(ResourceTable):
    """The node table: enter opens the node (RowSelected) even though row actions are registered."""

    def action_activate(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.post_message(self.RowSelected(self, key))


class NodesChanged(Message):
    """A watched Node or pod changed (posted from the watch thread)."""


class NodeListScreen(SectionScreen):
    """The Dedicated Node List."""

    SECTION = "nodes"
    TITLE_TEXT = "Nodes"
    AUTO_FOCUS = "#node-table"
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    def __init__(self, refresh_interval: float = 10.0) -> None:
        super().__init__()
        self.refresh_interval = refresh_interval
        self.rows: dict[str, NodeRow] = {}
        self._timer: Timer | None = None
        self._debounce: Timer | None = None
        self._unwatch: Callable[[], None] | None = None
        self._watched: Any = None
        self._stale = False

    def compose_body(self) -> ComposeResult:
        table = NodeTable(
            NODE_COLUMNS, actions=NODE_ACTIONS, id="node-table", empty_message="No dedicated nodes"
        )
        table.border_title = "Dedicated nodes"
        yield table

    def on_mount(self) -> None:
        self.query_one(NodeTable).show_loading("Loading the nodes…")
        self.watch(self.hks, "workspace", self._workspace_changed, init=False)
        self.watch(self.hks, "connected", self._workspace_changed, init=False)
        self.refresh_nodes()

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.refresh_nodes()

    def on_unmount(self) -> None:
        self._stop_watching()

    def _workspace_changed(self, _value: Any = None) -> None:
        self.rows = {}
        self.query_one(NodeTable).replace_rows([])
        self.refresh_nodes()

    @property
    def workspace(self) -> str:
        return str(self.hks.workspace or getattr(self.hks.runtime, "workspace", "") or "")

    # -- live updates ----------------------------------------------------------------------------------
    def _ensure_watching(self) -> None:
        nodes = self.hks.runtime.services.nodes
        if self._watched is nodes:
            return
        self._stop_watching()
        self._watched = nodes

        def changed(_resource: str) -> None:
            self.post_message(NodesChanged())

        self._unwatch = nodes.on_change(changed)

    def _stop_watching(self) -> None:
        if self._unwatch is not None:
            self._unwatch()
        self._unwatch = None
        self._watched = None

    @on(NodesChanged)
    def _changed(self) -> None:
        if self._debounce is None:
            self._debounce = self.set_timer(DEBOUNCE, self._debounced, name="nodes-debounce")

    def _debounced(self) -> None:
        self._debounce = None
        self.refresh_nodes()

    def action_refresh(self) -> None:
        self.refresh_nodes()

    @work(group=REFRESH_GROUP, exclusive=True, exit_on_error=False)
    async def refresh_nodes(self) -> list[NodeRow] | None:
        if not self.hks.connected or not self.workspace:
            return []
        if not self.is_current:  # another section is shown: refresh when it comes back
            self._stale = True
            return None
        self._ensure_watching()
        return list(await self.hks.runtime.services.nodes.rows(self.workspace))

    @on(Worker.StateChanged)
    def _worker_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != REFRESH_GROUP:
            return
        table = self.query_one(NodeTable)
        if event.state == WorkerState.SUCCESS and event.worker.result is not None:
            self.apply_rows(event.worker.result)
        elif event.state == WorkerState.ERROR:
            event.stop()  # shown here and flashed; a repeating refresh must not stack error panels
            info = self.hks.report_error(event.worker.error, source="node list", quiet=True)
            table.set_error(info.one_line)
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR) and self.refresh_interval > 0:
            if self._timer is not None:
                self._timer.stop()
            self._timer = self.set_timer(self.refresh_interval, self.refresh_nodes, name="nodes-poll")

    def apply_rows(self, rows: list[NodeRow]) -> None:
        table = self.query_one(NodeTable)
        self.rows = {r.key: r for r in rows}
        table.clear_state()
        with table.batch_update():
            table.replace_rows(node_row(r) for r in rows)

    # -- actions ---------------------------------------------------------------------------------------
    @on(ResourceTable.RowSelected, "#node-table")
    def _open(self, event: RowSelected) -> None:
        row = self.rows.get(event.key)
        if row is not None:
            from hks_tui.screens.node_detail import NodeDetailScreen

            self.app.push_screen(NodeDetailScreen(self.workspace, row.name))

    @on(ResourceTable.ActionChosen, "#node-table")
    def _action(self, event: ActionChosen) -> None:
        targets = [self.rows[k] for k in event.keys if k in self.rows]
        self.start_action(event.action, targets)

    def start_action(self, action: str, targets: list[NodeRow]) -> None:
        """Confirm and start ``action`` on ``targets``; the timeline of the first workflow opens."""

        def started(records: list[Any]) -> None:
            self.refresh_nodes()
            table = self.query_one(NodeTable)
            table.set_selected(())
            if records:
                self.app.push_screen(WorkflowTimelineScreen(workflow_engine(self.app), records[0].id))

        request_action(self.hks, action, targets, list(self.rows.values()), started)
