"""Quantities: sizes, CPU, memory, grow-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hks_tui.validation import (
    ValidationProblem,
    bytes_to_mib,
    check_grow_only,
    cpu_to_millicores,
    format_bytes,
    human_bytes,
    parse_quantity,
    quantity_to_bytes,
    validate_cpu,
    validate_memory,
    validate_size,
)

GI = 2**30


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500Gi", 500 * GI),
        ("1Ti", 2**40),
        ("512Mi", 512 * 2**20),
        ("1k", 1000),
        ("1Ki", 1024),
        ("1e3", 1000),
        ("1E", 10**18),
        ("1.5Gi", 1536 * 2**20),
        ("500m", Decimal("0.5")),
        (".5", Decimal("0.5")),
        ("+2", 2),
        ("-1", -1),
    ],
)
def test_parse_quantity(text: str, value: int | Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("bad", ["", "Gi", "5 Gi", "5GB", "5gi", "1.2.3", "0x10", "9Ei" * 2, "1e100", "10Ei"])
def test_parse_quantity_refused(bad: str) -> None:
    with pytest.raises(ValidationProblem):
        parse_quantity(bad)


def test_sizes_canonical_and_limits() -> None:
    assert validate_size("1.5Gi") == "1536Mi"
    assert validate_size("1024Gi") == "1Ti"
    assert validate_size("1G") == "1G"
    assert validate_size("1024k") == "1000Ki"
    with pytest.raises(ValidationProblem, match="needs a unit"):
        validate_size("500")
    assert validate_size("1048576", require_unit=False) == "1Mi"
    with pytest.raises(ValidationProblem, match="larger than zero"):
        validate_size("0Gi")
    with pytest.raises(ValidationProblem, match="whole number of bytes"):
        validate_size("0.3Ki")
    with pytest.raises(ValidationProblem, match="at least 1Gi"):
        validate_size("512Mi", min_bytes=GI)
    with pytest.raises(ValidationProblem, match="at most 2Ti"):
        validate_size("3Ti", max_bytes=2 * 2**40)
    assert quantity_to_bytes("20Gi") == 20 * GI
    assert bytes_to_mib(GI + 1) == 1025
    assert human_bytes(1536 * 2**20) == "1.5 GiB"


def test_grow_only() -> None:
    assert check_grow_only("20Gi", "30Gi") == "30Gi"
    with pytest.raises(ValidationProblem) as info:
        check_grow_only("20Gi", "10Gi")
    assert info.value.rule == "size-grow-only"
    assert "current size 20Gi" in info.value.message and "only grow" in info.value.message
    with pytest.raises(ValidationProblem):
        check_grow_only("20Gi", "20480Mi")
    assert check_grow_only("20Gi", "20480Mi", allow_equal=True) == "20Gi"


def test_cpu() -> None:
    assert validate_cpu("500m") == "500m"
    assert validate_cpu("2") == "2"
    assert validate_cpu("1.5") == "1500m"
    assert validate_cpu("2000m") == "2"
    assert cpu_to_millicores("0.25") == 250
    for bad in ["0", "0.0001", "1Gi", "2k", "abc", "-1"]:
        with pytest.raises(ValidationProblem):
            validate_cpu(bad)


def test_memory() -> None:
    assert validate_memory("512Mi") == "512Mi"
    assert validate_memory("1073741824") == "1Gi"
    assert validate_memory("1G") == "1G"
    for bad in ["0", "500m", "1.5", "x"]:
        with pytest.raises(ValidationProblem):
            validate_memory(bad)


@given(st.integers(min_value=1, max_value=2**50))
@settings(max_examples=200, deadline=None)
def test_format_bytes_round_trips(size: int) -> None:
    assert quantity_to_bytes(format_bytes(size)) == size
    assert quantity_to_bytes(validate_size(format_bytes(size), require_unit=False)) == size
