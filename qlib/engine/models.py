r"""Latency and queue-position models of the backtest engine (validated configuration).

Each model is a frozen dataclass checked in ``__post_init__`` (a bad value raises
:class:`qlib.errors.ParameterError` naming the field and the value). ``to_arrays()``
turns it into the scalars and arrays that the jitted engine loop passes to the kernels
of :mod:`qlib.engine._latency_kernels` and :mod:`qlib.engine._queue_kernels`.

Latency models
--------------
* :class:`ConstantLatency` -- fixed entry and response latency per action.
* :class:`FeedProportionalLatency` -- :math:`\max(a\,\ell_{feed} + b, 0)` per action.
* :class:`ReplayLatency` -- interpolated from a log of measured round trips, as
  hftbacktest's ``IntpOrderLatency``; a record may say "rejected".

Queue models
------------
* :class:`RiskAdverseQueue` -- only trades at our price advance us.
* :class:`PowerProbQueue` -- decreases split ahead/behind with :math:`f(x) = x^n`.
* :class:`LogProbQueue` -- the same with :math:`f(x) = \ln(1 + x)`.
* :class:`L3FifoQueue` -- exact FIFO position from order-level data (the engine's own
  L3 queue; the L2 kernels treat it as risk-adverse).

The formulas, and what was checked against hftbacktest 2.4.x, are in the module
docstrings of the two kernel modules.

Names
-----
:data:`QUEUE_MODELS` and :data:`LATENCY_MODELS` are the one registry of each concept:
canonical names, the aliases a user may type (``"power"``, ``"log"``, ``"risk_averse"``,
``"feed"``, ...) and the constructor (:meth:`ModelRegistry.build`). Every name-taking API
(``backtest(queue="power")``, :func:`queue_from_name`, :func:`latency_from_name`,
:func:`qlib.engine.tasks.build_queue`) resolves names through them.

Examples
--------
>>> from qlib.engine.models import ConstantLatency, PowerProbQueue
>>> kind, lp, log = ConstantLatency(entry_ns=1_000_000, response_ns=2_000_000).to_arrays()
>>> int(kind), lp.tolist()[:2], log.shape
(0, [1000000.0, 2000000.0], (0, 3))
>>> PowerProbQueue(n=3.0).to_arrays()[1].tolist()
[3.0]
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers
import types
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from qlib.enums import LatencyModelKind, OrderAction, QueueModelKind
from qlib.errors import ParameterError

__all__ = [
    "ConstantLatency",
    "FeedProportionalLatency",
    "L3FifoQueue",
    "LATENCY_MODELS",
    "LatencyModel",
    "LogProbQueue",
    "ModelRegistry",
    "PowerProbQueue",
    "QUEUE_MODELS",
    "QueueModel",
    "ReplayLatency",
    "RiskAdverseQueue",
    "action_code",
    "latency_from_name",
    "queue_from_name",
]

_ACTIONS = ("submit", "modify", "cancel")
_EMPTY_LOG_SHAPE = (0, 3)
#: Columns of a replay log table.
REPLAY_COLUMNS = ("ts_local", "entry_ns", "response_ns")


def _show(value: Any) -> str:
    """``repr`` of a parameter value for a message, numpy scalars as plain Python values."""
    return repr(value.item()) if isinstance(value, np.generic) else repr(value)


# --------------------------------------------------------------------------- helpers
def _check_ns(name: str, value: Any, *, allow_none: bool = False) -> int | None:
    """Return ``value`` as a non-negative int of nanoseconds, or raise ``ParameterError``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, numbers.Real)):
        raise ParameterError(f"{name} was {_show(value)}, expected a non-negative integer of ns")
    if isinstance(value, numbers.Integral):
        v = int(value)
    else:
        f = float(value)
        if not math.isfinite(f) or f != math.floor(f):
            raise ParameterError(f"{name} was {_show(value)}, expected a finite integer of ns")
        v = int(f)
    if v < 0:
        raise ParameterError(f"{name} was {_show(value)}, expected >= 0 ns")
    if v > 4 * 10**18:
        raise ParameterError(f"{name} was {_show(value)}, expected <= 4e18 ns")
    return v


