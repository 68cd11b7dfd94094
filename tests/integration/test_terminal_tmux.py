"""Drive the real `hks-tui` in tmux (a real terminal, 80x24) on the embedded lab (no configuration)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import require_binary


class Tmux:
    def __init__(self, tmux: str, socket: str) -> None:
        self.tmux, self.socket = tmux, socket

    def __call__(self, *args: str) -> str:
        result = subprocess.run(
            [self.tmux, "-L", self.socket, *args], check=True, capture_output=True, text=True, timeout=30
        )
        return result.stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "hks")

    def keys(self, *keys: str) -> None:
        """Send key names (``Enter``, ``Escape``, ``?``)."""
        for key in keys:
            self("send-keys", "-t", "hks", key)
            time.sleep(0.15)

    def command(self, text: str) -> None:
        """Type ``:text`` and Enter; the text is sent literally (tmux would read ``home`` as the Home key)."""
        self.keys(":")
        self("send-keys", "-t", "hks", "-l", text)
        time.sleep(0.15)
        self.keys("Enter")

    def wait_for(self, predicate: Callable[[str], bool], what: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")


@pytest.fixture
def tmux(tmp_path: Path) -> Iterator[Tmux]:
    binary = require_binary("tmux")
    session = Tmux(binary, f"hks-test-{uuid.uuid4().hex[:8]}")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "LANG": "C.UTF-8",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # nothing configured → embedded lab
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    console = f"{shlex.quote(sys.executable)} -c 'from hks_tui.cli import main; main(prog_name=\"hks-tui\")'"
    command = f"env -i {exports} {console}; echo HKS-EXIT=$?; sleep 30"
    session("new-session", "-d", "-s", "hks", "-x", "80", "-y", "24", command)
    try:
        yield session
    finally:
        subprocess.run([binary, "-L", session.socket, "kill-server"], capture_output=True, timeout=30)


def header(screen: str) -> str:
    return screen.splitlines()[0] if screen else ""


def test_console_in_tmux_on_embedded_lab(tmux: Tmux) -> None:
    # The console opens on its default section, the Node Overview: the header names the workspace and
    # its plan, and the health dots fill in once the lab's backends answered.
    first = tmux.wait_for(
        lambda s: all(t in header(s) for t in ("dev", "Shared", "LAB", "●PVE")),
        "the first screen (workspace dev, Shared plan) with health",
    )
    assert "Backends" not in first  # not Home
    tmux.command("home")
    home = tmux.wait_for(
        lambda s: "Backends" in s and "Proxmox VE" in s and "not checked yet" not in s,
        "the home screen with the health of every backend",
    )
    assert "dev" in header(home) and "●PVE" in header(home)
    # the health line of Proxmox VE: reachable (a loaded machine may answer slowly: "degraded")
    pve = next(line for line in home.splitlines() if "Proxmox VE" in line)
    assert " ok " in pve or " degraded " in pve, pve
    tmux.command("audit")
    tmux.wait_for(lambda s: "Audit log" in s, "the audit section")
    tmux.command("ws prod")
    tmux.wait_for(
        lambda s: "prod" in s.splitlines()[0] and "Dedicated" in s.splitlines()[0], "workspace prod"
    )
    tmux.command("bogus")
    tmux.wait_for(lambda s: "Unknown command ':bogus'" in s, "the unknown-command message")
    tmux.keys("?")
    tmux.wait_for(lambda s: "Help — Audit" in s, "the help screen")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Help — Audit" not in s, "help closed")
    tmux.command("q")
    final = tmux.wait_for(lambda s: "HKS-EXIT=" in s, "the console to exit")
    assert "HKS-EXIT=0" in final
    assert "Traceback" not in final
