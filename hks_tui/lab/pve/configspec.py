"""Parameter verification for ``POST/PUT /nodes/{node}/qemu/{vmid}/config`` (a hand-written subset of the
PVE schema, see notes/proxmox-api.md §1.2), with PVE's wording.

:func:`verify_config_params` collects every per-parameter error and raises one
``400 Parameter verification failed.`` with the ``errors`` dict, as pve-http-server does.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping

from hks_tui.lab.pve.errors import ParamError

TAG_RE = re.compile(r"^[a-z0-9_][a-z0-9_\-+.]*$", re.IGNORECASE)
URLENCODED_RE = re.compile(r"^[-%a-zA-Z0-9_.!~*'()]*$")
DNS_LABEL = r"[a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?"
DNS_NAME_RE = re.compile(rf"^{DNS_LABEL}(\.{DNS_LABEL})*$")
CONFIG_ID_RE = re.compile(r"^[a-z][a-z_\-]*\d*$")
TRUE = ("1", "on", "yes", "true")
FALSE = ("0", "off", "no", "false")
UNDEFINED = "property is not defined in schema and the schema does not allow additional properties"


class Invalid(Exception):
    """One parameter's verification message."""


def parse_bool(value: str) -> int:
    lowered = value.strip().lower()
    if lowered in TRUE:
        return 1
    if lowered in FALSE:
        return 0
    raise Invalid(f"type check ('boolean') failed - got '{value}'")


def parse_int(value: str, minimum: int | None = None, maximum: int | None = None) -> int:
    if not re.fullmatch(r"[+-]?\d+", value.strip()):
        raise Invalid(f"type check ('integer') failed - got '{value}'")
    number = int(value)
    if minimum is not None and number < minimum:
        raise Invalid(f"value must have a minimum value of {minimum}")
    if maximum is not None and number > maximum:
        raise Invalid(f"value must have a maximum value of {maximum}")
    return number


def _int_param(minimum: int, maximum: int | None = None) -> Callable[[str], object]:
    return lambda value: parse_int(value, minimum, maximum)


def _enum(*choices: str) -> Callable[[str], object]:
    def check(value: str) -> object:
        if value not in choices:
            raise Invalid(f"value '{value}' does not have a value in the enumeration '{', '.join(choices)}'")
        return value

    return check


def _text(max_length: int) -> Callable[[str], object]:
    def check(value: str) -> object:
        if len(value) > max_length:
            raise Invalid(f"value may only be {max_length} characters long")
        return value

    return check


def _property_string(value: str, default_key: str | None) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for part in value.split(","):
        if not part:
            continue
        key, sep, item = part.partition("=")
        if not sep:
            if default_key is None or default_key in parsed:
                raise Invalid(
                    f"invalid format - value without key, but schema does not define a default key '{part}'"
                )
            key, item = default_key, part
        if key in parsed:
            raise Invalid(f"invalid format - duplicate key in comma-separated list property: {key}")
        parsed[key] = item
    return parsed


def verify_memory(value: str) -> object:
    parts = _property_string(value, "current")
    unknown = set(parts) - {"current"}
    if unknown:
        raise Invalid(f"invalid format - format error\n{sorted(unknown)[0]}: {UNDEFINED}")
    try:
        parse_int(parts.get("current", "512"), 16)
    except Invalid as exc:
        raise Invalid(f"invalid format - format error\ncurrent: {exc}") from None
    return value


def verify_agent(value: str) -> object:
    parts = _property_string(value, "enabled")
    for key, item in parts.items():
        if key in ("enabled", "fstrim_cloned_disks", "freeze-fs-on-backup", "freeze-fs"):
            try:
                parse_bool(item)
            except Invalid as exc:
                raise Invalid(f"invalid format - format error\n{key}: {exc}") from None
        elif key == "type":
            if item not in ("virtio", "isa"):
                raise Invalid(
                    f"invalid format - format error\ntype: value '{item}' does not have a value in the enumeration 'virtio, isa'"
                )
        else:
            raise Invalid(f"invalid format - format error\n{key}: {UNDEFINED}")
    return value


def verify_ipconfig(value: str) -> object:
    parts = _property_string(value, None)
    for key, item in parts.items():
        if key == "ip":
            if item != "dhcp":
                try:
                    iface = ipaddress.IPv4Interface(item)
                except ValueError:
                    iface = None
                if iface is None or "/" not in item:
                    raise Invalid(
                        f"invalid format - format error\nip: invalid format - invalid CIDR network address '{item}'"
                    )
        elif key == "gw":
            try:
                ipaddress.IPv4Address(item)
            except ValueError:
                raise Invalid(
                    "invalid format - format error\ngw: invalid format - value does not look like a valid IPv4 address"
                ) from None
        elif key == "ip6":
            if item not in ("dhcp", "auto"):
                try:
                    ipaddress.IPv6Interface(item)
                except ValueError:
                    raise Invalid(
                        f"invalid format - format error\nip6: invalid format - invalid CIDR network address '{item}'"
                    ) from None
        elif key == "gw6":
            try:
                ipaddress.IPv6Address(item)
            except ValueError:
                raise Invalid(
                    "invalid format - format error\ngw6: invalid format - value does not look like a valid IPv6 address"
                ) from None
        else:
            raise Invalid(f"invalid format - format error\n{key}: {UNDEFINED}")
    if "gw" in parts and "ip" not in parts:
        raise Invalid("invalid format - gateway specified without specifying an IP address")
    return value


