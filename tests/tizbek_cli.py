"""Running the ``tizbek`` command in a subprocess, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def run_tizbek(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``tizbek ARGS`` in ``cwd`` with extra environment variables; capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "ledger", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def demo_token(stdout: str) -> str:
    """The inspector token `tizbek demo` printed."""
    return next(line.split(": ", 1)[1] for line in stdout.splitlines() if "inspector token" in line)
