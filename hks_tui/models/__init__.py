"""Pydantic domain models shared by every layer: no I/O, no Textual."""

from hks_tui.models.activity import (
    Alert,
    AlertState,
    BillingLine,
    ChatMessage,
    ChatRole,
    MetricSample,
    Severity,
)
from hks_tui.models.audit import AuditEntry, AuditOutcome, Backend, HealthState, HealthStatus
from hks_tui.models.common import REDACTED, as_utc, iso, redact, utcnow
from hks_tui.models.workflow import StepStatus, WorkflowRecord, WorkflowStatus, WorkflowStep
from hks_tui.models.workspace import (
    DEFAULT_CATALOG,
    DEFAULT_STORAGE_PRICE_GIB_MONTH,
    InstanceType,
    Plan,
    Workspace,
)

__all__ = [
    "DEFAULT_CATALOG",
    "DEFAULT_STORAGE_PRICE_GIB_MONTH",
    "REDACTED",
    "Alert",
    "AlertState",
    "AuditEntry",
    "AuditOutcome",
    "Backend",
    "BillingLine",
    "ChatMessage",
    "ChatRole",
    "HealthState",
    "HealthStatus",
    "InstanceType",
    "MetricSample",
    "Plan",
    "Severity",
    "StepStatus",
    "WorkflowRecord",
    "WorkflowStatus",
    "WorkflowStep",
    "Workspace",
    "as_utc",
    "iso",
    "redact",
    "utcnow",
]
