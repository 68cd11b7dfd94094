"""Proxmox steps of the node workflows: locate the VM, start / shut down / reboot it, wait for the guest
agent, destroy it.

Each effect is resolved on resume by ``check()``: the state is already the wanted one, or a task of ours
(one that was not there before the call: the UPIDs seen before are journaled first) is found and waited
for — so a call whose response was lost after Proxmox applied it is adopted, never repeated.
"""

from __future__ import annotations

import time
from typing import Any

from hks_tui.clients.errors import BackendTimeout, HksError, NotFoundError
from hks_tui.workflows.context import StepContext
from hks_tui.workflows.definition import default_retryable
from hks_tui.workflows.nodes.common import (
    bounded_wait,
    find_vm,
    node_deps,
    node_name,
    read,
    task_upids,
    timing,
    vm_ref,
    vm_status,
    workspace_of,
)


def locate(ctx: StepContext) -> dict[str, Any]:
    """Find the node's VM by its deterministic name and workspace tag; journal its PVE node and VMID."""
    deps = node_deps(ctx.deps)
    if ctx.params.get("vmid") is not None:  # found before (resume): keep the journaled identity
        return {"vmid": ctx.params["vmid"], "pve_node": ctx.params["pve_node"]}
    found = find_vm(deps.proxmox, node_name(ctx), workspace_of(ctx))
    if found is None:
        if ctx.kind == "node.delete":
            ctx.remember(vmid=None, pve_node=None)
            ctx.emit("no VM carries this name and workspace tag: only the Kubernetes side is cleaned up")
            return {"vmid": None}
        raise NotFoundError(
            f"Find the VM of node {node_name(ctx)}",
            f"no VM named {node_name(ctx)} tagged hks-ws-{workspace_of(ctx)} exists in Proxmox VE",
            "It may have been deleted outside the console; delete the node to clean up.",
            backend="proxmox",
        )
    ctx.remember(vmid=int(found["vmid"]), pve_node=str(found["node"]))
    ctx.emit(f"VM {found['vmid']} on {found['node']} ({found.get('status', '?')})")
    return {"vmid": int(found["vmid"]), "pve_node": str(found["node"])}


def _wait_task(ctx: StepContext, upid: str, limit: float) -> dict[str, Any]:
    deps = node_deps(ctx.deps)
    ref = vm_ref(ctx)
    assert ref is not None
    deadline = bounded_wait(ctx, limit)
    transient = 0
    try:
        while True:
            # a transient failure of one status poll does not end the wait (the task runs on regardless)
            remaining = max(0.5, deadline - time.monotonic())
            try:
                return deps.proxmox.wait_task(ref[0], upid, timeout=remaining, poll=timing(ctx, "poll"))
            except HksError as exc:
                polled = exc.details.get("upid") != upid  # wait_task's own verdicts carry the UPID
                transient += 1
                if not polled or not default_retryable(exc) or transient >= 5 or time.monotonic() >= deadline:
                    raise
                time.sleep(timing(ctx, "poll"))
    finally:
        try:
            for line in deps.proxmox.task_log(ref[0], upid)[-3:]:
                ctx.emit(str(line.get("t", "")))
        except HksError:
            pass


def _new_task(ctx: StepContext, task_type: str) -> str | None:
    """A task of ``task_type`` on the VM that did not exist before our call (journaled ``seen_*``)."""
    ref = vm_ref(ctx)
    seen = ctx.params.get(f"seen_{ctx.step}")
    if ref is None or seen is None:
        return None
    fresh = [u for u in task_upids(node_deps(ctx.deps).proxmox, ref, task_type) if u not in set(seen)]
    return fresh[0] if fresh else None


