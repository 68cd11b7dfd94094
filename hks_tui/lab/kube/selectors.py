"""Label and field selectors with the apiserver's syntax and semantics."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hks_tui.lab.kube.errors import ApiError, bad_request

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op in ("gt", "lt"):
            try:
                number = int(value or "")
            except ValueError:
                return False
            bound = int(self.values[0])
            return number > bound if self.op == "gt" else number < bound
        return False


def _split_top_level(text: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    current = ""
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _check_key(key: str, text: str) -> None:
    if not re.fullmatch(_KEY, key):
        raise bad_request(f'unable to parse requirement: invalid label key "{key}" in selector "{text}"')


def _check_value(value: str, text: str) -> None:
    if len(value) > 63 or not re.fullmatch(_VALUE, value):
        raise bad_request(f'unable to parse requirement: invalid label value: "{value}" in selector "{text}"')


def parse_label_selector(text: str) -> list[Requirement]:
    """Parse ``a=b,c!=d,e in (f,g),h notin (i),j,!k``; raises 400 BadRequest on bad syntax."""
    reqs: list[Requirement] = []
    if not text or not text.strip():
        return reqs
    for raw in _split_top_level(text):
        part = raw.strip()
        if not part:
            raise bad_request(f"unable to parse requirement: found '', expected: identifier in \"{text}\"")
        m = re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", part)
        if m:
            key = m.group(1)
            _check_key(key, text)
            values = tuple(v.strip() for v in m.group(3).split(",") if v.strip())
            for v in values:
                _check_value(v, text)
            if not values and m.group(2) == "in":
                raise bad_request(
                    f"unable to parse requirement: for 'in' operator, values set can't be empty in \"{text}\""
                )
            reqs.append(Requirement(key, m.group(2), values))
            continue
        m = re.fullmatch(r"([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)", part)
        if m:
            key, op, value = m.group(1), m.group(2), m.group(3).strip()
            _check_key(key, text)
            if op in (">", "<"):
                if not re.fullmatch(r"-?\d+", value):
                    raise bad_request(
                        f'unable to parse requirement: invalid integer value "{value}" in "{text}"'
                    )
                reqs.append(Requirement(key, "gt" if op == ">" else "lt", (value,)))
                continue
            _check_value(value, text)
            reqs.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
            continue
        if part.startswith("!"):
            key = part[1:].strip()
            _check_key(key, text)
            reqs.append(Requirement(key, "!exists"))
            continue
        _check_key(part, text)
        reqs.append(Requirement(part, "exists"))
    return reqs


def selector_from_dict(selector: Mapping[str, Any]) -> list[Requirement]:
    """A ``LabelSelector`` object (matchLabels + matchExpressions) as requirements."""
    reqs = [Requirement(k, "=", (str(v),)) for k, v in (selector.get("matchLabels") or {}).items()]
    ops = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!exists"}
    for expr in selector.get("matchExpressions") or []:
        op = ops.get(expr.get("operator", ""))
        if op is None:
            raise bad_request(f"invalid label selector operator {expr.get('operator')!r}")
        reqs.append(Requirement(expr.get("key", ""), op, tuple(expr.get("values") or ())))
    return reqs


def compile_labels(selector: str | Mapping[str, Any] | None) -> Callable[[Mapping[str, str] | None], bool]:
    """Parse ``selector`` (a string, a LabelSelector dict or a plain label map) once; 400 on bad syntax."""
    if selector is None:
        return lambda labels: True
    if isinstance(selector, str):
        reqs = parse_label_selector(selector)
    elif "matchLabels" in selector or "matchExpressions" in selector:
        reqs = selector_from_dict(selector)
    else:
        reqs = [Requirement(k, "=", (str(v),)) for k, v in selector.items()]
    return lambda labels: all(r.matches(labels or {}) for r in reqs)


def labels_match(selector: str | Mapping[str, Any] | None, labels: Mapping[str, str] | None) -> bool:
    """True when ``labels`` satisfy ``selector`` (a string, a LabelSelector dict or a plain label map)."""
    return compile_labels(selector)(labels)


# --- field selectors -------------------------------------------------------------------------------


def _path(*keys: str) -> Callable[[dict[str, Any]], str]:
    def get(obj: dict[str, Any]) -> str:
        cur: Any = obj
        for key in keys:
            cur = cur.get(key) if isinstance(cur, dict) else None
        if cur is None:
            return ""
        if isinstance(cur, bool):
            return "true" if cur else "false"
        return str(cur)

    return get


_COMMON = {"metadata.name": _path("metadata", "name"), "metadata.namespace": _path("metadata", "namespace")}
_FIELDS: dict[str, dict[str, Callable[[dict[str, Any]], str]]] = {
    "pods": {
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    "events": {
        f"involvedObject.{f}": _path("involvedObject", f)
        for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
    }
    | {
        "reason": _path("reason"),
        "source": _path("source", "component"),
        "type": _path("type"),
        "reportingComponent": _path("reportingComponent"),
    },
    "nodes": {"spec.unschedulable": _path("spec", "unschedulable")},
    "namespaces": {"status.phase": _path("status", "phase")},
    "secrets": {"type": _path("type")},
    "persistentvolumes": {"name": _path("metadata", "name")},
    "jobs": {"status.successful": _path("status", "succeeded")},
    "replicasets": {"status.replicas": _path("status", "replicas")},
}


def parse_field_selector(resource: str, text: str | None) -> Callable[[dict[str, Any]], bool]:
    """Compile a field selector for ``resource``; unsupported fields → 400 like the apiserver."""
    if not text or not text.strip():
        return lambda obj: True
    supported = {**_COMMON, **_FIELDS.get(resource, {})}
    tests: list[tuple[Callable[[dict[str, Any]], str], bool, str]] = []
    for raw in text.split(","):
        part = raw.strip()
        m = re.fullmatch(r"([^=!]+?)\s*(==|=|!=)\s*(.*)", part)
        if not m:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        name, op, value = m.group(1).strip(), m.group(2), m.group(3).strip()
        getter = supported.get(name)
        if getter is None:
            kind = resource[:-1] if resource.endswith("s") else resource
            raise ApiError(
                400,
                "BadRequest",
                f"field label not supported: {name}" if kind else f'"{name}" is not a known field selector',
            )
        tests.append((getter, op == "!=", value))

    def match(obj: dict[str, Any]) -> bool:
        return all(
            (getter(obj) != value) if negate else (getter(obj) == value) for getter, negate, value in tests
        )

    return match
