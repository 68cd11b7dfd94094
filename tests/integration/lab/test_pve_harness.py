"""A standalone PVE simulator on loopback HTTPS for the PVE tests (no other lab part needed).

``PveServer`` runs ``build_pve_app`` on its own event loop in a thread, with a fresh LabCA and a fast
clock. Tests talk to it with proxmoxer (https backend, verifying against the lab CA file).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from proxmoxer import ProxmoxAPI

from hks_tui.lab.clock import LabClock
from hks_tui.lab.pve.app import build_pve_app
from hks_tui.lab.pve.infra import build_infrastructure
from hks_tui.lab.tls import LabCA
from hks_tui.lab.world import LabCredentials, LabWorld

T = TypeVar("T")
TIME_SCALE = 50.0


class PveServer:
    def __init__(self, state_dir: Path, time_scale: float = TIME_SCALE) -> None:
        self.ca = LabCA.create(state_dir)
        self.clock = LabClock(time_scale=time_scale)
        self.credentials = LabCredentials()
        self.world = LabWorld(
            clock=self.clock,
            pve=build_infrastructure(self.clock),
            clusters={},
            faults=None,  # type: ignore[arg-type]
            credentials=self.credentials,
        )
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="pve-lab", daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def start(self) -> PveServer:
        self._thread.start()
        self.port = self.run(self._start())
        self.world.urls["proxmox"] = f"https://127.0.0.1:{self.port}"
        return self

    async def _start(self) -> int:
        self._runner = web.AppRunner(build_pve_app(self.world))
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.ca.server_ssl_context())
        await site.start()
        return int(self._runner.addresses[0][1])

    def run(self, coro: Any) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout=60)

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        async def wrapper() -> T:
            return fn(*args)

        return self.run(wrapper())  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self._runner is not None:
            self.run(self._runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()

    # -- clients ----------------------------------------------------------------------------------------
    def token_client(self, secret: str | None = None) -> ProxmoxAPI:
        user, _, token = self.credentials.pve_token_id.partition("!")
        return ProxmoxAPI(
            "127.0.0.1",
            port=self.port,
            user=user,
            token_name=token,
            token_value=secret or self.credentials.pve_token_secret,
            verify_ssl=str(self.ca.ca_file),
            timeout=20,
        )

    def ticket_client(self, password: str | None = None) -> ProxmoxAPI:
        return ProxmoxAPI(
            "127.0.0.1",
            port=self.port,
            user=self.credentials.pve_user,
            password=password or self.credentials.pve_password,
            verify_ssl=str(self.ca.ca_file),
            timeout=20,
        )


def wait_task(px: ProxmoxAPI, upid: str, max_polls: int = 2000) -> dict[str, Any]:
    """Poll a task until it stops (bounded number of polls) and return its final status."""
    node = upid.split(":")[1]
    for _ in range(max_polls):
        status: dict[str, Any] = px.nodes(node).tasks(upid).status.get()
        if status["status"] == "stopped":
            return status
        time.sleep(0.01)
    raise AssertionError(f"task {upid} never stopped")


def wait_exec(agent: Any, pid: int, max_polls: int = 2000) -> dict[str, Any]:
    """Poll ``agent/exec-status`` until the process exited; return that (single) final report."""
    for _ in range(max_polls):
        status: dict[str, Any] = agent("exec-status").get(pid=pid)
        if status["exited"] == 1:
            return status
        time.sleep(0.01)
    raise AssertionError(f"guest process {pid} never exited")


def wait_until(predicate: Callable[[], bool], max_polls: int = 2000) -> None:
    for _ in range(max_polls):
        if predicate():
            return
        time.sleep(0.01)
    raise AssertionError("condition never became true")


@pytest.fixture(scope="module")
def pve_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PveServer]:
    server = PveServer(tmp_path_factory.mktemp("pve")).start()
    try:
        yield server
    finally:
        server.stop()
