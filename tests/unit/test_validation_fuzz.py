"""Property: random input never crashes a validator — it normalises or raises ValidationProblem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hks_tui import validation as v

VALIDATORS: list[Callable[[Any], Any]] = [
    v.validate_dns1123_label,
    v.validate_dns1123_subdomain,
    v.validate_rfc1035_label,
    lambda x: v.validate_object_name(x, "CronJob"),
    v.validate_label_key,
    v.validate_label_value,
    v.validate_env_name,
    lambda x: v.validate_env_name(x, shell_safe=True),
    v.validate_config_key,
    v.validate_pve_tag,
    v.validate_pve_storage_id,
    lambda x: v.validate_node_prefix(x, "M-Type", 3, existing=["prod-m-1"]),
    v.parse_quantity,
    v.validate_size,
    v.validate_cpu,
    v.validate_memory,
    lambda x: v.check_grow_only("10Gi", x),
    v.validate_port,
    v.validate_protocol,
    v.validate_port_name,
    v.parse_image_reference,
    v.validate_git_url,
    v.validate_cron,
    v.describe_cron,
    v.parse_ssh_public_key,
    v.parse_ssh_public_keys,
    v.validate_volume_path,
    v.validate_mount_path,
]

# Text biased towards each grammar's alphabet, so the fuzzing reaches deep branches, plus any unicode.
ALPHABET = st.sampled_from(
    [*"abcAZ09-._/:@*,?+ %=\\\n\t", "..", "Gi", "Ki", "m", "e3", "sha256:", "ssh-rsa "]
)
TEXTS = st.one_of(st.text(max_size=80), st.lists(ALPHABET, max_size=30).map("".join))
VALUES = st.one_of(TEXTS, st.integers(), st.none(), st.floats(allow_nan=True), st.booleans())


@given(st.sampled_from(range(len(VALIDATORS))), VALUES)
@settings(max_examples=1500, deadline=None)
def test_random_input_normalises_or_raises_problem(index: int, value: Any) -> None:
    validator = VALIDATORS[index]
    try:
        validator(value)
    except v.ValidationProblem as problem:
        assert problem.message and problem.rule and problem.field


@given(st.from_regex(r"[0-5]?[0-9] ([01]?[0-9]|2[0-3]) \* \* [0-6]", fullmatch=True))
@settings(max_examples=100, deadline=None)
def test_valid_cron_always_renders(expr: str) -> None:
    assert v.describe_cron(expr)
    assert len(v.next_runs(expr, 2)) == 2


@given(st.integers(min_value=1, max_value=65535), st.sampled_from(["tcp", "UDP", "Sctp"]))
@settings(max_examples=50, deadline=None)
def test_ports_round_trip(port: int, protocol: str) -> None:
    assert v.validate_port(str(port)) == port
    assert v.validate_protocol(protocol) == protocol.upper()
