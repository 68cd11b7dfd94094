"""Pod subresources: ``/log`` (with follow) and ``/eviction`` (policy/v1, honouring PDBs)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from hks_tui.lab.kube.errors import ApiError, bad_request, method_not_allowed
from hks_tui.lab.kube.httputil import Ctx, Target, json_response, parse_bool, parse_int, read_object
from hks_tui.lab.kube.pdb import check_eviction

log = logging.getLogger(__name__)
STALL_POLL = 0.05


def _rfc3339nano(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, tz=UTC)
    nanos = round((ts - int(ts)) * 1e9) % 1_000_000_000
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def _parse_time(value: str) -> float:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise bad_request(f'sinceTime: Invalid value: "{value}": must be RFC 3339') from None


def _pick_container(pod: dict[str, Any], requested: str | None) -> str:
    name = pod["metadata"]["name"]
    spec = pod.get("spec") or {}
    containers = [c["name"] for c in spec.get("containers") or []]
    init = [c["name"] for c in spec.get("initContainers") or []]
    if requested:
        if requested not in containers and requested not in init:
            raise bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    if len(containers) == 1:
        return containers[0]
    if not containers:
        raise bad_request(f"a container name must be specified for pod {name}")
    choices = " ".join(containers)
    message = f"a container name must be specified for pod {name}, choose one of: [{choices}]"
    if init:
        message += f" or one of the init containers: [{' '.join(init)}]"
    raise bad_request(message)


def _check_started(pod: dict[str, Any], container: str, has_lines: bool) -> None:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") != container:
            continue
        waiting = (cs.get("state") or {}).get("waiting")
        if waiting and not has_lines and not cs.get("lastState", {}).get("terminated"):
            reason = waiting.get("reason") or "ContainerCreating"
            raise bad_request(
                f'container "{container}" in pod "{pod["metadata"]["name"]}" is waiting to start: {reason}'
            )


def _has_terminated_instance(pod: dict[str, Any], container: str) -> bool:
    status = pod.get("status") or {}
    for cs in (status.get("containerStatuses") or []) + (status.get("initContainerStatuses") or []):
        if cs.get("name") == container and (cs.get("lastState") or {}).get("terminated"):
            return True
    return False


async def pod_log(ctx: Ctx, target: Target) -> web.StreamResponse:
    if ctx.request.method != "GET":
        raise method_not_allowed(ctx.request.method)
    q = ctx.query
    cluster = ctx.cluster
    ns, name = target.namespace or "", target.name or ""
    pod = cluster.store.get("pods", name, ns)
    container = _pick_container(pod, q.get("container"))
    follow = parse_bool(q.get("follow"), "follow")
    timestamps = parse_bool(q.get("timestamps"), "timestamps")
    previous = parse_bool(q.get("previous"), "previous")
    parse_bool(q.get("insecureSkipTLSVerifyBackend"), "insecureSkipTLSVerifyBackend")
    tail = parse_int(q.get("tailLines"), "tailLines")
    since_seconds = parse_int(q.get("sinceSeconds"), "sinceSeconds")
    limit_bytes = parse_int(q.get("limitBytes"), "limitBytes")
    if since_seconds is not None and since_seconds < 1:
        raise bad_request("sinceSeconds: Invalid value: must be greater than 0")
    if since_seconds is not None and q.get("sinceTime"):
        raise bad_request("at most one of `sinceTime` or `sinceSeconds` may be specified")
    if tail is not None and tail < 0:
        raise bad_request("tailLines: Invalid value: must be greater than or equal to 0")
    if previous:
        old = cluster.logs.previous_lines(ns, name, container)
        if old is None and not _has_terminated_instance(pod, container):
            raise bad_request(f'previous terminated container "{container}" in pod "{name}" not found')
        lines = old or []
        follow = False  # a terminated instance has nothing more to say
    else:
        lines = cluster.logs.lines(ns, name, container)
        _check_started(pod, container, bool(lines))
    since_ts: float | None = None
    if since_seconds is not None:
        since_ts = cluster.clock.now() - since_seconds
    elif q.get("sinceTime"):
        since_ts = _parse_time(q["sinceTime"])
    if since_ts is not None:
        lines = [entry for entry in lines if entry[0] >= since_ts]
    if tail is not None:
        lines = lines[-tail:] if tail else []

    def render(entry: tuple[float, str]) -> str:
        return f"{_rfc3339nano(entry[0])} {entry[1]}\n" if timestamps else f"{entry[1]}\n"

    if not follow:
        text = "".join(render(e) for e in lines)
        if limit_bytes is not None:
            text = text.encode()[:limit_bytes].decode(errors="ignore")
        return web.Response(text=text, content_type="text/plain")

    response = web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
    response.enable_chunked_encoding()
    queue = cluster.logs.subscribe(ns, name, container)  # subscribe first: no line can fall in between
    sent = 0
    try:
        await response.prepare(ctx.request)
        backlog = [render(e) for e in lines]
        while True:
            if ctx.stalled():
                await asyncio.sleep(STALL_POLL)
                continue
            if backlog:
                chunk = backlog.pop(0).encode()
                await response.write(chunk)
                sent += len(chunk)
                if limit_bytes is not None and sent >= limit_bytes:
                    break
                continue
            entry = await queue.get()
            if entry is None:  # the pod was deleted
                break
            backlog.append(render(entry))
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away
    except Exception:
        log.exception("log follow stream failed")  # headers are sent: the only signal left is closing
    finally:
        cluster.logs.unsubscribe(ns, name, container, queue)
    return response


async def pod_eviction(ctx: Ctx, target: Target) -> web.StreamResponse:
    if ctx.request.method != "POST":
        raise method_not_allowed(ctx.request.method)
    body = await read_object(ctx.request)
    if body.get("kind") not in (None, "Eviction") or body.get("apiVersion") not in (
        None,
        "policy/v1",
        "policy/v1beta1",
    ):
        raise bad_request(
            f"the kind in the data ({body.get('kind')}) does not match the expected kind (Eviction)"
        )
    ns, name = target.namespace or "", target.name or ""
    meta = body.get("metadata") or {}
    if meta.get("name") and meta["name"] != name:
        raise bad_request("name in URL does not match name in Eviction object")
    if meta.get("namespace") and meta["namespace"] != ns:
        raise bad_request("namespace in URL does not match namespace in Eviction object")
    store = ctx.cluster.store
    pod = store.get("pods", name, ns)
    options = body.get("deleteOptions") or {}
    uid = (options.get("preconditions") or {}).get("uid")
    if uid and uid != pod["metadata"]["uid"]:
        raise ApiError(
            409,
            "Conflict",
            f'Operation cannot be fulfilled on pods "{name}": Precondition failed: UID in precondition: {uid}, UID in object meta: {pod["metadata"]["uid"]}',
        )
    if (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
        check_eviction(store, pod)
    dry_run = bool(ctx.query.getall("dryRun", [])) or bool(options.get("dryRun"))
    store.delete("pods", name, ns, dry_run=dry_run)
    return json_response(
        {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 201}, 201
    )
