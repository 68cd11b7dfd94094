"""Storage workflows: ``volume.create``, ``volume.expand``, ``volume.delete`` and ``backup.create``.

Importing this package registers the kinds (so ``all_kinds()`` can resume any of them). Their engine
``deps`` is a :class:`StorageDeps` (or a ``Services`` object, from which one is built).
"""

from hks_tui.workflows.registry import register_kind
from hks_tui.workflows.storage.backup_create import BACKUP_CREATE
from hks_tui.workflows.storage.common import StorageDeps, storage_deps
from hks_tui.workflows.storage.volume_change import VOLUME_DELETE, VOLUME_EXPAND
from hks_tui.workflows.storage.volume_create import VOLUME_CREATE

STORAGE_KINDS = (VOLUME_CREATE, VOLUME_EXPAND, VOLUME_DELETE, BACKUP_CREATE)
for _kind in STORAGE_KINDS:
    register_kind(_kind)

__all__ = [
    "BACKUP_CREATE",
    "STORAGE_KINDS",
    "VOLUME_CREATE",
    "VOLUME_DELETE",
    "VOLUME_EXPAND",
    "StorageDeps",
    "storage_deps",
]
