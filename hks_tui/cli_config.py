"""`hks-tui config`: show the resolved configuration, and `config init` to write a template."""

from __future__ import annotations

import os
from typing import Any

import click

from hks_tui.cli import CommandFailed, _opts


@click.group("config", invoke_without_command=True)
@click.pass_context
def config_group(ctx: click.Context) -> None:
    """Show the resolved configuration: file paths, profiles and (masked) secrets."""
    if ctx.invoked_subcommand is not None:
        return
    from hks_tui import paths
    from hks_tui.config import ConfigError, load_settings

    opts = _opts(ctx)
    file = opts.config_path.expanduser() if opts.config_path else paths.config_file()
    data = opts.data_dir.expanduser() if opts.data_dir else paths.data_dir()
    state = "found" if file.is_file() else "not found; create it with `hks-tui config init`"
    click.echo(f"config file: {file} ({state})")
    click.echo(f"data dir:    {data}")
    click.echo(f"database:    {paths.db_path(data)}")
    try:
        settings = load_settings(opts.config_path)
    except ConfigError as exc:
        click.echo(
            "profiles:    unknown — the configuration has a problem (fix it, or `hks-tui config init --force`)"
        )
        raise CommandFailed(str(exc)) from None
    if not settings.profiles:
        click.echo("profiles:    none — `hks-tui` opens the embedded lab")
    for name, profile in sorted(settings.profiles.items()):
        default = " (default)" if name == settings.default_profile or len(settings.profiles) == 1 else ""
        click.echo(f"\nprofile {name}{default}")
        for label, value in _describe_profile(profile):
            click.echo(f"  {label + ':':<15}{value}")
    click.echo(
        f"\ntheme: {settings.ui.theme}; quota warning/critical: {settings.ui.quota_warning:.0%}/"
        f"{settings.ui.quota_critical:.0%}"
    )
    catalog = ", ".join(
        f"{t.name} ({t.vcpu} vCPU, {t.ram_gib} GiB, {t.disk_gib} GiB disk, {t.monthly_price:g}/mo)"
        for t in settings.catalog
    )
    click.echo(f"catalog: {catalog}; storage {settings.storage_price_gib_month:g} per GiB-month")


def _secret_state(ref: Any) -> str:
    from hks_tui.secretref import SecretError, mask, resolve_secret

    try:
        return f"{ref} (resolves to {mask(resolve_secret(ref))})"
    except SecretError as exc:
        return f"{ref} (NOT USABLE: {exc})"


def _describe_profile(p: Any) -> list[tuple[str, str]]:
    px = p.proxmox
    tls = (
        f"CA file {px.ca_file}"
        if px.ca_file
        else f"pinned SHA-256 {px.fingerprint}"
        if px.fingerprint
        else "system CA store"
    )
    if px.insecure:
        tls = "INSECURE (verification off)"
    regions = "; ".join(
        f"{name}: nodes {', '.join(r.pve_nodes)}, storage {r.storage}, bridge {r.bridge}"
        + (
            f", templates {', '.join(f'{n}={v}' for n, v in r.template_vmid.items())}"
            if r.template_vmid
            else ""
        )
        for name, r in sorted(p.regions.items())
    )
    return [
        ("org/workspace", f"{p.org or '-'} / {p.workspace}"),
        ("proxmox", f"{px.url} token {px.token_id}, timeout {px.timeout:g}s"),
        ("token secret", _secret_state(px.token_secret)),
        ("tls", tls),
        ("regions", regions or "none"),
        ("host cluster", f"{p.host_cluster.kubeconfig} context {p.host_cluster.context}"),
        ("vcluster", f"{p.vcluster.kubeconfig} context {p.vcluster.context}"),
        ("k3s join", p.k3s.url),
        ("agent token", _secret_state(p.k3s.agent_token)),
        ("prometheus", p.prometheus_url or "none (usage from Kubernetes)"),
    ]


@config_group.command("init")
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@click.pass_context
def config_init(ctx: click.Context, force: bool) -> None:
    """Write a commented configuration template."""
    from hks_tui import paths
    from hks_tui.config import template_toml

    opts = _opts(ctx)
    file = opts.config_path.expanduser() if opts.config_path else paths.config_file()
    if file.exists() and not force:
        raise CommandFailed(f"{file} already exists; pass --force to overwrite it")
    try:
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(template_toml())
    except OSError as exc:
        raise CommandFailed(f"cannot write {file}: {exc.strerror or exc}") from None
    click.echo(f"wrote {file}; edit it, then check it with `hks-tui config`")
