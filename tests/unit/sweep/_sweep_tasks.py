"""Task functions for the sweep tests.

Module level, so the workers import them by name: pytest puts this directory on sys.path
and spawned dask workers inherit it (the dask tests also add it on each worker).
"""

from __future__ import annotations

import os

import numba
import numpy as np
import pandas as pd


@numba.njit(cache=True)
def ewma_signal_pnl(seed: int, half_life: float, threshold: float, n: int) -> float:
    """Toy kernel: PnL of trading the sign of an EWMA of a seeded random walk's returns."""
    np.random.seed(seed)
    alpha = 1.0 - 0.5 ** (1.0 / half_life)
    ewma = 0.0
    pos = 0.0
    pnl = 0.0
    for _ in range(n):
        ret = np.random.standard_normal() * 1e-4
        pnl += pos * ret
        ewma = alpha * ret + (1.0 - alpha) * ewma
        if ewma > threshold * 1e-5:
            pos = 1.0
        elif ewma < -threshold * 1e-5:
            pos = -1.0
    return pnl


def numba_task(day: int, half_life: float, threshold: float, n: int = 20_000) -> dict:
    """One day of the toy strategy: ``day`` is the simulated market's seed."""
    return {"pnl": ewma_signal_pnl(day, half_life, threshold, n), "n": n}


def linear(day: int, a: int, b: int, scale: float = 1.0) -> dict:
    """Return ``day * a + b`` scaled, and the worker's pid (to see the tasks spread)."""
    return {"y": (day * a + b) * scale, "pid": os.getpid()}


def no_day(a: int, b: int) -> pd.Series:
    """Task without a day argument, returning a Series."""
    return pd.Series({"s": a + b})


def one_row_frame(day: int, a: int) -> pd.DataFrame:
    """Task returning a one-row DataFrame."""
    return pd.DataFrame({"y": [a * day], "z": [float(a)]})


def fail_on(day: int, a: int, bad: int = 2) -> dict:
    """Raise for ``a == bad``, succeed otherwise."""
    if a == bad:
        raise ValueError(f"a={a} is the bad value")
    return {"y": a * day}


def always_fail(day: int, a: int) -> dict:
    """Raise for every task."""
    raise RuntimeError(f"boom a={a} day={day}")


def sleepy(day: int, a: int) -> dict:
    """Finish in reverse order of ``a`` so completion order differs from task order."""
    import time

    time.sleep(0.05 * (4 - a))
    return {"y": a * 10 + day}


def returns_list(day: int, a: int) -> list:
    """Return something that is not a mapping."""
    return [a, day]


_FLAKY_CALLS: dict[tuple, int] = {}


def flaky(day: int, a: int) -> dict:
    """Fail on the first call for each ``(day, a)`` in this process, succeed afterwards."""
    n = _FLAKY_CALLS[(day, a)] = _FLAKY_CALLS.get((day, a), 0) + 1
    if n == 1:
        raise OSError("transient")
    return {"y": a}


def numba_threads(day: int, a: int) -> dict:
    """Report NUMBA_NUM_THREADS as numba sees it in the worker."""
    return {"threads": numba.config.NUMBA_NUM_THREADS}


def warm_marker() -> None:
    """Warm hook: compile the kernel and leave a mark in the worker's environment."""
    ewma_signal_pnl(0, 5.0, 1.0, 10)
    os.environ["QLIB_SWEEP_TEST_WARMED"] = str(os.getpid())


def warmed_pid() -> str | None:
    """The mark :func:`warm_marker` left in this process, if any."""
    return os.environ.get("QLIB_SWEEP_TEST_WARMED")


def numba_stats() -> dict:
    """Cache hits/misses of the kernel in this process."""
    st = getattr(ewma_signal_pnl, "stats", None)
    if st is None:  # NUMBA_DISABLE_JIT=1: a plain Python function
        return {"hits": 0, "misses": 1, "threads": numba.config.NUMBA_NUM_THREADS}
    return {"hits": sum(st.cache_hits.values()), "misses": sum(st.cache_misses.values()),
            "threads": numba.config.NUMBA_NUM_THREADS}
