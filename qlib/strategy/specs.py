r"""Strategy specifications: validated frozen dataclasses around the decision kernels.

A spec carries what the engine needs to run a strategy: its :class:`~qlib.enums.StrategyKind`,
its parameters as a float64 array (:meth:`params_array`), the size of its scratch
``state`` array, and the jitted kernel itself (:attr:`kernel`). The built-in kinds are
dispatched inside the engine by :func:`qlib.strategy.nb.decide_builtin`; a
:class:`CustomStrategy` carries the user's ``@njit`` function, usually made by the
:func:`qlib.strategy.strategy` decorator from a function with named parameters.

Conventions shared by the built-in kernels
------------------------------------------
* Prices are in ticks; the inventory ``q`` of the models is the position in units of
  the order size, :math:`q = \text{position} / \text{order\_qty}`, so :math:`\gamma` is
  per tick per order size and the formulas read as in the papers with :math:`\Delta = 1`.
* Time is in seconds (``ts`` fields / 1e9); ``sigma_tick`` is in ticks per
  :math:`\sqrt{s}`; ``k`` is per tick; ``A`` is per second.
* The model prices are rounded *away* from the book's inside: bids down
  (``floor``), asks up (``ceil``). Quotes are post-only (``LIMIT``/``GTX``) and never
  cross the local book: a bid is capped at ``best_ask - 1``, an ask floored at
  ``best_bid + 1``; if our own bid and ask would touch or cross, the ask moves up to
  ``bid + 1``. A bid below 1 tick is not sent.
* Quantities are ``order_qty`` rounded *down* to the view's ``lot_size``; when that is
  0 the kernel returns 0.
* Inventory limit: a buy quote (grid: the ``i``-th, 0-based) is sent only if
  ``position + (i + 1) * qty <= max_position``, a sell quote only if
  ``position - (i + 1) * qty >= -max_position`` (each side's worst case if every
  quote of the side fills), so the side that would take ``|position|`` beyond
  ``max_position`` is not quoted while the side that reduces it still is.
* The kernels return **0 (cancel everything)** when the kill switch is on, a side of
  the local book is empty, the book is crossed or locked, ``mid_tick <= 0``, or
  ``position`` or ``sigma_tick`` is not finite (``sigma_tick < 0`` too). They never
  return -1, and never touch ``state`` (``state_size == 0``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np

from qlib.dtypes import INTENT_DTYPE, VIEW_DTYPE, VIEW_FEATURE_FIELDS, require_dtype
from qlib.enums import StrategyKind
from qlib.errors import ParameterError
from qlib.strategy import _kernels as _k

__all__ = [
    "GLFT",
    "MAX_INTENTS",
    "AvellanedaStoikov",
    "CustomStrategy",
    "DEFAULT_AS_GAMMA",
    "GridMM",
    "ImbalanceMM",
    "Strategy",
    "TouchMM",
    "decide",
    "make_view",
]

MAX_INTENTS = _k.MAX_INTENTS

_BIG = 1.0e15  # largest accepted magnitude of a price-like parameter (ticks)

#: Avellaneda-Stoikov risk aversion that trades on :func:`qlib.data.simulate`'s market
#: (see "Choosing gamma" in :class:`AvellanedaStoikov`).
DEFAULT_AS_GAMMA = 1.0e-5


def _number(name: str, value: object, *, low: float = 0.0, strict: bool = True,
            high: float = math.inf) -> float:
    """Return ``value`` as float, checked finite and ``> low`` (``>= low`` if not strict)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ParameterError(f"{name} must be a real number, was {value!r} "
                             f"({type(value).__name__})")
    x = float(value)
    if not math.isfinite(x):
        raise ParameterError(f"{name} must be finite, was {value!r}")
    if (x <= low) if strict else (x < low):
        raise ParameterError(f"{name} must be {'>' if strict else '>='} {low:g}, was {value!r}")
    if x > high:
        raise ParameterError(f"{name} must be <= {high:g}, was {value!r}")
    return x


