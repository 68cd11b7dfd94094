"""Headless node commands: `hks-tui nodes list|show|start|stop|reboot|delete`.

Actions are durable workflows (see :mod:`hks_tui.workflows.nodes`). With ``--wait`` this process drives
the workflow and streams step progress to stderr; without it the workflow is handed to a detached
``hks-tui workflows resume ID`` process and its id is printed (follow it with ``workflows show``). Exit 0
on success (or once submitted), 1 on a refused action or a workflow that did not succeed, 2 on a delete
whose ``--confirm`` does not repeat the node name.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from typing import Any

import click

from hks_tui.cli import CommandFailed, _echo_json, _opts, _table
from hks_tui.cli_workflows import actor, finished_message, open_engine, progress_printer


class ConfirmationRefused(CommandFailed):
    exit_code = 2


@click.group("nodes")
def nodes_group() -> None:
    """Dedicated nodes of the workspace: list, show, start, stop, reboot, delete."""


@nodes_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of node rows.")
@click.pass_context
def nodes_list(ctx: click.Context, as_json: bool) -> None:
    """The workspace's dedicated nodes (Proxmox + Kubernetes status combined)."""
    from hks_tui.runtime import open_runtime

    runtime = open_runtime(_opts(ctx).runtime_options())
    try:
        rows = runtime.services.nodes.rows_sync(runtime.workspace, with_usage=False)
    finally:
        runtime.close()
    if as_json:
        _echo_json([r.model_dump(mode="json") for r in rows])
        return
    if not rows:
        click.echo(f"no dedicated nodes in workspace {runtime.workspace}")
        return
    _table(
        [
            [
                r.name,
                r.status,
                f"{r.vcpu} vCPU / {r.ram_bytes // 2**30} GiB",
                r.ip or "",
                r.pve_node or "",
                str(r.vmid or ""),
            ]
            for r in rows
        ],
        ["NAME", "STATUS", "SPEC", "IP", "PVE NODE", "VMID"],
    )


@nodes_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the node detail as JSON.")
@click.pass_context
def nodes_show(ctx: click.Context, name: str, as_json: bool) -> None:
    """One node: Proxmox and Kubernetes facts."""
    from hks_tui.runtime import open_runtime

    runtime = open_runtime(_opts(ctx).runtime_options())
    try:
        detail = runtime.services.nodes.detail_sync(runtime.workspace, name)
    finally:
        runtime.close()
    data = detail.model_dump(mode="json")
    if as_json:
        _echo_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, item in value.items():
                if not isinstance(item, list | dict):
                    click.echo(f"{key}.{sub}: {item}")
        elif not isinstance(value, list):
            click.echo(f"{key}: {value}")


def _global_args(ctx: click.Context) -> list[str]:
    """The global options of this invocation, for the detached runner."""
    opts = _opts(ctx)
    args: list[str] = []
    for flag, value in (
        ("--profile", opts.profile),
        ("--lab-dir", opts.lab_dir),
        ("--data-dir", opts.data_dir),
        ("--config", opts.config_path),
        ("--workspace", opts.workspace),
    ):
        if value is not None:
            args += [flag, str(value)]
    if opts.readonly:
        args.append("--readonly")
    if opts.insecure:
        args.append("--insecure")
    return args


def _detach(ctx: click.Context, engine: Any, workflow_id: str) -> None:
    """Hand the workflow to a detached `hks-tui workflows resume ID` (its lease is released first)."""
    from hks_tui import paths

    log_dir = paths.db_path(_opts(ctx).data_dir).parent / "workflow-logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    engine.store.workflows.release_lease(workflow_id, engine.owner)
    with open(log_dir / f"{workflow_id}.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "hks_tui", *_global_args(ctx), "workflows", "resume", workflow_id],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            env=os.environ.copy(),
        )


