"""SharedRing: create/attach/validation/lifetime, and the two-process stress run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from multiprocessing import shared_memory
from pathlib import Path

import numpy as np
import pytest

from qlib.dtypes import EVENT_DTYPE, empty_events
from qlib.errors import QlibError
from qlib.ring import RingFullError, RingLayoutError, SharedRing

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def name():
    n = f"qlib_test_{uuid.uuid4().hex[:12]}"
    yield n
    SharedRing.unlink(n)


def _events(n: int, start: int = 0) -> np.ndarray:
    ev = empty_events(n)
    ev["seq"] = np.arange(start, start + n)
    return ev


def test_shared_ring_attach_sees_pushes_and_counters(name):
    with SharedRing.create(name, 16, policy="raise") as feed:
        peer = SharedRing.attach(name, dtype=EVENT_DTYPE)
        assert (peer.capacity, peer.policy, peer.dtype) == (16, feed.policy, EVENT_DTYPE)
        assert peer.state.ctypes.data % 64 == 0 and peer.buf.ctypes.data % 64 == 0
        feed.push(_events(10))
        assert peer.pop(4)["seq"].tolist() == [0, 1, 2, 3]
        assert feed.counters().popped == 4
        with pytest.raises(RingFullError):
            feed.push(_events(11))
        peer.close()
        assert peer.closed
    assert feed.closed


def test_shared_ring_custom_dtype_roundtrips_descriptor(name):
    dt = np.dtype([("a", "u1"), ("b", "<f8", (3,)), ("c", [("x", "<i4"), ("y", "<i2")])],
                  align=True)
    with SharedRing.create(name, 4, dtype=dt, policy="drop_oldest"):
        peer = SharedRing.attach(name)
        assert peer.dtype == dt and peer.dtype.isalignedstruct
        peer.close()


def test_shared_ring_attach_wrong_dtype_raises_layout_error(name):
    with SharedRing.create(name, 8):
        with pytest.raises(RingLayoutError, match="dtype") as info:
            SharedRing.attach(name, dtype=[("a", "<i8")])
        assert isinstance(info.value, QlibError) and isinstance(info.value, ValueError)


def test_shared_ring_attach_foreign_segment_raises_layout_error(name):
    shm = shared_memory.SharedMemory(name=name, create=True, size=8192)
    try:
        shm.buf[:8] = b"NOTARING"
        with pytest.raises(RingLayoutError, match="not a qlib ring: magic was b'NOTARING'"):
            SharedRing.attach(name)
        shm.buf[:8] = b"QLIBRING"
        shm.buf[8:12] = (99).to_bytes(4, "little")
        with pytest.raises(RingLayoutError, match="layout version 99"):
            SharedRing.attach(name)
    finally:
        shm.close()
        shm.unlink()


def test_shared_ring_lifetime_creator_unlinks(name):
    feed = SharedRing.create(name, 8)
    with pytest.raises(FileExistsError):
        SharedRing.create(name, 8)
    peer = SharedRing.attach(name)
    peer.close()
    assert os.path.exists(f"/dev/shm/{name}")  # an attacher's close does not unlink
    feed.close()
    feed.close()  # idempotent
    assert not os.path.exists(f"/dev/shm/{name}")
    with pytest.raises(FileNotFoundError):
        SharedRing.attach(name)


def test_shared_ring_unlink_by_name_removes_leftover(name):
    code = ("import os; from qlib.ring import SharedRing; "
            f"r = SharedRing.create({name!r}, 8); os._exit(0)")  # no cleanup at all
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
    # the crashed creator's resource tracker may already have removed it; if not:
    SharedRing.unlink(name)
    assert not os.path.exists(f"/dev/shm/{name}")
    assert SharedRing.unlink(name) is False


def _run_pair(name: str, n: int, *, producer_batch: int, consumer_batch: int,
              timeout_s: float = 120.0) -> tuple[dict, dict]:
    cmd = [sys.executable, "-m", "qlib.ring._workers"]
    cons = subprocess.Popen(cmd + ["consume", name, str(n), "--batch", str(consumer_batch),
                                   "--deadline-s", str(timeout_s)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    prod = subprocess.Popen(cmd + ["produce", name, str(n), "--batch", str(producer_batch)],
                            stdout=subprocess.PIPE, text=True, cwd=ROOT)
    p_out, _ = prod.communicate(timeout=timeout_s)
    c_out, _ = cons.communicate(timeout=timeout_s)
    assert prod.returncode == 0 and cons.returncode == 0
    return json.loads(p_out), json.loads(c_out)


def test_shared_ring_two_processes_small_run_arrives_in_order(name):
    with SharedRing.create(name, 1 << 10, policy="block", timeout=30.0) as ring:
        prod, cons = _run_pair(name, 200_000, producer_batch=1, consumer_batch=1)
        assert prod["pushed"] == 200_000
        assert cons["received"] == 200_000 and cons["first_bad"] == -1
        c = ring.counters()
        assert (c.pushed, c.popped, c.dropped, c.size) == (200_000, 200_000, 0, 0)


@pytest.mark.slow
def test_shared_ring_two_processes_1e7_messages_complete_and_in_order(name):
    n = 10_000_000
    t0 = time.perf_counter()
    with SharedRing.create(name, 1 << 16, policy="block", timeout=30.0) as ring:
        # producer: the jitted single-record push; consumer: jitted pop_many
        prod, cons = _run_pair(name, n, producer_batch=1, consumer_batch=256)
        c = ring.counters()
    elapsed = time.perf_counter() - t0
    assert prod["pushed"] == n
    assert cons["received"] == n and cons["first_bad"] == -1
    assert (c.pushed, c.popped, c.dropped) == (n, n, 0)
    print(f"\n1e7 two-process run: {elapsed:.2f} s wall, transfer {cons['seconds']:.2f} s "
          f"({n / cons['seconds'] / 1e6:.1f} M msgs/s)")
