"""The clone → config → resize → start → agent → exec → stop → destroy path over HTTPS with proxmoxer,
including each PVE quirk on the way."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import pytest
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException
from proxmoxer.tools import Tasks

from hks_tui.lab.pve.model import GIB, GuestExecResult, Vm
from tests.integration.lab.test_pve_harness import PveServer, pve_server, wait_exec, wait_task, wait_until

__all__ = ["pve_server"]

SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHksLabKeyForTestsOnly0000000000000000000 admin@hks"


@pytest.fixture(scope="module")
def px(pve_server: PveServer) -> ProxmoxAPI:
    return pve_server.token_client()


def clone(
    px: ProxmoxAPI, newid: int, name: str, node: str = "pve1", template: int = 9000, **extra: Any
) -> str:
    upid: str = px.nodes(node).qemu(template).clone.post(newid=newid, name=name, **extra)
    status = wait_task(px, upid)
    assert status["exitstatus"] == "OK", status
    return upid


def test_clone_upid_and_task_log(px: ProxmoxAPI) -> None:
    upid: str = px.nodes("pve1").qemu(9000).clone.post(newid=201, name="wf-clone")
    fields = upid.split(":")
    assert len(fields) == 9 and fields[0] == "UPID" and upid.endswith(":")
    decoded = Tasks.decode_upid(upid)
    assert decoded["node"] == "pve1" and decoded["type"] == "qmclone"
    assert decoded["id"] == "9000"  # task id = source vmid
    assert decoded["user"] == "hks@pve" and fields[7] == "hks@pve!console"
    status = wait_task(px, upid)
    assert status["status"] == "stopped" and status["exitstatus"] == "OK"
    assert set(status) >= {"upid", "node", "pid", "pstart", "starttime", "type", "id", "user"}
    log = px.nodes("pve1").tasks(upid).log.get(limit=0)
    assert [entry["n"] for entry in log] == list(range(1, len(log) + 1))
    assert log[-1]["t"] == "TASK OK"
    assert "linked clone" in log[0]["t"]
    config = px.nodes("pve1").qemu(201).config.get()
    assert config["name"] == "wf-clone" and "lock" not in config and "template" not in config
    assert config["scsi0"].startswith("local-lvm:vm-201-disk-0,")
    template_mac = px.nodes("pve1").qemu(9000).config.get()["net0"]
    assert config["net0"] != template_mac
    assert px.nodes("pve1").qemu(201).config.get(current=1)["digest"] == config["digest"]


def test_task_log_paging(pve_server: PveServer, px: ProxmoxAPI) -> None:
    upid = clone(px, 202, "wf-full", full=1)
    session = px._store["session"]
    base = pve_server.world.urls["proxmox"] + f"/api2/json/nodes/pve1/tasks/{upid}/log"
    everything = session.get(base, params={"limit": 0}).json()
    assert everything["total"] == len(everything["data"]) >= 6
    assert everything["data"][0]["t"].startswith("create full clone of drive scsi0")
    page = session.get(base, params={"start": 2, "limit": 2}).json()
    assert page["total"] == everything["total"]
    assert page["data"] == everything["data"][2:4]
    assert page["data"][0]["n"] == 3
    default = session.get(base).json()
    assert default["data"] == everything["data"][:50]


def test_lock_clone_while_copying_and_task_stop(pve_server: PveServer, px: ProxmoxAPI) -> None:
    pve = pve_server.world.pve
    pve_server.call(lambda: pve.create_vm("pve2", 290, "big-source", cores=2, memory_mib=2048, disk_gib=1000))
    upid = px.nodes("pve2").qemu(290).clone.post(newid=291, name="big-copy", full=1)
    config = px.nodes("pve2").qemu(291).config.get()
    assert config["lock"] == "clone"
    with pytest.raises(ResourceException) as err:  # a locked VM refuses config changes
        px.nodes("pve2").qemu(291).config.put(cores=4)
    assert err.value.status_code == 500 and err.value.content == "VM is locked (clone)"
    running = px.nodes("pve2").tasks.get(source="active")
    assert upid in [task["upid"] for task in running]
    px.nodes("pve2").tasks(upid).delete()
    status = wait_task(px, upid)
    assert status["exitstatus"] != "OK"
    with pytest.raises(ResourceException):  # the half-made clone was cleaned up
        px.nodes("pve2").qemu(291).config.get()
    assert not [v for v in pve.volumes if v.startswith("local-lvm:vm-291-")]


def test_clone_rejections(px: ProxmoxAPI) -> None:
    node = px.nodes("pve1").qemu(9000)
    with pytest.raises(ResourceException) as err:
        node.clone.post(newid=203, storage="local-lvm")
    assert err.value.content == "parameter 'storage' not allowed for linked clones"
    with pytest.raises(ResourceException) as err:
        node.clone.post(newid=203, target="pve3")
    assert err.value.content == "can't clone VM to node 'pve3' (VM uses local storage)"
    with pytest.raises(ResourceException) as err:
        node.clone.post(newid=9001)
    assert err.value.content == "unable to create VM 9001: config file already exists"
    with pytest.raises(ResourceException) as err:
        node.clone.post(newid=203, tags="not-a-clone-param")
    assert err.value.status_code == 400 and set(err.value.errors) == {"tags"}
    with pytest.raises(ResourceException) as err:
        node.clone.post(newid=42)
    assert err.value.status_code == 400 and set(err.value.errors) == {"newid"}
    with pytest.raises(ResourceException) as err:
        px.nodes("pve2").qemu(9000).clone.post(newid=203)
    assert err.value.content == "Configuration file 'nodes/pve2/qemu-server/9000.conf' does not exist"
    with pytest.raises(ResourceException) as err:
        node.status.start.post()
    assert err.value.content == "you can't start a vm if it's a template"


def test_config_quirks(pve_server: PveServer, px: ProxmoxAPI) -> None:
    clone(px, 210, "wf-config")
    vm = px.nodes("pve1").qemu(210)
    with pytest.raises(ResourceException) as err:
        vm.config.post(sshkeys=SSH_KEY)
    assert err.value.status_code == 400
    assert err.value.content == "Parameter verification failed."
    assert err.value.errors["sshkeys"].startswith("invalid format - invalid urlencoded string")
    with pytest.raises(ResourceException) as err:
        vm.config.put(tags="tenant=a;k3s/role", ipconfig0="ip=10.0.10.300/24", cores=0, bogus=1)
    assert set(err.value.errors) == {"tags", "ipconfig0", "cores", "bogus"}
    assert err.value.errors["cores"] == "value must have a minimum value of 1\n"
    with pytest.raises(ResourceException) as err:
        vm.config.put(memory="8")
    assert "memory" in err.value.errors

    upid = vm.config.post(
        sshkeys=quote(SSH_KEY, safe=""),
        tags="hks-managed;hks-ws-prod",
        ipconfig0="ip=10.0.10.123/24,gw=10.0.10.1",
        ciupgrade=0,
        memory=4096,
        cores=4,
        description="node for prod",
    )
    assert Tasks.decode_upid(upid)["type"] == "qmconfig"
    assert wait_task(px, upid)["exitstatus"] == "OK"
    config = vm.config.get()
    assert config["sshkeys"] == quote(SSH_KEY, safe="")  # stored encoded
    assert config["sshkeys"].startswith("ssh-ed25519%20AAAA")
    assert config["tags"] == "hks-managed;hks-ws-prod"
    assert config["cores"] == 4 and config["memory"] == "4096" and config["ciupgrade"] == 0
    assert config["ipconfig0"] == "ip=10.0.10.123/24,gw=10.0.10.1"
    dump = vm.cloudinit.dump.get(type="user")
    assert SSH_KEY in dump and "package_upgrade: false" in dump

    with pytest.raises(ResourceException) as err:  # stale digest, sync: HTTP error
        vm.config.put(cores=2, digest="0" * 40)
    assert err.value.status_code == 500 and err.value.content.startswith("detected modified configuration")
    upid = vm.config.post(cores=2, digest="0" * 40)  # async: the error is inside the task
    assert wait_task(px, upid)["exitstatus"].startswith("detected modified configuration")
    assert vm.config.put(cores=2, digest=config["digest"]) is None
    assert pve_server.world.pve.vms[210].cores == 2


def test_resize_grow_and_shrink_in_task(pve_server: PveServer, px: ProxmoxAPI) -> None:
    clone(px, 211, "wf-resize")
    vm = px.nodes("pve1").qemu(211)
    upid = vm.resize.put(disk="scsi0", size="+20G")
    assert Tasks.decode_upid(upid)["type"] == "resize"
    assert wait_task(px, upid)["exitstatus"] == "OK"
    grown = int(3.5 * GIB) + 20 * GIB
    assert pve_server.world.pve.volume_size("local-lvm:vm-211-disk-0") == grown
    assert vm.config.get()["scsi0"].endswith("size=" + f"{grown // 1024**2}M")
    upid = vm.resize.put(disk="scsi0", size="30G")  # absolute, grow
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert vm.config.get()["scsi0"].endswith("size=30G")
    upid = vm.resize.put(disk="scsi0", size="10G")  # shrink: HTTP OK, task fails
    status = wait_task(px, upid)
    assert status["exitstatus"] == "shrinking disks is not supported"
    log = px.nodes("pve1").tasks(upid).log.get()
    assert log[-1]["t"] == "TASK ERROR: shrinking disks is not supported"
    with pytest.raises(ResourceException) as err:
        vm.resize.put(disk="scsi0", size="-5G")
    assert err.value.status_code == 400 and "size" in err.value.errors


def test_start_agent_exec_stop_destroy(pve_server: PveServer, px: ProxmoxAPI) -> None:
    pve = pve_server.world.pve
    clone(px, 220, "wf-node")
    vm = px.nodes("pve1").qemu(220)
    upid = vm.config.post(ipconfig0="ip=10.0.10.124/24,gw=10.0.10.1", ciupgrade=0)
    wait_task(px, upid)
    with pytest.raises(ResourceException) as err:
        vm.agent.ping.post()
    assert err.value.status_code == 500 and err.value.content == "VM 220 is not running"

    pve_server.call(setattr, pve, "agent_boot_seconds", 1e9)  # the agent is still booting
    try:
        upid = vm.status.start.post()
        assert Tasks.decode_upid(upid)["type"] == "qmstart"
        assert wait_task(px, upid)["exitstatus"] == "OK"
        assert vm.status.current.get()["status"] == "running"
        with pytest.raises(ResourceException) as err:
            vm.agent.ping.post()
        assert err.value.status_code == 500 and err.value.content == "QEMU guest agent is not running"
        with pytest.raises(ResourceException) as err:
            vm.agent("network-get-interfaces").get()
        assert err.value.content == "QEMU guest agent is not running"
    finally:
        pve_server.call(setattr, pve, "agent_boot_seconds", 20.0)

    def agent_up() -> bool:
        try:
            return vm.agent.ping.post() == {"result": {}}
        except ResourceException:
            return False

    wait_until(agent_up)
    interfaces = vm.agent("network-get-interfaces").get()["result"]
    addresses = [a for i in interfaces for a in i["ip-addresses"] if a["ip-address-type"] == "ipv4"]
    assert {"ip-address": "10.0.10.124", "ip-address-type": "ipv4", "prefix": 24} in addresses

    pid = vm.agent.exec.post(command=["/bin/sh", "-s"], **{"input-data": "hostname\ncat /etc/os-release\n"})[
        "pid"
    ]
    result = wait_exec(vm.agent, pid)
    assert result["exitcode"] == 0 and result["out-data"].startswith("wf-node\n")
    with pytest.raises(ResourceException) as err:  # qemu-ga reports a finished process only once
        vm.agent("exec-status").get(pid=pid)
    assert err.value.content == "Agent error: Invalid parameter 'pid'"
    assert 'VERSION_ID="24.04"' in result["out-data"]
    pid = vm.agent.exec.post(command=["kubectl-does-not-exist", "version"])["pid"]
    result = wait_exec(vm.agent, pid)
    assert result["exitcode"] == 127 and "command not found" in result["err-data"]

    seen: list[tuple[list[str], bytes | None]] = []

    def join_handler(target: Vm, argv: list[str], stdin: bytes | None) -> GuestExecResult | None:
        if target.vmid != 220 or b"K3S_URL" not in (stdin or b""):
            return None
        seen.append((argv, stdin))
        return GuestExecResult(exitcode=0, out="[INFO]  systemd: Starting k3s-agent\n", duration=1e9)

    pve_server.call(pve.exec_handlers.append, join_handler)
    try:
        script = "export K3S_URL=https://127.0.0.1:6443\nexport K3S_TOKEN=secret\ncurl -sfL https://get.k3s.io | sh -\n"
        pid = vm.agent.exec.post(command=["/bin/sh", "-s"], **{"input-data": script})["pid"]
        assert seen == [(["/bin/sh", "-s"], script.encode())]
        assert vm.agent("exec-status").get(pid=pid) == {"exited": 0}  # still running (long duration)
    finally:
        pve_server.call(pve.exec_handlers.remove, join_handler)

    with pytest.raises(ResourceException) as err:
        vm.delete()
    assert err.value.status_code == 500 and err.value.content == "VM 220 is running - destroy failed"
    upid = vm.status.shutdown.post()
    assert wait_task(px, upid)["exitstatus"] == "OK"
    assert vm.status.current.get()["status"] == "stopped"
    with pytest.raises(ResourceException) as err:
        vm.agent("exec-status").get(pid=pid)
    assert err.value.content == "VM 220 is not running"
    with pytest.raises(ResourceException) as err:
        vm.status.shutdown.post()
    assert err.value.content == "VM 220 not running"

    upid = vm.delete(purge=1)
    assert Tasks.decode_upid(upid)["type"] == "qmdestroy"
    assert wait_task(px, upid)["exitstatus"] == "OK"
    with pytest.raises(ResourceException) as err:
        vm.config.get()
    assert err.value.content == "Configuration file 'nodes/pve1/qemu-server/220.conf' does not exist"
    assert not [v for v in pve.volumes if ":vm-220-" in v]
    assert "local-lvm:base-9000-disk-0" in pve.volumes  # the template's base disk stays


def test_destroy_unreferenced_disks(pve_server: PveServer, px: ProxmoxAPI) -> None:
    pve = pve_server.world.pve
    for vmid, flag in ((230, 0), (231, 1)):
        clone(px, vmid, f"wf-destroy-{vmid}")
        volid = (
            px.nodes("pve1")
            .storage("local-lvm")
            .content.post(vmid=vmid, filename=f"vm-{vmid}-disk-7", size="1G")
        )
        assert volid == f"local-lvm:vm-{vmid}-disk-7"
        upid = px.nodes("pve1").qemu(vmid).delete(**{"destroy-unreferenced-disks": flag})
        assert wait_task(px, upid)["exitstatus"] == "OK"
        assert (volid in pve.volumes) is (flag == 0)
