"""Assemble and run the lab: world, servers, controllers, optional Prometheus, ``lab.json``.

* :func:`start_lab_in_thread` — tests and the embedded console: the lab runs on its own thread and event
  loop; ``RunningLab.call(fn, *args)`` runs ``fn`` on the lab loop (awaiting coroutines) and returns the
  result; ``RunningLab.stop()`` shuts everything down and joins the thread.
* :func:`run_lab` — ``hks-tui lab``: runs in the foreground until SIGINT/SIGTERM.

Servers, all on 127.0.0.1 (free ephemeral ports unless given): Proxmox VE (HTTPS), one Kubernetes API
server per cluster (HTTPS, same CA), the metrics exporter (HTTP) and the control API (HTTP). Every app
gets :func:`hks_tui.lab.faults.fault_middleware` as its outermost middleware.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import signal
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from hks_tui.lab.clock import LabClock
from hks_tui.lab.faults import FaultRegistry, FaultRule, fault_middleware
from hks_tui.lab.kubeconfig import context_names, write_kubeconfig, write_private
from hks_tui.lab.prometheus import PrometheusError, PrometheusProcess, start_prometheus
from hks_tui.lab.tls import LabCA
from hks_tui.lab.world import LabWorld

HOST = "127.0.0.1"


@dataclass
class LabServers:
    """The running lab inside its event loop."""

    state_dir: Path
    world: LabWorld
    ca: LabCA
    info: dict[str, Any] = field(default_factory=dict)
    runners: list[web.AppRunner] = field(default_factory=list)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    prometheus: PrometheusProcess | None = None

    async def close(self) -> None:
        """Stop controllers, Prometheus and every server; each phase is bounded so shutdown never hangs."""
        for task in self.tasks:
            task.cancel()
        if self.tasks:
            await _bounded("controllers", asyncio.gather(*self.tasks, return_exceptions=True), 5.0)
        self.tasks.clear()
        if self.prometheus is not None:
            await _bounded("prometheus", asyncio.to_thread(self.prometheus.stop), 12.0)
            self.prometheus = None
        for runner in reversed(self.runners):
            await _bounded("server", runner.cleanup(), 5.0)
        self.runners.clear()


async def _bounded(what: str, awaitable: Awaitable[Any], timeout: float) -> None:
    try:
        await asyncio.wait_for(awaitable, timeout)
    except TimeoutError:
        print(f"hks-tui lab: warning: {what} did not stop within {timeout:.0f} s", file=sys.stderr)


async def _serve(
    servers: LabServers, app: web.Application, api: str, port: int, ssl_context: ssl.SSLContext | None
) -> int:
    app.middlewares.insert(0, fault_middleware(servers.world, api))  # type: ignore[arg-type]
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    servers.runners.append(runner)
    site = web.TCPSite(runner, HOST, port, ssl_context=ssl_context, reuse_address=True)
    await site.start()
    return int(runner.addresses[0][1])


async def _answers(urls: Iterable[tuple[str, dict[str, str]]], ca: LabCA) -> None:
    """Wait until every URL answers HTTP (any status: the server is up and speaking)."""
    client_ssl = ca.client_ssl_context()
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for url, headers in urls:
            for attempt in range(50):
                try:
                    ssl_arg: ssl.SSLContext | bool = client_ssl if url.startswith("https") else False
                    async with session.get(url, ssl=ssl_arg, headers=headers) as resp:
                        await resp.read()
                    break
                except aiohttp.ClientError:
                    if attempt == 49:
                        raise
                    await asyncio.sleep(0.05)


def _proxmox_info(world: LabWorld, url: str, port: int, ca: LabCA) -> dict[str, Any]:
    creds = world.credentials
    templates: dict[str, int] = {}
    for vm in sorted(world.pve.vms.values(), key=lambda v: v.vmid):
        if vm.template:
            templates.setdefault(vm.node, vm.vmid)
    return {
        "url": url,
        "host": HOST,
        "port": port,
        "token_id": creds.pve_token_id,
        "token_secret": creds.pve_token_secret,
        "user": creds.pve_user,
        "password": creds.pve_password,
        "ca_file": str(ca.ca_file),
        "nodes": sorted(world.pve.nodes),
        "template_vmid": {node: templates.get(node, 0) for node in sorted(world.pve.nodes)},
    }


def _regions_info(world: LabWorld, templates: dict[str, int]) -> dict[str, Any]:
    """Region → PVE nodes, VM storage, bridge and template per node, as a profile's `regions` table."""
    regions: dict[str, Any] = {}
    for name in sorted(world.pve.nodes):
        region = world.pve.region_of(name)
        entry = regions.setdefault(
            region, {"pve_nodes": [], "storage": "local-lvm", "bridge": "vmbr0", "template_vmid": {}}
        )
        entry["pve_nodes"].append(name)
        if templates.get(name):
            entry["template_vmid"][name] = templates[name]
    return regions


