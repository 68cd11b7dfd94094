"""Kubernetes and Proxmox naming rules (apimachinery ``validation.go``; pve-common ``JSONSchema.pm``).

Every validator strips surrounding whitespace and returns the value; it never silently lower-cases, so
what the user sees is what gets sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from hks_tui.validation.errors import ValidationProblem, require_text

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_RE = re.compile(_LABEL)
DNS1123_SUBDOMAIN_RE = re.compile(rf"{_LABEL}(\.{_LABEL})*")
RFC1035_LABEL_RE = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
LABEL_VALUE_RE = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?")
QUALIFIED_NAME_RE = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
ENV_NAME_RE = re.compile(r"[-._a-zA-Z][-._a-zA-Z0-9]*")
SHELL_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
CONFIG_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")
PVE_TAG_RE = re.compile(r"[a-z0-9_][a-z0-9_\-+.]*", re.IGNORECASE)
PVE_STORAGE_ID_RE = re.compile(r"[a-z][a-z0-9\-_.]*[a-z0-9]", re.IGNORECASE)

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
CRONJOB_NAME_MAX = 52

DNS1123_LABEL_RULE = (
    "must be a DNS-1123 label: lower-case letters, digits and '-', start and end with an alphanumeric, "
    "at most 63 characters"
)
DNS1123_SUBDOMAIN_RULE = (
    "must be a DNS-1123 subdomain: lower-case letters, digits, '-' and '.', start and end with an "
    "alphanumeric, at most {max} characters"
)
RFC1035_LABEL_RULE = (
    "must be an RFC-1035 label: lower-case letters, digits and '-', start with a letter, end with an "
    "alphanumeric, at most 63 characters"
)


def _name(value: Any, field: str, pattern: re.Pattern[str], limit: int, rule: str, text: str) -> str:
    name = require_text(value, field)
    if len(name) > limit:
        raise ValidationProblem(field, value, rule, f"{field} {text} (it has {len(name)})")
    if not pattern.fullmatch(name):
        hint = " (upper-case letters are not allowed)" if pattern.fullmatch(name.lower()) else ""
        raise ValidationProblem(field, value, rule, f"{field} {text}{hint}")
    return name


def validate_dns1123_label(value: Any, field: str = "name", *, max_length: int = DNS1123_LABEL_MAX) -> str:
    """Namespaces, node names, container names, most single-segment names."""
    rule = DNS1123_LABEL_RULE.replace("63", str(max_length))
    return _name(value, field, DNS1123_LABEL_RE, max_length, "dns1123-label", rule)


def validate_dns1123_subdomain(
    value: Any, field: str = "name", *, max_length: int = DNS1123_SUBDOMAIN_MAX
) -> str:
    """Most Kubernetes object names (Deployments, ConfigMaps, PVs, StorageClasses…)."""
    rule = DNS1123_SUBDOMAIN_RULE.format(max=max_length)
    return _name(value, field, DNS1123_SUBDOMAIN_RE, max_length, "dns1123-subdomain", rule)


def validate_rfc1035_label(value: Any, field: str = "name") -> str:
    """Service names (must start with a letter)."""
    return _name(value, field, RFC1035_LABEL_RE, 63, "rfc1035-label", RFC1035_LABEL_RULE)


# Which rule each kind's name follows (apimachinery: ValidateServiceName, ValidateNamespaceName, …).
_KIND_RULES: dict[str, str] = {
    "Namespace": "label",
    "Node": "subdomain",
    "Service": "rfc1035",
    "CronJob": "cronjob",
    "Container": "label",
    "StatefulSet": "label",
}


def validate_object_name(value: Any, kind: str, field: str = "name") -> str:
    """The name of a Kubernetes object of ``kind``, with that kind's rule (subdomain by default)."""
    rule = _KIND_RULES.get(kind, "subdomain")
    if rule == "label":
        return validate_dns1123_label(value, field)
    if rule == "rfc1035":
        return validate_rfc1035_label(value, field)
    if rule == "cronjob":
        return validate_dns1123_subdomain(value, field, max_length=CRONJOB_NAME_MAX)
    return validate_dns1123_subdomain(value, field)


def validate_label_value(value: Any, field: str = "label value") -> str:
    if not isinstance(value, str):
        raise ValidationProblem(field, value, "type", f"{field} must be text")
    rule = (
        "must be empty or at most 63 characters of letters, digits, '-', '_' and '.', starting and ending "
        "with a letter or digit"
    )
    if len(value) > 63 or not LABEL_VALUE_RE.fullmatch(value):
        raise ValidationProblem(field, value, "label-value", f"{field} {rule}")
    return value


def validate_label_key(value: Any, field: str = "label key") -> str:
    key = require_text(value, field)
    prefix, _, name = key.rpartition("/")
    if "/" in key and not prefix:
        raise ValidationProblem(field, value, "label-key", f"{field} has an empty prefix before '/'")
    if prefix:
        validate_dns1123_subdomain(prefix, f"{field} prefix")
    if len(name) > 63 or not QUALIFIED_NAME_RE.fullmatch(name):
        raise ValidationProblem(
            field,
            value,
            "label-key",
            f"{field} must be [prefix/]name where name is at most 63 letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit",
        )
    return key


