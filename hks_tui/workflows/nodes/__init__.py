"""Node power and delete workflows (``node.start|stop|reboot|delete``), registered on import.

Usage::

    from hks_tui.workflows.nodes import NodeDeps, submit_action
    engine = WorkflowEngine(store, all_kinds(), deps=services)       # or deps=NodeDeps(pve, host, store)
    record = submit_action(engine, node_deps(services), "stop", "prod", "prod-default-1")
    final = await engine.run(record.id)
"""

from hks_tui.workflows.nodes.actions import (
    ACTIONS,
    ActionPlan,
    NodeActionError,
    allow_force,
    plan_action,
    submit_action,
)
from hks_tui.workflows.nodes.common import DEFAULT_TIMING, NodeDeps, node_deps
from hks_tui.workflows.nodes.drain import DrainBlockedError
from hks_tui.workflows.nodes.kinds import NODE_DELETE, NODE_KINDS, NODE_REBOOT, NODE_START, NODE_STOP

__all__ = [
    "ACTIONS",
    "DEFAULT_TIMING",
    "NODE_DELETE",
    "NODE_KINDS",
    "NODE_REBOOT",
    "NODE_START",
    "NODE_STOP",
    "ActionPlan",
    "DrainBlockedError",
    "NodeActionError",
    "NodeDeps",
    "allow_force",
    "node_deps",
    "plan_action",
    "submit_action",
]
