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

Whatever :math:`n`, :attr:`GridGuess.common_step` keeps the gcd itself: every value
seen lies on it, so a known tick :math:`\delta` holds all the values exactly when
``common_step`` is a whole multiple of :math:`\delta` (what
:func:`qlib.data.instruments.resolve` checks a registry tick with; the decimal step
cannot answer that: three ES prices 4799.00, 4799.25, 4799.50 have decimal step 0.01,
which is no multiple of 0.25, though all three lie on 0.25).

The same rule gives the lot from quantities.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

from qlib.errors import DataQualityError, ParameterError

__all__ = ["GridGuess", "MIN_DISTINCT_GCD", "UNDEF_PRICE", "infer_step", "infer_step_scaled",
           "is_multiple"]

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
#: Distance from a whole number, in units in the last place of ``x = v 10**d``,
#: accepted as float noise in :func:`infer_step` (parsing and scaling err by <= 1.5 ulp).
_ULPS = 4
#: Largest ``x`` the whole-number test is made on: below it 4 ulps are < 1/8.
_EXACT = 2.0**48
#: The int64 "no price" sentinel of fixed-point feeds (Databento DBN ``UNDEF_PRICE`` =
#: ``i64::MAX``); :func:`infer_step_scaled` ignores it like a non-positive value.
UNDEF_PRICE = np.iinfo(np.int64).max


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
    common_step
        The gcd of the values seen, whatever their number: the coarsest step every
        value lies on. Equal to ``step`` when ``distinct >= MIN_DISTINCT_GCD``;
        coarser than ``step`` (the decimal step) below that. A known tick holds
        every value exactly when ``common_step`` is a whole multiple of it
        (:meth:`holds_values_of`). None only for guesses built by hand.
    """

    step: float
    decimals: int
    distinct: int
    confidence: str
    basis: str
    common_step: float | None = None

    def holds_values_of(self, tick: float) -> bool:
        """Return True when every value the guess was made from is a multiple of ``tick``.

        Uses :attr:`common_step` (``step`` when that is None); the test is exact in
        decimal arithmetic (see :func:`is_multiple`).
        """
        return is_multiple(self.common_step if self.common_step is not None else self.step, tick)


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
    g = int(np.gcd.reduce(m))
    common = g / 10**d
    if n >= MIN_DISTINCT_GCD:
        step = common
        basis = f"gcd of {n:,} distinct {what} ({source}): {_fmt(step)}"
        if d:
            basis += f" ({g} x 1e-{d})"
    else:
        step = 1.0 / 10**d
        basis = (f"decimal step of {n:,} distinct {what} ({source}): too few values to trust"
                 f" their gcd ({_fmt(common)}), so the finest decimal step {_fmt(step)} (finer"
                 " than or equal to the true grid)")
    return GridGuess(step, d, n, _confidence(n), basis, common)


def is_multiple(step: float, tick: float) -> bool:
    """Return True when ``step`` is a whole multiple (>= 1) of ``tick``, in decimal arithmetic.

    Both are read as the shortest decimal that round-trips their double (``repr``), so
    ``is_multiple(0.3, 0.1)`` is True although ``0.3 / 0.1`` is 2.9999999999999996 in
    floating point, and ``is_multiple(61837.64, 1e-8)`` is decided exactly rather than
    within a relative tolerance that grows with the ratio.
    """
    ds, dt = Decimal(repr(float(step))), Decimal(repr(float(tick)))
    if not (ds.is_finite() and dt.is_finite()) or dt <= 0 or ds < dt:
        return False
    return ds % dt == 0


def _as_float_array(values: object, what: str, source: str) -> np.ndarray:
    """Values as a flat float64 array; decimal strings are parsed, bad ones named."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64, copy=False).ravel()
    flat = arr.ravel()
    out = np.empty(flat.shape[0], dtype=np.float64)
    for i, x in enumerate(flat.tolist()):
        try:
            out[i] = float(x.decode() if isinstance(x, bytes) else x)
        except (TypeError, ValueError):
            raise DataQualityError(f"{what} value was {x!r}, expected a decimal number ({source})",
                                   row=i, field=what, value=x) from None
    return out


