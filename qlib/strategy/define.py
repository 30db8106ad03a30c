r"""Write a strategy as one plain function with named parameters: :func:`strategy`.

.. code-block:: python

    from qlib.strategy import strategy, market_ok, lots, quote, cancel_all, Side

    @strategy(params={"half_spread": 2.0, "skew": 0.5, "qty": 100.0, "max_position": 500.0})
    def skewed(view, p, state, out):
        if not market_ok(view):
            return cancel_all(out)
        v = view[0]
        qty = lots(p.qty, v["lot_size"])
        fair = v["mid_tick"] - p.skew * v["position"] / p.qty
        n = 0
        if v["position"] + qty <= p.max_position:
            n = quote(out, n, Side.BUY, fair - p.half_spread, qty)
        if v["position"] - qty >= -p.max_position:
            n = quote(out, n, Side.SELL, fair + p.half_spread, qty)
        return n

``skewed`` is then a :class:`~qlib.strategy.CustomStrategy`: ``qlib.engine.backtest(data,
skewed)`` runs it, ``skewed.with_params(qty=50)`` changes a parameter without compiling
anything, and ``qlib.strategy.decide(skewed, view)`` runs it once on a hand-made view.

The view
--------
Besides the best bid and ask, depth, mid, sigma, position and working orders
(:data:`qlib.dtypes.VIEW_DTYPE`), a kernel sees the named features it asks for in
``features=``, computed by the engine from the events seen locally before each decision
(the table of :mod:`qlib.signals.nb`): ``"levels"`` (the local book's first
:data:`qlib.dtypes.VIEW_LEVELS` levels per side, ``bid_px_l``, ``bid_qty_l``,
``ask_px_l``, ``ask_qty_l``), ``"imbalanceN"``, ``"microprice"``, ``"ofi"``,
``"volatility"``, ``"trade_flow"``. What it does not ask for is not computed (NaN):

.. code-block:: python

    @strategy(params={"half_spread": 2.0, "lean": 1.5, "qty": 100.0},
              features=("imbalance5", "microprice"))
    def leaning(view, p, state, out):
        v = view[0]
        fair = v["microprice_tick"] + p.lean * v["imbalance"]
        ...

How it works
------------
``p`` is a named tuple of floats built from the float64 ``params`` array at each call by a
generated *trampoline* ``kernel(view, params, state, out)``, which calls the user's
function; numba compiles the two together, once per definition, for exactly
:data:`qlib.strategy.nb.KERNEL_SIGNATURE`. An engine that takes the kernel as a
first-class function of type :data:`qlib.strategy.nb.KERNEL_TYPE` is therefore compiled
once for all strategies (and cached on disk); only the strategy itself is compiled when a
notebook cell is edited. Parameter values are data, so changing them compiles nothing.
"""

from __future__ import annotations

import keyword
import math
import re
from collections import namedtuple
from collections.abc import Callable, Mapping
from typing import Any

from numba import njit
from numba.core.errors import NumbaError

from qlib.errors import ParameterError
from qlib.strategy._signature import KERNEL_SIGNATURE
from qlib.strategy.specs import CustomStrategy, _is_dispatcher

__all__ = ["compile_kernel", "strategy"]

_ATTR = re.compile(r"Unknown attribute '(\w+)' of type (\w+)")


def _param_items(params: Mapping[str, Any] | None, where: str) -> tuple[tuple[str, ...],
                                                                        tuple[float, ...]]:
    if params is None:
        return (), ()
    if not isinstance(params, Mapping):
        raise ParameterError(f"{where}: params must be a mapping of name to number, was "
                             f"{params!r} ({type(params).__name__})")
    names, values, bad = [], [], []
    for key, value in params.items():
        if (not isinstance(key, str) or not key.isidentifier() or keyword.iskeyword(key)
                or key.startswith("_")):
            raise ParameterError(f"{where}: parameter name {key!r} must be a Python "
                                 "identifier not starting with '_'")
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                and not hasattr(value, "__float__"):
            raise ParameterError(f"{where}: parameter {key} must be a real number, was "
                                 f"{value!r} ({type(value).__name__})")
        x = float(value)
        if not math.isfinite(x):
            bad.append(f"{key}={x!r}")
        names.append(key)
        values.append(x)
    if bad:
        raise ParameterError(f"{where}: parameter(s) must be finite, was {', '.join(bad)}")
    return tuple(names), tuple(values)


