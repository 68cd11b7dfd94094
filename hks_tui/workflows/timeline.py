"""Pure mapping from the journal and engine events to a step timeline's rows (the UI's StepTimeline).

No Textual here: a screen calls ``timeline_rows(steps)`` to draw a workflow, then applies
``timeline_update(event)`` for each event it receives (``key`` is the step name; ``state`` is one of
pending / running / done / failed / skipped; ``append`` are detail lines to add under the step).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hks_tui.models import StepStatus, WorkflowStep
from hks_tui.workflows.definition import WorkflowKind
from hks_tui.workflows.events import EventType, WorkflowEvent

_STATE = {
    StepStatus.PENDING: "pending",
    StepStatus.RUNNING: "running",
    StepStatus.SUCCEEDED: "done",
    StepStatus.FAILED: "failed",
    StepStatus.SKIPPED: "skipped",
    StepStatus.COMPENSATED: "skipped",
}


@dataclass(frozen=True)
class TimelineRow:
    key: str
    name: str
    state: str
    started: datetime | None = None
    finished: datetime | None = None
    detail: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class TimelineUpdate:
    key: str
    state: str | None = None
    started: datetime | None = None
    finished: datetime | None = None
    append: list[str] = field(default_factory=list)


def timeline_rows(steps: list[WorkflowStep], kind: WorkflowKind | None = None) -> list[TimelineRow]:
    """The rows for a workflow as journaled (labels from the kind when known)."""
    labels = {s.name: s.label for s in kind.steps} if kind is not None else {}
    rows = []
    for step in steps:
        detail = [f"attempt {step.attempts}: {step.detail}"] if step.detail and step.attempts else []
        if step.status == StepStatus.COMPENSATED:
            detail.append("undone")
        if step.upid:
            detail.append(f"task {step.upid}")
        rows.append(
            TimelineRow(
                key=step.name,
                name=labels.get(step.name, step.name),
                state=_STATE[step.status],
                started=step.started_at,
                finished=step.finished_at,
                detail=detail,
            )
        )
    return rows


def timeline_update(event: WorkflowEvent) -> TimelineUpdate | None:
    """How one engine event changes its step's row (``None`` for workflow-level events)."""
    if event.step is None:
        return None
    key, t = event.step, event.type
    if t == EventType.STEP_STARTED:
        return TimelineUpdate(key, state="running", started=event.at)
    if t == EventType.STEP_ATTEMPT:
        extra = [f"attempt {event.attempt}"] if event.attempt and event.attempt > 1 else []
        return TimelineUpdate(key, state="running", append=extra)
    if t == EventType.STEP_DETAIL:
        return TimelineUpdate(key, append=[event.detail])
    if t == EventType.STEP_RETRY:
        wait = f"; retrying in {event.delay:.1f}s" if event.delay is not None else ""
        return TimelineUpdate(key, append=[f"attempt {event.attempt} failed: {event.detail}{wait}"])
    if t in (EventType.STEP_DONE, EventType.STEP_ADOPTED):
        lines = [event.detail] if t == EventType.STEP_ADOPTED else []
        return TimelineUpdate(key, state="done", finished=event.at, append=lines)
    if t == EventType.STEP_FAILED:
        return TimelineUpdate(key, state="failed", finished=event.at, append=[event.detail])
    if t == EventType.STEP_COMPENSATED:
        return TimelineUpdate(key, state="skipped", append=["undone"])
    return None
