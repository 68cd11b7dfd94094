"""The simulated Proxmox VE HTTP API (aiohttp; mount it behind TLS from :class:`hks_tui.lab.tls.LabCA`).

All routes live under ``/api2/json``. One catch-all aiohttp route feeds a small PVE-style router so every
unknown path or method gets PVE's ``501 Method 'GET /foo' not implemented``. Every handler is wrapped:
errors become PVE's envelope (reason phrase = message, ``{"data": null, "message": ..., "errors": ...}``),
never a traceback. Latency/error/drop faults are applied by the lab assembler's middleware, not here.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from hks_tui.lab.pve.auth import PveAuth
from hks_tui.lab.pve.errors import PveError, not_implemented

if TYPE_CHECKING:
    from hks_tui.lab.pve.model import PveCluster
    from hks_tui.lab.world import LabWorld

log = logging.getLogger(__name__)

API_PREFIX = "/api2/json"
UNDEFINED_PROPERTY = "property is not defined in schema and the schema does not allow additional properties"
PVE_APP_KEY: web.AppKey[PveApi] = web.AppKey("hks_pve_api")


@dataclass
class Reply:
    """A handler result with extra top-level keys next to ``data`` (e.g. ``total`` of a task log)."""

    data: object
    extra: dict[str, object] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Ctx:
    world: LabWorld
    pve: PveCluster
    request: web.Request
    method: str
    path: str  # relative to /api2/json
    args: dict[str, str]  # path parameters
    multi: MultiDict[str]  # query + body parameters, repeated keys kept
    user: str

    @property
    def params(self) -> dict[str, str]:
        """Single-valued view of the parameters (last value wins), path parameters excluded."""
        return {k: self.multi.getall(k)[-1] for k in self.multi}

    def get(self, name: str, default: str | None = None) -> str | None:
        values = self.multi.getall(name, [])
        return values[-1] if values else default


Handler = Callable[[Ctx], Awaitable[object]]


@dataclass(frozen=True)
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler
    params: frozenset[str] | None  # accepted parameters (None: not checked); others → 400


class Router:
    def __init__(self) -> None:
        self._routes: list[Route] = []

    def add(self, method: str, pattern: str, handler: Handler, params: set[str] | None = None) -> None:
        regex = re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>[^/]+)", pattern)
        allowed = None if params is None else frozenset(params)
        self._routes.append(Route(method, re.compile(f"^{regex}/?$"), handler, allowed))

    def resolve(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for route in self._routes:
            if route.method != method:
                continue
            match = route.regex.match(path)
            if match:
                return route, match.groupdict()
        raise not_implemented(method, path)


def error_response(status: int, message: str, errors: dict[str, str] | None = None) -> web.Response:
    body: dict[str, Any] = {"data": None, "message": message.rstrip("\n") + "\n"}
    if errors:
        body["errors"] = {k: v.rstrip("\n") + "\n" for k, v in errors.items()}
    # The reason phrase carries the message; HTTP allows only visible ASCII and spaces there.
    reason = "".join(c if 32 <= ord(c) < 127 else "?" for c in " ".join(message.split()))[:200] or "error"
    return web.Response(
        status=status,
        reason=reason,
        text=json.dumps(body),
        content_type="application/json",
    )


class PveApi:
    """State of one PVE API application: world, router, authentication."""

    def __init__(self, world: LabWorld, unauthorized_delay: float = 3.0) -> None:
        self.world = world
        self.pve = world.pve
        self.auth = PveAuth(world.credentials, world.clock)
        self.unauthorized_delay = unauthorized_delay  # lab seconds, like pve-http-server's 3 s
        self.router = Router()
        self.public: set[tuple[str, str]] = {("POST", "/access/ticket")}

    async def _unauthorized(self, message: str) -> web.Response:
        await self.world.clock.sleep(self.unauthorized_delay)
        return error_response(401, message)

    async def _params(self, request: web.Request) -> MultiDict[str]:
        merged: MultiDict[str] = MultiDict(request.query)
        if request.method in ("POST", "PUT", "DELETE") and request.can_read_body:
            if request.content_type == "application/json":
                try:
                    body = json.loads(await request.text() or "{}")
                except json.JSONDecodeError:
                    raise PveError(400, "Parameter verification failed.", {"body": "invalid JSON"}) from None
                if not isinstance(body, dict):
                    raise PveError(400, "Parameter verification failed.", {"body": "expected an object"})
                for key, value in body.items():
                    for item in value if isinstance(value, list) else [value]:
                        if item is None:
                            continue
                        merged.add(key, str(int(item)) if isinstance(item, bool) else str(item))
            else:
                form: MultiDictProxy[Any] = await request.post()
                for key, value in form.items():
                    if isinstance(value, str):
                        merged.add(key, value)
        return merged

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.method
        path = "/" + request.match_info.get("tail", "").strip("/")
        try:
            if (method, path) not in self.public:
                identity = self.auth.identify(method, dict(request.headers), dict(request.cookies))
                if identity is None:
                    return await self._unauthorized(
                        "No ticket" if not request.cookies else "authentication failure"
                    )
                if not identity.csrf_ok:
                    return await self._unauthorized("Permission denied - invalid csrf token")
                user = identity.user
            else:
                user = ""
            route, args = self.router.resolve(method, path)
            ctx = Ctx(
                world=self.world,
                pve=self.pve,
                request=request,
                method=method,
                path=path,
                args=args,
                multi=await self._params(request),
                user=user,
            )
            if route.params is not None:
                unknown = sorted(k for k in ctx.multi if k not in route.params and k not in args)
                if unknown:
                    raise PveError(
                        400, "Parameter verification failed.", {k: UNDEFINED_PROPERTY for k in unknown}
                    )
            result = await route.handler(ctx)
        except PveError as exc:
            return error_response(exc.status, exc.message, exc.errors)
        except Exception as exc:  # never a traceback: PVE answers a die() as 500 with the message
            log.exception("PVE API %s %s failed", method, path)
            return error_response(500, str(exc) or exc.__class__.__name__)
        reply = result if isinstance(result, Reply) else Reply(result)
        body: dict[str, object] = {"data": reply.data, **reply.extra}
        response = web.json_response(body)
        for name, value in reply.cookies.items():
            response.set_cookie(name, value, path="/", secure=True, httponly=True, samesite="Strict")
        return response


def build_pve_app(world: LabWorld, *, unauthorized_delay: float = 3.0) -> web.Application:
    """The PVE API application for ``world.pve`` (serve it over HTTPS with the lab CA's context)."""
    from hks_tui.lab.pve import routes_agent, routes_cluster, routes_qemu

    api = PveApi(world, unauthorized_delay=unauthorized_delay)
    routes_cluster.register(api.router)
    routes_qemu.register(api.router)
    routes_agent.register(api.router)
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[PVE_APP_KEY] = api

    async def dispatch(request: web.Request) -> web.StreamResponse:
        return await api.handle(request)

    async def outside(request: web.Request) -> web.StreamResponse:
        return error_response(501, f"Method '{request.method} {request.path}' not implemented")

    async def on_shutdown(_app: web.Application) -> None:
        world.pve.tasks.cancel_all()

    app.router.add_route("*", API_PREFIX + "{tail:(/.*)?}", dispatch)
    app.router.add_route("*", "/{tail:.*}", outside)
    app.on_shutdown.append(on_shutdown)
    return app
