"""The LOBSTER loader imports qlib.book's L2 book (qlib.book.l2, qlib.book.nb) while
qlib.book imports qlib.data (``qlib.book.replay`` reads ``MarketData``): each import
order must work in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize("first", ["qlib.book", "qlib.book.nb", "qlib.book.replay", "qlib.data",
                                   "qlib.data.lobster", "qlib.data._lobster_kernels"])
def test_import_order_book_before_data_or_after_has_no_cycle(first):
    code = f"import {first}; import qlib.data.lobster; import qlib.book; print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"
