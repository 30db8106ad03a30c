"""Decoding layer of the Databento loader: DBN record layouts, the decode loop, symbology.

The loader (:mod:`qlib.data.databento`) calls :func:`decode` for a file and gets the
metadata, the market records of the file's schema as one numpy structured array (see
the ``*_RECORD_DTYPE`` constants), the file row of each record, and the instrument
definitions the file carries. Record bytes come from the official ``databento_dbn``
decoder; before any byte reaches it, a numba pass
(:func:`qlib.data._databento_kernels.scan_records`) walks the record headers, so a
record with an unknown ``rtype`` or an impossible length is reported by its record
number instead of a Rust panic.

References
----------
.. [1] Databento (2024). DBN encoding: record header, schemas and record layouts
   (MBO, MBP-1, MBP-10, TBBO, Trades, Instrument definitions).
   https://databento.com/docs/standards-and-conventions/databento-binary-encoding
.. [2] Databento (2024). Venues and datasets: dataset IDs are ``PUBLISHER.DATASET``
   where the publisher is the venue's ISO 10383 MIC when it is a market.
   https://databento.com/docs/api-historical/basics/datasets
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import zstandard

from qlib.data import _databento_kernels as _k
from qlib.data.report import ValidationReport
from qlib.errors import DataQualityError, ParameterError, SchemaError

__all__ = [
    "BIDASK_DTYPE", "DATASET_VENUES", "Decoded", "MBO_RECORD_DTYPE", "MBP10_RECORD_DTYPE",
    "MBP1_RECORD_DTYPE", "SCHEMAS", "SPREAD_CLASSES", "TRADE_RECORD_DTYPE", "dataset_venue",
    "decode", "definition_facts", "symbols_by_id",
]

_HEADER = [("length", "u1"), ("rtype", "u1"), ("publisher_id", "<u2"),
           ("instrument_id", "<u4"), ("ts_event", "<u8")]
#: Byte layout of one DBN MBO record (``MboMsg``, 56 bytes, little-endian) as
#: ``bytes(record)`` returns it. Checked against the decoder's attributes on every load.
MBO_RECORD_DTYPE = np.dtype(_HEADER + [
    ("order_id", "<u8"), ("price", "<i8"), ("size", "<u4"),
    ("flags", "u1"), ("channel_id", "u1"), ("action", "S1"), ("side", "S1"),
    ("ts_recv", "<u8"), ("ts_in_delta", "<i4"), ("sequence", "<u4"),
])
#: One book level of an MBP record (``BidAskPair``, 32 bytes).
BIDASK_DTYPE = np.dtype([("bid_px", "<i8"), ("ask_px", "<i8"), ("bid_sz", "<u4"),
                         ("ask_sz", "<u4"), ("bid_ct", "<u4"), ("ask_ct", "<u4")])
_MBP_BODY = [("price", "<i8"), ("size", "<u4"), ("action", "S1"), ("side", "S1"),
             ("flags", "u1"), ("depth", "u1"), ("ts_recv", "<u8"), ("ts_in_delta", "<i4"),
             ("sequence", "<u4")]
#: ``TradeMsg`` (schema ``trades``, rtype ``0x00``, 48 bytes).
TRADE_RECORD_DTYPE = np.dtype(_HEADER + _MBP_BODY)
#: ``Mbp1Msg`` (schemas ``mbp-1`` and ``tbbo``, 80 bytes).
MBP1_RECORD_DTYPE = np.dtype(_HEADER + _MBP_BODY + [("levels", BIDASK_DTYPE, (1,))])
#: ``Mbp10Msg`` (schema ``mbp-10``, 368 bytes).
MBP10_RECORD_DTYPE = np.dtype(_HEADER + _MBP_BODY + [("levels", BIDASK_DTYPE, (10,))])


@dataclasses.dataclass(frozen=True)
class _Schema:
    name: str
    record_type: type
    dtype: np.dtype
    levels: int  # book levels per record (0: none)


#: The schemas the loader reads, by DBN schema name.
SCHEMAS = {
    "mbo": _Schema("mbo", dbn.MBOMsg, MBO_RECORD_DTYPE, 0),
    "mbp-1": _Schema("mbp-1", dbn.MBP1Msg, MBP1_RECORD_DTYPE, 1),
    "tbbo": _Schema("tbbo", dbn.MBP1Msg, MBP1_RECORD_DTYPE, 1),
    "mbp-10": _Schema("mbp-10", dbn.MBP10Msg, MBP10_RECORD_DTYPE, 10),
    "trades": _Schema("trades", dbn.TradeMsg, TRADE_RECORD_DTYPE, 0),
}

#: Databento dataset ID -> venue code used in instrument ids (``SYMBOL.VENUE``).
#: Databento names a dataset ``PUBLISHER.FEED`` and uses the ISO 10383 MIC as the
#: publisher when it is a market [2]_, so most entries are the prefix; consolidated
#: products keep Databento's own code (OPRA, DBEQ, EQUS). Datasets not listed fall back
#: to the prefix (:func:`dataset_venue`). Source: Databento's dataset list
#: (https://databento.com/docs/venues-and-datasets) and ``dbn::Dataset`` (dbn 0.47).
DATASET_VENUES = {
    "GLBX.MDP3": "GLBX",  # CME Globex MDP 3.0 (CME, CBOT, NYMEX, COMEX)
    "XNAS.ITCH": "XNAS", "XNAS.BASIC": "XNAS", "XNAS.QBBO": "XNAS", "XNAS.NLS": "XNAS",
    "XBOS.ITCH": "XBOS", "XPSX.ITCH": "XPSX",
    "BATS.PITCH": "BATS", "BATY.PITCH": "BATY", "EDGA.PITCH": "EDGA", "EDGX.PITCH": "EDGX",
    "XNYS.PILLAR": "XNYS", "XNYS.BBO": "XNYS", "XNYS.TRADES": "XNYS", "XNYS.TRADESBBO": "XNYS",
    "XCIS.PILLAR": "XCIS", "XCIS.BBO": "XCIS", "XCIS.TRADES": "XCIS", "XCIS.TRADESBBO": "XCIS",
    "XASE.PILLAR": "XASE", "XCHI.PILLAR": "XCHI", "ARCX.PILLAR": "ARCX",
    "MEMX.MEMOIR": "MEMX", "EPRL.DOM": "EPRL", "IEXG.TOPS": "IEXG",
    "OPRA.PILLAR": "OPRA",  # consolidated US equity options (publisher_id names the venue)
    "DBEQ.BASIC": "DBEQ", "EQUS.PLUS": "EQUS", "EQUS.ALL": "EQUS", "EQUS.MINI": "EQUS",
    "EQUS.SUMMARY": "EQUS",  # Databento consolidated US equities
    "IFEU.IMPACT": "IFEU", "NDEX.IMPACT": "NDEX", "IFUS.IMPACT": "IFUS", "IFLL.IMPACT": "IFLL",
    "XEUR.EOBI": "XEUR", "XEEE.EOBI": "XEEE", "XCBF.PITCH": "XCBF",
}

#: Definition ``instrument_class`` codes of spreads, where zero and negative prices
#: are legitimate (``S`` future spread, ``T`` option spread, ``M`` mixed spread).
SPREAD_CLASSES = frozenset("STM")

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_GZIP_MAGIC = b"\x1f\x8b"
_BZ2_MAGIC = b"BZh"
_DBN_MAGIC = b"DBN"
_UNDEF_I32 = 2**31 - 1
_UNDEF_I64 = 2**63 - 1
_SAMPLE = 16  # records per decoded slice compared field by field with the decoder
_READ_BLOCK = 1 << 16  # bytes read from the file at a time
_GROW = 4  # a growing record array gains at least 1/_GROW of its size

# rtype -> record class name, for the minimum record length of each DBN version
_RTYPE_CLASS = {
    0x00: "TradeMsg", 0x01: "MBP1Msg", 0x0A: "MBP10Msg", 0x11: "OHLCVMsg", 0x12: "StatusMsg",
    0x13: "InstrumentDefMsg", 0x14: "ImbalanceMsg", 0x15: "ErrorMsg", 0x16: "SymbolMappingMsg",
    0x17: "SystemMsg", 0x18: "StatMsg", 0x20: "OHLCVMsg", 0x21: "OHLCVMsg", 0x22: "OHLCVMsg",
    0x23: "OHLCVMsg", 0x24: "OHLCVMsg", 0xA0: "MBOMsg", 0xB1: "CMBP1Msg", 0xC0: "CBBOMsg",
    0xC1: "CBBOMsg", 0xC2: "CBBOMsg", 0xC3: "BBOMsg", 0xC4: "BBOMsg", 0xC5: "MBP1Msg",
}


def dataset_venue(dataset: str) -> tuple[str, str]:
    """Return ``(venue, basis)`` for a Databento dataset ID (``GLBX.MDP3`` -> ``GLBX``)."""
    ds = str(dataset).upper()
    if ds in DATASET_VENUES:
        return DATASET_VENUES[ds], f"dataset {ds} (Databento dataset list)"
    prefix = ds.split(".")[0] or "DATABENTO"
    return prefix, f"dataset {ds} not in DATASET_VENUES: its publisher prefix"


def _min_lengths(version: int) -> np.ndarray:
    """Shortest valid record length (bytes) by rtype for DBN ``version``; 0 = unknown rtype."""
    mod = {1: dbn.v1, 2: dbn.v2}.get(int(version), dbn.v3)
    out = np.zeros(256, dtype=np.int32)
    for rtype, name in _RTYPE_CLASS.items():
        out[rtype] = int(getattr(mod, name).size_hint)
    return out


def _rtype_name(rtype: int) -> str:
    try:
        return str(dbn.RType.from_int(rtype).name)
    except Exception:  # not an RType  # noqa: BLE001 - pyo3 raises ValueError/DBNError
        return "unknown"


# --------------------------------------------------------------------------- pieces
def _pieces(path: Path, label: str, hints: list[int]) -> Iterator[bytes]:
    """Yield the DBN bytes of a file in pieces: zstd frames decompressed block by block.

    A file starting with the zstd magic is decompressed frame after frame (a truncated
    last frame raises; ``stream_reader`` would silently return the prefix); a file
    starting with ``DBN`` is read as it is. Raises on an empty or foreign file (naming
    gzip and bzip2, which Databento does not write). The DBN size each frame declares
    (or the file size) is appended to ``hints`` as the frame starts (0 when unknown).
    """
    with open(path, "rb") as fh:
        block = fh.read(_READ_BLOCK)
        if not block:
            raise DataQualityError("file is empty", file=label, row=0, field="file", value=0)
        if block[:3] == _DBN_MAGIC:
            hints.append(path.stat().st_size)
            while block:
                yield block
                block = fh.read(_READ_BLOCK)
            return
        if block[:4] != _ZSTD_MAGIC:
            what = ("gzip-compressed" if block[:2] == _GZIP_MAGIC else
                    "bzip2-compressed" if block[:3] == _BZ2_MAGIC else
                    "neither zstd-compressed nor DBN")
            raise DataQualityError(
                f"file is {what} (magic bytes {block[:4].hex()}); Databento files are"
                " zstd-compressed DBN (.dbn.zst) or plain DBN (.dbn)",
                file=label, row=0, field="magic", value=block[:4].hex())
        frame = 0
        obj = zstandard.ZstdDecompressor().decompressobj()
        hints.append(_content_size(block))
        while block:
            try:
                out = obj.decompress(block)
            except zstandard.ZstdError as exc:
                raise DataQualityError(f"zstd frame {frame} is corrupt: {exc}", file=label,
                                       field="zstd", value=frame) from exc
            if out:
                yield out
            del out
            if obj.eof:
                block = obj.unused_data or fh.read(_READ_BLOCK)
                frame += 1
                obj = zstandard.ZstdDecompressor().decompressobj()
                if not block:
                    return
                hints.append(_content_size(block))
            else:
                block = fh.read(_READ_BLOCK)
        raise DataQualityError(f"zstd frame {frame} is truncated (the file ends inside it)",
                               file=label, field="zstd", value=frame)


def _content_size(block: bytes) -> int:
    """The DBN size a zstd frame starting ``block`` declares, or 0."""
    try:
        return max(zstandard.frame_content_size(block[:18]), 0)
    except zstandard.ZstdError:
        return 0


def _scan(buf: np.ndarray, pos: int, min_len: np.ndarray) -> tuple[int, int, int]:
    """:func:`qlib.data._databento_kernels.scan_records`, with a numpy fast path.

    A piece of a one-schema file holds records of one rtype and one length: when every
    whole record from ``pos`` has the first record's (valid) header, and the partial
    record after them (if any) starts with it too, the walk's result is known without
    walking (same ``(status, pos, n)``). Any other piece is walked by the kernel. The
    fast path keeps a first load from starting the jitted code while the decoded records
    are still in memory (peak memory, ``benchmarks/bench_load_compare.py``).
    """
    end = buf.shape[0]
    if pos + 2 > end:
        return _k.SCAN_OK, pos, 0
    length, rtype = int(buf[pos]) * 4, int(buf[pos + 1])
    if min_len[rtype] == 0 or length < min_len[rtype]:
        return _k.scan_records(buf, pos, min_len)
    m = (end - pos) // length
    hdr = buf[pos:pos + m * length].reshape(m, length)
    tail = buf[pos + m * length:]
    if (hdr[:, 0] == buf[pos]).all() and (hdr[:, 1] == rtype).all() and (
            tail.shape[0] < 2 or (tail[0] == buf[pos] and tail[1] == rtype)):
        return _k.SCAN_OK, pos + m * length, m
    return _k.scan_records(buf, pos, min_len)


class _Scanner:
    """Walks record headers across pieces; raises on the first impossible record."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.carry = b""
        self.skip: int | None = None  # metadata bytes still to skip (None: unknown yet)
        self.min_len: np.ndarray | None = None
        self.records = 0  # whole records seen after the metadata

    def feed(self, piece: bytes) -> None:
        data = self.carry + piece if self.carry else piece
        pos = 0
        if self.skip is None:
            if len(data) < 8:
                self.carry = data
                return
            self.min_len = _min_lengths(data[3])
            self.skip = 8 + int.from_bytes(data[4:8], "little")
        if self.skip:
            pos = min(self.skip, len(data))
            self.skip -= pos
        if self.skip == 0 and pos < len(data):
            buf = np.frombuffer(data, dtype=np.uint8)
            status, pos, n = _scan(buf, pos, self.min_len)
            if status != 0:
                rtype, length = int(buf[pos + 1]), int(buf[pos]) * 4
                row = self.records + int(n)
                if status == _k.SCAN_BAD_RTYPE:
                    raise DataQualityError(
                        f"record {row}: rtype was 0x{rtype:02x}, not a DBN record type",
                        file=self.label, row=row, field="rtype", value=rtype)
                raise DataQualityError(
                    f"record {row}: rtype 0x{rtype:02x} ({_rtype_name(rtype)}) with length"
                    f" {length} bytes, expected at least {int(self.min_len[rtype])}"
                    " (a corrupt header or a record of another DBN version)",
                    file=self.label, row=row, field="rtype", value=rtype)
            self.records += int(n)
        self.carry = data[pos:]


