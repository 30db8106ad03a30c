"""Tradable instruments: identity, price grid, quantity grid and fees."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qlib.errors import DataQualityError, ParameterError

__all__ = ["Instrument"]

#: Largest distance from the tick grid, in ticks, accepted as float rounding noise.
_GRID_TOLERANCE = 1e-6


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds, for messages (``1.0``, not ``np.float64(1.0)``)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value


@dataclass(frozen=True)
class Instrument:
    """A tradable instrument and the terms a book, a backtest and a fee model need.

    Parameters
    ----------
    instrument_id
        ``"SYMBOL.VENUE"``, for example ``"BTCUSDT.BINANCE"`` (NautilusTrader's form).
    tick_size
        Price increment in ``currency`` (> 0). Prices inside kernels are integer
        multiples of it.
    lot_size
        Quantity increment (> 0), in shares, contracts or base asset.
    currency
        Quote currency of prices (ISO code or coin, e.g. ``"USD"``, ``"USDT"``).
    maker_fee_bps, taker_fee_bps
        Fees in basis points of notional; negative means a rebate.
    multiplier
        Contract multiplier (notional = price x qty x multiplier; 50 for ES,
        100 USD per contract for Binance COIN-M inverse contracts).
    inverse
        True for inverse (coin-margined) contracts, whose notional in the base
        coin is ``qty * multiplier / price``.

    Raises
    ------
    ParameterError
        If the id is not ``SYMBOL.VENUE`` or a size is not a positive finite number.
    """

    instrument_id: str
    tick_size: float
    lot_size: float = 1.0
    currency: str = "USD"
    maker_fee_bps: float = 0.0
    taker_fee_bps: float = 0.0
    multiplier: float = 1.0
    inverse: bool = False

    def __post_init__(self) -> None:
        parts = self.instrument_id.split(".")
        if len(parts) != 2 or not all(parts):
            raise ParameterError(
                f"instrument_id must be 'SYMBOL.VENUE', was {self.instrument_id!r}"
            )
        for name in ("tick_size", "lot_size", "multiplier"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and not isinstance(value, bool)
                    and math.isfinite(value) and value > 0):
                raise ParameterError(f"{name} must be a positive finite number, was {_plain(value)!r}")
        for name in ("maker_fee_bps", "taker_fee_bps"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ParameterError(f"{name} must be a finite number, was {_plain(value)!r}")

    @property
    def symbol(self) -> str:
        """The part of the id before the dot."""
        return self.instrument_id.split(".")[0]

    @property
    def venue(self) -> str:
        """The part of the id after the dot."""
        return self.instrument_id.split(".")[1]

    @property
    def price_decimals(self) -> int:
        """Number of decimals needed to print a price on the tick grid."""
        # the fewest decimals d with tick_size * 10**d whole (0.25 -> 2, not 1)
        d = max(0, -math.floor(math.log10(self.tick_size) + 1e-9))
        while d < 15 and abs(self.tick_size * 10**d - round(self.tick_size * 10**d)) > 1e-9:
            d += 1
        return d

    def to_ticks(self, px: np.ndarray | float, *, field: str = "price", file: str | None = None) -> np.ndarray:
        """Convert prices in ``currency`` to int64 ticks, refusing off-grid values.

        Parameters
        ----------
        px
            Prices (array or scalar) in the instrument's currency.
        field, file
            Named in the error message.

        Returns
        -------
        numpy.ndarray
            int64 ticks, ``round(px / tick_size)``.

        Raises
        ------
        DataQualityError
            If a price is not finite or lies off the tick grid by more than
            ``1e-6`` of a tick; the message names the first such row.
        """
        arr = np.asarray(px, dtype=np.float64)
        ticks_f = arr / self.tick_size
        bad = ~np.isfinite(ticks_f)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) if arr.ndim else 0
            raise DataQualityError(
                f"price was {float(arr.flat[row])!r}, expected a finite number",
                file=file, row=row, field=field, value=float(arr.flat[row]),
            )
        ticks = np.rint(ticks_f)
        off = np.abs(ticks_f - ticks) > _GRID_TOLERANCE * np.maximum(1.0, np.abs(ticks) * 1e-9)
        if off.any():
            row = int(np.flatnonzero(off)[0]) if arr.ndim else 0
            raise DataQualityError(
                f"price {float(arr.flat[row])!r} is not a multiple of tick_size {self.tick_size}"
                f" for {self.instrument_id}",
                file=file, row=row, field=field, value=float(arr.flat[row]),
            )
        return ticks.astype(np.int64)

    def to_price(self, px_tick: np.ndarray | int) -> np.ndarray:
        """Convert int64 ticks to float prices in ``currency``."""
        return np.round(np.asarray(px_tick, dtype=np.float64) * self.tick_size, self.price_decimals)
