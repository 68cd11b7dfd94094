"""The object store behind one Kubernetes API server: plain JSON dicts exactly as the API returns them,
one cluster-wide monotonic resourceVersion, a bounded event history for watches (410 Expired beyond it),
admission hooks, change listeners, finalizers and owner-reference garbage collection."""

from __future__ import annotations

import builtins
import secrets
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from hks_tui.lab.clock import LabClock
from hks_tui.lab.kube.defaults import apply_defaults, check_immutable
from hks_tui.lab.kube.errors import already_exists, bad_request, conflict, not_found
from hks_tui.lab.kube.history import StoredEvent, Watcher, WatchHub
from hks_tui.lab.kube.objutil import clone, object_key, ordered, spec_of
from hks_tui.lab.kube.patch import apply_patch
from hks_tui.lab.kube.resources import ResourceType, resource_type
from hks_tui.lab.kube.selectors import compile_labels, parse_field_selector

Admission = Callable[[str, str, dict[str, Any], dict[str, Any] | None], None]
Listener = Callable[[str, str, dict[str, Any]], None]
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"
_GENERATION_KINDS = {
    "deployments",
    "replicasets",
    "statefulsets",
    "jobs",
    "cronjobs",
    "poddisruptionbudgets",
    "ingresses",
    "pods",
}


