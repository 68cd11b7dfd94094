"""Parameter helpers shared by the PVE route modules (PVE's wording for every failure)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hks_tui.lab.pve.configspec import Invalid, parse_bool, parse_int
from hks_tui.lab.pve.errors import PveError, param_error

if TYPE_CHECKING:
    from hks_tui.lab.pve.app import Ctx
    from hks_tui.lab.pve.model import PveNode, Vm

MISSING = "property is missing and it is not optional"
VMID_MIN, VMID_MAX = 100, 999_999_999


def node_arg(ctx: Ctx, name: str = "node") -> PveNode:
    value = ctx.args.get(name) or ctx.get(name) or ""
    found = ctx.pve.nodes.get(value)
    if found is None:
        raise PveError(500, f"hostname lookup '{value}' failed - failed to get address info for: {value}")
    if not found.online:
        raise PveError(595, "Errors during connection establishment, proxy handler - No route to host")
    return found


def vmid_value(name: str, value: str | None) -> int:
    if value is None or value == "":
        raise param_error(name, MISSING)
    if not re.fullmatch(r"\d+", value):
        raise param_error(name, "invalid format - value does not look like a valid VM ID")
    number = int(value)
    if number < VMID_MIN or number > VMID_MAX:
        raise param_error(name, "invalid format - value does not look like a valid VM ID")
    return number


def vm_arg(ctx: Ctx) -> Vm:
    """The VM of ``/nodes/{node}/qemu/{vmid}`` (500 if its config is not on that node)."""
    node = node_arg(ctx)
    vmid = vmid_value("vmid", ctx.args.get("vmid"))
    return ctx.pve.get_vm(vmid, node.name)


def required(ctx: Ctx, name: str) -> str:
    value = ctx.get(name)
    if value is None or value == "":
        raise param_error(name, MISSING)
    return value


def bool_param(ctx: Ctx, name: str, default: bool | None = None) -> bool | None:
    value = ctx.get(name)
    if value is None or value == "":
        return default
    try:
        return bool(parse_bool(value))
    except Invalid as exc:
        raise param_error(name, str(exc)) from None


def int_param(
    ctx: Ctx, name: str, default: int | None = None, minimum: int | None = None, maximum: int | None = None
) -> int | None:
    value = ctx.get(name)
    if value is None or value == "":
        return default
    try:
        return parse_int(value, minimum, maximum)
    except Invalid as exc:
        raise param_error(name, str(exc)) from None


def check_lock(vm: Vm, skiplock: bool | None = False) -> None:
    if vm.lock and not skiplock:
        raise PveError(500, f"VM is locked ({vm.lock})")
