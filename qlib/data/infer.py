r"""Facts a loader infers from the data when nobody told it: the price grid and the lot.

A loader that meets an instrument neither the caller nor the registry
(:mod:`qlib.data.instruments`) knows reads the grid off the prices themselves.

The rule
--------
Let :math:`p_1, \dots, p_n` be the distinct positive prices seen and :math:`d` the
fewest decimals that write all of them exactly. With :math:`m_i = p_i 10^d`
(integers), the inferred step is

.. math:: \Delta = \gcd(m_1, \dots, m_n) \, 10^{-d}

when :math:`n \ge 20`, and the decimal step :math:`10^{-d}` otherwise.

Why: every price a venue prints is a multiple of its true tick :math:`\delta`, so
:math:`\Delta` is a multiple of :math:`\delta`. It is *coarser* than :math:`\delta`
only if every one of the :math:`n` distinct prices happens to sit on a coarser grid
:math:`k\delta`; for prices spread over the grid that has probability about
:math:`k^{-n}` (below :math:`10^{-6}` for :math:`n \ge 20`, :math:`k \ge 2`). With
fewer distinct prices the decimal step is used: finer than or equal to the true tick,
which is always safe for a book (levels are exact, only sparser), never coarser.
Confidence: ``high`` for :math:`n \ge 100`, ``medium`` for :math:`20 \le n < 100`,
``low`` below (the decimal step).

The same rule gives the lot from quantities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qlib.errors import DataQualityError

__all__ = ["GridGuess", "infer_step", "infer_step_scaled", "MIN_DISTINCT_GCD"]

#: Distinct values needed before the gcd (rather than the decimal step) is trusted.
MIN_DISTINCT_GCD = 20
#: Distinct values for ``high`` confidence.
MIN_DISTINCT_HIGH = 100
#: Most decimals looked for (a step below 1e-12 is not a price grid).
MAX_DECIMALS = 12
#: Distinct values examined at most (an evenly spaced sample of the sorted uniques
#: beyond that; the gcd of a large sample is the gcd of the whole with overwhelming
#: probability, see the module docstring).
MAX_DISTINCT = 200_000


@dataclass(frozen=True)
class GridGuess:
    """An inferred grid step.

    Attributes
    ----------
    step
        The step (price or quantity units).
    decimals
        Fewest decimals that write every value seen (``step`` needs at most these).
    distinct
        Distinct positive values the guess rests on.
    confidence
        ``"high"``, ``"medium"`` or ``"low"`` (see the module docstring).
    basis
        One line saying what the guess was made from, for the validation report.
    """

    step: float
    decimals: int
    distinct: int
    confidence: str
    basis: str


def _confidence(n: int) -> str:
    if n >= MIN_DISTINCT_HIGH:
        return "high"
    return "medium" if n >= MIN_DISTINCT_GCD else "low"


def _distinct(values: np.ndarray) -> np.ndarray:
    u = np.unique(values)
    if u.shape[0] > MAX_DISTINCT:
        u = u[np.linspace(0, u.shape[0] - 1, MAX_DISTINCT).astype(np.int64)]
    return u


def _from_integers(m: np.ndarray, d: int, n: int, what: str, source: str) -> GridGuess:
    """The guess from distinct positive integers ``m`` that are values x 10**d."""
    if n >= MIN_DISTINCT_GCD:
        g = int(np.gcd.reduce(m))
        step = g / 10**d
        basis = (f"gcd of {n:,} distinct {what} ({source}): {_fmt(step)}"
                 f" ({g} x 1e-{d})" if d else f"gcd of {n:,} distinct {what} ({source}): {_fmt(step)}")
    else:
        step = 10.0**-d
        basis = (f"decimal step of {n:,} distinct {what} ({source}): too few values to trust"
                 f" their gcd, so the finest decimal step 1e-{d} (finer than or equal to the"
                 " true grid)")
    return GridGuess(step, d, n, _confidence(n), basis)


def infer_step(values: np.ndarray, *, what: str = "prices", source: str = "the data") -> GridGuess:
    """Infer the grid step of decimal values read as float64.

    Parameters
    ----------
    values
        Values parsed from decimal strings (non-finite and non-positive values are
        ignored: the loaders report those separately).
    what, source
        Named in :attr:`GridGuess.basis` (``"prices"``, ``"the depth updates"``).

    Returns
    -------
    GridGuess

    Raises
    ------
    DataQualityError
        If there is no finite positive value, or the values need more than
        :data:`MAX_DECIMALS` decimals (not decimal strings, or noise).

    Notes
    -----
    A float parsed from a decimal string of at most 15 significant digits is the
    nearest double to it, so :math:`v 10^d` lies within a few ulps of an integer
    exactly when ``d`` decimals write ``v``; the test allows :math:`10^{-6}` absolute
    or :math:`4 \\cdot 10^{-15}` relative, whichever is larger.
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = _distinct(v[np.isfinite(v) & (v > 0)])
    n = int(v.shape[0])
    if n == 0:
        raise DataQualityError(f"no finite positive {what} to infer a grid from ({source})",
                               field=what)
    for d in range(MAX_DECIMALS + 1):
        x = v * 10.0**d
        if x.max() >= 2.0**62:
            break
        r = np.rint(x)
        if np.all(np.abs(x - r) <= np.maximum(1e-6, 4e-15 * x)):
            return _from_integers(r.astype(np.int64), d, n, what, source)
    worst = float(v[np.argmax(np.abs(v * 10.0**MAX_DECIMALS - np.rint(v * 10.0**MAX_DECIMALS)))])
    raise DataQualityError(
        f"{what} need more than {MAX_DECIMALS} decimals (for example {worst!r}): not a"
        f" decimal grid ({source})", field=what, value=worst)


def infer_step_scaled(values: np.ndarray, scale: int, *, what: str = "prices",
                      source: str = "the data") -> GridGuess:
    """Infer the grid step of values held as integers in units of ``1 / scale``.

    For sources with fixed-point prices: LOBSTER (dollars x 10,000), Databento
    (units of 1e-9), ITCH (1e-4). ``scale`` must be a power of ten.

    Parameters
    ----------
    values
        Integer values (non-positive ones are ignored).
    scale
        Units per whole currency unit (``10_000`` for LOBSTER).
    what, source
        Named in the basis.

    Raises
    ------
    DataQualityError
        If no positive value is present.
    """
    d_max = round(math.log10(scale))
    if scale <= 0 or 10**d_max != scale:
        raise ValueError(f"scale must be a power of ten, was {scale!r}")
    m = np.asarray(values, dtype=np.int64).ravel()
    m = _distinct(m[m > 0])
    n = int(m.shape[0])
    if n == 0:
        raise DataQualityError(f"no positive {what} to infer a grid from ({source})", field=what)
    # fewest decimals: strip common factors of ten
    d = d_max
    while d > 0 and np.all(m % 10 == 0):
        m = m // 10
        d -= 1
    return _from_integers(m, d, n, what, source)


def _fmt(x: float) -> str:
    """A step printed without float noise (``0.1``, ``0.25``, ``1e-08``)."""
    return f"{x:.12g}"
