"""Bad arguments of :func:`qlib.book.depth_snapshots` end in a ParameterError naming them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from qlib.book import depth as depth_mod
from qlib.book import depth_snapshots
from qlib.book.depth import MAX_GRID_ROWS, MAX_LEVELS, MAX_WINDOW
from qlib.data import simulate
from qlib.errors import ParameterError


@pytest.fixture(scope="module")
def md():
    return simulate(n_events=2_000, seed=5)


@pytest.mark.parametrize(("levels", "shown"), [
    (10**9, "1000000000"), (MAX_LEVELS + 1, str(MAX_LEVELS + 1)), (0, "0"), (-3, "-3"),
    (np.int64(0), "0"), (2.0, "2.0"), ("10", "'10'"), (True, "True"),
])
def test_depth_snapshots_bad_levels_raises_parameter_error_naming_value(md, levels, shown):
    # Arrange: md; Act / Assert: raised before anything is allocated
    with pytest.raises(ParameterError, match=rf"^levels must be an int in \[1, {MAX_LEVELS}\] "
                                             rf"\(MAX_LEVELS\), was {shown}$"):
        depth_snapshots(md, levels=levels)


def test_depth_snapshots_levels_at_maximum_is_accepted(md):
    df = depth_snapshots(md.between(None, int(md.events["ts_exch"][300])), levels=MAX_LEVELS,
                         every="1s")
    assert df.shape[1] == 1 + 4 * MAX_LEVELS


@pytest.mark.parametrize(("window", "shown"), [
    (-1, "-1"), (8, "8"), (100, "100"), (np.int64(100), "100"),
    (2 * MAX_WINDOW, str(2 * MAX_WINDOW)),
    ("x", "'x'"), (True, "True"), (64.0, "64.0"),
])
def test_depth_snapshots_bad_window_raises_parameter_error_naming_value(md, window, shown):
    with pytest.raises(ParameterError, match=rf"^window must be a power of two in \[16, "
                                             rf"{MAX_WINDOW}\] \(ticks\), was {shown}$"):
        depth_snapshots(md, window=window)


@pytest.mark.parametrize(("every", "pattern"), [
    (object, r"was <class 'object'>$"),
    ([1], r"was \[1\]$"),
    ("1 parsec", r"was '1 parsec'$"),
    ("1ME", r"was '1ME'$"),
    (pd.DateOffset(months=1), r"was <DateOffset: months=1>$"),
    (pd.Timedelta("NaT"), r"was NaT$"),
    (np.timedelta64("NaT"), r"was NaT$"),
    (5, r"was 5: a bare number has no unit$"),
    (np.int64(5), r"was 5: a bare number has no unit$"),
    (1.5, r"was 1\.5: a bare number has no unit$"),
    (True, r"was True: a bare number has no unit$"),
])
def test_depth_snapshots_garbage_every_raises_parameter_error_naming_value(md, every, pattern):
    with pytest.raises(ParameterError, match=r"^every must be a fixed pandas offset or Timedelta "
                                             r"\(e\.g\. '1s'\), " + pattern):
        depth_snapshots(md, every=every)


@pytest.mark.parametrize(("every", "shown"), [("-1s", "'-1s'"), ("0s", "'0s'"),
                                              (dt.timedelta(0), r"datetime\.timedelta\(0\)")])
def test_depth_snapshots_non_positive_every_raises(md, every, shown):
    with pytest.raises(ParameterError, match=rf"^every must be positive, was {shown}$"):
        depth_snapshots(md, every=every)


def test_depth_snapshots_every_too_fine_raises_naming_grid_size(md):
    # Arrange: 1 ns over the data's span is billions of grid times
    span = int(md.events["ts_exch"][-1]) - int(md.events["ts_exch"][0])
    assert span > MAX_GRID_ROWS
    # Act / Assert
    with pytest.raises(ParameterError, match=rf"^every='1ns' gives [\d,]+ grid times .* more than "
                                             rf"MAX_GRID_ROWS \({MAX_GRID_ROWS:,}\)"):
        depth_snapshots(md, every="1ns")


def test_depth_snapshots_out_of_memory_raises_parameter_error_with_size(md, monkeypatch):
    # Arrange: the allocation fails as it would for a result larger than the machine
    def no_memory(*args, **kwargs):
        raise MemoryError("Unable to allocate")

    monkeypatch.setattr(depth_mod, "_replay_rows", no_memory)
    # Act / Assert
    with pytest.raises(ParameterError, match=r"^levels=500 over [\d,]+ rows needs about "
                                             r"[\d.,]+ GiB.*pass fewer levels, or every="):
        depth_snapshots(md, levels=500)


def test_depth_snapshots_at_last_only_not_bool_raises(md):
    with pytest.raises(ParameterError, match=r"at_last_only must be a bool, was 'no'"):
        depth_snapshots(md, at_last_only="no")
