"""Headless storage commands: ``hks-tui volumes …`` and ``hks-tui quotas …`` (backups: cli_storage_backups).

Table output by default, ``--json`` for scripts (fields documented in README.md, "Headless commands").
A mutating command runs its workflow to the end and exits non-zero unless it succeeded.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from hks_tui.cli import CommandFailed, _echo_json, _opts, _table

T = TypeVar("T")
JSON_HELP = "Print JSON (fields: see README)."


def _run(ctx: click.Context, build: Callable[[Any], Any], action: Callable[[Any], Awaitable[T]]) -> T:
    """Open the runtime, build a service from its ``Services``, run ``action(service)``, close it all."""
    from hks_tui.runtime import open_runtime
    from hks_tui.validation import ValidationProblem

    runtime = open_runtime(_opts(ctx).runtime_options())
    service = build(runtime)

    async def main() -> T:
        try:
            return await action(service)
        finally:
            await service.aclose()

    try:
        return asyncio.run(main())
    except ValidationProblem as exc:
        raise CommandFailed(f"{exc.field}: {exc.message}") from None
    finally:
        runtime.close()


def _volumes(runtime: Any) -> Any:
    from hks_tui.services.volumes import VolumeService

    return VolumeService(runtime.services, price_gib_month=runtime.settings.storage_price_gib_month)


def _finish(record: Any, service: Any, as_json: bool) -> None:
    """Print the workflow (JSON: ``workflow_json``) and fail unless it succeeded."""
    from hks_tui.models import WorkflowStatus
    from hks_tui.workflows import workflow_json

    steps = service.store.workflows.steps(record.id)
    if as_json:
        _echo_json(workflow_json(record, steps))
    else:
        for step in steps:
            click.echo(f"  {step.status!s:<12} {step.name}")
        click.echo(f"workflow {record.id} ({record.kind}): {record.status}")
    if record.status != WorkflowStatus.SUCCEEDED:
        raise CommandFailed(f"{record.kind} {record.status}: {record.error or 'see the workflow journal'}")


def _size(value: int | None) -> str:
    if value is None:
        return "-"
    from hks_tui.validation import human_bytes

    return human_bytes(value)


# -- volumes -----------------------------------------------------------------------------------------


@click.group("volumes")
def volumes_group() -> None:
    """Storage volumes: Proxmox disks exposed as StorageClass + PersistentVolume (Dedicated plan)."""


@volumes_group.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def volumes_list(ctx: click.Context, as_json: bool) -> None:
    """Volumes with size, use, place, status and monthly cost; the provisioned total vs the quotas."""
    summary = _run(ctx, _volumes, lambda s: s.list())
    if as_json:
        _echo_json(summary.to_json())
        return
    rows = [
        [
            v.name,
            v.size,
            "-" if v.used_percent is None else f"{v.used_percent:.0f}% ({_size(v.used_bytes)})",
            f"{v.region} / {v.pve_node or '(shared)'} / {v.storage}",
            v.status,
            f"{v.monthly_cost:.2f}",
        ]
        for v in summary.volumes
    ]
    if rows:
        _table(rows, ["NAME", "SIZE", "USED", "REGION / PVE NODE / STORAGE", "STATUS", "COST/MONTH"])
    else:
        click.echo("no volumes")
    click.echo(
        f"provisioned {_size(summary.provisioned_bytes)}; namespace storage quotas {_size(summary.quota_bytes)}"
    )


@volumes_group.command("create")
@click.argument("name")
@click.option("--size", required=True, help="Size with a unit, e.g. 500Gi.")
@click.option("--region", help="Region (default: the profile's first).")
@click.option("--storage", help="Proxmox storage (default: the region's).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def volumes_create(
    ctx: click.Context, name: str, size: str, region: str | None, storage: str | None, as_json: bool
) -> None:
    """Allocate a Proxmox disk and expose it as StorageClass + PV."""

    async def act(s: Any) -> None:
        _finish(await s.create(name, size, region=region, storage=storage), s, as_json)

    _run(ctx, _volumes, act)


@volumes_group.command("expand")
@click.argument("name")
@click.option("--size", required=True, help="The new, larger size.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def volumes_expand(ctx: click.Context, name: str, size: str, as_json: bool) -> None:
    """Grow an attached volume (Proxmox disk, then claim and PV)."""

    async def act(s: Any) -> None:
        _finish(await s.expand(name, size), s, as_json)

    _run(ctx, _volumes, act)


@volumes_group.command("delete")
@click.argument("name")
@click.option("--confirm", required=True, metavar="NAME", help="The volume's name, typed again.")
@click.option("--bound-claim", metavar="NS/CLAIM", help="Required when bound: the claim deleted with it.")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def volumes_delete(
    ctx: click.Context, name: str, confirm: str, bound_claim: str | None, as_json: bool
) -> None:
    """Delete the PV/StorageClass and release the Proxmox disk."""

    async def act(s: Any) -> None:
        _finish(await s.delete(name, confirm=confirm, bound_claim=bound_claim), s, as_json)

    _run(ctx, _volumes, act)


# -- quotas ------------------------------------------------------------------------------------------


@click.group("quotas")
def quotas_group() -> None:
    """Per-namespace storage quotas (their sum may not exceed the provisioned volumes)."""


def _quota_table(rows: list[Any]) -> None:
    if not rows:
        click.echo("no storage quotas")
        return
    _table(
        [
            [
                q.namespace,
                q.quota,
                q.requests_storage or "-",
                q.used_storage or "-",
                q.persistent_volume_claims or "-",
                ", ".join(f"{k}={v}" for k, v in q.per_class.items()) or "-",
            ]
            for q in rows
        ],
        ["NAMESPACE", "QUOTA", "REQUESTS.STORAGE", "USED", "PVCS", "PER CLASS"],
    )


@quotas_group.command("list")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def quotas_list(ctx: click.Context, as_json: bool) -> None:
    """Storage quotas of every namespace, and the ceiling (provisioned volumes)."""
    summary = _run(ctx, _volumes, lambda s: s.list())
    if as_json:
        _echo_json(
            {
                "provisioned_bytes": summary.provisioned_bytes,
                "quota_bytes": summary.quota_bytes,
                "quotas": [q.to_json() for q in summary.quotas],
            }
        )
        return
    _quota_table(summary.quotas)
    click.echo(f"quotas {_size(summary.quota_bytes)} of {_size(summary.provisioned_bytes)} provisioned")


@quotas_group.command("set")
@click.argument("namespace")
@click.option("--storage", required=True, help="requests.storage, e.g. 100Gi.")
@click.option("--pvcs", type=click.IntRange(0, 100_000), help="persistentvolumeclaims limit.")
@click.option(
    "--class",
    "classes",
    multiple=True,
    metavar="CLASS=SIZE",
    help="Per-StorageClass requests.storage (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@click.pass_context
def quotas_set(
    ctx: click.Context,
    namespace: str,
    storage: str,
    pvcs: int | None,
    classes: tuple[str, ...],
    as_json: bool,
) -> None:
    """Create or update the namespace's `hks-storage` quota."""
    per_class: dict[str, str] = {}
    for item in classes:
        cls, sep, size = item.partition("=")
        if not sep or not cls or not size:
            raise click.BadParameter(
                f"{item!r}: use CLASS=SIZE, e.g. hks-prod-media=20Gi", param_hint="--class"
            )
        per_class[cls] = size
    row = _run(
        ctx,
        _volumes,
        lambda s: s.set_quota(namespace, storage=storage, pvcs=pvcs, per_class=per_class or None),
    )
    if as_json:
        _echo_json(row.to_json())
    else:
        _quota_table([row])
