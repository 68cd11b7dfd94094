"""VM power routes: ``status/current`` and ``status/start|stop|shutdown|reboot`` (workers on the lab clock).

Lab durations: start 2 s, stop 0.5 s, shutdown 3 s (ACPI), reboot 4 s. The guest agent answers
``AGENT_BOOT_SECONDS`` after the start task finished.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hks_tui.lab.pve import stats
from hks_tui.lab.pve.errors import PveError
from hks_tui.lab.pve.params import bool_param, check_lock, vm_arg

if TYPE_CHECKING:
    from hks_tui.lab.pve.app import Ctx, Router
    from hks_tui.lab.pve.tasks import Task

START_SECONDS = 2.0
STOP_SECONDS = 0.5
SHUTDOWN_SECONDS = 3.0
REBOOT_SECONDS = 4.0
START_PARAMS = {
    "timeout", "skiplock", "machine", "migratedfrom", "migration_network", "migration_type", "stateuri",
    "targetstorage", "force-cpu",
}  # fmt: skip
STOP_PARAMS = {"timeout", "keepActive", "skiplock", "migratedfrom", "overrule-shutdown"}
SHUTDOWN_PARAMS = {"timeout", "forceStop", "keepActive", "skiplock"}


async def status_index(ctx: Ctx) -> object:
    vm_arg(ctx)
    return [
        {"subdir": name}
        for name in ("current", "start", "stop", "reset", "shutdown", "reboot", "suspend", "resume")
    ]


async def status_current(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    usage = stats.vm_usage(ctx.pve, vm)
    running = vm.status == "running"
    data: dict[str, object] = {
        "vmid": vm.vmid,
        "name": vm.name,
        "status": vm.status,
        "qmpstatus": vm.status,
        **usage,
        "memhost": usage["mem"],
        "agent": 1 if vm.agent_enabled else 0,
        "ha": {"managed": 0},
        "pressurecpusome": 0.0,
        "pressurecpufull": 0.0,
        "pressureiosome": 0.0,
        "pressureiofull": 0.0,
        "pressurememorysome": 0.0,
        "pressurememoryfull": 0.0,
        "serial": 1,
    }
    data.pop("disk")  # PVE reports no guest disk usage for QEMU VMs here
    if running:
        data["pid"] = 10_000 + vm.vmid
        data["running-qemu"] = "9.2.0"
        data["running-machine"] = "pc-i440fx-9.2+pve1"
    if vm.tags:
        data["tags"] = ";".join(vm.tags)
    if vm.lock:
        data["lock"] = vm.lock
    if vm.template:
        data["template"] = 1
    return data


async def start(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    if vm.template:
        raise PveError(500, "you can't start a vm if it's a template")
    skiplock = bool_param(ctx, "skiplock", False)

    async def worker(task: Task) -> None:
        check_lock(vm, skiplock)
        if vm.status == "running":
            raise PveError(500, f"VM {vm.vmid} already running")
        task.write("generating cloud-init ISO")
        await ctx.world.clock.sleep(START_SECONDS)
        if ctx.pve.vms.get(vm.vmid) is not vm:
            raise PveError(
                500, f"Configuration file 'nodes/{vm.node}/qemu-server/{vm.vmid}.conf' does not exist"
            )
        ctx.pve.power_on(vm)

    return ctx.pve.tasks.start(vm.node, "qmstart", str(vm.vmid), ctx.user, worker).upid


async def stop(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    skiplock = bool_param(ctx, "skiplock", False)

    async def worker(task: Task) -> None:
        check_lock(vm, skiplock)
        await ctx.world.clock.sleep(STOP_SECONDS)
        if vm.status == "running":
            ctx.pve.power_off(vm)

    return ctx.pve.tasks.start(vm.node, "qmstop", str(vm.vmid), ctx.user, worker).upid


async def shutdown(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    if vm.status != "running":
        raise PveError(500, f"VM {vm.vmid} not running")
    skiplock = bool_param(ctx, "skiplock", False)

    async def worker(task: Task) -> None:
        check_lock(vm, skiplock)
        await ctx.world.clock.sleep(SHUTDOWN_SECONDS)
        if vm.status == "running":
            ctx.pve.power_off(vm)

    return ctx.pve.tasks.start(vm.node, "qmshutdown", str(vm.vmid), ctx.user, worker).upid


async def reboot(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    if vm.status != "running":
        raise PveError(500, f"VM {vm.vmid} not running")

    async def worker(task: Task) -> None:
        check_lock(vm, False)
        ctx.pve.power_off(vm)
        await ctx.world.clock.sleep(REBOOT_SECONDS)
        ctx.pve.power_on(vm)

    return ctx.pve.tasks.start(vm.node, "qmreboot", str(vm.vmid), ctx.user, worker).upid


def register(router: Router) -> None:
    router.add("GET", "/nodes/{node}/qemu/{vmid}/status", status_index)
    router.add("GET", "/nodes/{node}/qemu/{vmid}/status/current", status_current)
    router.add("POST", "/nodes/{node}/qemu/{vmid}/status/start", start, START_PARAMS)
    router.add("POST", "/nodes/{node}/qemu/{vmid}/status/stop", stop, STOP_PARAMS)
    router.add("POST", "/nodes/{node}/qemu/{vmid}/status/shutdown", shutdown, SHUTDOWN_PARAMS)
    router.add("POST", "/nodes/{node}/qemu/{vmid}/status/reboot", reboot, {"timeout"})
