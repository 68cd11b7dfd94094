"""Services against the lab: the watch cache (shared list+watch, keyed events, prompt stop), health
states with reasons for unreachable and slow backends, and the bounded executor."""

from __future__ import annotations

import asyncio
import queue
import socket
import threading
import uuid
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.guard import TransportGuard
from hks_tui.config import profile_from_lab
from hks_tui.lab.faults import FaultRule
from hks_tui.services import Services
from hks_tui.services.executor import ServiceExecutor
from hks_tui.services.watch_cache import ADDED, DELETED, MODIFIED, SYNCED, WatchEvent
from hks_tui.services.workspaces import refs_from_lab

WAIT = 15.0


@pytest.fixture
def services(lab: Any, tmp_path: Path) -> Any:
    from hks_tui.store import Store

    store = Store.open(tmp_path / "s.db")
    svc = Services.build(
        profile=profile_from_lab(lab.info, "prod"), store=store, workspaces=refs_from_lab(lab.info)
    )
    yield svc
    svc.close()
    store.close()


def _next(q: queue.Queue[WatchEvent], type_: str, key: str = "") -> WatchEvent:
    while True:
        event = q.get(timeout=WAIT)
        if event.type == type_ and (not key or event.key == key):
            return event


def test_watch_cache_shares_one_watch_and_delivers_keyed_events(lab: Any, services: Any) -> None:
    kube = services.clients.vcluster
    cache = services.watch_cache
    first: queue.Queue[WatchEvent] = queue.Queue()
    second: queue.Queue[WatchEvent] = queue.Queue()
    sub1 = cache.subscribe(kube, "configmaps", first.put, namespace="default")
    _next(first, SYNCED)
    sub2 = cache.subscribe(kube, "configmaps", second.put, namespace="default")
    _next(second, SYNCED)
    assert cache.watcher_count == 1
    name = f"wc-{uuid.uuid4().hex[:8]}"
    kube.call(
        kube.core.create_namespaced_config_map, "default", {"metadata": {"name": name}, "data": {"a": "1"}}
    )
    added = _next(first, ADDED, f"default/{name}")
    assert added.object is not None and added.object["data"] == {"a": "1"}
    assert added.context == kube.context and added.resource == "configmaps"
    kube.call(kube.core.patch_namespaced_config_map, name, "default", {"data": {"a": "2"}})
    assert _next(second, MODIFIED, f"default/{name}").object["data"]["a"] == "2"  # type: ignore[index]
    sub2.unsubscribe()
    kube.call(kube.core.delete_namespaced_config_map, name, "default")
    _next(first, DELETED, f"default/{name}")
    assert f"default/{name}" not in cache.snapshot(kube.context, "configmaps", "default")
    stats = cache.stats(kube.context, "configmaps", "default")
    assert stats is not None and stats.lists == 1
    sub1.unsubscribe()
    watcher = cache._watchers[(kube.context, "configmaps", "default")]
    cache.close(timeout=10)
    assert watcher.thread is not None and not watcher.thread.is_alive()


