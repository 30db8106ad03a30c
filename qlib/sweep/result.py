"""The outcome of a sweep: one DataFrame and a few views of it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from qlib.sweep.errors import SweepError

if TYPE_CHECKING:
    import plotly.graph_objects as go

__all__ = ["SweepResult"]

_MAX_LISTED = 20


@dataclass(frozen=True)
class SweepResult:
    """Rows of a sweep, one per task, in the order of the grid x days product.

    Attributes
    ----------
    frame
        One row per task, index ``task`` (position in the grid x days product, grid
        outer, days inner). Columns: the parameters, ``day`` (``None`` without days),
        the result columns (NaN in failed rows), ``status`` ("ok"/"error"), ``error``
        ("ExceptionType: message") and ``traceback`` (both missing in ok rows),
        ``elapsed_s`` (seconds in ``fn``, last attempt), ``worker`` (worker address, or
        ``"sync"``) and ``attempts`` (calls of ``fn``; 0 if it never got called).
    warm_s
        Seconds the warm hook took, per worker address (``{"sync": s}`` in-process).
    elapsed_s
        Wall time of the whole :func:`~qlib.sweep.sweep` call in seconds, cluster
        start-up, warm-up and shutdown included.
    params
        Parameter names (the parameter columns of ``frame``).
    """

    frame: pd.DataFrame
    warm_s: dict[str, float] = field(default_factory=dict)
    elapsed_s: float = 0.0
    params: tuple[str, ...] = ()

    @property
    def ok(self) -> pd.DataFrame:
        """Rows whose task returned a result (``status == "ok"``)."""
        return self.frame[self.frame["status"] == "ok"]

    @property
    def failed(self) -> pd.DataFrame:
        """Rows whose task raised (``status == "error"``)."""
        return self.frame[self.frame["status"] == "error"]

    def raise_if_failed(self) -> SweepResult:
        """Raise :class:`SweepError` if any task failed; return ``self`` otherwise.

        Raises
        ------
        SweepError
            Listing each failed task's index, parameter set, day and error (the first
            20; the error's ``failed`` attribute holds all failed rows).
        """
        failed = self.failed
        if len(failed) == 0:
            return self
        lines = []
        for task, row in failed.head(_MAX_LISTED).iterrows():
            point = {name: row[name] for name in self.params if name in row.index}
            day = "" if row["day"] is None else f", day={row['day']!r}"
            lines.append(f"  task {task}: {point}{day}: {row['error']}")
        more = len(failed) - _MAX_LISTED
        if more > 0:
            lines.append(f"  ... and {more} more")
        what = "all" if len(failed) == len(self.frame) else f"{len(failed)} of"
        raise SweepError(f"{what} {len(self.frame)} sweep tasks failed:\n" + "\n".join(lines),
                         failed=failed)

    def pivot(
        self,
        value: str,
        index: str | Sequence[str],
        columns: str | Sequence[str],
        aggfunc: str | Callable[[pd.Series], Any] = "mean",
    ) -> pd.DataFrame:
        """Tabulate ``value`` over ``index`` x ``columns`` from the ok rows, for a heatmap.

        Rows falling into one cell (e.g. the days of one parameter pair) are combined
        with ``aggfunc``. See :func:`qlib.plots.sweep.sweep_table`.

        Raises
        ------
        ParameterError
            If a name is not a column of :attr:`frame`.
        InsufficientDataError
            If no task finished with status "ok".
        """
        from qlib.plots.sweep import sweep_table

        return sweep_table(self, value, index=index, columns=columns, aggfunc=aggfunc)

    def heatmap(self, value: str, x: str, y: str,
                aggfunc: str | Callable[[pd.Series], Any] = "mean") -> go.Figure:
        """Plot ``value`` over parameters ``x`` and ``y``; see :func:`qlib.plots.sweep.sweep_heatmap`."""
        from qlib.plots.sweep import sweep_heatmap

        return sweep_heatmap(self, value, x=x, y=y, aggfunc=aggfunc)
