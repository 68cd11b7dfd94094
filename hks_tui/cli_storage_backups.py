"""Headless backup commands: ``hks-tui backups list|create|run|suspend|resume|delete|runs``.

Table output by default, ``--json`` for scripts (fields documented in README.md, "Headless commands").
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import click

from hks_tui.cli import CommandFailed, _echo_json, _table
from hks_tui.cli_storage import JSON_HELP, _finish, _run


def _backups(runtime: Any) -> Any:
    from hks_tui.services.backups import BackupService

    return BackupService(runtime.services)


# -- backups -----------------------------------------------------------------------------------------


@click.group("backups")
def backups_group() -> None:
    """Scheduled backups (CronJobs mounting an app's claim and a volume)."""


NS_OPTION = click.option("--namespace", "-n", default="default", show_default=True, help="Namespace.")


@backups_group.command("list")
@click.option("--namespace", "-n", help="Only this namespace (default: all).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def backups_list(ctx: click.Context, namespace: str | None, as_json: bool) -> None:
    """Backups with schedule (and its English), last run, next run, suspended."""
    rows = _run(ctx, _backups, lambda s: s.list(namespace))
    if as_json:
        _echo_json([r.to_json() for r in rows])
        return
    if not rows:
        click.echo("no backups")
        return
    table = []
    for r in rows:
        last = r.last_run
        table.append(
            [
                f"{r.namespace}/{r.name}",
                r.app,
                f"{r.schedule} ({r.schedule_text})",
                f"{last.result} {last.started or ''}".strip() if last else "never",
                r.next_runs[0] if r.next_runs and not r.suspended else "-",
                "yes" if r.suspended else "no",
            ]
        )
    _table(table, ["BACKUP", "APP", "SCHEDULE", "LAST RUN", "NEXT RUN", "SUSPENDED"])


@backups_group.command("create")
@click.argument("name")
@click.option("--app", required=True, help="The application whose claim is backed up.")
@click.option("--schedule", required=True, help="Cron (5 fields or a macro such as @daily).")
@click.option("--source", help="The app's claim to back up (tar/rsync).")
@click.option("--dest", "destination", required=True, help="The destination claim (a bound volume).")
@click.option("--path", "destination_path", default=".", show_default=True, help="Directory in the volume.")
@click.option(
    "--function",
    type=click.Choice(["tar", "rsync", "pg_dump", "mysqldump", "custom"]),
    default="tar",
    show_default=True,
)
@click.option("--keep", "keep_last", type=click.IntRange(1, 1000), default=7, show_default=True)
@click.option("--time-zone", help="IANA time zone of the schedule.")
@click.option("--workspace-nodes", is_flag=True, help="Run on the workspace's dedicated nodes.")
@NS_OPTION
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def backups_create(ctx: click.Context, name: str, namespace: str, as_json: bool, **fields: Any) -> None:
    """Create a backup CronJob (the definition travels in its labels and annotations)."""
    from pydantic import ValidationError

    from hks_tui.manifests.backup_spec import BackupSpec

    def act_for(s: Any) -> Awaitable[None]:
        async def act() -> None:
            data = {k: v for k, v in fields.items() if v is not None and k != "workspace_nodes"}
            if fields.get("workspace_nodes"):
                data["scheduling"] = {"workspace": s.workspace}
            try:
                spec = BackupSpec(
                    name=name,
                    namespace=namespace,
                    source_pvc=data.pop("source", None),
                    destination_pvc=data.pop("destination"),
                    **data,
                )
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "backup"
                raise CommandFailed(f"{where}: {first['msg']}") from None
            _finish(await s.create(spec), s, as_json)

        return act()

    _run(ctx, _backups, act_for)


@backups_group.command("run")
@click.argument("name")
@NS_OPTION
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def backups_run(ctx: click.Context, name: str, namespace: str, as_json: bool) -> None:
    """Run a backup now (a Job from the CronJob's template)."""
    job = _run(ctx, _backups, lambda s: s.run_now(name, namespace))
    if as_json:
        _echo_json({"backup": name, "namespace": namespace, "job": job})
    else:
        click.echo(f"started job {namespace}/{job}")


def _suspend(ctx: click.Context, name: str, namespace: str, suspended: bool) -> None:
    _run(ctx, _backups, lambda s: s.set_suspended(name, namespace, suspended=suspended))
    click.echo(f"backup {namespace}/{name} {'suspended' if suspended else 'resumed'}")


@backups_group.command("suspend")
@click.argument("name")
@NS_OPTION
@click.pass_context
def backups_suspend(ctx: click.Context, name: str, namespace: str) -> None:
    """Stop scheduling new runs."""
    _suspend(ctx, name, namespace, True)


@backups_group.command("resume")
@click.argument("name")
@NS_OPTION
@click.pass_context
def backups_resume(ctx: click.Context, name: str, namespace: str) -> None:
    """Schedule runs again."""
    _suspend(ctx, name, namespace, False)


@backups_group.command("delete")
@click.argument("name")
@click.option("--confirm", required=True, metavar="NAME", help="The backup's name, typed again.")
@NS_OPTION
@click.pass_context
def backups_delete(ctx: click.Context, name: str, confirm: str, namespace: str) -> None:
    """Delete the CronJob and its Jobs (the backup files stay on the volume)."""
    _run(ctx, _backups, lambda s: s.delete(name, namespace, confirm=confirm))
    click.echo(f"backup {namespace}/{name} deleted")


@backups_group.command("runs")
@click.argument("name")
@NS_OPTION
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def backups_runs(ctx: click.Context, name: str, namespace: str, as_json: bool) -> None:
    """The backup's Jobs, newest first, with status and the log tail."""
    runs = _run(ctx, _backups, lambda s: s.runs(name, namespace))
    if as_json:
        _echo_json([r.to_json() for r in runs])
        return
    if not runs:
        click.echo("no runs")
        return
    for r in runs:
        took = f"{r.duration_seconds:.0f}s" if r.duration_seconds is not None else "-"
        click.echo(f"{r.job}  {r.result}  started {r.started or '-'}  took {took}  {r.reason}".rstrip())
        for line in r.log_tail[-5:]:
            click.echo(f"    {line}")