class Strategy:
    """Interface shared by the specs (a documentation base, no behaviour of its own).

    Attributes
    ----------
    kind : StrategyKind
        Which kernel the engine dispatches to.
    name : str
        Registry name (:func:`strategy_from_name`) or the custom strategy's name.
    state_size : int
        Length of the float64 ``state`` array the engine allocates (zeros) for the kernel.
    features : tuple of str
        Named features the engine fills in the view (``()`` for the built-ins).
    kernel
        The jitted kernel ``fn(view, params, state, out) -> int``.
    """

    kind: ClassVar[StrategyKind]
    name: str
    state_size: int
    #: Named view features the kernel reads (:mod:`qlib.signals.nb`); none for built-ins.
    features: tuple[str, ...] = ()

    def params_array(self) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    @property
    def kernel(self) -> Callable[..., int]:  # pragma: no cover - overridden
        raise NotImplementedError


@dataclass(frozen=True)
class AvellanedaStoikov(Strategy):
    r"""Avellaneda-Stoikov (2008) market maker: reservation price and optimal spread.

    Parameters
    ----------
    gamma
        Risk aversion :math:`\gamma > 0`, per tick per order size.
    k
        Decay :math:`k > 0` of the fill intensity :math:`A e^{-k\delta}`, per tick
        (:func:`qlib.strategy.fit_intensity` estimates it).
    order_qty
        Size of each quote (> 0), in the instrument's quantity unit; also the unit of
        the inventory ``q``.
    max_position
        Largest absolute position (> 0) the quotes may lead to.
    min_spread_ticks
        Floor (>= 0) of the total quoted spread :math:`\delta^a + \delta^b`, ticks.

    Notes
    -----
    With mid :math:`s` (``mid_tick``), volatility :math:`\sigma` (``sigma_tick``),
    inventory :math:`q = \text{position}/\text{order\_qty}` and time to the horizon
    :math:`\tau = \max(T - t, 0)` in seconds (``ts_end - ts_local``):

    .. math::
        r = s - q \gamma \sigma^2 \tau, \qquad
        \delta^a + \delta^b = \max\left(\gamma \sigma^2 \tau
            + \tfrac{2}{\gamma} \ln\left(1 + \tfrac{\gamma}{k}\right),\ m\right),

    and the quotes are :math:`p^b = r - (\delta^a + \delta^b)/2`,
    :math:`p^a = r + (\delta^a + \delta^b)/2` (the approximate solution
    of [1]_, for the intensity :math:`A e^{-k\delta}`), then rounded and capped as the
    module notes say.
    ``m`` is ``min_spread_ticks``. At the horizon (:math:`\tau = 0`, also when
    ``ts_end`` is not set) the spread is :math:`\tfrac{2}{\gamma}\ln(1+\gamma/k)` and
    the quotes are centred on the mid; before ``sigma_tick`` is warm (0) likewise.

    Choosing gamma
    --------------
    :math:`\gamma` has two jobs with very different scales. In the spread term
    :math:`\tfrac{2}{\gamma}\ln(1+\gamma/k)` it only matters when :math:`\gamma` is
    comparable to :math:`k` (it tends to :math:`2/k` as :math:`\gamma \to 0`); in the
    inventory terms it multiplies :math:`\sigma^2\tau`, where :math:`\tau` runs to
    ``ts_end``, the end of the trading session (hours: about 34 200 s at the start of
    the simulated session), not the end of the data. The skew per order of inventory is
    :math:`\gamma\sigma^2\tau` ticks, so a usable :math:`\gamma` is about
    ``skew / (sigma_tick**2 * tau)`` (:meth:`gamma_for_skew`). On
    :func:`qlib.data.simulate` (``sigma_tick`` about 1.2-1.6 ticks per
    :math:`\sqrt{s}`, ``k`` about 0.63-0.73 per tick from :func:`qlib.strategy.fit_intensity`)
    a skew of about 0.7 tick per order at the open gives :math:`\gamma \approx 10^{-5}`,
    :data:`DEFAULT_AS_GAMMA`: a spread of about :math:`2/k + \gamma\sigma^2\tau \approx 3.4`
    ticks. Measured with :func:`qlib.engine.backtest` (``order_qty=100``,
    ``max_position=1000``, decisions every 100 ms, 1 ms latency each way, power queue,
    100 000 events):

    =========  =====================  =============================
    seed       gamma 1e-5             gamma 2e-5
    =========  =====================  =============================
    7          1066 fills, P&L 352.6  951 fills, P&L 313.9
    1          839 fills, P&L 412.8   725 fills, P&L 285.6
    2          905 fills, P&L 219.6   815 fills, P&L 124.1
    3          930 fills, P&L 389.4   840 fills, P&L 357.8
    =========  =====================  =============================

    With :math:`\gamma = 10^{-3}` (the value used before) the skew is about 70 ticks per
    order and the quotes sit tens of ticks away: 3 fills on seed 7 (P&L -10.5);
    :math:`\gamma = 10^{-4}`: 289 fills (P&L 75.1).

    References
    ----------
    .. [1] Avellaneda, M. and Stoikov, S. (2008). High-frequency trading in a limit
       order book. Quantitative Finance, 8(3), 217-224.
    """

    gamma: float
    k: float
    order_qty: float
    max_position: float
    min_spread_ticks: float = 0.0

    @staticmethod
    def gamma_for_skew(skew_ticks: float, sigma_tick: float, horizon_s: float) -> float:
        r"""Return :math:`\gamma = s / (\sigma^2 \tau)`: a skew of ``skew_ticks`` per order.

        Parameters
        ----------
        skew_ticks
            Wanted shift (> 0) of the reservation price per order of inventory, ticks.
        sigma_tick
            Volatility of the mid (> 0), ticks per square-root second (the view's
            ``sigma_tick``).
        horizon_s
            Time to the horizon (> 0), seconds (``ts_end - ts_local``).

        Raises
        ------
        ParameterError
            For a value that is not a finite number > 0.
        """
        s = _number("skew_ticks", skew_ticks, high=_BIG)
        sig = _number("sigma_tick", sigma_tick, high=_BIG)
        tau = _number("horizon_s", horizon_s, high=_BIG)
        return s / (sig * sig * tau)

    kind: ClassVar[StrategyKind] = StrategyKind.AVELLANEDA_STOIKOV
    name: ClassVar[str] = "avellaneda_stoikov"
    state_size: ClassVar[int] = 0

    def __post_init__(self) -> None:
        for f in ("gamma", "k", "order_qty", "max_position"):
            _number(f, getattr(self, f), high=_BIG)
        _number("min_spread_ticks", self.min_spread_ticks, strict=False, high=_BIG)

    def params_array(self) -> np.ndarray:
        """Return the float64 parameters in the ``AS_*`` layout of the kernel."""
        p = np.zeros(_k.AS_N, dtype=np.float64)
        p[_k.AS_GAMMA], p[_k.AS_K] = self.gamma, self.k
        p[_k.AS_ORDER_QTY], p[_k.AS_MAX_POSITION] = self.order_qty, self.max_position
        p[_k.AS_MIN_SPREAD] = self.min_spread_ticks
        return p

    @property
    def kernel(self) -> Callable[..., int]:
        """The jitted kernel, :func:`qlib.strategy._kernels.avellaneda_stoikov`."""
        return _k.avellaneda_stoikov


