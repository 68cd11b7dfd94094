"""The node workflow kinds: ``node.start``, ``node.stop``, ``node.reboot`` and ``node.delete``.

Every step is idempotent or has a ``check()``; a failed step pauses the workflow in a resumable state
(never a VM left running un-drained: the power-off steps come after the drain). Registered on import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hks_tui.workflows.definition import Backoff, OnFailure, Step, WorkflowKind
from hks_tui.workflows.nodes import kube_steps as k
from hks_tui.workflows.nodes import ledger
from hks_tui.workflows.nodes import pve_steps as p
from hks_tui.workflows.nodes.drain import drain
from hks_tui.workflows.registry import register_kind

# Proxmox calls are never retried by the transport for POST/DELETE: the engine is the retry layer.
PVE_ATTEMPTS = 6
BACKOFF = Backoff(base=0.5, factor=2.0, cap=8.0)


def _describe(verb: str) -> Any:
    def describe(params: Mapping[str, Any]) -> str:
        force = " (force: PDBs skipped)" if params.get("force") else ""
        return f"{verb} node {params.get('node', '?')} in {params.get('workspace', '?')}{force}"

    return describe


LOCATE = Step("locate", run=p.locate, title="Find the VM", max_attempts=PVE_ATTEMPTS, backoff=BACKOFF)
CORDON = Step(
    "cordon",
    run=k.cordon,
    check=k.check_cordoned,
    compensate=k.uncordon,  # a cancelled action leaves the node schedulable again
    title="Cordon",
    max_attempts=5,
    backoff=BACKOFF,
)
DRAIN = Step("drain", run=drain, title="Drain (Eviction API, PDBs honoured)", max_attempts=3, backoff=BACKOFF)
SHUTDOWN = Step(
    "shutdown",
    run=p.shutdown_vm,
    check=p.check_stopped,
    title="Shut down (forced stop after the timeout)",
    max_attempts=PVE_ATTEMPTS,
    backoff=BACKOFF,
)
START = Step(
    "start",
    run=p.start_vm,
    check=p.check_started,
    title="Start VM",
    max_attempts=PVE_ATTEMPTS,
    backoff=BACKOFF,
)
REBOOT = Step(
    "reboot",
    run=p.reboot_vm,
    check=p.check_rebooted,
    title="Reboot VM",
    max_attempts=PVE_ATTEMPTS,
    backoff=BACKOFF,
)
AGENT = Step("agent", run=p.wait_agent, title="Guest agent up", max_attempts=PVE_ATTEMPTS, backoff=BACKOFF)
READY = Step("ready", run=k.wait_ready, title="Node Ready", max_attempts=4, backoff=BACKOFF)
NOT_READY = Step("not_ready", run=k.wait_not_ready, title="Node NotReady", max_attempts=4, backoff=BACKOFF)
UNCORDON = Step(
    "uncordon", run=k.uncordon, check=k.check_uncordoned, title="Uncordon", max_attempts=5, backoff=BACKOFF
)
DESTROY = Step(
    "destroy",
    run=p.destroy_vm,
    check=p.check_destroyed,
    title="Destroy the VM (purge)",
    delete=True,
    max_attempts=PVE_ATTEMPTS,
    backoff=BACKOFF,
)
DELETE_NODE = Step(
    "delete_node",
    run=k.delete_node_object,
    check=k.check_node_deleted,
    title="Delete the Node object",
    delete=True,
    max_attempts=5,
    backoff=BACKOFF,
)
CLOSE_BILLING = Step(
    "close_billing", run=ledger.close_billing, title="Close the billing line", max_attempts=3
)
UPDATE_PLAN = Step(
    "update_plan",
    run=ledger.update_plan,
    title="Plan change when last",
    max_attempts=PVE_ATTEMPTS,
    backoff=BACKOFF,
)

NODE_START = register_kind(
    WorkflowKind(
        "node.start",
        [LOCATE, START, AGENT, READY, UNCORDON],
        on_failure=OnFailure.PAUSE,
        title="Start node",
        describe=_describe("Start"),
    )
)
NODE_STOP = register_kind(
    WorkflowKind(
        "node.stop",
        [LOCATE, CORDON, DRAIN, SHUTDOWN, NOT_READY],
        on_failure=OnFailure.PAUSE,
        title="Stop node",
        describe=_describe("Stop"),
    )
)
NODE_REBOOT = register_kind(
    WorkflowKind(
        "node.reboot",
        [LOCATE, CORDON, DRAIN, REBOOT, AGENT, READY, UNCORDON],
        on_failure=OnFailure.PAUSE,
        title="Reboot node",
        describe=_describe("Reboot"),
    )
)
NODE_DELETE = register_kind(
    WorkflowKind(
        "node.delete",
        [LOCATE, CORDON, DRAIN, SHUTDOWN, DESTROY, DELETE_NODE, CLOSE_BILLING, UPDATE_PLAN],
        on_failure=OnFailure.PAUSE,
        title="Delete node",
        describe=_describe("Delete"),
    )
)
NODE_KINDS: dict[str, WorkflowKind] = {
    "start": NODE_START,
    "stop": NODE_STOP,
    "reboot": NODE_REBOOT,
    "delete": NODE_DELETE,
}
