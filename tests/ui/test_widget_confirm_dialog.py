"""ConfirmDialog: typed-name gating for destructive actions, esc cancels, plain confirm works."""

from __future__ import annotations

from textual.app import App
from textual.widgets import Button, Static

from hks_tui.widgets import ConfirmDialog


class Host(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.results: list[bool | None] = []

    def ask(self, dialog: ConfirmDialog) -> None:
        self.push_screen(dialog, self.results.append)


async def test_destructive_requires_the_exact_name() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = ConfirmDialog(
            "Delete node worker-3?",
            ["Drains 12 pods", "Destroys VM 104 and its disks"],
            require_text="worker-3",
            confirm_label="Delete",
        )
        app.ask(dialog)
        await pilot.pause()
        impact = [str(s.render()) for s in dialog.query(".impact").results(Static)]
        assert impact == ["• Drains 12 pods", "• Destroys VM 104 and its disks"]
        confirm = dialog.query_one("#confirm", Button)
        assert confirm.disabled
        await pilot.press(*"worker-")
        await pilot.press("enter")  # enter does nothing while the name does not match
        assert confirm.disabled and app.screen is dialog
        await pilot.press("3")
        assert not confirm.disabled
        await pilot.press("4")  # "worker-34" is not "worker-3"
        assert confirm.disabled
        await pilot.press("backspace", "enter")
        await pilot.pause()
        assert app.results == [True]
        assert app.screen is not dialog


async def test_escape_and_cancel_dismiss_false() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        app.ask(ConfirmDialog("Delete volume data?", require_text="data"))
        await pilot.pause()
        await pilot.press(*"data")
        await pilot.press("escape")
        await pilot.pause()
        app.ask(ConfirmDialog("Restart app?", ["Rolling restart of 3 pods"]))
        await pilot.pause()
        await pilot.click("#cancel")
        await pilot.pause()
        assert app.results == [False, False]


async def test_non_destructive_confirm_button() -> None:
    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        dialog = ConfirmDialog("Start node?", ["Powers on VM 105"], confirm_label="Start")
        app.ask(dialog)
        await pilot.pause()
        assert not dialog.destructive and not dialog.query_one("#confirm", Button).disabled
        await pilot.click("#confirm")
        await pilot.pause()
        assert app.results == [True]
