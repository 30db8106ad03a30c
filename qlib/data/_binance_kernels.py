"""Numba kernels of the Binance loader: bytes in, arrays and status codes out. No I/O.

:func:`parse_levels` reads the ``"b"``/``"a"`` level lists of depth messages straight
from the recorded bytes, so the loader builds no Python object per level; see
:func:`qlib.data.binance.load_binance`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qlib.enums import Status

_QUOTE = 34  # "
_LBR = 91  # [
_RBR = 93  # ]
_COMMA = 44
_DOT = 46
_NL = 10
_RBRACE = 125  # }
_ZERO = 48
_MAX_DIGITS = 15  # exact in float64 mantissa; longer numbers take the slow path

#: 10**k for k = 0..15, exact in float64.
_POW10 = np.array([10.0 ** k for k in range(16)])
#: The bytes between a depth message's bid list and its ask list.
_ASK_TAG = np.frombuffer(b',"a":', dtype=np.uint8).copy()
#: Zero bytes the caller appends after the data, so no scan can run off the buffer.
PAD = 16


@njit(cache=True)
def _number(buf, i, pow10):
    """Parse ``"ddd.ddd"`` at ``buf[i]`` (the opening quote); return (value, next i) or (nan, -1)."""
    if buf[i] != _QUOTE:
        return np.nan, -1
    i += 1
    mant = 0
    digits = 0
    dec = -1
    while True:
        c = buf[i]
        if c == _QUOTE:
            break
        if c == _DOT and dec < 0:
            dec = 0
        elif _ZERO <= c <= _ZERO + 9:
            if digits > 0 or c != _ZERO:
                digits += 1
            mant = mant * 10 + (c - _ZERO)
            if dec >= 0:
                dec += 1
        else:
            return np.nan, -1
        if digits > _MAX_DIGITS or dec > _MAX_DIGITS:
            return np.nan, -1
        i += 1
    if dec < 0:
        dec = 0
    return mant / pow10[dec], i + 1


@njit(cache=True)
def _level_list(buf, i, px, qty, k, pow10):
    """Parse ``[["p","q"],...]`` at ``buf[i]``; return (levels read, next i, next k) or i = -1."""
    if buf[i] != _LBR:
        return 0, -1, k
    i += 1
    n = 0
    if buf[i] == _RBR:
        return 0, i + 1, k
    while True:
        if buf[i] != _LBR:
            return 0, -1, k
        p, i = _number(buf, i + 1, pow10)
        if i < 0 or buf[i] != _COMMA:
            return 0, -1, k
        q, i = _number(buf, i + 1, pow10)
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


@njit(cache=True)
def parse_levels(buf, n, px, qty, n_bid, n_ask):
    """Parse newline-separated tails ``[[..]],"a":[[..]]}}`` of depth messages.

    ``buf`` is uint8 holding ``n`` data bytes followed by ``PAD`` zero bytes; line ``j`` fills ``n_bid[j]``/``n_ask[j]`` and appends its levels
    to ``px``/``qty`` (capacity at least ``len(buf) // 9``). Returns ``(status, line,
    levels)``: ``(OK, lines, levels)``, or ``(UNKNOWN_KIND, line, -1)`` at the first
    line that is not in this exact shape (the caller then takes the general path).
    """
    pow10 = _POW10
    tag = _ASK_TAG
    i = 0
    k = 0
    line = 0
    while i < n:
        nb, i, k = _level_list(buf, i, px, qty, k, pow10)
        if i < 0:
            return Status.UNKNOWN_KIND, line, -1
        for t in range(tag.shape[0]):
            if i + t >= n or buf[i + t] != tag[t]:
                return Status.UNKNOWN_KIND, line, -1
        i += tag.shape[0]
        na, i, k = _level_list(buf, i, px, qty, k, pow10)
        if i < 0 or i + 1 >= n or buf[i] != _RBRACE or buf[i + 1] != _RBRACE:
            return Status.UNKNOWN_KIND, line, -1
        i += 2
        if i < n:
            if buf[i] != _NL:
                return Status.UNKNOWN_KIND, line, -1
            i += 1
        n_bid[line] = nb
        n_ask[line] = na
        line += 1
    return Status.OK, line, k
