"""Transport guard against a scripted HTTPS server on loopback (a stand-in PVE; the lab tests repeat the
important cases against the real lab): retries, read-only, TLS verification and pinning, error mapping,
audit rows, and a canary secret that must never surface."""

from __future__ import annotations

import hashlib
import http.server
import json
import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hks_tui.clients import errors as e
from hks_tui.clients.guard import RetryPolicy, TransportGuard
from hks_tui.clients.proxmox import ProxmoxClient
from hks_tui.clients.transport import mount_guard
from hks_tui.lab.tls import LabCA

CANARY = "canary-0f3c9d1e-5b7a-4e2b-9c61-7d2f8e4a1b55"
TOKEN_ID = "hks@pve!console"


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    reason: str = ""
    delay: float = 0.0


@dataclass
class Script:
    """Replies served in order (the last one repeats) and every request received."""

    replies: list[Reply] = field(default_factory=lambda: [Reply(body={"data": {"version": "9.1.3"}})])
    received: list[tuple[str, str, dict[str, str], str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next(self) -> Reply:
        with self.lock:
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]


class _Handler(http.server.BaseHTTPRequestHandler):
    script: Script

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        with self.script.lock:
            self.script.received.append((self.command, self.path, dict(self.headers), body))
        reply = self.script.next()
        if reply.delay:
            time.sleep(reply.delay)
        payload = json.dumps(reply.body if reply.body is not None else {"data": None}).encode()
        try:
            self.send_response(reply.status, reply.reason or None)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Server:
    url: str
    script: Script
    ca: LabCA
    fingerprint: str


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def server(ca: LabCA) -> Iterator[Server]:
    script = Script()
    handler = type("H", (_Handler,), {"script": script})
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(ca.cert_file), str(ca.key_file))
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    cert = x509.load_pem_x509_certificate(ca.cert_file.read_bytes())
    fp = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    fp_colons = ":".join(fp[i : i + 2] for i in range(0, 64, 2)).upper()
    try:
        yield Server(f"https://127.0.0.1:{httpd.server_address[1]}", script, ca, fp_colons)
    finally:
        httpd.shutdown()
        httpd.server_close()


class ListSink:
    def __init__(self) -> None:
        self.rows: list[Any] = []

    def append(self, entry: Any) -> int:
        self.rows.append(entry)
        return len(self.rows)


def make(
    server: Server, *, readonly: bool = False, timeout: float = 3.0, **kw: Any
) -> tuple[ProxmoxClient, ListSink]:
    sink = ListSink()
    guard = TransportGuard(
        readonly=readonly,
        audit=sink,
        profile="lab-prod",
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02),
        timeout=timeout,
    )
    opts: dict[str, Any] = {"ca_file": server.ca.ca_file}
    opts.update(kw)
    client = ProxmoxClient(
        url=server.url, token_id=TOKEN_ID, token_secret=CANARY, guard=guard, timeout=timeout, **opts
    )
    return client, sink


@pytest.fixture(autouse=True)
def _debug_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    for name in ("proxmoxer.core", "proxmoxer.backends.https", "urllib3.connectionpool"):
        caplog.set_level(logging.DEBUG, logger=name)
    yield
    assert CANARY not in caplog.text


def test_read_sends_token_and_verifies_ca(server: Server) -> None:
    client, sink = make(server)
    assert client.version()["version"] == "9.1.3"
    method, path, headers, _ = server.script.received[0]
    assert (method, path) == ("GET", "/api2/json/version")
    assert headers["Authorization"] == f"PVEAPIToken={TOKEN_ID}={CANARY}"
    assert sink.rows == []  # reads are not audited


def test_readonly_refuses_mutations_before_the_wire(server: Server) -> None:
    client, sink = make(server, readonly=True)
    with pytest.raises(e.ReadOnlyError) as info:
        client.post("nodes/pve1/qemu/100/status/start", action="vm.start", target="pve1/100")
    with pytest.raises(e.ReadOnlyError):
        client.delete("nodes/pve1/qemu/100")
    with pytest.raises(e.ReadOnlyError):
        client.put("nodes/pve1/qemu/100/config", memory=2048)
    # even a request that bypasses the call layer is stopped at the adapter
    session = mount_guard(requests.Session(), client.guard, "proxmox")
    with pytest.raises(e.ReadOnlyError):
        session.post(server.url + "/api2/json/nodes", verify=str(server.ca.ca_file))
    assert server.script.received == []
    assert "read-only" in str(info.value)
    assert client.version()["version"] == "9.1.3"
    assert [r[0] for r in server.script.received] == ["GET"]
    assert sink.rows == []


