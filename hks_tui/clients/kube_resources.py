"""Which typed API lists each watched resource type, and the kubeconfig exec-plugin policy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hks_tui.clients.errors import ForbiddenError, InvalidError


@dataclass(frozen=True)
class ResourceType:
    """How to list/watch one resource type with the typed API classes."""

    name: str  # plural, e.g. "pods"
    api: str  # API class name, e.g. "CoreV1Api"
    snake: str  # e.g. "pod", "persistent_volume_claim"
    namespaced: bool = True

    def list_method(self, namespace: str | None) -> str:
        if not self.namespaced:
            return f"list_{self.snake}"
        if namespace:
            return f"list_namespaced_{self.snake}"
        return f"list_{self.snake}_for_all_namespaces"


RESOURCES: dict[str, ResourceType] = {
    r.name: r
    for r in (
        ResourceType("namespaces", "CoreV1Api", "namespace", namespaced=False),
        ResourceType("nodes", "CoreV1Api", "node", namespaced=False),
        ResourceType("persistentvolumes", "CoreV1Api", "persistent_volume", namespaced=False),
        ResourceType("pods", "CoreV1Api", "pod"),
        ResourceType("services", "CoreV1Api", "service"),
        ResourceType("endpoints", "CoreV1Api", "endpoints"),
        ResourceType("events", "CoreV1Api", "event"),
        ResourceType("configmaps", "CoreV1Api", "config_map"),
        ResourceType("secrets", "CoreV1Api", "secret"),
        ResourceType("persistentvolumeclaims", "CoreV1Api", "persistent_volume_claim"),
        ResourceType("resourcequotas", "CoreV1Api", "resource_quota"),
        ResourceType("deployments", "AppsV1Api", "deployment"),
        ResourceType("replicasets", "AppsV1Api", "replica_set"),
        ResourceType("statefulsets", "AppsV1Api", "stateful_set"),
        ResourceType("jobs", "BatchV1Api", "job"),
        ResourceType("cronjobs", "BatchV1Api", "cron_job"),
        ResourceType("ingresses", "NetworkingV1Api", "ingress"),
        ResourceType("storageclasses", "StorageV1Api", "storage_class", namespaced=False),
        ResourceType("poddisruptionbudgets", "PolicyV1Api", "pod_disruption_budget"),
    )
}


def check_exec_policy(kubeconfig: Path, context: str, allowed: Sequence[str]) -> None:
    """Refuse a context whose user runs an exec credential plugin that is not allow-listed."""
    import yaml

    try:
        data = yaml.safe_load(Path(kubeconfig).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidError(
            f"Read kubeconfig {kubeconfig}", str(exc), "Check the profile's kubeconfig path."
        ) from None
    contexts = {
        c.get("name"): c.get("context") or {} for c in data.get("contexts") or [] if isinstance(c, dict)
    }
    if context not in contexts:
        raise InvalidError(
            f"Use context {context!r} of {kubeconfig}",
            f"no such context (available: {', '.join(sorted(str(k) for k in contexts)) or 'none'})",
            "Fix the context name in the profile.",
        )
    user_name = contexts[context].get("user")
    users = {u.get("name"): u.get("user") or {} for u in data.get("users") or [] if isinstance(u, dict)}
    exec_spec = (users.get(user_name) or {}).get("exec")
    if exec_spec:
        command = str(exec_spec.get("command", ""))
        if command not in set(allowed):
            raise ForbiddenError(
                f"Use context {context!r} of {kubeconfig}",
                f"its user {user_name!r} runs the exec credential plugin {command!r}, which is not allow-listed",
                "Add the plugin's absolute path to the allow-list if you trust it.",
            )
