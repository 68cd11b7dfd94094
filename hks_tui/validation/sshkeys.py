"""SSH public keys: parse, check type and strength, refuse private keys; the PVE ``sshkeys`` encoding."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from hks_tui.validation.errors import ValidationProblem, require_text

ACCEPTED_TYPES = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "ssh-rsa",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
)
MIN_RSA_BITS = 2048
_PRIVATE_MARKERS = ("PRIVATE KEY-----", "PuTTY-User-Key-File", "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY")
_EC_BITS = {"nistp256": 256, "nistp384": 384, "nistp521": 521}


@dataclass(frozen=True)
class SshPublicKey:
    key_type: str
    bits: int
    blob: bytes
    comment: str

    @property
    def line(self) -> str:
        """The canonical ``type base64 [comment]`` line."""
        text = f"{self.key_type} {base64.b64encode(self.blob).decode()}"
        return f"{text} {self.comment}" if self.comment else text

    @property
    def fingerprint(self) -> str:
        """``SHA256:…`` as ``ssh-keygen -l`` prints it."""
        digest = base64.b64encode(hashlib.sha256(self.blob).digest()).decode().rstrip("=")
        return f"SHA256:{digest}"


def _strings(blob: bytes) -> list[bytes]:
    """Split an SSH wire-format blob into its length-prefixed strings (raises ValueError on bad framing)."""
    out, offset = [], 0
    while offset < len(blob):
        if offset + 4 > len(blob):
            raise ValueError("truncated length")
        (length,) = struct.unpack(">I", blob[offset : offset + 4])
        offset += 4
        if offset + length > len(blob):
            raise ValueError("truncated string")
        out.append(blob[offset : offset + length])
        offset += length
    return out


def _key_bits(key_type: str, parts: list[bytes]) -> int:
    if key_type == "ssh-rsa" and len(parts) == 3:
        return int.from_bytes(parts[2], "big").bit_length()
    if key_type in ("ssh-ed25519", "sk-ssh-ed25519@openssh.com"):
        expected = 2 if key_type == "ssh-ed25519" else 3
        if len(parts) == expected and len(parts[1]) == 32:
            return 256
    if key_type.startswith(("ecdsa-sha2-", "sk-ecdsa-sha2-")):
        curve = key_type.split("-")[-1].split("@")[0]
        expected = 3 if key_type.startswith("ecdsa") else 4
        if len(parts) == expected and parts[1] == curve.encode():
            return _EC_BITS[curve]
    raise ValueError("unexpected structure")


def parse_ssh_public_key(
    value: Any, field: str = "SSH key", *, min_rsa_bits: int = MIN_RSA_BITS
) -> SshPublicKey:
    """One OpenSSH public key line ``type base64 [comment]``; raises a specific ValidationProblem."""
    text = require_text(value, field)
    if any(marker in text for marker in _PRIVATE_MARKERS):
        raise ValidationProblem(
            field,
            "<private key>",
            "ssh-private-key",
            f"{field} is a PRIVATE key — never paste it anywhere; paste the public key instead (the .pub file)",
        )
    if "BEGIN SSH2 PUBLIC KEY" in text:
        raise ValidationProblem(
            field,
            value,
            "ssh-rfc4716",
            f"{field} is in the RFC 4716 (SSH2) format; convert it with 'ssh-keygen -i -f key.pub' and paste "
            "the one-line OpenSSH form",
        )
    lines = [line for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) > 1:
        raise ValidationProblem(field, value, "ssh-one-key", f"{field} must be a single key (one line)")
    fields = lines[0].split(None, 2) if lines else []
    if len(fields) < 2:
        raise ValidationProblem(
            field,
            value,
            "ssh-format",
            f"{field} must look like 'ssh-ed25519 AAAA… comment' (type, base64, comment)",
        )
    key_type, data = fields[0], fields[1]
    comment = fields[2].strip() if len(fields) > 2 else ""
    if key_type == "ssh-dss":
        raise ValidationProblem(
            field,
            value,
            "ssh-dss",
            f"{field} is a DSA (ssh-dss) key, which OpenSSH disabled in 7.0; use ed25519",
        )
    if key_type not in ACCEPTED_TYPES:
        raise ValidationProblem(
            field,
            value,
            "ssh-type",
            f"{field} type {key_type[:40]!r} is not accepted (options before the key are not allowed); use one "
            f"of {', '.join(ACCEPTED_TYPES)}",
        )
    try:
        blob = base64.b64decode(data.encode("ascii"), validate=True)
        parts = _strings(blob)
    except (binascii.Error, ValueError, UnicodeEncodeError) as exc:
        raise ValidationProblem(
            field, value, "ssh-base64", f"{field} is malformed: the key data is not valid base64 key material"
        ) from exc
    if not parts or parts[0] != key_type.encode():
        found = parts[0][:40].decode("ascii", "replace") if parts else "nothing"
        raise ValidationProblem(
            field,
            value,
            "ssh-type-mismatch",
            f"{field} is malformed: it says {key_type} but the key data is {found!r}",
        )
    try:
        bits = _key_bits(key_type, parts)
        load_ssh_public_key(f"{key_type} {data}".encode())
    except (ValueError, KeyError, TypeError) as exc:
        raise ValidationProblem(
            field, value, "ssh-blob", f"{field} is malformed: the {key_type} key data is corrupt or truncated"
        ) from exc
    if key_type == "ssh-rsa" and bits < min_rsa_bits:
        raise ValidationProblem(
            field,
            value,
            "ssh-rsa-bits",
            f"{field} is an RSA key of {bits} bits; at least {min_rsa_bits} are required",
        )
    return SshPublicKey(key_type, bits, blob, comment)


def parse_ssh_public_keys(
    value: Any, field: str = "SSH keys", *, allow_multiple: bool = True, min_rsa_bits: int = MIN_RSA_BITS
) -> list[SshPublicKey]:
    """Several keys, one per line (blank and ``#`` lines skipped); duplicates refused."""
    text = require_text(value, field)
    if any(marker in text for marker in _PRIVATE_MARKERS):
        parse_ssh_public_key(text, field)  # raises the private-key problem
    lines = [line for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]
    if len(lines) > 1 and not allow_multiple:
        raise ValidationProblem(field, value, "ssh-one-key", f"{field} must be a single key (one line)")
    keys = [parse_ssh_public_key(line, field, min_rsa_bits=min_rsa_bits) for line in lines]
    blobs = [key.blob for key in keys]
    if len(set(blobs)) != len(blobs):
        raise ValidationProblem(field, value, "ssh-duplicate", f"{field} lists the same key twice")
    return keys


def encode_pve_sshkeys(keys: str | list[str] | list[SshPublicKey]) -> str:
    """Percent-encode keys for the PVE ``sshkeys`` parameter: ``%20`` for spaces, ``%2F`` for '/', ``%0A``
    between keys (``urllib.parse.quote(text, safe="")``); requests then form-encodes ``%`` as ``%25``."""
    if isinstance(keys, str):
        text = keys.strip()
    else:
        text = "\n".join(key.line if isinstance(key, SshPublicKey) else key.strip() for key in keys)
    return quote(text, safe="")
