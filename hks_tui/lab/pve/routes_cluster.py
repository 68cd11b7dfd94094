"""Cluster-level PVE routes: version, auth tickets, nodes, nextid, resources, tasks and storage."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from hks_tui.lab.pve import stats
from hks_tui.lab.pve.app import Ctx, Reply
from hks_tui.lab.pve.auth import COOKIE_NAME
from hks_tui.lab.pve.errors import PveError, param_error
from hks_tui.lab.pve.params import bool_param, int_param, node_arg, required, vmid_value

if TYPE_CHECKING:
    from hks_tui.lab.pve.app import Router
    from hks_tui.lab.pve.model import PveStorage
    from hks_tui.lab.pve.tasks import Task

PVE_VERSION = {"version": "9.1.3", "release": "9.1", "repoid": "e5010dc2"}
SIZE_RE = re.compile(r"^(\d+)([MG]?)$")


async def version(ctx: Ctx) -> object:
    return dict(PVE_VERSION)


async def ticket(ctx: Ctx) -> object:
    username = ctx.get("username") or ""
    password = ctx.get("password") or ""
    if not username or not password:
        raise param_error(
            "username" if not username else "password", "property is missing and it is not optional"
        )
    api = ctx.request.app
    from hks_tui.lab.pve.app import PVE_APP_KEY

    auth = api[PVE_APP_KEY].auth
    user = auth.login(username, password, ctx.get("realm"))
    if user is None:
        await ctx.world.clock.sleep(api[PVE_APP_KEY].unauthorized_delay)
        raise PveError(401, "authentication failure")
    data = auth.issue(user)
    return Reply(data, cookies={COOKIE_NAME: str(data["ticket"])})


async def nodes(ctx: Ctx) -> object:
    rows = []
    for name, info in ctx.pve.nodes.items():
        usage = stats.node_usage(ctx.pve, name)
        rows.append(
            {
                "id": f"node/{name}",
                "type": "node",
                "node": name,
                "status": "online" if info.online else "offline",
                "level": "",
                "ssl_fingerprint": "5A:"
                + ":".join(f"{(len(name) * 17 + i * 31) % 256:02X}" for i in range(31)),
                **usage,
            }
        )
    return rows


async def node_status(ctx: Ctx) -> object:
    node = node_arg(ctx)
    usage = stats.node_usage(ctx.pve, node.name)
    mem, maxmem = int(usage["mem"]), int(usage["maxmem"])
    load = round(float(usage["cpu"]) * node.cpus, 2)
    return {
        "cpu": usage["cpu"],
        "wait": 0.001,
        "idle": 0,
        "uptime": usage["uptime"],
        "loadavg": [f"{load:.2f}", f"{load * 0.9:.2f}", f"{load * 0.8:.2f}"],
        "cpuinfo": {
            "cpus": node.cpus,
            "cores": node.cpus // 2,
            "sockets": 1,
            "model": "AMD EPYC 7313P 16-Core Processor",
            "mhz": "3000.000",
            "hvm": "1",
            "user_hz": 100,
        },
        "memory": {"total": maxmem, "used": mem, "free": maxmem - mem, "available": maxmem - mem},
        "swap": {"total": 8 * 1024**3, "used": 0, "free": 8 * 1024**3},
        "rootfs": {
            "total": usage["maxdisk"],
            "used": usage["disk"],
            "avail": int(usage["maxdisk"]) - int(usage["disk"]),
            "free": int(usage["maxdisk"]) - int(usage["disk"]),
        },
        "kversion": "Linux 6.17.2-1-pve #1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1",
        "pveversion": "pve-manager/9.1.3/e5010dc2",
        "current-kernel": {"sysname": "Linux", "release": "6.17.2-1-pve", "machine": "x86_64"},
        "boot-info": {"mode": "efi", "secureboot": 0},
    }


async def nextid(ctx: Ctx) -> object:
    value = ctx.get("vmid")
    if value is not None and value != "":
        vmid = vmid_value("vmid", value)
        if vmid in ctx.pve.vms:
            raise param_error("vmid", f"VM {vmid} already exists")
        return str(vmid)
    return str(ctx.pve.next_free_vmid(100))


async def resources(ctx: Ctx) -> object:
    kind = ctx.get("type")
    if kind is not None and kind not in ("vm", "storage", "node", "sdn"):
        raise param_error(
            "type", f"value '{kind}' does not have a value in the enumeration 'vm, storage, node, sdn'"
        )
    rows: list[dict[str, object]] = []
    if kind in (None, "node"):
        rows.extend(stats.resource_node(ctx.pve, name) for name in ctx.pve.nodes)
    if kind in (None, "vm"):
        rows.extend(stats.resource_vm(ctx.pve, vm) for _, vm in sorted(ctx.pve.vms.items()))
    if kind in (None, "storage"):
        for store in ctx.pve.storages.values():
            rows.extend(stats.resource_storage(ctx.pve, node, store) for node in store.nodes)
    return rows


async def cluster_status(ctx: Ctx) -> object:
    rows: list[dict[str, object]] = [
        {
            "id": "cluster",
            "type": "cluster",
            "name": ctx.pve.cluster_name,
            "nodes": len(ctx.pve.nodes),
            "quorate": 1,
            "version": 3,
        }
    ]
    for index, (name, info) in enumerate(ctx.pve.nodes.items(), start=1):
        rows.append(
            {
                "id": f"node/{name}",
                "type": "node",
                "name": name,
                "nodeid": index,
                "online": 1 if info.online else 0,
                "ip": f"192.168.100.{10 + index}",
                "local": 1 if index == 1 else 0,
                "level": "",
            }
        )
    return rows


# -- tasks ----------------------------------------------------------------------------------------------
def _task(ctx: Ctx) -> Task:
    node = node_arg(ctx)
    return ctx.pve.tasks.get(node.name, ctx.args["upid"])


async def task_status(ctx: Ctx) -> object:
    return _task(ctx).status_dict()


async def task_log(ctx: Ctx) -> object:
    task = _task(ctx)
    start = int_param(ctx, "start", 0, minimum=0) or 0
    limit = int_param(ctx, "limit", 50, minimum=0)
    lines = task.log
    total = len(lines)
    if total == 0:
        return Reply([{"n": 1, "t": "no content"}], {"total": 1})
    window = lines[start:] if not limit else lines[start : start + limit]
    return Reply([{"n": start + i + 1, "t": text} for i, text in enumerate(window)], {"total": total})


async def task_stop(ctx: Ctx) -> object:
    node = node_arg(ctx)
    ctx.pve.tasks.stop(node.name, ctx.args["upid"])
    return None


async def task_list(ctx: Ctx) -> object:
    node = node_arg(ctx)
    source = ctx.get("source") or "archive"
    if source not in ("archive", "active", "all"):
        raise param_error(
            "source", f"value '{source}' does not have a value in the enumeration 'archive, active, all'"
        )
    vmid = ctx.get("vmid")
    typefilter = ctx.get("typefilter")
    errors_only = bool_param(ctx, "errors", False)
    start = int_param(ctx, "start", 0, minimum=0) or 0
    limit = int_param(ctx, "limit", 50, minimum=0)
    selected = []
    for task in sorted(ctx.pve.tasks.tasks.values(), key=lambda t: (t.starttime, t.pid), reverse=True):
        if task.node != node.name:
            continue
        if source == "archive" and task.status == "running":
            continue
        if source == "active" and task.status != "running":
            continue
        if vmid and task.id != vmid:
            continue
        if typefilter and task.type != typefilter:
            continue
        if errors_only and not task.failed:
            continue
        selected.append(task.list_dict())
    window = selected[start:] if not limit else selected[start : start + limit]
    return Reply(window, {"total": len(selected)})


async def cluster_tasks(ctx: Ctx) -> object:
    """The cluster's recent tasks (newest first, at most 50 finished plus all running ones)."""
    ordered = sorted(ctx.pve.tasks.tasks.values(), key=lambda t: (t.starttime, t.pid), reverse=True)
    running = [t.list_dict() for t in ordered if t.status == "running"]
    finished = [t.list_dict() for t in ordered if t.status != "running"][:50]
    return running + finished


