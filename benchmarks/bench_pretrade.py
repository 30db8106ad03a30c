"""Benchmark the pre-trade risk check: run with ``.venv/bin/python benchmarks/bench_pretrade.py``.

Prints a Markdown table, ns per full check (every limit of the config enabled, the
order approved, so every check runs and the throttles and reservations are written):

* inside one jitted loop (1 and 8 instruments; the check is O(1) in the number of
  instruments since the gross exposure is kept incrementally in ``fstate[F_GROSS]``):
  ``pretrade_check_inline`` inlined into a loop compiled with ``_nrt=False`` (the way
  for engines), and ``pretrade_check`` called from a loop compiled with ``_nrt=False``
  as the kernels are, and from one compiled with numba's default
  reference counting (the caller then increfs and decrefs the three state arrays
  around every call: atomic operations that cost more than the check);
* the same loop through ``pretrade_check.py_func`` (numpy scalar indexing) and through a
  plain-Python version of the same checks over Python lists and floats, on the same
  inputs;
* one call from Python: ``PreTradeRisk.check`` (a method around the kernel's compiled
  entry point, see :mod:`qlib.risk.pretrade`), the kernel's dispatcher called
  directly, and two jitted no-ops with the same 9 arguments and with none, which is
  the floor any call through numba's dispatcher pays.

The loops vary every input at run time (instrument, side, limit price, quantity from
an array; the reference price, order type and instrument count are arguments), so the
compiler can neither fold a check nor hoist it out of the loop, and every approval
writes the state as in real use (see the comment above ``_loop``). Their per-check
time includes generating the inputs, which the table also times alone.

Best of ``--repeat`` runs; JIT compilation (or cache load) is timed apart. Results on a
shared 2-core machine vary with the other load on it. After editing the kernels, delete
this directory's numba cache (``benchmarks/__pycache__/bench_pretrade*.nbi``/``.nbc``):
numba's cache of a jitted caller keeps the old code of the kernels it calls or inlines.
"""

from __future__ import annotations

import argparse
import platform
import time

import numba
import numpy as np
from numba import njit

from qlib.instrument import Instrument
from qlib.risk import PreTradeRisk, RiskConfig
from qlib.risk import _pretrade_kernels as K
from _common import best_of as _best  # benchmarks/_common.py

REF = 100_000
CFG = RiskConfig(
    max_order_qty=10, max_order_notional=1e12, max_position_qty=1e15, max_gross_notional=1e18,
    collar_bps=100, max_orders_per_s=1_000_000_000, order_burst=1_000_000_000,
    max_msgs_per_s=1_000_000_000, msg_burst=1_000_000_000, max_open_orders=2_000_000_000,
    max_daily_loss=1e9, max_drawdown=1e9, max_concentration=1e6, capital=1e15, margin_rate=0.01,
    max_rejects=10, max_md_age_ns=10**18, max_latency_ns=10**9,
)


def _risk(n_inst: int) -> PreTradeRisk:
    insts = [Instrument(f"I{k}.X", tick_size=0.01) for k in range(n_inst)]
    risk = PreTradeRisk(CFG, insts)
    for k in range(n_inst):
        risk.on_market_data(k, ts_ns=1, ref_px_tick=REF)
    return risk


#: Quantities cycled through by the loops (read from an array at run time, so the
#: compiler cannot fold the quantity checks).
QTYS = np.array([1.0, 0.5, 2.0, 1.5, 0.25, 1.0, 3.0, 0.75])


def _loop_py(check, istate, fstate, journal, n_inst, n, ref=REF, qtys=QTYS, otype=0):
    s = 0
    ts = 10
    for k in range(n):
        side = 1 if k & 1 else -1
        px = ref - side * (1 + ((k >> 1) & 7))
        s += check(istate, fstate, journal, k % n_inst, side, px, qtys[(k >> 2) & 7], ts, otype)
        ts += 1000
    return s


