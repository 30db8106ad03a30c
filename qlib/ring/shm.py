"""A single-producer single-consumer ring in POSIX shared memory, between processes.

A feed process and a strategy process exchange records through one
:class:`SharedRing` without locks: the same jitted kernels as :class:`qlib.ring.Ring`
run on arrays that map the same segment in both processes.

Segment layout (one ``multiprocessing.shared_memory`` segment, page-aligned):

=============  ========  ==============================================================
offset         bytes     content
=============  ========  ==============================================================
0              128       header: magic ``b"QLIBRING"``, layout version, header size,
                         capacity, item size, policy, timeout, offsets of ``state`` and
                         ``buf``, total size, creator pid, length of the dtype descriptor
128            <= 3968   the dtype descriptor, JSON (names, formats, offsets, itemsize,
                         aligned); never pickle, so attaching runs no foreign code
4096           192       ``state`` (int64, three 64-byte lines; see ``_kernels``)
4352           C x size  ``buf``: the slots, 64-byte aligned
=============  ========  ==============================================================

Lifetime rules
--------------
* The creator (:meth:`SharedRing.create`) owns the segment: its :meth:`~SharedRing.close`
  (or leaving its ``with`` block, or garbage collection, or interpreter exit) unlinks
  the name. Processes that :meth:`~SharedRing.attach` only unmap it. An attached
  mapping stays valid after the unlink until it is closed; the name is then free for
  a new ring.
* A creator that dies without closing (SIGKILL, crash) is covered by Python's
  ``multiprocessing`` resource tracker, which unlinks the segment when the
  creator's process tree has exited and prints a "leaked shared_memory" warning. If
  the tracker died too, the segment stays in ``/dev/shm`` until
  :meth:`SharedRing.unlink` (``SharedRing.unlink("feed")``) removes it by name, or
  until reboot.
* Attaching never registers with the resource tracker (on Python < 3.13 every
  ``SharedMemory`` open registers, and the tracker of an attaching process would
  unlink the producer's segment when that process exits; see CPython gh-82300).
* Exactly one process may push and one may pop at a time (single producer,
  single consumer); which processes those are is the caller's contract.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import threading
import weakref
from multiprocessing import resource_tracker
from multiprocessing import shared_memory as _shm
from typing import Any, Self

import numpy as np

from qlib.dtypes import EVENT_DTYPE
from qlib.enums import RingPolicy
from qlib.errors import ParameterError
from qlib.ring import _kernels as K
from qlib.ring.ring import (
    CACHE_LINE,
    RingLayoutError,
    _check_capacity,
    _check_dtype,
    _check_policy,
    _check_timeout,
    _RingBase,
    make_state,
)

__all__ = ["LAYOUT_VERSION", "MAGIC", "SharedRing"]

#: First 8 bytes of every qlib ring segment.
MAGIC = b"QLIBRING"
#: Bumped whenever the segment or state layout changes.
LAYOUT_VERSION = 1
_HEADER = struct.Struct("<8sIIqqqqqqqqI")
_DESCR_OFFSET = 128
_STATE_OFFSET = 4096
_BUF_OFFSET = _STATE_OFFSET + ((K.STATE_LEN * 8 + CACHE_LINE - 1) // CACHE_LINE) * CACHE_LINE
_MAX_DESCR = _STATE_OFFSET - _DESCR_OFFSET
_TRACKER_LOCK = threading.Lock()


def _dtype_spec(dt: np.dtype) -> Any:
    """JSON-able description of a dtype: fields, offsets, subarrays, alignment."""
    if dt.fields is not None:
        return {"names": list(dt.names),
                "formats": [_dtype_spec(dt.fields[n][0]) for n in dt.names],
                "offsets": [int(dt.fields[n][1]) for n in dt.names],
                "itemsize": int(dt.itemsize), "aligned": bool(dt.isalignedstruct)}
    if dt.subdtype is not None:
        base, shape = dt.subdtype
        return {"base": _dtype_spec(base), "shape": list(shape)}
    return dt.str


def _dtype_from_spec(spec: Any) -> np.dtype:
    if isinstance(spec, str):
        return np.dtype(spec)
    if "base" in spec:
        return np.dtype((_dtype_from_spec(spec["base"]), tuple(spec["shape"])))
    return np.dtype({"names": spec["names"],
                     "formats": [_dtype_from_spec(f) for f in spec["formats"]],
                     "offsets": spec["offsets"], "itemsize": spec["itemsize"],
                     "aligned": spec["aligned"]})


def _dtype_to_json(dt: np.dtype) -> str:
    return json.dumps(_dtype_spec(dt), separators=(",", ":"))


def _dtype_from_json(text: str) -> np.dtype:
    return _dtype_from_spec(json.loads(text))


def _open_untracked(name: str) -> _shm.SharedMemory:
    """Open an existing segment without registering it with the resource tracker."""
    if sys.version_info >= (3, 13):  # pragma: no cover - this project runs 3.11
        return _shm.SharedMemory(name=name, create=False, track=False)
    with _TRACKER_LOCK:
        register = resource_tracker.register
        resource_tracker.register = lambda *args, **kwargs: None
        try:
            return _shm.SharedMemory(name=name, create=False)
        finally:
            resource_tracker.register = register


def _release(shm: _shm.SharedMemory, owner: bool) -> None:
    """Unmap ``shm`` and, for the owner, unlink its name (idempotent)."""
    if owner:
        try:
            shm.unlink()
        except FileNotFoundError:
            pass
    try:
        shm.close()
    except BufferError:
        # numpy views of the mapping are still alive elsewhere; the mapping goes
        # away with them (the unlinked name is already free).
        pass


class SharedRing(_RingBase):
    """A single-producer single-consumer ring in shared memory; build with :meth:`create`
    or :meth:`attach`.

    The Python methods (``push``, ``pop``, ``pop_one``, ``counters``, ``len``) and
    the raw arrays (:attr:`state`, :attr:`buf`, for the jitted kernels) are those of
    :class:`qlib.ring.Ring`; see the module docstring for the segment layout and the
    lifetime rules, and :mod:`qlib.ring._kernels` for the memory-ordering argument.

    Examples
    --------
    >>> from qlib.ring import SharedRing
    >>> from qlib.dtypes import empty_events
    >>> with SharedRing.create("qlib_doctest_ring", 1024, policy="raise") as feed:
    ...     peer = SharedRing.attach("qlib_doctest_ring")
    ...     feed.push(empty_events(3))
    ...     len(peer.pop())
    ...     peer.close()
    3
    3
    """

    def __init__(self, shm: _shm.SharedMemory, owner: bool, dtype: np.dtype,
                 capacity: int) -> None:
        self._shm = shm
        self.name: str = shm.name
        self.is_owner: bool = owner
        mem = shm.buf
        self.state = np.frombuffer(mem, dtype=np.int64, count=K.STATE_LEN,
                                   offset=_STATE_OFFSET)
        self.buf = np.frombuffer(mem, dtype=dtype, count=capacity, offset=_BUF_OFFSET)
        self._finalizer = weakref.finalize(self, _release, shm, owner)

    # -- construction -------------------------------------------------------------------
    @classmethod
    def create(cls, name: str, capacity: int, dtype: np.dtype = EVENT_DTYPE,
               policy: str | RingPolicy = "block", timeout: float | None = None
               ) -> SharedRing:
        """Create the segment ``name`` holding an empty ring; the caller owns it.

        Parameters
        ----------
        name
            Segment name (``/dev/shm/<name>`` on Linux), unique on the machine.
        capacity, dtype, policy, timeout
            As for :class:`qlib.ring.Ring`.

        Raises
        ------
        FileExistsError
            A segment of that name exists (a live ring, or one a crash left:
            :meth:`unlink` removes it).
        ParameterError, SchemaError
            Invalid capacity, policy, timeout or dtype.
        """
        if not isinstance(name, str) or not name or "/" in name:
            raise ParameterError(f"name must be a non-empty string without '/', was {name!r}")
        cap = _check_capacity(capacity)
        dt = _check_dtype(dtype)
        pol = _check_policy(policy)
        timeout_ns = _check_timeout(timeout)
        descr = _dtype_to_json(dt).encode()
        if len(descr) > _MAX_DESCR:
            raise ParameterError(
                f"dtype descriptor is {len(descr)} bytes, at most {_MAX_DESCR} fit the header")
        total = _BUF_OFFSET + cap * dt.itemsize
        shm = _shm.SharedMemory(name=name, create=True, size=total)
        try:
            mem = shm.buf
            mem[_DESCR_OFFSET:_DESCR_OFFSET + len(descr)] = descr
            state = np.frombuffer(mem, dtype=np.int64, count=K.STATE_LEN, offset=_STATE_OFFSET)
            make_state(state, cap, pol, timeout_ns, dt.itemsize)
            del state
            header = _HEADER.pack(b"\0" * 8, LAYOUT_VERSION, _STATE_OFFSET, cap, dt.itemsize,
                                  int(pol), timeout_ns, _STATE_OFFSET, _BUF_OFFSET, total,
                                  os.getpid(), len(descr))
            mem[:_HEADER.size] = header
            mem[:8] = MAGIC  # last: a reader that sees the magic sees a complete header
        except BaseException:
            _release(shm, owner=True)
            raise
        return cls(shm, True, dt, cap)

    @classmethod
    def attach(cls, name: str, dtype: np.dtype | None = None) -> SharedRing:
        """Map the existing ring ``name`` after validating its header.

        Parameters
        ----------
        name
            The name given to :meth:`create`.
        dtype
            The record dtype the caller expects; None accepts the segment's.

        Raises
        ------
        FileNotFoundError
            No segment of that name.
        RingLayoutError
            The segment is not a qlib ring (magic), has another layout version, is
            truncated, or holds records of another dtype than ``dtype``.
        """
        shm = _open_untracked(name)
        try:
            dt, cap = cls._validate(shm, name, dtype)
        except BaseException:
            _release(shm, owner=False)
            raise
        return cls(shm, False, dt, cap)

    @staticmethod
    def _validate(shm: _shm.SharedMemory, name: str, dtype: np.dtype | None
                  ) -> tuple[np.dtype, int]:
        mem = shm.buf
        if shm.size < _STATE_OFFSET:
            raise RingLayoutError(
                f"shared memory {name!r} is {shm.size} bytes, too small to be a qlib ring")
        (magic, version, _hdr, cap, itemsize, policy, _timeout, state_off, buf_off, total,
         pid, descr_len) = _HEADER.unpack_from(mem, 0)
        if magic != MAGIC:
            raise RingLayoutError(
                f"shared memory {name!r} is not a qlib ring: magic was {magic!r}, "
                f"expected {MAGIC!r}")
        if version != LAYOUT_VERSION:
            raise RingLayoutError(
                f"ring {name!r} has layout version {version}, this qlib reads "
                f"version {LAYOUT_VERSION}")
        if state_off != _STATE_OFFSET or buf_off != _BUF_OFFSET or descr_len > _MAX_DESCR:
            raise RingLayoutError(
                f"ring {name!r} has offsets state={state_off} buf={buf_off} "
                f"descr_len={descr_len}, expected state={_STATE_OFFSET} buf={_BUF_OFFSET}")
        try:
            dt = _dtype_from_json(bytes(mem[_DESCR_OFFSET:_DESCR_OFFSET + descr_len]).decode())
        except (ValueError, TypeError, KeyError) as exc:
            raise RingLayoutError(f"ring {name!r} has an unreadable dtype descriptor: {exc}"
                                  ) from exc
        if dt.itemsize != itemsize:
            raise RingLayoutError(
                f"ring {name!r}: descriptor itemsize {dt.itemsize} != header itemsize "
                f"{itemsize}")
        if cap < 2 or cap & (cap - 1) or total != buf_off + cap * itemsize or \
                shm.size < total:
            raise RingLayoutError(
                f"ring {name!r}: capacity {cap} x itemsize {itemsize} needs {total} bytes, "
                f"segment is {shm.size}")
        state = np.frombuffer(mem, dtype=np.int64, count=K.STATE_LEN, offset=_STATE_OFFSET)
        ok = (state[K.CAPACITY] == cap and state[K.MASK] == cap - 1
              and state[K.ITEMSIZE] == itemsize and state[K.POLICY] == policy)
        del state
        if not ok:
            raise RingLayoutError(f"ring {name!r}: state configuration disagrees with header")
        if dtype is not None:
            want = _check_dtype(dtype)
            if want != dt:
                raise RingLayoutError(
                    f"ring {name!r} holds records of dtype {dt}, was asked for {want}")
        del pid
        return dt, int(cap)

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Unmap the segment; the creator also unlinks its name. Idempotent.

        The ``state`` and ``buf`` arrays of this object must not be used afterwards.
        """
        self.__dict__.pop("state", None)
        self.__dict__.pop("buf", None)
        self._finalizer()

    @property
    def closed(self) -> bool:
        """True after :meth:`close`."""
        return not self._finalizer.alive

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @staticmethod
    def unlink(name: str) -> bool:
        """Remove the segment ``name`` (e.g. left by a crashed creator).

        Processes that still map it keep their mapping; the name is free at once.
        Returns False if there was no such segment.
        """
        try:
            shm = _open_untracked(name)
        except FileNotFoundError:
            return False
        # SharedMemory.unlink() unregisters from the tracker: register first so the
        # tracker's books balance whether or not this process created the segment.
        resource_tracker.register(shm._name, "shared_memory")
        _release(shm, owner=True)
        return True

    def __repr__(self) -> str:
        if self.closed:
            return f"SharedRing(name={self.name!r}, closed)"
        return super().__repr__().replace("SharedRing(", f"SharedRing(name={self.name!r}, ", 1)
