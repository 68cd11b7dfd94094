"""`hks-tui` command line.

Subcommands are registered by import path and imported only when used, so `hks-tui --help` stays fast
(kubernetes and proxmoxer are slow to import).
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from hks_tui import __version__

# name -> "module:attribute" of a click.Command; imported lazily.
LAZY_COMMANDS: dict[str, str] = {
    "lab": "hks_tui.lab.cli:lab_command",
}


class LazyGroup(click.Group):
    """A click group whose subcommands live in other modules and are imported on first use."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS, invoke_without_command=True)
@click.version_option(__version__, prog_name="hks-tui")
@click.pass_context
def main(ctx: click.Context) -> None:
    """HKS TUI — terminal console for Hexabase KaaS workspace admins."""
    if ctx.invoked_subcommand is None:
        raise click.UsageError("the console shell is not wired yet; try `hks-tui lab --help`")
