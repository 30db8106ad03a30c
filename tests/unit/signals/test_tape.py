"""The tape counts every traded quantity once, for every source's vocabulary."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.data import MarketData, check_events, load, simulate
from qlib.dtypes import SUBTICK_SCALE, empty_events
from qlib.enums import EventFlag, EventKind, Side
from qlib.errors import SchemaError
from qlib.instrument import Instrument
from qlib.signals import trades

INST = Instrument("T.SIM", tick_size=0.01)


def _md(rows):
    ev = empty_events(len(rows))
    for i, (ts, kind, side, px, qty, flags) in enumerate(rows):
        ev[i] = (ts, ts, i, px, qty, 0, kind, side, flags)
    return MarketData(ev, INST, check_events(ev))


def test_trades_lobster_style_execute_side_is_flipped_to_aggressor():
    md = _md([(1, EventKind.EXECUTE, Side.BUY, 100, 5.0, 1),      # bid hit: seller-initiated
              (2, EventKind.TRADE, Side.BUY, 101, 2.0, EventFlag.HIDDEN | 1),
              (3, EventKind.ADD, Side.SELL, 102, 9.0, 1)])
    t = trades(md)
    assert t["side"].tolist() == [-1, 1] and t["qty"].tolist() == [5.0, 2.0]
    assert t["price"].tolist() == [1.0, 1.01] and t["row"].tolist() == [0, 1]


def test_trades_summary_prints_replace_their_executes():
    md = _md([(1, EventKind.EXECUTE, Side.SELL, 100, 3.0, 0),
              (1, EventKind.EXECUTE, Side.SELL, 101, 4.0, 0),
              (1, EventKind.TRADE, Side.BUY, 101, 7.0, EventFlag.SUMMARY | 1)])
    t = trades(md)
    assert len(t) == 1 and t["qty"].sum() == 7.0 and t["side"].tolist() == [1]


def test_trades_aggregate_merges_one_sweep_at_vwap():
    md = _md([(1, EventKind.EXECUTE, Side.SELL, 100, 3.0, 0),
              (1, EventKind.EXECUTE, Side.SELL, 101, 1.0, 1),
              (2, EventKind.EXECUTE, Side.SELL, 101, 2.0, 1),
              (2, EventKind.EXECUTE, Side.BUY, 99, 2.0, 1)])
    t = trades(md, aggregate=True)
    assert t["qty"].tolist() == [4.0, 2.0, 2.0]
    assert t["price"].iloc[0] == pytest.approx((100 * 3 + 101) / 4 * 0.01)
    assert t["side"].tolist() == [1, 1, -1] and t["row"].tolist() == [1, 2, 3]


def test_trades_simulated_volume_equals_execute_volume():
    md = simulate(n_events=5_000, seed=3)
    ev = md.events
    t = trades(md)
    assert t["qty"].sum() == pytest.approx(ev["qty"][ev["kind"] == EventKind.EXECUTE].sum())
    assert set(np.unique(t["side"])) <= {-1, 1}


def test_trades_real_lobster_counts_visible_and_hidden(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" / "LOBSTER_SampleFile_GOOG_2012-06-21_1.zip")
    t = trades(md)
    # visible executions + hidden executions on the grid + 50 half-cent hidden prints (PROVENANCE)
    assert len(t) == 7765 + 3863 + 50
    sub = t[t["subtick"]]
    assert len(sub) == 50
    assert np.all(np.abs(sub["price"] * 1000 - np.rint(sub["price"] * 1000)) < 1e-6)  # x.xx5
    assert np.all(np.abs(sub["price"] * 100 - np.rint(sub["price"] * 100)) > 0.4)


def test_trades_subtick_print_kept_at_its_true_price():
    half = 100 * SUBTICK_SCALE + SUBTICK_SCALE // 2  # 100.5 ticks = 1.005
    md = _md([(1, EventKind.EXECUTE, Side.BUY, 100, 5.0, 1),
              (2, EventKind.TRADE_SUBTICK, Side.SELL, half, 3.0, EventFlag.HIDDEN | 1)])

    t = trades(md)

    assert t["price"].tolist() == [1.0, 1.005]
    assert t["px_tick"].tolist() == [100, 100]  # the grid tick at or below the print
    assert t["subtick"].tolist() == [False, True]
    assert t["side"].tolist() == [-1, -1]


def test_trades_aggregate_subtick_print_weighted_at_its_true_price():
    half = 101 * SUBTICK_SCALE + SUBTICK_SCALE // 2  # 101.5 ticks
    md = _md([(1, EventKind.EXECUTE, Side.SELL, 101, 1.0, 0),
              (1, EventKind.TRADE_SUBTICK, Side.BUY, half, 1.0, 1)])

    t = trades(md, aggregate=True)

    assert len(t) == 1 and t["qty"].tolist() == [2.0]
    assert t["price"].iloc[0] == pytest.approx((101 + 101.5) / 2 * 0.01)
    assert t["subtick"].tolist() == [True]


def test_subtick_print_changes_no_book():
    from qlib.book import bbo

    half = 100 * SUBTICK_SCALE + SUBTICK_SCALE // 2
    md = _md([(1, EventKind.DEPTH, Side.BUY, 100, 5.0, 1),
              (2, EventKind.DEPTH, Side.SELL, 101, 5.0, 1),
              (3, EventKind.TRADE_SUBTICK, Side.SELL, half, 3.0, 1)])

    b = bbo(md)

    assert b["bid_qty"].iloc[-1] == 5.0 and b["ask_qty"].iloc[-1] == 5.0


def test_trades_wrong_input_raises_schema_error():
    with pytest.raises(SchemaError):
        trades(np.zeros(3))
