"""Mid, micro-price, depth-weighted mid and book imbalance on real books."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.book import bbo
from qlib.book.depth import depth_snapshots
from qlib.data import load
from qlib.errors import DataQualityError, ParameterError, SchemaError
from qlib.signals import book_imbalance, depth_weighted_mid, microprice, mid


@pytest.fixture(scope="module")
def lobster(shared_data):
    md = load("lobster", shared_data / "lobster-goog-2012-06-21" /
              "LOBSTER_SampleFile_GOOG_2012-06-21_10.zip")
    return bbo(md), depth_snapshots(md, levels=10)


def test_mid_and_microprice_lobster_within_spread(lobster):
    q, _ = lobster
    m, mp = mid(q), microprice(q)
    assert len(m) == len(q) and (m.index == q.index).all()
    assert ((mp >= q["bid_px"]) & (mp <= q["ask_px"])).all()
    assert np.allclose(m, (q["bid_px"] + q["ask_px"]) / 2)


def test_microprice_leans_to_thin_side():
    q = pd.DataFrame({"ts_exch": pd.to_datetime([0, 1], utc=True), "bid_px": [99.0, 99.0],
                      "bid_qty": [9.0, 1.0], "ask_px": [101.0, 101.0], "ask_qty": [1.0, 9.0]})
    assert microprice(q).tolist() == pytest.approx([100.8, 99.2])


def test_depth_inputs_accept_lobster_layout_for_top_of_book(lobster):
    q, ds = lobster
    assert np.allclose(mid(ds).to_numpy(), mid(q).to_numpy())
    assert np.allclose(depth_weighted_mid(ds, 1).to_numpy(), mid(q).to_numpy())


def test_depth_weighted_mid_lobster_matches_pandas(lobster):
    _, ds = lobster
    n = 5
    bq = ds[[f"bid_qty_{i}" for i in range(1, n + 1)]].to_numpy()
    bp = ds[[f"bid_px_{i}" for i in range(1, n + 1)]].fillna(0).to_numpy()
    aq = ds[[f"ask_qty_{i}" for i in range(1, n + 1)]].to_numpy()
    ap = ds[[f"ask_px_{i}" for i in range(1, n + 1)]].fillna(0).to_numpy()
    ref = 0.5 * ((bp * bq).sum(1) / bq.sum(1) + (ap * aq).sum(1) / aq.sum(1))
    got = depth_weighted_mid(ds, n)
    assert np.allclose(got.to_numpy(), ref)
    assert ((got >= ds["bid_px_5"].fillna(-np.inf)) | (got <= ds["ask_px_5"])).all()


def test_book_imbalance_levels_lobster(lobster):
    q, ds = lobster
    one = book_imbalance(q)
    assert one.name == "imbalance_1" and one.between(-1, 1).all()
    many = book_imbalance(ds, range(1, 11))
    assert list(many.columns) == [f"imbalance_{i}" for i in range(1, 11)]
    assert np.allclose(many["imbalance_1"].to_numpy(), one.to_numpy())
    b3 = ds[["bid_qty_1", "bid_qty_2", "bid_qty_3"]].sum(axis=1)
    a3 = ds[["ask_qty_1", "ask_qty_2", "ask_qty_3"]].sum(axis=1)
    assert np.allclose(book_imbalance(ds, 3).to_numpy(), ((b3 - a3) / (b3 + a3)).to_numpy())


def test_prices_bad_inputs_raise(lobster):
    q, ds = lobster
    with pytest.raises(SchemaError):
        depth_weighted_mid(q, 5)          # bbo layout has no levels
    with pytest.raises(SchemaError):
        book_imbalance(ds, 11)
    with pytest.raises(ParameterError):
        book_imbalance(ds, 0)
    bad = q.head(3).copy()
    bad.iloc[1, bad.columns.get_loc("ask_qty")] = 0.0
    with pytest.raises(DataQualityError, match="empty side"):
        mid(bad)
