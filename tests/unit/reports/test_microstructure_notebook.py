"""notebooks/01_microstructure.ipynb runs under papermill on the simulated market and on
every real data set in ../shared/data, showing "not computable" where a data set cannot
support a signal instead of failing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qlib.reports import run

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "01_microstructure.ipynb"

#: name -> (source, path relative to ../shared/data, extra parameters)
REAL = {
    "lobster_10": ("lobster", "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip",
                   {}),
    "lobster_1": ("lobster", "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_1.zip",
                  {"levels": 1}),
    # Binance sessions are 11 minutes: Kyle's lambda in 2-minute windows, fewer VPIN buckets
    "binance_spot": ("binance", "binance-spot-btcusdt-hftbacktest",
                     {"freq": "5s", "window": "2min", "vpin_buckets": 100, "vpin_window": 20}),
    "binance_usdm": ("binance", "binance-usdm-btcusdt-hftbacktest/btcusdt_20240808.gz",
                     {"freq": "5s", "window": "2min", "vpin_buckets": 100, "vpin_window": 20}),
    "binance_coinm": ("binance", "binance-coinm-btcusd-perp-hftbacktest",
                      {"freq": "5s", "window": "2min", "vpin_buckets": 100, "vpin_window": 20}),
    "tardis": ("tardis", "tardis-binance-futures-btcusdt-2020-02-22", {}),
    "databento": ("databento",
                  "databento-glbx-esh4-mbo-2023-12-25/esh4-glbx-mdp3-20231225.mbo.dbn.zst",
                  {"window": "15min"}),
}


def _outputs(ipynb: Path) -> str:
    nb = json.loads(ipynb.read_text())
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append(json.dumps(out.get("data", {}).get("text/html", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
            parts.append("".join(out.get("text", "")))
    return "\n".join(parts)


def test_microstructure_notebook_simulated_default_runs_with_every_figure(tmp_path):
    html_path = run(NOTEBOOK, {"options": {"n_events": 60_000}, "window": "10min"}, tmp_path / "out",
                    name="micro_sim", run_date="2024-01-02")
    html = html_path.read_text()
    # heatmap, profiles, OFI, Kyle, VPIN, PIN, mark-outs, clustering
    assert html.count("Plotly.newPlot") >= 8
    text = _outputs(html_path.with_suffix(".ipynb"))
    assert "PINResult" in text and "Not computable" not in text


@pytest.mark.realdata
@pytest.mark.slow
@pytest.mark.parametrize("name", list(REAL))
def test_microstructure_notebook_real_data_runs(tmp_path, shared_data, name):
    source, rel, extra = REAL[name]
    path = shared_data / rel
    if not path.exists():
        pytest.skip(f"{path} is absent")
    html_path = run(NOTEBOOK, {"source": source, "path": str(path), **extra}, tmp_path / "out",
                    name=f"micro_{name}", run_date="2024-01-02")
    record = json.loads(html_path.with_suffix(".json").read_text())
    assert record["status"] == "ok"
    html = html_path.read_text()
    assert html.count("Plotly.newPlot") >= 3  # at least the book, VPIN and the mark-outs
    if name == "tardis":  # quotes only: no depth beyond the touch
        assert "touch only" in html
