"""`hks-tui` command line.

Subcommands are registered by import path and imported only when used, so `hks-tui --help` stays fast
(kubernetes, proxmoxer and textual are slow to import and are never imported here at module level).

Headless commands (``workspaces list``, ``audit list``) print a table, or with ``--json`` a JSON array
whose field names are stable (documented in README.md, "Headless commands"). Every failure the user can
act on exits non-zero with one line on stderr, never a traceback (``HKS_DEBUG=1`` shows it).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from hks_tui import __version__

# name -> "module:attribute" of a click.Command; imported lazily.
LAZY_COMMANDS: dict[str, str] = {
    "apps": "hks_tui.cli_apps:apps_group",
    "audit": "hks_tui.cli_headless:audit_group",
    "config": "hks_tui.cli_config:config_group",
    "nodes": "hks_tui.cli_nodes:nodes_group",
    "workflows": "hks_tui.cli_workflows:workflows_group",
    "workspaces": "hks_tui.cli_headless:workspaces_group",
    "volumes": "hks_tui.cli_storage:volumes_group",
    "quotas": "hks_tui.cli_storage:quotas_group",
    "backups": "hks_tui.cli_storage_backups:backups_group",
    "lab": "hks_tui.lab.cli:lab_command",
    "serve": "hks_tui.serve:serve_command",
}
# One-line help of each lazy command, so `hks-tui --help` lists them without importing them.
LAZY_HELP: dict[str, str] = {
    "apps": "Applications: list, show, create -f, scale, set-image, restart, logs, delete.",
    "audit": "The audit log (every mutating call, before and after).",
    "config": "Show the resolved configuration; `config init` writes a template.",
    "lab": "Run the lab (simulated Proxmox VE, K3s, vClusters, metrics) in the foreground.",
    "nodes": "Dedicated nodes: list, show, start, stop, reboot, delete (durable workflows).",
    "serve": "Serve the console to a browser, guarded by a per-launch token.",
    "workspaces": "Workspaces with plan, contexts and health.",
    "volumes": "Storage volumes: list, create, expand, delete (Proxmox disk + PV).",
    "quotas": "Namespace storage quotas: list, set (sum capped by the volumes).",
    "backups": "Scheduled backups: list, create, run, suspend, resume, delete, runs.",
    "workflows": "Journaled workflows: list, show, resume.",
}
# Errors the user can act on: printed as one line (module, class name); looked up only if already imported.
_USER_ERRORS: tuple[tuple[str, str], ...] = (
    ("hks_tui.config", "ConfigError"),
    ("hks_tui.store.errors", "StoreError"),
    ("hks_tui.secretref", "SecretError"),
    ("hks_tui.clients.errors", "HksError"),
    ("hks_tui.validation.errors", "ValidationProblem"),
)
EXIT_FAILURE = 1
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130


class CommandFailed(click.ClickException):
    """A one-line failure on stderr with a non-zero exit code."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))

    def show(self, file: Any = None) -> None:
        click.echo(f"hks-tui: {self.format_message()}", err=True)


class InternalFailure(CommandFailed):
    exit_code = EXIT_INTERNAL


class Interrupted(CommandFailed):
    exit_code = EXIT_INTERRUPTED


def _user_error(exc: BaseException) -> bool:
    for module_name, cls_name in _USER_ERRORS:
        module = sys.modules.get(module_name)
        cls = getattr(module, cls_name, None) if module is not None else None
        if isinstance(cls, type) and isinstance(exc, cls):
            return True
    return False


class LazyGroup(click.Group):
    """A click group whose subcommands live in other modules and are imported on first use.

    It also turns the domain errors (ConfigError, StoreError, SecretError, HksError) into one line on
    stderr and a non-zero exit, and any other exception into one line too unless ``HKS_DEBUG=1``.
    """

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

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """Like click's, but lazy commands use :data:`LAZY_HELP` instead of being imported."""
        rows: list[tuple[str, str]] = []
        for name in self.list_commands(ctx):
            if name in self.lazy:
                rows.append((name, LAZY_HELP.get(name, "")))
                continue
            command = super().get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            raise Interrupted("interrupted") from None
        except Exception as exc:
            if _user_error(exc):
                raise CommandFailed(str(exc)) from None
            if os.environ.get("HKS_DEBUG") == "1":
                raise
            raise InternalFailure(
                f"internal error: {type(exc).__name__}: {exc} (run with HKS_DEBUG=1 for the traceback)"
            ) from None


@dataclass(frozen=True)
class GlobalOptions:
    profile: str | None = None
    lab_dir: Path | None = None
    data_dir: Path | None = None
    config_path: Path | None = None
    readonly: bool = False
    workspace: str | None = None
    insecure: bool = False

    def runtime_options(self) -> Any:
        from hks_tui.runtime import RuntimeOptions

        return RuntimeOptions(
            profile=self.profile,
            lab_dir=self.lab_dir,
            data_dir=self.data_dir,
            readonly=self.readonly,
            workspace=self.workspace,
            insecure=self.insecure,
            config_path=self.config_path,
        )


def _opts(ctx: click.Context) -> GlobalOptions:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, GlobalOptions) else GlobalOptions()


@click.group(cls=LazyGroup, lazy=LAZY_COMMANDS, invoke_without_command=True)
@click.version_option(__version__, "--version", "-V", prog_name="hks-tui")
@click.option("--profile", metavar="NAME", envvar="HKS_PROFILE", help="Configured workspace profile to use.")
@click.option(
    "--lab-dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Connect to a lab started with `hks-tui lab --state-dir DIR`.",
)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path, file_okay=False),
    envvar="HKS_DATA_DIR",
    help="Directory of the SQLite state (default: $XDG_DATA_HOME/hks-tui). Env: HKS_DATA_DIR.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    envvar="HKS_CONFIG",
    help="Configuration file (default: $XDG_CONFIG_HOME/hks-tui/config.toml). Env: HKS_CONFIG.",
)
@click.option("--readonly", is_flag=True, help="Refuse every mutating request before it leaves the process.")
@click.option(
    "--workspace", metavar="NAME", help="Workspace to open (default: the profile's, or the only one)."
)
@click.option("--insecure", is_flag=True, help="Skip TLS verification (a red banner stays on screen).")
@click.pass_context
def main(
    ctx: click.Context,
    profile: str | None,
    lab_dir: Path | None,
    data_dir: Path | None,
    config_path: Path | None,
    readonly: bool,
    workspace: str | None,
    insecure: bool,
) -> None:
    """HKS TUI — terminal console for Hexabase KaaS workspace admins.

    With no subcommand it opens the console; with no configuration at all, on the embedded lab.
    """
    ctx.obj = GlobalOptions(profile, lab_dir, data_dir, config_path, readonly, workspace, insecure)
    if ctx.invoked_subcommand is None:
        ctx.exit(_run_console(ctx.obj))


def _run_console(options: GlobalOptions) -> int:
    """The console: the shell is painted first, the runtime opened right after (hks_tui.cli_boot)."""
    from hks_tui.app import run_console_deferred
    from hks_tui.cli_boot import RuntimeOpener, pending_runtime

    def open_runtime() -> Any:
        from hks_tui.runtime import open_runtime

        return open_runtime(options.runtime_options())

    pending = pending_runtime(
        lab_dir=options.lab_dir,
        config_path=options.config_path,
        profile=options.profile,
        workspace=options.workspace,
        readonly=options.readonly,
        insecure=options.insecure,
    )
    return run_console_deferred(RuntimeOpener(open_runtime, pending))


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=False, default=str))


def _table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for row in [headers, *rows]:
        click.echo("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