def _act(ctx: click.Context, action: str, name: str, wait: bool, as_json: bool, **kw: Any) -> None:
    from hks_tui.workflows import WorkflowError
    from hks_tui.workflows.nodes import node_deps, submit_action

    with open_engine(ctx) as (runtime, engine):
        workspace = runtime.workspace
        if runtime.services.readonly:
            raise CommandFailed(f"read-only mode: refusing to {action} node {name} (drop --readonly)")
        try:
            record = submit_action(
                engine, node_deps(runtime.services), action, workspace, name, actor=actor(), **kw
            )
        except WorkflowError as exc:
            raise CommandFailed(str(exc)) from None
        embedded = getattr(runtime, "lab", None) is not None
        if not wait and embedded:
            click.echo("hks-tui: the embedded lab lives in this process: waiting for the workflow", err=True)
        if wait or embedded:
            progress_printer(engine)
            try:
                final = asyncio.run(engine.run(record.id))
            except WorkflowError as exc:
                raise CommandFailed(str(exc)) from None
        else:
            _detach(ctx, engine, record.id)
            final = record
        data = engine.show(final.id)
    if as_json:
        _echo_json(data)
    elif wait or embedded:
        click.echo(f"{data['id']}  {data['title']}: {data['status']}")
    else:
        click.echo(f"{data['id']}  {data['title']}: submitted (follow: hks-tui workflows show {data['id']})")
    if (wait or embedded) and str(final.status) != "succeeded":
        raise CommandFailed(finished_message(final))


_WAIT = click.option("--wait", is_flag=True, help="Drive the workflow here and stream its steps to stderr.")
_JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print the workflow as JSON (see `workflows show`)."
)
_FORCE = click.option(
    "--force",
    is_flag=True,
    help="Drain override: delete the pods instead of evicting them (skips PodDisruptionBudgets; audited).",
)


@nodes_group.command("start")
@click.argument("name")
@_WAIT
@_JSON
@click.pass_context
def nodes_start(ctx: click.Context, name: str, wait: bool, as_json: bool) -> None:
    """Start a stopped node: PVE start → guest agent up → Node Ready → uncordon."""
    _act(ctx, "start", name, wait, as_json)


@nodes_group.command("stop")
@click.argument("name")
@_WAIT
@_JSON
@_FORCE
@click.pass_context
def nodes_stop(ctx: click.Context, name: str, wait: bool, as_json: bool, force: bool) -> None:
    """Stop a node: cordon → drain (PDBs honoured) → graceful shutdown, forced stop after a timeout."""
    _act(ctx, "stop", name, wait, as_json, force=force)


@nodes_group.command("reboot")
@click.argument("name")
@_WAIT
@_JSON
@_FORCE
@click.pass_context
def nodes_reboot(ctx: click.Context, name: str, wait: bool, as_json: bool, force: bool) -> None:
    """Reboot a node: cordon → drain → PVE reboot → Node Ready → uncordon."""
    _act(ctx, "reboot", name, wait, as_json, force=force)


@nodes_group.command("delete")
@click.argument("name")
@click.option("--confirm", "confirm", metavar="NAME", required=True, help="Repeat the node name to confirm.")
@click.option(
    "--destroy-unreferenced-disks", is_flag=True, help="Also destroy disks of the VMID not in its config."
)
@_WAIT
@_JSON
@_FORCE
@click.pass_context
def nodes_delete(
    ctx: click.Context,
    name: str,
    confirm: str,
    destroy_unreferenced_disks: bool,
    wait: bool,
    as_json: bool,
    force: bool,
) -> None:
    """Delete a node: cordon → drain → stop → destroy the VM (purge) → delete the Node → close billing."""
    if confirm != name:
        raise ConfirmationRefused(
            f"refusing to delete {name}: --confirm must repeat the node name exactly (got {confirm!r})"
        )
    _act(
        ctx, "delete", name, wait, as_json, force=force, destroy_unreferenced_disks=destroy_unreferenced_disks
    )
