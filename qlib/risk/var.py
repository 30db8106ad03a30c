r"""Value at Risk and expected shortfall, and VaR backtests (Kupiec, Christoffersen).

Sign convention: VaR and ES are reported as **positive losses** (fractions of value):
``value_at_risk(r, 0.99) == 0.023`` means a 1-in-100 loss of at least 2.3 %. They equal
minus empyrical's ``value_at_risk`` and ``conditional_value_at_risk`` (which return the
return quantile) for the historical method, with ``cutoff = 1 - confidence``.

Methods (``method=``):

``"historical"``
    Empirical quantile of the (overlapping, compounded) ``horizon``-bar returns, linear
    interpolation (numpy's default). ES is the mean of the ``k + 1`` smallest, with
    :math:`k = \lfloor (n-1)(1-\alpha) \rfloor` (empyrical's estimator).
``"normal"``
    Gaussian with sample mean and sample std (ddof 1), scaled by :math:`h` and
    :math:`\sqrt h`.
``"cornish_fisher"``
    The normal quantile corrected for sample skewness :math:`S` and excess kurtosis
    :math:`K` (population moments), with :math:`S_h = S/\sqrt h`, :math:`K_h = K/h`
    (iid aggregation). ES integrates the Cornish-Fisher quantile over the tail numerically
    (midpoint rule, 2 000 nodes). The expansion is only a valid quantile function while it
    is monotone (moderate :math:`S, K`).
``"monte_carlo"``
    ``n_sims`` seeded Gaussian paths of ``horizon`` steps (sample mean and std),
    compounded; quantile and tail mean as for historical.
``"fhs_ewma"``, ``"fhs_garch"``
    Filtered historical simulation [4]_: returns are standardised by an EWMA
    (RiskMetrics, zero mean, ``ewma_lambda``) or a GARCH(1,1) (constant mean, normal QMLE
    from the ``arch`` package) volatility; the next bar's volatility forecast rescales the
    empirical standardised residuals. For ``horizon > 1``, ``n_sims`` seeded bootstrap
    paths propagate the volatility recursion step by step.

References
----------
.. [1] Jorion, P. (2007). Value at Risk, 3rd ed. McGraw-Hill.
.. [2] Kupiec, P. (1995). Techniques for verifying the accuracy of risk measurement
   models. Journal of Derivatives, 3(2), 73-84.
.. [3] Christoffersen, P. (1998). Evaluating interval forecasts. International Economic
   Review, 39(4), 841-862.
.. [4] Barone-Adesi, G., Giannopoulos, K., and Vosper, L. (1999). VaR without
   correlations for portfolios of derivative securities. Journal of Futures Markets,
   19(5), 583-602.
.. [5] Zangari, P. (1996). A VaR methodology for portfolios that include options.
   RiskMetrics Monitor, Q1, 4-12 (the Cornish-Fisher VaR).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.special import xlogy

from qlib.errors import EngineError, InsufficientDataError, ParameterError, SchemaError
from qlib.risk import _metrics_kernels as _k
from qlib.risk._metrics_inputs import as_float_1d, finite_scalar, positive_int, require_finite
from qlib.risk._metrics_inputs import confidence as _confidence

__all__ = [
    "VaRBacktest",
    "VaREstimate",
    "backtest_var",
    "christoffersen_independence",
    "expected_shortfall",
    "kupiec_pof",
    "value_at_risk",
    "var_estimate",
]

Method = Literal["historical", "normal", "cornish_fisher", "monte_carlo", "fhs_ewma", "fhs_garch"]
METHODS: tuple[str, ...] = ("historical", "normal", "cornish_fisher", "monte_carlo",
                            "fhs_ewma", "fhs_garch")
#: Fewest returns each method accepts (GARCH needs enough bars for a stable fit).
MIN_OBS: dict[str, int] = {"historical": 1, "normal": 2, "cornish_fisher": 4, "monte_carlo": 2,
                           "fhs_ewma": 2, "fhs_garch": 100}


@dataclass(frozen=True)
class VaREstimate:
    """VaR and ES of one method, as positive loss fractions over ``horizon`` bars."""

    var: float
    es: float
    method: str
    confidence: float
    horizon: int


def _tail(sample: np.ndarray, conf: float, returns: bool = False) -> tuple[float, float]:
    """(VaR, ES) as positive losses from a sample of horizon returns (one selection).

    ``returns=True``: ``sample`` is the unchecked input, whose finiteness is checked here.
    """
    cut = 1.0 - conf
    h = (sample.shape[0] - 1) * cut
    k = int(h)
    v0, v1, s, total = _k.lower_tail_stats(sample, k)  # selects only the lower tail
    if not np.isfinite(total):  # the finiteness check, fused into the selection pass
        if returns:
            require_finite(sample, "returns")
        v0, v1, s = _k.order_stats(sample, k)
    return -float(v0 + (v1 - v0) * (h - k)), -float(s / (k + 1))


def _cf_quantile(p: np.ndarray | float, s: float, k: float) -> np.ndarray:
    z = stats.norm.ppf(p)
    return (z + (z**2 - 1) * s / 6 + (z**3 - 3 * z) * k / 24 - (2 * z**3 - 5 * z) * s**2 / 36)


def _horizon_returns(x: np.ndarray, h: int) -> np.ndarray:
    if h == 1:
        return x
    w = np.concatenate(([0.0], np.cumsum(np.log1p(x))))
    return np.expm1(w[h:] - w[:-h])


def _garch(x: np.ndarray) -> tuple[np.ndarray, float, float, float, float, float]:
    """Fit GARCH(1,1); return std residuals, next sigma, mu, omega, alpha, beta (unit of x)."""
    from arch import arch_model

    am = arch_model(x, mean="Constant", vol="GARCH", p=1, q=1, dist="normal", rescale=True)
    res = am.fit(disp="off")  # arch's ConvergenceWarning, if any, reaches the caller
    if res.convergence_flag != 0:
        raise EngineError(f"fhs_garch: the GARCH(1,1) fit did not converge "
                          f"(optimizer flag was {res.convergence_flag})")
    sc = float(res.scale)
    prm = res.params
    z = np.asarray(res.std_resid, dtype=np.float64)
    sig_next = float(np.sqrt(res.forecast(horizon=1, reindex=False).variance.iloc[-1, 0])) / sc
    return (np.ascontiguousarray(z), sig_next, float(prm["mu"]) / sc,
            float(prm["omega"]) / sc**2, float(prm["alpha[1]"]), float(prm["beta[1]"]))


def var_estimate(
    returns: pd.Series | npt.ArrayLike,
    confidence: float = 0.99,
    *,
    method: Method = "historical",
    horizon: int = 1,
    n_sims: int = 100_000,
    seed: int = 0,
    ewma_lambda: float = 0.94,
) -> VaREstimate:
    r"""Estimate VaR and expected shortfall of simple per-bar returns.

    Parameters
    ----------
    returns
        Simple per-bar returns, oldest first.
    confidence
        Confidence level :math:`\alpha \in (0, 1)`, e.g. 0.99.
    method
        One of ``historical, normal, cornish_fisher, monte_carlo, fhs_ewma, fhs_garch``.
    horizon
        Horizon :math:`h` in bars.
    n_sims
        Simulated paths (``monte_carlo``; ``fhs_*`` with ``horizon > 1``).
    seed
        Seed of the numba generator; equal inputs give bit-identical results.
    ewma_lambda
        RiskMetrics decay :math:`\lambda \in (0, 1)` for ``fhs_ewma``.

    Returns
    -------
    VaREstimate

    Raises
    ------
    InsufficientDataError
        Fewer returns than :data:`MIN_OBS` of the method (historical: ``horizon``).
    ParameterError
        Unknown method, or a parameter out of range.
    DataQualityError
        A non-finite return (named by row).
    EngineError
        ``fhs_garch`` only: the GARCH fit did not converge.

    Notes
    -----
    With :math:`z_p = \Phi^{-1}(p)` and :math:`p = 1 - \alpha`:

    .. math::
        \mathrm{VaR}^{N} = -(h\mu + z_p\sqrt h\sigma), \quad
        \mathrm{ES}^{N} = -(h\mu - \sqrt h\sigma\,\varphi(z_p)/p)

    .. math::
        z^{CF}_p = z_p + \tfrac{(z_p^2-1)S}{6} + \tfrac{(z_p^3-3z_p)K}{24}
                   - \tfrac{(2z_p^3-5z_p)S^2}{36}

    EWMA: :math:`\sigma^2_{t+1} = \lambda\sigma^2_t + (1-\lambda)r_t^2`, started at the
    sample variance; FHS one bar ahead: :math:`\mathrm{VaR} = -\hat\mu - \hat\sigma_{n}
    q_p(\hat z)`.

    Examples
    --------
    >>> import numpy as np
    >>> r = np.random.default_rng(0).normal(0, 0.01, 2_000)
    >>> e = var_estimate(r, 0.99, method="normal")
    >>> round(e.var, 4), round(e.es, 4)
    (0.0236, 0.0269)
    """
    if method not in METHODS:
        raise ParameterError(f"method must be one of {METHODS}, was {method!r}")
    conf = _confidence(confidence)
    h = positive_int(horizon, "horizon")
    need = max(MIN_OBS[method], h if method == "historical" else 0)
    # historical, one bar: _tail checks finiteness in its selection pass
    x = as_float_1d(returns, "returns", need, check_finite=not (method == "historical" and h == 1))
    p = 1.0 - conf
    if method == "historical":
        v, e = _tail(_horizon_returns(x, h), conf, returns=h == 1)
    elif method in ("normal", "cornish_fisher"):
        mu, sd = _k.mean_std(x, 0.0)
        mu_h, sd_h = h * mu, np.sqrt(h) * sd
        if method == "normal":
            z = stats.norm.ppf(p)
            v = -(mu_h + z * sd_h)
            e = -(mu_h - sd_h * stats.norm.pdf(z) / p)
        else:
            s = float(stats.skew(x, bias=True)) / np.sqrt(h)
            k = float(stats.kurtosis(x, fisher=True, bias=True)) / h
            v = -(mu_h + float(_cf_quantile(p, s, k)) * sd_h)
            nodes = (np.arange(2000) + 0.5) / 2000 * p
            e = -(mu_h + float(np.mean(_cf_quantile(nodes, s, k))) * sd_h)
    elif method == "monte_carlo":
        sims = positive_int(n_sims, "n_sims")
        mu, sd = _k.mean_std(x, 0.0)
        v, e = _tail(_k.simulate_normal_paths(mu, sd, h, sims, int(seed)), conf)
    else:
        if method == "fhs_ewma":
            lam = finite_scalar(ewma_lambda, "ewma_lambda")
            if not 0.0 < lam < 1.0:
                raise ParameterError(f"ewma_lambda must be in (0, 1), was {ewma_lambda!r}")
            var0 = float(np.mean(x * x))
            if not var0 > 0.0:
                raise InsufficientDataError("fhs_ewma: returns were all zero, needed a non-zero")
            path = _k.ewma_variance(x, lam, var0)
            z = x / np.sqrt(path[:-1])
            sig, mu, om, al, be = float(np.sqrt(path[-1])), 0.0, 0.0, 1.0 - lam, lam
        else:
            z, sig, mu, om, al, be = _garch(x)
        if h == 1:
            v, e = _tail(mu + sig * z, conf)
        else:
            sims = positive_int(n_sims, "n_sims")
            v, e = _tail(_k.bootstrap_fhs_paths(z, sig, mu, om, al, be, h, sims, int(seed)), conf)
    return VaREstimate(float(v), float(e), method, conf, h)


def value_at_risk(returns: pd.Series | npt.ArrayLike, confidence: float = 0.99,
                  **kwargs: object) -> float:
    """Return VaR as a positive loss; keyword arguments as :func:`var_estimate`.

    Examples
    --------
    >>> round(value_at_risk([-0.03, -0.01, 0.0, 0.01, 0.02], 0.8), 4)
    0.014
    """
    return var_estimate(returns, confidence, **kwargs).var  # type: ignore[arg-type]


def expected_shortfall(returns: pd.Series | npt.ArrayLike, confidence: float = 0.99,
                       **kwargs: object) -> float:
    """Return expected shortfall (CVaR) as a positive loss; arguments as :func:`var_estimate`."""
    return var_estimate(returns, confidence, **kwargs).es  # type: ignore[arg-type]


# --------------------------------------------------------------------------- backtests


@dataclass(frozen=True)
class VaRBacktest:
    """Exceptions of a VaR forecast series and the Kupiec / Christoffersen tests.

    ``pof_*`` is Kupiec's proportion of failures (chi2, 1 dof), ``ind_*`` Christoffersen's
    independence test (chi2, 1 dof), ``cc_*`` their sum, conditional coverage (chi2, 2 dof).
    """

    n: int
    exceptions: int
    expected_exceptions: float
    exception_rate: float
    pof_statistic: float
    pof_pvalue: float
    ind_statistic: float
    ind_pvalue: float
    cc_statistic: float
    cc_pvalue: float


def _hits(exceptions: object) -> np.ndarray:
    a = exceptions.to_numpy() if isinstance(exceptions, pd.Series) else np.asarray(exceptions)
    if a.ndim != 1:
        raise SchemaError(f"exceptions must be 1-D, was {a.ndim}-D")
    if a.dtype.kind not in "biuf" or not np.isin(a, (0, 1)).all():
        raise SchemaError("exceptions must hold only 0/1 (or bool) values")
    return np.ascontiguousarray(a, dtype=np.int8)


def kupiec_pof(exceptions: npt.ArrayLike | pd.Series, confidence: float) -> tuple[float, float]:
    r"""Return Kupiec's proportion-of-failures LR statistic and p-value.

    Notes
    -----
    With :math:`x` exceptions in :math:`n` bars, :math:`p = 1 - \alpha`,
    :math:`\hat p = x/n`:

    .. math:: LR_{POF} = -2\ln\frac{(1-p)^{n-x}p^x}{(1-\hat p)^{n-x}\hat p^x}
              \sim \chi^2_1

    References
    ----------
    .. [1] Kupiec, P. (1995). Journal of Derivatives, 3(2), 73-84.
    """
    hits = _hits(exceptions)
    n = hits.shape[0]
    if n < 1:
        raise InsufficientDataError("kupiec_pof had 0 observations, needed at least 1")
    p = 1.0 - _confidence(confidence)
    x = int(hits.sum())
    ph = x / n
    ll0 = xlogy(n - x, 1 - p) + xlogy(x, p)
    ll1 = xlogy(n - x, 1 - ph) + xlogy(x, ph)
    lr = max(-2.0 * (ll0 - ll1), 0.0)
    return float(lr), float(stats.chi2.sf(lr, 1))


def christoffersen_independence(exceptions: npt.ArrayLike | pd.Series) -> tuple[float, float]:
    r"""Return Christoffersen's independence LR statistic and p-value.

    Notes
    -----
    With :math:`n_{ij}` the count of a state :math:`i` bar followed by a state :math:`j`
    bar (1 = exception), :math:`\pi_{01} = n_{01}/(n_{00}+n_{01})`,
    :math:`\pi_{11} = n_{11}/(n_{10}+n_{11})`, :math:`\pi = (n_{01}+n_{11})/\sum n_{ij}`:

    .. math:: LR_{ind} = -2\ln\frac{(1-\pi)^{n_{00}+n_{10}}\pi^{n_{01}+n_{11}}}
              {(1-\pi_{01})^{n_{00}}\pi_{01}^{n_{01}}(1-\pi_{11})^{n_{10}}\pi_{11}^{n_{11}}}
              \sim \chi^2_1

    (:math:`0 \ln 0 = 0`.)

    References
    ----------
    .. [1] Christoffersen, P. (1998). International Economic Review, 39(4), 841-862.
    """
    hits = _hits(exceptions)
    if hits.shape[0] < 2:
        raise InsufficientDataError(
            f"christoffersen_independence had {hits.shape[0]} observations, needed at least 2")
    n00, n01, n10, n11 = _k.violation_transitions(hits)
    pi01 = n01 / (n00 + n01) if n00 + n01 else 0.0
    pi11 = n11 / (n10 + n11) if n10 + n11 else 0.0
    pi = (n01 + n11) / (n00 + n01 + n10 + n11)
    ll0 = xlogy(n00 + n10, 1 - pi) + xlogy(n01 + n11, pi)
    ll1 = xlogy(n00, 1 - pi01) + xlogy(n01, pi01) + xlogy(n10, 1 - pi11) + xlogy(n11, pi11)
    lr = max(-2.0 * (ll0 - ll1), 0.0)
    return float(lr), float(stats.chi2.sf(lr, 1))


def backtest_var(
    returns: pd.Series | npt.ArrayLike,
    var: float | pd.Series | npt.ArrayLike,
    confidence: float,
) -> VaRBacktest:
    """Count exceptions (``returns[t] < -var[t]``) and run Kupiec's and Christoffersen's tests.

    ``var`` is the positive-loss VaR forecast made *before* each bar (a scalar or one per
    bar, aligned by position with ``returns``).
    """
    r = as_float_1d(returns, "returns", 2)
    if np.ndim(var) == 0:
        v = np.full(r.shape[0], finite_scalar(var, "var"))
    else:
        v = as_float_1d(var, "var", 1)
        if v.shape[0] != r.shape[0]:
            raise SchemaError(f"var had {v.shape[0]} values, returns had {r.shape[0]}")
    hits = (r < -v).astype(np.int8)
    conf = _confidence(confidence)
    pof, pof_p = kupiec_pof(hits, conf)
    ind, ind_p = christoffersen_independence(hits)
    x = int(hits.sum())
    n = r.shape[0]
    return VaRBacktest(n, x, n * (1 - conf), x / n, pof, pof_p, ind, ind_p, pof + ind,
                       float(stats.chi2.sf(pof + ind, 2)))
