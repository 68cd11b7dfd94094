"""QuotaGauge thresholds and text; UsageChart switches to its one-line form in tiny spaces."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Vertical

from hks_tui.widgets import QuotaGauge, UsageChart
from hks_tui.widgets.usage_chart import sparkline


class Host(App[None]):
    def compose(self) -> ComposeResult:
        with Vertical():
            yield QuotaGauge("CPU", 1.2, 2, unit="cores", id="cpu")
            yield QuotaGauge("Mem", 7.0, 8, unit="GiB", warning=0.5, critical=0.9, id="mem")
            yield UsageChart("cpu", [0.5, 1.0, 1.5, 1.2], limit=2.0, id="chart")
            yield UsageChart("mem", [1, 2, 4, 8], limit=8, id="small", classes="small")

    CSS = "UsageChart.small { height: 3; } #chart { height: 12; }"


def test_sparkline() -> None:
    assert sparkline([0, 1, 2, 4], 10, 4) == "▁▃▅█"
    assert sparkline([5, 5], 1) == "█"
    assert sparkline([], 5) == ""
    assert sparkline([0, 0], 5) == "▁▁"


async def test_gauge_levels_and_update() -> None:
    async with Host().run_test(size=(80, 24)) as pilot:
        cpu = pilot.app.query_one("#cpu", QuotaGauge)
        mem = pilot.app.query_one("#mem", QuotaGauge)
        assert cpu.level == "ok" and cpu.value_text() == "1.2/2 cores  60%"
        assert mem.level == "warning" and mem.value_text().endswith("88% WARN")
        cpu.update(1.95, 2)
        assert cpu.level == "critical" and cpu.value_text().endswith("98% CRIT")
        cpu.update(3, None)
        assert cpu.level == "unknown" and cpu.value_text() == "3 cores (no limit)"
        await pilot.pause()
        rendered = cpu.render().plain
        assert rendered.startswith("CPU") and rendered.endswith("(no limit)")
        assert len(rendered) <= cpu.size.width


async def test_chart_full_and_tiny() -> None:
    async with Host().run_test(size=(80, 24)) as pilot:
        chart = pilot.app.query_one("#chart", UsageChart)
        small = pilot.app.query_one("#small", UsageChart)
        await pilot.pause()
        assert not chart.has_class("-tiny")
        assert small.has_class("-tiny")  # height 3 < 5
        assert small.tiny_text(small.size.width) == "mem 8/8 (100%) ▂▃▅█"
        chart.append(1.9)
        assert chart.summary() == "cpu 1.9/2 (95%)"
        chart.styles.width = 20
        await pilot.pause()
        assert chart.has_class("-tiny")
        assert chart.tiny_text(20).startswith("cpu 1.9/2 (95%)")
