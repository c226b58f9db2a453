"""Where the built toolchains are: the folder a build script printed, or the one an environment variable names
(the Makefile builds once and passes it on)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def toolchain_bin(script: str, variable: str) -> Path:
    """`$variable` if set, else run `tools/toolchain/<script>` (idempotent, cached) and take what it prints."""
    configured = os.environ.get(variable)
    if configured:
        return Path(configured)
    completed = subprocess.run([str(ROOT / "tools" / "toolchain" / script)], capture_output=True, text=True, check=True)
    return Path(completed.stdout.strip().splitlines()[-1])