def validate_env_name(value: Any, field: str = "environment variable", *, shell_safe: bool = False) -> str:
    """Environment variable names.

    Default: Kubernetes' classic rule (apimachinery ``IsEnvVarName``): ``[-._a-zA-Z][-._a-zA-Z0-9]*`` and not
    ``.``, ``..`` or starting with ``..``. We do not accept the relaxed KEP-4369 rule (any printable ASCII
    but ``=``) because older clusters refuse it. ``shell_safe=True`` enforces the C-identifier rule
    ``[A-Za-z_][A-Za-z0-9_]*`` for names a shell script must read (backup functions).
    """
    name = require_text(value, field)
    if shell_safe:
        if not SHELL_ENV_NAME_RE.fullmatch(name):
            raise ValidationProblem(
                field,
                value,
                "env-name-shell",
                f"{field} must be a C identifier: letters, digits and '_', not starting with a digit",
            )
        return name
    if not ENV_NAME_RE.fullmatch(name) or name in (".", "..") or name.startswith(".."):
        raise ValidationProblem(
            field,
            value,
            "env-name",
            f"{field} must consist of letters, digits, '_', '-' and '.', must not start with a digit, "
            "and must not be '.', '..' or start with '..'",
        )
    return name


def validate_config_key(value: Any, field: str = "key") -> str:
    """ConfigMap/Secret keys (apimachinery ``IsConfigMapKey``)."""
    key = require_text(value, field)
    if len(key) > 253 or not CONFIG_KEY_RE.fullmatch(key) or key in (".", "..") or key.startswith(".."):
        raise ValidationProblem(
            field,
            value,
            "config-key",
            f"{field} must be at most 253 letters, digits, '-', '_' and '.', and not '.', '..' or start with '..'",
        )
    return key


def validate_pve_tag(value: Any, field: str = "tag") -> str:
    """One Proxmox VE tag (``$PVE_TAG_RE``: ``[a-z0-9_][a-z0-9_\\-+.]*``, case-insensitive)."""
    tag = require_text(value, field)
    if not PVE_TAG_RE.fullmatch(tag):
        raise ValidationProblem(
            field,
            value,
            "pve-tag",
            f"{field} must start with a letter, digit or '_' and contain only letters, digits, '_', '-', "
            "'+' and '.' (no '=', '/' or spaces)",
        )
    return tag


def validate_pve_tags(values: Iterable[Any], field: str = "tags") -> str:
    """Validate each tag and return them ``;``-joined as Proxmox stores them (duplicates dropped)."""
    seen: list[str] = []
    for item in values:
        tag = validate_pve_tag(item, field)
        if tag.lower() not in (t.lower() for t in seen):
            seen.append(tag)
    return ";".join(seen)


def validate_pve_storage_id(value: Any, field: str = "storage") -> str:
    """A Proxmox storage ID (pve-common ``pve_verify_storage_id``), e.g. ``local-lvm``, ``shared-nfs``."""
    storage = require_text(value, field)
    if not PVE_STORAGE_ID_RE.fullmatch(storage):
        raise ValidationProblem(
            field,
            value,
            "pve-storage-id",
            f"{field} must be a Proxmox storage ID: a letter, then letters, digits, '-', '_' and '.', "
            "ending with a letter or digit",
        )
    return storage


def instance_type_code(instance_type: str) -> str:
    """``"M-Type"`` → ``"m"``; ``"gpu-large"`` → ``"gpu-large"`` (the middle part of node names)."""
    code = instance_type.strip().lower()
    if code.endswith("-type"):
        code = code[: -len("-type")]
    return re.sub(r"[^a-z0-9-]+", "-", code).strip("-") or "node"


def node_names(prefix: str, instance_type: str, count: int, *, start: int = 1) -> list[str]:
    """The final node names ``prefix-type-N`` for N in ``start … start+count-1``."""
    code = instance_type_code(instance_type)
    return [f"{prefix}-{code}-{n}" for n in range(start, start + count)]


def validate_node_prefix(
    value: Any,
    instance_type: str,
    count: int,
    *,
    existing: Iterable[str] = (),
    start: int = 1,
    field: str = "node name prefix",
) -> list[str]:
    """Validate a node-name prefix and return the previewed final names.

    The prefix is a DNS-1123 label; every final name ``prefix-type-N`` must also be one (≤63 characters)
    and must not collide with an existing VM or Node name.
    """
    prefix = validate_dns1123_label(value, field)
    names = node_names(prefix, instance_type, count, start=start)
    longest = max(names, key=len) if names else prefix
    if len(longest) > DNS1123_LABEL_MAX:
        room = DNS1123_LABEL_MAX - (len(longest) - len(prefix))
        raise ValidationProblem(
            field,
            value,
            "node-name-length",
            f"{field} is too long: the final name {longest!r} has {len(longest)} characters, node names are "
            f"at most 63 (use at most {max(room, 0)} characters for the prefix)",
        )
    taken = {name.lower() for name in existing}
    clashes = [name for name in names if name in taken]
    if clashes:
        raise ValidationProblem(
            field,
            value,
            "node-name-unique",
            f"{field} gives names that already exist: {', '.join(clashes)}; choose another prefix",
        )
    return names
