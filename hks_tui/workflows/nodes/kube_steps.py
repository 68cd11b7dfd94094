"""Kubernetes steps of the node workflows on the host cluster: cordon, uncordon, wait for Ready /
NotReady, delete the Node object. Each one is a desired-state call, so re-running it is harmless."""

from __future__ import annotations

import time
from typing import Any

from hks_tui.clients.errors import BackendTimeout, HksError, NotFoundError
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.nodes.common import (
    bounded_wait,
    node_cordoned,
    node_deps,
    node_events,
    node_name,
    node_ready,
    read_node,
    timing,
)


def _set_unschedulable(ctx: StepContext, value: bool) -> dict[str, Any]:
    deps = node_deps(ctx.deps)
    host = deps.host
    name = node_name(ctx)
    verb = "Cordon" if value else "Uncordon"
    host.call(
        host.core.patch_node,
        name,
        {"spec": {"unschedulable": True if value else None}},
        what=f"{verb} node {name} on {host.context}",
        action=f"node.{verb.lower()}",
        target=name,
        idempotent=True,
    )
    ctx.emit(f"node {name} {'cordoned (unschedulable)' if value else 'uncordoned (schedulable)'}")
    return {"unschedulable": value}


def cordon(ctx: StepContext) -> dict[str, Any]:
    try:
        return _set_unschedulable(ctx, True)
    except NotFoundError:
        if ctx.kind != "node.delete":
            raise
        ctx.emit(f"node {node_name(ctx)} has no Node object: nothing to cordon")
        return {"not_found": True}


def check_cordoned(ctx: StepContext) -> dict[str, Any] | None:
    node = read_node(node_deps(ctx.deps).host, node_name(ctx))
    if node is None and ctx.kind == "node.delete":
        return {"not_found": True}
    return {"unschedulable": True, "adopted": True} if node_cordoned(node) else None


def uncordon(ctx: StepContext) -> dict[str, Any]:
    return _set_unschedulable(ctx, False)


def check_uncordoned(ctx: StepContext) -> dict[str, Any] | None:
    node = read_node(node_deps(ctx.deps).host, node_name(ctx))
    if node is None:
        return None  # run() reports the missing node
    return None if node_cordoned(node) else {"unschedulable": False, "adopted": True}


def _wait_condition(ctx: StepContext, want_ready: bool) -> dict[str, Any]:
    host = node_deps(ctx.deps).host
    name = node_name(ctx)
    limit = timing(ctx, "ready_timeout")
    deadline = bounded_wait(ctx, limit)
    while True:
        node = read_node(host, name)
        if node is None:
            raise NotFoundError(
                f"Wait for node {name} to become {'Ready' if want_ready else 'NotReady'}",
                "the Node object does not exist on the host cluster",
                backend="host",
            )
        if node_ready(node) == want_ready:
            ctx.emit(f"node {name} is {'Ready' if want_ready else 'NotReady'}")
            return {"ready": want_ready}
        if time.monotonic() >= deadline or ctx.cancel_requested:
            events = node_events(host, name)
            shown = "; last events: " + " | ".join(events) if events else ""
            raise BackendTimeout(
                f"Wait for node {name} to become {'Ready' if want_ready else 'NotReady'}",
                f"it did not within {limit:g} s{shown}",
                "Check the VM console and the node's kubelet, then resume the workflow.",
                backend="host",
            )
        time.sleep(timing(ctx, "poll"))


def wait_ready(ctx: StepContext) -> dict[str, Any]:
    return _wait_condition(ctx, True)


def wait_not_ready(ctx: StepContext) -> dict[str, Any]:
    return _wait_condition(ctx, False)


def delete_node_object(ctx: StepContext) -> dict[str, Any]:
    host = node_deps(ctx.deps).host
    name = node_name(ctx)
    host.call(
        host.core.delete_node,
        name,
        what=f"Delete node {name} from {host.context}",
        action="node.delete",
        target=name,
        idempotent=True,
    )
    ctx.emit(f"Node object {name} deleted")
    return {"deleted": name}


def check_node_deleted(ctx: StepContext) -> dict[str, Any] | None:
    try:
        node = read_node(node_deps(ctx.deps).host, node_name(ctx))
    except HksError:
        return None
    return {"adopted": True, "not_found": True} if node is None else None
