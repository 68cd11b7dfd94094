"""What a run does when a step fails for good or a cancel arrives: pause, fail, or undo in reverse."""

from __future__ import annotations

from hks_tui.models import StepStatus, WorkflowStatus, WorkflowStep
from hks_tui.workflows.definition import OnFailure, Step
from hks_tui.workflows.driver_base import DriverBase, _StepFailed
from hks_tui.workflows.errors import (
    WorkflowError,
    describe,
    one_line,
)
from hks_tui.workflows.events import EventType
from hks_tui.workflows.journal import ENGINE_KEY


class CompensatingDriver(DriverBase):
    """Failure policy: pause/fail with the error recorded, or undo attempted steps in reverse order.

    Compensation is resumable: the phase is journaled (params ``_engine``) and each undone step is marked
    ``compensated``, so a crash mid-undo continues where it stopped. Undo functions must be idempotent.
    """

    async def _failed(self, index: int, failed: _StepFailed) -> WorkflowStatus:
        step_no = f"{index + 1}/{len(self.kind.steps)}"
        reason = (
            f"step {failed.step.label!r} ({step_no}) failed after {failed.attempts} attempt(s): "
            f"{one_line(failed.error)}"
        )
        policy = self.kind.on_failure
        if policy == OnFailure.COMPENSATE:
            return await self._compensate(reason, WorkflowStatus.COMPENSATED)
        hint = f" Fix the cause, then resume it (hks-tui workflows resume {self.id})."
        status = WorkflowStatus.FAILED if policy == OnFailure.FAIL else WorkflowStatus.PAUSED
        return await self._finish(status, _sentence(reason) + hint)

    async def _cancelled(self) -> WorkflowStatus:
        self.publish(EventType.CANCEL_REQUESTED, detail="stopping at the step boundary")
        if self.kind.compensate_on_cancel:
            return await self._compensate("cancelled by request", WorkflowStatus.CANCELLED)
        return await self._finish(WorkflowStatus.CANCELLED, "cancelled by request")

    async def _compensate(self, reason: str, final: WorkflowStatus) -> WorkflowStatus:
        self.params[ENGINE_KEY] = {"phase": "compensate", "reason": reason, "final": str(final)}
        await self.journal.save_params(self.id, self.params)
        await self.journal.set_status(self.id, WorkflowStatus.COMPENSATING, reason)
        self.publish(EventType.COMPENSATING, status=str(WorkflowStatus.COMPENSATING), detail=reason)
        rows = await self.journal.steps(self.id)
        for index in reversed(range(len(self.kind.steps))):
            step, row = self.kind.steps[index], rows[index]
            if (
                step.compensate is None
                or row.attempts == 0
                or row.status
                in (
                    StepStatus.COMPENSATED,
                    StepStatus.PENDING,
                    StepStatus.SKIPPED,
                )
            ):
                continue
            error = await self._compensate_step(index, step, row)
            if error is not None:
                message = (
                    f"{reason.rstrip('.')}; undoing step {step.label!r} failed: {_sentence(one_line(error))} "
                    f"Resume it (hks-tui workflows resume {self.id}) to retry the undo."
                )
                return await self._finish(WorkflowStatus.PAUSED, message)
        self.params.pop(ENGINE_KEY, None)
        await self.journal.save_params(self.id, self.params)
        return await self._finish(final, reason)

    async def _compensate_step(self, index: int, step: Step, row: WorkflowStep) -> BaseException | None:
        assert step.compensate is not None
        attempt = 0
        while True:
            attempt += 1
            await self._renew()
            row = await self.journal.step_update(
                row, detail=f"undoing (attempt {attempt}/{step.max_attempts})"
            )
            row_ref = [row]  # record_upid() of the undo call updates it
            ctx = self._context(index, step, attempt, "compensate", row_ref)
            try:
                await self._call(step.compensate, ctx, step.budget)
            except Exception as exc:
                # undoing something that is already gone is done
                error = None if step.is_gone(exc) else exc
            else:
                error = None
            row = row_ref[0]
            if error is None:
                await self.journal.step_update(row, status=StepStatus.COMPENSATED, detail="undone")
                self.publish(EventType.STEP_COMPENSATED, step=step.name, index=index, detail="undone")
                return None
            retry = (
                not isinstance(error, WorkflowError) and step.retry_on(error) and attempt < step.max_attempts
            )
            if not retry:
                self.publish(
                    EventType.STEP_FAILED,
                    step=step.name,
                    index=index,
                    attempt=attempt,
                    detail=f"undo failed: {one_line(error)}",
                    error=describe(error),
                )
                return error
            delay = step.backoff.delay(attempt, self.rng)
            self.publish(
                EventType.STEP_RETRY,
                step=step.name,
                index=index,
                attempt=attempt,
                delay=delay,
                detail=f"undo: {one_line(error)}",
                error=describe(error),
            )
            await self.sleep(delay)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."
