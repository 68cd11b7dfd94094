"""Aggregated app logs against the lab: one stream follows an app through a rolling update (old pods'
lines, then the new pods'), and a stalled log stream is reported as stalled, then live again."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from hks_tui.config import profile_from_lab
from hks_tui.lab.faults import FaultRule
from hks_tui.manifests import AppSpec
from hks_tui.models import WorkflowStatus
from hks_tui.services import Services
from hks_tui.services.apps import AppService
from hks_tui.services.workspaces import refs_from_lab

RES = {"cpu_request": "50m", "memory_request": "32Mi", "memory_limit": "64Mi"}


@pytest.fixture(scope="module")
def loglab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from hks_tui.lab.server import start_lab_in_thread

    running = start_lab_in_thread(state_dir=tmp_path_factory.mktemp("loglab"), seed="demo", time_scale=20.0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
async def dev(loglab: Any, tmp_path: Any) -> AsyncIterator[AppService]:
    from hks_tui.store import Store

    store = Store.open(tmp_path / "s.db")
    svc = Services.build(
        profile=profile_from_lab(loglab.info, "dev"), store=store, workspaces=refs_from_lab(loglab.info)
    )
    app = AppService(svc, "dev")
    yield app
    await app.aclose()
    svc.close()
    store.close()


class Sink:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lines: list[tuple[str, str]] = []
        self.states: list[tuple[str, str]] = []

    def line(self, pod: str, text: str) -> None:
        with self.lock:
            self.lines.append((pod, text))

    def state(self, state: str, detail: str) -> None:
        with self.lock:
            self.states.append((state, detail))

    def pods(self) -> set[str]:
        with self.lock:
            return {p for p, _ in self.lines}

    def count(self, pod: str) -> int:
        with self.lock:
            return sum(1 for p, _ in self.lines if p == pod)


async def _until(predicate: Any, what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def _deploy(dev: AppService, name: str, replicas: int) -> set[str]:
    spec = AppSpec.model_validate(
        {"name": name, "image": "nginx:1.27", "replicas": replicas, "resources": RES}
    )
    record = await dev.deploy(spec)
    assert record.status == WorkflowStatus.SUCCEEDED, record.error
    detail = await dev.show(name)
    return {p.name for p in detail.pods}


async def test_logs_follow_an_app_through_a_rollout(dev: AppService) -> None:
    old = await _deploy(dev, "chatty", 2)
    sink = Sink()
    stream = await dev.follow_logs("chatty", sink.line, sink.state, tail=5)
    try:
        await _until(lambda: old <= sink.pods() and stream.state == "live", "lines from both pods")
        record = await dev.set_image("chatty", "nginx:1.28")
        assert record.status == WorkflowStatus.SUCCEEDED, record.error
        new = {p.name for p in (await dev.show("chatty")).pods}
        assert len(new) == 2 and not (new & old)
        await _until(lambda: all(sink.count(p) >= 2 for p in new), "lines from the new pods")
        assert stream.alive and stream.state == "live"
        assert set(stream.seen) >= old | new  # one stream saw every pod of the rollout
        assert set(stream.followers) == new  # followers of the old pods were stopped
        assert not any(state in ("ended", "failed") for state, _ in sink.states)
    finally:
        await asyncio.to_thread(stream.stop, 2.0)
    assert stream.state == "ended" and not stream.alive
    lines = await dev.logs("chatty", tail=3)
    assert {pod for pod, _ in lines} == new and all(text for _, text in lines)
    await dev.delete("chatty", confirm="chatty")


async def test_a_stalled_log_stream_is_shown_as_stalled(dev: AppService, loglab: Any) -> None:
    pods = await _deploy(dev, "quiet", 1)
    (pod,) = pods
    sink = Sink()
    stream = await dev.follow_logs("quiet", sink.line, sink.state, tail=1, stall_after=1.0)
    rule = None
    try:
        await _until(lambda: stream.state == "live" and sink.count(pod) >= 1, "the stream to be live")
        rule = loglab.call(
            loglab.world.faults.add, FaultRule("kube:*", path=rf"/pods/{pod}/log$", stall=True)
        )
        await _until(lambda: stream.state == "stalled", "the stream to be reported stalled")
        assert pod in stream.detail
        loglab.call(loglab.world.faults.remove, rule.id)
        rule = None
        seen = sink.count(pod)
        await _until(lambda: stream.state == "live" and sink.count(pod) > seen, "the stream to recover")
    finally:
        if rule is not None:
            loglab.call(loglab.world.faults.remove, rule.id)
        await asyncio.to_thread(stream.stop, 2.0)
    states = [s for s, _ in sink.states]
    assert states.index("stalled") < len(states) - 1 and "live" in states[states.index("stalled") :]
    await dev.delete("quiet", confirm="quiet")
