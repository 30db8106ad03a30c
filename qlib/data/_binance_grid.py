"""Price and lot grids of a Binance recording: a registry's step checked on every parsed
value, or the gcd of a strided sample (private to :mod:`qlib.data.binance`)."""

from __future__ import annotations

import dataclasses

import numpy as np

from qlib.data import _binance_kernels as _bk
from qlib.data.infer import GridGuess, infer_step
from qlib.errors import DataQualityError

#: Prices and quantities above 2**53 (where float64 stops holding every integer) say
#: nothing about a decimal grid: left out of the inference (the tick conversion still
#: checks them).
GRID_MAX = 2.0 ** 53
#: Parsed values from which :func:`qlib.data.binance._grid` infers from a strided sample
#: (and checks all).
_SAMPLE_FROM = 200_000
#: Values in that sample.
_SAMPLE = 25_000
#: Times a value off the sample's step may join the sample before the full sort is used.
_SAMPLE_ROUNDS = 4


def stated_grid(srcs: list, kind: str, step: float) -> GridGuess | None:
    """A registry tick (or lot) that every parsed price (or quantity) lies on, else None.

    ``srcs`` are the price (``kind="px"``) or quantity columns of
    :func:`qlib.data.binance._sources`.

    One jitted pass per column (:func:`qlib.data._binance_kernels.first_off_step`)
    instead of :func:`qlib.data.binance._grid`'s inference: when every value lies on
    ``step``, the data agree with the registry and :func:`qlib.data.instruments.resolve` keeps its fact,
    which needs no more than that (``common_step == step`` holds every value). When a
    value lies off it, the caller infers the grid from the data as for an unlisted
    symbol, and ``resolve`` reports the registry's value as overridden.
    """
    if not step > 0.0:
        return None
    if any(_bk.first_off_step(a, step, GRID_MAX) >= 0 for _, a, _ in srcs):
        return None
    n = sum(len(a) for _, a, _ in srcs)
    what = "prices" if kind == "px" else "quantities"
    return GridGuess(step=step, decimals=0, distinct=0, confidence="high", common_step=step,
                     basis=f"every one of the {n:,} parsed {what} lies on the registry's {step:g}")


def grid_from_sample(srcs: list, what: str) -> GridGuess | None:
    """The grid of a large recording from an evenly strided sample, checked on every value.

    Sorting every parsed value (``np.unique``) is most of the cost of :func:`qlib.data.binance._grid` on a
    day of depth updates. The gcd of a sample is a multiple of the gcd of all values. When
    a value lies off the sample's step, it joins the sample and the step is inferred again
    (at most :data:`_SAMPLE_ROUNDS` times). When every value lies on the step, the step
    divides every value, so it *is* the gcd of all values and needs the same decimals: the
    guess equals the full one except for its count of distinct values, which the basis
    states. ``None`` (use the full path) for recordings under :data:`_SAMPLE_FROM`
    values, for a sample with fewer than 100 distinct values, or after the last round.
    """
    n = sum(len(a) for _, a, _ in srcs)
    if n < _SAMPLE_FROM:
        return None
    stride = -(-n // _SAMPLE)
    sample = np.unique(np.concatenate([a[::stride] for _, a, _ in srcs]))
    sample = sample[(sample > 0) & (sample <= GRID_MAX)]
    if len(sample) < 100:
        return None
    for _ in range(_SAMPLE_ROUNDS):
        try:
            guess = infer_step(sample, what=what, source="a strided sample of the " + what)
        except DataQualityError:
            return None
        off = [(a, _bk.first_off_step(a, guess.step, GRID_MAX)) for _, a, _ in srcs]
        off = [a[i] for a, i in off if i >= 0]
        if not off:
            return dataclasses.replace(guess, basis=guess.basis + f"; every one of the {n:,}"
                                       f" parsed {what} checked on that step")
        sample = np.append(sample, off)
    return None
