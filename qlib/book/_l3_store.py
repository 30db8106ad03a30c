"""The order-level (L3) book's store: its layout, order-id map, levels, queues and reads.

Half of the L3 kernel set; the other half, applying events, is
:mod:`qlib.book._l3_kernels`, which re-exports every name here so callers import one
module. Arrays in, status codes out. No pandas, no I/O. The public wrapper and the
reasons behind the layout are in :mod:`qlib.book.l3`. The book state is an
:class:`L3State` named tuple of seven arrays (numba passes it to kernels as one
argument; ``.py_func`` takes the same tuple):

* ``pool``: :data:`qlib.dtypes.L3_SLOT_DTYPE` ``(order_capacity,)``, queue entries
  (identified orders and anonymous blocks), each linked to its neighbours in its
  level's FIFO queue; unused slots form a free list through ``next``.
* ``levels``: :data:`qlib.dtypes.L3_LEVEL_DTYPE` ``(level_capacity,)``, price levels
  with head/tail of their queue and their totals; unused slots form a free list
  through ``head``.
* ``keys``, ``slots``: int64 ``(2, level_capacity)``; row 0 the bid side, row 1 the
  ask side. ``keys[s, :meta[M_NLEV0 + s]]`` is sorted ascending (bid prices, negated
  ask prices), so the best level is the last entry; ``slots`` holds the level slot
  of each key.
* ``hkey``, ``hslot``: the order-id map, open addressing with linear probing in
  power-of-two arrays (uint64 key, int64 pool slot, ``-1`` = empty), Fibonacci
  hashing, backward-shift deletion (no tombstones), load factor <= 1/2.
* ``meta``: int64 ``(N_META,)`` counters and statistics (``M_*``, ``S_*``).

Kernels here never allocate: a wrapper checks :func:`room` (or the loops return
``CAPACITY`` before touching a row) and grows the arrays outside.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from qlib.enums import EventFlag, Side, Status

L3State = namedtuple("L3State", ["pool", "levels", "keys", "slots", "hkey", "hslot", "meta"])

# ----------------------------------------------------------------------------- meta layout
M_NLEV0 = 0  #: levels on the bid side (``M_NLEV0 + 1``: ask side)
M_NENT0 = 2  #: queue entries on the bid side (``M_NENT0 + 1``: ask side)
M_FREE_SLOT = 4  #: head of the pool free list (-1: full)
M_FREE_LEVEL = 5  #: head of the level free list (-1: full)
M_NORDERS = 6  #: identified orders (entries in the order-id map)
M_NUSED = 7  #: pool slots in use (orders + anonymous blocks)
M_NLEVELS = 8  #: level slots in use
M_SHIFT = 9  #: 64 - log2(len(hslot)), the Fibonacci hash shift
M_STRICT = 10  #: 1: unknown ids and over-cancels are errors; 0: lenient (LOBSTER)
S_UNKNOWN = 11  #: events naming an order id not in the book (lenient mode)
S_CLAMPED = 12  #: removals that found less quantity at their price than they named
S_TRIMMED = 13  #: identified orders removed or cut by an L2 correction or a clamp
S_EXEC_NOT_HEAD = 14  #: EXECUTEs of an order not first in its queue (moved to the front)
S_ANON_ADDED = 15  #: anonymous blocks created (or grown) by DEPTH / L2 SNAPSHOT
N_META = 16

F_USED = 1  #: pool slot flag: in use
F_ANON = 2  #: pool slot flag: anonymous block (not in the order-id map)

#: Relative tolerance under which a quantity counts as zero (float residue).
QTY_REL_EPS = 1e-9

_GOLD = np.uint64(0x9E3779B97F4A7C15)
_FLAG_SNAPSHOT = int(EventFlag.SNAPSHOT)
_FLAG_LAST = int(EventFlag.LAST)
_INF = np.inf


@njit(cache=True, inline="always")
def _tol(x):
    return QTY_REL_EPS * max(1.0, abs(x))


@njit(cache=True, inline="always")
def side_index(side):
    """0 for the bid side, 1 for the ask side, -1 for anything else."""
    if side == Side.BUY:
        return 0
    if side == Side.SELL:
        return 1
    return -1


@njit(cache=True, inline="always")
def _key(s, px_tick):
    return px_tick if s == 0 else -px_tick


# ----------------------------------------------------------------------------- borrowed views
def borrow(a):
    """Return ``a`` itself; in jitted code, a view of ``a`` that is not reference counted.

    Numba increments and decrements an array's reference count (an atomic
    read-modify-write, about 6 ns here) each time a jitted function receives it: with
    seven state arrays and a few helper calls per event that is most of the cost of
    an event. A kernel that holds the state for the whole call (the caller keeps the
    arrays alive) borrows them once at entry, and the helpers it calls then see
    arrays without a meminfo, whose reference counting is a null check. Never return
    a borrowed view, nor keep it beyond the call that made it.
    """
    return a


@intrinsic
def _borrow(typingctx, arr):
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        src = context.make_array(arr)(context, builder, value=args[0])
        dst = context.make_array(arr)(context, builder)
        for name in ("nitems", "itemsize", "data", "shape", "strides"):
            setattr(dst, name, getattr(src, name))
        dst.meminfo = cgutils.get_null_value(dst.meminfo.type)
        dst.parent = cgutils.get_null_value(dst.parent.type)
        return dst._getvalue()

    return arr(arr), codegen


@overload(borrow, jit_options={"cache": True})
def _borrow_overload(a):
    return lambda a: _borrow(a)


# ----------------------------------------------------------------------------- order-id map
@njit(cache=True, inline="always")
def _hpos(key, shift):
    return np.int64((np.uint64(key) * _GOLD) >> np.uint64(shift))


@njit(cache=True)
def map_pos(hkey, hslot, shift, key):
    """Table index holding ``key``, or -1."""
    mask = hslot.shape[0] - 1
    i = _hpos(key, shift)
    while True:
        if hslot[i] < 0:
            return -1
        if hkey[i] == key:
            return i
        i = (i + 1) & mask


@njit(cache=True)
def map_insert(hkey, hslot, shift, key, slot):
    """Insert ``key -> slot``; the caller made sure ``key`` is absent and there is room."""
    mask = hslot.shape[0] - 1
    i = _hpos(key, shift)
    while hslot[i] >= 0:
        i = (i + 1) & mask
    hkey[i] = key
    hslot[i] = slot


@njit(cache=True)
def map_remove_at(hkey, hslot, shift, i):
    """Remove the entry at table index ``i`` (backward-shift deletion)."""
    mask = hslot.shape[0] - 1
    j = i
    while True:
        j = (j + 1) & mask
        if hslot[j] < 0:
            break
        k = _hpos(hkey[j], shift)
        # leave j where it is if its home k lies cyclically in (i, j]
        if i <= j:
            if i < k <= j:
                continue
        elif k > i or k <= j:
            continue
        hkey[i] = hkey[j]
        hslot[i] = hslot[j]
        i = j
    hslot[i] = -1


@njit(cache=True)
def rehash(old_key, old_slot, new_key, new_slot, new_shift):
    """Insert every entry of an old map into an empty new one (growth)."""
    for i in range(old_slot.shape[0]):
        if old_slot[i] >= 0:
            map_insert(new_key, new_slot, new_shift, old_key[i], old_slot[i])


# ----------------------------------------------------------------------------- levels
@njit(cache=True)
def _lower_bound(keys, s, n, key):
    """First index in ``keys[s, :n]`` with a key >= ``key``, galloping from the best end."""
    hi = n
    lo = n - 1
    step = 1
    while lo >= 0 and keys[s, lo] > key:
        hi = lo
        step <<= 1
        lo = n - step
    lo = max(lo, 0)
    while lo < hi:
        mid = (lo + hi) >> 1
        if keys[s, mid] < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True)
def find_level(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick):
    """Level slot of ``px_tick`` on side index ``s``, or -1."""
    n = meta[M_NLEV0 + s]
    key = _key(s, px_tick)
    i = _lower_bound(keys, s, n, key)
    if i < n and keys[s, i] == key:
        return slots[s, i]
    return -1


@njit(cache=True)
def _get_level(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick):
    """Level slot of ``px_tick`` on side index ``s``, created empty when absent."""
    n = meta[M_NLEV0 + s]
    key = _key(s, px_tick)
    i = _lower_bound(keys, s, n, key)
    if i < n and keys[s, i] == key:
        return slots[s, i]
    lvl = meta[M_FREE_LEVEL]
    lv = levels[lvl]
    meta[M_FREE_LEVEL] = lv["head"]
    meta[M_NLEVELS] += 1
    lv["px_tick"] = px_tick
    lv["head"] = -1
    lv["tail"] = -1
    lv["n"] = 0
    lv["qty"] = 0.0
    lv["anon_qty"] = 0.0
    lv["side"] = 1 if s == 0 else -1
    for j in range(n, i, -1):
        keys[s, j] = keys[s, j - 1]
        slots[s, j] = slots[s, j - 1]
    keys[s, i] = key
    slots[s, i] = lvl
    meta[M_NLEV0 + s] = n + 1
    return lvl


@njit(cache=True)
def _drop_level(pool, levels, keys, slots, hkey, hslot, meta, lvl):
    """Remove the (empty) level ``lvl`` from its side's index and free its slot."""
    lv = levels[lvl]
    s = 0 if lv["side"] == 1 else 1
    n = meta[M_NLEV0 + s]
    i = _lower_bound(keys, s, n, _key(s, lv["px_tick"]))
    for j in range(i, n - 1):
        keys[s, j] = keys[s, j + 1]
        slots[s, j] = slots[s, j + 1]
    meta[M_NLEV0 + s] = n - 1
    lv["head"] = meta[M_FREE_LEVEL]
    lv["n"] = 0
    meta[M_FREE_LEVEL] = lvl
    meta[M_NLEVELS] -= 1