@dataclass(frozen=True)
class GLFT(Strategy):
    r"""Gueant-Lehalle-Fernandez-Tapia (2013) market maker: closed-form asymptotic quotes.

    Parameters
    ----------
    gamma
        Risk aversion :math:`\gamma > 0`, per tick per order size.
    k
        Decay :math:`k > 0` of the fill intensity :math:`\lambda(\delta) = A e^{-k\delta}`,
        per tick.
    A
        Intensity :math:`A > 0` at :math:`\delta = 0`, per second (one side).
    order_qty
        Size of each quote (> 0); also the unit of the inventory ``q``.
    max_position
        Largest absolute position (> 0) the quotes may lead to.

    Notes
    -----
    The infinite-horizon approximation of the optimal depths for the exponential
    utility (:math:`\xi = \gamma`, "model A" of [2]_, with order size
    :math:`\Delta = 1` as ``q`` is counted in orders), eqs. (4.6)-(4.7) of [2]_ and the
    asymptotic formulas of [1]_:

    .. math::
        c_1 = \frac{1}{\gamma}\ln\left(1 + \frac{\gamma}{k}\right), \qquad
        c_2 = \sqrt{\frac{\gamma}{2 A k}
              \left(1 + \frac{\gamma}{k}\right)^{1 + k/\gamma}},

        \delta^b(q) = c_1 + \frac{2q + 1}{2} c_2 \sigma, \qquad
        \delta^a(q) = c_1 - \frac{2q - 1}{2} c_2 \sigma,

    quotes :math:`p^b = s - \delta^b(q)`, :math:`p^a = s + \delta^a(q)`: a half spread
    :math:`c_1 + c_2\sigma/2` and a skew :math:`c_2\sigma` per order of inventory (the
    decomposition of [3]_). :math:`\sigma` is ``sigma_tick`` (ticks per
    :math:`\sqrt{s}`) and ``A`` per second, so :math:`\sigma^2/A` is in ticks squared.
    Before ``sigma_tick`` is warm (0) the quotes are :math:`s \mp c_1`.

    The closed form is the quote of the ground state of the matrix of [1]_ (Theorem 1:
    diagonal :math:`\tfrac{k}{2}\gamma\sigma^2 q^2`, off-diagonal
    :math:`-A(1+\gamma/k)^{-(1+k/\gamma)}`), i.e. the :math:`T \to \infty` limit, in its
    Gaussian (continuum) approximation; ``tests/unit/strategy/test_kernels.py``
    checks the two agree numerically.

    References
    ----------
    .. [1] Gueant, O., Lehalle, C.-A. and Fernandez-Tapia, J. (2013). Dealing with the
       inventory risk: a solution to the market making problem. Mathematics and
       Financial Economics, 7(4), 477-507.
    .. [2] Gueant, O. (2017). Optimal market making. Applied Mathematical Finance,
       24(2), 112-154. arXiv:1605.01862.
    .. [3] hftbacktest documentation (2023). Gueant-Lehalle-Fernandez-Tapia market
       making model and grid trading (tutorial notebook, equations (4.6)-(4.7)).
    """

    gamma: float
    k: float
    A: float
    order_qty: float
    max_position: float

    kind: ClassVar[StrategyKind] = StrategyKind.GLFT
    name: ClassVar[str] = "glft"
    state_size: ClassVar[int] = 0

    def __post_init__(self) -> None:
        for f in ("gamma", "k", "A", "order_qty", "max_position"):
            _number(f, getattr(self, f), high=_BIG)

    def params_array(self) -> np.ndarray:
        """Return the float64 parameters in the ``GLFT_*`` layout of the kernel."""
        p = np.zeros(_k.GLFT_N, dtype=np.float64)
        p[_k.GLFT_GAMMA], p[_k.GLFT_K], p[_k.GLFT_A] = self.gamma, self.k, self.A
        p[_k.GLFT_ORDER_QTY], p[_k.GLFT_MAX_POSITION] = self.order_qty, self.max_position
        return p

    def coefficients(self) -> tuple[float, float]:
        r"""Return :math:`(c_1, c_2)`: half spread is :math:`c_1 + c_2\sigma/2`, skew :math:`c_2\sigma`."""
        c1, c2 = _k.glft_coefficients(self.gamma, self.k, self.A)
        return float(c1), float(c2)

    @property
    def kernel(self) -> Callable[..., int]:
        """The jitted kernel, :func:`qlib.strategy._kernels.glft`."""
        return _k.glft


