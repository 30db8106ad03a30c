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

__all__ = ["depth_columns", "depth_snapshots"]


def depth_columns(levels: int) -> list[str]:
    """Column names of :func:`depth_snapshots` after ``ts_exch`` (LOBSTER order)."""
    return [f"{c}_{j}" for j in range(1, levels + 1)
            for c in ("ask_px", "ask_qty", "bid_px", "bid_qty")]


def _every_ns(every: object) -> int:
    try:
        if isinstance(every, (pd.Timedelta, _dt.timedelta, np.timedelta64)):
            ns = int(pd.Timedelta(every).value)
        else:
            ns = int(to_offset(every).nanos)  # str or fixed DateOffset; month/etc. raise
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"every must be a fixed pandas offset or Timedelta (e.g. '1s'),"
                             f" was {every!r}") from exc
    if ns <= 0:
        raise ParameterError(f"every must be positive, was {every!r}")
    return ns


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
        Number of levels per side, ``N >= 1``.
    every
        ``None`` (default): one row after each book-changing event flagged
        ``EventFlag.LAST`` (the end of one exchange event: a consistent book; inside a
        Binance diff or a LOBSTER resync the book can be transiently crossed).
        Otherwise a fixed pandas offset or Timedelta (``"1s"``, ``pd.Timedelta("100ms")``):
        one row per grid time :math:`t_k = \lfloor t_0 / \Delta \rfloor \Delta + k\Delta`
        up to the last event's ``ts_exch``, each showing the book after the last
        consistent row with ``ts_exch <= t_k`` (as of ``t_k``, right-closed, like
        ``resample(...).last()`` carried forward); grid times before the first
        consistent row are left out.
    at_last_only
        When False (and ``every`` is None), one row after *every* book-changing event,
        partly applied exchange events included.
    window
        Dense-window width of the L2 book (tuning only; results do not depend on it).

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
        If ``levels`` is not a positive int or ``every`` is not a fixed positive offset.
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
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 1:
        raise ParameterError(f"levels must be a positive int, was {levels!r}")
    if not isinstance(at_last_only, (bool, np.bool_)):
        raise ParameterError(f"at_last_only must be a bool, was {at_last_only!r}")
    levels = int(levels)
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
            grid = np.arange(t0, int(ts_all.max()) + 1, step, dtype=np.int64)
            at = np.searchsorted(ts_all[rows], grid, side="right") - 1
            grid, at = grid[at >= 0], at[at >= 0]
        else:
            grid, at = np.zeros(0, np.int64), np.zeros(0, np.int64)
        uniq, inv = np.unique(rows[at], return_inverse=True)
        px, qty = _replay_rows(ev, uniq, levels, window)
        px, qty, index, ts = px[inv], qty[inv], rows[at], grid
    else:
        px, qty = _replay_rows(ev, rows, levels, window)
        index, ts = rows, ev["ts_exch"][rows]
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
    df.attrs["rows_short"] = int(np.count_nonzero(empty.any(axis=(1, 2))))
    return df
