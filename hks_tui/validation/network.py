"""Ports, protocols and port names (apimachinery ``IsValidPortNum``, ``IsValidPortName``)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hks_tui.validation.errors import ValidationProblem, require_text

PROTOCOLS = ("TCP", "UDP", "SCTP")
_PORT_NAME_CHARS = re.compile(r"[a-z0-9-]+")


def validate_port(value: Any, field: str = "port") -> int:
    """A port number 1–65535 (ints or digit strings)."""
    if isinstance(value, bool):
        raise ValidationProblem(field, value, "port", f"{field} must be a number from 1 to 65535")
    if isinstance(value, str):
        text = value.strip()
        if not text.isdigit() or not text.isascii():
            raise ValidationProblem(field, value, "port", f"{field} must be a number from 1 to 65535")
        value_int = int(text)
    elif isinstance(value, int):
        value_int = value
    else:
        raise ValidationProblem(field, value, "port", f"{field} must be a number from 1 to 65535")
    if not 1 <= value_int <= 65535:
        raise ValidationProblem(
            field, value, "port-range", f"{field} must be from 1 to 65535 (got {value_int})"
        )
    return value_int


def validate_protocol(value: Any, field: str = "protocol") -> str:
    """``tcp``/``TCP`` → ``TCP``; one of TCP, UDP, SCTP."""
    text = require_text(value, field).upper()
    if text not in PROTOCOLS:
        raise ValidationProblem(field, value, "protocol", f"{field} must be one of TCP, UDP or SCTP")
    return text


def validate_port_name(value: Any, field: str = "port name") -> str:
    """IANA_SVC_NAME: ≤15 lower-case letters, digits and '-', at least one letter, no leading/trailing or
    double '-'."""
    name = require_text(value, field)
    rule = (
        "must be an IANA service name: at most 15 lower-case letters, digits and '-', with at least one "
        "letter, not starting or ending with '-' and without '--'"
    )
    if (
        len(name) > 15
        or not _PORT_NAME_CHARS.fullmatch(name)
        or not re.search(r"[a-z]", name)
        or name.startswith("-")
        or name.endswith("-")
        or "--" in name
    ):
        raise ValidationProblem(field, value, "port-name", f"{field} {rule}")
    return name


def check_unique_ports(ports: Iterable[tuple[str | None, int, str]], field: str = "ports") -> None:
    """Port names must be unique, and so must (port, protocol) pairs."""
    names: set[str] = set()
    pairs: set[tuple[int, str]] = set()
    for name, port, protocol in ports:
        if name:
            if name in names:
                raise ValidationProblem(field, name, "port-name-unique", f"port name {name!r} is used twice")
            names.add(name)
        if (port, protocol) in pairs:
            raise ValidationProblem(
                field, port, "port-unique", f"port {port}/{protocol} is listed twice; each port/protocol once"
            )
        pairs.add((port, protocol))