# -- storage --------------------------------------------------------------------------------------------
def _storage(ctx: Ctx) -> tuple[str, PveStorage]:
    node = node_arg(ctx)
    return node.name, ctx.pve.storage_on(node.name, ctx.args["storage"])


async def storage_list(ctx: Ctx) -> object:
    node = node_arg(ctx)
    content = ctx.get("content")
    rows = []
    for store in ctx.pve.storages.values():
        if node.name not in store.nodes:
            continue
        if content and content not in store.content:
            continue
        rows.append({"storage": store.storage, **stats.storage_status(ctx.pve, node.name, store)})
    return rows


async def storage_status(ctx: Ctx) -> object:
    node, store = _storage(ctx)
    return stats.storage_status(ctx.pve, node, store)


async def content_list(ctx: Ctx) -> object:
    node, store = _storage(ctx)
    content = ctx.get("content")
    vmid = ctx.get("vmid")
    rows = []
    if content in (None, "", "images"):
        for volume in sorted(ctx.pve.volumes.values(), key=lambda v: v.volid):
            if volume.storage != store.storage or (not store.shared and volume.node != node):
                continue
            if vmid and str(volume.vmid) != vmid:
                continue
            rows.append(
                {
                    "volid": volume.volid,
                    "format": volume.format,
                    "size": volume.size,
                    "vmid": volume.vmid,
                    "content": "images",
                    "ctime": volume.ctime,
                }
            )
    return rows


