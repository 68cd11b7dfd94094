"""CRUD, list (with paging), ``/status`` and ``/scale`` handlers."""

from __future__ import annotations

import base64
import copy
import json
from typing import Any

from aiohttp import web

from hks_tui.lab.kube.errors import ApiError, bad_request, conflict, gone, method_not_allowed, success_status
from hks_tui.lab.kube.httputil import (
    Ctx,
    Target,
    for_list,
    json_response,
    parse_bool,
    parse_int,
    patch_type,
    read_body,
    read_object,
)
from hks_tui.lab.kube.patch import apply_patch
from hks_tui.lab.kube.schema import check_unknown_fields, validation_mode
from hks_tui.lab.kube.tables import to_table, wants_table

# DELETE answers with the deleted object for these resources, a Status for the others (as the apiserver's
# registries do: ReturnDeletedObject / objects that go through graceful deletion or finalizers).
_DELETE_RETURNS_OBJECT = {"pods", "namespaces", "persistentvolumeclaims", "persistentvolumes", "services"}


def _dry_run(ctx: Ctx) -> bool:
    values = ctx.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise bad_request(f'Invalid value: "{value}": supported values: "All"')
    return bool(values)


def _field_check(ctx: Ctx, target: Target, body: Any) -> list[str]:
    """Drop unknown fields like the apiserver's decoder; 400 under fieldValidation=Strict."""
    return check_unknown_fields(target.rt, body, validation_mode(ctx.query.get("fieldValidation")))


def _warn(response: web.Response, warnings: list[str]) -> web.Response:
    for text in warnings:
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        response.headers.add("Warning", f'299 - "{escaped}"')
    return response


def _encode_continue(rv: int, start: tuple[str, str]) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": f"{start[0]}/{start[1]}"})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        ns, _, name = str(data["start"]).partition("/")
        return int(data["rv"]), (ns, name)
    except (ValueError, KeyError, TypeError):
        raise bad_request("continue key is not valid: illegal base64 data") from None


