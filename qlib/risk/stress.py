r"""Stress tests: named market scenarios applied to a book by full revaluation.

A :class:`Scenario` moves spot (relative shocks, globally or per underlying), implied
volatility (scaled and/or shifted, in absolute vol units), the risk-free rate and the
clock. :func:`stress_test` revalues every option of a book with Black-Scholes-Merton
under each scenario (underlyings linearly) and tabulates the P&L. Scenarios load from
dicts or YAML (:func:`scenarios_from_dict`, :func:`load_scenarios`), and
:func:`worst_interval` turns the worst historical move of a given length into one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
import yaml

from qlib.errors import (
    DataNotFoundError,
    DataQualityError,
    InsufficientDataError,
    ParameterError,
)
from qlib.risk import _greeks_kernels as _k
from qlib.risk.greeks import OptionContract, _Book, _resolve_book

__all__ = [
    "Scenario",
    "load_scenarios",
    "scenarios_from_dict",
    "stress_test",
    "worst_interval",
]


def _finite(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be a number, was {value!r}")
    if not math.isfinite(value):
        raise ParameterError(f"{name} must be finite, was {float(value)!r}")
    return float(value)


@dataclass(frozen=True)
class Scenario:
    r"""A named market move.

    Parameters
    ----------
    name
        Label of the scenario (the row of the :func:`stress_test` table).
    spot_shock
        Relative move of every underlying, :math:`S' = S(1 + \text{shock})` (> -1);
        ``-0.2`` is a 20 % fall.
    spot_shocks
        Per-underlying relative moves by id; they replace ``spot_shock`` for those ids.
        Ids absent from a book are ignored by it, so one scenario fits many books.
    vol_scale
        Multiplier of every option's vol (> 0).
    vol_shift
        Added to every option's vol after scaling, in vol units (``0.05`` is +5 vol
        points). A result below 0 is floored at 0 (the option is then priced at its
        deterministic limit).
    rate_shift
        Added to the risk-free rate (``0.01`` is +100 bp).
    days
        Calendar days that pass (>= 0): options lose time value, and those that expire
        within the horizon are worth their payoff at the shocked spot.
    description
        Free text (``worst_interval`` records the replayed window here).

    Raises
    ------
    ParameterError
        If a field is of the wrong type or out of range.

    Notes
    -----
    Under the scenario an option with vol :math:`\sigma` and time :math:`T` is valued at
    :math:`V(S(1+s_u), K, \max(T - d/365, 0), r + \Delta r, q,
    \max(\lambda\sigma + \Delta\sigma, 0))`.
    """

    name: str
    spot_shock: float = 0.0
    spot_shocks: Mapping[str, float] = field(default_factory=dict)
    vol_scale: float = 1.0
    vol_shift: float = 0.0
    rate_shift: float = 0.0
    days: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"name must be a non-empty str, was {self.name!r}")
        shock = _finite("spot_shock", self.spot_shock)
        if shock <= -1.0:
            raise ParameterError(f"spot_shock must be > -1, was {shock!r}")
        if not isinstance(self.spot_shocks, Mapping):
            raise ParameterError(f"spot_shocks must be a mapping id -> shock, was {self.spot_shocks!r}")
        shocks = {}
        for key, value in self.spot_shocks.items():
            if not isinstance(key, str):
                raise ParameterError(f"spot_shocks keys must be instrument ids (str), was {key!r}")
            v = _finite(f"spot_shocks[{key!r}]", value)
            if v <= -1.0:
                raise ParameterError(f"spot_shocks[{key!r}] must be > -1, was {v!r}")
            shocks[key] = v
        scale = _finite("vol_scale", self.vol_scale)
        if scale <= 0:
            raise ParameterError(f"vol_scale must be > 0, was {scale!r}")
        days = _finite("days", self.days)
        if days < 0:
            raise ParameterError(f"days must be >= 0, was {days!r}")
        if not isinstance(self.description, str):
            raise ParameterError(f"description must be a str, was {self.description!r}")
        object.__setattr__(self, "spot_shock", shock)
        object.__setattr__(self, "spot_shocks", MappingProxyType(shocks))
        object.__setattr__(self, "vol_scale", scale)
        object.__setattr__(self, "vol_shift", _finite("vol_shift", self.vol_shift))
        object.__setattr__(self, "rate_shift", _finite("rate_shift", self.rate_shift))
        object.__setattr__(self, "days", days)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build a scenario from a mapping of its field names; unknown keys raise.

        Raises
        ------
        ParameterError
            If ``data`` is not a mapping, has an unknown key or lacks ``name``.
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"a scenario must be a mapping, was {data!r}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ParameterError(f"unknown scenario key(s) {unknown} in {data.get('name')!r};"
                                 f" known keys are {sorted(known)}")
        if "name" not in data:
            raise ParameterError(f"scenario {dict(data)!r} has no 'name'")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict (the inverse of :meth:`from_dict`)."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["spot_shocks"] = dict(self.spot_shocks)
        return out


def scenarios_from_dict(data: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Scenario]:
    """Build scenarios from ``{"scenarios": [...]}`` or a list of scenario mappings.

    Parameters
    ----------
    data
        Either a list of mappings (each with :class:`Scenario` field names) or a mapping
        whose only key is ``"scenarios"`` holding such a list.

    Returns
    -------
    list of Scenario

    Raises
    ------
    ParameterError
        On an unknown key, a bad value, an empty list or duplicate names.
    """
    if isinstance(data, Mapping):
        extra = sorted(set(data) - {"scenarios"})
        if extra or "scenarios" not in data:
            raise ParameterError(f"expected a mapping with the one key 'scenarios', keys were {sorted(data)}")
        data = data["scenarios"]
    if isinstance(data, (str, bytes)) or not isinstance(data, Sequence) or len(data) == 0:
        raise ParameterError(f"scenarios must be a non-empty list, was {data!r}")
    out = [Scenario.from_dict(d) for d in data]
    _check_unique(out)
    return out


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read scenarios from a YAML file (same layout as :func:`scenarios_from_dict`).

    Examples
    --------
    A file such as::

        scenarios:
          - {name: crash, spot_shock: -0.2, vol_shift: 0.15}
          - {name: btc_only, spot_shocks: {BTCUSDT.BINANCE: -0.3}, days: 1}

    Raises
    ------
    qlib.errors.DataNotFoundError
        If the file does not exist.
    ParameterError
        If the YAML does not parse or does not describe scenarios.
    """
    p = Path(path)
    if not p.is_file():
        raise DataNotFoundError(f"scenario file {str(p)!r} does not exist")
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        raise ParameterError(f"scenario file {str(p)!r} is not valid YAML: {exc}") from exc
    return scenarios_from_dict(data)


