r"""PIN: the probability of informed trading of Easley, Kiefer, O'Hara and Paperman.

Each period (a day, or an intraday interval) is a no-news period with probability
:math:`1-\alpha`, bad news with probability :math:`\alpha\delta`, good news with
:math:`\alpha(1-\delta)`. Uninformed buys and sells arrive as Poisson processes with
rates :math:`\epsilon_b`, :math:`\epsilon_s`; informed traders add rate :math:`\mu` to
the sells on bad news and to the buys on good news [1]_. :func:`pin` fits the five
parameters by maximum likelihood from buy and sell counts.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import gammaln

from qlib.errors import InsufficientDataError, ParameterError, SchemaError
from qlib.signals import _pin_kernels as _pk
from qlib.signals._grid import time_grid
from qlib.signals._inputs import tape_of

__all__ = ["PINResult", "pin", "pin_counts", "pin_loglik", "simulate_pin_counts"]

PARAMS = ("alpha", "delta", "mu", "eps_b", "eps_s")
#: Fewest periods :func:`pin` fits on (five parameters, a three-state mixture).
MIN_PERIODS = 10
_GRID = (0.1, 0.5, 0.9)


@dataclass
class PINResult:
    """What :func:`pin` returns.

    Attributes
    ----------
    alpha, delta, mu, eps_b, eps_s
        Maximum-likelihood estimates (rates per period).
    pin
        :math:`\\alpha\\mu / (\\alpha\\mu + \\epsilon_b + \\epsilon_s)`.
    se
        Standard errors of the five parameters and of ``pin`` (inverse Hessian of the
        log-likelihood, delta method for PIN); empty when the Hessian at the optimum
        is not positive definite (an estimate on the boundary, e.g.
        :math:`\\alpha \\to 0`), with the reason in ``se_note``.
    loglik
        Maximised log-likelihood (factorials included).
    n_periods
        Number of periods fitted.
    n_starts, n_converged
        Starting points tried and optimiser runs that converged.
    freq
        The interval of the counts when they were made from a tape, else ``""``.
    """

    alpha: float
    delta: float
    mu: float
    eps_b: float
    eps_s: float
    pin: float
    loglik: float
    n_periods: int
    n_starts: int
    n_converged: int
    se: dict[str, float] = field(default_factory=dict)
    se_note: str = ""
    freq: str = ""

    def params(self) -> dict[str, float]:
        """The five parameters as a dict."""
        return {p: getattr(self, p) for p in PARAMS}

    def to_frame(self) -> pd.DataFrame:
        """Estimates and standard errors, one row per parameter and PIN."""
        names = [*PARAMS, "pin"]
        cols = {"estimate": [getattr(self, p) for p in names]}
        if self.se:
            cols["std_err"] = [self.se[p] for p in names]
        return pd.DataFrame(cols, index=pd.Index(names, name="parameter"))

    def _repr_html_(self) -> str:
        head = (f"<p><b>PIN (EKOP 1996)</b>: {self.n_periods} periods"
                f"{' of ' + self.freq if self.freq else ''}, log-likelihood "
                f"{self.loglik:.2f}, {self.n_converged}/{self.n_starts} starts converged"
                f"{'; ' + self.se_note if self.se_note else ''}</p>")
        return head + self.to_frame().to_html(float_format=lambda x: f"{x:.4g}", na_rep="")

    def __repr__(self) -> str:
        return (f"PINResult(pin={self.pin:.4f}, alpha={self.alpha:.4f}, delta={self.delta:.4f},"
                f" mu={self.mu:.4g}, eps_b={self.eps_b:.4g}, eps_s={self.eps_s:.4g},"
                f" n_periods={self.n_periods})")


def pin_counts(trades: pd.DataFrame, freq: object = "5min", *, edges: str = "drop"
               ) -> pd.DataFrame:
    """Count buyer- and seller-initiated trades per interval of a tape.

    Parameters
    ----------
    trades
        Tape with ``ts_exch`` and ``side`` (aggressor; rows with side 0 are ignored).
    freq
        Interval (a fixed pandas offset: ``"5min"``, ``"1D"``).
    edges
        ``"drop"`` (default): leave out the first and the last interval, which the
        session's start and end usually cut short (their low counts would look like
        a regime of their own); ``"keep"``: keep them.

    Returns
    -------
    pandas.DataFrame
        ``buys``, ``sells`` (int64), indexed by the interval's left edge; every
        interval between the first and the last trade, empty ones included (zero).

    Raises
    ------
    InsufficientDataError
        If no trade has a known side.
    """
    t = tape_of(trades, need_side=True)
    known = t.side != 0
    if not known.any():
        raise InsufficientDataError(f"trades had {len(t)} rows, 0 with a known aggressor side, "
                                    "needed at least 1")
    if edges not in ("drop", "keep"):
        raise ParameterError(f"edges must be 'drop' or 'keep', was {edges!r}")
    ts, side = t.ts[known], t.side[known]
    g = time_grid(ts, freq)
    buys = np.bincount(g.bins[side > 0], minlength=g.n_bins)
    sells = np.bincount(g.bins[side < 0], minlength=g.n_bins)
    out = pd.DataFrame({"buys": buys.astype(np.int64), "sells": sells.astype(np.int64)},
                       index=g.labels)
    return out.iloc[1:-1] if edges == "drop" else out


def _log_terms(theta: np.ndarray, b: np.ndarray, s: np.ndarray, cb: np.ndarray,
               cs: np.ndarray) -> np.ndarray:
    """Log of the three mixture components per period, shape (3, n)."""
    alpha, delta, mu, eb, es = theta
    lb, ls = math.log(eb), math.log(es)
    lbm, lsm = math.log(mu + eb), math.log(mu + es)
    base_b = b * lb - eb - cb
    base_s = s * ls - es - cs
    with np.errstate(divide="ignore"):
        la = (math.log1p(-alpha) if alpha < 1 else -np.inf,
              math.log(alpha * delta) if alpha * delta > 0 else -np.inf,
              math.log(alpha * (1 - delta)) if alpha * (1 - delta) > 0 else -np.inf)
    return np.stack([
        la[0] + base_b + base_s,
        la[1] + base_b + (s * lsm - (mu + es) - cs),
        la[2] + (b * lbm - (mu + eb) - cb) + base_s,
    ])


def pin_loglik(theta: object, buys: object, sells: object) -> float:
    r"""Log-likelihood of the EKOP model for buy and sell counts.

    Parameters
    ----------
    theta
        ``(alpha, delta, mu, eps_b, eps_s)``; rates per period, positive.
    buys, sells
        Counts per period (non-negative integers).

    Returns
    -------
    float
        :math:`\sum_d \log L(\theta \mid B_d, S_d)`, factorials included.

    Notes
    -----
    Evaluated as a log-sum-exp of the three components, so counts of many thousands
    per period neither overflow nor underflow (the naive product :math:`\epsilon^B
    e^{-\epsilon}/B!` does beyond a few hundred) [2]_:

    .. math::
        \log L_d = \operatorname{logsumexp}\big(
          \log(1-\alpha) + \ell_b(\epsilon_b) + \ell_s(\epsilon_s),\;
          \log\alpha\delta + \ell_b(\epsilon_b) + \ell_s(\mu+\epsilon_s),\;
          \log\alpha(1-\delta) + \ell_b(\mu+\epsilon_b) + \ell_s(\epsilon_s)\big),
        \quad \ell_b(\lambda) = B_d\log\lambda - \lambda - \log B_d!
    """
    th = np.asarray(theta, dtype=np.float64)
    b = np.asarray(buys, dtype=np.float64)
    s = np.asarray(sells, dtype=np.float64)
    terms = _log_terms(th, b, s, gammaln(b + 1), gammaln(s + 1))
    m = terms.max(axis=0)
    return float(np.sum(m + np.log(np.exp(terms - m).sum(axis=0))))


# -- optimisation in unconstrained coordinates: logit(alpha), logit(delta), log rates
def _to_theta(z: np.ndarray) -> np.ndarray:
    return np.array([1 / (1 + math.exp(-z[0])), 1 / (1 + math.exp(-z[1])),
                     math.exp(z[2]), math.exp(z[3]), math.exp(z[4])])


def _to_z(theta: np.ndarray) -> np.ndarray:
    a, d = (min(max(x, 1e-6), 1 - 1e-6) for x in theta[:2])
    return np.array([math.log(a / (1 - a)), math.log(d / (1 - d)), *np.log(theta[2:])])


def _negll_and_grad(z: np.ndarray, b, s, cb, cs):
    z = np.clip(z, -30.0, 30.0)
    th = _to_theta(z)
    g = np.empty(5)
    f = _pk.negll_grad(th, b, s, cb, cs, g)
    jac = np.array([th[0] * (1 - th[0]), th[1] * (1 - th[1]), th[2], th[3], th[4]])
    return f, g * jac


def _starts(b: np.ndarray, s: np.ndarray) -> list[np.ndarray]:
    """Starting points of Yan and Zhang (2012) on a coarse grid of alpha, delta, gamma."""
    mb, ms = float(b.mean()), float(s.mean())
    out = []
    for a, d, g in itertools.product(_GRID, _GRID, _GRID):
        eb = g * mb
        mu = (mb - eb) / (a * (1 - d))
        es = ms - a * d * mu
        if es > 0 and mu > 0:
            out.append(np.array([a, d, mu, max(eb, 1e-3), es]))
    if not out:
        out.append(np.array([0.5, 0.5, max(abs(mb - ms), 1.0), max(mb, 1e-3), max(ms, 1e-3)]))
    return out


def _numeric_hessian(f, x: np.ndarray) -> np.ndarray:
    n = len(x)
    h = 1e-4 * np.maximum(np.abs(x), 1e-3)
    hess = np.empty((n, n))
    for i in range(n):
        xp, xm = x.copy(), x.copy()
        xp[i] += h[i]
        xm[i] -= h[i]
        hess[i] = (f(xp) - f(xm)) / (2 * h[i])
    return 0.5 * (hess + hess.T)


def pin(data: pd.DataFrame, freq: object = None, *, starts: int | None = None) -> PINResult:
    r"""Fit the EKOP (1996) PIN model by maximum likelihood.

    Parameters
    ----------
    data
        Either counts (columns ``buys`` and ``sells``, one row per period: days, or
        intraday intervals as :func:`pin_counts` makes them), or a tape
        (:func:`qlib.signals.trades`: ``ts_exch`` and aggressor ``side``), which is
        counted per ``freq`` first.
    freq
        Interval for a tape (default ``"5min"``); must be None for counts.
    starts
        Use only the first ``starts`` of the grid starting points (default: all, up to
        27: :math:`\alpha, \delta, \gamma \in \{0.1, 0.5, 0.9\}` [3]_).

    Returns
    -------
    PINResult
        Estimates, PIN, standard errors, log-likelihood and fit diagnostics.

    Raises
    ------
    InsufficientDataError
        If fewer than :data:`MIN_PERIODS` periods, or no trade at all; the message
        gives the counts.
    SchemaError
        If ``data`` has neither ``buys``/``sells`` nor a tape's columns.
    ParameterError
        For negative or non-integer counts, or a ``freq`` given with counts.

    Notes
    -----
    Per period :math:`d` with :math:`B_d` buys and :math:`S_d` sells,

    .. math::
        L_d = (1-\alpha)\,P(B_d;\epsilon_b)P(S_d;\epsilon_s)
            + \alpha\delta\,P(B_d;\epsilon_b)P(S_d;\mu+\epsilon_s)
            + \alpha(1-\delta)\,P(B_d;\mu+\epsilon_b)P(S_d;\epsilon_s),

    with :math:`P(k;\lambda)` the Poisson probability, and

    .. math:: \mathrm{PIN} = \frac{\alpha\mu}{\alpha\mu + \epsilon_b + \epsilon_s}.

    The log-likelihood is a log-sum-exp (:func:`pin_loglik`), in the spirit of Lin
    and Ke's factorisation [2]_. It is maximised with L-BFGS-B (analytic gradient)
    over :math:`(\operatorname{logit}\alpha, \operatorname{logit}\delta, \log\mu,
    \log\epsilon_b, \log\epsilon_s)` from every start; the best optimum wins.
    Standard errors invert a finite-difference Hessian of the log-likelihood in the
    natural parameters.

    References
    ----------
    .. [1] Easley, D., Kiefer, N. M., O'Hara, M. and Paperman, J. B. (1996). Liquidity,
       information, and infrequently traded stocks. Journal of Finance, 51(4),
       1405-1436.
    .. [2] Lin, H.-W. W. and Ke, W.-C. (2011). A computing bias in estimating the
       probability of informed trading. Journal of Financial Markets, 14(4), 625-640.
    .. [3] Yan, Y. and Zhang, S. (2012). An improved estimation method and empirical
       properties of the probability of informed trading. Journal of Banking &
       Finance, 36(2), 454-467.

    Examples
    --------
    >>> counts = simulate_pin_counts(0.4, 0.5, 60.0, 40.0, 40.0, n=200, seed=1)
    >>> r = pin(counts)
    >>> abs(r.alpha - 0.4) < 0.1
    True
    """
    if not isinstance(data, pd.DataFrame):
        raise SchemaError(f"data must be a pandas DataFrame, was {type(data).__name__}")
    freq_label = ""
    if "buys" in data.columns and "sells" in data.columns:
        if freq is not None:
            raise ParameterError(f"freq applies to a tape, not to counts; was {freq!r}")
        counts = data
    else:
        freq = "5min" if freq is None else freq
        counts = pin_counts(data, freq)
        freq_label = str(freq)
    b = counts["buys"].to_numpy(dtype=np.float64)
    s = counts["sells"].to_numpy(dtype=np.float64)
    for name, x in (("buys", b), ("sells", s)):
        bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
        if bad.any():
            r = int(np.flatnonzero(bad)[0])
            raise ParameterError(f"{name} must be non-negative integer counts; row {r} was {x[r]!r}")
    n = len(b)
    if n < MIN_PERIODS:
        raise InsufficientDataError(f"pin: {n} periods of counts, needed at least {MIN_PERIODS}")
    if b.sum() == 0 or s.sum() == 0:
        raise InsufficientDataError(f"pin: {int(b.sum())} buys and {int(s.sum())} sells over {n} "
                                    "periods, needed at least 1 of each")
    cb, cs = gammaln(b + 1), gammaln(s + 1)
    cand = _starts(b, s)
    if starts is not None:
        if isinstance(starts, bool) or not isinstance(starts, (int, np.integer)) or starts < 1:
            raise ParameterError(f"starts must be a positive int, was {starts!r}")
        cand = cand[: int(starts)]
    best, converged = None, 0
    for th0 in cand:
        res = optimize.minimize(_negll_and_grad, _to_z(th0), args=(b, s, cb, cs), jac=True,
                                method="L-BFGS-B", bounds=[(-30, 30)] * 5,
                                options={"maxiter": 500})
        converged += bool(res.success)
        if np.isfinite(res.fun) and (best is None or res.fun < best.fun):
            best = res
    theta = _to_theta(np.clip(best.x, -30, 30))
    alpha, delta, mu, eb, es = (float(x) for x in theta)
    pin_value = alpha * mu / (alpha * mu + eb + es)
    se, note = _standard_errors(theta, b, s, cb, cs)
    return PINResult(alpha, delta, mu, eb, es, float(pin_value), float(-best.fun), n,
                     len(cand), converged, se, note, freq_label)


def _standard_errors(theta, b, s, cb, cs) -> tuple[dict[str, float], str]:
    alpha, delta, mu, eb, es = theta
    if not (1e-4 < alpha < 1 - 1e-4 and 1e-4 < delta < 1 - 1e-4):
        return {}, "no standard errors: estimate on the boundary of (alpha, delta)"

    def grad(th):  # gradient of the log-likelihood in natural parameters
        _, gz = _negll_and_grad(_to_z(th), b, s, cb, cs)
        jac = np.array([th[0] * (1 - th[0]), th[1] * (1 - th[1]), th[2], th[3], th[4]])
        return -gz / jac

    hess = _numeric_hessian(grad, np.asarray(theta, dtype=np.float64))
    try:
        cov = np.linalg.inv(-hess)
        np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        return {}, "no standard errors: Hessian not negative definite at the optimum"
    se = {p: float(math.sqrt(cov[i, i])) for i, p in enumerate(PARAMS)}
    den = alpha * mu + eb + es
    dpin = np.array([mu * (eb + es) / den**2, 0.0, alpha * (eb + es) / den**2,
                     -alpha * mu / den**2, -alpha * mu / den**2])
    se["pin"] = float(math.sqrt(max(dpin @ cov @ dpin, 0.0)))
    return se, ""


def simulate_pin_counts(alpha: float, delta: float, mu: float, eps_b: float, eps_s: float,
                        *, n: int, seed: int = 0) -> pd.DataFrame:
    """Draw buy and sell counts for ``n`` periods from the EKOP model.

    Parameters
    ----------
    alpha, delta, mu, eps_b, eps_s
        Model parameters (rates per period).
    n
        Number of periods.
    seed
        Seed of ``numpy.random.default_rng``; same seed, same counts.

    Returns
    -------
    pandas.DataFrame
        ``buys``, ``sells`` (int64) and ``regime`` (0 no news, -1 bad, +1 good), index
        ``period``.
    """
    if not (0 <= alpha <= 1 and 0 <= delta <= 1):
        raise ParameterError(f"alpha and delta must be in [0, 1], were {alpha!r}, {delta!r}")
    if min(mu, eps_b, eps_s) < 0:
        raise ParameterError(f"rates must be non-negative, were mu={mu}, eps_b={eps_b}, "
                             f"eps_s={eps_s}")
    rng = np.random.default_rng(seed)
    news = rng.random(n) < alpha
    bad = rng.random(n) < delta
    regime = np.where(news, np.where(bad, -1, 1), 0)
    buys = rng.poisson(eps_b + mu * (regime == 1))
    sells = rng.poisson(eps_s + mu * (regime == -1))
    return pd.DataFrame({"buys": buys.astype(np.int64), "sells": sells.astype(np.int64),
                         "regime": regime.astype(np.int64)},
                        index=pd.RangeIndex(n, name="period"))
