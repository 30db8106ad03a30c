"""qlib.sweep.SweepCluster: one LocalCluster shared by several sweeps, closed quietly."""

from __future__ import annotations

import _sweep_tasks as T
import pytest

from qlib.errors import ParameterError
from qlib.sweep import SweepCluster, sweep

distributed = pytest.importorskip("distributed")


def test_sweep_cluster_two_sweeps_share_the_workers_then_close_without_traceback(capfd):
    def pid_task(day, a):  # nested: cloudpickle ships it by value
        import os

        return {"pid": os.getpid(), "warmed": os.environ.get("QLIB_SWEEP_TEST_WARMED")}

    with SweepCluster(n_workers=2) as cluster:
        workers = set(cluster.client.scheduler_info()["workers"])
        first = sweep(pid_task, {"a": [1, 2, 3, 4]}, days=[1], client=cluster,
                      warm=T.warm_marker, progress=False)
        second = sweep(pid_task, {"a": [5, 6, 7, 8]}, days=[1], client=cluster,
                       progress=False)
        assert repr(cluster) == "SweepCluster(2 workers)"

    assert len(workers) == 2
    for res in (first, second):
        assert (res.frame["status"] == "ok").all()
        assert set(res.frame["worker"]) <= workers
    # the second sweep ran in the processes the first sweep's warm hook marked
    assert (second.frame["warmed"] == second.frame["pid"].astype(str)).all()
    assert set(first.warm_s) == workers
    assert cluster.closed and repr(cluster) == "SweepCluster(closed)"
    assert cluster._cluster.status.name == "closed"
    cluster.close()  # a second close does nothing
    err = capfd.readouterr().err
    assert "Traceback" not in err
    assert "CommClosedError" not in err
    assert "still alive after" not in err


def test_sweep_cluster_closed_is_refused_by_sweep():
    cluster = SweepCluster(n_workers=1)
    cluster.close()

    with pytest.raises(ParameterError, match="closed SweepCluster"):
        sweep(T.linear, {"a": [1], "b": [2]}, days=[1], client=cluster, progress=False)


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_sweep_cluster_bad_n_workers_raises_parameter_error(n):
    with pytest.raises(ParameterError, match=f"n_workers was {n!r}, expected a positive int"):
        SweepCluster(n_workers=n)