def _check_unique(scenarios: Sequence[Scenario]) -> None:
    seen: set[str] = set()
    for s in scenarios:
        if not isinstance(s, Scenario):
            raise ParameterError(f"expected Scenario objects, was {type(s).__name__}")
        if s.name in seen:
            raise ParameterError(f"duplicate scenario name {s.name!r}")
        seen.add(s.name)


def _book_value(b: _Book, spot: np.ndarray, vol: np.ndarray, time: np.ndarray,
                rate: np.ndarray) -> np.ndarray:
    px = np.empty(spot.shape[0])
    _k.bsm_prices(spot, b.strike, time, rate, b.div_yield, vol, b.right, px)
    return np.where(b.is_option, px, spot) * b.units


def stress_test(positions: pd.DataFrame, contracts: Mapping[str, OptionContract],
                spot: Mapping[str, float] | pd.Series, scenarios: Sequence[Scenario], *,
                rate: float, asof: Any, div_yield: Mapping[str, float] | float = 0.0,
                ) -> pd.DataFrame:
    """Return the P&L of a book under each scenario, by full revaluation.

    Parameters
    ----------
    positions, contracts, spot, rate, asof, div_yield
        The book and market, as in :func:`qlib.risk.greeks.portfolio_greeks`.
    scenarios
        :class:`Scenario` objects with distinct names.

    Returns
    -------
    pandas.DataFrame
        Index ``scenario`` (names, in the given order); columns ``value_base`` and
        ``value_stressed`` (book value in currency, multipliers applied), ``pnl``
        (their difference), ``pnl_options`` and ``pnl_underlyings`` (its split).

    Raises
    ------
    ParameterError
        If ``scenarios`` is empty or has duplicate names, plus everything
        :func:`qlib.risk.greeks.portfolio_greeks` raises.

    Notes
    -----
    Options are revalued with the BSM formula (:func:`qlib.risk.greeks.bsm_price`),
    underlyings linearly: :math:`\\text{pnl} = q\\,S\\,s_u`. Dividend yields and
    strikes are unchanged; see :class:`Scenario` for the moved inputs.
    """
    if isinstance(scenarios, Scenario):
        scenarios = [scenarios]
    if len(scenarios) == 0:
        raise ParameterError("scenarios is empty")
    _check_unique(scenarios)
    b = _resolve_book(positions, contracts, spot, rate=rate, div_yield=div_yield, asof=asof)
    base = _book_value(b, b.spot, b.vol, b.time, b.rate)
    rows = []
    for sc in scenarios:
        shock = np.array([sc.spot_shocks.get(u, sc.spot_shock) for u in b.underlying_id])
        s = b.spot * (1.0 + shock)
        v = np.maximum(b.vol * sc.vol_scale + sc.vol_shift, 0.0)
        t = np.maximum(b.time - sc.days / 365.0, 0.0)
        stressed = _book_value(b, s, v, t, b.rate + sc.rate_shift)
        pnl = stressed - base
        rows.append({
            "value_base": base.sum(),
            "value_stressed": stressed.sum(),
            "pnl": pnl.sum(),
            "pnl_options": pnl[b.is_option].sum(),
            "pnl_underlyings": pnl[~b.is_option].sum(),
        })
    return pd.DataFrame(rows, index=pd.Index([sc.name for sc in scenarios], name="scenario"))


