"""Quota/usage history: Prometheus ``query_range`` when the profile has a URL, else the samples the
console stores in SQLite (``metric_samples``) at each quota refresh. No Textual imports."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from hks_tui.clients.errors import HksError
from hks_tui.models import MetricSample, utcnow
from hks_tui.services.clients import ClientSet
from hks_tui.services.executor import ServiceExecutor

log = logging.getLogger(__name__)

SAMPLE_METRIC = "quota_ratio"
RETENTION = timedelta(days=14)  # samples older than this are pruned
PRUNE_EVERY = timedelta(hours=1)
# ResourceQuota resource names behind each gauge (the first one found wins)
QUOTA_RESOURCES: dict[str, tuple[str, ...]] = {
    "cpu": ("requests.cpu", "cpu"),
    "memory": ("requests.memory", "memory"),
    "pods": ("pods", "count/pods"),
}

Source = Literal["prometheus", "sqlite"]


class HistoryPoint(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    ts: datetime
    ratio: float  # used / hard (0..1+)
    used: float | None = None
    hard: float | None = None


class History(BaseModel):
    model_config = ConfigDict(frozen=True, defer_build=True)

    workspace: str
    resource: str  # cpu | memory | pods
    source: Source
    points: list[HistoryPoint]
    note: str = ""  # e.g. why Prometheus was not used


def step_seconds(window: timedelta, max_points: int = 120) -> int:
    """A range-query step giving at most ``max_points`` points (≥ 15 s)."""
    return max(15, int(window.total_seconds() // max_points) or 15)


class UsageHistory:
    """``record(...)`` at each refresh; ``history(...)`` for the charts."""

    def __init__(
        self,
        clients: ClientSet,
        executor: ServiceExecutor,
        store: Any,
        *,
        retention: timedelta = RETENTION,
        prune_every: timedelta = PRUNE_EVERY,
    ) -> None:
        self.clients = clients
        self.executor = executor
        self.store = store
        self.retention = retention
        self.prune_every = prune_every
        self._last_prune: datetime | None = None

    @property
    def has_prometheus(self) -> bool:
        return bool(getattr(getattr(self.clients, "profile", None), "prometheus_url", None))

    def prometheus_selector(self, workspace: str) -> str:
        """Label matchers selecting the workspace's series (the vCluster's kube-state-metrics)."""
        return f'cluster="{workspace}"'

    def record(
        self,
        workspace: str,
        gauges: Sequence[tuple[str, float, float]],
        *,
        plan: str = "",
        ts: datetime | None = None,
    ) -> int:
        """Store one sample per ``(resource, used, hard)``; returns how many were stored."""
        if self.store is None:
            return 0
        when = ts or utcnow()
        samples = [
            MetricSample(
                ts=when,
                workspace=workspace,
                metric=SAMPLE_METRIC,
                target=resource,
                value=(used / hard) if hard else 0.0,
                labels={"used": repr(float(used)), "hard": repr(float(hard)), "plan": plan},
            )
            for resource, used, hard in gauges
        ]
        try:
            stored = int(self.store.metric_samples.add_many(samples))
            if self._last_prune is None or when - self._last_prune >= self.prune_every:
                self._last_prune = when
                self.store.metric_samples.prune(when - self.retention)
            return stored
        except Exception as exc:  # history is best effort; the gauges still show
            log.warning("could not store quota samples of %s: %s", workspace, exc)
            return 0

    async def history(
        self,
        workspace: str,
        resource: str,
        window: timedelta = timedelta(hours=1),
        *,
        end: datetime | None = None,
        prometheus: bool = True,
    ) -> History:
        return await self.executor.run(self.history_sync, workspace, resource, window, end, prometheus)

    def history_sync(
        self,
        workspace: str,
        resource: str,
        window: timedelta = timedelta(hours=1),
        end: datetime | None = None,
        prometheus: bool = True,
    ) -> History:
        """Prometheus when configured (and ``prometheus``), else — or when it fails or has no series —
        the SQLite samples; ``note`` says why Prometheus was not used."""
        if resource not in QUOTA_RESOURCES:
            raise HksError(
                f"Show the {resource} history of {workspace}",
                f"unknown resource (known: {', '.join(QUOTA_RESOURCES)})",
            )
        end = end or utcnow()
        start = end - window
        note = ""
        if prometheus and self.has_prometheus:
            try:
                points = self._prometheus(workspace, resource, start, end, step_seconds(window))
            except HksError as err:
                note = f"Prometheus unavailable ({err.why or err}); showing the console's own samples"
                log.info("%s", note)
            else:
                if points:
                    return History(workspace=workspace, resource=resource, source="prometheus", points=points)
                note = "Prometheus has no quota series for this workspace; showing the console's own samples"
        return History(
            workspace=workspace,
            resource=resource,
            source="sqlite",
            points=self._samples(workspace, resource, start, end),
            note=note,
        )

    def _samples(self, workspace: str, resource: str, start: datetime, end: datetime) -> list[HistoryPoint]:
        if self.store is None:
            return []
        series = self.store.metric_samples.series(
            SAMPLE_METRIC, resource, since=start, until=end + timedelta(microseconds=1), workspace=workspace
        )
        return [
            HistoryPoint(
                ts=s.ts, ratio=s.value, used=_float(s.labels.get("used")), hard=_float(s.labels.get("hard"))
            )
            for s in series
        ]

    def _prometheus(
        self, workspace: str, resource: str, start: datetime, end: datetime, step: int
    ) -> list[HistoryPoint]:
        names = "|".join(n.replace(".", "\\\\.") for n in QUOTA_RESOURCES[resource])
        sel = f'{self.prometheus_selector(workspace)},resource=~"{names}"'
        used_q = f'sum(kube_resourcequota{{{sel},type="used"}})'
        hard_q = f'sum(kube_resourcequota{{{sel},type="hard"}})'
        metrics = self.clients.metrics
        what = f"Read the {resource} quota history of {workspace}"
        used = _series(metrics.query_range(used_q, start, end, f"{step}s", what=what))
        hard = _series(metrics.query_range(hard_q, start, end, f"{step}s", what=what))
        points = []
        for stamp in sorted(used):
            u, h = used[stamp], hard.get(stamp)
            if h is None:
                continue
            points.append(
                HistoryPoint(
                    ts=datetime.fromtimestamp(stamp, tz=end.tzinfo), ratio=u / h if h else 0.0, used=u, hard=h
                )
            )
        return points


def _series(result: list[dict[str, Any]]) -> dict[float, float]:
    out: dict[float, float] = {}
    for row in result:
        for stamp, value in row.get("values") or []:
            try:
                out[float(stamp)] = out.get(float(stamp), 0.0) + float(value)
            except (TypeError, ValueError):
                continue
    return out


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
