"""Billing lines, alerts, chat messages and metric samples."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hks_tui.models.common import utcnow

Severity = Literal["info", "warning", "critical"]
AlertState = Literal["firing", "acknowledged", "resolved"]
ChatRole = Literal["user", "agent", "system"]


class BillingLine(BaseModel):
    """One priced usage line of a workspace for a period (node-hours, GiB-months …)."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    workspace: str
    period_start: datetime
    period_end: datetime
    item: str  # e.g. "node prod-m-1", "volume data"
    kind: str  # e.g. "instance", "storage"
    quantity: float = Field(ge=0)
    unit: str  # e.g. "month", "GiB-month"
    unit_price: float = Field(ge=0)
    amount: float = Field(ge=0)
    ref: str = ""  # the object it prices (VM id, volume name)


class Alert(BaseModel):
    """An alert raised by an agent or a threshold; deduplicated by ``fingerprint`` while firing."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    ts: datetime = Field(default_factory=utcnow)
    workspace: str = ""
    severity: Severity = "warning"
    source: str = ""  # e.g. "StorageWorkerAgent"
    kind: str = ""  # e.g. "pvc_usage"
    target: str = ""  # e.g. "prod/db/data-db-0"
    message: str = ""
    state: AlertState = "firing"
    fingerprint: str = ""
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None


class ChatMessage(BaseModel):
    """A message of the chat panel (user ↔ agents); ``action`` is a proposed or taken action."""

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    ts: datetime = Field(default_factory=utcnow)
    workspace: str = ""
    role: ChatRole = "user"
    author: str = ""
    text: str = ""
    action: dict[str, Any] | None = None


class MetricSample(BaseModel):
    """One sampled value of a metric for a target (quota, node, pod, PVC usage history)."""

    model_config = ConfigDict(frozen=True)

    ts: datetime = Field(default_factory=utcnow)
    workspace: str = ""
    metric: str
    target: str = ""
    value: float
    labels: dict[str, str] = Field(default_factory=dict)
