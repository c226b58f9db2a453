"""Where the official API definitions are: `../shared/specs` beside the repository, or `$ECE_ECK_SPECS`."""

from __future__ import annotations

import os
from pathlib import Path

SPECS = Path(os.environ.get("ECE_ECK_SPECS") or Path(__file__).resolve().parents[3] / "shared" / "specs")

if not SPECS.is_dir():
    raise RuntimeError(f"the API definitions are missing: {SPECS} (set ECE_ECK_SPECS to the shared/specs folder)")
