"""Headless commands: `hks-tui workspaces list` and `hks-tui audit list` (table or ``--json``).

JSON field names are stable and documented in README.md ("Headless commands").
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from hks_tui.cli import _echo_json, _opts, _table

_HEALTH_RANK = {"ok": 0, "disabled": 0, "unknown": 1, "degraded": 2, "down": 3}


@click.group("workspaces")
def workspaces_group() -> None:
    """Workspaces of the selected profile (or of the lab)."""


@workspaces_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (fields: see README).")
@click.pass_context
def workspaces_list(ctx: click.Context, as_json: bool) -> None:
    """List workspaces with their plan, Kubernetes contexts and backend health."""
    import asyncio

    from hks_tui.runtime import open_runtime

    opts = _opts(ctx)
    if opts.lab_dir is None:
        from hks_tui.config import load_settings

        # The console tolerates a broken configuration (it falls back to the lab and shows the problem);
        # a script must not silently get the lab's workspaces instead: fail with file:line: problem.
        load_settings(opts.config_path)
    runtime = open_runtime(opts.runtime_options())
    if getattr(runtime, "lab", None) is not None:
        click.echo("hks-tui: nothing is configured; listing the embedded lab's workspaces", err=True)
    try:

        async def gather() -> tuple[list[Any], list[Any]]:
            workspaces, health = await asyncio.gather(
                runtime.services.workspaces.list(), runtime.services.health.check_all()
            )
            return list(workspaces), list(health)

        workspaces, health = asyncio.run(gather())
        current = getattr(runtime, "workspace", None) or getattr(runtime.profile, "workspace", None)
    finally:
        runtime.close()
    rows = [_workspace_row(ws, health, current) for ws in sorted(workspaces, key=lambda w: w.name)]
    if as_json:
        _echo_json(rows)
        return
    _table(
        [
            [
                r["name"] + (" *" if r["current"] else ""),
                r["plan"],
                r["contexts"]["host"],
                r["contexts"]["vcluster"],
                r["health"] + (f" ({_worst_reason(r['backends'])})" if r["health"] != "ok" else ""),
            ]
            for r in rows
        ],
        ["NAME", "PLAN", "HOST CONTEXT", "VCLUSTER CONTEXT", "HEALTH"],
    )


def _workspace_row(ws: Any, health: list[Any], current: str | None) -> dict[str, Any]:
    """One workspace as printed by ``--json``. ``health`` rolls up the backends that were checked (the
    vCluster is checked only for the selected workspace; for the others it is reported ``unknown``)."""
    backends: dict[str, dict[str, str]] = {}
    checked: list[str] = []
    for state in health:
        if state.backend == "vcluster" and ws.name != current:
            backends["vcluster"] = {"status": "unknown", "reason": "checked only for the selected workspace"}
            continue
        backends[state.backend] = {"status": state.status, "reason": state.reason}
        checked.append(state.status)
    overall = max(checked, key=lambda s: _HEALTH_RANK.get(s, 1), default="unknown")
    return {
        "name": ws.name,
        "org": ws.org,
        "plan": str(ws.plan),
        "current": ws.name == current,
        "contexts": {"host": ws.host_context, "vcluster": ws.vcluster_context},
        "health": "ok" if overall == "disabled" else overall,
        "backends": backends,
    }


def _worst_reason(backends: dict[str, dict[str, str]]) -> str:
    name, worst = max(backends.items(), key=lambda kv: _HEALTH_RANK.get(kv[1]["status"], 1))
    if _HEALTH_RANK.get(worst["status"], 1) == 0:
        return ""
    return f"{name}: {worst['reason'] or worst['status']}"


# -- headless: audit ---------------------------------------------------------------------------------


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """``15m`` / ``2h`` / ``7d`` / ``30s`` ago, or an ISO-8601 date/time (naive = UTC)."""
    m = re.fullmatch(r"\s*(\d+)\s*([smhdw])\s*", text)
    if m:
        unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}[m.group(2)]
        return (now or datetime.now(UTC)) - timedelta(**{unit: int(m.group(1))})
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            "use a duration like 15m, 2h, 7d or an ISO time like 2026-01-31T12:00"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@click.group("audit")
def audit_group() -> None:
    """The audit log (every mutating call, before and after)."""


@audit_group.command("list")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 100_000), help="Rows, newest first."
)
@click.option("--since", metavar="WHEN", help="Only rows since: 15m, 2h, 7d, or an ISO time.")
@click.option("--action", metavar="ACTION", help="Exact action, or a prefix ending in * (vm.*).")
@click.option("--target", metavar="TEXT", help="Rows whose target contains TEXT.")
@click.option("--outcome", type=click.Choice(["started", "ok", "error"]), help="Only this outcome.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array (fields: see README).")
@click.pass_context
def audit_list(
    ctx: click.Context,
    limit: int,
    since: str | None,
    action: str | None,
    target: str | None,
    outcome: str | None,
    as_json: bool,
) -> None:
    """List audit rows from the local state database."""
    from hks_tui import paths
    from hks_tui.store import Store

    since_dt = parse_since(since) if since else None
    store = Store.open(paths.db_path(_opts(ctx).data_dir))
    try:
        entries = store.audit.list(limit=limit, since=since_dt, action=action, target=target, outcome=outcome)
    finally:
        store.close()
    if as_json:
        _echo_json([e.model_dump(mode="json") for e in entries])
        return
    if not entries:
        click.echo("no audit rows")
        return
    _table(
        [
            [
                str(e.id),
                e.ts.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor,
                e.profile,
                e.action,
                e.target,
                e.outcome,
                e.upid or "",
                e.detail[:60],
            ]
            for e in entries
        ],
        ["ID", "TIME (UTC)", "ACTOR", "PROFILE", "ACTION", "TARGET", "OUTCOME", "UPID", "DETAIL"],
    )
