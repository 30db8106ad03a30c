"""The qlib error hierarchy.

Every error qlib raises on purpose derives from :class:`QlibError`, so a caller can
catch the whole family with one ``except``. Each subclass also derives from the
built-in exception a Python programmer would expect (``ValueError``, ``TypeError``,
``FileNotFoundError``, ``RuntimeError``), so generic handlers keep working.

Messages name the offending field, its value, and where it was found (file, row),
and say "was" rather than "got": ``"price at row 17 of msg.csv was 'abc', expected an
integer"``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "QlibError",
    "SchemaError",
    "DataQualityError",
    "DataNotFoundError",
    "InsufficientDataError",
    "ParameterError",
    "OrderRejected",
    "EngineError",
]


class QlibError(Exception):
    """Base class of every error raised by qlib on purpose."""


class SchemaError(QlibError, TypeError):
    """An array or table does not have the dtype, columns or shape required."""


class DataQualityError(QlibError, ValueError):
    """Input data is malformed or violates an invariant.

    Parameters
    ----------
    message
        Human-readable description; names the field and value.
    file, row, field, value
        Where the problem was found, when known. ``row`` is 0-based in the
        file's data rows (after any header) unless the message says otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        field: str | None = None,
        value: Any = None,
    ) -> None:
        self.file = file
        self.row = row
        self.field = field
        self.value = value
        where = []
        if file is not None:
            where.append(f"file {file}")
        if row is not None:
            where.append(f"row {row}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = f"[{', '.join(where)}] " if where else ""
        super().__init__(prefix + message)


class DataNotFoundError(QlibError, FileNotFoundError):
    """A data file or store partition that was asked for does not exist."""


class InsufficientDataError(QlibError, ValueError):
    """Too little data to compute a result; the message gives had/needed counts."""


class ParameterError(QlibError, ValueError):
    """An unknown, missing or ill-typed parameter was passed to a qlib API."""


class OrderRejected(QlibError):
    """An order was refused by a pre-trade check or a venue."""


class EngineError(QlibError, RuntimeError):
    """An engine, runtime or external process failed."""
