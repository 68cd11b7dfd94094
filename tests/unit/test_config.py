"""Configuration: parsing, env overrides, and every invalid case named with its line number."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hks_tui.config import ConfigError, load_settings, profile_from_lab, template_toml
from hks_tui.models import DEFAULT_CATALOG

VALID = """\
default_profile = "prod"
storage_price_gib_month = 0.25

[ui]
theme = "light"

[profiles.prod]
org = "acme"
workspace = "prod"
prometheus_url = "http://127.0.0.1:9090"

[profiles.prod.proxmox]
url = "https://pve1.example.com:8006"
token_id = "hks@pve!console"
token_secret = "env:HKS_PVE_TOKEN"
fingerprint = "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89"
timeout = 12.5

[profiles.prod.regions.tokyo]
pve_nodes = ["pve1", "pve2"]
template_vmid = { pve1 = 9000 }

[profiles.prod.host_cluster]
kubeconfig = "~/.kube/config"
context = "host"

[profiles.prod.vcluster]
kubeconfig = "/etc/hks/vc.yaml"
context = "vcluster-prod"

[profiles.prod.k3s]
url = "https://k3s.example.com:6443"
agent_token = "file:/etc/hks/agent-token"

[[catalog]]
name = "S"
vcpu = 2
ram_gib = 4
disk_gib = 40
monthly_price = 42.0

[[catalog]]
name = "M"
vcpu = 4
ram_gib = 8
disk_gib = 80
monthly_price = 84.0
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.upper().startswith("HKS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_valid_file(tmp_path: Path) -> None:
    settings = load_settings(write(tmp_path, VALID))
    assert settings.default_profile == "prod"
    assert settings.ui.theme == "light" and settings.ui.quota_warning == 0.80
    prod = settings.profiles["prod"]
    assert prod.name == "prod" and prod.org == "acme" and prod.workspace == "prod"
    assert prod.proxmox.url == "https://pve1.example.com:8006"
    assert str(prod.proxmox.token_secret) == "env:HKS_PVE_TOKEN"
    assert prod.proxmox.fingerprint is not None and prod.proxmox.fingerprint.startswith("AB:CD:EF")
    assert prod.proxmox.timeout == 12.5 and prod.proxmox.insecure is False
    assert prod.regions["tokyo"].pve_nodes == ["pve1", "pve2"]
    assert prod.regions["tokyo"].storage == "local-lvm"
    assert prod.host_cluster.kubeconfig == Path("~/.kube/config").expanduser()
    assert prod.vcluster.context == "vcluster-prod"
    assert str(prod.k3s.agent_token) == "file:/etc/hks/agent-token"
    assert [t.name for t in settings.catalog] == ["S", "M"] and settings.catalog[0].monthly_price == 42.0
    assert settings.storage_price_gib_month == 0.25
    assert settings.profile() is prod and settings.profile("nope") is None


def test_defaults_without_file(tmp_path: Path) -> None:
    settings = load_settings()  # default path under the temp XDG_CONFIG_HOME: absent -> defaults
    assert settings.profiles == {} and settings.profile() is None
    assert settings.catalog == list(DEFAULT_CATALOG)
    assert [t.name for t in settings.catalog] == ["S", "M", "L", "XL"]
    assert settings.ui.theme == "dark" and settings.ui.quota_critical == 0.95


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.toml")
    assert info.value.line is None and "hks-tui config init" in info.value.problem
    assert str(info.value).startswith(f"{tmp_path / 'nope.toml'}: ")


def test_env_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, VALID)
    monkeypatch.setenv("HKS_UI__THEME", "dark")
    monkeypatch.setenv("HKS_PROFILES__PROD__PROXMOX__TIMEOUT", "30")
    monkeypatch.setenv("HKS_STORAGE_PRICE_GIB_MONTH", "0.5")
    settings = load_settings(path)
    assert settings.ui.theme == "dark"
    assert settings.profiles["prod"].proxmox.timeout == 30.0
    assert settings.profiles["prod"].proxmox.url == "https://pve1.example.com:8006"  # rest kept
    assert settings.storage_price_gib_month == 0.5


