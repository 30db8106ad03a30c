"""Pre-trade risk limits: one validated, frozen configuration, loadable from YAML."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from qlib.errors import DataNotFoundError, ParameterError

__all__ = ["RiskConfig"]

#: Largest token-bucket rate (per second) and burst: keeps the integer buckets of
#: :mod:`qlib.risk._pretrade_kernels` (nano-tokens in int64) far from overflow.
MAX_RATE = 1_000_000_000

# name -> (kind, minimum, minimum is exclusive)
_FLOAT_GE0 = ("float", 0.0, False)
_FLOAT_GT0 = ("float", 0.0, True)
_INT_GE0 = ("int", 0, False)
_INT_GT0 = ("int", 0, True)
_RULES: dict[str, tuple[str, float, bool]] = {
    "max_order_qty": _FLOAT_GE0,
    "max_order_notional": _FLOAT_GE0,
    "max_position_qty": _FLOAT_GE0,
    "max_gross_notional": _FLOAT_GE0,
    "collar_bps": _FLOAT_GT0,
    "max_orders_per_s": _INT_GT0,
    "order_burst": _INT_GT0,
    "max_msgs_per_s": _INT_GT0,
    "msg_burst": _INT_GT0,
    "max_open_orders": _INT_GE0,
    "max_daily_loss": _FLOAT_GE0,
    "max_drawdown": _FLOAT_GE0,
    "max_concentration": _FLOAT_GT0,
    "capital": _FLOAT_GE0,
    "margin_rate": _FLOAT_GT0,
    "max_rejects": _INT_GE0,
    "reject_window_ns": _INT_GT0,
    "max_md_age_ns": _INT_GE0,
    "max_latency_ns": _INT_GE0,
}


def _check_number(key: str, value: Any) -> None:
    kind, lo, strict = _RULES[key]
    ok_type = isinstance(value, int) if kind == "int" else isinstance(value, (int, float))
    if isinstance(value, bool) or not ok_type:
        want = "an integer" if kind == "int" else "a number"
        raise ParameterError(f"risk limit {key!r} was {value!r}, expected {want}")
    if not math.isfinite(value):
        raise ParameterError(f"risk limit {key!r} was {value!r}, expected a finite number")
    if (strict and value <= lo) or (not strict and value < lo):
        bound = "> 0" if strict else ">= 0"
        raise ParameterError(f"risk limit {key!r} was {value!r}, expected {bound}")


@dataclass(frozen=True)
class RiskConfig:
    """Limits of the pre-trade risk check and the kill switch, in one place.

    Every limit is optional: ``None`` switches its check off. Values are checked
    when the object is built (``ParameterError`` names the key and the value).
    Quantities are in the instrument's unit, notionals and P&L in the quote currency,
    times in int64 nanoseconds.

    Parameters
    ----------
    max_order_qty
        Largest quantity of one order (>= 0).
    max_order_notional
        Largest notional of one order, ``qty * px * tick_value`` (>= 0).
    max_position_qty
        Largest worst-case net position of every instrument (>= 0); see
        :meth:`qlib.risk.PreTradeRisk.check`.
    position_limits
        Per-instrument overrides of ``max_position_qty``, ``{"SYM.VENUE": qty}``;
        stored as a sorted tuple of pairs. Instruments not named get the default.
    max_gross_notional
        Largest gross exposure across instruments, open orders included (>= 0).
    collar_bps
        Price collar (fat-finger): a limit price may differ from the reference
        price by at most this many basis points (> 0).
    max_orders_per_s, order_burst
        Order-rate token bucket: refill rate (tokens per second, integer > 0) and
        capacity (default: the rate). ``order_burst`` needs ``max_orders_per_s``.
    max_msgs_per_s, msg_burst
        Message-rate token bucket (orders, cancels, modifies), as above.
    max_open_orders
        Largest number of open orders across instruments (>= 0).
    max_daily_loss
        Circuit breaker: the day's loss may reach this amount (>= 0); beyond it
        the kill switch trips.
    max_drawdown
        Circuit breaker on the fall of P&L from its high-water mark (>= 0).
    max_concentration
        Largest exposure of one instrument as a fraction of equity (> 0).
    capital
        Starting capital (>= 0); equity = capital + P&L. Must be > 0 when
        ``max_concentration`` or ``margin_rate`` is set.
    margin_rate
        Margin per unit of gross exposure (> 0; 0.1 is 10x leverage): an order
        is refused when ``gross * margin_rate > equity``.
    max_rejects, reject_window_ns
        Reject storm: more than ``max_rejects`` rejects within
        ``reject_window_ns`` (default one second) trip the kill switch.
    max_md_age_ns
        Stale market data: checking an order against a reference price older
        than this trips the kill switch.
    max_latency_ns
        Latency spike: an observed latency above this trips the kill switch.

    Raises
    ------
    ParameterError
        A value of the wrong type, non-finite, negative (or zero where it must be
        positive), a burst without its rate, or a missing capital.

    Examples
    --------
    >>> cfg = RiskConfig(max_order_qty=10, collar_bps=50)
    >>> cfg.collar_bps
    50
    >>> RiskConfig(collar_bps=0)
    Traceback (most recent call last):
    ...
    qlib.errors.ParameterError: risk limit 'collar_bps' was 0, expected > 0
    """

    max_order_qty: float | None = None
    max_order_notional: float | None = None
    max_position_qty: float | None = None
    position_limits: Mapping[str, float] | tuple[tuple[str, float], ...] = ()
    max_gross_notional: float | None = None
    collar_bps: float | None = None
    max_orders_per_s: int | None = None
    order_burst: int | None = None
    max_msgs_per_s: int | None = None
    msg_burst: int | None = None
    max_open_orders: int | None = None
    max_daily_loss: float | None = None
    max_drawdown: float | None = None
    max_concentration: float | None = None
    capital: float = 0.0
    margin_rate: float | None = None
    max_rejects: int | None = None
    reject_window_ns: int = 1_000_000_000
    max_md_age_ns: int | None = None
    max_latency_ns: int | None = None

    def __post_init__(self) -> None:
        for key in _RULES:
            value = getattr(self, key)
            if value is None and key not in ("capital", "reject_window_ns"):
                continue
            _check_number(key, value)
        for rate_key, burst_key in (
            ("max_orders_per_s", "order_burst"),
            ("max_msgs_per_s", "msg_burst"),
        ):
            rate, burst = getattr(self, rate_key), getattr(self, burst_key)
            if burst is not None and rate is None:
                raise ParameterError(f"risk limit {burst_key!r} was {burst!r} but {rate_key!r} is not set")
            for key, value in ((rate_key, rate), (burst_key, burst)):
                if value is not None and value > MAX_RATE:
                    raise ParameterError(f"risk limit {key!r} was {value!r}, expected <= {MAX_RATE}")
        if (self.max_concentration is not None or self.margin_rate is not None) and self.capital <= 0:
            raise ParameterError(
                f"risk limit 'capital' was {self.capital!r}, expected > 0 when "
                "'max_concentration' or 'margin_rate' is set"
            )
        raw = self.position_limits
        if isinstance(raw, Mapping):
            items = list(raw.items())
        elif isinstance(raw, tuple) and all(isinstance(p, tuple) and len(p) == 2 for p in raw):
            items = list(raw)
        else:
            raise ParameterError(
                f"risk limit 'position_limits' was {raw!r}, expected a mapping of instrument id to qty"
            )
        for inst_id, qty in items:
            if not isinstance(inst_id, str):
                raise ParameterError(f"risk limit 'position_limits' key was {inst_id!r}, expected a str")
            key = f"position_limits[{inst_id!r}]"
            if isinstance(qty, bool) or not isinstance(qty, (int, float)) or not math.isfinite(qty) or qty < 0:
                raise ParameterError(f"risk limit {key} was {qty!r}, expected a finite number >= 0")
        object.__setattr__(self, "position_limits", tuple(sorted(items)))

    @property
    def order_burst_or_rate(self) -> int | None:
        """Capacity of the order bucket: ``order_burst``, else ``max_orders_per_s``."""
        return self.order_burst if self.order_burst is not None else self.max_orders_per_s

    @property
    def msg_burst_or_rate(self) -> int | None:
        """Capacity of the message bucket: ``msg_burst``, else ``max_msgs_per_s``."""
        return self.msg_burst if self.msg_burst is not None else self.max_msgs_per_s

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskConfig:
        """Build a config from a mapping; an unknown key raises ``ParameterError``.

        Examples
        --------
        >>> RiskConfig.from_dict({"max_open_orders": 5}).max_open_orders
        5
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"risk config was {type(data).__name__}, expected a mapping")
        known = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in known:
                raise ParameterError(
                    f"unknown risk check or setting {key!r}; known: {', '.join(known)}"
                )
        return cls(**dict(data))

    @classmethod
    def from_yaml(cls, path: str | Path) -> RiskConfig:
        """Load a config from a YAML file holding one flat mapping of limits.

        Raises
        ------
        DataNotFoundError
            The file does not exist.
        ParameterError
            The YAML is not a mapping, or a key or value is bad (see the class).
        """
        p = Path(path)
        if not p.is_file():
            raise DataNotFoundError(f"risk config file {str(p)!r} does not exist")
        try:
            data = yaml.safe_load(p.read_text())
        except yaml.YAMLError as exc:
            raise ParameterError(f"risk config file {str(p)!r} is not valid YAML: {exc}") from exc
        if data is None:
            data = {}
        return cls.from_dict(data)
