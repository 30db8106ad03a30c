"""``qlib.book.nb.level_below``: walking a side of the L2 book level by level from the touch."""

from __future__ import annotations

import numpy as np
import pytest

from qlib.book import new_l2_book, nb
from qlib.enums import Side

#: The plain-Python kernel (the same function under ``NUMBA_DISABLE_JIT=1``).
_PY_LEVEL_BELOW = getattr(nb.level_below, "py_func", nb.level_below)


def _walk(fn, book, s: int, floor_px: int | None = None) -> list[tuple[int, float]]:
    """The levels of side ``s`` by repeated ``fn`` from the best, as (px_tick, qty): all of
    them, or those at or better than ``floor_px``."""
    side = Side.BUY if s == 0 else Side.SELL
    sign = 1 if s == 0 else -1
    px, q = nb.best_px(book, side)
    out = []
    key = sign * int(px)
    floor = np.iinfo(np.int64).min if floor_px is None else sign * floor_px
    while q != 0.0:
        out.append((sign * int(key), float(q)))
        key, q = fn(book, s, np.int64(key), np.int64(floor))
    return out


def _random_book(seed: int, window: int, step: int):
    """A book built by random sets and removals on a grid of ``step`` ticks (sparse for a
    large step); the levels far below the touch land in the overflow, a touch moving up
    shifts the window."""
    rng = np.random.default_rng(seed)
    book = new_l2_book(window, 4 * window)
    truth: list[dict[int, float]] = [{}, {}]
    for _ in range(400):
        s = int(rng.integers(0, 2))
        px = step * int(rng.integers(1000, 1000 + 6 * window))
        key = px if s == 0 else -px
        q = float(rng.integers(0, 4))  # 0 removes the level
        nb.set_level(book, s, np.int64(key), q)
        if q > 0.0:
            truth[s][px] = q
        else:
            truth[s].pop(px, None)
    return book, truth


@pytest.mark.parametrize("step", [1, 7, 100])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_level_below_walks_every_level_best_first_jit_and_python(seed, step):
    book, truth = _random_book(seed, 16, step)
    for s in (0, 1):
        want = sorted(truth[s].items(), reverse=(s == 0))
        assert len(want) > 10
        assert _walk(nb.level_below, book, s) == want
        assert _walk(_PY_LEVEL_BELOW, book, s) == want


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_level_below_stops_at_the_floor_in_the_window_and_the_overflow(seed):
    book, truth = _random_book(seed, 16, 1)
    for s in (0, 1):
        want = sorted(truth[s].items(), reverse=(s == 0))
        for depth in (0, 3, 20, len(want) - 1):  # the floor at the depth-th level
            floor_px = want[depth][0]
            got = _walk(nb.level_below, book, s, floor_px)
            assert got == want[: depth + 1]
            assert _walk(_PY_LEVEL_BELOW, book, s, floor_px) == got


def test_level_below_of_an_empty_side_or_the_last_level_is_none():
    book = new_l2_book(16, 128)
    none = np.int64(np.iinfo(np.int64).min)
    key, q = nb.level_below(book, 0, np.int64(500), none)
    assert q == 0.0
    nb.set_level(book, 0, np.int64(500), 2.0)
    assert nb.level_below(book, 0, np.int64(501), none) == (500, 2.0)
    key, q = nb.level_below(book, 0, np.int64(500), none)
    assert q == 0.0
    # a key above the best starts from the best; a floor above the best finds nothing
    assert nb.level_below(book, 0, np.int64(10_000), none) == (500, 2.0)
    assert nb.level_below(book, 0, np.int64(10_000), np.int64(501))[1] == 0.0
