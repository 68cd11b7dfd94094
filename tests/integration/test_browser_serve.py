"""`hks-tui serve` in headless Chromium: with the token the page loads and the terminal receives the
console's frames over the websocket; without it the server answers 403. Driven over the DevTools protocol."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import require_binary

CONSOLE = [sys.executable, "-c", "from hks_tui.cli import main; main(prog_name='hks-tui')"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_line_matching(stream: Any, pattern: str, proc: subprocess.Popen[str], what: str) -> re.Match[str]:
    seen: list[str] = []
    for line in stream:
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"{what} ended ({proc.poll()}) without {pattern!r}: {''.join(seen)[-2000:]}")


@pytest.fixture
def served_url(lab: Any, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config"), "HKS_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [*CONSOLE, "--lab-dir", str(lab.state_dir), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        match = read_line_matching(
            proc.stdout, r"(http://127\.0\.0\.1:\d+/\?token=\S+)", proc, "hks-tui serve"
        )
        yield match.group(1)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # the server and its session processes
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


class Page:
    """A minimal DevTools-protocol client for one page."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        ident = next(self.ids)
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        async for message in self.ws:
            data = json.loads(message.data)
            if data.get("id") == ident:
                if "error" in data:
                    raise RuntimeError(f"{method}: {data['error']}")
                return dict(data.get("result", {}))
        raise RuntimeError("DevTools connection closed")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def wait_for(self, expression: str, timeout: float = 60.0) -> Any:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.25)
        raise AssertionError(f"timed out waiting for {expression}")


@pytest.fixture
async def page(tmp_path: Path) -> AsyncIterator[Page]:
    chromium = require_binary("chromium")
    proc = await asyncio.create_subprocess_exec(
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={tmp_path / 'chromium'}",
        "--remote-debugging-port=0",
        "--window-size=1024,640",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert proc.stderr is not None
        browser_ws = ""
        while not browser_ws:
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            if not line:
                raise AssertionError("chromium exited before its DevTools endpoint was up")
            found = re.search(r"DevTools listening on (ws://\S+)", line)
            browser_ws = found.group(1) if found else ""
        http_base = "http://" + browser_ws.split("/")[2]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{http_base}/json/list") as response:
                targets = await response.json()
            page_ws = next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")
            async with session.ws_connect(page_ws, max_msg_size=0) as ws:
                yield Page(ws)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        await proc.wait()


async def test_browser_loads_the_console_with_token(served_url: str, page: Page, tmp_path: Path) -> None:
    base = served_url.split("/?", 1)[0]
    await page.send("Page.enable")

    # Without the token: 403 from our guard.
    await page.send("Page.navigate", url=f"{base}/")
    text = await page.wait_for(
        "document.readyState === 'complete' && document.body && document.body.innerText"
    )
    assert "403" in text and "token" in text

    # With the token: the page (xterm + textual.js) loads, the websocket opens and the console's first
    # bytes arrive (textual.js adds `-first-byte` to <body> then); the token left the address bar.
    await page.send("Page.navigate", url=served_url)
    await page.wait_for("document.body && document.body.classList.contains('-first-byte')", timeout=90)
    assert await page.evaluate("location.href") == f"{base}/"
    assert await page.evaluate("document.querySelector('.textual-terminal') !== null")
    await asyncio.sleep(3)  # let the console paint its home screen for the screenshot artefact
    shot = await page.send("Page.captureScreenshot", format="png")
    import base64

    (tmp_path / "served-console.png").write_bytes(base64.b64decode(shot["data"]))
    cookie_visible = await page.evaluate("document.cookie")
    assert "hks_tui_token" not in (cookie_visible or "")  # HttpOnly
