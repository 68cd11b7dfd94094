"""`hks-tui nodes …` and `hks-tui workflows …` against a lab of their own (driven with --lab-dir)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from hks_tui.cli import main
from hks_tui.lab.server import RunningLab, start_lab_in_thread


class CliLab:
    def __init__(self, root: Path) -> None:
        self.lab: RunningLab = start_lab_in_thread(root / "lab", seed="demo", time_scale=50.0)
        self.data = root / "data"
        self.env = {"XDG_CONFIG_HOME": str(root / "config"), "XDG_DATA_HOME": str(root / "xdg")}

    def run(self, *args: str) -> Result:
        base = ["--lab-dir", str(self.lab.state_dir), "--data-dir", str(self.data), "--workspace", "prod"]
        return CliRunner().invoke(main, [*base, *args], env=self.env, prog_name="hks-tui")

    def vm_status(self, name: str) -> str | None:
        return next((vm.status for vm in self.lab.world.pve.vms.values() if vm.name == name), None)

    def has_node(self, name: str) -> bool:
        return any(n["metadata"]["name"] == name for n in self.lab.world.host.store.iter_objects("nodes"))


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CliLab]:
    env = CliLab(tmp_path_factory.mktemp("cli-nodes"))
    yield env
    env.lab.stop()


def _json(result: Result) -> Any:
    assert result.exit_code == 0, (result.output, result.stderr)
    return json.loads(result.stdout)


def _one_line(result: Result, code: int = 1) -> str:
    assert result.exit_code == code, (result.output, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hks-tui: "), result.stderr
    return lines[0]


def test_stop_wait_json_streams_progress_and_start_detached(cli: CliLab) -> None:
    stopped = _json(cli.run("nodes", "stop", "prod-default-3", "--wait", "--json"))
    assert stopped["kind"] == "node.stop" and stopped["status"] == "succeeded"
    assert [s["name"] for s in stopped["steps"]] == ["locate", "cordon", "drain", "shutdown", "not_ready"]
    assert cli.vm_status("prod-default-3") == "stopped"

    listed = _json(cli.run("workflows", "list", "--all", "--json"))
    assert [w["id"] for w in listed] == [stopped["id"]]
    shown = _json(cli.run("workflows", "show", stopped["id"], "--json"))
    assert shown["target"] == "prod-default-3" and shown["progress"] == "5/5"

    # without --wait the workflow goes to a detached `hks-tui workflows resume ID`
    submitted = _json(cli.run("nodes", "start", "prod-default-3", "--json"))
    assert submitted["status"] == "pending"
    deadline = time.monotonic() + 90
    status = ""
    while time.monotonic() < deadline:
        status = _json(cli.run("workflows", "show", submitted["id"], "--json"))["status"]
        if status == "succeeded":
            break
        time.sleep(0.5)
    assert status == "succeeded"
    assert cli.vm_status("prod-default-3") == "running"


def test_wait_streams_step_lines_to_stderr(cli: CliLab) -> None:
    result = cli.run("nodes", "reboot", "prod-default-2", "--wait")
    assert result.exit_code == 0, result.stderr
    assert "Reboot node prod-default-2" in result.stdout and "succeeded" in result.stdout
    lines = result.stderr.splitlines()
    for step in ("locate", "cordon", "drain", "reboot", "agent", "ready", "uncordon"):
        assert any(f"] {step}: " in line for line in lines), (step, result.stderr)


def test_refusals_are_one_line_errors(cli: CliLab) -> None:
    assert "already running" in _one_line(cli.run("nodes", "start", "prod-default-1", "--wait"))
    assert "no dedicated node named 'prod-ghost'" in _one_line(cli.run("nodes", "stop", "prod-ghost"))
    refused = _one_line(cli.run("nodes", "delete", "prod-default-1", "--confirm", "prod-default-2"), code=2)
    assert "--confirm must repeat the node name" in refused
    assert cli.vm_status("prod-default-1") == "running" and cli.has_node("prod-default-1")
    assert "no workflow 'nope'" in _one_line(cli.run("workflows", "show", "nope"))
    assert cli.run("workflows", "resume").stdout.strip() == "nothing to resume"


def test_delete_with_confirmation(cli: CliLab) -> None:
    result = cli.run("nodes", "delete", "prod-default-1", "--confirm", "prod-default-1", "--wait", "--json")
    data = _json(result)
    assert data["status"] == "succeeded"
    assert cli.vm_status("prod-default-1") is None and not cli.has_node("prod-default-1")
    assert "destroy: " in result.stderr