def test_idempotent_reads_retry_a_bounded_number_of_times(server: Server) -> None:
    server.script.replies = [Reply(503, {"data": None, "message": "busy"}, "Service Unavailable")]
    client, _ = make(server)
    with pytest.raises(e.RetryableServerError) as info:
        client.version()
    assert len(server.script.received) == 3
    assert info.value.status == 503
    assert client.guard.stats.retries == 2


def test_read_recovers_after_transient_failures(server: Server) -> None:
    server.script.replies = [Reply(503), Reply(502), Reply(body={"data": {"version": "9.1.3"}})]
    client, _ = make(server)
    assert client.version()["version"] == "9.1.3"
    assert len(server.script.received) == 3


def test_mutations_are_not_retried_and_are_audited(server: Server) -> None:
    server.script.replies = [Reply(503, {"data": None}, "Service Unavailable")]
    client, sink = make(server)
    with pytest.raises(e.RetryableServerError):
        client.post("nodes/pve1/qemu/100/status/start", action="vm.start", target="pve1/100")
    assert len(server.script.received) == 1
    assert [r.outcome for r in sink.rows] == ["started", "error"]
    assert sink.rows[1].action == "vm.start" and sink.rows[1].target == "pve1/100"
    assert sink.rows[1].profile == "lab-prod" and sink.rows[1].actor


def test_audit_records_upid_and_redacts_params(server: Server) -> None:
    upid = "UPID:pve1:000A1B2C:0001E240:65A1B2C3:qmstart:100:hks@pve!console:"
    server.script.replies = [Reply(body={"data": upid})]
    client, sink = make(server)
    script = (
        f"curl -sfL https://get.k3s.io | K3S_URL=https://10.0.0.1:6443 K3S_TOKEN=K10abc::server:{CANARY} sh -"
    )
    result = client.post(
        "nodes/pve1/qemu/100/agent/exec",
        action="vm.agent.exec",
        target="pve1/100",
        command=["/bin/sh"],
        **{"input-data": script},
    )
    assert result == upid
    assert [r.outcome for r in sink.rows] == ["started", "ok"]
    assert sink.rows[1].upid == upid
    dumped = json.dumps([r.model_dump(mode="json") for r in sink.rows])
    assert CANARY not in dumped and "K10abc" not in dumped
    assert sink.rows[0].params["command"] == ["/bin/sh"]


def test_wire_level_audit_for_calls_that_bypass_the_call_layer(server: Server) -> None:
    client, sink = make(server)
    session = mount_guard(requests.Session(), client.guard, "proxmox")
    session.post(server.url + "/api2/json/nodes/pve1/qemu", verify=str(server.ca.ca_file))
    assert [(r.action, r.outcome) for r in sink.rows] == [("proxmox.post", "started"), ("proxmox.post", "ok")]
    assert sink.rows[0].target == "/api2/json/nodes/pve1/qemu"


@pytest.mark.parametrize(
    ("reply", "kind", "words"),
    [
        (Reply(404, {"data": None, "message": "no such VM"}, "no such VM"), e.NotFoundError, "no such VM"),
        (Reply(401, {"data": None}, "authentication failure"), e.AuthError, "authentication failure"),
        (
            Reply(403, {"data": None}, "Permission check failed (/vms/100, VM.PowerMgmt)"),
            e.ForbiddenError,
            "VM.PowerMgmt",
        ),
        (
            Reply(500, {"data": None}, "VM 100 is running - destroy failed"),
            e.ServerError,
            "VM 100 is running - destroy failed",
        ),
        (
            Reply(
                400,
                {
                    "data": None,
                    "errors": {"sshkeys": "invalid format - invalid urlencoded string\n"},
                    "message": "Parameter verification failed.\n",
                },
                "Parameter verification failed.",
            ),
            e.InvalidError,
            "sshkeys: invalid format - invalid urlencoded string",
        ),
    ],
)
def test_pve_errors_map_to_readable_domain_errors(
    server: Server, reply: Reply, kind: type[e.HksError], words: str
) -> None:
    server.script.replies = [reply]
    client, _ = make(server)
    with pytest.raises(kind) as info:
        client.post("nodes/pve1/qemu/100/config", what="Configure VM 100", sshkeys="ssh-ed25519 AAAA")
    err = info.value
    assert words in str(err) and "Configure VM 100" in str(err)
    assert "\n" not in str(err) and err.next_step and err.backend == "proxmox"
    if kind is e.InvalidError:
        assert err.field_errors == {"sshkeys": "invalid format - invalid urlencoded string"}
    assert CANARY not in str(err) and CANARY not in repr(err.details)


