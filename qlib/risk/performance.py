r"""Performance metrics of a return series: Sharpe, Sortino, Calmar, drawdown, Omega, tails.

Every metric is a noun taking a 1-D Series or ndarray of simple per-bar returns
(fractions, not percent) and returning a float. The hot loops are numba kernels in
:mod:`qlib.risk._metrics_kernels`.

Conventions (chosen to equal empyrical-reloaded 0.7.1 [1]_, which a parity test checks):

* **Annualisation.** ``periods_per_year`` if given; otherwise inferred from the Series'
  DatetimeIndex by :func:`qlib.risk.periods_per_year` under ``calendar`` ("equity": 252 x
  6.5 h; "crypto": 365 x 24 h). It plays the part of empyrical's ``annualization``.
* **Tick P&L.** Metrics take returns; turn a P&L series in currency into returns by
  dividing by the capital at risk (Sharpe, Sortino, Omega and the tail ratio are then
  unchanged by that positive scale; drawdown and Calmar compound it).
* **Risk-free rate / required return** are per-period (per bar) scalars subtracted from
  every return, as in empyrical. Omega's ``required_return`` alone is annual, as in empyrical.
* **ddof.** Sharpe's standard deviation is the sample one (``ddof=1``); Sortino's downside
  deviation is the root mean square of the shortfalls over *all* ``n`` bars (``ddof=0``,
  zero for bars above the target), annualised by :math:`\sqrt{P}` while the mean excess
  return is annualised by :math:`P` -- both exactly as empyrical.
* **Drawdown** is measured on wealth compounding from 1 before the first bar, so a loss on
  the first bar is a drawdown (empyrical starts at 100; same ratios).

Deliberate differences from empyrical:

* Too little data raises :class:`~qlib.errors.InsufficientDataError` with had/needed
  counts, and undefined ratios (zero dispersion, no downside, no drawdown, zero lower
  tail) raise it too, instead of returning NaN or inf.
* NaN or inf in the input raises :class:`~qlib.errors.DataQualityError` naming the row;
  empyrical silently skips NaN.
* Only 1-D input (Series or ndarray); no DataFrame broadcasting.

References
----------
.. [1] empyrical-reloaded 0.7.1, ``empyrical/stats.py``, https://github.com/stefan-jansen/empyrical-reloaded
.. [2] Sharpe, W. F. (1994). The Sharpe ratio. Journal of Portfolio Management, 21(1), 49-58.
.. [3] Sortino, F. A., and Price, L. N. (1994). Performance measurement in a downside risk
   framework. Journal of Investing, 3(3), 59-64.
.. [4] Young, T. W. (1991). Calmar ratio: a smoother tool. Futures, 20(1), 40.
.. [5] Keating, C., and Shadwick, W. F. (2002). A universal performance measure.
   Journal of Performance Measurement, 6(3), 59-84.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError
from qlib.risk import _metrics_kernels as _k
from qlib.risk._frequency import Calendar, resolve_periods
from qlib.risk._metrics_inputs import as_float_1d, finite_scalar, require_finite

__all__ = [
    "annual_return",
    "calmar_ratio",
    "downside_risk",
    "hit_rate",
    "max_drawdown",
    "max_drawdown_duration",
    "omega_ratio",
    "sharpe_ratio",
    "sortino_ratio",
    "tail_ratio",
    "turnover",
]

Returns = pd.Series | npt.ArrayLike


def _checked(x: np.ndarray, result: float) -> None:
    """Full finiteness check of ``x``, run only when a NaN-propagating result is not finite."""
    if not np.isfinite(result):
        require_finite(x, "returns")


def sharpe_ratio(
    returns: Returns,
    risk_free: float = 0.0,
    *,
    periods_per_year: float | None = None,
    calendar: Calendar = "equity",
) -> float:
    r"""Return the annualised Sharpe ratio.

    Parameters
    ----------
    returns
        Simple per-bar returns (at least 2).
    risk_free
        Per-bar risk-free return subtracted from every bar.
    periods_per_year
        Bars per year :math:`P`; inferred from a DatetimeIndex when None.
    calendar
        Convention used for the inference ("equity" or "crypto").

    Returns
    -------
    float

    Raises
    ------
    InsufficientDataError
        Fewer than 2 returns, or zero dispersion.
    DataQualityError
        A non-finite return.
    ParameterError
        No way to know :math:`P`.

    Notes
    -----
    .. math:: SR = \frac{\overline{r - r_f}}{s(r - r_f)} \sqrt{P},
              \quad s^2 = \frac{1}{n-1}\sum_t (x_t - \bar x)^2

    References
    ----------
    .. [1] Sharpe, W. F. (1994). The Sharpe ratio. Journal of Portfolio Management, 21(1).

    Examples
    --------
    >>> round(sharpe_ratio([0.01, -0.005, 0.002, 0.004], periods_per_year=252), 4)
    7.0586
    """
    x = as_float_1d(returns, "returns", 2, check_finite=False)
    p = resolve_periods(returns, periods_per_year, calendar)
    m, s = _k.mean_std(x, finite_scalar(risk_free, "risk_free"))
    _checked(x, m + s)
    if not s > 0.0:
        raise InsufficientDataError("sharpe_ratio: returns had zero dispersion, needed at least "
                                    "2 distinct values")
    return float(m / s * np.sqrt(p))


def downside_risk(
    returns: Returns,
    required_return: float = 0.0,
    *,
    periods_per_year: float | None = None,
    calendar: Calendar = "equity",
) -> float:
    r"""Return the annualised downside deviation below ``required_return`` (per bar).

    Notes
    -----
    .. math:: DD = \sqrt{\tfrac{1}{n}\textstyle\sum_t \min(r_t - \tau, 0)^2}\,\sqrt{P}

    Parameters, Raises: as :func:`sortino_ratio` (needs at least 1 return).
    """
    x = as_float_1d(returns, "returns", 1, check_finite=False)
    p = resolve_periods(returns, periods_per_year, calendar)
    m, d = _k.mean_downside(x, finite_scalar(required_return, "required_return"))
    _checked(x, m + d)
    return float(d * np.sqrt(p))


def sortino_ratio(
    returns: Returns,
    required_return: float = 0.0,
    *,
    periods_per_year: float | None = None,
    calendar: Calendar = "equity",
) -> float:
    r"""Return the annualised Sortino ratio.

    Parameters
    ----------
    returns
        Simple per-bar returns (at least 2).
    required_return
        Per-bar target return :math:`\tau`.
    periods_per_year, calendar
        As :func:`sharpe_ratio`.

    Raises
    ------
    InsufficientDataError
        Fewer than 2 returns, or no return below the target (zero downside deviation).

    Notes
    -----
    The mean excess return is annualised by :math:`P`, the downside deviation (ddof 0 over
    all :math:`n` bars) by :math:`\sqrt{P}`, as empyrical:

    .. math:: SO = \frac{P\,\overline{r - \tau}}
              {\sqrt{P}\sqrt{\tfrac{1}{n}\sum_t \min(r_t - \tau, 0)^2}}

    References
    ----------
    .. [1] Sortino, F. A., and Price, L. N. (1994). Performance measurement in a downside
       risk framework. Journal of Investing, 3(3), 59-64.
    """
    x = as_float_1d(returns, "returns", 2, check_finite=False)
    p = resolve_periods(returns, periods_per_year, calendar)
    m, d = _k.mean_downside(x, finite_scalar(required_return, "required_return"))
    _checked(x, m + d)
    if not d > 0.0:
        raise InsufficientDataError("sortino_ratio: had 0 returns below required_return "
                                    "(or shortfalls so small their squares underflow), "
                                    "needed at least 1")
    return float(m * p / (d * np.sqrt(p)))


def annual_return(
    returns: Returns, *, periods_per_year: float | None = None, calendar: Calendar = "equity"
) -> float:
    r"""Return the compound annual growth rate, :math:`(\prod_t (1 + r_t))^{P/n} - 1`."""
    x = as_float_1d(returns, "returns", 1, check_finite=False)
    p = resolve_periods(returns, periods_per_year, calendar)
    g = _k.growth(x)
    _checked(x, g)
    return float(g ** (p / x.shape[0]) - 1.0)


def max_drawdown(returns: Returns) -> float:
    r"""Return the maximum drawdown as a non-positive fraction (e.g. -0.25 for 25 %).

    Notes
    -----
    .. math:: W_t = \prod_{s \le t}(1 + r_s),\ W_{-1} = 1, \quad
              MDD = \min_t \frac{W_t - \max_{s \le t} W_s}{\max_{s \le t} W_s}

    Raises
    ------
    InsufficientDataError
        Empty input.
    """
    x = as_float_1d(returns, "returns", 1)
    return float(_k.drawdown_stats(x)[0])


def max_drawdown_duration(returns: Returns) -> int | pd.Timedelta:
    """Return the longest time spent below a previous high-water mark.

    Counted in bars for an ndarray (or a Series without a DatetimeIndex); for a Series with
    a DatetimeIndex, the Timedelta from the last bar at the high-water mark to the first
    bar back at (or above) it, or to the last bar when the drawdown has not recovered.
    A drawdown starting on bar 0 is measured from the first timestamp. Zero when the
    series never falls below its high-water mark.
    """
    x = as_float_1d(returns, "returns", 1)
    _, _, _, dur, start = _k.drawdown_stats(x)
    idx = getattr(returns, "index", None)
    if not isinstance(idx, pd.DatetimeIndex):
        return int(dur)
    if dur == 0:
        return pd.Timedelta(0)
    begin = idx[max(start - 1, 0)]
    end = idx[min(start + dur, len(idx) - 1)]
    return end - begin


def calmar_ratio(
    returns: Returns, *, periods_per_year: float | None = None, calendar: Calendar = "equity"
) -> float:
    r"""Return the Calmar ratio, annual return over the absolute maximum drawdown.

    .. math:: CR = \frac{(\prod_t(1 + r_t))^{P/n} - 1}{|MDD|}

    Raises InsufficientDataError when the series has no drawdown (empyrical: NaN).
    """
    x = as_float_1d(returns, "returns", 1)
    p = resolve_periods(returns, periods_per_year, calendar)
    mdd = _k.drawdown_stats(x)[0]
    if not mdd < 0.0:
        raise InsufficientDataError("calmar_ratio: had 0 drawdowns, needed at least 1")
    return float((_k.growth(x) ** (p / x.shape[0]) - 1.0) / abs(mdd))


def omega_ratio(
    returns: Returns,
    risk_free: float = 0.0,
    required_return: float = 0.0,
    *,
    periods_per_year: float | None = None,
    calendar: Calendar = "equity",
) -> float:
    r"""Return the Omega ratio of per-bar returns against an annual ``required_return``.

    Notes
    -----
    The annual target is de-annualised, :math:`\tau = (1 + R)^{1/P} - 1` (:math:`\tau = R`
    when :math:`P = 1`), then with :math:`x_t = r_t - r_f - \tau`

    .. math:: \Omega = \frac{\sum_t \max(x_t, 0)}{\sum_t \max(-x_t, 0)}

    :math:`P` is only needed when ``required_return`` is non-zero.

    Raises
    ------
    InsufficientDataError
        Fewer than 2 returns, or none below the threshold.
    ParameterError
        ``required_return <= -1``.
    """
    x = as_float_1d(returns, "returns", 2, check_finite=False)
    req = finite_scalar(required_return, "required_return")
    if req <= -1.0:
        raise ParameterError(f"required_return must be > -1, was {required_return!r}")
    if req == 0.0:
        thr = 0.0
    else:
        p = resolve_periods(returns, periods_per_year, calendar)
        thr = req if p == 1 else (1.0 + req) ** (1.0 / p) - 1.0
    g, lo = _k.gain_loss(x, finite_scalar(risk_free, "risk_free") + thr)
    _checked(x, g + lo)
    if not lo > 0.0:
        raise InsufficientDataError("omega_ratio: had 0 returns below the threshold, needed 1")
    return float(g / lo)


def tail_ratio(returns: Returns) -> float:
    r"""Return :math:`|q_{0.95}| / |q_{0.05}|`, quantiles by linear interpolation (numpy's).

    Raises InsufficientDataError for empty input or a zero 5th percentile.
    """
    x = as_float_1d(returns, "returns", 1)
    lo, hi = _k.two_quantiles(x, 0.05, 0.95)  # one selection pass for both
    if lo == 0.0:
        raise InsufficientDataError("tail_ratio: the 5th percentile was 0, needed a loss tail")
    return float(abs(hi) / abs(lo))


def hit_rate(returns: Returns) -> float:
    r"""Return the fraction of winning bars among bars that moved: :math:`\#\{r>0\}/\#\{r\ne0\}`.

    Flat bars (exactly zero P&L, e.g. no position) are left out. Raises
    InsufficientDataError when no bar is non-zero.
    """
    x = as_float_1d(returns, "returns", 1)
    pos, nz = _k.hit_counts(x)
    if nz == 0:
        raise InsufficientDataError("hit_rate: had 0 non-zero returns, needed at least 1")
    return pos / nz


def turnover(
    positions: Returns,
    *,
    per: Literal["period", "year"] = "period",
    periods_per_year: float | None = None,
    calendar: Calendar = "equity",
) -> float:
    r"""Return the mean absolute change of position per bar (or per year).

    Parameters
    ----------
    positions
        Position per bar, as a fraction of equity (weights) or in units; the position
        before the first bar is taken to be flat, so the opening trade counts.
    per
        ``"period"`` for the mean per bar, ``"year"`` to multiply by :math:`P`.

    Notes
    -----
    .. math:: TO = \frac{1}{n}\sum_{t=0}^{n-1} |w_t - w_{t-1}|,\ w_{-1} = 0

    (times :math:`P` when ``per="year"``).
    """
    w = as_float_1d(positions, "positions", 1)
    if per not in ("period", "year"):
        raise ParameterError(f"per must be 'period' or 'year', was {per!r}")
    to = _k.abs_change_sum(w) / w.shape[0]
    if per == "year":
        to *= resolve_periods(positions, periods_per_year, calendar)
    return float(to)
