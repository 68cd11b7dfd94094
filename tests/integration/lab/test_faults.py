"""Fault rules and the fault middleware, over real HTTP against a small aiohttp app.

The end-to-end cases against the assembled lab (dropped PVE/Kubernetes responses, stalled watches) are in
test_faults_lab.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from hks_tui.lab.faults import (
    FaultRegistry,
    FaultRule,
    FaultSpecError,
    fault_middleware,
    parse_fault_spec,
    parse_latency_spec,
)


def test_parse_compact_specs() -> None:
    rule = parse_fault_spec("pve:POST:/nodes/.*/qemu/.*/clone:error=500:rate=0.5")
    assert (rule.api, rule.method, rule.path, rule.error, rule.rate) == (
        "pve",
        "POST",
        "/nodes/.*/qemu/.*/clone",
        500,
        0.5,
    )
    rule = parse_fault_spec("kube:host:GET:/api/v1/pods:stall")
    assert (rule.api, rule.method, rule.path, rule.stall) == ("kube:host", "GET", "/api/v1/pods", True)
    rule = parse_fault_spec("kube:prod:/apis/apps/v1/.*:drop:count=1")
    assert (rule.api, rule.method, rule.path, rule.drop, rule.count) == (
        "kube:prod",
        None,
        "/apis/apps/v1/.*",
        True,
        1,
    )
    rule = parse_fault_spec("metrics:latency=0.25")
    assert (rule.api, rule.method, rule.path, rule.latency) == ("metrics", None, None, 0.25)
    rule = parse_fault_spec("pve:/a:b/c:error=596")  # a colon inside the path regex survives
    assert rule.path == "/a:b/c"
    assert parse_latency_spec("pve=0.2").latency == 0.2


@pytest.mark.parametrize(
    "spec",
    ["pve:GET", "pve:error=404", "pve:rate=2:error=500", ":error=500", "pve:(:error=500", "pve:latency=-1"],
)
def test_bad_specs_are_rejected(spec: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_fault_spec(spec)


def test_api_patterns() -> None:
    assert FaultRule(api="kube", stall=True).matches("kube:dev", "GET", "/api")
    assert FaultRule(api="kube:*", stall=True).matches("kube:host", "GET", "/api")
    assert not FaultRule(api="kube:host", stall=True).matches("kube:dev", "GET", "/api")
    assert not FaultRule(api="pve", method="POST", error=500).matches("pve", "GET", "/x")


class _App:
    def __init__(self, api: str) -> None:
        self.api = api
        self.faults = FaultRegistry(seed=7)
        self.applied: list[str] = []
        self.url = ""

    async def create(self, request: web.Request) -> web.Response:
        self.applied.append(request.match_info["name"])
        return web.json_response({"data": request.match_info["name"]})

    async def get(self, request: web.Request) -> web.Response:
        return web.json_response({"data": "ok"})


@pytest.fixture
async def small_app() -> AsyncIterator[Any]:
    holder: dict[str, _App] = {}
    runners: list[web.AppRunner] = []

    async def start(api: str) -> _App:
        state = _App(api)
        app = web.Application(middlewares=[fault_middleware(SimpleNamespace(faults=state.faults), api)])  # type: ignore[arg-type,list-item]
        app.router.add_post("/things/{name}", state.create)
        app.router.add_get("/things", state.get)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        runners.append(runner)
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        state.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        holder[api] = state
        return state

    yield start
    for runner in runners:
        await runner.cleanup()


async def test_latency_is_applied_and_requests_recorded(small_app: Any) -> None:
    app = await small_app("pve")
    app.faults.add("pve:GET:/things:latency=0.3")
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        async with session.get(app.url + "/things") as resp:
            assert resp.status == 200
        assert time.monotonic() - started >= 0.3
        async with session.post(app.url + "/things/a") as resp:
            assert resp.status == 200
    records = app.faults.select("pve")
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/things", 200),
        ("POST", "/things/a", 200),
    ]
    assert app.faults.count("pve", mutating=True) == 1
    assert app.faults.count("p*", "GET") == 1


@pytest.mark.parametrize("code", [500, 503, 596])
async def test_error_envelopes_per_api(small_app: Any, code: int) -> None:
    pve, kube, metrics = await small_app("pve"), await small_app("kube:host"), await small_app("metrics")
    for app in (pve, kube, metrics):
        app.faults.add(FaultRule(api="*", error=code))
    async with aiohttp.ClientSession() as session:
        async with session.post(pve.url + "/things/x") as resp:
            body = await resp.json()
            assert resp.status == code
            assert body["data"] is None and body["message"].endswith("\n")
            assert resp.reason == body["message"].strip()  # PVE puts the message in the reason phrase
        async with session.post(kube.url + "/things/x") as resp:
            status = await resp.json()
            assert resp.status == code
            assert status["kind"] == "Status" and status["status"] == "Failure" and status["code"] == code
            assert status["reason"] in {"InternalError", "ServiceUnavailable", "Timeout"}
        async with session.get(metrics.url + "/things") as resp:
            assert resp.status == code
            assert resp.content_type == "text/plain"
    assert pve.applied == [] and kube.applied == []  # an injected error never runs the handler
    assert all(r.fault == "error" for app in (pve, kube, metrics) for r in app.faults.requests)


async def test_error_rate_is_seeded_and_count_limited(small_app: Any) -> None:
    app = await small_app("pve")
    rule = app.faults.add("pve:POST:error=503:rate=0.5")
    statuses = []
    async with aiohttp.ClientSession() as session:
        for i in range(40):
            async with session.post(f"{app.url}/things/{i}") as resp:
                statuses.append(resp.status)
    failures = statuses.count(503)
    assert 0 < failures < 40 and statuses.count(200) == 40 - failures
    assert rule.fired == failures and len(app.applied) == 40 - failures
    # the same seed gives the same sequence
    again = FaultRegistry(seed=7)
    again_rule = again.add("pve:POST:error=503:rate=0.5")
    fired = [again.fire([again_rule], "error") is not None for _ in range(40)]
    assert [s == 503 for s in statuses] == fired

    app.faults.clear()
    app.faults.add("pve:POST:/things/.*:error=500:count=2")
    async with aiohttp.ClientSession() as session:
        codes = []
        for i in range(4):
            async with session.post(f"{app.url}/things/c{i}") as resp:
                codes.append(resp.status)
    assert codes == [500, 500, 200, 200]


async def test_drop_applies_then_aborts(small_app: Any) -> None:
    app = await small_app("pve")
    app.faults.add("pve:POST:/things/.*:drop:count=1")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            async with session.post(app.url + "/things/lost") as resp:
                await resp.read()
        async with session.post(app.url + "/things/next") as resp:
            assert resp.status == 200
    assert app.applied == ["lost", "next"]  # the dropped request was applied
    dropped = [r for r in app.faults.requests if r.fault == "drop"]
    assert [(d.path, d.status) for d in dropped] == [("/things/lost", 200)]


async def test_stream_stalled_follows_rules() -> None:
    faults = FaultRegistry()
    assert not faults.stream_stalled("kube:host", "/api/v1/pods")
    rule = faults.add("kube:host:/api/v1/(namespaces/[^/]+/)?pods:stall")
    assert faults.stream_stalled("kube:host", "/api/v1/pods")
    assert faults.stream_stalled("kube:host", "/api/v1/namespaces/default/pods/x/log")
    assert not faults.stream_stalled("kube:dev", "/api/v1/pods")
    assert not faults.stream_stalled("kube:host", "/api/v1/nodes")
    assert faults.remove(rule.id)
    assert not faults.stream_stalled("kube:host", "/api/v1/pods")
    await asyncio.sleep(0)


def test_request_log_is_bounded() -> None:
    faults = FaultRegistry(max_records=10)
    for i in range(25):
        faults.record("pve", "GET", f"/{i}", 200)
    assert len(faults.requests) == 10 and faults.requests[0].path == "/15"
    assert faults.last_seq == 25
    assert [r.path for r in faults.select(since=23)] == ["/23", "/24"]
