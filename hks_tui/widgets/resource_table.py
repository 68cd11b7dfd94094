"""ResourceTable: one virtualised, keyed, sortable, filterable table for every list in the console.

Usage::

    table = ResourceTable(
        [Column("name", "Name"), Column("cpu", "CPU", align="right"), Column("node", "Node", optional=True)],
        actions=[RowAction("logs", "Logs", multi=False), RowAction("delete", "Delete")],
        empty_message="No pods",
    )
    table.replace_rows(Row(pod.uid, {"name": pod.name, "cpu": "250m"}, styles={"name": "bold"}) ...)
    with table.batch_update():            # watch events: one view rebuild and repaint per burst
        table.upsert_row(row); table.remove_row(key)
    table.show_loading() / table.set_error("what failed", "why") / table.clear_state()

    @on(ResourceTable.ActionChosen)       # .action, .keys (the selection, or the cursor row)
    @on(ResourceTable.RowSelected)        # enter / double click when no actions are registered
    @on(ResourceTable.RowHighlighted)     # .key, .index
    @on(ResourceTable.SelectionChanged)   # .selected

Keys: j/k/up/down, pgup/pgdn, g/G/home/end, enter (menu or RowSelected), a (menu), space (select),
ctrl+a (select all shown / none), / (filter), s / S (sort by next column / reverse), c (optional
columns), esc (clear filter, then selection, then let the screen have it). Mouse: click a row, double
click to open, click a header to sort, wheel to scroll.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Input, Static

from hks_tui.widgets import table_messages
from hks_tui.widgets.table_actions import TableKeyActions
from hks_tui.widgets.table_body import GUTTER, ResourceTableBody
from hks_tui.widgets.table_model import Column, Row, TableModel

StateKind = Literal["loading", "error", "empty"]


@dataclass(frozen=True)
class RowAction:
    """An action offered in the row menu; ``multi`` actions apply to every selected row."""

    id: str
    label: str
    multi: bool = True


class ResourceTable(TableKeyActions, Widget, can_focus=True):
    """Keyed rows rendered through the Line API; only the visible rows are ever rendered."""

    BINDINGS = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("enter", "activate", "Open"),
        Binding("a", "menu", "Actions"),
        Binding("space", "toggle_select", "Select"),
        Binding("ctrl+a", "select_all", "Select all", show=False),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse", show=False),
        Binding("c", "columns", "Columns", show=False),
        Binding("escape", "escape", "Clear", show=False),
    ]

    DEFAULT_CSS = """
    ResourceTable {
        height: 1fr;
        layout: vertical;
    }
    ResourceTable > Input.-filter, ResourceTable > Input.-filter:focus {
        display: none;
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    ResourceTable > Input.-filter.-shown {
        display: block;
    }
    ResourceTable > Static.-status {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    ResourceTable:focus > Static.-status {
        color: $foreground;
    }
    """

    RowHighlighted = table_messages.RowHighlighted
    RowSelected = table_messages.RowSelected
    ActionChosen = table_messages.ActionChosen
    SelectionChanged = table_messages.SelectionChanged

    def __init__(
        self,
        columns: Iterable[Column] = (),
        *,
        actions: Sequence[RowAction] = (),
        empty_message: str = "No rows",
        show_status: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.model = TableModel(columns=list(columns))
        self.actions: list[RowAction] = list(actions)
        self.empty_message = empty_message
        self.show_status = show_status
        self.widths: dict[str, int] = {}
        self.cursor_row = 0
        self.selected: set[str] = set()
        self._cursor_key: str | None = None
        self._state: tuple[StateKind, str, str | None] | None = None
        self._batch_depth = 0
        self._dirty = False
        self._widths_dirty = True
        self._status_text = ""
        self.body = ResourceTableBody(self)

    def compose(self) -> ComposeResult:
        yield self.body
        yield Input(placeholder="filter (esc clears, enter keeps)", classes="-filter")
        if self.show_status:
            yield Static("", classes="-status", markup=False)

    def on_mount(self) -> None:
        self._sync()

    # -- public API: data ------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        """Rows currently shown (after the filter)."""
        return len(self.model.view)

    @property
    def total_count(self) -> int:
        return len(self.model.values)

    @property
    def visible_keys(self) -> list[str]:
        """Row keys in display order (sorted and filtered)."""
        return list(self.model.view)

    @property
    def cursor_key(self) -> str | None:
        view = self.model.view
        return view[self.cursor_row] if 0 <= self.cursor_row < len(view) else None

    def get_row(self, key: str) -> dict[str, Any]:
        """Raw values of one row by column key."""
        values = self.model.values[key]
        return {c.key: v for c, v in zip(self.model.columns, values, strict=True)}

    def set_columns(self, columns: Iterable[Column]) -> None:
        """Replace the columns (clears rows, sort and filter)."""
        self.model.set_columns(columns)
        self.model.sort_column = None
        self._widths_dirty = True
        self._changed()

    def replace_rows(self, rows: Iterable[Row]) -> tuple[int, int]:
        """Replace every row, matched by key: the cursor stays on the same key, the selection keeps
        the keys that still exist. Returns (added, removed)."""
        counts = self.model.replace(rows)
        self.model.prepare_search()
        self.selected.intersection_update(self.model.values)
        self._widths_dirty = True
        if self._state is not None and self._state[0] == "loading":
            self._state = None
        self._changed()
        return counts

    def upsert_row(self, row: Row) -> None:
        if self.model.upsert(row):
            self._grow_widths(row.key)
            self._changed()

    def remove_row(self, key: str) -> None:
        if self.model.remove(key):
            if key in self.selected:
                self.selected.discard(key)
                self.post_message(self.SelectionChanged(self, frozenset(self.selected)))
            self._changed()

    @contextmanager
    def batch_update(self) -> Iterator[ResourceTable]:
        """Group many upserts/removes into one view rebuild and one repaint."""
        self._batch_depth += 1
        try:
            yield self
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0 and self._dirty:
                self._sync()

    # -- public API: state, sort, filter, columns, actions ----------------------------------------------
    def show_loading(self, message: str = "Loading…") -> None:
        self._set_state(("loading", message, None))

    def set_error(self, message: str, detail: str | None = None) -> None:
        self._set_state(("error", message, detail))

    def clear_state(self) -> None:
        self._set_state(None)

    @property
    def state(self) -> tuple[StateKind, str, str | None] | None:
        return self._state

    def state_lines(self) -> tuple[str, str, str | None] | None:
        """What the body shows instead of rows: an explicit state, or the empty message."""
        if self._state is not None:
            return self._state
        if not self.model.view:
            if self.model.filter_text and self.model.values:
                return ("empty", f"No rows match “{self.model.filter_text}”", "esc clears the filter")
            return ("empty", self.empty_message, None)
        return None

    def sort_by(self, column: str | None, reverse: bool = False) -> None:
        """Stable sort by a column (``None`` restores insertion order)."""
        if column is not None and not self.model.columns[self.model.column_index(column)].sortable:
            return
        self.model.set_sort(column, reverse)
        self._changed()

    def toggle_sort(self, column: str) -> None:
        """Header click: sort ascending by ``column``, or flip the direction if already sorted by it."""
        reverse = self.model.sort_column == column and not self.model.sort_reverse
        self.sort_by(column, reverse)

    def set_filter(self, text: str) -> None:
        """Case-insensitive substring filter across the visible columns."""
        self.model.set_filter(text)
        self._changed()

    @property
    def filter_text(self) -> str:
        return self.model.filter_text

    def set_column_visible(self, key: str, visible: bool) -> None:
        self.model.set_column_visible(key, visible)
        self._widths_dirty = True
        self._changed()

    def is_column_visible(self, key: str) -> bool:
        return key not in self.model.hidden

    def set_actions(self, actions: Sequence[RowAction]) -> None:
        self.actions = list(actions)

    def set_selected(self, keys: Iterable[str]) -> None:
        self.selected = {k for k in keys if k in self.model.values}
        self.body.refresh()
        self._update_status()
        self.post_message(self.SelectionChanged(self, frozenset(self.selected)))

    def move_cursor(self, index: int) -> None:
        """Move the cursor to a view index (clamped) and scroll it into view."""
        count = len(self.model.view)
        index = max(0, min(index, count - 1)) if count else 0
        previous = self.cursor_row
        self.cursor_row = index
        self.body.refresh_lines(previous + 1)
        self.body.refresh_lines(index + 1)
        if self.is_mounted:
            self._scroll_to_cursor()
        self._note_cursor()

    # -- internals -------------------------------------------------------------------------------------
    def _set_state(self, state: tuple[StateKind, str, str | None] | None) -> None:
        self._state = state
        self._changed()

    def _grow_widths(self, key: str) -> None:
        if self._widths_dirty:
            return
        display = self.model.display(key)
        for index, column in self.model.visible_columns():
            if column.width is None:
                width = min(column.max_width, len(display[index]))
                if width > self.widths.get(column.key, 0):
                    self._widths_dirty = True
                    return

    def _changed(self) -> None:
        self._dirty = True
        if self._batch_depth == 0:
            self._sync()

    def _sync(self) -> None:
        """Rebuild what depends on the data: widths, view, cursor, virtual size, status line."""
        self._dirty = False
        if self._widths_dirty:
            self._widths_dirty = False
            self.widths = self.model.auto_widths()
            self.body.invalidate()
        view = self.model.view
        if self._cursor_key is not None and self.cursor_key != self._cursor_key:
            try:
                self.cursor_row = view.index(self._cursor_key)
            except ValueError:
                self.cursor_row = max(0, min(self.cursor_row, len(view) - 1))
        width = GUTTER + sum(self.widths[c.key] + 1 for _, c in self.model.visible_columns())
        rows = len(view) if self.state_lines() is None else 3
        self.body.update_virtual_size(width, rows)
        self.body.refresh()
        if self.is_mounted:
            self._scroll_to_cursor()
            self._update_status()
        self._note_cursor()

    def _note_cursor(self) -> None:
        key = self.cursor_key
        if key != self._cursor_key:
            self._cursor_key = key
            self.post_message(self.RowHighlighted(self, key, self.cursor_row))

    def _scroll_to_cursor(self) -> None:
        body = self.body
        page = body.page_rows
        if body.scroll_y > body.max_scroll_y:
            body.scroll_to(y=body.max_scroll_y, animate=False, force=True)
        top = round(body.scroll_y)
        if self.cursor_row < top:
            body.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif self.cursor_row >= top + page:
            body.scroll_to(y=self.cursor_row - page + 1, animate=False, force=True)

    def _update_status(self) -> None:
        if not self.show_status or not self.is_mounted:
            return
        model = self.model
        parts = [
            f"{len(model.view):,} of {len(model.values):,}"
            if model.filter_text
            else f"{len(model.values):,} rows"
        ]
        if model.filter_text:
            parts.append(f"/{model.filter_text}")
        if self.selected:
            parts.append(f"{len(self.selected):,} selected")
        if model.sort_column is not None:
            label = model.columns[model.column_index(model.sort_column)].label
            parts.append(f"sort {label} {'▼' if model.sort_reverse else '▲'}")
        text = " · ".join(parts)
        if text != self._status_text:  # an unchanged line costs no layout pass
            self._status_text = text
            self.query_one("Static.-status", Static).update(text, layout=False)

    def _targets(self, action: RowAction | None) -> tuple[str, ...]:
        cursor = self.cursor_key
        if self.selected and (action is None or action.multi):
            order = [k for k in self.model.view if k in self.selected]
            rest = sorted(self.selected.difference(order))
            return (*order, *rest)
        return (cursor,) if cursor is not None else ()

    def _on_focus(self, event: events.Focus) -> None:
        self.body.refresh()

    def _on_blur(self, event: events.Blur) -> None:
        self.body.refresh()
