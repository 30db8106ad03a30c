"""The numpy fast path of the DBN record-header walk equals the jitted walk on every buffer."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from qlib.data import _databento_kernels as _k
from qlib.data._databento_schemas import _min_lengths, _scan

MIN_LEN = _min_lengths(2)
VALID = [int(r) for r in np.flatnonzero(MIN_LEN)]


def _buffer(headers: list[tuple[int, int]], cut: int) -> np.ndarray:
    """Records with the given (rtype, length in bytes) headers, cut ``cut`` bytes short."""
    parts = []
    for rtype, length in headers:
        rec = np.zeros(max(length, 2), dtype=np.uint8)
        rec[0], rec[1] = length // 4, rtype
        parts.append(rec[:length] if length >= 2 else rec[:2])
    buf = np.concatenate(parts) if parts else np.zeros(0, dtype=np.uint8)
    return buf[:max(buf.shape[0] - cut, 0)]


record = st.one_of(
    st.sampled_from(VALID).map(lambda r: (r, int(MIN_LEN[r]))),            # the usual record
    st.sampled_from(VALID).map(lambda r: (r, int(MIN_LEN[r]) + 8)),        # a longer one
    st.tuples(st.integers(0, 255), st.integers(1, 63).map(lambda w: 4 * w)),  # anything
)


@settings(max_examples=300, deadline=None)
@given(first=st.sampled_from(VALID), n=st.integers(0, 40), others=st.lists(record, max_size=3),
       at=st.integers(0, 40), cut=st.integers(0, 70), pos=st.integers(0, 3))
def test_scan_fast_path_equals_kernel(first, n, others, at, cut, pos):
    headers = [(first, int(MIN_LEN[first]))] * n
    headers[min(at, n):min(at, n)] = others
    buf = np.concatenate([np.zeros(pos, dtype=np.uint8), _buffer(headers, cut)])
    want = _k.scan_records(buf, pos, MIN_LEN)
    got = _scan(buf, pos, MIN_LEN)
    assert tuple(int(x) for x in got) == tuple(int(x) for x in want)


def test_scan_fast_path_on_uniform_records_needs_no_walk():
    buf = _buffer([(VALID[0], int(MIN_LEN[VALID[0]]))] * 1000, cut=5)
    status, pos, n = _scan(buf, 0, MIN_LEN)
    assert (status, n) == (_k.SCAN_OK, 999)
    assert pos == 999 * int(MIN_LEN[VALID[0]])