async def start_servers(
    state_dir: Path,
    seed: str = "demo",
    time_scale: float = 1.0,
    *,
    faults: Iterable[FaultRule | str] = (),
    fault_seed: int = 0,
    ports: dict[str, int] | None = None,
    prometheus: bool = False,
) -> LabServers:
    """Build the world, start every server and the controllers, then write kubeconfig and lab.json."""
    from hks_tui.lab.control import build_control_app
    from hks_tui.lab.controllers import start_controllers
    from hks_tui.lab.kube.app import build_kube_app
    from hks_tui.lab.metrics import build_metrics_app
    from hks_tui.lab.pve.app import build_pve_app
    from hks_tui.lab.seed import build_world

    ports = dict(ports or {})
    state_dir = Path(state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "lab.json").unlink(missing_ok=True)
    ca = await asyncio.to_thread(LabCA.create, state_dir)
    registry = FaultRegistry(seed=fault_seed)
    for rule in faults:
        registry.add(rule)
    world = build_world(seed, LabClock(time_scale), faults=registry)
    servers = LabServers(state_dir=state_dir, world=world, ca=ca)
    try:
        server_ssl = ca.server_ssl_context()
        pve_port = await _serve(servers, build_pve_app(world), "pve", ports.get("pve", 0), server_ssl)
        pve_url = f"https://{HOST}:{pve_port}"
        world.urls["proxmox"] = pve_url
        kube_urls: dict[str, str] = {}
        for name in sorted(world.clusters):
            port = await _serve(
                servers, build_kube_app(world, name), f"kube:{name}", ports.get(name, 0), server_ssl
            )
            kube_urls[name] = f"https://{HOST}:{port}"
        world.urls["k3s"] = kube_urls["host"]
        for name, url in kube_urls.items():
            if name != "host":
                world.urls[name] = url
        metrics_port = await _serve(
            servers, build_metrics_app(world), "metrics", ports.get("metrics", 0), None
        )
        world.urls["metrics"] = f"http://{HOST}:{metrics_port}/metrics"
        control_port = await _serve(
            servers, build_control_app(world), "control", ports.get("control", 0), None
        )
        world.urls["control"] = f"http://{HOST}:{control_port}/control"

        prometheus_url = None
        if prometheus:
            try:
                servers.prometheus = start_prometheus(
                    state_dir, world.urls["metrics"], ports.get("prometheus")
                )
                await servers.prometheus.wait_ready()
            except PrometheusError as exc:
                print(f"hks-tui lab: warning: running without Prometheus: {exc}", file=sys.stderr)
                if servers.prometheus is not None:
                    await asyncio.to_thread(servers.prometheus.stop)
                    servers.prometheus = None
            else:
                prometheus_url = servers.prometheus.url
                world.urls["prometheus"] = prometheus_url

        pve_auth = {
            "Authorization": f"PVEAPIToken={world.credentials.pve_token_id}={world.credentials.pve_token_secret}"
        }
        kube_auth = {"Authorization": f"Bearer {world.credentials.kube_token}"}
        await _answers(
            [
                (f"{pve_url}/api2/json/version", pve_auth),
                *((f"{u}/version", kube_auth) for u in kube_urls.values()),
                (world.urls["metrics"], {}),
                (world.urls["control"], {}),
            ],
            ca,
        )
        contexts = context_names(world.clusters)
        kubeconfig = write_kubeconfig(
            state_dir / "kubeconfig", kube_urls, contexts, ca.ca_file, world.credentials.kube_token
        )
        proxmox_info = _proxmox_info(world, pve_url, pve_port, ca)
        servers.info = {
            "org": str(world.extra.get("org", "lab")),
            "proxmox": proxmox_info,
            "regions": _regions_info(world, proxmox_info["template_vmid"]),
            "kubeconfig": str(kubeconfig),
            "host_context": contexts["host"],
            "vcluster_contexts": {name: ctx for name, ctx in contexts.items() if name != "host"},
            "metrics_url": world.urls["metrics"],
            "prometheus_url": prometheus_url,
            "k3s": {"url": world.urls["k3s"], "agent_token": world.credentials.k3s_agent_token},
            "control_url": world.urls["control"],
        }
        # The controllers start after lab.json: their first reconcile passes are CPU-heavy and would only
        # delay the readiness checks above; world.urls (the K3s join URL) is already set.
        servers.tasks.extend(start_controllers(world))
        write_private(state_dir / "lab.json", json.dumps(servers.info, indent=2) + "\n")
    except BaseException:
        await servers.close()
        raise
    return servers