def test_bad_env_value_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HKS_UI__THEME", "blue")
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, VALID))
    assert "HKS_UI__THEME" in info.value.problem and info.value.line is None


@pytest.mark.parametrize(
    ("old", "new", "needle", "problem"),
    [
        ('theme = "light"', 'theme = "blue"', "theme =", r"ui\.theme: Input should be 'dark' or 'light'"),
        ("timeout = 12.5", "timeout = -1", "timeout =", r"proxmox\.timeout: .*greater than 0"),
        (
            'url = "https://pve1',
            'url = "http://pve1',
            'url = "http://pve1',
            r"proxmox\.url: must be https://",
        ),
        ('token_id = "hks@pve!console"', 'token_id = "hks"', "token_id", r"proxmox\.token_id: .*pattern"),
        (
            'token_secret = "env:HKS_PVE_TOKEN"',
            'token_secret = "s3cret-in-clear"',
            "token_secret",
            r"not a secret reference",
        ),
        ('fingerprint = "ab:cd', 'fingerprint = "zz:cd', "fingerprint", r"must be a SHA-256 fingerprint"),
        ('context = "host"', 'contxt = "host"', "contxt", r"host_cluster\.contxt: unknown setting"),
        (
            'pve_nodes = ["pve1", "pve2"]',
            'pve_nodes = ["pve2"]',
            "[profiles.prod.regions.tokyo]",
            r"template_vmid names nodes not in pve_nodes: pve1",
        ),
        ("ram_gib = 8", 'ram_gib = "lots"', 'ram_gib = "lots"', r"catalog\.1\.ram_gib: .*integer"),
        ('workspace = "prod"', 'workspace = "Prod_1"', "workspace =", r"workspace: .*pattern"),
        ('default_profile = "prod"', 'default_profile = "qa"', "default_profile", r"'qa' is not a profile"),
        (
            "storage_price_gib_month = 0.25",
            "storage_price_gib_month = -2",
            "storage_price",
            r"greater than or equal",
        ),
        (
            'agent_token = "file:/etc/hks/agent-token"',
            "",
            "[profiles.prod.k3s]",
            r"k3s\.agent_token: required",
        ),
        ('theme = "light"', 'theme = "light"\ncolour = "red"', "colour", r"ui\.colour: unknown setting"),
    ],
)
def test_invalid_values_name_file_line_and_problem(
    tmp_path: Path, old: str, new: str, needle: str, problem: str
) -> None:
    assert old in VALID
    text = VALID.replace(old, new, 1)
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    err = info.value
    assert err.path == path
    assert err.line == line_of(text, needle), str(err)
    assert re.search(problem, err.problem), err.problem
    assert str(err) == f"{path}:{err.line}: {err.problem}"


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        ('theme = "light"', "theme = light", 5),
        ("[ui]", "[ui", 4),
        ("timeout = 12.5", "timeout = 12.5.1", 17),
        ('context = "host"', 'context = "host', 25),
    ],
)
def test_toml_syntax_errors_carry_the_line(tmp_path: Path, old: str, new: str, line: int) -> None:
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert info.value.line == line
    assert info.value.problem.startswith("TOML syntax error")
    assert str(info.value).startswith(f"{path}:{line}: TOML syntax error")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://pve1.example.com:8006", True),
        ("https://10.0.0.5:8006/", True),
        ("https://[fd00::5]:8006", True),
        ("https://pve1", True),
        ("http://pve1:8006", False),
        ("https://pve1:8006/api2/json", False),
        ("pve1:8006", False),
    ],
)
def test_proxmox_url_forms(tmp_path: Path, url: str, ok: bool) -> None:
    path = write(tmp_path, VALID.replace("https://pve1.example.com:8006", url))
    if ok:
        assert load_settings(path).profiles["prod"].proxmox.url == url.rstrip("/")
    else:
        with pytest.raises(ConfigError, match="must be https://HOST"):
            load_settings(path)


def test_ca_file_must_exist(tmp_path: Path) -> None:
    text = VALID.replace("timeout = 12.5", f'timeout = 12.5\nca_file = "{tmp_path / "ca.pem"}"')
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert info.value.line == line_of(text, "ca_file") and "does not exist" in info.value.problem
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert load_settings(tmp_path / "config.toml").profiles["prod"].proxmox.ca_file == tmp_path / "ca.pem"


