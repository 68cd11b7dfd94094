"""Shared helpers for the domain models: UTC timestamps and parameter redaction (pure, no I/O)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

REDACTED = "****"
# Parameter names whose values are secrets (or may carry one, like the guest-agent script on stdin).
SECRET_KEY_PATTERN = re.compile(
    r"(pass(word|wd)?|secret|token|api[-_]?key|private[-_]?key|authorization|cookie|credential|"
    r"input[-_]data|cipassword|ticket|csrf)",
    re.IGNORECASE,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Naive datetimes are taken as UTC; aware ones are converted."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso(value: datetime) -> str:
    """Fixed-width ISO-8601 UTC text (sorts lexicographically in SQLite)."""
    return as_utc(value).isoformat(timespec="microseconds")


def redact(value: Any, *, secrets: tuple[str, ...] = ()) -> Any:
    """A copy of ``value`` with secret-looking keys masked and any known secret string replaced.

    ``secrets`` are literal secret values to scrub wherever they appear inside strings.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = str(key)
            if SECRET_KEY_PATTERN.search(skey) and item not in (None, "", False):
                out[skey] = REDACTED
            else:
                out[skey] = redact(item, secrets=secrets)
        return out
    if isinstance(value, list | tuple):
        return [redact(item, secrets=secrets) for item in value]
    if isinstance(value, str):
        for secret in secrets:
            if secret and len(secret) >= 4 and secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value), secrets=secrets)