@dataclass(frozen=True)
class GridMM(Strategy):
    r"""Grid market maker: ``levels`` quotes per side, ``step_ticks`` apart, inventory-skewed.

    Parameters
    ----------
    levels
        Quotes per side, an integer in ``1 .. MAX_INTENTS // 2``.
    step_ticks
        Distance between neighbouring levels of a side (>= 1 tick).
    offset_ticks
        Distance (>= 0 ticks) of the first level from the anchor.
    order_qty
        Size of each quote (> 0); also the unit of the inventory ``q``.
    max_position
        Largest absolute position (> 0) the quotes may lead to.
    skew_ticks
        Grid shift (>= 0) in ticks per order of inventory.
    anchor
        ``"mid"`` (default): the grid starts from the mid; ``"touch"``: bids from the
        best bid and asks from the best ask.

    Notes
    -----
    With anchor prices :math:`a^b, a^a` (:math:`s` for both, or the best bid and ask),
    offset :math:`o`, step :math:`d`, skew :math:`\kappa` and :math:`q = \text{position}
    / \text{order\_qty}`, level :math:`i = 0, \dots, L-1` is

    .. math::
        p^b_i = \lfloor a^b - o - i d - \kappa q \rfloor, \qquad
        p^a_i = \lceil a^a + o + i d - \kappa q \rceil,

    then capped as the module notes say (levels pushed onto one price by the caps are
    kept one tick apart). The whole grid moves down when long and up when short, the
    skew of the grid traders of [1]_.

    References
    ----------
    .. [1] hftbacktest documentation (2023). High-frequency grid trading (tutorial
       notebook).
    """

    levels: int
    step_ticks: float
    offset_ticks: float
    order_qty: float
    max_position: float
    skew_ticks: float = 0.0
    anchor: str = "mid"

    kind: ClassVar[StrategyKind] = StrategyKind.GRID
    name: ClassVar[str] = "grid"
    state_size: ClassVar[int] = 0

    def __post_init__(self) -> None:
        cap = MAX_INTENTS // 2
        if (isinstance(self.levels, bool) or not isinstance(self.levels, (int, np.integer))
                or not 1 <= int(self.levels) <= cap):
            raise ParameterError(f"levels must be an integer in 1..{cap}, was {self.levels!r}")
        _number("step_ticks", self.step_ticks, low=1.0, strict=False, high=_BIG)
        _number("offset_ticks", self.offset_ticks, strict=False, high=_BIG)
        _number("order_qty", self.order_qty, high=_BIG)
        _number("max_position", self.max_position, high=_BIG)
        _number("skew_ticks", self.skew_ticks, strict=False, high=_BIG)
        if self.anchor not in ("mid", "touch"):
            raise ParameterError(f"anchor must be 'mid' or 'touch', was {self.anchor!r}")

    def params_array(self) -> np.ndarray:
        """Return the float64 parameters in the ``GRID_*`` layout of the kernel."""
        p = np.zeros(_k.GRID_N, dtype=np.float64)
        p[_k.GRID_LEVELS], p[_k.GRID_STEP] = self.levels, self.step_ticks
        p[_k.GRID_OFFSET], p[_k.GRID_ORDER_QTY] = self.offset_ticks, self.order_qty
        p[_k.GRID_MAX_POSITION], p[_k.GRID_SKEW] = self.max_position, self.skew_ticks
        p[_k.GRID_ANCHOR] = _k.ANCHOR_TOUCH if self.anchor == "touch" else _k.ANCHOR_MID
        return p

    @property
    def kernel(self) -> Callable[..., int]:
        """The jitted kernel, :func:`qlib.strategy._kernels.grid`."""
        return _k.grid


