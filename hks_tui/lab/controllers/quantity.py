"""Exact Kubernetes resource quantities for the controllers (CPU in millicores, bytes as ints).

``hks_tui.lab.usage.parse_quantity`` returns floats for metrics; quota accounting and scheduling need
exact integer arithmetic and the apiserver's canonical rendering (``1500m``, ``4``, ``512Mi``, ``8Gi``).
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Any

_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {
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
_QUANTITY = re.compile(
    r"^([+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|)$"
)


class QuantityError(ValueError):
    pass


def to_decimal(value: Any) -> Decimal:
    """A quantity (``"250m"``, ``"1.5Gi"``, ``2``) as an exact Decimal in base units."""
    if isinstance(value, bool):
        raise QuantityError(f"quantities must match the regular expression: {value!r}")
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value).strip())
    if not match:
        raise QuantityError(
            f"quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {value!r}"
        )
    try:
        number = Decimal(match.group(1))
    except InvalidOperation as exc:  # pragma: no cover - regex guarantees a number
        raise QuantityError(str(exc)) from exc
    suffix = match.group(2)
    return number * (_BINARY[suffix] if suffix in _BINARY else _DECIMAL[suffix])


def millis(value: Any) -> int:
    """Quantity → thousandths, rounded up (CPU ``"250m"`` → 250, ``"2"`` → 2000)."""
    return int((to_decimal(value) * 1000).to_integral_value(rounding=ROUND_CEILING))


def units(value: Any) -> int:
    """Quantity → whole base units, rounded up (memory ``"1Gi"`` → 1073741824, ``"10"`` → 10)."""
    return int(to_decimal(value).to_integral_value(rounding=ROUND_CEILING))


def format_millis(value: int) -> str:
    """CPU-style rendering: 2000 → ``"2"``, 1500 → ``"1500m"``."""
    return str(value // 1000) if value % 1000 == 0 else f"{value}m"


def format_bytes(value: int) -> str:
    """Memory/storage rendering with the largest exact binary suffix: ``"8Gi"``, ``"1536Mi"``, ``"1000"``."""
    if value == 0:
        return "0"
    for suffix in ("Ei", "Pi", "Ti", "Gi", "Mi", "Ki"):
        size = _BINARY[suffix]
        if value % size == 0:
            return f"{value // size}{suffix}"
    return str(value)


def is_cpu_like(resource: str) -> bool:
    """True for resources accounted in millis (cpu and its requests./limits. variants)."""
    return resource in ("cpu", "requests.cpu", "limits.cpu")


def amount(resource: str, value: Any) -> int:
    """Integer accounting amount for a quota/scheduling resource name."""
    return millis(value) if is_cpu_like(resource) else units(value)


def render(resource: str, value: int) -> str:
    if is_cpu_like(resource):
        return format_millis(value)
    if "memory" in resource or "storage" in resource:
        return format_bytes(value)
    return str(value)
