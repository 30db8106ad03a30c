"""``sweep``: run a function over a parameter grid x days on dask.distributed."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import cloudpickle
import pandas as pd

from qlib.errors import EngineError, ParameterError
from qlib.sweep._grid import check_days, check_fixed, expand_grid
from qlib.sweep._worker import default_warm, run_task, timed_warm
from qlib.sweep.errors import SweepError
from qlib.sweep.result import SweepResult

__all__ = ["SweepCluster", "register_by_value", "sweep"]

_TAIL = ("status", "error", "traceback", "elapsed_s", "worker", "attempts")


def register_by_value(module: Any) -> None:
    """Ship ``module``'s functions to workers by value instead of by import.

    Use it when the workers cannot import the module that defines ``fn`` (a script
    directory, a test folder, a remote cluster without the code). Registers the module
    with ``cloudpickle`` and with numba's vendored copy of it, so ``@njit`` functions
    that ``fn`` calls travel too. Functions rebuilt from a by-value pickle are compiled
    once per worker process: numba's on-disk cache (``cache=True``) is not used for them.

    Parameters
    ----------
    module
        An imported module object (not its name).
    """
    cloudpickle.register_pickle_by_value(module)
    try:
        from numba import cloudpickle as numba_cloudpickle
    except ImportError:  # pragma: no cover - numba is a dependency
        return
    numba_cloudpickle.register_pickle_by_value(module)


def _in_ipython() -> bool:
    ipython = sys.modules.get("IPython")
    return ipython is not None and ipython.get_ipython() is not None


def _show_progress(progress: bool | str) -> bool:
    if isinstance(progress, bool):
        return progress
    if progress == "auto":
        isatty = getattr(sys.stdout, "isatty", None)
        return bool(isatty and isatty()) or _in_ipython()
    raise ParameterError(f"progress was {progress!r}, expected True, False or 'auto'")


def _pickle(obj: Any, what: str) -> bytes:
    try:
        return cloudpickle.dumps(obj)
    except Exception as exc:
        raise ParameterError(
            f"{what} could not be pickled by cloudpickle ({type(exc).__name__}: {exc}); "
            "use module-level functions and picklable values, or scheduler='sync'") from exc


def _resolve_mode(client: Any, address: str | None, n_workers: int | None,
                  scheduler: str | None) -> str:
    if scheduler not in (None, "sync", "distributed"):
        raise ParameterError(f"scheduler was {scheduler!r}, expected None, 'sync' or "
                             "'distributed'")
    if isinstance(client, SweepCluster):
        if client.closed:
            raise ParameterError("client was a closed SweepCluster, expected an open one")
        client = client.client
    if isinstance(client, str):
        if client != "sync":
            raise ParameterError(f"client was {client!r}, expected a distributed.Client, "
                                 "'sync' or None")
        scheduler = "sync"
        client = None
    if client is not None and address is not None:
        raise ParameterError("client and address were both given, expected at most one")
    if n_workers is not None:
        if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
            raise ParameterError(f"n_workers was {n_workers!r}, expected a positive int")
        if client is not None or address is not None:
            raise ParameterError("n_workers applies to the LocalCluster sweep starts itself; "
                                 "it was given together with client/address")
    if scheduler == "sync":
        if client is not None or address is not None:
            raise ParameterError("scheduler='sync' runs in-process; client/address were given")
        return "sync"
    if client is not None:
        return "client"
    return "address" if address is not None else "local"


@contextlib.contextmanager
def _numba_threads_env(n: str) -> Iterator[None]:
    """Set NUMBA_NUM_THREADS for worker processes spawned inside the block only."""
    import dask

    before = os.environ.get("NUMBA_NUM_THREADS")
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ.NUMBA_NUM_THREADS": n}):
            yield
    finally:  # the nanny writes pre-spawn variables into this process's environment
        if before is None:
            os.environ.pop("NUMBA_NUM_THREADS", None)
        else:
            os.environ["NUMBA_NUM_THREADS"] = before


class _ShutdownNoise(logging.Filter):
    """Drop the two log lines dask writes while a LocalCluster we own shuts down.

    Both come after every task result has been gathered and say nothing about the
    sweep: the nanny kills a worker that takes more than its fixed 4 s to exit (a
    process that has loaded the numba kernels can, on a busy machine), and a worker's
    heartbeat already in flight when its connection closes is logged with a
    ``CommClosedError`` traceback (distributed 2026.8, ``Worker.heartbeat``).
    """

    MESSAGES = ("Worker process still alive after",
                "Failed to communicate with scheduler during heartbeat")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.MESSAGES)


def _quiet_worker_shutdown() -> None:
    """Run on each worker just before the cluster closes (see :class:`_ShutdownNoise`)."""
    logging.getLogger("distributed.worker").addFilter(_ShutdownNoise())


class SweepCluster:
    """A dask LocalCluster set up for sweeps, shared by several :func:`sweep` calls.

    :func:`sweep` without ``client`` starts its own LocalCluster and closes it when it
    returns: each sweep then pays for starting the worker processes, importing qlib and
    loading the numba kernels in each of them, and rebuilding its day of data there
    (:func:`qlib.engine.tasks.backtest_task` keeps a few days in each process). Several
    sweeps that pass the same ``SweepCluster`` as ``client`` pay for that once, and find
    the data their workers built for the previous sweep.

    The cluster is the one :func:`sweep` starts for itself: ``n_workers`` processes (one
    per CPU by default) of one thread each, no dashboard, ``NUMBA_NUM_THREADS=1`` in the
    workers only. :meth:`close` (or leaving a ``with`` block) shuts it down without dask's
    two shutdown log lines (see :class:`_ShutdownNoise`), so a report that ran sweeps has
    no traceback in it.

    Parameters
    ----------
    n_workers
        Worker processes; default ``os.cpu_count()``.

    Attributes
    ----------
    client
        The connected ``distributed.Client``.

    Raises
    ------
    ParameterError
        If ``n_workers`` is not a positive int.

    Examples
    --------
    >>> with SweepCluster(n_workers=2) as cluster:  # doctest: +SKIP
    ...     a = sweep(task, {"x": [1, 2]}, client=cluster)
    ...     b = sweep(task, {"x": [3, 4]}, client=cluster)
    """

    def __init__(self, n_workers: int | None = None) -> None:
        from distributed import Client, LocalCluster

        if n_workers is not None and (isinstance(n_workers, bool)
                                      or not isinstance(n_workers, int) or n_workers < 1):
            raise ParameterError(f"n_workers was {n_workers!r}, expected a positive int")
        with _numba_threads_env("1"), warnings.catch_warnings():
            # the scheduler's HTTP server (health, metrics) moves off a busy :8787 and says so
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            self._cluster = LocalCluster(n_workers=n_workers or os.cpu_count() or 1,
                                         threads_per_worker=1, processes=True,
                                         dashboard_address=None,
                                         env={"NUMBA_NUM_THREADS": "1"})
        try:
            self.client = Client(self._cluster)
        except BaseException:
            self._cluster.close()
            raise
        self._closed = False

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has run."""
        return self._closed

    def close(self) -> None:
        """Close the client, then the cluster; quietly, and only once."""
        if self._closed:
            return
        self._closed = True
        nanny_log = logging.getLogger("distributed.nanny")
        noise = _ShutdownNoise()
        try:
            with contextlib.suppress(Exception):
                self.client.run(_quiet_worker_shutdown)
            self.client.close()
        finally:
            nanny_log.addFilter(noise)
            try:
                self._cluster.close()
            finally:
                nanny_log.removeFilter(noise)

    def __enter__(self) -> SweepCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self._cluster.workers)} workers"
        return f"SweepCluster({state})"


