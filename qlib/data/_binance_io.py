"""Reading layer of the Binance loader: files, gzip blocks, the line kernel's tables.

Private to :mod:`qlib.data.binance`: resolves the paths of a session, decompresses
each file in bounded blocks, runs the numba line parser over them and keeps the
per-stream columns; irregular lines go through orjson with the same checks.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from qlib.data import _binance_kernels as _bk
from qlib.enums import Status
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

_CH_DEPTH, _CH_TRADE, _CH_TICKER = _bk.CH_DEPTH, _bk.CH_TRADE, _bk.CH_TICKER
_GZIP_MAGIC = b"\x1f\x8b"
_I64_MAX = 2**63 - 1
_NL = 10
#: Decompressed bytes handed to the line kernel at a time: bounds the text held.
_CHUNK = 1 << 20
#: Compressed bytes read from a file at a time.
_IN_BLOCK = 1 << 18
#: A prefix of a recorder line: what a line cut short by the end of the file looks like.
_PREFIX = re.compile(rb"\d{1,20}( (\{.*)?)?", re.DOTALL)
#: Reasons recorded in the report (kept or dropped rows).
BLANK_LINE = "blank line (skipped)"
TORN_LAST_LINE = "torn last line"
LOCAL_BACKWARDS = "local time went backwards (kept in file order)"
TRUNCATED_GZIP = ("gzip stream ends before its end-of-stream marker (a file still being"
                  " written, or cut): the complete lines before the end are read")



def _resolve(paths: Any) -> list[Path]:
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        if p.is_dir():
            files = sorted(f for f in p.iterdir() if f.is_file() and f.name.endswith(".gz"))
            if not files:
                raise DataNotFoundError(f"no .gz files in directory {p}")
            return files
        items = [p]
    elif isinstance(paths, (list, tuple)) and paths:
        items = [Path(x) for x in paths]
    else:
        raise ParameterError(f"paths must be a file, a directory or a non-empty list, was {paths!r}")
    for f in items:
        if not f.is_file():
            raise DataNotFoundError(f"Binance recording {f} does not exist")
    return items


def _gunzip(path: Path, chunk: int, info: dict[str, int] | None = None
            ) -> Iterator[tuple[bytes, bool]]:
    """Yield the decompressed text of a recording in pieces of at most ``chunk`` bytes.

    Each item is ``(piece, last)``. The file is read in blocks of ``_IN_BLOCK`` bytes.
    Concatenated members are read one after another, as :func:`gzip.decompress` does
    (zero padding between them is skipped). A file that does not start with the gzip
    magic bytes but with a digit (the local time of a recorder line) or a line break
    is a recording already gunzipped: its bytes are yielded as they are. A gzip stream
    that ends before its end-of-stream marker (the file of a recorder still writing
    it) yields what it holds; ``info["truncated"]`` is then the count of complete
    lines read.
    """
    name = str(path)
    with open(path, "rb") as fh:
        src = fh.read(_IN_BLOCK)
        if src[:2] != _GZIP_MAGIC:
            if src and not (48 <= src[0] <= 57 or src[:1] in (b"\n", b"\r")):
                raise DataQualityError(
                    f"neither gzip (magic bytes 1f 8b) nor recorder text (lines"
                    f" '<local_ts_ns> <json>'): the file began {src[:16]!r}", file=name,
                    row=0, field="gzip", value=src[:2])
            while True:  # plain text: one block of look-ahead tells the last piece
                more = fh.read(max(chunk, 1))
                yield src, not more
                if not more:
                    return
                src = more
        dec = zlib.decompressobj(wbits=31)
        lines = 0
        while True:
            try:
                out = dec.decompress(src, chunk)
                lines += out.count(b"\n")
                last = False
                if dec.eof:  # end of a member: another one, zero padding or the end
                    src = dec.unused_data.lstrip(b"\0")
                    while len(src) < 2 and (more := fh.read(_IN_BLOCK)):
                        src = (src + more).lstrip(b"\0")
                    if src and src[:2] != _GZIP_MAGIC:
                        raise zlib.error("trailing garbage after the gzip stream")
                    if src:
                        dec = zlib.decompressobj(wbits=31)
                    last = not src
                else:
                    src = dec.unconsumed_tail or fh.read(_IN_BLOCK)
                    if not src and not out:  # the stream stops before its end marker
                        if info is not None:
                            info["truncated"] = lines
                        last = True
            except zlib.error as exc:
                raise DataQualityError(f"gzip stream is corrupt after {lines} complete lines"
                                       f" ({exc})", file=name, row=lines, field="gzip",
                                       value=type(exc).__name__) from exc
            yield out, last
            del out  # the caller has dropped its reference too: free before the next piece
            if last:
                return


class _Table:
    """Named 1-D columns that :func:`_binance_kernels.parse_lines` fills at row ``n``.

    The columns grow in place (``ndarray.resize``: a ``realloc``, which the OS serves by
    remapping pages for large arrays), so a session's messages are never held twice.
    """

    def __init__(self, spec: tuple[tuple[str, Any], ...]):
        self.spec = spec
        self.cols: dict[str, np.ndarray] = {name: np.zeros(0, dt) for name, dt in spec}
        self.n = 0
        self.file_ends: list[int] = []

    def reserve(self, extra: int) -> None:
        """Make room for ``extra`` rows after the ``n`` held (capacity grows by >= 1/4)."""
        cap = self.capacity
        if self.n + extra > cap:
            size = max(self.n + extra, cap + cap // 4)
            for col in self.cols.values():
                col.resize(size, refcheck=False)  # the table holds the only reference

    @property
    def capacity(self) -> int:
        return len(self.cols[self.spec[0][0]])

    def end_file(self) -> None:
        self.file_ends.append(self.n)

    def finish(self) -> dict[str, np.ndarray]:
        """Return the columns cut to ``n`` rows, with ``"fi"`` (file index of each row)."""
        out = self.cols
        for col in out.values():
            col.resize(self.n, refcheck=False)
        out["fi"] = np.repeat(np.arange(len(self.file_ends), dtype=np.int64),
                              np.diff(self.file_ends, prepend=0))
        self.cols = {}
        return out

    def args(self) -> list[np.ndarray]:
        return [self.cols[name] for name, _ in self.spec]


_I8, _F8, _U1 = np.int64, np.float64, np.uint8
_DEPTH_COLS = (("row", _I8), ("local", _I8), ("E", _I8), ("U", _I8), ("u", _I8), ("pu", _I8),
               ("has_pu", _U1), ("has_ps", _U1), ("nb", _I8), ("na", _I8))
_LEVEL_COLS = (("px", _F8), ("qty", _F8))
_TRADE_COLS = (("row", _I8), ("local", _I8), ("T", _I8), ("t", _I8), ("p", _F8), ("q", _F8),
               ("m", _U1), ("has_X", _U1))
_TICKER_COLS = (("row", _I8), ("local", _I8), ("u", _I8), ("E", _I8), ("has_E", _U1),
                ("has_ps", _U1), ("b", _F8), ("B", _F8), ("a", _F8), ("A", _F8))


@dataclass
class _Parsed:
    """Every message of a session, by stream, as arrays, before any sequencing."""

    files: list[str] = field(default_factory=list)
    symbol: str | None = None
    depth: dict[str, np.ndarray] = field(default_factory=dict)
    levels: dict[str, np.ndarray] = field(default_factory=dict)
    trade: dict[str, np.ndarray] = field(default_factory=dict)
    ticker: dict[str, np.ndarray] = field(default_factory=dict)
    snapshots: list[tuple[int, int, int, dict]] = field(default_factory=list)
    channels: dict[str, dict[str, int]] = field(default_factory=dict)
    lines: int = 0
    #: Errors in fields that only futures need (``pu``, bookTicker ``E``), by stream:
    #: (message index, error); raised once the market is known to be futures.
    pending: dict[int, list[tuple[int, DataQualityError]]] = field(default_factory=dict)
    #: Lines kept with a quirk and lines left out while reading: (reason, file, row).
    kept: list[tuple[str, str, int]] = field(default_factory=list)
    dropped: list[tuple[str, str, int]] = field(default_factory=list)


def _classify(stream: bytes, path: str, row: int) -> tuple[str, int, str]:
    text = stream.decode("ascii", "replace")
    sym, _, ch = text.partition("@")
    if ch.startswith("depth") and not ch[5:6].isdigit():
        return sym.upper(), _CH_DEPTH, ch
    if ch == "trade":
        return sym.upper(), _CH_TRADE, ch
    if ch == "bookTicker":
        return sym.upper(), _CH_TICKER, ch
    raise DataQualityError(f"unknown stream {text!r}: expected <symbol>@depth..., @trade or"
                           " @bookTicker", file=path, row=row, field="stream", value=text)


class _Reader:
    """Read files line by line through :func:`_binance_kernels.parse_lines`.

    The kernel reads the regular stream lines of each decompressed chunk into the
    tables; every line it stops at is read here (orjson), then the kernel resumes.
    Only one chunk of text is held at a time.
    """

    def __init__(self, chunk: int | None = None):
        self.chunk = chunk or _CHUNK
        self.p = _Parsed()
        self.depth, self.levels = _Table(_DEPTH_COLS), _Table(_LEVEL_COLS)
        self.trade, self.ticker = _Table(_TRADE_COLS), _Table(_TICKER_COLS)
        self.tables = (self.depth, self.trade, self.ticker)
        self.names = np.zeros((_bk.MAX_NAMES, _bk.MAX_NAME_LEN), dtype=np.uint8)
        self.name_len = np.zeros(_bk.MAX_NAMES, dtype=np.int64)
        self.name_ch = np.zeros(_bk.MAX_NAMES, dtype=np.int64)
        self.count = np.zeros(_bk.MAX_NAMES, dtype=np.int64)
        self.first = np.full(_bk.MAX_NAMES, -1, dtype=np.int64)
        self.n_names = 0
        self.known: dict[bytes, int] = {}  # stream name -> id (ids >= MAX_NAMES: Python only)
        self.kinds: dict[int, tuple[str, int, str]] = {}  # per id: symbol, channel, text
        self.extra: dict[int, list[int]] = {}  # per-file [first row, count] of ids read here
        self.last_ts, self.last_where = -1, ""

    def read(self, files: list[Path]) -> _Parsed:
        for fi, path in enumerate(files):
            self._file(fi, path)
        p = self.p
        p.depth, p.levels = self.depth.finish(), self.levels.finish()
        p.trade, p.ticker = self.trade.finish(), self.ticker.finish()
        return p

    # -- one file ---------------------------------------------------------------
    def _file(self, fi: int, path: Path) -> None:
        name = str(path)
        self.p.files.append(name)
        self.count[:] = 0
        self.first[:] = -1
        self.extra = {}
        snap = [-1, 0]
        row, carry = 0, b""
        work = np.zeros(self.chunk + _bk.PAD, dtype=np.uint8)
        info: dict[str, int] = {}
        for out, last in _gunzip(path, self.chunk, info):
            need = len(carry) + len(out)
            cut = need if last else len(carry) + out.rfind(b"\n") + 1
            if cut <= len(carry) and not last:  # no line ends in this piece
                carry += out
                continue
            if need + _bk.PAD > len(work):
                work = np.zeros(need + _bk.PAD, dtype=np.uint8)
            work[:len(carry)] = np.frombuffer(carry, dtype=np.uint8)
            work[len(carry):need] = np.frombuffer(out, dtype=np.uint8)
            carry = bytes(work[cut:need])
            work[cut:cut + _bk.PAD] = 0
            nlines = len(out) // 100 + 64  # a first guess (lines are ~100-60,000 bytes)
            open_end = last and cut > 0 and work[cut - 1] != _NL  # no final line break
            row = self._chunk(fi, name, work, cut, row, nlines, snap, open_end)
            del out
        if "truncated" in info:
            self.p.kept.append((TRUNCATED_GZIP, name, info["truncated"]))
        for tb in (*self.tables, self.levels):
            tb.end_file()
        counts = [(int(self.first[s]), s, int(self.count[s])) for s in range(self.n_names)
                  if self.count[s]]
        counts += [(f, s, c) for s, (f, c) in self.extra.items()]
        if snap[1]:
            counts.append((snap[0], -1, snap[1]))
        chans: dict[str, int] = {}
        for _, s, c in sorted(counts):
            key = "snapshot" if s < 0 else self.kinds[s][2]
            chans[key] = chans.get(key, 0) + c
        self.p.channels[path.name] = chans
        self.p.lines += row
        if row:
            self.last_where = name

    def _chunk(self, fi: int, name: str, buf: np.ndarray, n: int, row: int, nlines: int,
               snap: list[int], open_end: bool = False) -> int:
        for t in self.tables:
            t.reserve(nlines)
        lv_step = n // 32 + 4096  # levels are >= 10 bytes each, most ~20-30: grown on demand
        self.levels.reserve(lv_step)
        pos = 0
        while True:
            d, lv, t, q = self.depth, self.levels, self.trade, self.ticker
            status, pos, row, self.last_ts, d.n, lv.n, t.n, q.n = _bk.parse_lines(
                buf, pos, n, row, self.last_ts, self.names, self.name_len, self.name_ch,
                self.count, self.first, self.n_names, *d.args(), d.n, *lv.args(), lv.n,
                *t.args(), t.n, *q.args(), q.n)
            if status == Status.OK:
                break
            if status == Status.CAPACITY:
                full = [tb for tb in self.tables if tb.n >= tb.capacity]
                for tb in full:
                    tb.reserve(nlines)
                if not full:
                    lv.reserve(lv.capacity - lv.n + lv_step)
                continue
            end = int(_bk.find_byte(buf, pos, n, _NL))
            if self._line(fi, name, row, bytes(buf[pos:end]), snap, open_end and end == n):
                pos, row = min(end + 1, n), row + 1
        return row

    # -- one line the kernel stopped at --------------------------------------------
    def _line(self, fi: int, name: str, row: int, line: bytes, snap: list[int],
              final: bool = False) -> bool:
        """Read one line in Python; return False when the kernel should retry it.

        ``final`` is True for the file's last line when no line break ends it: if it
        is a prefix of a line that does not parse (cut mid-JSON by the end of the
        file), it is dropped as a torn last line.
        """
        if not line.strip():
            self.p.kept.append((BLANK_LINE, name, row))
            return True
        if final and _PREFIX.fullmatch(line) and not _parses(line):
            self.p.dropped.append((TORN_LAST_LINE, name, row))
            return True
        sp = line.find(b" ", 0, 32)
        head = line[:sp] if sp > 0 else b""
        if not head.isdigit() or int(head) > _I64_MAX:
            raise DataQualityError(
                f"line does not start with '<local_ts_ns> ': began {line[:40]!r}",
                file=name, row=row, field="local_ts", value=line[:20])
        ts = int(head)
        back = ts < self.last_ts  # counted once the line is read (not when it is retried)
        if back:
            if row == 0:
                raise DataQualityError(
                    f"first local timestamp {ts} is before the last one of {self.last_where}"
                    f" ({self.last_ts}): files must be given in date order",
                    file=name, row=0, field="local_ts", value=ts)
        body = line[sp + 1:]
        if body.startswith(b'{"lastUpdateId"'):
            self.p.snapshots.append((fi, row, ts, _loads(body, name, row)))
            if snap[0] < 0:
                snap[0] = row
            snap[1] += 1
            self.last_ts = ts
            if back:
                self.p.kept.append((LOCAL_BACKWARDS, name, row))
            return True
        if not body.startswith(b'{"stream":"'):
            raise DataQualityError(
                "message is neither a stream wrapper nor a REST depth snapshot: began"
                f" {body[:40]!r}", file=name, row=row, field="json", value=body[:40])
        stream = body[11:body.find(b'"', 11)]
        sid = self.known.get(stream)
        if sid is None:
            sid = self._register(stream, name, row)
            if sid < _bk.MAX_NAMES:
                return False  # the kernel knows the name now: let it read the line
        msg = _loads(body, name, row)
        data = msg.get("data") if isinstance(msg, dict) else None
        if not isinstance(data, dict):
            raise DataQualityError("stream message has no 'data' object", file=name, row=row,
                                   field="data", value=str(msg)[:60])
        ch = self.kinds[sid][1]
        (_depth_row if ch == _CH_DEPTH else _trade_row if ch == _CH_TRADE else _ticker_row)(
            self, data, name, row, ts)
        if sid < _bk.MAX_NAMES:
            if self.first[sid] < 0:
                self.first[sid] = row
            self.count[sid] += 1
        else:
            self.extra.setdefault(sid, [row, 0])[1] += 1
        self.last_ts = ts
        if back:
            self.p.kept.append((LOCAL_BACKWARDS, name, row))
        return True

    def _register(self, stream: bytes, name: str, row: int) -> int:
        kind = _classify(stream, name, row)
        if self.p.symbol is None:
            self.p.symbol = kind[0]
        elif self.p.symbol != kind[0]:
            raise DataQualityError(
                f"stream symbol {kind[0]!r} differs from {self.p.symbol!r} seen before:"
                " one instrument per load", file=name, row=row, field="stream",
                value=stream.decode("ascii", "replace"))
        valid = all(32 < c < 127 and c not in b'"\\' for c in stream)
        if valid and 0 < len(stream) <= _bk.MAX_NAME_LEN and self.n_names < _bk.MAX_NAMES:
            sid = self.n_names
            self.names[sid, :len(stream)] = np.frombuffer(stream, dtype=np.uint8)
            self.name_len[sid], self.name_ch[sid] = len(stream), kind[1]
            self.n_names += 1
        else:
            sid = _bk.MAX_NAMES + len(self.known)
        self.known[stream] = sid
        self.kinds[sid] = kind
        return sid


def _parses(line: bytes) -> bool:
    """True when ``line`` is ``<digits> <valid JSON>``."""
    head, sp, body = line.partition(b" ")
    if not sp or not head.isdigit():
        return False
    try:
        orjson.loads(body)
    except orjson.JSONDecodeError:
        return False
    return True


def _loads(body: bytes, name: str, row: int) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise DataQualityError(f"invalid JSON ({exc})", file=name, row=row, field="json",
                               value=body[:60]) from exc


def _put(table: _Table, **values: Any) -> int:
    table.reserve(1)
    j = table.n
    for key, v in values.items():
        table.cols[key][j] = v
    table.n += 1
    return j


def _depth_row(r: _Reader, o: dict, name: str, row: int, ts: int) -> None:
    lv, _, (nb, na) = _levels([o], ("b", "a"), [name], [0], [row])
    ints = {k: int(_column([o], k, np.int64, [name], [0], [row])[0]) for k in ("E", "U", "u")}
    pu = _optional(r, _CH_DEPTH, r.depth.n, o, "pu", name, row)
    _put(r.depth, row=row, local=ts, pu=pu, has_pu="pu" in o, has_ps="ps" in o, nb=nb[0],
         na=na[0], **ints)
    r.levels.reserve(len(lv))
    k = r.levels.n
    r.levels.cols["px"][k:k + len(lv)] = lv[:, 0]
    r.levels.cols["qty"][k:k + len(lv)] = lv[:, 1]
    r.levels.n += len(lv)


def _trade_row(r: _Reader, o: dict, name: str, row: int, ts: int) -> None:
    m = o.get("m", "<missing>")
    if not isinstance(m, bool):  # numpy would take any non-empty string as True
        raise DataQualityError(f"field 'm' was {m!r}, expected JSON true or false", file=name,
                               row=row, field="m", value=m)
    c = {k: _column([o], k, dt, [name], [0], [row])[0]
         for k, dt in (("T", np.int64), ("t", np.int64), ("p", np.float64), ("q", np.float64),
                       ("m", bool))}
    _put(r.trade, row=row, local=ts, has_X="X" in o, **c)


def _ticker_row(r: _Reader, o: dict, name: str, row: int, ts: int) -> None:
    c = {k: _column([o], k, dt, [name], [0], [row])[0]
         for k, dt in (("u", np.int64), ("b", np.float64), ("a", np.float64),
                       ("B", np.float64), ("A", np.float64))}
    e = _optional(r, _CH_TICKER, r.ticker.n, o, "E", name, row)
    _put(r.ticker, row=row, local=ts, E=e, has_E="E" in o, has_ps="ps" in o, **c)


def _optional(r: _Reader, ch: int, j: int, o: dict, key: str, name: str, row: int) -> int:
    """An int64 field only futures need: its error is kept until the market is known."""
    if key not in o:
        return 0
    try:
        return int(_column([o], key, np.int64, [name], [0], [row])[0])
    except DataQualityError as exc:
        r.p.pending.setdefault(ch, []).append((j, exc))
        return 0


def _require(p: _Parsed, ch: int, key: str) -> None:
    """Raise for the first message of stream ``ch`` whose ``key`` is missing or bad."""
    cols = p.depth if ch == _CH_DEPTH else p.ticker
    miss = np.flatnonzero(cols["has_" + key] == 0)
    bad = sorted(p.pending.get(ch, []), key=lambda x: x[0])
    if miss.size and (not bad or miss[0] < bad[0][0]):
        j = int(miss[0])
        raise DataQualityError(f"field {key!r} was '<missing>', expected int64",
                               file=p.files[int(cols["fi"][j])], row=int(cols["row"][j]),
                               field=key, value=None)
    if bad:
        raise bad[0][1]


def _column(objs: list[dict], key: str, dtype: Any, files: list[str], fidx: list[int],
            rows: list[int]) -> np.ndarray:
    """One field of every message as an array, or an error naming the first bad message."""
    try:
        return np.array([o[key] for o in objs], dtype=dtype)
    except (KeyError, TypeError, ValueError):
        for i, o in enumerate(objs):
            try:
                np.array([o[key]], dtype=dtype)
            except (KeyError, TypeError, ValueError):
                raise DataQualityError(
                    f"field {key!r} was {o.get(key, '<missing>')!r}, expected"
                    f" {np.dtype(dtype).name}", file=files[fidx[i]], row=rows[i], field=key,
                    value=o.get(key)) from None
        raise


def _levels(objs: list[dict], keys: tuple[str, ...], files: list[str], fidx: list[int],
            rows: list[int]) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """Flatten the ``[price, qty]`` lists of ``keys`` of every message.

    Returns the (L, 2) float array, the message index of each level and, per key, the
    number of levels each message holds.
    """
    flat: list = []
    counts = [np.zeros(len(objs), dtype=np.int64) for _ in keys]
    try:
        for i, o in enumerate(objs):
            for k, key in enumerate(keys):
                lv = o[key]
                counts[k][i] = len(lv)
                flat += lv
        arr = np.array(flat, dtype=np.float64).reshape(-1, 2)
        if arr.shape[0] != len(flat):
            raise ValueError("levels are not [price, qty] pairs")
    except (KeyError, TypeError, ValueError):
        for i, o in enumerate(objs):
            for key in keys:
                lv = o.get(key) if isinstance(o, dict) else None
                try:
                    a = np.array(lv, dtype=np.float64)
                    if a.ndim != 2 or a.shape[1] != 2:
                        raise ValueError
                except (TypeError, ValueError):
                    if isinstance(lv, list) and len(lv) == 0:
                        continue
                    raise DataQualityError(
                        f"levels {key!r} were {str(lv)[:80]}, expected a list of [price, qty]"
                        " decimal strings", file=files[fidx[i]], row=rows[i], field=key,
                        value=str(lv)[:80]) from None
        raise
    total = sum(counts)
    owner = np.repeat(np.arange(len(objs)), total)
    return arr, owner, counts




def _check_qty(qty: np.ndarray, where: Callable[[int], tuple[str, int]],
               field_name: str) -> None:
    bad = ~np.isfinite(qty) | (qty < 0)
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        file, row = where(j)
        v = float(qty[j])
        raise DataQualityError(f"quantity was {v}, expected a finite number >= 0", file=file,
                               row=row, field=field_name, value=v)


def _ticks(inst: Instrument, px: np.ndarray, where: Callable[[int], tuple[str, int]],
           field_name: str, out: np.ndarray | None = None) -> np.ndarray:
    """Prices to ticks (:func:`_binance_kernels.prices_to_ticks`); ``out`` may be ``px.view(int64)``.

    Raises
    ------
    DataQualityError
        For the first price that is not finite, not above zero, too large for int64
        ticks or off the tick grid, naming its file, row, field and value.
    """
    out = np.empty(len(px), dtype=np.int64) if out is None else out
    tick = float(inst.tick_size)
    status, j = _bk.prices_to_ticks(px, tick, out)
    if status == Status.OK:
        return out
    v = float(px[j])  # the kernel stops before writing the bad row
    file, row = where(int(j))
    if status == Status.NON_FINITE:
        msg = f"price was {v}, expected a finite number > 0"
    elif status == Status.BAD_PRICE:
        msg = f"price was {v}, expected a number > 0"
    elif status == Status.PRICE_OVERFLOW:
        msg = (f"price was {v}: {v / tick:.3g} ticks of {tick:g} overflow the int64 tick"
               " range (at most 2**62)")
    else:
        msg = f"price {v} is not a multiple of tick_size {tick:g} for {inst.instrument_id}"
    raise DataQualityError(msg, file=file, row=row, field=field_name, value=v)


def _at(names: list[str], cols: dict[str, np.ndarray],
        lv_off: np.ndarray | None = None) -> Callable[[int], tuple[str, int]]:
    """Map a message index (or, with ``lv_off``, a level index) to its (file, row)."""
    def where(j: int) -> tuple[str, int]:
        if lv_off is not None:
            j = int(np.searchsorted(lv_off, j, side="right")) - 1
        return names[int(cols["fi"][j])], int(cols["row"][j])
    return where

