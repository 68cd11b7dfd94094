"""The workflow engine: journal before/after each call, retries, adoption, delete-NotFound, events, leases."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import (
    BackendTimeout,
    ConflictError,
    InvalidError,
    NotFoundError,
    RetryableServerError,
    ServerError,
)
from hks_tui.models import StepStatus, WorkflowStatus
from hks_tui.store import Store
from hks_tui.workflows import (
    Backoff,
    EventType,
    LeaseHeldError,
    SecretInParamsError,
    Step,
    StepContext,
    UnknownKindError,
    WorkflowEngine,
    WorkflowEvent,
    WorkflowFinishedError,
    WorkflowKind,
    default_retryable,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Clock:
    """Fake monotonic + wall clock advanced only by the fake sleep."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def wall(self) -> datetime:
        return T0 + timedelta(seconds=self.t)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
        await asyncio.sleep(0)


class World:
    """A fake external system: counts effects per name; thread-safe (sync steps run on threads)."""

    def __init__(self) -> None:
        self.effects: dict[str, int] = {}
        self.objects: set[str] = set()
        self.log: list[str] = []
        self.lock = threading.Lock()

    def apply(self, name: str) -> None:
        with self.lock:
            self.effects[name] = self.effects.get(name, 0) + 1
            self.objects.add(name)
            self.log.append(f"do:{name}")

    def undo(self, name: str) -> None:
        with self.lock:
            if name not in self.objects:
                raise NotFoundError(f"delete {name}", "not found", status=404)
            self.objects.discard(name)
            self.log.append(f"undo:{name}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "hks.db")
    yield s
    s.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def engine_factory(store: Store, clock: Clock) -> AsyncIterator[Any]:
    made: list[WorkflowEngine] = []

    def make(*kinds: WorkflowKind, **kwargs: Any) -> WorkflowEngine:
        options: dict[str, Any] = {
            "rng": random.Random(7),
            "sleep": clock.sleep,
            "clock": clock.monotonic,
            "now": clock.wall,
        }
        options.update(kwargs)
        engine = WorkflowEngine(store, kinds, **options)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        await engine.aclose()


def simple_kind(world: World, names: list[str], **kwargs: Any) -> WorkflowKind:
    def make_step(name: str) -> Step:
        def run(ctx: StepContext) -> dict[str, Any]:
            world.apply(name)
            return {"made": name}

        return Step(
            name,
            run=run,
            check=lambda ctx: {"made": name, "adopted": True} if name in world.objects else None,
            compensate=lambda ctx: world.undo(name),
            backoff=Backoff(base=0.5, cap=4.0),
        )

    return WorkflowKind("test.simple", [make_step(n) for n in names], **kwargs)


async def test_happy_path_journals_every_step_and_emits_events(engine_factory: Any, store: Store) -> None:
    world = World()
    engine = engine_factory(simple_kind(world, ["clone", "start", "join"]))
    events: list[WorkflowEvent] = []
    engine.events.subscribe(events.append)
    record = await engine.start("test.simple", {"name": "vm-1"}, workspace="ws1", target="vm-1")
    assert record.status == WorkflowStatus.SUCCEEDED
    assert record.lease_owner is None and record.error == ""
    assert world.effects == {"clone": 1, "start": 1, "join": 1}
    steps = store.workflows.steps(record.id)
    assert [(s.name, s.status, s.attempts) for s in steps] == [
        ("clone", StepStatus.SUCCEEDED, 1),
        ("start", StepStatus.SUCCEEDED, 1),
        ("join", StepStatus.SUCCEEDED, 1),
    ]
    assert steps[0].result == {"made": "clone"} and steps[0].started_at is not None
    types = [e.type for e in events]
    assert types[0] == EventType.WORKFLOW_STARTED and types[-1] == EventType.WORKFLOW_FINISHED
    assert events[-1].status == "succeeded"
    assert types.count(EventType.STEP_DONE) == 3 and types.count(EventType.STEP_ATTEMPT) == 3
    with pytest.raises(WorkflowFinishedError):
        await engine.resume(record.id)


async def test_running_row_is_journaled_before_the_external_call(engine_factory: Any, store: Store) -> None:
    seen: list[tuple[str, int]] = []

    def run(ctx: StepContext) -> dict[str, Any]:
        row = store.workflows.steps(ctx.workflow_id)[ctx.index]
        seen.append((str(row.status), row.attempts))
        ctx.params["vmid"] = 123  # a step may record what it chose
        return {}

    engine = engine_factory(WorkflowKind("test.journal", [Step("only", run=run)]))
    record = await engine.start("test.journal", {"a": 1})
    assert seen == [("running", 1)]
    assert record.params == {"a": 1, "vmid": 123}


async def test_async_steps_and_detail_lines_reach_subscribers(engine_factory: Any) -> None:
    async def wait_ready(ctx: StepContext) -> dict[str, Any]:
        ctx.emit("task UPID:pve1:00001: starting")
        ctx.record_upid("UPID:pve1:00001")
        return {"ready": True}

    def sync_step(ctx: StepContext) -> None:
        ctx.emit("Normal Scheduled node/ws1-a")  # from the executor thread

    engine = engine_factory(
        WorkflowKind("test.async", [Step("wait", run=wait_ready), Step("sync", run=sync_step)])
    )
    record = engine.create("test.async")
    queue, unsubscribe = engine.events.subscribe_queue(record.id)
    done = await engine.run(record.id)
    await asyncio.sleep(0)  # deliver lines handed over from the executor thread
    unsubscribe()
    details = []
    while not queue.empty():
        event = queue.get_nowait()
        if event.type == EventType.STEP_DETAIL:
            details.append(event.detail)
    assert done.status == WorkflowStatus.SUCCEEDED
    assert "task UPID:pve1:00001: starting" in details and "Normal Scheduled node/ws1-a" in details
    assert engine.steps(record.id)[0].upid == "UPID:pve1:00001"


async def test_retries_bounded_with_30_percent_injected_failures(engine_factory: Any, clock: Clock) -> None:
    rng = random.Random(1234)
    calls: dict[str, int] = {}
    max_attempts = 6

    def flaky(name: str) -> Any:
        def run(ctx: StepContext) -> dict[str, Any]:
            calls[name] = calls.get(name, 0) + 1
            if rng.random() < 0.3:
                raise RetryableServerError(f"{name} on pve1", "500 injected fault", status=500)
            return {"ok": name}

        return run

    names = ["clone", "configure", "start", "agent", "join", "label"]
    kind = WorkflowKind(
        "test.flaky",
        [Step(n, run=flaky(n), max_attempts=max_attempts, backoff=Backoff(0.5, 2.0, 8.0)) for n in names],
    )
    engine = engine_factory(kind)
    retries = 0
    engine.events.subscribe(lambda e: None)
    for i in range(12):
        before = dict(calls)
        record = await engine.start("test.flaky", {"n": i})
        steps = engine.steps(record.id)
        assert record.status == WorkflowStatus.SUCCEEDED, record.error
        for s in steps:
            assert 1 <= s.attempts <= max_attempts
            assert calls[s.name] - before.get(s.name, 0) == s.attempts
            retries += s.attempts - 1
    assert retries > 0  # the faults really happened
    assert clock.sleeps and all(0 < d <= 8.0 for d in clock.sleeps)


async def test_attempts_exhausted_pauses_with_error_then_resume_continues(engine_factory: Any) -> None:
    state = {"fail": True, "calls": 0}

    def run(ctx: StepContext) -> dict[str, Any]:
        state["calls"] += 1
        if state["fail"]:
            raise BackendTimeout("start VM 101 on pve1", "read timed out after 30 s")
        return {}

    engine = engine_factory(WorkflowKind("test.pause", [Step("start", run=run, max_attempts=3)]))
    record = await engine.start("test.pause")
    assert record.status == WorkflowStatus.PAUSED
    assert state["calls"] == 3
    assert "start VM 101 on pve1 failed: read timed out" in record.error
    assert "after 3 attempt(s)" in record.error and f"workflows resume {record.id}" in record.error
    step = engine.steps(record.id)[0]
    assert step.status == StepStatus.FAILED and step.attempts == 3
    assert step.result["error"]["kind"] == "BackendTimeout"
    assert [r.id for r in engine.resumable(include_paused=True)] == [record.id]
    assert engine.resumable() == []  # paused ones are not auto-resumed
    state["fail"] = False
    resumed = await engine.resume(record.id)
    assert resumed.status == WorkflowStatus.SUCCEEDED and resumed.error == ""
    assert engine.steps(record.id)[0].attempts == 4


async def test_non_retryable_error_stops_at_once_resumable(engine_factory: Any, clock: Clock) -> None:
    calls: list[str] = []

    def bad(ctx: StepContext) -> None:
        calls.append("x")
        raise InvalidError("clone template 9000", "storage 'nvme' does not exist", status=400)

    engine = engine_factory(WorkflowKind("test.bad", [Step("clone", run=bad, max_attempts=5)]))
    record = await engine.start("test.bad")
    assert record.status == WorkflowStatus.PAUSED and len(calls) == 1 and clock.sleeps == []
    assert "storage 'nvme' does not exist" in record.error


def test_default_retry_classification() -> None:
    assert default_retryable(RetryableServerError("x", status=503))
    assert default_retryable(ServerError("x", "boom", status=500))
    assert default_retryable(BackendTimeout("x"))
    assert default_retryable(ConnectionResetError())
    assert not default_retryable(InvalidError("x", status=400))
    assert not default_retryable(ConflictError("x", status=409))
    assert not default_retryable(ValueError("bug"))


def test_backoff_is_capped_and_jittered() -> None:
    rng = random.Random(3)
    backoff = Backoff(base=1.0, factor=2.0, cap=10.0)
    delays = [backoff.delay(n, rng) for n in range(1, 30)]
    assert all(0 < d <= 10.0 for d in delays)
    assert backoff.delay(1, rng) <= 1.0 and backoff.ceiling(200) == 10.0
    assert len({round(d, 6) for d in delays[5:]}) > 1  # jitter: not all the same once capped
    with pytest.raises(ValueError):
        Backoff(base=-1)


async def test_adoption_via_check_after_a_lost_response(engine_factory: Any) -> None:
    world = World()

    def clone(ctx: StepContext) -> dict[str, Any]:
        world.apply("vm")
        if ctx.attempt == 1:  # the VM was created, but the response was lost
            raise BackendTimeout("clone template 9000 to ws1-a", "connection reset while reading response")
        return {"vmid": 101}

    def find(ctx: StepContext) -> dict[str, Any] | None:
        return {"vmid": 101, "adopted": True} if "vm" in world.objects else None

    engine = engine_factory(WorkflowKind("test.adopt", [Step("clone", run=clone, check=find)]))
    events: list[WorkflowEvent] = []
    engine.events.subscribe(events.append)
    record = await engine.start("test.adopt")
    assert record.status == WorkflowStatus.SUCCEEDED
    assert world.effects == {"vm": 1}  # never cloned twice
    step = engine.steps(record.id)[0]
    assert step.result == {"vmid": 101, "adopted": True} and "adopted" in step.detail
    assert EventType.STEP_ADOPTED in [e.type for e in events]


async def test_not_found_on_delete_counts_as_success(engine_factory: Any) -> None:
    def destroy(ctx: StepContext) -> None:
        raise NotFoundError(
            "destroy VM 101", "Configuration file 'nodes/pve1/qemu-server/101.conf' does not exist"
        )

    def get(ctx: StepContext) -> None:
        raise NotFoundError("read VM 101", "missing")

    engine = engine_factory(
        WorkflowKind("test.delete", [Step("destroy", run=destroy, delete=True)]),
        WorkflowKind("test.read", [Step("read", run=get)]),
    )
    record = await engine.start("test.delete")
    assert record.status == WorkflowStatus.SUCCEEDED
    assert engine.steps(record.id)[0].result == {"not_found": True}
    other = await engine.start("test.read")  # not a delete step: NotFound is a real failure
    assert other.status == WorkflowStatus.PAUSED


async def test_lease_excludes_a_second_engine_until_it_expires(
    engine_factory: Any, store: Store, clock: Clock
) -> None:
    world = World()
    kind = simple_kind(world, ["a", "b"])
    first = engine_factory(kind, owner="hostA:1:aaaa", lease_ttl=30.0)
    record = first.create("test.simple")
    assert store.workflows.acquire_lease(record.id, "hostA:1:aaaa", timedelta(seconds=30), now=clock.wall())
    second = engine_factory(kind, owner="hostB:2:bbbb", lease_ttl=30.0)
    with pytest.raises(LeaseHeldError, match="hostA:1:aaaa"):
        await second.resume(record.id)
    assert second.resumable() == []  # a live lease is not offered for resume
    clock.t += 31  # the first runner died; its lease expired
    assert [r.id for r in second.resumable()] == [record.id]
    report = await second.resume_unfinished()
    assert [r.status for r in report.finished] == [WorkflowStatus.SUCCEEDED]
    assert world.effects == {"a": 1, "b": 1}


async def test_params_never_hold_secrets_and_unknown_kind_is_clear(engine_factory: Any) -> None:
    engine = engine_factory(simple_kind(World(), ["a"]))
    with pytest.raises(SecretInParamsError):
        engine.create("test.simple", {"join_token": "K10abc::server:xyz"})
    with pytest.raises(UnknownKindError, match=r"test\.simple"):
        engine.create("node.nope")


async def test_background_run_reports_completion(engine_factory: Any) -> None:
    world = World()
    engine = engine_factory(simple_kind(world, ["a", "b"]))
    record = engine.create("test.simple")
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    task = engine.run_in_background(record.id, on_done=lambda r, err: done.set_result((r, err)))
    final, error = await done
    assert error is None and final.status == WorkflowStatus.SUCCEEDED
    assert (await task).id == record.id and not engine.is_running(record.id)
