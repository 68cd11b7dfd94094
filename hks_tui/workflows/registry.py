"""The process-wide catalogue of workflow kinds.

Each feature module declares its kinds and registers them when imported (``register_kind(PROVISION)``);
the app and the headless ``hks-tui workflows resume`` build their engine with ``all_kinds()`` so that any
journaled workflow, whoever started it, can be resumed.
"""

from __future__ import annotations

import threading

from hks_tui.workflows.definition import WorkflowKind

_KINDS: dict[str, WorkflowKind] = {}
_LOCK = threading.Lock()


def register_kind(kind: WorkflowKind) -> WorkflowKind:
    """Add ``kind`` (idempotent for the same object; a different kind with the same name is an error)."""
    with _LOCK:
        existing = _KINDS.get(kind.name)
        if existing is not None and existing is not kind:
            raise ValueError(f"another workflow kind is already registered as {kind.name!r}")
        _KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    with _LOCK:
        _KINDS.pop(name, None)


def all_kinds() -> list[WorkflowKind]:
    with _LOCK:
        return [_KINDS[name] for name in sorted(_KINDS)]
