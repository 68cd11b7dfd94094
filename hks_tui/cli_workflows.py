"""Headless `hks-tui workflows list|show ID|resume [ID] [--all]`, and the engine the node commands share.

A workflow is driven by exactly one process (its lease holder). ``resume`` drives the workflows a dead
process left behind (lease expired); ``--all`` also retries paused and failed ones. Progress lines of the
steps go to stderr; the final state to stdout (a table line, or ``--json``). Exit 0 when every driven
workflow succeeded, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import getpass
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from hks_tui.cli import CommandFailed, _echo_json, _opts, _table


def load_workflow_kinds() -> list[Any]:
    """Import every workflow feature package (each registers its kinds) and return all kinds."""
    import hks_tui.workflows as workflows
    from hks_tui.workflows import all_kinds

    for info in pkgutil.iter_modules(workflows.__path__):
        if info.ispkg:
            importlib.import_module(f"hks_tui.workflows.{info.name}")
    return all_kinds()


def actor() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return ""


@contextmanager
def open_engine(ctx: click.Context) -> Iterator[tuple[Any, Any]]:
    """(runtime, engine) for the selected profile/lab; everything is closed on exit."""
    from hks_tui.runtime import open_runtime
    from hks_tui.workflows import WorkflowEngine

    runtime = open_runtime(_opts(ctx).runtime_options())
    engine = None
    try:
        if getattr(runtime, "lab", None) is not None:
            click.echo("hks-tui: nothing is configured; acting on the embedded lab", err=True)
        engine = WorkflowEngine(
            runtime.store,
            load_workflow_kinds(),
            deps=runtime.services,
            executor=runtime.services.executor,
        )
        yield runtime, engine
    finally:
        if engine is not None:
            asyncio.run(engine.aclose())
        runtime.close()


def progress_printer(engine: Any) -> Callable[[], None]:
    """Stream step progress of every workflow the engine drives to stderr; returns the unsubscribe."""
    from hks_tui.workflows import EventType, WorkflowEvent

    def on_event(event: WorkflowEvent) -> None:
        short = event.workflow_id[:8]
        step = f"{event.step}" if event.step else ""
        if event.type == EventType.STEP_STARTED:
            line = f"{step}: {event.detail}"
        elif event.type in (EventType.STEP_DONE, EventType.STEP_ADOPTED):
            line = f"{step}: {event.detail or 'done'}"
        elif event.type == EventType.STEP_RETRY:
            line = f"{step}: attempt {event.attempt} failed ({event.detail}); retrying in {event.delay or 0:.1f}s"
        elif event.type == EventType.STEP_FAILED:
            line = f"{step}: FAILED — {event.detail}"
        elif event.type == EventType.STEP_DETAIL:
            line = f"{step}:   {event.detail}"
        elif event.type == EventType.WORKFLOW_FINISHED:
            line = f"workflow {event.status}" + (f": {event.detail}" if event.detail else "")
        else:
            return
        click.echo(f"[{short}] {line}", err=True)

    return engine.events.subscribe(on_event)  # type: ignore[no-any-return]


def finished_message(record: Any) -> str:
    """The one-line failure of a workflow that did not succeed (what to do next included)."""
    return (
        f"workflow {record.id} ({record.kind} {record.target}) ended {record.status}: {record.error or 'no detail'}; "
        f"inspect with `hks-tui workflows show {record.id}`, resume with `hks-tui workflows resume {record.id}`"
    )


@click.group("workflows")
def workflows_group() -> None:
    """Journaled workflows: list, show, resume."""


@workflows_group.command("list")
@click.option(
    "--all", "show_all", is_flag=True, help="Include finished workflows (default: unfinished only)."
)
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100_000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (the fields of `workflows show`).")
@click.pass_context
def workflows_list(ctx: click.Context, show_all: bool, limit: int, as_json: bool) -> None:
    """List workflows from the local journal, newest first."""
    from hks_tui import paths
    from hks_tui.store import Store
    from hks_tui.workflows import progress, title, workflow_json

    kinds = {k.name: k for k in load_workflow_kinds()}
    store = Store.open(paths.db_path(_opts(ctx).data_dir))
    try:
        records = store.workflows.list(unfinished=not show_all, limit=limit)
        rows = [(r, store.workflows.steps(r.id)) for r in records]
    finally:
        store.close()
    if as_json:
        _echo_json([workflow_json(r, steps, kinds.get(r.kind)) for r, steps in rows])
        return
    if not rows:
        click.echo("no workflows" if show_all else "no unfinished workflows")
        return
    _table(
        [
            [
                r.id,
                r.kind,
                r.workspace,
                r.target,
                str(r.status),
                "{}/{}".format(*progress(steps)),
                r.updated_at.strftime("%Y-%m-%d %H:%M:%S"),
                (r.error or title(r, kinds.get(r.kind)))[:60],
            ]
            for r, steps in rows
        ],
        ["ID", "KIND", "WORKSPACE", "TARGET", "STATUS", "STEPS", "UPDATED (UTC)", "DETAIL"],
    )


@workflows_group.command("show")
@click.argument("workflow_id")
@click.option("--json", "as_json", is_flag=True, help="Print the workflow and its steps as JSON.")
@click.pass_context
def workflows_show(ctx: click.Context, workflow_id: str, as_json: bool) -> None:
    """Show one workflow and the journal of its steps."""
    from hks_tui import paths
    from hks_tui.store import Store
    from hks_tui.workflows import workflow_json

    kinds = {k.name: k for k in load_workflow_kinds()}
    store = Store.open(paths.db_path(_opts(ctx).data_dir))
    try:
        record = store.workflows.get(workflow_id)
        if record is None:
            raise CommandFailed(
                f"no workflow {workflow_id!r} in the journal (list them: `hks-tui workflows list --all`)"
            )
        data = workflow_json(record, store.workflows.steps(workflow_id), kinds.get(record.kind))
    finally:
        store.close()
    if as_json:
        _echo_json(data)
        return
    click.echo(f"{data['id']}  {data['title']}")
    click.echo(f"status {data['status']}  steps {data['progress']}  workspace {data['workspace']}")
    if data["error"]:
        click.echo(f"error: {data['error']}")
    _table(
        [
            [
                str(s["index"] + 1),
                s["name"],
                s["status"],
                str(s["attempts"]),
                s["upid"] or "",
                s["detail"][:70],
            ]
            for s in data["steps"]
        ],
        ["#", "STEP", "STATUS", "ATTEMPTS", "UPID", "DETAIL"],
    )


@workflows_group.command("resume")
@click.argument("workflow_id", required=False)
@click.option("--all", "include_paused", is_flag=True, help="Also retry paused and failed workflows.")
@click.option(
    "--force-drain",
    is_flag=True,
    help="Node workflows only: delete the pods instead of evicting them (skips PodDisruptionBudgets; audited).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the final state of each workflow as JSON.")
@click.pass_context
def workflows_resume(
    ctx: click.Context, workflow_id: str | None, include_paused: bool, force_drain: bool, as_json: bool
) -> None:
    """Drive WORKFLOW_ID (or every workflow a dead process left running) to its end."""
    from hks_tui.workflows import WorkflowError

    if force_drain and workflow_id is None:
        raise CommandFailed(
            "--force-drain needs a WORKFLOW_ID: the override is given to one workflow at a time"
        )
    with open_engine(ctx) as (_runtime, engine):
        progress_printer(engine)
        try:
            if workflow_id is not None:
                if force_drain:
                    from hks_tui.workflows.nodes import allow_force

                    allow_force(engine, workflow_id, actor=actor())
                    click.echo(f"hks-tui: drain override recorded for {workflow_id} (audited)", err=True)
                records = [asyncio.run(engine.resume(workflow_id))]
                skipped: list[tuple[str, str]] = []
            else:
                report = asyncio.run(engine.resume_unfinished(include_paused=include_paused))
                records, skipped = report.finished, report.skipped
        except WorkflowError as exc:
            raise CommandFailed(str(exc)) from None
        data = [engine.show(r.id) for r in records]
    if as_json:
        _echo_json({"finished": data, "skipped": [{"id": i, "reason": why} for i, why in skipped]})
    else:
        if not records and not skipped:
            click.echo("nothing to resume")
        for item in data:
            click.echo(f"{item['id']}  {item['kind']}  {item['target']}  {item['status']}")
        for wid, why in skipped:
            click.echo(f"{wid}  skipped: {why}")
    failed = [r for r in records if str(r.status) != "succeeded"]
    if failed:
        raise CommandFailed(
            finished_message(failed[0]) + (f" (and {len(failed) - 1} more)" if len(failed) > 1 else "")
        )
    if skipped:
        raise CommandFailed(f"{len(skipped)} workflow(s) were not resumed: {skipped[0][1]}")