def _check_float(name: str, value: Any, *, positive: bool = False) -> float:
    """Return ``value`` as a finite float (> 0 if ``positive``, else >= 0)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name} was {_show(value)}, expected a finite number")
    f = float(value)
    if not math.isfinite(f):
        raise ParameterError(f"{name} was {_show(value)}, expected a finite number")
    if positive and not f > 0.0:
        raise ParameterError(f"{name} was {_show(value)}, expected > 0")
    if not positive and f < 0.0:
        raise ParameterError(f"{name} was {_show(value)}, expected >= 0")
    return f


def action_code(action: Any) -> int:
    """Return the :class:`~qlib.enums.OrderAction` code of ``action`` (name or code).

    Raises
    ------
    ParameterError
        If ``action`` is not ``SUBMIT``, ``MODIFY`` or ``CANCEL`` (any case) or 0, 1, 2.
    """
    if isinstance(action, str):
        try:
            return int(OrderAction[action.upper()])
        except KeyError:
            raise ParameterError(
                f"action was {_show(action)}, expected one of {[a.name for a in OrderAction]}"
            ) from None
    if (
        isinstance(action, numbers.Integral)
        and not isinstance(action, bool)
        and int(action) in {int(a) for a in OrderAction}
    ):
        return int(action)
    raise ParameterError(
        f"action was {_show(action)}, expected one of {[a.name for a in OrderAction]}")


# --------------------------------------------------------------------------- latency
@dataclass(frozen=True)
class ConstantLatency:
    """Fixed order latencies per action, in ns.

    Parameters
    ----------
    entry_ns, response_ns
        Submit latencies: local send to exchange processing, and exchange response to
        local receipt (int ns, >= 0).
    modify_entry_ns, modify_response_ns, cancel_entry_ns, cancel_response_ns
        Per-action overrides; ``None`` uses the submit values.

    Notes
    -----
    As hftbacktest's ``ConstantLatency`` [1]_ per action, except that negative values
    (hftbacktest: "reject every order") are refused; use :class:`ReplayLatency` for
    rejections. ``lp = (e_S, r_S, e_M, r_M, e_C, r_C)``.

    References
    ----------
    .. [1] hftbacktest 2.4, ``hftbacktest/src/backtest/models/latency.rs``.
    """

    entry_ns: int
    response_ns: int
    modify_entry_ns: int | None = None
    modify_response_ns: int | None = None
    cancel_entry_ns: int | None = None
    cancel_response_ns: int | None = None

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            v = _check_ns(f.name, getattr(self, f.name), allow_none=f.default is None)
            object.__setattr__(self, f.name, v)

    @property
    def kind(self) -> LatencyModelKind:
        """:attr:`LatencyModelKind.CONSTANT`."""
        return LatencyModelKind.CONSTANT

    def latencies(self, action: Any) -> tuple[int, int]:
        """Return ``(entry_ns, response_ns)`` of ``action`` (name or :class:`OrderAction`)."""
        a = action_code(action)
        if a == OrderAction.SUBMIT:
            return self.entry_ns, self.response_ns
        pre = _ACTIONS[a]
        e = getattr(self, f"{pre}_entry_ns")
        r = getattr(self, f"{pre}_response_ns")
        return (self.entry_ns if e is None else e), (self.response_ns if r is None else r)

    def to_arrays(self) -> tuple[int, np.ndarray, np.ndarray]:
        """Return ``(kind, lp, log)`` for :func:`qlib.engine._latency_kernels.order_latency`."""
        lp = np.array([v for a in OrderAction for v in self.latencies(a)], dtype=np.float64)
        return int(self.kind), lp, np.zeros(_EMPTY_LOG_SHAPE, dtype=np.int64)


def _check_coeffs(name: str, value: Any) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    try:
        items = tuple(value)
    except TypeError:
        raise ParameterError(
            f"{name} was {_show(value)}, expected (entry_mul, entry_ns, response_mul, response_ns)"
        ) from None
    if len(items) != 4:
        raise ParameterError(
            f"{name} was {_show(value)}, expected 4 values (entry_mul, entry_ns, response_mul, "
            "response_ns)"
        )
    keys = ("entry_mul", "entry_ns", "response_mul", "response_ns")
    return tuple(_check_float(f"{name}.{k}", v) for k, v in zip(keys, items))  # type: ignore[return-value]


@dataclass(frozen=True)
class FeedProportionalLatency:
    r"""Order latency proportional to the market-data feed latency.

    Parameters
    ----------
    entry_mul, entry_ns
        Submit entry latency :math:`a_e \ell_{feed} + b_e` (``a`` >= 0, ``b`` >= 0 ns).
    response_mul, response_ns
        Submit response latency :math:`a_r \ell_{feed} + b_r`.
    modify, cancel
        Per-action ``(entry_mul, entry_ns, response_mul, response_ns)``; ``None`` uses
        the submit coefficients.

    Notes
    -----
    .. math:: \ell = \operatorname{round}\bigl(\max(a\,\ell_{feed} + b, 0)\bigr)

    with :math:`\ell_{feed}` the engine's recent average of ``ts_local - ts_exch`` of
    market data, as hftbacktest 1.x's ``FeedLatency`` (``feed_latency * mul + latency``)
    [1]_. ``lp[4a : 4a + 4] = (a_e, b_e, a_r, b_r)`` for action ``a``.

    References
    ----------
    .. [1] hftbacktest 1.8.4, ``hftbacktest/models/latencies.py``, ``FeedLatency``.
    """

    entry_mul: float = 1.0
    entry_ns: float = 0.0
    response_mul: float = 1.0
    response_ns: float = 0.0
    modify: tuple[float, float, float, float] | None = None
    cancel: tuple[float, float, float, float] | None = None

    def __post_init__(self) -> None:
        for name in ("entry_mul", "entry_ns", "response_mul", "response_ns"):
            object.__setattr__(self, name, _check_float(name, getattr(self, name)))
        for name in ("modify", "cancel"):
            object.__setattr__(self, name, _check_coeffs(name, getattr(self, name)))

    @property
    def kind(self) -> LatencyModelKind:
        """:attr:`LatencyModelKind.FEED_PROPORTIONAL`."""
        return LatencyModelKind.FEED_PROPORTIONAL

    def coefficients(self, action: Any) -> tuple[float, float, float, float]:
        """Return ``(entry_mul, entry_ns, response_mul, response_ns)`` of ``action``."""
        a = action_code(action)
        base = (self.entry_mul, self.entry_ns, self.response_mul, self.response_ns)
        over = None if a == OrderAction.SUBMIT else getattr(self, _ACTIONS[a])
        return base if over is None else over

    def to_arrays(self) -> tuple[int, np.ndarray, np.ndarray]:
        """Return ``(kind, lp, log)`` for :func:`qlib.engine._latency_kernels.order_latency`."""
        lp = np.array([c for a in OrderAction for c in self.coefficients(a)], dtype=np.float64)
        return int(self.kind), lp, np.zeros(_EMPTY_LOG_SHAPE, dtype=np.int64)


def _int_column(name: str, values: Any) -> np.ndarray:
    """Return ``values`` as int64 (datetime64/timedelta64 as ns), refusing NaN and floats
    with a fraction."""
    arr = np.asarray(values)
    if arr.dtype.kind in "mM":
        if np.isnat(arr).any():
            row = int(np.flatnonzero(np.isnat(arr))[0])
            raise ParameterError(f"{name} at row {row} was NaT")
        unit = "ns"
        arr = arr.astype(f"{arr.dtype.kind}8[{unit}]").view(np.int64)
    elif arr.dtype.kind in "iu":
        arr = arr.astype(np.int64)
    elif arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.floor(arr))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ParameterError(f"{name} at row {row} was {arr[row]!r}, expected integer ns")
        arr = arr.astype(np.int64)
    else:
        raise ParameterError(f"{name} was of dtype {arr.dtype}, expected int64 ns")
    return arr


@dataclass(frozen=True, eq=False)
class ReplayLatency:
    """Order latency replayed from a log of measured round trips.

    Parameters
    ----------
    log
        A DataFrame with columns ``ts_local`` (request time; int ns or datetime64),
        ``entry_ns`` and ``response_ns``, or an array of shape ``(n, 3)`` in that order;
        ``n >= 1``, ``ts_local`` non-decreasing. A row with ``entry_ns < 0`` records a
        rejection by the venue; its ``response_ns`` is then the whole round trip (request
        to local receipt of the reject). Other rows need ``response_ns >= 0``.

    Notes
    -----
    The kernel interpolates linearly in time between the two records around the request
    time (clamped at the ends), as hftbacktest's ``IntpOrderLatency``; a rejection record
    in the bracket rejects the order (``entry_ns < 0`` returned, the reject delivered
    ``resp_ns`` after the request). The exact rules are in
    :mod:`qlib.engine._latency_kernels`.
    """

    log: Any = field(repr=False)

    def __post_init__(self) -> None:
        log = self.log
        if isinstance(log, pd.DataFrame):
            missing = [c for c in REPLAY_COLUMNS if c not in log.columns]
            if missing:
                raise ParameterError(
                    f"log columns were {list(log.columns)}, missing {missing} "
                    f"(expected {list(REPLAY_COLUMNS)})"
                )
            cols = [_int_column(f"log.{c}", log[c].to_numpy()) for c in REPLAY_COLUMNS]
        else:
            arr = np.asarray(log)
            if arr.ndim != 2 or arr.shape[1] != 3:
                raise ParameterError(
                    f"log shape was {arr.shape}, expected (n, 3) columns {list(REPLAY_COLUMNS)}"
                )
            cols = [_int_column(f"log.{c}", arr[:, i]) for i, c in enumerate(REPLAY_COLUMNS)]
        out = np.ascontiguousarray(np.stack(cols, axis=1).astype(np.int64)).reshape(-1, 3)
        if out.shape[0] < 1:
            raise ParameterError("log had 0 rows, expected at least 1")
        ts, resp = out[:, 0], out[:, 2]
        down = np.flatnonzero(np.diff(ts) < 0)
        if down.size:
            r = int(down[0]) + 1
            raise ParameterError(
                f"log.ts_local was not sorted: row {r} ({ts[r]}) < row {r - 1} ({ts[r - 1]})"
            )
        neg = np.flatnonzero(resp < 0)
        if neg.size:
            r = int(neg[0])
            raise ParameterError(f"log.response_ns at row {r} was {resp[r]}, expected >= 0")
        out.setflags(write=False)
        object.__setattr__(self, "log", out)

    @classmethod
    def from_round_trips(
        cls, req_ts: Any, exch_ts: Any = None, resp_ts: Any = None
    ) -> ReplayLatency:
        """Build the log from measured ``(req_ts, exch_ts, resp_ts)`` timestamps (ns).

        Parameters
        ----------
        req_ts, exch_ts, resp_ts
            Local request time, exchange processing time and local response receipt time
            of each order request (hftbacktest's ``OrderLatencyRow``). ``exch_ts <= 0``
            (or NaT/NaN) records a rejection. Alternatively pass one DataFrame or
            structured array with those three fields as ``req_ts``. Rows are sorted by
            ``req_ts`` (stable).

        Raises
        ------
        ParameterError
            Missing fields, lengths that differ, no rows, ``exch_ts < req_ts`` or
            ``resp_ts < exch_ts`` on an accepted row, ``resp_ts < req_ts`` on a rejection.
        """
        if exch_ts is None and resp_ts is None:
            src = req_ts
            names = ("req_ts", "exch_ts", "resp_ts")
            fields = getattr(getattr(src, "dtype", None), "names", None) or getattr(
                src, "columns", ()
            )
            missing = [n for n in names if n not in list(fields)]
            if missing:
                raise ParameterError(f"round trips were missing fields {missing}")
            req_ts, exch_ts, resp_ts = (np.asarray(src[n]) for n in names)
        exch = np.asarray(exch_ts)
        rejected_in = np.zeros(exch.shape, dtype=bool)
        if exch.dtype.kind in "mM":
            rejected_in = np.isnat(exch)
            exch = np.where(rejected_in, np.zeros_like(exch), exch)
        elif exch.dtype.kind == "f":
            rejected_in = ~np.isfinite(exch)
            exch = np.where(rejected_in, 0.0, exch)
        req = _int_column("req_ts", req_ts)
        ex = _int_column("exch_ts", exch)
        resp = _int_column("resp_ts", resp_ts)
        if not (req.ndim == ex.ndim == resp.ndim == 1 and req.size == ex.size == resp.size):
            raise ParameterError(
                f"req_ts, exch_ts, resp_ts lengths were {req.shape}, {ex.shape}, {resp.shape}, "
                "expected equal 1-D lengths"
            )
        if req.size < 1:
            raise ParameterError("round trips had 0 rows, expected at least 1")
        order = np.argsort(req, kind="stable")
        req, ex, resp, rejected_in = req[order], ex[order], resp[order], rejected_in[order]
        rej = rejected_in | (ex <= 0)
        entry = np.where(rej, -1, ex - req)
        response = np.where(rej, resp - req, resp - ex)
        bad = np.flatnonzero(~rej & (entry < 0))
        if bad.size:
            r = int(bad[0])
            raise ParameterError(f"exch_ts at row {r} was {ex[r]}, before req_ts {req[r]}")
        bad = np.flatnonzero(response < 0)
        if bad.size:
            r = int(bad[0])
            raise ParameterError(
                f"resp_ts at row {r} was {resp[r]}, before the request/exchange time"
            )
        return cls(np.stack([req, entry, response], axis=1))

    @property
    def kind(self) -> LatencyModelKind:
        """:attr:`LatencyModelKind.REPLAY`."""
        return LatencyModelKind.REPLAY

    def to_frame(self) -> pd.DataFrame:
        """Return the validated log as a DataFrame (columns :data:`REPLAY_COLUMNS`)."""
        return pd.DataFrame(np.array(self.log), columns=list(REPLAY_COLUMNS))

    def to_arrays(self) -> tuple[int, np.ndarray, np.ndarray]:
        """Return ``(kind, lp, log)``; ``lp`` is unused (one zero)."""
        return int(self.kind), np.zeros(1, dtype=np.float64), np.array(self.log, dtype=np.int64)


# --------------------------------------------------------------------------- queue
@dataclass(frozen=True)
class RiskAdverseQueue:
    """Conservative queue model: only trades at our price advance our order.

    Notes
    -----
    hftbacktest's ``RiskAdverseQueueModel``: :math:`F \\leftarrow Q` on entry,
    :math:`F \\leftarrow F - q` per trade, :math:`F \\leftarrow \\min(F, Q_{new})` per
    depth update; see :mod:`qlib.engine._queue_kernels`.
    """

    @property
    def kind(self) -> QueueModelKind:
        """:attr:`QueueModelKind.RISK_ADVERSE`."""
        return QueueModelKind.RISK_ADVERSE

    def to_arrays(self) -> tuple[int, np.ndarray]:
        """Return ``(kind, qp)`` for the queue kernels (``qp`` unused: one zero)."""
        return int(self.kind), np.zeros(1, dtype=np.float64)


@dataclass(frozen=True)
class PowerProbQueue:
    r"""Probabilistic queue model with :math:`f(x) = x^n`.

    Parameters
    ----------
    n
        The power (finite, > 0). Larger ``n`` attributes more of a decrease to the
        longer side of the queue.

    Notes
    -----
    hftbacktest's ``ProbQueueModel`` with ``PowerProbQueueFunc``:

    .. math:: p = \frac{B^n}{B^n + F^n}, \qquad
              F \leftarrow \min\bigl(F - (1-p)\Delta + \min(B - p\Delta, 0), Q_{new}\bigr)

    with :math:`\Delta` the decrease net of the trades since the last update; see
    :mod:`qlib.engine._queue_kernels`.
    """

    n: float = 2.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "n", _check_float("n", self.n, positive=True))

    @property
    def kind(self) -> QueueModelKind:
        """:attr:`QueueModelKind.PROB_POWER`."""
        return QueueModelKind.PROB_POWER

    def to_arrays(self) -> tuple[int, np.ndarray]:
        """Return ``(kind, qp)`` with ``qp[0] = n``."""
        return int(self.kind), np.array([self.n], dtype=np.float64)


@dataclass(frozen=True)
class LogProbQueue:
    r"""Probabilistic queue model with :math:`f(x) = \ln(1 + x)` (``LogProbQueueFunc``)."""

    @property
    def kind(self) -> QueueModelKind:
        """:attr:`QueueModelKind.PROB_LOG`."""
        return QueueModelKind.PROB_LOG

    def to_arrays(self) -> tuple[int, np.ndarray]:
        """Return ``(kind, qp)`` (``qp`` unused: one zero)."""
        return int(self.kind), np.zeros(1, dtype=np.float64)


@dataclass(frozen=True)
class L3FifoQueue:
    """Exact FIFO queue position from order-level (L3) data, kept by the engine itself."""

    @property
    def kind(self) -> QueueModelKind:
        """:attr:`QueueModelKind.L3_FIFO`."""
        return QueueModelKind.L3_FIFO

    def to_arrays(self) -> tuple[int, np.ndarray]:
        """Return ``(kind, qp)`` (``qp`` unused: one zero)."""
        return int(self.kind), np.zeros(1, dtype=np.float64)


LatencyModel = ConstantLatency | FeedProportionalLatency | ReplayLatency
QueueModel = RiskAdverseQueue | PowerProbQueue | LogProbQueue | L3FifoQueue

class ModelRegistry(Mapping[str, type]):
    """A read-only registry of model classes by name: the one place a name is resolved.

    It maps each canonical name to its class (iteration, ``len`` and ``in`` see the
    canonical names only) and knows the aliases a user may type; a name is matched after
    stripping, lower-casing and replacing ``-`` by ``_``.

    Parameters
    ----------
    what
        What the models are, for messages (``"queue"``, ``"latency"``).
    classes
        Canonical name to model class (a frozen dataclass).
    aliases
        Other accepted name to canonical name.

    Examples
    --------
    >>> QUEUE_MODELS.canonical("Power")
    'power_prob'
    >>> QUEUE_MODELS.build("power", n=3).n
    3.0
    >>> sorted(QUEUE_MODELS)
    ['l3_fifo', 'log_prob', 'power_prob', 'risk_adverse']
    """

    def __init__(self, what: str, classes: dict[str, type], aliases: dict[str, str]) -> None:
        bad = sorted(set(aliases.values()) - set(classes))
        if bad:
            raise ValueError(f"aliases point at unknown {what} model names {bad}")
        self.what = what
        self._classes = types.MappingProxyType(dict(classes))
        #: Accepted other names, alias to canonical name (read-only).
        self.aliases = types.MappingProxyType(dict(aliases))

    def __getitem__(self, name: str) -> type:
        try:
            return self._classes[self.canonical(name)]
        except ParameterError as exc:
            raise KeyError(str(exc)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._classes)

    def __len__(self) -> int:
        return len(self._classes)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._key(name) in self._classes

    def __repr__(self) -> str:
        return f"ModelRegistry({self.what}: {list(self._classes)}, aliases {dict(self.aliases)})"

    def _key(self, name: str) -> str:
        key = name.strip().lower().replace("-", "_")
        return self.aliases.get(key, key)

    def names(self) -> list[str]:
        """Every accepted name, canonical and alias, sorted."""
        return sorted([*self._classes, *self.aliases])

    def canonical(self, name: Any) -> str:
        """Return the canonical name of ``name`` (a canonical name or an alias).

        Raises
        ------
        ParameterError
            If ``name`` is not a string or not a known name (with the closest known one).
        """
        key = self._key(name) if isinstance(name, str) else None
        if key not in self._classes:
            hint = _closest(name.strip().lower(), self.names()) if isinstance(name, str) else ""
            raise ParameterError(
                f"{self.what} model name was {_show(name)}, expected one of {self.names()}{hint}")
        return key

    def name_of(self, model: Any) -> str:
        """Return the canonical name of a model object.

        Raises
        ------
        ParameterError
            If ``model`` is not an instance of a registered class.
        """
        for name, cls in self._classes.items():
            if type(model) is cls:
                return name
        raise ParameterError(f"{self.what} model was {_show(model)}, expected one of "
                             f"{[c.__name__ for c in self._classes.values()]}")

    def build(self, name: Any, **kw: Any) -> Any:
        """Build the model ``name`` with the dataclass's fields as keywords.

        Raises
        ------
        ParameterError
            Unknown name or key (with the closest known one), or a value the model refuses.
        """
        key = self.canonical(name)
        cls = self._classes[key]
        allowed = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(kw) - set(allowed))
        if unknown:
            raise ParameterError(
                f"unknown key {unknown[0]!r} for {self.what} model {name!r}, expected keys "
                f"{allowed}" + _closest(unknown[0], allowed))
        return cls(**kw)


def _closest(name: str, known: list[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest of ``known`` (difflib), or ``""``."""
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


#: The latency models by name (``backtest(latency=...)`` objects; :func:`latency_from_name`).
LATENCY_MODELS = ModelRegistry(
    "latency",
    {"constant": ConstantLatency, "feed_proportional": FeedProportionalLatency,
     "replay": ReplayLatency},
    aliases={"feed": "feed_proportional", "intp": "replay"},
)

#: The queue models by name: the names ``backtest(queue=...)``, :func:`queue_from_name`
#: and :func:`qlib.engine.tasks.build_queue` accept.
QUEUE_MODELS = ModelRegistry(
    "queue",
    {"risk_adverse": RiskAdverseQueue, "power_prob": PowerProbQueue, "log_prob": LogProbQueue,
     "l3_fifo": L3FifoQueue},
    aliases={"risk_averse": "risk_adverse", "power": "power_prob", "prob_power": "power_prob",
             "log": "log_prob", "prob_log": "log_prob", "l3": "l3_fifo"},
)


def latency_from_name(name: str, **kw: Any) -> LatencyModel:
    """Build a latency model by name (:data:`LATENCY_MODELS`): ``"constant"``,
    ``"feed_proportional"`` (``"feed"``) or ``"replay"`` (``"intp"``), with the
    dataclass's fields as keywords.

    Raises
    ------
    ParameterError
        Unknown name or key, or a value the model refuses.

    Examples
    --------
    >>> latency_from_name("constant", entry_ns=500, response_ns=700).latencies("cancel")
    (500, 700)
    """
    return LATENCY_MODELS.build(name, **kw)


def queue_from_name(name: str, **kw: Any) -> QueueModel:
    """Build a queue model by name (:data:`QUEUE_MODELS`): ``"risk_adverse"``,
    ``"power_prob"`` (``"power"``), ``"log_prob"`` (``"log"``) or ``"l3_fifo"``, with the
    dataclass's fields as keywords.

    Raises
    ------
    ParameterError
        Unknown name or key, or a value the model refuses.

    Examples
    --------
    >>> queue_from_name("power_prob", n=3).n
    3.0
    """
    return QUEUE_MODELS.build(name, **kw)
