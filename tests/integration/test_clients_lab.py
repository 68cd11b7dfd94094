"""The guarded clients against the real lab over HTTP: read-only counted at the lab's HTTP layer,
bounded retries counted at the server, and every error kind mapped to a readable message."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hks_tui.clients import errors as e
from hks_tui.clients.guard import RetryPolicy, TransportGuard
from hks_tui.clients.kube import KubeClient
from hks_tui.clients.proxmox import ProxmoxClient
from hks_tui.lab.faults import FaultRule
from hks_tui.lab.tls import LabCA

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02)


def _guard(readonly: bool = False) -> TransportGuard:
    return TransportGuard(readonly=readonly, retry=FAST)


def _pve(lab: Any, guard: TransportGuard, **kw: Any) -> ProxmoxClient:
    pve = lab.info["proxmox"]
    secret = kw.pop("secret", pve["token_secret"])
    opts: dict[str, Any] = {"ca_file": pve["ca_file"], "timeout": 5.0}
    opts.update(kw)
    return ProxmoxClient(
        url=pve["url"],
        token_id=pve["token_id"],
        token_secret=secret,
        guard=guard,
        **opts,
    )


def _kube(lab: Any, guard: TransportGuard, workspace: str | None = None) -> KubeClient:
    context = lab.info["vcluster_contexts"][workspace] if workspace else lab.info["host_context"]
    return KubeClient(
        kubeconfig=Path(lab.info["kubeconfig"]),
        context=context,
        guard=guard,
        backend="vcluster" if workspace else "host",
    )


@pytest.fixture
def faults(lab: Any) -> Iterator[Any]:
    registry = lab.world.faults
    added: list[int] = []

    class Adder:
        def add(self, rule: FaultRule) -> None:
            lab.call(lambda: added.append(registry.add(rule).id))

    yield Adder()
    for rule_id in added:
        lab.call(registry.remove, rule_id)


def _since(lab: Any) -> int:
    return int(lab.world.faults.last_seq)


def test_readonly_sends_zero_mutating_requests_while_reads_work(lab: Any) -> None:
    guard = _guard(readonly=True)
    pve, host, prod = _pve(lab, guard), _kube(lab, guard), _kube(lab, guard, "prod")
    start = _since(lab)
    mutations = [
        lambda: pve.post("nodes/pve1/qemu/9000/clone", newid=4242, name="ro-test", action="vm.clone"),
        lambda: pve.put("nodes/pve1/qemu/9000/config", memory=4096),
        lambda: pve.delete("nodes/pve1/qemu/9000"),
        lambda: pve.post("nodes/pve1/qemu/9000/agent/exec", command=["/bin/true"]),
        lambda: host.call(host.core.patch_node, "k3s-server-1", {"spec": {"unschedulable": True}}),
        lambda: host.call(host.core.create_namespace, {"metadata": {"name": "ro-test"}}),
        lambda: prod.call(prod.core.delete_namespaced_pod, "whatever", "default"),
        lambda: prod.call(prod.apps.create_namespaced_deployment, "default", {"metadata": {"name": "x"}}),
        lambda: prod.call(
            prod.core.create_namespaced_pod_eviction, "p", "default", {"metadata": {"name": "p"}}
        ),
        # a mutating API forced through the call layer as if it were a read is stopped at the wire
        lambda: prod.call(prod.core.delete_namespaced_config_map, "x", "default", mutating=False),
    ]
    for attempt in mutations:
        with pytest.raises(e.ReadOnlyError):
            attempt()
    assert pve.cluster_resources()
    assert host.list_raw("nodes")["items"]
    assert prod.version()["gitVersion"]
    records = lab.world.faults.select(since=start)
    assert [r for r in records if r.mutating] == []
    assert {r.api for r in records} >= {"pve"} and len(records) >= 3


def test_reads_retry_a_bounded_number_of_times(lab: Any, faults: Any) -> None:
    faults.add(FaultRule(api="pve", method="GET", path="/version$", error=503))
    client = _pve(lab, _guard())
    start = _since(lab)
    with pytest.raises(e.RetryableServerError) as info:
        client.version()
    assert len(lab.world.faults.select("pve", "GET", since=start, path="/version$")) == 3
    assert info.value.status == 503 and "version" in str(info.value).lower()


def test_a_transient_failure_is_retried_and_succeeds(lab: Any, faults: Any) -> None:
    faults.add(FaultRule(api="pve", method="GET", path="/cluster/resources$", error=503, count=2))
    client = _pve(lab, _guard())
    start = _since(lab)
    assert client.cluster_resources()
    assert len(lab.world.faults.select("pve", "GET", since=start, path="/cluster/resources$")) == 3


def test_mutations_are_never_retried(lab: Any, faults: Any) -> None:
    faults.add(FaultRule(api="pve", method="POST", path="/status/start$", error=503))
    client = _pve(lab, _guard())
    start = _since(lab)
    with pytest.raises(e.RetryableServerError):
        client.post("nodes/pve1/qemu/9000/status/start")
    assert len(lab.world.faults.select("pve", "POST", since=start)) == 1


def test_pve_parameter_errors_are_readable(lab: Any) -> None:
    client = _pve(lab, _guard())
    with pytest.raises(e.InvalidError) as info:
        client.put(
            "nodes/pve1/qemu/9000/config", what="Configure VM 9000", sshkeys="ssh-ed25519 AAAA/x+y test"
        )
    assert "sshkeys" in info.value.field_errors
    assert str(info.value).startswith("Configure VM 9000 failed: ")


def test_pve_wrong_token_is_an_auth_error(lab: Any) -> None:
    client = _pve(lab, _guard(), secret=str(uuid.uuid4()))
    with pytest.raises(e.AuthError) as info:
        client.nodes()
    assert info.value.status == 401 and "credentials" in str(info.value)


def test_tls_wrong_ca_and_wrong_pin(lab: Any, tmp_path: Path) -> None:
    other = LabCA.create(tmp_path / "other")
    start = _since(lab)
    with pytest.raises(e.TlsError):
        _pve(lab, _guard(), ca_file=str(other.ca_file)).version(retries=1)
    with pytest.raises(e.TlsError) as info:
        _pve(lab, _guard(), ca_file=None, fingerprint="AB" * 32).version(retries=1)
    assert "fingerprint" in str(info.value)
    assert lab.world.faults.select("pve", since=start) == []  # nothing reached the HTTP layer


def test_timeout_and_connection_refused(lab: Any, faults: Any) -> None:
    faults.add(FaultRule(api="pve", method="GET", path="/nodes$", latency=3.0))
    client = _pve(lab, _guard(), timeout=0.5)
    with pytest.raises(e.BackendTimeout):
        client.nodes()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pve = lab.info["proxmox"]
    closed = ProxmoxClient(
        url=f"https://127.0.0.1:{port}", token_id=pve["token_id"], token_secret="x" * 36, guard=_guard()
    )
    with pytest.raises(e.UnreachableError) as info:
        closed.version(retries=1)
    assert "refused" in str(info.value)


def test_kubernetes_errors(lab: Any) -> None:
    guard = _guard()
    dev, prod = _kube(lab, guard, "dev"), _kube(lab, guard, "prod")
    with pytest.raises(e.NotFoundError) as missing:
        prod.call(prod.core.read_namespaced_pod, "no-such-pod", "default")
    assert "no-such-pod" in str(missing.value)
    name = f"cm-{uuid.uuid4().hex[:8]}"
    body = {"metadata": {"name": name}, "data": {"a": "b"}}
    prod.call(prod.core.create_namespaced_config_map, "default", body)
    try:
        with pytest.raises(e.ConflictError) as exists:
            prod.call(prod.core.create_namespaced_config_map, "default", body)
        assert "already exists" in str(exists.value)
    finally:
        prod.call(prod.core.delete_namespaced_config_map, name, "default")
    pod = {
        "metadata": {"name": f"hog-{uuid.uuid4().hex[:6]}"},
        "spec": {
            "containers": [
                {
                    "name": "hog",
                    "image": "busybox",
                    "resources": {
                        "requests": {"cpu": "64", "memory": "512Gi"},
                        "limits": {"cpu": "64", "memory": "512Gi"},
                    },
                }
            ]
        },
    }
    with pytest.raises(e.QuotaExceededError) as quota:
        dev.call(dev.core.create_namespaced_pod, "default", pod)
    assert "exceeded quota" in str(quota.value) and quota.value.status == 403


def test_watch_from_a_compacted_version_is_expired(lab: Any) -> None:
    client = _kube(lab, _guard(), "prod")
    cluster = next(c for c in lab.world.clusters.values() if c.workspace == "prod")
    lab.call(cluster.store.compact)
    with pytest.raises(e.ExpiredError):
        for _ in client.watch_stream("configmaps", resource_version="1", timeout_seconds=1):
            pass
