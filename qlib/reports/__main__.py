"""Command line: ``python -m qlib.reports {run-all,due,run}`` (also ``qlib-reports``).

    python -m qlib.reports run-all                 # every entry of reports/schedule.yml, once
    python -m qlib.reports run-all --jobs 2        # two at a time, each in its own process
    python -m qlib.reports due                     # entries whose time has come (cron: hourly)
    python -m qlib.reports run notebooks/00_data_tour.ipynb -p source tardis -p path /data/x

One line per report (name, status, seconds, path); exit code 1 when any report
failed (the others still run), 2 for a usage or parameter error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from qlib.errors import EngineError, QlibError

DEFAULT_SCHEDULE = "reports/schedule.yml"
DEFAULT_OUT = "reports/out"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m qlib.reports",
                                description="Run qlib notebooks as HTML reports.")
    sub = p.add_subparsers(dest="command", required=True)
    for cmd, text in (("run-all", "run every scheduled report once"),
                      ("due", "run the scheduled reports whose time has come")):
        s = sub.add_parser(cmd, help=text, description=text)
        s.add_argument("--schedule", default=DEFAULT_SCHEDULE,
                       help=f"schedule file (default {DEFAULT_SCHEDULE})")
        s.add_argument("--out-dir", default=None,
                       help="reports directory (default: out/ beside the schedule)")
        s.add_argument("--only", action="append", default=None, metavar="NAME",
                       help="run only this entry (repeatable)")
        s.add_argument("--timeout", type=float, default=None, help="per-cell timeout, seconds")
        s.add_argument("--jobs", type=int, default=1, metavar="N",
                       help="reports run at the same time, each in its own process (default 1)")
        if cmd == "due":
            s.add_argument("--now", default=None,
                           help="pretend it is this UTC time (ISO), for testing a schedule")
    r = sub.add_parser("run", help="run one notebook", description="run one notebook")
    r.add_argument("notebook")
    r.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                   metavar=("NAME", "VALUE"), help="parameter (repeatable); typed by the notebook")
    r.add_argument("--name", default=None, help="report name (default: notebook stem)")
    r.add_argument("--out-dir", default=DEFAULT_OUT, help=f"default {DEFAULT_OUT}")
    r.add_argument("--date", default=None, help="file date stamp (default: today, UTC)")
    r.add_argument("--timeout", type=float, default=None, help="per-cell timeout, seconds")
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m qlib.reports`` and the ``qlib-reports`` script."""
    from qlib.reports.run import parse_cli_parameters, run
    from qlib.reports.schedule import (
        RunOutcome,
        due_entries,
        load_schedule,
        read_state,
        run_entries,
    )

    args = _parser().parse_args(argv)
    options = {} if args.timeout is None else {"timeout": args.timeout}
    try:
        if args.command == "run":
            params = parse_cli_parameters(args.notebook, args.parameter)
            started = time.perf_counter()
            name = args.name or Path(args.notebook).stem
            try:
                html = run(args.notebook, params, args.out_dir, name=args.name,
                           run_date=args.date, **options)
                outcome = RunOutcome(name, "ok", time.perf_counter() - started, str(html))
            except EngineError as exc:  # the notebook failed; bad input raises on (exit 2)
                outcome = RunOutcome(name, "failed", time.perf_counter() - started,
                                     str(Path(args.out_dir) / name), str(exc))
            print(outcome.line(), flush=True)
            return 0 if outcome.status == "ok" else 1

        entries = load_schedule(args.schedule)
        if args.only:
            unknown = sorted(set(args.only) - {e.name for e in entries})
            if unknown:
                raise QlibError(f"--only {unknown[0]!r} is not in {args.schedule}; entries: "
                                f"{', '.join(e.name for e in entries)}")
            entries = [e for e in entries if e.name in args.only]
        out = Path(args.out_dir) if args.out_dir else Path(args.schedule).parent / "out"
        now = dt.datetime.now(dt.timezone.utc)
        if args.command == "due":
            if args.now:
                now = dt.datetime.fromisoformat(args.now)
                now = now if now.tzinfo else now.replace(tzinfo=dt.timezone.utc)
            entries = due_entries(entries, read_state(out), now)
            if not entries:
                print("nothing due", flush=True)
            outcomes = run_entries(entries, out, now=now, jobs=args.jobs, **options)
        else:
            outcomes = run_entries(entries, out, now=now, run_date=now.date().isoformat(),
                                   jobs=args.jobs, **options)
    except (QlibError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = [o for o in outcomes if o.status != "ok"]
    if outcomes:
        print(f"{len(outcomes) - len(failed)} ok, {len(failed)} failed; index:"
              f" {out.parent / 'index.html'}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
