"""In-process single-producer single-consumer ring buffer over a structured array.

The jitted API is the four kernels of :mod:`qlib.ring._kernels`, re-exported by
:mod:`qlib.ring`: ``push(state, buf, rec)``, ``pop(state, buf, out)``,
``push_many(state, buf, records)`` and ``pop_many(state, buf, out)``. They take the
ring's raw arrays (:attr:`Ring.state`, :attr:`Ring.buf`), are inlined into the
calling jitted loop (``inline="always"``) and cost a few nanoseconds. The classes
here validate, allocate, and wrap the same kernels for Python callers.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from qlib.dtypes import EVENT_DTYPE
from qlib.enums import RingPolicy, Status
from qlib.errors import ParameterError, QlibError, SchemaError
from qlib.ring import _kernels as K

__all__ = [
    "Ring",
    "RingCounters",
    "RingError",
    "RingFullError",
    "RingLayoutError",
    "RingTimeoutError",
    "make_state",
]

#: Alignment of ``state`` and ``buf`` (one cache line).
CACHE_LINE = 64
#: Largest capacity accepted (2**32 slots).
MAX_CAPACITY = 1 << 32
#: A blocking Python-level push waits in slices of this length, so Ctrl-C works.
_WAIT_SLICE_NS = 50_000_000

_POLICY_NAMES = {p.name.lower(): p for p in RingPolicy}


class RingError(QlibError):
    """Base class of the ring buffer errors."""


class RingFullError(RingError, RuntimeError):
    """A push under the ``"raise"`` policy found too little room; nothing was written."""


class RingTimeoutError(RingError, TimeoutError):
    """A push under the ``"block"`` policy waited for its timeout; the ring stayed full."""


class RingLayoutError(RingError, ValueError):
    """A shared-memory segment is not a qlib ring, or not the ring the caller expects."""


@dataclass(frozen=True)
class RingCounters:
    """A snapshot of a ring's counters.

    Attributes
    ----------
    pushed
        Records written by the producer since creation.
    popped
        Records read by the consumer since creation.
    dropped
        Records overwritten before the consumer read them (``"drop_oldest"`` only),
        including an overrun the consumer has not yet reached.
    size
        Records readable now. ``pushed == popped + dropped + size``.
    full_events
        Pushes that found the ring full (and then waited, or were refused).
    """

    pushed: int
    popped: int
    dropped: int
    size: int
    full_events: int


def _check_policy(policy: str | RingPolicy) -> RingPolicy:
    if isinstance(policy, RingPolicy):
        return policy
    if isinstance(policy, str) and policy.lower() in _POLICY_NAMES:
        return _POLICY_NAMES[policy.lower()]
    raise ParameterError(
        f"policy must be one of {sorted(_POLICY_NAMES)}, was {policy!r}")


def _check_capacity(capacity: object) -> int:
    if isinstance(capacity, bool) or not isinstance(capacity, (int, np.integer)):
        raise ParameterError(f"capacity must be an int, was {type(capacity).__name__}")
    c = int(capacity)
    if c < 2 or c > MAX_CAPACITY or c & (c - 1):
        raise ParameterError(
            f"capacity must be a power of two between 2 and {MAX_CAPACITY}, was {c}")
    return c


def _check_dtype(dtype: object) -> np.dtype:
    try:
        dt = np.dtype(dtype)
    except TypeError as exc:
        raise SchemaError(f"dtype must be a numpy structured dtype, was {dtype!r}") from exc
    if dt.names is None:
        raise SchemaError(f"dtype must be a numpy structured dtype, was {dt}")
    if dt.hasobject:
        raise SchemaError(f"dtype must not contain Python objects, was {dt}")
    return dt


def _check_timeout(timeout: float | None) -> int:
    """Seconds (None = forever) to int64 nanoseconds (-1 = forever)."""
    if timeout is None:
        return -1
    if not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout < 0:
        raise ParameterError(f"timeout must be None or seconds >= 0, was {timeout!r}")
    return round(timeout * 1e9)


def aligned_empty(nbytes: int, align: int = CACHE_LINE) -> np.ndarray:
    """Return an uninitialised uint8 array of ``nbytes`` whose data is ``align``-aligned."""
    raw = np.empty(nbytes + align, dtype=np.uint8)
    off = (-raw.ctypes.data) % align
    return raw[off:off + nbytes]


def make_state(state: np.ndarray, capacity: int, policy: RingPolicy, timeout_ns: int,
               itemsize: int) -> np.ndarray:
    """Initialise a ring's int64 ``state`` array in place (zero counters, configuration)."""
    state[:] = 0
    state[K.CAPACITY] = capacity
    state[K.MASK] = capacity - 1
    state[K.POLICY] = int(policy)
    state[K.TIMEOUT_NS] = timeout_ns
    state[K.ITEMSIZE] = itemsize
    return state


