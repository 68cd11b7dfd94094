"""Shared test fixtures.

* ``require_binary(name)`` — a system binary the test needs: skips with the reason, or fails when
  ``HKS_REQUIRE_ALL=1`` (CI) so a missing install step cannot hide behind a skip.
* ``lab`` — one lab (seed ``demo``) for the whole session, running on loopback in a background thread.
  Tests that share it must use unique object names; tests that need a pristine world start their own
  with ``hks_tui.lab.server.start_lab_in_thread``.
* ``lab_fault`` — ``add(spec_or_rule) -> FaultRule`` adds a fault rule to the session lab (on its loop) and
  removes it after the test; use paths unique to the test so parallel tests are not affected.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path:
        return path
    reason = f"the `{name}` binary is not on PATH (install the Debian package that provides it)"
    if os.environ.get("HKS_REQUIRE_ALL") == "1":
        pytest.fail(f"HKS_REQUIRE_ALL=1: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from hks_tui.lab.server import start_lab_in_thread

    state_dir: Path = tmp_path_factory.mktemp("lab")
    running = start_lab_in_thread(state_dir=state_dir, seed="demo", time_scale=20.0)
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def lab_fault(lab: Any) -> Iterator[Callable[[Any], Any]]:
    added: list[Any] = []

    def add(rule: Any) -> Any:
        created = lab.call(lab.world.faults.add, rule)
        added.append(created)
        return created

    yield add
    for rule in added:
        lab.call(lab.world.faults.remove, rule.id)
