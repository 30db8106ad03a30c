"""Annualisation: periods per year from an explicit number or from a DatetimeIndex.

Convention (documented once here, used by every metric in :mod:`qlib.risk.performance`
and :mod:`qlib.risk.var`):

* ``"equity"``: 252 trading days a year, each with a session of ``session_hours`` (6.5 h,
  the NYSE/Nasdaq regular session) of trading time.
* ``"crypto"``: 365 days of 24 h.

The bar spacing is the median of the positive differences of the index (so gaps between
sessions, weekends and the odd missing bar do not move it). A spacing of at least one
day is read as daily-or-slower bars: ``days_per_year / spacing_in_days``, with business
days counted as one day (median spacing of a business-day index is exactly 1 day).
A shorter spacing is intraday: ``days_per_year x session_seconds / spacing_seconds``.
Tick P&L (irregular timestamps) is handled the same way: the median inter-arrival time
plays the part of the bar spacing, which assumes roughly uniform activity through the
session; pass ``periods_per_year`` explicitly when that does not hold.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError

__all__ = ["CALENDARS", "periods_per_year"]

Calendar = Literal["equity", "crypto"]

#: (trading days per year, trading hours per day) of each calendar convention.
CALENDARS: dict[str, tuple[int, float]] = {"equity": (252, 6.5), "crypto": (365, 24.0)}

_DAY_NS = 86_400 * 10**9


def periods_per_year(
    index: pd.DatetimeIndex,
    calendar: Calendar = "equity",
    *,
    session_hours: float | None = None,
) -> float:
    r"""Infer the number of bars per year from a DatetimeIndex.

    Parameters
    ----------
    index
        Timestamps of the bars (or ticks), increasing.
    calendar
        ``"equity"`` (252 days) or ``"crypto"`` (365 days x 24 h).
    session_hours
        Trading hours per day; defaults to 6.5 for equities and 24 for crypto.

    Returns
    -------
    float
        Periods per year :math:`P`.

    Raises
    ------
    InsufficientDataError
        Fewer than two distinct timestamps (had, needed 2).
    ParameterError
        Unknown calendar, non-positive session hours, or not a DatetimeIndex.

    Notes
    -----
    With :math:`\Delta` the median positive spacing, :math:`D` days per year and
    :math:`H` session hours,

    .. math:: P = D / (\Delta / 1\,\mathrm{day}) \text{ if } \Delta \ge 1\,\mathrm{day},
              \quad P = D \cdot H \cdot 3600\,\mathrm{s} / \Delta \text{ otherwise.}

    Examples
    --------
    >>> import pandas as pd
    >>> periods_per_year(pd.date_range("2024-01-02 09:30", periods=390, freq="1min"))
    98280.0
    >>> periods_per_year(pd.bdate_range("2024-01-01", periods=30))
    252.0
    >>> periods_per_year(pd.date_range("2024-01-01", periods=10, freq="1h"), "crypto")
    8760.0
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise ParameterError(f"index must be a pandas DatetimeIndex, was {type(index).__name__}")
    if calendar not in CALENDARS:
        raise ParameterError(f"calendar must be one of {sorted(CALENDARS)}, was {calendar!r}")
    days, hours = CALENDARS[calendar]
    if session_hours is not None:
        if not (np.isfinite(session_hours) and 0 < session_hours <= 24):
            raise ParameterError(f"session_hours must be in (0, 24], was {session_hours!r}")
        hours = float(session_hours)
    ns = index.as_unit("ns").asi8
    d = np.diff(ns)
    d = d[d > 0]
    if d.size == 0:
        raise InsufficientDataError(
            f"periods_per_year needs at least 2 distinct timestamps, had {np.unique(ns).size}"
        )
    step = float(np.median(d))
    if step >= _DAY_NS:
        return days / (step / _DAY_NS)
    return days * hours * 3600e9 / step


def resolve_periods(
    returns: object,
    periods_per_year_: float | None,
    calendar: Calendar,
    *,
    required: bool = True,
) -> float | None:
    """Explicit ``periods_per_year`` if given, else inferred from a Series' DatetimeIndex."""
    if periods_per_year_ is not None:
        p = float(periods_per_year_)
        if not (np.isfinite(p) and p > 0):
            raise ParameterError(f"periods_per_year must be positive, was {periods_per_year_!r}")
        return p
    idx = getattr(returns, "index", None)
    if isinstance(idx, pd.DatetimeIndex):
        return periods_per_year(idx, calendar)
    if required:
        raise ParameterError(
            "periods_per_year was None and the returns have no DatetimeIndex to infer it from; "
            "pass periods_per_year (e.g. 252 for daily equity bars)"
        )
    return None