def verify_sshkeys(value: str) -> object:
    if not URLENCODED_RE.match(value):
        raise Invalid(f"invalid format - invalid urlencoded string: {value}")
    return value


def verify_tags(value: str) -> object:
    tags = [t for t in re.split(r"[;,\s]+", value) if t]
    for tag in tags:
        if not TAG_RE.match(tag):
            raise Invalid(f"invalid format - invalid characters in tag '{tag}'")
    return ";".join(tags)


def verify_name(value: str) -> object:
    if not DNS_NAME_RE.match(value):
        raise Invalid("invalid format - value does not look like a valid DNS name")
    return value


def verify_configid_list(value: str) -> object:
    ids = [i for i in re.split(r"[;,\s]+", value) if i]
    for item in ids:
        if not CONFIG_ID_RE.match(item):
            raise Invalid(f"invalid format - invalid configuration ID '{item}'")
    return ids


def verify_disk(value: str) -> object:
    volume = value.split(",", 1)[0]
    if volume != "none" and ":" not in volume and volume != "cdrom":
        raise Invalid(
            f"invalid format - format error\nfile: invalid format - unable to parse volume ID '{volume}'"
        )
    return value


def verify_digest(value: str) -> object:
    if len(value) > 40:
        raise Invalid("value may only be 40 characters long")
    return value


def _bool(value: str) -> object:
    return parse_bool(value)


def _plain(value: str) -> object:
    return value


SCALARS: dict[str, Callable[[str], object]] = {
    "name": verify_name,
    "description": _text(8192),
    "cores": _int_param(1, 1024),
    "sockets": _int_param(1, 16),
    "vcpus": _int_param(1, 1024),
    "memory": verify_memory,
    "balloon": _int_param(0),
    "ciuser": _plain,
    "cipassword": _plain,
    "citype": _enum("configdrive2", "nocloud", "opennebula"),
    "ciupgrade": _bool,
    "nameserver": _plain,
    "searchdomain": _plain,
    "sshkeys": verify_sshkeys,
    "tags": verify_tags,
    "agent": verify_agent,
    "boot": _plain,
    "cicustom": _plain,
    "onboot": _bool,
    "protection": _bool,
    "numa": _bool,
    "cpu": _plain,
    "ostype": _enum(
        "other",
        "wxp",
        "w2k",
        "w2k3",
        "w2k8",
        "wvista",
        "win7",
        "win8",
        "win10",
        "win11",
        "l24",
        "l26",
        "solaris",
    ),
    "scsihw": _enum("lsi", "lsi53c810", "virtio-scsi-pci", "virtio-scsi-single", "megasas", "pvscsi"),
    "vga": _plain,
    "delete": verify_configid_list,
    "revert": verify_configid_list,
    "digest": verify_digest,
    "skiplock": _bool,
    "background_delay": _int_param(1, 30),
}
INDEXED: tuple[tuple[str, int, Callable[[str], object]], ...] = (
    ("ipconfig", 32, verify_ipconfig),
    ("net", 32, _plain),
    ("scsi", 31, verify_disk),
    ("virtio", 16, verify_disk),
    ("sata", 6, verify_disk),
    ("ide", 4, verify_disk),
    ("unused", 256, verify_disk),
    ("serial", 4, _plain),
)


def _checker(key: str) -> Callable[[str], object] | None:
    if key in SCALARS:
        return SCALARS[key]
    match = re.fullmatch(r"([a-z]+)(\d+)", key)
    if match:
        for prefix, count, check in INDEXED:
            if match.group(1) == prefix and int(match.group(2)) < count:
                return check
    return None


def verify_config_params(params: Mapping[str, str]) -> dict[str, object]:
    """Verify and normalise config parameters; raise one ParamError listing every bad parameter."""
    errors: dict[str, str] = {}
    result: dict[str, object] = {}
    for key, value in params.items():
        check = _checker(key)
        if check is None:
            errors[key] = UNDEFINED
            continue
        try:
            result[key] = check(value)
        except Invalid as exc:
            errors[key] = str(exc)
    if errors:
        raise ParamError(errors)
    return result
