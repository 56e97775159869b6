"""Running a benchmark as `make bench` does, small: its own process, from the project root."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``python -m module`` with ``env`` added; its output, whatever its exit status."""
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
