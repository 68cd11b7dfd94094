"""Per-namespace storage ResourceQuota and the rule that quotas never exceed the provisioned total."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hks_tui.manifests.labels import MANAGED_BY, MANAGER
from hks_tui.validation import (
    ValidationProblem,
    format_bytes,
    quantity_to_bytes,
    validate_dns1123_label,
    validate_dns1123_subdomain,
    validate_size,
)

QUOTA_NAME = "hks-storage"
CLASS_KEY = "{cls}.storageclass.storage.k8s.io/requests.storage"


def build_storage_quota(
    namespace: str,
    *,
    requests_storage: str | None = None,
    persistent_volume_claims: int | None = None,
    per_class: Mapping[str, str] | None = None,
    name: str = QUOTA_NAME,
) -> dict[str, Any]:
    """A ResourceQuota with ``requests.storage``, ``persistentvolumeclaims`` and per-class storage limits."""
    hard: dict[str, str] = {}
    if requests_storage is not None:
        hard["requests.storage"] = validate_size(requests_storage, "requests.storage")
    if persistent_volume_claims is not None:
        if isinstance(persistent_volume_claims, bool) or not 0 <= persistent_volume_claims <= 100_000:
            raise ValidationProblem(
                "persistentvolumeclaims",
                persistent_volume_claims,
                "pvc-count",
                "persistentvolumeclaims must be 0–100000",
            )
        hard["persistentvolumeclaims"] = str(persistent_volume_claims)
    for cls, size in sorted((per_class or {}).items()):
        validate_dns1123_subdomain(cls, "storage class")
        hard[CLASS_KEY.format(cls=cls)] = validate_size(size, f"{cls} storage")
    if not hard:
        raise ValidationProblem("quota", None, "quota-empty", "a storage quota needs at least one limit")
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": validate_dns1123_subdomain(name),
            "namespace": validate_dns1123_label(namespace, "namespace"),
            "labels": {MANAGED_BY: MANAGER},
        },
        "spec": {"hard": hard},
    }


@dataclass(frozen=True)
class QuotaCheck:
    total_bytes: int
    ceiling_bytes: int

    @property
    def free_bytes(self) -> int:
        return self.ceiling_bytes - self.total_bytes


def check_quota_ceiling(
    quotas: Mapping[str, str | int], ceiling: str | int, field: str = "quotas"
) -> QuotaCheck:
    """The sum of per-namespace ``requests.storage`` quotas must not exceed the provisioned volume total.

    ``quotas`` maps namespace → size (quantity string or bytes). Raises with the numbers when over.
    """

    def to_bytes(value: str | int, name: str) -> int:
        return value if isinstance(value, int) else quantity_to_bytes(value, name)

    ceiling_bytes = to_bytes(ceiling, "ceiling")
    total = sum(to_bytes(size, f"quota of {ns}") for ns, size in quotas.items())
    if total > ceiling_bytes:
        parts = ", ".join(f"{ns} {format_bytes(to_bytes(size, ns))}" for ns, size in sorted(quotas.items()))
        raise ValidationProblem(
            field,
            dict(quotas),
            "quota-ceiling",
            f"the namespace storage quotas add up to {format_bytes(total)} ({parts}), more than the "
            f"{format_bytes(ceiling_bytes)} of provisioned volumes (over by {format_bytes(total - ceiling_bytes)})",
        )
    return QuotaCheck(total, ceiling_bytes)