# --------------------------------------------------------------------------- decode
@dataclasses.dataclass
class Decoded:
    """What :func:`decode` returns."""

    meta: dbn.Metadata
    schema: str
    records: np.ndarray  # market records of the schema's dtype
    rows: np.ndarray | None  # file row of each record (None: records[i] is file row i)
    n_records: int  # records after the metadata, every type
    definitions: dict[int, object]  # instrument_id -> last InstrumentDefMsg
    symbol_mappings: dict[int, str]  # instrument_id -> stype_out symbol from mapping records


def _is_panic(exc: BaseException) -> bool:
    return type(exc).__name__ == "PanicException"


def decode(path: Path, label: str, report: ValidationReport, *,
           definitions_only: bool = False) -> Decoded:
    """Decode a DBN file into its metadata, market records and definitions.

    The file is decompressed and decoded piece by piece (:func:`_pieces`); each piece's
    record headers are checked by :class:`_Scanner` first, then the decoder's record
    objects are turned into numpy and appended to one array grown in place. Records that
    are neither of the schema's type nor definitions are dropped and counted by type;
    a market record of another schema is an error. A decoder error is raised only after
    the rest of the file has been decompressed, so a corrupt or truncated zstd stream
    is reported as such. With ``definitions_only`` every record but the definitions
    is ignored (a companion definition file).
    """
    dec = dbn.DBNDecoder()
    scan = _Scanner(label)
    meta = None
    spec: _Schema | None = None
    arr = None
    rows_parts: list[np.ndarray] = []
    any_gap = False
    defs: dict[int, object] = {}
    mappings: dict[int, str] = {}
    hints: list[int] = []
    reserved = 0
    n = 0
    n_records = 0
    n_bytes = 0
    pending: DataQualityError | None = None
    for piece in _pieces(path, label, hints):
        n_bytes += len(piece)
        if arr is not None and len(hints) > reserved:
            extra = sum(hints[reserved:]) // arr.dtype.itemsize
            reserved = len(hints)
            if n + extra > len(arr):
                arr.resize(n + extra, refcheck=False)
        if pending is not None:
            continue  # decompress to the end: a zstd error explains a decoder error
        try:
            scan.feed(piece)
            try:
                dec.write(piece)
                records = dec.decode()
            except BaseException as exc:  # pyo3 PanicException is a BaseException
                if not (_is_panic(exc) or isinstance(exc, Exception)):
                    raise  # KeyboardInterrupt, SystemExit
                raise DataQualityError(
                    f"DBN decoding failed in records {n_records} to {scan.records}:"
                    f" {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                    file=label, row=n_records, field="dbn", value=type(exc).__name__) from None
            if meta is None and records:
                if not isinstance(records[0], dbn.Metadata):
                    raise DataQualityError("DBN stream does not start with metadata",
                                           file=label, row=0, field="metadata",
                                           value=type(records[0]).__name__)
                meta = records[0]
                records = records[1:]
                spec = _check_schema(meta, label, definitions_only)
                if spec is not None:
                    arr = np.zeros(0, dtype=_with_ts_out(spec.dtype, meta))
                    if len(hints) > reserved:
                        reserved = len(hints)
                        arr.resize(sum(hints) // arr.dtype.itemsize, refcheck=False)
        except DataQualityError as exc:
            pending = exc
            continue
        except ParameterError:
            raise
        if not records:
            continue
        part, idx = _split(records, spec, arr.dtype if arr is not None else None, label,
                           report, n_records, defs, mappings)
        if idx is not None:
            any_gap = True
            rows_parts.append(idx + n_records)
        elif part is not None and len(part):
            rows_parts.append(np.arange(n_records, n_records + len(part), dtype=np.int64))
        n_records += len(records)
        del records
        if part is not None and len(part):
            if n + len(part) > len(arr):
                arr.resize(max(n + len(part), len(arr) + len(arr) // _GROW), refcheck=False)
            arr[n:n + len(part)] = part
            n += len(part)
        del part
    if pending is not None:
        raise pending
    if meta is None:
        raise DataQualityError("DBN metadata header is missing or truncated", file=label,
                               row=0, field="metadata", value=n_bytes)
    left = len(dec.buffer())
    if left:
        raise DataQualityError(
            f"file ends inside a record: {left} trailing bytes after {n_records}"
            " whole records (truncated file)",
            file=label, row=n_records, field="record", value=left)
    if arr is None:
        arr = np.zeros(0, dtype=MBO_RECORD_DTYPE)
    arr.resize(n, refcheck=False)
    rows = None
    if any_gap:
        rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, dtype=np.int64)
    return Decoded(meta, spec.name if spec else "definition", arr, rows, n_records, defs,
                   mappings)


def _with_ts_out(dtype: np.dtype, meta: dbn.Metadata) -> np.dtype:
    """The record dtype, with the 8-byte ``ts_out`` Databento appends when ``meta.ts_out``."""
    if not getattr(meta, "ts_out", False):
        return dtype
    return np.dtype(dtype.descr + [("ts_out", "<u8")])


def _check_schema(meta: dbn.Metadata, label: str, definitions_only: bool) -> _Schema | None:
    name = str(meta.schema) if meta.schema is not None else "mixed"
    if definitions_only:
        return None
    if name not in SCHEMAS:
        hint = (" (pass a definition file as definitions=)" if name == "definition" else "")
        raise ParameterError(
            f"Databento schema {name!r} of {label!r} is not supported{hint}; load_databento"
            f" reads {', '.join(SCHEMAS)}")
    return SCHEMAS[name]


def _split(records: list, spec: _Schema | None, dtype: np.dtype | None, label: str,
           report: ValidationReport, row0: int, defs: dict[int, object],
           mappings: dict[int, str]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Market records of ``records`` as numpy, and their indexes when others were removed.

    Definitions go to ``defs``, symbol mapping records to ``mappings``; other
    non-market records are counted as drops; a market record of another schema raises.
    """
    want = spec.record_type if spec is not None else None
    others = [i for i, r in enumerate(records) if type(r) is not want]
    idx = None
    if others:
        for i in others:
            r = records[i]
            t = type(r)
            if t is dbn.InstrumentDefMsg or type(r).__name__.startswith("InstrumentDefMsg"):
                defs[int(r.instrument_id)] = r
                if spec is not None:  # read for the instrument, not an event
                    report.drop(f"non-market record ({t.__name__})", label, row0 + i)
            elif spec is None:
                continue
            elif t in (dbn.MBOMsg, dbn.MBP1Msg, dbn.MBP10Msg, dbn.TradeMsg):
                raise DataQualityError(
                    f"record {row0 + i}: a {t.__name__} (rtype {int(bytes(r)[1])}) in a"
                    f" {spec.name} file", file=label, row=row0 + i, field="rtype",
                    value=int(bytes(r)[1]))
            else:
                if t.__name__.startswith("SymbolMappingMsg"):
                    mappings[int(r.instrument_id)] = str(r.stype_out_symbol)
                report.drop(f"non-market record ({t.__name__})", label, row0 + i)
        if spec is None:
            return None, None
        drop = set(others)
        idx = np.array([i for i in range(len(records)) if i not in drop], dtype=np.int64)
        records = [records[i] for i in idx.tolist()]
    if spec is None:
        return None, None
    buf = b"".join(map(bytes, records))
    if len(buf) != len(records) * dtype.itemsize:
        raise SchemaError(
            f"databento_dbn {spec.record_type.__name__} records were"
            f" {len(buf) / max(len(records), 1):.1f} bytes each, expected {dtype.itemsize}")
    arr = np.frombuffer(buf, dtype=dtype)
    _check_layout(arr, records, spec)
    return arr, idx


def _attr(v: object) -> object:
    """An enum attribute's byte as a str (an unknown byte comes back as a plain str)."""
    return str(getattr(v, "value", v))


def _check_layout(arr: np.ndarray, records: list, spec: _Schema) -> None:
    """Compare a spread of rows with the decoder's own attribute values."""
    n = arr.shape[0]
    if n == 0:
        return
    for i in np.unique(np.linspace(0, n - 1, min(n, _SAMPLE)).astype(np.int64)):
        r = records[int(i)]
        a = arr[int(i)]
        pairs = [
            ("ts_event", int(a["ts_event"]), r.ts_event), ("ts_recv", int(a["ts_recv"]), r.ts_recv),
            ("price", int(a["price"]), r.price), ("size", int(a["size"]), r.size),
            ("flags", int(a["flags"]), int(r.flags)), ("sequence", int(a["sequence"]), r.sequence),
            ("instrument_id", int(a["instrument_id"]), r.instrument_id),
            ("action", a["action"].decode("latin-1"), _attr(r.action)),
            ("side", a["side"].decode("latin-1"), _attr(r.side)),
        ]
        if spec.name == "mbo":
            pairs.append(("order_id", int(a["order_id"]), r.order_id))
        if spec.levels:
            lv = r.levels[-1]
            last = a["levels"][spec.levels - 1]
            pairs += [("bid_px", int(last["bid_px"]), lv.bid_px),
                      ("ask_px", int(last["ask_px"]), lv.ask_px),
                      ("bid_sz", int(last["bid_sz"]), lv.bid_sz),
                      ("ask_sz", int(last["ask_sz"]), lv.ask_sz)]
        for name, mine, theirs in pairs:
            if mine != theirs:
                raise SchemaError(
                    f"{spec.dtype} does not match databento_dbn {spec.record_type.__name__}:"
                    f" field {name} of record {int(i)} was {mine!r}, the decoder says {theirs!r}")


# --------------------------------------------------------------------------- symbology
def symbols_by_id(meta: dbn.Metadata, ids: np.ndarray, defs: dict[int, object],
                  mappings: dict[int, str]) -> dict[int, str]:
    """Name each instrument id of the records by its raw symbol.

    Order of preference: the definition record's ``raw_symbol``; the metadata
    symbology (``mappings``: input symbol -> intervals mapping to the instrument id)
    when the input symbology is ``raw_symbol``; a symbol mapping record; an input
    symbol (``ES.FUT``, ``ES.c.0``) that maps to this id alone; else the id itself.
    """
    stype_in = str(meta.stype_in) if meta.stype_in is not None else ""
    by_id: dict[int, set[str]] = {}
    for sym, intervals in (meta.mappings or {}).items():
        for iv in intervals:
            try:
                by_id.setdefault(int(iv["symbol"]), set()).add(str(sym))
            except (KeyError, TypeError, ValueError):
                continue
    out: dict[int, str] = {}
    for i in ids.tolist():
        d = defs.get(i)
        names = by_id.get(i, set())
        if d is not None and str(d.raw_symbol):
            out[i] = str(d.raw_symbol)
        elif stype_in == "raw_symbol" and len(names) == 1:
            out[i] = next(iter(names))
        elif i in mappings and mappings[i]:
            out[i] = mappings[i]
        elif len(names) == 1:
            out[i] = next(iter(names))
        elif len(ids) == 1 and len(meta.symbols or []) == 1 and stype_in == "raw_symbol":
            out[i] = str(meta.symbols[0])
        else:
            out[i] = str(i)
    return out


def _fixed(v: int) -> float | None:
    return None if v is None or int(v) in (_UNDEF_I64, -_UNDEF_I64 - 1) else int(v) / 1e9


def definition_facts(d: object) -> dict:
    """Facts of an ``InstrumentDefMsg``: tick (units of 1e-9), multiplier, currency, lot, class.

    ``min_price_increment`` is a fixed-point price (1e-9); ``unit_of_measure_qty``
    (fixed 1e-9, the contract size in ``unit_of_measure``) gives the multiplier, else
    ``contract_multiplier`` (i32); ``min_lot_size_round_lot`` the lot. Undefined
    values (i64/i32 max) are left out.
    """
    out: dict = {"raw_symbol": str(d.raw_symbol)}
    tick = int(d.min_price_increment)
    if 0 < tick < _UNDEF_I64:
        out["tick_units"] = tick
    uom = _fixed(getattr(d, "unit_of_measure_qty", None))
    cm = getattr(d, "contract_multiplier", None)
    if uom is not None and uom > 0:
        out["multiplier"] = uom
        out["multiplier_from"] = f"unit_of_measure_qty {uom:g} {str(d.unit_of_measure)}".strip()
    elif cm is not None and 0 < int(cm) < _UNDEF_I32:
        out["multiplier"] = float(cm)
        out["multiplier_from"] = "contract_multiplier"
    cur = str(getattr(d, "currency", "") or "")
    if cur:
        out["currency"] = cur
    lot = getattr(d, "min_lot_size_round_lot", None)
    if lot is not None and 0 < int(lot) < _UNDEF_I32:
        out["lot_size"] = float(lot)
    out["instrument_class"] = _attr(d.instrument_class)
    return out
