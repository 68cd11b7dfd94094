"""The workflow engine driving the real Proxmox client against the lab over HTTPS, with injected faults.

The engine is the only retry layer here (the transport guard makes one attempt), as the safety notes ask.
A dropped clone response (the lab applied the clone, then cut the connection) is resolved by adopting the
VM found by its deterministic name — never a second clone. 30 % injected 500s on power actions and task
polls: the workflow still finishes, every step within its attempt limit. Destroying a VM that is already
gone counts as success.
"""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import BusyError, HksError
from hks_tui.clients.guard import RetryPolicy, TransportGuard
from hks_tui.clients.proxmox import ProxmoxClient
from hks_tui.lab.faults import FaultRule
from hks_tui.models import StepStatus, WorkflowStatus
from hks_tui.store import Store
from hks_tui.workflows import (
    Backoff,
    EventType,
    Step,
    StepContext,
    WorkflowEngine,
    WorkflowEvent,
    WorkflowKind,
)

NODE = "pve1"
MAX_ATTEMPTS = 8
FAST = Backoff(base=0.01, factor=2.0, cap=0.04)


def _pve(lab: Any) -> ProxmoxClient:
    info = lab.info["proxmox"]
    return ProxmoxClient(
        url=info["url"],
        token_id=info["token_id"],
        token_secret=info["token_secret"],
        ca_file=info["ca_file"],
        timeout=5.0,
        guard=TransportGuard(retry=RetryPolicy(max_attempts=1, base_delay=0.01, max_delay=0.02)),
    )


def _find(pve: ProxmoxClient, name: str) -> list[dict[str, Any]]:
    return [r for r in pve.cluster_resources("vm") if r.get("name") == name]


def _wait(ctx: StepContext, upid: str) -> None:
    pve: ProxmoxClient = ctx.deps
    ctx.record_upid(upid)
    pve.wait_task(NODE, upid, timeout=30.0, poll=0.05)
    for line in pve.task_log(NODE, upid)[-3:]:
        ctx.emit(str(line.get("t", "")))


def clone(ctx: StepContext) -> dict[str, Any]:
    pve: ProxmoxClient = ctx.deps
    vmid = ctx.params.get("vmid")
    if vmid is None:
        vmid = pve.nextid()
        ctx.remember(vmid=vmid)  # journaled before the clone call
    upid = pve.post(
        f"nodes/{NODE}/qemu/{ctx.params['template']}/clone",
        newid=vmid,
        name=ctx.params["name"],
        action="vm.clone",
        target=f"qemu/{vmid}",
    )
    _wait(ctx, str(upid))
    return {"vmid": vmid}


def find_clone(ctx: StepContext) -> dict[str, Any] | None:
    pve: ProxmoxClient = ctx.deps
    found = _find(pve, ctx.params["name"])
    if not found:
        return None
    vm = found[0]
    if pve.vm_status(NODE, int(vm["vmid"])).get("lock") == "clone":  # adopted mid-clone: let it finish
        raise BusyError(f"clone of {ctx.params['name']}", "the clone task is still running")
    ctx.params["vmid"] = int(vm["vmid"])
    return {"vmid": int(vm["vmid"]), "adopted": True}


def power(action: str, want: str) -> Step:
    def run(ctx: StepContext) -> dict[str, Any]:
        pve: ProxmoxClient = ctx.deps
        vmid = ctx.params["vmid"]
        upid = pve.post(f"nodes/{NODE}/qemu/{vmid}/status/{action}", action=f"vm.{action}", idempotent=True)
        _wait(ctx, str(upid))
        return {"status": want}

    def check(ctx: StepContext) -> dict[str, Any] | None:
        pve: ProxmoxClient = ctx.deps
        status = pve.vm_status(NODE, ctx.params["vmid"])
        return {"status": want} if status.get("status") == want and not status.get("lock") else None

    return Step(action, run=run, check=check, max_attempts=MAX_ATTEMPTS, backoff=FAST)


def destroy(ctx: StepContext) -> dict[str, Any]:
    pve: ProxmoxClient = ctx.deps
    upid = pve.delete(f"nodes/{NODE}/qemu/{ctx.params['vmid']}", action="vm.destroy", purge=1)
    _wait(ctx, str(upid))
    return {"destroyed": ctx.params["vmid"]}


