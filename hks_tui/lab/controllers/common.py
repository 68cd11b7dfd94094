"""Helpers shared by the lab's controllers: object access, owner references, conditions, stable names,
and the event recorder (which also mirrors host-pod events into the owning vCluster, as vCluster's
syncer does)."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from hks_tui.lab.kube.errors import ApiError

if TYPE_CHECKING:
    from hks_tui.lab.kube.cluster import KubeCluster
    from hks_tui.lab.kube.store import KubeStore
    from hks_tui.lab.world import LabWorld

VC_MANAGED_BY = "vcluster.loft.sh/managed-by"
VC_NAMESPACE = "vcluster.loft.sh/namespace"
VC_OBJECT_NAME = "vcluster.loft.sh/object-name"
VC_OBJECT_NAMESPACE = "vcluster.loft.sh/object-namespace"
VC_OBJECT_UID = "vcluster.loft.sh/object-uid"
VC_OBJECT_KIND = "vcluster.loft.sh/object-kind"

_ALPHANUM = "bcdfghjklmnpqrstvwxz2456789"  # the apiserver's generateName alphabet (no vowels, no 0/1/3)


def meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.setdefault("metadata", {})


def name_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))


def ns_of(obj: dict[str, Any]) -> str | None:
    return (obj.get("metadata") or {}).get("namespace")


def uid_of(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("uid", ""))


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def annotations_of(obj: dict[str, Any]) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def stable_hash(value: Any, length: int = 10) -> str:
    """A deterministic short hash in the apiserver's safe alphabet (pod-template-hash style)."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).digest()
    return "".join(_ALPHANUM[b % len(_ALPHANUM)] for b in digest[:length])


def hex_hash(value: str, length: int = 64) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:length]


def owner_ref(owner: dict[str, Any], controller: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": owner.get("apiVersion", "v1"),
        "kind": owner.get("kind", ""),
        "name": name_of(owner),
        "uid": uid_of(owner),
        "controller": controller,
        "blockOwnerDeletion": True,
    }


def controller_uid(obj: dict[str, Any]) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("uid"))
    return None


def controller_kind(obj: dict[str, Any]) -> str | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref.get("kind"))
    return None


def owned_by(objs: Iterable[dict[str, Any]], owner: dict[str, Any]) -> list[dict[str, Any]]:
    uid = uid_of(owner)
    return [o for o in objs if controller_uid(o) == uid]


def is_deleting(obj: dict[str, Any]) -> bool:
    return bool((obj.get("metadata") or {}).get("deletionTimestamp"))


