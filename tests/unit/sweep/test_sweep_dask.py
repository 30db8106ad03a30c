"""qlib.sweep on dask.distributed: one LocalCluster (2 workers) for the whole module."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import _sweep_tasks as T
import pandas as pd
import pytest

from qlib.errors import EngineError
from qlib.sweep import SweepError, register_by_value, sweep

distributed = pytest.importorskip("distributed")

HERE = Path(__file__).resolve().parent

_VOLATILE = ["elapsed_s", "worker", "pid"]


def _add_to_path(path: str) -> None:
    if path not in sys.path:
        sys.path.insert(0, path)


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as lc:
        yield lc


@pytest.fixture(scope="module")
def client(cluster) -> Iterator[distributed.Client]:
    with distributed.Client(cluster) as cl:
        # spawned workers inherit sys.path, but make the task module importable anyway
        cl.run(_add_to_path, str(HERE))
        yield cl


def _run(fn, grid, days=None, **kw):
    kw.setdefault("progress", False)
    return sweep(fn, grid, days, **kw)


def test_sweep_dask_rows_in_task_order_whatever_finishes_first(client):
    res = _run(T.sleepy, {"a": [0, 1, 2, 3]}, days=[1, 2], client=client)

    f = res.frame
    assert list(f.index) == list(range(8))
    assert f[["a", "day"]].to_numpy().tolist() == [[a, d] for a in range(4) for d in (1, 2)]
    assert f["y"].tolist() == [a * 10 + d for a in range(4) for d in (1, 2)]
    assert set(f["worker"]) <= set(client.scheduler_info()["workers"])
    assert client.status == "running"  # a given client is left open


def test_sweep_dask_failure_isolated_and_row_names_parameters(client):
    res = _run(T.fail_on, {"a": [1, 2, 3], "bad": [2]}, days=[1, 2], client=client)

    bad = res.failed
    assert len(res.ok) == 4 and (res.ok["y"] == res.ok["a"] * res.ok["day"]).all()
    assert bad[["a", "bad", "day"]].to_numpy().tolist() == [[2, 2, 1], [2, 2, 2]]
    assert (bad["error"] == "ValueError: a=2 is the bad value").all()
    assert bad["traceback"].str.contains("raise ValueError").all()
    with pytest.raises(SweepError, match=r"task 2: \{'a': 2, 'bad': 2\}, day=1"):
        res.raise_if_failed()


def test_sweep_dask_all_failed_returns_frame_then_raise_if_failed(client):
    res = _run(T.always_fail, {"a": [1, 2]}, days=[1, 2], client=client)

    assert len(res.frame) == 4 and len(res.failed) == 4
    assert res.frame["error"].str.startswith("RuntimeError: boom").all()
    with pytest.raises(SweepError, match="all 4 sweep tasks failed") as info:
        res.raise_if_failed()
    assert "task 3: {'a': 2}, day=2" in str(info.value)


def test_sweep_dask_equals_sync(client):
    grid = {"a": [1, 2], "b": [0, 5, 7]}
    kw = {"days": [1, 2], "fixed": {"scale": 0.5}}

    on_dask = _run(T.linear, grid, client=client, **kw).frame.drop(columns=_VOLATILE)
    in_proc = _run(T.linear, grid, scheduler="sync", **kw).frame.drop(columns=_VOLATILE)

    pd.testing.assert_frame_equal(on_dask, in_proc)


def test_sweep_dask_numba_task_equals_direct_call(client):
    grid = {"half_life": [5.0, 20.0], "threshold": [0.5, 1.0, 2.0, 4.0]}

    res = _run(T.numba_task, grid, days=[1, 2], client=client, warm=T.warm_marker)

    res.raise_if_failed()
    direct = [T.numba_task(d, h, t)["pnl"] for h in grid["half_life"]
              for t in grid["threshold"] for d in (1, 2)]
    assert res.frame["pnl"].tolist() == direct  # bit-identical
    stats = client.run(T.numba_stats)
    assert all(s["hits"] + s["misses"] >= 1 for s in stats.values())


def test_sweep_dask_warm_hook_runs_once_on_each_worker(client):
    client.run(os.environ.pop, "QLIB_SWEEP_TEST_WARMED", None)

    res = _run(T.linear, {"a": [1], "b": [2]}, days=[1], client=client, warm=T.warm_marker)

    marks = client.run(T.warmed_pid)
    workers = set(client.scheduler_info()["workers"])
    assert set(marks) == workers and all(m is not None for m in marks.values())
    assert set(res.warm_s) == workers and all(s >= 0 for s in res.warm_s.values())


def test_sweep_dask_warm_failure_raises_sweep_error(client):
    with pytest.raises(SweepError, match="warm hook failed on a worker"):
        _run(T.linear, {"a": [1], "b": [2]}, days=[1], client=client, warm=T.always_fail)
    assert client.status == "running"


def test_sweep_address_connects_and_leaves_cluster_running(cluster, client):
    res = _run(T.linear, {"a": [1, 2], "b": [3]}, days=[4], address=cluster.scheduler_address)

    assert res.frame["y"].tolist() == [7.0, 11.0]
    assert client.submit(sum, [1, 2]).result() == 3  # the cluster still serves


def test_sweep_address_unreachable_raises_engine_error():
    import dask

    with (dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
          pytest.raises(EngineError, match="tcp://127.0.0.1:9")):
        _run(T.linear, {"a": [1], "b": [1]}, address="tcp://127.0.0.1:9")


def test_sweep_fn_module_unknown_to_workers_fails_rows_then_by_value_works(client, tmp_path):
    mod_dir = tmp_path / "adhoc"
    mod_dir.mkdir()
    (mod_dir / "qlib_sweep_adhoc_task.py").write_text(textwrap.dedent("""
        def task(day, a):
            return {"y": a + day}
    """))
    sys.path.insert(0, str(mod_dir))
    try:
        import qlib_sweep_adhoc_task as adhoc

        res = _run(adhoc.task, {"a": [1, 2]}, days=[1], client=client)
        assert (res.frame["status"] == "error").all()
        assert res.frame["error"].str.contains("ModuleNotFoundError").all()
        assert res.frame["error"].str.contains("register_by_value").all()

        register_by_value(adhoc)
        res = _run(adhoc.task, {"a": [1, 2]}, days=[1], client=client)
        assert res.frame["y"].tolist() == [2, 3]
    finally:
        import cloudpickle
        from numba import cloudpickle as numba_cloudpickle

        sys.path.remove(str(mod_dir))
        for pickler in (cloudpickle, numba_cloudpickle):
            pickler.unregister_pickle_by_value(sys.modules["qlib_sweep_adhoc_task"])
        sys.modules.pop("qlib_sweep_adhoc_task", None)


def test_sweep_own_local_cluster_sets_numba_threads_and_closes(monkeypatch):
    monkeypatch.delenv("NUMBA_NUM_THREADS", raising=False)

    res = _run(T.numba_threads, {"a": [1, 2]}, days=[1], n_workers=2)

    assert res.frame["threads"].tolist() == [1, 1]
    assert res.frame["worker"].str.startswith("tcp://").all()
    assert "NUMBA_NUM_THREADS" not in os.environ  # only the workers got it


def test_sweep_own_local_cluster_closed_on_keyboard_interrupt(monkeypatch):
    from qlib.sweep import core

    started = []

    class RecordingCluster(distributed.LocalCluster):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(distributed, "LocalCluster", RecordingCluster)
    monkeypatch.setattr(core, "_run_dask", interrupted)

    with pytest.raises(KeyboardInterrupt):
        _run(T.linear, {"a": [1], "b": [2]}, days=[1], n_workers=1)

    (lc,) = started
    assert lc.status.name == "closed"
