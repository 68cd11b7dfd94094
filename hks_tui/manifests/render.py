"""YAML rendering for the wizard's review step and exports (PyYAML, stable key order, block scripts)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel

SpecT = TypeVar("SpecT", bound=BaseModel)

_HEAD = ("apiVersion", "kind", "metadata", "spec")


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data and not any(line != line.rstrip() for line in data.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str_representer)


def _ordered(obj: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata, spec first; every other key keeps the builder's order."""
    head = {key: obj[key] for key in _HEAD if key in obj}
    return {**head, **{k: v for k, v in obj.items() if k not in head}}


def to_yaml(objects: dict[str, Any] | Iterable[dict[str, Any]]) -> str:
    """One object or several (as a ``---``-separated stream); deterministic output for equal input."""
    items = [objects] if isinstance(objects, dict) else list(objects)
    return yaml.dump_all(
        [_ordered(item) for item in items],
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
        explicit_start=len(items) > 1,
    )


def dump_spec(spec: BaseModel) -> str:
    """A spec (AppSpec, VolumeSpec, BackupSpec…) as YAML: what the Review step exports and ``-f`` reads."""
    return to_yaml(spec.model_dump(mode="json", exclude_defaults=True))


def load_spec(model: type[SpecT], text: str) -> SpecT:
    """Parse YAML text into ``model``; raises ``ValueError`` (YAML errors) or pydantic ``ValidationError``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("the spec must be a YAML mapping")
    return model.model_validate(data)
