"""The LOBSTER loader's output is pinned: events and report of the GOOG sample files.

The resync book of :mod:`qlib.data._lobster_kernels` moved from its own sorted-array
book onto :class:`qlib.book.L2Book` (issue 11, point 4). The loader must give the same
events and the same :class:`~qlib.data.report.ValidationReport` as before, so the
digests below were computed at commit ``236afee`` (the last commit with the old book),
from a ``git worktree`` of it, with the very hashing of :func:`_digests`:

* events: sha256 over the fields of ``md.events`` in dtype order, each field's bytes
  (``md.events[f].tobytes()``): the values, not the aligned dtype's padding bytes,
  which the loader leaves uninitialised (``np.empty``);
* report: sha256 of ``repr(md.report)`` with the data directory replaced by ``<data>``
  (the report names its files by full path).

They pin the loader's whole output: any change to the events or the report of these
files (by design too) must recompute them the same way and say why in the commit.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from qlib.data import load

GOOG = "lobster-goog-2012-06-21"

#: (levels, resync, events, sha256 of the events, sha256 of the report), at 236afee.
PINNED = [
    (1, False, 49485, "bdc80a30fe6d4ffd73d587021749d55f971d6800d6364a51b00b0b21968f788a",
     "becb92c58a5d0dc924724152cac00dd85647df11531dff6eaff48d9eaa652ce4"),
    (1, True, 59117, "6a43f5519e8733d5f91ae01c52872a36753167e38692a6600fae836c9c237a36",
     "b3243288e56814283931e5724ec3b1425868c7c4d5a05b8cf999007a97bee4d3"),
    (5, False, 112684, "f791b0af6159e1c97001ff17af0fda46601a3bad791c84dfc78f3e0a320be617",
     "01e175d2e06e90b8334784b60e3064589755463470cb90ae778e7a403c20913e"),
    (5, True, 125786, "c0524a6c8b231c5b3de3ac5a0c7ab2238870d5df2879b1a689ecca172dc9c1e0",
     "679649dad50d911aac1936b7bc2bb082a2a3ae76acc25b82fa29f18c0655e3cf"),
    (10, False, 147937, "fd3883b3538eb7887e57b68a66fbe4ff46db6c8c2a1c510454c11835e6f9f10d",
     "5978ac49fbe2b20dfc8d6670163ab6109b44044af9f3da6386d812ad295f86c8"),
    (10, True, 156269, "0a251e7900264d48cda0145f3cd3a549dad88c52686e684d2558dd073fbad48d",
     "febd217fc8d24de5c0cdd98f8273e6fd3e5df418d456920fc925a1e3e7e7af5d"),
]


def _events_sha(events) -> str:
    h = hashlib.sha256()
    for name in events.dtype.names:
        h.update(events[name].tobytes())
    return h.hexdigest()


def _report_sha(report, shared_data: Path) -> str:
    text = repr(report).replace(str(shared_data), "<data>")
    return hashlib.sha256(text.encode()).hexdigest()


def _zip(shared_data: Path, levels: int) -> Path:
    path = shared_data / GOOG / f"LOBSTER_SampleFile_GOOG_2012-06-21_{levels}.zip"
    if not path.exists():
        pytest.skip(f"{path.name} is not in the shared data")
    return path


@pytest.mark.parametrize("levels, resync, n, events_sha, report_sha", PINNED)
def test_load_lobster_real_zip_events_and_report_equal_the_pinned_digests(
        shared_data, levels, resync, n, events_sha, report_sha):
    md = load("lobster", _zip(shared_data, levels), resync=resync)
    got = (len(md.events), _events_sha(md.events), _report_sha(md.report, shared_data))
    assert got == (n, events_sha, report_sha)


def test_load_lobster_digest_sees_one_changed_value_and_note(shared_data):
    """The hashing sees one changed quantity or report note (the pinned test can fail)."""
    md = load("lobster", _zip(shared_data, 1), resync=False)
    assert _events_sha(md.events) == PINNED[0][3]
    md.events["qty"][100] += 1.0
    assert _events_sha(md.events) != PINNED[0][3]
    md.report.notes.append("one more note")
    assert _report_sha(md.report, shared_data) != PINNED[0][4]
