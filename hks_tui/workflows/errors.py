"""Errors of the workflow engine: one readable line each (what failed, why, what to do next)."""

from __future__ import annotations

from typing import Any

from hks_tui.clients.errors import HksError


class WorkflowError(Exception):
    """Base of the engine's own errors (not the errors a step raises)."""


class UnknownWorkflowError(WorkflowError, KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown workflow"


class UnknownKindError(WorkflowError):
    """The journal names a workflow kind this engine does not know (older or newer console)."""


class LeaseHeldError(WorkflowError):
    """Another process (or task) drives the workflow right now."""

    def __init__(self, workflow_id: str, owner: str | None, expires: str = "") -> None:
        self.workflow_id = workflow_id
        self.owner = owner or "another runner"
        until = f" until {expires}" if expires else ""
        super().__init__(
            f"workflow {workflow_id} is being driven by {self.owner} (lease held{until}); "
            "wait for it to finish, or resume it after that process has exited and its lease expired"
        )


class LeaseLostError(WorkflowError):
    """Our lease was taken over (we stalled past its expiry); we stop driving at once."""

    def __init__(self, workflow_id: str, owner: str) -> None:
        self.workflow_id = workflow_id
        super().__init__(
            f"workflow {workflow_id}: runner {owner} lost its lease (another runner took over); "
            "this process stopped driving it"
        )


class TargetBusyError(WorkflowError):
    """Another unfinished workflow already acts on the same target."""

    def __init__(self, target: str, workflow_id: str, kind: str) -> None:
        self.target = target
        self.workflow_id = workflow_id
        self.kind = kind
        super().__init__(
            f"{target} already has an action in flight ({kind}, workflow {workflow_id}); "
            "wait for it to finish, or resume or cancel it first"
        )


class WorkflowFinishedError(WorkflowError):
    """Resume/cancel of a workflow that already reached a final state."""


class StepTimeoutError(WorkflowError):
    """A step used up its time budget."""

    def __init__(self, step: str, budget: float) -> None:
        self.step = step
        self.budget = budget
        super().__init__(
            f"step {step!r} exceeded its time budget of {budget:g} s; the backend may still be working — "
            "resume the workflow to re-check the outcome"
        )


class OutcomeUnknownError(WorkflowError):
    """A step was interrupted mid-call, has no check() and is not idempotent: re-running could repeat it."""

    def __init__(self, step: str) -> None:
        self.step = step
        super().__init__(
            f"cannot determine the result of step {step!r}: the previous runner stopped during its external "
            "call and the step cannot be safely repeated; verify the resource by hand, then mark the step "
            "done or cancel the workflow"
        )


class SecretInParamsError(WorkflowError, ValueError):
    """Workflow params are persisted in SQLite; secrets must never be among them."""


def describe(exc: BaseException) -> dict[str, Any]:
    """A JSON-able description of an error for the journal (what / why / next_step)."""
    if isinstance(exc, HksError):
        return exc.to_dict()
    return {
        "kind": type(exc).__name__,
        "what": "",
        "why": " ".join(str(exc).split()) or type(exc).__name__,
        "next_step": "",
        "backend": "",
        "status": None,
        "details": {},
    }


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__
