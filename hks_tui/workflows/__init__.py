"""Durable workflows: named idempotent steps journaled in SQLite before and after each external call.

See :mod:`hks_tui.workflows.definition` to declare a kind and :mod:`hks_tui.workflows.engine` to run one.
No Textual here: a UI subscribes to :class:`EventBus` events.
"""

from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind, default_retryable
from hks_tui.workflows.engine import DEFAULT_LEASE_TTL, ResumeReport, WorkflowEngine
from hks_tui.workflows.errors import (
    LeaseHeldError,
    LeaseLostError,
    OutcomeUnknownError,
    SecretInParamsError,
    StepTimeoutError,
    TargetBusyError,
    UnknownKindError,
    UnknownWorkflowError,
    WorkflowError,
    WorkflowFinishedError,
)
from hks_tui.workflows.events import EventBus, EventType, WorkflowEvent
from hks_tui.workflows.registry import all_kinds, register_kind, unregister_kind
from hks_tui.workflows.report import current_step, progress, title, workflow_json
from hks_tui.workflows.timeline import TimelineRow, TimelineUpdate, timeline_rows, timeline_update

__all__ = [
    "DEFAULT_LEASE_TTL",
    "Backoff",
    "EventBus",
    "EventType",
    "LeaseHeldError",
    "LeaseLostError",
    "OnFailure",
    "OutcomeUnknownError",
    "ResumeReport",
    "SecretInParamsError",
    "Step",
    "StepContext",
    "StepTimeoutError",
    "TargetBusyError",
    "TimelineRow",
    "TimelineUpdate",
    "UnknownKindError",
    "UnknownWorkflowError",
    "WorkflowEngine",
    "WorkflowError",
    "WorkflowEvent",
    "WorkflowFinishedError",
    "WorkflowKind",
    "all_kinds",
    "current_step",
    "default_retryable",
    "progress",
    "register_kind",
    "timeline_rows",
    "timeline_update",
    "title",
    "unregister_kind",
    "workflow_json",
]