@contextlib.contextmanager
def _cluster(mode: str, client: Any, address: str | None,
             n_workers: int | None) -> Iterator[Any]:
    """Yield a connected client; close what was opened here, whatever happens."""
    from distributed import Client

    if mode == "client":
        yield client.client if isinstance(client, SweepCluster) else client
        return
    if mode == "address":
        try:
            own = Client(address)
        except (OSError, TimeoutError) as exc:
            raise EngineError(f"could not connect to the dask scheduler at address "
                              f"{address!r}: {type(exc).__name__}: {exc}") from exc
        try:
            yield own
        finally:
            own.close()
        return
    with SweepCluster(n_workers) as own:
        yield own.client


def _error_row(exc: BaseException | None, traceback: Any, worker: str) -> dict[str, Any]:
    import traceback as tb

    text = "".join(tb.format_tb(traceback)) if traceback is not None else None
    return {"status": "error", "result": {},
            "error": f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error",
            "traceback": text, "elapsed_s": float("nan"), "worker": worker, "attempts": 0}


def _run_sync(common: bytes, tasks: list[bytes], retries: int, warm: Callable[[], Any],
              show: bool) -> tuple[list[dict[str, Any]], dict[str, float]]:
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    try:
        warm()
    except Exception as exc:
        raise SweepError(f"warm hook failed in-process: {type(exc).__name__}: {exc}") from exc
    warm_s = {"sync": time.perf_counter() - t0}
    rows = [run_task(common, task, retries)
            for task in tqdm(tasks, total=len(tasks), disable=not show, desc="sweep")]
    return rows, warm_s


