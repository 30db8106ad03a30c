"""The reports as ``make reports`` runs them (every entry of ``reports/schedule.yml``,
through ``run_entries``, the market-making sweeps on a dask LocalCluster), at CI size:
no cell shows a traceback or an error on stderr, and no page loads anything from the
network."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from report_checks import external_resources, output_problems

from qlib.reports import load_schedule, run_entries

ROOT = Path(__file__).resolve().parents[3]
SCHEDULE = ROOT / "reports" / "schedule.yml"
#: CI-sized parameters replacing the full-session sizes of the schedule (other parameters,
#: such as ``sweep_scheduler: local`` for the market-making report, are kept).
CI_SIZE = {
    "data_tour": {"options": {"n_events": 30_000}},
    "microstructure": {"options": {"n_events": 30_000}},
    "market_making": {"n_events": 30_000, "latency_sweep_ms": [0.5, 5],
                      "queue_models": ["risk_adverse", "log"], "gamma_grid": [0.05, 0.5],
                      "qty_grid": [50, 100], "sweep_workers": 2},
    "risk": {"options": {"n_events": 30_000}},
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    entries = load_schedule(SCHEDULE)
    assert sorted(e.name for e in entries) == sorted(CI_SIZE), "schedule changed: update CI_SIZE"
    entries = [dataclasses.replace(e, parameters={**e.parameters, **CI_SIZE[e.name]})
               for e in entries]
    assert dict(entries[[e.name for e in entries].index("market_making")].parameters)[
        "sweep_scheduler"] == "local"
    out = tmp_path_factory.mktemp("reports") / "out"
    outcomes = run_entries(entries, out, run_date="ci", echo=False)
    return {o.name: o for o in outcomes}


@pytest.mark.parametrize("name", sorted(CI_SIZE))
def test_report_has_no_traceback_or_stderr_error(reports, name):
    outcome = reports[name]
    assert outcome.status == "ok", outcome.error
    assert output_problems(Path(outcome.path).with_suffix(".ipynb")) == []


@pytest.mark.parametrize("name", sorted(CI_SIZE))
def test_report_html_requests_no_other_host(reports, name):
    html = Path(reports[name].path).read_text(encoding="utf-8")
    assert "Plotly.newPlot" in html
    assert external_resources(html) == []
