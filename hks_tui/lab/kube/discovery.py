"""Discovery documents: ``/api``, ``/api/v1``, ``/apis``, ``/apis/{group}[/{version}]``."""

from __future__ import annotations

from typing import Any

from hks_tui.lab.kube.resources import METRICS_GROUP, ResourceType, groups, types_in

_SUB_VERBS = {"status": ["get", "patch", "update"], "scale": ["get", "patch", "update"], "log": ["get"]}


def _resource_entries(rt: ResourceType) -> list[dict[str, Any]]:
    entry: dict[str, Any] = {
        "name": rt.plural,
        "singularName": rt.singular,
        "namespaced": rt.namespaced,
        "kind": rt.kind,
        "verbs": list(rt.verbs),
    }
    if rt.short_names:
        entry["shortNames"] = list(rt.short_names)
    if rt.categories:
        entry["categories"] = list(rt.categories)
    out = [entry]
    for sub in rt.subresources:
        item: dict[str, Any] = {"name": f"{rt.plural}/{sub}", "singularName": "", "namespaced": rt.namespaced}
        if sub == "scale":
            item.update(group="autoscaling", version="v1", kind="Scale", verbs=_SUB_VERBS["scale"])
        elif sub == "eviction":
            item.update(group="policy", version="v1", kind="Eviction", verbs=["create"])
        elif sub == "proxy":
            item.update(kind="NodeProxyOptions", verbs=["create", "delete", "get", "patch", "update"])
        elif sub == "log":
            item.update(kind="Pod", verbs=["get"])
        else:
            item.update(kind=rt.kind, verbs=_SUB_VERBS.get(sub, ["get"]))
        out.append(item)
    return out


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    }


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    types = types_in(group, version)
    if not types:
        return None
    resources: list[dict[str, Any]] = []
    for rt in types:
        resources.extend(_resource_entries(rt))
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }


def api_group(name: str) -> dict[str, Any] | None:
    versions = groups().get(name)
    if not versions:
        return None
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": entries,
        "preferredVersion": entries[0],
    }


def api_group_list() -> dict[str, Any]:
    out = []
    for name in groups():
        group = api_group(name)
        if group is not None:
            group.pop("kind")
            group.pop("apiVersion")
            out.append(group)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}


__all__ = ["METRICS_GROUP", "api_group", "api_group_list", "api_versions", "resource_list"]
