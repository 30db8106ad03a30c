"""Grid expansion and input validation of qlib.sweep (no cluster needed)."""

from __future__ import annotations

import threading

import _sweep_tasks as T
import numpy as np
import pytest

from qlib.errors import ParameterError, QlibError
from qlib.sweep import RESERVED_COLUMNS, SweepError, expand_grid, sweep


def test_expand_grid_mapping_is_product_with_last_key_fastest():
    points, names = expand_grid({"a": [1, 2], "b": ("x", "y"), "c": np.array([0.5])})

    assert names == ["a", "b", "c"]
    assert points == [{"a": 1, "b": "x", "c": 0.5}, {"a": 1, "b": "y", "c": 0.5},
                      {"a": 2, "b": "x", "c": 0.5}, {"a": 2, "b": "y", "c": 0.5}]


def test_expand_grid_list_of_dicts_keeps_order_and_unions_names():
    points, names = expand_grid([{"b": 2, "a": 1}, {"a": 3}, {"c": 4}])

    assert points == [{"b": 2, "a": 1}, {"a": 3}, {"c": 4}]
    assert names == ["b", "a", "c"]


def test_expand_grid_range_values_accepted():
    points, _ = expand_grid({"n": range(3)})

    assert [p["n"] for p in points] == [0, 1, 2]


@pytest.mark.parametrize(("grid", "needle"), [
    ({}, "grid was empty"),
    ([], "grid was empty"),
    ({"a": []}, "grid['a'] was empty"),
    ({"a": 3}, "grid['a'] was int"),
    ({"a": "abc"}, "grid['a'] was str"),
    ({"a": {1, 2}}, "grid['a'] was set"),
    ({"day": [1]}, "'day' collides"),
    ({"status": [1]}, "'status' collides"),
    ({"error": [1]}, "'error' collides"),
    ({"not an id": [1]}, "'not an id' is not a valid"),
    ([{"a": 1}, 5], "grid[1] was int"),
    ([{"worker": 1}], "'worker' collides"),
    (42, "grid was int"),
])
def test_sweep_bad_grid_raises_parameter_error_naming_it(grid, needle):
    with pytest.raises(ParameterError) as info:
        sweep(T.linear, grid, days=[1], scheduler="sync", progress=False)

    assert needle in str(info.value)
    assert isinstance(info.value, (QlibError, ValueError))


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"fn": 42}, "fn was int"),
    ({"days": []}, "days was empty"),
    ({"days": "2024-01-02"}, "days was str"),
    ({"fixed": {"a": 1}}, "fixed parameter 'a'"),
    ({"fixed": {"day": 1}}, "'day' collides"),
    ({"fixed": [1]}, "fixed was list"),
    ({"progress": "yes"}, "progress was 'yes'"),
    ({"retries": -1}, "retries was -1"),
    ({"warm": 3}, "warm was int"),
    ({"scheduler": "threads"}, "scheduler was 'threads'"),
    ({"client": "processes"}, "client was 'processes'"),
    ({"client": object(), "address": "tcp://x:1"}, "client and address"),
    ({"address": "tcp://x:1", "n_workers": 2}, "n_workers"),
    ({"n_workers": 0}, "n_workers was 0"),
])
def test_sweep_bad_option_raises_parameter_error_naming_it(kwargs, needle):
    args = {"fn": T.linear, "grid": {"a": [1], "b": [2]}, "days": [1], "progress": False}
    args.update(kwargs)
    if "client" not in kwargs and "address" not in kwargs and "n_workers" not in kwargs:
        args.setdefault("scheduler", "sync")

    with pytest.raises(ParameterError) as info:
        sweep(**args)

    assert needle in str(info.value)


def test_sweep_unpicklable_fixed_raises_before_any_cluster_starts():
    with pytest.raises(ParameterError, match="fn or fixed could not be pickled"):
        sweep(T.linear, {"a": [1]}, days=[1], fixed={"b": threading.Lock()}, progress=False,
              n_workers=1)


def test_reserved_columns_cover_the_frame_tail():
    for name in ("day", "status", "error", "traceback", "elapsed_s", "worker", "attempts"):
        assert name in RESERVED_COLUMNS


def test_sweep_error_is_a_qlib_error():
    assert issubclass(SweepError, QlibError)
    assert issubclass(SweepError, RuntimeError)
