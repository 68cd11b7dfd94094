"""WatchCache and KubeClient against a tiny, scripted Kubernetes API server on loopback.

The server implements just enough of list+watch for pods (resourceVersion, timeoutSeconds, bookmarks-
free streams, a compaction point answered with a 410 ``Expired`` ERROR event) to prove: one watcher per
key shared by subscribers, resume from the last resourceVersion, relist-and-diff after 410, prompt stop,
read-only refusal before the wire, and a bearer-token canary that never surfaces.
"""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web

from hks_tui.clients import errors as e
from hks_tui.clients.guard import RetryPolicy, TransportGuard
from hks_tui.clients.kube import KubeClient
from hks_tui.services.watch_cache import ADDED, DELETED, MODIFIED, SYNCED, WatchCache, WatchEvent

CANARY = "kube-canary-7c1e0d9a4b2f48e6"
WAIT = 10.0  # upper bound for an expected event; never a speed assertion


@dataclass
class MiniApi:
    loop: asyncio.AbstractEventLoop
    url: str = ""
    rv: int = 100
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)
    compacted: int = 0
    requests: list[tuple[str, str, bool]] = field(default_factory=list)  # method, path, watch?
    kick: int = 0  # bumping this ends every open watch stream

    # -- mutations, called from the test thread ----------------------------------------------------
    def _run(self, fn: Any) -> None:
        async def go() -> None:
            fn()

        asyncio.run_coroutine_threadsafe(go(), self.loop).result(10)

    def put(self, name: str, phase: str = "Running", *, silent: bool = False) -> None:
        """Create or update a pod; ``silent`` changes are visible to a list but not to open watches."""

        def fn() -> None:
            self.rv += 1
            kind = "MODIFIED" if name in self.pods else "ADDED"
            obj = {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": name, "namespace": "apps", "resourceVersion": str(self.rv)},
                "status": {"phase": phase},
            }
            self.pods[name] = obj
            if not silent:
                self.history.append((self.rv, kind, obj))

        self._run(fn)

    def delete(self, name: str, *, silent: bool = False) -> None:
        def fn() -> None:
            self.rv += 1
            obj = dict(self.pods.pop(name))
            obj["metadata"] = dict(obj["metadata"], resourceVersion=str(self.rv))
            if not silent:
                self.history.append((self.rv, "DELETED", obj))

        self._run(fn)

    def expire_and_kick(self) -> None:
        """Compact the history: every open watch ends and resuming from an older version gets 410."""

        def fn() -> None:
            self.compacted = self.rv
            self.history.clear()
            self.kick += 1

        self._run(fn)

    def count(self, watch: bool) -> int:
        return sum(1 for m, p, w in list(self.requests) if w == watch and m == "GET" and p == "/api/v1/pods")

    # -- handlers ----------------------------------------------------------------------------------
    async def version(self, request: web.Request) -> web.Response:
        return web.json_response({"major": "1", "minor": "36", "gitVersion": "v1.36.0+mini"})

    async def pods_handler(self, request: web.Request) -> web.StreamResponse:
        assert request.headers.get("Authorization") == f"Bearer {CANARY}"
        watching = request.query.get("watch") in ("true", "1", "True")
        self.requests.append((request.method, request.path, watching))
        if request.method != "GET":
            return web.json_response({"kind": "Status", "code": 201}, status=201)
        if not watching:
            return web.json_response(
                {
                    "apiVersion": "v1",
                    "kind": "PodList",
                    "metadata": {"resourceVersion": str(self.rv)},
                    "items": list(self.pods.values()),
                }
            )
        since = int(request.query.get("resourceVersion") or 0)
        timeout = float(request.query.get("timeoutSeconds") or 30)
        resp = web.StreamResponse()
        resp.content_type = "application/json"
        await resp.prepare(request)
        if since < self.compacted:
            status = {
                "kind": "Status",
                "code": 410,
                "reason": "Expired",
                "message": f"too old resource version: {since}",
            }
            await resp.write(json.dumps({"type": "ERROR", "object": status}).encode() + b"\n")
            return resp
        kick = self.kick
        deadline = self.loop.time() + timeout
        sent = since
        while True:
            for rv, kind, obj in list(self.history):
                if rv > sent:
                    await resp.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
                    sent = rv
            if self.loop.time() >= deadline or self.kick != kick:
                return resp
            await asyncio.sleep(0.01)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[MiniApi, Path]]:
    loop = asyncio.new_event_loop()
    mini = MiniApi(loop)
    ready = threading.Event()
    runner_box: dict[str, web.AppRunner] = {}

    async def start() -> None:
        app = web.Application()
        app.router.add_get("/version", mini.version)
        app.router.add_get("/version/", mini.version)
        app.router.add_route("*", "/api/v1/pods", mini.pods_handler)
        app.router.add_route("*", "/api/v1/namespaces/apps/pods", mini.pods_handler)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        mini.url = f"http://127.0.0.1:{port}"
        runner_box["r"] = runner
        ready.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    ready.wait(10)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "mini", "cluster": {"server": mini.url}}],
                "users": [{"name": "admin", "user": {"token": CANARY}}],
                "contexts": [{"name": "mini", "context": {"cluster": "mini", "user": "admin"}}],
                "current-context": "mini",
            }
        )
    )
    try:
        yield mini, kubeconfig
    finally:
        asyncio.run_coroutine_threadsafe(runner_box["r"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


@pytest.fixture(autouse=True)
def _canary_never_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    assert CANARY not in caplog.text


def _client(kubeconfig: Path, *, readonly: bool = False) -> KubeClient:
    guard = TransportGuard(
        readonly=readonly, retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01)
    )
    return KubeClient(kubeconfig=kubeconfig, context="mini", guard=guard, backend="vcluster", timeout=5.0)


def _wait_for(condition: Any) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.02)


