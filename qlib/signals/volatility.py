r"""Realized volatility: sparse-sampled RV and the two-scale estimator robust to noise.

Prices are a Series with a ``DatetimeIndex``, a quotes frame (its mid is used) or a
tape frame (its trade price is used); see :func:`price_series`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qlib.errors import DataQualityError, InsufficientDataError, ParameterError, SchemaError
from qlib.signals import _kernels as _k
from qlib.signals._grid import as_ns, freq_ns
from qlib.signals._inputs import quotes_of, tape_of

__all__ = ["price_series", "realized_volatility", "sampled_log_prices", "two_scale_rv"]


def price_series(prices: pd.Series | pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(ts_ns, price)`` of a price Series, a quotes frame (mid) or a tape frame."""
    if isinstance(prices, pd.Series):
        if not isinstance(prices.index, pd.DatetimeIndex):
            raise SchemaError("a price Series must have a DatetimeIndex, was "
                              f"{type(prices.index).__name__}")
        ts, px = as_ns(prices.index), prices.to_numpy(dtype=np.float64)
    elif isinstance(prices, pd.DataFrame):
        if "price" in prices.columns:
            t = tape_of(prices, "prices", min_rows=0)
            ts, px = t.ts, t.price
        else:
            q = quotes_of(prices, "prices", min_rows=0)
            ts, px = q.ts, q.mid
    else:
        raise SchemaError(f"prices must be a Series or DataFrame, was {type(prices).__name__}")
    if len(px) and not (np.isfinite(px).all() and (px > 0).all()):
        r = int(np.flatnonzero(~(np.isfinite(px) & (px > 0)))[0])
        raise DataQualityError(f"price at position {r} was {px[r]}, expected positive finite",
                               row=r, field="price")
    if len(ts) > 1 and (np.diff(ts) < 0).any():
        raise DataQualityError("prices must be in time order", field="ts_exch")
    return ts, px


def sampled_log_prices(ts: np.ndarray, px: np.ndarray, freq: object) -> tuple[np.ndarray, np.ndarray]:
    """Previous-tick log prices on the grid ``t_0, t_0 + Delta, ...`` up to the last tick."""
    d = freq_ns(freq)
    grid = np.arange(int(ts[0]), int(ts[-1]) + 1, d, dtype=np.int64)
    out = np.empty(len(grid))
    _k.previous_tick(ts, np.log(px), grid, out)
    return grid, out


def realized_volatility(prices: pd.Series | pd.DataFrame, freq: object = "5min", *,
                        estimator: str = "rv", K: int | None = None) -> float:
    r"""Return the realized volatility of a price path (not annualized).

    Parameters
    ----------
    prices
        Price Series with a ``DatetimeIndex``, quotes frame (mid) or tape frame.
    freq
        Sampling interval of the ``"rv"`` estimator (previous-tick sampling from the
        first observation); 5 minutes keeps microstructure noise small [1]_.
    estimator
        ``"rv"``: square root of the sparse-sampled realized variance.
        ``"two_scale"``: square root of :func:`two_scale_rv` on every tick (``freq``
        unused), floored at 0.
    K
        Slow-scale lag of the two-scale estimator.

    Returns
    -------
    float
        :math:`\sqrt{RV}` in log-return units over the sample.

    Raises
    ------
    InsufficientDataError
        The sample spans fewer than 2 grid points (shorter than ``freq``).

    Notes
    -----
    .. math:: RV = \sum_{j=1}^{J} \left(\log P_{t_0 + j\Delta} - \log P_{t_0 + (j-1)\Delta}\right)^2

    References
    ----------
    .. [1] Andersen, T. G., Bollerslev, T., Diebold, F. X. and Labys, P. (2001). The
       distribution of realized exchange rate volatility. Journal of the American
       Statistical Association, 96(453), 42-55.
    """
    if estimator == "two_scale":
        return float(np.sqrt(max(two_scale_rv(prices, K=K), 0.0)))
    if estimator != "rv":
        raise ParameterError(f"estimator must be 'rv' or 'two_scale', was {estimator!r}")
    ts, px = price_series(prices)
    if len(ts) == 0:
        raise InsufficientDataError("realized_volatility had 0 prices, needed at least 2")
    grid, lp = sampled_log_prices(ts, px, freq)
    if len(grid) < 2:
        raise InsufficientDataError(f"realized_volatility: the sample spans {len(grid)} grid "
                                    f"point(s) of {freq}, needed at least 2")
    return float(np.sqrt(_k.lagged_sq_sum(lp, 1)))


def two_scale_rv(prices: pd.Series | pd.DataFrame, *, K: int | None = None,
                 min_nobs: int = 100) -> float:
    r"""Return the two-scale realized variance (Zhang, Mykland and Aït-Sahalia 2005).

    Parameters
    ----------
    prices
        Price Series with a ``DatetimeIndex``, quotes frame (mid) or tape frame; every
        observation is used (tick time).
    K
        Number of subsamples (slow scale); default :math:`\lceil n^{2/3} \rceil`, the
        rate-optimal order of [1]_.
    min_nobs
        Fewest returns accepted.

    Returns
    -------
    float
        The bias-corrected estimate of integrated variance of the efficient log price
        over the sample. In small samples it can be negative.

    Raises
    ------
    InsufficientDataError
        Fewer than ``min_nobs`` returns, or ``K`` not below the number of returns.

    Notes
    -----
    With :math:`n` returns of log prices :math:`X`, :math:`\bar n = (n - K + 1)/K`:

    .. math::
        [X]^{avg} = \frac{1}{K}\sum_{i=K}^{n} (X_i - X_{i-K})^2, \quad
        [X]^{all} = \sum_{i=1}^{n} (X_i - X_{i-1})^2

    .. math::
        \widehat{\langle X\rangle}^{TSRV} = \left(1 - \frac{\bar n}{n}\right)^{-1}
        \left([X]^{avg} - \frac{\bar n}{n}[X]^{all}\right)

    The fast scale estimates the noise variance, the slow scale the signal; their
    combination is consistent under i.i.d. microstructure noise.

    References
    ----------
    .. [1] Zhang, L., Mykland, P. A. and Aït-Sahalia, Y. (2005). A tale of two time
       scales: determining integrated volatility with noisy high-frequency data.
       Journal of the American Statistical Association, 100(472), 1394-1411.
    """
    _, px = price_series(prices)
    x = np.log(px)
    n = len(x) - 1
    need = max(int(min_nobs), 2)
    if n < need:
        raise InsufficientDataError(f"two_scale_rv had {max(n, 0)} returns, needed at least {need}")
    if K is None:
        K = int(np.ceil(n ** (2.0 / 3.0)))
    if isinstance(K, bool) or not isinstance(K, (int, np.integer)) or K < 1:
        raise ParameterError(f"K must be a positive int, was {K!r}")
    if K >= n:
        raise InsufficientDataError(f"two_scale_rv had {n} returns, needed more than K = {K}")
    rv_all = _k.lagged_sq_sum(x, 1)
    rv_avg = _k.lagged_sq_sum(x, int(K)) / K
    nbar = (n - K + 1) / K
    return float((rv_avg - nbar / n * rv_all) / (1.0 - nbar / n))