# ----------------------------------------------------------------------------- queue entries
@njit(cache=True)
def _new_entry(pool, levels, keys, slots, hkey, hslot, meta, lvl, oid, px_tick, qty, owner, ts, side, anon):
    """Take a free pool slot, fill it and append it at the tail of level ``lvl``."""
    e = meta[M_FREE_SLOT]
    o = pool[e]
    meta[M_FREE_SLOT] = o["next"]
    meta[M_NUSED] += 1
    o["order_id"] = oid
    o["px_tick"] = px_tick
    o["qty"] = qty
    o["owner"] = owner
    o["ts_entry"] = ts
    o["side"] = side
    o["level"] = lvl
    o["flags"] = F_USED | F_ANON if anon else F_USED
    lv = levels[lvl]
    t = lv["tail"]
    o["prev"] = t
    o["next"] = -1
    if t >= 0:
        pool[t]["next"] = e
    else:
        lv["head"] = e
    lv["tail"] = e
    lv["n"] += 1
    lv["qty"] += qty
    if anon:
        lv["anon_qty"] += qty
    meta[M_NENT0 + (0 if side == 1 else 1)] += 1
    return e


@njit(cache=True)
def _unlink(pool, levels, keys, slots, hkey, hslot, meta, e):
    """Take entry ``e`` out of its level's queue (the level totals are left alone)."""
    o = pool[e]
    lv = levels[o["level"]]
    p = o["prev"]
    nx = o["next"]
    if p >= 0:
        pool[p]["next"] = nx
    else:
        lv["head"] = nx
    if nx >= 0:
        pool[nx]["prev"] = p
    else:
        lv["tail"] = p