@dataclass(frozen=True)
class ImbalanceMM(Strategy):
    r"""Market maker quoting around a fair value shifted by the order-book imbalance.

    Parameters
    ----------
    alpha
        Weight (finite, any sign) of the imbalance signal; 1 quotes around the
        depth-weighted mid, 0 around the mid.
    half_spread_ticks
        Half of the quoted spread (> 0 ticks).
    order_qty
        Size of each quote (> 0); also the unit of the inventory ``q``.
    max_position
        Largest absolute position (> 0) the quotes may lead to.
    skew_ticks
        Inventory skew (>= 0) in ticks per order of inventory.

    Notes
    -----
    With depths :math:`D^b, D^a` over the engine's ``depth_levels`` (``bid_depth``,
    ``ask_depth``), best prices :math:`b, a`, mid :math:`s`:

    .. math::
        I = \frac{D^b - D^a}{D^b + D^a} \in [-1, 1], \qquad
        f = s + \alpha I \frac{a - b}{2}, \qquad
        p^{b,a} = f - \kappa q \mp h,

    :math:`I = 0` when both depths are 0. With :math:`\alpha = 1` and the best-level
    depths, :math:`f` is the imbalance-weighted mid :math:`I' a + (1 - I') b`,
    :math:`I' = D^b/(D^b + D^a)`, of [2]_; the imbalance predicts the direction of the
    next mid move and the sign of the next market order [1]_, [2]_.

    References
    ----------
    .. [1] Cartea, A., Donnelly, R. and Jaimungal, S. (2018). Enhancing trading
       strategies with order book signals. Applied Mathematical Finance, 25(1), 1-35.
    .. [2] Stoikov, S. (2018). The micro-price: a high-frequency estimator of future
       prices. Quantitative Finance, 18(12), 1959-1966.
    .. [3] Cont, R., Kukanov, A. and Stoikov, S. (2014). The price impact of order book
       events. Journal of Financial Econometrics, 12(1), 47-88.
    """

    alpha: float
    half_spread_ticks: float
    order_qty: float
    max_position: float
    skew_ticks: float = 0.0

    kind: ClassVar[StrategyKind] = StrategyKind.IMBALANCE
    name: ClassVar[str] = "imbalance"
    state_size: ClassVar[int] = 0

    def __post_init__(self) -> None:
        _number("alpha", self.alpha, low=-_BIG, strict=False, high=_BIG)
        _number("half_spread_ticks", self.half_spread_ticks, high=_BIG)
        _number("order_qty", self.order_qty, high=_BIG)
        _number("max_position", self.max_position, high=_BIG)
        _number("skew_ticks", self.skew_ticks, strict=False, high=_BIG)

    def params_array(self) -> np.ndarray:
        """Return the float64 parameters in the ``IMB_*`` layout of the kernel."""
        p = np.zeros(_k.IMB_N, dtype=np.float64)
        p[_k.IMB_ALPHA], p[_k.IMB_HALF_SPREAD] = self.alpha, self.half_spread_ticks
        p[_k.IMB_ORDER_QTY], p[_k.IMB_MAX_POSITION] = self.order_qty, self.max_position
        p[_k.IMB_SKEW] = self.skew_ticks
        return p

    @property
    def kernel(self) -> Callable[..., int]:
        """The jitted kernel, :func:`qlib.strategy._kernels.imbalance`."""
        return _k.imbalance