def worst_interval(returns: pd.Series | pd.DataFrame, length: int, *,
                   weights: Mapping[str, float] | None = None, name: str | None = None,
                   ) -> Scenario:
    r"""Find the worst historical move over ``length`` observations; return it as a scenario.

    Parameters
    ----------
    returns
        Simple returns per period (e.g. per minute). A Series gives a scenario that
        shocks every underlying by the series' compounded move (``spot_shock``); a
        DataFrame whose columns are underlying ids gives per-underlying shocks
        (``spot_shocks``) taken over one common window, a joint replay.
    length
        Window length in observations (>= 1).
    weights
        DataFrame only: weight per column defining "worst" (default equal weights);
        the window minimising :math:`\sum_j w_j \sum_{t \in W} \ln(1 + r_{j,t})` is chosen.
    name
        Scenario name (default ``"worst_<length>"``).

    Returns
    -------
    Scenario
        Shock(s) :math:`\prod_{t \in W}(1 + r_t) - 1` over the worst window
        :math:`W`; ``description`` names the window's first and last index labels.

    Raises
    ------
    InsufficientDataError
        If there are fewer than ``length`` observations.
    DataQualityError
        If a return is non-finite or <= -1 (the row and column are named).
    ParameterError
        If ``length`` is not a positive int, ``returns`` is of the wrong type or
        ``weights`` does not match the columns.

    Notes
    -----
    Log returns are summed over a sliding window in one pass
    (:func:`qlib.risk._greeks_kernels.worst_window`), so the search is O(n).

    References
    ----------
    .. [1] Basel Committee on Banking Supervision (2019). Minimum capital
       requirements for market risk, MAR33 (stressed expected shortfall calibrated
       to the most severe historical period).
    """
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ParameterError(f"length must be a positive int, was {length!r}")
    if isinstance(returns, pd.Series):
        frame = returns.to_frame(name="__all__")
    elif isinstance(returns, pd.DataFrame):
        frame = returns
        if frame.shape[1] == 0:
            raise ParameterError("returns has no columns")
    else:
        raise ParameterError(f"returns must be a pandas Series or DataFrame, was {type(returns).__name__}")
    n = len(frame)
    if n < length:
        raise InsufficientDataError(f"returns has {n} rows, needed at least length = {length}")
    r = frame.to_numpy(dtype=np.float64)
    bad = ~np.isfinite(r) | (r <= -1.0)
    if bad.any():
        i, j = (int(x) for x in np.argwhere(bad)[0])
        raise DataQualityError(f"return was {float(r[i, j])!r}, expected a finite number > -1",
                               row=i, field=str(frame.columns[j]), value=r[i, j])
    cols = [str(c) for c in frame.columns]
    if weights is None:
        w = np.full(len(cols), 1.0 / len(cols))
    else:
        if isinstance(returns, pd.Series):
            raise ParameterError("weights apply to a DataFrame of returns only")
        missing = sorted(set(cols) - set(weights)) + sorted(set(weights) - set(cols))
        if missing:
            raise ParameterError(f"weights keys must equal the columns {cols}; mismatched {missing}")
        w = np.array([_finite(f"weights[{c!r}]", weights[c]) for c in cols])
    logret = np.log1p(r)
    start, _ = _k.worst_window(np.ascontiguousarray(logret @ w), int(length))
    moves = np.expm1(logret[start:start + length].sum(axis=0))
    label = f"worst {length}-observation move, {frame.index[start]} .. {frame.index[start + length - 1]}"
    nm = name if name is not None else f"worst_{length}"
    if isinstance(returns, pd.Series):
        return Scenario(name=nm, spot_shock=float(moves[0]), description=label)
    return Scenario(name=nm, spot_shocks=dict(zip(cols, moves.tolist(), strict=True)),
                    description=label)
