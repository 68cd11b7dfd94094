"""Container image references (distribution/reference grammar) and Git repository URLs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hks_tui.validation.errors import ValidationProblem, require_text

_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
PATH_RE = re.compile(rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*")
DOMAIN_RE = re.compile(_DOMAIN)
TAG_RE = re.compile(r"[\w][\w.-]{0,127}", re.ASCII)
DIGEST_RE = re.compile(
    r"(?P<algo>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):(?P<hex>[0-9a-fA-F]{32,})"
)
_DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
NAME_MAX = 255
IMAGE_RULE = (
    "must be an image reference: [registry[:port]/]path[:tag][@sha256:<64 hex>], path in lower-case "
    "letters, digits and '.', '_', '-' separators, e.g. ghcr.io/acme/api:1.8.0"
)


@dataclass(frozen=True)
class ImageReference:
    registry: str | None
    repository: str
    tag: str | None
    digest: str | None

    def __str__(self) -> str:
        text = f"{self.registry}/{self.repository}" if self.registry else self.repository
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image_reference(value: Any, field: str = "image") -> ImageReference:
    text = require_text(value, field)
    if any(ch.isspace() for ch in text):
        raise ValidationProblem(field, value, "image", f"{field} must not contain spaces")
    rest, digest = text, None
    if "@" in rest:
        rest, digest = rest.split("@", 1)
        match = DIGEST_RE.fullmatch(digest)
        expected = _DIGEST_LENGTHS.get(match["algo"]) if match else None
        if not match or (expected is not None and len(match["hex"]) != expected):
            raise ValidationProblem(
                field, value, "image-digest", f"{field} digest must be sha256: followed by 64 hex digits"
            )
    tag = None
    last = rest.rsplit("/", 1)[-1]
    if ":" in last:
        rest, tag = rest.rsplit(":", 1)
        if not TAG_RE.fullmatch(tag):
            raise ValidationProblem(
                field,
                value,
                "image-tag",
                f"{field} tag must be 1–128 letters, digits, '_', '.' and '-', not starting with '.' or '-'",
            )
    registry = None
    first, sep, remainder = rest.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        registry, rest = first, remainder
        if not DOMAIN_RE.fullmatch(registry):
            raise ValidationProblem(
                field, value, "image-registry", f"{field} registry {registry!r} is not a valid host[:port]"
            )
    if not PATH_RE.fullmatch(rest):
        hint = " (the repository path must be lower-case)" if PATH_RE.fullmatch(rest.lower()) else ""
        raise ValidationProblem(field, value, "image", f"{field} {IMAGE_RULE}{hint}")
    if len(rest) + (len(registry) + 1 if registry else 0) > NAME_MAX:
        raise ValidationProblem(
            field, value, "image-length", f"{field} name must be at most {NAME_MAX} characters"
        )
    return ImageReference(registry, rest, tag, digest.lower() if digest else None)


def validate_image(value: Any, field: str = "image") -> str:
    """Validate an image reference; returns it unchanged apart from stripped whitespace."""
    parse_image_reference(value, field)
    return str(value).strip()


_SCP_RE = re.compile(r"(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^\s]+)")
_HOST_RE = re.compile(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?")
GIT_RULE = (
    "must be a Git URL: https://host/org/repo(.git), ssh://git@host[:port]/org/repo or git@host:org/repo"
)


def validate_git_url(value: Any, field: str = "repository URL") -> str:
    """A Git repository URL in https, ssh:// or scp-like ``git@host:path`` form, with no embedded secret.

    Refused: ``http://`` (unencrypted), ``file://`` and local paths, and any password or token in the
    URL (``https://user:token@…``) — credentials belong in a Secret referenced by the build.
    """
    url = require_text(value, field)
    if any(ch.isspace() for ch in url):
        raise ValidationProblem(field, value, "git-url", f"{field} must not contain spaces")
    scp = _SCP_RE.fullmatch(url)
    if scp and "://" not in url:
        if ":" in scp["user"]:
            raise _credential_problem(field, value)
        if not _HOST_RE.fullmatch(scp["host"]) or scp["path"].strip("/") == "":
            raise ValidationProblem(field, value, "git-url", f"{field} {GIT_RULE}")
        return url
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "http":
        raise ValidationProblem(
            field, value, "git-url-scheme", f"{field} must use https:// or ssh://, not plain http://"
        )
    if scheme not in ("https", "ssh"):
        raise ValidationProblem(field, value, "git-url-scheme", f"{field} {GIT_RULE}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise ValidationProblem(field, value, "git-url", f"{field} has an invalid port") from exc
    if parts.password is not None or (scheme == "https" and parts.username is not None):
        raise _credential_problem(field, value)
    if not host or not _HOST_RE.fullmatch(host) or port == 0:
        raise ValidationProblem(field, value, "git-url", f"{field} {GIT_RULE}")
    if parts.path.strip("/") == "" or parts.query or parts.fragment:
        raise ValidationProblem(
            field, value, "git-url", f"{field} needs a repository path and no ?query or #fragment"
        )
    return url


def _credential_problem(field: str, value: Any) -> ValidationProblem:
    return ValidationProblem(
        field,
        "<redacted>",
        "git-url-credentials",
        f"{field} must not contain a password or token; store the credentials in a Secret and choose it "
        "as the pull secret instead",
    )
