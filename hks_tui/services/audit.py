"""Audit log reads for the Audit section and ``hks-tui audit list``."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from hks_tui.models import AuditEntry
from hks_tui.services.executor import ServiceExecutor


class AuditService:
    def __init__(self, store: Any, executor: ServiceExecutor) -> None:
        self.store = store
        self.executor = executor

    async def list(
        self,
        limit: int | None = 100,
        since: datetime | None = None,
        action: str | None = None,
        target: str | None = None,
        outcome: str | None = None,
    ) -> builtins.list[AuditEntry]:
        """Newest first (see ``store.audit.list``)."""
        return await self.executor.run(
            self.store.audit.list, limit=limit, since=since, action=action, target=target, outcome=outcome
        )
