"""The shell painted before its runtime: pending facts, "still connecting", adoption, and failure to open.

The opener is gated by an event the test controls, so every state is observed deterministically.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from hks_tui.app import NOT_CONNECTED, HksApp
from hks_tui.cli_boot import NotReadyError, PendingRuntime, RuntimeOpener, peek_theme, pending_runtime
from hks_tui.runtime import RuntimeOptions, open_runtime


async def until(pilot: Any, condition: Callable[[], bool], what: str, rounds: int = 3000) -> None:
    """Let the app run until ``condition`` holds (bounded by rounds, not by a clock)."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"never happened: {what}")


def gated(gate: threading.Event, open_fn: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        assert gate.wait(120), "the test never opened the gate"
        return open_fn()

    return run


async def test_shell_adopts_the_runtime_opened_after_the_first_frame(lab: Any, tmp_path: Path) -> None:
    pending = pending_runtime(
        lab_dir=lab.state_dir, config_path=None, profile=None, workspace=None, readonly=True, insecure=False
    )
    assert (
        pending.is_lab and pending.readonly and pending.workspace == next(iter(lab.info["vcluster_contexts"]))
    )
    options = RuntimeOptions(lab_dir=lab.state_dir, data_dir=tmp_path / "data", readonly=True)
    gate = threading.Event()
    opener = RuntimeOpener(gated(gate, lambda: open_runtime(options)), pending)
    app = HksApp(pending, opener=opener, health_interval=0, audit_interval=0)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: opener.started, "the opener starts after the first frame")
            # before the runtime: the cheap facts are shown, backend actions say "still connecting"
            assert not app.connected and app.runtime is pending
            assert app.workspace == pending.workspace
            assert app.screen.query_one("#lab-badge", Static).display
            assert app.screen.query_one("#readonly-badge", Static).display
            assert not app.screen.query_one("#insecure-badge", Static).display
            with pytest.raises(NotReadyError):
                _ = pending.services
            await pilot.press("w")
            assert app.flash == (NOT_CONNECTED, "warning")

            gate.set()
            await until(pilot, lambda: app.connected, "the runtime is adopted")
            await until(pilot, lambda: len(app.health) == 4, "the health check after connecting")
            await app.workers.wait_for_complete()
            assert app.runtime is opener.runtime and app.runtime.readonly
            assert {s.backend for s in app.health} == {"proxmox", "host", "vcluster", "prometheus"}
            assert app.org == str(lab.info.get("org") or "lab")
            assert {w.name for w in app.workspaces} >= {"dev", "prod"}
            assert app.screen.query_one("#readonly-badge", Static).display
    finally:
        gate.set()
        runtime = opener.finish()
        if runtime is not None:
            runtime.close()


async def test_shell_exits_when_the_runtime_cannot_open(tmp_path: Path) -> None:
    def fail() -> Any:
        return open_runtime(RuntimeOptions(lab_dir=tmp_path / "nolab", data_dir=tmp_path / "data"))

    pending = pending_runtime(
        lab_dir=tmp_path / "nolab",
        config_path=None,
        profile=None,
        workspace=None,
        readonly=False,
        insecure=False,
    )
    assert pending.workspace == "" and pending.org == ""  # no lab.json: nothing to show yet
    opener = RuntimeOpener(fail, pending)
    app = HksApp(pending, opener=opener, health_interval=0, audit_interval=0)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: opener.done and app.return_code is not None, "the app exits")
    assert app.return_code == 1
    assert opener.runtime is None and opener.error is not None
    assert str(opener.error).startswith(f"Connect to the lab in {tmp_path / 'nolab'}")


def test_pending_runtime_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(__import__("os").environ):
        if name.upper().startswith("HKS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    # nothing configured: the embedded lab
    assert pending_runtime(
        lab_dir=None, config_path=None, profile=None, workspace=None, readonly=False, insecure=True
    ) == PendingRuntime(is_lab=True, insecure=True)
    # a configuration file: not a lab (until the runtime says otherwise); its theme is used
    config = tmp_path / "config.toml"
    config.write_text('[ui]\ntheme = "light"\n')
    pending = pending_runtime(
        lab_dir=None, config_path=config, profile=None, workspace="prod", readonly=False, insecure=False
    )
    assert not pending.is_lab and pending.workspace == "prod" and pending.settings.ui.theme == "light"
    monkeypatch.setenv("HKS_UI__THEME", "dark")
    assert peek_theme(config) == "dark"
    monkeypatch.delenv("HKS_UI__THEME")
    config.write_text("[ui\n")  # broken: the validated settings will report it; the first frame is dark
    assert peek_theme(config) == "dark"
    # a lab directory: organisation and first workspace from lab.json
    lab_dir = tmp_path / "lab"
    lab_dir.mkdir()
    (lab_dir / "lab.json").write_text('{"org": "acme", "vcluster_contexts": {"dev": "c1", "prod": "c2"}}')
    pending = pending_runtime(
        lab_dir=lab_dir, config_path=None, profile=None, workspace=None, readonly=False, insecure=False
    )
    assert pending.is_lab and pending.org == "acme" and pending.workspace == "dev"


def test_opener_hands_over_result_and_error() -> None:
    done: list[str] = []
    ok = RuntimeOpener(lambda: "runtime", PendingRuntime())
    assert not ok.started and ok.finish() is None
    ok.start(lambda: done.append("ok"))
    ok.start(lambda: done.append("twice"))  # a second start is ignored
    assert ok.finish() == "runtime" and ok.error is None and ok.done

    def boom() -> Any:
        raise ValueError("no")

    failed = RuntimeOpener(boom, PendingRuntime())
    failed.start(lambda: done.append("failed"))
    assert failed.finish() is None and isinstance(failed.error, ValueError)

    def loop_closed() -> None:
        raise RuntimeError("Event loop is closed")

    late = RuntimeOpener(lambda: "late", PendingRuntime())
    late.start(loop_closed)  # the app is gone: the result is still handed over by finish()
    assert late.finish() == "late"
    assert done == ["ok", "failed"]