def _vm_missing(exc: BaseException) -> bool:
    """PVE answers a missing VM with 500 "Configuration file '…/<vmid>.conf' does not exist"."""
    return isinstance(exc, HksError) and "does not exist" in exc.why and ".conf" in exc.why


LIFECYCLE = WorkflowKind(
    "test.vm.lifecycle",
    [
        Step("clone", run=clone, check=find_clone, max_attempts=MAX_ATTEMPTS, backoff=FAST),
        power("start", "running"),
        power("stop", "stopped"),
        Step(
            "destroy",
            run=destroy,
            delete=True,
            not_found=_vm_missing,
            max_attempts=MAX_ATTEMPTS,
            backoff=FAST,
        ),
    ],
)


@pytest.fixture
def faults(lab: Any) -> Iterator[Any]:
    registry = lab.world.faults
    added: list[int] = []

    def add(rule: FaultRule) -> None:
        lab.call(lambda: added.append(registry.add(rule).id))

    yield add
    for rule_id in added:
        lab.call(registry.remove, rule_id)


@pytest.fixture
async def engine(lab: Any, tmp_path: Path) -> AsyncIterator[WorkflowEngine]:
    store = Store.open(tmp_path / "hks.db")
    pve = _pve(lab)
    eng = WorkflowEngine(store, [LIFECYCLE], deps=pve, rng=random.Random(11))
    yield eng
    await eng.aclose()
    pve.close()
    store.close()


async def test_lost_clone_response_is_adopted_and_faults_are_survived(
    lab: Any, engine: WorkflowEngine, faults: Any
) -> None:
    template = lab.info["proxmox"]["template_vmid"][NODE]
    name = "wf-lab-adopt-1"
    clone_path = rf"/nodes/{NODE}/qemu/{template}/clone$"
    faults(FaultRule("pve", method="POST", path=clone_path, drop=True, count=1))
    faults(
        FaultRule("pve", method="POST", path=r"/qemu/\d+/status/start$", error=596, count=1)
    )  # surely once
    faults(FaultRule("pve", method="POST", path=r"/qemu/\d+/status/(start|stop)$", error=500, rate=0.3))
    faults(FaultRule("pve", method="GET", path=r"/tasks/.*/status$", error=503, rate=0.3))
    events: list[WorkflowEvent] = []
    engine.events.subscribe(events.append)
    record = engine.create("test.vm.lifecycle", {"name": name, "template": template}, target=name)
    start = int(lab.world.faults.last_seq)

    final = await engine.run(record.id)

    assert final.status == WorkflowStatus.SUCCEEDED, final.error
    steps = engine.steps(record.id)
    assert all(s.status == StepStatus.SUCCEEDED and 1 <= s.attempts <= MAX_ATTEMPTS for s in steps)
    assert steps[0].result.get("adopted") is True  # the dropped clone was adopted, not repeated
    assert steps[0].attempts >= 2 and steps[1].attempts >= 2
    assert re.match(r"^UPID:", steps[1].upid or "")
    assert engine.get(record.id).params["vmid"] == steps[0].result["vmid"]  # type: ignore[union-attr]
    assert _find(_pve(lab), name) == []  # destroyed; and there never was a second clone to leak
    clone_posts = lab.world.faults.select("pve", "POST", since=start, path=clone_path)
    assert [r.fault for r in clone_posts] == ["drop"]  # exactly one clone request: applied, then cut
    assert lab.world.faults.count("pve", "DELETE", since=start) == 1
    types = {e.type for e in events}
    assert {EventType.STEP_ADOPTED, EventType.STEP_DETAIL, EventType.WORKFLOW_FINISHED} <= types


async def test_destroying_a_vm_that_is_already_gone_succeeds(lab: Any, engine: WorkflowEngine) -> None:
    record = engine.create("test.vm.lifecycle", {"name": "wf-lab-gone", "vmid": 987654})
    # only the destroy step: mark the others done as a resumed journal would have them
    for step in engine.steps(record.id)[:3]:
        engine.store.workflows.save_step(step.model_copy(update={"status": StepStatus.SUCCEEDED}))
    final = await engine.run(record.id)
    assert final.status == WorkflowStatus.SUCCEEDED, final.error
    destroy_step = engine.steps(record.id)[3]
    assert destroy_step.result == {"not_found": True} and destroy_step.attempts == 1
