r"""Reference prices of the book: mid, micro-price, depth-weighted mid, book imbalance.

Every function takes quotes in the :func:`qlib.book.bbo` layout (``bid_px, bid_qty,
ask_px, ask_qty``) or the LOBSTER layout of :func:`qlib.book.depth.depth_snapshots`
(``ask_px_1, ask_qty_1, bid_px_1, bid_qty_1, ...``) and returns a Series or DataFrame
on the same index.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from qlib.errors import DataQualityError, ParameterError
from qlib.signals._inputs import depth_of, quotes_of

__all__ = ["book_imbalance", "depth_weighted_mid", "microprice", "mid"]


def mid(quotes: pd.DataFrame) -> pd.Series:
    r"""Return the mid price of each book state.

    Parameters
    ----------
    quotes
        Best bid and offer, bbo or LOBSTER layout (see module docstring).

    Returns
    -------
    pandas.Series
        ``mid``, float64 in the instrument's currency, on the index of ``quotes``.

    Raises
    ------
    SchemaError
        Missing columns.
    DataQualityError
        A row with an empty side.

    Notes
    -----
    .. math:: m_t = (P^a_t + P^b_t) / 2
    """
    q = quotes_of(quotes, min_rows=0)
    return pd.Series(q.mid, index=q.index, name="mid")


def microprice(quotes: pd.DataFrame) -> pd.Series:
    r"""Return the queue-imbalance-weighted mid price (the micro-price) of each book state.

    Parameters
    ----------
    quotes
        Best bid and offer, bbo or LOBSTER layout.

    Returns
    -------
    pandas.Series
        ``microprice``, float64, on the index of ``quotes``. Lies in
        :math:`[P^b_t, P^a_t]` by construction.

    Raises
    ------
    SchemaError, DataQualityError
        As :func:`mid`.

    Notes
    -----
    The price is pulled towards the side with *less* resting quantity, the side more
    likely to be depleted next:

    .. math:: I_t = \frac{Q^b_t}{Q^b_t + Q^a_t}, \qquad
              P^{\mu}_t = I_t P^a_t + (1 - I_t) P^b_t

    This is the weighted mid of [1]_ (Sec. 2), the first-order micro-price. Stoikov's
    full estimator, the mid plus a Markov-chain estimate :math:`G^*(I, S)` of the
    expected future mid move, is :func:`qlib.signals.fit_microprice` with
    :func:`qlib.signals.stoikov_microprice`.

    References
    ----------
    .. [1] Stoikov, S. (2018). The micro-price: a high-frequency estimator of future
       prices. Quantitative Finance, 18(12), 1959-1966.

    Examples
    --------
    >>> q = pd.DataFrame({"bid_px": [99.0], "bid_qty": [3.0], "ask_px": [101.0],
    ...                   "ask_qty": [1.0], "ts_exch": pd.to_datetime([0], utc=True)})
    >>> microprice(q).tolist()
    [100.5]
    """
    q = quotes_of(quotes, min_rows=0)
    imb = q.bid_qty / (q.bid_qty + q.ask_qty)
    return pd.Series(imb * q.ask_px + (1.0 - imb) * q.bid_px, index=q.index, name="microprice")


def depth_weighted_mid(depth: pd.DataFrame, levels: int = 5) -> pd.Series:
    r"""Return the mid of the two sides' depth-weighted (volume-weighted) prices over N levels.

    Parameters
    ----------
    depth
        LOBSTER-layout book (:func:`qlib.book.depth.depth_snapshots`) with at least
        ``levels`` levels; empty levels (price NaN, quantity 0) weigh nothing.
    levels
        Number of levels per side, ``N >= 1``. ``N = 1`` gives the mid.

    Returns
    -------
    pandas.Series
        ``depth_weighted_mid``, float64, on the index of ``depth``.

    Raises
    ------
    SchemaError
        Fewer than ``levels`` levels in ``depth``.
    DataQualityError
        A row with no quantity on one side.

    Notes
    -----
    .. math:: \bar P^b_t = \frac{\sum_{i=1}^N q^b_{i,t} p^b_{i,t}}{\sum_{i=1}^N q^b_{i,t}},
              \quad
              \bar P^a_t = \frac{\sum_{i=1}^N q^a_{i,t} p^a_{i,t}}{\sum_{i=1}^N q^a_{i,t}},
              \quad
              P^{dw}_t = \frac{\bar P^b_t + \bar P^a_t}{2}

    A deeper reference price than the mid, less sensitive to flickering top-of-book
    quotes [1]_.

    References
    ----------
    .. [1] Cartea, A., Jaimungal, S. and Penalva, J. (2015). Algorithmic and
       High-Frequency Trading. Cambridge University Press, Ch. 4.
    """
    d = depth_of(depth, levels)
    bq, aq = d.bid_qty.sum(axis=1), d.ask_qty.sum(axis=1)
    bad = (bq <= 0) | (aq <= 0)
    if bad.any():
        r = int(np.flatnonzero(bad)[0])
        raise DataQualityError(f"depth row {d.index[r]!r} has no quantity on one side over "
                               f"{levels} level(s)", row=r)
    bn = np.where(d.bid_qty > 0, d.bid_px * d.bid_qty, 0.0).sum(axis=1)
    an = np.where(d.ask_qty > 0, d.ask_px * d.ask_qty, 0.0).sum(axis=1)
    return pd.Series(0.5 * (bn / bq + an / aq), index=d.index, name="depth_weighted_mid")


def book_imbalance(book: pd.DataFrame, levels: int | Sequence[int] = 1) -> pd.Series | pd.DataFrame:
    r"""Return the order-book imbalance over the first N levels.

    Parameters
    ----------
    book
        bbo layout (``levels = 1`` only) or LOBSTER layout.
    levels
        An int N: the imbalance of the first N levels (a Series ``imbalance_N``). A
        sequence of ints (e.g. ``range(1, 11)``): one column ``imbalance_N`` per N.

    Returns
    -------
    pandas.Series or pandas.DataFrame
        Values in :math:`[-1, 1]`; +1 all resting quantity on the bid.

    Raises
    ------
    ParameterError
        ``levels`` not positive ints.
    SchemaError
        Fewer levels in ``book`` than asked for.

    Notes
    -----
    .. math:: \rho^{(N)}_t = \frac{\sum_{i\le N} q^b_{i,t} - \sum_{i\le N} q^a_{i,t}}
                                  {\sum_{i\le N} q^b_{i,t} + \sum_{i\le N} q^a_{i,t}}

    The level-1 imbalance predicts the sign of the next mid move [1]_; deeper levels add
    information [2]_.

    References
    ----------
    .. [1] Cartea, A., Donnelly, R. and Jaimungal, S. (2018). Enhancing trading
       strategies with order book signals. Applied Mathematical Finance, 25(1), 1-35.
    .. [2] Xu, K., Gould, M. D. and Howison, S. D. (2018). Multi-level order-flow
       imbalance in a limit order book. arXiv:1907.06230.
    """
    many = not isinstance(levels, (int, np.integer))
    ns = list(levels) if many else [levels]
    if not ns or any(isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1
                     for n in ns):
        raise ParameterError(f"levels must be a positive int or a sequence of them, was {levels!r}")
    if "bid_px" in book.columns and max(ns) == 1:
        q = quotes_of(book, "book", min_rows=0)
        bq, aq = q.bid_qty[:, None], q.ask_qty[:, None]
        index = q.index
    else:
        d = depth_of(book, int(max(ns)), "book")
        bq, aq, index = np.cumsum(d.bid_qty, axis=1), np.cumsum(d.ask_qty, axis=1), d.index
    out = {}
    for n in ns:
        b, a = bq[:, n - 1], aq[:, n - 1]
        tot = b + a
        if (tot <= 0).any():
            r = int(np.flatnonzero(tot <= 0)[0])
            at = index[r].item() if isinstance(index[r], np.generic) else index[r]
            raise DataQualityError(f"book row {at} has no quantity over {n} level(s)",
                                   row=r)
        out[f"imbalance_{n}"] = (b - a) / tot
    if many:
        return pd.DataFrame(out, index=index)
    return pd.Series(out[f"imbalance_{ns[0]}"], index=index, name=f"imbalance_{ns[0]}")
