"""The data side of :class:`~hks_tui.widgets.resource_table.ResourceTable` (no Textual here).

Rows are stored once, keyed by id, as tuples of raw cell values in column order. The *view* (the ordered
list of keys actually shown) is derived lazily: insertion order → stable sort → substring filter. Bulk
work runs column-wise through C-level builtins (``map``, ``zip``, ``max``, ``itertools.compress``) so a
50k-row replace costs a few passes over the data, not per-cell Python calls: auto widths come from the
transposed columns, and the filter index (casefolded text of the visible cells) is one string per row.
Display strings for rendering are formatted only for the rows on screen.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from hks_tui.widgets.table_cells import (
    Align,
    Column,
    Row,
    column_sort_keys,
    column_width,
    default_format,
    format_column,
    gc_paused,
    natural_sort_key,
)

__all__ = ["Align", "Column", "Row", "TableModel", "default_format", "natural_sort_key"]

_KEY = attrgetter("key")
_VALUES = attrgetter("values")
_STYLES = attrgetter("styles")


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
    _types: list[set[type] | None] = field(default_factory=list)
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
        batch = rows if isinstance(rows, list) else list(rows)
        values = list(map(_VALUES, batch))
        width = len(self._keys)
        if values and (set(map(type, values)) != {tuple} or set(map(len, values)) != {width}):
            values = list(map(self._normalise, batch))
        new = dict(zip(map(_KEY, batch), values, strict=True))
        styles: dict[str, tuple[str | None, ...]] = {}
        for row in itertools.compress(batch, map(_STYLES, batch)):
            styles[row.key] = tuple(map(row.styles.get, self._keys))  # type: ignore[union-attr]
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
            self._types = [None] * len(self.columns)
        return self._columns

    def column_types(self, index: int) -> set[type]:
        """The set of value types in one column (cached with :meth:`transposed`)."""
        columns = self.transposed()
        types = self._types[index]
        if types is None:
            types = self._types[index] = set(map(type, columns[index]))
        return types

    def _texts_of(self, rows: list[tuple[Any, ...]]) -> list[str]:
        return self._texts_from_columns(list(zip(*rows, strict=True)))

    def _texts_from_columns(self, columns: list[tuple[Any, ...]], cached: bool = False) -> list[str]:
        shown = [
            format_column(self._formatters[i], columns[i], self.column_types(i) if cached else None)
            for i, _ in self.visible_columns()
        ]
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
                types = self.column_types(index)
                widest = max(widest, column_width(self._formatters[index], columns[index], types))
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
            sort_keys = list(map(custom, raw)) if custom is not None else column_sort_keys(raw)
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
            self._search = self._texts_from_columns(self.transposed(), cached=True) if self.values else []
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
