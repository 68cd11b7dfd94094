"""Paths: a path inside a volume (relative, no escape) and a container mount path (absolute)."""

from __future__ import annotations

import posixpath
from typing import Any

from hks_tui.validation.errors import ValidationProblem, require_text

MAX_PATH = 4096


def _check_chars(path: str, value: Any, field: str) -> None:
    if len(path) > MAX_PATH:
        raise ValidationProblem(field, value, "path-length", f"{field} must be at most {MAX_PATH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path) or "\\" in path:
        raise ValidationProblem(
            field, value, "path-chars", f"{field} must not contain control characters or backslashes"
        )


def validate_volume_path(value: Any, field: str = "path") -> str:
    """A directory inside a volume, relative to its root: ``backups/app`` (``.`` = the root).

    Refused: absolute paths (``/etc``), any ``..`` component (even ``a/../b``: we never let a path leave
    or re-enter the volume), control characters, backslashes. Normalised: repeated '/' and '.' removed.
    """
    if isinstance(value, str) and value.strip() in ("", "."):
        return "."
    path = require_text(value, field)
    _check_chars(path, value, field)
    if path.startswith("/"):
        raise ValidationProblem(
            field,
            value,
            "path-absolute",
            f"{field} must be relative to the volume root (e.g. backups/app), not an absolute path",
        )
    parts = [part for part in path.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise ValidationProblem(
            field, value, "path-escape", f"{field} must not contain '..': it has to stay inside the volume"
        )
    return "/".join(parts) or "."


def validate_mount_path(value: Any, field: str = "mount path") -> str:
    """A container mount path: absolute, no ``..`` component, not ``/``; returned normalised."""
    path = require_text(value, field)
    _check_chars(path, value, field)
    if not path.startswith("/"):
        raise ValidationProblem(
            field, value, "mount-absolute", f"{field} must be an absolute path, e.g. /data"
        )
    if ".." in path.split("/"):
        raise ValidationProblem(field, value, "path-escape", f"{field} must not contain '..'")
    normal = posixpath.normpath(path)
    if normal in ("/", "//"):
        raise ValidationProblem(field, value, "mount-root", f"{field} must not be the root directory '/'")
    if ":" in normal:
        raise ValidationProblem(field, value, "mount-chars", f"{field} must not contain ':'")
    return normal