class _RingBase:
    """The Python methods common to :class:`Ring` and :class:`~qlib.ring.SharedRing`."""

    state: np.ndarray
    buf: np.ndarray

    # -- configuration ---------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """Number of slots (a power of two)."""
        return int(self.state[K.CAPACITY])

    @property
    def dtype(self) -> np.dtype:
        """The record dtype."""
        return self.buf.dtype

    @property
    def policy(self) -> RingPolicy:
        """What a push does when the ring is full."""
        return RingPolicy(int(self.state[K.POLICY]))

    @property
    def timeout(self) -> float | None:
        """Seconds a ``"block"`` push waits for room (None: forever)."""
        ns = int(self.state[K.TIMEOUT_NS])
        return None if ns < 0 else ns / 1e9

    # -- counters --------------------------------------------------------------------
    def counters(self) -> RingCounters:
        """Return a snapshot of the counters (exact when neither side is running)."""
        st = self.state
        tail = int(st[K.TAIL])
        head = int(st[K.HEAD])
        counted = int(st[K.DROPPED])
        pending = max(0, head - tail - self.capacity)
        return RingCounters(
            pushed=head,
            popped=tail - counted,
            dropped=counted + pending,
            size=min(head - tail, self.capacity),
            full_events=int(st[K.FULL_EVENTS]),
        )

    @property
    def pushed(self) -> int:
        """Records pushed since creation."""
        return self.counters().pushed

    @property
    def popped(self) -> int:
        """Records popped since creation."""
        return self.counters().popped

    @property
    def dropped(self) -> int:
        """Records lost to the ``"drop_oldest"`` policy since creation."""
        return self.counters().dropped

    def __len__(self) -> int:
        return int(K.size(self.state))

    # -- Python convenience ----------------------------------------------------------
    def _as_records(self, records: object) -> np.ndarray:
        if isinstance(records, np.void):
            if records.dtype != self.dtype:
                raise SchemaError(f"record must have dtype {self.dtype}, was {records.dtype}")
            arr = np.empty(1, dtype=self.dtype)
            arr[0] = records
            return arr
        if not isinstance(records, np.ndarray):
            raise SchemaError(
                f"records must be a numpy structured array or record, was "
                f"{type(records).__name__}")
        if records.dtype != self.dtype:
            raise SchemaError(f"records must have dtype {self.dtype}, was {records.dtype}")
        if records.ndim == 0:
            records = records.reshape(1)
        if records.ndim != 1:
            raise SchemaError(f"records must be 1-D, was {records.ndim}-D")
        return np.ascontiguousarray(records)

    def push(self, records: np.ndarray | np.void, timeout: float | None = ...) -> int:
        """Push one record or a 1-D array of records, in order, under the ring's policy.

        Parameters
        ----------
        records
            A record (``np.void`` of the ring's dtype) or a 1-D array of them.
        timeout
            ``"block"`` policy only: seconds to wait for room (None: forever); the
            default is the ring's own timeout.

        Returns
        -------
        int
            The number of records pushed (all of them unless an error is raised).

        Raises
        ------
        RingFullError
            ``"raise"`` policy: the batch does not fit; nothing was pushed.
        RingTimeoutError
            ``"block"`` policy: the ring stayed full for ``timeout`` seconds; the
            records before the one that did not fit were pushed (the message says
            how many).
        SchemaError
            ``records`` is not of the ring's dtype.
        """
        recs = self._as_records(records)
        n = recs.shape[0]
        policy = self.policy
        if policy == RingPolicy.RAISE:
            free = self.capacity - (int(self.state[K.HEAD]) - int(self.state[K.TAIL]))
            if n > free:
                self.state[K.FULL_EVENTS] += 1
                raise RingFullError(
                    f"ring full: {n} records pushed into {free} free slots of "
                    f"{self.capacity}; nothing was written (policy 'raise')")
            return int(K.push_many_for(self.state, self.buf, recs, 0))
        if policy == RingPolicy.DROP_OLDEST:
            return int(K.push_many_for(self.state, self.buf, recs, 0))
        timeout_ns = int(self.state[K.TIMEOUT_NS]) if timeout is ... else _check_timeout(timeout)
        deadline = None if timeout_ns < 0 else time.monotonic_ns() + timeout_ns
        done = 0
        while True:
            if deadline is None:
                slice_ns = _WAIT_SLICE_NS
            else:
                slice_ns = max(0, min(_WAIT_SLICE_NS, deadline - time.monotonic_ns()))
            done += int(K.push_many_for(self.state, self.buf, recs[done:], slice_ns))
            if done == n:
                return done
            if deadline is not None and time.monotonic_ns() >= deadline:
                raise RingTimeoutError(
                    f"ring full for {timeout_ns / 1e9:g} s: pushed {done} of {n} records "
                    f"(capacity {self.capacity}, policy 'block')")

    def pop(self, max_records: int | None = None, timeout: float = 0.0) -> np.ndarray:
        """Pop up to ``max_records`` records (default: all readable) into a new array.

        Parameters
        ----------
        max_records
            Upper bound on the records returned; None means the capacity.
        timeout
            Seconds to wait for at least one record (0: return at once, possibly an
            empty array).

        Returns
        -------
        numpy.ndarray
            A new 1-D array of the ring's dtype, oldest record first.
        """
        m = self.capacity if max_records is None else int(max_records)
        if m < 0:
            raise ParameterError(f"max_records must be >= 0, was {max_records}")
        timeout_ns = _check_timeout(timeout)
        out = np.empty(m, dtype=self.dtype)
        k = int(K.pop_many(self.state, self.buf, out))
        if k == 0 and m > 0 and timeout_ns != 0:
            deadline = None if timeout_ns < 0 else time.monotonic_ns() + timeout_ns
            while k == 0 and (deadline is None or time.monotonic_ns() < deadline):
                time.sleep(0)
                k = int(K.pop_many(self.state, self.buf, out))
        return out[:k].copy() if k < m else out

    def pop_one(self) -> np.void | None:
        """Pop one record, or return None when the ring is empty."""
        out = np.empty(1, dtype=self.dtype)
        status = int(K.pop(self.state, self.buf, out))
        return out[0] if status == Status.OK else None

    def __repr__(self) -> str:
        c = self.counters()
        return (f"{type(self).__name__}(capacity={self.capacity}, policy="
                f"{self.policy.name.lower()!r}, size={c.size}, pushed={c.pushed}, "
                f"popped={c.popped}, dropped={c.dropped})")


