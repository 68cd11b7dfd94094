"""Strict input validators (pure: no I/O, no Textual).

Each validator returns the normalised value or raises :class:`ValidationProblem` whose message states
the rule. They run in the UI for feedback and again in the workflow layer just before the API call.
"""

from hks_tui.validation.cron import CronSchedule, next_runs, parse_cron, validate_cron
from hks_tui.validation.cron_text import describe_cron
from hks_tui.validation.errors import ValidationProblem
from hks_tui.validation.images import ImageReference, parse_image_reference, validate_git_url, validate_image
from hks_tui.validation.names import (
    instance_type_code,
    node_names,
    validate_config_key,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_env_name,
    validate_label_key,
    validate_label_value,
    validate_node_prefix,
    validate_object_name,
    validate_pve_storage_id,
    validate_pve_tag,
    validate_pve_tags,
    validate_rfc1035_label,
)
from hks_tui.validation.network import (
    check_unique_ports,
    validate_port,
    validate_port_name,
    validate_protocol,
)
from hks_tui.validation.paths import validate_mount_path, validate_volume_path
from hks_tui.validation.quantities import (
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
from hks_tui.validation.sshkeys import (
    SshPublicKey,
    encode_pve_sshkeys,
    parse_ssh_public_key,
    parse_ssh_public_keys,
)

__all__ = [
    "CronSchedule",
    "ImageReference",
    "SshPublicKey",
    "ValidationProblem",
    "bytes_to_mib",
    "check_grow_only",
    "check_unique_ports",
    "cpu_to_millicores",
    "describe_cron",
    "encode_pve_sshkeys",
    "format_bytes",
    "human_bytes",
    "instance_type_code",
    "next_runs",
    "node_names",
    "parse_cron",
    "parse_image_reference",
    "parse_quantity",
    "parse_ssh_public_key",
    "parse_ssh_public_keys",
    "quantity_to_bytes",
    "validate_config_key",
    "validate_cpu",
    "validate_cron",
    "validate_dns1123_label",
    "validate_dns1123_subdomain",
    "validate_env_name",
    "validate_git_url",
    "validate_image",
    "validate_label_key",
    "validate_label_value",
    "validate_memory",
    "validate_mount_path",
    "validate_node_prefix",
    "validate_object_name",
    "validate_port",
    "validate_port_name",
    "validate_protocol",
    "validate_pve_storage_id",
    "validate_pve_tag",
    "validate_pve_tags",
    "validate_rfc1035_label",
    "validate_size",
    "validate_volume_path",
]
