"""Mark-outs, trade clustering, and attempt/Unavailable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import (
    Unavailable,
    attempt,
    markout_curve,
    markouts,
    trade_clustering,
    trade_durations,
)

T0 = pd.Timestamp("2024-01-02 14:30", tz="UTC")


def _quotes(mids, step="1s"):
    ts = pd.date_range(T0, periods=len(mids), freq=step)
    m = np.asarray(mids, float)
    return pd.DataFrame({"ts_exch": ts, "bid_px": m - 0.01, "bid_qty": 5.0, "ask_px": m + 0.01,
                         "ask_qty": 5.0})


def test_markouts_signed_by_side_in_ticks_and_bps():
    q = _quotes([100.0, 100.0, 100.05, 100.05, 100.10])  # mids at 0..4 s
    fills = pd.DataFrame({"ts": [T0 + pd.Timedelta("500ms"), T0 + pd.Timedelta("500ms")],
                          "price": [100.01, 99.99], "qty": [1.0, 2.0], "side": [1, -1]})
    m = markouts(fills, q, ["0s", "2s"], tick_size=0.01)
    h0 = m[m["horizon"] == pd.Timedelta(0)].set_index("fill")
    h2 = m[m["horizon"] == pd.Timedelta("2s")].set_index("fill")
    # buy at 100.01, prevailing mid 100.00: -1 tick; mid at 2.5 s = 100.05: +4 ticks
    assert np.allclose(h0["markout_ticks"], [-1.0, -1.0])
    assert np.allclose(h2["markout_ticks"], [4.0, -6.0])
    assert np.isclose(h2.loc[0, "markout_bps"], 1e4 * 0.04 / 100.01)


def test_markouts_beyond_last_quote_are_dropped_and_counted():
    q = _quotes([100.0, 100.0, 100.0])
    fills = pd.DataFrame({"ts_exch": [T0 + pd.Timedelta("1500ms")], "price": [100.0],
                          "qty": [1.0], "side": [1]})
    m = markouts(fills, q, ["0s", "10s"], tick_size=0.01)
    assert m["horizon"].tolist() == [pd.Timedelta(0)]
    assert m.attrs["dropped"][pd.Timedelta("10s")] == 1


def test_markouts_no_computable_fill_raises_insufficient():
    q = _quotes([100.0, 100.0])
    fills = pd.DataFrame({"ts_exch": [T0 + pd.Timedelta("1h")], "price": [100.0], "qty": [1.0],
                          "side": [1]})
    with pytest.raises(InsufficientDataError, match="1 fills with a known side, 0 with a quote"):
        markouts(fills, q, ["1s"], tick_size=0.01)


@pytest.mark.parametrize("kwargs", [{"horizons": ["-1s"]}, {"tick_size": 0.0}])
def test_markouts_bad_parameters_raise(kwargs):
    q = _quotes([100.0, 100.0])
    fills = pd.DataFrame({"ts_exch": [T0], "price": [100.0], "qty": [1.0], "side": [1]})
    args = {"horizons": ["1s"], "tick_size": 0.01, **kwargs}
    with pytest.raises(ParameterError):
        markouts(fills, q, args.pop("horizons"), **args)


def test_markout_curve_means_and_weights():
    q = _quotes(np.full(20, 100.0))
    fills = pd.DataFrame({"ts_exch": T0 + pd.to_timedelta(np.arange(4), unit="s"),
                          "price": [100.01, 100.01, 99.99, 100.03], "qty": [1.0, 1.0, 1.0, 3.0],
                          "side": [1, 1, -1, 1]})
    m = markouts(fills, q, ["1s"], tick_size=0.01)
    c = markout_curve(m)
    assert np.isclose(c["mean_ticks"].iloc[0], np.mean([-1, -1, -1, -3]))
    cw = markout_curve(m, weight="qty")
    assert np.isclose(cw["mean_ticks"].iloc[0], (-1 - 1 - 1 - 9) / 6)
    assert c["se_ticks"].iloc[0] > 0 and c["n"].iloc[0] == 4


def _poisson_tape(n, seed=0, burst=False):
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(0.5, n)
    if burst:
        gaps = np.where(rng.random(n) < 0.8, gaps * 0.02, gaps * 5)
    ts = T0 + pd.to_timedelta(np.cumsum(gaps), unit="s")
    return pd.DataFrame({"ts_exch": ts, "price": 100.0, "qty": 1.0, "side": 1})


def test_trade_clustering_poisson_has_dispersion_near_one():
    r = trade_clustering(_poisson_tape(20_000))
    assert 0.85 < r.dispersion_index < 1.15 and 0.9 < r.duration_cv < 1.1
    assert r.p_value > 0.001 and r.n_trades == 20_000


def test_trade_clustering_bursts_are_overdispersed():
    r = trade_clustering(_poisson_tape(20_000, burst=True))
    assert r.dispersion_index > 2 and r.duration_cv > 1.5 and r.p_value < 1e-6
    assert "dispersion_index" in r.summary().index and "Trade clustering" in r._repr_html_()


def test_trade_clustering_too_short_raises_with_counts():
    with pytest.raises(InsufficientDataError, match=r"5 trades span \d+ interval.*needed at least 10"):
        trade_clustering(_poisson_tape(5), "1s")


def test_trade_durations_in_seconds():
    t = pd.DataFrame({"ts": T0 + pd.to_timedelta([0, 0, 1.5], unit="s"), "price": 1.0,
                      "qty": 1.0})
    assert trade_durations(t).tolist() == [0.0, 1.5]


# ------------------------------------------------------------------ attempt
def _needs(n, xs):
    if len(xs) < n:
        raise InsufficientDataError(f"had {len(xs)}, needed {n}")
    return len(xs)


def test_attempt_returns_value_or_unavailable_with_reason():
    assert attempt(_needs, 2, [1, 2]) == 2
    u = attempt(_needs, 3, [1])
    assert isinstance(u, Unavailable) and not u
    assert u.reason == "_needs: had 1, needed 3"
    assert "Not computable for this data" in u._repr_html_()


def test_attempt_propagates_unavailable_arguments_without_calling():
    u = Unavailable("x")
    assert attempt(pytest.fail, u) is u and attempt(pytest.fail, a=u) is u


def test_attempt_lets_other_errors_through():
    with pytest.raises(ParameterError):
        attempt(markout_curve, pd.DataFrame({"horizon": [], "markout_ticks": [],
                                             "markout_bps": [], "qty": []}), weight="x")


def test_unavailable_show_does_not_raise(capsys):
    Unavailable("because").show()
