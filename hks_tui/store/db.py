"""The SQLite state file: connection set-up, transactions and migrations.

One connection per :class:`Store` (shared by the threads of one process under a lock); several processes
may open the same file. Settings: WAL, ``busy_timeout`` 10 s, ``synchronous=FULL``, foreign keys on, and
every write inside ``BEGIN IMMEDIATE`` (a deferred transaction that upgrades to a writer in WAL mode gets
``SQLITE_BUSY`` without waiting for the busy timeout).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hks_tui.models.common import iso, utcnow
from hks_tui.store.errors import StoreBusyError, StoreError
from hks_tui.store.migrations import LATEST_VERSION, MIGRATIONS

if TYPE_CHECKING:  # imported on first use of ``Store.db``: opening and migrating use plain sqlite3
    import sqlite_utils

BUSY_TIMEOUT_MS = 10_000
_BEGIN_ATTEMPTS = 5


def _split_sql(script: str) -> list[str]:
    """Split a migration script into complete statements (trigger bodies keep their inner ``;``)."""
    statements: list[str] = []
    buffer = ""
    for piece in script.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):
            if buffer.strip(" \n\t;"):
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip(" \n\t;"):
        raise ValueError(f"incomplete SQL statement in migration: {buffer.strip()[:60]}")
    return statements


def _explain(path: Path, exc: BaseException) -> StoreError:
    text = str(exc)
    lowered = text.lower()
    if any(marker in lowered for marker in ("not a database", "malformed", "corrupt")):
        return StoreError(
            f"the state database {path} is corrupt or not an SQLite database ({text}); "
            f"move it aside (mv {path} {path}.bad) to start with a fresh one"
        )
    if "unable to open" in lowered or "readonly" in lowered or "read-only" in lowered:
        return StoreError(
            f"cannot write the state database {path} ({text}); "
            "check the directory's permissions or choose another with --data-dir / HKS_DATA_DIR"
        )
    if "locked" in lowered or "busy" in lowered:
        return StoreBusyError(
            f"the state database {path} stayed locked by another process for too long ({text})"
        )
    return StoreError(f"state database {path}: {text}")


class Store:
    """The console's SQLite state. Open with :meth:`open`; repositories hang off it as attributes."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        from hks_tui.store.repos_activity import (
            AlertRepository,
            BillingRepository,
            ChatRepository,
            MetricSampleRepository,
        )
        from hks_tui.store.repos_audit import AuditRepository
        from hks_tui.store.repos_catalog import InstanceTypeRepository, WorkspaceRepository
        from hks_tui.store.repos_workflows import WorkflowRepository

        self.path = path
        self._conn = conn
        self._lock = threading.RLock()
        self._db: sqlite_utils.Database | None = None
        self.workspaces = WorkspaceRepository(self)
        self.instance_types = InstanceTypeRepository(self)
        self.workflows = WorkflowRepository(self)
        self.billing = BillingRepository(self)
        self.alerts = AlertRepository(self)
        self.chat = ChatRepository(self)
        self.audit = AuditRepository(self)
        self.metric_samples = MetricSampleRepository(self)
        self._closed = False

    @property
    def db(self) -> sqlite_utils.Database:
        """The sqlite-utils view of the connection (built on first use)."""
        if self._db is None:
            import sqlite_utils

            with self._lock:
                if self._db is None:
                    self._db = sqlite_utils.Database(self._conn)
        return self._db

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating if needed) the database at ``path`` and run pending migrations."""
        path = Path(path).expanduser()
        parent = path.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the data directory {parent} ({exc.strerror or exc}); "
                "choose another with --data-dir / HKS_DATA_DIR"
            ) from None
        if path.exists() and not path.is_file():
            raise StoreError(f"the state database path {path} exists but is not a file")
        if not os.access(parent, os.W_OK | os.X_OK) or (
            path.exists() and not os.access(path, os.R_OK | os.W_OK)
        ):
            raise StoreError(
                f"cannot write the state database {path}: permission denied; "
                "fix the permissions or choose another directory with --data-dir / HKS_DATA_DIR"
            )
        # Several processes opening a fresh file at once race on the switch to WAL and on the first
        # migration; SQLite reports some of those collisions as "locked" without waiting, so retry them.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        attempt = 0
        while True:
            try:
                return cls._open_once(path)
            except StoreBusyError:
                attempt += 1
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(0.01 * attempt, 0.2))

    @classmethod
    def _open_once(cls, path: Path) -> Store:
        try:
            conn = sqlite3.connect(
                str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise _explain(path, exc) from None
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(
                    f"the state database {path} cannot use WAL mode (got {mode!r}); use a local disk"
                )
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("PRAGMA foreign_keys = ON")
            store = cls(path, conn)
            store._migrate()
        except StoreError:
            conn.close()
            raise
        except sqlite3.Error as exc:
            conn.close()
            raise _explain(path, exc) from None
        return store

    def _migrate(self) -> None:
        with self._transaction():
            db = self._conn
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version "
                "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            current = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
            if current > LATEST_VERSION:
                raise StoreError(
                    f"the state database {self.path} has schema version {current}, newer than this "
                    f"hks-tui understands ({LATEST_VERSION}); upgrade hks-tui or use another --data-dir"
                )
            for version, description, script in MIGRATIONS:
                if version <= current:
                    continue
                for statement in _split_sql(script):
                    db.execute(statement)
                db.execute(
                    "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)",
                    (version, description, iso(utcnow())),
                )

    # -- transactions ----------------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction (``BEGIN IMMEDIATE``); commits on success, rolls back on error.

        Nested use joins the outer transaction.
        """
        self._check_open()
        db = self.db  # built outside the transaction (sqlite-utils sets a pragma on creation)
        with self._transaction():
            yield db

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` on the raw connection (joins an open transaction)."""
        self._check_open()
        with self._lock:
            if self._conn.in_transaction:
                yield
                return
            for attempt in range(_BEGIN_ATTEMPTS):
                try:
                    self._conn.execute("BEGIN IMMEDIATE")
                    break
                except sqlite3.OperationalError as exc:
                    # busy_timeout already waited; a bounded extra retry covers pathological contention.
                    if (
                        "locked" not in str(exc) and "busy" not in str(exc)
                    ) or attempt == _BEGIN_ATTEMPTS - 1:
                        raise _explain(self.path, exc) from None
                    time.sleep(0.05 * (attempt + 1))
            try:
                yield
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
            else:
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise _explain(self.path, exc) from None

    @contextmanager
    def read(self) -> Iterator[sqlite_utils.Database]:
        """Serialise this process's access for a read (WAL readers never block writers)."""
        self._check_open()
        with self._lock:
            yield self.db

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[dict[str, Any]]:
        """Rows of a read query as dicts."""
        with self.read():
            cursor = self._conn.execute(sql, params)
            columns = [c[0] for c in cursor.description or ()]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]

    @property
    def schema_version(self) -> int:
        return int(self.query("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version")[0]["v"])

    def integrity_check(self) -> str:
        return str(self.query("PRAGMA integrity_check")[0]["integrity_check"])

    def pragma(self, name: str) -> Any:
        if not name.replace("_", "").isalpha():
            raise ValueError(f"bad pragma name {name!r}")
        return next(iter(self.query(f"PRAGMA {name}")[0].values()))

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the state database {self.path} is closed")

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
