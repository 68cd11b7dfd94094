"""Unknown-field detection (``fieldValidation``) against the kubernetes client's typed models.

The apiserver decodes request bodies into typed objects, so unknown fields are dropped; with
``fieldValidation=Strict`` (what kubectl sends) they are a 400 ``strict decoding error``, with ``Warn``
(the default) a ``Warning`` response header, with ``Ignore`` nothing. The lab walks a body against the
client's model classes (``attribute_map`` gives the JSON names) and prunes what the model lacks.
"""

from __future__ import annotations

import functools
import types
import typing
from typing import Any

from hks_tui.lab.kube.errors import bad_request
from hks_tui.lab.kube.resources import ResourceType

_MODES = ("Strict", "Warn", "Ignore")


def validation_mode(value: str | None) -> str:
    if not value:
        return "Warn"
    if value not in _MODES:
        raise bad_request(
            f'fieldValidation: Unsupported value: "{value}": supported values: "Ignore", "Strict", "Warn"'
        )
    return value


@functools.cache
def _model(name: str) -> type | None:
    from kubernetes import client

    return getattr(client, name, None)


def _element_model(annotation: Any) -> tuple[str, type | None]:
    """(``"model"|"list"|"dict"|"other"``, model class) for a field annotation."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _element_model(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                kind, model = _element_model(arg)
                if model is not None:
                    return kind, model
        return "other", None
    if origin in (list, typing.List):  # noqa: UP006
        kind, model = _element_model(typing.get_args(annotation)[0])
        return ("list", model) if kind == "model" else ("other", None)
    if origin in (dict, typing.Dict):  # noqa: UP006
        kind, model = _element_model(typing.get_args(annotation)[1])
        return ("dict", model) if kind == "model" else ("other", None)
    if isinstance(annotation, type) and hasattr(annotation, "attribute_map"):
        return "model", annotation
    return "other", None


@functools.cache
def _fields(model: type) -> dict[str, tuple[str, type | None]]:
    """JSON name → (container kind, nested model) for one model class."""
    out: dict[str, tuple[str, type | None]] = {}
    attribute_map: dict[str, str] = getattr(model, "attribute_map", {})
    for py_name, info in model.model_fields.items():  # type: ignore[attr-defined]
        out[attribute_map.get(py_name, py_name)] = _element_model(info.annotation)
    return out


def prune(value: Any, model: type, path: str, found: list[str]) -> None:
    """Remove keys ``model`` does not know from ``value`` (in place), recording their paths."""
    if not isinstance(value, dict):
        return
    fields = _fields(model)
    for key in list(value):
        if key.startswith("$"):  # strategic merge patch directives
            continue
        spec = fields.get(key)
        where = f"{path}.{key}" if path else key
        if spec is None:
            found.append(where)
            del value[key]
            continue
        kind, nested = spec
        child = value[key]
        if nested is None:
            continue
        if kind == "model":
            prune(child, nested, where, found)
        elif kind == "list" and isinstance(child, list):
            for n, item in enumerate(child):
                prune(item, nested, f"{where}[{n}]", found)
        elif kind == "dict" and isinstance(child, dict):
            for k, item in child.items():
                prune(item, nested, f"{where}[{k}]", found)


def check_unknown_fields(rt: ResourceType, body: Any, mode: str) -> list[str]:
    """Prune unknown fields from ``body``; Strict → 400, otherwise the warning texts to send."""
    model = _model(rt.model) if rt.model else None
    if model is None or not isinstance(body, dict) or mode == "Ignore":
        return []
    found: list[str] = []
    prune(body, model, "", found)
    if not found:
        return []
    if mode == "Strict":
        details = ", ".join(f'unknown field "{f}"' for f in found)
        raise bad_request(
            f'{rt.kind} in version "{rt.version}" cannot be handled as a {rt.kind}: strict decoding error: {details}'
        )
    return [f'unknown field "{f}"' for f in found]