async def run_lab(
    state_dir: Path,
    seed: str = "demo",
    time_scale: float = 1.0,
    *,
    faults: Iterable[FaultRule | str] = (),
    fault_seed: int = 0,
    ports: dict[str, int] | None = None,
    prometheus: bool = True,
    on_ready: Callable[[LabServers], None] | None = None,
) -> None:
    """Run the lab in the foreground until SIGINT/SIGTERM, then shut down cleanly."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        servers = await start_servers(
            state_dir,
            seed,
            time_scale,
            faults=faults,
            fault_seed=fault_seed,
            ports=ports,
            prometheus=prometheus,
        )
        try:
            if on_ready is not None:
                on_ready(servers)
            await stop.wait()
        finally:
            await servers.close()
            (servers.state_dir / "lab.json").unlink(missing_ok=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


class RunningLab:
    """A lab running on its own thread and event loop."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, thread: threading.Thread, servers: LabServers
    ) -> None:
        self.loop = loop
        self.thread = thread
        self.servers = servers
        self.info: dict[str, Any] = servers.info
        self.world: LabWorld = servers.world
        self.state_dir: Path = servers.state_dir
        self._stopped = False

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float = 60.0) -> Any:
        """Run ``fn(*args)`` on the lab loop; coroutines are awaited. Returns the result."""

        async def runner() -> Any:
            result = fn(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(runner(), self.loop).result(timeout)

    def stop(self, timeout: float = 60.0) -> None:
        """Shut the lab down (bounded: see :meth:`LabServers.close`) and join its thread."""
        if self._stopped:
            return
        self._stopped = True
        if self.loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.servers.close(), self.loop)
            with contextlib.suppress(RuntimeError, TimeoutError, concurrent.futures.CancelledError):
                future.result(timeout)
            with contextlib.suppress(RuntimeError):  # the loop may already be closed
                self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout)

    def __enter__(self) -> RunningLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_lab_in_thread(
    state_dir: Path | str,
    seed: str = "demo",
    time_scale: float = 1.0,
    *,
    faults: Iterable[FaultRule | str] = (),
    fault_seed: int = 0,
    ports: dict[str, int] | None = None,
    prometheus: bool = False,
    timeout: float = 60.0,
) -> RunningLab:
    """Start the lab on a background thread; returns once lab.json is written (raises if start fails)."""
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[LabServers] = concurrent.futures.Future()

    def main() -> None:
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            try:
                servers = await start_servers(
                    Path(state_dir),
                    seed,
                    time_scale,
                    faults=faults,
                    fault_seed=fault_seed,
                    ports=ports,
                    prometheus=prometheus,
                )
            except BaseException as exc:
                started.set_exception(exc)
                loop.stop()
                return
            started.set_result(servers)

        boot_tasks = [loop.create_task(boot())]  # referenced until the loop stops
        try:
            loop.run_forever()
            del boot_tasks
        finally:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

    thread = threading.Thread(target=main, name="hks-lab", daemon=True)
    thread.start()
    try:
        servers = started.result(timeout)
    except BaseException:
        if thread.is_alive() and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        raise
    return RunningLab(loop, thread, servers)
