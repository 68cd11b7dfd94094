"""The lab's private certificate authority.

Every lab HTTPS server (Proxmox VE, one Kubernetes API server per cluster) presents a server certificate
issued by one self-signed CA created per lab run. Clients verify against ``ca_file`` — the lab never asks
anyone to turn verification off.

Files written under ``state_dir``:

* ``ca.crt`` — the CA certificate (its private key only lives in memory while signing, so nothing else
  can ever be issued under this CA);
* ``server.crt`` / ``server.key`` — the server certificate (SANs ``127.0.0.1``, ``::1`` and ``localhost``)
  and its key (mode 0600).
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = _dt.timedelta(days=30)


def _write_private(path: Path, data: bytes) -> None:
    """Write a private key readable only by its owner."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True)
class LabCA:
    """A self-signed CA and one server certificate for the lab's loopback servers."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, state_dir: Path) -> LabCA:
        """Create a fresh CA and server certificate under ``state_dir`` (created if missing)."""
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        now = _dt.datetime.now(_dt.UTC)
        not_before = now - _dt.timedelta(minutes=5)

        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "HKS lab"),
                x509.NameAttribute(NameOID.COMMON_NAME, "HKS lab CA"),
            ]
        )
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256())
        )

        server_key = ec.generate_private_key(ec.SECP256R1())
        server_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name)
            .public_key(server_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(now + _VALIDITY)
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.IPAddress(ipaddress.ip_address("::1")),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
            .sign(ca_key, hashes.SHA256())
        )

        ca = cls(
            ca_file=state_dir / "ca.crt",
            cert_file=state_dir / "server.crt",
            key_file=state_dir / "server.key",
        )
        ca.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        # The server certificate file carries the chain's leaf only; clients trust ca.crt.
        ca.cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
        _write_private(ca.key_file, _key_pem(server_key))
        return ca

    def server_ssl_context(self) -> ssl.SSLContext:
        """A TLS server context presenting the lab server certificate."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certfile=str(self.cert_file), keyfile=str(self.key_file))
        return context

    def client_ssl_context(self) -> ssl.SSLContext:
        """A TLS client context that trusts only the lab CA (for lab-internal clients and tests)."""
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca_file))
        return context
