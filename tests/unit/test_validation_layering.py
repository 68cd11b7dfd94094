"""The validators and builders are pure layers: importing them pulls in neither Textual nor a client."""

from __future__ import annotations

import subprocess
import sys


def test_pure_layers_import_without_textual_or_io_clients() -> None:
    code = (
        "import sys, hks_tui.validation, hks_tui.manifests\n"
        "bad = [m for m in ('textual', 'proxmoxer', 'aiohttp', 'sqlite_utils', 'kubernetes') if m in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == ""
