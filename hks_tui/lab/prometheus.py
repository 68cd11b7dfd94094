"""Run a real ``prometheus`` binary (Debian package ``prometheus``) scraping the lab on loopback.

Config file and TSDB live under ``STATE_DIR/prometheus/``; the server listens on a free 127.0.0.1 port,
scrapes the lab's ``/metrics`` every second with ``honor_labels: true`` (so the exporter's ``instance``
and ``node`` labels survive) and is stopped (SIGTERM, then SIGKILL) with the lab. On Linux the child also
gets SIGTERM if the thread that started it dies (``PR_SET_PDEATHSIG``), so it cannot outlive a crashed
lab.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

SCRAPE_INTERVAL = "1s"


class PrometheusError(RuntimeError):
    """Prometheus could not be started or did not become ready."""


def prometheus_binary() -> str | None:
    return shutil.which("prometheus")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(path: Path, metrics_url: str, interval: str = SCRAPE_INTERVAL) -> None:
    parts = urlsplit(metrics_url)
    path.write_text(
        "# Written by hks-tui lab: scrape the lab's exporter.\n"
        "global:\n"
        f"  scrape_interval: {interval}\n"
        f"  scrape_timeout: {interval}\n"
        f"  evaluation_interval: {interval}\n"
        "scrape_configs:\n"
        "  - job_name: hks-lab\n"
        "    honor_labels: true\n"
        f"    scheme: {parts.scheme or 'http'}\n"
        f"    metrics_path: {parts.path or '/metrics'}\n"
        "    static_configs:\n"
        f"      - targets: ['{parts.netloc}']\n"
    )


def _die_with_parent() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class PrometheusProcess:
    process: subprocess.Popen[bytes]
    url: str
    directory: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=1) as resp:
                return bool(resp.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    async def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PrometheusError(
                    f"prometheus exited with {self.process.returncode}; see {self.directory / 'prometheus.log'}"
                )
            if await asyncio.to_thread(self.ready):
                return
            await asyncio.sleep(0.05)
        raise PrometheusError(
            f"prometheus not ready after {timeout:.0f} s; see {self.directory / 'prometheus.log'}"
        )

    def stop(self, timeout: float = 5.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)


def start_prometheus(state_dir: Path, metrics_url: str, port: int | None = None) -> PrometheusProcess:
    """Start prometheus scraping ``metrics_url``; call :meth:`PrometheusProcess.wait_ready` next."""
    binary = prometheus_binary()
    if binary is None:
        raise PrometheusError("no `prometheus` binary on PATH (Debian: apt-get install prometheus)")
    directory = Path(state_dir) / "prometheus"
    (directory / "data").mkdir(parents=True, exist_ok=True)
    config = directory / "prometheus.yml"
    write_config(config, metrics_url)
    port = port or free_port()
    log = (directory / "prometheus.log").open("ab")
    try:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config}",
                f"--storage.tsdb.path={directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=1d",
                "--log.level=warn",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            cwd=directory,
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
    finally:
        log.close()
    return PrometheusProcess(process=process, url=f"http://127.0.0.1:{port}", directory=directory)