def _power(ctx: StepContext, action: str, task_type: str, extra: dict[str, Any] | None = None) -> str:
    """POST ``status/<action>`` with the intent (the task UPIDs seen so far) journaled first."""
    deps = node_deps(ctx.deps)
    ref = vm_ref(ctx)
    assert ref is not None
    ctx.remember(**{f"seen_{ctx.step}": task_upids(deps.proxmox, ref, task_type)})
    upid = str(
        deps.proxmox.post(
            f"nodes/{ref[0]}/qemu/{ref[1]}/status/{action}",
            dict(extra or {}),
            action=f"vm.{action}",
            target=f"{ref[0]}/{ref[1]}",
            what=f"{action.capitalize()} VM {ref[1]} ({node_name(ctx)}) on {ref[0]}",
        )
    )
    ctx.record_upid(upid)
    return upid


def _adopt_task(ctx: StepContext, task_type: str, limit: float) -> str | None:
    upid = _new_task(ctx, task_type)
    if upid is None:
        return None
    ctx.emit(f"found our {task_type} task {upid}: waiting for it instead of calling again")
    ctx.record_upid(upid)
    try:
        _wait_task(ctx, upid, limit)
    except HksError as exc:
        ctx.emit(f"the task ended with an error: {exc.why}")
    return upid


# -- start -----------------------------------------------------------------------------------------------
def start_vm(ctx: StepContext) -> dict[str, Any]:
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    assert ref is not None
    if vm_status(deps.proxmox, ref) == "running":
        return {"already": "running"}
    upid = _power(ctx, "start", "qmstart")
    try:
        _wait_task(ctx, upid, timing(ctx, "task_timeout"))
    except HksError:
        if vm_status(deps.proxmox, ref) != "running":
            raise
    return {"upid": upid}


def check_started(ctx: StepContext) -> dict[str, Any] | None:
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    if ref is None:
        return None
    upid = _adopt_task(ctx, "qmstart", timing(ctx, "task_timeout"))
    if vm_status(deps.proxmox, ref) == "running":
        return {"adopted": True, "upid": upid}
    return None


# -- shutdown (with a forced stop after the timeout) -----------------------------------------------------
def shutdown_vm(ctx: StepContext) -> dict[str, Any]:
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    if ref is None:
        return {"skipped": "no VM"}
    state = vm_status(deps.proxmox, ref)
    if state is None:
        if ctx.kind == "node.delete":
            return {"skipped": "VM already gone"}
        raise NotFoundError(f"Shut down VM {ref[1]}", "the VM no longer exists", backend="proxmox")
    if state != "running":
        return {"already": state}
    limit = timing(ctx, "shutdown_timeout")
    upid = _power(ctx, "shutdown", "qmshutdown", {"timeout": int(max(1, limit)), "forceStop": 1})
    try:
        _wait_task(ctx, upid, limit + 5.0)
    except HksError as exc:
        ctx.emit(f"graceful shutdown did not complete: {exc.why}")
    if vm_status(deps.proxmox, ref) == "running":
        return {"upid": upid, "forced": _force_stop(ctx, ref)}
    return {"upid": upid}


def _force_stop(ctx: StepContext, ref: tuple[str, int]) -> str:
    deps = node_deps(ctx.deps)
    ctx.emit("the guest did not power off in time: forcing a stop")
    upid = str(
        deps.proxmox.post(
            f"nodes/{ref[0]}/qemu/{ref[1]}/status/stop",
            action="vm.stop.forced",
            target=f"{ref[0]}/{ref[1]}",
            what=f"Force-stop VM {ref[1]} ({node_name(ctx)}) after the shutdown timeout",
            idempotent=True,  # stopping a stopped VM changes nothing
        )
    )
    ctx.record_upid(upid)
    _wait_task(ctx, upid, timing(ctx, "task_timeout"))
    return upid


def check_stopped(ctx: StepContext) -> dict[str, Any] | None:
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    if ref is None:
        return {"skipped": "no VM"}
    upid = _adopt_task(ctx, "qmshutdown", timing(ctx, "shutdown_timeout") + 5.0)
    state = vm_status(deps.proxmox, ref)
    if state is None and ctx.kind == "node.delete":
        return {"adopted": True, "skipped": "VM already gone"}
    if state is not None and state != "running":
        return {"adopted": True, "upid": upid}
    return None