@dataclass(frozen=True)
class TouchMM(Strategy):
    r"""Join the best bid and the best ask: the parity and benchmark strategy.

    Parameters
    ----------
    order_qty
        Size of each quote (> 0), rounded down to the lot size by the kernel.
    max_position
        Largest absolute position (> 0) the quotes may lead to.

    Notes
    -----
    Exactly: if the kill switch is off, both sides of the local book are present and
    the book is not crossed, write (in this order) a ``BUY LIMIT GTX`` of ``qty`` at
    ``bid_px_tick`` if ``position + qty <= max_position``, and a ``SELL LIMIT GTX`` of
    ``qty`` at ``ask_px_tick`` if ``position - qty >= -max_position``, where
    ``qty = floor(order_qty / lot_size) * lot_size``; return the rows written.
    Otherwise (or when ``qty == 0``) return 0.
    """

    order_qty: float
    max_position: float

    kind: ClassVar[StrategyKind] = StrategyKind.TOUCH
    name: ClassVar[str] = "touch"
    state_size: ClassVar[int] = 0

    def __post_init__(self) -> None:
        _number("order_qty", self.order_qty, high=_BIG)
        _number("max_position", self.max_position, high=_BIG)

    def params_array(self) -> np.ndarray:
        """Return the float64 parameters in the ``TOUCH_*`` layout of the kernel."""
        p = np.zeros(_k.TOUCH_N, dtype=np.float64)
        p[_k.TOUCH_ORDER_QTY], p[_k.TOUCH_MAX_POSITION] = self.order_qty, self.max_position
        return p

    @property
    def kernel(self) -> Callable[..., int]:
        """The jitted kernel, :func:`qlib.strategy._kernels.touch`."""
        return _k.touch


def _is_dispatcher(fn: object) -> bool:
    from numba import config
    from numba.core.dispatcher import Dispatcher

    if isinstance(fn, Dispatcher):
        return True
    # Under NUMBA_DISABLE_JIT=1, @njit returns the Python function itself.
    return bool(config.DISABLE_JIT) and callable(fn)


