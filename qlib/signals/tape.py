"""The tape: one row per trade print, whatever the source's event vocabulary.

Sources report trades differently: L2 venues (Binance, Tardis) and CME (Databento ``T``)
publish a ``TRADE`` print with the aggressor side; LOBSTER publishes one ``EXECUTE``
per resting order hit (side = the resting order's) plus ``TRADE`` for hidden
executions; the simulated market publishes both the ``EXECUTE`` records and one
``TRADE`` flagged ``SUMMARY`` per market order. :func:`trades` reconciles them so that
every traded quantity is counted once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qlib.data.market_data import MarketData
from qlib.dtypes import SUBTICK_SCALE
from qlib.enums import EventFlag, EventKind
from qlib.errors import SchemaError

__all__ = ["trades"]


def trades(data: MarketData, *, aggregate: bool = False) -> pd.DataFrame:
    """Return the trade prints of ``data``, each traded quantity counted once.

    Parameters
    ----------
    data
        Market data from any loader or the simulator.
    aggregate
        Merge consecutive prints with the same exchange timestamp and aggressor side
        (one aggressive order walking several resting orders or levels) into one
        trade at the volume-weighted price.

    Returns
    -------
    pandas.DataFrame
        Columns ``ts_exch``, ``ts_local`` (``datetime64[ns, UTC]``), ``price``
        (float, currency: the true price, off the tick grid for sub-tick prints),
        ``px_tick`` (int64; the grid tick at or below the price for a sub-tick
        print; for aggregated rows the tick of the last print), ``qty``, ``side``
        (aggressor: +1 buyer-initiated, -1 seller-initiated, 0 unknown),
        ``subtick`` (bool: a ``TRADE_SUBTICK`` print, e.g. a hidden half-cent
        execution, which no book level shows), ``row`` (event row of the (last)
        print). Sorted by event row.

    Notes
    -----
    Selection rule: when the data holds any ``TRADE`` flagged ``SUMMARY`` (the
    simulator), the tape is those prints only (their ``EXECUTE`` records carry the
    same quantity). Otherwise it is every ``TRADE`` plus every ``EXECUTE``, the
    latter with aggressor side ``-side`` (LOBSTER: "an execution of a sell (buy)
    order is a buyer- (seller-) initiated trade").
    """
    if not isinstance(data, MarketData):
        raise SchemaError(f"data must be a MarketData, was {type(data).__name__}")
    ev = data.events
    kind = ev["kind"]
    is_trade = kind == EventKind.TRADE
    is_sub = kind == EventKind.TRADE_SUBTICK
    summary = is_trade & ((ev["flags"] & EventFlag.SUMMARY) != 0)
    if summary.any():
        rows = np.flatnonzero(summary | is_sub)
        side = ev["side"][rows].astype(np.int8)
    else:
        rows = np.flatnonzero(is_trade | is_sub | (kind == EventKind.EXECUTE))
        side = np.where(kind[rows] == EventKind.EXECUTE, -ev["side"][rows], ev["side"][rows])
        side = side.astype(np.int8)
    t = ev[rows]
    sub = t["kind"] == EventKind.TRADE_SUBTICK
    # true price in (fractional) ticks; sub-tick prints count millionths of a tick
    px_f = t["px_tick"].astype(np.float64)
    px_f[sub] = t["px_tick"][sub] / SUBTICK_SCALE
    px_tick = t["px_tick"].copy()
    px_tick[sub] = np.floor_divide(t["px_tick"][sub], SUBTICK_SCALE)
    qty = t["qty"]
    ts_exch, ts_local = t["ts_exch"], t["ts_local"]
    if aggregate and len(rows):
        new = np.ones(len(rows), dtype=bool)
        new[1:] = (ts_exch[1:] != ts_exch[:-1]) | (side[1:] != side[:-1])
        group = np.cumsum(new) - 1
        last = np.append(np.flatnonzero(new)[1:] - 1, len(rows) - 1)
        notional = np.bincount(group, weights=px_f * qty)
        qty_g = np.bincount(group, weights=qty)
        vwap_tick = np.divide(notional, qty_g, out=px_tick[last].astype(np.float64),
                              where=qty_g > 0)
        price = vwap_tick * data.instrument.tick_size
        rows, side, px_tick, qty = rows[last], side[last], px_tick[last], qty_g
        ts_exch, ts_local = ts_exch[last], ts_local[last]
        sub = np.bincount(group, weights=sub.astype(np.float64)) > 0
    else:
        price = data.instrument.to_price(px_tick)
        if sub.any():
            dec = data.instrument.price_decimals + 6
            price[sub] = np.round(px_f[sub] * data.instrument.tick_size, dec)
    return pd.DataFrame(
        {
            "ts_exch": pd.to_datetime(ts_exch, unit="ns", utc=True),
            "ts_local": pd.to_datetime(ts_local, unit="ns", utc=True),
            "price": np.asarray(price, dtype=np.float64),
            "px_tick": px_tick,
            "qty": qty,
            "side": side,
            "subtick": np.asarray(sub, dtype=bool),
            "row": rows,
        }
    )
