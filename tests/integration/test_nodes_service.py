"""NodeService against the lab over real HTTP: prod's dedicated nodes, the node detail, state changes
made through Proxmox and Kubernetes, and a request count per refresh that does not grow with the world."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import NotFoundError
from hks_tui.config import profile_from_lab
from hks_tui.lab.server import start_lab_in_thread
from hks_tui.services import Services
from hks_tui.services.nodes import NodeService
from hks_tui.services.nodes_model import NodeRow
from hks_tui.services.watch_cache import WatchCache
from hks_tui.services.workspaces import refs_from_lab
from hks_tui.store import Store

WAIT = 30.0
TAINT = {"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"}


class Env:
    def __init__(self, root: Path) -> None:
        self.lab = start_lab_in_thread(root / "lab", seed="demo", time_scale=20.0)
        self.store = Store.open(root / "s.db")
        self.services = Services.build(
            profile=profile_from_lab(self.lab.info, "prod"),
            store=self.store,
            workspaces=refs_from_lab(self.lab.info),
        )

    def close(self) -> None:
        self.services.close()
        self.store.close()
        self.lab.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """A private demo lab the read-only tests share (nothing here changes its world)."""
    e = Env(tmp_path_factory.mktemp("nodes"))
    yield e
    e.close()


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Env]:
    """A demo lab of its own for a test that changes the world."""
    e = Env(tmp_path)
    yield e
    e.close()


def wait_rows(svc: NodeService, ok: Callable[[dict[str, NodeRow]], bool]) -> dict[str, NodeRow]:
    deadline = time.monotonic() + WAIT
    while True:
        rows = {r.name: r for r in svc.rows_sync("prod")}
        if ok(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


async def test_prod_rows_join_proxmox_and_kubernetes(env: Env) -> None:
    rows = await env.services.nodes.rows("prod")
    assert [r.name for r in rows] == ["prod-default-1", "prod-default-2", "prod-default-3"]
    world = env.lab.world
    host_pods = Counter(
        p["spec"].get("nodeName")
        for p in world.host.store.iter_objects("pods")
        if p["status"].get("phase") == "Running"
    )
    for r, (vmid, pve_node, region) in zip(
        rows, [(201, "pve1", "jp-east"), (202, "pve2", "jp-east"), (203, "pve3", "jp-west")], strict=True
    ):
        assert r.status == "Running · Ready", r
        assert (r.vmid, r.pve_node, r.region, r.pool) == (vmid, pve_node, region, "default")
        assert r.specs == "4 vCPU · 8 GiB · 40 GiB"
        assert r.ip == world.pve.vm_ip(world.pve.vms[vmid]) and r.ip is not None
        assert r.instance_type == "M" and r.monthly_cost == 80.0
        assert r.in_vcluster and r.ready and not r.cordoned
        assert r.created_at is not None and r.uptime_s and r.uptime_s > 0
        assert r.pods == host_pods[r.name] and r.pods_capacity == 110
        assert r.cpu_usage is not None and 0 < r.cpu_usage < 4
        assert r.mem_usage is not None and r.mem_percent is not None
        assert "hks-ws-prod" in r.tags
    assert sum(r.pods for r in rows) > 0 and sum(r.cpu_requests for r in rows) > 0
    assert await env.services.nodes.rows("dev") == []  # Shared plan: no dedicated nodes


async def test_node_detail_has_proxmox_and_kubernetes_facts(env: Env) -> None:
    d = await env.services.nodes.detail("prod", "prod-default-1")
    assert d.row.vmid == 201 and d.errors == []
    assert "local-lvm:vm-201-disk-0" in d.storage
    assert d.config["name"] == "prod-default-1" and "hks-ws-prod" in d.config["tags"]
    assert isinstance(d.tasks, list)
    ready = [c for c in d.conditions if c["type"] == "Ready"]
    assert ready and ready[0]["status"] == "True"
    assert d.labels["hks.io/workspace"] == "prod"
    assert {"key": "hks.io/workspace", "value": "prod", "effect": "NoSchedule"} in d.taints
    assert d.allocatable["cpu"] == "4" and d.allocatable["pods"] == "110"
    assert len(d.pods) == d.row.pods and all(p["phase"] for p in d.pods)
    by_vmid = await env.services.nodes.detail("prod", "203")
    assert by_vmid.row.name == "prod-default-3"
    with pytest.raises(NotFoundError) as err:
        await env.services.nodes.detail("prod", "nope")
    assert "prod-default-1" in str(err.value.why)


async def test_actions_in_flight_show_in_the_list(env: Env) -> None:
    from hks_tui.models import StepStatus, WorkflowRecord, WorkflowStatus, WorkflowStep

    def start(wid: str, kind: str, target: str, done: int, total: int) -> None:
        steps = [
            WorkflowStep(
                workflow_id=wid,
                index=i,
                name=f"s{i}",
                status=StepStatus.SUCCEEDED if i < done else StepStatus.PENDING,
            )
            for i in range(total)
        ]
        record = WorkflowRecord(
            id=wid, kind=kind, workspace="prod", target=target, status=WorkflowStatus.RUNNING
        )
        env.store.workflows.create(record, steps)

    start("wf-nodes-stop", "node.stop", "prod-default-2", 2, 5)
    start("wf-nodes-new", "node.provision", "prod-default-4", 1, 6)
    try:
        rows = {r.name: r for r in await env.services.nodes.rows("prod")}
        assert rows["prod-default-2"].status == "Stopping 2/5"
        assert rows["prod-default-4"].status == "Provisioning 1/6" and rows["prod-default-4"].vmid is None
        assert rows["prod-default-1"].status == "Running · Ready"
        explicit = await env.services.nodes.rows("prod", in_flight={})
        assert [r.status for r in explicit] == ["Running · Ready"] * 3
    finally:
        env.store.workflows.delete("wf-nodes-stop")
        env.store.workflows.delete("wf-nodes-new")


def test_proxmox_down_keeps_the_kubernetes_side_with_the_reason(env: Env) -> None:
    lab = env.lab
    rule = lab.call(lab.world.faults.add, "pve:GET:/cluster/resources$:error=500")
    try:
        rows = env.services.nodes.rows_sync("prod")
    finally:
        lab.call(lab.world.faults.remove, rule.id)
    assert [r.name for r in rows] == ["prod-default-1", "prod-default-2", "prod-default-3"]
    assert all(r.status.startswith("Error: Proxmox VE: ") for r in rows), rows
    assert all(r.ip and r.ready for r in rows)
    assert env.services.nodes.last_pve_error is not None
    assert [r.status for r in env.services.nodes.rows_sync("prod")] == ["Running · Ready"] * 3
    assert env.services.nodes.last_pve_error is None


def test_states_after_stop_cordon_and_changes_behind_our_back(fresh: Env) -> None:
    svc = fresh.services.nodes
    assert len(wait_rows(svc, lambda r: len(r) == 3)) == 3
    pve = fresh.services.clients.proxmox
    upid = pve.post("nodes/pve2/qemu/202/status/stop", action="vm.stop", target="pve2/202")
    pve.wait_task("pve2", upid, timeout=WAIT, poll=0.1)
    rows = wait_rows(svc, lambda r: r["prod-default-2"].status == "Stopped · NotReady")
    assert rows["prod-default-2"].status == "Stopped · NotReady"
    assert rows["prod-default-2"].vm_status == "stopped" and rows["prod-default-2"].ready is False
    assert rows["prod-default-1"].status == "Running · Ready"
    detail = svc.detail_sync("prod", "prod-default-2")
    assert any(t.get("type") == "qmstop" for t in detail.tasks)
    assert any(e["reason"] == "NodeNotReady" for e in detail.events), detail.events

    changed = threading.Event()
    remove = svc.on_change(lambda resource: changed.set() if resource == "nodes" else None)
    host = fresh.services.clients.host
    host.call(host.core.patch_node, "prod-default-1", {"spec": {"unschedulable": True}})
    assert changed.wait(WAIT)  # the list is live: a watched Node change reaches the listeners
    remove()
    rows = wait_rows(svc, lambda r: r["prod-default-1"].status == "Draining")
    assert rows["prod-default-1"].status == "Draining" and rows["prod-default-1"].cordoned

    def behind_our_back(world: Any) -> None:
        vm = world.pve.create_vm(
            "pve3",
            250,
            "prod-default-9",
            cores=2,
            memory_mib=4096,
            disk_gib=20,
            running=True,
            tags=("hks-managed", "hks-ws-prod"),
        )
        assert vm.vmid == 250
        del world.pve.vms[203]  # someone destroyed the VM in the Proxmox UI

    fresh.lab.call(behind_our_back, fresh.lab.world)
    rows = {r.name: r for r in svc.rows_sync("prod")}
    assert rows["prod-default-9"].status == "Not joined" and rows["prod-default-9"].instance_type == "S"
    assert rows["prod-default-9"].monthly_cost == 40.0 and rows["prod-default-9"].ip is None
    assert rows["prod-default-3"].status == "Missing VM" and rows["prod-default-3"].vmid is None
    lonely = svc.detail_sync("prod", "prod-default-9")  # no Node: the IP comes from the guest agent
    assert lonely.row.ip == fresh.lab.world.pve.vm_ip(fresh.lab.world.pve.vms[250]) and lonely.agent_ips
    assert lonely.row.created_at is not None and lonely.conditions == [] and lonely.errors == []
    gone = svc.detail_sync("prod", "prod-default-3")  # no VM: Kubernetes facts only
    assert gone.config == {} and gone.labels["hks.io/workspace"] == "prod"


def _add_nodes(world: Any, count: int) -> None:
    from hks_tui.lab.controllers.nodes import register_node

    for i in range(count):
        vm = world.pve.create_vm(
            ("pve1", "pve2", "pve3")[i % 3],
            1000 + i,
            f"prod-bulk-{i}",
            cores=2,
            memory_mib=4096,
            disk_gib=20,
            running=True,
            tags=("hks-managed", "hks-ws-prod"),
        )
        labels = {"hks.io/workspace": "prod", "hks.io/pool": "bulk"}
        register_node(world, vm, labels=labels, taints=[TAINT], ready_now=True)
        world.pve.create_vm(
            "pve2", 3000 + i, f"other-{i}", cores=1, memory_mib=1024, disk_gib=8, running=True
        )


def test_requests_per_refresh_do_not_grow_with_the_number_of_nodes(fresh: Env) -> None:
    # a long server-side watch timeout so no watch re-connects inside the measured windows
    cache = WatchCache(timeout_seconds=600)
    svc = NodeService(
        fresh.services.clients, fresh.services.executor, cache, fresh.store, refs_from_lab(fresh.lab.info)
    )
    faults = fresh.lab.world.faults
    try:

        def measure() -> tuple[int, Counter[tuple[str, str, str]]]:
            svc.rows_sync("prod")  # watches established and synced
            since = faults.last_seq
            rows = svc.rows_sync("prod")
            made = Counter((r.api, r.method, r.path) for r in faults.select(since=since))
            return len(rows), made

        small_rows, small = measure()
        fresh.lab.call(_add_nodes, fresh.lab.world, 50)
        big_rows = len(wait_rows(svc, lambda r: len(r) == 53))
        assert big_rows == 53
        _, big = measure()
        assert small_rows == 3
        assert small == big, (small, big)
        assert small == Counter(
            {
                ("pve", "GET", "/api2/json/cluster/resources"): 1,
                ("kube:host", "GET", "/apis/metrics.k8s.io/v1beta1/nodes"): 1,
            }
        )
    finally:
        svc.close()
        cache.close()