def list_objects(ctx: Ctx, target: Target) -> dict[str, Any]:
    """A list answer with ``limit``/``continue`` paging and the list's resourceVersion."""
    store = ctx.cluster.store
    q = ctx.query
    rv_param = q.get("resourceVersion")
    rv_match = q.get("resourceVersionMatch")
    current = store.resource_version
    if rv_match and rv_match not in ("Exact", "NotOlderThan"):
        raise bad_request(f'resourceVersionMatch: Unsupported value: "{rv_match}"')
    if rv_match and not rv_param:
        raise bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
    if rv_param and rv_param != "0":
        wanted = parse_int(rv_param, "resourceVersion")
        assert wanted is not None
        if wanted > current:
            raise ApiError(
                504,
                "Timeout",
                f"Too large resource version: {wanted}, current: {current}",
                {
                    "causes": [
                        {"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}
                    ],
                    "retryAfterSeconds": 1,
                },
            )
        if rv_match == "Exact" and wanted != current:
            raise gone(f"too old resource version: {wanted} ({current})")
    limit = parse_int(q.get("limit"), "limit") or 0
    token = q.get("continue")
    start: tuple[str, str] | None = None
    if token:
        token_rv, start = _decode_continue(token)
        if token_rv < store.oldest_resource_version:
            raise gone(
                "The provided continue parameter is too old to display a consistent list result. You can start a "
                "new list without the continue parameter, or use the continue token in this response to retrieve "
                "the remainder of the results. Continuing with the provided token results in an inconsistent list "
                "- objects that were created, modified, or deleted between the time the first chunk was returned "
                "and now may show up in the list."
            )
    items: list[dict[str, Any]] = []
    remaining = 0
    last_key: tuple[str, str] | None = None
    for obj in store.iter_objects(
        target.rt.plural, target.namespace, q.get("labelSelector"), q.get("fieldSelector")
    ):
        key = (obj["metadata"].get("namespace") or "", obj["metadata"]["name"])
        if start is not None and key <= start:
            continue
        if limit and len(items) >= limit:
            remaining += 1
            continue
        items.append(for_list(obj))
        last_key = key
    meta: dict[str, Any] = {"resourceVersion": str(current)}
    if remaining and last_key is not None:
        meta["continue"] = _encode_continue(current, last_key)
        if not q.get("labelSelector") and not q.get("fieldSelector"):
            meta["remainingItemCount"] = remaining  # (not filled in for selector lists, like the apiserver)
    return {
        "kind": target.rt.list_kind,
        "apiVersion": target.rt.api_version,
        "metadata": meta,
        "items": items,
    }


async def collection(ctx: Ctx, target: Target) -> web.StreamResponse:
    method = ctx.request.method
    store = ctx.cluster.store
    if method == "GET":
        if parse_bool(ctx.query.get("watch"), "watch"):
            from hks_tui.lab.kube.watch import serve_watch

            return await serve_watch(ctx, target)
        body = list_objects(ctx, target)
        if wants_table(ctx.request):
            return json_response(to_table(ctx, target.rt, body))
        return json_response(body)
    if target.namespace is None and target.rt.namespaced:
        raise method_not_allowed(method)
    if method == "POST":
        obj = await read_object(ctx.request, target.rt)
        warnings = _field_check(ctx, target, obj)
        created = store.create(target.rt.plural, obj, target.namespace, dry_run=_dry_run(ctx))
        return _warn(json_response(created, 201), warnings)
    if method == "DELETE":
        dry = _dry_run(ctx)
        listed = list_objects(ctx, Target(target.rt, target.namespace))
        for item in listed["items"]:
            meta = item["metadata"]
            store.delete(target.rt.plural, meta["name"], meta.get("namespace"), dry_run=dry)
        listed["metadata"] = {"resourceVersion": str(store.resource_version)}
        return json_response(listed)
    raise method_not_allowed(method)


async def _delete_options(ctx: Ctx) -> dict[str, Any]:
    raw = await ctx.request.read()
    options: dict[str, Any] = {}
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_request("the body of the request could not be decoded as DeleteOptions") from None
        if isinstance(body, dict):
            options = body
    if ctx.query.get("propagationPolicy"):
        options["propagationPolicy"] = ctx.query["propagationPolicy"]
    policy = options.get("propagationPolicy") or "Background"
    if policy not in ("Background", "Foreground", "Orphan"):
        raise bad_request(f'propagationPolicy: Unsupported value: "{policy}"')
    options["propagationPolicy"] = policy
    return options


async def item(ctx: Ctx, target: Target) -> web.StreamResponse:
    method = ctx.request.method
    store = ctx.cluster.store
    plural, name, ns = target.rt.plural, target.name or "", target.namespace
    if method == "GET":
        obj = store.get(plural, name, ns)
        if wants_table(ctx.request):
            return json_response(to_table(ctx, target.rt, {"items": [for_list(obj)], "metadata": {}}))
        return json_response(obj)
    if method == "PUT":
        obj = await read_object(ctx.request, target.rt)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") and meta["name"] != name:
            raise bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL ({name})"
            )
        meta["name"] = name
        if target.rt.namespaced:
            if meta.get("namespace") and meta["namespace"] != ns:
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            meta["namespace"] = ns
        # an update without metadata.resourceVersion is unconditional (allowed for these resources);
        # the store answers 404 for a missing object (PUT never creates here)
        warnings = _field_check(ctx, target, obj)
        return _warn(json_response(store.replace(plural, obj, dry_run=_dry_run(ctx))), warnings)
    if method == "PATCH":
        kind = patch_type(ctx.request)
        body = await read_body(ctx.request)
        warnings = _field_check(ctx, target, body) if kind != "json" else []
        return _warn(
            json_response(store.patch(plural, name, ns, body, kind, dry_run=_dry_run(ctx))), warnings
        )
    if method == "DELETE":
        options = await _delete_options(ctx)
        pre = options.get("preconditions") or {}
        current = store.get(plural, name, ns)
        if pre.get("uid") and pre["uid"] != current["metadata"]["uid"]:
            raise conflict(
                target.rt.qualified,
                name,
                f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {current['metadata']['uid']}",
            )
        if pre.get("resourceVersion") and pre["resourceVersion"] != current["metadata"]["resourceVersion"]:
            raise conflict(
                target.rt.qualified,
                name,
                "Precondition failed: ResourceVersion in precondition does not match",
            )
        deleted = store.delete(
            plural, name, ns, propagation=options["propagationPolicy"], dry_run=_dry_run(ctx)
        )
        if plural in _DELETE_RETURNS_OBJECT or deleted["metadata"].get("deletionTimestamp"):
            return json_response(deleted)
        return json_response(success_status(target.rt.qualified, name, deleted["metadata"].get("uid")))
    raise method_not_allowed(method)


