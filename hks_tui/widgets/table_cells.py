"""Columns, rows and cell helpers for :class:`~hks_tui.widgets.table_model.TableModel` (no Textual)."""

from __future__ import annotations

import gc
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import methodcaller
from typing import Any, Literal

from rich.cells import cell_len

Align = Literal["left", "right", "center"]

_QUANTITY = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([KMGTPE]i|[kKMGTPE]|m)?[Bb]?\s*$")
_UNIT = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "K": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "P": 1e15,
    "E": 1e18,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
    "Pi": 2.0**50,
    "Ei": 2.0**60,
}


def natural_sort_key(value: Any) -> tuple[int, Any]:
    """Sort key that orders numbers and quantities ("512Mi" < "2Gi", "250m" < "1") numerically.

    Numbers (and strings that parse as a number with an optional SI/IEC suffix) sort first, then other
    strings case-insensitively, then ``None``/empty values.
    """
    if value is None or value == "":
        return (2, 0)
    if isinstance(value, bool):
        return (0, float(value))
    if isinstance(value, int | float):
        return (0, float(value))
    text = str(value)
    match = _QUANTITY.match(text)
    if match is not None:
        return (0, float(match.group(1)) * _UNIT[match.group(2)])
    return (1, text.casefold())


_GROUP1 = methodcaller("group", 1)
_GROUP2 = methodcaller("group", 2)


def column_sort_keys(raw: Sequence[Any]) -> Sequence[Any]:
    """Sort keys for a whole column, equivalent to ``map(natural_sort_key, raw)`` but with C-level
    loops for the common homogeneous cases (all numbers, all plain words, all quantities)."""
    types = set(map(type, raw))
    if types <= {int, float}:
        return raw
    if types == {str} and "" not in raw:
        unique = list(set(raw))  # quantity columns repeat values: parse each distinct one once
        matches = list(map(_QUANTITY.match, unique))
        if not any(matches):
            return list(map(str.casefold, raw))
        if all(matches):
            numbers = map(float, map(_GROUP1, matches))
            units = map(_UNIT.__getitem__, map(_GROUP2, matches))
            value_of = dict(zip(unique, map(operator.mul, numbers, units), strict=True))
            return list(map(value_of.__getitem__, raw))
    return list(map(natural_sort_key, raw))


def default_format(value: Any) -> str:
    """The default cell formatter: ``None`` → empty, everything else ``str()``, first line only."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if "\n" in text:
        return text.split("\n", 1)[0] + " …"
    return text


@dataclass(frozen=True)
class Column:
    """A table column.

    ``width`` ``None`` means auto (sized to the widest display value, clamped to ``min_width`` …
    ``max_width``). ``optional`` columns can be hidden by the user; ``visible`` is the initial state.
    """

    key: str
    label: str
    width: int | None = None
    align: Align = "left"
    sortable: bool = True
    optional: bool = False
    visible: bool = True
    formatter: Callable[[Any], str] | None = None
    sort_key: Callable[[Any], Any] | None = None
    min_width: int = 1
    max_width: int = 48


@dataclass
class Row:
    """A row as given by the owner: raw values by column key (or in column order) and optional styles."""

    key: str
    values: Mapping[str, Any] | Sequence[Any]
    styles: Mapping[str, str] | None = None


def format_column(
    fmt: Callable[[Any], str], raw: Sequence[Any], types: set[type] | None = None
) -> Sequence[str]:
    """Format one column of raw values (C-level loops for the default formatter)."""
    if fmt is not default_format:
        return list(map(fmt, raw))
    if types is None:
        types = set(map(type, raw))
    if types == {str}:
        return raw  # type: ignore[return-value]
    strs = list(map(str, raw))
    if type(None) in types:
        strs = [("" if v is None else t) for v, t in zip(raw, strs, strict=True)]
    if str in types and "\n" in "".join(strs):
        strs = [default_format(t) for t in strs]
    return strs


def column_width(fmt: Callable[[Any], str], raw: Sequence[Any], types: set[type] | None = None) -> int:
    """Widest display value of one column, in cells."""
    if not raw:
        return 0
    if fmt is default_format:
        if types is None:
            types = set(map(type, raw))
        if types == {int}:
            return max(len(str(max(raw))), len(str(min(raw))))
        if types == {str}:
            texts: Sequence[str] = raw
            return max(map(len if "".join(texts).isascii() else cell_len, texts))
    texts = format_column(fmt, raw, types)
    return max(map(len if "".join(texts).isascii() else cell_len, texts))


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic GC around bulk allocations of acyclic objects (tuples, strings, dicts)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
