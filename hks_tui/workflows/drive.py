"""Driving one workflow while holding its lease: steps in order, journaled before and after each call.

Crash safety: a step row is written ``running`` (attempt n) *before* the external call and
``succeeded``/``failed`` *after* it. A row found ``running``/``failed`` with attempts > 0 is "uncertain":
before calling again the driver asks the step's ``check()`` and adopts an effect that already exists.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any

from hks_tui.models import StepStatus, WorkflowStatus, WorkflowStep
from hks_tui.workflows.compensation import CompensatingDriver
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import Step
from hks_tui.workflows.driver_base import _Cancelled, _StepFailed
from hks_tui.workflows.errors import (
    OutcomeUnknownError,
    SecretInParamsError,
    StepTimeoutError,
    WorkflowError,
    describe,
    one_line,
)
from hks_tui.workflows.events import EventType
from hks_tui.workflows.journal import ENGINE_KEY, assert_no_secrets, step_uncertain, user_params


class Driver(CompensatingDriver):
    """One run of one workflow (fresh, resumed, or a cancellation) by the current lease holder."""

    # -- the run ---------------------------------------------------------------------------------
    async def run(self) -> WorkflowStatus:
        self._loop = asyncio.get_running_loop()
        rows = await self.journal.steps(self.id)
        self._check_plan(rows)
        for row in rows:
            if row.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED):
                self.results[row.name] = dict(row.result)
        engine_meta = self.params.get(ENGINE_KEY) or {}
        if self.record.status == WorkflowStatus.COMPENSATING or engine_meta.get("phase") == "compensate":
            final = WorkflowStatus(engine_meta.get("final", WorkflowStatus.COMPENSATED))
            return await self._compensate(str(engine_meta.get("reason", self.record.error)), final)
        if await self.poll_cancel():
            return await self._cancelled()
        await self.journal.set_status(self.id, WorkflowStatus.RUNNING)
        self.publish(EventType.WORKFLOW_STARTED, status=str(WorkflowStatus.RUNNING))
        for index, step in enumerate(self.kind.steps):
            row = rows[index]
            if row.status in (StepStatus.SUCCEEDED, StepStatus.SKIPPED):
                continue
            if await self.poll_cancel():
                return await self._cancelled()
            try:
                self.results[step.name] = await self._run_step(index, step, row)
            except _Cancelled:
                return await self._cancelled()
            except _StepFailed as failed:
                return await self._failed(index, failed)
        return await self._finish(WorkflowStatus.SUCCEEDED, "")

    def _check_plan(self, rows: list[WorkflowStep]) -> None:
        names = [r.name for r in rows]
        if names != self.kind.step_names:
            raise WorkflowError(
                f"workflow {self.id}: the journal's steps {names} do not match kind {self.kind.name!r} "
                f"({self.kind.step_names}); it was created by another version of hks-tui"
            )

    async def _run_step(self, index: int, step: Step, row: WorkflowStep) -> dict[str, Any]:
        deadline = self.clock() + step.budget if step.budget is not None else None
        uncertain = step_uncertain(row)
        prior = row.attempts
        attempt = 0
        self.publish(EventType.STEP_STARTED, step=step.name, index=index, detail=step.label)
        while True:
            attempt += 1
            total = prior + attempt
            await self._renew()
            row = await self.journal.step_update(
                row,
                status=StepStatus.RUNNING,
                attempts=total,
                started_at=self.now(),
                finished_at=None,
                detail=f"attempt {attempt}/{step.max_attempts}",
            )
            row_ref = [row]
            self.publish(EventType.STEP_ATTEMPT, step=step.name, index=index, attempt=total)
            ctx = self._context(index, step, total, "run", row_ref, deadline)
            remaining = None if deadline is None else deadline - self.clock()
            adopted = False
            try:
                if remaining is not None and remaining <= 0:
                    raise StepTimeoutError(step.name, step.budget or 0.0)
                result: Any = None
                if uncertain and step.check is not None:
                    ctx.phase = "check"
                    found = await self._call(step.check, ctx, remaining)
                    if found is not None and found is not False:
                        adopted = True
                        result = {} if found is True else found
                if not adopted:
                    if uncertain and step.check is None and not step.idempotent:
                        raise OutcomeUnknownError(step.name)
                    ctx.phase = "run"
                    remaining = None if deadline is None else deadline - self.clock()
                    result = await self._call(step.run, ctx, remaining)
                result = _as_mapping(step, result)
                assert_no_secrets(user_params(ctx.params))
            except Exception as exc:
                error = exc
            else:
                return await self._succeeded(index, step, row_ref[0], ctx, result, adopted)
            if step.treats_as_done(error):
                return await self._succeeded(index, step, row_ref[0], ctx, {"not_found": True}, False)
            uncertain = True
            row = row_ref[0]
            with contextlib.suppress(SecretInParamsError):  # never journal a secret; the step failed anyway
                await self.persist_params(ctx.params)  # what the step chose stays journaled even on failure
            await self.poll_cancel()
            delay = step.backoff.delay(attempt, self.rng)
            retry, why = self._should_retry(step, error, attempt, deadline, delay)
            row = await self.journal.step_update(
                row,
                status=StepStatus.FAILED,
                finished_at=self.now(),
                detail=one_line(error),
                result={"error": describe(error)},
            )
            if retry:
                self.publish(
                    EventType.STEP_RETRY,
                    step=step.name,
                    index=index,
                    attempt=total,
                    delay=delay,
                    detail=one_line(error),
                    error=describe(error),
                )
                await self.sleep(delay)
                continue
            if self.cancel.is_set():
                raise _Cancelled()
            self.publish(
                EventType.STEP_FAILED,
                step=step.name,
                index=index,
                attempt=total,
                detail=f"{one_line(error)} ({why})",
                error=describe(error),
            )
            raise _StepFailed(step, error, attempt)

    def _should_retry(
        self, step: Step, error: BaseException, attempt: int, deadline: float | None, delay: float
    ) -> tuple[bool, str]:
        if isinstance(error, WorkflowError) or not step.retry_on(error):
            return False, "not retryable"
        if attempt >= step.max_attempts:
            return False, f"gave up after {attempt} attempts"
        if self.cancel.is_set():
            return False, "cancel requested"
        if deadline is not None and self.clock() + delay >= deadline:
            return False, f"time budget of {step.budget:g} s used up"
        return True, "retrying"

    async def _succeeded(
        self, index: int, step: Step, row: WorkflowStep, ctx: StepContext, result: Any, adopted: bool
    ) -> dict[str, Any]:
        value = _as_mapping(step, result)
        await self.persist_params(ctx.params)  # the step may have recorded params (e.g. the VMID it chose)
        detail = (
            "adopted: the effect already existed"
            if adopted
            else ("not found: already gone" if value.get("not_found") else "done")
        )
        await self.journal.step_update(
            row, status=StepStatus.SUCCEEDED, finished_at=self.now(), detail=detail, result=value
        )
        self.publish(
            EventType.STEP_ADOPTED if adopted else EventType.STEP_DONE,
            step=step.name,
            index=index,
            attempt=row.attempts,
            detail=detail,
        )
        return value


def _as_mapping(step: Step, result: Any) -> dict[str, Any]:
    """A step's result as the dict the journal stores (``None`` → ``{}``)."""
    if result is None:
        return {}
    if isinstance(result, Mapping):
        return dict(result)
    raise WorkflowError(
        f"step {step.name!r} returned {type(result).__name__}; steps must return a mapping or None"
    )
