"""The guest-agent side of the world link: ``agent/exec`` of a K3s agent join script.

The handler accepts ``sh -s`` / ``/bin/sh -s`` / ``bash -s`` with the script on stdin (``input-data``) and
parses it with :mod:`hks_tui.lab.controllers.joinscript`. A correct ``K3S_URL`` (== ``world.urls["k3s"]``)
and token (== ``world.credentials.k3s_agent_token``) register the host Node when the exec finishes
(``JOIN_SECONDS`` lab seconds), which turns Ready a few seconds later. Failures exit 1 with K3s-like
messages in err-data and never create a Node."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from hks_tui.lab.controllers.common import peek
from hks_tui.lab.controllers.joinscript import JoinScriptError, parse_join_script
from hks_tui.lab.controllers.nodes import register_node
from hks_tui.lab.controllers.pvutil import parse_provider_id
from hks_tui.lab.kube.cluster import K3S_VERSION
from hks_tui.lab.pve.model import GuestExecResult

if TYPE_CHECKING:
    from hks_tui.lab.pve.model import Vm
    from hks_tui.lab.world import LabWorld

JOIN_SECONDS = 12.0
FAIL_SECONDS = 20.0
SHELLS = ("sh", "bash", "dash")

_INSTALL_OUT = f"""[INFO]  Finding release for channel stable
[INFO]  Using {K3S_VERSION} as release
[INFO]  Downloading hash https://github.com/k3s-io/k3s/releases/download/{K3S_VERSION}/sha256sum-amd64.txt
[INFO]  Downloading binary https://github.com/k3s-io/k3s/releases/download/{K3S_VERSION}/k3s
[INFO]  Verifying binary download
[INFO]  Installing k3s to /usr/local/bin/k3s
[INFO]  Skipping installation of SELinux RPM
[INFO]  Creating /usr/local/bin/kubectl symlink to k3s
[INFO]  Creating /usr/local/bin/crictl symlink to k3s
[INFO]  Creating /usr/local/bin/ctr symlink to k3s
[INFO]  Creating killall script /usr/local/bin/k3s-killall.sh
[INFO]  Creating uninstall script /usr/local/bin/k3s-agent-uninstall.sh
[INFO]  env: Creating environment file /etc/systemd/system/k3s-agent.service.env
[INFO]  systemd: Creating service file /etc/systemd/system/k3s-agent.service
[INFO]  systemd: Enabling k3s-agent unit
Created symlink /etc/systemd/system/multi-user.target.wants/k3s-agent.service → /etc/systemd/system/k3s-agent.service.
[INFO]  systemd: Starting k3s-agent
"""
_UNIT_FAILED = (
    "Job for k3s-agent.service failed because the control process exited with error code.\n"
    'See "systemctl status k3s-agent.service" and "journalctl -xeu k3s-agent.service" for details.\n'
)


_KUBELET_ALLOWED = {
    "kubernetes.io/hostname",
    "kubernetes.io/arch",
    "kubernetes.io/os",
    "beta.kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/instance-type",
    "node.kubernetes.io/instance-type",
    "failure-domain.beta.kubernetes.io/region",
    "failure-domain.beta.kubernetes.io/zone",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
}


def forbidden_labels(labels: dict[str, str]) -> list[str]:
    """Labels the kubelet refuses in ``--node-labels`` (the NodeRestriction rules: kubernetes.io/k8s.io
    namespaces except a fixed set, ``kubelet.kubernetes.io/*`` and ``node.kubernetes.io/*``)."""
    bad = []
    for key in sorted(labels):
        prefix = key.split("/", 1)[0] if "/" in key else ""
        restricted = prefix in ("kubernetes.io", "k8s.io") or prefix.endswith((".kubernetes.io", ".k8s.io"))
        allowed = key in _KUBELET_ALLOWED or prefix in ("kubelet.kubernetes.io", "node.kubernetes.io")
        if restricted and not allowed:
            bad.append(key)
    return bad


def _norm(url: str | None) -> str:
    if not url:
        return ""
    parts = urlsplit(url.strip())
    return f"{parts.scheme}://{parts.netloc}".lower()


def _pending(world: LabWorld) -> list[dict[str, Any]]:
    return world.extra.setdefault("pending_joins", [])


def process_pending_joins(world: LabWorld) -> None:
    """Register the Nodes whose join exec has finished (called by the controllers on every pass)."""
    now = world.clock.now()
    pending = _pending(world)
    due = [p for p in pending if p["at"] <= now]
    if not due:
        return
    world.extra["pending_joins"] = [p for p in pending if p["at"] > now]
    for item in due:
        vm = world.pve.vms.get(item["vmid"])
        if vm is None or vm.status != "running":
            continue
        register_node(
            world, vm, name=item["name"], labels=item["labels"], taints=item["taints"], args=item["args"]
        )


def make_join_handler(world: LabWorld) -> Any:
    def handler(vm: Vm, argv: list[str], stdin: bytes | None) -> GuestExecResult | None:
        if not argv or argv[0].rsplit("/", 1)[-1] not in SHELLS:
            return None
        if "-s" in argv[1:] and stdin:
            script = stdin.decode("utf-8", "replace")
        elif "-c" in argv[1:] and argv.index("-c") + 1 < len(argv):
            script = argv[argv.index("-c") + 1]
        else:
            return None
        if "k3s" not in script:
            return None
        return join(world, vm, script)

    return handler


def join(world: LabWorld, vm: Vm, script: str) -> GuestExecResult:
    try:
        req = parse_join_script(script)
    except JoinScriptError as exc:
        return GuestExecResult(2, "", f"sh: {exc}\n", 0.5)
    if not req.url:
        return GuestExecResult(
            1,
            _INSTALL_OUT + _UNIT_FAILED,
            'level=fatal msg="--server is required to join a cluster as an agent"\n',
            FAIL_SECONDS,
        )
    expected = world.urls.get("k3s")
    if _norm(req.url) != _norm(expected):
        target = urlsplit(req.url).netloc or req.url
        host_port = target if ":" in target else f"{target}:443"
        return GuestExecResult(
            1,
            _INSTALL_OUT + _UNIT_FAILED,
            f'level=error msg="failed to get CA certs: Get \\"{_norm(req.url)}/cacerts\\": '
            f'dial tcp {host_port}: connect: connection refused"\n',
            FAIL_SECONDS,
        )
    token = world.credentials.k3s_agent_token
    if req.token != token:
        prefix = token.split("::", 1)[0]
        if req.token and req.token.startswith(prefix + "::"):
            err = f'level=fatal msg="Error: failed to get CA certs: {_norm(req.url)}/cacerts: 401 Unauthorized"\n'
        else:
            err = (
                'level=fatal msg="Error: token CA hash does not match the Cluster CA certificate hash: '
                'server token or certificate mismatch"\n'
            )
        return GuestExecResult(1, _INSTALL_OUT + _UNIT_FAILED, err, FAIL_SECONDS)
    forbidden = forbidden_labels(req.labels)
    if forbidden:
        return GuestExecResult(
            1,
            _INSTALL_OUT + _UNIT_FAILED,
            f"level=fatal msg=\"kubelet exited: failed to validate kubelet flags: unknown 'kubernetes.io' or "
            f"'k8s.io' labels specified with --node-labels: [{' '.join(forbidden)}]\"\n",
            FAIL_SECONDS,
        )
    hostname = (vm.files.get("/etc/hostname") or vm.name.encode()).decode().strip() or vm.name
    name = req.node_name or hostname
    existing = peek(world.host.store, "nodes", name)
    if existing is not None:
        parsed = parse_provider_id(str((existing.get("spec") or {}).get("providerID", "")))
        if parsed is not None and parsed[1] != vm.vmid:
            return GuestExecResult(
                1,
                _INSTALL_OUT + _UNIT_FAILED,
                'level=fatal msg="Failed to validate connection to cluster: Node password rejected, '
                "duplicate hostname or contents of '/etc/rancher/node/password' may not match "
                'server node-passwd entry, try enabling a unique node name with the --with-node-id flag"\n',
                FAIL_SECONDS,
            )
    _pending(world).append(
        {
            "at": world.clock.now() + JOIN_SECONDS * 0.8,
            "vmid": vm.vmid,
            "name": name,
            "labels": dict(req.labels),
            "taints": list(req.taints),
            "args": list(req.args),
        }
    )
    return GuestExecResult(0, _INSTALL_OUT, "", JOIN_SECONDS)
