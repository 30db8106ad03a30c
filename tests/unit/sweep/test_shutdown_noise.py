"""The sweep's LocalCluster shutdown filter drops exactly dask's two shutdown messages."""

from __future__ import annotations

import logging

import pytest

from qlib.sweep.core import _ShutdownNoise


def _record(msg: str) -> logging.LogRecord:
    return logging.LogRecord("distributed.nanny", logging.WARNING, __file__, 1, msg, None, None)


@pytest.mark.parametrize("msg", [
    "Worker process still alive after 4.0 seconds, killing",
    "Failed to communicate with scheduler during heartbeat.",
])
def test_shutdown_noise_drops_dask_shutdown_messages(msg):
    assert _ShutdownNoise().filter(_record(msg)) is False


@pytest.mark.parametrize("msg", [
    "Worker process 123 was killed by signal 9",
    "Restarting worker",
    "Task failed: ZeroDivisionError",
])
def test_shutdown_noise_keeps_every_other_message(msg):
    assert _ShutdownNoise().filter(_record(msg)) is True
