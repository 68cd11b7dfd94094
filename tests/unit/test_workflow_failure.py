"""Workflow failure handling: compensation in reverse, cancellation, budgets, unknown outcomes, leases."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import InvalidError, NotFoundError, RetryableServerError
from hks_tui.models import StepStatus, WorkflowStatus
from hks_tui.store import Store
from hks_tui.workflows import (
    Backoff,
    EventType,
    LeaseHeldError,
    OnFailure,
    Step,
    StepContext,
    WorkflowEngine,
    WorkflowEvent,
    WorkflowKind,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.t += seconds
        await asyncio.sleep(0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "hks.db")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def make(store: Store, clock: Clock) -> AsyncIterator[Any]:
    made: list[WorkflowEngine] = []

    def factory(*kinds: WorkflowKind, **kwargs: Any) -> WorkflowEngine:
        options: dict[str, Any] = {
            "rng": random.Random(5),
            "sleep": clock.sleep,
            "clock": clock.monotonic,
            "now": clock.wall,
        }
        options.update(kwargs)
        engine = WorkflowEngine(store, kinds, **options)
        made.append(engine)
        return engine

    yield factory
    for engine in made:
        await engine.aclose()


class Recorder:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.present: set[str] = set()

    def step(self, name: str, *, fail: BaseException | None = None, undo_fails: int = 0) -> Step:
        undo_failures = {"left": undo_fails}

        def run(ctx: StepContext) -> dict[str, Any]:
            self.log.append(f"run:{name}")
            if fail is not None:
                raise fail
            self.present.add(name)
            return {}

        def compensate(ctx: StepContext) -> None:
            if undo_failures["left"] > 0:
                undo_failures["left"] -= 1
                raise InvalidError(f"destroy {name}", "VM is locked (backup)")
            self.log.append(f"undo:{name}")
            if name not in self.present:
                raise NotFoundError(f"destroy {name}", "does not exist")
            self.present.discard(name)

        return Step(name, run=run, compensate=compensate, max_attempts=2, backoff=Backoff(0.1, 2, 1))


async def test_compensation_undoes_attempted_steps_in_reverse(make: Any, store: Store) -> None:
    rec = Recorder()
    boom = InvalidError("join node ws1-a", "token rejected", status=400)
    kind = WorkflowKind(
        "test.comp",
        [
            rec.step("clone"),
            rec.step("disk"),
            rec.step("start"),
            rec.step("join", fail=boom),
            rec.step("label"),
        ],
        on_failure=OnFailure.COMPENSATE,
    )
    engine = make(kind)
    events: list[WorkflowEvent] = []
    engine.events.subscribe(events.append)
    record = await engine.start("test.comp")
    assert record.status == WorkflowStatus.COMPENSATED
    assert "token rejected" in record.error and "_engine" not in record.params
    # the failed step is undone too (its effect may half exist; NotFound counts as undone); label never ran
    assert rec.log == [
        "run:clone", "run:disk", "run:start", "run:join",
        "undo:join", "undo:start", "undo:disk", "undo:clone",
    ]  # fmt: skip
    assert rec.present == set()
    statuses = [s.status for s in store.workflows.steps(record.id)]
    assert statuses == [StepStatus.COMPENSATED] * 4 + [StepStatus.PENDING]
    assert EventType.COMPENSATING in [e.type for e in events]


async def test_failed_undo_pauses_and_resume_finishes_the_compensation(make: Any) -> None:
    rec = Recorder()
    kind = WorkflowKind(
        "test.comp2",
        [rec.step("clone", undo_fails=1), rec.step("start", fail=InvalidError("start", "bad", status=400))],
        on_failure=OnFailure.COMPENSATE,
    )
    engine = make(kind)
    record = await engine.start("test.comp2")
    assert record.status == WorkflowStatus.PAUSED
    assert "undoing step 'clone' failed" in record.error and "VM is locked" in record.error
    assert "clone" in rec.present
    resumed = await engine.resume(record.id)
    assert resumed.status == WorkflowStatus.COMPENSATED
    assert rec.present == set() and rec.log.count("run:clone") == 1  # resume did not run forward again


async def test_cancel_stops_at_the_next_step_boundary_and_compensates(make: Any) -> None:
    rec = Recorder()
    gate = threading.Event()
    started = threading.Event()

    def slow(ctx: StepContext) -> dict[str, Any]:
        rec.log.append("run:wait")
        rec.present.add("wait")
        started.set()
        gate.wait(5)
        return {}

    kind = WorkflowKind(
        "test.cancel",
        [rec.step("clone"), Step("wait", run=slow), rec.step("join")],
        on_failure=OnFailure.PAUSE,
        compensate_on_cancel=True,
    )
    engine = make(kind)
    record = engine.create("test.cancel")
    task = engine.run_in_background(record.id)
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    assert engine.is_running(record.id)
    with pytest.raises(LeaseHeldError):
        await engine.run(record.id)  # one driver per workflow, even inside one process
    assert await engine.cancel(record.id) is None
    gate.set()
    final = await task
    assert final.status == WorkflowStatus.CANCELLED
    assert rec.log == ["run:clone", "run:wait", "undo:clone"]  # join never ran; wait had no undo


async def test_cancel_of_a_paused_workflow_compensates_it(make: Any) -> None:
    rec = Recorder()
    kind = WorkflowKind("test.cancel2", [rec.step("clone"), rec.step("start", fail=InvalidError("s", "x"))])
    engine = make(kind)
    record = await engine.start("test.cancel2")
    assert record.status == WorkflowStatus.PAUSED
    cancelled = await engine.cancel(record.id)
    assert cancelled is not None and cancelled.status == WorkflowStatus.CANCELLED
    assert rec.present == set()


async def test_time_budget_stops_retrying(make: Any, clock: Clock) -> None:
    calls: list[float] = []

    def busy(ctx: StepContext) -> None:
        calls.append(clock.t)
        raise RetryableServerError("start VM 101", "can't lock file '/var/lock/qemu-server/lock-101.conf'")

    step = Step(
        "start", run=busy, max_attempts=100, budget=20.0, backoff=Backoff(base=2.0, factor=2.0, cap=8.0)
    )
    engine = make(WorkflowKind("test.budget", [step]))
    record = await engine.start("test.budget")
    assert record.status == WorkflowStatus.PAUSED and "can't lock file" in record.error
    assert 2 <= len(calls) < 100 and clock.t <= 20.0


async def test_a_step_that_overruns_its_budget_times_out(make: Any) -> None:
    async def hang(ctx: StepContext) -> None:
        await asyncio.sleep(10)

    engine = make(WorkflowKind("test.hang", [Step("wait", run=hang, budget=0.05)]))
    record = await engine.start("test.hang")
    assert record.status == WorkflowStatus.PAUSED
    assert "exceeded its time budget" in record.error


async def test_interrupted_non_idempotent_step_without_check_is_not_repeated(
    make: Any, store: Store, clock: Clock
) -> None:
    calls: list[int] = []
    kind = WorkflowKind("test.unknown", [Step("create", run=lambda ctx: calls.append(1), idempotent=False)])
    engine = make(kind, owner="me:1:x")
    record = engine.create("test.unknown")
    # a dead runner journaled `running` and died during the call
    step = store.workflows.steps(record.id)[0]
    store.workflows.save_step(step.model_copy(update={"status": StepStatus.RUNNING, "attempts": 1}))
    store.workflows.set_status(record.id, WorkflowStatus.RUNNING)
    final = await engine.resume(record.id)
    assert final.status == WorkflowStatus.PAUSED and calls == []
    assert "cannot determine the result of step 'create'" in final.error


async def test_a_runner_that_lost_its_lease_stops_driving(make: Any, store: Store, clock: Clock) -> None:
    calls: list[str] = []

    def first(ctx: StepContext) -> None:
        calls.append("first")
        # meanwhile we stalled past the TTL and another runner took over
        assert store.workflows.acquire_lease(
            ctx.workflow_id, "other:2:y", timedelta(seconds=30), now=clock.wall() + timedelta(seconds=60)
        )

    kind = WorkflowKind("test.lost", [Step("a", run=first), Step("b", run=lambda ctx: calls.append("b"))])
    engine = make(kind, owner="me:1:x")
    record = engine.create("test.lost")
    from hks_tui.workflows import LeaseLostError

    with pytest.raises(LeaseLostError):
        await engine.run(record.id)
    assert calls == ["first"]
    assert store.workflows.get(record.id).lease_owner == "other:2:y"  # type: ignore[union-attr]


async def test_the_lease_is_renewed_while_a_long_step_runs(store: Store, tmp_path: Path) -> None:
    # real clocks here: the heartbeat is what keeps a long step's lease alive
    engine = WorkflowEngine(store, [], owner="me:1:x", lease_ttl=0.6)
    seen: list[datetime] = []

    async def long_step(ctx: StepContext) -> None:
        first = store.workflows.get(ctx.workflow_id).lease_expires  # type: ignore[union-attr]
        assert first is not None
        for _ in range(400):  # until the heartbeat has extended the lease (bounded, not timed)
            await asyncio.sleep(0.02)
            current = store.workflows.get(ctx.workflow_id).lease_expires  # type: ignore[union-attr]
            if current is not None and current > first:
                seen.append(current)
                return

    engine.register(WorkflowKind("test.long", [Step("wait", run=long_step)]))
    record = await engine.start("test.long")
    await engine.aclose()
    assert record.status == WorkflowStatus.SUCCEEDED and seen


async def test_a_journal_from_another_version_is_refused_and_left_intact(make: Any, store: Store) -> None:
    old = make(WorkflowKind("test.v", [Step("a", run=lambda ctx: None), Step("b", run=lambda ctx: None)]))
    record = old.create("test.v")
    store.workflows.release_lease(record.id, old.owner)  # that console exited cleanly
    new = make(WorkflowKind("test.v", [Step("a", run=lambda ctx: None), Step("c", run=lambda ctx: None)]))
    from hks_tui.workflows import WorkflowError

    with pytest.raises(WorkflowError, match="created by another version"):
        await new.run(record.id)
    after = store.workflows.get(record.id)
    assert after is not None and after.status == WorkflowStatus.PENDING and after.lease_owner is None


async def test_cancel_from_another_runner_goes_through_the_journal(make: Any, store: Store) -> None:
    rec = Recorder()
    gate = threading.Event()
    started = threading.Event()

    def slow(ctx: StepContext) -> dict[str, Any]:
        ctx.remember(vmid=4242)  # intent journaled before the (slow) external call
        started.set()
        gate.wait(5)
        rec.present.add("wait")
        return {}

    kind = WorkflowKind("test.xcancel", [rec.step("clone"), Step("wait", run=slow), rec.step("join")])
    driver = make(kind, owner="tab1:1:a")
    other = make(kind, owner="tab2:2:b")  # e.g. another `textual serve` tab, same database
    record = driver.create("test.xcancel")
    task = driver.run_in_background(record.id)
    await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
    assert store.workflows.get(record.id).params["vmid"] == 4242  # type: ignore[union-attr]
    assert await other.cancel(record.id) is None  # the lease is held elsewhere: recorded as a request
    gate.set()
    final = await task
    assert final.status == WorkflowStatus.CANCELLED
    assert rec.log == ["run:clone", "undo:clone"] and "join" not in rec.present
    shown = driver.show(record.id)
    assert shown["status"] == "cancelled" and shown["params"] == {"vmid": 4242}
    assert [s["status"] for s in shown["steps"]] == ["compensated", "succeeded", "pending"]


async def test_a_step_cannot_smuggle_a_secret_into_the_journal(make: Any, store: Store) -> None:
    def leaky(ctx: StepContext) -> None:
        ctx.params["join_token"] = "K10secret::server:abcdef"

    def leaky_remember(ctx: StepContext) -> None:
        ctx.remember(api_token="s3cr3t-value")

    engine = make(
        WorkflowKind("test.leak", [Step("a", run=leaky)]),
        WorkflowKind("test.leak2", [Step("b", run=leaky_remember)]),
    )
    for kind in ("test.leak", "test.leak2"):
        record = await engine.start(kind)
        assert record.status == WorkflowStatus.PAUSED and "secret" in record.error
        stored = store.workflows.get(record.id)
        assert (
            stored is not None
            and "K10secret" not in str(stored.params)
            and "s3cr3t" not in str(stored.params)
        )


async def test_two_concurrent_runs_of_one_workflow_in_one_engine(make: Any) -> None:
    rec = Recorder()
    engine = make(WorkflowKind("test.twice", [rec.step("a"), rec.step("b")]))
    record = engine.create("test.twice")
    results = await asyncio.gather(engine.run(record.id), engine.run(record.id), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["LeaseHeldError", "WorkflowRecord"]
    assert rec.log == ["run:a", "run:b"]