@dataclass(frozen=True)
class CustomStrategy(Strategy):
    r"""A user's jitted decision kernel ``fn(view, params, state, out) -> int``.

    Parameters
    ----------
    fn
        A numba ``@njit`` function (a dispatcher); ``view`` is a 1-element
        :data:`qlib.dtypes.VIEW_DTYPE` array, ``params``/``state`` float64 arrays,
        ``out`` an :data:`qlib.dtypes.INTENT_DTYPE` array of ``MAX_INTENTS`` rows. It
        returns the number of intents written, 0 to cancel everything or -1 to keep
        the working orders.
    params
        The kernel's parameters (finite real numbers), passed as a float64 array.
    state_size
        Length (>= 0) of the zero-initialised float64 scratch array kept between calls.
    name
        A label for reports.
    check
        If True (default), call ``fn`` once on a synthetic two-sided view (best bid
        10 000, ask 10 001 ticks, flat) to compile it and check that it returns an
        integer in ``-1 .. MAX_INTENTS``; a failure raises :class:`ParameterError`.
    param_names
        Names of ``params``, in order (empty: the parameters are positional only).
        :meth:`with_params` and :meth:`params_dict` use them.
    features
        Named features the kernel reads from the view, validated by
        :func:`qlib.signals.nb.check_features` (``"imbalance5"``, ``"microprice"``,
        ``"ofi"``, ``"volatility"``, ``"trade_flow"``); the engine fills them.

    Notes
    -----
    :func:`qlib.strategy.strategy` builds one from a function ``fn(view, p, state, out)``
    whose ``p.<name>`` reads a parameter; its kernel is compiled once per definition for
    the fixed :data:`qlib.strategy.nb.KERNEL_SIGNATURE`, and :meth:`with_params` only
    changes data. The engine calls a custom kernel through a first-class function of that
    signature, so its custom-strategy loop is compiled once and cached on disk for every
    kernel; an older ``@njit`` kernel is compiled for the signature once
    (:func:`qlib.engine._loop.as_kernel`).
    """

    fn: Callable[..., int]
    params: tuple[float, ...] = ()
    state_size: int = 0
    name: str = "custom"
    check: bool = field(default=True, repr=False, compare=False)
    param_names: tuple[str, ...] = ()
    features: tuple[str, ...] = ()

    kind: ClassVar[StrategyKind] = StrategyKind.CUSTOM

    def __post_init__(self) -> None:
        if not _is_dispatcher(self.fn):
            raise ParameterError(f"fn must be a numba @njit function (a dispatcher), was "
                                 f"{self.fn!r} ({type(self.fn).__name__})")
        try:
            values = tuple(self.params)
            names = tuple(self.param_names)
        except TypeError:
            raise ParameterError(f"params must be a sequence of numbers, was {self.params!r}"
                                 ) from None
        if names and len(names) != len(values):
            raise ParameterError(f"param_names has {len(names)} name(s) for {len(values)} "
                                 f"parameter value(s): {', '.join(map(str, names))}")
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ParameterError(f"param_names repeats {', '.join(dup)}")
        bad = [f"{names[i] if names else f'params[{i}]'}={x!r}" for i, x in enumerate(values)
               if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating))
               or not math.isfinite(float(x))]
        if bad:
            raise ParameterError(f"strategy {self.name!r}: parameter(s) must be finite real "
                                 f"numbers, was {', '.join(bad)}")
        object.__setattr__(self, "params", tuple(float(x) for x in values))
        object.__setattr__(self, "param_names", tuple(str(n) for n in names))
        from qlib.signals.nb import check_features

        object.__setattr__(self, "features", check_features(self.features))
        if (isinstance(self.state_size, bool)
                or not isinstance(self.state_size, (int, np.integer)) or self.state_size < 0):
            raise ParameterError(f"state_size must be an integer >= 0, was {self.state_size!r}")
        if not isinstance(self.name, str) or not self.name:
            raise ParameterError(f"name must be a non-empty string, was {self.name!r}")
        if self.check:
            self._smoke_call()

    def _smoke_call(self) -> None:
        view = make_view(bid_px_tick=10_000, ask_px_tick=10_001, lot_size=1.0)
        out = np.zeros(MAX_INTENTS, dtype=INTENT_DTYPE)
        # views of padded buffers: a kernel that indexes past its declared params or
        # state reads zeros instead of foreign memory (nopython mode has no bounds check)
        state = np.zeros(int(self.state_size) + 8, dtype=np.float64)[: int(self.state_size)]
        params = np.zeros(len(self.params) + 8, dtype=np.float64)
        params[: len(self.params)] = self.params
        try:
            n = self.fn(view, params[: len(self.params)], state, out)
        except Exception as exc:  # the user's kernel failed to compile or run
            raise ParameterError(f"fn {self.name!r} failed on a test view: "
                                 f"{type(exc).__name__}: {exc}") from exc
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) \
                or not -1 <= int(n) <= MAX_INTENTS:
            raise ParameterError(f"fn {self.name!r} must return an integer in "
                                 f"-1..{MAX_INTENTS}, was {n!r}")

    def params_array(self) -> np.ndarray:
        """Return ``params`` as a float64 array."""
        return np.asarray(self.params, dtype=np.float64)

    def params_dict(self) -> dict[str, float]:
        """Return the parameters by name (``param_names``; ``params[i]`` names if none)."""
        names = self.param_names or tuple(f"params[{i}]" for i in range(len(self.params)))
        return dict(zip(names, self.params))

    def with_params(self, **values: float) -> CustomStrategy:
        """Return a copy with the named parameters replaced (nothing is recompiled).

        Raises
        ------
        ParameterError
            For a name not in ``param_names`` or a value that is not a finite number.
        """
        unknown = sorted(set(values) - set(self.param_names))
        if unknown:
            raise ParameterError(f"unknown parameter(s) {', '.join(unknown)} for strategy "
                                 f"{self.name!r}; declared: "
                                 f"{', '.join(self.param_names) or '(none)'}")
        new = tuple(values.get(n, x) for n, x in zip(self.param_names, self.params))
        return replace(self, params=new)

    @property
    def kernel(self) -> Callable[..., int]:
        """The jitted kernel ``fn`` (for :func:`qlib.strategy.strategy`, compiled for
        exactly :data:`qlib.strategy.nb.KERNEL_SIGNATURE`)."""
        return self.fn


