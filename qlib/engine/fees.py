"""The backtest's fee model: maker and taker fees in basis points, and a fee per unit."""

from __future__ import annotations

import math
from dataclasses import dataclass

from qlib.errors import ParameterError
from qlib.instrument import Instrument

__all__ = ["Fees"]


@dataclass(frozen=True)
class Fees:
    r"""Fees charged on each of our fills.

    .. math:: \text{fee} = q \, p \, v \, \frac{b}{10^4} + q \, c

    with :math:`q` the filled quantity, :math:`p` the price in ticks, :math:`v` the
    tick value (``tick_size * multiplier``), :math:`b` the maker or taker rate in basis
    points (negative: a rebate) and :math:`c` the fee per unit of quantity (exchange and
    clearing fees of futures, per-share fees of equities).

    Parameters
    ----------
    maker_bps, taker_bps
        Fee rates of passive and aggressive fills, basis points of notional;
        a negative maker rate is a rebate.
    per_qty
        Fixed fee per unit of quantity, quote currency (>= 0).

    Raises
    ------
    ParameterError
        A non-finite rate, a negative ``per_qty``, or a taker rate below the
        maker rate's negative (an aggressive fill paid to trade).
    """

    maker_bps: float = 0.0
    taker_bps: float = 0.0
    per_qty: float = 0.0

    def __post_init__(self) -> None:
        for name in ("maker_bps", "taker_bps", "per_qty"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ParameterError(f"Fees.{name} must be a finite number, was {v!r}")
        if self.per_qty < 0:
            raise ParameterError(f"Fees.per_qty must be >= 0, was {self.per_qty!r}")
        if self.taker_bps < 0:
            raise ParameterError(f"Fees.taker_bps must be >= 0 (takers pay), was {self.taker_bps!r}")

    @classmethod
    def from_instrument(cls, instrument: Instrument) -> Fees:
        """The maker and taker rates of ``instrument``'s fee schedule."""
        return cls(maker_bps=float(instrument.maker_fee_bps), taker_bps=float(instrument.taker_fee_bps))
