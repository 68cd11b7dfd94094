"""The three patch types the apiserver accepts: JSON merge patch (RFC 7386), strategic merge patch
(lists merged by their Kubernetes merge keys, ``$patch`` directives) and JSON patch (RFC 6902)."""

from __future__ import annotations

import copy
from typing import Any

from hks_tui.lab.kube.errors import ApiError, bad_request

# list field name → merge key (the patchMergeKey of the Kubernetes API types)
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "conditions": "type",
    "ownerReferences": "uid",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "readinessGates": "conditionType",
}
# lists of scalars that merge as sets
SET_LISTS = {"finalizers"}


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _ports_key(items: list[Any]) -> str:
    for item in items:
        if isinstance(item, dict) and "containerPort" in item:
            return "containerPort"
    return "port"


def _merge_key(field: str, items: list[Any]) -> str | None:
    if field == "ports":
        return _ports_key(items)
    return MERGE_KEYS.get(field)


def _strategic_list(field: str, original: list[Any], patch: list[Any]) -> list[Any]:
    if field in SET_LISTS:
        out = list(original)
        for item in patch:
            if item not in out:
                out.append(item)
        return out
    key = _merge_key(field, [*patch, *original])
    if key is None or not all(isinstance(i, dict) for i in patch):
        return [_strip_directives(copy.deepcopy(i)) for i in patch]
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip_directives(copy.deepcopy(i)) for i in patch if i.get("$patch") != "replace"]
    out = [copy.deepcopy(i) for i in original]
    for item in patch:
        directive = item.get("$patch")
        ident = item.get(key)
        index = next(
            (n for n, cur in enumerate(out) if isinstance(cur, dict) and cur.get(key) == ident), None
        )
        if directive == "delete":
            if index is not None:
                out.pop(index)
            continue
        body = {k: v for k, v in item.items() if k != "$patch"}
        if index is None:
            out.append(_strip_directives(copy.deepcopy(body)))
        else:
            out[index] = strategic_merge_patch(out[index], body)
    return out


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value]
    return value


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    """Strategic merge: maps merge, keyed lists merge by merge key, ``$patch: delete|replace`` honoured,
    ``$setElementOrder``/``$retainKeys``/``$deleteFromPrimitiveList`` directives applied or dropped."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _strip_directives({k: v for k, v in patch.items() if k != "$patch"})
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            if isinstance(result.get(field), list):
                result[field] = [v for v in result[field] if v not in (value or [])]
            continue
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _strategic_list(key, result[key], value)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = _strip_directives(copy.deepcopy(value))
    return result


# --- JSON patch ------------------------------------------------------------------------------------


def _tokens(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise bad_request(
            f'the server rejected our request due to an error in our request: invalid JSON pointer "{pointer}"'
        )
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _fail(message: str) -> ApiError:
    return ApiError(422, "Invalid", message)


def _resolve(doc: Any, tokens: list[str], pointer: str) -> Any:
    cur = doc
    for tok in tokens:
        if isinstance(cur, dict):
            if tok not in cur:
                raise _fail(f'jsonpatch: doc is missing path: "{pointer}": missing value')
            cur = cur[tok]
        elif isinstance(cur, list):
            try:
                cur = cur[int(tok)]
            except (ValueError, IndexError):
                raise _fail(f'jsonpatch: doc is missing path: "{pointer}": missing value') from None
        else:
            raise _fail(f'jsonpatch: doc is missing path: "{pointer}"')
    return cur


def _add(doc: Any, pointer: str, value: Any) -> Any:
    tokens = _tokens(pointer)
    if not tokens:
        return copy.deepcopy(value)
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = copy.deepcopy(value)
    elif isinstance(parent, list):
        if last == "-":
            parent.append(copy.deepcopy(value))
        else:
            try:
                index = int(last)
            except ValueError:
                raise _fail(
                    f"jsonpatch add operation does not apply: doc is missing key: {pointer}"
                ) from None
            if index < 0 or index > len(parent):
                raise _fail(f"jsonpatch add operation does not apply: doc is missing key: {pointer}")
            parent.insert(index, copy.deepcopy(value))
    else:
        raise _fail(f"jsonpatch add operation does not apply: doc is missing path: {pointer}")
    return doc


def _remove(doc: Any, pointer: str) -> tuple[Any, Any]:
    tokens = _tokens(pointer)
    if not tokens:
        raise _fail("jsonpatch: cannot remove the document root")
    parent = _resolve(doc, tokens[:-1], pointer)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return doc, parent.pop(last)
    if isinstance(parent, list):
        try:
            return doc, parent.pop(int(last))
        except (ValueError, IndexError):
            pass
    raise _fail(f'jsonpatch remove operation does not apply: doc is missing path: "{pointer}"')


def json_patch(target: Any, operations: Any) -> Any:
    """Apply an RFC 6902 operation list; a failed ``test`` or a missing path → 422 Invalid."""
    if not isinstance(operations, list):
        raise bad_request("json patch must be a JSON array of operations")
    doc = copy.deepcopy(target)
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise bad_request(f"invalid JSON patch operation: {op!r}")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, op.get("value"))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace" and path == "":
            doc = copy.deepcopy(op.get("value"))
        elif kind == "replace":
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, op.get("value"))
        elif kind in ("move", "copy"):
            source = op.get("from", "")
            if kind == "move":
                doc, value = _remove(doc, source)
            else:
                value = copy.deepcopy(_resolve(doc, _tokens(source), source))
            doc = _add(doc, path, value)
        elif kind == "test":
            if _resolve(doc, _tokens(path), path) != op.get("value"):
                raise _fail(f"jsonpatch test operation does not apply: is not equal: {path}")
        else:
            raise bad_request(f"Unexpected kind: {kind}")
    return doc


def apply_patch(target: dict[str, Any], patch: Any, patch_type: str) -> dict[str, Any]:
    if patch_type == "merge":
        result = merge_patch(target, patch)
    elif patch_type == "strategic":
        result = strategic_merge_patch(target, patch)
    elif patch_type == "json":
        result = json_patch(target, patch)
    else:
        raise ApiError(415, "UnsupportedMediaType", f"unsupported patch type {patch_type!r}")
    if not isinstance(result, dict):
        raise bad_request("the patched object is not a JSON object")
    return result
