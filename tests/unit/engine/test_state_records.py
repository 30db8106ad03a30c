"""The backtest loop's state as records (:mod:`qlib.dtypes`, :mod:`qlib.engine._alloc`).

The loop's registers, configuration and per-order exchange state are aligned record
dtypes whose fields are documented; the kernels write them through record views; the
queue models run the same arithmetic on the engine's records as on the 2-D layout; the
wrapper grows the buffers without losing or misaligning rows.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
from numba import njit

from qlib.dtypes import ENGINE_CONFIG_DTYPE, ENGINE_ORDER_STATE_DTYPE, ENGINE_STATE_DTYPE
from qlib.engine import _alloc, _loop
from qlib.engine import _queue_kernels as QK
from qlib.engine import _state as S
from qlib.enums import QueueModelKind


def _documented_fields(doc: str) -> set[str]:
    block = doc.split("Fields\n------\n", 1)[1]
    names: set[str] = set()
    for line in block.splitlines():
        m = re.match(r"^([a-z0-9_, ]+) : ", line)
        if m:
            names.update(n.strip() for n in m.group(1).split(","))
    return names


@pytest.mark.parametrize("name", ["ENGINE_STATE_DTYPE", "ENGINE_CONFIG_DTYPE",
                                  "ENGINE_ORDER_STATE_DTYPE"])
def test_engine_dtypes_every_field_documented_and_aligned(name):
    # Arrange: the dtype and its attribute docstring, read from the module source
    import qlib.dtypes as D

    dt = getattr(D, name)
    src = inspect.getsource(D)
    doc = src.split(f"{name} = np.dtype(", 1)[1].split('"""', 2)[1]
    # Act
    documented = _documented_fields(doc)
    # Assert: the Fields block names exactly the dtype's fields; 8-byte fields, aligned
    assert documented == set(dt.names)
    assert dt.isalignedstruct
    assert all(dt.fields[f][0].itemsize == 8 for f in dt.names)
    assert name in D.__all__


@njit(cache=False)
def _bump(es, k):
    es["n_orders"] += k
    es["edge"] += 0.5 * k


@njit(cache=False)
def _through_view(state, config):
    es = state[0]
    cf = config[0]
    _bump(es, cf["depth_levels"])
    return es["n_orders"]


def test_record_view_passed_to_kernel_writes_through_to_array():
    # Arrange
    state = np.zeros(1, dtype=ENGINE_STATE_DTYPE)
    state[0]["n_orders"] = 7
    config = np.zeros(1, dtype=ENGINE_CONFIG_DTYPE)
    config[0]["depth_levels"] = 3
    # Act
    seen = _through_view(state, config)
    # Assert: the callee's writes reached the caller's array
    assert seen == 10
    assert int(state[0]["n_orders"]) == 10 and float(state[0]["edge"]) == 1.5


@pytest.mark.parametrize("kind", [QueueModelKind.RISK_ADVERSE, QueueModelKind.PROB_POWER,
                                  QueueModelKind.PROB_LOG])
def test_order_queue_kernels_on_records_equal_2d_layout(kind):
    # Arrange: one random script of trades, depth changes and fill checks, two layouts
    rng = np.random.default_rng(int(kind) + 5)
    qp = np.array([2.5])
    qs = np.zeros((3, 2))
    oxs = np.zeros(3, dtype=ENGINE_ORDER_STATE_DTYPE)
    level = 40.0
    QK.queue_new(kind, qp, qs, 1, level)
    QK.order_queue_new(kind, qp, oxs, 1, level)
    # Act
    filled_2d, filled_rec = [], []
    for _ in range(400):
        op = rng.integers(3)
        if op == 0:
            q = float(rng.integers(1, 6))
            QK.queue_on_trade(kind, qp, qs, 1, q)
            QK.order_queue_on_trade(kind, qp, oxs, 1, q)
        elif op == 1:
            new = float(rng.integers(0, 60))
            QK.queue_on_depth(kind, qp, qs, 1, level, new)
            QK.order_queue_on_depth(kind, qp, oxs, 1, level, new)
            level = new
        else:
            filled_2d.append(QK.queue_filled_qty(kind, qp, qs, 1, 1.0))
            filled_rec.append(QK.order_queue_filled_qty(kind, qp, oxs, 1, 1.0))
        # Assert: bit for bit after every step, other rows untouched
        assert qs[1, 0] == oxs[1]["front"] and qs[1, 1] == oxs[1]["cum"]
    assert filled_2d == filled_rec and sum(filled_2d) > 0
    assert oxs[0].tolist() == oxs[2].tolist() == (0, 0, 0, 0, 0.0, 0.0, 0.0, 0.0)