def compile_kernel(fn: Callable[..., int], param_names: tuple[str, ...],
                   name: str | None = None) -> Callable[..., int]:
    """Compile ``fn(view, p, state, out)`` into a kernel of the fixed signature.

    Parameters
    ----------
    fn
        A plain Python function or an ``@njit`` dispatcher taking ``(view, p, state,
        out)``, where ``p`` is a named tuple of floats with fields ``param_names``.
    param_names
        The parameter names, in the order of the ``params`` array.
    name
        Name of the generated kernel (default: ``fn``'s name).

    Returns
    -------
    numba dispatcher
        ``kernel(view, params, state, out) -> int64`` compiled for exactly
        :data:`qlib.strategy.nb.KERNEL_SIGNATURE` (no other signature is compiled), usable
        where :data:`qlib.strategy.nb.KERNEL_TYPE` is expected.

    Raises
    ------
    ParameterError
        If ``fn`` reads a parameter not in ``param_names`` (the message names it), or
        does not compile for the signature.
    """
    py = getattr(fn, "py_func", fn)
    label = name or getattr(py, "__name__", "strategy")
    user = fn if _is_dispatcher(fn) and hasattr(fn, "py_func") else njit(fn)
    tuple_name = f"{label}_params" if label.isidentifier() else "params_tuple"
    P = namedtuple(tuple_name, param_names)  # noqa: PYI024 - numba needs a namedtuple
    args = ", ".join(f"params[{i}]" for i in range(len(param_names)))
    src = ("def kernel(view, params, state, out):\n"
           f"    return _user(view, _P({args}), state, out)\n")
    scope: dict[str, Any] = {"_user": user, "_P": P}
    exec(compile(src, f"<qlib.strategy kernel of {label}>", "exec"), scope)  # noqa: S102
    tramp = scope["kernel"]
    tramp.__name__ = tramp.__qualname__ = label if label.isidentifier() else "kernel"
    tramp.__doc__ = getattr(py, "__doc__", None)
    try:
        return njit(KERNEL_SIGNATURE)(tramp)
    except NumbaError as exc:
        msg = str(exc)
        m = _ATTR.search(msg)
        if m and m.group(2) == tuple_name:
            raise ParameterError(
                f"strategy {label!r} reads parameter {m.group(1)!r}, which its params do "
                f"not declare; declared: {', '.join(param_names) or '(none)'}") from None
        first = msg.strip().splitlines()[:6]
        raise ParameterError(f"strategy {label!r} does not compile for the kernel signature "
                             f"(view, params, state, out) -> int: " + " ".join(first)
                             ) from exc


def strategy(fn: Callable[..., int] | None = None, *, params: Mapping[str, float] | None = None,
             state_size: int = 0, features: tuple[str, ...] = (),
             name: str | None = None) -> Any:
    r"""Decorator: make a :class:`~qlib.strategy.CustomStrategy` of a function with named parameters.

    Parameters
    ----------
    fn
        ``fn(view, p, state, out) -> int`` (plain Python or ``@njit``); ``p.<name>`` reads
        a parameter. The rest of the contract is :mod:`qlib.strategy.specs`'s.
    params
        Parameter names and default values (finite real numbers), in order.
    state_size
        Length (>= 0) of the zeroed float64 scratch ``state`` kept between calls.
    features
        Named features the strategy reads from the view (validated by
        :func:`qlib.signals.nb.check_features`); the engine fills them at each decision.
    name
        Label in reports (default: the function's name).

    Returns
    -------
    CustomStrategy or callable
        The spec (``@strategy(...)`` with arguments returns the decorator).

    Raises
    ------
    ParameterError
        For a bad parameter name or value, an unknown feature, a parameter read but not
        declared, or a kernel that does not compile or fails on a test view.
    """

    def build(f: Callable[..., int]) -> CustomStrategy:
        label = name or getattr(getattr(f, "py_func", f), "__name__", "strategy")
        names, values = _param_items(params, f"strategy {label!r}")
        kernel = compile_kernel(f, names, label)
        return CustomStrategy(kernel, params=values, state_size=state_size, name=label,
                              param_names=names, features=tuple(features))

    if fn is None:
        return build
    return build(fn)
