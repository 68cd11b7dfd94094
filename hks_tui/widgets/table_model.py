"""The data side of :class:`~hks_tui.widgets.resource_table.ResourceTable` (no Textual here).

Rows are stored once, keyed by id, as tuples of raw cell values in column order. The *view* (the ordered
list of keys that is actually shown) is derived lazily: insertion order → stable sort → substring filter.
Display strings and filter text are computed on demand and cached per row, and the caches are dropped
when the row changes, so a 50k-row replace only does the work that the first visible frame needs plus
one pass to size auto-width columns.
"""

from __future__ import annotations

import gc
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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


def format_column(fmt: Callable[[Any], str], raw: Sequence[Any]) -> Sequence[str]:
    """Format one column of raw values (C-level loops for the default formatter)."""
    if fmt is not default_format:
        return list(map(fmt, raw))
    types = set(map(type, raw))
    if types == {str}:
        return raw  # type: ignore[return-value]
    strs = list(map(str, raw))
    if type(None) in types:
        strs = [("" if v is None else t) for v, t in zip(raw, strs, strict=True)]
    if str in types and "\n" in "".join(strs):
        strs = [default_format(t) for t in strs]
    return strs


def column_width(fmt: Callable[[Any], str], raw: Sequence[Any]) -> int:
    """Widest display value of one column, in cells."""
    if not raw:
        return 0
    if fmt is default_format:
        types = set(map(type, raw))
        if types == {int}:
            return max(len(str(max(raw))), len(str(min(raw))))
        if types == {str}:
            texts: Sequence[str] = raw
            return max(map(len if "".join(texts).isascii() else cell_len, texts))
    texts = format_column(fmt, raw)
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


