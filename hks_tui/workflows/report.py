"""Plain views of a journaled workflow for lists, detail panes and ``--json`` output (no UI imports)."""

from __future__ import annotations

from typing import Any

from hks_tui.models import StepStatus, WorkflowRecord, WorkflowStep
from hks_tui.models.common import iso
from hks_tui.workflows.definition import WorkflowKind
from hks_tui.workflows.journal import user_params

_DONE = (StepStatus.SUCCEEDED, StepStatus.SKIPPED)


def progress(steps: list[WorkflowStep]) -> tuple[int, int]:
    """(finished steps, all steps) — e.g. ``Provisioning 3/6``."""
    return sum(1 for s in steps if s.status in _DONE), len(steps)


def current_step(steps: list[WorkflowStep]) -> WorkflowStep | None:
    """The step in flight (or the one that failed), else the first not yet finished."""
    for step in steps:
        if step.status in (StepStatus.RUNNING, StepStatus.FAILED):
            return step
    for step in steps:
        if step.status not in _DONE and step.status != StepStatus.COMPENSATED:
            return step
    return None


def title(record: WorkflowRecord, kind: WorkflowKind | None = None) -> str:
    """A human line for the workflow: the kind's ``describe(params)``, else its title and target."""
    if kind is not None and kind.describe is not None:
        return kind.describe(user_params(record.params))
    label = (kind.title if kind is not None and kind.title else record.kind) or record.kind
    return f"{label} {record.target}".strip()


def step_json(step: WorkflowStep) -> dict[str, Any]:
    return {
        "index": step.index,
        "name": step.name,
        "status": str(step.status),
        "attempts": step.attempts,
        "started_at": iso(step.started_at) if step.started_at else None,
        "finished_at": iso(step.finished_at) if step.finished_at else None,
        "detail": step.detail,
        "upid": step.upid,
        "result": step.result,
    }


def workflow_json(
    record: WorkflowRecord, steps: list[WorkflowStep], kind: WorkflowKind | None = None
) -> dict[str, Any]:
    """Everything ``hks-tui workflows show ID --json`` prints (params hold no secrets by construction)."""
    done, total = progress(steps)
    return {
        "id": record.id,
        "kind": record.kind,
        "title": title(record, kind),
        "workspace": record.workspace,
        "target": record.target,
        "status": str(record.status),
        "progress": f"{done}/{total}",
        "error": record.error,
        "params": user_params(record.params),
        "created_at": iso(record.created_at),
        "updated_at": iso(record.updated_at),
        "lease_owner": record.lease_owner,
        "lease_expires": iso(record.lease_expires) if record.lease_expires else None,
        "steps": [step_json(s) for s in steps],
    }