def infer_step(values: np.ndarray, *, what: str = "prices", source: str = "the data") -> GridGuess:
    """Infer the grid step of decimal values read as float64.

    Parameters
    ----------
    values
        Values parsed from decimal strings, or the strings themselves (parsed with
        ``float``). Non-finite and non-positive values are ignored: the loaders
        report those separately.
    what, source
        Named in :attr:`GridGuess.basis` (``"prices"``, ``"the depth updates"``).

    Returns
    -------
    GridGuess

    Raises
    ------
    DataQualityError
        If there is no finite positive value, a string is not a number, or the values
        need more than :data:`MAX_DECIMALS` decimals (not decimal strings, or noise);
        the message names an example value.

    Notes
    -----
    A float parsed from a decimal string is the nearest double to it, and
    :math:`x = v 10^d` is then within 1.5 ulp of an integer when ``d`` decimals write
    ``v``; the test allows 4 ulps of :math:`\\max(x, 1)`. Another decimal digit moves
    :math:`x` by at least :math:`10^{-k}` for the ``k`` digits still missing, which is
    more than 4 ulps while ``v`` has at most 15 significant digits, so the test is
    relative to the double's own precision and never calls ``1.000001`` a whole
    number. It is made while :math:`x < 2^{48}` (4 ulps below 1/8); values that need
    more are refused (14 significant digits always fit).
    """
    v = _as_float_array(values, what, source)
    v = _distinct(v[np.isfinite(v) & (v > 0)])
    n = int(v.shape[0])
    if n == 0:
        raise DataQualityError(f"no finite positive {what} to infer a grid from ({source})",
                               field=what)
    off = np.ones(n, dtype=bool)
    for d in range(MAX_DECIMALS + 1):
        x = v * 10.0**d
        if x.max() >= _EXACT:
            break  # doubles this large are too coarse to tell a decimal from noise
        r = np.rint(x)
        off = np.abs(x - r) > _ULPS * np.spacing(np.maximum(x, 1.0))
        if not off.any():
            return _from_integers(r.astype(np.int64), d, n, what, source)
    worst = float(v[int(np.flatnonzero(off)[0])])
    raise DataQualityError(
        f"{what} need more than {MAX_DECIMALS} decimals, or more significant digits than a"
        f" double holds (for example {worst!r}): not a decimal grid ({source})",
        field=what, value=worst)


def infer_step_scaled(values: np.ndarray, scale: int, *, what: str = "prices",
                      source: str = "the data") -> GridGuess:
    """Infer the grid step of values held as integers in units of ``1 / scale``.

    For sources with fixed-point prices: LOBSTER (dollars x 10,000), Databento
    (units of 1e-9), ITCH (1e-4). ``scale`` must be a power of ten. The result is the
    one :func:`infer_step` gives on ``values / scale`` (same step, decimals,
    confidence), without a float pass.

    Parameters
    ----------
    values
        Integer values; an integral float array is accepted. Non-positive values and
        :data:`UNDEF_PRICE` (Databento's null price) are ignored.
    scale
        Units per whole currency unit (``10_000`` for LOBSTER, ``1_000_000_000`` for
        Databento).
    what, source
        Named in the basis.

    Raises
    ------
    ParameterError
        If ``scale`` is not a positive power of ten.
    DataQualityError
        If no positive value is present, or a float value is not a whole number.
    """
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale <= 0 \
            or 10 ** round(math.log10(scale)) != scale:
        raise ParameterError(f"scale must be a positive power of ten (an int), was {scale!r}")
    d_max = round(math.log10(int(scale)))
    arr = np.asarray(values).ravel()
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.rint(arr))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            x = float(arr[i])
            raise DataQualityError(f"{what} value was {x!r}, expected a whole number of"
                                   f" 1/{int(scale)} units ({source})", row=i, field=what, value=x)
    elif arr.dtype.kind not in "iu":
        raise DataQualityError(f"{what} must be integers of 1/{int(scale)} units, the array was"
                               f" of dtype {str(arr.dtype)} ({source})", field=what)
    if arr.dtype.kind == "u":
        arr = arr[arr < np.uint64(UNDEF_PRICE)]
    m = arr.astype(np.int64)
    m = _distinct(m[(m > 0) & (m != UNDEF_PRICE)])
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
