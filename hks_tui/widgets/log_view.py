"""LogView: ring-buffered, batch-flushed log lines with levels, JSON pretty-print, search and follow."""

from __future__ import annotations

import re
from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Input, Static

from hks_tui.widgets.log_buffer import IngestQueue, Level, LogLines

_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")  # CSI sequences (colours, cursor moves): dropped
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f]")  # any other control character: shown as U+FFFD
CACHE_LINES = 1024  # finished strips kept (a few screens); each holds its own small caches
STATE_ICONS = {"live": "●", "connecting": "…", "reconnecting": "↻", "stalled": "‖", "ended": "■", "idle": "○"}


class LogBody(ScrollView, can_focus=False):
    """Renders the display lines of a :class:`LogLines` (only the visible ones)."""

    COMPONENT_CLASSES = {"log-view--error", "log-view--warn", "log-view--debug", "log-view--match"}

    DEFAULT_CSS = """
    LogBody {
        height: 1fr;
        background: $surface;
        color: $foreground;
    }
    LogBody > .log-view--error { color: $error; text-style: bold; }
    LogBody > .log-view--warn { color: $warning; }
    LogBody > .log-view--debug { color: $text-muted; }
    LogBody > .log-view--match { background: $accent 50%; text-style: bold underline; }
    """

    def __init__(self, owner: LogView) -> None:
        super().__init__()
        self.owner = owner
        #: finished (styled, cropped) strips by (display item, search, scroll x, width)
        self._cache: dict[tuple[tuple[str, Level | None], str, int, int], Strip] = {}
        self._programmatic = False
        self._styles: dict[str, Style] = {}
        self._render_width: int | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()
        self._styles.clear()

    def _style(self, name: str) -> Style:
        """The base style ("") or a component style, cached until the styles change
        (``rich_style`` walks every ancestor)."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if not name else self.rich_style + self.get_component_rich_style(name)
            self._styles[name] = style
        return style

    def sync_size(self) -> None:
        lines = self.owner.lines
        self.virtual_size = Size(lines.width + 1, len(lines.display))

    def scroll_to_bottom(self) -> None:
        self._programmatic = True
        try:
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        finally:
            self._programmatic = False

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if not self._programmatic and self.owner.is_mounted:
            self.owner.user_scrolled(at_bottom=round(new_value) >= self.max_scroll_y)

    def _style_for(self, level: Level) -> Style:
        if level in ("error", "warn", "debug"):
            return self._style(f"log-view--{level}")
        return self._style("")

    def render_lines(self, crop: Region) -> list[Strip]:
        self._render_width = self.scrollable_content_region.width  # once per pass, not per line
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._render_width
        if width is None:
            width = self._render_width = self.scrollable_content_region.width
        index = y + round(self.scroll_y)
        display = self.owner.lines.display
        if index >= len(display):
            return Strip.blank(width, self._style(""))
        item = display[index]
        needle = self.owner.lines.search
        scroll_x = round(self.scroll_x)
        key = (item, needle, scroll_x, width)
        strip = self._cache.get(key)
        if strip is None:
            text, level = self.owner.lines.line(index)
            strip = self._fast_strip(text, level, needle, scroll_x, width)
            if strip is None:
                strip = self._render_text(text, level, needle).crop_extend(
                    scroll_x, scroll_x + width, self._style("")
                )
            if len(self._cache) >= CACHE_LINES:  # bounded: the screen's lines are re-made at most once
                self._cache.clear()
            self._cache[key] = strip
        return strip

    def _fast_strip(self, text: str, level: Level, needle: str, scroll_x: int, width: int) -> Strip | None:
        """The common case built directly as one finished Strip: printable ASCII (one cell per
        character, so cropping is slicing), no search. ``None`` for anything else."""
        if needle or not text.isascii() or _CONTROL.search(text) is not None:
            return None
        visible = text[scroll_x : scroll_x + width]
        segments = [Segment(visible, self._style_for(level))] if visible else []
        if len(visible) < width:
            segments.append(Segment(" " * (width - len(visible)), self._style("")))
        return Strip(segments, width)

    def _render_text(self, text: str, level: Level, needle: str) -> Strip:
        style = self._style_for(level)
        if _CONTROL.search(text) is not None:  # never let a log line drive the terminal (ESC, BEL, ...)
            text = _CONTROL.sub("\ufffd", _ANSI.sub("", text))
        if not needle:
            return Strip([Segment(text, style)])
        lowered = text.lower()
        if len(lowered) != len(text):
            return Strip([Segment(text, style)])
        match = self._styles.get("!match")
        if match is None:
            match = self._styles["!match"] = self.get_component_rich_style("log-view--match")
        match_style = style + match
        segments: list[Segment] = []
        start = 0
        while True:
            found = lowered.find(needle, start)
            if found < 0:
                break
            if found > start:
                segments.append(Segment(text[start:found], style))
            segments.append(Segment(text[found : found + len(needle)], match_style))
            start = found + len(needle)
        if start < len(text):
            segments.append(Segment(text[start:], style))
        return Strip(segments)


class LogView(Widget, can_focus=True):
    """Producers call :meth:`write_lines` (safe from any thread); a timer flushes to the screen.

    Keys: ``/`` search (filters and highlights), ``f`` follow, ``p`` pretty JSON, ``G``/end bottom.
    The state line shows the stream state set by the owner, the line count, follow state, and the
    number of lines dropped (ingest overflow plus what the owner reports).
    """

    BINDINGS = [
        Binding("up,k", "scroll(-1)", "Up", show=False),
        Binding("down,j", "scroll(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home,g", "top", "Top", show=False),
        Binding("end,G", "bottom", "Bottom", show=False),
        Binding("f", "toggle_follow", "Follow"),
        Binding("p", "toggle_pretty", "JSON"),
        Binding("slash", "search", "Search"),
        Binding("escape", "escape", "Clear", show=False),
    ]

    DEFAULT_CSS = """
    LogView {
        height: 1fr;
        layout: vertical;
    }
    LogView > Input, LogView > Input:focus {
        display: none;
        border: none;
        height: 1;
        padding: 0 1;
        background: $boost;
    }
    LogView > Input.-shown { display: block; }
    LogView > Static.-state {
        height: 1;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
    }
    LogView > Static.-state.-problem { color: $warning; text-style: bold; }
    LogView:focus > Static.-state { color: $foreground; }
    LogView:focus > Static.-state.-problem { color: $warning; }
    """

    def __init__(
        self,
        *,
        max_lines: int = 10_000,
        max_pending: int = 20_000,
        flush_interval: float = 0.075,
        follow: bool = True,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if not 0.05 <= flush_interval <= 0.1:
            raise ValueError("flush_interval must be between 0.05 and 0.1 seconds")
        self.queue = IngestQueue(max_pending)
        self.lines = LogLines(max_lines)
        self.flush_interval = flush_interval
        self.follow = follow
        self.stream_state = "idle"
        self.stream_detail: str | None = None
        self.reported_dropped = 0
        self.unseen = 0
        self.flushes = 0
        self.body = LogBody(self)

    def compose(self) -> ComposeResult:
        yield self.body
        yield Input(placeholder="search (enter keeps, esc clears)")
        yield Static("", classes="-state", markup=False)

    def on_mount(self) -> None:
        self.set_interval(self.flush_interval, self.flush)
        self._update_state_line()

    # -- producer / owner API --------------------------------------------------------------------------
    def write_line(self, line: str) -> None:
        self.queue.put((line,))

    def write_lines(self, lines: Iterable[str]) -> None:
        """Queue lines for the next flush. Safe to call from any thread."""
        self.queue.put(lines)

    def set_stream_state(self, state: str, detail: str | None = None, *, dropped: int | None = None) -> None:
        """live / connecting / reconnecting / stalled / ended (or any word), plus the owner's drop count."""
        self.stream_state = state
        self.stream_detail = detail
        if dropped is not None:
            self.reported_dropped = dropped
        self._update_state_line()

    @property
    def dropped(self) -> int:
        return self.queue.dropped + self.reported_dropped

    def clear(self) -> None:
        self.queue.drain()
        self.lines.clear()
        self.unseen = 0
        self._refresh_body()

    def flush(self) -> int:
        """Move queued lines into the ring buffer and repaint once; returns the lines flushed."""
        batch = self.queue.drain()
        if not batch:
            if self.queue.dropped:
                self._update_state_line()
            return 0
        self.flushes += 1
        added = self.lines.add(batch)
        if not self.follow:
            self.unseen += added
        self._refresh_body()
        return len(batch)

    def set_search(self, text: str) -> None:
        self.lines.search = text.lower()
        self.lines.rebuild()
        self._refresh_body()

    def set_pretty(self, pretty: bool) -> None:
        self.lines.pretty = pretty
        self.lines.rebuild()
        self._refresh_body()

    def set_follow(self, follow: bool) -> None:
        self.follow = follow
        if follow:
            self.unseen = 0
            self.body.scroll_to_bottom()
        self._update_state_line()

    # -- internals -------------------------------------------------------------------------------------
    def _refresh_body(self) -> None:
        self.body.sync_size()
        if self.follow:
            self.body.scroll_to_bottom()
        self.body.refresh()
        self._update_state_line()

    def user_scrolled(self, at_bottom: bool) -> None:
        if at_bottom != self.follow:
            self.set_follow(at_bottom)

    def state_text(self) -> str:
        icon = STATE_ICONS.get(self.stream_state, "•")
        parts = [f"{icon} {self.stream_state}" + (f": {self.stream_detail}" if self.stream_detail else "")]
        if self.dropped:
            parts.append(f"{self.dropped:,} lines dropped")
        total = len(self.lines.entries)
        if self.lines.search:
            matching = sum(1 for count in self.lines.counts if count)
            parts.append(f"{matching:,}/{total:,} lines")
        else:
            parts.append(f"{total:,} lines")
        parts.append("following" if self.follow else f"paused, {self.unseen:,} new")
        if self.lines.pretty:
            parts.append("json")
        if self.lines.search:
            parts.append(f"/{self.lines.search}")
        return " · ".join(parts)

    def _update_state_line(self) -> None:
        if not self.is_mounted:
            return
        state = self.query_one("Static.-state", Static)
        state.update(self.state_text(), layout=False)  # one line of fixed size: no layout pass
        problem = self.stream_state in ("reconnecting", "stalled") or self.dropped > 0
        state.set_class(problem, "-problem")

    # -- actions ---------------------------------------------------------------------------------------
    def action_scroll(self, delta: int) -> None:
        self.body.scroll_to(y=max(0, round(self.body.scroll_y) + delta), animate=False, force=True)

    def action_page(self, delta: int) -> None:
        page = max(1, self.body.scrollable_content_region.height - 1)
        self.body.scroll_to(y=max(0, round(self.body.scroll_y) + delta * page), animate=False, force=True)

    def action_top(self) -> None:
        self.body.scroll_to(y=0, animate=False, force=True)

    def action_bottom(self) -> None:
        self.set_follow(True)

    def action_toggle_follow(self) -> None:
        self.set_follow(not self.follow)

    def action_toggle_pretty(self) -> None:
        self.set_pretty(not self.lines.pretty)

    def action_search(self) -> None:
        field = self.query_one(Input)
        field.add_class("-shown")
        field.value = self.lines.search
        field.focus()

    def action_escape(self) -> None:
        field = self.query_one(Input)
        if field.has_focus or self.lines.search:
            field.remove_class("-shown")
            field.value = ""
            self.set_search("")
            self.focus()
        else:
            raise SkipAction()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value.lower() != self.lines.search:
            self.set_search(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.input.remove_class("-shown")
        self.focus()

    def on_click(self, event: events.Click) -> None:
        self.focus()
