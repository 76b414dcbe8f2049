"""The key table and the services load without Textual (the CLI lists keys and runs reports without it)."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["wsms_tui.keys", "wsms_tui.stock", "wsms_tui.users"])
def test_module_does_not_load_textual(module: str) -> None:
    code = f"import sys, {module}; assert not [m for m in sys.modules if m.startswith('textual')]"
    subprocess.run([sys.executable, "-c", code], check=True)
