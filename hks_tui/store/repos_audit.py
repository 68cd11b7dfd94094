"""The audit log: append-only (triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from hks_tui.models import AuditEntry
from hks_tui.store._rows import dt_req, dumps, loads, ts

if TYPE_CHECKING:
    from hks_tui.store.db import Store


class AuditRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def append(self, entry: AuditEntry) -> int:
        """Store ``entry`` (its params are already redacted by the model) and return the new row id."""
        row = {
            "ts": ts(entry.ts),
            "actor": entry.actor,
            "profile": entry.profile,
            "action": entry.action,
            "target": entry.target,
            "params": dumps(entry.params),
            "outcome": entry.outcome,
            "detail": entry.detail,
            "upid": entry.upid,
        }
        with self._store.write() as db:
            cursor = db.execute(
                "INSERT INTO audit (ts, actor, profile, action, target, params, outcome, detail, upid) "
                "VALUES (:ts, :actor, :profile, :action, :target, :params, :outcome, :detail, :upid)",
                row,
            )
            rowid = cursor.lastrowid
        assert rowid is not None
        return int(rowid)

    def list(
        self,
        limit: int | None = 100,
        since: datetime | None = None,
        action: str | None = None,
        target: str | None = None,
        outcome: str | None = None,
        before_id: int | None = None,
    ) -> list[AuditEntry]:
        """Newest first. ``action`` matches exactly or as a prefix ending in ``*`` (``vm.*``);
        ``target`` matches as a substring."""
        clauses: list[str] = []
        params: list[Any] = []
        if since is not None:
            clauses.append("ts >= ?")
            params.append(ts(since))
        if action:
            if action.endswith("*"):
                clauses.append("action LIKE ? ESCAPE '\\'")
                params.append(_like_escape(action[:-1]) + "%")
            else:
                clauses.append("action = ?")
                params.append(action)
        if target:
            clauses.append("target LIKE ? ESCAPE '\\'")
            params.append("%" + _like_escape(target) + "%")
        if outcome:
            clauses.append("outcome = ?")
            params.append(outcome)
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        sql = "SELECT * FROM audit"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [self._model(r) for r in self._store.query(sql, tuple(params))]

    def count(self) -> int:
        return int(self._store.query("SELECT COUNT(*) AS n FROM audit")[0]["n"])

    @staticmethod
    def _model(row: dict[str, Any]) -> AuditEntry:
        return AuditEntry(
            id=row["id"],
            ts=dt_req(row["ts"]),
            actor=row["actor"],
            profile=row["profile"],
            action=row["action"],
            target=row["target"],
            params=loads(row["params"], {}),
            outcome=row["outcome"],
            detail=row["detail"],
            upid=row["upid"],
        )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
