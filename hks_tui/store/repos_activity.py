"""Billing lines, alerts, chat messages and sampled metric history."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hks_tui.models import Alert, AlertState, BillingLine, ChatMessage, MetricSample, utcnow
from hks_tui.store._rows import dt, dumps, loads, pk, table, ts

if TYPE_CHECKING:
    from hks_tui.store.db import Store


def _where(filters: dict[tuple[str, str], Any]) -> tuple[str, list[Any]]:
    clauses = [f"{column} {op} ?" for (column, op), value in filters.items() if value is not None]
    params = [value for value in filters.values() if value is not None]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class BillingRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, line: BillingLine) -> int:
        row = line.model_dump(exclude={"id"}) | {
            "period_start": ts(line.period_start),
            "period_end": ts(line.period_end),
        }
        with self._store.write() as db:
            return pk(table(db, "billing_lines").insert(row).last_pk)

    def list(
        self, workspace: str | None = None, since: datetime | None = None, until: datetime | None = None
    ) -> list[BillingLine]:
        where, params = _where(
            {
                ("workspace", "="): workspace,
                ("period_start", ">="): ts(since),
                ("period_start", "<"): ts(until),
            }
        )
        rows = self._store.query(
            f"SELECT * FROM billing_lines{where} ORDER BY period_start, id", tuple(params)
        )
        return [
            BillingLine.model_validate(
                r | {"period_start": dt(r["period_start"]), "period_end": dt(r["period_end"])}
            )
            for r in rows
        ]

    def total(self, workspace: str, since: datetime | None = None, until: datetime | None = None) -> float:
        return round(sum(line.amount for line in self.list(workspace, since, until)), 6)


class AlertRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def raise_alert(self, alert: Alert) -> int:
        """Insert a firing alert, or refresh the firing one with the same non-empty fingerprint."""
        row = self._row(alert)
        with self._store.write() as db:
            if alert.fingerprint:
                existing = db.execute(
                    "SELECT id FROM alerts WHERE fingerprint = ? AND state != 'resolved' ORDER BY id DESC LIMIT 1",
                    (alert.fingerprint,),
                ).fetchone()
                if existing is not None:
                    db.execute(
                        "UPDATE alerts SET ts = ?, severity = ?, message = ? WHERE id = ?",
                        (row["ts"], row["severity"], row["message"], existing[0]),
                    )
                    return int(existing[0])
            return pk(table(db, "alerts").insert(row).last_pk)

    def set_state(self, alert_id: int, state: AlertState) -> None:
        column = {"acknowledged": "acknowledged_at", "resolved": "resolved_at"}.get(state)
        with self._store.write() as db:
            if column:
                db.execute(
                    f"UPDATE alerts SET state = ?, {column} = ? WHERE id = ?", (state, ts(utcnow()), alert_id)
                )
            else:
                db.execute("UPDATE alerts SET state = ? WHERE id = ?", (state, alert_id))

    def resolve_fingerprint(self, fingerprint: str) -> int:
        with self._store.write() as db:
            return db.execute(
                "UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE fingerprint = ? AND state != 'resolved'",
                (ts(utcnow()), fingerprint),
            ).rowcount

    def get(self, alert_id: int) -> Alert | None:
        rows = self._store.query("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return self._model(rows[0]) if rows else None

    def list(
        self,
        workspace: str | None = None,
        state: AlertState | None = None,
        active_only: bool = False,
        limit: int | None = 500,
    ) -> list[Alert]:
        where, params = _where({("workspace", "="): workspace, ("state", "="): state})
        if active_only:
            where += (" AND" if where else " WHERE") + " state != 'resolved'"
        sql = f"SELECT * FROM alerts{where} ORDER BY id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [self._model(r) for r in self._store.query(sql, tuple(params))]

    @staticmethod
    def _row(a: Alert) -> dict[str, Any]:
        return a.model_dump(exclude={"id"}) | {
            "ts": ts(a.ts),
            "acknowledged_at": ts(a.acknowledged_at),
            "resolved_at": ts(a.resolved_at),
        }

    @staticmethod
    def _model(r: dict[str, Any]) -> Alert:
        return Alert.model_validate(
            r
            | {
                "ts": dt(r["ts"]),
                "acknowledged_at": dt(r["acknowledged_at"]),
                "resolved_at": dt(r["resolved_at"]),
            }
        )


class ChatRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add(self, message: ChatMessage) -> int:
        row = message.model_dump(exclude={"id"}) | {
            "ts": ts(message.ts),
            "action": dumps(message.action) if message.action is not None else None,
        }
        with self._store.write() as db:
            return pk(table(db, "chat_messages").insert(row).last_pk)

    def list(
        self, workspace: str | None = None, limit: int = 200, after_id: int | None = None
    ) -> list[ChatMessage]:
        """The most recent ``limit`` messages, oldest first."""
        where, params = _where({("workspace", "="): workspace, ("id", ">"): after_id})
        rows = self._store.query(
            f"SELECT * FROM chat_messages{where} ORDER BY id DESC LIMIT ?", (*params, int(limit))
        )
        return [
            ChatMessage.model_validate(r | {"ts": dt(r["ts"]), "action": loads(r["action"])})
            for r in reversed(rows)
        ]


class MetricSampleRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    def add_many(self, samples: Iterable[MetricSample]) -> int:
        rows = [s.model_dump() | {"ts": ts(s.ts), "labels": dumps(s.labels)} for s in samples]
        if not rows:
            return 0
        with self._store.write() as db:
            table(db, "metric_samples").insert_all(rows)
        return len(rows)

    def series(
        self,
        metric: str,
        target: str,
        since: datetime | None = None,
        until: datetime | None = None,
        workspace: str | None = None,
    ) -> list[MetricSample]:
        """Samples of one series, oldest first."""
        where, params = _where(
            {
                ("metric", "="): metric,
                ("target", "="): target,
                ("workspace", "="): workspace,
                ("ts", ">="): ts(since),
                ("ts", "<"): ts(until),
            }
        )
        rows = self._store.query(f"SELECT * FROM metric_samples{where} ORDER BY ts", tuple(params))
        return [
            MetricSample.model_validate(r | {"ts": dt(r["ts"]), "labels": loads(r["labels"], {})})
            for r in rows
        ]

    def prune(self, older_than: datetime) -> int:
        with self._store.write() as db:
            return db.execute("DELETE FROM metric_samples WHERE ts < ?", (ts(older_than),)).rowcount
