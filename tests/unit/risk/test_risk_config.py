"""RiskConfig: validation at load time, YAML loading."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from qlib.errors import DataNotFoundError, ParameterError, QlibError
from qlib.instrument import Instrument
from qlib.risk import PreTradeRisk, RiskConfig


def test_risk_config_defaults_all_checks_off() -> None:
    cfg = RiskConfig()
    assert cfg.max_order_qty is None and cfg.collar_bps is None and cfg.position_limits == ()


@pytest.mark.parametrize(
    "key",
    ["max_order_qty", "max_order_notional", "max_position_qty", "max_gross_notional",
     "max_open_orders", "max_daily_loss", "max_drawdown", "capital", "max_rejects",
     "max_md_age_ns", "max_latency_ns", "collar_bps", "max_orders_per_s", "max_msgs_per_s",
     "max_concentration", "margin_rate", "reject_window_ns"],
)
def test_risk_config_negative_limit_raises_naming_key(key: str) -> None:
    with pytest.raises(ParameterError, match=f"'{key}' was -1"):
        RiskConfig(**{key: -1})


@pytest.mark.parametrize(
    "key", ["collar_bps", "max_orders_per_s", "max_msgs_per_s", "max_concentration", "margin_rate",
            "reject_window_ns"]
)
def test_risk_config_zero_where_positive_needed_raises(key: str) -> None:
    with pytest.raises(ParameterError, match=f"'{key}' was 0, expected > 0"):
        RiskConfig(**{key: 0})


@pytest.mark.parametrize("key", ["max_order_qty", "max_open_orders", "max_position_qty"])
def test_risk_config_zero_limit_allowed(key: str) -> None:
    assert getattr(RiskConfig(**{key: 0}), key) == 0


@pytest.mark.parametrize(
    ("key", "value"),
    [("max_order_qty", True), ("max_order_qty", "10"), ("max_order_qty", math.nan),
     ("max_order_qty", math.inf), ("max_open_orders", 2.5), ("max_orders_per_s", 1.0)],
)
def test_risk_config_bad_type_or_nonfinite_raises(key: str, value: object) -> None:
    with pytest.raises(ParameterError, match=f"'{key}' was"):
        RiskConfig(**{key: value})


def test_risk_config_burst_without_rate_raises() -> None:
    with pytest.raises(ParameterError, match="'order_burst' was 5 but 'max_orders_per_s'"):
        RiskConfig(order_burst=5)


def test_risk_config_rate_above_cap_raises() -> None:
    with pytest.raises(ParameterError, match="'max_msgs_per_s' was"):
        RiskConfig(max_msgs_per_s=10**10)


def test_risk_config_burst_defaults_to_rate() -> None:
    cfg = RiskConfig(max_orders_per_s=7, max_msgs_per_s=9, msg_burst=20)
    assert (cfg.order_burst_or_rate, cfg.msg_burst_or_rate) == (7, 20)


@pytest.mark.parametrize("key", ["max_concentration", "margin_rate"])
def test_risk_config_capital_missing_raises(key: str) -> None:
    with pytest.raises(ParameterError, match="'capital' was 0.0"):
        RiskConfig(**{key: 0.5})


def test_risk_config_position_limits_sorted_tuple() -> None:
    cfg = RiskConfig(position_limits={"B.X": 2, "A.X": 1.5})
    assert cfg.position_limits == (("A.X", 1.5), ("B.X", 2))
    hash(cfg)  # frozen and hashable


@pytest.mark.parametrize("limits", [{"A.X": -1}, {"A.X": "1"}, {1: 2.0}, [("A.X", 1)]])
def test_risk_config_bad_position_limits_raises(limits: object) -> None:
    with pytest.raises(ParameterError, match="position_limits"):
        RiskConfig(position_limits=limits)  # type: ignore[arg-type]


def test_risk_config_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RiskConfig().max_order_qty = 1  # type: ignore[misc]


def test_risk_config_from_dict_unknown_check_raises_naming_key() -> None:
    with pytest.raises(ParameterError, match="unknown risk check or setting 'max_order_size'"):
        RiskConfig.from_dict({"max_order_size": 1})


def test_risk_config_from_dict_not_mapping_raises() -> None:
    with pytest.raises(ParameterError, match="expected a mapping"):
        RiskConfig.from_dict([1, 2])  # type: ignore[arg-type]


def test_risk_config_from_yaml_loads(tmp_path: Path) -> None:
    p = tmp_path / "risk.yaml"
    p.write_text(
        "max_order_qty: 5\ncollar_bps: 25.5\nmax_orders_per_s: 10\nposition_limits:\n  BTCUSDT.BINANCE: 3\n"
    )
    cfg = RiskConfig.from_yaml(p)
    assert cfg == RiskConfig(max_order_qty=5, collar_bps=25.5, max_orders_per_s=10,
                             position_limits={"BTCUSDT.BINANCE": 3})


@pytest.mark.parametrize(
    ("text", "match"),
    [("collar_bps: 0\n", "'collar_bps' was 0"), ("max_daily_loss: -5\n", "'max_daily_loss' was -5"),
     ("fat_finger: 3\n", "'fat_finger'"), ("- 1\n", "expected a mapping"), ("a: [\n", "not valid YAML")],
)
def test_risk_config_from_yaml_bad_raises_qlib_error(tmp_path: Path, text: str, match: str) -> None:
    p = tmp_path / "risk.yaml"
    p.write_text(text)
    with pytest.raises(QlibError, match=match):
        RiskConfig.from_yaml(p)


def test_risk_config_from_yaml_empty_is_default(tmp_path: Path) -> None:
    p = tmp_path / "risk.yaml"
    p.write_text("")
    assert RiskConfig.from_yaml(p) == RiskConfig()


def test_risk_config_from_yaml_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(DataNotFoundError, match="does not exist"):
        RiskConfig.from_yaml(tmp_path / "nope.yaml")


def test_pretrade_risk_position_limit_unknown_instrument_raises() -> None:
    cfg = RiskConfig(position_limits={"ETH.X": 1})
    with pytest.raises(ParameterError, match="'ETH.X'"):
        PreTradeRisk(cfg, [Instrument("BTC.X", tick_size=0.5)])


def test_pretrade_risk_inverse_instrument_raises() -> None:
    with pytest.raises(ParameterError, match="inverse"):
        PreTradeRisk(RiskConfig(), [Instrument("BTC.X", tick_size=0.5, inverse=True)])


@pytest.mark.parametrize("insts", [[], [Instrument("A.X", tick_size=1), Instrument("A.X", tick_size=1)]])
def test_pretrade_risk_bad_instruments_raise(insts: list[Instrument]) -> None:
    with pytest.raises(ParameterError, match="instruments"):
        PreTradeRisk(RiskConfig(), insts)
