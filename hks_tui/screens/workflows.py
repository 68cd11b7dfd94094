"""The Workflows view (``:workflows``) and the start-up resume prompt.

Every workflow of the journal is listed newest first and refreshed on a timer; enter opens its live
timeline, the row menu resumes (paused / failed / left running) or cancels (running / paused) it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from hks_tui.models.workflow import WorkflowRecord, WorkflowStatus
from hks_tui.widgets.confirm_dialog import ConfirmDialog
from hks_tui.widgets.resource_table import ResourceTable, RowAction
from hks_tui.widgets.table_cells import Column, Row
from hks_tui.widgets.table_messages import ActionChosen, RowSelected

RESUMABLE = (
    WorkflowStatus.PENDING,
    WorkflowStatus.RUNNING,
    WorkflowStatus.COMPENSATING,
    WorkflowStatus.PAUSED,
    WorkflowStatus.FAILED,
)
CANCELLABLE = (WorkflowStatus.PENDING, WorkflowStatus.RUNNING, WorkflowStatus.PAUSED)

COLUMNS = (
    Column("id", "ID", width=10),
    Column("title", "Workflow", max_width=40),
    Column("target", "Target", max_width=24),
    Column("status", "Status", max_width=13),
    Column("progress", "Progress", width=8, align="right"),
    Column("updated", "Updated At", width=19),
    Column("error", "Error", max_width=40),
)
ACTIONS = (RowAction("resume", "Resume"), RowAction("cancel", "Cancel"))
_STYLES = {
    WorkflowStatus.SUCCEEDED: "green",
    WorkflowStatus.FAILED: "red",
    WorkflowStatus.PAUSED: "yellow",
    WorkflowStatus.RUNNING: "cyan",
    WorkflowStatus.COMPENSATING: "magenta",
}


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S")


def workflow_row(engine: Any, record: WorkflowRecord) -> Row:
    """One table row for ``record`` (progress read from its journal steps)."""
    from hks_tui.workflows.report import progress, title

    done, total = progress(engine.steps(record.id))
    kinds = getattr(engine, "_kinds", {})
    values = {
        "id": record.id[:8],
        "title": title(record, kinds.get(record.kind)),
        "target": record.target,
        "status": str(record.status),
        "progress": f"{done}/{total}",
        "updated": _when(record.updated_at),
        "error": record.error.splitlines()[0] if record.error else "",
    }
    style = _STYLES.get(record.status)
    return Row(key=record.id, values=values, styles={"status": style} if style else None)


def resume_lines(records: list[WorkflowRecord]) -> list[str]:
    """The prompt's impact lines: one per unfinished workflow."""
    return [f"{r.id[:8]} {r.kind} {r.target} ({r.status})".replace("  ", " ") for r in records]


class WorkflowsScreen(Screen[None]):
    """Every workflow of the journal, newest first, refreshed live."""

    BINDINGS = [Binding("escape", "close", "Close")]
    AUTO_FOCUS = "#workflow-table"

    def __init__(self, *, interval: float = 1.0) -> None:
        super().__init__()
        self.interval = interval
        self.records: dict[str, WorkflowRecord] = {}

    def compose(self) -> ComposeResult:
        yield Static("Workflows", id="workflows-title", markup=False)
        yield ResourceTable(COLUMNS, actions=ACTIONS, empty_message="No workflows yet", id="workflow-table")
        yield Footer()

    @property
    def engine(self) -> Any:
        from hks_tui.screens.node_actions import workflow_engine

        return workflow_engine(self.app)

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(self.interval, self.reload, name="workflows-refresh")

    def action_close(self) -> None:
        self.dismiss(None)

    @work(group="workflows-refresh", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read the journal (exclusive worker: a new refresh replaces one still pending)."""
        engine = self.engine
        workspace = str(getattr(self.app, "workspace", "") or "") or None
        records = engine.store.workflows.list(workspace=workspace)
        records.sort(key=lambda r: r.created_at, reverse=True)
        self._show(records, [workflow_row(engine, r) for r in records])

    def _show(self, records: list[WorkflowRecord], rows: list[Row]) -> None:
        self.records = {r.id: r for r in records}
        if self.is_mounted:
            self.query_one("#workflow-table", ResourceTable).replace_rows(rows)

    @on(ResourceTable.RowSelected, "#workflow-table")
    def _open(self, event: RowSelected) -> None:
        from hks_tui.screens.node_actions import WorkflowTimelineScreen

        self.app.push_screen(WorkflowTimelineScreen(self.engine, event.key))

    @on(ResourceTable.ActionChosen, "#workflow-table")
    async def _action(self, event: ActionChosen) -> None:
        engine = self.engine
        for key in event.keys:
            record = engine.get(key)
            if record is None:
                continue
            if event.action == "resume":
                if record.status not in RESUMABLE or engine.is_running(key):
                    self.app.notify(f"{key[:8]} is {record.status}: nothing to resume", severity="warning")
                    continue
                engine.run_in_background(key, on_done=lambda rec, err: _announce(self.app, rec, err))
                self.app.notify(f"Resuming {key[:8]}")
            elif event.action == "cancel":
                if record.status not in CANCELLABLE:
                    self.app.notify(f"{key[:8]} is {record.status}: cannot cancel", severity="warning")
                    continue
                await engine.cancel(key)
                self.app.notify(f"Cancel requested for {key[:8]}")
        self.reload()


def _announce(app: Any, record: WorkflowRecord | None, error: BaseException | None) -> None:
    """Notify the end of a background workflow (called on the event loop)."""
    if record is None:
        app.notify(f"Workflow stopped: {error}", severity="error")
        return
    ok = record.status == WorkflowStatus.SUCCEEDED and error is None
    text = f"Workflow {record.id[:8]} {record.kind}: {record.status}"
    if error is not None:
        text += f" ({error})"
    elif record.error:
        text += f" ({record.error.splitlines()[0]})"
    app.notify(text, severity="information" if ok else "warning")


def offer_resume(app: Any) -> None:
    """At start-up: ask whether to resume unfinished workflows of an earlier session (if any)."""
    from hks_tui.screens.node_actions import workflow_engine

    engine = workflow_engine(app)
    records = engine.resumable(include_paused=True)
    if not records:
        return
    count = len(records)
    title = f"{count} unfinished workflow(s) from an earlier session: resume them now?"

    def answered(yes: bool | None) -> None:
        if not yes:
            return
        for record in records:
            engine.run_in_background(record.id, on_done=lambda rec, err: _announce(app, rec, err))
        app.notify(f"Resuming {count} workflow(s)")

    app.push_screen(
        ConfirmDialog(title, resume_lines(records), confirm_label="Resume", cancel_label="Later"),
        answered,
    )
