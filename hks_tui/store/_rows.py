"""Row <-> value helpers shared by the repositories."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hks_tui.models.common import iso

if TYPE_CHECKING:  # sqlite_utils is imported on first use (keeps it off the console's start-up)
    import sqlite_utils
    import sqlite_utils.db


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def loads(text: str | None, default: Any = None) -> Any:
    if text is None or text == "":
        return default
    return json.loads(text)


def ts(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


def dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def dt_req(text: str) -> datetime:
    return datetime.fromisoformat(text)


def table(db: sqlite_utils.Database, name: str) -> sqlite_utils.db.Table:
    """A table of ``db`` (typed: ``db[name]`` may also be a view)."""
    return db.table(name)


def pk(value: Any) -> int:
    if value is None:
        raise RuntimeError("insert returned no primary key")
    return int(value)
