"""The L2 book on real data: LOBSTER's own orderbook files and Binance's bookTicker stream.

LOBSTER (GOOG 2012-06-21, L = 1, 5, 10): ``depth_snapshots(load_lobster(zip), levels=L)``
equals the orderbook CSV, read here independently with pandas, at every message row and
every level. Rows of the CSV without a row in the snapshots are messages that leave the
book unchanged (hidden executions, halts, and the 50 half-cent trades the loader keeps
as ``TRADE_SUBTICK`` prints, which no book level shows); for those the CSV row equals the
one before it.

Binance (every session in ../shared/data): the book rebuilt from the REST snapshot and
the diffs, read with ``depth_snapshots(levels=1)`` after each diff, against every
bookTicker. *Reached* is precise: a bookTicker with update id ``u`` equal to a diff's
final update id ``u`` shows the state after exactly that diff and must agree in both
prices and both quantities. A bookTicker whose ``u`` falls strictly between two diffs'
``u`` is compared with the book after the earlier diff; updates in between may have
moved the touch, so only the agreement rate is reported (and bounded below), not
required to be 1.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from qlib.book.depth import depth_snapshots
from qlib.data.binance import load_binance
from qlib.data.lobster import load_lobster
from qlib.enums import EventKind, Side

pytestmark = pytest.mark.realdata

GOOG = "lobster-goog-2012-06-21"


@pytest.mark.parametrize("levels", [1, 5, 10])
def test_depth_snapshots_equal_lobster_orderbook_file_every_row_every_level(shared_data, levels):
    # Arrange
    path = shared_data / GOOG / f"LOBSTER_SampleFile_GOOG_2012-06-21_{levels}.zip"
    with zipfile.ZipFile(path) as zf:
        name = next(n for n in zf.namelist() if "orderbook" in n)
        ob = pd.read_csv(zf.open(name), header=None).to_numpy()
    md = load_lobster(path)
    # Act
    df = depth_snapshots(md, levels=levels)
    # Assert
    seq = md.events["seq"][df.index.to_numpy()]
    live = seq >= 0  # the start-of-day snapshot's row has seq -1
    assert (~live).sum() == 1 and not live[0]
    got, seq = df[live], seq[live]
    assert len(np.unique(seq)) == len(seq)  # one consistent state per message row
    want = ob[seq]
    for j in range(levels):
        for side, pc in (("ask", 4 * j), ("bid", 4 * j + 2)):
            px_f = got[f"{side}_px_{j + 1}"].to_numpy()
            qty = got[f"{side}_qty_{j + 1}"].to_numpy()
            px = np.where(np.isnan(px_f), 0, np.round(np.nan_to_num(px_f) * 10_000)).astype(np.int64)
            dummy = np.abs(want[:, pc]) == 9_999_999_999
            assert np.array_equal(px[~dummy], want[~dummy, pc]), (side, j)
            assert np.array_equal(qty, np.where(dummy, 0, want[:, pc + 1])), (side, j)
            assert np.isnan(px_f[dummy]).all()
    missing = np.setdiff1d(np.arange(len(ob)), seq)
    assert (missing > 0).all() and (ob[missing] == ob[missing - 1]).all()
    assert md.report.rows_dropped == 0 and md.report.rows_by_kind["TRADE_SUBTICK"] == 50
    assert len(missing) >= 50
    print(f"LOBSTER L={levels}: {len(seq)} rows equal, {len(missing)} unchanged-book rows")


def _sessions(root: Path) -> list[tuple[str, list[Path]]]:
    out = []
    for d, groups in (("binance-usdm-btcusdt-hftbacktest",
                       [["btcusdt_20240718.gz", "btcusdt_20240719.gz"], ["btcusdt_20240808.gz"]]),
                      ("binance-coinm-btcusd-perp-hftbacktest",
                       [["btcusd_perp_20240808.gz", "btcusd_perp_20240809.gz"]]),
                      ("binance-spot-btcusdt-hftbacktest",
                       [["btcusdt_20240808.gz", "btcusdt_20240809.gz"]])):
        for g in groups:
            out.append((f"{d.split('-')[1]}:{g[0]}", [root / d / f for f in g]))
    return out


@pytest.mark.parametrize("idx", range(4))
def test_l2_book_agrees_with_bookticker_whose_update_id_a_diff_reached(shared_data, idx):
    name, files = _sessions(shared_data)[idx]
    md = load_binance(files)
    ev = md.events
    df = depth_snapshots(md, levels=1)
    book_seq = ev["seq"][df.index.to_numpy()]
    assert (np.diff(book_seq) >= 0).all()
    qb = np.flatnonzero((ev["kind"] == EventKind.QUOTE) & (ev["side"] == Side.BUY))
    qa = qb + 1
    assert (ev["kind"][qa] == EventKind.QUOTE).all() and (ev["seq"][qa] == ev["seq"][qb]).all()
    u = ev["seq"][qb]
    j = np.searchsorted(book_seq, u, side="right") - 1
    reached = (j >= 0) & (u <= book_seq[-1])
    exact = reached & (book_seq[np.maximum(j, 0)] == u)
    tick = md.instrument.tick_size
    st = df.iloc[j[reached]]
    bid_px = np.round(st["bid_px_1"].to_numpy() / tick).astype(np.int64)
    ask_px = np.round(st["ask_px_1"].to_numpy() / tick).astype(np.int64)
    r_qb, r_qa = qb[reached], qa[reached]
    px_ok = (bid_px == ev["px_tick"][r_qb]) & (ask_px == ev["px_tick"][r_qa])
    all_ok = px_ok & (st["bid_qty_1"].to_numpy() == ev["qty"][r_qb]) & (
        st["ask_qty_1"].to_numpy() == ev["qty"][r_qa])
    ex = exact[reached]
    # every bookTicker whose u equals a diff's final u: exact agreement, prices and qtys
    assert ex.sum() > 100
    assert all_ok[ex].all(), np.flatnonzero(~all_ok & ex)[:10]
    # the others (u strictly between two diffs): reported, agreement is partial
    other = ~ex
    frac_px = float(px_ok[other].mean()) if other.any() else 1.0
    frac_all = float(all_ok[other].mean()) if other.any() else 1.0
    print(f"{name}: bookTickers {len(u)}, reached {int(reached.sum())}, exact-u {int(ex.sum())}"
          f" all agree; between diffs {int(other.sum())}: prices agree {frac_px:.1%},"
          f" prices+qtys {frac_all:.1%}; not reached {int((~reached).sum())}")
    assert frac_px > 0.4
