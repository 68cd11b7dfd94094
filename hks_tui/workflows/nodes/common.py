"""What every node step needs: the clients (from the engine's deps), the node's identity and timings.

The engine's ``deps`` may be a :class:`NodeDeps` or any object with ``.clients`` (``proxmox``, ``host``)
and ``.store`` — :class:`hks_tui.services.Services` qualifies, so one engine serves every workflow kind.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from hks_tui.clients.errors import HksError, NotFoundError

if TYPE_CHECKING:
    from hks_tui.clients.kube import KubeClient
    from hks_tui.clients.proxmox import ProxmoxClient
    from hks_tui.workflows.context import StepContext

T = TypeVar("T")
WORKSPACE_LABEL = "hks.io/workspace"
MANAGED_TAG = "hks-managed"

#: default timings in real seconds; a workflow's ``params["timing"]`` overrides any of them
DEFAULT_TIMING: dict[str, float] = {
    "poll": 1.0,  # between two reads while waiting
    "drain_timeout": 300.0,  # the whole drain, including waiting on PodDisruptionBudgets (429)
    "shutdown_timeout": 180.0,  # graceful shutdown before the forced stop
    "task_timeout": 300.0,  # any other Proxmox task
    "agent_timeout": 300.0,  # guest agent answering after a start/reboot
    "ready_timeout": 300.0,  # Node Ready / NotReady
}


@dataclass
class NodeDeps:
    """The clients and store node steps use."""

    proxmox: ProxmoxClient
    host: KubeClient
    store: Any = None
    actor: str = ""


def node_deps(deps: Any) -> NodeDeps:
    """The engine's deps as :class:`NodeDeps` (accepts ``Services`` or anything with ``.clients``)."""
    if isinstance(deps, NodeDeps):
        return deps
    clients = getattr(deps, "clients", None)
    if clients is None:
        raise HksError("Run a node workflow", "the workflow engine was built without backend clients")
    return NodeDeps(proxmox=clients.proxmox, host=clients.host, store=getattr(deps, "store", None))


def timing(ctx: StepContext, key: str) -> float:
    custom = ctx.params.get("timing") or {}
    return float(custom.get(key, DEFAULT_TIMING[key]))


def node_name(ctx: StepContext) -> str:
    return str(ctx.params["node"])


def workspace_of(ctx: StepContext) -> str:
    return str(ctx.params["workspace"])


def vm_ref(ctx: StepContext) -> tuple[str, int] | None:
    """(PVE node, VMID) found by the ``locate`` step; ``None`` when the node has no VM."""
    vmid = ctx.params.get("vmid")
    if vmid is None:
        return None
    return str(ctx.params["pve_node"]), int(vmid)


def bounded_wait(ctx: StepContext, limit: float) -> float:
    """A wait deadline (monotonic) within both ``limit`` and what is left of the step's budget."""
    remaining = ctx.remaining()
    if remaining is not None:
        limit = min(limit, max(0.0, remaining - 0.5))
    return time.monotonic() + limit


def read(fn: Callable[[], T], attempts: int = 4, pause: float = 0.2) -> T:
    """A read, retried on transient failures (5xx, timeouts): reads are idempotent, and a step should not
    spend one of its bounded attempts on a flaky GET. Writes are never retried here (the engine does)."""
    from hks_tui.workflows.definition import default_retryable

    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except NotFoundError:
            raise
        except HksError as exc:
            if attempt == attempts or not default_retryable(exc):
                raise
            time.sleep(pause * attempt)
    raise AssertionError("unreachable")


# -- Kubernetes reads ------------------------------------------------------------------------------------
def read_node(host: KubeClient, name: str) -> dict[str, Any] | None:
    """The host Node as raw JSON, or ``None`` when it does not exist."""
    try:
        resp = read(
            lambda: host.call(
                host.core.read_node, name, _preload_content=False, what=f"Read node {name} on {host.context}"
            )
        )
    except NotFoundError:
        return None
    return dict(json.loads(resp.data))


def node_ready(node: Mapping[str, Any] | None) -> bool:
    for cond in (node or {}).get("status", {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return str(cond.get("status")) == "True"
    return False


def node_cordoned(node: Mapping[str, Any] | None) -> bool:
    return bool((node or {}).get("spec", {}).get("unschedulable"))


def node_events(host: KubeClient, name: str, limit: int = 5) -> list[str]:
    """The last few events about a node (for a timeout message); empty when they cannot be read."""
    try:
        items = host.list_raw(
            "events", namespace="default", field_selector=f"involvedObject.name={name}"
        ).get("items", [])
    except HksError:
        return []
    items.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    return [f"{e.get('reason', '')}: {e.get('message', '')}".strip() for e in items[-limit:]]


# -- Proxmox reads ---------------------------------------------------------------------------------------
def find_vm(pve: ProxmoxClient, name: str, workspace: str) -> dict[str, Any] | None:
    """The VM named ``name`` carrying the workspace's tag (one ``/cluster/resources`` call)."""
    tag = f"hks-ws-{workspace}"
    for res in read(lambda: pve.cluster_resources("vm")):
        tags = str(res.get("tags") or "").replace(",", ";").split(";")
        if res.get("name") == name and tag in tags and not res.get("template"):
            return res
    return None


def vm_status(pve: ProxmoxClient, ref: tuple[str, int]) -> str | None:
    """``running`` / ``stopped`` …, or ``None`` when the VM no longer exists."""
    try:
        return str(read(lambda: pve.vm_status(*ref)).get("status") or "")
    except NotFoundError:
        return None


def task_upids(pve: ProxmoxClient, ref: tuple[str, int], task_type: str) -> list[str]:
    """UPIDs of the VM's recent tasks of one type (running and finished), newest first."""
    node, vmid = ref
    rows = read(
        lambda: pve.get(
            f"nodes/{node}/tasks",
            what=f"List the {task_type} tasks of VM {vmid}",
            vmid=vmid,
            typefilter=task_type,
            source="all",
            limit=50,
        )
    )
    return [str(r["upid"]) for r in rows or [] if r.get("upid")]
