r"""Numba kernels of the single-producer single-consumer ring: arrays in, counts and
status codes out. No pandas, no I/O, no allocation. Public wrappers:
:class:`qlib.ring.Ring` and :class:`qlib.ring.SharedRing`.

State layout
------------
``state`` is an int64 array of :data:`STATE_LEN` entries whose first byte is 64-byte
aligned; each group of eight entries is one cache line, owned by one side, so the
producer and the consumer never write the same line (no false sharing):

===========  ===============  =====================================================
index        owner (writer)   meaning
===========  ===============  =====================================================
``HEAD``      producer         sequence number of the next record to write
                               (= records pushed so far); published with release
``TAIL_CACHE`` producer        the producer's last view of ``TAIL`` (avoids reading
                               the consumer's line on every push)
``LOW``       producer         drop-oldest only: records with a sequence number
                               below ``LOW`` are overwritten or being overwritten
``FULL_EVENTS`` producer       pushes that found the ring full (waited or refused)
``TAIL``      consumer         sequence number of the next record to read
                               (= records popped + records dropped)
``HEAD_CACHE`` consumer        the consumer's last view of ``HEAD``
``DROPPED``   consumer         drop-oldest only: records lost to overwrites, as
                               counted by the consumer when it skips them
``CAPACITY``, ``MASK``,
``POLICY``, ``TIMEOUT_NS``,
``ITEMSIZE``  creator, once    configuration; read-only afterwards
===========  ===============  =====================================================

Sequence numbers are monotonically increasing int64 (2^63 records at 10^9/s take
292 years); a record with sequence number ``s`` lives in ``buf[s & MASK]``, and
``buf`` has exactly ``CAPACITY`` (a power of two) slots.

Memory ordering
---------------
*Block and raise policies* (Lamport's queue with cached indices, [1]_ [2]_). The
producer copies the record into ``buf[h & MASK]`` and then stores ``HEAD = h + 1``
with release ordering; the consumer loads ``HEAD`` with acquire ordering before it
reads the slot. Release/acquire on the same location makes the slot write
*happen before* the slot read. Symmetrically the consumer copies out of slot
``t & MASK`` before its release store ``TAIL = t + 1``, and the producer's acquire
load of ``TAIL`` precedes the overwrite of that slot, so a slot is never rewritten
while it is being read. The cached copies only ever lag the true values
(counters grow monotonically), so a stale cache makes the ring look fuller (to the
producer) or emptier (to the consumer) than it is, never the opposite.

*Drop-oldest policy* (a per-ring seqlock, [3]_). The producer never reads ``TAIL``;
before it overwrites the slot of sequence number ``s - CAPACITY`` with record ``s``
it stores ``LOW = s - CAPACITY + 1`` then issues a release fence, and writes the slot
with relaxed atomic words. The consumer copies a slot with relaxed atomic words,
issues an acquire fence and re-reads ``LOW``: if the copy saw any word of an
overwrite, the release fence (before that word) synchronises with the acquire fence
(after it), so the re-read sees ``LOW > t`` and the copy is discarded; the skipped
records are added to ``DROPPED`` by the consumer, which is the only writer of that
counter. No compare-and-swap is needed, and both sides still own their own lines.

*Copies.* Every slot copy moves naturally aligned 8-byte words as relaxed atomics
(``itemsize / 8`` ``mov`` each way). The words make the drop-oldest race defined
behaviour (a racing read returns some written value, never ``undef``), and they let
a record written by ``push`` be read back by ``pop`` through store-to-load
forwarding; a ``memcpy`` moved 16-byte vectors whose overlap with 8-byte reads
stalls forwarding (230 vs 390 M push/pop pairs per second in one thread).

*Compiler and CPU.* The counters are accessed through :mod:`qlib.ring._atomics`,
which emits ``load atomic ... acquire`` / ``store atomic ... release`` /
``fence`` in LLVM IR: LLVM may neither move the slot accesses across them nor keep
a counter in a register across the iterations of a wait loop. On x86-64 (TSO:
loads are not reordered with older loads, stores not with older stores, stores not
with older loads) acquire and release compile to plain ``mov`` and the fences to
nothing; no ``mfence`` is needed because SPSC never requires store-to-load
ordering. The same IR yields the needed ``ldar``/``stlr``/``dmb`` on weakly ordered
CPUs. Shared-memory mappings of one segment in two processes are the same physical
memory, and lock-free atomics are address-free, so the argument holds across
processes.

References
----------
.. [1] Lamport, L. (1983). Specifying concurrent program modules. ACM TOPLAS 5(2).
.. [2] Rigtorp, E. (2021). Optimizing a ring buffer for throughput.
   https://rigtorp.se/ringbuffer/
.. [3] Boehm, H.-J. (2012). Can seqlocks get along with programming language memory
   models? MSPC '12.
"""

