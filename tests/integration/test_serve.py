"""`hks-tui serve` guard: token, Host and Origin checks over real HTTP/websocket; session environment."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from click.testing import CliRunner

from hks_tui.serve import GuardedServer, serve_command, session_command, session_environment

TOKEN = "t0k3n-for-tests-only"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


ENV_DUMP = "import json, os, sys; json.dump(dict(os.environ), open(sys.argv[1], 'w'))"


@pytest.fixture
async def served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[GuardedServer, Path]]:
    monkeypatch.setenv("PROXMOX_TOKEN_SECRET", "canary-secret-1234")
    monkeypatch.setenv("HKS_PROXMOX_TOKEN", "canary-secret-5678")
    monkeypatch.setenv("HKS_DATA_DIR", str(tmp_path / "data"))
    import os

    env_file = tmp_path / "session-env.json"
    command = session_command([sys.executable, "-c", ENV_DUMP, str(env_file)], os.environ)
    port = free_port()
    server = GuardedServer(command, host="127.0.0.1", port=port, token=TOKEN)
    runner = web.AppRunner(await server._make_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield server, env_file
    finally:
        await runner.cleanup()


async def status(
    url: str, headers: dict[str, str] | None = None, cookies: dict[str, str] | None = None
) -> int:
    async with (
        aiohttp.ClientSession(cookies=cookies) as session,
        session.get(url, headers=headers or {}, allow_redirects=False) as response,
    ):
        return response.status


async def test_http_requires_token(served: tuple[GuardedServer, Path]) -> None:
    server, _ = served
    base = server.public_url
    assert await status(f"{base}/") == 403
    assert await status(f"{base}/?token=wrong") == 403
    assert await status(f"{base}/static/js/textual.js") == 403
    assert await status(f"{base}/", headers={"Authorization": f"Bearer {TOKEN}"}) == 200
    assert await status(f"{base}/", cookies={"hks_tui_token": TOKEN}) == 200
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        async with session.get(f"{base}/?token={TOKEN}", allow_redirects=False) as response:
            assert response.status == 302
            assert "token" not in response.headers["Location"]
            cookie = response.cookies["hks_tui_token"]
            assert cookie.value == TOKEN and cookie["httponly"] and cookie["samesite"] == "Strict"
        async with session.get(f"{base}/") as response:  # the cookie now carries the token
            assert response.status == 200
            assert "ws://127.0.0.1" in await response.text()
            assert response.headers["X-Frame-Options"] == "DENY"


async def test_foreign_host_and_origin_are_refused(served: tuple[GuardedServer, Path]) -> None:
    server, _ = served
    base, auth = server.public_url, {"Authorization": f"Bearer {TOKEN}"}
    assert await status(f"{base}/", headers={**auth, "Host": "evil.example:8000"}) == 403
    assert await status(f"{base}/", headers={**auth, "Host": f"rebind.example:{server.port}"}) == 403
    assert await status(f"{base}/", headers={**auth, "Origin": "http://evil.example"}) == 403
    assert await status(f"{base}/", headers={**auth, "Origin": f"http://localhost:{server.port}"}) == 200
    assert await status(f"{base}/", headers={**auth, "Host": f"localhost:{server.port}"}) == 200


async def test_websocket_guard_and_scrubbed_session_env(served: tuple[GuardedServer, Path]) -> None:
    server, env_file = served
    ws_url = f"{server.public_url}/ws?width=80&height=24"
    origin = {"Origin": server.public_url}
    async with aiohttp.ClientSession() as session:
        for headers in (origin, {"Origin": "http://evil.example", "Authorization": f"Bearer {TOKEN}"}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await session.ws_connect(ws_url, headers=headers)
            assert refused.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(
                ws_url, headers={"Host": "evil.example", "Authorization": f"Bearer {TOKEN}"}
            )
        assert refused.value.status == 403
    async with (
        aiohttp.ClientSession(cookies={"hks_tui_token": TOKEN}) as session,
        session.ws_connect(ws_url, headers=origin) as ws,
    ):
        for _ in range(200):  # the session process writes its environment and exits
            if env_file.exists() and env_file.stat().st_size:
                break
            await asyncio.sleep(0.05)
        await ws.close()
    env = json.loads(env_file.read_text())
    assert "PROXMOX_TOKEN_SECRET" not in env and "HKS_PROXMOX_TOKEN" not in env
    assert "canary-secret" not in json.dumps(env)
    assert env["TEXTUAL_DRIVER"] == "textual.drivers.web_driver:WebDriver"
    assert env["COLUMNS"] == "80" and env["ROWS"] == "24"
    assert env["HKS_DATA_DIR"].endswith("data") and "PATH" in env


def test_session_environment_allow_list() -> None:
    env = session_environment(
        {
            "PATH": "/bin",
            "HOME": "/h",
            "AWS_SECRET_ACCESS_KEY": "x",
            "KUBECONFIG": "/k",
            "HKS_TOKEN": "s",
            "HKS_CONFIG": "/c",
            "LC_ALL": "C",
            "XDG_CONFIG_HOME": "/x",
        },
        extra=["KUBECONFIG"],
    )
    assert env == {
        "PATH": "/bin",
        "HOME": "/h",
        "KUBECONFIG": "/k",
        "HKS_CONFIG": "/c",
        "LC_ALL": "C",
        "XDG_CONFIG_HOME": "/x",
    }


def test_non_loopback_bind_is_refused() -> None:
    result = CliRunner().invoke(serve_command, ["--host", "0.0.0.0", "--port", "8765"])
    assert result.exit_code != 0
    assert "not a loopback address" in result.output


def test_public_url_host_and_origin_are_accepted() -> None:
    server = GuardedServer(
        "true", host="127.0.0.1", port=8123, token=TOKEN, public_url="https://bastion.example:8443/"
    )
    assert server.public_url == "https://bastion.example:8443"
    assert "bastion.example:8443" in server.allowed_hosts
    assert "https://bastion.example:8443" in server.allowed_origins
    assert "127.0.0.1:8123" in server.allowed_hosts and "evil.example:8123" not in server.allowed_hosts


def test_wildcard_bind_needs_public_url() -> None:
    result = CliRunner().invoke(serve_command, ["--host", "0.0.0.0", "--allow-remote", "--port", "8765"])
    assert result.exit_code != 0 and "--public-url" in result.output
