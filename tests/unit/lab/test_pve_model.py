"""PveCluster model, infrastructure, config verification, tasks and the guest agent (no HTTP)."""

from __future__ import annotations

import asyncio

import pytest

from hks_tui.lab.clock import LabClock
from hks_tui.lab.pve.agent import run_builtin
from hks_tui.lab.pve.configspec import verify_config_params
from hks_tui.lab.pve.errors import ParamError, PveError, TaskError
from hks_tui.lab.pve.infra import TEMPLATE_NAME, build_infrastructure
from hks_tui.lab.pve.model import GIB, GuestExecResult, PveCluster, Vm, format_size
from hks_tui.lab.pve.tasks import Task


@pytest.fixture
def pve() -> PveCluster:
    return build_infrastructure(LabClock(time_scale=1000.0))


def test_infrastructure(pve: PveCluster) -> None:
    assert list(pve.nodes) == ["pve1", "pve2", "pve3"]
    assert {pve.region_of(n) for n in pve.nodes} == {"jp-east", "jp-west"}
    assert pve.region_of("pve3") == "jp-west"
    assert set(pve.storages) == {"local", "local-lvm", "shared-nfs"}
    assert pve.storages["shared-nfs"].shared and not pve.storages["local-lvm"].shared
    assert sorted(pve.vms) == [9000, 9001, 9002]
    for node, vmid in (("pve1", 9000), ("pve2", 9001), ("pve3", 9002)):
        vm = pve.vms[vmid]
        assert vm.node == node and vm.name == TEMPLATE_NAME and vm.template
        assert vm.config["agent"] == "1" and vm.config["template"] == 1 and vm.agent_enabled
        assert vm.status == "stopped"


def test_create_vm_and_views(pve: PveCluster) -> None:
    vm = pve.create_vm(
        "pve2",
        120,
        "node-a",
        cores=4,
        memory_mib=8192,
        disk_gib=32,
        tags=("hks-managed", "hks-ws-prod"),
        running=True,
    )
    assert (vm.cores, vm.memory, vm.tags, vm.template, vm.lock) == (
        4,
        8192,
        ["hks-managed", "hks-ws-prod"],
        False,
        None,
    )
    assert vm.config["tags"] == "hks-managed;hks-ws-prod" and vm.config["memory"] == "8192"
    assert vm.config["scsi0"] == "local-lvm:vm-120-disk-0,iothread=1,size=32G"
    assert pve.agent_ready(vm)  # seeded running VMs booted long ago
    assert pve.vm_ip(vm) == "10.10.0.130"
    vm.memory = 4096
    vm.lock = "backup"
    vm.tags = []
    assert vm.config["memory"] == "4096" and vm.config["lock"] == "backup" and "tags" not in vm.config
    vm.config["memory"] = "current=2048"
    assert vm.memory == 2048
    with pytest.raises(PveError, match="config file already exists"):
        pve.create_vm("pve2", 120, "dup", cores=1, memory_mib=512, disk_gib=1)
    static = pve.create_vm(
        "pve3", 121, "node-b", cores=1, memory_mib=512, disk_gib=1, ipconfig0="ip=10.0.9.5/24"
    )
    assert pve.vm_ip(static) is None  # stopped
    pve.power_on(static)
    assert pve.vm_ip(static) == "10.0.9.5"
    west = pve.create_vm("pve3", 122, "node-c", cores=1, memory_mib=512, disk_gib=1, running=True)
    assert pve.vm_ip(west) == "10.20.0.132"


def test_agent_ready_follows_lab_clock(pve: PveCluster) -> None:
    vm = pve.create_vm("pve1", 130, "boot", cores=1, memory_mib=512, disk_gib=1)
    assert not pve.agent_ready(vm)
    pve.agent_boot_seconds = 1e6
    pve.power_on(vm)
    assert not pve.agent_ready(vm)
    pve.clock.advance(1e6)
    assert pve.agent_ready(vm)
    vm.config["agent"] = "enabled=0"
    assert not pve.agent_ready(vm)
    vm.config["agent"] = "1"
    pve.power_off(vm)
    assert not pve.agent_ready(vm)


