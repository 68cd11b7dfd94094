"""The lab's kubeconfig (one context per cluster) and private (0600, atomic) file writes."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write atomically with mode 0600 (lab.json and the kubeconfig carry credentials)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def context_names(cluster_names: Iterable[str]) -> dict[str, str]:
    """Cluster name → kubeconfig context: ``hks-lab-host`` and ``hks-lab-vc-<workspace>``."""
    return {
        name: "hks-lab-host" if name == "host" else f"hks-lab-vc-{name}" for name in sorted(cluster_names)
    }


def write_kubeconfig(
    path: Path, urls: dict[str, str], contexts: dict[str, str], ca_file: Path, token: str
) -> Path:
    """One kubeconfig with a cluster, a context each and one bearer-token user; current context = host."""
    import yaml

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [
            {"name": contexts[name], "cluster": {"server": urls[name], "certificate-authority": str(ca_file)}}
            for name in sorted(urls)
        ],
        "users": [{"name": "hks-lab-admin", "user": {"token": token}}],
        "contexts": [
            {"name": contexts[name], "context": {"cluster": contexts[name], "user": "hks-lab-admin"}}
            for name in sorted(urls)
        ],
        "current-context": contexts["host"],
    }
    write_private(path, yaml.safe_dump(config, sort_keys=False))
    return path
