"""Plain views of workflows for the UI and the CLI: registry, JSON report, and timeline rows from events."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import BackendTimeout
from hks_tui.store import Store
from hks_tui.workflows import Step, StepContext, WorkflowEngine, WorkflowEvent, WorkflowKind


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "hks.db")
    yield s
    s.close()


@pytest.fixture
async def engine_factory(store: Store) -> AsyncIterator[Any]:
    made: list[WorkflowEngine] = []

    async def no_wait(seconds: float) -> None:
        await asyncio.sleep(0)

    def make(*kinds: WorkflowKind) -> WorkflowEngine:
        engine = WorkflowEngine(store, kinds, rng=random.Random(3), sleep=no_wait)
        made.append(engine)
        return engine

    yield make
    for engine in made:
        await engine.aclose()


def test_registry_and_report_views(store: Store) -> None:
    from hks_tui.workflows import all_kinds, current_step, progress, register_kind, title, unregister_kind

    kind = WorkflowKind(
        "test.registry",
        [Step("a", run=lambda ctx: None), Step("b", run=lambda ctx: None)],
        describe=lambda p: f"Provision node {p['name']}",
    )
    register_kind(kind)
    try:
        assert kind in all_kinds()
        register_kind(kind)  # idempotent
        with pytest.raises(ValueError, match="already registered"):
            register_kind(WorkflowKind("test.registry", [Step("x", run=lambda ctx: None)]))
    finally:
        unregister_kind("test.registry")
    engine = WorkflowEngine(store, [kind])
    record = engine.create("test.registry", {"name": "ws1-a"}, target="ws1-a")
    steps = engine.steps(record.id)
    assert progress(steps) == (0, 2) and current_step(steps) == steps[0]
    assert title(record, kind) == "Provision node ws1-a"
    shown = engine.show(record.id)
    assert shown["progress"] == "0/2" and shown["title"] == "Provision node ws1-a"
    assert [s["name"] for s in shown["steps"]] == ["a", "b"]
    engine.journal.close()


async def test_events_replayed_onto_a_timeline_match_the_journal(engine_factory: Any) -> None:
    from hks_tui.workflows import timeline_rows, timeline_update

    world: set[str] = set()

    def clone(ctx: StepContext) -> dict[str, Any]:
        world.add("vm")
        if ctx.attempt == 1:
            raise BackendTimeout("clone", "response lost")
        return {}

    def start(ctx: StepContext) -> None:
        ctx.emit("TASK OK")

    kind = WorkflowKind(
        "test.timeline",
        [
            Step("clone", title="Clone VM", run=clone, check=lambda ctx: "vm" in world or None),
            Step("start", title="Start VM", run=start),
            Step("join", run=lambda ctx: None),
        ],
    )
    engine = engine_factory(kind)
    record = engine.create("test.timeline")
    rows: dict[str, dict[str, Any]] = {
        r.key: {"state": r.state, "lines": list(r.detail)}
        for r in timeline_rows(engine.steps(record.id), kind)
    }
    assert [r["state"] for r in rows.values()] == ["pending"] * 3

    def apply(event: WorkflowEvent) -> None:
        update = timeline_update(event)
        if update is not None:
            row = rows[update.key]
            row["state"] = update.state or row["state"]
            row["lines"].extend(update.append)

    engine.events.subscribe(apply, record.id)
    await engine.run(record.id)
    await asyncio.sleep(0)
    final = timeline_rows(engine.steps(record.id), kind)
    assert [rows[r.key]["state"] for r in final] == [r.state for r in final] == ["done"] * 3
    assert [r.name for r in final] == ["Clone VM", "Start VM", "join"]
    assert any("retrying in" in line for line in rows["clone"]["lines"])
    assert any("adopted" in line for line in rows["clone"]["lines"]) and "TASK OK" in rows["start"]["lines"]


async def test_exclusive_create_refuses_a_second_action_on_the_same_target(engine_factory: Any) -> None:
    from hks_tui.workflows import TargetBusyError

    kind = WorkflowKind("test.power", [Step("stop", run=lambda ctx: None)])
    engine = engine_factory(kind)
    first = engine.create("test.power", workspace="ws1", target="ws1-a", exclusive=True)
    with pytest.raises(TargetBusyError, match=first.id):
        engine.create("test.power", workspace="ws1", target="ws1-a", exclusive=True)
    other = engine.create("test.power", workspace="ws1", target="ws1-b", exclusive=True)  # another node: fine
    assert [r.id for r in engine.active_for("ws1-a")] == [first.id]
    await engine.run(first.id)
    assert engine.active_for("ws1-a") == []
    again = engine.create("test.power", workspace="ws1", target="ws1-a", exclusive=True)  # finished: allowed
    assert again.id not in (first.id, other.id)
