"""SQLite state (sqlite-utils): schema + forward migrations, repositories, journal, audit, history.

Usage::

    store = Store.open(db_path())
    store.audit.append(AuditEntry(action="vm.start", target="qemu/101"))
    store.close()
"""

from hks_tui.store.db import Store
from hks_tui.store.errors import StoreBusyError, StoreError
from hks_tui.store.migrations import LATEST_VERSION

__all__ = ["LATEST_VERSION", "Store", "StoreBusyError", "StoreError"]
