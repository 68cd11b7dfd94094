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
        for key in keys:
            self("send-keys", "-t", "hks", key)
            time.sleep(0.15)

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


def test_console_in_tmux_on_embedded_lab(tmux: Tmux) -> None:
    home = tmux.wait_for(
        lambda s: "Backends" in s and "LAB" in s and "●PVE" in s, "the home screen with health"
    )
    assert "Proxmox VE" in home and "dev" in home.splitlines()[0]
    tmux.keys(":", "audit", "Enter")
    tmux.wait_for(lambda s: "Audit log" in s, "the audit section")
    tmux.keys(":", "ws prod", "Enter")
    tmux.wait_for(
        lambda s: "prod" in s.splitlines()[0] and "Dedicated" in s.splitlines()[0], "workspace prod"
    )
    tmux.keys(":", "bogus", "Enter")
    tmux.wait_for(lambda s: "Unknown command ':bogus'" in s, "the unknown-command message")
    tmux.keys("?")
    tmux.wait_for(lambda s: "Help — Audit" in s, "the help screen")
    tmux.keys("Escape")
    tmux.wait_for(lambda s: "Help — Audit" not in s, "help closed")
    tmux.keys(":", "q", "Enter")
    final = tmux.wait_for(lambda s: "HKS-EXIT=" in s, "the console to exit")
    assert "HKS-EXIT=0" in final
    assert "Traceback" not in final
