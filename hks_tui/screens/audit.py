"""Audit section: every mutating call the console made (before/after rows), filterable, live."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from hks_tui.screens.base import STYLES, SectionScreen
from hks_tui.widgets.resource_table import ResourceTable
from hks_tui.widgets.table_model import Column, Row

AUDIT_LIMIT = 2000
OUTCOME_GLYPH = {"started": "… started", "ok": "✔ ok", "error": "✖ error"}


def _format_ts(value: Any) -> str:
    return value.strftime("%m-%d %H:%M:%S") if isinstance(value, datetime) else str(value or "")


AUDIT_COLUMNS = (
    Column("id", "#", width=6, align="right"),
    Column("ts", "Time (UTC)", width=14, formatter=_format_ts),
    Column("outcome", "Outcome", width=9, formatter=lambda v: OUTCOME_GLYPH.get(str(v), str(v))),
    Column("action", "Action", max_width=28),
    Column("target", "Target", max_width=36),
    Column("actor", "Actor", max_width=16, optional=True),
    Column("profile", "Profile", max_width=12, optional=True),
    Column("detail", "Detail", max_width=60, optional=True),
    Column("upid", "UPID", max_width=40, optional=True, visible=False),
)


def audit_row(entry: Any) -> Row:
    """One ``AuditEntry`` as a table row keyed by its id."""
    values = {
        "id": entry.id,
        "ts": entry.ts,
        "outcome": entry.outcome,
        "action": entry.action,
        "target": entry.target,
        "actor": entry.actor,
        "profile": entry.profile,
        "detail": entry.detail,
        "upid": entry.upid or "",
    }
    styles = {"outcome": "bold red"} if entry.outcome == "error" else None
    return Row(key=str(entry.id), values=values, styles=styles)


class AuditScreen(SectionScreen):
    """The audit table, newest first, refreshed every few seconds without overlapping fetches."""

    SECTION = "audit"
    TITLE_TEXT = "Audit"
    CSS_PATH = STYLES / "audit.tcss"
    AUTO_FOCUS = "#audit-table"
    BINDINGS = [Binding("r", "refresh", "Refresh")]

    _stale = False
    _timer: Timer | None = None

    def compose_body(self) -> ComposeResult:
        table = ResourceTable(AUDIT_COLUMNS, id="audit-table", empty_message="No audit rows yet")
        table.border_title = "Audit log"
        yield table

    def on_mount(self) -> None:
        table = self.query_one(ResourceTable)
        table.sort_by("id", reverse=True)
        table.show_loading("Loading the audit log…")
        self.refresh_audit()

    def action_refresh(self) -> None:
        self.refresh_audit()

    @work(group="audit-refresh", exclusive=True, exit_on_error=False)
    async def refresh_audit(self) -> list[Any]:
        return list(await self.hks.runtime.services.audit.list(limit=AUDIT_LIMIT))

    @on(Worker.StateChanged)
    def _audit_loaded(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.node is not self or worker.group != "audit-refresh":
            return
        table = self.query_one(ResourceTable)
        if event.state == WorkerState.SUCCESS:
            table.replace_rows(audit_row(entry) for entry in worker.result or [])
            table.clear_state()
        elif event.state == WorkerState.ERROR:
            table.set_error("Could not load the audit log", str(worker.error))
        if event.state in (WorkerState.SUCCESS, WorkerState.ERROR) and self.hks.audit_interval > 0:
            if self._timer is not None:
                self._timer.stop()  # one pending poll at most (a manual refresh restarts the wait)
            self._timer = self.set_timer(self.hks.audit_interval, self._poll, name="audit-poll")

    def _poll(self) -> None:
        # A hidden section does not poll; it refreshes when shown again.
        if self.is_current:
            self.refresh_audit()
        else:
            self._stale = True

    def on_screen_resume(self) -> None:
        if self._stale:
            self._stale = False
            self.refresh_audit()