def parse_alloc_size(value: str) -> int:
    """``size`` of a storage allocation: ``\\d+[MG]?``, KiB when there is no suffix."""
    match = SIZE_RE.match(value)
    if match is None:
        raise param_error("size", f"value does not match the regex pattern - got '{value}'")
    number = int(match.group(1))
    return number * {"": 1024, "M": 1024**2, "G": 1024**3}[match.group(2)]


async def content_allocate(ctx: Ctx) -> object:
    node, store = _storage(ctx)
    vmid = vmid_value("vmid", ctx.get("vmid"))
    filename = required(ctx, "filename")
    size = parse_alloc_size(required(ctx, "size"))
    fmt = ctx.get("format") or "raw"
    if fmt not in ("raw", "qcow2", "subvol", "vmdk"):
        raise param_error(
            "format", f"value '{fmt}' does not have a value in the enumeration 'raw, qcow2, subvol, vmdk'"
        )
    if store.type == "lvmthin" and fmt != "raw":
        raise PveError(500, f"unsupported format '{fmt}'")
    volid = ctx.pve.allocate_volume(node, store.storage, filename, size, vmid)
    ctx.pve.volumes[volid].format = fmt
    return volid


async def content_delete(ctx: Ctx) -> object:
    node, store = _storage(ctx)
    volume = ctx.args["volume"]
    volid = volume if ":" in volume else f"{store.storage}:{volume}"
    found = ctx.pve.find_volume(volid)
    if found is None or found.storage != store.storage or (found.node not in (None, node)):
        raise PveError(500, f"no such volume '{volid}'")

    async def worker(task: Task) -> None:
        await ctx.world.clock.sleep(0.5)
        users = ctx.pve.volume_users(volid)
        if users:
            raise PveError(500, f"volume '{volid}' is still in use by VM {users[0]}")
        if ctx.pve.find_volume(volid) is None:
            raise PveError(500, f"no such volume '{volid}'")
        ctx.pve.free_volume(volid)
        task.write(f'  Logical volume "{found.filename}" successfully removed.')

    return ctx.pve.tasks.start(node, "imgdel", "", ctx.user, worker).upid


async def content_info(ctx: Ctx) -> object:
    node, store = _storage(ctx)
    volume = ctx.args["volume"]
    volid = volume if ":" in volume else f"{store.storage}:{volume}"
    found = ctx.pve.find_volume(volid)
    if found is None or found.storage != store.storage or (found.node not in (None, node)):
        raise PveError(500, f"no such volume '{volid}'")
    return {
        "path": f"/dev/pve/{found.filename}",
        "size": found.size,
        "used": found.size // 10,
        "format": found.format,
    }


def register(router: Router) -> None:
    router.add("GET", "/version", version)
    router.add("POST", "/access/ticket", ticket)
    router.add("GET", "/nodes", nodes)
    router.add("GET", "/nodes/{node}/status", node_status)
    router.add("GET", "/cluster/nextid", nextid, {"vmid"})
    router.add("GET", "/cluster/resources", resources, {"type"})
    router.add("GET", "/cluster/tasks", cluster_tasks)
    router.add("GET", "/cluster/status", cluster_status)
    router.add("GET", "/nodes/{node}/tasks", task_list)
    router.add("GET", "/nodes/{node}/tasks/{upid}/status", task_status)
    router.add("GET", "/nodes/{node}/tasks/{upid}/log", task_log, {"start", "limit", "download"})
    router.add("DELETE", "/nodes/{node}/tasks/{upid}", task_stop)
    router.add("GET", "/nodes/{node}/storage", storage_list)
    router.add("GET", "/nodes/{node}/storage/{storage}/status", storage_status)
    router.add("GET", "/nodes/{node}/storage/{storage}/content", content_list)
    router.add(
        "POST",
        "/nodes/{node}/storage/{storage}/content",
        content_allocate,
        {"vmid", "filename", "size", "format"},
    )
    router.add("GET", "/nodes/{node}/storage/{storage}/content/{volume}", content_info)
    router.add("DELETE", "/nodes/{node}/storage/{storage}/content/{volume}", content_delete)