def test_volumes(pve: PveCluster) -> None:
    vm = pve.create_vm("pve1", 140, "disks", cores=1, memory_mib=512, disk_gib=8)
    volid = pve.allocate_volume("pve1", "local-lvm", "vm-9999-pvc-abc", 10 * GIB, 9999)
    assert volid == "local-lvm:vm-9999-pvc-abc" and pve.volume_size(volid) == 10 * GIB
    found = pve.find_volume(volid)
    assert found is not None and found.node == "pve1" and found.vmid == 9999
    with pytest.raises(PveError, match="illegal name"):
        pve.allocate_volume("pve1", "local-lvm", "vm-1-pvc-abc", GIB, 9999)
    with pytest.raises(PveError, match="already exists"):
        pve.allocate_volume("pve1", "local-lvm", "vm-9999-pvc-abc", GIB, 9999)
    with pytest.raises(PveError, match="does not support content type"):
        pve.allocate_volume("pve1", "local", "vm-9999-iso", GIB, 9999)
    slot = pve.attach_volume(140, volid)
    assert slot == "scsi1" and vm.config[slot] == f"{volid},backup=0,iothread=1,size=10G"
    assert pve.attach_volume(140, volid) == "scsi1"  # idempotent
    assert pve.volume_users(volid) == [140]
    pve.resize_volume(volid, 20 * GIB)
    assert str(vm.config[slot]).endswith("size=20G")
    with pytest.raises(PveError, match="shrinking disks is not supported"):
        pve.resize_volume(volid, GIB)
    other = pve.create_vm("pve2", 141, "elsewhere", cores=1, memory_mib=512, disk_gib=1)
    with pytest.raises(PveError, match="is on node 'pve1'"):
        pve.attach_volume(other.vmid, volid)
    shared = pve.allocate_volume("pve2", "shared-nfs", "vm-9999-pvc-shared", GIB, 9999)
    assert pve.attach_volume(140, shared) == "scsi2"  # shared storage: any node
    pve.detach_volume(140, volid)
    assert "scsi1" not in vm.config
    with pytest.raises(PveError):
        pve.detach_volume(140, volid)
    used = pve.storage_used("pve1", "local-lvm")
    pve.free_volume(volid)
    assert pve.find_volume(volid) is None
    assert pve.storage_used("pve1", "local-lvm") == used - 20 * GIB
    with pytest.raises(PveError):
        pve.free_volume(volid)


def test_format_size() -> None:
    assert [format_size(n) for n in (32 * GIB, int(3.5 * GIB), 4 * 1024**2, 1024**4, 1536, 1000)] == [
        "32G", "3584M", "4M", "1T", "1536", "1000",
    ]  # fmt: skip


def test_config_verification() -> None:
    ok = verify_config_params({"cores": "4", "memory": "current=4096", "ciupgrade": "no", "tags": "a,b c;d"})
    assert ok == {"cores": 4, "memory": "current=4096", "ciupgrade": 0, "tags": "a;b;c;d"}
    assert verify_config_params({"sshkeys": "ssh-ed25519%20AAAA%0Assh-rsa%20BBB"})
    assert verify_config_params({"ipconfig31": "ip=dhcp", "ipconfig0": "ip=10.0.0.2/24,gw=10.0.0.1,ip6=auto"})
    with pytest.raises(ParamError) as err:
        verify_config_params(
            {
                "sshkeys": "ssh-ed25519 AAAA",
                "tags": "tenant=a",
                "ipconfig0": "ip=10.0.0.2",
                "ipconfig32": "ip=dhcp",
                "ciupgrade": "maybe",
                "name": "bad_name",
                "memory": "8",
                "citype": "windows",
            }
        )
    errors = err.value.errors or {}
    assert set(errors) == {
        "sshkeys",
        "tags",
        "ipconfig0",
        "ipconfig32",
        "ciupgrade",
        "name",
        "memory",
        "citype",
    }
    assert errors["ciupgrade"] == "type check ('boolean') failed - got 'maybe'"
    assert errors["ipconfig32"].startswith("property is not defined in schema")


