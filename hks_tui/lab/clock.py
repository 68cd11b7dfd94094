"""The lab's accelerated clock.

Every simulated duration in the lab (VM boot, image pull, CronJob schedules, disk growth) is measured on
this clock, so a ``time_scale`` of 10 makes a 30-second boot take 3 real seconds. Wall-clock timestamps
shown to clients (creationTimestamp, task start times) are ``epoch + elapsed * time_scale``, so they look
like real times and advance faster than real time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime


class LabClock:
    """Monotonic, accelerated lab time."""

    def __init__(self, time_scale: float = 1.0, start: float | None = None) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = float(time_scale)
        self._real0 = time.monotonic()
        self._epoch0 = time.time() if start is None else start
        self._offset = 0.0  # lab seconds added by advance()

    def now(self) -> float:
        """Lab time as a Unix timestamp (seconds)."""
        return self._epoch0 + (time.monotonic() - self._real0) * self.time_scale + self._offset

    def elapsed(self) -> float:
        """Lab seconds since the lab started."""
        return self.now() - self._epoch0

    def advance(self, seconds: float) -> None:
        """Jump the lab clock forward (used by tests and the control API)."""
        if seconds < 0:
            raise ValueError("the lab clock never goes backwards")
        self._offset += seconds

    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.now(), tz=UTC)

    def iso(self, ts: float | None = None) -> str:
        """RFC 3339 timestamp with second precision, as Kubernetes writes it."""
        value = self.now() if ts is None else ts
        return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def real_seconds(self, lab_seconds: float) -> float:
        """How long ``lab_seconds`` of lab time take in real time."""
        return lab_seconds / self.time_scale

    async def sleep(self, lab_seconds: float) -> None:
        """Sleep for ``lab_seconds`` of lab time."""
        await asyncio.sleep(max(0.0, lab_seconds / self.time_scale))
