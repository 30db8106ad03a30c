"""``run_entries(..., jobs=N)`` / ``run-all --jobs N``: reports in parallel processes give
the same outcomes, state file and index as one after the other."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from qlib.errors import ParameterError
from qlib.reports import run_entries
from qlib.reports.__main__ import main
from qlib.reports.schedule import STATE_FILE, ScheduleEntry

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "reports"
NOW = dt.datetime(2024, 8, 8, 7, 0, tzinfo=dt.timezone.utc)


def _entries() -> list[ScheduleEntry]:
    return [
        ScheduleEntry("tiny", FIXTURES / "tiny_plot.ipynb", {"n": 4}),
        ScheduleEntry("broken", FIXTURES / "failing.ipynb", every="hourly",
                      at=dt.time(0, 15)),
        ScheduleEntry("plain", FIXTURES / "no_params.ipynb"),
    ]


def test_run_entries_jobs_2_same_outcomes_state_and_index_as_serial(tmp_path, capsys):
    out = tmp_path / "reports" / "out"
    outcomes = run_entries(_entries(), out, now=NOW, jobs=2)

    assert [o.name for o in outcomes] == ["tiny", "broken", "plain"]  # entry order
    assert [o.status for o in outcomes] == ["ok", "failed", "ok"]
    assert outcomes[0].path.endswith("2024-08-08.html")
    assert outcomes[1].error and "failing.ipynb" in outcomes[1].error
    assert all(o.seconds > 0 for o in outcomes)
    printed = capsys.readouterr().out.splitlines()
    assert sorted(line.split()[0] for line in printed if not line.startswith(" ")) == \
        ["broken", "plain", "tiny"]
    state = json.loads((out / STATE_FILE).read_text())
    assert {k: v["status"] for k, v in state.items()} == \
        {"tiny": "ok", "broken": "failed", "plain": "ok"}
    assert state["broken"]["slot"] == "2024-08-08T06:15:00+00:00"
    index = (tmp_path / "reports" / "index.html").read_text()
    assert all(name in index for name in ("tiny", "broken", "plain"))
    assert len(list((out / "tiny").glob("*.html"))) == 1


@pytest.mark.parametrize("jobs", [0, -2, 1.5, True, "2"])
def test_run_entries_bad_jobs_raises_parameter_error(tmp_path, jobs):
    with pytest.raises(ParameterError, match=f"jobs was {jobs!r}, expected a positive int"):
        run_entries(_entries(), tmp_path / "out", now=NOW, jobs=jobs)
    assert not (tmp_path / "out").exists()


def test_cli_run_all_jobs_zero_exits_2(tmp_path, capsys):
    schedule = tmp_path / "reports" / "schedule.yml"
    schedule.parent.mkdir(parents=True)
    schedule.write_text(f"version: 1\nroot: {FIXTURES}\nreports:\n"
                        "  - name: tiny\n    notebook: tiny_plot.ipynb\n    every: daily\n")

    assert main(["run-all", "--schedule", str(schedule), "--jobs", "0"]) == 2
    assert "jobs was 0, expected a positive int" in capsys.readouterr().err


def test_run_entries_jobs_2_starts_the_longest_last_run_first(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    # "broken" has an unreadable record (unknown: first), then "plain" (90 s), "tiny" (5 s)
    (out / STATE_FILE).write_text(json.dumps({
        "tiny": {"status": "ok", "seconds": 5.0}, "plain": {"status": "ok", "seconds": 90.0},
        "broken": {"seconds": "x"}, "other": {"seconds": 500.0}}))
    started = []

    import qlib.reports.schedule as schedule

    class InlinePool:  # records the submission order, runs nothing
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def submit(self, fn, entry, *args):
            from concurrent.futures import Future

            started.append(entry.name)
            fut = Future()
            fut.set_result(schedule.RunOutcome(entry.name, "ok", 1.0, "x"))
            return fut

    import concurrent.futures

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", InlinePool)
    outcomes = run_entries(_entries(), out, now=NOW, jobs=2, echo=False)

    assert started == ["broken", "plain", "tiny"]  # unknown first, then longest first
    assert [o.name for o in outcomes] == ["tiny", "broken", "plain"]  # entry order
    state = json.loads((out / STATE_FILE).read_text())
    assert state["plain"]["seconds"] == 1.0 and state["other"]["seconds"] == 500.0
