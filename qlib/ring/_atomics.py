"""Memory-ordering, copy and clock primitives for the ring kernels.

Every primitive is an ordinary Python function (the *fallback*, run by ``.py_func``
and under ``NUMBA_DISABLE_JIT=1``) that numba lowers, inside jitted code, to a few
LLVM instructions emitted in place at the call site (``type_callable`` +
``lower_builtin``): no call, no reference counting, nothing to inline.

=======================  ==================================================  ==========================
primitive                 LLVM IR in jitted code                             x86-64 code
=======================  ==================================================  ==========================
``load_acquire(a, i)``    ``load atomic i64, ptr p acquire, align 8``        ``mov``
``store_release(a,i,v)``  ``store atomic i64 v, ptr p release, align 8``     ``mov``
``load_relaxed(a, i)``    ``load atomic i64, ptr p monotonic, align 8``      ``mov``
``store_relaxed(a,i,v)``  ``store atomic i64 v, ptr p monotonic, align 8``   ``mov``
``fence_acquire()``       ``fence acquire``                                  nothing (compiler barrier)
``fence_release()``       ``fence release``                                  nothing (compiler barrier)
``copy_record``           ``llvm.memcpy`` of ``itemsize`` bytes              2-4 vector moves
``copy_slot``             ``llvm.memcpy`` of ``itemsize`` bytes              2-4 vector moves
``copy_slot_relaxed``     one ``monotonic`` atomic load/store per word       ``itemsize / 8`` moves
``copy_record_relaxed``   one ``monotonic`` atomic load/store per word       ``itemsize / 8`` moves
``cpu_relax()``           ``llvm.x86.sse2.pause``                            ``pause``
``sched_yield()``         call to libc ``sched_yield``                       syscall
``monotonic_ns()``        call to libc ``clock_gettime(CLOCK_MONOTONIC)``    vDSO, ~20 ns
``rdtsc()``               ``llvm.readcyclecounter``                          ``rdtsc``, ~7-10 ns
``keep_alive(x, *arrs)``  nothing (returns ``x``)                            nothing
=======================  ==================================================  ==========================

On x86-64 (TSO) acquire loads and release stores need no fence instruction; the atomic
orderings are there for the *compiler*: LLVM may not move ordinary memory accesses
across them in the forbidden direction, nor keep the value of a counter in a register
across the iterations of a spin loop. The fallbacks run under CPython, where each
numpy element access is an opaque C call the C compiler cannot reorder, and x86-64
hardware keeps loads and stores in program order as TSO promises; they are meant for
tests and debugging (``.py_func`` parity, ``NUMBA_DISABLE_JIT=1``), not for
cross-process production use.

``keep_alive`` exists for one numba detail. A function inlined at the numba IR level
(``inline="always"``) whose array arguments are last used inside one arm of a branch
gets an ``NRT_incref``/``NRT_decref`` pair per call that numba's reference-count
pruning cannot remove (the decref sits behind a ``phi`` of ``null``); those atomic
increments cost ~50 ns per push/pop pair. Ending the kernel with
``return keep_alive(status, state, buf, rec)`` makes every array live until the single
exit block, so the pair lands in straight-line code and is pruned (see the IR test in
``tests/unit/ring/test_codegen.py``).

References
----------
.. [1] LLVM Language Reference, "Memory Model for Concurrent Operations" and
   "Atomic Memory Ordering Constraints". https://llvm.org/docs/LangRef.html
.. [2] Intel 64 and IA-32 Architectures Software Developer's Manual, Vol. 3A,
   section 9.2.2 "Memory Ordering in P6 and More Recent Processor Families".
.. [3] Boehm, H.-J. (2012). Can seqlocks get along with programming language memory
   models? MSPC '12.
"""

from __future__ import annotations

import os
import platform
import time

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.core.errors import TypingError
from numba.core.imputils import lower_builtin
from numba.core.typing.templates import AbstractTemplate, infer_global, signature

