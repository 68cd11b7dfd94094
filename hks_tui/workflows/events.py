"""Progress events of running workflows: plain callbacks or an asyncio queue (no UI imports).

Subscribers run on the event loop thread; lines a synchronous step emits from its executor thread are
handed to the loop with ``call_soon_threadsafe``. A failing subscriber never disturbs the workflow.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from hks_tui.models.common import utcnow

log = logging.getLogger(__name__)


class EventType(StrEnum):
    WORKFLOW_STARTED = "workflow.started"  # driving began (fresh or resumed)
    STEP_STARTED = "step.started"
    STEP_ATTEMPT = "step.attempt"  # journaled `running`, about to call the backend
    STEP_DETAIL = "step.detail"  # a detail line: a PVE task log line, a Kubernetes event…
    STEP_RETRY = "step.retry"  # an attempt failed with a transient error; waiting `delay` seconds
    STEP_ADOPTED = "step.adopted"  # check() found the effect already there
    STEP_DONE = "step.done"
    STEP_FAILED = "step.failed"
    COMPENSATING = "workflow.compensating"
    STEP_COMPENSATED = "step.compensated"
    CANCEL_REQUESTED = "workflow.cancel_requested"
    WORKFLOW_FINISHED = "workflow.finished"  # `status` says how: succeeded / paused / failed / …


@dataclass(frozen=True)
class WorkflowEvent:
    workflow_id: str
    type: EventType
    step: str | None = None
    index: int | None = None
    attempt: int | None = None
    detail: str = ""
    status: str | None = None
    delay: float | None = None
    error: dict[str, Any] | None = None
    at: datetime = field(default_factory=utcnow)


Subscriber = Callable[[WorkflowEvent], None]


class EventBus:
    """Fan-out of :class:`WorkflowEvent` to callbacks, optionally filtered by workflow id."""

    def __init__(self) -> None:
        self._subs: list[tuple[Subscriber, str | None]] = []
        self._lock = threading.Lock()

    def subscribe(self, callback: Subscriber, workflow_id: str | None = None) -> Callable[[], None]:
        """Register ``callback``; returns the function that unsubscribes it."""
        entry = (callback, workflow_id)
        with self._lock:
            self._subs.append(entry)

        def unsubscribe() -> None:
            with self._lock:
                if entry in self._subs:
                    self._subs.remove(entry)

        return unsubscribe

    def subscribe_queue(
        self, workflow_id: str | None = None, maxsize: int = 1000
    ) -> tuple[asyncio.Queue[WorkflowEvent], Callable[[], None]]:
        """An asyncio queue fed with events (oldest dropped when full); call it from the loop thread."""
        queue: asyncio.Queue[WorkflowEvent] = asyncio.Queue(maxsize=maxsize)

        def put(event: WorkflowEvent) -> None:
            if queue.full():
                try:
                    queue.get_nowait()
                except asyncio.QueueEmpty:
                    pass
            queue.put_nowait(event)

        return queue, self.subscribe(put, workflow_id)

    def publish(self, event: WorkflowEvent) -> None:
        with self._lock:
            targets = [cb for cb, wid in self._subs if wid is None or wid == event.workflow_id]
        for callback in targets:
            try:
                callback(event)
            except Exception:
                log.exception("workflow event subscriber failed on %s", event.type)
