"""The lab's control API (plain HTTP on loopback, JSON in and out).

Routes (all under ``/control``)::

    GET    /control                   world summary (same as /control/world)
    GET    /control/world             clock, PVE nodes/VMs, clusters with object counts, workspaces
    GET    /control/faults            {"faults": [rule, ...]}
    POST   /control/faults            body: a rule object, {"spec": "pve:POST:/clone:error=500"},
                                      or {"faults": [rule-or-spec, ...]} → 201 {"faults": [added...]}
    DELETE /control/faults            remove every rule → {"removed": n}
    DELETE /control/faults/{id}       remove one rule (404 if unknown)
    GET    /control/requests          counts of recorded requests; filters: api (pattern), method,
                                      mutating (true/false), since (sequence number), path (regex);
                                      records=N also returns the last N matching records
    POST   /control/clock/advance     body {"seconds": 60} → the new lab time

Errors are ``{"error": "..."}`` with status 400/404.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

from aiohttp import web

from hks_tui.lab.faults import FaultRule, FaultSpecError, parse_fault_spec

if TYPE_CHECKING:
    from hks_tui.lab.world import LabWorld

WORLD_KEY: web.AppKey[LabWorld] = web.AppKey("world")
_TRUE = {"1", "t", "T", "true", "TRUE", "True"}
_FALSE = {"0", "f", "F", "false", "FALSE", "False"}
_COUNTED = (
    "namespaces",
    "nodes",
    "pods",
    "deployments",
    "statefulsets",
    "persistentvolumeclaims",
    "cronjobs",
)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _json_body(request: web.Request) -> Any:
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise web.HTTPBadRequest(
            text=json.dumps({"error": f"invalid JSON body: {exc}"}), content_type="application/json"
        ) from exc


def world_summary(world: LabWorld) -> dict[str, Any]:
    clock = world.clock
    clusters: dict[str, Any] = {}
    for name, cluster in world.clusters.items():
        counts = {res: sum(1 for _ in cluster.store.iter_objects(res)) for res in _COUNTED}
        clusters[name] = {"kind": cluster.kind, "workspace": cluster.workspace, "objects": counts}
    vms = list(world.pve.vms.values())
    return {
        "clock": {
            "now": clock.now(),
            "iso": clock.iso(),
            "elapsed": clock.elapsed(),
            "time_scale": clock.time_scale,
        },
        "pve": {
            "nodes": {
                n.name: {"region": n.region, "online": n.online, "cpus": n.cpus}
                for n in world.pve.nodes.values()
            },
            "vms": len([vm for vm in vms if not vm.template]),
            "templates": len([vm for vm in vms if vm.template]),
            "running": len([vm for vm in vms if vm.status == "running"]),
        },
        "clusters": clusters,
        "workspaces": {
            ws.name: {"plan": ws.plan, "vcluster": ws.vcluster, "host_namespace": ws.host_namespace}
            for ws in world.workspaces.values()
        },
        "urls": dict(world.urls),
        "faults": len(world.faults.rules),
        "requests": world.faults.last_seq,
    }


def _rules_from_body(body: Any) -> list[FaultRule]:
    items = body.get("faults") if isinstance(body, dict) and "faults" in body else [body]
    if not isinstance(items, list) or not items:
        raise FaultSpecError("expected a rule, {'spec': ...} or {'faults': [...]}")
    rules = []
    for item in items:
        if isinstance(item, str):
            rules.append(parse_fault_spec(item))
        elif isinstance(item, dict) and set(item) == {"spec"}:
            rules.append(parse_fault_spec(str(item["spec"])))
        elif isinstance(item, dict):
            rules.append(FaultRule.from_dict(item))
        else:
            raise FaultSpecError(f"not a fault rule: {item!r}")
    return rules


async def get_world(request: web.Request) -> web.Response:
    return web.json_response(world_summary(request.app[WORLD_KEY]))


async def get_faults(request: web.Request) -> web.Response:
    faults = request.app[WORLD_KEY].faults
    return web.json_response({"faults": [r.to_dict() for r in faults.rules]})


async def post_faults(request: web.Request) -> web.Response:
    faults = request.app[WORLD_KEY].faults
    body = await _json_body(request)
    try:
        rules = _rules_from_body(body)
    except FaultSpecError as exc:
        return _error(400, str(exc))
    added = [faults.add(rule).to_dict() for rule in rules]
    return web.json_response({"faults": added}, status=201)


async def delete_faults(request: web.Request) -> web.Response:
    faults = request.app[WORLD_KEY].faults
    removed = len(faults.rules)
    faults.clear()
    return web.json_response({"removed": removed})


async def delete_fault(request: web.Request) -> web.Response:
    faults = request.app[WORLD_KEY].faults
    try:
        rule_id = int(request.match_info["id"])
    except ValueError:
        return _error(400, "fault id must be an integer")
    if not faults.remove(rule_id):
        return _error(404, f"no fault rule {rule_id}")
    return web.json_response({"removed": 1})


def _parse_bool(value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r}")


async def get_requests(request: web.Request) -> web.Response:
    faults = request.app[WORLD_KEY].faults
    query = request.query
    try:
        mutating = _parse_bool(query["mutating"]) if "mutating" in query else None
        since = int(query.get("since", "0"))
        limit = int(query.get("records", "0"))
    except ValueError as exc:
        return _error(400, str(exc))
    records = faults.select(
        query.get("api") or None,
        query.get("method") or None,
        mutating=mutating,
        since=since,
        path=query.get("path"),
    )
    by_api = Counter(r.api for r in records)
    by_method = Counter(r.method for r in records)
    body: dict[str, Any] = {
        "count": len(records),
        "last_seq": faults.last_seq,
        "by_api": dict(sorted(by_api.items())),
        "by_method": dict(sorted(by_method.items())),
        "mutating": sum(1 for r in records if r.mutating),
    }
    if limit > 0:
        body["records"] = [
            {
                "seq": r.seq,
                "api": r.api,
                "method": r.method,
                "path": r.path,
                "status": r.status,
                "fault": r.fault,
            }
            for r in records[-limit:]
        ]
    return web.json_response(body)


async def post_clock_advance(request: web.Request) -> web.Response:
    world = request.app[WORLD_KEY]
    body = await _json_body(request)
    try:
        seconds = float(body["seconds"]) if isinstance(body, dict) else float("nan")
        if seconds != seconds:  # NaN: body was not an object
            raise ValueError("expected {'seconds': N}")
        world.clock.advance(seconds)
    except (KeyError, TypeError, ValueError) as exc:
        return _error(400, f"bad clock advance: {exc}")
    return web.json_response({"now": world.clock.now(), "iso": world.clock.iso()})


def build_control_app(world: LabWorld) -> web.Application:
    app = web.Application()
    app[WORLD_KEY] = world
    app.router.add_get("/control", get_world)
    app.router.add_get("/control/world", get_world)
    app.router.add_get("/control/faults", get_faults)
    app.router.add_post("/control/faults", post_faults)
    app.router.add_delete("/control/faults", delete_faults)
    app.router.add_delete("/control/faults/{id}", delete_fault)
    app.router.add_get("/control/requests", get_requests)
    app.router.add_post("/control/clock/advance", post_clock_advance)
    return app
