"""ConfirmDialog: a modal yes/no with an impact summary; destructive actions need the exact name typed."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


class ConfirmDialog(ModalScreen[bool]):
    """Dismisses with ``True`` only when confirmed; esc or Cancel dismiss with ``False``.

    When ``require_text`` is given (the resource name for a destructive action), the confirm button
    stays disabled until exactly that text is typed; enter in the field confirms once it matches.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    ConfirmDialog {
        align: center middle;
        background: $background 60%;
    }
    ConfirmDialog > Vertical {
        width: 64;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $panel;
        padding: 0 1;
    }
    ConfirmDialog.-destructive > Vertical {
        border: thick $error;
    }
    ConfirmDialog .title {
        text-style: bold;
        width: 100%;
        padding: 0 0 1 0;
    }
    ConfirmDialog .impact {
        width: 100%;
        color: $foreground;
    }
    ConfirmDialog .prompt {
        width: 100%;
        padding: 1 0 0 0;
        color: $text-muted;
    }
    ConfirmDialog Input {
        width: 100%;
        margin: 0;
    }
    ConfirmDialog Horizontal {
        height: auto;
        width: 100%;
        align-horizontal: right;
        padding: 1 0 0 0;
    }
    ConfirmDialog Button {
        margin: 0 0 0 2;
        min-width: 12;
    }
    """

    def __init__(
        self,
        title: str,
        impact: Sequence[str] = (),
        *,
        require_text: str | None = None,
        confirm_label: str = "Confirm",
        cancel_label: str = "Cancel",
        destructive: bool | None = None,
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.impact = list(impact)
        self.require_text = require_text
        self.confirm_label = confirm_label
        self.cancel_label = cancel_label
        self.destructive = require_text is not None if destructive is None else destructive
        if self.destructive:
            self.add_class("-destructive")

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.dialog_title, classes="title", markup=False)
            for line in self.impact:
                yield Static(f"• {line}", classes="impact", markup=False)
            if self.require_text is not None:
                yield Label(f"Type {self.require_text!r} to confirm:", classes="prompt", markup=False)
                yield Input(placeholder=self.require_text, id="confirm-text", select_on_focus=False)
            with Horizontal():
                yield Button(self.cancel_label, id="cancel", variant="default")
                yield Button(
                    self.confirm_label,
                    id="confirm",
                    variant="error" if self.destructive else "primary",
                    disabled=self.require_text is not None,
                )

    def on_mount(self) -> None:
        if self.require_text is not None:
            self.query_one("#confirm-text", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    @property
    def can_confirm(self) -> bool:
        if self.require_text is None:
            return True
        return self.query_one("#confirm-text", Input).value == self.require_text

    @on(Input.Changed, "#confirm-text")
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#confirm", Button).disabled = not self.can_confirm

    @on(Input.Submitted, "#confirm-text")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.can_confirm:
            self.dismiss(True)

    @on(Button.Pressed, "#confirm")
    def _confirm(self, event: Button.Pressed) -> None:
        if self.can_confirm:
            self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def _cancel(self, event: Button.Pressed) -> None:
        self.dismiss(False)

    def action_cancel(self) -> None:
        self.dismiss(False)
