"""StepTimeline: the steps of a multi-step operation with state, elapsed time and expandable detail."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

StepState = Literal["pending", "running", "done", "failed", "skipped"]
ICONS: dict[str, str] = {"pending": "·", "running": "▶", "done": "✓", "failed": "✗", "skipped": "–"}
MAX_DETAIL = 500


def format_elapsed(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


@dataclass
class Step:
    """One step; ``detail`` holds log/detail lines (the newest ``MAX_DETAIL`` are kept)."""

    key: str
    name: str
    state: StepState = "pending"
    started: datetime | None = None
    finished: datetime | None = None
    detail: deque[str] = field(default_factory=lambda: deque(maxlen=MAX_DETAIL))

    def __post_init__(self) -> None:
        if not isinstance(self.detail, deque) or self.detail.maxlen != MAX_DETAIL:
            self.detail = deque(self.detail, maxlen=MAX_DETAIL)

    def elapsed(self, now: datetime) -> float | None:
        if self.started is None:
            return None
        end = self.finished or (now if self.state == "running" else None)
        return None if end is None else (end - self.started).total_seconds()


def utc_now() -> datetime:
    return datetime.now(UTC)


class StepTimeline(ScrollView, can_focus=True):
    """Up/down (j/k) pick a step; enter/space expands or collapses its detail lines."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("enter,space", "toggle_detail", "Details"),
    ]

    COMPONENT_CLASSES = {
        "step-timeline--pending",
        "step-timeline--running",
        "step-timeline--done",
        "step-timeline--failed",
        "step-timeline--skipped",
        "step-timeline--cursor",
        "step-timeline--detail",
    }

    DEFAULT_CSS = """
    StepTimeline {
        height: 1fr;
        background: $surface;
    }
    StepTimeline > .step-timeline--pending { color: $text-muted; }
    StepTimeline > .step-timeline--running { color: $accent; text-style: bold; }
    StepTimeline > .step-timeline--done { color: $success; }
    StepTimeline > .step-timeline--failed { color: $error; text-style: bold; }
    StepTimeline > .step-timeline--skipped { color: $text-disabled; }
    StepTimeline > .step-timeline--cursor { background: $block-cursor-blurred-background; }
    StepTimeline:focus > .step-timeline--cursor { background: $block-cursor-background; }
    StepTimeline > .step-timeline--detail { color: $text-muted; }
    """

    class StepHighlighted(Message):
        def __init__(self, timeline: StepTimeline, key: str) -> None:
            super().__init__()
            self.timeline = timeline
            self.key = key

        @property
        def control(self) -> StepTimeline:
            return self.timeline

    def __init__(
        self,
        steps: Iterable[Step] = (),
        *,
        clock: Callable[[], datetime] = utc_now,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.steps: dict[str, Step] = {s.key: s for s in steps}
        self.expanded: set[str] = set()
        self.clock = clock
        self.cursor = 0
        self._lines: list[tuple[str, int]] = []  # (step key, detail index or -1 for the step line)

    def on_mount(self) -> None:
        self._rebuild()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if any(s.state == "running" for s in self.steps.values()):
            self.refresh()

    # -- API -------------------------------------------------------------------------------------------
    def set_steps(self, steps: Iterable[Step]) -> None:
        self.steps = {s.key: s for s in steps}
        self.expanded &= set(self.steps)
        self._rebuild()

    def update_step(
        self,
        key: str,
        *,
        name: str | None = None,
        state: StepState | None = None,
        started: datetime | None = None,
        finished: datetime | None = None,
        detail: Iterable[str] | None = None,
        append: Iterable[str] = (),
    ) -> Step:
        """Update a step by key (adding it at the end when unknown). A failed step expands itself."""
        step = self.steps.get(key)
        if step is None:
            step = self.steps[key] = Step(key, name or key)
        if name is not None:
            step.name = name
        if state is not None:
            step.state = state
            if state == "failed" and step.detail:
                self.expanded.add(key)
        if started is not None:
            step.started = started
        if finished is not None:
            step.finished = finished
        if detail is not None:
            step.detail.clear()
            step.detail.extend(detail)
        step.detail.extend(append)
        if step.state == "failed" and step.detail:
            self.expanded.add(key)
        self._rebuild()
        return step

    def toggle(self, key: str) -> None:
        self.set_expanded(key, key not in self.expanded)

    def set_expanded(self, key: str, expanded: bool = True) -> None:
        if expanded:
            self.expanded.add(key)
        else:
            self.expanded.discard(key)
        self._rebuild()

    @property
    def cursor_key(self) -> str | None:
        keys = list(self.steps)
        return keys[self.cursor] if 0 <= self.cursor < len(keys) else None

    # -- actions ---------------------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        count = len(self.steps)
        if not count:
            return
        self.cursor = max(0, min(count - 1, self.cursor + delta))
        self.refresh()
        key = self.cursor_key
        if key is not None:
            line = next(i for i, (k, d) in enumerate(self._lines) if k == key and d < 0)
            self.scroll_to_region_line(line)
            self.post_message(self.StepHighlighted(self, key))

    def action_toggle_detail(self) -> None:
        key = self.cursor_key
        if key is not None:
            self.toggle(key)

    def scroll_to_region_line(self, line: int) -> None:
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        if line < top:
            self.scroll_to(y=line, animate=False, force=True)
        elif line >= top + height:
            self.scroll_to(y=line - height + 1, animate=False, force=True)

    # -- rendering -------------------------------------------------------------------------------------
    def _rebuild(self) -> None:
        lines: list[tuple[str, int]] = []
        for key, step in self.steps.items():
            lines.append((key, -1))
            if key in self.expanded:
                lines.extend((key, i) for i in range(len(step.detail)))
        self._lines = lines
        self.cursor = max(0, min(self.cursor, len(self.steps) - 1))
        width = max((len(s.name) for s in self.steps.values()), default=0) + 24
        self.virtual_size = Size(width, len(lines))
        self.refresh()

    def line_text(self, y: int) -> Text:
        key, detail_index = self._lines[y]
        step = self.steps[key]
        if detail_index >= 0:
            detail = Text(no_wrap=True, style=self.rich_style)
            detail.append(
                f"     │ {step.detail[detail_index]}", self.get_component_rich_style("step-timeline--detail")
            )
            return detail
        keys = list(self.steps)
        name_width = max(len(s.name) for s in self.steps.values())
        elapsed = step.elapsed(self.clock())
        fold = " " if not step.detail else ("▾" if key in self.expanded else "▸")
        is_cursor = keys.index(key) == self.cursor
        text = Text(no_wrap=True, style=self.rich_style)
        state_style = self.get_component_rich_style(f"step-timeline--{step.state}")
        text.append("›" if is_cursor else " ")
        text.append(f"{fold}{ICONS[step.state]} ", state_style)
        text.append(step.name.ljust(name_width) + "  ")
        text.append(step.state.ljust(8), state_style)
        text.append(format_elapsed(elapsed).rjust(7) if elapsed is not None else " " * 7)
        return text

    def render_line(self, y: int) -> Strip:
        index = y + round(self.scroll_y)
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip.blank(width, self.rich_style)
        text = self.line_text(index)
        key, detail_index = self._lines[index]
        if detail_index < 0 and key == self.cursor_key:
            text.pad_right(max(0, width + round(self.scroll_x) - text.cell_len))
            text.stylize(self.get_component_rich_style("step-timeline--cursor"))
        strip = Strip(list(text.render(self.app.console)), text.cell_len)
        return strip.crop_extend(round(self.scroll_x), round(self.scroll_x) + width, self.rich_style)
