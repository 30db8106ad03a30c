"""Numba kernels of the Binance loader: bytes in, arrays and status codes out. No I/O.

:func:`parse_lines` reads recorded lines ``<local_ts_ns> {"stream":"...","data":{...}}``
of the depth, trade and bookTicker streams straight from decompressed bytes into
per-stream arrays, so the loader builds no Python object per message. A line it does
not read in full stops it (``Status.UNKNOWN_KIND``): a REST snapshot, a stream name it
has not been given yet, a value in an unusual form (an exponent, a sign, more than 15
digits, an escape, whitespace), a missing or repeated field, or a malformed line. The
loader then reads that one line in Python (orjson), which also names the bad
file/row/field, and resumes after it. :func:`prices_to_ticks` converts prices to
ticks with status codes for non-finite, non-positive, off-grid and int64-overflowing
values. :func:`fill_events` writes the merged event array once its order is known.
See :func:`qlib.data.binance.load_binance`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.enums import EventFlag, EventKind, Side, Status

#: Stream channels (the ``ch`` recorded for each stream name).
CH_DEPTH, CH_TRADE, CH_TICKER = 0, 1, 2
#: Capacity of the stream-name table and the longest name it holds.
MAX_NAMES, MAX_NAME_LEN = 64, 64
#: Zero bytes the caller appends after the data, so no scan can run off the buffer.
PAD = 16

_NL = 10
_SP = 32
_QUOTE = 34
_COMMA = 44
_MINUS = 45
_DOT = 46
_ZERO = 48
_NINE = 57
_COLON = 58
_LBR = 91
_BSLASH = 92
_RBR = 93
_LBRACE = 123
_RBRACE = 125
_MAX_DIGITS = 15  # significant digits exact in a float64 mantissa; more take the slow path
_MAX_INT_DIGITS = 18  # fits int64 without an overflow check
_MAX_TS = 922337203685477580  # int64 max // 10
_F_LAST = int(EventFlag.LAST)

#: 10**k for k = 0..15, exact in float64.
_POW10 = np.array([10.0 ** k for k in range(16)])
_WRAP = np.frombuffer(b'{"stream":"', dtype=np.uint8).copy()
_DATA = np.frombuffer(b',"data":', dtype=np.uint8).copy()
_TRUE = np.frombuffer(b"true", dtype=np.uint8).copy()
_FALSE = np.frombuffer(b"false", dtype=np.uint8).copy()
_NULL = np.frombuffer(b"null", dtype=np.uint8).copy()


def _code(key: bytes) -> int:
    return key[0] | (key[1] << 8 if len(key) > 1 else 0)


# keys of the data objects, packed as by _key (one or two bytes)
_K_E, _K_T, _K_U, _K_u, _K_pu = _code(b"E"), _code(b"T"), _code(b"U"), _code(b"u"), _code(b"pu")
_K_b, _K_a, _K_B, _K_A = _code(b"b"), _code(b"a"), _code(b"B"), _code(b"A")
_K_t, _K_p, _K_q, _K_m, _K_X = _code(b"t"), _code(b"p"), _code(b"q"), _code(b"m"), _code(b"X")
_K_ps = _code(b"ps")  # the pair of a COIN-M contract ("BTCUSD" for BTCUSD_PERP)


# --------------------------------------------------------------------------- tokens
@njit(cache=True)
def _literal(buf, i, lit):
    """Return the index after ``lit`` if it is at ``buf[i]``, else -1."""
    for t in range(lit.shape[0]):
        if buf[i + t] != lit[t]:
            return -1
    return i + lit.shape[0]


@njit(cache=True)
def _uint(buf, i):
    """Read a JSON integer >= 0 of at most 18 digits; return (value, next i) or (0, -1)."""
    c = buf[i]
    if c < _ZERO or c > _NINE:
        return 0, -1
    if c == _ZERO:
        if _ZERO <= buf[i + 1] <= _NINE:
            return 0, -1  # a leading zero is not JSON
        return 0, i + 1
    v = 0
    nd = 0
    while _ZERO <= buf[i] <= _NINE:
        if nd == _MAX_INT_DIGITS:
            return 0, -1
        v = v * 10 + (np.int64(buf[i]) - _ZERO)
        nd += 1
        i += 1
    return v, i


@njit(cache=True)
def _decimal(buf, i, pow10):
    """Read ``"ddd.ddd"`` at ``buf[i]`` (its opening quote); return (value, next i) or (nan, -1).

    The value is ``mantissa / 10**decimals`` of two exact float64s, so it is the
    correctly rounded float, the same as ``float(text)``.
    """
    if buf[i] != _QUOTE:
        return np.nan, -1
    i += 1
    mant = 0
    sig = 0
    ndig = 0
    dec = -1
    while True:
        c = buf[i]
        if c == _QUOTE:
            break
        if c == _DOT and dec < 0:
            dec = 0
        elif _ZERO <= c <= _NINE:
            ndig += 1
            if sig > 0 or c != _ZERO:
                sig += 1
            mant = mant * 10 + (np.int64(c) - _ZERO)
            if dec >= 0:
                dec += 1
        else:
            return np.nan, -1
        if sig > _MAX_DIGITS or dec > _MAX_DIGITS:
            return np.nan, -1
        i += 1
    if ndig == 0:
        return np.nan, -1
    return mant / pow10[max(dec, 0)], i + 1


@njit(cache=True)
def _string(buf, i):
    """Skip a JSON string of printable ASCII without escapes; return the next i or -1."""
    if buf[i] != _QUOTE:
        return -1
    i += 1
    while True:
        c = buf[i]
        if c == _QUOTE:
            return i + 1
        if c < _SP or c > 126 or c == _BSLASH:
            return -1
        i += 1


@njit(cache=True)
def _digits(buf, i):
    """Return the index after a run of at least one digit at ``buf[i]``, or -1."""
    j = i
    while _ZERO <= buf[j] <= _NINE:
        j += 1
    return j if j > i else -1


@njit(cache=True)
def _skip(buf, i):
    """Skip a JSON scalar (string, number, true, false, null); return the next i or -1."""
    c = buf[i]
    if c == _QUOTE:
        return _string(buf, i)
    if c == 116:
        return _literal(buf, i, _TRUE)
    if c == 102:
        return _literal(buf, i, _FALSE)
    if c == 110:
        return _literal(buf, i, _NULL)
    if c == _MINUS:
        i += 1
    if buf[i] == _ZERO:
        i += 1
    else:
        i = _digits(buf, i)
        if i < 0:
            return -1
    if buf[i] == _DOT:
        i = _digits(buf, i + 1)
        if i < 0:
            return -1
    if buf[i] == 101 or buf[i] == 69:  # e E
        i += 1
        if buf[i] == 43 or buf[i] == _MINUS:
            i += 1
        i = _digits(buf, i)
    return i


@njit(cache=True)
def _key(buf, i):
    """Read ``"key":`` at ``buf[i]``; return (code, next i) or (0, -1).

    The code packs a one- or two-byte key (first byte low); longer keys are -1.
    """
    if buf[i] != _QUOTE:
        return 0, -1
    i += 1
    code = 0
    n = 0
    while True:
        c = buf[i]
        if c == _QUOTE:
            break
        if c < _SP or c > 126 or c == _BSLASH:
            return 0, -1
        if n < 2:
            code |= np.int64(c) << (8 * n)
        n += 1
        i += 1
    if n == 0 or n > 2:
        code = -1
    if buf[i + 1] != _COLON:
        return 0, -1
    return code, i + 2


@njit(cache=True)
def _level_list(buf, i, px, qty, k, pow10):
    """Read ``[["p","q"],...]`` at ``buf[i]``; return (levels, next i, next k).

    ``i`` is -1 when the list is not in this form and -2 when ``px`` is full.
    """
    if buf[i] != _LBR:
        return 0, -1, k
    i += 1
    n = 0
    if buf[i] == _RBR:
        return 0, i + 1, k
    while True:
        if buf[i] != _LBR:
            return 0, -1, k
        if k >= px.shape[0]:
            return 0, -2, k
        p, i = _decimal(buf, i + 1, pow10)
        if i < 0 or buf[i] != _COMMA:
            return 0, -1, k
        q, i = _decimal(buf, i + 1, pow10)
        if i < 0 or buf[i] != _RBR:
            return 0, -1, k
        px[k] = p
        qty[k] = q
        k += 1
        n += 1
        i += 1
        if buf[i] == _RBR:
            return n, i + 1, k
        if buf[i] != _COMMA:
            return 0, -1, k
        i += 1


# --------------------------------------------------------------------------- messages
@njit(cache=True)
def _depth(buf, i, j, d_E, d_U, d_u, d_pu, d_has_pu, d_has_ps, d_nb, d_na, px, qty, k, pow10):
    """Read a depthUpdate object into row ``j``; return (next i, next k).

    ``i`` is -1 when the object is not in the fast form, -2 when ``px`` is full.
    """
    if buf[i] != _LBRACE:
        return -1, k
    i += 1
    seen = 0
    k0 = k
    d_has_pu[j] = 0
    d_has_ps[j] = 0
    while True:
        code, i = _key(buf, i)
        if i < 0:
            return -1, k0
        if code == _K_E:
            bit = 1
            d_E[j], i = _uint(buf, i)
        elif code == _K_U:
            bit = 2
            d_U[j], i = _uint(buf, i)
        elif code == _K_u:
            bit = 4
            d_u[j], i = _uint(buf, i)
        elif code == _K_pu:
            bit = 8
            d_pu[j], i = _uint(buf, i)
            d_has_pu[j] = 1
        elif code == _K_b:
            bit = 16
            if seen & 32:
                return -1, k0  # asks before bids: the slow path keeps bids first
            d_nb[j], i, k = _level_list(buf, i, px, qty, k, pow10)
            if i == -2:
                return -2, k0
        elif code == _K_a:
            bit = 32
            d_na[j], i, k = _level_list(buf, i, px, qty, k, pow10)
            if i == -2:
                return -2, k0
        else:
            bit = 0
            if code == _K_ps:
                d_has_ps[j] = 1
            i = _skip(buf, i)
        if i < 0 or (seen & bit):
            return -1, k0
        seen |= bit
        if buf[i] == _COMMA:
            i += 1
        elif buf[i] == _RBRACE:
            break
        else:
            return -1, k0
    if (seen & 55) != 55:  # E, U, u, b, a are required
        return -1, k0
    return i + 1, k


@njit(cache=True)
def _trade(buf, i, j, t_T, t_t, t_p, t_q, t_m, t_has_X, pow10):
    """Read a trade object into row ``j``; return the next i or -1."""
    if buf[i] != _LBRACE:
        return -1
    i += 1
    seen = 0
    t_has_X[j] = 0
    while True:
        code, i = _key(buf, i)
        if i < 0:
            return -1
        if code == _K_T:
            bit = 1
            t_T[j], i = _uint(buf, i)
        elif code == _K_t:
            bit = 2
            t_t[j], i = _uint(buf, i)
        elif code == _K_p:
            bit = 4
            t_p[j], i = _decimal(buf, i, pow10)
        elif code == _K_q:
            bit = 8
            t_q[j], i = _decimal(buf, i, pow10)
        elif code == _K_m:
            bit = 16
            if buf[i] == 116:
                t_m[j] = 1
                i = _literal(buf, i, _TRUE)
            else:
                t_m[j] = 0
                i = _literal(buf, i, _FALSE)
        else:
            bit = 0
            if code == _K_X:
                t_has_X[j] = 1
            i = _skip(buf, i)
        if i < 0 or (seen & bit):
            return -1
        seen |= bit
        if buf[i] == _COMMA:
            i += 1
        elif buf[i] == _RBRACE:
            break
        else:
            return -1
    if seen != 31:  # T, t, p, q, m are required
        return -1
    return i + 1


@njit(cache=True)
def _ticker(buf, i, j, q_u, q_E, q_has_E, q_has_ps, q_b, q_B, q_a, q_A, pow10):
    """Read a bookTicker object into row ``j``; return the next i or -1."""
    if buf[i] != _LBRACE:
        return -1
    i += 1
    seen = 0
    q_has_E[j] = 0
    q_has_ps[j] = 0
    while True:
        code, i = _key(buf, i)
        if i < 0:
            return -1
        if code == _K_u:
            bit = 1
            q_u[j], i = _uint(buf, i)
        elif code == _K_b:
            bit = 2
            q_b[j], i = _decimal(buf, i, pow10)
        elif code == _K_B:
            bit = 4
            q_B[j], i = _decimal(buf, i, pow10)
        elif code == _K_a:
            bit = 8
            q_a[j], i = _decimal(buf, i, pow10)
        elif code == _K_A:
            bit = 16
            q_A[j], i = _decimal(buf, i, pow10)
        elif code == _K_E:
            bit = 32
            q_E[j], i = _uint(buf, i)
            q_has_E[j] = 1
        else:
            bit = 0
            if code == _K_ps:
                q_has_ps[j] = 1
            i = _skip(buf, i)
        if i < 0 or (seen & bit):
            return -1
        seen |= bit
        if buf[i] == _COMMA:
            i += 1
        elif buf[i] == _RBRACE:
            break
        else:
            return -1
    if (seen & 31) != 31:  # u, b, B, a, A are required
        return -1
    return i + 1


@njit(cache=True)
def find_byte(buf, start, stop, byte):
    """Return the index of the first ``byte`` in ``buf[start:stop]``, or ``stop``."""
    for i in range(start, stop):
        if buf[i] == byte:
            return i
    return stop


@njit(cache=True)
def parse_lines(buf, pos, n, row, last_local, names, name_len, name_ch, name_count,
                name_first, n_names,
                d_row, d_local, d_E, d_U, d_u, d_pu, d_has_pu, d_has_ps, d_nb, d_na, nd,
                px, qty, k,
                t_row, t_local, t_T, t_t, t_p, t_q, t_m, t_has_X, nt,
                q_row, q_local, q_u, q_E, q_has_E, q_has_ps, q_b, q_B, q_a, q_A, nq):
    """Read whole lines of ``buf[pos:n]`` into the per-stream arrays; see the module docstring.

    ``buf[n:n + PAD]`` are zero bytes. ``names[s, :name_len[s]]`` are the known stream
    names with channel ``name_ch[s]``; ``name_count[s]`` counts their lines and
    ``name_first[s]`` (-1 before) gets the row of the first one. ``d_*`` (``nd`` rows,
    levels appended to ``px``/``qty`` from ``k``), ``t_*`` (``nt``) and ``q_*`` (``nq``)
    receive depth, trade and bookTicker messages. ``row`` is the file row of the line at
    ``pos`` and ``last_local`` the local time of the line before it.

    Returns ``(status, pos, row, last_local, nd, k, nt, nq)`` with the counters after
    the last line read: ``OK`` once ``pos == n``; ``UNSORTED`` when the line at ``pos``
    has a local time below ``last_local``; ``UNKNOWN_KIND`` when the line at ``pos``
    needs the caller; ``CAPACITY`` when an output array is full at it.
    """
    pow10 = _POW10
    while pos < n:
        i = pos
        ts = 0
        while _ZERO <= buf[i] <= _NINE:
            dg = np.int64(buf[i]) - _ZERO
            if ts > _MAX_TS or (ts == _MAX_TS and dg > 7):
                return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
            ts = ts * 10 + dg
            i += 1
        if i == pos or buf[i] != _SP or i - pos >= 32:
            return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
        if ts < last_local:
            return Status.UNSORTED, pos, row, last_local, nd, k, nt, nq
        i = _literal(buf, i + 1, _WRAP)
        if i < 0:
            return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
        s0 = i
        while buf[i] != _QUOTE:
            if buf[i] <= _SP or buf[i] > 126 or buf[i] == _BSLASH:
                return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
            i += 1
        ln = i - s0
        sid = -1
        for s in range(n_names):
            if name_len[s] == ln:
                same = True
                for t in range(ln):
                    if names[s, t] != buf[s0 + t]:
                        same = False
                        break
                if same:
                    sid = s
                    break
        if sid < 0:
            return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
        i = _literal(buf, i + 1, _DATA)
        if i < 0:
            return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
        ch = name_ch[sid]
        if ch == CH_DEPTH:
            if nd >= d_row.shape[0]:
                return Status.CAPACITY, pos, row, last_local, nd, k, nt, nq
            i, k2 = _depth(buf, i, nd, d_E, d_U, d_u, d_pu, d_has_pu, d_has_ps, d_nb, d_na, px,
                           qty, k, pow10)
            if i == -2:
                return Status.CAPACITY, pos, row, last_local, nd, k, nt, nq
        elif ch == CH_TRADE:
            if nt >= t_row.shape[0]:
                return Status.CAPACITY, pos, row, last_local, nd, k, nt, nq
            i = _trade(buf, i, nt, t_T, t_t, t_p, t_q, t_m, t_has_X, pow10)
            k2 = k
        else:
            if nq >= q_row.shape[0]:
                return Status.CAPACITY, pos, row, last_local, nd, k, nt, nq
            i = _ticker(buf, i, nq, q_u, q_E, q_has_E, q_has_ps, q_b, q_B, q_a, q_A, pow10)
            k2 = k
        if i < 0 or buf[i] != _RBRACE:
            return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
        i += 1
        if i < n:
            if buf[i] != _NL:
                return Status.UNKNOWN_KIND, pos, row, last_local, nd, k, nt, nq
            i += 1
        # the line is read: commit it
        if ch == CH_DEPTH:
            d_row[nd] = row
            d_local[nd] = ts
            nd += 1
            k = k2
        elif ch == CH_TRADE:
            t_row[nt] = row
            t_local[nt] = ts
            nt += 1
        else:
            q_row[nq] = row
            q_local[nq] = ts
            nq += 1
        if name_first[sid] < 0:
            name_first[sid] = row
        name_count[sid] += 1
        last_local = ts
        row += 1
        pos = i
    return Status.OK, pos, row, last_local, nd, k, nt, nq


# --------------------------------------------------------------------------- ticks
#: Largest tick count written: beyond it ``int64`` conversion wraps (1e300 -> INT64_MIN).
_TICK_LIMIT = 2.0 ** 62


@njit(cache=True)
def prices_to_ticks(px, tick_size, out):
    """Write ``round(px / tick_size)`` into ``out``; return ``(status, row)``.

    ``out`` may share ``px``'s memory (``px.view(np.int64)``): each row is read before
    it is written. The same grid test as :meth:`qlib.instrument.Instrument.to_ticks`
    (off by more than ``1e-6`` of a tick). Stops at the first bad row, which is left
    unwritten: ``NON_FINITE`` (NaN or infinite), ``BAD_PRICE`` (not above zero),
    ``PRICE_OVERFLOW`` (more than 2**62 ticks: the int64 conversion would overflow) or
    ``OFF_GRID``. The wrapper (:func:`qlib.data._binance_io._ticks`) names the row. ``(OK, len(px))`` when every row is written.
    """
    for j in range(px.shape[0]):
        v = px[j]
        if not np.isfinite(v):
            return Status.NON_FINITE, j
        if v <= 0.0:
            return Status.BAD_PRICE, j
        tf = v / tick_size
        if tf > _TICK_LIMIT:
            return Status.PRICE_OVERFLOW, j
        t = np.rint(tf)
        if abs(tf - t) > 1e-6 * max(1.0, abs(t) * 1e-9):
            return Status.OFF_GRID, j
        out[j] = np.int64(t)
    return Status.OK, px.shape[0]


# --------------------------------------------------------------------------- events
@njit(cache=True)
def fill_events(out, order, book_ref, snap_ev, snap_off, lv_off, d_nb, d_nlev, px_tick, qty,
                d_u, d_ts, d_local, t_ts, t_local, t_seq, t_px, t_qty, t_side,
                q_ts, q_local, q_seq, q_bpx, q_bqty, q_apx, q_aqty):
    """Write the events of the messages ``order`` into ``out`` one after another.

    A message id below ``len(book_ref)`` is a book message: ``book_ref >= 0`` is a
    depth diff (its levels from ``lv_off``, ``d_nb`` bids then asks), ``-1 - s`` is
    REST snapshot ``s`` (rows ``snap_off[s]:snap_off[s + 1]`` of ``snap_ev``); then
    come the trades and the bookTickers (a bid and an ask row). Returns the rows
    written. See :func:`qlib.data.binance.load_binance`.
    """
    nb = book_ref.shape[0]
    ntr = t_ts.shape[0]
    r = 0
    for m in order:
        if m < nb:
            j = book_ref[m]
            if j < 0:
                s = -1 - j
                for x in range(snap_off[s], snap_off[s + 1]):
                    out[r] = snap_ev[x]
                    r += 1
            else:
                o = lv_off[j]
                nl = d_nlev[j]
                for x in range(nl):
                    e = out[r]
                    e["kind"] = EventKind.DEPTH
                    e["side"] = Side.BUY if x < d_nb[j] else Side.SELL
                    e["flags"] = _F_LAST if x == nl - 1 else 0
                    e["px_tick"] = px_tick[o + x]
                    e["qty"] = qty[o + x]
                    e["seq"] = d_u[j]
                    e["ts_exch"] = d_ts[j]
                    e["ts_local"] = d_local[j]
                    e["order_id"] = 0
                    r += 1
        elif m < nb + ntr:
            j = m - nb
            e = out[r]
            e["kind"] = EventKind.TRADE
            e["side"] = t_side[j]
            e["flags"] = _F_LAST
            e["px_tick"] = t_px[j]
            e["qty"] = t_qty[j]
            e["seq"] = t_seq[j]
            e["ts_exch"] = t_ts[j]
            e["ts_local"] = t_local[j]
            e["order_id"] = 0
            r += 1
        else:
            j = m - nb - ntr
            for x in range(2):
                e = out[r]
                e["kind"] = EventKind.QUOTE
                e["side"] = Side.BUY if x == 0 else Side.SELL
                e["flags"] = 0 if x == 0 else _F_LAST
                e["px_tick"] = q_bpx[j] if x == 0 else q_apx[j]
                e["qty"] = q_bqty[j] if x == 0 else q_aqty[j]
                e["seq"] = q_seq[j]
                e["ts_exch"] = q_ts[j]
                e["ts_local"] = q_local[j]
                e["order_id"] = 0
                r += 1
    return r


@njit(cache=True)
def first_off_step(values, step, hi):
    r"""Index of the first value in ``(0, hi]`` that is not a whole multiple of ``step``,
    or -1 when there is none.

    With :math:`q = v / \mathrm{step}`, a value is on the grid when :math:`|q -
    \mathrm{rint}(q)| \le 10^{-12} \max(1, |q|)`. A decimal string parsed to the nearest
    double, divided by the nearest double of a decimal step, lands within a few units of
    :math:`2^{-53} |q|` (about :math:`10^{-15} |q|`) of its whole number, so a value on
    the grid always passes; a value off it by a fraction :math:`f` of a step fails
    whenever :math:`f > 10^{-12} |q|`, which leaves the three decimal digits of margin a
    float64 price written with at most 16 significant digits never needs.

    One pass, no temporaries: the check behind :func:`qlib.data._binance_grid.grid_from_sample`
    and :func:`qlib.data._binance_grid.stated_grid`.
    """
    for i in range(values.shape[0]):
        v = values[i]
        if v > 0.0 and v <= hi:
            q = v / step
            if abs(q - np.rint(q)) > 1e-12 * max(1.0, abs(q)):
                return i
    return -1
