"""ResourceQuota: ``status.hard``/``status.used`` kept true, and enforcement on create like the real
apiserver's quota admission (``exceeded quota`` / ``must specify`` 403 Forbidden errors).

Tracked keys: ``pods``, ``cpu``/``requests.cpu``, ``memory``/``requests.memory``, ``limits.cpu``,
``limits.memory``, ``requests.storage``, ``persistentvolumeclaims``,
``<class>.storageclass.storage.k8s.io/requests.storage`` and ``.../persistentvolumeclaims``, ``services``,
``configmaps``, ``secrets``, ``resourcequotas`` and ``count/<resource>[.<group>]``. Quota scopes are not
modelled (every quota applies to every object of its namespace)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hks_tui.lab.controllers.common import snapshot, write_status
from hks_tui.lab.controllers.quantity import QuantityError, amount, render
from hks_tui.lab.controllers.scheduler import is_terminal
from hks_tui.lab.kube.errors import ApiError
from hks_tui.lab.kube.resources import BY_PLURAL

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster

_SC_SUFFIX = ".storageclass.storage.k8s.io/"
_COMPUTE = {
    "cpu": ("requests", "cpu"),
    "requests.cpu": ("requests", "cpu"),
    "memory": ("requests", "memory"),
    "requests.memory": ("requests", "memory"),
    "limits.cpu": ("limits", "cpu"),
    "limits.memory": ("limits", "memory"),
}
_PLAIN_COUNTS = {
    "services": "services",
    "configmaps": "configmaps",
    "secrets": "secrets",
    "resourcequotas": "resourcequotas",
}


def _count_key(resource: str) -> str:
    rt = BY_PLURAL.get(resource)
    group = rt.group if rt else ""
    return f"count/{resource}.{group}" if group else f"count/{resource}"


def _container_amount(c: dict[str, Any], kind: str, res: str) -> int | None:
    value = ((c.get("resources") or {}).get(kind) or {}).get(res)
    if value is None:
        return None
    try:
        return amount(res, value)
    except QuantityError:
        return 0


def object_usage(resource: str, obj: dict[str, Any], key: str) -> int:
    """How much of quota ``key`` one object consumes."""
    if key == _count_key(resource) or _PLAIN_COUNTS.get(key) == resource:
        return 1
    if resource == "pods":
        if is_terminal(obj):
            return 0
        if key == "pods":
            return 1
        if key in _COMPUTE:
            kind, res = _COMPUTE[key]
            spec = obj.get("spec") or {}
            total = sum(_container_amount(c, kind, res) or 0 for c in spec.get("containers") or [])
            init = max(
                (_container_amount(c, kind, res) or 0 for c in spec.get("initContainers") or []), default=0
            )
            return max(total, init)
        return 0
    if resource == "persistentvolumeclaims":
        spec = obj.get("spec") or {}
        sc = spec.get("storageClassName") or ""
        try:
            size = amount(
                "requests.storage", ((spec.get("resources") or {}).get("requests") or {}).get("storage", 0)
            )
        except QuantityError:
            size = 0
        if key == "requests.storage":
            return size
        if key == "persistentvolumeclaims":
            return 1
        if key == f"{sc}{_SC_SUFFIX}requests.storage":
            return size
        if key == f"{sc}{_SC_SUFFIX}persistentvolumeclaims":
            return 1
    return 0


def _resources_for(key: str) -> list[str]:
    if key in _COMPUTE or key == "pods":
        return ["pods"]
    if key in ("requests.storage", "persistentvolumeclaims") or _SC_SUFFIX in key:
        return ["persistentvolumeclaims"]
    if key in _PLAIN_COUNTS:
        return [_PLAIN_COUNTS[key]]
    if key.startswith("count/"):
        plural = key[len("count/") :].split(".", 1)[0]
        return [plural] if plural in BY_PLURAL else []
    return []


def namespace_usage(cluster: KubeCluster, namespace: str, keys: list[str]) -> dict[str, int]:
    used: dict[str, int] = {}
    for key in keys:
        total = 0
        for resource in _resources_for(key):
            for obj in cluster.store.iter_objects(resource, namespace):
                total += object_usage(resource, obj, key)
        used[key] = total
    return used


def _hard(quota: dict[str, Any]) -> dict[str, Any]:
    return dict((quota.get("spec") or {}).get("hard") or {})


def refresh_quota_status(cluster: KubeCluster) -> None:
    for quota in snapshot(cluster.store, "resourcequotas"):
        hard = _hard(quota)
        used = namespace_usage(cluster, quota["metadata"]["namespace"], list(hard))
        status = {"hard": hard, "used": {k: render(k, v) for k, v in used.items()}}
        write_status(cluster.store, "resourcequotas", quota, status)


def install_quota_admission(cluster: KubeCluster) -> None:
    def admit(op: str, resource: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        if op not in ("CREATE", "UPDATE") or resource == "events":
            return
        if op == "UPDATE" and resource != "persistentvolumeclaims":
            return
        namespace = (obj.get("metadata") or {}).get("namespace")
        if not namespace:
            return
        name = (obj.get("metadata") or {}).get("name", "")
        qualified = BY_PLURAL[resource].qualified if resource in BY_PLURAL else resource
        for quota in cluster.store.iter_objects("resourcequotas", namespace):
            hard = _hard(quota)
            if resource == "pods":
                missing = []
                for key in sorted(k for k in hard if k in _COMPUTE):
                    kind, res = _COMPUTE[key]
                    lacking = [
                        c.get("name", "")
                        for c in (obj.get("spec") or {}).get("containers") or []
                        if _container_amount(c, kind, res) is None
                    ]
                    if lacking:
                        missing.append(f"{key} for: {','.join(lacking)}")
                if missing:
                    raise ApiError(
                        403,
                        "Forbidden",
                        f'{qualified} "{name}" is forbidden: failed quota: '
                        f"{quota['metadata']['name']}: must specify {'; '.join(missing)}",
                        {"name": name, "kind": resource},
                    )
            relevant = [k for k in hard if resource in _resources_for(k)]
            if not relevant:
                continue
            used = namespace_usage(cluster, namespace, relevant)
            over = []
            for key in sorted(relevant):
                delta = object_usage(resource, obj, key) - (object_usage(resource, old, key) if old else 0)
                if delta <= 0:
                    continue
                try:
                    limit = amount(key, hard[key])
                except QuantityError:
                    continue
                if used[key] + delta > limit:
                    over.append((key, delta, used[key], hard[key]))
            if over:
                requested = ",".join(f"{k}={render(k, d)}" for k, d, _u, _h in over)
                used_text = ",".join(f"{k}={render(k, u)}" for k, _d, u, _h in over)
                limited = ",".join(f"{k}={h}" for k, _d, _u, h in over)
                raise ApiError(
                    403,
                    "Forbidden",
                    f'{qualified} "{name}" is forbidden: exceeded quota: '
                    f"{quota['metadata']['name']}, requested: {requested}, used: {used_text}, "
                    f"limited: {limited}",
                    {"name": name, "kind": resource},
                )

    cluster.store.add_admission(admit)
