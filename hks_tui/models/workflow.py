"""Durable workflow journal records."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hks_tui.models.common import utcnow


class WorkflowStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"
    COMPENSATING = "compensating"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    COMPENSATED = "compensated"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (self.SUCCEEDED, self.FAILED, self.COMPENSATED, self.CANCELLED)


class StepStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    COMPENSATED = "compensated"


class WorkflowRecord(BaseModel):
    """A multi-step operation; driven by exactly one lease holder at a time."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    kind: str = Field(min_length=1)
    workspace: str = ""
    target: str = ""
    status: WorkflowStatus = WorkflowStatus.PENDING
    params: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = None
    lease_expires: datetime | None = None
    error: str = ""


class WorkflowStep(BaseModel):
    """One named, idempotent step of a workflow, journaled before and after its external call."""

    model_config = ConfigDict(frozen=True)

    workflow_id: str
    index: int = Field(ge=0)
    name: str = Field(min_length=1)
    status: StepStatus = StepStatus.PENDING
    attempts: int = Field(default=0, ge=0)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    detail: str = ""
    upid: str | None = None
    result: dict[str, Any] = Field(default_factory=dict)
