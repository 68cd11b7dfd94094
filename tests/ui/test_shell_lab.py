"""Pilot tests of the shell on a real runtime connected to the session lab (real HTTP, real clients)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import OptionList

from hks_tui.app import HksApp
from hks_tui.models import AuditEntry
from hks_tui.runtime import RuntimeOptions, open_runtime
from hks_tui.screens.audit import AuditScreen
from hks_tui.screens.home import HomeScreen
from hks_tui.screens.pickers import PickerScreen
from hks_tui.widgets.resource_table import ResourceTable


async def settle(app: HksApp, pilot: Any) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_shell_on_the_lab(lab: Any, tmp_path: Path) -> None:
    runtime = open_runtime(RuntimeOptions(lab_dir=lab.state_dir, data_dir=tmp_path / "data", workspace="dev"))
    runtime.store.audit.append(AuditEntry(action="vm.start", target="qemu/4242", actor="pilot", outcome="ok"))
    app = HksApp(runtime, health_interval=0, audit_interval=0)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            # the console opens on its default section (the Node Overview), with the workspace and plan
            assert app.current_mode == HksApp.DEFAULT_MODE and not isinstance(app.screen, HomeScreen)
            assert "dev" in str(app.screen.query_one("#crumbs").render())
            assert str(app.screen.query_one("#plan-badge").render()) == "Shared"
            # the workspace facts and backend health are on Home
            await pilot.press("colon", *"home", "enter")
            await settle(app, pilot)
            assert isinstance(app.screen, HomeScreen)
            backends = str(app.screen.query_one("#backends").render())
            assert "Proxmox VE" in backends
            # health comes from the real backends of the lab
            assert {s.backend for s in app.health} == {"proxmox", "host", "vcluster", "prometheus"}
            # reachable (a loaded machine may answer slowly: "degraded"), never down/unknown
            states = {s.backend: s.status for s in app.health}
            assert all(states[b] in ("ok", "degraded") for b in ("proxmox", "host", "vcluster")), states
            assert {w.name for w in app.workspaces} >= {"dev", "prod"}

            # workspace picker lists the lab's workspaces; choosing one switches for real
            await pilot.press("w")
            await settle(app, pilot)
            assert isinstance(app.screen, PickerScreen)
            options = app.screen.query_one(OptionList)
            ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
            assert "prod" in ids
            options.highlighted = ids.index("prod")
            await pilot.press("enter")
            await settle(app, pilot)
            assert runtime.workspace == "prod" and app.workspace == "prod"
            assert app.plan == "dedicated"
            assert isinstance(app.screen, HomeScreen)  # a switch keeps the section
            assert str(app.screen.query_one("#plan-badge").render()) == "Dedicated"

            # project picker lists the vCluster's namespaces
            await pilot.press("p")
            await settle(app, pilot)
            assert isinstance(app.screen, PickerScreen)
            await pilot.press("escape")
            await settle(app, pilot)

            # the audit section shows the store's rows and filters them
            await pilot.press("colon", *"audit", "enter")
            await settle(app, pilot)
            assert isinstance(app.screen, AuditScreen)
            table = app.screen.query_one(ResourceTable)
            assert "qemu/4242" in {table.get_row(k)["target"] for k in table.visible_keys}
            table.set_filter("no-such-target")
            assert table.row_count == 0
    finally:
        runtime.close()
