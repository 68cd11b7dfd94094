"""Store errors: one readable line, no traceback needed to understand them."""

from __future__ import annotations


class StoreError(Exception):
    """The state database cannot be opened or used (unwritable directory, corrupt file, bad migration)."""


class StoreBusyError(StoreError):
    """Another process kept the database locked longer than the busy timeout."""
