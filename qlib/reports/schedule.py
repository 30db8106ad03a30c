"""The report schedule (``reports/schedule.yml``): validated entries, due times, batch runs.

Format::

    version: 1
    root: ..                       # optional; notebook paths are relative to it
                                   # (itself relative to this file; default "..")
    reports:
      - name: data_tour            # report name: letters, digits, _ . -
        notebook: notebooks/00_data_tour.ipynb
        parameters: {}             # optional; checked against the parameters cell
        every: daily               # hourly | daily | weekly
        at: "06:00"                # UTC "HH:MM"; hourly uses the minutes only
        weekday: monday            # weekly only (default monday)

Unknown keys, at top level or in an entry, raise :class:`~qlib.errors.ParameterError`
naming the key and the entry.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qlib.errors import DataNotFoundError, ParameterError
from qlib.reports.run import _NAME_RE, _atomic_write_text, run, write_index

__all__ = [
    "EVERY",
    "RunOutcome",
    "ScheduleEntry",
    "STATE_FILE",
    "due_entries",
    "last_slot",
    "load_schedule",
    "run_due",
    "run_entries",
]

#: Allowed values of ``every``.
EVERY = ("hourly", "daily", "weekly")
#: Name of the JSON file of last runs, inside the reports' ``out_dir``.
STATE_FILE = "schedule_state.json"
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ENTRY_KEYS = {"name", "notebook", "parameters", "every", "at", "weekday"}
_TOP_KEYS = {"version", "root", "reports"}
_AT_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class ScheduleEntry:
    """One scheduled report.

    Attributes
    ----------
    name
        Report name (directory under ``out_dir``).
    notebook
        Absolute path of the notebook.
    parameters
        Parameters passed to :func:`qlib.reports.run`.
    every
        ``"hourly"``, ``"daily"`` or ``"weekly"``.
    at
        UTC time of day; for ``hourly`` only the minute counts.
    weekday
        0 = Monday ... 6 = Sunday, for ``weekly``; None otherwise.
    """

    name: str
    notebook: Path
    parameters: dict[str, Any] = field(default_factory=dict)
    every: str = "daily"
    at: dt.time = dt.time(0, 0)
    weekday: int | None = None


@dataclass
class RunOutcome:
    """One line of a batch run: what ran, how it ended, where the report is."""

    name: str
    status: str
    seconds: float
    path: str
    error: str = ""

    def line(self) -> str:
        """The one-line summary the CLI prints."""
        text = f"{self.name:<28} {self.status:<7} {self.seconds:8.1f}s  {self.path}"
        return text + (f"\n    {self.error}" if self.error else "")


def load_schedule(path: str | os.PathLike[str]) -> list[ScheduleEntry]:
    """Read and validate a schedule file.

    Parameters
    ----------
    path
        The YAML file.

    Returns
    -------
    list of ScheduleEntry
        In file order.

    Raises
    ------
    DataNotFoundError
        If the file does not exist (a ``FileNotFoundError``).
    ParameterError
        For invalid YAML, an unknown key (named, with its entry), a missing
        ``name``/``notebook``/``every``, a bad ``every``, ``at`` or ``weekday``, a
        duplicate name, or a notebook that does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(f"schedule file {str(path)!r} does not exist")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(f"schedule {path.name} is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise ParameterError(f"schedule {path.name} must be a mapping with 'reports', was {doc!r}")
    for key in doc:
        if key not in _TOP_KEYS:
            raise ParameterError(
                f"unknown key {key!r} at the top of schedule {path.name}; allowed: "
                f"{', '.join(sorted(_TOP_KEYS))}")
    if doc.get("version", 1) != 1:
        raise ParameterError(f"schedule version must be 1, was {doc.get('version')!r}")
    root = (path.parent / str(doc.get("root", ".."))).resolve()
    items = doc.get("reports")
    if not isinstance(items, list) or not items:
        raise ParameterError(
            f"schedule {path.name} needs a non-empty list 'reports', was {items!r}")
    entries: list[ScheduleEntry] = []
    for i, item in enumerate(items):
        entries.append(_entry(item, i, root, path.name))
    names = [e.name for e in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ParameterError(f"report name {dupes[0]!r} appears more than once in {path.name}")
    return entries


def _entry(item: Any, i: int, root: Path, file: str) -> ScheduleEntry:
    label = f"entry {i}" + (f" ({item.get('name')!r})" if isinstance(item, dict)
                            and "name" in item else "")
    if not isinstance(item, dict):
        raise ParameterError(f"{label} of {file} must be a mapping, was {item!r}")
    for key in item:
        if key not in _ENTRY_KEYS:
            raise ParameterError(
                f"unknown key {key!r} in {label} of {file}; allowed: "
                f"{', '.join(sorted(_ENTRY_KEYS))}")
    for key in ("name", "notebook", "every"):
        if key not in item:
            raise ParameterError(f"{label} of {file} has no {key!r}")
    name = item["name"]
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ParameterError(
            f"name in {label} of {file} must be letters, digits, '_', '.', '-', was {name!r}")
    notebook = (root / str(item["notebook"])).resolve()
    if notebook.suffix != ".ipynb" or not notebook.is_file():
        raise ParameterError(
            f"notebook in {label} of {file} must be an existing .ipynb, was"
            f" {item['notebook']!r} (resolved to {str(notebook)!r})")
    parameters = item.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise ParameterError(
            f"parameters in {label} of {file} must be a mapping, was {parameters!r}")
    every = item["every"]
    if every not in EVERY:
        raise ParameterError(f"every in {label} of {file} must be one of {EVERY}, was {every!r}")
    at_text = item.get("at", "00:00")
    m = _AT_RE.match(at_text) if isinstance(at_text, str) else None
    if m is None:
        raise ParameterError(
            f"at in {label} of {file} must be a quoted UTC time \"HH:MM\", was {at_text!r}")
    weekday = None
    if "weekday" in item:
        if every != "weekly":
            raise ParameterError(f"weekday in {label} of {file} is only allowed with every: weekly")
        if str(item["weekday"]).lower() not in _WEEKDAYS:
            raise ParameterError(
                f"weekday in {label} of {file} must be one of {_WEEKDAYS}, was {item['weekday']!r}")
        weekday = _WEEKDAYS.index(str(item["weekday"]).lower())
    elif every == "weekly":
        weekday = 0
    return ScheduleEntry(name=name, notebook=notebook, parameters=parameters, every=every,
                         at=dt.time(int(m.group(1)), int(m.group(2))), weekday=weekday)


# --------------------------------------------------------------------------- due times
def last_slot(entry: ScheduleEntry, now: dt.datetime) -> dt.datetime:
    """Return the latest scheduled time of ``entry`` at or before ``now`` (UTC)."""
    now = _utc(now)
    if entry.every == "hourly":
        slot = now.replace(minute=entry.at.minute, second=0, microsecond=0)
        return slot if slot <= now else slot - dt.timedelta(hours=1)
    slot = now.replace(hour=entry.at.hour, minute=entry.at.minute, second=0, microsecond=0)
    if entry.every == "daily":
        return slot if slot <= now else slot - dt.timedelta(days=1)
    slot -= dt.timedelta(days=(now.weekday() - int(entry.weekday or 0)) % 7)
    return slot if slot <= now else slot - dt.timedelta(days=7)


def due_entries(entries: list[ScheduleEntry], state: dict[str, Any],
                now: dt.datetime) -> list[ScheduleEntry]:
    """Return the entries whose latest slot is later than their last recorded run."""
    due = []
    for e in entries:
        last = state.get(e.name, {}).get("slot")
        if last is None or dt.datetime.fromisoformat(last) < last_slot(e, now):
            due.append(e)
    return due


def _utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        return t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc)


def _stamp(entry: ScheduleEntry, slot: dt.datetime) -> str:
    if entry.every == "hourly":
        return slot.strftime("%Y-%m-%dT%H%MZ")
    return slot.date().isoformat()


# --------------------------------------------------------------------------- runs
def _last_seconds(state: dict[str, Any], name: str) -> float:
    """Seconds ``name`` took at its last run, or ``inf`` when the state does not say."""
    seconds = state.get(name, {}).get("seconds") if isinstance(state.get(name), dict) else None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return float("inf")
    return float(seconds)


def _run_entry(entry: ScheduleEntry, out_dir: Path, stamp: str,
               run_options: dict[str, Any]) -> RunOutcome:
    """Run one entry and describe how it ended; never raises (a batch goes on)."""
    started = time.perf_counter()
    try:
        html = run(entry.notebook, entry.parameters, out_dir, name=entry.name,
                   run_date=stamp, **run_options)
        return RunOutcome(entry.name, "ok", time.perf_counter() - started, str(html))
    except Exception as exc:  # noqa: BLE001 - one failed report must not stop the batch
        return RunOutcome(entry.name, "failed", time.perf_counter() - started,
                          str(out_dir / entry.name), str(exc))


def run_entries(entries: list[ScheduleEntry], out_dir: str | os.PathLike[str], *,
                now: dt.datetime | None = None, run_date: str | None = None,
                echo: bool = True, jobs: int = 1, **run_options: Any) -> list[RunOutcome]:
    """Run each entry once, continuing after failures; record them in the state file.

    Parameters
    ----------
    entries
        Entries to run, in order.
    out_dir
        Reports directory (``reports/out``).
    now
        Time the slots are computed from (default: now, UTC).
    run_date
        File date stamp for every run; default: each entry's latest slot (date, or
        date and hour for hourly entries).
    echo
        Print one line per report as it finishes.
    jobs
        Reports run at the same time. 1 (default): one after the other, in this
        process, in the order of ``entries``. More: each report in its own process
        (``spawn``); a report's kernel spends much of its time on one core (loading,
        single backtests, figures), so on a 2-core machine a second report uses the
        other core meanwhile. They start longest first, by the seconds each took at its
        last run in the state file (entries without one first, in list order): the
        longest-processing-time-first rule (Graham, "Bounds on multiprocessing timing
        anomalies", SIAM J. Appl. Math. 17(2), 1969), so the long report does not start
        last. Outcomes, the state file and ``index.html`` are the same either way; each
        outcome is printed when its report finishes.
    **run_options
        Passed to :func:`qlib.reports.run` (``timeout``, ``kernel_name``).

    Returns
    -------
    list of RunOutcome
        In the order of ``entries``.

    Raises
    ------
    ParameterError
        If ``jobs`` is not a positive int.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(f"jobs was {jobs!r}, expected a positive int")
    now = _utc(now or dt.datetime.now(dt.timezone.utc))
    out_dir = Path(out_dir)
    slots = [last_slot(e, now) for e in entries]
    stamps = [run_date or _stamp(e, slot) for e, slot in zip(entries, slots, strict=True)]
    outcomes: list[RunOutcome | None] = [None] * len(entries)

    def finished(i: int, outcome: RunOutcome) -> None:
        _record(out_dir, entries[i].name, slots[i], outcome)
        outcomes[i] = outcome
        if echo:
            print(outcome.line(), flush=True)

    if jobs == 1 or len(entries) < 2:
        for i, e in enumerate(entries):
            finished(i, _run_entry(e, out_dir, stamps[i], run_options))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        previous = read_state(out_dir)
        order = sorted(range(len(entries)),
                       key=lambda i: -_last_seconds(previous, entries[i].name))
        with ProcessPoolExecutor(max_workers=min(jobs, len(entries)),
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_run_entry, entries[i], out_dir, stamps[i], run_options): i
                       for i in order}
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    outcome = fut.result()
                except Exception as exc:  # noqa: BLE001 - the report's process died
                    outcome = RunOutcome(entries[i].name, "failed", 0.0,
                                         str(out_dir / entries[i].name),
                                         f"report process failed: {type(exc).__name__}: {exc}")
                finished(i, outcome)
        write_index(out_dir)  # the reports' processes each wrote it; once more with all rows
    return [o for o in outcomes if o is not None]


def run_due(schedule: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None = None, *,
            now: dt.datetime | None = None, echo: bool = True,
            **run_options: Any) -> list[RunOutcome]:
    """Run the entries of ``schedule`` whose time has come since their last run.

    ``out_dir`` defaults to ``out/`` beside the schedule file; the state of last
    runs is ``<out_dir>/schedule_state.json``.
    """
    entries = load_schedule(schedule)
    out = Path(out_dir) if out_dir is not None else Path(schedule).parent / "out"
    now = _utc(now or dt.datetime.now(dt.timezone.utc))
    return run_entries(due_entries(entries, read_state(out), now), out, now=now, echo=echo,
                       **run_options)


def read_state(out_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Return the last-run state (``{name: {"slot", "status", "seconds", "finished_at"}}``)."""
    path = Path(out_dir) / STATE_FILE
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ParameterError(f"schedule state {str(path)!r} is not valid JSON: {exc}") from exc
    return state if isinstance(state, dict) else {}


def _record(out_dir: Path, name: str, slot: dt.datetime, outcome: RunOutcome) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    state = read_state(out_dir)
    state[name] = {"slot": slot.isoformat(), "status": outcome.status,
                   "seconds": round(outcome.seconds, 1),
                   "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    _atomic_write_text(out_dir / STATE_FILE, json.dumps(state, indent=1, sort_keys=True))
