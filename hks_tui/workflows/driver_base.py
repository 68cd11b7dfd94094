"""The shared state of a workflow run: events, lease renewal, step contexts and calling step functions."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import random
import threading
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from hks_tui.models import WorkflowRecord, WorkflowStatus, WorkflowStep
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Step, WorkflowKind, is_async
from hks_tui.workflows.errors import (
    LeaseLostError,
    StepTimeoutError,
    one_line,
)
from hks_tui.workflows.events import EventBus, EventType, WorkflowEvent
from hks_tui.workflows.journal import ENGINE_KEY, Journal, user_params
from hks_tui.workflows.submit import Submitter

log = logging.getLogger(__name__)


class _StepFailed(Exception):
    def __init__(self, step: Step, error: BaseException, attempts: int) -> None:
        self.step = step
        self.error = error
        self.attempts = attempts
        super().__init__(one_line(error))


class _Cancelled(Exception):
    pass


class DriverBase:
    """State and helpers of one run of one workflow by the current lease holder."""

    def __init__(
        self,
        *,
        record: WorkflowRecord,
        kind: WorkflowKind,
        journal: Journal,
        bus: EventBus,
        owner: str,
        lease_ttl: float,
        deps: Any,
        submit: Submitter,
        rng: random.Random,
        sleep: Callable[[float], Awaitable[None]],
        clock: Callable[[], float],
        now: Callable[[], datetime],
        cancel: threading.Event,
    ) -> None:
        self.record = record
        self.kind = kind
        self.journal = journal
        self.bus = bus
        self.owner = owner
        self.lease_ttl = lease_ttl
        self.deps = deps
        self.submit = submit
        self.rng = rng
        self.sleep = sleep
        self.clock = clock
        self.now = now
        self.cancel = cancel
        self.id = record.id
        self.params: dict[str, Any] = dict(record.params)
        self.results: dict[str, dict[str, Any]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._params_lock = threading.Lock()

    # -- events ----------------------------------------------------------------------------------
    def publish(self, type_: EventType, **fields: Any) -> None:
        self.bus.publish(WorkflowEvent(workflow_id=self.id, type=type_, **fields))

    def _publish_threadsafe(self, event: WorkflowEvent) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.bus.publish(event)
        else:
            with contextlib.suppress(RuntimeError):  # loop closed: nobody is listening any more
                loop.call_soon_threadsafe(self.bus.publish, event)

    # -- lease -----------------------------------------------------------------------------------
    async def _renew(self) -> None:
        if not await self.journal.renew(self.id, self.owner, self.lease_ttl):
            raise LeaseLostError(self.id, self.owner)

    async def heartbeat(self) -> None:
        """Renew the lease every third of its TTL (real time) while the workflow runs."""
        while True:
            await asyncio.sleep(self.lease_ttl / 3)
            try:
                if not await self.journal.renew(self.id, self.owner, self.lease_ttl):
                    return  # lost: the driver notices at its next journal write and stops
            except Exception:  # a busy database must not kill the heartbeat; the next beat retries
                log.warning("could not renew the lease of workflow %s", self.id, exc_info=True)

    async def _finish(self, status: WorkflowStatus, error: str) -> WorkflowStatus:
        await self.journal.set_status(self.id, status, error)
        self.publish(EventType.WORKFLOW_FINISHED, status=str(status), detail=error)
        return status

    # -- one step --------------------------------------------------------------------------------
    def _context(
        self,
        index: int,
        step: Step,
        attempt: int,
        phase: str,
        row_ref: list[WorkflowStep],
        deadline: float | None = None,
    ) -> StepContext:
        clock = self.clock

        def emit(line: str) -> None:
            self._publish_threadsafe(
                WorkflowEvent(
                    workflow_id=self.id,
                    type=EventType.STEP_DETAIL,
                    step=step.name,
                    index=index,
                    attempt=attempt,
                    detail=line,
                )
            )

        def record_upid(upid: str) -> None:
            row_ref[0] = row_ref[0].model_copy(update={"upid": upid})
            self.journal.save_step_sync(row_ref[0])
            emit(f"task {upid}")

        ctx = StepContext(
            workflow_id=self.id,
            kind=self.kind.name,
            step=step.name,
            index=index,
            attempt=attempt,
            params=self.params_view(),
            results=self.results,
            deps=self.deps,
            phase=phase,
            _emit=emit,
            _record_upid=record_upid,
            _persist=self.persist_params_sync,
            _cancel=self.cancel,
            _remaining=lambda: None if deadline is None else max(0.0, deadline - clock()),
        )
        return ctx

    def persist_params_sync(self, step_params: dict[str, Any]) -> None:
        """Journal the params a step changed (any thread); the engine's own key is kept."""
        with self._params_lock:
            new = copy.deepcopy(step_params)
            if ENGINE_KEY in self.params:
                new[ENGINE_KEY] = self.params[ENGINE_KEY]
            if new == self.params:
                return
            self.params = new
            self.journal.save_params_sync(self.id, self.params)

    async def persist_params(self, step_params: dict[str, Any]) -> None:
        await self.journal.call(self.persist_params_sync, step_params)

    async def poll_cancel(self) -> bool:
        """True when a cancel was requested here or by another process (through the journal)."""
        if not self.cancel.is_set() and await self.journal.cancel_requested(self.id):
            self.cancel.set()
        return self.cancel.is_set()

    def params_view(self) -> dict[str, Any]:
        return copy.deepcopy(user_params(self.params))

    async def _call(self, fn: Callable[[StepContext], Any], ctx: StepContext, remaining: float | None) -> Any:
        """Run a step function (coroutine on the loop, plain function on the executor) within ``remaining``.

        Running out of time raises :class:`StepTimeoutError`; a ``TimeoutError`` raised by the step itself
        (a client timeout) propagates unchanged so that it stays retryable.
        """
        if is_async(fn):
            awaitable: Awaitable[Any] = fn(ctx)
        else:
            awaitable = asyncio.wrap_future(self.submit.submit(fn, ctx))
        if remaining is None:
            return await awaitable

        async def guarded() -> Any:
            try:
                return await awaitable
            except TimeoutError as exc:
                raise _StepRaisedTimeout(exc) from exc

        try:
            return await asyncio.wait_for(guarded(), timeout=remaining)
        except _StepRaisedTimeout as wrapped:
            raise wrapped.error from None
        except TimeoutError:
            raise StepTimeoutError(ctx.step, self._budget_of(ctx.step)) from None

    def _budget_of(self, name: str) -> float:
        return self.kind.step(name).budget or 0.0


class _StepRaisedTimeout(Exception):
    def __init__(self, error: TimeoutError) -> None:
        self.error = error
        super().__init__(str(error))