def condition(obj: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return dict(cond)
    return None


def set_condition(
    conditions: list[dict[str, Any]],
    ctype: str,
    status: str,
    now_iso: str,
    reason: str | None = None,
    message: str | None = None,
    *,
    probe: bool = False,
    update_time: bool = False,
) -> list[dict[str, Any]]:
    """Upsert a condition, keeping ``lastTransitionTime`` unless the status flips."""
    out = [dict(c) for c in conditions]
    for cond in out:
        if cond.get("type") == ctype:
            if cond.get("status") != status:
                cond["lastTransitionTime"] = now_iso
                if update_time:
                    cond["lastUpdateTime"] = now_iso
            elif update_time and (cond.get("reason") != reason or cond.get("message") != message):
                cond["lastUpdateTime"] = now_iso
            cond["status"] = status
            _set_opt(cond, reason, message)
            return out
    new: dict[str, Any] = {"type": ctype, "status": status, "lastTransitionTime": now_iso}
    if probe:
        new["lastProbeTime"] = None
    if update_time:
        new["lastUpdateTime"] = now_iso
    _set_opt(new, reason, message)
    out.append(new)
    return out


def _set_opt(cond: dict[str, Any], reason: str | None, message: str | None) -> None:
    for key, value in (("reason", reason), ("message", message)):
        if value is None:
            cond.pop(key, None)
        else:
            cond[key] = value


def write_status(store: KubeStore, resource: str, obj: dict[str, Any], status: dict[str, Any]) -> bool:
    """``update_status`` only when the status really changes (controllers must be quiescent when idle)."""
    if (obj.get("status") or {}) == status:
        return False
    fresh = copy.deepcopy(obj)
    fresh["status"] = status
    fresh["metadata"].pop("resourceVersion", None)
    try:
        store.update_status(resource, fresh)
    except ApiError as exc:
        if exc.code == 404:
            return False
        raise
    return True


def patch_merge(
    store: KubeStore, resource: str, obj: dict[str, Any], patch: dict[str, Any]
) -> dict[str, Any] | None:
    try:
        return store.patch(resource, name_of(obj), ns_of(obj), patch, "merge")
    except ApiError as exc:
        if exc.code == 404:
            return None
        raise


def safe_delete(store: KubeStore, resource: str, name: str, namespace: str | None) -> bool:
    try:
        store.delete(resource, name, namespace)
    except ApiError as exc:
        if exc.code == 404:
            return False
        raise
    return True


def generate_suffix(seed: str, taken: Iterable[str], prefix: str, length: int = 5) -> str:
    """A deterministic, collision-free ``<prefix><5 chars>`` name."""
    used = set(taken)
    n = 0
    while True:
        candidate = prefix + stable_hash(f"{seed}/{n}", length)
        if candidate not in used:
            return candidate
        n += 1


def workspace_of_vcluster(world: LabWorld, vcluster: str) -> str | None:
    for ws, info in world.workspaces.items():
        if info.vcluster == vcluster:
            return ws
    return None


def virtual_pod(world: LabWorld, host_pod: dict[str, Any]) -> tuple[KubeCluster, dict[str, Any]] | None:
    """The vCluster pod a host pod mirrors (by the syncer's labels/annotations), if any."""
    vc = labels_of(host_pod).get(VC_MANAGED_BY)
    if not vc:
        return None
    ws = workspace_of_vcluster(world, vc)
    if ws is None or ws not in world.clusters:
        return None
    ann = annotations_of(host_pod)
    name, namespace = ann.get(VC_OBJECT_NAME), ann.get(VC_OBJECT_NAMESPACE)
    if not name or not namespace:
        return None
    cluster = world.clusters[ws]
    vpod = peek(cluster.store, "pods", name, namespace)
    if vpod is None or uid_of(vpod) != ann.get(VC_OBJECT_UID, uid_of(vpod)):
        return None
    return cluster, vpod


class Recorder:
    """Writes ``v1`` Events like the components that emit them; repeated events bump ``count``."""

    def __init__(self, world: LabWorld) -> None:
        self.world = world
        self._seen: dict[tuple[str, str, str, str], tuple[str, str | None, float]] = {}
        self._serial = 0

    def record(
        self,
        cluster: KubeCluster,
        obj: dict[str, Any],
        etype: str,
        reason: str,
        message: str,
        component: str = "kubelet",
        host: str | None = None,
        *,
        mirror: bool = True,
        min_interval: float = 10.0,
    ) -> None:
        now = self.world.clock.now()
        key = (cluster.name, uid_of(obj), reason, message)
        namespace = ns_of(obj) or "default"
        seen = self._seen.get(key)
        if seen is not None:
            ev_name, ev_ns, last = seen
            if now - last < min_interval:
                return
            current = peek(cluster.store, "events", ev_name, ev_ns)
            if current is not None:
                try:
                    cluster.store.patch(
                        "events",
                        ev_name,
                        ev_ns,
                        {
                            "count": int(current.get("count") or 1) + 1,
                            "lastTimestamp": self.world.clock.iso(now),
                        },
                        "merge",
                    )
                    self._seen[key] = (ev_name, ev_ns, now)
                except ApiError:
                    pass
                self._mirror(cluster, obj, etype, reason, message, component, host, mirror, min_interval)
                return
        self._serial += 1
        ev_name = f"{name_of(obj)}.{int(now * 1e9) + self._serial:x}"
        iso = self.world.clock.iso(now)
        involved = {
            "apiVersion": obj.get("apiVersion", "v1"),
            "kind": obj.get("kind", ""),
            "name": name_of(obj),
            "namespace": namespace if ns_of(obj) else None,
            "uid": uid_of(obj),
            "resourceVersion": str((obj.get("metadata") or {}).get("resourceVersion", "")),
        }
        if involved["namespace"] is None:
            del involved["namespace"]
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": ev_name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "type": etype,
            "count": 1,
            "firstTimestamp": iso,
            "lastTimestamp": iso,
            "source": {"component": component, **({"host": host} if host else {})},
            "reportingComponent": component,
            "reportingInstance": host or "",
        }
        try:
            cluster.store.create("events", event, namespace)
        except ApiError:
            return
        self._seen[key] = (ev_name, namespace, now)
        self._mirror(cluster, obj, etype, reason, message, component, host, mirror, min_interval)

    def _mirror(
        self,
        cluster: KubeCluster,
        obj: dict[str, Any],
        etype: str,
        reason: str,
        message: str,
        component: str,
        host: str | None,
        mirror: bool,
        min_interval: float,
    ) -> None:
        if not mirror or cluster.kind != "host" or obj.get("kind") != "Pod":
            return
        found = virtual_pod(self.world, obj)
        if found is None:
            return
        vcluster, vpod = found
        host_name, virtual_name = name_of(obj), name_of(vpod)
        text = message.replace(f"{ns_of(obj)}/{host_name}", f"{ns_of(vpod)}/{virtual_name}")
        self.record(
            vcluster, vpod, etype, reason, text, component, host, mirror=False, min_interval=min_interval
        )


def claims_of(
    world: LabWorld, cluster: KubeCluster, pod: dict[str, Any]
) -> list[tuple[KubeCluster, str, str, str]]:
    """``(cluster, namespace, claimName, volumeName)`` of every PVC a pod mounts. For a host pod that
    mirrors a vCluster pod, the claims are the vCluster's (the syncer translated their names)."""
    source_cluster, source_pod = cluster, pod
    if cluster.kind == "host":
        found = virtual_pod(world, pod)
        if found is not None:
            source_cluster, source_pod = found
    out = []
    for vol in (source_pod.get("spec") or {}).get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            out.append((source_cluster, ns_of(source_pod) or "default", str(claim), str(vol.get("name", ""))))
    return out


def parse_iso(value: Any) -> float | None:
    """RFC 3339 (``2026-11-22T01:02:03Z``) → Unix timestamp; None when absent or malformed."""
    from datetime import UTC, datetime

    if not value:
        return None
    try:
        return datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def snapshot(
    store: KubeStore,
    resource: str,
    namespace: str | None = None,
    label_selector: str | dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Committed objects WITHOUT copying (the store replaces objects on every write, never mutates them):
    controllers must treat them as read-only and copy before changing anything."""
    return list(store.iter_objects(resource, namespace, label_selector))


def peek(store: KubeStore, resource: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
    """One object by name (a private copy: O(1) lookup, unlike scanning :func:`snapshot`)."""
    if not name:
        return None
    return store.find(resource, name, namespace)
