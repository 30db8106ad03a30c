"""Lock-free single-producer single-consumer ring buffers of structured records.

Two containers, one set of jitted kernels:

* :class:`Ring` lives in the process (threads with ``nogil`` kernels, or a single
  jitted loop that produces and consumes);
* :class:`SharedRing` lives in POSIX shared memory, so a feed process and a strategy
  process exchange records without locks.

Jitted code calls the kernels on the raw arrays, ``ring.state`` and ``ring.buf``:

* ``push(state, buf, rec) -> Status``: one record (``events[i]``);
* ``pop(state, buf, out) -> Status``: one record into ``out[0]`` (pass
  ``out[j:j + 1]`` to fill row ``j``);
* ``push_many(state, buf, records) -> int`` and ``pop_many(state, buf, out) -> int``.

They are inlined into the caller (``inline="always"``, no call, no reference
counting), and keep FIFO order. The full-ring policy is chosen per ring
(:class:`qlib.enums.RingPolicy`). The layout and the memory-ordering argument are in
:mod:`qlib.ring._kernels`; the shared-memory lifetime rules in :mod:`qlib.ring.shm`.
"""

from qlib.enums import RingPolicy
from qlib.ring._atomics import monotonic_ns, rdtsc
from qlib.ring._kernels import pop, pop_many, push, push_many, size
from qlib.ring.ring import (
    Ring,
    RingCounters,
    RingError,
    RingFullError,
    RingLayoutError,
    RingTimeoutError,
)
from qlib.ring.shm import SharedRing

__all__ = [
    "Ring",
    "RingCounters",
    "RingError",
    "RingFullError",
    "RingLayoutError",
    "RingPolicy",
    "RingTimeoutError",
    "SharedRing",
    "monotonic_ns",
    "pop",
    "pop_many",
    "push",
    "push_many",
    "rdtsc",
    "size",
]
