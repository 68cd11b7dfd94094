"""The engine's view of the SQLite journal: every write off the event loop, on one dedicated thread.

Also: the lease owner id (``host:pid:uuid``) and helpers to read the engine's own bookkeeping that lives in
the persisted params under the reserved key ``_engine`` (phase of a compensation in progress).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any, TypeVar

from hks_tui.models import StepStatus, WorkflowRecord, WorkflowStatus, WorkflowStep
from hks_tui.models.common import redact
from hks_tui.store import Store
from hks_tui.workflows.errors import SecretInParamsError, UnknownWorkflowError

T = TypeVar("T")

ENGINE_KEY = "_engine"


def new_owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def user_params(params: dict[str, Any]) -> dict[str, Any]:
    """The params a step sees (without the engine's bookkeeping)."""
    return {k: v for k, v in params.items() if k != ENGINE_KEY}


def assert_no_secrets(params: dict[str, Any]) -> None:
    """Params go to SQLite: refuse secret-looking keys (pass them to steps through ``deps`` instead)."""
    if redact(params) != params:
        raise SecretInParamsError(
            "workflow params would store a secret-looking value (a key such as password/token/secret); "
            "secrets never go to the database — give them to the steps through the engine's deps"
        )


class Journal:
    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hks-journal")

    async def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking journal function on the journal thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(fn, *args, **kwargs))

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    # -- reads -----------------------------------------------------------------------------------
    async def get(self, workflow_id: str) -> WorkflowRecord:
        record = await self.call(self.store.workflows.get, workflow_id)
        if record is None:
            raise UnknownWorkflowError(f"no workflow {workflow_id!r} in the journal")
        return record

    async def steps(self, workflow_id: str) -> list[WorkflowStep]:
        return await self.call(self.store.workflows.steps, workflow_id)

    # -- writes ----------------------------------------------------------------------------------
    async def set_status(self, workflow_id: str, status: WorkflowStatus, error: str = "") -> None:
        await self.call(self.store.workflows.set_status, workflow_id, status, error)

    async def save_params(self, workflow_id: str, params: dict[str, Any]) -> None:
        await self.call(self.save_params_sync, workflow_id, params)

    def save_params_sync(self, workflow_id: str, params: dict[str, Any]) -> None:
        """Write params; a cancel request another process recorded meanwhile is kept (one transaction)."""
        assert_no_secrets(user_params(params))
        with self.store.write() as db:
            row = db.execute("SELECT params FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
            current = json.loads(row[0]) if row and row[0] else {}
            out = dict(params)
            if (current.get(ENGINE_KEY) or {}).get("cancel"):
                out[ENGINE_KEY] = {**(out.get(ENGINE_KEY) or {}), "cancel": True}
            self.store.workflows.update_params(workflow_id, out)

    # -- cancel requests (work across processes: the lease holder polls them at step boundaries) --
    def request_cancel_sync(self, workflow_id: str) -> bool:
        with self.store.write() as db:
            row = db.execute("SELECT params FROM workflows WHERE id = ?", (workflow_id,)).fetchone()
            if row is None:
                return False
            params = json.loads(row[0]) if row[0] else {}
            params[ENGINE_KEY] = {**(params.get(ENGINE_KEY) or {}), "cancel": True}
            self.store.workflows.update_params(workflow_id, params)
            return True

    async def request_cancel(self, workflow_id: str) -> bool:
        return await self.call(self.request_cancel_sync, workflow_id)

    async def cancel_requested(self, workflow_id: str) -> bool:
        record = await self.call(self.store.workflows.get, workflow_id)
        return record is not None and bool((record.params.get(ENGINE_KEY) or {}).get("cancel"))

    async def save_step(self, step: WorkflowStep) -> None:
        await self.call(self.store.workflows.save_step, step)

    def save_step_sync(self, step: WorkflowStep) -> None:
        self.store.workflows.save_step(step)

    async def step_update(self, step: WorkflowStep, **update: Any) -> WorkflowStep:
        new = step.model_copy(update=update)
        await self.save_step(new)
        return new

    # -- lease -----------------------------------------------------------------------------------
    async def acquire(self, workflow_id: str, owner: str, ttl: float) -> bool:
        return await self.call(
            self.store.workflows.acquire_lease, workflow_id, owner, timedelta(seconds=ttl), now=self.now()
        )

    async def renew(self, workflow_id: str, owner: str, ttl: float) -> bool:
        return await self.call(
            self.store.workflows.renew_lease, workflow_id, owner, timedelta(seconds=ttl), now=self.now()
        )

    async def release(self, workflow_id: str, owner: str) -> bool:
        return await self.call(self.store.workflows.release_lease, workflow_id, owner)


def lease_live(record: WorkflowRecord, now: datetime) -> bool:
    return record.lease_owner is not None and record.lease_expires is not None and record.lease_expires >= now


def step_uncertain(step: WorkflowStep) -> bool:
    """A previous attempt may have had an external effect (died mid-call, or failed ambiguously)."""
    return step.attempts > 0 and step.status in (StepStatus.RUNNING, StepStatus.FAILED)