@njit(cache=True)
def _move_to_head(pool, levels, keys, slots, hkey, hslot, meta, e):
    """Move entry ``e`` to the front of its level's queue."""
    o = pool[e]
    lv = levels[o["level"]]
    if lv["head"] == e:
        return
    _unlink(pool, levels, keys, slots, hkey, hslot, meta, e)
    h = lv["head"]
    o["prev"] = -1
    o["next"] = h
    if h >= 0:
        pool[h]["prev"] = e
    else:
        lv["tail"] = e
    lv["head"] = e


@njit(cache=True)
def remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e):
    """Remove entry ``e`` (and its id from the map); return True when its level emptied."""
    o = pool[e]
    lvl = o["level"]
    lv = levels[lvl]
    _unlink(pool, levels, keys, slots, hkey, hslot, meta, e)
    lv["n"] -= 1
    lv["qty"] -= o["qty"]
    if o["flags"] & F_ANON:
        lv["anon_qty"] -= o["qty"]
    else:
        pos = map_pos(hkey, hslot, meta[M_SHIFT], o["order_id"])
        map_remove_at(hkey, hslot, meta[M_SHIFT], pos)
        meta[M_NORDERS] -= 1
    meta[M_NENT0 + (0 if o["side"] == 1 else 1)] -= 1
    o["flags"] = 0
    o["next"] = meta[M_FREE_SLOT]
    meta[M_FREE_SLOT] = e
    meta[M_NUSED] -= 1
    if lv["n"] == 0:
        _drop_level(pool, levels, keys, slots, hkey, hslot, meta, lvl)
        return True
    return False