def test_quota_thresholds_ordered(tmp_path: Path) -> None:
    text = VALID.replace('theme = "light"', 'theme = "light"\nquota_warning = 0.99')
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text))
    assert "quota_warning must be below quota_critical" in info.value.problem
    assert info.value.line == line_of(text, "[ui]")


def test_template_parses_and_its_example_profile_is_valid(tmp_path: Path) -> None:
    template = template_toml()
    assert template.startswith("# HKS TUI configuration")
    settings = load_settings(write(tmp_path, template))
    assert settings.profiles == {} and settings.ui.theme == "dark"
    # Uncomment the example (lines "# [..." and "# key = ..."): it must be a valid profile.
    uncommented = re.sub(r"(?m)^# (?=[\[a-z])", "", template)
    settings = load_settings(write(tmp_path, uncommented))
    prod = settings.profiles["prod"]
    assert prod.workspace == "prod" and str(prod.proxmox.token_secret) == "env:HKS_PVE_TOKEN"
    assert prod.regions["tokyo"].template_vmid == {"pve1": 9000, "pve2": 9001}


def test_profile_choice(tmp_path: Path) -> None:
    second = (
        VALID.split("[profiles.prod]")[1].split("[[catalog]]")[0].replace("profiles.prod.", "profiles.qa.")
    )
    text = VALID.replace('default_profile = "prod"\n', "") + "\n[profiles.qa]" + second
    settings = load_settings(write(tmp_path, text))
    assert sorted(settings.profiles) == ["prod", "qa"]
    assert settings.profile() is None  # two profiles and no default: ambiguous
    assert settings.profile("qa") is settings.profiles["qa"]
    only = load_settings(write(tmp_path, VALID.replace('default_profile = "prod"\n', "")))
    assert only.profile() is only.profiles["prod"]  # the only one


LAB_INFO = {
    "proxmox": {
        "url": "https://127.0.0.1:8006",
        "host": "127.0.0.1",
        "port": 8006,
        "token_id": "hks@pve!console",
        "token_secret": "canary-token-secret-1234567890",
        "user": "root@pam",
        "password": "pw-canary-0000",
        "ca_file": "/tmp/lab/ca.pem",
        "nodes": ["pve1", "pve2", "pve3"],
        "template_vmid": {"pve1": 9000, "pve2": 9000, "pve3": 0},
    },
    "kubeconfig": "/tmp/lab/kubeconfig",
    "host_context": "lab-host",
    "vcluster_contexts": {"dev": "lab-dev", "prod": "lab-prod"},
    "metrics_url": "http://127.0.0.1:9100/metrics",
    "prometheus_url": None,
    "k3s": {"url": "https://127.0.0.1:6443", "agent_token": "K10canary::server:abc"},
    "control_url": "http://127.0.0.1:9200/control",
}


def test_profile_from_lab(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    info = {**LAB_INFO, "proxmox": {**LAB_INFO["proxmox"], "ca_file": str(ca)}}  # type: ignore[dict-item]
    profile = profile_from_lab(info, "prod")
    assert profile.is_lab and profile.workspace == "prod" and profile.name == "lab-prod"
    assert profile.proxmox.token_secret.resolve() == "canary-token-secret-1234567890"
    assert profile.proxmox.ca_file == ca
    assert profile.host_cluster.context == "lab-host" and profile.vcluster.context == "lab-prod"
    assert profile.k3s.agent_token.resolve() == "K10canary::server:abc"
    assert profile.regions["lab"].pve_nodes == ["pve1", "pve2", "pve3"]
    assert profile.regions["lab"].template_vmid == {"pve1": 9000, "pve2": 9000}
    assert profile.prometheus_url is None
    dumped = profile.model_dump_json()
    assert "canary-token-secret" not in dumped and "K10canary" not in dumped and "canary" not in repr(profile)
    with pytest.raises(ConfigError, match="no workspace 'qa'"):
        profile_from_lab(info, "qa")
