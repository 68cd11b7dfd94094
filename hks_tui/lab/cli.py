"""``hks-tui lab``: run the lab in the foreground (see docs/lab.md)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from hks_tui.lab.faults import FaultRule
    from hks_tui.lab.server import LabServers

PORT_NAMES = "pve, metrics, control, prometheus, or a cluster name (host, dev, prod)"


def _parse_ports(values: tuple[str, ...]) -> dict[str, int]:
    ports: dict[str, int] = {}
    for value in values:
        name, sep, port = value.partition("=")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise click.BadParameter(f"{value!r}: expected NAME=PORT ({PORT_NAMES})", param_hint="--port")
        ports[name] = int(port)
    return ports


def _parse_faults(fault_specs: tuple[str, ...], latency_specs: tuple[str, ...]) -> list[FaultRule]:
    from hks_tui.lab.faults import FaultSpecError, parse_fault_spec, parse_latency_spec

    rules: list[FaultRule] = []
    try:
        rules.extend(parse_fault_spec(spec) for spec in fault_specs)
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--fault") from exc
    try:
        rules.extend(parse_latency_spec(spec) for spec in latency_specs)
    except FaultSpecError as exc:
        raise click.BadParameter(str(exc), param_hint="--latency") from exc
    return rules


def _announce(servers: LabServers) -> None:
    info = servers.info
    click.echo(f"HKS lab ready — {servers.state_dir / 'lab.json'}")
    click.echo(f"  Proxmox VE   {info['proxmox']['url']}")
    click.echo(f"  kubeconfig   {info['kubeconfig']}  (contexts: {info['host_context']}", nl=False)
    for ctx in info["vcluster_contexts"].values():
        click.echo(f", {ctx}", nl=False)
    click.echo(")")
    click.echo(f"  metrics      {info['metrics_url']}")
    click.echo(f"  prometheus   {info['prometheus_url'] or '-'}")
    click.echo(f"  control      {info['control_url']}")
    click.echo("Ctrl-C or SIGTERM stops the lab.")
    sys.stdout.flush()


@click.command("lab")
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for lab.json, kubeconfig, the CA and Prometheus data.",
)
@click.option("--seed", type=click.Choice(["demo", "empty"]), default="demo", show_default=True)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Lab seconds per real second.",
)
@click.option(
    "--no-prometheus", is_flag=True, help="Do not start a prometheus binary even if one is on PATH."
)
@click.option(
    "--fault",
    "faults",
    multiple=True,
    metavar="SPEC",
    help="Preset a fault, e.g. 'pve:POST:/nodes/.*/qemu/.*/clone:error=500:rate=0.5' (repeatable).",
)
@click.option(
    "--latency", "latencies", multiple=True, metavar="API=SECONDS", help="Delay every request, e.g. pve=0.2."
)
@click.option("--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault RNG.")
@click.option("--port", "ports", multiple=True, metavar="NAME=PORT", help=f"Fixed port for {PORT_NAMES}.")
def lab_command(
    state_dir: Path,
    seed: str,
    time_scale: float,
    no_prometheus: bool,
    faults: tuple[str, ...],
    latencies: tuple[str, ...],
    fault_seed: int,
    ports: tuple[str, ...],
) -> None:
    """Run the lab (simulated Proxmox VE, K3s, vClusters, metrics) on 127.0.0.1 until SIGINT/SIGTERM."""
    rules = _parse_faults(faults, latencies)
    port_map = _parse_ports(ports)
    from hks_tui.lab.prometheus import prometheus_binary
    from hks_tui.lab.server import run_lab

    with_prometheus = not no_prometheus and prometheus_binary() is not None
    try:
        asyncio.run(
            run_lab(
                state_dir,
                seed,
                time_scale,
                faults=rules,
                fault_seed=fault_seed,
                ports=port_map,
                prometheus=with_prometheus,
                on_ready=_announce,
            )
        )
    except OSError as exc:
        raise click.ClickException(f"cannot start the lab: {exc}") from exc