def test_builtin_guest_commands() -> None:
    vm = Vm(vmid=150, node="pve1", config={"name": "guest"}, files={"/etc/os-release": b"ID=ubuntu\n"})
    assert run_builtin(vm, ["hostname"], None).out == "guest\n"
    assert run_builtin(vm, ["true"], None).exitcode == 0
    assert run_builtin(vm, ["cat", "/etc/os-release"], None).out == "ID=ubuntu\n"
    assert run_builtin(vm, ["cat", "/nope"], None).exitcode == 1
    assert run_builtin(vm, ["uname", "-a"], None).out.startswith("Linux guest ")
    missing = run_builtin(vm, ["k3s", "agent"], None)
    assert missing.exitcode == 127 and "command not found" in missing.err
    script = run_builtin(vm, ["/bin/sh", "-s"], b"set -eu\n# comment\necho hi\nhostname\nfalse\necho never\n")
    assert (script.exitcode, script.out) == (1, "hi\nguest\n")
    inline = run_builtin(vm, ["sh", "-c", "echo a\nnope"], None)
    assert inline.exitcode == 127 and inline.err == "sh: 2: nope: not found\n"
    assert run_builtin(vm, ["sleep", "7"], None).duration == 7.0


def test_exec_handlers_first_non_none_wins(pve: PveCluster) -> None:
    vm = pve.create_vm("pve1", 160, "exec", cores=1, memory_mib=512, disk_gib=1, running=True)
    calls: list[str] = []

    def skip(target: Vm, argv: list[str], stdin: bytes | None) -> GuestExecResult | None:
        calls.append("skip")
        return None

    def join(target: Vm, argv: list[str], stdin: bytes | None) -> GuestExecResult | None:
        calls.append("join")
        return GuestExecResult(exitcode=3, err="bad token\n", duration=5.0)

    def broken(target: Vm, argv: list[str], stdin: bytes | None) -> GuestExecResult | None:
        raise RuntimeError("boom")

    pve.exec_handlers.extend([skip, join, broken])
    pid = pve.agent.exec(vm, ["/bin/sh", "-s"], b"k3s install")
    assert calls == ["skip", "join"]
    assert pve.agent.exec_status(vm, pid) == {"exited": 0}
    pve.clock.advance(5.0)
    assert pve.agent.exec_status(vm, pid) == {"exited": 1, "exitcode": 3, "err-data": "bad token\n"}
    with pytest.raises(PveError, match="Invalid parameter 'pid'"):  # reported once, then reaped
        pve.agent.exec_status(vm, pid)
    pve.exec_handlers[:] = [broken]
    broken_pid = pve.agent.exec(vm, ["true"], None)
    pve.clock.advance(1.0)
    failed = pve.agent.exec_status(vm, broken_pid)
    assert failed["exitcode"] == 1 and "internal error: boom" in str(failed["err-data"])
    with pytest.raises(PveError, match="Invalid parameter 'pid'"):
        pve.agent.exec_status(vm, 999_999)
    pid = pve.agent.exec(vm, ["sleep", "100"], None)
    pve.power_off(vm)
    pve.power_on(vm)
    pve.clock.advance(60.0)
    with pytest.raises(PveError, match="Invalid parameter 'pid'"):  # a reboot killed the guest processes
        pve.agent.exec_status(vm, pid)


async def test_task_registry_outcomes() -> None:
    pve = build_infrastructure(LabClock(time_scale=1000.0))

    async def ok(task: Task) -> None:
        task.write("working")

    async def warns(task: Task) -> None:
        task.warn("careful")

    async def fails(task: Task) -> None:
        raise TaskError("it broke")

    async def forever(task: Task) -> None:
        await asyncio.Event().wait()

    results = {}
    for name, worker in (("ok", ok), ("warns", warns), ("fails", fails)):
        task = pve.tasks.start("pve1", "test", name, "root@pam", worker)
        results[name] = await pve.tasks.wait(task.upid)
    assert results["ok"].exitstatus == "OK" and results["ok"].log == ["working", "TASK OK"]
    assert results["warns"].exitstatus == "WARNINGS: 1" and not results["warns"].failed
    assert results["fails"].exitstatus == "it broke" and results["fails"].failed
    assert results["fails"].log[-1] == "TASK ERROR: it broke"
    endless = pve.tasks.start("pve1", "test", "", "root@pam", forever)
    assert endless.upid.split(":")[6] == "" and endless.status == "running"
    pve.tasks.stop("pve1", endless.upid)
    stopped = await pve.tasks.wait(endless.upid)
    assert stopped.status == "stopped" and stopped.failed
    with pytest.raises(PveError):
        pve.tasks.get("pve2", endless.upid)