def _run_dask(cl: Any, common: bytes, tasks: list[bytes], retries: int, warm_bytes: bytes,
              show: bool) -> tuple[list[dict[str, Any]], dict[str, float]]:
    from distributed import as_completed
    from tqdm.auto import tqdm

    try:
        warm_s = {str(k): float(v) for k, v in cl.run(timed_warm, warm_bytes).items()}
    except Exception as exc:
        raise SweepError(f"warm hook failed on a worker: {type(exc).__name__}: {exc}") from exc
    common_f = cl.scatter(common, broadcast=True, hash=False)
    prefix = f"qlib-sweep-{uuid.uuid4().hex[:12]}"
    futures = [cl.submit(run_task, common_f, task, retries, key=f"{prefix}-{i}", pure=False,
                         retries=retries)
               for i, task in enumerate(tasks)]
    position = {f.key: i for i, f in enumerate(futures)}
    rows: list[dict[str, Any] | None] = [None] * len(tasks)
    try:
        for fut in tqdm(as_completed(futures), total=len(futures), disable=not show,
                        desc="sweep"):
            i = position[fut.key]
            if fut.status == "finished":
                rows[i] = fut.result()
            elif fut.status == "error":
                rows[i] = _error_row(fut.exception(), fut.traceback(), "unknown")
            else:
                rows[i] = _error_row(None, None, "unknown") | {"error": f"task {fut.status}"}
            fut.release()
    finally:
        pending = [f for f in futures if f.status == "pending"]
        if pending:
            cl.cancel(pending)
        cl.cancel([common_f])
    return [r for r in rows if r is not None], warm_s


def _frame(rows: list[dict[str, Any]], points: list[dict[str, Any]],
           day_list: list[Any] | None, names: list[str]) -> pd.DataFrame:
    days = [None] if day_list is None else day_list
    records = []
    result_cols: list[str] = []
    seen: set[str] = set()
    for row in rows:
        for key in row["result"]:
            if key not in seen:
                seen.add(key)
                result_cols.append(key)
    for i, row in enumerate(rows):
        point, day = points[i // len(days)], days[i % len(days)]
        rec = {name: point.get(name) for name in names}
        rec["day"] = day
        rec.update(row["result"])
        rec.update({k: row[k] for k in _TAIL})
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=[*names, "day", *result_cols, *_TAIL])
    frame.index = pd.RangeIndex(len(frame), name="task")
    return frame


