r"""Ordinary least squares with HAC standard errors, and its frozen result.

Shared by :func:`qlib.signals.ofi_regression` and :func:`qlib.signals.kyle_lambda`:
one slope on one regressor with an intercept, fitted by statsmodels so that
``result.summary()`` is the familiar table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError

__all__ = ["RegressionResult", "fit_ols", "newey_west_lags"]


@dataclass(frozen=True)
class RegressionResult:
    """The slope of ``y = alpha + beta x + eps`` with its inference.

    Attributes
    ----------
    coefficient : float
        The slope :math:`\\hat\\beta`.
    intercept : float
        :math:`\\hat\\alpha`.
    stderr, tvalue, pvalue : float
        Standard error, t-statistic and two-sided p-value of the slope under the
        covariance estimator ``cov_type`` (HAC by default).
    ci : tuple of float
        ``(low, high)`` confidence interval of the slope at level ``1 - alpha``.
    rsquared : float
        :math:`R^2` of the fit.
    nobs : int
        Number of intervals in the regression.
    cov_type : str
        ``"HAC"`` (Newey-West, with ``maxlags``) or ``"nonrobust"``.
    maxlags : int
        Lags of the HAC estimator (0 when not HAC).
    data : pandas.DataFrame
        The aggregated inputs, columns ``x`` and ``y``, indexed by interval.
    result
        The statsmodels ``RegressionResults``; ``result.summary()`` prints the table.
    """

    coefficient: float
    intercept: float
    stderr: float
    tvalue: float
    pvalue: float
    ci: tuple[float, float]
    rsquared: float
    nobs: int
    cov_type: str
    maxlags: int
    data: pd.DataFrame = field(repr=False)
    result: Any = field(repr=False)

    def summary(self) -> Any:
        """Return the statsmodels summary table."""
        return self.result.summary()


def newey_west_lags(n: int) -> int:
    r"""Return the Newey-West (1994) rule-of-thumb lag :math:`\lfloor 4 (n/100)^{2/9} \rfloor`."""
    return math.floor(4.0 * (n / 100.0) ** (2.0 / 9.0))


def fit_ols(x: np.ndarray, y: np.ndarray, index: pd.Index, *, hac: bool = True,
            maxlags: int | None = None, alpha: float = 0.05, min_nobs: int = 3,
            what: str = "intervals") -> RegressionResult:
    """Fit ``y = alpha + beta x`` by OLS with statsmodels; see :class:`RegressionResult`.

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_nobs`` observations, or ``x`` constant (slope not identified).
    """
    import statsmodels.api as sm

    if not 0.0 < alpha < 1.0:
        raise ParameterError(f"alpha must be in (0, 1), was {alpha!r}")
    n = len(y)
    need = max(int(min_nobs), 3)
    if n < need:
        raise InsufficientDataError(f"regression had {n} {what}, needed at least {need}")
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    distinct = len(np.unique(x))
    if distinct < 2:
        raise InsufficientDataError(f"regressor x took {distinct} distinct value(s) over "
                                    f"{n} {what}, needed at least 2")
    X = sm.add_constant(x, has_constant="add")
    if hac:
        lags = newey_west_lags(n) if maxlags is None else int(maxlags)
        if lags < 0:
            raise ParameterError(f"maxlags must be >= 0, was {maxlags!r}")
        res = sm.OLS(y, X).fit(cov_type="HAC", cov_kwds={"maxlags": lags})
        cov_type = "HAC"
    else:
        lags = 0
        res = sm.OLS(y, X).fit()
        cov_type = "nonrobust"
    ci = res.conf_int(alpha=alpha)
    return RegressionResult(
        coefficient=float(res.params[1]), intercept=float(res.params[0]),
        stderr=float(res.bse[1]), tvalue=float(res.tvalues[1]), pvalue=float(res.pvalues[1]),
        ci=(float(ci[1, 0]), float(ci[1, 1])), rsquared=float(res.rsquared), nobs=n,
        cov_type=cov_type, maxlags=lags,
        data=pd.DataFrame({"x": x, "y": y}, index=index), result=res)
