r"""Pre-trade risk check and kill switch.

Every order intent passes one jitted kernel,
:func:`qlib.risk._pretrade_kernels.pretrade_check`, before it may reach a venue. The
kernel reads the risk state (two small flat arrays, see that module) and returns
``PreTradeReject.APPROVED`` or the first check that refused the order. Engines call
the kernel inside their jitted loops with :attr:`PreTradeRisk.istate`,
:attr:`PreTradeRisk.fstate` and :attr:`PreTradeRisk.journal_array`; notebooks and the
asyncio runtime call :meth:`PreTradeRisk.check`.

Cost (``benchmarks/bench_pretrade.py``, inputs varied at run time so nothing is folded
or hoisted): a full approved check takes about 7 ns when ``pretrade_check_inline`` is
inlined into a loop compiled with ``_nrt=False``, about 12 ns when ``pretrade_check``
is called from any jitted loop, whatever the number of instruments (the gross exposure
is kept incrementally, so no check loops over them). From Python,
:meth:`PreTradeRisk.check` calls the kernel's compiled entry point and skips numba's
dispatcher, whose typing of the nine arguments costs about as much as the unboxing
(see :meth:`PreTradeRisk.check`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd

from qlib.enums import KillEvent, KillReason, OrderType, PreTradeReject, Side
from qlib.errors import OrderRejected, ParameterError
from qlib.instrument import Instrument
from qlib.risk import _pretrade_kernels as K
from qlib.risk.config import RiskConfig

__all__ = ["JOURNAL_COLUMNS", "PreTradeRisk"]

_LIMIT = int(OrderType.LIMIT)  # a plain int: an IntEnum argument compiles its own specialization

_ENTRY: list = []


def _check_entry():
    """The compiled entry point of ``pretrade_check`` for plain int/float arguments.

    Calling it skips numba's dispatcher (typing each of the nine arguments to pick the
    specialization, about half of a call's cost from Python); it converts the
    arguments to those types itself (int64 for ``inst, side, px_tick, ts_ns,
    order_type``, float64 for ``qty``) and trusts the three arrays to be the state's.
    ``pretrade_check`` itself under ``NUMBA_DISABLE_JIT``.
    """
    if not _ENTRY:
        disp = K.pretrade_check
        if hasattr(disp, "compile"):
            from numba import types as nt

            sig = (nt.Array(nt.int64, 1, "C"), nt.Array(nt.float64, 1, "C"), nt.Array(nt.int64, 2, "C"),
                   nt.int64, nt.int64, nt.int64, nt.float64, nt.int64, nt.int64)
            _ENTRY.append(disp.compile(sig))
        else:
            _ENTRY.append(disp)
    return _ENTRY[0]

#: Columns of :attr:`PreTradeRisk.journal_array` (int64, one row per trip or reset):
#: ``ts_ns`` (ns since the epoch, UTC), ``event`` (:class:`qlib.enums.KillEvent`),
#: ``reason`` (:class:`qlib.enums.KillReason`).
JOURNAL_COLUMNS: tuple[str, ...] = ("ts_ns", "event", "reason")


class PreTradeRisk:
    r"""Pre-trade risk state of one account over a fixed list of instruments.

    Parameters
    ----------
    config
        The limits.
    instruments
        Instruments the account may trade; an order names one by its position in
        this list (fast path) or by its id.
    journal_capacity
        Initial number of journal entries (the journal grows as needed).

    Raises
    ------
    ParameterError
        No instruments, duplicate ids, an inverse instrument (notional in the base
        currency is not supported), or a ``position_limits`` key that is not one of
        the instruments.

    Notes
    -----
    :meth:`check` runs these checks in this order and returns the first failure
    (``APPROVED`` if none); :math:`s = \pm 1` is the side, :math:`q` the quantity,
    :math:`r` the reference price in ticks, :math:`p` the limit price in ticks
    (:math:`r` for a market order), :math:`v` the tick value (``tick_size *
    multiplier``), :math:`x` the filled position, :math:`b, a` the open buy and sell
    quantities, :math:`L` the P&L, :math:`E = \text{capital} + L` the equity.

    1. ``KILL_SWITCH``: the switch is tripped.
    2. ``BAD_INTENT``: instrument, side, quantity, order type or price invalid.
    3. ``STALE_MARKET_DATA``: :math:`t - t_r > \text{max\_md\_age\_ns}` (trips).
    4. ``DAILY_LOSS``: :math:`L_\text{day start} - L > \text{max\_daily\_loss}` (trips).
    5. ``DRAWDOWN``: :math:`\max_{u \le t} L_u - L > \text{max\_drawdown}` (trips).
    6. ``MAX_ORDER_QTY``: :math:`q > \text{max\_order\_qty}`.
    7. ``NO_REFERENCE_PRICE``: :math:`r \le 0`.
    8. ``PRICE_COLLAR`` (limit orders): :math:`|p - r| > r \cdot \text{collar\_bps} / 10^4`.
    9. ``MAX_ORDER_NOTIONAL``: :math:`N = q p v > \text{max\_order\_notional}`.
    10. ``POSITION_NET``: worst case if every open order on the side fills,
        :math:`|x + b + q|` (buy) or :math:`|x - a - q|` (sell) :math:`> \text{limit}_i`.
    11. ``POSITION_GROSS``: :math:`G = N + \sum_j (|x_j| + b_j + a_j)\, r_j v_j >
        \text{max\_gross\_notional}` (instruments without a reference count zero). The
        sum is kept in the state (O(1) per check): :meth:`set_position` and
        :meth:`sync_orders` re-sum it exactly, :meth:`on_market_data` and an approval add
        the change of one term (exact up to float rounding).
    12. ``CONCENTRATION``: :math:`N + (|x_i| + b_i + a_i) r_i v_i > c \cdot E`.
    13. ``MARGIN``: :math:`m \cdot G > E` (buying power :math:`E / m`).
    14. ``MAX_OPEN_ORDERS``: open orders :math:`\ge` ``max_open_orders``.
    15. ``SELF_TRADE``: a buy at :math:`p \ge` our best resting ask (a market buy
        when we rest any ask), or a sell at :math:`p \le` our best resting bid.
    16. ``ORDER_RATE``, 17. ``MESSAGE_RATE``: token buckets [1]_ with capacity
        ``burst`` and refill ``rate`` per second; an order needs one token of each.

    Any limit disabled in the config is skipped. A limit equal to the value is
    allowed ("max" means at most). On approval only, the kernel takes a token from
    each bucket (rejects do not consume throttle) and reserves the order: open-order
    counts and open quantity grow, and a limit order improves our own best resting
    price. The OMS then keeps this state exact with :meth:`sync_orders` and
    :meth:`set_position` (on acks, fills and cancels).

    Every reject of checks 2 and 6-17 counts toward the reject storm (checks 3-5
    trip the switch themselves; ``KILL_SWITCH`` answers are not counted). The
    kill switch trips by hand (:meth:`trip`) or automatically (daily loss,
    drawdown, reject storm, stale market data, latency spike); while tripped no
    order is approved, :meth:`cancel_all_intents` lists the instruments whose
    orders must be cancelled, and only :meth:`reset` clears it. Every trip and
    reset is journalled (:attr:`journal`).

    References
    ----------
    .. [1] Turner, J. (1986). New directions in communications (or which way to the
       information age?). IEEE Communications Magazine, 24(10), 8-15.
    .. [2] FIA (2024). Best Practices for Automated Trading Risk Controls and
       System Safeguards. Futures Industry Association.

    Examples
    --------
    >>> from qlib.instrument import Instrument
    >>> inst = Instrument("BTCUSDT.BINANCE", tick_size=0.1)
    >>> risk = PreTradeRisk(RiskConfig(max_order_qty=2, collar_bps=100), [inst])
    >>> risk.on_market_data(0, ts_ns=1, ref_px_tick=500_000)
    >>> PreTradeReject(risk.check(0, Side.BUY, 500_100, 1.0, ts_ns=2)).name
    'APPROVED'
    >>> PreTradeReject(risk.check(0, Side.BUY, 500_100, 3.0, ts_ns=3)).name
    'MAX_ORDER_QTY'
    >>> _ = risk.trip(ts_ns=4)
    >>> PreTradeReject(risk.check(0, Side.BUY, 500_100, 1.0, ts_ns=5)).name
    'KILL_SWITCH'
    """

    def __init__(
        self,
        config: RiskConfig,
        instruments: Sequence[Instrument],
        *,
        journal_capacity: int = 64,
    ) -> None:
        if not isinstance(config, RiskConfig):
            raise ParameterError(f"config was {type(config).__name__}, expected RiskConfig")
        instruments = list(instruments)
        if not instruments:
            raise ParameterError("instruments was empty, expected at least one Instrument")
        ids = [i.instrument_id for i in instruments]
        if len(set(ids)) != len(ids):
            raise ParameterError(f"instruments had duplicate ids: {ids}")
        for inst in instruments:
            if inst.inverse:
                raise ParameterError(
                    f"instrument {inst.instrument_id!r} is inverse; pre-trade notional "
                    "supports linear instruments only"
                )
        limits = dict(config.position_limits)
        for key in limits:
            if key not in ids:
                raise ParameterError(f"risk limit 'position_limits' names {key!r}, not an instrument: {ids}")
        if isinstance(journal_capacity, bool) or not isinstance(journal_capacity, int) or journal_capacity < 2:
            raise ParameterError(f"journal_capacity was {journal_capacity!r}, expected an integer >= 2")
        self.config = config
        self.instruments = tuple(instruments)
        self._index = {iid: k for k, iid in enumerate(ids)}
        n = len(ids)
        inf = np.inf

        def lim(v: float | None) -> float:
            return inf if v is None else float(v)

        f = np.zeros(K.F_HDR + K.F_BLOCKS * n, dtype=np.float64)
        f[K.F_MAX_ORDER_QTY] = lim(config.max_order_qty)
        f[K.F_MAX_ORDER_NOTIONAL] = lim(config.max_order_notional)
        f[K.F_MAX_GROSS] = lim(config.max_gross_notional)
        f[K.F_COLLAR] = inf if config.collar_bps is None else config.collar_bps / 1e4
        f[K.F_MAX_OPEN] = lim(config.max_open_orders)
        f[K.F_MAX_DAILY_LOSS] = lim(config.max_daily_loss)
        f[K.F_MAX_DRAWDOWN] = lim(config.max_drawdown)
        f[K.F_MAX_CONC] = lim(config.max_concentration)
        f[K.F_CAPITAL] = float(config.capital)
        f[K.F_MARGIN_RATE] = 0.0 if config.margin_rate is None else float(config.margin_rate)
        default_pos = lim(config.max_position_qty)
        for k, inst in enumerate(instruments):
            f[K.F_HDR + K.B_MAX_POS * n + k] = float(limits.get(inst.instrument_id, default_pos))
            f[K.F_HDR + K.B_TICK_VALUE * n + k] = inst.tick_size * inst.multiplier

        s = np.zeros(K.I_HDR + K.I_BLOCKS * n, dtype=np.int64)
        s[K.I_N] = n
        for rate, burst, k_credit, k_rate, k_cap, k_full in (
            (config.max_orders_per_s, config.order_burst_or_rate,
             K.I_ORD_CREDIT, K.I_ORD_RATE, K.I_ORD_CAP, K.I_ORD_FULL_NS),
            (config.max_msgs_per_s, config.msg_burst_or_rate,
             K.I_MSG_CREDIT, K.I_MSG_RATE, K.I_MSG_CAP, K.I_MSG_FULL_NS),
        ):
            if rate is not None and burst is not None:
                s[k_rate] = rate
                s[k_cap] = burst * K.TOKEN
                s[k_credit] = burst * K.TOKEN
                s[k_full] = burst * K.TOKEN // rate + 1
        s[K.I_REJ_WINDOW] = config.reject_window_ns
        s[K.I_MAX_REJECTS] = -1 if config.max_rejects is None else config.max_rejects
        s[K.I_MAX_MD_AGE] = K.INT64_MAX if config.max_md_age_ns is None else config.max_md_age_ns
        s[K.I_MAX_LATENCY] = K.INT64_MAX if config.max_latency_ns is None else config.max_latency_ns
        s[K.I_HDR + K.J_OWN_BID * n : K.I_HDR + (K.J_OWN_BID + 1) * n] = K.NO_BID
        s[K.I_HDR + K.J_OWN_ASK * n : K.I_HDR + (K.J_OWN_ASK + 1) * n] = K.NO_ASK
        # the derived entries (F_PNL_FLOOR, I_MAX_OPEN, the collar bands), see the kernels
        K.refresh_derived(s, f)

        #: float64 risk state (limits, P&L, per-instrument positions); see the kernels module.
        self.fstate: np.ndarray = f
        #: int64 risk state (kill switch, token buckets, reference prices, open orders).
        self.istate: np.ndarray = s
        #: Journal storage, int64 ``(capacity, 3)`` with :data:`JOURNAL_COLUMNS`; the first
        #: ``istate[I_JOURNAL_N]`` rows are used. It grows in Python calls only (never while
        #: a kernel runs): re-read this attribute after :meth:`trip`/:meth:`reset`.
        self.journal_array: np.ndarray = np.zeros((journal_capacity, 3), dtype=np.int64)
        self._check_kernel = _check_entry()

    # --- helpers -------------------------------------------------------------------
    def _idx(self, instrument: int | str) -> int:
        if isinstance(instrument, str):
            k = self._index.get(instrument)
            if k is None:
                raise ParameterError(f"instrument was {instrument!r}, expected one of {list(self._index)}")
            return k
        if (
            isinstance(instrument, (int, np.integer))
            and not isinstance(instrument, bool)
            and 0 <= instrument < len(self.instruments)
        ):
            return int(instrument)
        raise ParameterError(
            f"instrument was {instrument!r}, expected an id or an index in [0, {len(self.instruments)})"
        )

    def _ensure_journal_room(self) -> None:
        """Keep >= 2 free journal rows: one for a Python-side entry, one for a kernel trip."""
        used = int(self.istate[K.I_JOURNAL_N])
        if used + 2 > self.journal_array.shape[0]:
            grown = np.zeros((2 * self.journal_array.shape[0] + 2, 3), dtype=np.int64)
            grown[:used] = self.journal_array[:used]
            self.journal_array = grown

    @staticmethod
    def _now(ts_ns: int | None) -> int:
        return time.time_ns() if ts_ns is None else int(ts_ns)

    # --- the check -----------------------------------------------------------------
    def check(
        self,
        inst: int,
        side: int,
        px_tick: int,
        qty: float,
        ts_ns: int,
        order_type: int = _LIMIT,
    ) -> int:
        """Check one new-order intent; return a :class:`qlib.enums.PreTradeReject` code.

        This is the fast path: ``inst`` is the instrument's index, the arguments are
        passed to the kernel unchecked (the kernel itself answers ``BAD_INTENT``),
        and the result is a plain ``int`` (compare it with ``PreTradeReject`` members).
        Integers (``int``, numpy integers, ``IntEnum`` members such as ``Side.BUY``)
        for ``inst, side, px_tick, ts_ns, order_type`` and a real number for ``qty``
        go straight to the kernel's compiled int64/float64 entry point, without
        numba's dispatcher; any other value (a float price, say) goes through the
        dispatcher as before, which compiles a specialization for it. The checks and
        formulas are in the class Notes.

        Parameters
        ----------
        inst
            Index of the instrument in :attr:`instruments`.
        side
            :class:`qlib.enums.Side` (``BUY`` or ``SELL``).
        px_tick
            Limit price in ticks (ignored for a market order).
        qty
            Quantity, > 0.
        ts_ns
            Decision time, int64 ns since the epoch, UTC.
        order_type
            :class:`qlib.enums.OrderType`.
        """
        try:
            # Fast path: the kernel's compiled entry point, without numba's dispatch. It
            # would truncate a float given for an int argument, or parse a str quantity, so
            # the arguments must pass these two operations (ints, numpy ints, IntEnum, bool
            # and a real number do); anything else goes to the dispatcher as before.
            inst | side | px_tick | ts_ns | order_type
            qty + 0.0
            return self._check_kernel(
                self.istate, self.fstate, self.journal_array, inst, side, px_tick, qty, ts_ns, order_type
            )
        except (TypeError, ValueError, OverflowError):
            # unboxing fails before the kernel runs, so nothing was checked or written yet
            return K.pretrade_check(
                self.istate, self.fstate, self.journal_array, inst, side, px_tick, qty, ts_ns, order_type
            )

    def check_or_raise(
        self,
        instrument: int | str,
        side: int,
        px_tick: int,
        qty: float,
        ts_ns: int,
        order_type: int = _LIMIT,
    ) -> None:
        """Check one intent as :meth:`check` does, and raise if it is refused.

        Raises
        ------
        OrderRejected
            The order was refused; the message names the check and the order.
        ParameterError
            ``instrument`` is not known.
        """
        k = self._idx(instrument)
        code = self.check(k, int(side), int(px_tick), float(qty), int(ts_ns), int(order_type))
        if code != PreTradeReject.APPROVED:
            side_name = Side(side).name if side in (-1, 0, 1) else repr(side)
            raise OrderRejected(
                f"pre-trade check {PreTradeReject(code).name} refused {side_name} {qty!r} "
                f"{self.instruments[k].instrument_id} @ px_tick={px_tick!r} at ts_ns={ts_ns!r}"
            )

    def message(self, ts_ns: int) -> int:
        """Charge one cancel or modify to the message-rate bucket.

        Returns ``PreTradeReject.APPROVED`` or ``MESSAGE_RATE`` (as an ``int``).
        Messages pass while the kill switch is tripped: cancels reduce risk.
        """
        return K.throttle_message(self.istate, ts_ns)

    # --- state fed by market data and the OMS --------------------------------------
    def on_market_data(self, instrument: int | str, ts_ns: int, ref_px_tick: int) -> None:
        """Set the reference price (mid, last or mark, in ticks) of an instrument."""
        K.update_reference(self.istate, self.fstate, self._idx(instrument), int(ts_ns), int(ref_px_tick))

    def mark_pnl(self, pnl: float, ts_ns: int | None = None) -> int:
        """Record the account P&L; trip the kill switch on a circuit breaker.

        Returns ``APPROVED``, ``DAILY_LOSS`` or ``DRAWDOWN`` (as an ``int``).
        """
        if not np.isfinite(pnl):
            raise ParameterError(f"pnl was {pnl!r}, expected a finite number")
        self._ensure_journal_room()
        return K.mark_pnl(self.istate, self.fstate, self.journal_array, self._now(ts_ns), float(pnl))

    def start_day(self) -> None:
        """Start a trading day: the daily loss is measured from the current P&L."""
        self.fstate[K.F_PNL_DAY] = self.fstate[K.F_PNL]
        K.refresh_pnl_floor(self.fstate)

    def observe_latency(self, latency_ns: int, ts_ns: int | None = None) -> bool:
        """Record one latency measurement; return True if it tripped the kill switch."""
        self._ensure_journal_room()
        return bool(K.observe_latency(self.istate, self.journal_array, self._now(ts_ns), int(latency_ns)))

    def set_position(self, instrument: int | str, pos_qty: float) -> None:
        """Set the signed filled position of an instrument (from the OMS)."""
        if not np.isfinite(pos_qty):
            raise ParameterError(f"pos_qty was {pos_qty!r}, expected a finite number")
        K.set_position(self.istate, self.fstate, self._idx(instrument), float(pos_qty))

    def sync_orders(
        self,
        instrument: int | str,
        n_open: int,
        open_buy_qty: float,
        open_sell_qty: float,
        own_best_bid: int | None = None,
        own_best_ask: int | None = None,
    ) -> None:
        """Overwrite an instrument's open-order state with the OMS's view.

        ``own_best_bid``/``own_best_ask`` are the best prices (ticks) of our resting
        buys and sells, ``None`` when there are none.
        """
        if n_open < 0 or not (open_buy_qty >= 0 and open_sell_qty >= 0):
            raise ParameterError(
                f"open orders were n_open={n_open!r}, open_buy_qty={open_buy_qty!r}, "
                f"open_sell_qty={open_sell_qty!r}, expected >= 0"
            )
        K.sync_orders(
            self.istate,
            self.fstate,
            self._idx(instrument),
            int(n_open),
            float(open_buy_qty),
            float(open_sell_qty),
            K.NO_BID if own_best_bid is None else int(own_best_bid),
            K.NO_ASK if own_best_ask is None else int(own_best_ask),
        )

    # --- kill switch ---------------------------------------------------------------
    @property
    def killed(self) -> bool:
        """True while the kill switch is tripped."""
        return bool(self.istate[K.I_KILLED])

    @property
    def kill_reason(self) -> KillReason:
        """Reason of the current trip (``KillReason.NONE`` when not tripped)."""
        return KillReason(int(self.istate[K.I_KILL_REASON]))

    def trip(self, reason: KillReason = KillReason.MANUAL, ts_ns: int | None = None) -> list[str]:
        """Trip the kill switch; return the instrument ids whose orders must be cancelled.

        Tripping an already tripped switch changes nothing and journals nothing.
        """
        reason = KillReason(reason)
        if reason == KillReason.NONE:
            raise ParameterError("reason was KillReason.NONE, expected a trip reason")
        self._ensure_journal_room()
        K.trip_kill(self.istate, self.journal_array, self._now(ts_ns), int(reason))
        return self.cancel_all_intents()

    def reset(self, ts_ns: int | None = None) -> bool:
        """Reset a tripped kill switch (journalled as ``MANUAL``); return True if it was tripped."""
        self._ensure_journal_room()
        return bool(K.reset_kill(self.istate, self.journal_array, self._now(ts_ns), int(KillReason.MANUAL)))

    def cancel_all_intents(self) -> list[str]:
        """Ids of the instruments with open orders: one cancel-all intent each.

        Empty while the switch is armed (cancel-all is the kill switch's action).
        """
        if not self.killed:
            return []
        out = np.empty(len(self.instruments), dtype=np.int64)
        k = K.cancel_all(self.istate, out)
        return [self.instruments[i].instrument_id for i in out[:k]]

    @property
    def journal(self) -> pd.DataFrame:
        """Every trip and reset: columns ``ts`` (UTC Timestamp), ``event``, ``reason`` (names)."""
        rows = self.journal_array[: int(self.istate[K.I_JOURNAL_N])]
        return pd.DataFrame(
            {
                "ts": pd.to_datetime(rows[:, K.JC_TS], unit="ns", utc=True),
                "event": pd.Series([KillEvent(int(e)).name for e in rows[:, K.JC_EVENT]], dtype=object),
                "reason": pd.Series([KillReason(int(r)).name for r in rows[:, K.JC_REASON]], dtype=object),
            }
        )
