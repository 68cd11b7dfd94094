"""The pure join of PVE VMs and K3s Nodes: combined status, matching, specs, requests, catalog prices."""

from __future__ import annotations

from typing import Any

import pytest

from hks_tui.models import DEFAULT_CATALOG
from hks_tui.services.nodes_model import (
    DRAINING,
    GIB,
    MISSING_VM,
    NOT_JOINED,
    RUNNING_NOT_READY,
    RUNNING_READY,
    STOPPED,
    STOPPED_NOT_READY,
    build_rows,
    combine_status,
    is_workspace_vm,
    match_instance_type,
    parse_quantity,
    pod_requests,
    provider_vmid,
)


def vm(vmid: int, name: str, status: str = "running", ws: str = "prod", **extra: Any) -> dict[str, Any]:
    return {
        "id": f"qemu/{vmid}",
        "type": "qemu",
        "vmid": vmid,
        "name": name,
        "node": "pve1",
        "status": status,
        "template": 0,
        "maxcpu": 4,
        "maxmem": 8 * GIB,
        "maxdisk": 40 * GIB,
        "disk": 0,
        "uptime": 100 if status == "running" else 0,
        "tags": f"hks-managed;hks-ws-{ws}",
        **extra,
    }


def node(
    name: str,
    vmid: int | None,
    *,
    ready: bool = True,
    ws: str = "prod",
    cordoned: bool = False,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"unschedulable": True} if cordoned else {}
    if vmid is not None:
        spec["providerID"] = f"proxmox://jp-east/{vmid}"
    return {
        "metadata": {
            "name": name,
            "creationTimestamp": "2026-01-02T03:04:05Z",
            "labels": {
                "hks.io/workspace": ws,
                "hks.io/pool": "default",
                "topology.kubernetes.io/region": "jp-east",
                "node.kubernetes.io/instance-type": "4c8g",
                **(labels or {}),
            },
        },
        "spec": spec,
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "Unknown", "reason": "x"}],
            "allocatable": {"cpu": "4", "memory": f"{8 * 1024 * 1024}Ki", "pods": "110"},
            "addresses": [{"type": "InternalIP", "address": f"10.10.1.{vmid or 99}"}],
        },
    }


def pod(
    name: str, node_name: str, cpu: str = "500m", mem: str = "256Mi", phase: str = "Running"
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {
            "nodeName": node_name,
            "containers": [{"resources": {"requests": {"cpu": cpu, "memory": mem}}}],
        },
        "status": {"phase": phase},
    }


@pytest.mark.parametrize(
    ("vm_state", "k8s", "expected"),
    [
        ("running", node("a", 1), RUNNING_READY),
        ("running", node("a", 1, ready=False), RUNNING_NOT_READY),
        ("running", node("a", 1, cordoned=True), DRAINING),
        ("stopped", node("a", 1, ready=False), STOPPED_NOT_READY),
        ("stopped", None, STOPPED),
        ("running", None, NOT_JOINED),
    ],
)
def test_combined_status(vm_state: str, k8s: dict[str, Any] | None, expected: str) -> None:
    assert combine_status(vm(1, "a", vm_state), k8s) == expected


def test_status_without_vm_in_flight_and_errors() -> None:
    assert combine_status(None, node("a", 1)) == MISSING_VM
    assert combine_status(vm(1, "a"), node("a", 1), in_flight="Provisioning 3/6") == "Provisioning 3/6"
    assert combine_status(vm(1, "a", "unknown"), node("a", 1)).startswith("Error: ")
    assert (
        combine_status(vm(1, "a"), node("a", 1), pve_online=False)
        == "Error: Proxmox node pve1 does not answer"
    )


def test_unknown_inventory_is_an_error_not_missing_vms() -> None:
    rows = build_rows("prod", [], [node("prod-1", 201)], pve_error="Internal Server Error")
    assert [r.status for r in rows] == ["Error: Proxmox VE: Internal Server Error"]
    assert rows[0].ip == "10.10.1.201" and rows[0].vcpu == 4


def test_workspace_vm_needs_both_tags_and_no_template() -> None:
    assert is_workspace_vm(vm(1, "a"), "prod")
    assert not is_workspace_vm(vm(1, "a"), "dev")
    assert not is_workspace_vm(vm(1, "a", tags="hks-ws-prod"), "prod")
    assert not is_workspace_vm(vm(1, "a", template=1), "prod")
    assert is_workspace_vm(vm(1, "a", tags="hks-ws-prod,hks-managed"), "prod")  # PVE accepts commas


def test_provider_vmid() -> None:
    assert provider_vmid(node("a", 203)) == 203
    assert provider_vmid(node("a", None)) is None
    assert provider_vmid({"spec": {"providerID": "aws:///eu-west-1a/i-123"}}) is None


