"""Secret references: where a secret lives, never the secret itself.

A configuration file names secrets by reference:

* ``env:NAME``      — the environment variable ``NAME``;
* ``file:PATH``     — the content of ``PATH`` (trailing newline stripped), refused unless the file's mode
  gives no access to group or others (``chmod 600 PATH``);
* ``keyring:NAME``  — the OS keyring (optional ``keyring`` extra), service ``hks-tui``, username ``NAME``;
  ``keyring:SERVICE/NAME`` picks another service.

A fourth kind, the in-memory literal, exists only for profiles derived from a running lab
(:meth:`SecretRef.literal`): it cannot be parsed from text, is never serialised (it dumps as a masked
placeholder), and its ``repr`` is masked.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any, Literal

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

SecretKind = Literal["env", "file", "keyring", "literal"]
KEYRING_SERVICE = "hks-tui"
_MASK = "****"


class SecretError(Exception):
    """A secret reference is malformed or cannot be resolved. ``str()`` is one readable line."""


def mask(value: str) -> str:
    """A display form of a secret: ``****`` plus at most the last 4 characters of long values."""
    if not value:
        return "(empty)"
    if len(value) >= 16:
        return _MASK + value[-4:]
    return _MASK


class SecretRef:
    """A parsed secret reference. Immutable; equality by reference (literals compare by identity)."""

    __slots__ = ("_literal", "kind", "target")

    kind: SecretKind
    target: str
    _literal: str | None

    def __init__(self, kind: SecretKind, target: str, *, _literal: str | None = None) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "_literal", _literal)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("SecretRef is immutable")

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """Parse ``env:NAME`` | ``file:PATH`` | ``keyring:NAME``; anything else raises :class:`SecretError`."""
        if not isinstance(text, str):
            raise SecretError("a secret reference must be a string like env:NAME, file:PATH or keyring:NAME")
        scheme, sep, rest = text.strip().partition(":")
        rest = rest.strip()
        if not sep or scheme not in ("env", "file", "keyring"):
            raise SecretError(
                "not a secret reference: write env:NAME, file:PATH or keyring:NAME "
                "(the secret itself never goes in the configuration)"
            )
        if not rest:
            raise SecretError(f"empty {scheme}: reference")
        if scheme == "env" and not rest.replace("_", "a").isalnum():
            raise SecretError(f"env:{rest}: an environment variable name has only letters, digits and _")
        if scheme == "file":
            rest = str(Path(rest).expanduser())
        return cls(scheme, rest)  # type: ignore[arg-type]

    @classmethod
    def literal(cls, value: str, *, origin: str = "lab") -> SecretRef:
        """An in-memory secret (lab-derived profiles only); never serialised, masked in ``repr``."""
        return cls("literal", origin, _literal=value)

    def resolve(self) -> str:
        return resolve_secret(self)

    def __str__(self) -> str:
        if self.kind == "literal":
            return f"literal:{_MASK}"
        return f"{self.kind}:{self.target}"

    def __repr__(self) -> str:
        return f"SecretRef({self!s})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SecretRef):
            return NotImplemented
        if self.kind == "literal" or other.kind == "literal":
            return self is other
        return (self.kind, self.target) == (other.kind, other.target)

    def __hash__(self) -> int:
        return hash((self.kind, self.target)) if self.kind != "literal" else id(self)

    def __copy__(self) -> SecretRef:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SecretRef:
        return self

    def __reduce__(self) -> Any:
        if self.kind == "literal":
            raise TypeError("an in-memory secret is never serialised")
        return (SecretRef, (self.kind, self.target))

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> SecretRef:
            if isinstance(value, SecretRef):
                return value
            try:
                return cls.parse(value)
            except SecretError as exc:
                raise ValueError(str(exc)) from None

        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(str, when_used="always"),
        )


def _resolve_file(path: Path) -> str:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SecretError(f"secret file {path} does not exist") from None
    except OSError as exc:
        raise SecretError(f"cannot read secret file {path}: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise SecretError(f"secret file {path} is not a regular file")
    perms = stat.S_IMODE(st.st_mode)
    if perms & 0o077:
        raise SecretError(
            f"refusing to read secret file {path}: its mode is {perms:04o}, readable by group or others; "
            f"run `chmod 600 {path}`"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"cannot read secret file {path}: {exc}") from None
    value = text.rstrip("\r\n")
    if not value:
        raise SecretError(f"secret file {path} is empty")
    return value


def _resolve_keyring(target: str) -> str:
    try:
        import keyring  # type: ignore[import-not-found]
        from keyring.errors import KeyringError  # type: ignore[import-not-found]
    except ImportError:
        raise SecretError(
            f"keyring:{target} needs the optional keyring support: pip install 'hks-tui[keyring]' "
            "(or use env:NAME or file:PATH on hosts without a keyring)"
        ) from None
    service, _, username = target.rpartition("/")
    service = service or KEYRING_SERVICE
    try:
        value = keyring.get_password(service, username)
    except KeyringError as exc:
        raise SecretError(f"keyring:{target}: the OS keyring is not usable here ({exc})") from None
    if value is None:
        raise SecretError(
            f"keyring:{target}: no entry for service {service!r}, user {username!r} "
            f"(store it with `keyring set {service} {username}`)"
        )
    return str(value)


def resolve_secret(ref: SecretRef | str) -> str:
    """The secret's value. Raises :class:`SecretError` with one readable line (never the value)."""
    if isinstance(ref, str):
        ref = SecretRef.parse(ref)
    if ref.kind == "literal":
        assert ref._literal is not None
        return ref._literal
    if ref.kind == "env":
        value = os.environ.get(ref.target)
        if value is None:
            raise SecretError(f"env:{ref.target}: the environment variable {ref.target} is not set")
        if not value:
            raise SecretError(f"env:{ref.target}: the environment variable {ref.target} is empty")
        return value
    if ref.kind == "file":
        return _resolve_file(Path(ref.target))
    return _resolve_keyring(ref.target)