def test_fingerprint_pin_accepts_the_right_certificate(server: Server) -> None:
    client, _ = make(server, ca_file=None, fingerprint=server.fingerprint)
    assert client.version()["version"] == "9.1.3"


def test_wrong_pin_fails_before_any_request_is_sent(server: Server) -> None:
    wrong = ":".join(["AB"] * 32)
    client, _ = make(server, ca_file=None, fingerprint=wrong)
    with pytest.raises(e.TlsError) as info:
        client.version()
    assert "fingerprint" in str(info.value)
    assert server.script.received == []  # the token never left the process
    assert len(server.script.received) == 0


def test_wrong_ca_is_a_tls_error(server: Server, tmp_path: Path) -> None:
    other = LabCA.create(tmp_path / "other")
    client, _ = make(server, ca_file=other.ca_file)
    with pytest.raises(e.TlsError) as info:
        client.version()
    assert "TLS verification" in str(info.value)
    assert server.script.received == []


def test_default_verification_rejects_a_self_signed_server(server: Server) -> None:
    client, _ = make(server, ca_file=None)
    with pytest.raises(e.TlsError):
        client.version(retries=1)


def test_timeout_is_enforced_and_mapped(server: Server) -> None:
    server.script.replies = [Reply(delay=1.5)]
    client, _ = make(server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(e.BackendTimeout) as info:
        client.version(retries=1)
    assert time.monotonic() - started < 1.4
    assert "did not answer" in str(info.value)


def test_connection_refused_maps_to_unreachable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    guard = TransportGuard(retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.01))
    client = ProxmoxClient(
        url=f"https://127.0.0.1:{port}", token_id=TOKEN_ID, token_secret=CANARY, guard=guard
    )
    with pytest.raises(e.UnreachableError) as info:
        client.version()
    assert "refused" in str(info.value)
    assert guard.stats.attempts == 2


def test_bad_token_id_is_refused_at_construction() -> None:
    with pytest.raises(e.InvalidError):
        ProxmoxClient(
            url="https://127.0.0.1:8006", token_id="nobang", token_secret=CANARY, guard=TransportGuard()
        )


def test_retry_policy_is_capped_and_jittered() -> None:
    import random

    policy = RetryPolicy(max_attempts=5, base_delay=0.5, max_delay=4.0)
    rng = random.Random(7)
    delays = [[policy.delay(attempt, rng) for attempt in range(1, 9)] for _ in range(20)]
    for row in delays:
        for attempt, delay in enumerate(row, start=1):
            cap = min(4.0, 0.5 * 2 ** (attempt - 1))
            assert cap / 2 <= delay <= cap
    assert len({round(row[3], 6) for row in delays}) > 1  # jittered, not a fixed schedule


def test_insecure_is_explicit(server: Server) -> None:
    client, _ = make(server, ca_file=None, insecure=True)
    assert client.insecure and client.version()["version"] == "9.1.3"


def test_audit_failure_stops_the_mutation(server: Server) -> None:
    class Broken:
        def append(self, entry: Any) -> int:
            raise OSError("disk full")

    client, _ = make(server)
    client.guard.audit_sink = Broken()
    with pytest.raises(e.HksError) as info:
        client.post("nodes/pve1/qemu/100/status/start")
    assert "audit" in str(info.value).lower()
    assert server.script.received == []


def test_pve_params_that_clash_with_keywords_go_in_data(server: Server) -> None:
    client, sink = make(server)
    client.post(
        "nodes/pve1/qemu/100/migrate", {"target": "pve2", "online": 1}, action="vm.migrate", target="pve1/100"
    )
    _, path, _, body = server.script.received[0]
    assert path == "/api2/json/nodes/pve1/qemu/100/migrate" and "target=pve2" in body and "online=1" in body
    assert sink.rows[0].target == "pve1/100" and sink.rows[0].params == {"target": "pve2", "online": 1}
