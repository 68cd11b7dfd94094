"""Workspaces, instance types and prices."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from hks_tui.models import InstanceType, Plan, Workspace, iso, utcnow
from hks_tui.store._rows import table

if TYPE_CHECKING:
    from hks_tui.store.db import Store


class WorkspaceRepository:
    """Known workspaces (a cache of what the clusters say, plus the plan)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def upsert(self, workspace: Workspace) -> None:
        row = workspace.model_dump(mode="json") | {"updated_at": iso(utcnow())}
        with self._store.write() as db:
            table(db, "workspaces").upsert(row, pk="name")

    def get(self, name: str) -> Workspace | None:
        rows = self._store.query("SELECT * FROM workspaces WHERE name = ?", (name,))
        return self._model(rows[0]) if rows else None

    def list(self) -> list[Workspace]:
        return [self._model(r) for r in self._store.query("SELECT * FROM workspaces ORDER BY name")]

    def delete(self, name: str) -> bool:
        with self._store.write() as db:
            return db.execute("DELETE FROM workspaces WHERE name = ?", (name,)).rowcount > 0

    @staticmethod
    def _model(row: dict[str, object]) -> Workspace:
        return Workspace(
            name=str(row["name"]),
            org=str(row["org"]),
            plan=Plan(str(row["plan"])),
            host_context=str(row["host_context"]),
            vcluster_context=str(row["vcluster_context"]),
        )


class InstanceTypeRepository:
    """The instance-type catalog (ordered) and unit prices such as storage per GiB-month."""

    STORAGE_PRICE_KEY = "storage_gib_month"

    def __init__(self, store: Store) -> None:
        self._store = store

    def replace_all(self, catalog: Iterable[InstanceType]) -> None:
        """Replace the catalog with ``catalog`` (in order) in one transaction."""
        rows = [it.model_dump() | {"position": i} for i, it in enumerate(catalog)]
        with self._store.write() as db:
            db.execute("DELETE FROM instance_types")
            if rows:
                table(db, "instance_types").insert_all(rows, pk="name")

    def upsert(self, instance_type: InstanceType) -> None:
        with self._store.write() as db:
            existing = db.execute(
                "SELECT position FROM instance_types WHERE name = ?", (instance_type.name,)
            ).fetchone()
            if existing is not None:
                position = existing[0]
            else:
                position = db.execute("SELECT COALESCE(MAX(position) + 1, 0) FROM instance_types").fetchone()[
                    0
                ]
            table(db, "instance_types").upsert(instance_type.model_dump() | {"position": position}, pk="name")

    def get(self, name: str) -> InstanceType | None:
        rows = self._store.query("SELECT * FROM instance_types WHERE name = ?", (name,))
        return self._model(rows[0]) if rows else None

    def list(self) -> list[InstanceType]:
        rows = self._store.query("SELECT * FROM instance_types ORDER BY position, name")
        return [self._model(r) for r in rows]

    def set_price(self, key: str, value: float, unit: str = "") -> None:
        with self._store.write() as db:
            table(db, "prices").upsert({"key": key, "value": float(value), "unit": unit}, pk="key")

    def get_price(self, key: str) -> float | None:
        rows = self._store.query("SELECT value FROM prices WHERE key = ?", (key,))
        return float(rows[0]["value"]) if rows else None

    def set_storage_price(self, per_gib_month: float) -> None:
        self.set_price(self.STORAGE_PRICE_KEY, per_gib_month, "GiB-month")

    def storage_price(self) -> float | None:
        return self.get_price(self.STORAGE_PRICE_KEY)

    @staticmethod
    def _model(row: dict[str, object]) -> InstanceType:
        return InstanceType.model_validate({k: v for k, v in row.items() if k != "position"})
