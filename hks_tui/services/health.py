"""Backend health: one cheap call per backend with a short timeout, all four in parallel."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from hks_tui.clients.errors import HksError
from hks_tui.models import HealthState
from hks_tui.services.clients import ClientSet
from hks_tui.services.executor import ServiceExecutor

BACKENDS = ("proxmox", "host", "vcluster", "prometheus")


class HealthService:
    """``await health.check_all()`` → one :class:`HealthState` per backend, never raising, never hanging."""

    def __init__(
        self, clients: ClientSet, executor: ServiceExecutor, *, timeout: float = 3.0, slow_after: float = 1.5
    ) -> None:
        self.clients = clients
        self.executor = executor
        self.timeout = timeout
        self.slow_after = slow_after
        self.last: dict[str, HealthState] = {}
        self._inflight: asyncio.Task[list[HealthState]] | None = None

    async def check_all(self) -> list[HealthState]:
        """All backends at once; concurrent callers share one round of checks (polls never overlap)."""
        loop = asyncio.get_running_loop()
        task = self._inflight
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(self._check_all())
            self._inflight = task
        return list(await asyncio.shield(task))

    async def _check_all(self) -> list[HealthState]:
        states = await asyncio.gather(*(self.check(backend) for backend in BACKENDS))
        return list(states)

    async def check(self, backend: str) -> HealthState:
        probe = self._probe(backend)
        if probe is None:
            state = HealthState(
                backend=backend,  # type: ignore[arg-type]
                status="disabled",
                reason="no Prometheus configured; usage comes from the Kubernetes metrics API",
            )
            self.last[backend] = state
            return state
        started = time.monotonic()
        try:
            detail = await asyncio.wait_for(self.executor.run(probe), timeout=self.timeout + 0.5)
        except HksError as err:
            state = HealthState(backend=backend, status="down", reason=err.why or str(err))  # type: ignore[arg-type]
        except TimeoutError:
            state = HealthState(
                backend=backend,  # type: ignore[arg-type]
                status="down",
                reason=f"no answer within {self.timeout:.0f}s",
            )
        except Exception as exc:  # a bug must not take the header down
            state = HealthState(backend=backend, status="unknown", reason=f"{type(exc).__name__}: {exc}")  # type: ignore[arg-type]
        else:
            elapsed = time.monotonic() - started
            if elapsed > self.slow_after:
                state = HealthState(
                    backend=backend,  # type: ignore[arg-type]
                    status="degraded",
                    reason=f"slow: answered in {elapsed:.1f}s ({detail})",
                )
            else:
                state = HealthState(backend=backend, status="ok", reason=detail)  # type: ignore[arg-type]
        self.last[backend] = state
        return state

    def _probe(self, backend: str) -> Callable[[], str] | None:
        clients = self.clients
        timeout = self.timeout
        if backend == "proxmox":

            def pve() -> str:
                version = clients.proxmox.version(retries=1, timeout=timeout)
                return f"Proxmox VE {version.get('version', '?')}"

            return pve
        if backend in ("host", "vcluster"):

            def kube() -> str:
                client = clients.host if backend == "host" else clients.vcluster
                version = client.version(retries=1, timeout=timeout)
                return f"Kubernetes {version.get('gitVersion', '?')} ({client.context})"

            return kube
        if backend == "prometheus":
            if not getattr(clients.profile, "prometheus_url", None):
                return None

            def prom() -> str:
                answer = clients.metrics.ready(timeout=timeout)
                return f"Prometheus: {answer[:60]}"

            return prom
        raise ValueError(f"unknown backend {backend!r}")
