"""LabCA: a real TLS handshake against the lab CA, and rejection without it."""

from __future__ import annotations

import socket
import ssl
import stat
import threading
from pathlib import Path

import pytest
from cryptography import x509

from hks_tui.lab.tls import LabCA


def test_files_and_sans(tmp_path: Path) -> None:
    ca = LabCA.create(tmp_path / "state")
    for path in (ca.ca_file, ca.cert_file, ca.key_file):
        assert path.is_file()
        assert path.parent == tmp_path / "state"
    assert stat.S_IMODE(ca.key_file.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["ca.crt", "server.crt", "server.key"]
    cert = x509.load_pem_x509_certificate(ca.cert_file.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in sans.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)]
    ca_cert = x509.load_pem_x509_certificate(ca.ca_file.read_bytes())
    assert cert.issuer == ca_cert.subject


def _serve_once(ca: LabCA) -> tuple[int, threading.Thread]:
    server_ctx = ca.server_ssl_context()
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run() -> None:
        with listener:
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.sendall(b"hello")
            except (ssl.SSLError, OSError):
                pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return port, thread


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_handshake_verifies_against_ca(tmp_path: Path, host: str) -> None:
    ca = LabCA.create(tmp_path)
    port, thread = _serve_once(ca)
    client_ctx = ssl.create_default_context(cafile=str(ca.ca_file))
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        client_ctx.wrap_socket(raw, server_hostname=host) as tls,
    ):
        assert tls.recv(5) == b"hello"
    thread.join(10)


def test_handshake_fails_without_ca(tmp_path: Path) -> None:
    ca = LabCA.create(tmp_path)
    other = LabCA.create(tmp_path / "other")
    port, thread = _serve_once(ca)
    client_ctx = other.client_ssl_context()
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        client_ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    thread.join(10)
