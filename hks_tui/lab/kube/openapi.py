"""A minimal OpenAPI v3 discovery: the ``/openapi/v3`` root and one document per group-version.

kubectl (``create``/``apply``/``replace`` with the default ``--validate=strict``) asks the v3 documents
whether the server supports the ``fieldValidation`` query parameter for a kind; when it does, kubectl
leaves validation to the server instead of downloading the full ``/openapi/v2`` schema. The documents
therefore carry, per resource, the item path with a PATCH operation tagged with
``x-kubernetes-group-version-kind`` and the ``fieldValidation`` parameter. PATCH operations declare no
request body, so ``kubectl apply`` computes strategic merge patches from its compiled-in types.
Schemas (``components``) are not served: ``kubectl explain`` is not supported.
"""

from __future__ import annotations

import hashlib
from typing import Any

from hks_tui.lab.kube.resources import RESOURCE_TYPES, ResourceType, groups

_PARAMS = [
    {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    for name in ("dryRun", "fieldManager", "fieldValidation")
]


def _prefix(group: str, version: str) -> str:
    return f"api/{version}" if not group else f"apis/{group}/{version}"


def _gvs() -> list[tuple[str, str]]:
    out = [("", "v1")]
    for group, versions in groups().items():
        out.extend((group, v) for v in versions)
    return out


def _hash(group: str, version: str) -> str:
    return hashlib.sha512(f"{group}/{version}/{len(RESOURCE_TYPES)}".encode()).hexdigest()[:128].upper()


def root() -> dict[str, Any]:
    return {
        "paths": {
            _prefix(g, v): {"serverRelativeURL": f"/openapi/v3/{_prefix(g, v)}?hash={_hash(g, v)}"}
            for g, v in _gvs()
            if any(rt.group == g and rt.version == v for rt in RESOURCE_TYPES)
        }
    }


def _operation(rt: ResourceType, action: str) -> dict[str, Any]:
    return {
        "description": f"{action} the specified {rt.kind}",
        "operationId": f"{action}{rt.kind}",
        "parameters": list(_PARAMS),
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": rt.group, "version": rt.version, "kind": rt.kind},
    }


def group_version(path: str) -> dict[str, Any] | None:
    """The document for ``api/v1`` or ``apis/<group>/<version>``; None if not served."""
    for group, version in _gvs():
        if _prefix(group, version) != path:
            continue
        paths: dict[str, Any] = {}
        for rt in RESOURCE_TYPES:
            if rt.group != group or rt.version != version:
                continue
            base = (
                f"/{path}/namespaces/{{namespace}}/{rt.plural}" if rt.namespaced else f"/{path}/{rt.plural}"
            )
            paths[base] = {"post": _operation(rt, "post")}
            paths[f"{base}/{{name}}"] = {"put": _operation(rt, "put"), "patch": _operation(rt, "patch")}
        if not paths:
            return None
        return {
            "openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": "v1.31.4"},
            "paths": paths,
            "components": {},
        }
    return None