def _next(q: queue.Queue[WatchEvent], type_: str, key: str = "") -> WatchEvent:
    while True:
        event = q.get(timeout=WAIT)
        if event.type == type_ and (not key or event.key == key):
            return event


def test_watch_cache_lists_watches_resumes_and_relists_after_410(api: tuple[MiniApi, Path]) -> None:
    mini, kubeconfig = api
    mini.put("web-0")
    mini.put("web-1")
    client = _client(kubeconfig)
    cache = WatchCache(timeout_seconds=1, retry=RetryPolicy(base_delay=0.01, max_delay=0.05))
    first: queue.Queue[WatchEvent] = queue.Queue()
    second: queue.Queue[WatchEvent] = queue.Queue()
    try:
        cache.subscribe(client, "pods", first.put)
        assert _next(first, ADDED, "apps/web-0").object is not None
        _next(first, SYNCED)
        # a second subscriber shares the watcher and gets the snapshot replayed
        cache.subscribe(client, "pods", second.put)
        _next(second, ADDED, "apps/web-1")
        _next(second, SYNCED)
        assert cache.watcher_count == 1

        mini.put("web-2")
        assert _next(first, ADDED, "apps/web-2").object["status"]["phase"] == "Running"  # type: ignore[index]
        mini.put("web-0", phase="Failed")
        assert _next(first, MODIFIED, "apps/web-0").object["status"]["phase"] == "Failed"  # type: ignore[index]
        mini.delete("web-1")
        _next(first, DELETED, "apps/web-1")
        _next(second, DELETED, "apps/web-1")

        # the server ends watches after timeoutSeconds=1: the watcher resumes without listing again
        stats = cache.stats("mini", "pods")
        assert stats is not None
        _wait_for(lambda: mini.count(watch=True) >= 3)
        mini.put("web-2", phase="Pending")
        assert _next(first, MODIFIED, "apps/web-2").object["status"]["phase"] == "Pending"  # type: ignore[index]
        assert mini.count(watch=False) == 1
        assert stats.lists == 1 and stats.relists == 0

        # 410 Expired: the watcher re-lists and emits what changed in between
        mini.put("web-3", silent=True)  # visible only to a list
        mini.delete("web-2", silent=True)
        mini.expire_and_kick()
        _next(first, DELETED, "apps/web-2")  # the relist emits deletions, then additions, then SYNCED
        _next(first, ADDED, "apps/web-3")
        _next(first, SYNCED)
        assert stats.relists >= 1 and mini.count(watch=False) >= 2
        snapshot = cache.snapshot("mini", "pods")
        assert set(snapshot) == {"apps/web-0", "apps/web-3"}
    finally:
        cache.close(timeout=5)
    assert cache.watcher_count == 0


