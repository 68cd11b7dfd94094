"""Start-up to the first painted frame: `hks-tui --lab-dir DIR` (a lab already running) vs a bare Textual app.

Each program runs in a fresh process on a pseudo-terminal (80x24) with ``HKS_TUI_EXIT_AFTER_FIRST_FRAME=1``;
it prints a marker once its first screen has been painted and exits. We time process start → marker.
Median of several runs each, interleaved. Target: ours ≤ 1.5 × baseline (ratio ≥ 0.67).

"First painted frame" is the shell (header with the lab's organisation/workspace and badges, the
default section, footer); the runtime (settings, state database, services, backend clients) opens right after it
on a thread (``hks_tui.cli_boot``), so its cost is not in this figure by design. Before timing, the
package's bytecode is compiled as an installed package's is: an editable checkout run with
``PYTHONDONTWRITEBYTECODE=1`` would otherwise recompile every edited module at each start, while
Textual (the baseline) has its bytecode from installation.
"""

from __future__ import annotations

import compileall
import fcntl
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MARKER = b"HKS-TUI-FIRST-FRAME"
RUNS = 5
TIMEOUT = 60.0

BARE_APP = f"""
import sys
from textual.app import App
from textual.widgets import Footer, Header, Static

class Bare(App):
    def compose(self):
        yield Header()
        yield Static("hello")
        yield Footer()

    def on_mount(self):
        self.call_after_refresh(self.first_frame)

    def first_frame(self):
        sys.__stdout__.write("\\n{MARKER.decode()}\\n")
        sys.__stdout__.flush()
        self.exit(0)

Bare().run()
"""


def time_to_marker(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from spawning ``argv`` on a fresh 80x24 pty until it prints the marker."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    seen = b""
    try:
        while MARKER not in seen:
            if time.perf_counter() - start > TIMEOUT:
                raise TimeoutError(f"no first frame from {argv[:3]} within {TIMEOUT} s: {seen[-400:]!r}")
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the pty
                    chunk = b""
                if not chunk and proc.poll() is not None:
                    raise RuntimeError(
                        f"{argv[:3]} exited ({proc.returncode}) before its first frame: {seen[-400:]!r}"
                    )
                seen = (seen + chunk)[-8192:]
        return time.perf_counter() - start
    finally:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)


def compile_package() -> None:
    """Write hks_tui's bytecode (``__pycache__``), like ``pip install`` does for an installed package."""
    import hks_tui

    compileall.compile_dir(Path(hks_tui.__file__).resolve().parent, quiet=1)


def run() -> Iterator[dict[str, Any]]:
    from hks_tui.lab.server import start_lab_in_thread

    compile_package()

    with tempfile.TemporaryDirectory(prefix="hks-bench-startup-") as tmp:
        lab = start_lab_in_thread(state_dir=Path(tmp) / "lab", seed="demo", time_scale=1.0)
        try:
            env = {
                **os.environ,
                "TERM": "xterm-256color",
                "HKS_TUI_EXIT_AFTER_FIRST_FRAME": "1",
                "XDG_CONFIG_HOME": str(Path(tmp) / "config"),
            }
            ours_argv = [
                sys.executable,
                "-c",
                "from hks_tui.cli import main; main(prog_name='hks-tui')",
                "--lab-dir",
                str(Path(tmp) / "lab"),
                "--data-dir",
                str(Path(tmp) / "data"),
            ]
            bare_argv = [sys.executable, "-c", BARE_APP]
            time_to_marker(ours_argv, env)  # warm the OS file cache for both
            time_to_marker(bare_argv, env)
            ours: list[float] = []
            bare: list[float] = []
            for _ in range(RUNS):
                ours.append(time_to_marker(ours_argv, env))
                bare.append(time_to_marker(bare_argv, env))
        finally:
            lab.stop()
    ours_s, bare_s = statistics.median(ours), statistics.median(bare)
    yield {
        "bench": "startup",
        "size": 1,
        "ours": round(ours_s, 4),
        "baseline": round(bare_s, 4),
        "unit": "s",
        "ratio": round(bare_s / ours_s, 3),
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    for record in run():
        print(json.dumps(record))
