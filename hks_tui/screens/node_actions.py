"""Node actions from the UI: the confirm dialogs (with impact), submitting the workflow, and the live
timeline screen that can be closed while the workflow goes on in the background.

Flow: :func:`request_action` checks the targets (an action already in flight is refused), shows a
:class:`~hks_tui.widgets.ConfirmDialog` (Delete needs the node name typed), then submits the workflow in
a thread (``submit_action`` reads the node first) and runs it in the background on the app's loop;
a notification reports the end. :class:`WorkflowTimelineScreen` follows one workflow's events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from hks_tui.services.nodes_model import NodeRow
from hks_tui.widgets.confirm_dialog import ConfirmDialog
from hks_tui.widgets.step_timeline import Step, StepTimeline, utc_now

if TYPE_CHECKING:
    from hks_tui.app import HksApp
    from hks_tui.models import WorkflowRecord
    from hks_tui.workflows import WorkflowEngine, WorkflowEvent

#: action id → (menu label, verb for messages)
ACTION_LABELS: dict[str, str] = {
    "start": "Start",
    "stop": "Stop (graceful shutdown, forced after timeout)",
    "reboot": "Reboot",
    "delete": "Delete",
}
_ENGINE_ATTR = "_hks_node_engine"
_FINISHED_OK = {"succeeded"}


def workflow_engine(app: Any) -> WorkflowEngine:
    """The app's workflow engine for node actions (one per services object; built on first use)."""
    from hks_tui.workflows import WorkflowEngine, all_kinds
    from hks_tui.workflows import nodes as _node_kinds  # noqa: F401  (registers node.* kinds)

    services = app.runtime.services
    cached = getattr(app, _ENGINE_ATTR, None)
    if cached is not None and cached[0] is services:
        return cached[1]  # type: ignore[no-any-return]
    engine = WorkflowEngine(app.runtime.store, all_kinds(), deps=services)
    setattr(app, _ENGINE_ATTR, (services, engine))
    return engine


# ---------------------------------------------------------------------- impact (pure)
def _pods(row: NodeRow) -> str:
    return f"{row.pods} pod{'s' if row.pods != 1 else ''}"


def power_impact(action: str, rows: Sequence[NodeRow]) -> list[str]:
    """What Stop / Reboot / Start will do to ``rows`` (one line per node, then the procedure)."""
    lines: list[str] = []
    for row in rows:
        if action == "start":
            lines.append(f"{row.name}: start the VM, wait for the guest agent and Node Ready, uncordon")
        else:
            lines.append(f"{row.name}: {_pods(row)} will be evicted (PodDisruptionBudgets honoured)")
    if action == "stop":
        lines.append("Cordon → drain → graceful shutdown; a forced stop follows if it times out")
    elif action == "reboot":
        lines.append("Cordon → drain → reboot → wait for Ready → uncordon")
    return lines


def delete_impact(row: NodeRow, all_rows: Sequence[NodeRow]) -> list[str]:
    """What deleting ``row`` means: evicted pods, the monthly cost change, the plan change if last."""
    lines = [f"{_pods(row)} will be evicted, then the VM is destroyed and the Node object deleted"]
    if row.monthly_cost is not None:
        total = sum(r.monthly_cost or 0.0 for r in all_rows)
        lines.append(
            f"Monthly cost: -${row.monthly_cost:,.2f} (${total:,.2f} → ${total - row.monthly_cost:,.2f})"
        )
    else:
        lines.append("Monthly cost: this node matches no priced instance type")
    others = [r for r in all_rows if r.name != row.name]
    if not others:
        lines.append("This is your last dedicated node: the workspace returns to the Shared plan")
    return lines


def dialog_for(action: str, rows: Sequence[NodeRow], all_rows: Sequence[NodeRow]) -> ConfirmDialog:
    """The confirm dialog of ``action`` on ``rows`` (Delete: one node, its name typed)."""
    names = ", ".join(r.name for r in rows)
    if action == "delete":
        row = rows[0]
        return ConfirmDialog(
            f"Delete node {row.name}?",
            delete_impact(row, all_rows),
            require_text=row.name,
            confirm_label="Delete",
        )
    verb = {"start": "Start", "stop": "Stop", "reboot": "Reboot"}[action]
    return ConfirmDialog(
        f"{verb} {names}?",
        power_impact(action, rows),
        confirm_label=verb,
        destructive=action != "start",
    )


