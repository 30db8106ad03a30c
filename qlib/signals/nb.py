r"""Public jitted API of the signal layer: incremental feature kernels and the feature names.

The batch signals of :mod:`qlib.signals` take whole frames; the kernels here update one
feature from the book levels or the trade seen so far, in O(1) per event (O(N) in the
levels), so an engine can fill a strategy's view at each decision without look-ahead.

Named features
--------------
A strategy lists the features it reads (:func:`qlib.strategy.strategy`'s ``features=``,
:attr:`qlib.strategy.CustomStrategy.features`); :func:`check_features` validates the names.
The engine computes each requested feature on the local book and tape (events whose
``ts_local`` is at or before the decision) and writes it to its view field:

============== =================== ==========================================================
name           view field          value at a decision
============== =================== ==========================================================
``imbalanceN`` ``imbalance``       :func:`imbalance_levels` of the first N levels
               (float64)           (``1 <= N <= VIEW_LEVELS``), in [-1, 1]
``microprice`` ``microprice_tick`` :func:`weighted_mid` of the best levels, ticks (float64)
``ofi``        ``ofi``             :func:`ofi_update` summed over the best-level changes
                                   since the previous decision, quantity units (float64)
``volatility`` ``volatility_tick`` :func:`ewma_vol_value`, half-life :data:`FEATURE_HALFLIFE_NS`,
                                   ticks per square-root second (float64)
``trade_flow`` ``trade_flow``      :func:`trade_flow_value`, half-life
                                   :data:`FEATURE_HALFLIFE_NS`, signed quantity (float64)
``levels``     ``bid_px_l``,       the first :data:`VIEW_LEVELS` non-empty levels per side,
               ``bid_qty_l``,      best first, in ticks and quantity units (0 / 0.0 past
               ``ask_px_l``,       the last level); filled also when ``imbalanceN`` is
               ``ask_qty_l``       requested, which reads them
============== =================== ==========================================================

A feature not requested is not computed (its field holds NaN; for ``levels``, the
quantities are NaN and the prices 0).

Which events move a feature (the engine's reading, :mod:`qlib.engine._view`): the
book-driven features (``ofi``, ``volatility``) are updated at the end of each exchange
event, the rows flagged :attr:`qlib.enums.EventFlag.LAST` (inside a diff or a resync the
book can be transiently crossed); a trade is every traded quantity once: ``TRADE`` and
``TRADE_SUBTICK`` with their aggressor side, ``EXECUTE`` (a resting order hit) with the
opposite of the resting side, and no ``TRADE`` flagged ``SUMMARY`` (its quantity is in
the ``EXECUTE`` rows of the same exchange event).

For an engine: one float64 state array of :data:`FEATURE_STATE_N` zeros per run;
:func:`features_on_book` after each change of the local best levels,
:func:`features_on_trade` after each local market trade, both in local-time order and
only for events with ``ts_local <= `` the decision time; then at the decision
:func:`features_at_decision` for ``ofi``, ``volatility`` and ``trade_flow``, and
:func:`imbalance_levels` / :func:`weighted_mid` on the local book levels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from qlib.dtypes import VIEW_LEVELS as _VIEW_LEVELS
from qlib.errors import ParameterError
from qlib.signals._feature_kernels import (
    FEATURE_STATE_N,
    FLOW_N,
    OFI_N,
    VOL_N,
    ewma_vol_update,
    ewma_vol_value,
    features_at_decision,
    features_on_book,
    features_on_trade,
    imbalance_levels,
    ofi_take,
    ofi_update,
    trade_flow_update,
    trade_flow_value,
    weighted_mid,
)

__all__ = [
    "FEATURES",
    "FEATURE_HALFLIFE_NS",
    "FEATURE_STATE_N",
    "FLOW_N",
    "OFI_N",
    "VIEW_LEVELS",
    "VOL_N",
    "check_features",
    "ewma_vol_update",
    "ewma_vol_value",
    "feature_field",
    "features_at_decision",
    "features_on_book",
    "features_on_trade",
    "imbalance_levels",
    "ofi_take",
    "ofi_update",
    "trade_flow_update",
    "trade_flow_value",
    "weighted_mid",
]

#: Book levels per side the view carries (``bid_px_l``/``bid_qty_l``/``ask_px_l``/``ask_qty_l``).
VIEW_LEVELS = _VIEW_LEVELS
#: Half-life of the ``volatility`` and ``trade_flow`` features: 1 s (short-horizon).
FEATURE_HALFLIFE_NS = 1_000_000_000

#: Feature name (``imbalanceN`` stands for ``imbalance1`` .. ``imbalance10``) -> view field.
FEATURES: dict[str, str] = {
    "imbalanceN": "imbalance",
    "microprice": "microprice_tick",
    "ofi": "ofi",
    "volatility": "volatility_tick",
    "trade_flow": "trade_flow",
    "levels": "levels",
}

_IMB = re.compile(r"imbalance([1-9][0-9]*)$")


def feature_field(name: str) -> tuple[str, int]:
    """Return ``(view field, levels)`` of feature ``name`` (levels 0 when it has none).

    Raises
    ------
    ParameterError
        For an unknown name, or ``imbalanceN`` with N outside ``1 .. VIEW_LEVELS``.
    """
    if not isinstance(name, str):
        raise ParameterError(f"feature name must be a string, was {name!r}")
    m = _IMB.match(name)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= VIEW_LEVELS:
            raise ParameterError(f"feature {name!r}: imbalance levels must be in "
                                 f"1..{VIEW_LEVELS}, was {n}")
        return "imbalance", n
    if name in FEATURES and name != "imbalanceN":
        return FEATURES[name], 0
    raise ParameterError(f"unknown feature {name!r}; known: imbalance1..imbalance"
                         f"{VIEW_LEVELS}, {', '.join(k for k in FEATURES if k != 'imbalanceN')}")


def check_features(names: Iterable[str]) -> tuple[str, ...]:
    """Validate feature names; return them as a tuple.

    Raises
    ------
    ParameterError
        For a name :func:`feature_field` rejects, a name given twice, or two ``imbalanceN``
        (the view has one ``imbalance`` field).
    """
    if isinstance(names, str):
        raise ParameterError(f"features must be a sequence of names, was the string {names!r}")
    try:
        out = tuple(names)
    except TypeError:
        raise ParameterError(f"features must be a sequence of names, was {names!r}") from None
    fields = [feature_field(n)[0] for n in out]
    dup = sorted({f for f in fields if fields.count(f) > 1})
    if dup:
        raise ParameterError(f"features {', '.join(out)} fill view field(s) "
                             f"{', '.join(dup)} twice; request one of each")
    return out