__all__ = [
    "copy_record",
    "copy_record_relaxed",
    "copy_slot",
    "copy_slot_relaxed",
    "cpu_relax",
    "fence_acquire",
    "fence_release",
    "keep_alive",
    "load_acquire",
    "load_relaxed",
    "monotonic_ns",
    "rdtsc",
    "sched_yield",
    "store_relaxed",
    "store_release",
]

_I8 = ir.IntType(8)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_IS_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")
#: ``CLOCK_MONOTONIC`` on Linux (and every glibc/musl target).
_CLOCK_MONOTONIC = 1


# ----------------------------------------------------------------------------------
# Python fallbacks (the semantics; ``.py_func`` and NUMBA_DISABLE_JIT run these)
# ----------------------------------------------------------------------------------


def load_acquire(a, i):
    """Return ``a[i]`` (int64) with acquire ordering."""
    return a[i]


def store_release(a, i, v):
    """Store ``v`` into ``a[i]`` (int64) with release ordering."""
    a[i] = v


def load_relaxed(a, i):
    """Return ``a[i]`` (int64) as an atomic load with no ordering (``monotonic``)."""
    return a[i]


def store_relaxed(a, i, v):
    """Store ``v`` into ``a[i]`` (int64) atomically with no ordering (``monotonic``)."""
    a[i] = v


def fence_acquire():
    """Acquire fence: no later load or store moves above an earlier load."""


def fence_release():
    """Release fence: no earlier load or store moves below a later store."""


def copy_record(dst, di, rec):
    """Copy the record ``rec`` into ``dst[di]`` (same dtype; one ``memcpy``)."""
    dst[di] = rec


def copy_slot(dst, di, src, si):
    """Copy ``src[si]`` into ``dst[di]`` (same dtype; one ``memcpy``)."""
    dst[di] = src[si]


def copy_slot_relaxed(dst, di, src, si):
    """Copy ``src[si]`` into ``dst[di]`` word by word with relaxed atomic accesses.

    Used where a reader may race with a writer (the drop-oldest consumer): each word
    is then an atomic access, so the race is defined behaviour and the fences around
    the copy order it (seqlock reader, [3]_ in the module docstring).
    """
    dst[di] = src[si]


def copy_record_relaxed(dst, di, rec):
    """Copy the record ``rec`` into ``dst[di]`` word by word with relaxed atomic stores."""
    dst[di] = rec


def cpu_relax():
    """Spin-wait hint (x86 ``pause``)."""


def sched_yield():
    """Give up the CPU to another runnable thread (libc ``sched_yield``)."""
    os.sched_yield()


def monotonic_ns():
    """Return ``CLOCK_MONOTONIC`` in int64 nanoseconds (system-wide, all processes)."""
    return time.monotonic_ns()


def rdtsc():
    """Return the CPU time-stamp counter (falls back to ``perf_counter_ns`` in Python)."""
    return time.perf_counter_ns()


def keep_alive(x, a=None, b=None, c=None):
    """Return ``x``; keeps the arrays ``a``, ``b``, ``c`` alive up to this point."""
    return x


# ----------------------------------------------------------------------------------
# Typing and lowering
# ----------------------------------------------------------------------------------


def _counter_array(ty) -> bool:
    return isinstance(ty, types.Array) and ty.dtype == types.int64 and ty.ndim == 1


def _elem_ptr(context, builder, arrty, arr, idx):
    """Pointer to element ``idx`` of a 1-D array (no bounds check, like ``a[i]``)."""
    ary = context.make_array(arrty)(context, builder, arr)
    return cgutils.get_item_pointer2(context, builder, ary.data, cgutils.unpack_tuple(
        builder, ary.shape, 1), cgutils.unpack_tuple(builder, ary.strides, 1), arrty.layout,
        [idx], wraparound=False)


def _register(pyfunc, typer, lower):
    """Attach a typing function ``typer(*argtys) -> Signature | None`` and a lowering."""

    class _Template(AbstractTemplate):
        key = pyfunc

        def generic(self, args, kws):
            if kws:
                return None
            return typer(*args)

    infer_global(pyfunc, types.Function(_Template))

    @lower_builtin(pyfunc, types.VarArg(types.Any))
    def _lower(context, builder, sig, args):
        return lower(context, builder, sig, args)


