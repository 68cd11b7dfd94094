"""Secret redaction for everything the clients log, audit or raise.

Two complementary rules:

* by **key**: any mapping key matching ``secret|token|password|key|input-data|ticket|csrf|authorization|
  cookie`` has its value replaced by ``***``;
* by **value**: every secret the process knows (registered by the clients when they are built: the PVE
  token secret, the Kubernetes bearer token, the K3s agent token) and every K3s join token / bearer /
  ``PVEAPIToken`` pattern is masked wherever it appears in free text (scripts, server messages,
  exception text, log lines).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

SECRET_KEY_RE = re.compile(
    r"secret|token|password|passwd|key|input-data|input_data|ticket|csrf|authorization|cookie|credential",
    re.IGNORECASE,
)

_TEXT_PATTERNS: tuple[re.Pattern[str], ...] = (
    # K3s secure join tokens: K10<hash>::<user>:<password>
    re.compile(r"K10[0-9A-Za-z]+::[^\s'\";&|]+"),
    # K3S_TOKEN=..., K3S_AGENT_TOKEN=..., --token xyz, --token=xyz, --agent-token ...
    re.compile(r"(?i)(K3S_(?:AGENT_)?TOKEN\s*[=:]\s*['\"]?)[^\s'\";&|]+"),
    re.compile(r"(?i)(--(?:agent-)?token(?:=|\s+)['\"]?)[^\s'\";&|]+"),
    # HTTP auth headers
    re.compile(r"(?i)(PVEAPIToken=[^=\s]+=)[^\s'\",}]+"),
    re.compile(r"(?i)(Bearer\s+)[^\s'\",}]+"),
    re.compile(r"(?i)(PVEAuthCookie=)[^\s;'\",}]+"),
    re.compile(r"(?i)(CSRFPreventionToken['\"]?\s*[:=]\s*['\"]?)[^\s'\",}]+"),
    # secret-looking keys inside a repr()/JSON of a dict, e.g. proxmoxer's "POST url {'password': 'x'}"
    re.compile(
        r"(?i)(['\"][^'\"]*(?:secret|token|password|passwd|input-data|ticket|credential)[^'\"]*['\"]\s*:\s*)"
        r"(?:'[^']*'|\"[^\"]*\")"
    ),
)


def _replacement(pattern: re.Pattern[str]) -> str:
    if not pattern.groups:
        return MASK
    if pattern.pattern.endswith('"[^\\"]*\\")'):
        return r"\1'" + MASK + "'"
    return r"\1" + MASK


# Registered secrets shorter than this are not masked inside text (too many false positives).
_MIN_SECRET_LEN = 6


class Redactor:
    """Masks secrets in text and in parameter dicts. Thread-safe."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        for value in secrets:
            self.register(value)

    def register(self, value: str | None) -> None:
        """Remember a secret value so it is masked wherever it appears."""
        if not value or len(value) < _MIN_SECRET_LEN:
            return
        with self._lock:
            self._secrets.add(value)

    @property
    def secret_count(self) -> int:
        with self._lock:
            return len(self._secrets)

    def text(self, value: object) -> str:
        """Return ``str(value)`` with every known secret and secret pattern masked."""
        text = value if isinstance(value, str) else str(value)
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        for pattern in _TEXT_PATTERNS:
            text = pattern.sub(_replacement(pattern), text)
        return text

    def value(self, value: Any, *, key: str = "") -> Any:
        """Redact one value of a parameter structure (recursively)."""
        if key and SECRET_KEY_RE.search(key):
            return MASK if value not in (None, "") else value
        if isinstance(value, Mapping):
            return {str(k): self.value(v, key=str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        if isinstance(value, bytes):
            return self.text(value.decode("utf-8", errors="replace"))
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.text(value)

    def deep_text(self, value: Any) -> Any:
        """Mask secrets inside every string of a structure, keeping keys and shape (for error details)."""
        if isinstance(value, Mapping):
            return {str(k): self.deep_text(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep_text(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def params(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """A redacted copy of a parameter dict, safe for audit rows and logs."""
        if not params:
            return {}
        return {str(k): self.value(v, key=str(k)) for k, v in params.items()}


#: the process-wide redactor every client registers its secrets with
default_redactor = Redactor()


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the formatted message of every record it sees."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor or default_redactor

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: keep it unformatted but masked
            message = str(record.msg)
        record.msg = self.redactor.text(message)
        record.args = None
        return True


# Library loggers that may print request data or response bodies at DEBUG/INFO.
LIBRARY_LOGGERS = (
    "proxmoxer.core",
    "proxmoxer.backends.https",
    "kubernetes.client.rest",
    "kubernetes.client.api_client",
    "urllib3.connectionpool",
    "urllib3.connection",
    "prometheus_api_client.prometheus_connect",
    "requests",
)

_installed_lock = threading.Lock()
_installed = False


def install_log_redaction(redactor: Redactor | None = None) -> None:
    """Attach a :class:`RedactingFilter` to the library loggers (idempotent)."""
    global _installed
    with _installed_lock:
        if _installed:
            return
        flt = RedactingFilter(redactor)
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).addFilter(flt)
        _installed = True
