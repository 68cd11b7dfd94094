"""The aiohttp application serving one simulated cluster's Kubernetes API.

``build_kube_app(world, cluster_name)`` → an app answering ``/version``, health checks, discovery, the
resources in :mod:`hks_tui.lab.kube.resources` (CRUD, list/watch, patch, ``/status``, ``/scale``),
``pods/log``, ``pods/eviction``, ``metrics.k8s.io/v1beta1`` and the kubelet stats summary through the nodes
proxy. Every request needs ``Authorization: Bearer <world.credentials.kube_token>``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web
from aiohttp.typedefs import Middleware

from hks_tui.lab.kube import discovery, handlers, openapi
from hks_tui.lab.kube.errors import ApiError, method_not_allowed, unauthorized
from hks_tui.lab.kube.httputil import Ctx, Target, error_response, json_response
from hks_tui.lab.kube.metrics_api import serve_metrics, stats_summary
from hks_tui.lab.kube.podsub import pod_eviction, pod_log
from hks_tui.lab.kube.resources import METRICS_GROUP, lookup

if TYPE_CHECKING:
    from hks_tui.lab.world import LabWorld

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WORLD_KEY = web.AppKey("world", object)
CLUSTER_KEY = web.AppKey("cluster_name", str)


def _not_found() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def _auth_middleware(world: LabWorld) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
        expected = world.credentials.kube_token
        if not token or not hmac.compare_digest(token.encode(), expected.encode()):
            return error_response(unauthorized())
        try:
            return await handler(request)
        except ApiError as err:
            return error_response(err)
        except web.HTTPException as exc:  # aiohttp's own refusals (e.g. 413) as a Status too
            if exc.status < 400:
                raise
            return error_response(ApiError(exc.status, "", exc.reason or exc.text or "request refused"))
        except ConnectionError:
            raise  # the client went away: nobody to answer
        except Exception as exc:  # never a traceback to the client
            log.exception("kube API handler failed: %s %s", request.method, request.path)
            return error_response(ApiError(500, "InternalError", f"Internal error occurred: {exc}"))

    return middleware


def parse_resource_path(group: str, version: str, segs: list[str]) -> Target:
    """``[namespaces/{ns}/]{resource}[/{name}[/{subresource}[/...]]]`` → Target (404 if unknown)."""
    namespace: str | None = None
    if (
        len(segs) >= 3
        and segs[0] == "namespaces"
        and not (len(segs) == 3 and segs[2] in ("status", "finalize"))
    ):
        namespace, segs = segs[1], segs[2:]
    rt = lookup(group, version, segs[0]) if segs else None
    if rt is None or (namespace is not None and not rt.namespaced):
        raise _not_found()
    name = segs[1] if len(segs) > 1 else None
    sub = segs[2] if len(segs) > 2 else None
    if sub is not None and sub not in rt.subresources:
        raise _not_found()
    if len(segs) > 3 and sub != "proxy":
        raise _not_found()
    return Target(rt, namespace, name, sub, segs[3:])


async def _resource(ctx: Ctx, group: str, version: str, segs: list[str]) -> web.StreamResponse:
    target = parse_resource_path(group, version, segs)
    if target.name is None:
        return await handlers.collection(ctx, target)
    if target.rt.namespaced and target.namespace is None:
        raise _not_found()
    if target.subresource is None:
        return await handlers.item(ctx, target)
    if target.subresource == "status":
        return await handlers.status(ctx, target)
    if target.subresource == "scale":
        return await handlers.scale(ctx, target)
    if target.subresource == "log":
        return await pod_log(ctx, target)
    if target.subresource == "eviction":
        return await pod_eviction(ctx, target)
    if target.subresource == "proxy" and target.rest == ["stats", "summary"]:
        return await stats_summary(ctx, target.name)
    raise _not_found()


def _metrics_path(segs: list[str]) -> tuple[str, str | None, str | None]:
    namespace = None
    if len(segs) >= 3 and segs[0] == "namespaces":
        namespace, segs = segs[1], segs[2:]
    if not segs or segs[0] not in ("nodes", "pods") or len(segs) > 2:
        raise _not_found()
    if segs[0] == "nodes" and namespace is not None:
        raise _not_found()
    return segs[0], namespace, segs[1] if len(segs) == 2 else None


async def _dispatch(ctx: Ctx) -> web.StreamResponse:
    request = ctx.request
    segs = [s for s in request.path.split("/") if s]
    method = request.method
    if not segs:
        return json_response(
            {"paths": ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"]}
        )
    head = segs[0]
    if head in ("healthz", "livez", "readyz"):
        return web.Response(text="ok", content_type="text/plain")
    if head == "openapi" and len(segs) >= 2 and segs[1] == "v3":
        doc = openapi.root() if len(segs) == 2 else openapi.group_version("/".join(segs[2:]))
        if doc is None:
            raise _not_found()
        return json_response(doc)
    if head == "version" and len(segs) == 1:
        return json_response(ctx.cluster.version)
    if head == "api":
        if len(segs) == 1:
            return json_response(discovery.api_versions(f"{request.host}"))
        if segs[1] != "v1":
            raise _not_found()
        if len(segs) == 2:
            if method != "GET":
                raise method_not_allowed(method)
            return json_response(discovery.resource_list("", "v1"))
        return await _resource(ctx, "", "v1", segs[2:])
    if head == "apis":
        if len(segs) == 1:
            return json_response(discovery.api_group_list())
        group = segs[1]
        if len(segs) == 2:
            doc = discovery.api_group(group)
            if doc is None:
                raise _not_found()
            return json_response(doc)
        version = segs[2]
        if len(segs) == 3:
            doc = discovery.resource_list(group, version)
            if doc is None:
                raise _not_found()
            return json_response(doc)
        if group == METRICS_GROUP and version == "v1beta1":
            plural, namespace, name = _metrics_path(segs[3:])
            return await serve_metrics(ctx, plural, namespace, name)
        return await _resource(ctx, group, version, segs[3:])
    raise _not_found()


def build_kube_app(world: LabWorld, cluster_name: str) -> web.Application:
    """One cluster's API server app (the lab server binds it to its own HTTPS port)."""
    if cluster_name not in world.clusters:
        raise KeyError(f"no cluster named {cluster_name!r} in the lab world")
    # The lab server inserts hks_tui.lab.faults.fault_middleware as the outermost middleware.
    app = web.Application(middlewares=[_auth_middleware(world)], client_max_size=8 * 2**20)
    app[WORLD_KEY] = world
    app[CLUSTER_KEY] = cluster_name

    async def dispatch(request: web.Request) -> web.StreamResponse:
        cluster = world.clusters.get(cluster_name)
        if cluster is None:
            raise ApiError(503, "ServiceUnavailable", f"cluster {cluster_name} is gone")
        return await _dispatch(Ctx(world, cluster, cluster_name, request))

    app.router.add_route("*", "/{tail:.*}", dispatch)

    async def on_shutdown(_: web.Application) -> None:
        cluster = world.clusters.get(cluster_name)
        if cluster is not None:
            cluster.store.close_watchers()
            cluster.logs.close_followers()

    app.on_shutdown.append(on_shutdown)
    return app
