"""Errors of :mod:`qlib.sweep`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from qlib.errors import QlibError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["SweepError"]


class SweepError(QlibError, RuntimeError):
    """Tasks of a sweep failed, or its cluster could not be prepared.

    Parameters
    ----------
    message
        Human-readable description; lists the failed parameter sets.
    failed
        The failed rows of :attr:`qlib.sweep.SweepResult.frame`, when the error is about
        failed tasks; ``None`` otherwise.
    """

    def __init__(self, message: str, failed: pd.DataFrame | None = None) -> None:
        super().__init__(message)
        self.failed = failed