def busy_rows(rows: Sequence[NodeRow]) -> list[NodeRow]:
    """Rows whose status shows an action in flight (from the journal)."""
    verbs = ("Provisioning", "Starting", "Stopping", "Rebooting", "Deleting", "Draining")
    return [r for r in rows if r.status.startswith(verbs)]


# ---------------------------------------------------------------------- the flow
def request_action(
    app: HksApp,
    action: str,
    rows: Sequence[NodeRow],
    all_rows: Sequence[NodeRow],
    on_started: Callable[[list[WorkflowRecord]], None] | None = None,
) -> None:
    """Confirm ``action`` on ``rows`` and start its workflows; refuses nodes with an action in flight."""
    if not rows:
        return
    if action not in ACTION_LABELS:
        app.say(f"Unknown node action {action!r}", "error")
        return
    if getattr(app.runtime, "readonly", False):
        app.say(f"Read-only mode: {action} is disabled", "warning")
        return
    busy = busy_rows(rows)
    if busy:
        names = ", ".join(f"{r.name} ({r.status})" for r in busy)
        app.say(f"An action is already in flight on {names}; wait for it to finish", "warning")
        return
    if action == "delete" and len(rows) > 1:
        app.say("Delete one node at a time (its name must be typed)", "warning")
        return

    def confirmed(ok: bool | None) -> None:
        if ok:
            _submit(app, action, [r.name for r in rows], on_started)

    app.push_screen(dialog_for(action, rows, all_rows), confirmed)


def _submit(
    app: HksApp,
    action: str,
    names: list[str],
    on_started: Callable[[list[WorkflowRecord]], None] | None,
) -> None:
    from hks_tui.workflows.nodes import node_deps, submit_action

    engine = workflow_engine(app)
    workspace = app.workspace or app.runtime.workspace

    def submit_all() -> tuple[list[WorkflowRecord], list[BaseException]]:
        deps = node_deps(app.runtime.services)
        records: list[WorkflowRecord] = []
        errors: list[BaseException] = []
        for name in names:
            try:
                records.append(submit_action(engine, deps, action, workspace, name, actor="console"))
            except Exception as exc:  # each node gets its own clear message
                errors.append(exc)
        return records, errors

    async def run() -> None:
        records, errors = await asyncio.to_thread(submit_all)
        for error in errors:
            app.report_error(error, source=f"node {action}", quiet=True)
        for record in records:
            engine.run_in_background(record.id, _notify_done(app, action, record.target))
        if records and on_started is not None:
            on_started(records)

    app.run_worker(run(), group="node-action-submit", exit_on_error=False)


def _notify_done(
    app: HksApp, action: str, node: str
) -> Callable[[WorkflowRecord | None, BaseException | None], None]:
    def done(record: WorkflowRecord | None, error: BaseException | None) -> None:
        status = str(record.status) if record is not None else "unknown"
        if error is None and status in _FINISHED_OK:
            app.notify(f"{action.capitalize()} of {node} finished", title="Node action")
        else:
            why = str(error) if error is not None else (record.error if record is not None else "") or status
            app.notify(
                f"{action.capitalize()} of {node} {status}: {why}",
                title="Node action",
                severity="error",
                markup=False,
            )

    return done


# ---------------------------------------------------------------------- the timeline screen
@dataclass
class TimelineEvent(Message):
    """One engine event for the timeline (posted from whatever thread published it)."""

    event: WorkflowEvent


