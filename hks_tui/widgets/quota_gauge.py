"""QuotaGauge: one line — label, a bar coloured by thresholds, used/limit and the percentage."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

Level = Literal["ok", "warning", "critical", "unknown"]


def plain_number(value: float) -> str:
    """Default formatter: integers without decimals, others with up to two."""
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def level_for(ratio: float | None, warning: float, critical: float) -> Level:
    if ratio is None:
        return "unknown"
    if ratio >= critical:
        return "critical"
    if ratio >= warning:
        return "warning"
    return "ok"


class QuotaGauge(Widget):
    """``used`` of ``limit`` (``limit`` ``None`` or 0 means no limit), coloured ok/warning/critical.

    The level is also spelled out ("WARN", "CRIT") so it reads without colour (16 colours, NO_COLOR).
    """

    COMPONENT_CLASSES = {
        "quota-gauge--label",
        "quota-gauge--ok",
        "quota-gauge--warning",
        "quota-gauge--critical",
        "quota-gauge--empty",
        "quota-gauge--value",
    }

    DEFAULT_CSS = """
    QuotaGauge {
        height: 1;
        width: 1fr;
        min-width: 20;
    }
    QuotaGauge > .quota-gauge--label { text-style: bold; }
    QuotaGauge > .quota-gauge--ok { color: $success; }
    QuotaGauge > .quota-gauge--warning { color: $warning; text-style: bold; }
    QuotaGauge > .quota-gauge--critical { color: $error; text-style: bold; }
    QuotaGauge > .quota-gauge--empty { color: $text-disabled; }
    QuotaGauge > .quota-gauge--value { color: $foreground; }
    """

    used: reactive[float] = reactive(0.0)
    limit: reactive[float | None] = reactive(None)

    def __init__(
        self,
        label: str,
        used: float = 0.0,
        limit: float | None = None,
        *,
        unit: str = "",
        formatter: Callable[[float], str] = plain_number,
        warning: float = 0.80,
        critical: float = 0.95,
        label_width: int = 8,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        if not 0 < warning <= critical:
            raise ValueError("thresholds must satisfy 0 < warning <= critical")
        self.label = label
        self.unit = unit
        self.formatter = formatter
        self.warning = warning
        self.critical = critical
        self.label_width = label_width
        self.set_reactive(QuotaGauge.used, float(used))
        self.set_reactive(QuotaGauge.limit, None if limit is None else float(limit))

    def update(self, used: float, limit: float | None = None) -> None:
        """Set both values at once (one repaint)."""
        self.set_reactive(QuotaGauge.limit, None if limit is None else float(limit))
        self.used = float(used)
        self.refresh()

    @property
    def ratio(self) -> float | None:
        if not self.limit:
            return None
        return max(0.0, self.used / self.limit)

    @property
    def level(self) -> Level:
        return level_for(self.ratio, self.warning, self.critical)

    def value_text(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        if not self.limit:
            return f"{self.formatter(self.used)}{unit} (no limit)"
        ratio = self.ratio or 0.0
        marker = {"warning": " WARN", "critical": " CRIT"}.get(self.level, "")
        return f"{self.formatter(self.used)}/{self.formatter(self.limit)}{unit} {ratio:4.0%}{marker}"

    def render(self) -> Text:
        width = self.content_region.width or self.size.width
        label = self.label[: self.label_width].ljust(self.label_width)
        value = self.value_text()
        bar_width = max(0, width - len(label) - len(value) - 2)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(label, self.get_component_rich_style("quota-gauge--label"))
        text.append(" ")
        if bar_width >= 4:
            ratio = self.ratio
            filled = 0 if ratio is None else min(bar_width, round(min(ratio, 1.0) * bar_width))
            level = self.level if self.level != "unknown" else "ok"
            text.append("█" * filled, self.get_component_rich_style(f"quota-gauge--{level}"))
            text.append("░" * (bar_width - filled), self.get_component_rich_style("quota-gauge--empty"))
            text.append(" ")
        style = (
            self.get_component_rich_style(f"quota-gauge--{self.level}")
            if self.level in ("warning", "critical")
            else self.get_component_rich_style("quota-gauge--value")
        )
        text.append(value, style)
        return text
