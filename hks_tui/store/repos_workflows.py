"""The workflow journal: workflows, their steps, and the runner lease (one driver per workflow)."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from hks_tui.models import StepStatus, WorkflowRecord, WorkflowStatus, WorkflowStep, utcnow
from hks_tui.store._rows import dt, dt_req, dumps, loads, table, ts

if TYPE_CHECKING:
    from hks_tui.store.db import Store

_FINISHED = tuple(s.value for s in WorkflowStatus if s.finished)


class WorkflowRepository:
    def __init__(self, store: Store) -> None:
        self._store = store

    # -- workflows -------------------------------------------------------------------------------
    def create(self, record: WorkflowRecord, steps: Iterable[WorkflowStep] = ()) -> None:
        """Insert a workflow and its planned steps in one transaction (fails if the id exists)."""
        with self._store.write() as db:
            table(db, "workflows").insert(self._row(record), pk="id")
            for step in steps:
                table(db, "workflow_steps").insert(self._step_row(step), pk=("workflow_id", "idx"))

    def get(self, workflow_id: str) -> WorkflowRecord | None:
        rows = self._store.query("SELECT * FROM workflows WHERE id = ?", (workflow_id,))
        return self._model(rows[0]) if rows else None

    def list(
        self,
        *,
        workspace: str | None = None,
        status: WorkflowStatus | str | None = None,
        unfinished: bool = False,
        limit: int | None = None,
    ) -> list[WorkflowRecord]:
        """Newest first."""
        clauses: list[str] = []
        params: list[Any] = []
        if workspace is not None:
            clauses.append("workspace = ?")
            params.append(workspace)
        if status is not None:
            clauses.append("status = ?")
            params.append(str(status))
        if unfinished:
            clauses.append(f"status NOT IN ({', '.join('?' for _ in _FINISHED)})")
            params.extend(_FINISHED)
        sql = "SELECT * FROM workflows" + (" WHERE " + " AND ".join(clauses) if clauses else "")
        sql += " ORDER BY created_at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [self._model(r) for r in self._store.query(sql, tuple(params))]

    def set_status(self, workflow_id: str, status: WorkflowStatus | str, error: str = "") -> None:
        with self._store.write() as db:
            cursor = db.execute(
                "UPDATE workflows SET status = ?, error = ?, updated_at = ? WHERE id = ?",
                (str(WorkflowStatus(status)), error, ts(utcnow()), workflow_id),
            )
            if cursor.rowcount == 0:
                raise KeyError(f"no workflow {workflow_id!r}")

    def update_params(self, workflow_id: str, params: dict[str, Any]) -> None:
        with self._store.write() as db:
            db.execute(
                "UPDATE workflows SET params = ?, updated_at = ? WHERE id = ?",
                (dumps(params), ts(utcnow()), workflow_id),
            )

    def delete(self, workflow_id: str) -> None:
        with self._store.write() as db:
            db.execute("DELETE FROM workflow_steps WHERE workflow_id = ?", (workflow_id,))
            db.execute("DELETE FROM workflows WHERE id = ?", (workflow_id,))

    # -- steps -----------------------------------------------------------------------------------
    def save_step(self, step: WorkflowStep) -> None:
        """Insert or replace one step (journal it before and after each external call)."""
        with self._store.write() as db:
            table(db, "workflow_steps").upsert(self._step_row(step), pk=("workflow_id", "idx"))
            db.execute("UPDATE workflows SET updated_at = ? WHERE id = ?", (ts(utcnow()), step.workflow_id))

    def steps(self, workflow_id: str) -> builtins.list[WorkflowStep]:
        rows = self._store.query(
            "SELECT * FROM workflow_steps WHERE workflow_id = ? ORDER BY idx", (workflow_id,)
        )
        return [self._step_model(r) for r in rows]

    # -- lease -----------------------------------------------------------------------------------
    def acquire_lease(
        self, workflow_id: str, owner: str, ttl: timedelta, *, now: datetime | None = None
    ) -> bool:
        """Take (or renew) the lease if it is free, expired, or already ours. Atomic across processes."""
        now = now or utcnow()
        with self._store.write() as db:
            cursor = db.execute(
                "UPDATE workflows SET lease_owner = ?, lease_expires = ? WHERE id = ? AND "
                "(lease_owner IS NULL OR lease_owner = ? OR lease_expires IS NULL OR lease_expires < ?)",
                (owner, ts(now + ttl), workflow_id, owner, ts(now)),
            )
            return cursor.rowcount == 1

    def renew_lease(
        self, workflow_id: str, owner: str, ttl: timedelta, *, now: datetime | None = None
    ) -> bool:
        """Extend our lease; False if we lost it (someone else took it after it expired)."""
        now = now or utcnow()
        with self._store.write() as db:
            cursor = db.execute(
                "UPDATE workflows SET lease_expires = ? WHERE id = ? AND lease_owner = ?",
                (ts(now + ttl), workflow_id, owner),
            )
            return cursor.rowcount == 1

    def release_lease(self, workflow_id: str, owner: str) -> bool:
        with self._store.write() as db:
            cursor = db.execute(
                "UPDATE workflows SET lease_owner = NULL, lease_expires = NULL WHERE id = ? AND lease_owner = ?",
                (workflow_id, owner),
            )
            return cursor.rowcount == 1

    # -- mapping ---------------------------------------------------------------------------------
    @staticmethod
    def _row(r: WorkflowRecord) -> dict[str, Any]:
        return {
            "id": r.id,
            "kind": r.kind,
            "workspace": r.workspace,
            "target": r.target,
            "status": str(r.status),
            "params": dumps(r.params),
            "created_at": ts(r.created_at),
            "updated_at": ts(r.updated_at),
            "lease_owner": r.lease_owner,
            "lease_expires": ts(r.lease_expires),
            "error": r.error,
        }

    @staticmethod
    def _model(row: dict[str, Any]) -> WorkflowRecord:
        return WorkflowRecord(
            id=row["id"],
            kind=row["kind"],
            workspace=row["workspace"],
            target=row["target"],
            status=WorkflowStatus(row["status"]),
            params=loads(row["params"], {}),
            created_at=dt_req(row["created_at"]),
            updated_at=dt_req(row["updated_at"]),
            lease_owner=row["lease_owner"],
            lease_expires=dt(row["lease_expires"]),
            error=row["error"],
        )

    @staticmethod
    def _step_row(s: WorkflowStep) -> dict[str, Any]:
        return {
            "workflow_id": s.workflow_id,
            "idx": s.index,
            "name": s.name,
            "status": str(s.status),
            "attempts": s.attempts,
            "started_at": ts(s.started_at),
            "finished_at": ts(s.finished_at),
            "detail": s.detail,
            "upid": s.upid,
            "result": dumps(s.result),
        }

    @staticmethod
    def _step_model(row: dict[str, Any]) -> WorkflowStep:
        return WorkflowStep(
            workflow_id=row["workflow_id"],
            index=row["idx"],
            name=row["name"],
            status=StepStatus(row["status"]),
            attempts=row["attempts"],
            started_at=dt(row["started_at"]),
            finished_at=dt(row["finished_at"]),
            detail=row["detail"],
            upid=row["upid"],
            result=loads(row["result"], {}),
        )
