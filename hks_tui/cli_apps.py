"""Headless `hks-tui apps …`: list, show, create -f, scale, set-image, restart, logs, delete.

Table output by default; ``--json`` prints stable fields (README.md, "Headless commands" → "apps").
Mutations run as durable workflows; ``--wait`` (default) waits for the rollout. A workflow that does
not succeed exits 1 with its error on stderr (and, with ``--json``, its record on stdout).
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from hks_tui.cli import CommandFailed, _echo_json, _opts, _table

T = TypeVar("T")

_project = click.option(
    "--project", "-p", default=None, metavar="NS", help="Project (namespace); default: default."
)
_json = click.option("--json", "as_json", is_flag=True, help="Print JSON (fields: see README).")
_wait = click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for the rollout.")
_timeout = click.option(
    "--timeout", type=click.FloatRange(1, 3600), default=None, help="Rollout timeout (s)."
)


def _with_apps(ctx: click.Context, work: Callable[[Any], Awaitable[T]]) -> T:
    """Open the runtime, run ``work(app_service)`` on a fresh event loop, close everything."""
    from hks_tui.runtime import open_runtime
    from hks_tui.services.apps import AppService

    runtime = open_runtime(_opts(ctx).runtime_options())
    if getattr(runtime, "lab", None) is not None:
        click.echo("hks-tui: nothing is configured; using the embedded lab", err=True)

    async def run() -> T:
        service = AppService(runtime.services, runtime.workspace)
        try:
            return await work(service)
        finally:
            await service.aclose()

    try:
        return asyncio.run(run())
    finally:
        runtime.close()


def _ns(project: str | None) -> str:
    return project or "default"


def _finish(service: Any, record: Any, as_json: bool, verb: str) -> None:
    """Print a workflow's outcome; exit non-zero unless it succeeded."""
    from hks_tui.models import WorkflowStatus

    shown = service.engine.show(record.id)
    if as_json:
        _echo_json(shown)
    else:
        click.echo(f"{verb} {record.target}: {record.status} (workflow {record.id})")
        for step in shown.get("steps") or []:
            click.echo(
                f"  {step.get('name', '')}: {step.get('status', '')} {step.get('error') or ''}".rstrip()
            )
    if record.status != WorkflowStatus.SUCCEEDED:
        raise CommandFailed(record.error or f"workflow {record.id} ended {record.status}")


@click.group("apps")
def apps_group() -> None:
    """Applications of the workspace (list, show, create, scale, set-image, restart, logs, delete)."""


@apps_group.command("list")
@_project
@_json
@click.pass_context
def apps_list(ctx: click.Context, project: str | None, as_json: bool) -> None:
    """List apps of one project (--project) or of all projects; external apps are read-only."""
    rows = _with_apps(ctx, lambda s: s.list(project))
    if as_json:
        _echo_json([r.to_json() for r in rows])
        return
    if not rows:
        click.echo("no applications")
        return
    _table(
        [
            [
                r.namespace,
                r.name + ("" if r.managed else " (external)"),
                r.status,
                r.type,
                ", ".join(r.endpoints),
                r.image,
                str(r.restarts),
                r.age,
            ]
            for r in rows
        ],
        ["PROJECT", "NAME", "STATUS", "TYPE", "ENDPOINTS", "IMAGE", "RESTARTS", "AGE"],
    )


@apps_group.command("show")
@click.argument("name")
@_project
@_json
@click.pass_context
def apps_show(ctx: click.Context, name: str, project: str | None, as_json: bool) -> None:
    """The app's objects, pods, recent events and why pods are pending."""
    detail = _with_apps(ctx, lambda s: s.show(name, _ns(project)))
    if as_json:
        _echo_json(detail.to_json())
        return
    row = detail.row
    click.echo(f"{row.namespace}/{row.name}  {row.kind}  {row.status}  image {row.image}")
    click.echo(f"endpoints: {', '.join(row.endpoints) or '-'}")
    _table([[o["kind"], o["name"], o["state"]] for o in detail.objects], ["KIND", "NAME", "STATE"])
    if detail.pods:
        click.echo("")
        _table(
            [[p.name, p.status, p.ready, str(p.restarts), p.node, p.age] for p in detail.pods],
            ["POD", "STATUS", "READY", "RESTARTS", "NODE", "AGE"],
        )
    for reason in detail.pending:
        click.echo(f"\nwhy pending? {reason.pod}: {reason.cause}: {reason.message}\n  fix: {reason.fix}")
    if detail.events:
        click.echo("")
        _table(
            [[e["time"], e["type"], e["reason"], e["object"], e["message"]] for e in detail.events],
            ["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        )


@apps_group.command("create")
@click.option(
    "-f",
    "--file",
    "file",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False, allow_dash=True),
    help="The AppSpec YAML (what the wizard's Review step exports); - for stdin.",
)
@_project
@_wait
@_timeout
@click.option("--rollback", is_flag=True, help="On failure, delete what this deploy created.")
@_json
@click.pass_context
def apps_create(
    ctx: click.Context,
    file: Path,
    project: str | None,
    wait: bool,
    timeout: float | None,
    rollback: bool,
    as_json: bool,
) -> None:
    """Deploy an app from an AppSpec file: dry run, quota check, apply, rollout."""
    from pydantic import ValidationError

    from hks_tui.manifests import AppSpec, load_spec

    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    try:
        spec = load_spec(AppSpec, text)
    except (ValueError, ValidationError) as exc:
        problems = (
            "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'spec'}: {e['msg']}" for e in exc.errors())
            if isinstance(exc, ValidationError)
            else str(exc)
        )
        raise CommandFailed(f"{file}: {problems}") from None
    if project and project != spec.namespace:
        spec = AppSpec.model_validate({**spec.model_dump(), "namespace": project})

    async def work(s: Any) -> None:
        record = await s.deploy(spec, wait=wait, rollback=rollback, timeout=timeout)
        _finish(s, record, as_json, "deploy")

    _with_apps(ctx, work)


