"""Submitting node actions: validate the node and its state, then journal the workflow.

``plan_action`` answers "may this action run now?" with one clear message when it may not (unknown node,
a running node asked to start, a stopped node asked to stop or reboot). ``submit_action`` creates the
workflow with ``exclusive=True`` on the node, so a node with an action in flight refuses a second one
(:class:`~hks_tui.workflows.TargetBusyError`). ``allow_force`` records the audited drain override on a
paused workflow before it is resumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hks_tui.clients.errors import HksError
from hks_tui.models import AuditEntry, WorkflowRecord
from hks_tui.workflows.engine import WorkflowEngine
from hks_tui.workflows.errors import UnknownWorkflowError
from hks_tui.workflows.nodes.common import (
    WORKSPACE_LABEL,
    NodeDeps,
    find_vm,
    node_ready,
    read_node,
)
from hks_tui.workflows.nodes.kinds import NODE_KINDS

ACTIONS = tuple(NODE_KINDS)


class NodeActionError(HksError):
    """The action cannot run on this node now (unknown node, wrong state)."""


@dataclass
class ActionPlan:
    """What :func:`plan_action` found: the node's VM, its power state and its Kubernetes state."""

    action: str
    workspace: str
    node: str
    vmid: int | None
    pve_node: str | None
    vm_status: str | None
    node_exists: bool
    ready: bool
    params: dict[str, Any] = field(default_factory=dict)


def plan_action(deps: NodeDeps, action: str, workspace: str, name: str) -> ActionPlan:
    """Check that ``action`` makes sense for node ``name`` of ``workspace`` now; raise a clear error if not."""
    if action not in NODE_KINDS:
        raise NodeActionError(f"{action} node {name}", f"unknown action (known: {', '.join(ACTIONS)})")
    what = f"{action.capitalize()} node {name}"
    vm = find_vm(deps.proxmox, name, workspace)
    node = read_node(deps.host, name)
    if node is not None and (node.get("metadata", {}).get("labels") or {}).get(WORKSPACE_LABEL) != workspace:
        node = None  # a Node of that name outside the workspace is not ours to act on
    if vm is None and node is None:
        raise NodeActionError(
            what,
            f"no dedicated node named {name!r} in workspace {workspace!r}",
            "List the nodes with `hks-tui nodes list` and check the name and --workspace.",
        )
    status = str(vm.get("status")) if vm is not None else None
    if action != "delete":
        if vm is None:
            raise NodeActionError(
                what,
                f"node {name} has no VM in Proxmox VE (deleted outside the console?)",
                f"Delete the node to clean up: hks-tui nodes delete {name} --confirm {name}",
            )
        if action == "start" and status == "running":
            raise NodeActionError(
                what, f"node {name} is already running", "Nothing to do; use reboot to restart it."
            )
        if action in ("stop", "reboot") and status != "running":
            hint = "Start it instead." if action == "reboot" else "Nothing to do."
            raise NodeActionError(what, f"node {name} is not running (VM status: {status})", hint)
    return ActionPlan(
        action=action,
        workspace=workspace,
        node=name,
        vmid=int(vm["vmid"]) if vm is not None else None,
        pve_node=str(vm["node"]) if vm is not None else None,
        vm_status=status,
        node_exists=node is not None,
        ready=node_ready(node),
    )


def submit_action(
    engine: WorkflowEngine,
    deps: NodeDeps,
    action: str,
    workspace: str,
    name: str,
    *,
    force: bool = False,
    destroy_unreferenced_disks: bool = False,
    timing: dict[str, float] | None = None,
    actor: str = "",
) -> WorkflowRecord:
    """Validate, then journal the workflow (pending, leased to ``engine``); run it with ``engine.run(id)``."""
    busy = engine.active_for(name, workspace=workspace)
    if busy:
        from hks_tui.workflows.errors import TargetBusyError

        raise TargetBusyError(name, busy[0].id, busy[0].kind)
    plan_action(deps, action, workspace, name)
    params: dict[str, Any] = {"node": name, "workspace": workspace}
    if force:
        if action not in ("stop", "reboot", "delete"):
            raise NodeActionError(f"{action} node {name}", "--force only applies to actions that drain")
        params["force"] = True
    if destroy_unreferenced_disks:
        if action != "delete":
            raise NodeActionError(f"{action} node {name}", "unreferenced disks are only destroyed by delete")
        params["destroy_unreferenced_disks"] = True
    if timing:
        params["timing"] = dict(timing)
    record = engine.create(NODE_KINDS[action].name, params, workspace=workspace, target=name, exclusive=True)
    if force:
        _audit_force(engine, record.id, name, actor)
    return record


def allow_force(engine: WorkflowEngine, workflow_id: str, *, actor: str = "") -> WorkflowRecord:
    """Record the audited drain override (delete pods, skip PDBs) on an unfinished node workflow."""
    record = engine.get(workflow_id)
    if record is None:
        raise UnknownWorkflowError(f"no workflow {workflow_id!r} in the journal")
    if record.kind not in {k.name for k in NODE_KINDS.values() if "drain" in k.step_names}:
        raise NodeActionError(f"Force workflow {workflow_id}", f"{record.kind} does not drain a node")
    if record.status.finished and str(record.status) != "failed":
        raise NodeActionError(f"Force workflow {workflow_id}", f"it already finished ({record.status})")
    params = dict(record.params)
    params["force"] = True
    engine.journal.save_params_sync(workflow_id, params)
    _audit_force(engine, workflow_id, record.target, actor)
    updated = engine.get(workflow_id)
    assert updated is not None
    return updated


def _audit_force(engine: WorkflowEngine, workflow_id: str, node: str, actor: str) -> None:
    engine.store.audit.append(
        AuditEntry(
            actor=actor,
            action="node.drain.force",
            target=node,
            params={"workflow": workflow_id},
            outcome="ok",
            detail="drain override: pods are deleted without honouring PodDisruptionBudgets",
        )
    )
