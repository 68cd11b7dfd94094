"""Run Kubernetes API servers for a world on a private event loop in a background thread.

The full lab (``hks_tui.lab.server``) serves every API of the world; this helper serves only the
Kubernetes part, for tools and tests that need nothing else. It also writes kubeconfig files.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from aiohttp import web

from hks_tui.lab.faults import fault_middleware
from hks_tui.lab.kube.app import build_kube_app

if TYPE_CHECKING:
    from hks_tui.lab.tls import LabCA
    from hks_tui.lab.world import LabWorld

T = TypeVar("T")


def kubeconfig_dict(
    servers: dict[str, str], token: str, ca_file: Path | None, current: str | None = None
) -> dict[str, Any]:
    """A kubeconfig with one cluster, user entry and context per ``name → server URL``."""
    clusters, contexts = [], []
    for name, url in servers.items():
        cluster: dict[str, Any] = {"server": url}
        if ca_file is not None:
            cluster["certificate-authority"] = str(ca_file)
        clusters.append({"name": name, "cluster": cluster})
        contexts.append({"name": name, "context": {"cluster": name, "user": "hks-lab"}})
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": clusters,
        "users": [{"name": "hks-lab", "user": {"token": token}}],
        "contexts": contexts,
        "current-context": current or next(iter(servers)),
    }


def write_kubeconfig(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    path.chmod(0o600)
    return path


@dataclass
class RunningKube:
    world: LabWorld
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    urls: dict[str, str] = field(default_factory=dict)
    runners: list[web.AppRunner] = field(default_factory=list)
    kubeconfig: Path | None = None
    ca_file: Path | None = None

    def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(*args)`` on the server loop (awaiting it if it is a coroutine) and return the result."""

        async def run() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        future: concurrent.futures.Future[Any] = asyncio.run_coroutine_threadsafe(run(), self.loop)
        return future.result(timeout=30)

    def stop(self) -> None:
        async def shutdown() -> None:
            for runner in self.runners:
                await runner.cleanup()

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=30)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=30)


def serve_clusters_in_thread(
    world: LabWorld, ca: LabCA | None, clusters: list[str] | None = None, host: str = "127.0.0.1"
) -> RunningKube:
    """Serve ``clusters`` (default: all of ``world.clusters``) on ephemeral ports, HTTPS when ``ca`` is given."""
    loop = asyncio.new_event_loop()
    ready: concurrent.futures.Future[None] = concurrent.futures.Future()
    thread = threading.Thread(target=loop.run_forever, name="hks-lab-kube", daemon=True)
    running = RunningKube(world, loop, thread)
    names = list(clusters or world.clusters)

    async def start() -> None:
        ssl_context = ca.server_ssl_context() if ca is not None else None
        scheme = "https" if ssl_context is not None else "http"
        for name in names:
            app = build_kube_app(world, name)
            app.middlewares.insert(0, fault_middleware(world, f"kube:{name}"))  # type: ignore[arg-type]
            runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
            await runner.setup()
            site = web.TCPSite(runner, host, 0, ssl_context=ssl_context)
            await site.start()
            port = runner.addresses[0][1]
            running.runners.append(runner)
            running.urls[name] = f"{scheme}://{host}:{port}"

    thread.start()

    def kick() -> None:
        task = loop.create_task(start())
        task.add_done_callback(
            lambda t: ready.set_exception(t.exception()) if t.exception() else ready.set_result(None)  # type: ignore[arg-type]
        )

    loop.call_soon_threadsafe(kick)
    ready.result(timeout=30)
    return running


def start_kube_only_lab(
    state_dir: Path, clusters: tuple[str, ...] = ("host",), time_scale: float = 1.0
) -> RunningKube:
    """A world with only Kubernetes clusters (no Proxmox, no controllers) served over HTTPS with a fresh
    lab CA; writes ``state_dir/kubeconfig`` with one context per cluster (``RunningKube.kubeconfig``)."""
    from hks_tui.lab.clock import LabClock
    from hks_tui.lab.faults import FaultRegistry
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.tls import LabCA
    from hks_tui.lab.world import LabCredentials, LabWorld

    clock = LabClock(time_scale)
    kube = {
        name: KubeCluster(
            name, "host" if name == "host" else "vcluster", clock, None if name == "host" else name
        )
        for name in clusters
    }
    world = LabWorld(
        clock=clock,
        pve=None,  # type: ignore[arg-type]  # no Proxmox in a Kubernetes-only lab
        clusters=kube,
        faults=FaultRegistry(),
        credentials=LabCredentials(),
    )
    ca = LabCA.create(state_dir)
    running = serve_clusters_in_thread(world, ca)
    running.kubeconfig = write_kubeconfig(
        state_dir / "kubeconfig", kubeconfig_dict(running.urls, world.credentials.kube_token, ca.ca_file)
    )
    running.ca_file = ca.ca_file
    return running
