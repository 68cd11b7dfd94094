"""The console-side effects of deleting a node: close its billing line, and return the workspace to the
Shared plan when it was the last dedicated node. Both are local (SQLite) and idempotent: the closing time
is journaled before it is applied, so a re-run writes the same values."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hks_tui.clients.errors import HksError
from hks_tui.models import AuditEntry, Plan, Workspace, utcnow
from hks_tui.store._rows import ts
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.nodes.common import WORKSPACE_LABEL, node_deps, node_name, read, workspace_of


def _store(ctx: StepContext) -> Any:
    store = node_deps(ctx.deps).store
    if store is None:
        raise HksError(f"Update the state of {node_name(ctx)}", "the workflow engine has no state store")
    return store


def close_billing(ctx: StepContext) -> dict[str, Any]:
    """End the node's open billing lines (``ref`` = the node name) at the journaled closing time, pro rata."""
    store = _store(ctx)
    if not ctx.params.get("closed_at"):
        ctx.remember(closed_at=utcnow().isoformat())
    closed_at = datetime.fromisoformat(str(ctx.params["closed_at"]))
    name, workspace = node_name(ctx), workspace_of(ctx)
    closed: list[int] = []
    with store.write() as db:
        rows = db.execute(
            "SELECT id, period_start, period_end, quantity, amount FROM billing_lines "
            "WHERE workspace = ? AND (ref = ? OR item = ?) AND period_end > ?",
            (workspace, name, f"node {name}", ts(closed_at)),
        ).fetchall()
        for line_id, start_text, end_text, quantity, amount in rows:
            start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
            span = (end - start).total_seconds()
            used = max(0.0, (closed_at - start).total_seconds())
            fraction = min(1.0, used / span) if span > 0 else 1.0
            db.execute(
                "UPDATE billing_lines SET period_end = ?, quantity = ?, amount = ? WHERE id = ?",
                (
                    ts(max(start, closed_at)),
                    round(quantity * fraction, 6),
                    round(amount * fraction, 6),
                    line_id,
                ),
            )
            closed.append(int(line_id))
    ctx.emit(f"billing: {len(closed)} open line(s) of {name} closed at {closed_at.isoformat()}")
    return {"closed_lines": closed, "closed_at": closed_at.isoformat()}


def update_plan(ctx: StepContext) -> dict[str, Any]:
    """Switch the workspace to the Shared plan when no dedicated node (Node or tagged VM) is left."""
    deps = node_deps(ctx.deps)
    store = _store(ctx)
    workspace = workspace_of(ctx)
    selector = f"{WORKSPACE_LABEL}={workspace}"
    nodes = read(lambda: deps.host.list_raw("nodes", label_selector=selector)).get("items", [])
    tag = f"hks-ws-{workspace}"
    vms = [
        r
        for r in read(lambda: deps.proxmox.cluster_resources("vm"))
        if tag in str(r.get("tags") or "").replace(",", ";").split(";") and not r.get("template")
    ]
    if nodes or vms:
        return {"last": False, "remaining_nodes": len(nodes), "remaining_vms": len(vms)}
    current = store.workspaces.get(workspace)
    if current is None or current.plan != Plan.SHARED:
        updated = (current or Workspace(name=workspace)).model_copy(update={"plan": Plan.SHARED})
        store.workspaces.upsert(updated)
        store.audit.append(
            AuditEntry(
                actor=deps.actor,
                action="workspace.plan",
                target=workspace,
                params={"plan": str(Plan.SHARED), "workflow": ctx.workflow_id},
                outcome="ok",
                detail=f"last dedicated node {node_name(ctx)} deleted: the workspace returns to the Shared plan",
            )
        )
    ctx.emit(f"{node_name(ctx)} was the last dedicated node: workspace {workspace} is on the Shared plan")
    return {"last": True, "plan": str(Plan.SHARED)}