def _cast_index(context, builder, sig, args, k):
    return context.cast(builder, args[k], sig.args[k], types.intp)


# --- atomic counter loads and stores ----------------------------------------------


def _load_typer(a, i):
    if _counter_array(a) and isinstance(i, types.Integer):
        return signature(types.int64, a, i)
    return None


def _store_typer(a, i, v):
    if _counter_array(a) and isinstance(i, types.Integer) and isinstance(v, types.Integer):
        return signature(types.none, a, i, v)
    return None


def _make_load(ordering):
    def lower(context, builder, sig, args):
        ptr = _elem_ptr(context, builder, sig.args[0], args[0],
                        _cast_index(context, builder, sig, args, 1))
        return builder.load_atomic(ptr, ordering, 8)

    return lower


def _make_store(ordering):
    def lower(context, builder, sig, args):
        ptr = _elem_ptr(context, builder, sig.args[0], args[0],
                        _cast_index(context, builder, sig, args, 1))
        val = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(val, ptr, ordering, 8)
        return context.get_dummy_value()

    return lower


_register(load_acquire, _load_typer, _make_load("acquire"))
_register(load_relaxed, _load_typer, _make_load("monotonic"))
_register(store_release, _store_typer, _make_store("release"))
_register(store_relaxed, _store_typer, _make_store("monotonic"))


# --- fences -------------------------------------------------------------------------


def _noarg_typer(ret):
    def typer(*args):
        return signature(ret) if not args else None

    return typer


def _make_fence(ordering):
    def lower(context, builder, sig, args):
        builder.fence(ordering)
        return context.get_dummy_value()

    return lower


_register(fence_acquire, _noarg_typer(types.none), _make_fence("acquire"))
_register(fence_release, _noarg_typer(types.none), _make_fence("release"))


# --- record copies ------------------------------------------------------------------


def _record_array(ty) -> bool:
    return isinstance(ty, types.Array) and ty.ndim == 1 and isinstance(ty.dtype, types.Record)


def _same_record(a, b) -> bool:
    return a.size == b.size and a.dtype == b.dtype


def _copy_record_typer(dst, di, rec):
    if not (_record_array(dst) and isinstance(di, types.Integer)):
        return None
    if not isinstance(rec, types.Record):
        return None
    if not _same_record(dst.dtype, rec):
        raise TypingError(f"copy_record: record dtype {rec} differs from the buffer's {dst.dtype}")
    return signature(types.none, dst, di, rec)


def _copy_slot_typer(dst, di, src, si):
    if not (_record_array(dst) and _record_array(src)):
        return None
    if not (isinstance(di, types.Integer) and isinstance(si, types.Integer)):
        return None
    if not _same_record(dst.dtype, src.dtype):
        raise TypingError(f"copy_slot: dtypes differ, {src.dtype} vs {dst.dtype}")
    return signature(types.none, dst, di, src, si)


def _memcpy(builder, dst_ptr, src_ptr, size):
    i8p = _I8.as_pointer()
    fn = builder.module.declare_intrinsic("llvm.memcpy", [i8p, i8p, _I64])
    builder.call(fn, [builder.bitcast(dst_ptr, i8p), builder.bitcast(src_ptr, i8p),
                      ir.Constant(_I64, size), ir.Constant(ir.IntType(1), 0)])


def _lower_copy_record(context, builder, sig, args):
    dst = _elem_ptr(context, builder, sig.args[0], args[0],
                    _cast_index(context, builder, sig, args, 1))
    _memcpy(builder, dst, args[2], sig.args[2].size)  # a Record value is a data pointer
    return context.get_dummy_value()


def _lower_copy_slot(context, builder, sig, args):
    dst = _elem_ptr(context, builder, sig.args[0], args[0],
                    _cast_index(context, builder, sig, args, 1))
    src = _elem_ptr(context, builder, sig.args[2], args[2],
                    _cast_index(context, builder, sig, args, 3))
    _memcpy(builder, dst, src, sig.args[0].dtype.size)
    return context.get_dummy_value()


def _word_bytes(size: int) -> int:
    """Largest power of two <= 8 dividing ``size`` (the width of the atomic words)."""
    w = 8
    while size % w:
        w //= 2
    return w


