"""`hks-tui apps …` headless commands against a lab started for this module (``--lab-dir``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from hks_tui.cli import main

APP_YAML = """\
name: cli-web
image: nginx:1.27
replicas: 1
ports:
- name: http
  port: 80
resources:
  cpu_request: 100m
  memory_request: 64Mi
  memory_limit: 128Mi
ingress:
  host: cli-web.dev.example.com
"""


@pytest.fixture(scope="module")
def lab_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from hks_tui.lab.server import start_lab_in_thread

    state = tmp_path_factory.mktemp("clilab")
    running = start_lab_in_thread(state_dir=state, seed="demo", time_scale=20.0)
    try:
        yield state
    finally:
        running.stop()


def _run(lab_dir: Path, data: Path, *args: str) -> Any:
    result = CliRunner().invoke(
        main, ["--lab-dir", str(lab_dir), "--data-dir", str(data), "--workspace", "dev", "apps", *args]
    )
    return result


def test_apps_create_list_show_scale_delete(lab_dir: Path, tmp_path: Path) -> None:
    spec = tmp_path / "app.yaml"
    spec.write_text(APP_YAML)
    created = _run(lab_dir, tmp_path, "create", "-f", str(spec), "--json")
    assert created.exit_code == 0, created.output
    record = json.loads(created.stdout)
    assert record["kind"] == "app.deploy.keep" and record["status"] == "succeeded"
    assert [s["name"] for s in record["steps"]] == ["dry_run", "quota", "apply", "rollout"]

    listed = _run(lab_dir, tmp_path, "list", "--project", "default", "--json")
    assert listed.exit_code == 0, listed.output
    rows = {r["name"]: r for r in json.loads(listed.stdout)}
    assert rows["cli-web"]["status"] == "Running 1/1"
    assert rows["cli-web"]["endpoints"] == ["http://cli-web.dev.example.com/"]
    assert rows["preview"]["status"].startswith("Failed: ")

    shown = _run(lab_dir, tmp_path, "show", "cli-web", "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.stdout)
    assert len(detail["pods"]) == 1 and detail["pods"][0]["status"] == "Running"

    table = _run(lab_dir, tmp_path, "list")
    assert table.exit_code == 0 and "cli-web" in table.stdout and "STATUS" in table.stdout

    scaled = _run(lab_dir, tmp_path, "scale", "cli-web", "2")
    assert scaled.exit_code == 0, scaled.output
    assert "succeeded" in scaled.stdout

    logs = _run(lab_dir, tmp_path, "logs", "cli-web", "--tail", "2")
    assert logs.exit_code == 0, logs.output
    assert all(line.startswith("[cli-web-") for line in logs.stdout.splitlines())

    refused = _run(lab_dir, tmp_path, "delete", "cli-web", "--confirm", "cli-wab")
    assert refused.exit_code == 1 and "is not the app's name" in refused.stderr
    deleted = _run(lab_dir, tmp_path, "delete", "cli-web", "--confirm", "cli-web")
    assert deleted.exit_code == 0, deleted.output
    missing = _run(lab_dir, tmp_path, "show", "cli-web")
    assert missing.exit_code == 1 and "no Deployment or StatefulSet" in missing.stderr


def test_apps_create_rejects_a_bad_spec_and_reports_quota(lab_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad_Name\nimage: nginx:1.27\n")
    result = _run(lab_dir, tmp_path, "create", "-f", str(bad))
    assert result.exit_code == 1 and "name" in result.stderr
    greedy = tmp_path / "greedy.yaml"
    greedy.write_text(APP_YAML.replace("cli-web", "greedy").replace("100m", '"2"'))
    result = _run(lab_dir, tmp_path, "create", "-f", str(greedy))
    assert result.exit_code == 1 and "requests.cpu: the app needs 2 more" in result.stderr