async def test_health_reports_unreachable_and_slow_backends(lab: Any, tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    info = dict(lab.info)
    info["proxmox"] = dict(info["proxmox"], url=f"https://127.0.0.1:{port}")
    svc = Services.build(profile=profile_from_lab(info, "dev"), store=None, workspaces=refs_from_lab(info))
    svc.health.timeout = 1.0
    registry = lab.world.faults
    rule = lab.call(registry.add, FaultRule(api="kube:*", path="/version", latency=5.0))
    try:
        states = {s.backend: s for s in await svc.health.check_all()}
    finally:
        lab.call(registry.remove, rule.id)
        svc.close()
    assert states["proxmox"].status == "down" and "refused" in states["proxmox"].reason
    assert states["host"].status == "down" and states["host"].reason
    assert states["vcluster"].status == "down"
    assert states["prometheus"].status == "disabled"


async def test_executor_is_bounded_and_separate_from_asyncio_default() -> None:
    executor = ServiceExecutor(max_workers=2)
    running: set[str] = set()
    peak = 0
    lock = threading.Lock()
    release = threading.Event()

    def job() -> str:
        nonlocal peak
        name = threading.current_thread().name
        with lock:
            running.add(name)
            peak = max(peak, len(running))
        release.wait(5)
        with lock:
            running.discard(name)
        return name

    tasks = [asyncio.ensure_future(executor.run(job)) for _ in range(5)]
    await asyncio.sleep(0.2)
    release.set()
    names = await asyncio.gather(*tasks)
    executor.shutdown()
    assert peak <= 2 and all(n.startswith("hks-svc") for n in names)


def test_guard_is_shared_and_audits_through_the_store(lab: Any, services: Any) -> None:
    kube = services.clients.vcluster
    assert isinstance(services.guard, TransportGuard) and kube.guard is services.guard
    name = f"audit-{uuid.uuid4().hex[:8]}"
    kube.call(kube.core.create_namespaced_config_map, "default", {"metadata": {"name": name}}, target=name)
    kube.call(kube.core.delete_namespaced_config_map, name, "default")
    rows = services.store.audit.list(limit=10)
    actions = [(r.action, r.outcome) for r in reversed(rows)]
    assert actions == [
        ("kube.create_namespaced_config_map", "started"),
        ("kube.create_namespaced_config_map", "ok"),
        ("kube.delete_namespaced_config_map", "started"),
        ("kube.delete_namespaced_config_map", "ok"),
    ]
    assert rows[0].target == f"{name}/default" and rows[0].profile == "lab-prod"
    # a mutation mislabelled as a read is still audited, at the wire
    other = f"audit-{uuid.uuid4().hex[:8]}"
    kube.call(kube.core.create_namespaced_config_map, "default", {"metadata": {"name": other}}, target=other)
    kube.call(kube.core.delete_namespaced_config_map, other, "default", mutating=False)
    wire = services.store.audit.list(limit=2)
    assert [(r.action, r.outcome) for r in reversed(wire)] == [
        ("vcluster.delete", "started"),
        ("vcluster.delete", "ok"),
    ]
    assert wire[0].target == f"/api/v1/namespaces/default/configmaps/{other}"


def test_log_follow_streams_lines_and_stops_promptly(lab: Any, services: Any) -> None:
    kube = services.clients.vcluster
    pods = kube.list_raw("pods", namespace="default", field_selector="status.phase=Running")["items"]
    assert pods, "the demo seed has running pods in prod"
    pod = pods[0]["metadata"]["name"]
    lines: queue.Queue[str] = queue.Queue()
    states: list[str] = []
    follower = services.follow_log(
        kube, pod, "default", lines.put, lambda s, d: states.append(s), tail_lines=2
    )
    received = [lines.get(timeout=WAIT) for _ in range(3)]  # two from the tail, then at least one live line
    assert all(isinstance(line, str) and line for line in received)
    assert "live" in states
    follower.stop(timeout=10)
    assert not follower.alive and states[-1] == "stopped"
    gone = services.follow_log(kube, "no-such-pod", "default", lines.put, lambda s, d: states.append(s))
    gone._thread.join(WAIT)
    assert gone.state == "failed"


async def test_health_uses_a_short_request_timeout_and_shares_rounds(lab: Any, services: Any) -> None:
    services.health.timeout = 0.5
    registry = lab.world.faults
    rule = lab.call(registry.add, FaultRule(api="pve", method="GET", path="/version$", latency=5.0))
    sent = services.guard.stats.requests[("proxmox", "GET")]
    try:
        first, second = await asyncio.gather(services.health.check_all(), services.health.check_all())
    finally:
        lab.call(registry.remove, rule.id)
    assert first == second  # one shared round, not two
    pve = next(s for s in first if s.backend == "proxmox")
    assert pve.status == "down" and "did not answer within the timeout" in pve.reason
    assert services.guard.stats.requests[("proxmox", "GET")] == sent + 1  # one probe, no retry
