r"""VPIN: the volume-synchronized probability of informed trading.

Trades are grouped into buckets of equal volume :math:`V`; the volume of each bucket
is split into buyer- and seller-initiated parts, by bulk volume classification (BVC,
the default) or by the tape's aggressor side; VPIN is the average absolute order
imbalance over the last ``window`` buckets [1]_.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from qlib.errors import InsufficientDataError, ParameterError
from qlib.signals import _vpin_kernels as _k
from qlib.signals._inputs import tape_of

__all__ = ["volume_buckets", "vpin"]

_CLASSIFY = ("bulk", "tape")


def _positive_int(value: object, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name} must be an int >= {minimum}, was {value!r}")
    return int(value)


def volume_buckets(trades: pd.DataFrame, bucket_volume: float | None = None, *,
                   n_buckets: int = 200) -> pd.DataFrame:
    r"""Group a tape into consecutive buckets of equal traded volume.

    Parameters
    ----------
    trades
        Tape: ``ts_exch``, ``price``, ``qty`` and (for the tape split) ``side``
        (:func:`qlib.signals.trades`), in time order.
    bucket_volume
        Volume per bucket :math:`V`, in the instrument's quantity unit. None: the
        total volume divided by ``n_buckets``.
    n_buckets
        Buckets over the whole tape when ``bucket_volume`` is None.

    Returns
    -------
    pandas.DataFrame
        One row per complete bucket (the partial last bucket is dropped), index
        ``bucket``: ``ts_start``, ``ts_end`` (``datetime64[ns, UTC]``, first and last
        contributing trade), ``n_trades``, ``volume`` (= :math:`V`), ``tape_buy``
        (buyer-initiated volume by aggressor side; an unknown side counts half),
        ``open_px`` (price of the first contributing trade), ``close_px`` (of the
        last). ``attrs["bucket_volume"]`` holds :math:`V`.

    Raises
    ------
    SchemaError
        If a column is missing.
    InsufficientDataError
        If the tape is empty or has no volume.
    ParameterError
        If ``bucket_volume`` is not positive or ``n_buckets < 1``.

    Notes
    -----
    A trade larger than the room left in a bucket is split across buckets, so every
    bucket holds exactly :math:`V` (up to rounding).
    """
    t = tape_of(trades, min_rows=1)
    total = float(np.sum(t.qty))
    if not total > 0:
        raise InsufficientDataError(f"trades had {len(t)} rows and total volume {total}, "
                                    "needed a positive volume")
    if bucket_volume is None:
        n_buckets = _positive_int(n_buckets, "n_buckets")
        v = total / n_buckets * (1.0 - 1e-12)  # the last bucket closes despite rounding
    else:
        v = float(bucket_volume)
        if not (np.isfinite(v) and v > 0):
            raise ParameterError(f"bucket_volume must be positive, was {bucket_volume!r}")
    cap = int(total / v) + 2
    first = np.zeros(cap, np.int64)
    last = np.zeros(cap, np.int64)
    volume = np.zeros(cap)
    tape_buy = np.zeros(cap)
    close_px = np.zeros(cap)
    k = _k.fill_buckets(t.qty, t.price, t.side.astype(np.int8), v, first, last, volume,
                        tape_buy, close_px)
    first, last = first[:k], last[:k]
    df = pd.DataFrame(
        {
            "ts_start": pd.to_datetime(t.ts[first], unit="ns", utc=True),
            "ts_end": pd.to_datetime(t.ts[last], unit="ns", utc=True),
            "n_trades": last - first + 1,
            "volume": volume[:k],
            "tape_buy": tape_buy[:k],
            "open_px": t.price[first],
            "close_px": close_px[:k],
        },
        index=pd.RangeIndex(k, name="bucket"),
    )
    df.attrs["bucket_volume"] = v
    return df


def vpin(trades: pd.DataFrame, bucket_volume: float | None = None, *, n_buckets: int = 200,
         window: int = 50, classify: str = "bulk", min_periods: int | None = None) -> pd.DataFrame:
    r"""Return VPIN per volume bucket.

    Parameters
    ----------
    trades
        Tape: ``ts_exch``, ``price``, ``qty``, ``side`` (:func:`qlib.signals.trades`).
    bucket_volume
        Volume per bucket :math:`V`; None: total volume / ``n_buckets``.
    n_buckets
        Buckets over the tape when ``bucket_volume`` is None. Easley et al. use 50
        buckets a day and a 50-bucket window over many days; on a single session the
        default (200 buckets, window 50) gives a curve through the session.
    window
        Buckets :math:`n` averaged by VPIN.
    classify
        ``"bulk"``: bulk volume classification, :math:`V^B_\tau = V\,\Phi(\Delta
        P_\tau/\sigma_{\Delta P})` with :math:`\Delta P_\tau` the change of the last
        trade price from the previous bucket to bucket :math:`\tau` (from the first
        trade's price for the first bucket) and :math:`\sigma_{\Delta P}` their
        sample standard deviation. ``"tape"``: the aggressor side of each trade.
    min_periods
        Buckets needed for a value; default ``window``. Rows before it are the only
        NaNs (documented warm-up).

    Returns
    -------
    pandas.DataFrame
        The :func:`volume_buckets` columns plus ``buy_volume``, ``sell_volume``,
        ``imbalance`` (:math:`|V^S_\tau - V^B_\tau| / V`, in [0, 1]) and ``vpin`` (in
        [0, 1]; NaN for the first ``min_periods - 1`` buckets). ``attrs``:
        ``bucket_volume``, ``sigma`` (:math:`\sigma_{\Delta P}`, bulk only),
        ``window``, ``classify``.

    Raises
    ------
    InsufficientDataError
        If fewer than ``window + 1`` complete buckets can be formed, or (bulk) if the
        price never changes between buckets; the message gives the counts.
    ParameterError
        For a bad ``window``, ``min_periods``, ``classify`` or bucket size.
    SchemaError
        If a column is missing.

    Notes
    -----
    .. math::
        \mathrm{VPIN}_\tau = \frac{1}{n V} \sum_{j=\tau-n+1}^{\tau}
            \left| V^S_j - V^B_j \right|, \qquad V^S_j = V - V^B_j

    References
    ----------
    .. [1] Easley, D., López de Prado, M. M. and O'Hara, M. (2012). Flow toxicity and
       liquidity in a high-frequency world. Review of Financial Studies, 25(5),
       1457-1493.
    .. [2] Easley, D., López de Prado, M. M. and O'Hara, M. (2016). Discerning
       information from trade data. Journal of Financial Economics, 120(2), 269-285.

    Examples
    --------
    >>> import qlib.signals
    >>> from qlib.data import simulate
    >>> v = vpin(qlib.signals.trades(simulate(n_events=20_000)), n_buckets=60, window=20)
    >>> bool(v["vpin"].dropna().between(0, 1).all())
    True
    """
    window = _positive_int(window, "window")
    min_periods = window if min_periods is None else _positive_int(min_periods, "min_periods")
    if min_periods > window:
        raise ParameterError(f"min_periods must be <= window ({window}), was {min_periods}")
    if classify not in _CLASSIFY:
        raise ParameterError(f"classify must be one of {_CLASSIFY}, was {classify!r}")
    b = volume_buckets(trades, bucket_volume, n_buckets=n_buckets)
    k = len(b)
    if k < window + 1:
        raise InsufficientDataError(
            f"vpin: {k} complete volume buckets of {b.attrs['bucket_volume']:.6g} "
            f"(from {len(trades)} trades), needed at least window + 1 = {window + 1}")
    volume = b["volume"].to_numpy()
    sigma = np.nan
    if classify == "bulk":
        close = b["close_px"].to_numpy()
        dp = np.diff(close, prepend=b["open_px"].iloc[0])
        sigma = float(np.std(dp, ddof=1))
        if not sigma > 0:
            raise InsufficientDataError(
                f"vpin: the price changed between 0 of {k} buckets, needed at least 1 "
                "for bulk classification (sigma of price changes was 0)")
        buy = np.empty(k)
        _k.bulk_classify(dp, sigma, volume, buy)
    else:
        buy = b["tape_buy"].to_numpy().copy()
    out = np.empty(k)
    _k.rolling_vpin(buy, volume, window, min_periods, out)
    b["buy_volume"] = buy
    b["sell_volume"] = volume - buy
    b["imbalance"] = np.clip(np.abs(volume - 2.0 * buy) / volume, 0.0, 1.0)
    b["vpin"] = out
    b.attrs.update(sigma=sigma, window=window, classify=classify)
    return b
