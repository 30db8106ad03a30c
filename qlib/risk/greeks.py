r"""Black-Scholes-Merton prices, Greeks, implied volatility and portfolio Greeks.

Units, everywhere in this module unless a column name says otherwise:

* ``time``: years (ACT/365: nanoseconds to expiry / (365 * 86400e9));
* ``rate``, ``div_yield``, ``vol``: continuously compounded, per year, as fractions
  (0.05, not 5);
* ``vega``: price change per 1.00 of volatility (divide by 100 for one vol point);
* ``theta``: :math:`\partial V / \partial t` per year of calendar time, i.e.
  :math:`-\partial V / \partial T` (divide by 365 for one day);
* ``rho``: price change per 1.00 of rate (divide by 100 for one percentage point).

The portfolio functions (:func:`portfolio_greeks`, :func:`greeks_ladder`) report in
currency with the contract multiplier applied, and put the unit in the column name
(``vega_1pt``, ``theta_1d``, ``rho_1pt``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from qlib.enums import IvStatus, OptionRight
from qlib.errors import DataQualityError, ParameterError, SchemaError
from qlib.risk import _greeks_kernels as _k

__all__ = [
    "GREEK_COLUMNS",
    "OptionContract",
    "bsm_greeks",
    "bsm_price",
    "greeks_ladder",
    "implied_vol",
    "implied_vol_with_status",
    "portfolio_greeks",
    "year_fraction",
]

#: Columns of :func:`bsm_greeks`, in order.
GREEK_COLUMNS = ("price", "delta", "gamma", "vega", "theta", "rho")

_NS_PER_YEAR = 365 * 86_400 * 1_000_000_000


def _to_ns(ts: Any, field: str) -> int:
    if isinstance(ts, (int, np.integer)) and not isinstance(ts, bool):
        return int(ts)
    try:
        stamp = pd.Timestamp(ts)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"{field} must be int64 ns UTC or a Timestamp, was {ts!r}") from exc
    if stamp is pd.NaT:
        raise ParameterError(f"{field} must be a timestamp, was NaT")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return int(stamp.value)


def year_fraction(start: Any, end: Any) -> float:
    """Return the ACT/365 year fraction from ``start`` to ``end``.

    Parameters
    ----------
    start, end
        int64 nanoseconds since the epoch (UTC) or anything :class:`pandas.Timestamp`
        accepts (naive values are taken as UTC).

    Returns
    -------
    float
        ``(end - start) / (365 * 86400e9)``; negative when ``end`` is before ``start``.
    """
    return (_to_ns(end, "end") - _to_ns(start, "start")) / _NS_PER_YEAR


@dataclass(frozen=True)
class OptionContract:
    """Terms of a European option that the Greeks need.

    Parameters
    ----------
    underlying_id
        Instrument id of the underlying (``"SYMBOL.VENUE"``); spot prices are looked
        up under this key.
    strike
        Strike in the underlying's price currency (> 0, finite).
    expiry
        Expiry as int64 ns UTC or a :class:`pandas.Timestamp` (stored as int ns).
    right
        :class:`qlib.enums.OptionRight` (``CALL``/``PUT``), or ``"call"``/``"put"``.
    multiplier
        Units of underlying per contract (> 0, finite); 100 for US equity options.
    style
        Exercise style; only ``"european"`` is priced by BSM, anything else raises.

    Raises
    ------
    ParameterError
        If a field is missing, out of range or of the wrong type.
    """

    underlying_id: str
    strike: float
    expiry: Any
    right: OptionRight
    multiplier: float = 1.0
    style: str = "european"

    def __post_init__(self) -> None:
        if not isinstance(self.underlying_id, str) or not self.underlying_id:
            raise ParameterError(f"underlying_id must be a non-empty str, was {self.underlying_id!r}")
        for name in ("strike", "multiplier"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float, np.floating, np.integer)) and np.isfinite(value)
                    and value > 0):
                raise ParameterError(f"{name} must be a positive finite number, was {value!r}")
        object.__setattr__(self, "expiry", _to_ns(self.expiry, "expiry"))
        object.__setattr__(self, "right", _parse_right_scalar(self.right))
        if self.style != "european":
            raise ParameterError(f"style must be 'european' (BSM), was {self.style!r}")


def _parse_right_scalar(right: Any) -> OptionRight:
    if isinstance(right, str):
        key = right.strip().lower()
        if key in ("call", "c"):
            return OptionRight.CALL
        if key in ("put", "p"):
            return OptionRight.PUT
        raise ParameterError(f"right must be 'call' or 'put', was {right!r}")
    try:
        return OptionRight(int(right))
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"right must be OptionRight.CALL (1) or PUT (-1), was {right!r}") from exc


def _parse_right(right: Any, n: int | None = None) -> np.ndarray:
    """Validate rights; broadcast to ``(n,)`` when ``n`` is given."""
    arr = np.asarray(right)
    if arr.dtype.kind in "UO":
        flat = np.array([_parse_right_scalar(x) for x in arr.ravel()], dtype=np.int8)
        arr = flat.reshape(arr.shape)
    elif arr.dtype.kind not in "iub":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.rint(arr)):
            arr = arr.astype(np.int64)
        else:
            raise ParameterError(f"right must be OptionRight codes (1, -1), was dtype {arr.dtype}")
    arr = np.atleast_1d(arr).astype(np.int64)
    bad = (arr != 1) & (arr != -1)
    if bad.any():
        i = int(np.flatnonzero(bad.ravel())[0])
        raise ParameterError(
            f"right[{i}] was {int(arr.ravel()[i])}, expected OptionRight.CALL (1) or PUT (-1)")
    arr = arr.astype(np.int8)
    if n is None:
        return arr
    try:
        return np.ascontiguousarray(np.broadcast_to(arr, (n,)))
    except ValueError as exc:
        raise ParameterError(f"right of shape {arr.shape} does not broadcast to {n} options") from exc


def _broadcast(right_shape: tuple[int, ...] = (), **arrays: Any) -> tuple[int, dict[str, np.ndarray]]:
    try:
        conv = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"inputs must be numeric: {exc}") from exc
    try:
        shape = np.broadcast_shapes(right_shape, *(a.shape for a in conv.values()))
    except ValueError as exc:
        shapes = {k: a.shape for k, a in conv.items()} | {"right": right_shape}
        raise ParameterError(f"inputs do not broadcast together: shapes were {shapes}") from exc
    if len(shape) > 1:
        raise ParameterError(f"inputs must be scalars or 1-D arrays, broadcast shape was {shape}")
    n = int(shape[0]) if shape else 1
    out = {k: np.ascontiguousarray(np.broadcast_to(a, (n,))) for k, a in conv.items()}
    return n, out


def _check_domain(a: dict[str, np.ndarray]) -> None:
    for name, arr in a.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataQualityError(f"{name}[{i}] was {float(arr[i])!r}, expected a finite number",
                                   row=i, field=name, value=arr[i])
    for name, strict in (("spot", True), ("strike", True), ("time", False), ("vol", False)):
        if name not in a:
            continue
        arr = a[name]
        bad = arr <= 0 if strict else arr < 0
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            need = "> 0" if strict else ">= 0"
            raise DataQualityError(f"{name}[{i}] was {float(arr[i])!r}, expected {need}",
                                   row=i, field=name, value=arr[i])


def bsm_price(spot: Any, strike: Any, time: Any, rate: Any, div_yield: Any, vol: Any,
              right: Any) -> np.ndarray:
    r"""Return Black-Scholes-Merton prices of European options.

    Parameters
    ----------
    spot, strike
        Underlying price and strike (> 0), same currency.
    time
        Years to expiry (>= 0).
    rate, div_yield
        Continuously compounded risk-free rate and dividend (or carry) yield per year.
    vol
        Volatility per square-root year (>= 0), as a fraction.
    right
        :class:`qlib.enums.OptionRight` codes (1 call, -1 put) or ``"call"``/``"put"``.

    All inputs are scalars or 1-D arrays that broadcast together.

    Returns
    -------
    numpy.ndarray
        float64 prices, one per broadcast element.

    Raises
    ------
    DataQualityError
        If an input is non-finite or out of its domain; names the field and row.
    ParameterError
        If the shapes do not broadcast or ``right`` is not a call/put code.

    Notes
    -----
    With :math:`\omega = +1` for a call and :math:`-1` for a put,

    .. math::
        V = \omega\left(S e^{-qT} N(\omega d_1) - K e^{-rT} N(\omega d_2)\right),\quad
        d_{1,2} = \frac{\ln(S/K) + (r - q)T}{\sigma\sqrt{T}} \pm \tfrac12 \sigma\sqrt{T}.

    When :math:`\sigma\sqrt{T} = 0` the price is the deterministic limit
    :math:`\max(\omega(S e^{-qT} - K e^{-rT}), 0)`.

    References
    ----------
    .. [1] Black, F., Scholes, M. (1973). The pricing of options and corporate
       liabilities. Journal of Political Economy, 81(3), 637-654.
    .. [2] Merton, R. C. (1973). Theory of rational option pricing. Bell Journal of
       Economics and Management Science, 4(1), 141-183.

    Examples
    --------
    >>> round(float(bsm_price(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, "call")[0]), 4)
    10.4506
    """
    w = _parse_right(right)
    n, a = _broadcast(w.shape, spot=spot, strike=strike, time=time, rate=rate,
                      div_yield=div_yield, vol=vol)
    _check_domain(a)
    w = _parse_right(w, n)
    out = np.empty(n)
    _k.bsm_prices(a["spot"], a["strike"], a["time"], a["rate"], a["div_yield"], a["vol"], w, out)
    return out


def _greeks_arrays(a: dict[str, np.ndarray], w: np.ndarray) -> dict[str, np.ndarray]:
    n = w.shape[0]
    out = {c: np.empty(n) for c in GREEK_COLUMNS}
    _k.bsm_greeks(a["spot"], a["strike"], a["time"], a["rate"], a["div_yield"], a["vol"], w,
                  *(out[c] for c in GREEK_COLUMNS))
    return out


def bsm_greeks(spot: Any, strike: Any, time: Any, rate: Any, div_yield: Any, vol: Any,
               right: Any) -> pd.DataFrame:
    r"""Return Black-Scholes-Merton price, delta, gamma, vega, theta and rho.

    Parameters
    ----------
    spot, strike, time, rate, div_yield, vol, right
        As in :func:`bsm_price`; scalars or 1-D arrays that broadcast together.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`GREEK_COLUMNS`, one row per broadcast element:
        ``price``; ``delta`` (per 1.0 of spot); ``gamma`` (per 1.0 of spot, squared);
        ``vega`` (per 1.00 of vol); ``theta`` (per year of calendar time); ``rho``
        (per 1.00 of rate).

    Raises
    ------
    DataQualityError, ParameterError
        As :func:`bsm_price`.

    Notes
    -----
    With :math:`F = S e^{(r-q)T}`, :math:`\phi` the normal density and :math:`\omega`
    the right,

    .. math::
        \Delta = \omega e^{-qT} N(\omega d_1),\quad
        \Gamma = \frac{e^{-qT}\phi(d_1)}{S\sigma\sqrt{T}},\quad
        \nu = S e^{-qT}\phi(d_1)\sqrt{T},

    .. math::
        \Theta = -\frac{S e^{-qT}\phi(d_1)\sigma}{2\sqrt{T}}
                 + \omega\left(q S e^{-qT} N(\omega d_1) - r K e^{-rT} N(\omega d_2)\right),\quad
        \rho = \omega K T e^{-rT} N(\omega d_2).

    At :math:`\sigma\sqrt{T} = 0` the Greeks of the deterministic limit are returned
    (gamma and vega 0; delta :math:`\omega e^{-qT}` when the forward is in the money,
    else 0).

    References
    ----------
    .. [1] Hull, J. C. (2018). Options, Futures, and Other Derivatives, 10th ed.,
       Pearson, ch. 19 (The Greek letters).
    .. [2] Haug, E. G. (2007). The Complete Guide to Option Pricing Formulas, 2nd ed.,
       McGraw-Hill, ch. 2.

    Examples
    --------
    >>> g = bsm_greeks(100.0, 100.0, 1.0, 0.05, 0.0, 0.2, "call")
    >>> round(float(g["delta"].iloc[0]), 4), round(float(g["vega"].iloc[0]), 4)
    (0.6368, 37.524)
    """
    w = _parse_right(right)
    n, a = _broadcast(w.shape, spot=spot, strike=strike, time=time, rate=rate,
                      div_yield=div_yield, vol=vol)
    _check_domain(a)
    w = _parse_right(w, n)
    return pd.DataFrame(_greeks_arrays(a, w), columns=list(GREEK_COLUMNS))


def implied_vol_with_status(price: Any, spot: Any, strike: Any, time: Any, rate: Any,
                            div_yield: Any, right: Any, *, tol: float = 1e-12,
                            max_iter: int = 100) -> tuple[np.ndarray, np.ndarray]:
    r"""Return implied volatilities and a per-option :class:`qlib.enums.IvStatus`.

    Parameters
    ----------
    price
        Option prices in the strike's currency.
    spot, strike, time, rate, div_yield, right
        As in :func:`bsm_price`; ``time`` must be > 0. Scalars or 1-D arrays.
    tol
        Tolerance relative to the time value: stop when
        :math:`|V(\sigma) - p| \le tol \cdot (p - \text{lower bound})`, or when the
        bracket is down to float64 resolution. The attainable vol accuracy is about
        :math:`\epsilon\, p / \nu` (:math:`\epsilon` = 2.2e-16, :math:`\nu` = vega):
        when the time value is near the rounding noise of the price (deep in or out of
        the money, very short expiry) the vol is only loosely determined by the price.
    max_iter
        Iteration limit of the Newton/bisection loop.

    Returns
    -------
    vol : numpy.ndarray
        float64 implied vols; ``NaN`` exactly where ``status != IvStatus.OK``.
    status : numpy.ndarray
        int8 :class:`qlib.enums.IvStatus` codes.

    Raises
    ------
    ParameterError
        If shapes do not broadcast, ``right`` is not a call/put code, or ``tol`` /
        ``max_iter`` are out of range. Bad data is reported in ``status``, not raised.

    Notes
    -----
    No-arbitrage bounds are checked first:

    .. math::
        \max(\omega(S e^{-qT} - K e^{-rT}), 0) < p <
        \begin{cases} S e^{-qT} & \text{call} \\ K e^{-rT} & \text{put}\end{cases}

    A price outside them gets ``BELOW_LOWER_BOUND`` / ``ABOVE_UPPER_BOUND``. An
    in-the-money option is then replaced by its out-of-the-money twin through put-call
    parity (same vol; its price is the time value :math:`p - \text{lower bound}`), so
    the solver never works against a large intrinsic value. :math:`V(\sigma)` is
    strictly increasing, so a bracket :math:`[lo, hi]` is found by doubling ``hi``
    from 1.0; Newton steps on the log price,
    :math:`\sigma \leftarrow \sigma - (\ln V - \ln p)\, V / \nu`, start from the
    Manaster-Koehler point :math:`\sigma_0 = \sqrt{2|\ln(F/K)|/T}` [1]_, and a step
    that leaves the bracket or does not halve the previous step is replaced by
    bisection (``rtsafe``, [2]_), so the iteration always converges (about 6
    iterations on average, at most ~20 on random inputs). Jaeckel's "Let's be
    rational" [3]_ would need two steps everywhere; it is not implemented here.

    References
    ----------
    .. [1] Manaster, S., Koehler, G. (1982). The calculation of implied variances
       from the Black-Scholes model: a note. Journal of Finance, 37(1), 227-230.
    .. [2] Press, W. H. et al. (2007). Numerical Recipes, 3rd ed., Cambridge
       University Press, section 9.4 (rtsafe).
    .. [3] Jaeckel, P. (2015). Let's be rational. Wilmott, 2015(75), 40-53.
    """
    if not (isinstance(tol, float) and 0.0 < tol < 1e-2):
        raise ParameterError(f"tol must be a float in (0, 1e-2), was {tol!r}")
    if not (isinstance(max_iter, (int, np.integer)) and 1 <= max_iter <= 10_000):
        raise ParameterError(f"max_iter must be an int in [1, 10000], was {max_iter!r}")
    w = _parse_right(right)
    n, a = _broadcast(w.shape, price=price, spot=spot, strike=strike, time=time, rate=rate,
                      div_yield=div_yield)
    w = _parse_right(w, n)
    vol = np.empty(n)
    status = np.empty(n, dtype=np.int8)
    _k.implied_vols(a["price"], a["spot"], a["strike"], a["time"], a["rate"], a["div_yield"], w,
                    float(tol), int(max_iter), vol, status)
    vol[status != IvStatus.OK] = np.nan
    return vol, status


def implied_vol(price: Any, spot: Any, strike: Any, time: Any, rate: Any, div_yield: Any,
                right: Any, *, tol: float = 1e-12, max_iter: int = 100) -> np.ndarray:
    """Return implied volatilities, raising on the first option that has none.

    Same parameters and method as :func:`implied_vol_with_status`.

    Returns
    -------
    numpy.ndarray
        float64 implied vols (per square-root year, as fractions), all finite.

    Raises
    ------
    DataQualityError
        For the first row whose status is not ``OK``: the message names the row, the
        status, the price and the no-arbitrage bounds.
    ParameterError
        As :func:`implied_vol_with_status`.

    Examples
    --------
    >>> round(float(implied_vol(10.450583572185565, 100.0, 100.0, 1.0, 0.05, 0.0, "call")[0]), 10)
    0.2
    """
    vol, status = implied_vol_with_status(price, spot, strike, time, rate, div_yield, right,
                                          tol=tol, max_iter=max_iter)
    bad = status != IvStatus.OK
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        w_all = _parse_right(right)
        n, a = _broadcast(w_all.shape, price=price, spot=spot, strike=strike, time=time,
                          rate=rate, div_yield=div_yield)
        w = int(_parse_right(w_all, n)[i])
        s, k, t, r, q = (a[f][i] for f in ("spot", "strike", "time", "rate", "div_yield"))
        with np.errstate(all="ignore"):
            lower = max(w * (s * np.exp(-q * t) - k * np.exp(-r * t)), 0.0)
            upper = s * np.exp(-q * t) if w > 0 else k * np.exp(-r * t)
        raise DataQualityError(
            f"no implied vol for price[{i}] = {float(a['price'][i])!r}: {IvStatus(status[i]).name}"
            f" (no-arbitrage bounds ({lower:.10g}, {upper:.10g}), right {OptionRight(w).name},"
            f" spot {float(s)!r}, strike {float(k)!r}, time {float(t)!r}); {int(bad.sum())} of {n} rows failed",
            row=i, field="price", value=a["price"][i],
        )
    return vol


# --- books of options and underlyings -------------------------------------------------------


@dataclass(frozen=True)
class _Book:
    """Positions resolved to flat arrays (one element per position row)."""

    instrument_id: np.ndarray  # object
    underlying_id: np.ndarray  # object
    is_option: np.ndarray  # bool
    units: np.ndarray  # qty * multiplier (units of underlying per 1.0 of option price)
    spot: np.ndarray
    strike: np.ndarray
    time: np.ndarray
    rate: np.ndarray
    div_yield: np.ndarray
    vol: np.ndarray
    right: np.ndarray  # int8, 1 for underlyings (unused)


def _lookup(mapping: Mapping[str, float] | pd.Series | float, key: str, field: str) -> float:
    if isinstance(mapping, (int, float, np.floating, np.integer)):
        return float(mapping)
    try:
        return float(mapping[key])
    except KeyError:
        raise ParameterError(f"{field} has no entry for {key!r}") from None


def _resolve_book(positions: pd.DataFrame, contracts: Mapping[str, OptionContract],
                  spot: Mapping[str, float] | pd.Series, *, rate: float,
                  div_yield: Mapping[str, float] | float, asof: Any) -> _Book:
    if not isinstance(positions, pd.DataFrame):
        raise SchemaError(f"positions must be a pandas DataFrame, was {type(positions).__name__}")
    for col in ("instrument_id", "qty"):
        if col not in positions.columns:
            raise SchemaError(f"positions needs column {col!r}; columns were {list(positions.columns)}")
    if len(positions) == 0:
        raise ParameterError("positions is empty")
    if not isinstance(spot, (Mapping, pd.Series)):
        raise ParameterError(f"spot must map underlying id -> price, was {type(spot).__name__}")
    asof_ns = _to_ns(asof, "asof")
    ids = positions["instrument_id"].to_numpy(dtype=object)
    try:
        qty = positions["qty"].to_numpy(dtype=np.float64)
        has_vol = "vol" in positions.columns
        vols = positions["vol"].to_numpy(dtype=np.float64) if has_vol else np.full(len(ids), np.nan)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"positions columns 'qty' and 'vol' must be numeric: {exc}") from exc
    n = len(ids)
    und = np.empty(n, dtype=object)
    is_opt = np.zeros(n, dtype=bool)
    units = np.empty(n)
    s = np.empty(n)
    k = np.ones(n)
    t = np.zeros(n)
    q = np.zeros(n)
    v = np.zeros(n)
    w = np.ones(n, dtype=np.int8)
    for i, iid in enumerate(ids):
        if not np.isfinite(qty[i]):
            raise DataQualityError(f"qty was {float(qty[i])!r} for {iid!r}, expected a finite number",
                                   row=i, field="qty", value=qty[i])
        c = contracts.get(iid)
        if c is None:
            und[i] = iid
            units[i] = qty[i]
        else:
            und[i] = c.underlying_id
            is_opt[i] = True
            units[i] = qty[i] * c.multiplier
            k[i] = c.strike
            t[i] = (c.expiry - asof_ns) / _NS_PER_YEAR
            if t[i] < 0:
                raise DataQualityError(f"option {iid!r} expired before asof (time {t[i]:.6g} years)",
                                       row=i, field="expiry", value=c.expiry)
            w[i] = int(c.right)
            v[i] = vols[i]
            if not (np.isfinite(v[i]) and v[i] >= 0):
                raise DataQualityError(f"vol was {float(v[i])!r} for option {iid!r}, expected a finite"
                                       " number >= 0 (positions column 'vol')",
                                       row=i, field="vol", value=v[i])
            q[i] = _lookup(div_yield, und[i], "div_yield")
        s[i] = _lookup(spot, und[i], "spot")
        if not (np.isfinite(s[i]) and s[i] > 0):
            raise DataQualityError(f"spot of {und[i]!r} was {float(s[i])!r}, expected > 0",
                                   row=i, field="spot", value=s[i])
    if not np.isfinite(rate):
        raise ParameterError(f"rate must be finite, was {rate!r}")
    if not np.all(np.isfinite(q)):
        raise ParameterError(f"div_yield must be finite, was {div_yield!r}")
    return _Book(ids, und, is_opt, units, s, k, t, np.full(n, float(rate)), q, v, w)


def _book_greeks(b: _Book, spot: np.ndarray, vol: np.ndarray, time: np.ndarray,
                 rate: np.ndarray) -> dict[str, np.ndarray]:
    """Per-position value and Greeks in currency (multiplier applied), raw units."""
    g = _greeks_arrays({"spot": spot, "strike": b.strike, "time": time, "rate": rate,
                        "div_yield": b.div_yield, "vol": vol}, b.right)
    opt = b.is_option
    out = {
        "value": np.where(opt, g["price"], spot) * b.units,
        "delta": np.where(opt, g["delta"], 1.0) * b.units,
        "gamma": np.where(opt, g["gamma"], 0.0) * b.units,
        "vega": np.where(opt, g["vega"], 0.0) * b.units,
        "theta": np.where(opt, g["theta"], 0.0) * b.units,
        "rho": np.where(opt, g["rho"], 0.0) * b.units,
    }
    for v in out.values():
        v += 0.0  # turn -0.0 (short underlying x zero Greek) into 0.0
    return out


def _report(g: dict[str, np.ndarray], spot: np.ndarray) -> dict[str, np.ndarray]:
    return {
        "value": g["value"],
        "delta": g["delta"],
        "delta_cash": g["delta"] * spot,
        "gamma": g["gamma"],
        "gamma_cash_1pct": g["gamma"] * spot * spot / 100.0,
        "vega_1pt": g["vega"] / 100.0,
        "theta_1d": g["theta"] / 365.0,
        "rho_1pt": g["rho"] / 100.0,
    }




def portfolio_greeks(positions: pd.DataFrame, contracts: Mapping[str, OptionContract],
                     spot: Mapping[str, float] | pd.Series, *, rate: float,
                     asof: Any, div_yield: Mapping[str, float] | float = 0.0,
                     by: str = "underlying") -> pd.DataFrame:
    """Return the value and Greeks of a book of European options and underlyings.

    Parameters
    ----------
    positions
        DataFrame with columns ``instrument_id`` (str), ``qty`` (contracts for options,
        units of the underlying for underlyings; signed, negative is short) and, for
        option rows, ``vol`` (BSM volatility per square-root year). A row whose
        ``instrument_id`` is a key of ``contracts`` is an option; any other row is an
        underlying, valued linearly at ``spot[instrument_id]``.
    contracts
        ``instrument_id -> OptionContract`` for every option in ``positions``.
    spot
        Price of each underlying by id.
    rate
        Continuously compounded risk-free rate per year.
    asof
        Valuation time (int64 ns UTC or Timestamp); time to expiry is ACT/365 from it.
    div_yield
        Dividend/carry yield per year: one number, or one per underlying id.
    by
        ``"underlying"`` (one row per underlying id, sums) or ``"position"`` (one row
        per positions row, same index as ``positions``).

    Returns
    -------
    pandas.DataFrame
        Columns, all in currency with multipliers applied: ``value``
        (mark-to-model value); ``delta`` (P&L per 1.0 move of the underlying price,
        i.e. underlying units); ``delta_cash`` (delta x spot, P&L per 100 % move);
        ``gamma`` (change of ``delta`` per 1.0 move); ``gamma_cash_1pct``
        (gamma x spot^2 / 100, change of ``delta_cash`` per 1 % move); ``vega_1pt``
        (P&L per +1 vol point, 0.01); ``theta_1d`` (P&L per calendar day, theta / 365);
        ``rho_1pt`` (P&L per +1 percentage point of rate).

    Raises
    ------
    SchemaError
        If ``positions`` misses a column.
    DataQualityError
        If a quantity, vol or spot is invalid or an option has expired before ``asof``.
    ParameterError
        If a spot or dividend yield is missing, or ``by`` is unknown.

    Notes
    -----
    Position Greeks are :math:`q_i m_i G_i` with quantity :math:`q_i`, multiplier
    :math:`m_i` and per-unit BSM Greek :math:`G_i` (:func:`bsm_greeks`); an underlying
    has delta 1 and no other Greek. Sums are taken per underlying.
    """
    if by not in ("underlying", "position"):
        raise ParameterError(f"by must be 'underlying' or 'position', was {by!r}")
    b = _resolve_book(positions, contracts, spot, rate=rate, div_yield=div_yield, asof=asof)
    rep = _report(_book_greeks(b, b.spot, b.vol, b.time, b.rate), b.spot)
    df = pd.DataFrame(rep, index=positions.index)
    if by == "position":
        df.insert(0, "underlying_id", b.underlying_id)
        df.insert(0, "instrument_id", b.instrument_id)
        return df
    df["underlying_id"] = b.underlying_id
    return df.groupby("underlying_id", sort=True).sum()


def greeks_ladder(positions: pd.DataFrame, contracts: Mapping[str, OptionContract],
                  spot: Mapping[str, float] | pd.Series, *, rate: float, asof: Any,
                  div_yield: Mapping[str, float] | float = 0.0,
                  spot_shifts: Any = (-0.10, -0.05, -0.02, -0.01, 0.0, 0.01, 0.02, 0.05, 0.10),
                  ) -> pd.DataFrame:
    """Return the book's value, P&L and Greeks across a grid of relative spot shifts.

    Every underlying is moved to ``spot * (1 + shift)`` at once and the book is fully
    revalued with BSM (vols, rate and time unchanged). Since an underlying's options
    depend on its own spot only, each underlying's rows equal a ladder on that
    underlying alone.

    Parameters
    ----------
    positions, contracts, spot, rate, asof, div_yield
        As in :func:`portfolio_greeks`.
    spot_shifts
        Relative shifts (> -1), e.g. ``0.05`` for +5 %; must include nothing
        non-finite.

    Returns
    -------
    pandas.DataFrame
        Index ``(underlying_id, spot_shift)``; columns ``spot`` (shifted price), ``pnl``
        (value minus value at the unshifted spot) and the columns of
        :func:`portfolio_greeks`.

    Raises
    ------
    ParameterError
        If a shift is not finite or <= -1, plus everything :func:`portfolio_greeks`
        raises.
    """
    shifts = np.atleast_1d(np.asarray(spot_shifts, dtype=np.float64))
    if shifts.ndim != 1 or shifts.size == 0:
        raise ParameterError(f"spot_shifts must be a non-empty 1-D sequence, was {spot_shifts!r}")
    bad = ~np.isfinite(shifts) | (shifts <= -1.0)
    if bad.any():
        raise ParameterError(f"spot_shifts[{int(np.flatnonzero(bad)[0])}] was"
                             f" {float(shifts[bad][0])!r}, expected a finite number > -1")
    b = _resolve_book(positions, contracts, spot, rate=rate, div_yield=div_yield, asof=asof)
    base = _book_greeks(b, b.spot, b.vol, b.time, b.rate)["value"]
    frames = []
    for h in shifts:
        s = b.spot * (1.0 + h)
        rep = _report(_book_greeks(b, s, b.vol, b.time, b.rate), s)
        df = pd.DataFrame(rep)
        df.insert(0, "pnl", rep["value"] - base)
        df["underlying_id"] = b.underlying_id
        df["spot_shift"] = h
        agg = df.groupby(["underlying_id", "spot_shift"], sort=False).sum()
        spot_by_und = pd.Series(s, index=b.underlying_id).groupby(level=0).first()
        agg.insert(0, "spot", spot_by_und.reindex(agg.index.get_level_values(0)).to_numpy())
        frames.append(agg)
    return pd.concat(frames).sort_index()
