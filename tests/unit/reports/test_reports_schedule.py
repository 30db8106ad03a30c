"""Tests for qlib.reports.schedule and the command line (run-all, due, run)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from qlib.errors import ParameterError
from qlib.reports import due_entries, last_slot, load_schedule
from qlib.reports.__main__ import main
from qlib.reports.schedule import STATE_FILE, ScheduleEntry

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
UTC = dt.timezone.utc


def write_schedule(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "reports" / "schedule.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"version: 1\nroot: {FIXTURES}\n" + body)
    return path


TINY_ENTRY = """
  - name: tiny
    notebook: tiny_plot.ipynb
    parameters: {n: 4}
    every: daily
    at: "06:00"
"""
FAILING_ENTRY = """
  - name: broken
    notebook: failing.ipynb
    every: hourly
    at: "00:15"
"""


# ------------------------------------------------------------------ the project's schedule
def test_schedule_yml_lists_every_notebook_in_notebooks_dir():
    entries = load_schedule(ROOT / "reports" / "schedule.yml")
    scheduled = {e.notebook for e in entries}
    notebooks = {p.resolve() for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert notebooks, "no notebooks found"
    assert notebooks - scheduled == set(), f"not in reports/schedule.yml: {notebooks - scheduled}"


def test_schedule_yml_entries_use_the_simulated_market_defaults():
    for e in load_schedule(ROOT / "reports" / "schedule.yml"):
        assert e.parameters.get("source", "simulated") == "simulated", e.name
        assert not e.parameters.get("path"), e.name


# ------------------------------------------------------------------ validation
def test_load_schedule_valid_file_returns_entries(tmp_path):
    entries = load_schedule(write_schedule(tmp_path, "reports:" + TINY_ENTRY + FAILING_ENTRY))
    assert [e.name for e in entries] == ["tiny", "broken"]
    assert entries[0].notebook == FIXTURES / "tiny_plot.ipynb"
    assert entries[0].parameters == {"n": 4}
    assert entries[1].every == "hourly" and entries[1].at == dt.time(0, 15)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("reports:" + TINY_ENTRY + "    evry: daily\n",
         r"unknown key 'evry' in entry 0 \('tiny'\)"),
        ("reports:" + TINY_ENTRY + "colour: red\n", r"unknown key 'colour' at the top"),
        ("reports:" + TINY_ENTRY.replace("daily", "monthly"), r"every in entry 0.*'monthly'"),
        ("reports:" + TINY_ENTRY.replace('"06:00"', '"6am"'), r"at in entry 0.*'6am'"),
        ("reports:" + TINY_ENTRY.replace('"06:00"', '"24:00"'), r"at in entry 0"),
        ("reports:" + TINY_ENTRY + "    weekday: friday\n", r"weekday in entry 0.*weekly"),
        ("reports:" + TINY_ENTRY + TINY_ENTRY, r"'tiny' appears more than once"),
        ("reports:" + TINY_ENTRY.replace("tiny_plot", "missing"), r"notebook in entry 0.*missing"),
        ("reports:" + TINY_ENTRY.replace("    every: daily\n", ""), r"entry 0 \('tiny'\).*'every'"),
        ("reports: []\n", "non-empty list"),
        ("reports: [\n", "not valid YAML"),
    ],
)
def test_load_schedule_invalid_entry_raises_naming_key_and_entry(tmp_path, body, match):
    with pytest.raises(ParameterError, match=match):
        load_schedule(write_schedule(tmp_path, body))


# ------------------------------------------------------------------ due times
def _entry(every: str, at: dt.time, weekday: int | None = None) -> ScheduleEntry:
    return ScheduleEntry("x", FIXTURES / "tiny_plot.ipynb", {}, every, at, weekday)


@pytest.mark.parametrize(
    ("every", "at", "weekday", "now", "slot"),
    [
        ("daily", dt.time(6, 0), None, "2024-08-08T07:00", "2024-08-08T06:00"),
        ("daily", dt.time(6, 0), None, "2024-08-08T05:59", "2024-08-07T06:00"),
        ("daily", dt.time(6, 0), None, "2024-08-08T06:00", "2024-08-08T06:00"),
        ("hourly", dt.time(0, 15), None, "2024-08-08T07:20", "2024-08-08T07:15"),
        ("hourly", dt.time(0, 15), None, "2024-08-08T07:10", "2024-08-08T06:15"),
        ("weekly", dt.time(6, 0), 0, "2024-08-08T07:00", "2024-08-05T06:00"),  # Thu -> Mon
        ("weekly", dt.time(6, 0), 3, "2024-08-08T05:00", "2024-08-01T06:00"),  # Thu early
    ],
)
def test_last_slot_returns_latest_time_at_or_before_now(every, at, weekday, now, slot):
    got = last_slot(_entry(every, at, weekday), dt.datetime.fromisoformat(now).replace(tzinfo=UTC))
    assert got == dt.datetime.fromisoformat(slot).replace(tzinfo=UTC)


def test_due_entries_never_run_or_new_slot_is_due():
    e = _entry("daily", dt.time(6, 0))
    now = dt.datetime(2024, 8, 8, 7, tzinfo=UTC)
    assert due_entries([e], {}, now) == [e]
    ran = {"x": {"slot": "2024-08-08T06:00:00+00:00"}}
    assert due_entries([e], ran, now) == []
    assert due_entries([e], ran, now + dt.timedelta(days=1)) == [e]


# ------------------------------------------------------------------ command line
def test_cli_run_all_runs_every_entry_and_exits_1_when_one_fails(tmp_path, capsys):
    schedule = write_schedule(tmp_path, "reports:" + TINY_ENTRY + FAILING_ENTRY)
    code = main(["run-all", "--schedule", str(schedule)])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    tiny = next(line for line in lines if line.startswith("tiny "))
    broken = next(line for line in lines if line.startswith("broken "))
    assert " ok " in tiny and tiny.rstrip().endswith(".html")
    assert " failed " in broken
    assert "1 ok, 1 failed" in lines[-1]
    out = tmp_path / "reports" / "out"
    assert len(list((out / "tiny").glob("*.html"))) == 1
    assert len(list((out / "broken").glob("*.ipynb"))) == 1
    index = (tmp_path / "reports" / "index.html").read_text()
    assert "tiny" in index and "broken" in index
    state = json.loads((out / STATE_FILE).read_text())
    assert state["tiny"]["status"] == "ok" and state["broken"]["status"] == "failed"


def test_cli_due_runs_once_per_slot(tmp_path, capsys):
    schedule = write_schedule(tmp_path, "reports:" + TINY_ENTRY)
    assert main(["due", "--schedule", str(schedule), "--now", "2024-08-08T07:00"]) == 0
    first = capsys.readouterr().out
    assert "tiny" in first and "2024-08-08.html" in first
    assert main(["due", "--schedule", str(schedule), "--now", "2024-08-08T08:00"]) == 0
    assert "nothing due" in capsys.readouterr().out
    state = json.loads((tmp_path / "reports" / "out" / STATE_FILE).read_text())
    assert state["tiny"]["slot"] == "2024-08-08T06:00:00+00:00"


def test_cli_run_one_notebook_with_typed_parameters(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(FIXTURES / "tiny_plot.ipynb"), "-p", "n", "3", "-p", "title",
                 "cli", "--out-dir", str(out), "--name", "tiny_cli", "--date", "2024-08-08"])
    line = capsys.readouterr().out.strip()
    assert code == 0
    assert line.startswith("tiny_cli") and " ok " in line
    assert line.endswith(str(out / "tiny_cli" / "2024-08-08.html"))
    record = json.loads((out / "tiny_cli" / "2024-08-08.json").read_text())
    assert record["parameters"]["n"] == 3 and record["parameters"]["title"] == "cli"


def test_cli_run_unknown_parameter_exits_2_without_running(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["run", str(FIXTURES / "tiny_plot.ipynb"), "-p", "bogus", "1",
                 "--out-dir", str(out)])
    assert code == 2
    assert "unknown parameter 'bogus'" in capsys.readouterr().err
    assert not out.exists()


def test_cli_unknown_only_name_exits_2(tmp_path, capsys):
    schedule = write_schedule(tmp_path, "reports:" + TINY_ENTRY)
    assert main(["run-all", "--schedule", str(schedule), "--only", "nope"]) == 2
    assert "'nope'" in capsys.readouterr().err
