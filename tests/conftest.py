"""Shared fixtures: the real sample data, skipped with a reason where absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from qlib.data.paths import shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Directory of ../shared/data; skips the test when it is not there."""
    d = shared_data_dir()
    if d is None:
        pytest.skip("real sample data ../shared/data (or $QLIB_SHARED_DATA) is absent")
    return d


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


# Fixture notebooks are inputs of the report tests, not notebooks to test with nbval.
collect_ignore_glob = ["fixtures/*"]
