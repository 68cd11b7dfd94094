"""One simulated Kubernetes cluster: the host K3s cluster or a tenant vCluster."""

from __future__ import annotations

from typing import Any

from hks_tui.lab.clock import LabClock
from hks_tui.lab.kube.logs import PodLogs
from hks_tui.lab.kube.pdb import install_pdb_status
from hks_tui.lab.kube.store import KubeStore

K3S_VERSION = "v1.31.4+k3s1"
VCLUSTER_VERSION = "v1.31.4"  # vCluster's default distro (k8s) serves upstream version strings


def version_info(git_version: str) -> dict[str, Any]:
    """A complete ``/version`` answer (every field the kubernetes client's VersionInfo requires)."""
    core = git_version.lstrip("v").split("+", 1)[0]
    major, minor, _ = ([*core.split("."), "0", "0"])[:3]
    return {
        "major": major,
        "minor": minor,
        "gitVersion": git_version,
        "gitCommit": "a3a3e8f3c1b4d7d0b9a1e2f3c4d5e6f708192a3b",
        "gitTreeState": "clean",
        "buildDate": "2024-12-12T02:31:48Z",
        "goVersion": "go1.22.9",
        "compiler": "gc",
        "platform": "linux/amd64",
    }


class KubeCluster:
    def __init__(self, name: str, kind: str, clock: LabClock, workspace: str | None = None) -> None:
        if kind not in ("host", "vcluster"):
            raise ValueError(f"unknown cluster kind {kind!r}")
        self.name = name
        self.kind = kind
        self.clock = clock
        self.workspace = workspace
        self.store = KubeStore(clock)
        self.logs = PodLogs(clock)
        self.version = version_info(K3S_VERSION if kind == "host" else VCLUSTER_VERSION)
        self.store.add_listener(self._drop_logs_of_deleted_pods)
        install_pdb_status(self.store)
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create("namespaces", {"metadata": {"name": ns}})
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create("serviceaccounts", {"metadata": {"name": "default", "namespace": ns}})
        self.store.create(
            "services",
            {
                "metadata": {
                    "name": "kubernetes",
                    "namespace": "default",
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                },
                "spec": {
                    "clusterIP": "10.43.0.1",
                    "ports": [{"name": "https", "port": 443, "targetPort": 6443}],
                },
            },
        )
        self.store.add_listener(self._default_service_account)

    def _drop_logs_of_deleted_pods(self, event_type: str, resource: str, obj: dict[str, Any]) -> None:
        if resource == "pods" and event_type == "DELETED":
            meta = obj["metadata"]
            self.logs.drop(meta.get("namespace", ""), meta["name"])

    def _default_service_account(self, event_type: str, resource: str, obj: dict[str, Any]) -> None:
        if resource == "namespaces" and event_type == "ADDED":
            name = obj["metadata"]["name"]
            if self.store.find("serviceaccounts", "default", name) is None:
                self.store.create("serviceaccounts", {"metadata": {"name": "default", "namespace": name}})

    def __repr__(self) -> str:
        return f"KubeCluster({self.name!r}, {self.kind!r}, rv={self.store.resource_version})"