def make_view(**values: Any) -> np.ndarray:
    """Return a 1-element :data:`qlib.dtypes.VIEW_DTYPE` array for tests and notebooks.

    Fields not given are 0, except ``tick_size`` and ``lot_size`` (1.0), the named
    feature fields (NaN, as the engine leaves a feature not requested), ``mid_tick``,
    which defaults to the mean of the best bid and ask when both are > 0, and the level
    arrays ``bid_px_l``/``bid_qty_l``/``ask_px_l``/``ask_qty_l``, whose first entry
    defaults to the best level when those arrays are not given.

    Raises
    ------
    ParameterError
        For a field name that :data:`VIEW_DTYPE` does not have.
    """
    unknown = sorted(set(values) - set(VIEW_DTYPE.names or ()))
    if unknown:
        raise ParameterError(f"unknown view field(s) {', '.join(unknown)}; fields: "
                             f"{', '.join(VIEW_DTYPE.names or ())}")
    v = np.zeros(1, dtype=VIEW_DTYPE)
    v["tick_size"] = 1.0
    v["lot_size"] = 1.0
    for name in VIEW_FEATURE_FIELDS:
        v[name] = np.nan
    for key, val in values.items():
        v[key] = val
    for side in ("bid", "ask"):
        if f"{side}_px_l" not in values and f"{side}_qty_l" not in values:
            v[f"{side}_px_l"][0, 0] = v[f"{side}_px_tick"][0]
            v[f"{side}_qty_l"][0, 0] = v[f"{side}_qty"][0]
    if "mid_tick" not in values and v["bid_px_tick"][0] > 0 and v["ask_px_tick"][0] > 0:
        v["mid_tick"] = 0.5 * (v["bid_px_tick"][0] + v["ask_px_tick"][0])
    return v


def decide(strategy: Strategy, view: np.ndarray,
           state: np.ndarray | None = None) -> tuple[int, np.ndarray]:
    """Run a strategy's kernel once; return its return code and the intents it wrote.

    Parameters
    ----------
    strategy
        A spec (built-in or custom).
    view
        1-element :data:`qlib.dtypes.VIEW_DTYPE` array (see :func:`make_view`).
    state
        The kernel's float64 state (zeros of ``state_size`` when None; updated in place).

    Returns
    -------
    (int, numpy.ndarray)
        The kernel's return value and ``out[:n]`` (:data:`qlib.dtypes.INTENT_DTYPE`;
        empty for ``n <= 0``).

    Raises
    ------
    SchemaError
        If ``view`` is not a 1-element VIEW_DTYPE array.
    ParameterError
        If ``state`` is not a float64 array of ``state_size`` elements.
    """
    require_dtype(view, VIEW_DTYPE, name="view")
    if view.shape[0] != 1:
        raise ParameterError(f"view must hold exactly 1 record, was {view.shape[0]}")
    if state is None:  # a view of a padded buffer, as the engine allocates at least 1
        state = np.zeros(int(strategy.state_size) + 1, dtype=np.float64)[
            : int(strategy.state_size)]
    elif (not isinstance(state, np.ndarray) or state.dtype != np.float64
          or state.shape != (int(strategy.state_size),)):
        raise ParameterError(f"state must be a float64 array of shape "
                             f"({strategy.state_size},), was {state!r}")
    out = np.zeros(MAX_INTENTS, dtype=INTENT_DTYPE)
    if strategy.kind == StrategyKind.CUSTOM:
        n = int(strategy.kernel(view, strategy.params_array(), state, out))
    else:
        n = int(_k.decide_builtin(int(strategy.kind), view, strategy.params_array(), state, out))
    return n, out[:max(n, 0)].copy()

