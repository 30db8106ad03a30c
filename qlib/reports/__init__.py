"""Reports: parameterised notebooks executed by papermill into HTML, on a schedule.

``run(notebook, parameters)`` runs one notebook into ``reports/out/<name>/<date>.html``;
``reports/schedule.yml`` lists the scheduled ones, run by ``python -m qlib.reports``
(``run-all``, ``due``, ``run``). See ``reports/README.md``.
"""

from qlib.reports.run import (
    DEFAULT_TIMEOUT,
    ReportResult,
    check_parameters,
    parse_cli_parameters,
    run,
    write_index,
)
from qlib.reports.schedule import (
    RunOutcome,
    ScheduleEntry,
    due_entries,
    last_slot,
    load_schedule,
    run_due,
    run_entries,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "ReportResult",
    "RunOutcome",
    "ScheduleEntry",
    "check_parameters",
    "due_entries",
    "last_slot",
    "load_schedule",
    "parse_cli_parameters",
    "run",
    "run_due",
    "run_entries",
    "write_index",
]
