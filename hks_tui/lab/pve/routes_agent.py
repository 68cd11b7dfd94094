"""Guest agent routes under ``/nodes/{node}/qemu/{vmid}/agent`` (see :mod:`hks_tui.lab.pve.agent`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hks_tui.lab.pve.errors import param_error
from hks_tui.lab.pve.params import MISSING, bool_param, int_param, required, vm_arg

if TYPE_CHECKING:
    from hks_tui.lab.pve.app import Ctx, Router

FILE_WRITE_MAX = 61_440


async def agent_index(ctx: Ctx) -> object:
    vm_arg(ctx)
    names = (
        "exec",
        "exec-status",
        "file-read",
        "file-write",
        "get-host-name",
        "get-osinfo",
        "network-get-interfaces",
        "ping",
    )
    return [{"name": name} for name in names]


async def ping(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    ctx.pve.agent.check(vm)
    return {"result": {}}


async def interfaces(ctx: Ctx) -> object:
    return {"result": ctx.pve.agent.network_interfaces(vm_arg(ctx))}


async def osinfo(ctx: Ctx) -> object:
    return {"result": ctx.pve.agent.osinfo(vm_arg(ctx))}


async def host_name(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    ctx.pve.agent.check(vm)
    return {"result": {"host-name": vm.files.get("/etc/hostname", b"").decode().strip() or vm.name}}


async def exec_command(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    command = [c for c in ctx.multi.getall("command", []) if c != ""]
    if not command:
        raise param_error("command", MISSING)
    raw_input = ctx.get("input-data")
    input_data = None if raw_input is None else raw_input.encode()
    return {"pid": ctx.pve.agent.exec(vm, command, input_data)}


async def exec_status(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    required(ctx, "pid")
    pid = int_param(ctx, "pid", minimum=0)
    assert pid is not None
    return ctx.pve.agent.exec_status(vm, pid)


async def file_write(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    path = required(ctx, "file")
    content = ctx.get("content")
    if content is None:
        raise param_error("content", MISSING)
    if len(content) > FILE_WRITE_MAX:
        raise param_error("content", f"value may only be {FILE_WRITE_MAX} characters long")
    ctx.pve.agent.file_write(vm, path, content, bool(bool_param(ctx, "encode", True)))
    return None


async def file_read(ctx: Ctx) -> object:
    vm = vm_arg(ctx)
    return ctx.pve.agent.file_read(vm, required(ctx, "file"))


def register(router: Router) -> None:
    base = "/nodes/{node}/qemu/{vmid}/agent"
    router.add("GET", base, agent_index)
    router.add("POST", base + "/ping", ping)
    router.add("GET", base + "/network-get-interfaces", interfaces)
    router.add("GET", base + "/get-osinfo", osinfo)
    router.add("GET", base + "/get-host-name", host_name)
    router.add("POST", base + "/exec", exec_command, {"command", "input-data"})
    router.add("GET", base + "/exec-status", exec_status, {"pid"})
    router.add("POST", base + "/file-write", file_write, {"file", "content", "encode"})
    router.add("GET", base + "/file-read", file_read, {"file"})