@apps_group.command("scale")
@click.argument("name")
@click.argument("replicas", type=click.IntRange(0, 100))
@_project
@_wait
@_timeout
@_json
@click.pass_context
def apps_scale(
    ctx: click.Context,
    name: str,
    replicas: int,
    project: str | None,
    wait: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Set the number of replicas."""

    async def work(s: Any) -> None:
        _finish(s, await s.scale(name, replicas, _ns(project), wait=wait, timeout=timeout), as_json, "scale")

    _with_apps(ctx, work)


@apps_group.command("set-image")
@click.argument("name")
@click.argument("image")
@click.option("--container", default=None, help="Container to update (default: the first).")
@_project
@_wait
@_timeout
@_json
@click.pass_context
def apps_set_image(
    ctx: click.Context,
    name: str,
    image: str,
    container: str | None,
    project: str | None,
    wait: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Rolling update to another image."""

    async def work(s: Any) -> None:
        record = await s.set_image(name, image, _ns(project), container=container, wait=wait, timeout=timeout)
        _finish(s, record, as_json, "set-image")

    _with_apps(ctx, work)


@apps_group.command("restart")
@click.argument("name")
@click.option("--pod", default=None, help="Restart only this pod (deleted; its controller replaces it).")
@_project
@_wait
@_timeout
@_json
@click.pass_context
def apps_restart(
    ctx: click.Context,
    name: str,
    pod: str | None,
    project: str | None,
    wait: bool,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Rolling restart of all pods, or delete one pod with --pod."""

    async def work(s: Any) -> None:
        if pod:
            deleted = await s.restart_pod(name, pod, _ns(project))
            if as_json:
                _echo_json({"deleted_pod": deleted, "app": name, "project": _ns(project)})
            else:
                click.echo(f"deleted pod {deleted}; its controller replaces it")
            return
        _finish(s, await s.restart_all(name, _ns(project), wait=wait, timeout=timeout), as_json, "restart")

    _with_apps(ctx, work)


@apps_group.command("delete")
@click.argument("name")
@click.option("--confirm", required=True, metavar="NAME", help="The app's exact name, to confirm.")
@click.option("--delete-volumes", is_flag=True, help="Also delete the app's PVCs (kept by default).")
@_project
@_json
@click.pass_context
def apps_delete(
    ctx: click.Context, name: str, confirm: str, delete_volumes: bool, project: str | None, as_json: bool
) -> None:
    """Delete the workload, Service and Ingress (PVCs kept unless --delete-volumes)."""

    async def work(s: Any) -> None:
        record = await s.delete(name, _ns(project), confirm=confirm, delete_volumes=delete_volumes)
        _finish(s, record, as_json, "delete")

    _with_apps(ctx, work)


@apps_group.command("logs")
@click.argument("name")
@click.option("-f", "--follow", is_flag=True, help="Follow all pods, including pods of a rollout.")
@click.option("--tail", default=100, show_default=True, type=click.IntRange(0, 100_000))
@_project
@_json
@click.pass_context
def apps_logs(
    ctx: click.Context, name: str, follow: bool, tail: int, project: str | None, as_json: bool
) -> None:
    """Print the app's logs, each line prefixed with its pod (JSON lines with --json)."""
    import json

    def emit(pod: str, line: str) -> None:
        click.echo(json.dumps({"pod": pod, "line": line}) if as_json else f"[{pod}] {line}")

    if not follow:
        for pod, line in _with_apps(ctx, lambda s: s.logs(name, _ns(project), tail=tail)):
            emit(pod, line)
        return

    def state(value: str, detail: str) -> None:
        click.echo(f"hks-tui: stream {value}{': ' + detail if detail else ''}", err=True)

    async def work(s: Any) -> None:
        lock = threading.Lock()

        def on_line(pod: str, line: str) -> None:
            with lock:
                emit(pod, line)

        stream = await s.follow_logs(name, on_line, state, _ns(project), tail=tail)
        try:
            while stream.alive:
                await asyncio.sleep(0.5)
        finally:
            await asyncio.to_thread(stream.stop, 2.0)

    _with_apps(ctx, work)
