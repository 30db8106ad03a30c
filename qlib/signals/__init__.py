"""Microstructure signals over events and books."""

from qlib.signals.tape import trades

__all__ = ["trades"]
