"""Names, labels, env vars, PVE tags, node prefixes, ports and paths."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hks_tui.validation import (
    ValidationProblem,
    check_unique_ports,
    encode_pve_sshkeys,
    node_names,
    validate_config_key,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_env_name,
    validate_label_key,
    validate_label_value,
    validate_mount_path,
    validate_node_prefix,
    validate_object_name,
    validate_port,
    validate_port_name,
    validate_protocol,
    validate_pve_storage_id,
    validate_pve_tag,
    validate_pve_tags,
    validate_rfc1035_label,
    validate_volume_path,
)

LABELS = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", fullmatch=True)


@given(LABELS)
@settings(max_examples=200, deadline=None)
def test_valid_labels_always_accepted_and_round_trip(name: str) -> None:
    assert validate_dns1123_label(name) == name
    assert validate_dns1123_subdomain(name) == name
    assert validate_dns1123_label(f"  {name}\n") == name


@given(st.lists(LABELS, min_size=1, max_size=4))
@settings(max_examples=100, deadline=None)
def test_valid_subdomains_accepted(parts: list[str]) -> None:
    name = ".".join(parts)
    if len(name) <= 253:
        assert validate_dns1123_subdomain(name) == name


@pytest.mark.parametrize("bad", ["", "-a", "a-", "A", "my_app", "a.b", "x" * 64, "ä", "a b"])
def test_label_refusals_state_the_rule(bad: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        validate_dns1123_label(bad, "name")
    assert info.value.field == "name"
    if bad:
        assert "DNS-1123 label" in info.value.message
        assert "at most 63 characters" in info.value.message


def test_uppercase_hint_and_lengths() -> None:
    with pytest.raises(ValidationProblem, match="upper-case"):
        validate_dns1123_label("Prod")
    assert validate_dns1123_subdomain("a" * 63 + "." + "b" * 63)
    with pytest.raises(ValidationProblem, match="253"):
        validate_dns1123_subdomain(".".join(["a" * 63] * 4) + ".bbb")


def test_kind_specific_names() -> None:
    with pytest.raises(ValidationProblem, match="RFC-1035"):
        validate_object_name("1web", "Service")
    assert validate_object_name("1web", "Deployment") == "1web"
    assert validate_object_name("web.v1", "ConfigMap") == "web.v1"
    with pytest.raises(ValidationProblem):
        validate_object_name("web.v1", "Namespace")
    assert validate_object_name("b" * 52, "CronJob")
    with pytest.raises(ValidationProblem, match="52"):
        validate_object_name("b" * 53, "CronJob")
    assert validate_rfc1035_label("web-1") == "web-1"


def test_label_keys_and_values() -> None:
    assert validate_label_value("") == ""
    assert validate_label_value("Prod_1.a") == "Prod_1.a"
    for bad in ["-x", "x" * 64, "a b", "a/b"]:
        with pytest.raises(ValidationProblem):
            validate_label_value(bad)
    assert validate_label_key("hks.io/workspace") == "hks.io/workspace"
    assert validate_label_key("app") == "app"
    for bad in ["/x", "Hks.IO/x", "a/-b", "a/" + "x" * 64]:
        with pytest.raises(ValidationProblem):
            validate_label_key(bad)


@pytest.mark.parametrize("good", ["PATH", "_x", "my-var", "a.b", "-x", "DB_HOST2"])
def test_env_names_kubernetes_rule(good: str) -> None:
    assert validate_env_name(good) == good


@pytest.mark.parametrize("bad", ["1X", ".", "..", "..x", "A=B", "A B", "é"])
def test_env_names_refused(bad: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        validate_env_name(bad)
    assert info.value.rule == "env-name"


def test_env_names_shell_rule() -> None:
    assert validate_env_name("DB_HOST", shell_safe=True) == "DB_HOST"
    for bad in ["my-var", "a.b", "1A"]:
        with pytest.raises(ValidationProblem, match="C identifier"):
            validate_env_name(bad, shell_safe=True)


def test_config_keys() -> None:
    assert validate_config_key("tls.crt") == "tls.crt"
    for bad in ["a/b", "..", "..a", "x" * 254]:
        with pytest.raises(ValidationProblem):
            validate_config_key(bad)


def test_pve_tags() -> None:
    assert validate_pve_tag("hks-managed") == "hks-managed"
    assert validate_pve_tag("HKS_ws+1.a") == "HKS_ws+1.a"
    for bad in ["tenant=a", "k3s/role", "-x", "a b", ""]:
        with pytest.raises(ValidationProblem):
            validate_pve_tag(bad)
    assert validate_pve_tags(["hks-managed", "hks-ws-prod", "HKS-MANAGED"]) == "hks-managed;hks-ws-prod"


def test_node_prefix_preview_and_length() -> None:
    assert validate_node_prefix("prod", "M-Type", 3) == ["prod-m-1", "prod-m-2", "prod-m-3"]
    assert node_names("db", "large", 2, start=4) == ["db-large-4", "db-large-5"]
    prefix = "p" * 59
    with pytest.raises(ValidationProblem) as info:
        validate_node_prefix(prefix, "M-Type", 10)
    assert info.value.rule == "node-name-length"
    assert "at most 58 characters" in info.value.message
    with pytest.raises(ValidationProblem, match="DNS-1123"):
        validate_node_prefix("Prod", "M-Type", 1)
    with pytest.raises(ValidationProblem, match="prod-m-2"):
        validate_node_prefix("prod", "M-Type", 3, existing=["prod-m-2", "other"])


def test_ports_and_protocols() -> None:
    assert validate_port(80) == 80
    assert validate_port(" 8080 ") == 8080
    for bad in [0, 65536, -1, "http", True, 1.5, "８０"]:
        with pytest.raises(ValidationProblem):
            validate_port(bad)
    assert validate_protocol("udp") == "UDP"
    with pytest.raises(ValidationProblem, match="TCP, UDP or SCTP"):
        validate_protocol("ICMP")


@pytest.mark.parametrize("good", ["http", "metrics-8080", "h2c", "a" * 15])
def test_port_names_good(good: str) -> None:
    assert validate_port_name(good) == good


@pytest.mark.parametrize("bad", ["8080", "-http", "http-", "my--port", "HTTP", "a" * 16, "a_b"])
def test_port_names_bad(bad: str) -> None:
    with pytest.raises(ValidationProblem, match="IANA service name"):
        validate_port_name(bad)


def test_unique_ports() -> None:
    check_unique_ports([("http", 80, "TCP"), ("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")])
    with pytest.raises(ValidationProblem, match="used twice"):
        check_unique_ports([("http", 80, "TCP"), ("http", 81, "TCP")])
    with pytest.raises(ValidationProblem, match="80/TCP"):
        check_unique_ports([("a", 80, "TCP"), ("b", 80, "TCP")])


def test_volume_paths() -> None:
    assert validate_volume_path("backups//app/./daily/") == "backups/app/daily"
    assert validate_volume_path("") == "."
    assert validate_volume_path("./") == "."
    for bad, rule in [
        ("../etc", "path-escape"),
        ("a/../../b", "path-escape"),
        ("a/..", "path-escape"),
        ("/etc", "path-absolute"),
        ("a\\b", "path-chars"),
        ("a\x00b", "path-chars"),
    ]:
        with pytest.raises(ValidationProblem) as info:
            validate_volume_path(bad)
        assert info.value.rule == rule


def test_mount_paths() -> None:
    assert validate_mount_path("/var/lib//data/") == "/var/lib/data"
    for bad in ["data", "/", "/a/../b", "/a:b"]:
        with pytest.raises(ValidationProblem):
            validate_mount_path(bad)


def test_pve_sshkeys_encoding() -> None:
    keys = ["ssh-ed25519 AAAAC3Nza/+= me@host", "ssh-rsa AAAAB3 other"]
    encoded = encode_pve_sshkeys(keys)
    assert encoded == "ssh-ed25519%20AAAAC3Nza%2F%2B%3D%20me%40host%0Assh-rsa%20AAAAB3%20other"
    # PVE's check on the decoded form value: ^[-%a-zA-Z0-9_.!~*'()]*$
    import re

    assert re.fullmatch(r"[-%a-zA-Z0-9_.!~*'()]*", encoded)
    from urllib.parse import unquote

    assert unquote(encoded) == "\n".join(keys)


def test_pve_storage_ids() -> None:
    assert validate_pve_storage_id("local-lvm") == "local-lvm"
    assert validate_pve_storage_id("shared_nfs.1") == "shared_nfs.1"
    for bad in ["1local", "local-", "a", "local lvm", "a/b"]:
        with pytest.raises(ValidationProblem, match="storage ID"):
            validate_pve_storage_id(bad)
