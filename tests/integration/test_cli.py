"""The `hks-tui` command line: global options, config, headless commands, and one-line errors.

Most tests use click's CliRunner in-process; `--help`/`--version` and an error path also run as real
subprocesses (exit codes, stderr, no traceback).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hks_tui import __version__
from hks_tui.cli import main
from hks_tui.cli_headless import parse_since
from hks_tui.models import AuditEntry
from hks_tui.store import Store

ROOT = Path(__file__).resolve().parents[2]
CANARY = "canary-cli-secret-abcdef0123456789"
AUDIT_FIELDS = ["id", "ts", "actor", "profile", "action", "target", "params", "outcome", "detail", "upid"]
WORKSPACE_FIELDS = ["name", "org", "plan", "current", "contexts", "health", "backends"]

PROFILE = """\
[profiles.prod]
org = "acme"
workspace = "prod"

[profiles.prod.proxmox]
url = "https://127.0.0.1:1"
token_id = "hks@pve!console"
token_secret = "env:HKS_TEST_PVE_TOKEN"
insecure = true

[profiles.prod.regions.tokyo]
pve_nodes = ["pve1"]

[profiles.prod.host_cluster]
kubeconfig = "/nonexistent/kubeconfig"
context = "host"

[profiles.prod.vcluster]
kubeconfig = "/nonexistent/kubeconfig"
context = "vc-prod"

[profiles.prod.k3s]
url = "https://127.0.0.1:2"
agent_token = "file:{token_file}"
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name in list(os.environ):
        if name.upper().startswith("HKS_"):
            monkeypatch.delenv(name)
    values = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env, prog_name="hks-tui")


def one_line_error(result: Result) -> str:
    assert result.exit_code != 0, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert lines[0].startswith("hks-tui: ")
    return lines[0]


# -- config ------------------------------------------------------------------------------------------


def test_config_without_file_shows_paths(env: dict[str, str], tmp_path: Path) -> None:
    result = run("config")
    assert result.exit_code == 0, result.output
    assert f"config file: {tmp_path}/config/hks-tui/config.toml (not found" in result.stdout
    assert "hks-tui config init" in result.stdout
    assert f"data dir:    {tmp_path}/data/hks-tui" in result.stdout
    assert f"database:    {tmp_path}/data/hks-tui/hks.db" in result.stdout
    assert "embedded lab" in result.stdout
    moved = run("--data-dir", str(tmp_path / "elsewhere"), "config")
    assert f"database:    {tmp_path}/elsewhere/hks.db" in moved.stdout
    by_env = run("config", env={"HKS_DATA_DIR": str(tmp_path / "envdir")})
    assert f"database:    {tmp_path}/envdir/hks.db" in by_env.stdout


