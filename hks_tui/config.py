"""Settings: ``$XDG_CONFIG_HOME/hks-tui/config.toml`` plus ``HKS_*`` environment overrides.

Environment variables override the file, nested with ``__``: ``HKS_UI__THEME=light``,
``HKS_DEFAULT_PROFILE=prod``, ``HKS_PROFILES__PROD__PROXMOX__TIMEOUT=30``; a whole complex setting takes
JSON (``HKS_UI='{"theme": "light"}'``). Names are case-insensitive; variables that name no setting
(``HKS_DATA_DIR``, ``HKS_PROFILE`` …) are ignored here. The same rules as pydantic-settings' environment
source, parsed here with tomllib + json so that loading the settings stays cheap at start-up.

Every problem becomes a :class:`ConfigError` naming the file, the line and the problem. No secret value
is ever held here: secrets are :class:`~hks_tui.secretref.SecretRef` references, resolved on use.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from hks_tui import paths
from hks_tui.config_sources import (
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    deep_merge,
    env_source,
    is_complex,
    line_for,
)
from hks_tui.config_template import TEMPLATE
from hks_tui.models.workspace import DEFAULT_CATALOG, DEFAULT_STORAGE_PRICE_GIB_MONTH, InstanceType
from hks_tui.secretref import SecretRef

__all__ = [
    "ConfigError",
    "K3sSettings",
    "KubeContext",
    "Profile",
    "ProxmoxSettings",
    "Region",
    "Settings",
    "UiSettings",
    "load_settings",
    "profile_from_lab",
    "template_toml",
]

_NAME = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"


class ConfigError(Exception):
    """The configuration cannot be used. ``str()`` is ``file:line: problem`` (``file: problem`` without
    a line)."""

    def __init__(self, path: Path | str, line: int | None, problem: str) -> None:
        self.path = Path(path) if not isinstance(path, Path) else path
        self.line = line
        self.problem = problem
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else f"{self.path}"
        return f"{where}: {self.problem}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProxmoxSettings(_Strict):
    url: str
    token_id: str = Field(pattern=r"^[^@!\s]+@[^@!\s]+![A-Za-z][A-Za-z0-9._-]*$")
    token_secret: SecretRef
    ca_file: Path | None = None
    fingerprint: str | None = None  # SHA-256 of the server certificate, hex (colons allowed)
    insecure: bool = False
    timeout: float = Field(default=10.0, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not re.match(r"^https://(\[[0-9A-Fa-f:.]+\]|[^/\s:\[\]]+)(:\d{1,5})?/?$", value):
            raise ValueError("must be https://HOST[:PORT] (for example https://pve1.example.com:8006)")
        return value.rstrip("/")

    @field_validator("ca_file")
    @classmethod
    def _ca_exists(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        value = value.expanduser()
        if not value.is_file():
            raise ValueError(f"CA file {value} does not exist")
        return value

    @field_validator("fingerprint")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.replace(":", "").strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", digits):
            raise ValueError("must be a SHA-256 fingerprint: 64 hex digits, colons allowed")
        return ":".join(digits[i : i + 2] for i in range(0, 64, 2)).upper()


class Region(_Strict):
    pve_nodes: list[str] = Field(min_length=1)
    storage: str = "local-lvm"
    bridge: str = "vmbr0"
    template_vmid: dict[str, int] = Field(default_factory=dict)  # PVE node -> cloud-init template VMID

    @model_validator(mode="after")
    def _templates_on_nodes(self) -> Region:
        unknown = sorted(set(self.template_vmid) - set(self.pve_nodes))
        if unknown:
            raise ValueError(f"template_vmid names nodes not in pve_nodes: {', '.join(unknown)}")
        for node, vmid in self.template_vmid.items():
            if not 100 <= vmid <= 999_999_999:
                raise ValueError(f"template_vmid for {node} must be a VMID between 100 and 999999999")
        return self


class KubeContext(_Strict):
    kubeconfig: Path
    context: str = Field(min_length=1)

    @field_validator("kubeconfig")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()


class K3sSettings(_Strict):
    url: str = Field(pattern=r"^https://\S+$")
    agent_token: SecretRef


class Profile(_Strict):
    name: str = Field(pattern=_NAME)
    org: str = ""
    workspace: str = Field(pattern=_NAME)
    proxmox: ProxmoxSettings
    regions: dict[str, Region] = Field(default_factory=dict)
    host_cluster: KubeContext
    vcluster: KubeContext
    k3s: K3sSettings
    prometheus_url: str | None = Field(default=None, pattern=r"^https?://\S+$")
    is_lab: bool = False


class UiSettings(_Strict):
    theme: Literal["dark", "light"] = "dark"
    quota_warning: float = Field(default=0.80, gt=0, le=1)
    quota_critical: float = Field(default=0.95, gt=0, le=1)

    @model_validator(mode="after")
    def _ordered(self) -> UiSettings:
        if self.quota_warning >= self.quota_critical:
            raise ValueError("quota_warning must be below quota_critical")
        return self


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    profiles: dict[str, Profile] = Field(default_factory=dict)
    default_profile: str | None = None
    ui: UiSettings = Field(default_factory=UiSettings)
    catalog: list[InstanceType] = Field(default_factory=lambda: list(DEFAULT_CATALOG))
    storage_price_gib_month: float = Field(default=DEFAULT_STORAGE_PRICE_GIB_MONTH, ge=0)

    @model_validator(mode="before")
    @classmethod
    def _name_profiles(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("profiles"), dict):
            profiles = {}
            for key, value in data["profiles"].items():
                if isinstance(value, dict) and "name" not in value:
                    value = {**value, "name": key}
                profiles[key] = value
            data = {**data, "profiles": profiles}
        return data

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for key, profile in self.profiles.items():
            if profile.name != key:
                raise ValueError(
                    f"profile {key!r} has name {profile.name!r}; drop the name or make them equal"
                )
        if self.default_profile is not None and self.default_profile not in self.profiles:
            known = ", ".join(sorted(self.profiles)) or "none defined"
            raise ValueError(f"default_profile {self.default_profile!r} is not a profile ({known})")
        names = [it.name for it in self.catalog]
        if len(set(names)) != len(names):
            raise ValueError("catalog has duplicate instance-type names")
        return self

    def profile(self, name: str | None = None) -> Profile | None:
        """The named profile, else the default one, else the only one; None when ambiguous or empty."""
        if name is not None:
            return self.profiles.get(name)
        if self.default_profile is not None:
            return self.profiles[self.default_profile]
        if len(self.profiles) == 1:
            return next(iter(self.profiles.values()))
        return None


# -- loading ---------------------------------------------------------------------------------------


def _describe(error: Any) -> str:
    loc = ".".join(str(p) for p in error["loc"])
    msg = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"{loc}: required setting is missing"
    if error["type"] == "extra_forbidden":
        return f"{loc}: unknown setting"
    return f"{loc}: {msg}" if loc else msg


def _loc_from_message(message: str) -> tuple[str | int, ...]:
    """A location for a whole-document error: the first top-level setting its message names."""
    for name in Settings.model_fields:
        if name in message:
            return (name,)
    return ()


def _env_data(file: Path) -> dict[str, Any]:
    """The ``HKS_*`` variables that name a setting, as nested data (see the module docstring)."""
    fields = Settings.model_fields
    out: dict[str, Any] = {}
    for name in sorted(os.environ, key=lambda n: n.count(ENV_NESTED_DELIMITER)):
        if not name.upper().startswith(ENV_PREFIX):
            continue
        keys = name[len(ENV_PREFIX) :].lower().split(ENV_NESTED_DELIMITER)
        if keys[0] not in fields or any(not k for k in keys):
            continue
        raw = os.environ[name]
        value: Any = raw
        if len(keys) == 1 and is_complex(fields[keys[0]].annotation):
            try:
                value = json.loads(raw)
            except ValueError as exc:
                raise ConfigError(
                    file, None, f"environment override: {name} must be JSON for {keys[0]} ({exc})"
                ) from None
        elif len(keys) > 1 and raw.lstrip()[:1] in ("{", "["):
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw
        update: Any = value
        for key in reversed(keys):
            update = {key: update}
        out = deep_merge(out, update)
    return out


def load_settings(path: Path | None = None) -> Settings:
    """Load the configuration file (default :func:`hks_tui.paths.config_file`) and ``HKS_*`` env.

    A missing default file means "no configuration" (defaults); a missing explicit ``path`` is an error.
    Raises :class:`ConfigError`.
    """
    explicit = path is not None
    file = Path(path).expanduser() if path is not None else paths.config_file()
    text = ""
    data: dict[str, Any] = {}
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(file, None, "file not found (create one with `hks-tui config init`)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(file, None, f"cannot read the file: {exc}") from None
    if text:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"\(at line (\d+), column \d+\)", str(exc))
            line = getattr(exc, "lineno", None) or (int(m.group(1)) if m else None)
            problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", getattr(exc, "msg", None) or str(exc))
            raise ConfigError(file, line, f"TOML syntax error: {problem}") from None
    data = deep_merge(data, _env_data(file))
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        # An unknown key (a typo) usually explains the "missing" error next to it: report it first.
        errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
        first = errors[0]
        loc = tuple(first["loc"]) or _loc_from_message(str(first["msg"]))
        extra = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        env_name = env_source(loc)
        if env_name is not None:
            raise ConfigError(
                file, None, f"{_describe(first)} (from environment variable {env_name}){extra}"
            ) from None
        line = line_for(text, loc) if text else None
        raise ConfigError(file, line, _describe(first) + extra) from None


def template_toml() -> str:
    """A commented configuration template (written by ``hks-tui config init``)."""
    return TEMPLATE


# -- lab-derived profiles --------------------------------------------------------------------------


def profile_from_lab(info: dict[str, Any], workspace: str) -> Profile:
    """A profile for ``workspace`` of a running lab, from its ``lab.json`` dict.

    Secrets become in-memory literals (never written anywhere). Raises :class:`ConfigError` when the
    workspace is not one of the lab's vClusters.
    """
    source = Path(str(info.get("state_dir", "lab.json")))
    contexts: dict[str, str] = dict(info.get("vcluster_contexts") or {})
    if workspace not in contexts:
        known = ", ".join(sorted(contexts)) or "none"
        raise ConfigError(source, None, f"the lab has no workspace {workspace!r} (known: {known})")
    pve = info["proxmox"]
    kubeconfig = Path(info["kubeconfig"])
    regions: dict[str, Region] = {}
    for name, region in (info.get("regions") or {}).items():
        regions[name] = Region.model_validate(region)
    if not regions:
        nodes = list(pve.get("nodes") or [])
        templates = {
            n: int(v) for n, v in (pve.get("template_vmid") or {}).items() if int(v) >= 100 and n in nodes
        }
        if nodes:
            regions["lab"] = Region(pve_nodes=nodes, template_vmid=templates)
    k3s = info.get("k3s") or {}
    return Profile(
        name=f"lab-{workspace}",
        org=str(info.get("org") or "lab"),
        workspace=workspace,
        proxmox=ProxmoxSettings(
            url=str(pve["url"]),
            token_id=str(pve["token_id"]),
            token_secret=SecretRef.literal(str(pve["token_secret"])),
            ca_file=Path(pve["ca_file"]) if pve.get("ca_file") else None,
        ),
        regions=regions,
        host_cluster=KubeContext(kubeconfig=kubeconfig, context=str(info["host_context"])),
        vcluster=KubeContext(kubeconfig=kubeconfig, context=contexts[workspace]),
        k3s=K3sSettings(
            url=str(k3s.get("url") or pve["url"]),
            agent_token=SecretRef.literal(str(k3s.get("agent_token", ""))),
        ),
        prometheus_url=info.get("prometheus_url") or None,
        is_lab=True,
    )