def sweep(
    fn: Callable[..., Any],
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
    days: Sequence[Any] | None = None,
    *,
    fixed: Mapping[str, Any] | None = None,
    client: Any = None,
    address: str | None = None,
    n_workers: int | None = None,
    progress: bool | str = "auto",
    retries: int = 0,
    warm: Callable[[], Any] | None = None,
    scheduler: str | None = None,
) -> SweepResult:
    """Run ``fn`` for every parameter set of ``grid`` and every day, on a dask cluster.

    Each task calls ``fn(day, **params, **fixed)`` (``fn(**params, **fixed)`` when
    ``days`` is None) on a worker. A task that raises is reported in its row; the other
    tasks still run, and no task's exception escapes ``sweep`` (call
    :meth:`SweepResult.raise_if_failed` to turn failures into an exception).

    Parameters
    ----------
    fn
        The task function. It returns a mapping (``dict``, ``pandas.Series``) of
        scalars, or a one-row DataFrame; each key becomes a result column. On the dask
        path ``fn`` must be picklable by cloudpickle: module-level functions are
        (shipped by reference, so the workers must import their module; numba's
        ``cache=True`` cache is then used), lambdas and functions defined in
        ``__main__`` or a notebook are shipped by value. For a module the workers cannot
        import, call :func:`register_by_value` first.
    grid
        Mapping of parameter name -> sequence of values, expanded as the Cartesian
        product in key order, last key varying fastest; or an explicit list of
        mappings, kept in order. See :func:`expand_grid`.
    days
        Data identifiers passed as ``fn``'s first positional argument (anything
        picklable: a path, a ``(source, path)`` tuple, a simulated-market seed), or
        ``None`` for one task per grid point and no day argument.
    fixed
        Keyword arguments passed unchanged to every call; shipped to each worker once.
    client
        A ``distributed.Client`` or a :class:`SweepCluster` to use (left open: several
        sweeps share its workers, their imports and their cached data), or ``"sync"``
        (same as ``scheduler="sync"``).
    address
        Scheduler address to connect to with ``distributed.Client(address)``; the
        client is closed afterwards, the cluster left running.
    n_workers
        Worker processes of the LocalCluster started when neither ``client`` nor
        ``address`` is given; default ``os.cpu_count()``. That cluster has one thread
        per worker, no dashboard and ``NUMBA_NUM_THREADS=1`` in its workers (so
        ``parallel=True`` kernels do not oversubscribe the cores), and is closed when
        the sweep returns or raises, KeyboardInterrupt included.
    progress
        ``True``/``False``, or ``"auto"``: a ``tqdm.auto`` bar over completed tasks
        when stdout is a terminal or inside IPython (a widget bar in Jupyter).
    retries
        Times a failed task is re-run (in its worker process; dask also resubmits a
        task whose worker died up to this many times).
    warm
        Zero-argument callable run once on every worker before the tasks, e.g. a
        function that calls the numba kernels once on tiny inputs so that compiling
        (or loading the on-disk cache) is not charged to the first task. Default: import
        qlib. Its per-worker time is :attr:`SweepResult.warm_s`.
    scheduler
        ``"sync"`` runs every task in this process, serially and without dask, with the
        same rows and columns (``worker`` is ``"sync"``): for debugging (breakpoints and
        full tracebacks in-process) and small runs. ``None``/``"distributed"``: dask.

    Returns
    -------
    SweepResult
        ``frame`` has one row per task ordered by its index in the grid x days product
        (grid outer, days inner), whatever order the tasks finished in.

    Raises
    ------
    ParameterError
        If ``fn`` is not callable, the grid is empty or malformed, a parameter name
        collides with a reserved column (``day``, ``status``, ``error``, ...) or with
        ``fixed``, ``days`` is empty, an option is invalid, or ``fn``/``fixed``/a day/a
        parameter value cannot be pickled.
    EngineError
        If no scheduler answers at ``address``.
    SweepError
        If the warm hook raises on a worker.

    Examples
    --------
    >>> def task(day, a, b):
    ...     return {"y": day * a + b}
    >>> res = sweep(task, {"a": [1, 2], "b": [0, 10]}, days=[1, 2], scheduler="sync",
    ...             progress=False)
    >>> res.frame[["a", "b", "day", "y"]].to_numpy().tolist()[:3]
    [[1, 0, 1, 1], [1, 0, 2, 2], [1, 10, 1, 11]]
    >>> res.ok.shape[0], res.failed.shape[0]
    (8, 0)
    """
    t0 = time.perf_counter()
    if not callable(fn):
        raise ParameterError(f"fn was {type(fn).__name__} {fn!r}, expected a callable")
    if warm is not None and not callable(warm):
        raise ParameterError(f"warm was {type(warm).__name__} {warm!r}, expected a callable")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ParameterError(f"retries was {retries!r}, expected an int >= 0")
    points, names = expand_grid(grid)
    day_list = check_days(days)
    fixed_dict = check_fixed(fixed, names)
    show = _show_progress(progress)
    mode = _resolve_mode(client, address, n_workers, scheduler)
    warm_fn = default_warm if warm is None else warm

    common = _pickle((fn, fixed_dict, day_list is not None), "fn or fixed")
    days_iter = [None] if day_list is None else day_list
    tasks = [_pickle((day, point), f"grid point {point} / day {day!r}")
             for point in points for day in days_iter]
    if mode == "sync":
        rows, warm_s = _run_sync(common, tasks, retries, warm_fn, show)
    else:
        warm_bytes = _pickle(warm_fn, "warm")
        with _cluster(mode, client, address, n_workers) as cl:
            rows, warm_s = _run_dask(cl, common, tasks, retries, warm_bytes, show)
    frame = _frame(rows, points, day_list, names)
    return SweepResult(frame=frame, warm_s=warm_s, elapsed_s=time.perf_counter() - t0,
                       params=tuple(names))
