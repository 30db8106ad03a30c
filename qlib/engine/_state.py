"""Index constants of the backtest loop's state arrays (see :mod:`qlib.engine._loop`).

The loop keeps everything it needs to resume in plain arrays, so the Python wrapper
can stop it when a buffer fills, grow the buffer and call it again where it stopped.
"""

from __future__ import annotations

# --- ist: int64 loop state ------------------------------------------------------------
I_EX = 0  # next event to apply to the exchange book
I_LO = 1  # next event to apply to the local book
I_NEXT_DEC = 2  # local time of the next strategy decision (ns)
I_NEXT_REC = 3  # local time of the next interval record (ns)
I_N_ORDERS = 4  # order slots used
I_N_FILLS = 5  # fill rows written
I_N_REC = 6  # interval records written
I_N_WORK = 7  # entries of the working list
I_MX_HEAD = 8  # to-exchange message ring: head
I_MX_LEN = 9  # ... length
I_ML_HEAD = 10  # to-local message ring: head
I_ML_LEN = 11  # ... length
I_MX_LAST = 12  # due time of the last message queued to the exchange (FIFO session)
I_ML_LAST = 13  # due time of the last message queued to local
I_CAP_WHAT = 14  # which buffer stopped the loop (CAP_* below)
I_ROW = 15  # event row of an error status
I_N_RESTING = 16  # our orders resting at the exchange
I_LAST_MD_TS = 17  # local time of the last market-data event seen locally
I_L3_SEQ = 18  # entry counter of L3 orders (queue priority), L3_FIFO only
I_N_DEC = 19  # strategy calls
I_KILL_SEEN = 20  # 1 once the kill switch's cancel-all went out
I_STOP = 21  # events[:stop] are replayed
I_PREV_DEC_TS = 22  # local time of the previous decision (sigma estimate)
I_N_MSG_OUT = 23  # messages sent to the exchange
I_N_SUBMIT = 24  # new orders sent
I_N_CANCEL = 25  # cancels sent
I_N_REJECT_RISK = 26  # intents refused by pre-trade risk
I_N_REJECT_VENUE = 27  # orders refused by the (simulated) venue or the latency log
I_N_EXCH_EVENTS = 28  # events applied to the exchange book
I_TS_END = 29  # session end (the view's ts_end)
I_TS_START = 30
I_LAST_REC_TS = 31
N_IST = 32

# --- fst: float64 loop state ----------------------------------------------------------
F_SIGMA2 = 0  # EWMA variance rate of the local mid, ticks^2 per second
F_PREV_MID = 1  # local mid at the previous decision (ticks)
F_FEED_LAT = 2  # EWMA of ts_local - ts_exch of market data (ns)
F_LAST_MID = 3  # last two-sided local mid (ticks)
F_FEES = 4  # fees paid, quote currency (negative: rebates)
F_EDGE = 5  # spread capture: sum side * qty * (exchange mid - px) * tick value
F_X_LAST_MID = 6  # last two-sided exchange mid (ticks)
F_TRADED_QTY = 7
F_MAKER_QTY = 8
F_TAKER_QTY = 9
F_SIG_DT = 10  # decision interval (s) the sigma weight below was computed for
F_SIG_A = 11  # the sigma EWMA weight for that interval
N_FST = 16

# --- icfg / fcfg: configuration (read-only in the loop) -------------------------------
C_DEC_INTERVAL = 0  # ns between strategy decisions
C_REC_INTERVAL = 1  # ns between interval records
C_DEPTH_LEVELS = 2  # levels summed into the view's bid_depth / ask_depth
C_IMPACT = 3  # 1: our aggressive fills remove the liquidity they took
C_STRATEGY = 4  # StrategyKind
C_LAT_KIND = 5
C_Q_KIND = 6
C_SIGMA_HL = 7  # sigma half-life, ns
C_FEED_HL = 8  # feed-latency EWMA half-life, in market-data events
C_PARTIAL = 10  # 1: partial fills; 0: a released maker order fills completely
N_ICFG = 12

G_TICK_VALUE = 0  # quote currency per tick per unit (tick_size * multiplier)
G_LOT = 1
G_FEE_PER_QTY = 2  # fixed fee per unit of quantity, quote currency
G_CAPITAL = 3
G_MAKER_BPS = 4
G_TAKER_BPS = 5
G_TICK_SIZE = 6
N_FCFG = 8

# --- which buffer is full (ist[I_CAP_WHAT]) -----------------------------------------
CAP_NONE = 0
CAP_ORDERS = 1
CAP_JOURNAL = 2
CAP_FILLS = 3
CAP_RECORDS = 4
CAP_XBOOK = 5
CAP_LBOOK = 6
CAP_LOTS = 7
CAP_MSGS = 8
CAP_WORK = 9

# --- per-order engine arrays ----------------------------------------------------------
# ox (int64, n_orders x N_OX)
OX_XSTATE = 0  # XS_* below
OX_TS_SENT = 1  # local send time of the request in flight (latency observation)
OX_ENTRY = 2  # L3 entry counter at arrival (L3_FIFO)
OX_TS_ARRIVE = 3  # exchange time the order arrived
N_OX = 4
XS_NONE = 0  # not at the exchange yet
XS_RESTING = 1
XS_DONE = 2
# oq (float64, n_orders x N_OQ): queue front, cum trade (the queue model's state), exch leaves
OQ_FRONT = 0
OQ_CUM = 1
OQ_LEAVES = 2
OQ_LVL = 3  # last known quantity of the exchange level at our price (L2 fast path)
N_OQ = 4

# --- message rings ----------------------------------------------------------------
# to exchange: mx, qlib.dtypes.ENGINE_MSG_TO_EXCH_DTYPE rows; its kinds:
M_SUBMIT = 0
M_CANCEL = 1
# to local: ml, qlib.dtypes.ENGINE_MSG_TO_LOCAL_DTYPE rows; its kinds:
R_ACK = 0
R_REJECT = 1
R_FILL = 2
R_CANCEL_ACK = 3
R_CANCEL_REJECT = 4
R_EXPIRE = 5

#: Rows of the strategy's output array.
MAX_INTENTS = 32
#: Levels read when an aggressive order walks the book.
WALK_LEVELS = 64
