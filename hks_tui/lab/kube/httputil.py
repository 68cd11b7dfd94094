"""Request parsing and response helpers shared by the Kubernetes API handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from aiohttp import web

from hks_tui.lab.kube.errors import ApiError, bad_request, unsupported_media_type
from hks_tui.lab.kube.resources import ResourceType

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.world import LabWorld

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}


def parse_bool(value: str | None, name: str, default: bool = False) -> bool:
    """Go's ``strconv.ParseBool``; anything else → 400 like the apiserver's query decoder."""
    if value is None or value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax (query parameter {name})')


def parse_int(value: str | None, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise bad_request(
            f'strconv.ParseInt: parsing "{value}": invalid syntax (query parameter {name})'
        ) from None


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def json_response(obj: Any, status: int = 200) -> web.Response:
    return web.Response(status=status, text=dumps(obj), content_type="application/json")


def error_response(err: ApiError) -> web.Response:
    return json_response(err.status(), err.code)


@dataclass
class Target:
    """What a request path addresses."""

    rt: ResourceType
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None
    rest: list[str] = field(default_factory=list)  # path after the subresource (node proxy)


@dataclass
class Ctx:
    world: LabWorld
    cluster: KubeCluster
    cluster_name: str
    request: web.Request

    @property
    def query(self) -> Any:
        return self.request.query

    @property
    def api_key(self) -> str:
        return f"kube:{self.cluster_name}"

    def stalled(self) -> bool:
        faults = getattr(self.world, "faults", None)
        if faults is None:
            return False
        return bool(faults.stream_stalled(self.api_key, self.request.path))


async def read_body(request: web.Request) -> Any:
    raw = await request.read()
    if not raw:
        raise bad_request("the request body is empty")
    ctype = (request.content_type or "").lower()
    try:
        if "yaml" in ctype:
            return yaml.safe_load(raw)
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise bad_request(f"the body of the request could not be decoded: {exc}") from None


async def read_object(request: web.Request, rt: ResourceType | None = None) -> dict[str, Any]:
    body = await read_body(request)
    if not isinstance(body, dict):
        raise bad_request("Object 'Kind' is missing in the request body: expected a JSON object")
    if rt is not None:
        kind = body.get("kind")
        api_version = body.get("apiVersion")
        if kind and kind != rt.kind:
            raise bad_request(f"the kind in the data ({kind}) does not match the expected kind ({rt.kind})")
        if api_version and api_version != rt.api_version:
            raise bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version ({rt.api_version})"
            )
    return body


PATCH_TYPES = {
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/json-patch+json": "json",
}


def patch_type(request: web.Request) -> str:
    ctype = (request.content_type or "").lower()
    kind = PATCH_TYPES.get(ctype)
    if kind is None:
        raise unsupported_media_type(ctype)
    return kind


def for_list(obj: dict[str, Any]) -> dict[str, Any]:
    """List items carry no apiVersion/kind (like typed lists from the apiserver)."""
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}
