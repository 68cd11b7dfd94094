"""Reusable Textual widgets. They know nothing of HKS: generic names, theme variables only.

* :class:`ResourceTable` (+ :class:`Column`, :class:`Row`, :class:`RowAction`) — virtualised keyed table
* :class:`StepTimeline` (+ :class:`Step`) — steps with state, elapsed time and expandable detail
* :class:`ConfirmDialog` — modal confirmation, typed-name gating for destructive actions
* :class:`QuotaGauge` — used/limit bar with warning/critical thresholds
* :class:`UsageChart` — history chart with a one-line fallback in tiny spaces
* :class:`LogView` — ring-buffered, batch-flushed log lines with levels, JSON, search and follow
* :class:`ActionMenu` (+ :class:`MenuItem`) — the small modal menu the table uses
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hks_tui.widgets.action_menu import ActionMenu, MenuItem
    from hks_tui.widgets.confirm_dialog import ConfirmDialog
    from hks_tui.widgets.log_view import LogView
    from hks_tui.widgets.quota_gauge import QuotaGauge
    from hks_tui.widgets.resource_table import ResourceTable, RowAction
    from hks_tui.widgets.step_timeline import Step, StepTimeline
    from hks_tui.widgets.table_model import Column, Row, natural_sort_key
    from hks_tui.widgets.usage_chart import UsageChart

# Exports load their module on first use: a screen that needs a gauge does not pay for the chart library.
_EXPORTS: dict[str, str] = {
    "ActionMenu": "action_menu",
    "MenuItem": "action_menu",
    "ConfirmDialog": "confirm_dialog",
    "LogView": "log_view",
    "QuotaGauge": "quota_gauge",
    "ResourceTable": "resource_table",
    "RowAction": "resource_table",
    "Step": "step_timeline",
    "StepTimeline": "step_timeline",
    "Column": "table_model",
    "Row": "table_model",
    "natural_sort_key": "table_model",
    "UsageChart": "usage_chart",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "ActionMenu",
    "Column",
    "ConfirmDialog",
    "LogView",
    "MenuItem",
    "QuotaGauge",
    "ResourceTable",
    "Row",
    "RowAction",
    "Step",
    "StepTimeline",
    "UsageChart",
    "natural_sort_key",
]
