"""The durable workflow engine: create, run, resume, cancel and observe journaled workflows.

Usage::

    engine = WorkflowEngine(store, [PROVISION_NODE], deps=clients, executor=service_executor)
    record = engine.create("node.provision", {"name": "ws1-pool-a-3f2c"}, workspace="ws1")
    task = engine.run_in_background(record.id, on_done=notify)
    unsubscribe = engine.events.subscribe(timeline.on_event, record.id)

A process drives a workflow only while holding its lease (``host:pid:uuid``, TTL renewed while running).
Another engine refuses with :class:`LeaseHeldError` until the lease expires; then it may take over and
resume, re-checking any step left ``running`` before repeating it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from hks_tui.models import StepStatus, WorkflowRecord, WorkflowStatus, WorkflowStep
from hks_tui.models.common import utcnow
from hks_tui.store import Store
from hks_tui.workflows.definition import WorkflowKind
from hks_tui.workflows.drive import Driver
from hks_tui.workflows.errors import (
    LeaseHeldError,
    LeaseLostError,
    TargetBusyError,
    UnknownKindError,
    UnknownWorkflowError,
    WorkflowError,
    WorkflowFinishedError,
)
from hks_tui.workflows.events import EventBus, EventType, WorkflowEvent
from hks_tui.workflows.journal import Journal, assert_no_secrets, lease_live, new_owner_id
from hks_tui.workflows.report import workflow_json
from hks_tui.workflows.submit import Submitter

log = logging.getLogger(__name__)

DEFAULT_LEASE_TTL = 30.0
# Statuses a dead runner can leave behind; resume_unfinished() picks these up (paused ones on request).
_LEFT_RUNNING = (WorkflowStatus.PENDING, WorkflowStatus.RUNNING, WorkflowStatus.COMPENSATING)
_RESUMABLE = (*_LEFT_RUNNING, WorkflowStatus.PAUSED, WorkflowStatus.FAILED)


@dataclass
class ResumeReport:
    """What :meth:`WorkflowEngine.resume_unfinished` did."""

    finished: list[WorkflowRecord] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (workflow id, why)


class WorkflowEngine:
    def __init__(
        self,
        store: Store,
        kinds: Iterable[WorkflowKind] = (),
        *,
        deps: Any = None,
        executor: Submitter | None = None,
        owner: str | None = None,
        lease_ttl: float = DEFAULT_LEASE_TTL,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        clock: Callable[[], float] | None = None,
        now: Callable[[], datetime] | None = None,
        events: EventBus | None = None,
    ) -> None:
        """``sleep``/``clock``/``now``/``rng`` are injectable for tests (backoff waits, budgets, lease time)."""
        if lease_ttl <= 0:
            raise ValueError("lease_ttl must be positive")
        self.store = store
        self.deps = deps
        self.owner = owner or new_owner_id()
        self.lease_ttl = lease_ttl
        self.rng = rng or random.Random()
        self.sleep = sleep or asyncio.sleep
        self.clock = clock or _monotonic
        self.now = now or utcnow
        self.events = events or EventBus()
        self._own_pool: ThreadPoolExecutor | None = None
        if executor is None:
            self._own_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hks-wf")
            executor = self._own_pool
        self.executor: Submitter = executor
        self.journal = Journal(store, self.now)
        self._kinds: dict[str, WorkflowKind] = {}
        self._running: dict[str, threading.Event] = {}  # workflow id → its cancel flag
        self._background: set[asyncio.Task[WorkflowRecord]] = set()
        for kind in kinds:
            self.register(kind)

    # -- kinds -----------------------------------------------------------------------------------
    def register(self, kind: WorkflowKind) -> None:
        if kind.name in self._kinds and self._kinds[kind.name] is not kind:
            raise ValueError(f"workflow kind {kind.name!r} is already registered")
        self._kinds[kind.name] = kind

    def kind(self, name: str) -> WorkflowKind:
        try:
            return self._kinds[name]
        except KeyError:
            raise UnknownKindError(
                f"unknown workflow kind {name!r}; this hks-tui knows {sorted(self._kinds)}"
            ) from None

    @property
    def kinds(self) -> list[str]:
        return sorted(self._kinds)

    # -- creating and reading --------------------------------------------------------------------
    def create(
        self,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        workspace: str = "",
        target: str = "",
        workflow_id: str | None = None,
        exclusive: bool = False,
    ) -> WorkflowRecord:
        """Journal a new workflow (``pending``, leased to this engine) and its planned steps in one transaction.

        ``exclusive=True``: refuse with :class:`TargetBusyError` when an unfinished workflow already acts on
        the same ``workspace``/``target`` (e.g. a node with an action in flight) — checked atomically with
        the insert, so two consoles cannot both start one.
        """
        definition = self.kind(kind)
        values = dict(params or {})
        assert_no_secrets(values)
        now = self.now()
        record = WorkflowRecord(
            id=workflow_id or f"wf-{uuid.uuid4().hex[:12]}",
            kind=definition.name,
            workspace=workspace,
            target=target,
            status=WorkflowStatus.PENDING,
            params=values,
            created_at=now,
            updated_at=now,
            # born leased to us, so no other process's resume_unfinished() grabs it before run() starts;
            # if we die first, the lease expires and it becomes resumable
            lease_owner=self.owner,
            lease_expires=now + timedelta(seconds=self.lease_ttl),
        )
        steps = [
            WorkflowStep(workflow_id=record.id, index=i, name=s.name, status=StepStatus.PENDING)
            for i, s in enumerate(definition.steps)
        ]
        with self.store.write() as db:
            if exclusive:
                busy = _unfinished_on(db, workspace, target)
                if busy is not None:
                    raise TargetBusyError(target or workspace, busy[0], busy[1])
            self.store.workflows.create(record, steps)
        return record

    def active_for(self, target: str, *, workspace: str | None = None) -> list[WorkflowRecord]:
        """Unfinished workflows acting on ``target`` (newest first) — "a node with an action in flight"."""
        return [
            r for r in self.store.workflows.list(workspace=workspace, unfinished=True) if r.target == target
        ]

    def get(self, workflow_id: str) -> WorkflowRecord | None:
        return self.store.workflows.get(workflow_id)

    def steps(self, workflow_id: str) -> list[WorkflowStep]:
        return self.store.workflows.steps(workflow_id)

    def show(self, workflow_id: str) -> dict[str, Any]:
        """The workflow and its steps as plain JSON-able data (``hks-tui workflows show``)."""
        record = self.get(workflow_id)
        if record is None:
            raise UnknownWorkflowError(f"no workflow {workflow_id!r} in the journal")
        return workflow_json(record, self.steps(workflow_id), self._kinds.get(record.kind))

    def is_running(self, workflow_id: str) -> bool:
        """Driven by this engine right now."""
        return workflow_id in self._running

    def resumable(self, *, include_paused: bool = False) -> list[WorkflowRecord]:
        """Unfinished workflows nobody drives (no lease, or an expired one) — to offer at start-up."""
        wanted = _RESUMABLE if include_paused else _LEFT_RUNNING
        now = self.now()
        return [
            r
            for r in self.store.workflows.list(unfinished=True)
            if r.status in wanted and not lease_live(r, now) and r.id not in self._running
        ]

    # -- driving ---------------------------------------------------------------------------------
    async def start(
        self,
        kind: str,
        params: Mapping[str, Any] | None = None,
        *,
        workspace: str = "",
        target: str = "",
        workflow_id: str | None = None,
    ) -> WorkflowRecord:
        """Create and run to the end (success, pause, failure, compensation); returns the final record."""
        record = self.create(kind, params, workspace=workspace, target=target, workflow_id=workflow_id)
        return await self.run(record.id)

    async def run(self, workflow_id: str) -> WorkflowRecord:
        """Drive a pending, interrupted, paused or failed workflow to its end; returns the final record.

        Raises :class:`LeaseHeldError` when another runner holds the lease and
        :class:`WorkflowFinishedError` when it already finished.
        """
        return await self._drive(workflow_id, cancel=False)

    resume = run

    def run_in_background(
        self,
        workflow_id: str,
        on_done: Callable[[WorkflowRecord | None, BaseException | None], None] | None = None,
    ) -> asyncio.Task[WorkflowRecord]:
        """Run as an asyncio task; ``on_done(record, error)`` is called when it ends (error: engine-level)."""
        task = asyncio.get_running_loop().create_task(self.run(workflow_id), name=f"workflow {workflow_id}")
        self._background.add(task)

        def finished(t: asyncio.Task[WorkflowRecord]) -> None:
            self._background.discard(t)
            if on_done is None:
                if not t.cancelled() and t.exception() is not None:
                    log.error("workflow %s stopped: %s", workflow_id, t.exception())
                return
            if t.cancelled():
                on_done(self.get(workflow_id), asyncio.CancelledError())
            elif t.exception() is not None:
                on_done(self.get(workflow_id), t.exception())
            else:
                on_done(t.result(), None)

        task.add_done_callback(finished)
        return task

    async def cancel(self, workflow_id: str) -> WorkflowRecord | None:
        """Stop at the next step boundary and compensate (when the kind says so).

        When a runner — this engine or another process — drives the workflow, the request is recorded
        (in memory and in the journal, which the lease holder polls at every step boundary) and ``None``
        is returned at once: the run ends ``cancelled`` shortly. Otherwise this engine takes the
        workflow, compensates it and marks it cancelled; the final record is returned.
        """
        running = self._running.get(workflow_id)
        if running is not None:
            running.set()
            await self.journal.request_cancel(workflow_id)
            self._announce_cancel(workflow_id)
            return None
        try:
            return await self._drive(workflow_id, cancel=True)
        except LeaseHeldError:
            await self.journal.request_cancel(workflow_id)
            self._announce_cancel(workflow_id)
            return None

    def _announce_cancel(self, workflow_id: str) -> None:
        self.events.publish(WorkflowEvent(workflow_id, EventType.CANCEL_REQUESTED, detail="cancel requested"))

    async def resume_unfinished(self, *, include_paused: bool = False) -> ResumeReport:
        """Resume, concurrently, the workflows a dead process left behind (their lease expired).

        The UI asks the user first (list them with :meth:`resumable`); ``hks-tui workflows resume`` calls
        this directly. Workflows another runner took meanwhile are reported as skipped.
        """
        report = ResumeReport()
        candidates = self.resumable(include_paused=include_paused)
        outcomes = await asyncio.gather(*(self.run(r.id) for r in candidates), return_exceptions=True)
        for record, outcome in zip(candidates, outcomes, strict=True):
            if isinstance(outcome, WorkflowRecord):
                report.finished.append(outcome)
            elif isinstance(outcome, WorkflowError):
                log.warning("workflow %s was not resumed: %s", record.id, outcome)
                report.skipped.append((record.id, str(outcome)))
            else:
                raise outcome
        return report

    async def _drive(self, workflow_id: str, *, cancel: bool) -> WorkflowRecord:
        if workflow_id in self._running:
            raise LeaseHeldError(workflow_id, f"this console ({self.owner})")
        cancel_event = threading.Event()
        if cancel:
            cancel_event.set()
        self._running[workflow_id] = cancel_event  # before any await: no second run() slips in
        try:
            record = await self.journal.get(workflow_id)
            if record.status.finished and record.status != WorkflowStatus.FAILED:
                raise WorkflowFinishedError(f"workflow {workflow_id} already finished ({record.status})")
            kind = self.kind(record.kind)
            if not await self.journal.acquire(workflow_id, self.owner, self.lease_ttl):
                current = await self.journal.get(workflow_id)
                expires = current.lease_expires.isoformat(timespec="seconds") if current.lease_expires else ""
                raise LeaseHeldError(workflow_id, current.lease_owner, expires)
            record = await self.journal.get(workflow_id)
            driver = Driver(
                record=record,
                kind=kind,
                journal=self.journal,
                bus=self.events,
                owner=self.owner,
                lease_ttl=self.lease_ttl,
                deps=self.deps,
                submit=self.executor,
                rng=self.rng,
                sleep=self.sleep,
                clock=self.clock,
                now=self.now,
                cancel=cancel_event,
            )
            heartbeat = asyncio.get_running_loop().create_task(driver.heartbeat())
            released = False
            try:
                await driver.run()
                released = True
            except LeaseLostError:
                raise
            except WorkflowError:
                released = True  # refused before any call (e.g. a journal from another version)
                raise
            finally:
                heartbeat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await heartbeat
                if released:
                    # Only after a clean end; a crash or task cancellation leaves the lease to expire so
                    # nobody resumes while a call of ours may still be in flight.
                    await self.journal.release(workflow_id, self.owner)
            return await self.journal.get(workflow_id)
        finally:
            self._running.pop(workflow_id, None)

    async def aclose(self) -> None:
        """Cancel background runs and free the engine's threads."""
        for task in list(self._background):
            task.cancel()
        for task in list(self._background):
            with contextlib.suppress(BaseException):
                await task
        if self._own_pool is not None:
            self._own_pool.shutdown(wait=False, cancel_futures=True)
        self.journal.close()


def _unfinished_on(db: Any, workspace: str, target: str) -> tuple[str, str] | None:
    """(id, kind) of an unfinished workflow on ``workspace``/``target``, inside the caller's transaction."""
    finished = [str(st) for st in WorkflowStatus if st.finished]
    row = db.execute(
        "SELECT id, kind FROM workflows WHERE workspace = ? AND target = ? "
        f"AND status NOT IN ({', '.join('?' for _ in finished)}) ORDER BY created_at DESC LIMIT 1",
        (workspace, target, *finished),
    ).fetchone()
    return (str(row[0]), str(row[1])) if row else None


def _monotonic() -> float:
    import time

    return time.monotonic()
