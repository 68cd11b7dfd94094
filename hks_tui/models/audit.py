"""Audit log entries (append-only) and backend health."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hks_tui.models.common import as_utc, redact, utcnow

AuditOutcome = Literal["started", "ok", "error"]
Backend = Literal["proxmox", "host", "vcluster", "prometheus"]
HealthStatus = Literal["ok", "degraded", "down", "unknown", "disabled"]


class AuditEntry(BaseModel):
    """One audit row: written before (``started``) and after (``ok``/``error``) every mutating call.

    ``params`` are redacted on construction (secret-looking keys masked), so a secret cannot reach the
    audit table through this model even if a caller forgets.
    """

    model_config = ConfigDict(frozen=True)

    id: int | None = None
    ts: datetime = Field(default_factory=utcnow)
    actor: str = ""
    profile: str = ""
    action: str = Field(min_length=1)
    target: str = ""
    params: dict[str, Any] = Field(default_factory=dict)
    outcome: AuditOutcome = "started"
    detail: str = ""
    upid: str | None = None

    @field_validator("ts")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_validator("params")
    @classmethod
    def _redact(cls, value: dict[str, Any]) -> dict[str, Any]:
        redacted = redact(value)
        assert isinstance(redacted, dict)
        return redacted


class HealthState(BaseModel):
    """The state of one backend as shown by the header's health dots."""

    model_config = ConfigDict(frozen=True)

    backend: Backend
    status: HealthStatus = "unknown"
    reason: str = ""
    checked_at: datetime = Field(default_factory=utcnow)

    @property
    def is_ok(self) -> bool:
        return self.status in ("ok", "disabled")