@njit(cache=True)
def reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, q):
    """Take ``q`` (<= its quantity) off entry ``e``; return True when its level emptied."""
    o = pool[e]
    left = o["qty"] - q
    if left <= _tol(o["qty"]):
        return remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e)
    o["qty"] = left
    lv = levels[o["level"]]
    lv["qty"] -= q
    if o["flags"] & F_ANON:
        lv["anon_qty"] -= q
    return False


@njit(cache=True)
def add_order(pool, levels, keys, slots, hkey, hslot, meta, oid, side, px_tick, qty, owner, ts):
    """Append a new identified order at the tail of its level (caller checked room, id, side)."""
    s = 0 if side == 1 else 1
    lvl = _get_level(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick)
    e = _new_entry(pool, levels, keys, slots, hkey, hslot, meta, lvl, oid, px_tick, qty, owner, ts, side, False)
    map_insert(hkey, hslot, meta[M_SHIFT], oid, e)
    meta[M_NORDERS] += 1
    return e


@njit(cache=True)
def _add_anon(pool, levels, keys, slots, hkey, hslot, meta, lvl, qty, ts):
    """Append anonymous quantity at the tail of ``lvl`` (merged into a tail block)."""
    t = levels[lvl]["tail"]
    meta[S_ANON_ADDED] += 1
    if t >= 0 and pool[t]["flags"] & F_ANON:
        pool[t]["qty"] += qty
        levels[lvl]["qty"] += qty
        levels[lvl]["anon_qty"] += qty
        return
    lv = levels[lvl]
    _new_entry(pool, levels, keys, slots, hkey, hslot, meta, lvl, np.uint64(0), lv["px_tick"], qty, -1, ts, lv["side"], True)


# ----------------------------------------------------------------------------- L2 and lenient rules
@njit(cache=True)
def _trim_tail(pool, levels, keys, slots, hkey, hslot, meta, lvl, q):
    """Take ``q`` off level ``lvl`` from the tail of its queue backwards; return what was missing."""
    while q > _tol(q):
        e = levels[lvl]["tail"]
        o = pool[e]
        have = o["qty"]
        take = min(q, have)
        if not (o["flags"] & F_ANON):
            meta[S_TRIMMED] += 1
        q -= take
        if reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, take):
            return q
    return 0.0


@njit(cache=True)
def _clear_level(pool, levels, keys, slots, hkey, hslot, meta, lvl):
    """Remove every entry of ``lvl`` (identified ones are counted as trimmed)."""
    while True:
        e = levels[lvl]["head"]
        if not (pool[e]["flags"] & F_ANON):
            meta[S_TRIMMED] += 1
        if remove_entry(pool, levels, keys, slots, hkey, hslot, meta, e):
            return


@njit(cache=True)
def set_level_total(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick, qty, ts):
    """L2 rule: make the total at ``px_tick`` on side index ``s`` equal ``qty``.

    A rise is new anonymous quantity at the *tail* of the queue; a fall is taken from
    the tail backwards; ``qty <= 0`` removes the level. See :mod:`qlib.book.l3`.
    """
    lvl = find_level(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick)
    if lvl < 0:
        if qty > 0.0:
            lvl = _get_level(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick)
            _add_anon(pool, levels, keys, slots, hkey, hslot, meta, lvl, qty, ts)
        return
    if qty <= 0.0:
        _clear_level(pool, levels, keys, slots, hkey, hslot, meta, lvl)
        return
    d = qty - levels[lvl]["qty"]
    tol = _tol(qty)
    if d > tol:
        _add_anon(pool, levels, keys, slots, hkey, hslot, meta, lvl, d, ts)
    elif d < -tol:
        _trim_tail(pool, levels, keys, slots, hkey, hslot, meta, lvl, -d)


