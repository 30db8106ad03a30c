r"""Positions, P&L, fees and cash: :class:`Portfolio` over the portfolio kernels.

Accounting
----------
Each fill of ``qty > 0`` on side :math:`s = \pm 1` at price :math:`p` (``px_tick *
tick_size``) of an instrument with multiplier :math:`m` is booked in *pricing units*:

* linear: :math:`u = p`, signed quantity :math:`\Delta q = s \cdot qty`;
* inverse (coin-margined): :math:`u = 1/p`, :math:`\Delta q = -s \cdot qty`.

With these, one set of linear formulas serves both kinds:

.. math::

    \text{fee} = qty \cdot m \cdot u \cdot \text{bps} / 10^4, \qquad
    \text{cash} \mathrel{-}= \Delta q \, u \, m + \text{fee}

where bps is the instrument's maker or taker fee by the fill's liquidity (negative:
a rebate, which raises cash). For an inverse contract the cash flow
:math:`-\Delta q\,u\,m = s \cdot qty \cdot m / p` is in the base coin, and the
position is worth :math:`q\,u\,m = -\text{contracts} \cdot m / p` coins, so a long
entered at :math:`p_0` and marked at :math:`p_1` earns
:math:`\text{contracts} \cdot m (1/p_0 - 1/p_1)` coins, the usual inverse P&L [1]_.

Realized P&L is kept two ways. **Average cost**: adding to a position moves the
average entry :math:`\bar u \leftarrow (q \bar u + \Delta q\, u) / (q + \Delta q)`;
reducing it realizes :math:`\min(qty, |q|) (u - \bar u)\operatorname{sign}(q)\, m`; a
flip re-opens the rest at :math:`u`. **FIFO**: a ring of open lots (signed quantity,
entry price) per instrument; a reducing fill closes the oldest lots first, realizing
:math:`\text{take}\,(u - u_{lot})\operatorname{sign}(q_{lot})\, m` each [2]_.
Unrealized P&L at mark :math:`u_M` is :math:`q (u_M - \bar u) m` and
:math:`\sum_{lots} q_{lot} (u_M - u_{lot}) m`. Both methods give the same total
(realized + unrealized), and at every step

.. math::

    \text{cash} + \sum_i q_i\, u_{M,i}\, m_i = \text{cash}_0 + \text{realized}
    + \text{unrealized} - \text{fees} = \text{equity},

which ``tests/property/test_oms_props.py`` checks for random fill sequences,
linear and inverse. All instruments of one portfolio settle in one currency: they
must share ``currency`` and ``inverse`` (inverse contracts settle in their coin).
A fill marks an instrument that was never marked at the fill price; afterwards only
:meth:`Portfolio.mark` moves the mark.

References
----------
.. [1] BitMEX (2016). Inverse and Quanto Contracts: Profit and Loss.
   BitMEX Knowledge Base.
.. [2] Harris, L. (2003). Trading and Exchanges: Market Microstructure for
   Practitioners, ch. 2 (positions, realized and unrealized profits). Oxford University Press.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qlib.dtypes import FILL_DTYPE, POSITION_DTYPE, require_dtype
from qlib.enums import LiquiditySide, Side, Status
from qlib.errors import DataQualityError, ParameterError
from qlib.instrument import Instrument
from qlib.oms import _kernels as _k

__all__ = ["Portfolio"]


class Portfolio:
    """Positions per instrument, average-cost and FIFO P&L, fees and cash.

    State is plain arrays that a jitted loop passes to :mod:`qlib.oms._kernels`
    (``portfolio_fill``, ``portfolio_mark``, ``portfolio_equity``): ``position_state``
    (:data:`POSITION_DTYPE`, one row per instrument), ``lots_qty`` / ``lots_px``
    (float64 ``[instrument, lot_capacity]`` FIFO rings) and ``cash`` (float64, length 1).

    Parameters
    ----------
    instruments
        The instruments, in index order (a kernel names an instrument by its index).
    cash
        Initial cash in the settlement currency (finite).
    lot_capacity
        Initial FIFO lots per instrument (> 0); the Python methods double it when full.

    Raises
    ------
    ParameterError
        No instruments, duplicate ids, mixed currency or mixed linear/inverse,
        non-finite cash, bad capacity.

    Examples
    --------
    >>> from qlib.instrument import Instrument
    >>> from qlib.enums import Side, LiquiditySide
    >>> pf = Portfolio([Instrument("ES.CME", tick_size=0.25, multiplier=50.0)], cash=1e5)
    >>> pf.apply_fill("ES.CME", Side.BUY, 2, px=5000.0, liquidity=LiquiditySide.TAKER, ts=1)
    >>> pf.mark("ES.CME", px=5001.0)
    >>> float(pf.equity())
    100100.0
    """

    def __init__(self, instruments: Sequence[Instrument], *, cash: float = 0.0,
                 lot_capacity: int = 64) -> None:
        instruments = list(instruments)
        if not instruments or not all(isinstance(i, Instrument) for i in instruments):
            raise ParameterError(f"instruments must be a non-empty sequence of Instrument, was {instruments!r}")
        ids = [i.instrument_id for i in instruments]
        if len(set(ids)) != len(ids):
            raise ParameterError(f"instrument ids must be unique, were {ids}")
        for name in ("currency", "inverse"):
            vals = {getattr(i, name) for i in instruments}
            if len(vals) != 1:
                raise ParameterError(f"all instruments must share {name}, were {sorted(map(str, vals))}")
        if not np.isfinite(cash):
            raise ParameterError(f"cash must be finite, was {cash!r}")
        if not isinstance(lot_capacity, (int, np.integer)) or lot_capacity <= 0:
            raise ParameterError(f"lot_capacity must be a positive int, was {lot_capacity!r}")
        self.instruments = instruments
        self._index = {iid: k for k, iid in enumerate(ids)}
        self.position_state = np.zeros(len(instruments), dtype=POSITION_DTYPE)
        for k, ins in enumerate(instruments):
            p = self.position_state[k]
            p["tick_size"], p["multiplier"] = ins.tick_size, ins.multiplier
            p["maker_fee_bps"], p["taker_fee_bps"] = ins.maker_fee_bps, ins.taker_fee_bps
            p["inverse"] = int(ins.inverse)
            p["ts_last"] = np.iinfo(np.int64).min
        self.lots_qty = np.zeros((len(instruments), int(lot_capacity)), dtype=np.float64)
        self.lots_px = np.zeros_like(self.lots_qty)
        self.cash = np.array([float(cash)], dtype=np.float64)
        self.initial_cash = float(cash)

    # ---------------------------------------------------------------- helpers
    def index(self, instrument_id: str) -> int:
        """Return the kernel index of ``instrument_id``; raise ``ParameterError`` if unknown."""
        try:
            return self._index[instrument_id]
        except KeyError:
            raise ParameterError(f"instrument_id {instrument_id!r} is not in the portfolio,"
                                 f" which holds {list(self._index)}") from None

    def _px_tick(self, i: int, px: float | None, px_tick: int | None) -> int:
        if (px is None) == (px_tick is None):
            raise ParameterError("give exactly one of px and px_tick")
        if px_tick is not None:
            return int(px_tick)
        return int(self.instruments[i].to_ticks(px, field="px"))

    def _grow_lots(self) -> None:
        """Double the lot rings, unrolling each ring to start at slot 0."""
        cap = self.lots_qty.shape[1]
        q = np.zeros((self.lots_qty.shape[0], 2 * cap))
        x = np.zeros_like(q)
        for i, p in enumerate(self.position_state):
            idx = (p["lot_head"] + np.arange(p["lot_len"])) % cap
            q[i, : len(idx)] = self.lots_qty[i, idx]
            x[i, : len(idx)] = self.lots_px[i, idx]
        self.position_state["lot_head"] = 0
        self.lots_qty, self.lots_px = q, x

    @staticmethod
    def _raise(st: int, what: str) -> None:
        raise DataQualityError(f"{Status(st).name}: {what}")

    # ---------------------------------------------------------------- updates
    def apply_fill(self, instrument_id: str, side: Side | int, qty: float, *,
                   px: float | None = None, px_tick: int | None = None,
                   liquidity: LiquiditySide | int = LiquiditySide.TAKER, ts: int) -> None:
        """Book one of our fills.

        Parameters
        ----------
        instrument_id
            An instrument of the portfolio.
        side
            ``Side.BUY`` or ``Side.SELL``.
        qty
            Filled quantity (> 0), in contracts / shares / base units.
        px, px_tick
            Fill price, in currency (on the tick grid) or in ticks: exactly one.
        liquidity
            ``MAKER`` (maker fee) or ``TAKER`` (taker fee).
        ts
            Fill time, int64 ns since epoch, UTC; not before the instrument's last fill.

        Raises
        ------
        ParameterError
            Unknown instrument, or both/neither of ``px`` and ``px_tick``.
        DataQualityError
            The kernel refused the fill (bad side or liquidity, qty not finite and > 0,
            price not > 0 ticks, time going back); nothing was booked.
        """
        i = self.index(instrument_id)
        pt = self._px_tick(i, px, px_tick)
        while True:
            st = _k.portfolio_fill(self.position_state, self.lots_qty, self.lots_px, self.cash, i,
                                   int(side), float(qty), pt, int(liquidity), int(ts))
            if st != Status.CAPACITY:
                break
            self._grow_lots()
        if st != Status.OK:
            self._raise(st, f"fill of {instrument_id} side={side!r} qty={qty!r} px_tick={pt}"
                            f" liquidity={liquidity!r} ts={ts}")

    def apply_fills(self, fills: np.ndarray, instrument_id: str, *, owner: int | None = None) -> int:
        """Book matching-engine fills (:data:`FILL_DTYPE`) of one instrument.

        Only records of ``owner`` are booked when it is given (the engine writes both
        parties' records). Returns the number booked.

        Raises
        ------
        DataQualityError
            At the first refused record (those before it are booked); names its row.
        """
        require_dtype(fills, FILL_DTYPE, name="fills")
        i = self.index(instrument_id)
        instr = np.full(len(fills), i, dtype=np.int64)
        if owner is not None:
            instr[fills["owner"] != int(owner)] = -1
        n = int((instr >= 0).sum())
        while True:
            st, row = _k.portfolio_apply_fills(self.position_state, self.lots_qty, self.lots_px,
                                               self.cash, instr, fills)
            if st != Status.CAPACITY:
                break
            instr[:row] = -1
            self._grow_lots()
        if st != Status.OK:
            f = fills[row]
            self._raise(st, f"fills[{row}] of {instrument_id}: side={f['side']} qty={f['qty']}"
                            f" px_tick={f['px_tick']} liquidity={f['liquidity']} ts={f['ts_exch']}")
        return n

    def mark(self, instrument_id: str, *, px: float | None = None, px_tick: int | None = None) -> None:
        """Set the mark price of ``instrument_id`` (exactly one of ``px``, ``px_tick``).

        Raises
        ------
        DataQualityError
            If the price is not a positive number of ticks.
        """
        i = self.index(instrument_id)
        pt = self._px_tick(i, px, px_tick)
        st = _k.portfolio_mark(self.position_state, i, pt)
        if st != Status.OK:
            self._raise(st, f"mark of {instrument_id} px_tick={pt}")

    # ---------------------------------------------------------------- views
    def equity(self) -> float:
        """Return :math:`\\text{cash} + \\sum_i q_i u_{M,i} m_i` in the settlement currency."""
        return float(_k.portfolio_equity(self.position_state, self.cash))

    def positions(self) -> pd.DataFrame:
        """Return the positions as a DataFrame, one row per instrument.

        Columns: ``instrument_id``; ``qty`` (signed contracts); ``avg_px``, ``mark_px``
        (currency; NaN when flat / never marked; the inverse average is harmonic);
        ``realized_pnl``, ``unrealized_pnl`` (average cost), ``realized_pnl_fifo``,
        ``unrealized_pnl_fifo``, ``fees`` (negative: net rebates), ``total_pnl``
        (realized + unrealized - fees), all in the settlement currency;
        ``traded_qty``, ``n_fills``.
        """
        p = self.position_state
        n = len(p)
        ua, uf = np.zeros(n), np.zeros(n)
        _k.portfolio_unrealized(p, self.lots_qty, self.lots_px, ua, uf)
        inv = p["inverse"].astype(bool)
        sign = np.where(inv, -1.0, 1.0)

        def to_px(u: np.ndarray) -> np.ndarray:
            with np.errstate(divide="ignore"):
                out = np.where(inv, 1.0 / np.where(u != 0, u, 1.0), u)
            return np.where(u != 0, out, np.nan)

        realized = p["realized_pnl"]
        return pd.DataFrame({
            "instrument_id": [i.instrument_id for i in self.instruments],
            "qty": sign * p["qty"] + 0.0,
            "avg_px": to_px(p["avg_px"]),
            "mark_px": to_px(p["mark_px"]),
            "realized_pnl": realized,
            "unrealized_pnl": ua,
            "realized_pnl_fifo": p["realized_pnl_fifo"],
            "unrealized_pnl_fifo": uf,
            "fees": p["fees"],
            "total_pnl": realized + ua - p["fees"],
            "traded_qty": p["traded_qty"],
            "n_fills": p["n_fills"],
        })

    def summary(self) -> dict[str, float]:
        """Return cash, equity and the portfolio's P&L totals (settlement currency)."""
        df = self.positions()
        return {
            "cash": float(self.cash[0]),
            "equity": self.equity(),
            "realized_pnl": float(df["realized_pnl"].sum()),
            "unrealized_pnl": float(df["unrealized_pnl"].sum()),
            "fees": float(df["fees"].sum()),
            "total_pnl": float(df["total_pnl"].sum()),
        }