# The jitted loops vary every input at run time: the instrument cycles, the side
# alternates, the limit price walks 1-8 ticks away from the reference on the passive
# side (so no self-trade), the quantity is read from ``qtys`` and the reference, the
# order type and ``n_inst`` are arguments, not constants. Every order is approved and
# the approval's writes happen as in real use: throttle credit and refill time, the
# open-order counts, open quantity, own best prices and the exposure and gross
# exposure grow with every check (no OMS resyncs them here; the limits of ``CFG``
# leave room for ``--n`` approvals). The loop returns the sum of the codes (0 when all
# were approved), which the caller checks.
@njit(cache=True, _nrt=False)
def _loop(istate, fstate, journal, n_inst, n, ref, qtys, otype):
    s = 0
    ts = 10
    inst = 0
    for k in range(n):
        side = 1 if k & 1 else -1
        px = ref - side * (1 + ((k >> 1) & 7))
        s += K.pretrade_check(istate, fstate, journal, inst, side, px, qtys[(k >> 2) & 7], ts, otype)
        ts += 1000
        inst = inst + 1 if inst + 1 < n_inst else 0  # no integer division in the loop
    return s


@njit(cache=True, _nrt=False)
def _loop_inline(istate, fstate, journal, n_inst, n, ref, qtys, otype):
    """As ``_loop`` with the kernel inlined (``pretrade_check_inline``)."""
    s = 0
    ts = 10
    inst = 0
    for k in range(n):
        side = 1 if k & 1 else -1
        px = ref - side * (1 + ((k >> 1) & 7))
        s += K.pretrade_check_inline(istate, fstate, journal, inst, side, px, qtys[(k >> 2) & 7], ts, otype)
        ts += 1000
        inst = inst + 1 if inst + 1 < n_inst else 0
    return s


@njit(cache=True, _nrt=False)
def _loop_inputs(istate, fstate, journal, n_inst, n, ref, qtys, otype):
    """The loops' input generation alone (no check): the floor under their per-check times."""
    s = 0
    ts = 10
    inst = 0
    for k in range(n):
        side = 1 if k & 1 else -1
        px = ref - side * (1 + ((k >> 1) & 7))
        s += (px + side + inst + ts + otype) & 1 if qtys[(k >> 2) & 7] > 0.0 else 1
        ts += 1000
        inst = inst + 1 if inst + 1 < n_inst else 0
    return s


@njit(cache=True)
def _loop_nrt(istate, fstate, journal, n_inst, n, ref, qtys, otype):
    """As ``_loop`` in a caller compiled with reference counting (numba's default)."""
    s = 0
    ts = 10
    inst = 0
    for k in range(n):
        side = 1 if k & 1 else -1
        px = ref - side * (1 + ((k >> 1) & 7))
        s += K.pretrade_check(istate, fstate, journal, inst, side, px, qtys[(k >> 2) & 7], ts, otype)
        ts += 1000
        inst = inst + 1 if inst + 1 < n_inst else 0  # no integer division in the loop
    return s


@njit(cache=True)
def _noop9(istate, fstate, journal, inst, side, px_tick, qty, ts_ns, order_type):
    return 0


@njit(cache=True)
def _noop0():
    return 0


