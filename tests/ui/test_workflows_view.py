"""The start-up resume prompt and the Workflows view on a lab runtime.

An earlier "session" (its own runtime and engine on the same data dir) leaves a workflow paused: its
first step fails once. The app started afterwards asks to resume it; resuming finishes it, and
``:workflows`` lists it with its status and progress.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.app import HksApp
from hks_tui.models.workflow import WorkflowStatus
from hks_tui.runtime import RuntimeOptions, open_runtime
from hks_tui.screens.commands import parse_command
from hks_tui.screens.workflows import WorkflowsScreen
from hks_tui.widgets.confirm_dialog import ConfirmDialog
from hks_tui.widgets.resource_table import ResourceTable
from hks_tui.workflows import WorkflowEngine, all_kinds
from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind
from hks_tui.workflows.registry import register_kind, unregister_kind

KIND = "test.flaky-once"


@pytest.fixture
def flaky_kind() -> Iterator[dict[str, int]]:
    calls = {"first": 0, "second": 0}

    def first(ctx: Any) -> dict[str, Any]:
        calls["first"] += 1
        if calls["first"] == 1:
            raise RuntimeError("transient: backend not ready")
        return {"ok": True}

    def second(ctx: Any) -> None:
        calls["second"] += 1

    kind = WorkflowKind(
        KIND,
        [Step("first", run=first, max_attempts=1, backoff=Backoff(base=0)), Step("second", run=second)],
        on_failure=OnFailure.PAUSE,
        title="Flaky",
    )
    register_kind(kind)
    try:
        yield calls
    finally:
        unregister_kind(KIND)


async def until(pilot: Any, check: Any, rounds: int = 400) -> None:
    """Let the app run until ``check()`` holds (bounded; no timing assertion)."""
    for _ in range(rounds):
        if check():
            return
        await pilot.pause(0.05)
    assert check(), "the condition never held"


def laid_out(screen: Any, selector: str) -> bool:
    """The widget exists and has a place on the screen (a click before layout can land elsewhere)."""
    found = screen.query(selector)
    return bool(found) and app_is_showing(screen) and found.first().region.area > 0


def app_is_showing(screen: Any) -> bool:
    return screen.app.screen is screen


def test_workflows_command_parses() -> None:
    assert parse_command(":wf").name == "workflows"
    assert parse_command("workflows").name == "workflows"


async def test_resume_prompt_then_workflows_view(
    lab: Any, tmp_path: Path, flaky_kind: dict[str, int]
) -> None:
    options = RuntimeOptions(lab_dir=lab.state_dir, data_dir=tmp_path, workspace="dev")
    earlier = open_runtime(options)
    try:
        engine = WorkflowEngine(earlier.store, all_kinds(), deps=earlier.services)
        record = await engine.start(KIND, workspace="dev", target="node-x")
        assert record.status == WorkflowStatus.PAUSED and "transient" in record.error
        await engine.aclose()
    finally:
        earlier.close()

    runtime = open_runtime(options)
    app = HksApp(runtime, health_interval=0)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            dialog = app.screen
            assert isinstance(dialog, ConfirmDialog)
            assert dialog.dialog_title.startswith("1 unfinished workflow(s)")
            assert any(record.id[:8] in line for line in dialog.impact)
            await until(pilot, lambda: laid_out(dialog, "#confirm"))
            await pilot.click("#confirm")

            def finished() -> bool:
                got = runtime.store.workflows.get(record.id)
                return got is not None and got.status == WorkflowStatus.SUCCEEDED

            await until(pilot, finished)
            assert flaky_kind == {"first": 2, "second": 1}
            await until(pilot, lambda: any("succeeded" in str(n.message) for n in app._notifications))

            app.run_command(":workflows")
            await until(pilot, lambda: isinstance(app.screen, WorkflowsScreen))
            await until(pilot, lambda: bool(app.screen.query("#workflow-table")))
            table = app.screen.query_one("#workflow-table", ResourceTable)
            await until(pilot, lambda: record.id in table.visible_keys)
            row = table.get_row(record.id)
            assert row["status"] == "succeeded" and row["progress"] == "2/2"
            assert row["target"] == "node-x" and row["id"] == record.id[:8]
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, WorkflowsScreen))
    finally:
        runtime.close()


async def test_later_then_resume_from_the_view(lab: Any, tmp_path: Path, flaky_kind: dict[str, int]) -> None:
    options = RuntimeOptions(lab_dir=lab.state_dir, data_dir=tmp_path, workspace="dev")
    runtime = open_runtime(options)
    app = HksApp(runtime, health_interval=0)
    try:
        engine = WorkflowEngine(runtime.store, all_kinds(), deps=runtime.services)
        record = await engine.start(KIND, workspace="dev", target="node-y")
        await engine.aclose()
        assert record.status == WorkflowStatus.PAUSED
        async with app.run_test(size=(120, 40)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            dialog = app.screen
            await until(pilot, lambda: laid_out(dialog, "#cancel"))
            await pilot.click("#cancel")  # "Later": nothing runs
            await until(pilot, lambda: not isinstance(app.screen, ConfirmDialog))
            app.run_command(":wf")
            await until(pilot, lambda: bool(app.screen.query("#workflow-table")))
            table = app.screen.query_one("#workflow-table", ResourceTable)
            await until(pilot, lambda: record.id in table.visible_keys)
            row = table.get_row(record.id)
            assert row["status"] == "paused" and row["progress"] == "0/2"
            assert "transient" in row["error"] and flaky_kind["first"] == 1
            table.post_message(ResourceTable.ActionChosen(table, "resume", (record.id,)))
            await until(pilot, lambda: table.get_row(record.id)["status"] == "succeeded")
            assert table.get_row(record.id)["progress"] == "2/2"
    finally:
        runtime.close()
