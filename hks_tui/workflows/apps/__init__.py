"""Application workflows (deploy, scale, set image, restart all, delete) and the pure app state views.

Importing this package registers the kinds in the process-wide registry (``all_kinds()``), so any
journaled app workflow can be resumed by an engine built with ``deps=services``.
"""

from hks_tui.workflows.apps.deploy import APP_DEPLOY, APP_DEPLOY_KEEP, DEPLOY, DEPLOY_KEEP
from hks_tui.workflows.apps.rollout import RolloutFailed, RolloutTimeout, wait_rollout
from hks_tui.workflows.apps.update import (
    APP_DELETE,
    APP_RESTART_ALL,
    APP_SCALE,
    APP_SET_IMAGE,
    DELETE,
    RESTART_ALL,
    RESTARTED_AT,
    SCALE,
    SET_IMAGE,
)
from hks_tui.workflows.registry import register_kind

APP_KINDS = (APP_DEPLOY, APP_DEPLOY_KEEP, APP_SCALE, APP_SET_IMAGE, APP_RESTART_ALL, APP_DELETE)
for _kind in APP_KINDS:
    register_kind(_kind)

__all__ = [
    "APP_DELETE",
    "APP_DEPLOY",
    "APP_DEPLOY_KEEP",
    "APP_KINDS",
    "APP_RESTART_ALL",
    "APP_SCALE",
    "APP_SET_IMAGE",
    "DELETE",
    "DEPLOY",
    "DEPLOY_KEEP",
    "RESTARTED_AT",
    "RESTART_ALL",
    "SCALE",
    "SET_IMAGE",
    "RolloutFailed",
    "RolloutTimeout",
    "wait_rollout",
]