class KubeStore:
    def __init__(self, clock: LabClock, history: int = 1000) -> None:
        self.clock = clock
        self._objects: dict[str, dict[tuple[str, str], dict[str, Any]]] = {}
        self._rv = 0
        self._hub = WatchHub(history)
        self._by_uid: dict[str, tuple[str, tuple[str, str]]] = {}  # uid → (resource, key)
        self._dependents: dict[str, set[tuple[str, tuple[str, str]]]] = {}  # owner uid → dependents
        self._admission: list[Admission] = []
        self._listeners: list[Listener] = []
        self._next_ip = 1

    # --- hooks ------------------------------------------------------------------------------------
    def add_admission(self, fn: Admission) -> None:
        self._admission.append(fn)

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    @property
    def resource_version(self) -> int:
        return self._rv

    @property
    def oldest_resource_version(self) -> int:
        return self._hub.compacted_rv

    def compact(self) -> None:
        """Forget the whole event history (watches from any older rv now get 410 Expired)."""
        self._hub.compact(self._rv)

    # --- reads ------------------------------------------------------------------------------------
    def _bucket(self, resource: str) -> dict[tuple[str, str], dict[str, Any]]:
        resource_type(resource)  # KeyError for a resource the lab does not serve
        return self._objects.setdefault(resource, {})

    def _rt(self, resource: str) -> ResourceType:
        return resource_type(resource)

    def _ns(self, rt: ResourceType, namespace: str | None) -> str:
        return (namespace or "") if rt.namespaced else ""

    def find(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        rt = self._rt(resource)
        obj = self._bucket(resource).get((self._ns(rt, namespace), name))
        return clone(obj) if obj is not None else None

    def get(self, resource: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        obj = self.find(resource, name, namespace)
        if obj is None:
            raise not_found(self._rt(resource).qualified, name)
        return obj

    def iter_objects(
        self,
        resource: str,
        namespace: str | None = None,
        label_selector: str | dict[str, Any] | None = None,
        field_selector: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Matching committed objects, sorted by (namespace, name), NOT copied (callers must not mutate).
        Selectors are parsed before this returns (400 BadRequest on bad syntax)."""
        match = self.selector(resource, label_selector, field_selector)
        bucket = self._bucket(resource)
        keys = sorted(k for k in bucket if not namespace or k[0] == namespace)
        return (bucket[k] for k in keys if k in bucket and match(bucket[k]))

    def selector(
        self, resource: str, label_selector: str | dict[str, Any] | None, field_selector: str | None
    ) -> Callable[[dict[str, Any]], bool]:
        """A compiled label + field selector for objects of ``resource``."""
        match_fields = parse_field_selector(resource, field_selector)
        match_labels = compile_labels(label_selector)
        return lambda obj: match_labels(obj["metadata"].get("labels")) and match_fields(obj)

    def list(
        self,
        resource: str,
        namespace: str | None = None,
        label_selector: str | dict[str, Any] | None = None,
        field_selector: str | None = None,
    ) -> list[dict[str, Any]]:
        return [clone(o) for o in self.iter_objects(resource, namespace, label_selector, field_selector)]

    def matches(
        self, resource: str, obj: dict[str, Any], label_selector: str | None, field_selector: str | None
    ) -> bool:
        return self.selector(resource, label_selector, field_selector)(obj)

    # --- writes -----------------------------------------------------------------------------------
    def _admit(self, op: str, resource: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        for fn in self._admission:
            fn(op, resource, obj, old)

    def _commit(self, event_type: str, resource: str, obj: dict[str, Any]) -> dict[str, Any]:
        bucket = self._bucket(resource)
        old = bucket.get(object_key(obj)) if event_type == "MODIFIED" else None
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        key = object_key(obj)
        previous = bucket.get(key)
        if previous is not None:
            self._unindex(resource, key, previous)
        if event_type == "DELETED":
            bucket.pop(key, None)
        else:
            bucket[key] = obj
            self._index(resource, key, obj)
        event = StoredEvent(self._rv, event_type, resource, obj, old)
        self._hub.publish(event)
        if self._listeners:
            shared = clone(obj)  # one copy for all listeners: they must not mutate it
            for fn in list(self._listeners):
                fn(event_type, resource, shared)
        return clone(obj)

    def _index(self, resource: str, key: tuple[str, str], obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self._by_uid[meta["uid"]] = (resource, key)
        for ref in meta.get("ownerReferences") or ():
            self._dependents.setdefault(str(ref.get("uid")), set()).add((resource, key))

    def _unindex(self, resource: str, key: tuple[str, str], obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        self._by_uid.pop(meta.get("uid", ""), None)
        for ref in meta.get("ownerReferences") or ():
            deps = self._dependents.get(str(ref.get("uid")))
            if deps is not None:
                deps.discard((resource, key))
                if not deps:
                    del self._dependents[str(ref.get("uid"))]

    def _check_namespace(self, rt: ResourceType, namespace: str) -> None:
        if rt.namespaced:
            if not namespace:
                raise bad_request("the server could not find the requested resource: namespace is required")
            if ("", namespace) not in self._objects.get("namespaces", {}):
                raise not_found("namespaces", namespace)

    def create(
        self, resource: str, obj: dict[str, Any], namespace: str | None = None, *, dry_run: bool = False
    ) -> dict[str, Any]:
        rt = self._rt(resource)
        obj = clone(obj)
        obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
        meta = obj.setdefault("metadata", {})
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        ns = self._ns(rt, namespace or meta.get("namespace"))
        if rt.namespaced and namespace and meta.get("namespace") and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = meta["generateName"] + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))
        if rt.namespaced:
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
            meta.pop(key, None)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock.iso()
        if resource in _GENERATION_KINDS:
            meta["generation"] = 1
        apply_defaults(rt, obj, creating=True)
        self._check_namespace(rt, ns)
        if (ns, meta["name"]) in self._bucket(resource):
            raise already_exists(rt.qualified, meta["name"])
        if resource == "services":
            self._allocate_cluster_ip(obj)
        self._admit("CREATE", resource, obj, None)
        if dry_run:
            return obj
        return self._commit("ADDED", resource, ordered(obj))

    def _allocate_cluster_ip(self, obj: dict[str, Any]) -> None:
        spec = obj["spec"]
        if spec.get("type") == "ExternalName" or spec.get("clusterIP"):
            spec.setdefault("clusterIPs", [spec["clusterIP"]] if spec.get("clusterIP") else [])
            return
        n = self._next_ip
        self._next_ip += 1
        spec["clusterIP"] = f"10.43.{(n // 250) % 250}.{n % 250 + 2}"
        spec["clusterIPs"] = [spec["clusterIP"]]

    def _existing(self, resource: str, obj: dict[str, Any]) -> tuple[ResourceType, dict[str, Any]]:
        rt = self._rt(resource)
        meta = obj.get("metadata") or {}
        current = self._bucket(resource).get((self._ns(rt, meta.get("namespace")), meta.get("name", "")))
        if current is None:
            raise not_found(rt.qualified, meta.get("name", ""))
        rv = meta.get("resourceVersion")
        if rv and str(rv) != current["metadata"]["resourceVersion"]:
            raise conflict(rt.qualified, meta.get("name", ""))
        return rt, current

    def _update(
        self,
        resource: str,
        new: dict[str, Any],
        current: dict[str, Any],
        *,
        status_only: bool,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        rt = self._rt(resource)
        old = current
        if status_only:
            obj = clone(old)
            if "status" in new:
                obj["status"] = clone(new["status"])
        else:
            obj = clone(new)
            obj["apiVersion"], obj["kind"] = rt.api_version, rt.kind
            meta = obj.setdefault("metadata", {})
            for key in ("uid", "creationTimestamp", "namespace", "name", "deletionTimestamp", "generation"):
                if key in old["metadata"]:
                    meta[key] = old["metadata"][key]
                else:
                    meta.pop(key, None)
            meta["resourceVersion"] = old["metadata"]["resourceVersion"]
            if "status" in old and "status" in rt.subresources:
                obj["status"] = clone(old["status"])
            apply_defaults(rt, obj, creating=False)
            check_immutable(rt, obj, old)
            if "generation" in meta and spec_of(obj) != spec_of(old):
                meta["generation"] = int(meta["generation"]) + 1
        if obj == old:
            return clone(old)  # no-op writes do not bump the resourceVersion (like the apiserver)
        self._admit("UPDATE", resource, obj, clone(old))
        if dry_run:
            return obj
        obj = ordered(obj)
        if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get("finalizers"):
            return self._finish_delete(resource, obj)
        return self._commit("MODIFIED", resource, obj)

    def replace(self, resource: str, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        _, current = self._existing(resource, obj)
        return self._update(resource, obj, current, status_only=False, dry_run=dry_run)

    def update_status(self, resource: str, obj: dict[str, Any], *, dry_run: bool = False) -> dict[str, Any]:
        _, current = self._existing(resource, obj)
        return self._update(resource, obj, current, status_only=True, dry_run=dry_run)

    def patch(
        self,
        resource: str,
        name: str,
        namespace: str | None,
        patch: Any,
        patch_type: str,
        *,
        status_only: bool = False,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        rt = self._rt(resource)
        current = self._bucket(resource).get((self._ns(rt, namespace), name))
        if current is None:
            raise not_found(rt.qualified, name)
        patched = apply_patch(clone(current), patch, patch_type)
        meta = patched.get("metadata")
        if not isinstance(meta, dict):
            raise bad_request("metadata must be an object")
        if meta.get("name") != name:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        rv = meta.get("resourceVersion")
        if rv and str(rv) != current["metadata"]["resourceVersion"]:
            raise conflict(rt.qualified, name)
        meta["resourceVersion"] = current["metadata"]["resourceVersion"]
        if status_only:
            return self._update(resource, patched, current, status_only=True, dry_run=dry_run)
        if "status" in rt.subresources:
            patched["status"] = clone(current.get("status"))
            if patched["status"] is None:
                patched.pop("status")
        return self._update(resource, patched, current, status_only=False, dry_run=dry_run)

    def delete(
        self,
        resource: str,
        name: str,
        namespace: str | None = None,
        *,
        propagation: str = "Background",
        dry_run: bool = False,
    ) -> dict[str, Any]:
        rt = self._rt(resource)
        current = self._bucket(resource).get((self._ns(rt, namespace), name))
        if current is None:
            raise not_found(rt.qualified, name)
        self._admit("DELETE", resource, clone(current), clone(current))
        if dry_run:
            return clone(current)
        if current["metadata"].get("finalizers"):
            if current["metadata"].get("deletionTimestamp"):
                return clone(current)
            obj = clone(current)
            obj["metadata"]["deletionTimestamp"] = self.clock.iso()
            obj["metadata"]["deletionGracePeriodSeconds"] = 0
            return self._commit("MODIFIED", resource, obj)
        return self._finish_delete(resource, clone(current), propagation)

    def _finish_delete(
        self, resource: str, obj: dict[str, Any], propagation: str = "Background"
    ) -> dict[str, Any]:
        if resource == "namespaces":  # the namespace controller empties it, then it goes
            ns = obj["metadata"]["name"]
            for plural, bucket in list(self._objects.items()):
                for key in [k for k in bucket if k[0] == ns]:
                    if key in bucket:
                        self._force_delete(plural, bucket[key])
            obj["metadata"].setdefault("deletionTimestamp", self.clock.iso())
            obj.setdefault("status", {})["phase"] = "Terminating"
        deleted = self._commit("DELETED", resource, obj)
        if propagation != "Orphan":
            self._collect_dependents(obj)
        return deleted

    def _force_delete(self, resource: str, obj: dict[str, Any]) -> None:
        snapshot = clone(obj)
        self._commit("DELETED", resource, snapshot)
        self._collect_dependents(snapshot)

    def _collect_dependents(self, owner: dict[str, Any]) -> None:
        """Background garbage collection: dependents whose last owner is gone are deleted (or marked for
        deletion when finalizers hold them); dependents with another live owner just lose the reference."""
        uid = str(owner["metadata"].get("uid"))
        for plural, key in sorted(self._dependents.get(uid, ())):
            dep = self._objects.get(plural, {}).get(key)
            if dep is None:
                continue
            refs = dep["metadata"].get("ownerReferences") or []
            remaining = [r for r in refs if r.get("uid") != uid]
            if any(str(r.get("uid")) in self._by_uid for r in remaining):
                updated = clone(dep)
                updated["metadata"]["ownerReferences"] = remaining
                self._commit("MODIFIED", plural, updated)
            elif dep["metadata"].get("finalizers"):
                if not dep["metadata"].get("deletionTimestamp"):
                    marked = clone(dep)
                    marked["metadata"]["deletionTimestamp"] = self.clock.iso()
                    marked["metadata"]["deletionGracePeriodSeconds"] = 0
                    self._commit("MODIFIED", plural, marked)
            else:
                self._force_delete(plural, dep)

    # --- watches ----------------------------------------------------------------------------------
    def watch(
        self, resource: str, namespace: str | None, since: int | None
    ) -> tuple[Watcher, builtins.list[StoredEvent]]:
        """Register a watcher. ``since`` None → no replay (caller sends synthetic ADDED events);
        otherwise replay history after ``since``; 410 Expired when ``since`` is older than the history."""
        self._bucket(resource)
        return self._hub.watch(resource, namespace, since, self._rv)

    def unwatch(self, watcher: Watcher) -> None:
        self._hub.unwatch(watcher)

    def close_watchers(self) -> None:
        self._hub.close_all()
