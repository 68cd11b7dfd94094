"""Where a setting came from: the line of a key in a TOML document, and ``HKS_*`` environment parsing.

Pure helpers of :mod:`hks_tui.config` (no models here, so both stay small and import-cheap).
"""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import BaseModel

ENV_PREFIX = "HKS_"
ENV_NESTED_DELIMITER = "__"


def _toml_key_paths(text: str) -> list[tuple[int, tuple[str | int, ...]]]:
    """(line number, key path) of every table header and key assignment of a TOML document."""
    out: list[tuple[int, tuple[str | int, ...]]] = []
    table: tuple[str | int, ...] = ()
    array_counts: dict[tuple[str | int, ...], int] = {}
    part = r'(?:"[^"]*"|\'[^\']*\'|[A-Za-z0-9_-]+)'
    dotted = rf"{part}(?:\s*\.\s*{part})*"
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if m := re.match(rf"^\[\[\s*({dotted})\s*\]\]", line):
            base = _split_key(m.group(1))
            index = array_counts.get(base, -1) + 1
            array_counts[base] = index
            table = (*base, index)
            out.append((number, table))
        elif m := re.match(rf"^\[\s*({dotted})\s*\]", line):
            table = _split_key(m.group(1))
            out.append((number, table))
        elif m := re.match(rf"^({dotted})\s*=", line):
            out.append((number, (*table, *_split_key(m.group(1)))))
    return out


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', key)
    return tuple(next(p for p in groups if p) if any(groups) else "" for groups in parts)


def line_for(text: str, loc: tuple[str | int, ...]) -> int | None:
    """The line that best matches a validation error location: the longest matching key path."""
    best: tuple[int, int] | None = None  # (matched length, line)
    for number, keys in _toml_key_paths(text):
        length = 0
        for a, b in zip(keys, loc, strict=False):
            if a != b:
                break
            length += 1
        if length == len(keys) and length > 0 and (best is None or length > best[0]):
            best = (length, number)
    return best[1] if best else None


def env_source(loc: tuple[str | int, ...]) -> str | None:
    """The ``HKS_*`` variable that set the value at ``loc`` (or one of its parents), if any."""
    env = {k.upper(): k for k in os.environ}
    for end in range(len(loc), 0, -1):
        name = "HKS_" + "__".join(str(p) for p in loc[:end]).upper()
        if name in env:
            return env[name]
    return None


def is_complex(annotation: Any) -> bool:
    """Whether a setting's type takes a JSON value from the environment (a model, dict or list)."""
    origin = getattr(annotation, "__origin__", None)
    if origin in (dict, list):
        return True
    return isinstance(annotation, type) and issubclass(annotation, (BaseModel, dict, list))


def deep_merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``update``, nested dicts merged key by key (``update`` wins)."""
    merged = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
