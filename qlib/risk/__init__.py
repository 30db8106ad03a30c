"""Pre-trade risk, kill switch and related risk controls.

Public names are listed explicitly in ``__all__``; add new ones with small,
additive edits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qlib._lazy import lazy_exports, sources

if TYPE_CHECKING:  # what the lazy loading below binds, spelled out for type checkers
    from qlib.risk._frequency import periods_per_year
    from qlib.risk.config import RiskConfig
    from qlib.risk.greeks import (
        OptionContract,
        bsm_greeks,
        bsm_price,
        greeks_ladder,
        implied_vol,
        implied_vol_with_status,
        portfolio_greeks,
    )
    from qlib.risk.performance import (
        annual_return,
        calmar_ratio,
        downside_risk,
        hit_rate,
        max_drawdown,
        max_drawdown_duration,
        omega_ratio,
        sharpe_ratio,
        sortino_ratio,
        tail_ratio,
        turnover,
    )
    from qlib.risk.pretrade import JOURNAL_COLUMNS, PreTradeRisk
    from qlib.risk.returns import (
        VAR_METHODS,
        metric_table,
        pretrade_latency_sample,
        returns_from_mid,
        rolling_var,
        sample_options_book,
        sample_scenarios,
        var_by_method,
    )
    from qlib.risk.stress import (
        Scenario,
        load_scenarios,
        scenarios_from_dict,
        stress_test,
        worst_interval,
    )
    from qlib.risk.var import (
        VaRBacktest,
        VaREstimate,
        backtest_var,
        christoffersen_independence,
        expected_shortfall,
        kupiec_pof,
        value_at_risk,
        var_estimate,
    )

#: Submodule -> the public names it defines. They are imported on first use (PEP 562
#: ``__getattr__``), so importing this package does not import every dependency of every
#: submodule (scipy, plotly, ...). ``tests/unit/test_lazy_imports.py`` keeps this table,
#: the ``TYPE_CHECKING`` imports and ``__all__`` in step.
_LAZY: dict[str, tuple[str, ...]] = {
    "qlib.risk._frequency": ("periods_per_year",),
    "qlib.risk.config": ("RiskConfig",),
    "qlib.risk.greeks": (
        "OptionContract",
        "bsm_greeks",
        "bsm_price",
        "greeks_ladder",
        "implied_vol",
        "implied_vol_with_status",
        "portfolio_greeks",
    ),
    "qlib.risk.performance": (
        "annual_return",
        "calmar_ratio",
        "downside_risk",
        "hit_rate",
        "max_drawdown",
        "max_drawdown_duration",
        "omega_ratio",
        "sharpe_ratio",
        "sortino_ratio",
        "tail_ratio",
        "turnover",
    ),
    "qlib.risk.pretrade": ("JOURNAL_COLUMNS", "PreTradeRisk"),
    "qlib.risk.returns": (
        "VAR_METHODS",
        "metric_table",
        "pretrade_latency_sample",
        "returns_from_mid",
        "rolling_var",
        "sample_options_book",
        "sample_scenarios",
        "var_by_method",
    ),
    "qlib.risk.stress": (
        "Scenario",
        "load_scenarios",
        "scenarios_from_dict",
        "stress_test",
        "worst_interval",
    ),
    "qlib.risk.var": (
        "VaRBacktest",
        "VaREstimate",
        "backtest_var",
        "christoffersen_independence",
        "expected_shortfall",
        "kupiec_pof",
        "value_at_risk",
        "var_estimate",
    ),
}
_SOURCE = sources(_LAZY)

__all__: list[str] = [
    "JOURNAL_COLUMNS",
    "PreTradeRisk",
    "RiskConfig",
    "OptionContract",
    "Scenario",
    "bsm_greeks",
    "bsm_price",
    "greeks_ladder",
    "implied_vol",
    "implied_vol_with_status",
    "load_scenarios",
    "portfolio_greeks",
    "scenarios_from_dict",
    "stress_test",
    "worst_interval",
    "periods_per_year",
    "annual_return",
    "calmar_ratio",
    "downside_risk",
    "hit_rate",
    "max_drawdown",
    "max_drawdown_duration",
    "omega_ratio",
    "sharpe_ratio",
    "sortino_ratio",
    "tail_ratio",
    "turnover",
    "VaRBacktest",
    "VaREstimate",
    "backtest_var",
    "christoffersen_independence",
    "expected_shortfall",
    "kupiec_pof",
    "value_at_risk",
    "var_estimate",
    "VAR_METHODS",
    "metric_table",
    "pretrade_latency_sample",
    "returns_from_mid",
    "rolling_var",
    "sample_options_book",
    "sample_scenarios",
    "var_by_method",
]


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__)