class Ring(_RingBase):
    r"""A single-producer single-consumer ring buffer of structured records, in process.

    Parameters
    ----------
    capacity
        Number of slots, a power of two (2 to 2**32).
    dtype
        The record dtype (structured, no objects); :data:`qlib.dtypes.EVENT_DTYPE`
        by default.
    policy
        What a push does when the ring is full: ``"block"`` (wait up to ``timeout``,
        then ``Status.RING_TIMEOUT`` / :class:`RingTimeoutError`), ``"drop_oldest"``
        (overwrite the oldest unread record; the consumer counts it in ``dropped``)
        or ``"raise"`` (refuse: ``Status.RING_FULL`` / :class:`RingFullError`).
    timeout
        Seconds a ``"block"`` push waits for room; None waits forever. Blocking
        needs a consumer on another thread (a ``nogil`` jitted function) or process;
        on a single thread a full ``"block"`` ring waits for the whole timeout.

    Attributes
    ----------
    state : numpy.ndarray
        int64 ``(STATE_LEN,)``, 64-byte aligned: counters on separate cache lines
        and the configuration (layout in :mod:`qlib.ring._kernels`).
    buf : numpy.ndarray
        ``(capacity,)`` of ``dtype``, 64-byte aligned: the slots.

    Notes
    -----
    Record :math:`s` (the :math:`s`-th pushed, from 0) lives in slot
    :math:`s \,\&\, (C - 1)`; ``HEAD`` and ``TAIL`` are int64 sequence numbers that
    only grow, and :math:`0 \le \mathrm{HEAD} - \mathrm{TAIL} \le C` under the
    ``"block"`` and ``"raise"`` policies. The memory-ordering argument is in
    :mod:`qlib.ring._kernels`. Inside jitted code call the kernels on the raw
    arrays; they are inlined, so a push/pop pair costs a few ns.

    Examples
    --------
    >>> import numpy as np
    >>> from qlib.ring import Ring
    >>> from qlib.dtypes import empty_events
    >>> ring = Ring(8, policy="drop_oldest")
    >>> ev = empty_events(10); ev["seq"] = np.arange(10)
    >>> ring.push(ev)
    10
    >>> ring.pop()["seq"].tolist(), ring.dropped
    ([2, 3, 4, 5, 6, 7, 8, 9], 2)
    """

    def __init__(self, capacity: int, dtype: np.dtype = EVENT_DTYPE,
                 policy: str | RingPolicy = "block", timeout: float | None = None) -> None:
        cap = _check_capacity(capacity)
        dt = _check_dtype(dtype)
        pol = _check_policy(policy)
        timeout_ns = _check_timeout(timeout)
        self.state = aligned_empty(K.STATE_LEN * 8).view(np.int64)
        make_state(self.state, cap, pol, timeout_ns, dt.itemsize)
        self.buf = aligned_empty(cap * dt.itemsize).view(dt)
        self.buf[...] = np.zeros((), dtype=dt)
