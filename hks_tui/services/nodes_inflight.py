"""Node actions in flight, from the workflow journal: ``Provisioning 3/6``, ``Stopping 2/5``, ``Deleting``.

A node workflow names its node in ``target`` (``prod-default-4``, or ``node/prod-default-4``) and its
action in ``kind`` (``node.provision``, ``node.stop``, …). Only unfinished workflows count; a paused one
(stopped in a resumable state) shows as ``Error: <action> stopped — <reason>``. No I/O besides the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hks_tui.models import StepStatus, WorkflowRecord, WorkflowStatus, WorkflowStep

# kind keyword → the verb shown in the Status column (first match wins)
ACTIONS: tuple[tuple[str, str], ...] = (
    ("provision", "Provisioning"),
    ("create", "Provisioning"),
    ("delete", "Deleting"),
    ("destroy", "Deleting"),
    ("reboot", "Rebooting"),
    ("restart", "Rebooting"),
    ("stop", "Stopping"),
    ("shutdown", "Stopping"),
    ("start", "Starting"),
    ("drain", "Draining"),
)
DONE_STEPS = (StepStatus.SUCCEEDED, StepStatus.SKIPPED)


def action_label(kind: str) -> str | None:
    """The Status verb of a node workflow kind, or None when the kind is not about a node."""
    lowered = kind.lower()
    if "node" not in lowered and "vm" not in lowered:
        return None
    return next((label for key, label in ACTIONS if key in lowered), None)


def node_of(target: str) -> str:
    return target.split("/", 1)[1] if target.startswith(("node/", "nodes/")) else target


def in_flight(
    records: Iterable[WorkflowRecord], steps: Callable[[str], Sequence[WorkflowStep]] | None = None
) -> dict[str, str]:
    """Node name → status text for every unfinished node workflow (the newest one per node wins)."""
    out: dict[str, str] = {}
    for record in records:  # newest first
        if record.status.finished or not record.target:
            continue
        label = action_label(record.kind)
        if label is None:
            continue
        name = node_of(record.target)
        if name in out:
            continue
        progress = ""
        if steps is not None:
            journal = list(steps(record.id))
            if journal:
                done = sum(1 for s in journal if s.status in DONE_STEPS)
                progress = f" {done}/{len(journal)}"
                current = next((s for s in journal if s.status not in DONE_STEPS), None)
                if current is not None and "drain" in current.name.lower() and label != "Deleting":
                    label = "Draining"  # a Stop/Reboot in its drain step
        if record.status == WorkflowStatus.PAUSED:
            why = f" — {record.error}" if record.error else ""
            out[name] = f"Error: {label.lower()} stopped{why}"
        else:
            out[name] = f"{label}{progress}"
    return out


def from_store(store: Any, workspace: str) -> dict[str, str]:
    """:func:`in_flight` over the store's unfinished workflows of ``workspace`` (empty without a store)."""
    if store is None:
        return {}
    repo = store.workflows
    return in_flight(repo.list(workspace=workspace, unfinished=True), repo.steps)
