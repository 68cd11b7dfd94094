"""Power actions (start/reboot/stop), lock handling inside tasks, errors inside clone tasks and offline
nodes, over HTTPS with proxmoxer."""

from __future__ import annotations

import pytest
from proxmoxer.core import ResourceException

from tests.integration.lab.test_pve_harness import PveServer, pve_server, wait_task

__all__ = ["pve_server"]


def test_start_reboot_stop(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    pve = pve_server.world.pve
    assert (
        wait_task(px, px.nodes("pve2").qemu(9001).clone.post(newid=500, name="power"))["exitstatus"] == "OK"
    )
    vm = px.nodes("pve2").qemu(500)
    assert wait_task(px, vm.status.start.post())["exitstatus"] == "OK"
    again = wait_task(px, vm.status.start.post())
    assert again["exitstatus"] == "VM 500 already running"
    first_boot = pve.vms[500].started_at
    assert first_boot is not None
    pve_server.call(pve_server.world.clock.advance, 100.0)
    assert wait_task(px, vm.config.post(cores=4, memory=4096, tags="hks-managed"))["exitstatus"] == "OK"
    assert vm.config.get()["cores"] == 4 and vm.config.get()["tags"] == "hks-managed"  # pending values win
    assert vm.config.get(current=1)["cores"] == 2  # the running VM keeps its CPUs until restarted
    assert vm.config.get(current=1)["tags"] == "hks-managed"  # non-hardware options apply at once
    pending = {row["key"]: row for row in vm.pending.get()}
    assert pending["cores"] == {"key": "cores", "value": 2, "pending": 4}
    assert pending["memory"]["pending"] == "4096" and "pending" not in pending["name"]
    assert vm.status.current.get()["cpus"] == 2 and pve.vms[500].cores == 2
    upid = vm.status.reboot.post()
    assert upid.split(":")[5] == "qmreboot"
    assert wait_task(px, upid)["exitstatus"] == "OK"
    rebooted = pve.vms[500].started_at
    assert rebooted is not None and rebooted > first_boot
    assert vm.status.current.get()["uptime"] < 100
    assert vm.status.current.get()["cpus"] == 4 and pve.vms[500].memory == 4096  # applied by the reboot
    assert not [row for row in vm.pending.get() if "pending" in row]

    pve_server.call(setattr, pve.vms[500], "lock", "backup")
    locked = wait_task(px, vm.status.stop.post())
    assert locked["exitstatus"] == "VM is locked (backup)"
    assert vm.status.current.get()["status"] == "running"
    assert vm.status.current.get()["lock"] == "backup"
    assert wait_task(px, vm.status.stop.post(skiplock=1))["exitstatus"] == "OK"
    assert vm.status.current.get()["status"] == "stopped"
    pve_server.call(setattr, pve.vms[500], "lock", None)
    with pytest.raises(ResourceException) as err:
        vm.status.reboot.post()
    assert err.value.content == "VM 500 not running"
    tasks = px.nodes("pve2").tasks.get(vmid=500, source="all")
    assert {t["type"] for t in tasks} == {"qmconfig", "qmstart", "qmreboot", "qmstop"}  # clone's id is 9001
    recent = px.cluster.tasks.get()
    assert {t["upid"] for t in tasks} <= {t["upid"] for t in recent}
    failed = px.nodes("pve2").tasks.get(vmid=500, errors=1)
    assert {t["status"] for t in failed} == {"VM 500 already running", "VM is locked (backup)"}


def test_error_inside_clone_task(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    upid = px.nodes("pve3").qemu(9002).clone.post(newid=510, name="wrong-storage", full=1, storage="local")
    status = wait_task(px, upid)  # HTTP said OK; the worker fails: `local` holds no disk images
    assert status["exitstatus"] == "storage 'local' does not support content type 'images'"
    with pytest.raises(ResourceException):
        px.nodes("pve3").qemu(510).config.get()
    assert not [v for v in pve_server.world.pve.volumes if "vm-510-" in v]


def test_full_clone_to_shared_storage(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    upid = px.nodes("pve1").qemu(9000).clone.post(newid=520, name="on-nfs", full=1, storage="shared-nfs")
    assert wait_task(px, upid)["exitstatus"] == "OK"
    config = px.nodes("pve1").qemu(520).config.get()
    assert config["scsi0"].startswith("shared-nfs:vm-520-disk-0,")
    assert config["ide2"].startswith("shared-nfs:vm-520-cloudinit,")
    upid = px.nodes("pve1").qemu(520).clone.post(newid=521, name="moved", full=1, target="pve3")
    assert wait_task(px, upid)["exitstatus"] == "OK"  # shared storage: another node is fine
    assert px.nodes("pve3").qemu(521).config.get()["name"] == "moved"
    with pytest.raises(ResourceException) as err:
        px.nodes("pve1").qemu(520).clone.post(newid=522, full=0)
    assert "Linked clone" in err.value.content


def test_offline_node(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    node = pve_server.world.pve.nodes["pve3"]
    pve_server.call(setattr, node, "online", False)
    try:
        with pytest.raises(ResourceException) as err:
            px.nodes("pve3").status.get()
        assert err.value.status_code == 595
        rows = {r["node"]: r for r in px.cluster.resources.get(type="node")}
        assert rows["pve3"]["status"] == "offline" and rows["pve1"]["status"] == "online"
    finally:
        pve_server.call(setattr, node, "online", True)
    with pytest.raises(ResourceException) as err:
        px.nodes("pve9").status.get()
    assert err.value.status_code == 500 and "pve9" in err.value.content


def test_template_with_linked_clones_cannot_be_destroyed(pve_server: PveServer) -> None:
    px = pve_server.token_client()
    assert (
        wait_task(px, px.nodes("pve3").qemu(9002).clone.post(newid=530, name="linked"))["exitstatus"] == "OK"
    )
    status = wait_task(px, px.nodes("pve3").qemu(9002).delete())
    assert (
        status["exitstatus"] == "base volume 'local-lvm:base-9002-disk-0' is still in use by linked cloned VM"
    )
    assert px.nodes("pve3").qemu(9002).config.get()["template"] == 1
    assert wait_task(px, px.nodes("pve3").qemu(530).delete())["exitstatus"] == "OK"