def test_close_stops_a_blocked_watch_promptly(api: tuple[MiniApi, Path]) -> None:
    mini, kubeconfig = api
    client = _client(kubeconfig)
    cache = WatchCache(timeout_seconds=300)
    events: queue.Queue[WatchEvent] = queue.Queue()
    cache.subscribe(client, "pods", events.put)
    _next(events, SYNCED)
    _wait_for(lambda: mini.count(watch=True) >= 1)
    watcher = cache._watchers[("mini", "pods", None)]
    cache.close(timeout=10)
    assert watcher.thread is not None and not watcher.thread.is_alive()


def test_kube_readonly_refuses_before_the_wire_and_reads_work(api: tuple[MiniApi, Path]) -> None:
    mini, kubeconfig = api
    client = _client(kubeconfig, readonly=True)
    with pytest.raises(e.ReadOnlyError):
        client.call(client.core.delete_namespaced_pod, "web-0", "apps")
    with pytest.raises(e.ReadOnlyError):  # forced through the call layer as a read: the wire refuses it
        client.call(client.core.create_namespaced_pod, "apps", {"metadata": {"name": "x"}}, mutating=False)
    assert [r for r in mini.requests if r[0] != "GET"] == []
    assert client.version()["gitVersion"] == "v1.36.0+mini"
    assert client.list_raw("pods")["kind"] == "PodList"


def test_kube_errors_and_exec_plugin_policy(api: tuple[MiniApi, Path], tmp_path: Path) -> None:
    _, kubeconfig = api
    client = _client(kubeconfig)
    with pytest.raises(e.NotFoundError) as info:
        client.call(client.core.read_namespaced_config_map, "missing", "apps")
    assert CANARY not in str(info.value)
    data = yaml.safe_load(kubeconfig.read_text())
    data["users"][0]["user"] = {
        "exec": {"command": "/tmp/evil-plugin", "apiVersion": "client.authentication.k8s.io/v1"}
    }
    evil = tmp_path / "evil-kubeconfig"
    evil.write_text(yaml.safe_dump(data))
    with pytest.raises(e.ForbiddenError) as refused:
        KubeClient(kubeconfig=evil, context="mini", guard=TransportGuard())
    assert "not allow-listed" in str(refused.value)
    with pytest.raises(e.InvalidError):
        KubeClient(kubeconfig=kubeconfig, context="nope", guard=TransportGuard())


def test_kube_retries_only_in_the_guard(tmp_path: Path) -> None:
    """A server that hangs up on every connection: the guard's 2 attempts are the only ones made."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    kubeconfig = tmp_path / "hangup"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "clusters": [
                    {"name": "c", "cluster": {"server": f"http://127.0.0.1:{listener.getsockname()[1]}"}}
                ],
                "users": [{"name": "u", "user": {"token": CANARY}}],
                "contexts": [{"name": "mini", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    client = _client(kubeconfig)
    try:
        with pytest.raises(e.UnreachableError):
            client.list_raw("pods")
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        thread.join(5)
    assert client.guard.stats.attempts == 2
    assert len(accepted) == 2


def test_a_blocking_subscriber_does_not_block_subscribe(api: tuple[MiniApi, Path]) -> None:
    """Callbacks never run under a watcher's lock (a UI thread subscribing while a callback waits on it
    would deadlock otherwise)."""
    mini, kubeconfig = api
    mini.put("web-0")
    cache = WatchCache(timeout_seconds=5)
    in_callback = threading.Event()
    release = threading.Event()

    def blocking(event: WatchEvent) -> None:
        in_callback.set()
        release.wait(WAIT)

    try:
        cache.subscribe(_client(kubeconfig), "pods", blocking)
        assert in_callback.wait(WAIT)
        done = threading.Event()
        later: queue.Queue[WatchEvent] = queue.Queue()
        subscriber = threading.Thread(
            target=lambda: (cache.subscribe(_client(kubeconfig), "pods", later.put), done.set()), daemon=True
        )
        subscriber.start()
        assert done.wait(WAIT), "subscribe() blocked behind a running callback"
        release.set()
        _next(later, ADDED, "apps/web-0")
    finally:
        release.set()
        cache.close(timeout=5)
