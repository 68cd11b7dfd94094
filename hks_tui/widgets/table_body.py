"""The Line-API body of :class:`ResourceTable`: renders only the visible rows, caching their strips."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hks_tui.widgets.table_model import Align

if TYPE_CHECKING:
    from hks_tui.widgets.resource_table import ResourceTable

GUTTER = 2  # cursor mark + selection mark: legible without colour


def fit(text: str, width: int, align: Align) -> str:
    """Pad or truncate ``text`` to exactly ``width`` cells (truncation ends with an ellipsis)."""
    if width <= 0:
        return ""
    length = len(text) if text.isascii() else cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + "…" if width > 1 else "…"
    pad = width - length
    if not pad:
        return text
    if align == "right":
        return " " * pad + text
    if align == "center":
        left = pad // 2
        return " " * left + text + " " * (pad - left)
    return text + " " * pad


class ResourceTableBody(ScrollView, can_focus=False):
    """Header line + rows; the owning :class:`ResourceTable` holds the state and the key bindings."""

    COMPONENT_CLASSES = {
        "resource-table--header",
        "resource-table--cursor",
        "resource-table--cursor-blur",
        "resource-table--selected",
        "resource-table--message",
        "resource-table--error",
        "resource-table--detail",
    }

    DEFAULT_CSS = """
    ResourceTableBody {
        height: 1fr;
        background: $surface;
        color: $foreground;
        scrollbar-size-vertical: 1;
    }
    ResourceTableBody > .resource-table--header {
        background: $panel;
        color: $foreground;
        text-style: bold;
    }
    ResourceTableBody > .resource-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    ResourceTableBody > .resource-table--cursor-blur {
        background: $block-cursor-blurred-background;
        color: $foreground;
    }
    ResourceTableBody > .resource-table--selected {
        background: $accent 30%;
        color: $foreground;
        text-style: italic;
    }
    ResourceTableBody > .resource-table--message {
        color: $foreground;
        text-style: bold;
    }
    ResourceTableBody > .resource-table--error {
        color: $error;
        text-style: bold;
    }
    ResourceTableBody > .resource-table--detail {
        color: $text-muted;
    }
    """

    def __init__(self, table: ResourceTable, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.table = table
        self._cache: LRUCache[tuple[object, ...], Strip] = LRUCache(1024)
        self._style_cache: dict[str, Style] = {}
        self.generation = 0

    # -- cache control ---------------------------------------------------------------------------------
    def invalidate(self) -> None:
        """Drop every cached strip (columns, widths or theme changed)."""
        self.generation += 1
        self._cache.clear()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_cache.clear()
        self._cache.clear()

    def update_virtual_size(self, width: int, rows: int) -> None:
        size = Size(width, rows + 1)
        if size != self.virtual_size:
            self.virtual_size = size

    @property
    def page_rows(self) -> int:
        """Number of data rows that fit in the visible area."""
        return max(1, self.scrollable_content_region.height - 1)

    # -- rendering -------------------------------------------------------------------------------------
    def _base(self) -> Style:
        """``rich_style`` walks the ancestors; cache it until the styles change."""
        style = self._style_cache.get("")
        if style is None:
            style = self._style_cache[""] = self.rich_style
        return style

    def _component(self, name: str) -> Style:
        key = "." + name
        style = self._style_cache.get(key)
        if style is None:
            style = self._style_cache[key] = self.get_component_rich_style(name)
        return style

    def _cell_style(self, spec: str) -> Style:
        style = self._style_cache.get(spec)
        if style is None:
            style = Style.parse(spec)
            self._style_cache[spec] = style
        return style

    def render_line(self, y: int) -> Strip:
        table = self.table
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        base = self._base()
        if y == 0:
            strip = self._header_strip()
        else:
            index = y - 1 + scroll_y
            state = table.state_lines()
            if state is not None:
                strip = self._message_strip(state, y - 1, width + scroll_x)
            else:
                view = table.model.view
                if index >= len(view):
                    return Strip.blank(width, base)
                strip = self._row_strip(view[index], index)
        return strip.crop_extend(scroll_x, scroll_x + width, base)

    def _header_strip(self) -> Strip:
        table = self.table
        key = ("header", self.generation, table.model.sort_column, table.model.sort_reverse)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        style = self._component("resource-table--header")
        segments = [Segment(" " * GUTTER, style)]
        model = table.model
        for _, column in model.visible_columns():
            label = column.label
            if model.sort_column == column.key:
                label = f"{label} {'▼' if model.sort_reverse else '▲'}"
            segments.append(Segment(fit(label, table.widths[column.key], column.align), style))
            segments.append(Segment(" ", style))
        strip = Strip(segments)
        self._cache[key] = strip
        return strip

    def _row_strip(self, row_key: str, index: int) -> Strip:
        table = self.table
        model = table.model
        is_cursor = index == table.cursor_row
        focused = table.has_focus or table.has_focus_within
        selected = row_key in table.selected
        key = (
            row_key,
            model.versions.get(row_key, 0),
            model.generation,
            self.generation,
            is_cursor,
            selected,
            focused,
        )
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        row_style = self._base()
        if selected:
            row_style = row_style + self._component("resource-table--selected")
        overlay: Style | None = None
        if is_cursor:
            overlay = self._component("resource-table--cursor" if focused else "resource-table--cursor-blur")
            row_style = row_style + overlay
        gutter = ("▶" if is_cursor else " ") + ("✓" if selected else " ")
        segments = [Segment(gutter, row_style)]
        display = model.display(row_key)
        styles = model.styles.get(row_key)
        widths = table.widths
        for column_index, column in model.visible_columns():
            text = fit(display[column_index], widths[column.key], column.align)
            style = row_style
            if styles is not None and styles[column_index]:
                style = row_style + self._cell_style(styles[column_index])  # type: ignore[arg-type]
                if overlay is not None:
                    style = style + overlay
            segments.append(Segment(text, style))
            segments.append(Segment(" ", row_style))
        strip = Strip(segments)
        self._cache[key] = strip
        return strip

    def _message_strip(self, state: tuple[str, str, str | None], line: int, width: int) -> Strip:
        kind, message, detail = state
        if line == 1:
            style = self._component("resource-table--error" if kind == "error" else "resource-table--message")
            text = message
        elif line == 2 and detail:
            style = self._component("resource-table--detail")
            text = detail
        else:
            return Strip.blank(width, self._base())
        return Strip([Segment(fit(" " + text, max(width, 1), "left"), self._base() + style)])

    # -- mouse -----------------------------------------------------------------------------------------
    def column_at(self, x: int) -> str | None:
        """The key of the visible column under content x (scroll included)."""
        x += self.scroll_offset.x - GUTTER
        for _, column in self.table.model.visible_columns():
            width = self.table.widths[column.key] + 1
            if 0 <= x < width:
                return column.key
            x -= width
        return None

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        self.table.focus()
        if offset.y == 0:
            column = self.column_at(offset.x)
            if column is not None:
                self.table.toggle_sort(column)
            return
        index = offset.y - 1 + self.scroll_offset.y
        if self.table.state_lines() is not None or index >= len(self.table.model.view):
            return
        if index == self.table.cursor_row and event.chain >= 2:
            self.table.action_activate()
        else:
            self.table.move_cursor(index)