@njit(cache=True)
def _take_unknown(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick, q, from_front):
    """Lenient rule for quantity ``q`` leaving ``px_tick`` by an unknown (or short) order.

    Anonymous blocks give first: the first one for an execution (the oldest trades
    first), the last one otherwise; then identified orders from the tail. Quantity
    not found is counted in ``S_CLAMPED``.
    """
    lvl = find_level(pool, levels, keys, slots, hkey, hslot, meta, s, px_tick)
    if lvl < 0:
        if q > 0.0:
            meta[S_CLAMPED] += 1
        return
    e = levels[lvl]["head"] if from_front else levels[lvl]["tail"]
    while e >= 0 and q > _tol(q):
        o = pool[e]
        nx = o["next"] if from_front else o["prev"]
        if o["flags"] & F_ANON:
            take = min(q, o["qty"])
            q -= take
            if reduce_entry(pool, levels, keys, slots, hkey, hslot, meta, e, take):
                if q > _tol(q):
                    meta[S_CLAMPED] += 1
                return
        e = nx
    if q > _tol(q):
        left = _trim_tail(pool, levels, keys, slots, hkey, hslot, meta, lvl, q)
        if left > _tol(q):
            meta[S_CLAMPED] += 1


# ----------------------------------------------------------------------------- reads
@njit(cache=True)
def best(pool, levels, keys, slots, hkey, hslot, meta, s):
    """``(px_tick, qty)`` of the best level of side index ``s``; ``(0, 0.0)`` when empty."""
    n = meta[M_NLEV0 + s]
    if n == 0:
        return np.int64(0), 0.0
    lv = levels[slots[s, n - 1]]
    return lv["px_tick"], lv["qty"]


@njit(cache=True)
def is_crossed(pool, levels, keys, slots, hkey, hslot, meta):
    """True when both sides are present and the best bid >= the best ask (crossed or locked)."""
    nb = meta[M_NLEV0]
    na = meta[M_NLEV0 + 1]
    if nb == 0 or na == 0:
        return False
    return keys[0, nb - 1] >= -keys[1, na - 1]


@njit(cache=True)
def depth(pool, levels, keys, slots, hkey, hslot, meta, s, out_px, out_qty):
    """Write the best ``len(out_px)`` levels of side index ``s``; missing levels ``(0, 0.0)``."""
    n = meta[M_NLEV0 + s]
    for j in range(out_px.shape[0]):
        if j < n:
            lv = levels[slots[s, n - 1 - j]]
            out_px[j] = lv["px_tick"]
            out_qty[j] = lv["qty"]
        else:
            out_px[j] = 0
            out_qty[j] = 0.0


@njit(cache=True)
def queue_ahead(pool, levels, keys, slots, hkey, hslot, meta, oid):
    """``(status, ahead_qty, ahead_anon_qty)`` of order ``oid``; see :meth:`qlib.book.L3Book.queue_position`."""
    pos = map_pos(hkey, hslot, meta[M_SHIFT], oid)
    if pos < 0:
        return Status.UNKNOWN_ORDER, 0.0, 0.0
    target = hslot[pos]
    e = levels[pool[target]["level"]]["head"]
    ahead = 0.0
    anon = 0.0
    while e != target:
        o = pool[e]
        ahead += o["qty"]
        if o["flags"] & F_ANON:
            anon += o["qty"]
        e = o["next"]
    return Status.OK, ahead, anon


@njit(cache=True)
def room(pool, levels, keys, slots, hkey, hslot, meta, slots_needed, levels_needed, orders_needed):
    """True when the book can take that many more pool slots, levels and identified orders."""
    # no local alias of an array here or in any kernel: an alias costs an atomic
    # incref/decref pair per call that LLVM's refcount pruning leaves in place
    if meta[M_NUSED] + slots_needed > pool.shape[0]:
        return False
    if meta[M_NLEVELS] + levels_needed > levels.shape[0]:
        return False
    return 2 * (meta[M_NORDERS] + orders_needed) <= hslot.shape[0]


@njit(cache=True)
def clear_side(pool, levels, keys, slots, hkey, hslot, meta, s):
    """Remove every level and entry of side index ``s``."""
    while meta[M_NLEV0 + s] > 0:
        n = meta[M_NLEV0 + s]
        lvl = slots[s, n - 1]
        while True:
            if remove_entry(pool, levels, keys, slots, hkey, hslot, meta, levels[lvl]["head"]):
                break