class PlainRisk:
    """The same checks in plain Python over lists and floats (the comparison baseline)."""

    def __init__(self, risk: PreTradeRisk) -> None:
        c, n = risk.config, len(risk.instruments)
        inf = float("inf")
        self.n = n
        self.max_qty, self.max_notional = float(c.max_order_qty), float(c.max_order_notional)
        self.max_gross, self.collar = float(c.max_gross_notional), c.collar_bps / 1e4
        self.max_open, self.max_dloss, self.max_dd = c.max_open_orders, c.max_daily_loss, c.max_drawdown
        self.max_conc, self.capital, self.margin = c.max_concentration, c.capital, c.margin_rate
        self.pnl = self.hwm = self.pnl_day = 0.0
        self.pos, self.ob, self.os = [0.0] * n, [0.0] * n, [0.0] * n
        self.max_pos = [float(c.max_position_qty or inf)] * n
        self.tv = [i.tick_size * i.multiplier for i in risk.instruments]
        self.ref = [REF] * n
        self.md_ts = [1] * n
        self.max_md_age = c.max_md_age_ns
        self.own_bid, self.own_ask = [K.NO_BID] * n, [K.NO_ASK] * n
        self.n_open, self.n_open_i = 0, [0] * n
        self.killed = False
        self.buckets = [[c.order_burst * K.TOKEN, 0, c.max_orders_per_s, c.order_burst * K.TOKEN],
                        [c.msg_burst * K.TOKEN, 0, c.max_msgs_per_s, c.msg_burst * K.TOKEN]]
        self.rej_start = self.rej_count = 0
        self.max_rejects, self.rej_window = c.max_rejects, c.reject_window_ns

    def _reject(self, ts, code):
        if self.rej_count == 0 or ts < self.rej_start or ts - self.rej_start > self.rej_window:
            self.rej_start, self.rej_count = ts, 0
        self.rej_count += 1
        if self.rej_count > self.max_rejects:
            self.killed = True
        return code

    @staticmethod
    def _credit(b, ts):
        credit, last, rate, cap = b
        dt = ts - last
        if dt <= 0:
            return credit
        if dt > cap // rate + 1:
            return cap
        return min(cap, credit + dt * rate)

    def check(self, i, side, px, qty, ts, otype):
        if self.killed:
            return 1
        if not (0 <= i < self.n) or side not in (1, -1) or not (0.0 < qty < float("inf")) \
                or otype not in (0, 1) or (otype == 0 and px <= 0):
            return self._reject(ts, 2)
        if ts - self.md_ts[i] > self.max_md_age:
            self.killed = True
            return 3
        if self.pnl_day - self.pnl > self.max_dloss:
            self.killed = True
            return 4
        if self.hwm - self.pnl > self.max_dd:
            self.killed = True
            return 5
        if qty > self.max_qty:
            return self._reject(ts, 6)
        ref = self.ref[i]
        if ref <= 0:
            return self._reject(ts, 7)
        p = ref
        if otype == 0:
            p = px
            if abs(px - ref) > self.collar * ref:
                return self._reject(ts, 8)
        notional = qty * p * self.tv[i]
        if notional > self.max_notional:
            return self._reject(ts, 9)
        worst = self.pos[i] + self.ob[i] + qty if side == 1 else self.pos[i] - self.os[i] - qty
        if abs(worst) > self.max_pos[i]:
            return self._reject(ts, 10)
        gross = inst_exp = notional
        for j in range(self.n):
            e = (abs(self.pos[j]) + self.ob[j] + self.os[j]) * self.ref[j] * self.tv[j]
            gross += e
            if j == i:
                inst_exp += e
        if gross > self.max_gross:
            return self._reject(ts, 11)
        equity = self.capital + self.pnl
        if inst_exp > self.max_conc * equity:
            return self._reject(ts, 12)
        if gross * self.margin > equity:
            return self._reject(ts, 13)
        if self.n_open >= self.max_open:
            return self._reject(ts, 14)
        if side == 1:
            if self.own_ask[i] != K.NO_ASK and (otype == 1 or px >= self.own_ask[i]):
                return self._reject(ts, 15)
        elif self.own_bid[i] != K.NO_BID and (otype == 1 or px <= self.own_bid[i]):
            return self._reject(ts, 15)
        c0 = self._credit(self.buckets[0], ts)
        if c0 < K.TOKEN:
            return self._reject(ts, 16)
        c1 = self._credit(self.buckets[1], ts)
        if c1 < K.TOKEN:
            return self._reject(ts, 17)
        for b, c in ((self.buckets[0], c0), (self.buckets[1], c1)):
            b[0] = c - K.TOKEN
            b[1] = max(b[1], ts)
        self.n_open += 1
        self.n_open_i[i] += 1
        if side == 1:
            self.ob[i] += qty
            if otype == 0 and px > self.own_bid[i]:
                self.own_bid[i] = px
        else:
            self.os[i] += qty
            if otype == 0 and px < self.own_ask[i]:
                self.own_ask[i] = px
        return 0