class WorkflowTimelineScreen(Screen[None]):
    """A workflow's steps, live. Closing it (esc) leaves the workflow running in the background."""

    BINDINGS = [
        Binding("escape,b", "close", "Close (keeps running)"),
        Binding("x", "cancel_workflow", "Cancel workflow"),
        Binding("f", "force_drain", "Force drain (paused)"),
    ]
    AUTO_FOCUS = "StepTimeline"

    def __init__(
        self,
        engine: WorkflowEngine,
        workflow_id: str,
        *,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.workflow_id = workflow_id
        self.clock = clock
        self.status = ""
        self._unsubscribe: Callable[[], None] | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="timeline-body"):
            yield Static("", id="timeline-title", markup=False)
            yield StepTimeline(clock=self.clock, id="timeline")
            yield Static("", id="timeline-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        # subscribe first so no event falls between the journal read and the subscription
        def forward(event: WorkflowEvent) -> None:
            self.post_message(TimelineEvent(event))

        self._unsubscribe = self.engine.events.subscribe(forward, self.workflow_id)
        self.reload()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    def reload(self) -> None:
        """Rebuild the steps from the journal."""
        from hks_tui.workflows import timeline_rows, title

        record = self.engine.get(self.workflow_id)
        if record is None:
            self.query_one("#timeline-title", Static).update(f"Workflow {self.workflow_id} not found")
            return
        try:
            kind = self.engine.kind(record.kind)
        except Exception:
            kind = None
        rows = timeline_rows(self.engine.steps(self.workflow_id), kind)
        steps = [Step(r.key, r.name, r.state, r.started, r.finished, r.detail) for r in rows]  # type: ignore[arg-type]
        self.query_one(StepTimeline).set_steps(steps)
        self.query_one("#timeline-title", Static).update(f"{title(record, kind)}  ·  {record.id}")
        self._set_status(str(record.status), record.error or "")

    def _set_status(self, status: str, error: str = "") -> None:
        self.status = status
        text = f"Status: {status}"
        if error:
            text += f" — {error}"
        if status in ("pending", "running"):
            text += "   (esc: close, the workflow keeps running)"
        elif status == "paused":
            text += "   (f: override the drain — audited — and resume)"
        widget = self.query_one("#timeline-status", Static)
        widget.update(text)
        widget.set_class(status == "failed", "-failed")
        widget.set_class(status in _FINISHED_OK, "-done")

    @on(TimelineEvent)
    def _event(self, message: TimelineEvent) -> None:
        from hks_tui.workflows import EventType, timeline_update

        event = message.event
        update = timeline_update(event)
        if update is not None:
            self.query_one(StepTimeline).update_step(
                update.key,
                state=update.state,  # type: ignore[arg-type]
                started=update.started,
                finished=update.finished,
                append=update.append,
            )
        if event.type == EventType.WORKFLOW_STARTED:
            self._set_status("running")
        elif event.type == EventType.WORKFLOW_FINISHED:
            record = self.engine.get(self.workflow_id)
            error = record.error if record is not None else ""
            self._set_status(event.status or "finished", error or "")

    def action_close(self) -> None:
        self.dismiss(None)

    @work(group="workflow-cancel", exit_on_error=False)
    async def action_cancel_workflow(self) -> None:
        await self.engine.cancel(self.workflow_id)

    def action_force_drain(self) -> None:
        """A drain blocked by a PodDisruptionBudget paused the workflow: override it (typed node name,
        audited) and resume in the background."""
        record = self.engine.get(self.workflow_id)
        if record is None or self.status != "paused":
            self.notify("Only a paused workflow (blocked drain) can be forced", severity="warning")
            return
        dialog = ConfirmDialog(
            f"Force the drain of {record.target}?",
            [
                "Pods are deleted without honouring PodDisruptionBudgets (the blocked one included)",
                "The override is recorded in the audit log",
            ],
            require_text=record.target,
            confirm_label="Force",
        )
        self.app.push_screen(dialog, self._forced)

    def _forced(self, ok: bool | None) -> None:
        if ok:
            self._force_and_resume()

    @work(group="workflow-force", exit_on_error=False)
    async def _force_and_resume(self) -> None:
        from hks_tui.workflows.nodes import allow_force

        record = await asyncio.to_thread(allow_force, self.engine, self.workflow_id, actor="console")
        action = record.kind.removeprefix("node.")
        self.engine.run_in_background(record.id, _notify_done(self.app, action, record.target))  # type: ignore[arg-type]
