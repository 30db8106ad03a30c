"""Stoikov's micro-price: synthetic Markov chains with a known G*, and a real Binance day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.book import bbo
from qlib.data import load
from qlib.errors import DataQualityError, InsufficientDataError, ParameterError
from qlib.signals import MicropriceModel, fit_microprice, mid, stoikov_microprice
from qlib.signals import _microprice_kernels as _k

TICK = 0.01
KS = np.array([-2, -1, 0, 1, 2])  # mid moves in half ticks


# ---------------------------------------------------------------- synthetic chain


def _true_chain(n: int, m: int, seed: int) -> np.ndarray:
    """P[x, j, y]: from state x = (S-1)*n + b, mid moves KS[j] half ticks, next state y.

    Moves respect the tick grid (the mid moves by an odd number of half ticks iff the
    spread parity changes), the up-move weight grows with the imbalance, and the
    chain is symmetrised, P(x, k, y) = P(mirror x, -k, mirror y), like the estimator.
    """
    rng = np.random.default_rng(seed)
    nx = n * m
    w = np.zeros((nx, len(KS), nx))
    for x in range(nx):
        s0, b0 = x // n + 1, x % n
        imb = (b0 + 0.5) / n
        for j, k in enumerate(KS):
            for y in range(nx):
                s1 = y // n + 1
                if (k - (s1 - s0)) % 2:
                    continue
                up = imb if k > 0 else (1 - imb) if k < 0 else 1.0
                w[x, j, y] = rng.random() * (3.0 if k == 0 else up)
    mirror = np.array([(x // n) * n + (n - 1 - x % n) for x in range(nx)])
    w = w + w[mirror][:, ::-1][:, :, mirror]
    return w / w.sum(axis=(1, 2), keepdims=True)


def _g_star_from(P: np.ndarray) -> np.ndarray:
    """G* of the true chain by the fundamental matrix (not the estimator's power sum)."""
    nx = P.shape[0]
    Q = P[:, 2, :]
    T = P.sum(axis=1) - Q
    R = P.sum(axis=2)
    A = np.eye(nx) - Q
    g1 = np.linalg.solve(A, R @ (KS * 0.5 * TICK))
    B = np.linalg.solve(A, T)
    evals, evecs = np.linalg.eig(B.T)
    pi = np.real(evecs[:, np.argmin(np.abs(evals - 1))])
    pi /= pi.sum()
    assert abs(pi @ g1) < 1e-12  # B* g1 = 0: the sum converges
    return np.linalg.solve(np.eye(nx) - B + np.outer(np.ones(nx), pi), g1)


def _simulate(P: np.ndarray, n: int, steps: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nx = P.shape[0]
    cum = np.cumsum(P.reshape(nx, -1), axis=1)
    u = rng.random(steps)
    x, mid2 = 0, 2 * 500_000 + 1  # spread 1 tick: the mid sits on a half tick
    xs = np.empty(steps, np.int64)
    mids = np.empty(steps, np.int64)
    for i in range(steps):
        xs[i], mids[i] = x, mid2
        o = min(int(np.searchsorted(cum[x], u[i], side="right")), cum.shape[1] - 1)
        j, x = divmod(o, nx)
        mid2 += KS[j]
    s, b = xs // n + 1, xs % n
    return pd.DataFrame({"ts_exch": pd.to_datetime(np.arange(steps) * 1_000_000, utc=True),
                         "bid_px": (mids - s) // 2 * TICK, "bid_qty": (b + 0.5) * 10.0,
                         "ask_px": (mids + s) // 2 * TICK, "ask_qty": (n - b - 0.5) * 10.0})


@pytest.fixture(scope="module")
def synthetic():
    n, m = 4, 2
    P = _true_chain(n, m, seed=3)
    return n, m, P, _simulate(P, n, 200_000, seed=4)


def test_fit_microprice_synthetic_chain_matches_true_g_star(synthetic):
    n, m, P, quotes = synthetic
    model = fit_microprice(quotes, n_imbalance=n, max_spread=m, tick_size=TICK)
    truth = _g_star_from(P).reshape(m, n).T
    assert model.n_dropped == 0 and model.n_transitions == len(quotes) - 1
    assert np.abs(truth).max() > 0.2 * TICK  # a non-trivial adjustment to recover
    np.testing.assert_allclose(model.table.to_numpy(), truth, atol=0.02 * TICK)
    assert np.allclose((model.Q + model.T).sum(axis=1), 1.0)
    wider = fit_microprice(quotes, n_imbalance=n, max_spread=m, tick_size=TICK, max_mid_move=3)
    assert wider.K.shape == (12,) and wider.R[:, [0, 1, -2, -1]].sum() == 0
    np.testing.assert_allclose(wider.table.to_numpy(), model.table.to_numpy(), atol=1e-12)


def test_fit_microprice_synthetic_is_antisymmetric_in_imbalance(synthetic):
    n, m, _, quotes = synthetic
    # An asymmetric sample (first 5% of the path) is symmetrised by construction.
    model = fit_microprice(quotes.iloc[:10_000], n_imbalance=n, max_spread=m, tick_size=TICK)
    g = model.table.to_numpy()
    np.testing.assert_allclose(g[::-1], -g, atol=1e-12 * TICK)
    c = model.counts.to_numpy()
    assert c.sum() == model.n_transitions and not np.array_equal(c, c[::-1])


# ---------------------------------------------------------------- real day


@pytest.fixture(scope="module")
def binance(shared_data):
    return bbo(load("binance", shared_data / "binance-usdm-btcusdt-hftbacktest" /
                    "btcusdt_20240808.gz"))


@pytest.fixture(scope="module")
def binance_model(binance):
    return fit_microprice(binance, n_imbalance=10, max_spread=1, tick_size=0.1)


def test_fit_microprice_binance_increasing_in_imbalance(binance_model):
    g = binance_model.table[1].to_numpy()
    assert (np.diff(g) > 0).all()
    assert g[0] < 0 < g[-1]
    np.testing.assert_allclose(g[::-1], -g, atol=1e-12)
    assert binance_model.counts.to_numpy().min() > 100


def test_fit_microprice_binance_adjustment_within_half_spread(binance_model):
    spreads = binance_model.table.columns.to_numpy()
    half = 0.5 * spreads * binance_model.tick_size
    assert (np.abs(binance_model.table.to_numpy()) <= half[None, :]).all()


def test_stoikov_microprice_binance_within_spread(binance, binance_model):
    p = stoikov_microprice(binance, binance_model, outside="zero")
    assert p.name == "stoikov_microprice" and (p.index == binance.index).all()
    assert ((p >= binance["bid_px"]) & (p <= binance["ask_px"])).all()
    adj = binance_model.adjust(binance, outside="zero")
    np.testing.assert_allclose(p.to_numpy(), mid(binance).to_numpy() + adj.to_numpy())
    with pytest.raises(DataQualityError, match="outside the fitted"):
        stoikov_microprice(binance, binance_model)


def test_fit_microprice_binance_time_grid_sampling(binance):
    model = fit_microprice(binance, n_imbalance=5, max_spread=1, tick_size=0.1, dt="1s")
    span = (binance["ts_exch"].iloc[-1] - binance["ts_exch"].iloc[0]).total_seconds()
    assert model.dt_ns == 1_000_000_000
    assert model.n_transitions + model.n_dropped == pytest.approx(span, abs=2)
    assert (np.diff(model.table[1].to_numpy()) > 0).all()


# ---------------------------------------------------------------- errors


def test_fit_microprice_too_little_data_raises(synthetic):
    n, m, _, quotes = synthetic
    with pytest.raises(InsufficientDataError, match="had 1 rows, needed at least 2"):
        fit_microprice(quotes.iloc[:1], n_imbalance=n, max_spread=m, tick_size=TICK)
    with pytest.raises(InsufficientDataError, match=r"\(bucket \d, spread \d\) had 0"):
        fit_microprice(quotes.iloc[:5], n_imbalance=n, max_spread=m, tick_size=TICK)
    with pytest.raises(InsufficientDataError, match="needed at least 100"):
        fit_microprice(quotes.iloc[:200], n_imbalance=n, max_spread=m, tick_size=TICK,
                       min_obs=100)


def test_fit_microprice_bad_parameters_raise(synthetic):
    n, m, _, quotes = synthetic
    with pytest.raises(ParameterError):
        fit_microprice(quotes, n_imbalance=0, tick_size=TICK)
    with pytest.raises(ParameterError):
        fit_microprice(quotes, tick_size=-1.0)
    with pytest.raises(DataQualityError, match="not a multiple of tick_size"):
        fit_microprice(quotes, n_imbalance=n, max_spread=m, tick_size=0.03)
    with pytest.raises(ParameterError):
        stoikov_microprice(quotes, "model")
    model = fit_microprice(quotes.iloc[:20_000], n_imbalance=n, max_spread=m, tick_size=TICK)
    assert isinstance(model, MicropriceModel)
    with pytest.raises(ParameterError):
        model.adjust(quotes, outside="nan")


# ---------------------------------------------------------------- kernel parity


def _py(f):
    return getattr(f, "py_func", f)  # plain functions under NUMBA_DISABLE_JIT=1


def test_microprice_kernels_match_py_func():
    rng = np.random.default_rng(7)
    n, m, rows = 6, 3, 5_000
    bucket = rng.integers(0, n, rows)
    spread = rng.integers(0, m + 2, rows)
    mid2 = np.cumsum(rng.integers(-3, 4, rows))
    outs = []
    for f in (_k.count_transitions, _py(_k.count_transitions)):
        arrs = (np.zeros((n * m, n * m), np.int64), np.zeros((n * m, n * m), np.int64),
                np.zeros((n * m, 4), np.int64), np.zeros(n * m, np.int64))
        outs.append((f(bucket, spread, mid2, n, m, 2, *arrs), arrs))
    assert outs[0][0] == outs[1][0] > 0
    for a, b in zip(outs[0][1], outs[1][1]):
        assert np.array_equal(a, b)
    assert outs[0][1][0].sum() + outs[0][1][1].sum() == 2 * (rows - 1 - outs[0][0])

    table = rng.normal(size=n * m)
    a, b = np.empty(rows), np.empty(rows)
    assert _k.lookup_adjustment(bucket, spread, table, n, m, a) == \
        _py(_k.lookup_adjustment)(bucket, spread, table, n, m, b)
    assert np.array_equal(a, b)
