"""StepTimeline: live updates by key, elapsed time from a fixed clock, expandable detail lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from hks_tui.widgets import Step, StepTimeline
from hks_tui.widgets.step_timeline import format_elapsed

T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class Host(App[None]):
    def __init__(self, timeline: StepTimeline) -> None:
        super().__init__()
        self.timeline = timeline

    def compose(self) -> ComposeResult:
        yield self.timeline


def texts(timeline: StepTimeline) -> list[str]:
    return [timeline.line_text(i).plain.rstrip() for i in range(len(timeline._lines))]


def test_format_elapsed() -> None:
    assert [format_elapsed(s) for s in (0, 59, 60, 3599, 3600, 7325)] == [
        "0s",
        "59s",
        "1m00s",
        "59m59s",
        "1h00m",
        "2h02m",
    ]


async def test_live_updates_elapsed_and_expansion() -> None:
    clock = Clock()
    timeline = StepTimeline(
        [Step("clone", "Clone VM"), Step("start", "Start VM"), Step("join", "Join cluster")], clock=clock
    )
    async with Host(timeline).run_test(size=(80, 24)) as pilot:
        timeline.focus()
        assert texts(timeline)[0] == "› · Clone VM      pending"
        timeline.update_step("clone", state="running", started=T0, append=["task UPID:pve:1 started"])
        clock.now = T0 + timedelta(seconds=42)
        assert texts(timeline)[0] == "›▸▶ Clone VM      running     42s"
        timeline.update_step("clone", state="done", finished=T0 + timedelta(seconds=50))
        clock.now = T0 + timedelta(seconds=500)
        assert texts(timeline)[0].endswith("Clone VM      done        50s")
        await pilot.press("enter")
        assert texts(timeline)[1] == "     │ task UPID:pve:1 started"
        await pilot.press("space")
        assert len(texts(timeline)) == 3
        timeline.update_step(
            "start",
            state="failed",
            started=T0,
            finished=T0 + timedelta(seconds=61),
            append=["agent not ready"],
        )
        assert "start" in timeline.expanded  # failures open their detail
        assert texts(timeline)[1:3] == [" ▾✗ Start VM      failed    1m01s", "     │ agent not ready"]
        timeline.update_step("extra", name="Label node", state="skipped")
        assert texts(timeline)[-1] == "  – Label node    skipped"
        await pilot.press("j", "j")
        assert timeline.cursor_key == "join"
        timeline.set_steps([Step("only", "Only step", "done")])
        assert timeline.cursor_key == "only" and timeline.expanded == set()
