"""Kubernetes quantities (``500Gi``, ``1.5``, ``500m``, ``1e3``): parsing, bytes, canonical form, limits.

Grammar (kubernetes.io Quantity): ``<signedNumber><suffix>`` with binary suffixes ``Ki Mi Gi Ti Pi Ei``,
decimal ``n u m "" k M G T P E`` or an ``e``/``E`` exponent. ``1k`` = 1000 but ``1Ki`` = 1024.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from hks_tui.validation.errors import ValidationProblem, require_text

_QUANTITY_RE = re.compile(
    r"(?P<sign>[+-]?)(?P<number>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)"
    r"(?:(?P<exp>[eE][+-]?[0-9]+)|(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)"
)
BINARY: dict[str, int] = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
DECIMAL: dict[str, Decimal] = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
MAX_VALUE = Decimal(2**63 - 1)
QUANTITY_RULE = (
    "must be a quantity: a number with an optional unit — binary Ki, Mi, Gi, Ti, Pi, Ei (1Gi = 1024Mi) "
    "or decimal m, k, M, G, T, P, E — e.g. 500Gi, 512Mi, 1.5Ti"
)


def parse_quantity(value: Any, field: str = "quantity") -> Decimal:
    """The exact numeric value of a Kubernetes quantity (``"1Gi"`` → ``Decimal(1073741824)``)."""
    text = require_text(value, field)
    match = _QUANTITY_RE.fullmatch(text)
    if not match:
        raise ValidationProblem(field, value, "quantity", f"{field} {QUANTITY_RULE}")
    try:
        number = Decimal(match["number"])
        if match["exp"]:
            exponent = int(match["exp"][1:])
            if abs(exponent) > 30:
                raise ValidationProblem(field, value, "quantity-range", f"{field} exponent is out of range")
            number = number.scaleb(exponent)
        else:
            suffix = match["suffix"] or ""
            number = number * (BINARY[suffix] if suffix in BINARY else DECIMAL[suffix])
    except InvalidOperation as exc:
        raise ValidationProblem(field, value, "quantity", f"{field} {QUANTITY_RULE}") from exc
    if match["sign"] == "-":
        number = -number
    if abs(number) > MAX_VALUE:
        raise ValidationProblem(field, value, "quantity-range", f"{field} is larger than 2^63-1")
    return number


def format_bytes(size: int) -> str:
    """Canonical binary form: the largest binary unit that divides ``size`` exactly (``1536Mi``, ``1Ti``)."""
    if size == 0:
        return "0"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        if size % BINARY[suffix] == 0:
            return f"{size // BINARY[suffix]}{suffix}"
    return str(size)


def human_bytes(size: int) -> str:
    """Rounded, human-readable size for messages and tables (``1.5 GiB``)."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" or value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover - loop always returns


def quantity_to_bytes(value: Any, field: str = "size") -> int:
    """A quantity as whole bytes (rounded up, as Kubernetes rounds storage requests)."""
    return math.ceil(parse_quantity(value, field))


def bytes_to_mib(size: int) -> int:
    """Whole MiB, rounded up (Proxmox disk sizes and the CSI's resize are in MiB)."""
    return -(-size // BINARY["Mi"])


def validate_size(
    value: Any,
    field: str = "size",
    *,
    min_bytes: int | None = None,
    max_bytes: int | None = None,
    require_unit: bool = True,
) -> str:
    """A storage size such as ``500Gi``: positive, whole bytes, within [min, max]; returns the canonical form.

    ``1.5Gi`` → ``1536Mi``; decimal sizes that are no whole binary unit stay as typed (``1G``). A bare number of bytes is refused unless ``require_unit=False``, because
    ``500`` almost always means 500 GiB, not 500 bytes.
    """
    amount = parse_quantity(value, field)
    text = str(value).strip()
    if require_unit and not re.search(r"[A-Za-z]$", text):
        raise ValidationProblem(
            field, value, "size-unit", f"{field} needs a unit, e.g. {text}Gi (binary units: Mi, Gi, Ti)"
        )
    if amount != amount.to_integral_value():
        raise ValidationProblem(field, value, "size-whole", f"{field} must be a whole number of bytes")
    if amount <= 0:
        raise ValidationProblem(field, value, "size-positive", f"{field} must be larger than zero")
    size = math.ceil(amount)
    if min_bytes is not None and size < min_bytes:
        raise ValidationProblem(
            field,
            value,
            "size-min",
            f"{field} must be at least {format_bytes(min_bytes)} (got {format_bytes(size)})",
        )
    if max_bytes is not None and size > max_bytes:
        raise ValidationProblem(
            field,
            value,
            "size-max",
            f"{field} must be at most {format_bytes(max_bytes)} (got {format_bytes(size)})",
        )
    canonical = format_bytes(size)
    return text if canonical.isdigit() and re.search(r"[kMGTPE]$", text) else canonical


def check_grow_only(current: Any, new: Any, field: str = "size", *, allow_equal: bool = False) -> str:
    """``new`` must be larger than ``current`` (volumes can only grow); returns the canonical new size."""
    current_bytes = quantity_to_bytes(current, "current size")
    canonical = validate_size(new, field)
    new_bytes = quantity_to_bytes(canonical, field)
    if new_bytes < current_bytes or (new_bytes == current_bytes and not allow_equal):
        raise ValidationProblem(
            field,
            new,
            "size-grow-only",
            f"{field} must be larger than the current size {format_bytes(current_bytes)} "
            f"(got {canonical}): volumes can only grow, never shrink",
        )
    return canonical


def validate_cpu(value: Any, field: str = "cpu", *, allow_zero: bool = False) -> str:
    """A CPU quantity (``500m``, ``2``, ``1.5`` → ``1500m``): at most millicore precision; canonical form."""
    amount = parse_quantity(value, field)
    text = str(value).strip()
    if re.search(r"(Ki|Mi|Gi|Ti|Pi|Ei|[kMGTPE])$", text):
        raise ValidationProblem(
            field, value, "cpu", f"{field} must be cores (e.g. 2 or 0.5) or millicores (e.g. 500m), not bytes"
        )
    millis = amount * 1000
    if millis != millis.to_integral_value():
        raise ValidationProblem(
            field, value, "cpu-precision", f"{field} can be at most 3 decimals (1m = 0.001)"
        )
    if millis < 0 or (millis == 0 and not allow_zero):
        raise ValidationProblem(field, value, "cpu-positive", f"{field} must be larger than zero")
    whole = int(millis)
    return str(whole // 1000) if whole % 1000 == 0 else f"{whole}m"


def cpu_to_millicores(value: Any, field: str = "cpu") -> int:
    canonical = validate_cpu(value, field, allow_zero=True)
    return int(canonical[:-1]) if canonical.endswith("m") else int(canonical) * 1000


def validate_memory(value: Any, field: str = "memory") -> str:
    """A memory quantity (``512Mi``, ``1Gi``, ``1G``): positive, whole bytes; canonical binary form when exact."""
    amount = parse_quantity(value, field)
    if amount <= 0:
        raise ValidationProblem(field, value, "memory-positive", f"{field} must be larger than zero")
    if amount != amount.to_integral_value():
        raise ValidationProblem(field, value, "memory-whole", f"{field} must be a whole number of bytes")
    text = str(value).strip()
    size = int(amount)
    return format_bytes(size) if not re.search(r"[kMGTPE]$", text) else text
