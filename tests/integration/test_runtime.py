"""open_runtime: --lab-dir, configured profiles, the embedded lab, broken configuration, bad options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients.errors import HksError
from hks_tui.models import Plan
from hks_tui.runtime import RuntimeOptions, open_runtime


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No user configuration or data leaks into these tests (environment only)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("HKS_DATA_DIR", raising=False)
    monkeypatch.delenv("HKS_PROFILE", raising=False)


def _lab_dir(lab: Any) -> Path:
    state = Path(lab.state_dir)
    assert (state / "lab.json").exists()
    return state


async def test_lab_dir_runtime_serves_health_workspaces_projects_and_switch(lab: Any, tmp_path: Path) -> None:
    runtime = open_runtime(
        RuntimeOptions(lab_dir=_lab_dir(lab), data_dir=tmp_path / "state", workspace="prod")
    )
    try:
        assert runtime.is_lab and runtime.lab is None and runtime.config_error is None
        assert runtime.workspace == "prod" and runtime.profile.workspace == "prod"
        assert not runtime.readonly and not runtime.insecure
        states = {s.backend: s for s in await runtime.services.health.check_all()}
        assert set(states) == {"proxmox", "host", "vcluster", "prometheus"}
        for backend in ("proxmox", "host", "vcluster"):
            assert states[backend].status == "ok", states[backend]
        assert states["prometheus"].status == "disabled" and states["prometheus"].reason
        workspaces = {w.name: w for w in await runtime.services.workspaces.list()}
        assert workspaces["prod"].plan is Plan.DEDICATED and workspaces["dev"].plan is Plan.SHARED
        assert workspaces["dev"].vcluster_context == lab.info["vcluster_contexts"]["dev"]
        assert runtime.store.workspaces.get("prod").plan is Plan.DEDICATED  # cached for offline starts
        assert "default" in await runtime.services.workspaces.projects("prod")
        await runtime.switch_workspace("dev")
        assert runtime.workspace == "dev" and runtime.profile.name == "lab-dev"
        assert (await runtime.services.health.check("vcluster")).status == "ok"
        with pytest.raises(HksError):
            await runtime.switch_workspace("nope")
        assert runtime.workspace == "dev"
        assert (tmp_path / "state").is_dir()
    finally:
        runtime.close()


async def test_readonly_runtime_refuses_mutations(lab: Any, tmp_path: Path) -> None:
    runtime = open_runtime(RuntimeOptions(lab_dir=_lab_dir(lab), data_dir=tmp_path, readonly=True))
    try:
        assert runtime.readonly and runtime.services.guard.readonly
        pve = await runtime.services.executor.run(lambda: runtime.services.clients.proxmox)
        from hks_tui.clients.errors import ReadOnlyError

        with pytest.raises(ReadOnlyError):
            await runtime.services.executor.run(pve.post, "nodes/pve1/qemu/9000/status/start")
        assert await runtime.services.audit.list() == []
    finally:
        runtime.close()


def _write_config(tmp_path: Path, lab: Any, *, name: str = "prod", broken: bool = False) -> Path:
    info = lab.info
    secret_file = tmp_path / "pve-token"
    secret_file.write_text(info["proxmox"]["token_secret"])
    secret_file.chmod(0o600)
    text = f"""
[profiles.{name}]
org = "acme"
workspace = "prod"

[profiles.{name}.proxmox]
url = "{info["proxmox"]["url"]}"
token_id = "{info["proxmox"]["token_id"]}"
token_secret = "file:{secret_file}"
ca_file = "{info["proxmox"]["ca_file"]}"

[profiles.{name}.host_cluster]
kubeconfig = "{info["kubeconfig"]}"
context = "{info["host_context"]}"

[profiles.{name}.vcluster]
kubeconfig = "{info["kubeconfig"]}"
context = "{info["vcluster_contexts"]["prod"]}"

[profiles.{name}.k3s]
url = "{info["k3s"]["url"]}"
agent_token = "env:HKS_TEST_AGENT_TOKEN"
"""
    if broken:
        text += "\n[ui]\ntheme = 'purple'\n"
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


async def test_configured_profile_is_used(lab: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HKS_TEST_AGENT_TOKEN", lab.info["k3s"]["agent_token"])
    config = _write_config(tmp_path, lab)
    runtime = open_runtime(RuntimeOptions(config_path=config, data_dir=tmp_path / "d"))
    try:
        assert not runtime.is_lab and runtime.lab is None and runtime.profile.name == "prod"
        assert runtime.workspace == "prod"
        states = {s.backend: s.status for s in await runtime.services.health.check_all()}
        assert states["proxmox"] == states["host"] == states["vcluster"] == "ok"
        assert [w.name for w in await runtime.services.workspaces.list()] == ["prod"]
    finally:
        runtime.close()
    with pytest.raises(HksError) as unknown:
        open_runtime(RuntimeOptions(config_path=config, profile="staging", data_dir=tmp_path / "d"))
    assert "staging" in str(unknown.value) and "prod" in str(unknown.value)
    with pytest.raises(HksError):
        open_runtime(RuntimeOptions(config_path=config, workspace="elsewhere", data_dir=tmp_path / "d"))


def test_nothing_configured_starts_the_embedded_lab(tmp_path: Path) -> None:
    runtime = open_runtime(RuntimeOptions(lab_time_scale=20.0))
    temp = runtime._temp_dir
    try:
        assert runtime.is_lab and runtime.lab is not None and runtime.config_error is None
        assert runtime.workspace in runtime.workspace_names
        assert temp is not None and str(runtime.store.path).startswith(str(temp))
    finally:
        runtime.close()
    assert temp is not None and not temp.exists()


def test_broken_configuration_still_opens_with_the_error(lab: Any, tmp_path: Path) -> None:
    config = _write_config(tmp_path, lab, broken=True)
    runtime = open_runtime(RuntimeOptions(config_path=config, lab_dir=_lab_dir(lab), data_dir=tmp_path / "d"))
    try:
        assert runtime.config_error is not None
        assert runtime.config_error.line is not None and "config.toml" in str(runtime.config_error)
        assert runtime.is_lab
    finally:
        runtime.close()


def test_lab_dir_without_lab_json_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(HksError) as info:
        open_runtime(RuntimeOptions(lab_dir=tmp_path))
    assert "hks-tui lab --state-dir" in str(info.value)
    (tmp_path / "lab.json").write_text(json.dumps({"hello": 1}))
    with pytest.raises(HksError):
        open_runtime(RuntimeOptions(lab_dir=tmp_path))
