"""Layering: the non-UI packages never import Textual; `hks-tui --help` imports no heavy client library.

Each check runs in a fresh interpreter so modules imported by other tests cannot hide a violation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NON_UI = ["models", "store", "clients", "manifests", "validation", "workflows", "agents", "services", "lab"]
# Top-level modules outside the UI that must not import Textual either.
NON_UI_MODULES = [
    "hks_tui.config",
    "hks_tui.paths",
    "hks_tui.secretref",
    "hks_tui.cli",
    "hks_tui.cli_boot",
    "hks_tui.runtime",
]

_WALK = """
import importlib, json, pkgutil, sys
failed, seen, first = {}, [], None
for name in sys.argv[1:]:
    modules = [name]
    package = importlib.import_module(name)
    if hasattr(package, "__path__"):
        modules += [m.name for m in pkgutil.walk_packages(package.__path__, name + ".")]
    for module in modules:
        if module.endswith(".__main__"):
            continue
        try:
            importlib.import_module(module)
            seen.append(module)
        except Exception as exc:
            failed[module] = f"{type(exc).__name__}: {exc}"
        if first is None and "textual" in sys.modules:
            first = module
print(json.dumps({"seen": seen, "failed": failed, "first": first, "textual": sorted(m for m in sys.modules
      if m == "textual" or m.startswith("textual.") or m.startswith("textual_"))}))
"""


def _run(code: str, *args: str) -> dict[str, object]:
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def test_non_ui_packages_import_without_textual() -> None:
    result = _run(_WALK, *[f"hks_tui.{p}" for p in NON_UI], *NON_UI_MODULES)
    assert result["failed"] == {}, result["failed"]
    assert result["textual"] == [], f"{result['first']} imports Textual: {result['textual'][:5]}"
    seen = result["seen"]
    assert isinstance(seen, list)
    for package in NON_UI:
        assert f"hks_tui.{package}" in seen
    assert "hks_tui.store.db" in seen and "hks_tui.models.audit" in seen


HEAVY = ("textual", "kubernetes", "proxmoxer", "prometheus_api_client", "aiohttp", "textual_serve")

_HELP = f"""
import json, sys, io, contextlib
from hks_tui.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    try:
        main([*sys.argv[1:]], prog_name="hks-tui")
    except SystemExit as exc:
        code = exc.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"code": code, "heavy": heavy, "out": out.getvalue()}}))
"""


def test_help_and_version_import_no_heavy_library() -> None:
    for argv in (
        ["--help"],
        ["--version"],
        ["config", "--help"],
        ["audit", "--help"],
        ["workspaces", "--help"],
    ):
        result = _run(_HELP, *argv)
        assert result["code"] == 0, (argv, result)
        assert result["heavy"] == [], (argv, result["heavy"])
    assert "workspaces" in str(_run(_HELP, "--help")["out"])
