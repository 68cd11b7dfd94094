"""UsageChart: a history chart (textual-plotext) that degrades to one text line in tiny spaces."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Static
from textual_plotext import PlotextPlot

from hks_tui.widgets.quota_gauge import plain_number

SPARK = "▁▂▃▄▅▆▇█"


def sparkline(values: Iterable[float], width: int, ceiling: float | None = None) -> str:
    """The last ``width`` values as block characters scaled to ``ceiling`` (default: their maximum)."""
    points = list(values)[-width:] if width > 0 else []
    if not points:
        return ""
    top = ceiling if ceiling else max(points)
    if top <= 0:
        return SPARK[0] * len(points)
    last = len(SPARK) - 1
    return "".join(SPARK[max(0, min(last, round(v / top * last)))] for v in points)


class UsageChart(Widget):
    """History of one metric with an optional limit line.

    Below ``tiny_width`` columns or ``tiny_height`` lines it shows a single line instead:
    ``cpu 1.2/2 (60%) ▁▂▃▅▇``.
    """

    DEFAULT_CSS = """
    UsageChart {
        width: 1fr;
        height: 1fr;
        min-height: 1;
    }
    UsageChart > PlotextPlot {
        height: 1fr;
    }
    UsageChart > Static {
        display: none;
        height: 1;
        color: $foreground;
    }
    UsageChart.-tiny > PlotextPlot {
        display: none;
    }
    UsageChart.-tiny > Static {
        display: block;
    }
    """

    def __init__(
        self,
        label: str,
        values: Iterable[float] = (),
        *,
        limit: float | None = None,
        unit: str = "",
        formatter: Callable[[float], str] = plain_number,
        max_points: int = 240,
        tiny_width: int = 30,
        tiny_height: int = 5,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.label = label
        self.values: deque[float] = deque(values, maxlen=max_points)
        self.limit = limit
        self.unit = unit
        self.formatter = formatter
        self.tiny_width = tiny_width
        self.tiny_height = tiny_height

    def compose(self) -> ComposeResult:
        yield PlotextPlot()
        yield Static("", markup=False)

    def on_mount(self) -> None:
        self._redraw()

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(self.is_tiny(event.size.width, event.size.height), "-tiny")
        self._redraw()

    def is_tiny(self, width: int, height: int) -> bool:
        return width < self.tiny_width or height < self.tiny_height

    # -- data ------------------------------------------------------------------------------------------
    def set_history(self, values: Iterable[float], limit: float | None = None) -> None:
        self.values.clear()
        self.values.extend(values)
        self.limit = limit
        self._redraw()

    def append(self, value: float) -> None:
        self.values.append(value)
        self._redraw()

    def summary(self) -> str:
        """``label used[/limit][ unit][ (pct)]`` for the current (last) value."""
        if not self.values:
            return f"{self.label} no data"
        current = self.values[-1]
        unit = f" {self.unit}" if self.unit else ""
        if self.limit:
            return (
                f"{self.label} {self.formatter(current)}/{self.formatter(self.limit)}{unit}"
                f" ({current / self.limit:.0%})"
            )
        return f"{self.label} {self.formatter(current)}{unit}"

    def tiny_text(self, width: int) -> str:
        head = self.summary()
        room = width - len(head) - 1
        spark = sparkline(self.values, room, self.limit) if room >= 3 else ""
        return f"{head} {spark}" if spark else head[:width]

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        self.query_one(Static).update(self.tiny_text(self.size.width or self.tiny_width))
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(self.summary())
        if self.values:
            xs = list(range(-len(self.values) + 1, 1))
            plt.plot(xs, list(self.values), marker="braille")
            if self.limit:
                plt.hline(self.limit)
                plt.ylim(0, max(self.limit, max(self.values)) * 1.05)
        plot.refresh()