from __future__ import annotations

from numba import njit

from qlib.enums import RingPolicy, Status
from qlib.ring._atomics import (
    copy_record_relaxed,
    copy_slot,
    copy_slot_relaxed,
    cpu_relax,
    fence_acquire,
    fence_release,
    keep_alive,
    load_acquire,
    load_relaxed,
    monotonic_ns,
    sched_yield,
    store_release,
)

# --- state layout (int64 indices); one cache line = 8 entries -----------------------
#: Producer line.
HEAD = 0
TAIL_CACHE = 1
LOW = 2
FULL_EVENTS = 3
#: Consumer line.
TAIL = 8
HEAD_CACHE = 9
DROPPED = 10
#: Configuration line (written once by the creator).
CAPACITY = 16
MASK = 17
POLICY = 18
TIMEOUT_NS = 19
ITEMSIZE = 20
#: Length of ``state`` (three 64-byte lines).
STATE_LEN = 24

#: Rounds of ``pause`` before a waiting producer starts to ``sched_yield``.
SPIN_PAUSES = 1024
#: The clock is read once every this many rounds (a power of two) while waiting.
_CLOCK_EVERY = 64

_OK = int(Status.OK)
_FULL = int(Status.RING_FULL)
_EMPTY = int(Status.RING_EMPTY)
_TIMEOUT = int(Status.RING_TIMEOUT)
_BLOCK = int(RingPolicy.BLOCK)
_DROP_OLDEST = int(RingPolicy.DROP_OLDEST)


@njit(cache=True, inline="always")
def wait_for_space(state, h, n, timeout_ns):
    """Wait until ``n`` slots are free for the producer at ``HEAD == h``; see ``Ring.push``.

    Spins with ``pause`` for :data:`SPIN_PAUSES` rounds, then yields the CPU each
    round. Returns the tail seen, or -1 after ``timeout_ns`` (< 0: wait forever;
    0: do not wait).
    """
    cap = state[CAPACITY]
    t = load_acquire(state, TAIL)
    if h - t <= cap - n:
        return t
    if timeout_ns == 0:
        return -1
    deadline = monotonic_ns() + timeout_ns if timeout_ns > 0 else 0
    rounds = 0
    while True:
        if rounds < SPIN_PAUSES:
            cpu_relax()
        else:
            sched_yield()
        rounds += 1
        t = load_acquire(state, TAIL)
        if h - t <= cap - n:
            return t
        if (timeout_ns > 0 and (rounds & (_CLOCK_EVERY - 1)) == 0
                and monotonic_ns() >= deadline):
            return -1


@njit(cache=True, inline="always")
def push(state, buf, rec):
    """Push one record (a ``Record``, e.g. ``events[i]``); see :meth:`qlib.ring.Ring.push`.

    Returns ``Status.OK``, ``RING_FULL`` (raise policy) or ``RING_TIMEOUT`` (block).
    """
    cap = buf.shape[0]
    h = state[HEAD]
    status = _OK
    if state[POLICY] == _DROP_OLDEST:
        if h >= cap:
            store_release(state, LOW, h - cap + 1)
            fence_release()
        copy_record_relaxed(buf, h & (cap - 1), rec)
        store_release(state, HEAD, h + 1)
    else:
        if h - state[TAIL_CACHE] >= cap:
            t = load_acquire(state, TAIL)
            if h - t >= cap:
                state[FULL_EVENTS] += 1
                if state[POLICY] == _BLOCK:
                    t = wait_for_space(state, h, 1, state[TIMEOUT_NS])
                    if t < 0:
                        status = _TIMEOUT
                else:
                    status = _FULL
            if status == _OK:
                state[TAIL_CACHE] = t
        if status == _OK:
            copy_record_relaxed(buf, h & (cap - 1), rec)
            store_release(state, HEAD, h + 1)
    return keep_alive(status, state, buf)


