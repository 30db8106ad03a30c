r"""Depth snapshots: the N best levels per side of the rebuilt book, as a DataFrame.

:func:`depth_snapshots` replays a :class:`qlib.data.market_data.MarketData` through the
L2 book of :mod:`qlib.book.l2` and returns the ``N`` best levels per side after each
consistent book state (or sampled on a time grid), in the column layout of a LOBSTER
orderbook file [1]_.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from qlib.book import _l2_kernels as _k
from qlib.book.l2 import DEFAULT_WINDOW, grow, new_l2_book, new_orders, raise_status
from qlib.book.replay import BOOK_KINDS
from qlib.data.market_data import MarketData
from qlib.dtypes import BBO_DTYPE
from qlib.enums import EventFlag, Status
from qlib.errors import ParameterError, SchemaError

__all__ = ["MAX_GRID_ROWS", "MAX_LEVELS", "MAX_WINDOW", "depth_columns", "depth_snapshots"]

#: Most levels per side :func:`depth_snapshots` returns: twice the deepest public depth
#: snapshot we know of (Binance's REST ``/depth``, ``limit`` <= 5,000), so a typo such
#: as ``levels=10**9`` fails here instead of asking numpy for terabytes.
MAX_LEVELS = 10_000

#: Widest dense window accepted (ticks). The window only tunes speed (results do not
#: depend on it); at ``2**22`` the book's arrays already take ~335 MB
#: (:func:`qlib.book.l2.new_l2_book`: ``2 W`` floats plus ``2 x 2 W`` overflow pairs).
MAX_WINDOW = 2**22

#: Most grid times ``every`` may produce (100 million: one day at 1 ms is 86.4 million).
MAX_GRID_ROWS = 100_000_000


def depth_columns(levels: int) -> list[str]:
    """Column names of :func:`depth_snapshots` after ``ts_exch`` (LOBSTER order)."""
    return [f"{c}_{j}" for j in range(1, levels + 1)
            for c in ("ask_px", "ask_qty", "bid_px", "bid_qty")]


def _every_ns(every: object) -> int:
    shown = str(every) if isinstance(every, np.generic) else repr(every)  # no numpy reprs
    if isinstance(every, (bool, np.bool_, int, float, np.number)) and not isinstance(
            every, np.timedelta64):
        raise ParameterError(f"every must be a fixed pandas offset or Timedelta (e.g. '1s'), "
                             f"was {shown}: a bare number has no unit")
    try:
        if isinstance(every, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
            td = pd.Timedelta(every)
            if td is pd.NaT:
                raise ValueError("NaT")
            ns = int(td.value)
        else:
            ns = int(to_offset(every).nanos)  # str or fixed DateOffset; month/etc. raise
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"every must be a fixed pandas offset or Timedelta (e.g. '1s'),"
                             f" was {shown}") from exc
    if ns <= 0:
        raise ParameterError(f"every must be positive, was {shown}")
    return ns


def _check_levels_window(levels: object, window: object) -> tuple[int, int]:
    if isinstance(levels, (bool, np.bool_)) or not isinstance(levels, (int, np.integer)) \
            or not 1 <= levels <= MAX_LEVELS:
        shown = int(levels) if isinstance(levels, np.integer) else levels
        raise ParameterError(f"levels must be an int in [1, {MAX_LEVELS}] (MAX_LEVELS), "
                             f"was {shown!r}")
    if isinstance(window, (bool, np.bool_)) or not isinstance(window, (int, np.integer)) \
            or not 16 <= window <= MAX_WINDOW or int(window) & (int(window) - 1):
        shown = int(window) if isinstance(window, np.integer) else window
        raise ParameterError(f"window must be a power of two in [16, {MAX_WINDOW}] (ticks), "
                             f"was {shown!r}")
    return int(levels), int(window)


def _too_big(levels: int, n_rows: int, exc: MemoryError) -> ParameterError:
    gib = n_rows * levels * 64 / 2**30  # kernel px/qty (2 x 16 B) + frame (4 x 8 B) per level
    return ParameterError(
        f"levels={levels} over {n_rows:,} rows needs about {gib:,.1f} GiB, more than this "
        f"machine could allocate ({exc}); pass fewer levels, or every= to sample on a grid")


def _replay_rows(events: np.ndarray, rows: np.ndarray, levels: int,
                 window: int) -> tuple[np.ndarray, np.ndarray]:
    m = len(rows)
    out_px = np.zeros((m, 2, levels), dtype=np.int64)
    out_qty = np.zeros((m, 2, levels), dtype=np.float64)
    book = new_l2_book(window)
    orders = new_orders()
    row, k = 0, 0
    stop = int(rows[-1]) + 1 if m else 0
    no_bbo = np.zeros(0, dtype=BBO_DTYPE)
    while True:
        status, row, k = _k.replay(events, row, stop, book, orders, no_bbo, rows, k, out_px,
                                   out_qty)
        if status != Status.CAPACITY:
            break
        book = grow(book)
    if status != Status.OK:
        raise_status(events, status, row)
    return out_px, out_qty


def depth_snapshots(data: MarketData, levels: int = 10, every: object = None, *,
                    at_last_only: bool = True, window: int = DEFAULT_WINDOW) -> pd.DataFrame:
    r"""Return the ``levels`` best levels per side of the rebuilt book over time.

    Parameters
    ----------
    data
        Market data; its instrument converts ticks to prices. L2 kinds set levels,
        L3 kinds are aggregated by price (:mod:`qlib.book.replay`).
    levels
        Number of levels per side, ``1 <= N <=`` :data:`MAX_LEVELS` (10,000).
    every
        ``None`` (default): one row after each book-changing event flagged
        ``EventFlag.LAST`` (the end of one exchange event: a consistent book; inside a
        Binance diff or a LOBSTER resync the book can be transiently crossed).
        Otherwise a fixed pandas offset or Timedelta (``"1s"``, ``pd.Timedelta("100ms")``):
        one row per grid time :math:`t_k = \lfloor t_0 / \Delta \rfloor \Delta + k\Delta`
        up to the last event's ``ts_exch``, each showing the book after the last
        consistent row with ``ts_exch <= t_k`` (as of ``t_k``, right-closed, like
        ``resample(...).last()`` carried forward); grid times before the first
        consistent row are left out. At most :data:`MAX_GRID_ROWS` grid times. A bare
        number is refused (it has no unit).
    at_last_only
        When False (and ``every`` is None), one row after *every* book-changing event,
        partly applied exchange events included.
    window
        Dense-window width of the L2 book in ticks, a power of two in
        ``[16,`` :data:`MAX_WINDOW` ``]`` (tuning only; results do not depend on it).

    Returns
    -------
    pandas.DataFrame
        Index ``row``: the event row after which the book was read. Columns
        ``ts_exch`` (``datetime64[ns, UTC]``; the grid time when sampling), then
        ``ask_px_1, ask_qty_1, bid_px_1, bid_qty_1, ..., bid_qty_N`` (float64; prices in
        the instrument's currency, quantities in its unit): the layout of a LOBSTER
        orderbook file.

        **Empty levels** (a side with fewer than ``N`` levels): price NaN and quantity
        0.0, meaning "no level". Quantity 0.0 is unambiguous (a level never holds 0) and
        keeps depth sums right; a NaN price cannot be mistaken for a price, whereas
        LOBSTER's dummy prices (9999999999 / -9999999999) would silently enter means,
        spreads and plots. These are the only NaNs; ``df.attrs["rows_short"]`` counts
        the rows holding one.

    Raises
    ------
    SchemaError
        If ``data`` is not a MarketData.
    ParameterError
        If ``levels`` is not an int in ``[1, MAX_LEVELS]``, ``window`` not a power of
        two in ``[16, MAX_WINDOW]``, ``every`` not a fixed positive offset or one giving
        more than ``MAX_GRID_ROWS`` times, or the result would not fit in memory
        (the message gives the size and says what to pass instead).
    DataQualityError
        On the first impossible event, naming its row (see :func:`qlib.book.replay_l2`).

    Notes
    -----
    One jitted pass applies the events and writes the top ``N`` per side at the
    requested rows only (:func:`qlib.book._l2_kernels.replay`); the frame is
    built from whole columns. A LOBSTER day at ``N = 10`` (~400,000 rows) takes well
    under a second (``benchmarks/bench_l2.py``).

    References
    ----------
    .. [1] Huang, R. and Polak, T. (2011). LOBSTER: Limit Order Book Reconstruction
       System. SSRN 1977207. (Orderbook file: ``ask_price_1, ask_size_1, bid_price_1,
       bid_size_1, ...``.)

    Examples
    --------
    >>> from qlib.dtypes import empty_events
    >>> from qlib.data.report import ValidationReport
    >>> from qlib.instrument import Instrument
    >>> ev = empty_events(2); ev["kind"] = 7; ev["side"] = [1, -1]; ev["flags"] = 1
    >>> ev["px_tick"] = [199, 201]; ev["qty"] = [2.0, 3.0]
    >>> md = MarketData(ev, Instrument("X.Y", tick_size=0.5), ValidationReport("doc"))
    >>> [float(x) for x in depth_snapshots(md, levels=1).iloc[-1, 1:]]
    [100.5, 3.0, 99.5, 2.0]
    """
    if not isinstance(data, MarketData):
        raise SchemaError(f"data must be a MarketData, was {type(data).__name__}")
    levels, window = _check_levels_window(levels, window)
    if not isinstance(at_last_only, (bool, np.bool_)):
        raise ParameterError(f"at_last_only must be a bool, was {at_last_only!r}")
    ev = data.events
    mask = np.isin(ev["kind"], BOOK_KINDS)
    if at_last_only or every is not None:
        mask &= (ev["flags"] & EventFlag.LAST) != 0
    rows = np.flatnonzero(mask)
    if every is not None:
        step = _every_ns(every)
        ts_all = ev["ts_exch"]
        if len(rows):
            t0 = (int(ts_all[rows[0]]) // step) * step
            n_grid = (int(ts_all.max()) - t0) // step + 1
            if n_grid > MAX_GRID_ROWS:
                raise ParameterError(
                    f"every={every!r} gives {n_grid:,} grid times over the data's "
                    f"{pd.Timedelta(int(ts_all.max()) - t0, unit='ns')}, more than "
                    f"MAX_GRID_ROWS ({MAX_GRID_ROWS:,}); pass a longer every")
            grid = np.arange(t0, int(ts_all.max()) + 1, step, dtype=np.int64)
            at = np.searchsorted(ts_all[rows], grid, side="right") - 1
            grid, at = grid[at >= 0], at[at >= 0]
        else:
            grid, at = np.zeros(0, np.int64), np.zeros(0, np.int64)
        uniq, inv = np.unique(rows[at], return_inverse=True)
        n_out = len(grid)
        try:
            px, qty = _replay_rows(ev, uniq, levels, window)
            px, qty, index, ts = px[inv], qty[inv], rows[at], grid
        except MemoryError as exc:
            raise _too_big(levels, n_out, exc) from exc
    else:
        n_out = len(rows)
        try:
            px, qty = _replay_rows(ev, rows, levels, window)
        except MemoryError as exc:
            raise _too_big(levels, n_out, exc) from exc
        index, ts = rows, ev["ts_exch"][rows]
    try:
        prices = data.instrument.to_price(px)  # (m, 2, N), side 0 bid, 1 ask
        empty = qty == 0.0
        prices[empty] = np.nan
        cols: dict[str, object] = {"ts_exch": pd.to_datetime(ts, unit="ns", utc=True)}
        for j in range(levels):
            cols[f"ask_px_{j + 1}"] = prices[:, 1, j]
            cols[f"ask_qty_{j + 1}"] = qty[:, 1, j]
            cols[f"bid_px_{j + 1}"] = prices[:, 0, j]
            cols[f"bid_qty_{j + 1}"] = qty[:, 0, j]
        df = pd.DataFrame(cols, index=pd.Index(index, name="row"), copy=False)
    except MemoryError as exc:
        raise _too_big(levels, n_out, exc) from exc
    df.attrs["rows_short"] = int(np.count_nonzero(empty.any(axis=(1, 2))))
    return df