@dataclass
class TableModel:
    """Keyed rows (raw value tuples in column order), sort and filter state, and the derived view.

    ``values[key]`` holds the raw cells, ``styles[key]`` the optional per-cell styles (sparse), and
    ``versions[key]`` counts in-place updates so renderers can cache per (key, version). A bulk
    :meth:`replace` bumps :attr:`generation` instead, which invalidates every cached rendering.
    """

    columns: list[Column] = field(default_factory=list)
    values: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    styles: dict[str, tuple[str | None, ...]] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    generation: int = 0
    sort_column: str | None = None
    sort_reverse: bool = False
    filter_text: str = ""
    hidden: set[str] = field(default_factory=set)
    _view: list[str] | None = None
    _search: list[str] | None = None
    _search_pos: dict[str, int] | None = None
    _columns: list[tuple[Any, ...]] | None = None
    _last_filter: tuple[str, list[str], list[str]] | None = None

    def __post_init__(self) -> None:
        self.hidden = {c.key for c in self.columns if not c.visible}
        self._reindex_columns()

    # -- columns -------------------------------------------------------------------------------------
    def _reindex_columns(self) -> None:
        self._keys = [c.key for c in self.columns]
        self._col_index = {c.key: i for i, c in enumerate(self.columns)}
        self._formatters = [c.formatter or default_format for c in self.columns]

    def set_columns(self, columns: Iterable[Column]) -> None:
        self.columns = list(columns)
        self.hidden = {c.key for c in self.columns if not c.visible}
        self._reindex_columns()
        self.values = {}
        self.styles = {}
        self.versions = {}
        self._columns = None
        self._search = None
        self._search_pos = None
        self.generation += 1
        self.invalidate_view()

    def visible_columns(self) -> list[tuple[int, Column]]:
        return [(i, c) for i, c in enumerate(self.columns) if c.key not in self.hidden]

    def set_column_visible(self, key: str, visible: bool) -> None:
        if key not in self._col_index:
            raise KeyError(key)
        if visible:
            self.hidden.discard(key)
        else:
            self.hidden.add(key)
        self._search = None
        self._search_pos = None
        self.generation += 1
        self.invalidate_view()

    # -- rows ----------------------------------------------------------------------------------------
    def _normalise(self, row: Row) -> tuple[Any, ...]:
        values = row.values
        if type(values) is tuple:
            vals: tuple[Any, ...] = values
        elif isinstance(values, Mapping):
            vals = tuple(map(values.get, self._keys))
        else:
            vals = tuple(values)
        if len(vals) != len(self._keys):
            raise ValueError(f"row {row.key!r} has {len(vals)} values for {len(self._keys)} columns")
        return vals

    def upsert(self, row: Row) -> bool:
        """Insert or update one row; returns True when something changed."""
        key = row.key
        vals = self._normalise(row)
        styles = tuple(map(row.styles.get, self._keys)) if row.styles else None
        if key in self.values and self.values[key] == vals and self.styles.get(key) == styles:
            return False
        self.values[key] = vals
        if styles is None:
            self.styles.pop(key, None)
        else:
            self.styles[key] = styles
        self.versions[key] = self.versions.get(key, 0) + 1
        self._columns = None
        if self._search is not None:
            if self._search_pos is None:
                self._search_pos = {k: i for i, k in enumerate(self.values)}
            position = self._search_pos.setdefault(key, len(self._search))
            text = self._texts_of([vals])[0]
            if position == len(self._search):
                self._search.append(text)
            else:
                self._search[position] = text
        self.invalidate_view()
        return True

    def remove(self, key: str) -> bool:
        if self.values.pop(key, None) is None:
            return False
        self.styles.pop(key, None)
        self.versions.pop(key, None)
        self._columns = None
        self._search = None
        self._search_pos = None
        self.invalidate_view()
        return True

    def replace(self, rows: Iterable[Row]) -> tuple[int, int]:
        """Keyed replace: rows keep their identity by key; returns (added, removed)."""
        with gc_paused():
            return self._replace(rows)

    def _replace(self, rows: Iterable[Row]) -> tuple[int, int]:
        old = self.values
        new: dict[str, tuple[Any, ...]] = {}
        styles: dict[str, tuple[str | None, ...]] = {}
        keys = self._keys
        width = len(keys)
        for row in rows:
            vals = row.values
            if type(vals) is not tuple or len(vals) != width:
                vals = self._normalise(row)
            new[row.key] = vals
            if row.styles:
                styles[row.key] = tuple(map(row.styles.get, keys))
        kept = sum(map(old.__contains__, new))
        added = len(new) - kept
        removed = len(old) - kept
        self.values = new
        self.styles = styles
        self.versions = {}
        self._columns = None
        self._search = None
        self._search_pos = None
        self.generation += 1
        self.invalidate_view()
        return added, removed

    # -- derived -------------------------------------------------------------------------------------
    def display(self, key: str) -> tuple[str, ...]:
        vals = self.values[key]
        return tuple(fmt(v) for fmt, v in zip(self._formatters, vals, strict=True))

    def transposed(self) -> list[tuple[Any, ...]]:
        """The raw values column by column (cached until the rows change)."""
        if self._columns is None:
            rows = list(self.values.values())
            self._columns = list(zip(*rows, strict=True)) if rows else [() for _ in self.columns]
        return self._columns

    def _texts_of(self, rows: list[tuple[Any, ...]]) -> list[str]:
        return self._texts_from_columns(list(zip(*rows, strict=True)))

    def _texts_from_columns(self, columns: list[tuple[Any, ...]]) -> list[str]:
        shown = [format_column(self._formatters[i], columns[i]) for i, _ in self.visible_columns()]
        return list(map(str.casefold, map("\x00".join, zip(*shown, strict=True))))

    def auto_widths(self) -> dict[str, int]:
        """Width of every visible column: fixed, or the widest display value (header included)."""
        with gc_paused():
            return self._auto_widths()

    def _auto_widths(self) -> dict[str, int]:
        widths: dict[str, int] = {}
        columns = self.transposed() if self.values else []
        for index, column in self.visible_columns():
            if column.width is not None:
                widths[column.key] = column.width
                continue
            widest = len(column.label) + 2  # room for the sort arrow
            if columns:
                widest = max(widest, column_width(self._formatters[index], columns[index]))
            widths[column.key] = max(column.min_width, min(widest, column.max_width))
        return widths

    def invalidate_view(self) -> None:
        self._view = None

    @property
    def view(self) -> list[str]:
        if self._view is None:
            self._view = self._compute_view()
        return self._view

    def _compute_view(self) -> list[str]:
        with gc_paused():
            return self._compute_view_now()

    def _compute_view_now(self) -> list[str]:
        keys = list(self.values)
        order: list[int] | None = None
        if self.sort_column is not None and self.sort_column in self._col_index:
            index = self._col_index[self.sort_column]
            raw = [v[index] for v in self.values.values()]
            custom = self.columns[index].sort_key
            if custom is not None:
                sort_keys: list[Any] = list(map(custom, raw))
            elif set(map(type, raw)) <= {int, float}:
                sort_keys = raw
            else:
                sort_keys = list(map(natural_sort_key, raw))
            order = sorted(range(len(keys)), key=sort_keys.__getitem__, reverse=self.sort_reverse)
        self._last_filter = None
        needle = self.filter_text.casefold()
        if not needle:
            return keys if order is None else list(map(keys.__getitem__, order))
        texts = self._search_index()
        if order is not None:
            keys = list(map(keys.__getitem__, order))
            texts = list(map(texts.__getitem__, order))
        return self._filtered(keys, texts, needle)

    def prepare_search(self) -> None:
        """Build the filter index now (the table does this right after a bulk replace, so the first
        keystroke of a filter only scans strings)."""
        with gc_paused():
            self._search_index()

    def _search_index(self) -> list[str]:
        """Casefolded text of every row's visible cells, aligned with ``list(self.values)``."""
        if self._search is None:
            self._search = self._texts_from_columns(self.transposed()) if self.values else []
            self._search_pos = None
        return self._search

    def _filtered(self, keys: list[str], texts: list[str], needle: str) -> list[str]:
        mask = list(map(operator.contains, texts, itertools.repeat(needle)))
        result = list(itertools.compress(keys, mask))
        self._last_filter = (needle, result, list(itertools.compress(texts, mask)))
        return result

    def set_filter(self, text: str) -> None:
        """Change the filter; narrowing an active filter only re-checks the rows it already matched."""
        needle = text.casefold()
        previous = self._last_filter
        self.filter_text = text
        if self._view is not None and previous is not None and needle and previous[0] in needle:
            with gc_paused():
                self._view = self._filtered(previous[1], previous[2], needle)
        else:
            self.invalidate_view()

    def set_sort(self, column: str | None, reverse: bool = False) -> None:
        if column is not None and column not in self._col_index:
            raise KeyError(column)
        self.sort_column = column
        self.sort_reverse = reverse
        self.invalidate_view()

    def column_index(self, key: str) -> int:
        return self._col_index[key]
