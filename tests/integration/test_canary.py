"""Canary secrets — the lab's PVE token secret, its Kubernetes bearer token and the K3s agent token
(unique random strings) — must appear in no log line (captured at DEBUG), no audit row and no exception
text, across successful and failing reads and mutations."""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from hks_tui.clients import errors as e
from hks_tui.clients.guard import RetryPolicy, TransportGuard
from hks_tui.clients.kube import KubeClient
from hks_tui.clients.proxmox import ProxmoxClient
from hks_tui.store import Store


def _canaries(lab: Any) -> list[str]:
    config = yaml.safe_load(Path(lab.info["kubeconfig"]).read_text())
    kube_tokens = [u["user"]["token"] for u in config["users"] if u.get("user", {}).get("token")]
    values = [lab.info["proxmox"]["token_secret"], lab.info["k3s"]["agent_token"], *kube_tokens]
    assert all(len(v) >= 16 for v in values)
    return values


def test_canary_secrets_never_leak(lab: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("proxmoxer.core", "proxmoxer.backends.https", "urllib3", "kubernetes"):
        caplog.set_level(logging.DEBUG, logger=name)
    canaries = _canaries(lab)
    store = Store.open(tmp_path / "state.db")
    guard = TransportGuard(
        audit=store.audit,
        profile="lab-prod",
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01),
    )
    pve_info = lab.info["proxmox"]
    pve = ProxmoxClient(
        url=pve_info["url"],
        token_id=pve_info["token_id"],
        token_secret=pve_info["token_secret"],
        guard=guard,
        ca_file=pve_info["ca_file"],
    )
    kube = KubeClient(
        kubeconfig=lab.info["kubeconfig"],
        context=lab.info["vcluster_contexts"]["prod"],
        guard=guard,
        backend="vcluster",
    )
    errors: list[BaseException] = []
    join = (
        f"curl -sfL https://get.k3s.io | K3S_URL={lab.info['k3s']['url']} "
        f"K3S_TOKEN={lab.info['k3s']['agent_token']} sh -s - agent --node-label hks.io/workspace=prod"
    )
    pve.cluster_resources()
    kube.list_raw("pods")
    name = f"canary-{uuid.uuid4().hex[:8]}"
    kube.call(
        kube.core.create_namespaced_secret,
        "default",
        {"metadata": {"name": name}, "stringData": {"token": lab.info["k3s"]["agent_token"]}},
        params={"name": name, "token": lab.info["k3s"]["agent_token"]},
    )
    kube.call(kube.core.delete_namespaced_secret, name, "default")
    attempts = [
        # the join script (with the agent token) on stdin of a VM that has no running agent
        lambda: pve.post(
            "nodes/pve1/qemu/9000/agent/exec",
            action="vm.agent.exec",
            target="pve1/9000",
            command=["/bin/sh"],
            **{"input-data": join},
        ),
        lambda: pve.put(
            "nodes/pve1/qemu/9000/config", description=lab.info["k3s"]["agent_token"], sshkeys="bad key"
        ),
        lambda: kube.call(kube.core.read_namespaced_secret, "does-not-exist", "default"),
        lambda: ProxmoxClient(
            url=pve_info["url"],
            token_id=pve_info["token_id"],
            token_secret=pve_info["token_secret"][::-1],
            guard=guard,
            ca_file=pve_info["ca_file"],
        ).nodes(),
    ]
    for attempt in attempts:
        with pytest.raises(e.HksError) as info:
            attempt()
        errors.append(info.value)

    rows = store.audit.list(limit=None)
    assert {r.outcome for r in rows} >= {"started", "ok", "error"}
    store.close()
    with sqlite3.connect(tmp_path / "state.db") as db:
        dumped = json.dumps([list(r) for r in db.execute("SELECT * FROM audit")], default=str)
    texts = [
        caplog.text,
        dumped,
        *(str(x) for x in errors),
        *(repr(getattr(x, "details", "")) for x in errors),
    ]
    for canary in canaries:
        for text in texts:
            assert canary not in text
    assert "K10" not in dumped
