"""`hks-tui lab --state-dir D` as a real subprocess: lab.json, every URL answers, preset faults, clean exit."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require_binary

DEADLINE = 90.0  # generous upper bound for polling on a busy 2-core machine; never asserted as a speed
ROOT = Path(__file__).resolve().parents[3]


def _env() -> dict[str, str]:
    """The lab subprocess imports this checkout even when the package is not installed."""
    path = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
    }


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents[int(entry.name)] = ppid
    found: list[int] = []
    frontier = [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait_for_lab_json(proc: subprocess.Popen[str], state_dir: Path) -> dict[str, Any]:
    path = state_dir / "lab.json"
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"hks-tui lab exited with {proc.returncode}\nstdout:\n{out}\nstderr:\n{err}")
        if path.exists():
            return dict(json.loads(path.read_text()))
        time.sleep(0.05)
    pytest.fail("lab.json did not appear")


def _get(url: str, **kwargs: Any) -> tuple[int, bytes, Any]:
    try:
        with urllib.request.urlopen(url, timeout=10, **kwargs) as resp:
            return resp.status, resp.read(), resp.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


@pytest.fixture
def lab_process(tmp_path: Path) -> Any:
    state_dir = tmp_path / "lab"
    cmd = [
        sys.executable, "-m", "hks_tui", "lab", "--state-dir", str(state_dir), "--time-scale", "20",
        "--fault", "pve:GET:/api2/json/cluster/tasks$:error=503",
        "--fault", "kube:dev:GET:/api/v1/namespaces/[^/]+/configmaps$:error=500:count=1",
        "--latency", "metrics=0.2",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(), cwd=tmp_path
    )
    try:
        yield proc, state_dir
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_lab_cli_serves_everything_and_exits_cleanly(lab_process: Any) -> None:
    import proxmoxer
    from kubernetes import client, config

    proc, state_dir = lab_process
    info = _wait_for_lab_json(proc, state_dir)
    assert set(info) == {
        "proxmox", "kubeconfig", "host_context", "vcluster_contexts", "metrics_url", "prometheus_url", "k3s",
        "control_url", "org", "regions",
    }  # fmt: skip
    assert info["org"] == "acme"
    assert set(info["regions"]) == {"jp-east", "jp-west"}
    assert info["regions"]["jp-east"]["pve_nodes"] == ["pve1", "pve2"]
    assert (state_dir / "lab.json").stat().st_mode & 0o077 == 0  # credentials inside: 0600
    pve = info["proxmox"]
    assert pve["url"] == f"https://127.0.0.1:{pve['port']}" and pve["host"] == "127.0.0.1"
    assert set(pve["template_vmid"]) == set(pve["nodes"]) and all(pve["template_vmid"].values())
    assert set(info["vcluster_contexts"]) == {"dev", "prod"}
    assert info["k3s"]["agent_token"].startswith("K10")

    # Proxmox: token auth with CA verification (never verify=False)
    api = proxmoxer.ProxmoxAPI(
        "127.0.0.1", port=pve["port"], user=pve["token_id"].split("!")[0],
        token_name=pve["token_id"].split("!")[1], token_value=pve["token_secret"], verify_ssl=pve["ca_file"],
    )  # fmt: skip
    assert sorted(n["node"] for n in api.nodes.get()) == sorted(pve["nodes"])
    # the preset PVE fault answers with PVE's error envelope
    with pytest.raises(proxmoxer.core.ResourceException) as excinfo:
        api.cluster.tasks.get()
    assert excinfo.value.status_code == 503

    # Kubernetes: every context of the kubeconfig answers /version and lists namespaces
    for ctx in [info["host_context"], *info["vcluster_contexts"].values()]:
        api_client = config.new_client_from_config(config_file=info["kubeconfig"], context=ctx)
        try:
            assert client.VersionApi(api_client).get_code().git_version.startswith("v1.")
            assert client.CoreV1Api(api_client).list_namespace().items
        finally:
            api_client.close()
    dev = config.new_client_from_config(
        config_file=info["kubeconfig"], context=info["vcluster_contexts"]["dev"]
    )
    try:
        with pytest.raises(client.ApiException) as kexc:
            client.CoreV1Api(dev).list_namespaced_config_map("default")
        assert kexc.value.status == 500 and json.loads(kexc.value.body)["kind"] == "Status"
        client.CoreV1Api(dev).list_namespaced_config_map("default")  # count=1: the next call succeeds
    finally:
        dev.close()
    if shutil.which("kubectl"):
        out = subprocess.run(
            ["kubectl", "--kubeconfig", info["kubeconfig"], "get", "nodes", "-o", "name"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert out.stdout.strip()

    status, body, headers = _get(info["metrics_url"])
    assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"# TYPE node_cpu_seconds_total counter" in body

    status, body, _ = _get(info["control_url"] + "/faults")
    rules = json.loads(body)["faults"]
    assert status == 200 and {r["api"] for r in rules} == {"pve", "kube:dev", "metrics"}
    status, body, _ = _get(info["control_url"] + "/requests?api=pve&method=GET")
    assert status == 200 and json.loads(body)["count"] >= 2

    if info["prometheus_url"] is not None:
        status, _, _ = _get(info["prometheus_url"] + "/-/ready")
        assert status == 200

    children = _children(proc.pid)
    if shutil.which("prometheus"):
        assert info["prometheus_url"] and children  # prometheus is the lab's child
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "HKS lab ready" in out
    assert "Traceback" not in err
    assert not [pid for pid in children if _alive(pid)]
    assert not (state_dir / "lab.json").exists()  # a stopped lab leaves no stale endpoints behind


def test_lab_cli_rejects_bad_fault_specs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hks_tui", "lab", "--state-dir", str(tmp_path), "--fault", "pve:error=404"],
        capture_output=True, text=True, timeout=60, env=_env(),
    )  # fmt: skip
    assert result.returncode == 2
    assert "error must be one of" in result.stderr
    assert not (tmp_path / "lab.json").exists()


def test_prometheus_is_optional(tmp_path: Path) -> None:
    require_binary("prometheus")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hks_tui", "lab", "--state-dir", str(tmp_path), "--seed", "empty", "--no-prometheus"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        info = _wait_for_lab_json(proc, tmp_path)
        assert info["prometheus_url"] is None and info["vcluster_contexts"] == {}
        assert _children(proc.pid) == []
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_prometheus_child_dies_with_a_killed_lab(tmp_path: Path) -> None:
    """Even SIGKILL (no clean shutdown) leaves no prometheus behind (PR_SET_PDEATHSIG)."""
    require_binary("prometheus")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hks_tui", "lab", "--state-dir", str(tmp_path), "--seed", "empty"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    try:
        info = _wait_for_lab_json(proc, tmp_path)
        assert info["prometheus_url"]
        children = _children(proc.pid)
        assert children
        proc.kill()
        proc.communicate(timeout=60)
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end and [pid for pid in children if _alive(pid)]:
            time.sleep(0.05)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
