"""Node Start / Stop / Reboot / Delete as durable workflows against the lab over real HTTP.

Each test checks the lab's own state afterwards (VM status, Node Ready, cordon, Node deleted, VM
destroyed) and the console's (billing line closed, plan switched when the last node goes).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hks_tui.config import profile_from_lab
from hks_tui.lab.controllers.nodes import register_node
from hks_tui.lab.server import RunningLab, start_lab_in_thread
from hks_tui.models import BillingLine, Plan, WorkflowRecord, WorkflowStatus, Workspace, utcnow
from hks_tui.services import Services
from hks_tui.services.workspaces import refs_from_lab
from hks_tui.store import Store
from hks_tui.workflows import TargetBusyError, WorkflowEngine
from hks_tui.workflows.nodes import NODE_KINDS, NodeActionError, NodeDeps, node_deps, submit_action

TIMING = {
    "poll": 0.05,
    "drain_timeout": 20.0,
    "shutdown_timeout": 20.0,
    "task_timeout": 30.0,
    "agent_timeout": 30.0,
    "ready_timeout": 30.0,
}
LABELS = {"hks.io/workspace": "prod", "hks.io/pool": "default"}
TAINT = {"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}


class NodeLab:
    """A private demo lab (time scale 50), a store and the services of workspace ``prod``."""

    def __init__(self, root: Path, time_scale: float = 50.0, **lab_options: Any) -> None:
        self.root = root
        self.lab: RunningLab = start_lab_in_thread(
            root / "lab", seed="demo", time_scale=time_scale, **lab_options
        )
        self.db = root / "hks.db"
        self.store = Store.open(self.db)
        self.store.workspaces.upsert(Workspace(name="prod", org="acme", plan=Plan.DEDICATED))
        self.services = Services.build(
            profile=profile_from_lab(self.lab.info, "prod"),
            store=self.store,
            workspaces=refs_from_lab(self.lab.info),
        )
        self.deps: NodeDeps = node_deps(self.services)
        self.engine = WorkflowEngine(self.store, NODE_KINDS.values(), deps=self.services)

    async def act(self, action: str, node: str, **kw: Any) -> WorkflowRecord:
        record = submit_action(self.engine, self.deps, action, "prod", node, timing=TIMING, **kw)
        return await self.engine.run(record.id)

    # -- the lab's own view ---------------------------------------------------------------------------
    def vm(self, name: str) -> Any:
        return next((vm for vm in self.lab.world.pve.vms.values() if vm.name == name), None)

    def node(self, name: str) -> dict[str, Any] | None:
        return self.lab.call(
            lambda: self.lab.world.host.store.get("nodes", name) if _has(self.lab, name) else None
        )

    def ready(self, name: str) -> bool:
        node = self.node(name) or {}
        conds = node.get("status", {}).get("conditions") or []
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)

    def cordoned(self, name: str) -> bool:
        return bool((self.node(name) or {}).get("spec", {}).get("unschedulable"))

    def pods_on(self, name: str) -> list[dict[str, Any]]:
        def pods() -> list[dict[str, Any]]:
            return [
                p for p in self.lab.world.host.store.iter_objects("pods") if p["spec"].get("nodeName") == name
            ]

        return list(self.lab.call(pods))

    def add_node(self, name: str, vmid: int, pve_node: str = "pve1") -> None:
        """Another running, joined, Ready dedicated node of prod (as a finished provision leaves it)."""

        def make() -> None:
            world = self.lab.world
            vm = world.pve.create_vm(
                pve_node,
                vmid,
                name,
                cores=2,
                memory_mib=4096,
                disk_gib=20,
                running=True,
                tags=("hks-managed", "hks-ws-prod"),
            )
            register_node(world, vm, labels=LABELS, taints=[TAINT], ready_now=True)

        self.lab.call(make)

    def bill(self, name: str) -> None:
        start = utcnow() - timedelta(days=10)
        self.store.billing.add(
            BillingLine(
                workspace="prod",
                period_start=start,
                period_end=start + timedelta(days=30),
                item=f"node {name}",
                kind="instance",
                quantity=1.0,
                unit="month",
                unit_price=90.0,
                amount=90.0,
                ref=name,
            )
        )

    def plan(self) -> Plan | None:
        ws = self.store.workspaces.get("prod")
        return ws.plan if ws is not None else None

    def pve_requests(self, method: str, path: str) -> int:
        return self.lab.world.faults.count("pve", method, path=path)

    async def close(self) -> None:
        await self.engine.aclose()
        self.services.close()
        self.store.close()
        self.lab.stop()


def _has(lab: RunningLab, name: str) -> bool:
    return any(n["metadata"]["name"] == name for n in lab.world.host.store.iter_objects("nodes"))


@pytest.fixture(scope="module")
def nl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeLab]:
    env = NodeLab(tmp_path_factory.mktemp("node-actions"))
    yield env
    import asyncio

    asyncio.run(env.close())


async def test_stop_then_start_then_reboot(nl: NodeLab) -> None:
    name = "prod-default-1"
    assert nl.pods_on(name), "the seed schedules tenant pods on prod-default-1"
    stopped = await nl.act("stop", name)
    assert stopped.status == WorkflowStatus.SUCCEEDED, stopped.error
    assert nl.vm(name).status == "stopped"
    assert not nl.ready(name) and nl.cordoned(name)
    steps = {s.name: s for s in nl.engine.steps(stopped.id)}
    assert steps["drain"].result["evicted"], "the drain evicted the tenant pods"

    started = await nl.act("start", name)
    assert started.status == WorkflowStatus.SUCCEEDED, started.error
    assert nl.vm(name).status == "running"
    assert nl.ready(name) and not nl.cordoned(name)

    before = nl.pve_requests("POST", r"/status/reboot$")
    rebooted = await nl.act("reboot", name)
    assert rebooted.status == WorkflowStatus.SUCCEEDED, rebooted.error
    assert nl.pve_requests("POST", r"/status/reboot$") == before + 1
    assert nl.vm(name).status == "running"
    assert nl.ready(name) and not nl.cordoned(name)


async def test_wrong_state_unknown_node_and_busy_node_are_refused(nl: NodeLab) -> None:
    with pytest.raises(NodeActionError, match="already running"):
        submit_action(nl.engine, nl.deps, "start", "prod", "prod-default-2")
    with pytest.raises(NodeActionError, match="no dedicated node named 'prod-nope-9'"):
        submit_action(nl.engine, nl.deps, "stop", "prod", "prod-nope-9")
    with pytest.raises(NodeActionError, match="no dedicated node"):
        submit_action(nl.engine, nl.deps, "stop", "dev", "prod-default-2")  # not in that workspace
    first = submit_action(nl.engine, nl.deps, "reboot", "prod", "prod-default-2", timing=TIMING)
    with pytest.raises(TargetBusyError, match="already has an action in flight"):
        submit_action(nl.engine, nl.deps, "stop", "prod", "prod-default-2")
    final = await nl.engine.run(first.id)
    assert final.status == WorkflowStatus.SUCCEEDED, final.error
    stopped = await nl.act("stop", "prod-default-2")
    assert stopped.status == WorkflowStatus.SUCCEEDED
    with pytest.raises(NodeActionError, match="not running"):
        submit_action(nl.engine, nl.deps, "reboot", "prod", "prod-default-2")
    restarted = await nl.act("start", "prod-default-2")
    assert restarted.status == WorkflowStatus.SUCCEEDED, restarted.error


async def test_pdb_blocks_the_drain_until_the_audited_force_override(nl: NodeLab) -> None:
    name = "prod-default-1"
    host = nl.deps.host
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "storefront-pdb", "namespace": "vcluster-prod"},
        "spec": {"maxUnavailable": 0, "selector": {"matchLabels": {"app.kubernetes.io/name": "storefront"}}},
    }
    host.call(host.policy.create_namespaced_pod_disruption_budget, "vcluster-prod", pdb)
    try:
        timing = {**TIMING, "drain_timeout": 1.0}
        cancelled = submit_action(nl.engine, nl.deps, "stop", "prod", name, timing=timing)
        assert (await nl.engine.run(cancelled.id)).status == WorkflowStatus.PAUSED
        assert nl.cordoned(name)
        undone = await nl.engine.cancel(cancelled.id)
        assert undone is not None and undone.status.finished
        assert not nl.cordoned(name), "cancelling the paused stop uncordons the node"
        assert nl.vm(name).status == "running"

        record = submit_action(nl.engine, nl.deps, "stop", "prod", name, timing=timing)
        paused = await nl.engine.run(record.id)
        assert paused.status == WorkflowStatus.PAUSED
        assert "vcluster-prod/storefront-pdb" in paused.error and "429" in paused.error
        drain = {s.name: s for s in nl.engine.steps(record.id)}["drain"]
        assert drain.attempts == 1, "a blocked drain is not retried: it stops, resumable"
        assert nl.vm(name).status == "running", "no VM is powered off un-drained"
        assert nl.cordoned(name)
        assert any("storefront" in p["metadata"]["name"] for p in nl.pods_on(name))
        # a second action on the node is refused while this one is paused
        with pytest.raises(TargetBusyError):
            submit_action(nl.engine, nl.deps, "delete", "prod", name)

        from hks_tui.workflows.nodes import allow_force

        allow_force(nl.engine, record.id, actor="tester")
        forced = nl.store.audit.list(action="node.drain.force")
        assert [(e.target, e.actor, e.params["workflow"]) for e in forced] == [(name, "tester", record.id)]
        final = await nl.engine.resume(record.id)
        assert final.status == WorkflowStatus.SUCCEEDED, final.error
        assert nl.vm(name).status == "stopped" and not nl.ready(name)
        assert nl.store.audit.list(action="pod.delete.forced"), "each forced pod deletion is audited"
    finally:
        host.call(host.policy.delete_namespaced_pod_disruption_budget, "storefront-pdb", "vcluster-prod")
    started = await nl.act("start", name)
    assert started.status == WorkflowStatus.SUCCEEDED, started.error


async def test_dropped_shutdown_response_is_adopted_not_repeated(nl: NodeLab) -> None:
    name = "prod-default-2"
    path = r"/qemu/202/status/shutdown$"
    before = nl.pve_requests("POST", path)
    nl.lab.world.faults.add("pve:POST:/status/shutdown:drop:count=1")
    record = await nl.act("stop", name)
    assert record.status == WorkflowStatus.SUCCEEDED, record.error
    assert nl.pve_requests("POST", path) == before + 1, "exactly one shutdown reached Proxmox"
    assert nl.pve_requests("POST", r"/qemu/202/status/stop$") == 0, "no forced stop either"
    shutdown = {s.name: s for s in nl.engine.steps(record.id)}["shutdown"]
    assert shutdown.attempts == 2 and shutdown.result.get("adopted") is True
    assert nl.vm(name).status == "stopped" and not nl.ready(name)
    started = await nl.act("start", name)
    assert started.status == WorkflowStatus.SUCCEEDED, started.error


async def test_thirty_percent_pve_500s_workflows_still_finish_with_bounded_attempts(nl: NodeLab) -> None:
    name = "prod-default-3"
    nl.add_node("prod-flaky-1", 331, "pve1")
    rule = nl.lab.world.faults.add("pve:error=500:rate=0.3")
    try:
        for action, node in (("stop", name), ("start", name), ("reboot", name), ("delete", "prod-flaky-1")):
            record = await nl.act(action, node)
            assert record.status == WorkflowStatus.SUCCEEDED, (action, record.error)
            for step in nl.engine.steps(record.id):
                assert 1 <= step.attempts <= NODE_KINDS[action].step(step.name).max_attempts
        assert rule.fired > 0
        assert nl.vm("prod-flaky-1") is None and nl.node("prod-flaky-1") is None
        assert nl.pve_requests("DELETE", r"/qemu/331$") <= NODE_KINDS["delete"].step("destroy").max_attempts
    finally:
        nl.lab.world.faults.remove(rule.id)
    assert nl.vm(name).status == "running" and nl.ready(name) and not nl.cordoned(name)


def _bound_pod(name: str, node: str, owner_kind: str | None, mirror: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "kube-system"}
    if owner_kind:
        meta["ownerReferences"] = [
            {
                "apiVersion": "apps/v1",
                "kind": owner_kind,
                "name": f"{name}-owner",
                "uid": f"uid-{name}",
                "controller": True,
            }
        ]
    if mirror:
        meta["annotations"] = {"kubernetes.io/config.mirror": "abc123"}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "nodeName": node,
            "tolerations": [{"operator": "Exists"}],
            "containers": [{"name": "c", "image": "registry.k8s.io/pause:3.10"}],
        },
    }


async def test_delete_destroys_vm_and_node_and_closes_billing(nl: NodeLab) -> None:
    nl.add_node("prod-extra-1", 311, "pve2")
    nl.bill("prod-extra-1")
    host = nl.deps.host
    for pod in (
        _bound_pod("node-exporter-x1", "prod-extra-1", "DaemonSet"),
        _bound_pod("kube-vip-prod-extra-1", "prod-extra-1", None, mirror=True),
        _bound_pod("debug-shell", "prod-extra-1", None),
    ):
        host.call(host.core.create_namespaced_pod, "kube-system", pod)
    record = await nl.act("delete", "prod-extra-1")
    assert record.status == WorkflowStatus.SUCCEEDED, record.error
    drained = {s.name: s.result for s in nl.engine.steps(record.id)}["drain"]
    assert drained["skipped"] == {
        "kube-system/node-exporter-x1": "DaemonSet pod",
        "kube-system/kube-vip-prod-extra-1": "mirror pod",
    }
    assert drained["evicted"] == ["kube-system/debug-shell"]
    assert nl.lab.world.faults.count("kube:host", "POST", path=r"/pods/node-exporter-x1/eviction$") == 0
    assert nl.vm("prod-extra-1") is None and 311 not in nl.lab.world.pve.vms
    assert nl.node("prod-extra-1") is None
    assert nl.pve_requests("DELETE", r"/qemu/311$") == 1
    line = next(b for b in nl.store.billing.list("prod") if b.ref == "prod-extra-1")
    assert line.period_end <= utcnow() and line.amount < 90.0  # closed, pro rata
    assert nl.plan() == Plan.DEDICATED  # other nodes remain
    steps = {s.name: s.result for s in nl.engine.steps(record.id)}
    assert steps["update_plan"]["last"] is False


async def test_vm_deleted_behind_our_back(nl: NodeLab) -> None:
    nl.add_node("prod-orphan-1", 321, "pve3")
    nl.lab.call(lambda: nl.lab.world.pve.vms.pop(321))
    with pytest.raises(NodeActionError, match="has no VM in Proxmox VE"):
        submit_action(nl.engine, nl.deps, "stop", "prod", "prod-orphan-1")
    record = await nl.act("delete", "prod-orphan-1")
    assert record.status == WorkflowStatus.SUCCEEDED, record.error
    assert nl.node("prod-orphan-1") is None, "no Node object left behind"
    assert nl.pve_requests("DELETE", r"/qemu/321$") == 0


async def test_deleting_the_last_dedicated_node_returns_the_workspace_to_shared(nl: NodeLab) -> None:
    names = ["prod-default-1", "prod-default-2", "prod-default-3"]
    for name in names[:-1]:
        record = await nl.act("delete", name)
        assert record.status == WorkflowStatus.SUCCEEDED, record.error
        assert nl.plan() == Plan.DEDICATED
    last = await nl.act("delete", names[-1], destroy_unreferenced_disks=True)
    assert last.status == WorkflowStatus.SUCCEEDED, last.error
    assert nl.plan() == Plan.SHARED
    assert {s.name: s.result for s in nl.engine.steps(last.id)}["update_plan"]["last"] is True
    assert nl.store.audit.list(action="workspace.plan")
    assert all(nl.vm(n) is None and nl.node(n) is None for n in names)
    assert nl.pve_requests("DELETE", r"/qemu/203$") == 1
