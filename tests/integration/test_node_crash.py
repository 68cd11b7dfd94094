"""`kill -9` of the console at every step boundary of node Stop and Delete, then resume elsewhere.

A child process (this file run as a script) drives one workflow against the lab and SIGKILLs itself when
the engine announces a step as done (journaled ``succeeded``) — or, for the Proxmox power-off and destroy
steps, right after the call returned its task id (the effect happened, the journal still says
``running``). This process then resumes every workflow once the dead runner's lease has expired: each
completes, no external effect reached the lab twice (mutating requests counted per path), and no VM or
Node is left behind by a delete.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TTL = 30.0
STOP_STEPS = ["locate", "cordon", "drain", "shutdown", "not_ready"]
DELETE_STEPS = [
    "locate",
    "cordon",
    "drain",
    "shutdown",
    "destroy",
    "delete_node",
    "close_billing",
    "update_plan",
]


def _child(lab_dir: str, db: str, workflow_id: str, point: str, index: int) -> None:
    from hks_tui.config import profile_from_lab
    from hks_tui.services import Services
    from hks_tui.services.workspaces import refs_from_lab
    from hks_tui.store import Store
    from hks_tui.workflows import EventType, WorkflowEngine, WorkflowEvent
    from hks_tui.workflows.nodes import NODE_KINDS

    info = json.loads((Path(lab_dir) / "lab.json").read_text())

    async def main() -> None:
        store = Store.open(Path(db))
        services = Services.build(
            profile=profile_from_lab(info, "prod"), store=store, workspaces=refs_from_lab(info)
        )
        engine = WorkflowEngine(
            store, NODE_KINDS.values(), deps=services, owner=f"child:{os.getpid()}", lease_ttl=TTL
        )

        def on_event(event: WorkflowEvent) -> None:
            if event.index != index:
                return
            if point == "done" and event.type == EventType.STEP_DONE:
                os.kill(os.getpid(), signal.SIGKILL)
            if point == "task" and event.type == EventType.STEP_DETAIL and event.detail.startswith("task "):
                os.kill(os.getpid(), signal.SIGKILL)

        engine.events.subscribe(on_event)
        await engine.run(workflow_id)
        sys.exit(3)  # never reached in these tests: the child dies first

    asyncio.run(main())


def _spawn(lab_dir: Path, db: Path, workflow_id: str, point: str, index: int) -> subprocess.Popen[bytes]:
    args = [sys.executable, __file__, str(lab_dir), str(db), workflow_id, point, str(index)]
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def nl(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from tests.integration.test_node_actions import NodeLab

    env = NodeLab(tmp_path_factory.mktemp("node-crash"))
    yield env
    asyncio.run(env.close())


def _effects(nl: Any, name: str, vmid: int) -> Counter[tuple[str, str]]:
    """Mutating requests the lab received about this node or its VM, by (method, path)."""
    out: Counter[tuple[str, str]] = Counter()
    for rec in nl.lab.world.faults.select(mutating=True):
        if (
            f"/qemu/{vmid}/" in rec.path
            or rec.path.endswith(f"/qemu/{vmid}")
            or rec.path.endswith(f"/nodes/{name}")
        ):
            out[(rec.method, rec.path.split("/api2/json")[-1])] += 1
    return out


async def test_kill_9_at_every_boundary_of_stop_and_delete_then_resume(nl: Any) -> None:
    from hks_tui.models import StepStatus, WorkflowStatus, utcnow
    from hks_tui.workflows import WorkflowEngine
    from hks_tui.workflows.nodes import NODE_KINDS, submit_action
    from tests.integration.test_node_actions import TIMING

    cases: list[tuple[str, str, int]] = [("stop", "done", i) for i in range(len(STOP_STEPS))]
    cases += [("stop", "task", STOP_STEPS.index("shutdown"))]
    cases += [("delete", "done", i) for i in range(len(DELETE_STEPS))]
    cases += [("delete", "task", DELETE_STEPS.index(s)) for s in ("shutdown", "destroy")]
    planned: list[tuple[tuple[str, str, int], str, int, str]] = []
    for n, case in enumerate(cases):
        name, vmid = f"prod-crash-{n}", 400 + n
        nl.add_node(name, vmid, ("pve1", "pve2", "pve3")[n % 3])
        if case[0] == "delete":
            nl.bill(name)
        record = submit_action(nl.engine, nl.deps, case[0], "prod", name, timing=TIMING)
        assert nl.store.workflows.release_lease(record.id, nl.engine.owner)
        planned.append((case, name, vmid, record.id))

    for batch in range(0, len(planned), 4):  # a few children at a time: the machine has 2 cores
        children = [
            (item, _spawn(nl.lab.state_dir, nl.db, item[3], item[0][1], item[0][2]))
            for item in planned[batch : batch + 4]
        ]
        for item, child in children:
            _, err = await asyncio.to_thread(child.communicate, timeout=120)
            assert child.returncode == -signal.SIGKILL, (item[0], err.decode()[-2000:])

    for (action, point, index), _name, _vmid, workflow_id in planned:
        record = nl.store.workflows.get(workflow_id)
        assert record.status == WorkflowStatus.RUNNING and record.lease_owner.startswith("child:")
        step = nl.store.workflows.steps(workflow_id)[index]
        assert step.status == (StepStatus.SUCCEEDED if point == "done" else StepStatus.RUNNING), (
            action,
            point,
            index,
        )

    later = utcnow() + timedelta(seconds=TTL + 1)
    engine = WorkflowEngine(nl.store, NODE_KINDS.values(), deps=nl.services, now=lambda: later)
    try:
        report = await engine.resume_unfinished()
    finally:
        await engine.aclose()
    assert report.skipped == []
    finished = {r.id: r for r in report.finished}
    assert set(finished) == {p[3] for p in planned}

    for (action, point, index), name, vmid, workflow_id in planned:
        final = finished[workflow_id]
        label = (action, point, index)
        assert final.status == WorkflowStatus.SUCCEEDED, (label, final.error)
        effects = _effects(nl, name, vmid)
        assert all(count == 1 for count in effects.values()), (label, effects)  # no effect twice
        assert effects[("PATCH", f"/api/v1/nodes/{name}")] == 1, label
        assert effects[("POST", f"/nodes/{nl_pve(vmid)}/qemu/{vmid}/status/shutdown")] == 1, label
        if action == "stop":
            assert nl.vm(name).status == "stopped" and not nl.ready(name) and nl.cordoned(name), label
        else:
            assert nl.vm(name) is None and nl.node(name) is None, label  # no orphan VM or Node
            assert effects[("DELETE", f"/nodes/{nl_pve(vmid)}/qemu/{vmid}")] == 1, label
            assert effects[("DELETE", f"/api/v1/nodes/{name}")] == 1, label
            line = next(b for b in nl.store.billing.list("prod") if b.ref == name)
            assert line.period_end <= utcnow(), label
        steps = nl.store.workflows.steps(workflow_id)
        if point == "task":
            assert steps[index].result.get("adopted") is True, label


def nl_pve(vmid: int) -> str:
    return ("pve1", "pve2", "pve3")[(vmid - 400) % 3]


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