async def status(ctx: Ctx, target: Target) -> web.StreamResponse:
    method = ctx.request.method
    store = ctx.cluster.store
    plural, name, ns = target.rt.plural, target.name or "", target.namespace
    if method == "GET":
        return json_response(store.get(plural, name, ns))
    if method == "PUT":
        obj = await read_object(ctx.request, target.rt)
        _field_check(ctx, target, obj)
        obj.setdefault("metadata", {}).update({"name": name, **({"namespace": ns} if ns else {})})
        return json_response(store.update_status(plural, obj, dry_run=_dry_run(ctx)))
    if method == "PATCH":
        kind = patch_type(ctx.request)
        body = await read_body(ctx.request)
        if kind != "json":
            _field_check(ctx, target, body)
        return json_response(
            store.patch(plural, name, ns, body, kind, status_only=True, dry_run=_dry_run(ctx))
        )
    raise method_not_allowed(method)


def _selector_string(obj: dict[str, Any]) -> str:
    selector = (obj.get("spec") or {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        op = expr.get("operator")
        values = ",".join(expr.get("values") or [])
        if op == "In":
            parts.append(f"{expr['key']} in ({values})")
        elif op == "NotIn":
            parts.append(f"{expr['key']} notin ({values})")
        elif op == "Exists":
            parts.append(expr["key"])
        elif op == "DoesNotExist":
            parts.append(f"!{expr['key']}")
    return ",".join(parts)


def scale_of(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj["metadata"]
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"],
            "creationTimestamp": meta["creationTimestamp"],
        },
        "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 0)},
        "status": {
            "replicas": (obj.get("status") or {}).get("replicas", 0),
            "selector": _selector_string(obj),
        },
    }


async def scale(ctx: Ctx, target: Target) -> web.StreamResponse:
    method = ctx.request.method
    store = ctx.cluster.store
    plural, name, ns = target.rt.plural, target.name or "", target.namespace
    current = store.get(plural, name, ns)
    if method == "GET":
        return json_response(scale_of(current))
    if method == "PUT":
        body = await read_body(ctx.request)
    elif method == "PATCH":
        kind = patch_type(ctx.request)
        body = apply_patch(scale_of(current), await read_body(ctx.request), kind)
    else:
        raise method_not_allowed(method)
    if not isinstance(body, dict):
        raise bad_request("expected a Scale object")
    replicas = (body.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        from hks_tui.lab.kube.errors import invalid

        raise invalid(
            "Scale",
            name,
            [
                {
                    "reason": "FieldValueInvalid",
                    "field": "spec.replicas",
                    "message": f"Invalid value: {replicas!r}: must be greater than or equal to 0",
                }
            ],
            "autoscaling",
        )
    rv = (body.get("metadata") or {}).get("resourceVersion")
    if rv and rv != current["metadata"]["resourceVersion"]:
        raise conflict(target.rt.qualified, name)
    updated = copy.deepcopy(current)
    updated["spec"]["replicas"] = replicas
    result = store.replace(plural, updated, dry_run=_dry_run(ctx))
    return json_response(scale_of(result))
