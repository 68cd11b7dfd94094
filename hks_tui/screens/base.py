"""The base of every section screen: header, body, flash line, command line, footer."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen

from hks_tui.screens.chrome import CommandLine, FlashLine, ShellFooter, ShellHeader

if TYPE_CHECKING:
    from hks_tui.app import HksApp

STYLES = Path(__file__).resolve().parent.parent / "styles"


class SectionScreen(Screen[None]):
    """A top-level section (an app mode). Subclasses implement :meth:`compose_body`."""

    #: the section's mode name and its title in help / palette
    SECTION: ClassVar[str] = ""
    TITLE_TEXT: ClassVar[str] = ""

    @property
    def hks(self) -> HksApp:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield ShellHeader(id="shell-header")
        yield from self.compose_body()
        with Vertical(id="shell-bottom"):
            yield FlashLine("", id="flash")
            yield CommandLine(self.hks.command_arguments)
        yield ShellFooter()

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def open_command_line(self) -> None:
        self.query_one(CommandLine).open()
