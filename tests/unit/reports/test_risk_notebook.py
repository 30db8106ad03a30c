"""notebooks/03_risk.ipynb runs under papermill on the simulated market and on a real
LOBSTER day, with every figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qlib.reports import run

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "03_risk.ipynb"
LOBSTER_10 = "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"


def _outputs(ipynb: Path) -> str:
    nb = json.loads(ipynb.read_text())
    parts = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            parts.append(json.dumps(out.get("data", {}).get("text/html", "")))
            parts.append("".join(out.get("data", {}).get("text/plain", "")))
            parts.append("".join(out.get("text", "")))
    return "\n".join(parts)


def test_risk_notebook_simulated_default_runs_with_every_figure(tmp_path):
    html_path = run(NOTEBOOK, {}, tmp_path / "out",
                    name="risk_sim", run_date="2024-01-02")
    html = html_path.read_text()
    # VaR by method, backtest, drawdown, Greeks ladder, stress, latency
    assert html.count("Plotly.newPlot") >= 6
    text = _outputs(html_path.with_suffix(".ipynb"))
    assert "VaRBacktest" in text and "Not computable" not in text


@pytest.mark.realdata
@pytest.mark.slow
def test_risk_notebook_lobster_level_10_runs(tmp_path, shared_data):
    path = shared_data / LOBSTER_10
    if not path.exists():
        pytest.skip(f"{path} is absent")
    html_path = run(NOTEBOOK, {"source": "lobster", "path": str(path), "freq": "1min"},
                    tmp_path / "out", name="risk_lobster_10", run_date="2024-01-02")
    record = json.loads(html_path.with_suffix(".json").read_text())
    assert record["status"] == "ok"
    assert html_path.read_text().count("Plotly.newPlot") >= 6
    assert "VaRBacktest" in _outputs(html_path.with_suffix(".ipynb"))