def _copy_words_relaxed(builder, dst_ptr, src_ptr, size):
    """Copy ``size`` bytes as ``monotonic`` atomic words (both sides naturally aligned:
    slots sit at multiples of the item size from a 64-byte-aligned base)."""
    w = _word_bytes(size)
    wty = ir.IntType(8 * w)
    dst = builder.bitcast(dst_ptr, wty.as_pointer())
    src = builder.bitcast(src_ptr, wty.as_pointer())
    for k in range(size // w):
        off = [ir.Constant(_I64, k)]
        v = builder.load_atomic(builder.gep(src, off, inbounds=True), "monotonic", w)
        builder.store_atomic(v, builder.gep(dst, off, inbounds=True), "monotonic", w)


def _lower_copy_slot_relaxed(context, builder, sig, args):
    dst = _elem_ptr(context, builder, sig.args[0], args[0],
                    _cast_index(context, builder, sig, args, 1))
    src = _elem_ptr(context, builder, sig.args[2], args[2],
                    _cast_index(context, builder, sig, args, 3))
    _copy_words_relaxed(builder, dst, src, sig.args[0].dtype.size)
    return context.get_dummy_value()


def _lower_copy_record_relaxed(context, builder, sig, args):
    dst = _elem_ptr(context, builder, sig.args[0], args[0],
                    _cast_index(context, builder, sig, args, 1))
    _copy_words_relaxed(builder, dst, args[2], sig.args[2].size)
    return context.get_dummy_value()


_register(copy_record, _copy_record_typer, _lower_copy_record)
_register(copy_slot, _copy_slot_typer, _lower_copy_slot)
_register(copy_slot_relaxed, _copy_slot_typer, _lower_copy_slot_relaxed)
_register(copy_record_relaxed, _copy_record_typer, _lower_copy_record_relaxed)


# --- spinning, yielding and clocks -------------------------------------------------


def _lower_cpu_relax(context, builder, sig, args):
    if _IS_X86:
        fn = builder.module.declare_intrinsic("llvm.x86.sse2.pause", fnty=ir.FunctionType(
            ir.VoidType(), []))
        builder.call(fn, [])
    return context.get_dummy_value()


def _lower_sched_yield(context, builder, sig, args):
    # Resolved by name in the process (libc) when the code is loaded, so it survives
    # numba's on-disk cache (a ctypes function pointer would not).
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I32, []),
                                        "sched_yield")
    builder.call(fn, [])
    return context.get_dummy_value()


def _lower_monotonic_ns(context, builder, sig, args):
    ts_ty = ir.LiteralStructType([_I64, _I64])  # struct timespec {time_t; long} on LP64
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(_I32, [_I32, ts_ty.as_pointer()]), "clock_gettime")
    ts = cgutils.alloca_once(builder, ts_ty)
    builder.call(fn, [ir.Constant(_I32, _CLOCK_MONOTONIC), ts])
    sec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 0))
    nsec = builder.load(cgutils.gep_inbounds(builder, ts, 0, 1))
    return builder.add(builder.mul(sec, ir.Constant(_I64, 1_000_000_000)), nsec)


def _lower_rdtsc(context, builder, sig, args):
    fn = builder.module.declare_intrinsic("llvm.readcyclecounter", fnty=ir.FunctionType(
        _I64, []))
    return builder.call(fn, [])


_register(cpu_relax, _noarg_typer(types.none), _lower_cpu_relax)
_register(sched_yield, _noarg_typer(types.none), _lower_sched_yield)
_register(monotonic_ns, _noarg_typer(types.int64), _lower_monotonic_ns)
_register(rdtsc, _noarg_typer(types.int64), _lower_rdtsc)


# --- keep_alive -----------------------------------------------------------------------


def _keep_alive_typer(x, *arrays):
    if not isinstance(x, types.Integer) or len(arrays) > 3:
        return None
    return signature(x, x, *arrays)


def _lower_keep_alive(context, builder, sig, args):
    return args[0]


_register(keep_alive, _keep_alive_typer, _lower_keep_alive)
