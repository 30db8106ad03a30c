"""The instrument registry: contract facts by ``SYMBOL.VENUE``, and what a loader does without them.

Facts come from three places, later ones winning:

1. the shipped reference file ``qlib/data/instruments.csv`` (each row with its source);
2. user files named by the environment variable ``QLIB_INSTRUMENTS`` (paths joined by
   ``os.pathsep``), read on first use;
3. user files added with :func:`register` (CSV or YAML, same columns).

A row is one of three kinds:

``instrument``
    ``key`` is an instrument id (``BTCUSDT.BINANCE``); every fact is given.
``root``
    ``key`` is a futures root and venue (``ES.GLBX``): it applies to every contract
    ``ROOT`` + month code (``FGHJKMNQUVXZ``) + a 1-2 digit year (``ESH4.GLBX``,
    ``ESZ25.GLBX``), and to the root itself.
``venue``
    ``key`` is ``VENUE`` or ``VENUE:MARKET`` (``BINANCE:usdm``): the venue's default
    fee schedule and quote currency, used (and reported as *assumed*) for instruments
    the registry does not list.

:func:`resolve` is what every loader calls: a caller's ``Instrument`` wins; an id
string is looked up; a dict overrides single facts; with nothing given, the
registry is asked and, where it is silent, the facts are inferred from the data
(:mod:`qlib.data.infer`) and written into the :class:`ValidationReport` with their
basis and confidence.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from qlib.data.infer import GridGuess
from qlib.data.report import ValidationReport
from qlib.errors import DataQualityError, DataNotFoundError, ParameterError
from qlib.instrument import Instrument

__all__ = [
    "COLUMNS",
    "ENV_VAR",
    "REFERENCE_FILE",
    "VenueDefaults",
    "get",
    "lookup",
    "register",
    "reset",
    "resolve",
    "source_of",
    "table",
    "venue_defaults",
]

#: The shipped reference file.
REFERENCE_FILE = Path(__file__).with_name("instruments.csv")
#: Environment variable naming user files (``os.pathsep``-separated).
ENV_VAR = "QLIB_INSTRUMENTS"
#: Columns of a registry file, in order; ``kind``, ``key`` and ``source`` are required.
COLUMNS = ("kind", "key", "tick_size", "lot_size", "multiplier", "inverse", "currency",
           "maker_fee_bps", "taker_fee_bps", "fee_tier", "source")
_KINDS = ("instrument", "root", "venue")
_FLOATS = ("tick_size", "lot_size", "multiplier", "maker_fee_bps", "taker_fee_bps")
#: CME month codes (January F ... December Z).
_MONTHS = "FGHJKMNQUVXZ"


@dataclasses.dataclass(frozen=True)
class VenueDefaults:
    """A venue's (or venue market's) default quote currency and fee schedule."""

    key: str
    currency: str | None
    maker_fee_bps: float | None
    taker_fee_bps: float | None
    fee_tier: str
    source: str


_rows: dict[tuple[str, str], dict[str, Any]] | None = None
_files: list[Path] = []
_user_files: list[Path] = []


# --------------------------------------------------------------------------- reading files
def _read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV or YAML registry file, as dicts of raw values."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataNotFoundError(f"instrument file {str(path)!r} does not exist") from None
    except OSError as exc:
        raise DataNotFoundError(f"instrument file {str(path)!r} cannot be read: {exc}") from None
    if path.suffix.lower() in (".yml", ".yaml"):
        import yaml  # pyyaml ships with jupyter; only needed for YAML user files

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DataQualityError(f"not valid YAML: {exc}", file=str(path)) from None
        if isinstance(data, Mapping):
            data = data.get("instruments", data)
        if not isinstance(data, list) or not all(isinstance(r, Mapping) for r in data):
            raise DataQualityError("a YAML instrument file is a list of mappings (or"
                                   " {'instruments': [...]})", file=str(path))
        return [dict(r) for r in data]
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    rows = list(reader)
    unknown = set(reader.fieldnames or ()) - set(COLUMNS)
    if unknown:
        raise DataQualityError(f"unknown column(s) {sorted(unknown)}; columns are {list(COLUMNS)}",
                               file=str(path), row=0)
    return rows


def _parse_row(raw: dict[str, Any], path: Path, row: int) -> dict[str, Any]:
    """Validate one raw row; return it typed. Errors name the file, row and field."""
    out: dict[str, Any] = {}
    for name in ("kind", "key", "source"):
        v = raw.get(name)
        if v is None or str(v).strip() == "":
            raise DataQualityError(f"{name} is required", file=str(path), row=row, field=name)
        out[name] = str(v).strip()
    if out["kind"] not in _KINDS:
        raise DataQualityError(f"kind was {out['kind']!r}, expected one of {list(_KINDS)}",
                               file=str(path), row=row, field="kind", value=out["kind"])
    for name in _FLOATS:
        v = raw.get(name)
        if v is None or str(v).strip() == "":
            out[name] = None
            continue
        try:
            out[name] = float(v)
        except (TypeError, ValueError):
            raise DataQualityError(f"{name} was {v!r}, expected a number", file=str(path),
                                   row=row, field=name, value=v) from None
    inv = raw.get("inverse")
    s = "" if inv is None else str(inv).strip().lower()
    if s not in ("", "true", "false", "1", "0", "yes", "no"):
        raise DataQualityError(f"inverse was {inv!r}, expected true or false", file=str(path),
                               row=row, field="inverse", value=inv)
    out["inverse"] = None if s == "" else s in ("true", "1", "yes")
    for name in ("currency", "fee_tier"):
        v = raw.get(name)
        out[name] = None if v is None or str(v).strip() == "" else str(v).strip()
    if out["kind"] != "venue":
        if "." not in out["key"]:
            raise DataQualityError(f"key was {out['key']!r}, expected 'SYMBOL.VENUE'",
                                   file=str(path), row=row, field="key", value=out["key"])
        if out["kind"] == "instrument" and out["tick_size"] is None:
            raise DataQualityError("tick_size is required for an instrument row",
                                   file=str(path), row=row, field="tick_size")
        if out["kind"] == "instrument":
            _instrument(out["key"], out, path, row)  # validates sizes and fees
    out["file"] = str(path)
    return out


def _load() -> dict[tuple[str, str], dict[str, Any]]:
    global _rows, _files
    if _rows is not None:
        return _rows
    env = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    files = [REFERENCE_FILE, *env, *_user_files]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for path in files:
        for i, raw in enumerate(_read_rows(path)):
            r = _parse_row(raw, path, i)
            rows[(r["kind"], _norm_key(r["kind"], r["key"]))] = r
    _rows, _files = rows, files
    return rows


def _norm_key(kind: str, key: str) -> str:
    if kind == "venue":
        venue, _, market = key.partition(":")
        return venue.upper() + (":" + market.lower() if market else "")
    sym, _, venue = key.rpartition(".")
    return f"{sym.upper()}.{venue.upper()}"


def _instrument(instrument_id: str, r: Mapping[str, Any], path: Path | None = None,
                row: int | None = None) -> Instrument:
    kw = {k: r[k] for k in ("tick_size", "lot_size", "multiplier", "maker_fee_bps",
                            "taker_fee_bps", "currency", "inverse") if r.get(k) is not None}
    try:
        return Instrument(instrument_id, **kw)
    except ParameterError as exc:
        if path is None:
            raise
        raise DataQualityError(str(exc), file=str(path), row=row) from None


# --------------------------------------------------------------------------- public lookups
def register(path: str | os.PathLike[str]) -> None:
    """Add a user registry file (CSV or YAML with :data:`COLUMNS`); its rows win over earlier ones.

    Raises
    ------
    DataNotFoundError
        If the file does not exist.
    DataQualityError
        If a row is malformed (the message names the file, row and field).
    """
    p = Path(os.fspath(path))
    global _rows
    _user_files.append(p)
    _rows = None
    try:
        _load()
    except Exception:
        _user_files.pop()
        _rows = None
        raise


def reset() -> None:
    """Forget files added with :func:`register` and re-read ``QLIB_INSTRUMENTS`` on next use."""
    global _rows
    _user_files.clear()
    _rows = None


def _root_match(symbol: str, venue: str) -> dict[str, Any] | None:
    rows = _load()
    hit = rows.get(("root", f"{symbol}.{venue}"))
    if hit is not None:
        return hit
    m = re.fullmatch(rf"([A-Z0-9]+?)([{_MONTHS}])(\d{{1,2}})", symbol)
    if m:
        return rows.get(("root", f"{m.group(1)}.{venue}"))
    return None


def lookup(instrument_id: str) -> Instrument | None:
    """Return the registered :class:`Instrument` for ``SYMBOL.VENUE``, or None.

    The symbol and venue match without regard to case; a futures contract matches its
    root's row (``ESH4.GLBX`` -> ``ES.GLBX``). The returned id is the registry's
    spelling of a listed instrument, and the upper-cased id of a futures contract.
    """
    if not isinstance(instrument_id, str) or instrument_id.count(".") != 1:
        raise ParameterError(f"instrument id must be 'SYMBOL.VENUE', was {instrument_id!r}")
    key = _norm_key("instrument", instrument_id)
    r = _load().get(("instrument", key))
    if r is not None:
        return _instrument(r["key"], r)
    sym, venue = key.split(".")
    r = _root_match(sym, venue)
    return None if r is None else _instrument(key, r)


def get(instrument_id: str) -> Instrument:
    """Return the registered :class:`Instrument` for ``SYMBOL.VENUE``.

    Raises
    ------
    ParameterError
        If the registry does not know it; the message names the files searched and
        how to add one.
    """
    inst = lookup(instrument_id)
    if inst is None:
        _load()
        raise ParameterError(
            f"instrument {instrument_id!r} is not in the registry (files: "
            f"{', '.join(str(f) for f in _files)}); add a row with qlib.data.instruments."
            f"register(path) or ${ENV_VAR}, or pass an Instrument(...)")
    return inst


def source_of(instrument_id: str) -> str | None:
    """Return the ``source`` cell (and file) behind a registered instrument, or None."""
    key = _norm_key("instrument", instrument_id)
    r = _load().get(("instrument", key))
    if r is None:
        sym, venue = key.split(".")
        r = _root_match(sym, venue)
    return None if r is None else f"{r['source']} ({Path(r['file']).name})"


def venue_defaults(venue: str, market: str | None = None) -> VenueDefaults | None:
    """Return the default currency and fee schedule of ``venue`` (and ``market``), or None."""
    rows = _load()
    keys = ([f"{venue.upper()}:{market.lower()}"] if market else []) + [venue.upper()]
    for k in keys:
        r = rows.get(("venue", k))
        if r is not None:
            return VenueDefaults(k, r["currency"], r["maker_fee_bps"], r["taker_fee_bps"],
                                 r["fee_tier"] or "", r["source"])
    return None


def table() -> pd.DataFrame:
    """Return every registry row (after overrides) as a DataFrame, with its file."""
    rows = list(_load().values())
    return pd.DataFrame(rows, columns=[*COLUMNS, "file"])


# --------------------------------------------------------------------------- resolve
def _on_grid(step: float, tick: float) -> bool:
    """True when ``step`` is a whole multiple of ``tick`` (decimal-safe)."""
    q = step / tick
    return abs(q - round(q)) <= 1e-9 * max(1.0, abs(q)) and round(q) >= 1


def resolve(
    instrument: Instrument | str | Mapping[str, Any] | None,
    *,
    instrument_id: str,
    report: ValidationReport,
    price_grid: GridGuess | None = None,
    lot_grid: GridGuess | None = None,
    venue: str | None = None,
    market: str | None = None,
    known: Mapping[str, Any] | None = None,
) -> Instrument:
    """Return the instrument of a file being loaded, saying in ``report`` what was inferred.

    Parameters
    ----------
    instrument
        What the caller passed: an :class:`Instrument` (used as it is), an id string
        (looked up with :func:`get`), a dict of facts overriding single fields of
        what would be used otherwise (``{"tick_size": 0.5}``), or None.
    instrument_id
        The id the loader reads from the data (``"ETHUSDT.BINANCE"``).
    report
        The loader's report; inferred and assumed facts are recorded in it.
    price_grid, lot_grid
        The grids inferred from the file's prices and quantities
        (:func:`qlib.data.infer.infer_step`); needed when the registry does not
        know the instrument, and used to check the registry's tick against the data.
    venue, market
        For the venue's default fees and currency (default: the id's venue).
    known
        Facts the format itself states (``{"currency": "USD", "multiplier": 100.0,
        "inverse": True}`` for a Binance COIN-M contract); recorded as ``certain``.

    Returns
    -------
    Instrument

    Raises
    ------
    ParameterError
        For an unknown id string, an override dict with an unknown field, or when a
        fact cannot be known: no registry row and no ``price_grid`` (the message
        names the fact and the argument that supplies it).

    Notes
    -----
    When the registry knows the instrument but a price of the file lies off its
    tick (the venue changed the tick since, or the file is another product with the
    same name), the inferred grid is used instead and the report says so: a grid
    finer than the venue's is safe for the books, a coarser one is not.
    """
    if isinstance(instrument, Instrument):
        return instrument
    if isinstance(instrument, str):
        inst = get(instrument)
        report.notes.append(f"instrument {inst.instrument_id} from the registry:"
                            f" {source_of(instrument)}")
        return inst
    overrides: dict[str, Any] = {}
    if isinstance(instrument, Mapping):
        fields = {f.name for f in dataclasses.fields(Instrument)}
        bad = sorted(set(instrument) - fields)
        if bad:
            raise ParameterError(f"instrument override has unknown field(s) {bad}; fields are"
                                 f" {sorted(fields)}")
        overrides = dict(instrument)
    elif instrument is not None:
        raise ParameterError("instrument must be an Instrument, an id 'SYMBOL.VENUE', a dict of"
                             f" overrides or None, was {type(instrument).__name__}")
    iid = str(overrides.pop("instrument_id", instrument_id))
    inst = _resolve_unknown_or_registered(iid, report, price_grid, lot_grid, venue, market,
                                          dict(known or {}))
    if overrides:
        try:
            inst = dataclasses.replace(inst, **overrides)
        except (TypeError, ParameterError) as exc:
            raise ParameterError(f"instrument override {overrides!r}: {exc}") from None
        report.notes.append(f"instrument overridden by the caller: {overrides!r}")
    return inst


def _resolve_unknown_or_registered(iid: str, report: ValidationReport, price_grid: GridGuess | None,
                                   lot_grid: GridGuess | None, venue: str | None,
                                   market: str | None, known: dict[str, Any]) -> Instrument:
    inst = lookup(iid)
    if inst is not None:
        report.infer("instrument", iid, f"registry: {source_of(iid)}", "certain")
        if price_grid is not None and not _on_grid(price_grid.step, inst.tick_size):
            report.infer("tick_size", price_grid.step,
                         f"prices off the registry's tick {inst.tick_size:g}; {price_grid.basis}",
                         price_grid.confidence)
            inst = dataclasses.replace(inst, tick_size=price_grid.step)
        if lot_grid is not None and not _on_grid(lot_grid.step, inst.lot_size):
            report.infer("lot_size", lot_grid.step,
                         f"quantities off the registry's lot {inst.lot_size:g}; {lot_grid.basis}",
                         lot_grid.confidence)
            inst = dataclasses.replace(inst, lot_size=lot_grid.step)
        return inst
    venue = venue or iid.rpartition(".")[2]
    if price_grid is None:
        raise ParameterError(
            f"instrument {iid!r} is not in the registry and the file holds no prices to infer"
            " its tick size from: pass instrument=Instrument(...) or instrument={'tick_size': ...}")
    report.infer("tick_size", price_grid.step, price_grid.basis, price_grid.confidence)
    if "lot_size" in known:
        lot = float(known["lot_size"])
    elif lot_grid is not None:
        lot = lot_grid.step
        report.infer("lot_size", lot, lot_grid.basis, lot_grid.confidence)
    else:
        lot = 1.0
        report.infer("lot_size", lot, "no quantities to infer it from: one unit", "assumed")
    vd = venue_defaults(venue, market)
    where = f"{venue}" + (f" {market}" if market else "")
    currency = known.get("currency") or (vd.currency if vd else None)
    if "currency" in known:
        report.infer("currency", currency, "stated by the format", "certain")
    elif currency:
        report.infer("currency", currency, f"{where} default ({vd.source})", "assumed")
    else:
        currency = "USD"
        report.infer("currency", currency, f"no default for {where}: USD", "assumed")
    maker = vd.maker_fee_bps if vd and vd.maker_fee_bps is not None else 0.0
    taker = vd.taker_fee_bps if vd and vd.taker_fee_bps is not None else 0.0
    report.infer("fees", f"maker {maker:g} bps, taker {taker:g} bps",
                 (f"{where} default schedule, tier {vd.fee_tier or 'base'} ({vd.source})" if vd
                  else f"no fee schedule known for {where}: zero"), "assumed")
    mult = float(known.get("multiplier", 1.0))
    inverse = bool(known.get("inverse", False))
    for k in ("multiplier", "inverse"):
        if k in known:
            report.infer(k, known[k], known.get(f"{k}_basis", "stated by the format"),
                         "certain" if f"{k}_basis" not in known else "high")
    return Instrument(iid, tick_size=price_grid.step, lot_size=lot, currency=currency,
                      maker_fee_bps=maker, taker_fee_bps=taker, multiplier=mult, inverse=inverse)