def _plain_loop(pr: PlainRisk, n_inst: int, n: int) -> int:
    s = 0
    ts = 10
    check = pr.check
    qtys = QTYS.tolist()
    for k in range(n):
        side = 1 if k & 1 else -1
        s += check(k % n_inst, side, REF - side * (1 + ((k >> 1) & 7)), qtys[(k >> 2) & 7], ts, 0)
        ts += 1000
    return s


def _check_via_dispatcher(risk, inst, side, px_tick, qty, ts_ns, order_type=0):
    """``PreTradeRisk.check`` as it was before its entry-point fast path: the dispatcher."""
    return K.pretrade_check(risk.istate, risk.fstate, risk.journal_array, inst, side, px_tick, qty, ts_ns,
                            order_type)


def _per_call_ns(call, n: int, repeat: int) -> float:
    def run() -> None:
        for _ in range(n):
            call()
    # subtract the bare Python loop
    loop = _best(lambda: [None for _ in range(n)], repeat)
    return max(_best(run, repeat) - loop, 0.0) / n * 1e9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2_000_000, help="checks per jitted run")
    ap.add_argument("--n-py", type=int, default=200_000, help="calls per Python-side run")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    n, n_py, rep = args.n, args.n_py, args.repeat

    t0 = time.perf_counter()
    r = _risk(1)
    _loop(r.istate, r.fstate, r.journal_array, 1, 10, REF, QTYS, 0)
    _loop_nrt(r.istate, r.fstate, r.journal_array, 1, 10, REF, QTYS, 0)
    _loop_inline(r.istate, r.fstate, r.journal_array, 1, 10, REF, QTYS, 0)
    _loop_inputs(r.istate, r.fstate, r.journal_array, 1, 10, REF, QTYS, 0)
    _noop9(r.istate, r.fstate, r.journal_array, 0, 1, REF, 1.0, 10, 0)
    _noop0()
    K.pretrade_check(r.istate, r.fstate, r.journal_array, 0, 1, REF, 1.0, 10, 0)
    t_compile = time.perf_counter() - t0

    rows = []
    for n_inst in (1, 8):
        def jit_run(n_inst=n_inst):
            rr = _risk(n_inst)
            assert _loop(rr.istate, rr.fstate, rr.journal_array, n_inst, n, REF, QTYS, 0) == 0
        # the state set-up is outside the timing only approximately: measure it and subtract
        setup = _best(lambda n_inst=n_inst: _risk(n_inst), rep)
        jit_ns = max(_best(jit_run, rep) - setup, 0.0) / n * 1e9

        def nrt_run(n_inst=n_inst):
            rr = _risk(n_inst)
            assert _loop_nrt(rr.istate, rr.fstate, rr.journal_array, n_inst, n, REF, QTYS, 0) == 0
        nrt_ns = max(_best(nrt_run, rep) - setup, 0.0) / n * 1e9

        def inline_run(n_inst=n_inst):
            rr = _risk(n_inst)
            assert _loop_inline(rr.istate, rr.fstate, rr.journal_array, n_inst, n, REF, QTYS, 0) == 0
        inl_ns = max(_best(inline_run, rep) - setup, 0.0) / n * 1e9

        def inputs_run(n_inst=n_inst):
            rr = _risk(n_inst)
            _loop_inputs(rr.istate, rr.fstate, rr.journal_array, n_inst, n, REF, QTYS, 0)
        inp_ns = max(_best(inputs_run, rep) - setup, 0.0) / n * 1e9

        def py_func_run(n_inst=n_inst):
            rr = _risk(n_inst)
            assert _loop_py(K.pretrade_check.py_func, rr.istate, rr.fstate, rr.journal_array, n_inst, n_py // 4) == 0
        pyf_ns = max(_best(py_func_run, 3) - setup, 0.0) / (n_py // 4) * 1e9

        def plain_run(n_inst=n_inst):
            assert _plain_loop(PlainRisk(_risk(n_inst)), n_inst, n_py) == 0
        plain_ns = max(_best(plain_run, 3) - setup, 0.0) / n_py * 1e9
        rows.append((f"`pretrade_check_inline` in a jitted `_nrt=False` loop, {n_inst} instrument(s)",
                     inl_ns, (f"plain Python {plain_ns:,.0f} ns ({plain_ns / inl_ns:,.0f}x); "
                              f".py_func {pyf_ns:,.0f} ns ({pyf_ns / inl_ns:,.0f}x); "
                              f"the loop's input generation alone {inp_ns:.1f} ns")))
        rows.append((f"`pretrade_check` called in a jitted `_nrt=False` loop, {n_inst} instrument(s)", jit_ns,
                     (f"plain Python {plain_ns:,.0f} ns ({plain_ns / jit_ns:,.0f}x); "
                      f".py_func {pyf_ns:,.0f} ns ({pyf_ns / jit_ns:,.0f}x)")))
        rows.append((f"`pretrade_check` called in a jitted loop with refcounting, {n_inst} instrument(s)", nrt_ns,
                     f"plain Python {plain_ns / nrt_ns:,.0f}x; time ratio to the `_nrt=False` loop {nrt_ns / jit_ns:.2f}"))

    r = _risk(1)
    ist, fst, jr = r.istate, r.fstate, r.journal_array
    ts = [10]
    chk = K.pretrade_check

    def method_call():
        ts[0] += 1000
        return r.check(0, 1, REF - 1, 1.0, ts[0], 0)

    def old_method_call():
        ts[0] += 1000
        return _check_via_dispatcher(r, 0, 1, REF - 1, 1.0, ts[0], 0)

    def direct_call():
        ts[0] += 1000
        return chk(ist, fst, jr, 0, 1, REF - 1, 1.0, ts[0], 0)

    def noop9_call():
        ts[0] += 1000
        return _noop9(ist, fst, jr, 0, 1, REF - 1, 1.0, ts[0], 0)

    def noop0_call():
        ts[0] += 1000
        return _noop0()

    def ts_only():
        ts[0] += 1000
        return 0

    pr = PlainRisk(_risk(1))

    def plain_call():
        ts[0] += 1000
        return pr.check(0, 1, REF - 1, 1.0, ts[0], 0)

    base = _per_call_ns(ts_only, n_py, rep)
    res = {name: _per_call_ns(fn, n_py, rep) - base for name, fn in
           [("method", method_call), ("old_method", old_method_call), ("direct", direct_call), ("noop9", noop9_call),
            ("noop0", noop0_call), ("plain", plain_call)]}
    # the open-order count grows by one per approved call; the limit is 2e9, so all approve
    assert r.check(0, 1, REF - 1, 1.0, ts[0] + 1000, 0) == 0

    print("### `python benchmarks/bench_pretrade.py`\n")
    print(f"CPU: {platform.processor() or platform.machine()}, Python {platform.python_version()}, "
          f"numba {numba.__version__}, numpy {np.__version__}; best of {rep}\n")
    print("| measurement | ns per check | compared with | target |")
    print("|---|---|---|---|")
    print(f"| first call (numba cache load or compile) | {t_compile:.2f} s | | |")
    for name, ns, cmp in rows:
        print(f"| {name} | {ns:.1f} | {cmp} | <= 5 ns |")
    print(f"| `PreTradeRisk.check` from Python | {res['method']:.0f} | plain-Python check "
          f"{res['plain']:.0f} ns ({res['plain'] / res['method']:.1f}x) | <= 300 ns |")
    print(f"| the same method through numba's dispatcher (as before), from Python | {res['old_method']:.0f} | "
          f"`PreTradeRisk.check` takes {res['method'] / res['old_method']:.0%} of it | <= 300 ns |")
    print(f"| `pretrade_check(istate, fstate, journal, ...)` dispatcher from Python | {res['direct']:.0f} | "
          f"plain-Python check {res['plain']:.0f} ns ({res['plain'] / res['direct']:.1f}x) | <= 300 ns |")
    print(f"| jitted no-op, same 9 arguments, from Python | {res['noop9']:.0f} | "
          f"dispatcher floor: {res['noop9'] / res['direct']:.0%} of the direct call | |")
    print(f"| jitted no-op, no arguments, from Python | {res['noop0']:.0f} | | |")


if __name__ == "__main__":
    main()
