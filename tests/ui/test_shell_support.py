"""Support for the shell's UI tests: a runtime assembled by hand from the foundation contract.

Only the backends are stand-ins (health results and the workspace list are injected, so snapshots are
deterministic); the audit log is a real SQLite store. No globals are patched.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hks_tui.models import AuditEntry, HealthState, Plan, Workspace
from hks_tui.store import Store

FROZEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)

HEALTH_MIXED = [
    HealthState(backend="proxmox", status="ok", reason="3 nodes online", checked_at=FROZEN),
    HealthState(backend="host", status="ok", reason="K3s v1.31 reachable", checked_at=FROZEN),
    HealthState(backend="vcluster", status="degraded", reason="API slow: 2.1 s", checked_at=FROZEN),
    HealthState(backend="prometheus", status="down", reason="connection refused", checked_at=FROZEN),
]

WORKSPACES = [
    Workspace(name="dev", org="acme", plan=Plan.SHARED, host_context="hks-host", vcluster_context="vc-dev"),
    Workspace(
        name="prod", org="acme", plan=Plan.DEDICATED, host_context="hks-host", vcluster_context="vc-prod"
    ),
]


class InjectedHealth:
    """A health checker returning a fixed result (or raising ``error``), counting calls."""

    def __init__(
        self, states: list[HealthState], error: BaseException | None = None, delay: float = 0.0
    ) -> None:
        self.states = states
        self.error = error
        self.delay = delay
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0

    async def check_all(self) -> list[HealthState]:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.error is not None:
                raise self.error
            return list(self.states)
        finally:
            self.in_flight -= 1


class InjectedWorkspaces:
    def __init__(self, workspaces: list[Workspace], projects: dict[str, list[str]]) -> None:
        self.workspaces = workspaces
        self._projects = projects

    async def list(self) -> list[Workspace]:
        return list(self.workspaces)

    async def projects(self, workspace: str) -> list[str]:
        return list(self._projects.get(workspace, []))


class StoreAudit:
    """The audit service over a real store (sqlite in a thread, as the services layer does)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def list(self, **kwargs: Any) -> list[AuditEntry]:
        return await asyncio.to_thread(self.store.audit.list, **kwargs)


@dataclass
class HandServices:
    health: Any
    workspaces: Any
    audit: Any

    def close(self) -> None:
        pass


@dataclass
class HandProfile:
    name: str = "lab-dev"
    org: str = "acme"
    workspace: str = "dev"
    is_lab: bool = True


@dataclass
class HandRuntime:
    """The contract's ``Runtime`` fields, assembled by hand."""

    store: Store
    services: HandServices
    profile: HandProfile = field(default_factory=HandProfile)
    settings: Any = None
    lab: Any = None
    is_lab: bool = True
    readonly: bool = False
    insecure: bool = False
    config_error: Any = None
    workspace: str = "dev"
    closed: bool = False
    switched: list[str] = field(default_factory=list)

    async def switch_workspace(self, name: str) -> None:
        self.switched.append(name)
        self.workspace = name

    def close(self) -> None:
        self.closed = True
        self.store.close()


def hand_runtime(
    tmp_path: Path, *, health: list[HealthState] | None = None, audit_rows: int = 3, **kw: Any
) -> HandRuntime:
    store = Store.open(tmp_path / "state.db")
    for i in range(audit_rows):
        store.audit.append(
            AuditEntry(
                ts=FROZEN,
                actor="alice",
                profile="lab-dev",
                action="vm.start" if i % 2 == 0 else "node.cordon",
                target=f"qemu/{100 + i}",
                outcome="ok" if i % 3 else "error",
                detail="" if i % 3 else "VM is locked (backup)",
            )
        )
    services = HandServices(
        health=InjectedHealth(HEALTH_MIXED if health is None else health),
        workspaces=InjectedWorkspaces(
            WORKSPACES, {"dev": ["default", "shop"], "prod": ["default", "payments"]}
        ),
        audit=StoreAudit(store),
    )
    return HandRuntime(store=store, services=services, **kw)
