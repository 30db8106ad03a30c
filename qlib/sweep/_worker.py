"""Code that runs on a sweep's workers (or in-process for the sync scheduler).

Everything a worker receives from the client is ``cloudpickle`` bytes, unpickled here
inside a ``try``: a function whose module the worker cannot import then fails its own
task with a clear error instead of breaking the worker's connection to the scheduler
(which is what happens when dask itself fails to unpickle a task).
"""

from __future__ import annotations

import hashlib
import time
import traceback as tb
from collections.abc import Mapping
from typing import Any

import cloudpickle
import numpy as np
import pandas as pd

from qlib.sweep._grid import RESERVED_COLUMNS

__all__ = ["default_warm", "run_task", "timed_warm"]

_UNPICKLE_HINT = (
    " (raised while unpickling fn or fixed on the worker: make fn's module importable "
    "there, or call qlib.sweep.register_by_value(module) before the sweep)")

# token -> (fn, fixed); one worker process serves a few sweeps at most.
_COMMON_CACHE: dict[str, tuple[Any, dict[str, Any]]] = {}
_COMMON_CACHE_SIZE = 4


def default_warm() -> None:
    """Import qlib (and with it numpy and numba) on a worker; compile nothing."""
    import qlib  # noqa: F401


def timed_warm(warm_bytes: bytes) -> float:
    """Run a pickled warm hook and return its wall time in seconds."""
    t0 = time.perf_counter()
    warm = cloudpickle.loads(warm_bytes)
    warm()
    return time.perf_counter() - t0


def _worker_name() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "sync"


def _load_common(common: bytes) -> tuple[Any, dict[str, Any]]:
    token = hashlib.sha1(common).hexdigest()
    hit = _COMMON_CACHE.get(token)
    if hit is None:
        hit = cloudpickle.loads(common)
        if len(_COMMON_CACHE) >= _COMMON_CACHE_SIZE:
            _COMMON_CACHE.pop(next(iter(_COMMON_CACHE)))
        _COMMON_CACHE[token] = hit
    return hit


def _as_scalar(key: str, value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value.item()
    if not pd.api.types.is_scalar(value):
        raise TypeError(
            f"result {key!r} was {type(value).__name__}, expected a scalar "
            "(number, str, bool, None or timestamp)")
    return value


def normalize_result(out: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """Turn what fn returned into a dict of scalars, or raise TypeError/ValueError."""
    if isinstance(out, pd.DataFrame):
        if len(out) != 1:
            raise ValueError(f"fn returned a DataFrame of {len(out)} rows, expected one row")
        out = out.iloc[0]
    if isinstance(out, pd.Series):
        out = out.to_dict()
    if not isinstance(out, Mapping):
        raise TypeError(
            f"fn returned {type(out).__name__}, expected a mapping (dict, pandas Series) "
            "of scalars or a one-row DataFrame")
    result = {}
    for key, value in out.items():
        if not isinstance(key, str):
            raise TypeError(f"result key {key!r} was {type(key).__name__}, expected str")
        if key in RESERVED_COLUMNS:
            raise ValueError(f"result key {key!r} collides with a reserved column "
                             f"{list(RESERVED_COLUMNS)}")
        if key in params:
            raise ValueError(f"result key {key!r} collides with the parameter of that name")
        result[key] = _as_scalar(key, value)
    return result


def run_task(common: bytes, task: bytes, retries: int = 0) -> dict[str, Any]:
    """Run one task of a sweep and describe its outcome; never raises an ``Exception``.

    Parameters
    ----------
    common
        ``cloudpickle`` bytes of ``(fn, fixed, has_day)``, shared by all tasks.
    task
        ``cloudpickle`` bytes of ``(day, params)``.
    retries
        Times to re-run ``fn`` after it raised, in this process.

    Returns
    -------
    dict
        ``status`` ("ok"/"error"), ``result`` (dict of scalars), ``error``,
        ``traceback``, ``elapsed_s`` (time in ``fn``, last attempt), ``worker``,
        ``attempts``.
    """
    worker = _worker_name()
    try:
        fn, fixed, has_day = _load_common(common)
        day, params = cloudpickle.loads(task)
    except Exception as exc:  # noqa: BLE001 - reported in the task's row
        return {"status": "error", "result": {}, "error": f"{type(exc).__name__}: {exc}"
                + _UNPICKLE_HINT, "traceback": tb.format_exc(), "elapsed_s": 0.0,
                "worker": worker, "attempts": 0}
    attempts = 0
    while True:
        attempts += 1
        t0 = time.perf_counter()
        try:
            out = fn(day, **params, **fixed) if has_day else fn(**params, **fixed)
            elapsed = time.perf_counter() - t0
            result = normalize_result(out, params)
        except Exception as exc:  # noqa: BLE001 - reported in the task's row
            elapsed = time.perf_counter() - t0
            if attempts <= retries:
                continue
            return {"status": "error", "result": {}, "error": f"{type(exc).__name__}: {exc}",
                    "traceback": tb.format_exc(), "elapsed_s": elapsed, "worker": worker,
                    "attempts": attempts}
        return {"status": "ok", "result": result, "error": None, "traceback": None,
                "elapsed_s": elapsed, "worker": worker, "attempts": attempts}
