"""Notebooks 00-03 run under papermill on unseen variants of the shared data, with no
instrument given: the loaders take the instrument from the registry or the data.

The variants (``variant_data.py``) are the shared recordings rewritten as files we do not
hold: another symbol, another price precision, a stock under $1, float-formatted times.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import qlib.data as qd
from qlib.reports import run

from variant_data import VARIANTS

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOKS = {
    "data_tour": ("00_data_tour.ipynb", {}),
    "microstructure": ("01_microstructure.ipynb",
                       {"freq": "5s", "window": "2min", "vpin_buckets": 60, "vpin_window": 20}),
    "market_making": ("02_market_making.ipynb",
                      {"strategies": ["glft"], "focus": "glft", "order_qty": 1.0,
                       "max_position": 10.0, "latency_sweep_ms": [1], "queue_models": ["power"],
                       "gamma_grid": [0.1], "qty_grid": [1], "markout_horizons": ["1s"]}),
    "risk": ("03_risk.ipynb", {"freq": "5s", "window": 30}),
}

#: The inferred instrument facts each variant must produce with no instrument argument.
EXPECTED_TICK = {"binance_ethusdt": 0.01, "lobster_under_1usd": 0.0001,
                 "lobster_float_times": 0.01, "tardis_ethusdt": 0.001}


@pytest.fixture(scope="module")
def variants(tmp_path_factory, shared_data) -> dict[str, tuple[str, Path]]:
    out = tmp_path_factory.mktemp("variants")
    built = {}
    for name, (source, builder) in VARIANTS.items():
        try:
            built[name] = (source, builder(shared_data, out))
        except FileNotFoundError as exc:  # a data set missing from ../shared/data
            built[name] = (source, exc)
    return built


def _path(variants, name) -> tuple[str, Path]:
    source, path = variants[name]
    if isinstance(path, Exception):
        pytest.skip(f"shared data for {name} is absent: {path}")
    return source, path


@pytest.mark.realdata
@pytest.mark.parametrize("name", list(VARIANTS))
def test_load_variant_without_instrument_infers_the_grid(variants, name):
    source, path = _path(variants, name)

    data = qd.load(source, str(path))

    assert data.instrument.tick_size == pytest.approx(EXPECTED_TICK[name], rel=1e-12)
    facts = {i.fact for i in data.report.inferred}
    assert "tick_size" in facts or "instrument" in facts
    assert len(data) > 1000


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("notebook", list(NOTEBOOKS))
@pytest.mark.parametrize("name", list(VARIANTS))
def test_notebook_runs_on_variant_without_instrument(tmp_path, variants, name, notebook):
    source, path = _path(variants, name)
    file, extra = NOTEBOOKS[notebook]
    params = {"source": source, "path": str(path), **extra}

    html_path = run(ROOT / "notebooks" / file, params, tmp_path / "out",
                    name=f"{notebook}_{name}", run_date="2024-01-02")

    record = json.loads(html_path.with_suffix(".json").read_text())
    assert record["status"] == "ok"
    assert "Traceback" not in html_path.read_text()
