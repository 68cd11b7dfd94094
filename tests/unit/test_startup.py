"""Start-up: the first frame is painted before any backend library, the store or the settings load.

The console is run for real (``python -c "from hks_tui.cli import main; main()"`` on a pseudo-terminal,
as ``benchmarks/bench_startup.py`` does) with ``HKS_TUI_EXIT_AFTER_FIRST_FRAME=1``: it exits right after
its first frame and an ``atexit`` hook records ``sys.modules``. No timing is asserted here (the speed
target is the ``startup`` benchmark).
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from typing import Any

import pytest

from hks_tui.app import FIRST_FRAME_ENV, FIRST_FRAME_MARKER

ROOT = Path(__file__).resolve().parents[2]

#: must not be imported before the first frame (the runtime opens right after it)
NOT_BEFORE_FIRST_FRAME = (
    "kubernetes",
    "proxmoxer",
    "requests",
    "urllib3",
    "prometheus_api_client",
    "sqlite_utils",
    "pydantic_settings",
    "pydantic",
    "hks_tui.runtime",
    "hks_tui.config",
    "hks_tui.store",
    "hks_tui.services",
    "hks_tui.clients",
    "hks_tui.lab",
)

_CONSOLE = """
import atexit, json, os, sys
def _dump():
    with open(os.environ["HKS_TEST_MODULES_OUT"], "w") as out:
        json.dump(sorted(sys.modules), out)
atexit.register(_dump)
from hks_tui.cli import main
main(prog_name="hks-tui")
"""


def run_on_pty(args: list[str], env: dict[str, str], timeout: float = 90.0) -> tuple[int, str]:
    """Run the console with ``args`` on a fresh 80x24 pseudo-terminal; (exit code, terminal output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", _CONSOLE, *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        cwd=ROOT,
        close_fds=True,
    )
    os.close(slave)
    output = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    chunk = b""
                output += chunk
                if chunk:
                    continue
            if proc.poll() is not None:
                break
        else:
            raise AssertionError(f"the console did not exit: {output[-800:]!r}")
        return proc.wait(timeout=30), output.decode("utf-8", "replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.fixture
def console_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HKS_")}
    env.update(
        TERM="xterm-256color",
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        HKS_TEST_MODULES_OUT=str(tmp_path / "modules.json"),
    )
    return env


def test_first_frame_imports_no_backend_library(
    lab: Any, tmp_path: Path, console_env: dict[str, str]
) -> None:
    env = {**console_env, FIRST_FRAME_ENV: "1"}
    code, output = run_on_pty(["--lab-dir", str(lab.state_dir), "--data-dir", str(tmp_path / "data")], env)
    assert code == 0, output[-800:]
    assert FIRST_FRAME_MARKER in output
    modules = set(json.loads((tmp_path / "modules.json").read_text()))
    # the shell really ran (the check below would pass trivially otherwise)
    assert {"textual.app", "hks_tui.app", "hks_tui.screens.home", "hks_tui.cli_boot"} <= modules
    early = sorted(
        m for m in modules if any(m == name or m.startswith(name + ".") for name in NOT_BEFORE_FIRST_FRAME)
    )
    assert early == [], f"imported before the first frame: {early[:10]}"
    # the facts that are cheap to know are on the first frame already (the header's LAB badge)
    assert "LAB" in output


def test_console_reports_an_unopenable_runtime_as_one_line(
    tmp_path: Path, console_env: dict[str, str]
) -> None:
    code, output = run_on_pty(
        ["--lab-dir", str(tmp_path / "nolab"), "--data-dir", str(tmp_path / "d")], console_env
    )
    assert code == 1, output[-800:]
    assert f"hks-tui: Connect to the lab in {tmp_path / 'nolab'}" in output
    assert "Traceback" not in output
    # the runtime's imports happened only once the shell was up (it failed later, on the opener thread)
    modules = set(json.loads((tmp_path / "modules.json").read_text()))
    assert "hks_tui.runtime" in modules


def test_store_opens_without_sqlite_utils(tmp_path: Path) -> None:
    code = f"""
import json, sys
from pathlib import Path
from hks_tui.store import Store
store = Store.open(Path({str(tmp_path / "s.db")!r}))
before = "sqlite_utils" in sys.modules
version = store.schema_version
store.workspaces.list()
after = "sqlite_utils" in sys.modules
store.close()
print(json.dumps([before, version, after]))
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    before, version, after = json.loads(proc.stdout.strip().splitlines()[-1])
    assert before is False and version >= 1 and after is True


def test_settings_load_without_pydantic_settings(tmp_path: Path) -> None:
    code = """
import json, sys
from hks_tui.config import load_settings
settings = load_settings()
print(json.dumps(["pydantic_settings" in sys.modules, settings.ui.theme]))
"""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("HKS_")}
    env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), HKS_UI__THEME="light")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [False, "light"]
