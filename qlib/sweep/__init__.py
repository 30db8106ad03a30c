"""Parameter sweeps: a function over a parameter grid x days, on dask.distributed.

:func:`sweep` runs ``fn(day, **params, **fixed)`` for every grid point and day on a
LocalCluster (by default), a given ``distributed.Client`` or :class:`SweepCluster` (one
LocalCluster shared by several sweeps), a scheduler address, or in-process
(``scheduler="sync"``), and gathers one row per task into one DataFrame,
failures included. :class:`SweepResult` holds it; :func:`qlib.plots.sweep.sweep_heatmap`
draws it.
"""

from qlib.sweep._grid import RESERVED_COLUMNS, expand_grid
from qlib.sweep.core import SweepCluster, register_by_value, sweep
from qlib.sweep.errors import SweepError
from qlib.sweep.result import SweepResult

__all__ = ["RESERVED_COLUMNS", "SweepCluster", "SweepError", "SweepResult", "expand_grid",
           "register_by_value", "sweep"]
