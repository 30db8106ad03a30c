"""Where the shared real-market sample data lives."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_data_dir"]

_REPO = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path | None:
    """Return the directory of real sample data sets, or None when it is absent.

    Looks at ``$QLIB_SHARED_DATA`` first, then ``<checkout>/../shared/data`` (the
    layout CI uses: ``shared/`` beside the clone).
    """
    env = os.environ.get("QLIB_SHARED_DATA")
    candidates = [Path(env)] if env else []
    candidates.append(_REPO.parent / "shared" / "data")
    for c in candidates:
        if c.is_dir():
            return c
    return None