@njit(cache=True, inline="always")
def pop(state, buf, out):
    """Pop one record into ``out[0]`` without waiting; see :meth:`qlib.ring.Ring.pop`.

    Returns ``Status.OK`` or ``Status.RING_EMPTY`` (``out`` is then unchanged).
    """
    cap = buf.shape[0]
    t = state[TAIL]
    status = _OK
    if state[POLICY] == _DROP_OLDEST:
        while True:
            h = load_acquire(state, HEAD)
            lo = load_acquire(state, LOW)
            if lo > t:
                state[DROPPED] += lo - t
                t = lo
            if t >= h:
                if t == h:
                    status = _EMPTY
                    break
                continue  # LOW was newer than the HEAD read: read HEAD again
            copy_slot_relaxed(out, 0, buf, t & (cap - 1))
            fence_acquire()
            if load_relaxed(state, LOW) <= t:
                t += 1
                break
        store_release(state, TAIL, t)
    else:
        if t == state[HEAD_CACHE]:
            h = load_acquire(state, HEAD)
            state[HEAD_CACHE] = h
            if h == t:
                status = _EMPTY
        if status == _OK:
            copy_slot_relaxed(out, 0, buf, t & (cap - 1))
            store_release(state, TAIL, t + 1)
    return keep_alive(status, state, buf, out)


@njit(cache=True, inline="always")
def push_many_for(state, buf, records, timeout_ns):
    """Push ``records`` in order, waiting at most ``timeout_ns`` per wait (block policy).

    Returns the number pushed: all of them, except under the raise policy (stops at
    the first record that does not fit) or the block policy on timeout.
    """
    cap = buf.shape[0]
    mask = cap - 1
    n = records.shape[0]
    h = state[HEAD]
    i = 0
    if state[POLICY] == _DROP_OLDEST:
        while i < n:
            k = min(cap, n - i)
            if h + k > cap:
                store_release(state, LOW, h + k - cap)
                fence_release()
            for j in range(k):
                copy_slot_relaxed(buf, (h + j) & mask, records, i + j)
            h += k
            i += k
            store_release(state, HEAD, h)
    else:
        while i < n:
            free = cap - (h - state[TAIL_CACHE])
            if free == 0:
                t = load_acquire(state, TAIL)
                if h - t >= cap:
                    state[FULL_EVENTS] += 1
                    if state[POLICY] == _BLOCK:
                        t = wait_for_space(state, h, 1, timeout_ns)
                        if t < 0:
                            break
                    else:
                        break
                state[TAIL_CACHE] = t
                continue
            k = min(free, n - i)
            for j in range(k):
                copy_slot_relaxed(buf, (h + j) & mask, records, i + j)
            h += k
            i += k
            store_release(state, HEAD, h)
    return keep_alive(i, state, buf, records)


@njit(cache=True, inline="always")
def push_many(state, buf, records):
    """Push ``records`` in order under the ring's policy; see :meth:`qlib.ring.Ring.push`.

    Returns the number pushed (fewer than ``len(records)`` only when the raise policy
    found the ring full or the block policy timed out).
    """
    return push_many_for(state, buf, records, state[TIMEOUT_NS])


@njit(cache=True, inline="always")
def pop_many(state, buf, out):
    """Pop up to ``len(out)`` records into ``out[:k]`` without waiting; returns ``k``."""
    cap = buf.shape[0]
    mask = cap - 1
    m = out.shape[0]
    t = state[TAIL]
    k = 0
    if state[POLICY] == _DROP_OLDEST:
        while m > 0:
            h = load_acquire(state, HEAD)
            lo = load_acquire(state, LOW)
            if lo > t:
                state[DROPPED] += lo - t
                t = lo
            if t >= h:
                if t == h:
                    break
                continue  # LOW was newer than the HEAD read: read HEAD again
            k = min(h - t, m)
            for j in range(k):
                copy_slot_relaxed(out, j, buf, (t + j) & mask)
            fence_acquire()
            lo = load_relaxed(state, LOW)
            if lo <= t:
                t += k
                break
            bad = lo - t  # out[:bad] may be torn: those records were overwritten
            state[DROPPED] += min(bad, k)
            if bad >= k:
                t += k
                k = 0
                continue
            for j in range(k - bad):
                copy_slot(out, j, out, j + bad)
            k -= bad
            t = lo + k
            break
        store_release(state, TAIL, t)
    else:
        avail = state[HEAD_CACHE] - t
        if avail < m:
            h = load_acquire(state, HEAD)
            state[HEAD_CACHE] = h
            avail = h - t
        k = min(avail, m)
        for j in range(k):
            copy_slot_relaxed(out, j, buf, (t + j) & mask)
        store_release(state, TAIL, t + k)
    return keep_alive(k, state, buf, out)


@njit(cache=True, inline="always")
def size(state):
    """Records readable now (a snapshot; at most the capacity)."""
    n = load_acquire(state, HEAD) - load_acquire(state, TAIL)
    return min(n, state[CAPACITY])
