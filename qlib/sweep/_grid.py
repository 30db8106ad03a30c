"""Validation and expansion of a sweep's grid, days and fixed arguments."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from qlib.errors import ParameterError

__all__ = ["RESERVED_COLUMNS", "expand_grid"]

#: Columns that :func:`qlib.sweep.sweep` adds to every row; no parameter or result may use them.
RESERVED_COLUMNS: tuple[str, ...] = (
    "day", "status", "error", "traceback", "elapsed_s", "worker", "attempts", "task",
)


def _is_value_sequence(values: object) -> bool:
    if isinstance(values, (str, bytes, bytearray)):
        return False
    if isinstance(values, np.ndarray):
        return values.ndim == 1
    return isinstance(values, (Sequence, pd.Index, pd.Series))


def _check_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not name.isidentifier():
        raise ParameterError(
            f"{where} parameter name {name!r} is not a valid Python identifier; "
            "names are passed to fn as keyword arguments")
    if name in RESERVED_COLUMNS:
        raise ParameterError(
            f"{where} parameter name {name!r} collides with a reserved result column; "
            f"reserved: {list(RESERVED_COLUMNS)}")
    return name


def expand_grid(
    grid: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Expand a parameter grid into its list of parameter sets.

    Parameters
    ----------
    grid
        Either a mapping of parameter name to a sequence of values, expanded as the
        Cartesian product in key order with the **last key varying fastest**
        (``{"a": [1, 2], "b": [3, 4]}`` gives ``a=1,b=3``, ``a=1,b=4``, ``a=2,b=3``,
        ``a=2,b=4``, as :func:`itertools.product`), or an explicit sequence of mappings,
        kept in the given order.

    Returns
    -------
    points : list of dict
        One dict of keyword arguments per grid point.
    names : list of str
        Parameter names in first-seen order (the frame's parameter columns).

    Raises
    ------
    ParameterError
        If the grid is empty, a value list is empty or not a sequence (a ``str`` or a
        ``set`` is not), an entry of a list grid is not a mapping, or a name is not an
        identifier or collides with a reserved column (:data:`RESERVED_COLUMNS`).

    Examples
    --------
    >>> expand_grid({"a": [1, 2], "b": ["x"]})[0]
    [{'a': 1, 'b': 'x'}, {'a': 2, 'b': 'x'}]
    """
    if isinstance(grid, Mapping):
        if len(grid) == 0:
            raise ParameterError("grid was empty, expected at least one parameter")
        names = []
        value_lists = []
        for name, values in grid.items():
            _check_name(name, "grid")
            if not _is_value_sequence(values):
                raise ParameterError(
                    f"grid[{name!r}] was {type(values).__name__} {values!r}, expected a "
                    "list, tuple, range or 1-d array of values")
            if len(values) == 0:
                raise ParameterError(f"grid[{name!r}] was empty, expected at least one value")
            names.append(name)
            value_lists.append(list(values))
        points = [dict(zip(names, combo, strict=True))
                  for combo in itertools.product(*value_lists)]
        return points, names
    if not _is_value_sequence(grid):
        raise ParameterError(
            f"grid was {type(grid).__name__}, expected a mapping of name -> values or a "
            "list of mappings")
    if len(grid) == 0:
        raise ParameterError("grid was empty, expected at least one parameter set")
    points = []
    names = []
    for i, point in enumerate(grid):
        if not isinstance(point, Mapping):
            raise ParameterError(
                f"grid[{i}] was {type(point).__name__} {point!r}, expected a mapping of "
                "parameter name -> value")
        for name in point:
            _check_name(name, f"grid[{i}]")
            if name not in names:
                names.append(name)
        points.append(dict(point))
    return points, names


def check_days(days: Sequence[Any] | None) -> list[Any] | None:
    """Return ``days`` as a list, or ``None``; raise ParameterError when unusable."""
    if days is None:
        return None
    if not _is_value_sequence(days):
        raise ParameterError(
            f"days was {type(days).__name__} {days!r}, expected a list of data identifiers "
            "(paths, (source, path) tuples, seeds) or None")
    if len(days) == 0:
        raise ParameterError("days was empty, expected at least one day or None")
    return list(days)


def check_fixed(fixed: Mapping[str, Any] | None, names: Sequence[str]) -> dict[str, Any]:
    """Return ``fixed`` as a dict; raise ParameterError on a bad or colliding name."""
    if fixed is None:
        return {}
    if not isinstance(fixed, Mapping):
        raise ParameterError(f"fixed was {type(fixed).__name__}, expected a mapping or None")
    for name in fixed:
        _check_name(name, "fixed")
        if name in names:
            raise ParameterError(
                f"fixed parameter {name!r} is also a grid parameter; give it in one place")
    return dict(fixed)
