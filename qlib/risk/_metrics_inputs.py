"""Validation shared by :mod:`qlib.risk.performance` and :mod:`qlib.risk.var`."""

from __future__ import annotations

import numpy as np
import pandas as pd

from qlib.errors import DataQualityError, InsufficientDataError, ParameterError, SchemaError


def as_float_1d(x: object, name: str, need: int, *, check_finite: bool = True) -> np.ndarray:
    """Return ``x`` (Series, ndarray or sequence) as a contiguous finite float64 1-D array.

    Raises SchemaError for a non-numeric or non-1-D input, DataQualityError naming the
    first non-finite row, InsufficientDataError when fewer than ``need`` values. With
    ``check_finite=False`` the caller must check a kernel result that propagates NaN/inf
    and call :func:`require_finite` when it is not finite (saves a pass over the data).
    """
    if isinstance(x, pd.DataFrame):
        raise SchemaError(f"{name} must be 1-D (Series or ndarray), was a DataFrame")
    arr = x.to_numpy() if isinstance(x, pd.Series) else np.asarray(x)
    if arr.ndim != 1:
        raise SchemaError(f"{name} must be 1-D, was {arr.ndim}-D with shape {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise SchemaError(f"{name} must be numeric, was dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if arr.shape[0] < need:
        raise InsufficientDataError(f"{name} had {arr.shape[0]} values, needed at least {need}")
    if check_finite:
        require_finite(arr, name)
    return arr


def require_finite(arr: np.ndarray, name: str) -> None:
    """Raise DataQualityError naming the first non-finite row of ``arr`` (if any).

    Fast path: a finite sum proves every element finite (a NaN or inf element makes the
    sum NaN or inf); only a non-finite sum (or overflow) needs the elementwise scan.
    """
    if np.isfinite(arr.sum()):
        return
    bad = ~np.isfinite(arr)
    if bad.any():
        row = int(np.argmax(bad))
        raise DataQualityError(f"{name} at row {row} was {arr[row]}, expected a finite number",
                               row=row, field=name, value=arr[row])


def finite_scalar(v: object, name: str) -> float:
    try:
        f = float(v)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a real number, was {v!r}") from None
    if not np.isfinite(f):
        raise ParameterError(f"{name} must be finite, was {v!r}")
    return f


def confidence(v: object) -> float:
    c = finite_scalar(v, "confidence")
    if not 0.0 < c < 1.0:
        raise ParameterError(f"confidence must be in (0, 1), was {v!r}")
    return c


def positive_int(v: object, name: str) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise ParameterError(f"{name} must be a positive integer, was {v!r}")
    return int(v)