def test_join_by_provider_id_then_name_and_leftovers() -> None:
    vms = [
        vm(201, "prod-1"),
        vm(202, "prod-2", "stopped"),
        vm(203, "renamed-in-pve"),  # joined by providerID although the names differ
        vm(204, "prod-4"),  # no Node yet
        vm(300, "dev-1", ws="dev"),  # another workspace
        vm(9000, "template", template=1, tags="hks-template"),
    ]
    nodes = [
        node("prod-1", 201),
        node("prod-2", 202, ready=False),
        node("prod-3", 203),
        node("prod-gone", 250),  # its VM was deleted behind our back
        node("prod-noid", None, labels={}),  # matched by name? no VM of that name → Missing VM
        node("dev-1", 300, ws="dev"),
    ]
    pods = [pod("p1", "prod-1"), pod("p2", "prod-1", "250m"), pod("done", "prod-1", phase="Succeeded")]
    rows = build_rows(
        "prod",
        vms,
        nodes,
        pods=pods,
        vcluster_nodes=["prod-1"],
        usage={"prod-1": (1.0, 2.0 * GIB)},
        catalog=list(DEFAULT_CATALOG),
    )
    by_name = {r.name: r for r in rows}
    assert sorted(by_name) == ["prod-1", "prod-2", "prod-3", "prod-4", "prod-gone", "prod-noid"]
    assert by_name["prod-1"].status == RUNNING_READY and by_name["prod-1"].vmid == 201
    assert by_name["prod-2"].status == STOPPED_NOT_READY
    assert by_name["prod-3"].vmid == 203 and by_name["prod-3"].status == RUNNING_READY
    assert by_name["prod-4"].status == NOT_JOINED and by_name["prod-4"].ready is None
    assert by_name["prod-gone"].status == MISSING_VM and by_name["prod-gone"].vmid is None
    assert by_name["prod-noid"].status == MISSING_VM
    one = by_name["prod-1"]
    assert one.pods == 2  # the finished pod does not count
    assert one.cpu_requests == pytest.approx(0.75) and one.mem_requests == 512 * 2**20
    assert (
        one.cpu_usage == 1.0
        and one.cpu_percent == pytest.approx(25.0)
        and one.mem_percent == pytest.approx(25.0)
    )
    assert one.in_vcluster and not by_name["prod-3"].in_vcluster
    assert one.specs == "4 vCPU · 8 GiB · 40 GiB"
    assert one.ip == "10.10.1.201" and one.region == "jp-east" and one.pool == "default"
    assert one.instance_type == "M" and one.monthly_cost == 80.0
    assert one.created_at is not None and one.created_at.year == 2026
    assert by_name["prod-gone"].vcpu == 4 and by_name["prod-gone"].ram_bytes == 8 * GIB  # from Node capacity
    assert by_name["prod-4"].key == "vm/204" and by_name["prod-gone"].key == "node/prod-gone"


def test_in_flight_and_offline_pve_node_and_region_fallback() -> None:
    rows = build_rows(
        "prod",
        [vm(201, "prod-1"), vm(204, "prod-4")],
        [node("prod-1", 201)],
        in_flight={"prod-1": "Deleting"},
        offline_pve_nodes=["pve1"],
        regions={"pve1": "tokyo"},
    )
    assert [r.status for r in rows] == ["Deleting", "Error: Proxmox node pve1 does not answer"]
    assert rows[0].region == "jp-east"  # the Node's topology label wins
    assert rows[1].region == "tokyo"  # no Node: from the profile's regions


def test_instance_type_by_label_then_shape() -> None:
    catalog = list(DEFAULT_CATALOG)
    assert match_instance_type(catalog, "L", 4, 8 * GIB).name == "L"  # type: ignore[union-attr]
    assert match_instance_type(catalog, "4c8g", 4, 8 * GIB).name == "M"  # type: ignore[union-attr]
    assert match_instance_type(catalog, None, 2, 4 * GIB).name == "S"  # type: ignore[union-attr]
    assert match_instance_type(catalog, None, 3, 6 * GIB) is None
    rows = build_rows("prod", [vm(1, "odd", maxcpu=3, maxmem=6 * GIB)], [], catalog=catalog)
    assert rows[0].monthly_cost is None


def test_quantities_and_pod_requests() -> None:
    assert parse_quantity("500m") == pytest.approx(0.5)
    assert parse_quantity("8Gi") == 8 * GIB
    assert parse_quantity("1.5") == 1.5
    assert parse_quantity("2k") == 2000
    assert parse_quantity("bogus") == 0.0 and parse_quantity(None) == 0.0
    p = pod("x", "n", "200m", "100Mi")
    p["spec"]["initContainers"] = [{"resources": {"requests": {"cpu": "1", "memory": "10Mi"}}}]
    cpu, mem = pod_requests(p)
    assert cpu == pytest.approx(1.0) and mem == 100 * 2**20  # max(sum of containers, largest init)
