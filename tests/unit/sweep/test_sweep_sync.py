"""qlib.sweep with the in-process sync scheduler: rows, columns, results, failures."""

from __future__ import annotations

import _sweep_tasks as T
import numpy as np
import pandas as pd
import pytest

from qlib.errors import InsufficientDataError, ParameterError
from qlib.plots.sweep import sweep_heatmap
from qlib.sweep import SweepError, SweepResult, sweep


def _run(fn, grid, days=None, **kw):
    return sweep(fn, grid, days, scheduler="sync", progress=False, **kw)


def test_sweep_sync_rows_follow_grid_then_days_order():
    res = _run(T.linear, {"a": [1, 2], "b": [0, 10]}, days=[1, 2, 3], fixed={"scale": 2.0})

    f = res.frame
    assert isinstance(res, SweepResult)
    assert list(f.columns) == ["a", "b", "day", "y", "pid", "status", "error", "traceback",
                               "elapsed_s", "worker", "attempts"]
    assert f.index.name == "task" and list(f.index) == list(range(12))
    assert f[["a", "b", "day"]].to_numpy().tolist() == [
        [a, b, d] for a in (1, 2) for b in (0, 10) for d in (1, 2, 3)]
    assert f["y"].tolist() == [(d * a + b) * 2.0 for a in (1, 2) for b in (0, 10)
                               for d in (1, 2, 3)]
    assert (f["status"] == "ok").all() and (f["worker"] == "sync").all()
    assert res.params == ("a", "b") and res.warm_s.keys() == {"sync"}
    assert len(res.ok) == 12 and len(res.failed) == 0
    assert res.raise_if_failed() is res


def test_sweep_sync_without_days_calls_fn_without_day_and_accepts_series():
    res = _run(T.no_day, [{"a": 1, "b": 2}, {"a": 5, "b": 5}])

    assert res.frame["s"].tolist() == [3, 10]
    assert res.frame["day"].isna().all()


def test_sweep_sync_one_row_dataframe_result_becomes_columns():
    res = _run(T.one_row_frame, {"a": [2, 3]}, days=[10])

    assert res.frame["y"].tolist() == [20, 30]
    assert res.frame["z"].tolist() == [2.0, 3.0]


def test_sweep_sync_non_mapping_result_is_an_error_row():
    res = _run(T.returns_list, {"a": [1]}, days=[1])

    row = res.frame.iloc[0]
    assert row["status"] == "error"
    assert row["error"].startswith("TypeError: fn returned list, expected a mapping")


def test_sweep_sync_failure_isolated_and_row_names_error():
    res = _run(T.fail_on, {"a": [1, 2, 3]}, days=[1, 2])

    bad = res.failed
    assert bad["a"].tolist() == [2, 2] and bad["day"].tolist() == [1, 2]
    assert bad["error"].tolist() == ["ValueError: a=2 is the bad value"] * 2
    assert all("fail_on" in t and "ValueError" in t for t in bad["traceback"])
    assert bad["y"].isna().all()
    assert res.ok["y"].tolist() == [1, 2, 3, 6]


def test_sweep_sync_retries_rerun_a_failing_task():
    res = _run(T.flaky, {"a": [101, 102]}, days=[7], retries=1)

    assert (res.frame["status"] == "ok").all()
    assert res.frame["attempts"].tolist() == [2, 2]


def test_raise_if_failed_lists_failed_parameter_sets():
    res = _run(T.fail_on, {"a": [1, 2]}, days=[5])

    with pytest.raises(SweepError) as info:
        res.raise_if_failed()

    msg = str(info.value)
    assert "1 of 2 sweep tasks failed" in msg
    assert "{'a': 2}, day=5: ValueError: a=2 is the bad value" in msg
    assert info.value.failed["a"].tolist() == [2]


def test_all_failed_returns_frame_and_raise_if_failed_raises():
    res = _run(T.always_fail, {"a": [1, 2]}, days=[1, 2])

    assert len(res.frame) == 4 and (res.frame["status"] == "error").all()
    with pytest.raises(SweepError, match="all 4 sweep tasks failed"):
        res.raise_if_failed()


def test_warm_failure_raises_sweep_error():
    def bad_warm():
        raise RuntimeError("no cache dir")

    with pytest.raises(SweepError, match="warm hook failed.*no cache dir"):
        _run(T.linear, {"a": [1], "b": [1]}, days=[1], warm=bad_warm)


def test_pivot_means_over_days_and_heatmap_has_titles_and_hover():
    res = _run(T.linear, {"a": [1, 2, 3], "b": [0, 10]}, days=[1, 3])

    table = res.pivot("y", index="b", columns="a")
    expected = res.frame.groupby(["b", "a"])["y"].mean().unstack("a")
    pd.testing.assert_frame_equal(table, expected, check_names=False)
    assert table.loc[10, 2] == np.mean([1 * 2 + 10, 3 * 2 + 10])

    fig = sweep_heatmap(res, "y", x="a", y="b")
    (trace,) = fig.data
    assert trace.type == "heatmap"
    assert np.asarray(trace.z).shape == (2, 3)
    assert list(trace.x) == ["1", "2", "3"] and list(trace.y) == ["0", "10"]
    assert fig.layout.xaxis.title.text == "a" and fig.layout.yaxis.title.text == "b"
    assert "a=%{x}" in trace.hovertemplate and "y (mean)" in trace.hovertemplate
    assert np.asarray(trace.customdata).tolist() == [[2, 2, 2], [2, 2, 2]]
    assert sweep_heatmap(res.frame, "y", x="a", y="b", aggfunc="max").data[0].z[0][0] == 3


def test_pivot_uses_ok_rows_only_and_rejects_unknown_columns():
    res = _run(T.fail_on, {"a": [1, 2, 3]}, days=[1, 2])

    table = res.pivot("y", index="day", columns="a")
    assert list(table.columns) == [1, 3]
    with pytest.raises(ParameterError, match="value 'sharpe' is not a column"):
        res.pivot("sharpe", index="day", columns="a")
    with pytest.raises(ParameterError, match="columns 'c' is not a column"):
        res.heatmap("y", x="c", y="day")


def test_pivot_all_failed_raises_insufficient_data():
    res = _run(T.always_fail, {"a": [1]}, days=[1])

    with pytest.raises(InsufficientDataError, match="0 ok rows"):
        res.pivot("a", index="day", columns="a")
