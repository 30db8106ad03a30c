"""Market structure: jitted L2 and L3 books and their replay."""

from qlib.book.replay import BOOK_KINDS, BookReplay, bbo, count_crossed, replay_bbo, replay_book

__all__ = ["BOOK_KINDS", "BookReplay", "bbo", "count_crossed", "replay_bbo", "replay_book"]