def _args(n_orders: int = 4) -> _alloc.LoopArgs:
    state = np.zeros(1, dtype=ENGINE_STATE_DTYPE)
    oms = _alloc.Oms(orders=np.zeros(n_orders, dtype=[("order_id", "u8")]),
                     oxs=np.zeros(n_orders, dtype=ENGINE_ORDER_STATE_DTYPE),
                     work=np.zeros(2, dtype=np.int64), table=np.zeros((1, 1), np.int8),
                     journal=np.zeros(2), jlen=np.zeros(1, np.int64),
                     mx=np.arange(4, dtype=np.int64), ml=np.arange(5, dtype=np.int64))
    return _alloc.LoopArgs(market=None, state=state, config=None, models=None, books=None,
                           strat=None, oms=oms, pf=None, risk=None, out=None, scratch=None,
                           prt=None)


def test_grow_orders_keeps_rows_and_order_state_aligned():
    # Arrange: full order slots, each order's exchange side marked by its slot
    a = _args()
    a.oms.orders["order_id"] = np.arange(1, 5)
    a.oms.oxs["leaves"] = np.arange(1, 5) * 10.0
    a.state[0]["cap_what"] = S.CAP_ORDERS
    # Act
    _alloc.grow(a)
    # Assert: twice the slots, the old rows in place, aligned, the code cleared
    assert len(a.oms.orders) == len(a.oms.oxs) == 8
    assert a.oms.orders["order_id"][:4].tolist() == [1, 2, 3, 4]
    assert a.oms.oxs["leaves"].tolist() == [10.0, 20.0, 30.0, 40.0, 0, 0, 0, 0]
    assert int(a.state[0]["cap_what"]) == S.CAP_NONE


def test_grow_messages_linearises_both_rings_from_their_heads():
    # Arrange: rings wrapped around their ends
    a = _args()
    r = a.state[0]
    r["mx_head"], r["mx_len"] = 3, 3  # rows 3, 0, 1
    r["ml_head"], r["ml_len"] = 4, 2  # rows 4, 0
    r["cap_what"] = S.CAP_MSGS
    # Act
    _alloc.grow(a)
    # Assert
    assert a.oms.mx.tolist() == [3, 0, 1, 0, 0, 0, 0, 0]
    assert a.oms.ml.tolist()[:2] == [4, 0] and len(a.oms.ml) == 10
    assert int(r["mx_head"]) == 0 and int(r["ml_head"]) == 0


def test_grow_unknown_code_raises_engine_error():
    from qlib.errors import EngineError

    a = _args()
    a.state[0]["cap_what"] = 99
    with pytest.raises(EngineError, match=r"does not name \(99\)"):
        _alloc.grow(a)


@pytest.mark.parametrize("loop", [_loop.run_loop_l2, _loop.run_loop_l3,
                                  _loop.run_loop_l2_custom, _loop.run_loop_l3_custom])
def test_run_loop_takes_the_argument_groups_of_loopargs_and_a_kernel(loop):
    # Arrange
    params = list(inspect.signature(loop.py_func).parameters)
    fields = [f for f in _alloc.LoopArgs.__dataclass_fields__ if f != "prt"]
    # Assert: one argument per group, in LoopArgs order, then the kernel
    assert params == ["market", "state", "config", "models", "books", "strat", "oms", "pf",
                      "risk", "out", "scratch", "kern"]
    assert params[:-1] == fields