# -- reboot ----------------------------------------------------------------------------------------------
def reboot_vm(ctx: StepContext) -> dict[str, Any]:
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    assert ref is not None
    if vm_status(deps.proxmox, ref) != "running":
        raise HksError(
            f"Reboot VM {ref[1]} ({node_name(ctx)})",
            "the VM is not running",
            "Start the node instead.",
            backend="proxmox",
        )
    upid = _power(ctx, "reboot", "qmreboot")
    _wait_task(ctx, upid, timing(ctx, "task_timeout"))
    return {"upid": upid}


def check_rebooted(ctx: StepContext) -> dict[str, Any] | None:
    upid = _adopt_task(ctx, "qmreboot", timing(ctx, "task_timeout"))
    return {"adopted": True, "upid": upid} if upid is not None else None


# -- guest agent -----------------------------------------------------------------------------------------
def wait_agent(ctx: StepContext) -> dict[str, Any]:
    """Wait until the QEMU guest agent answers (it is down for a while after every boot)."""
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    assert ref is not None
    limit = timing(ctx, "agent_timeout")
    deadline = bounded_wait(ctx, limit)
    last = ""
    while True:
        try:  # a read (not audited, allowed read-only): it answers only when the agent runs
            info = deps.proxmox.get(
                f"nodes/{ref[0]}/qemu/{ref[1]}/agent/get-osinfo",
                what=f"Ask the guest agent of VM {ref[1]} for its OS",
                retries=1,
            )
            pretty = ((info or {}).get("result") or {}).get("pretty-name", "")
            ctx.emit(f"guest agent up{': ' + str(pretty) if pretty else ''}")
            return {"agent": "up"}
        except NotFoundError:
            raise
        except HksError as exc:
            last = exc.why
        if time.monotonic() >= deadline or ctx.cancel_requested:
            raise BackendTimeout(
                f"Wait for the guest agent of VM {ref[1]} ({node_name(ctx)})",
                f"no answer within {limit:g} s (last: {last or 'no reply'})",
                "Check the VM's console in Proxmox; resume the workflow once it has booted.",
                backend="proxmox",
            )
        time.sleep(timing(ctx, "poll"))


# -- destroy ---------------------------------------------------------------------------------------------
def destroy_vm(ctx: StepContext) -> dict[str, Any]:
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    if ref is None:
        return {"skipped": "no VM"}
    config = read(
        lambda: deps.proxmox.vm_config(*ref)
    )  # NotFoundError (404 or PVE's 500) = already gone = success
    if config.get("name") != node_name(ctx):
        raise HksError(
            f"Destroy VM {ref[1]} on {ref[0]}",
            f"VMID {ref[1]} now belongs to {config.get('name')!r}, not {node_name(ctx)!r}; refusing to destroy it",
            "The node's VM is already gone; check Proxmox by hand.",
            backend="proxmox",
        )
    params: dict[str, Any] = {"purge": 1}
    if ctx.params.get("destroy_unreferenced_disks"):
        params["destroy-unreferenced-disks"] = 1
    ctx.remember(seen_destroy=task_upids(deps.proxmox, ref, "qmdestroy"))
    upid = str(
        deps.proxmox.delete(
            f"nodes/{ref[0]}/qemu/{ref[1]}",
            params,
            action="vm.destroy",
            target=f"{ref[0]}/{ref[1]}",
            what=f"Destroy VM {ref[1]} ({node_name(ctx)}) on {ref[0]}",
        )
    )
    ctx.record_upid(upid)
    _wait_task(ctx, upid, timing(ctx, "task_timeout"))
    return {"upid": upid, "purged": True, **({"unreferenced_disks": True} if len(params) > 1 else {})}


def check_destroyed(ctx: StepContext) -> dict[str, Any] | None:
    ref = vm_ref(ctx)
    deps = node_deps(ctx.deps)
    if ref is None:
        return {"skipped": "no VM"}
    upid = _adopt_task(ctx, "qmdestroy", timing(ctx, "task_timeout"))
    try:
        config = read(lambda: deps.proxmox.vm_config(*ref))
    except NotFoundError:
        return {"adopted": True, "upid": upid}
    return None if config.get("name") == node_name(ctx) else {"adopted": True, "reused_vmid": True}
