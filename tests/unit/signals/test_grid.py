"""Time and event grids shared by the interval-based signals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qlib.errors import DataQualityError, InsufficientDataError, ParameterError
from qlib.signals._grid import aggregate, event_grid, require_nonempty, time_grid


def test_time_grid_bins_are_left_closed_and_epoch_aligned():
    g = time_grid(np.array([1_500, 1_999, 2_000, 4_100], dtype=np.int64), 1_000)
    assert g.bins.tolist() == [0, 0, 1, 3]
    assert g.counts.tolist() == [2, 1, 0, 1]
    assert g.labels.asi8.tolist() == [1_000, 2_000, 3_000, 4_000]


def test_time_grid_matches_pandas_resample():
    ts = pd.to_datetime(np.cumsum(np.random.default_rng(0).integers(1, 10**9, 500)), unit="ns",
                        utc=True)
    v = np.arange(500.0)
    g = time_grid(pd.Series(ts), "2s")
    ref = pd.Series(v, index=ts).resample("2s")
    np.testing.assert_allclose(aggregate(g, v, "sum"), ref.sum().to_numpy())
    np.testing.assert_allclose(aggregate(g, v, "last"), ref.last().to_numpy(), equal_nan=True)
    np.testing.assert_allclose(aggregate(g, v, "max"), ref.max().to_numpy(), equal_nan=True)
    assert (g.labels == ref.sum().index).all()


def test_event_grid_partial_bin_kept_or_dropped():
    assert event_grid(5, 2).counts.tolist() == [2, 2, 1]
    g = event_grid(5, 2, drop_partial=True)
    assert g.counts.tolist() == [2, 2] and g.bins.tolist() == [0, 0, 1, 1, -1]
    assert aggregate(g, [1, 2, 3, 4, 5], "sum").tolist() == [3.0, 7.0]


def test_require_nonempty_empty_bin_raises_with_counts():
    g = time_grid(np.array([0, 3_500], dtype=np.int64), 1_000)
    with pytest.raises(InsufficientDataError, match="had 0 trades, needed 1"):
        require_nonempty(g, "trades")


def test_grid_bad_inputs_raise():
    with pytest.raises(ParameterError):
        time_grid(np.array([0, 1], dtype=np.int64), "0s")
    with pytest.raises(DataQualityError):
        time_grid(np.array([5, 1], dtype=np.int64), 1)
    with pytest.raises(InsufficientDataError):
        event_grid(0, 3)
    with pytest.raises(ParameterError):
        event_grid(10, 0)