def test_config_init_writes_template_and_refuses_overwrite(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "config" / "hks-tui" / "config.toml"
    result = run("config", "init")
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.read_text().startswith("# HKS TUI configuration")
    assert (target.stat().st_mode & 0o777) == 0o600
    target.write_text("# mine\n")
    again = run("config", "init")
    assert "already exists; pass --force" in one_line_error(again)
    assert target.read_text() == "# mine\n"
    forced = run("config", "init", "--force")
    assert forced.exit_code == 0 and target.read_text().startswith("# HKS TUI configuration")
    assert run("config").exit_code == 0  # the template itself is a valid configuration


def test_config_shows_profiles_with_masked_secrets(
    env: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "agent-token"
    token_file.write_text("K10" + CANARY)
    token_file.chmod(0o644)
    config = tmp_path / "c.toml"
    config.write_text(PROFILE.format(token_file=token_file))
    monkeypatch.setenv("HKS_TEST_PVE_TOKEN", CANARY)
    result = run("--config", str(config), "config")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "profile prod (default)" in out
    assert "env:HKS_TEST_PVE_TOKEN (resolves to ****" + CANARY[-4:] + ")" in out
    assert f"file:{token_file} (NOT USABLE: refusing to read" in out and f"chmod 600 {token_file}" in out
    assert "INSECURE" in out and "tokyo: nodes pve1" in out and "context vc-prod" in out
    assert CANARY not in out and CANARY not in result.stderr


def test_config_with_broken_file_names_file_and_line(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[ui]\ntheme = "blue"\n')
    result = run("--config", str(config), "config")
    assert f"config file: {config} (found)" in result.stdout
    line = one_line_error(result)
    assert line == f"hks-tui: {config}:2: ui.theme: Input should be 'dark' or 'light'"
    config.write_text("[ui\n")
    assert f"{config}:1: TOML syntax error" in one_line_error(run("--config", str(config), "config"))


# -- audit list --------------------------------------------------------------------------------------


def _seed_audit(data_dir: Path) -> list[int]:
    t0 = datetime.now(UTC) - timedelta(hours=3)
    with Store.open(data_dir / "hks.db") as store:
        return [
            store.audit.append(
                AuditEntry(
                    ts=t0,
                    actor="alice",
                    profile="prod",
                    action="vm.clone",
                    target="qemu/101",
                    params={"name": "n1", "password": CANARY},
                )
            ),
            store.audit.append(
                AuditEntry(
                    ts=t0 + timedelta(seconds=9),
                    actor="alice",
                    profile="prod",
                    action="vm.clone",
                    target="qemu/101",
                    outcome="ok",
                    upid="UPID:pve1:1",
                )
            ),
            store.audit.append(
                AuditEntry(
                    ts=datetime.now(UTC),
                    actor="bob",
                    profile="prod",
                    action="node.drain",
                    target="node/prod-m-1",
                    outcome="error",
                    detail="PDB blocks eviction",
                )
            ),
        ]


def test_audit_list_json_and_filters(env: dict[str, str], tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    ids = _seed_audit(data_dir)
    result = run("--data-dir", str(data_dir), "audit", "list", "--json")
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    assert [r["id"] for r in rows] == ids[::-1]
    assert all(list(r) == AUDIT_FIELDS for r in rows)
    assert rows[2]["params"] == {"name": "n1", "password": "****"} and rows[1]["upid"] == "UPID:pve1:1"
    assert datetime.fromisoformat(rows[0]["ts"]).tzinfo is not None
    assert CANARY not in result.stdout

    def ids_for(*args: str) -> list[int]:
        res = run("--data-dir", str(data_dir), "audit", "list", "--json", *args)
        assert res.exit_code == 0, res.output
        return [r["id"] for r in json.loads(res.stdout)]

    assert ids_for("--action", "vm.*") == ids[1::-1]
    assert ids_for("--target", "prod-m") == [ids[2]]
    assert ids_for("--outcome", "error") == [ids[2]]
    assert ids_for("--since", "1h") == [ids[2]]
    assert ids_for("--limit", "1") == [ids[2]]
    by_env = run("audit", "list", "--json", env={"HKS_DATA_DIR": str(data_dir)})
    assert [r["id"] for r in json.loads(by_env.stdout)] == ids[::-1]


def test_audit_list_table_and_empty(env: dict[str, str], tmp_path: Path) -> None:
    _seed_audit(tmp_path / "state")
    table = run("--data-dir", str(tmp_path / "state"), "audit", "list")
    assert table.exit_code == 0
    header, *lines = table.stdout.splitlines()
    assert header.split()[:4] == ["ID", "TIME", "(UTC)", "ACTOR"] and len(lines) == 3
    assert "node.drain" in lines[0] and "PDB blocks eviction" in lines[0]
    empty = run("--data-dir", str(tmp_path / "fresh"), "audit", "list")
    assert empty.exit_code == 0 and empty.stdout.strip() == "no audit rows"
    assert json.loads(run("--data-dir", str(tmp_path / "fresh"), "audit", "list", "--json").stdout) == []


def test_audit_list_bad_input(env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    line = one_line_error(run("--data-dir", str(blocker / "sub"), "audit", "list"))
    assert "cannot create the data directory" in line and "--data-dir" in line
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "hks.db").write_bytes(b"garbage" * 1000)
    assert "corrupt or not an SQLite database" in one_line_error(
        run("--data-dir", str(corrupt), "audit", "list")
    )
    bad_since = run("--data-dir", str(tmp_path / "s"), "audit", "list", "--since", "yesterday")
    assert bad_since.exit_code == 2 and "15m, 2h, 7d" in bad_since.stderr


def test_parse_since() -> None:
    now = datetime(2026, 1, 2, 12, 0, tzinfo=UTC)
    assert parse_since("15m", now) == now - timedelta(minutes=15)
    assert parse_since("2h", now) == now - timedelta(hours=2)
    assert parse_since("7d", now) == now - timedelta(days=7)
    assert parse_since("2026-01-01T10:00") == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert parse_since("2026-01-01T10:00+09:00").utcoffset() == timedelta(hours=9)


# -- runtime-backed commands -------------------------------------------------------------------------


def test_missing_lab_dir_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    line = one_line_error(run("--lab-dir", str(tmp_path / "nolab"), "workspaces", "list", "--json"))
    assert "lab.json does not exist" in line and "hks-tui lab --state-dir" in line


def test_headless_command_fails_on_a_broken_configuration(env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text('default_profile = "prod"\n\n[ui]\nquota_warning = 2\n')
    line = one_line_error(run("--config", str(config), "workspaces", "list", "--json"))
    assert line.startswith(f"hks-tui: {config}:4: ui.quota_warning: ")


def test_unknown_profile_is_one_line(env: dict[str, str], tmp_path: Path) -> None:
    token_file = tmp_path / "agent-token"
    token_file.write_text("K10x")
    token_file.chmod(0o600)
    config = tmp_path / "c.toml"
    config.write_text(PROFILE.format(token_file=token_file))
    line = one_line_error(run("--config", str(config), "--profile", "nope"))  # the console path
    assert "nope" in line and "prod" in line
    line = one_line_error(run("--config", str(config), "--profile", "nope", "workspaces", "list"))
    assert "nope" in line


def test_workspaces_list_against_the_lab(env: dict[str, str], lab: Any, tmp_path: Path) -> None:
    names = sorted(lab.info["vcluster_contexts"])
    result = run(
        "--lab-dir",
        str(lab.state_dir),
        "--data-dir",
        str(tmp_path / "d"),
        "--workspace",
        names[-1],
        "workspaces",
        "list",
        "--json",
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["name"] for r in rows] == names
    for row in rows:
        assert list(row) == WORKSPACE_FIELDS
        assert row["plan"] in ("shared", "dedicated")
        assert row["contexts"] == {
            "host": lab.info["host_context"],
            "vcluster": lab.info["vcluster_contexts"][row["name"]],
        }
        assert row["health"] in ("ok", "degraded", "down", "unknown")
        assert set(row["backends"]) <= {"proxmox", "host", "vcluster", "prometheus"}
    assert [r["current"] for r in rows] == [n == names[-1] for n in names]
    table = run("--lab-dir", str(lab.state_dir), "--data-dir", str(tmp_path / "d"), "workspaces", "list")
    assert table.exit_code == 0 and table.stdout.splitlines()[0].split()[:2] == ["NAME", "PLAN"]


def test_error_translation_in_the_group(monkeypatch: pytest.MonkeyPatch) -> None:
    import click

    from hks_tui.cli import EXIT_INTERNAL, LazyGroup
    from hks_tui.clients.errors import HksError
    from hks_tui.config import ConfigError
    from hks_tui.secretref import SecretError
    from hks_tui.store import StoreError

    raised: dict[str, BaseException] = {
        "config": ConfigError("/x/config.toml", 3, "ui.theme: bad"),
        "store": StoreError("the state database /x is corrupt"),
        "secret": SecretError("env:X: the environment variable X is not set"),
        "bug": ZeroDivisionError("division by zero"),
        "hks": HksError("Open the lab", "the lab reports no workspace"),
    }

    @click.group(cls=LazyGroup)
    def group() -> None:
        pass

    for name, exc in raised.items():

        def boom(exc: BaseException = exc) -> None:
            raise exc

        group.command(name)(boom)
    monkeypatch.delenv("HKS_DEBUG", raising=False)
    runner = CliRunner()
    result = runner.invoke(group, ["config"])
    assert result.exit_code == 1 and result.stderr == "hks-tui: /x/config.toml:3: ui.theme: bad\n"
    assert runner.invoke(group, ["store"]).stderr == "hks-tui: the state database /x is corrupt\n"
    assert runner.invoke(group, ["secret"]).exit_code == 1
    assert runner.invoke(group, ["hks"]).stderr == f"hks-tui: {raised['hks']}\n"
    bug = runner.invoke(group, ["bug"])
    assert bug.exit_code == EXIT_INTERNAL
    assert bug.stderr.startswith(
        "hks-tui: internal error: ZeroDivisionError: division by zero (run with HKS_DEBUG=1"
    )
    debug = runner.invoke(group, ["bug"], env={"HKS_DEBUG": "1"})
    assert isinstance(debug.exception, ZeroDivisionError)


# -- real subprocesses -------------------------------------------------------------------------------


def _proc(*args: str, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HKS_")} | (extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "hks_tui", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=environ,
    )


def test_subprocess_help_version_and_error(tmp_path: Path) -> None:
    help_ = _proc("--help")
    assert help_.returncode == 0 and help_.stderr == ""
    for word in (
        "--profile",
        "--lab-dir",
        "--data-dir",
        "--readonly",
        "--workspace",
        "--insecure",
        "--version",
        "config",
        "workspaces",
        "audit",
        "lab",
        "serve",
    ):
        assert word in help_.stdout, word
    version = _proc("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"hks-tui, version {__version__}"
    blocker = tmp_path / "file"
    blocker.write_text("x")
    failed = _proc("audit", "list", extra_env={"HKS_DATA_DIR": str(blocker / "sub")})
    assert failed.returncode == 1 and failed.stdout == ""
    assert (
        failed.stderr.startswith("hks-tui: cannot create the data directory")
        and failed.stderr.count("\n") == 1
    )
