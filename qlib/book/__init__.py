"""Market structure: jitted L2 (price level) and L3 (order level) books and their replay."""

from qlib.book.convert import to_l2
from qlib.book.depth import depth_columns, depth_snapshots
from qlib.book.l2 import DEFAULT_WINDOW, L2Book, L2Replay, level_qty, new_l2_book, replay_l2
from qlib.book.l3 import L3Book, QueuePosition, replay_l3, replay_l3_bbo
from qlib.book.matching import MatchingEngine, OrderResult
from qlib.book.replay import BOOK_KINDS, BookReplay, bbo, count_crossed, replay_bbo, replay_book

__all__ = [
    "BOOK_KINDS",
    "DEFAULT_WINDOW",
    "BookReplay",
    "L2Book",
    "L2Replay",
    "L3Book",
    "MatchingEngine",
    "OrderResult",
    "QueuePosition",
    "bbo",
    "count_crossed",
    "depth_columns",
    "depth_snapshots",
    "level_qty",
    "new_l2_book",
    "replay_bbo",
    "replay_book",
    "replay_l2",
    "replay_l3",
    "replay_l3_bbo",
    "to_l2",
]
