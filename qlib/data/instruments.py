"""The instrument registry: contract facts by ``SYMBOL.VENUE``, and what a loader does without them.

Facts come from three places, later ones winning:

1. the shipped reference file ``qlib/data/instruments.csv`` (each row with its source);
2. user files named by the environment variable ``QLIB_INSTRUMENTS`` (paths joined by
   ``os.pathsep``), read on first use;
3. user files added with :func:`register` (CSV or YAML, same columns).

A later row with the same kind and key wins fact by fact: its non-empty cells replace
the earlier row's, its empty cells keep them (a user row ``venue,BINANCE:spot`` that
gives only fees keeps the reference currency). Its ``source`` then names both.

A row is one of three kinds:

``instrument``
    ``key`` is an instrument id (``BTCUSDT.BINANCE``).
``root``
    ``key`` is a futures root and venue (``ES.GLBX``): it applies to every contract
    ``ROOT`` + month code (``FGHJKMNQUVXZ``) + a 1-2 digit year (``ESH4.GLBX``,
    ``ESZ25.GLBX``), and to the root itself.
``venue``
    ``key`` is ``VENUE`` or ``VENUE:MARKET`` (``BINANCE:usdm``): the venue's default
    fee schedule and quote currency, used (and reported as *assumed*) for instruments
    the registry does not list, or whose row leaves them empty.

An instrument or root row may leave ``tick_size`` (or any other fact) empty when only
some facts are certain (a Binance COIN-M contract's size is a published rule, its tick
changes): :func:`resolve` then infers the missing ones from the data, and
:func:`lookup` answers None for it (an :class:`Instrument` needs a tick).

:func:`resolve` is what every loader calls: a caller's ``Instrument`` wins; an id
string is looked up; a dict overrides single facts; with nothing given, the
registry is asked and, where it is silent, the facts are inferred from the data
(:mod:`qlib.data.infer`) and written into the :class:`ValidationReport` with their
basis and confidence.

US equities have no per-symbol row: their tick is a rule of price (SEC Regulation NMS
Rule 612), given by :func:`equity_tick`.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from qlib.data.infer import GridGuess
from qlib.data.report import ValidationReport
from qlib.errors import DataNotFoundError, DataQualityError, ParameterError
from qlib.instrument import Instrument

__all__ = [
    "COLUMNS",
    "ENV_VAR",
    "REFERENCE_FILE",
    "RULE_612_VENUES",
    "VenueDefaults",
    "equity_tick",
    "facts",
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
_POSITIVE = ("tick_size", "lot_size", "multiplier")
_FEES = ("maker_fee_bps", "taker_fee_bps")
_FACTS = ("tick_size", "lot_size", "multiplier", "inverse", "currency", "maker_fee_bps",
          "taker_fee_bps", "fee_tier")
#: CME month codes (January F ... December Z).
_MONTHS = "FGHJKMNQUVXZ"
#: Market Identifier Codes (ISO 10383) of US exchanges trading NMS stocks, where
#: Rule 612's minimum pricing increment applies (:func:`equity_tick`).
RULE_612_VENUES = frozenset({
    "XNAS", "XBOS", "XPSX",                   # Nasdaq, Nasdaq BX, Nasdaq PSX
    "XNYS", "ARCX", "XASE", "XCHI", "XCIS",   # NYSE, Arca, American, Chicago, National
    "BATS", "BATY", "EDGA", "EDGX",           # Cboe BZX, BYX, EDGA, EDGX
    "IEXG", "MEMX", "EPRL", "LTSE",           # IEX, MEMX, MIAX Pearl Equities, LTSE
})


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
def _read_rows(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """Rows of a CSV or YAML registry file as ``(row, raw dict)``.

    ``row`` is the 1-based line of the row in a CSV file (comments and blank lines
    counted, as an editor shows it) and the 0-based index of the entry in a YAML list.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DataNotFoundError(f"instrument file {str(path)!r} does not exist") from None
    except UnicodeDecodeError as exc:
        raise DataQualityError(f"not UTF-8 text: {exc.reason} at byte {exc.start}",
                               file=str(path)) from None
    except OSError as exc:
        raise DataNotFoundError(f"instrument file {str(path)!r} cannot be read: {exc}") from None
    if path.suffix.lower() in (".yml", ".yaml"):
        return _read_yaml(text, path)
    return _read_csv(text, path)


def _read_yaml(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    import yaml  # pyyaml ships with jupyter; only needed for YAML user files

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DataQualityError(f"not valid YAML ({problem}" + (f", line {line})" if line else ")"),
                               file=str(path), row=line) from None
    if isinstance(data, Mapping):
        data = data.get("instruments", data)
    if not isinstance(data, list):
        raise DataQualityError("a YAML instrument file is a list of mappings (or"
                               f" {{'instruments': [...]}}), was a {type(data).__name__}",
                               file=str(path))
    out = []
    for i, r in enumerate(data):
        if not isinstance(r, Mapping):
            raise DataQualityError(f"entry was {r!r}, expected a mapping of {list(COLUMNS)}"
                                   f" (entry {i} of the YAML list)",
                                   file=str(path), row=i, value=r)
        unknown = sorted(str(k) for k in r if k not in COLUMNS)
        if unknown:
            raise DataQualityError(f"unknown field(s) {unknown} ({unknown[0]} was"
                                   f" {r[unknown[0]]!r}); fields are {list(COLUMNS)}"
                                   f" (entry {i} of the YAML list)",
                                   file=str(path), row=i, field=unknown[0], value=r[unknown[0]])
        out.append((i, dict(r)))
    return out


def _read_csv(text: str, path: Path) -> list[tuple[int, dict[str, Any]]]:
    numbered = [(n, ln) for n, ln in enumerate(text.splitlines(), 1)
                if ln.strip() and not ln.lstrip().startswith("#")]
    if not numbered:
        return []
    reader = csv.DictReader(ln for _, ln in numbered)
    header = reader.fieldnames or []
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise DataQualityError(f"unknown column(s) {unknown}; columns are {list(COLUMNS)}"
                               f" (header, line {numbered[0][0]} of the file)",
                               file=str(path), row=numbered[0][0], field=unknown[0],
                               value=unknown[0])
    out = []
    for raw in reader:
        line = numbered[reader.line_num - 1][0]
        if None in raw:  # more cells than the header has columns
            raise DataQualityError(f"the row has {len(header) + len(raw[None])} cells, the header"
                                   f" {len(header)}: extra {raw[None]!r} (line {line} of the"
                                   " file)", file=str(path),
                                   row=line, value=raw[None])
        out.append((line, raw))
    return out


def _cell(v: Any) -> str | None:
    """A cell as stripped text, or None when empty."""
    if v is None:
        return None
    s = str(v).strip()
    return s or None


def _parse_row(raw: dict[str, Any], path: Path, row: int) -> dict[str, Any]:
    """Validate one raw row; return it typed. Errors name the file, row, field and value."""
    f = str(path)
    at = f" (entry {row} of the YAML list)" if path.suffix.lower() in (".yml", ".yaml") \
        else f" (line {row} of the file)"
    out: dict[str, Any] = {}
    for name in ("kind", "key", "source"):
        v = _cell(raw.get(name))
        if v is None:
            raise DataQualityError(f"{name} is required" + at, file=f, row=row, field=name,
                                   value=raw.get(name))
        out[name] = v
    if out["kind"] not in _KINDS:
        raise DataQualityError(f"kind was {out['kind']!r}, expected one of {list(_KINDS)}" + at,
                               file=f, row=row, field="kind", value=out["kind"])
    key = out["key"]
    if out["kind"] == "venue":
        venue, _, market = key.partition(":")
        if not venue or "." in key or ":" in market:
            raise DataQualityError(f"key was {key!r}, expected 'VENUE' or 'VENUE:market'" + at,
                                   file=f, row=row, field="key", value=key)
    else:
        parts = key.split(".")
        if len(parts) != 2 or not all(p.strip() for p in parts):
            raise DataQualityError(f"key was {key!r}, expected 'SYMBOL.VENUE' (one dot)" + at,
                                   file=f, row=row, field="key", value=key)
    for name in (*_POSITIVE, *_FEES):
        v = _cell(raw.get(name))
        if v is None:
            out[name] = None
            continue
        try:
            x = float(v)
        except ValueError:
            x = math.nan
        if not math.isfinite(x) or (name in _POSITIVE and x <= 0):
            want = "a positive number" if name in _POSITIVE else "a number"
            raise DataQualityError(f"{name} was {v!r}, expected {want}" + at, file=f, row=row,
                                   field=name, value=v)
        out[name] = x
    inv = _cell(raw.get("inverse"))
    s = "" if inv is None else inv.lower()
    if s not in ("", "true", "false", "1", "0", "yes", "no"):
        raise DataQualityError(f"inverse was {inv!r}, expected true or false" + at, file=f,
                               row=row, field="inverse", value=inv)
    out["inverse"] = None if s == "" else s in ("true", "1", "yes")
    for name in ("currency", "fee_tier"):
        out[name] = _cell(raw.get(name))
    if out["kind"] == "venue":
        for name in ("tick_size", "lot_size", "multiplier", "inverse"):
            if out[name] is not None:
                raise DataQualityError(f"{name} was {raw.get(name)!r}: a venue row states only"
                                       " currency and fees, leave it empty" + at, file=f,
                                       row=row, field=name, value=raw.get(name))
    out["file"] = f
    out["row"] = row
    return out


def _merge(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` over ``old`` fact by fact (see the module docstring)."""
    merged = dict(new)
    kept = [k for k in _FACTS if new[k] is None and old[k] is not None]
    for k in kept:
        merged[k] = old[k]
    if kept:
        merged["source"] = (f"{new['source']}; {', '.join(kept)} from"
                            f" {Path(old['file']).name}: {old['source']}")
    return merged


def _load() -> dict[tuple[str, str], dict[str, Any]]:
    global _rows, _files
    if _rows is not None:
        return _rows
    env = [Path(p) for p in os.environ.get(ENV_VAR, "").split(os.pathsep) if p.strip()]
    files = [REFERENCE_FILE, *env, *_user_files]
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for path in files:
        for line, raw in _read_rows(path):
            r = _parse_row(raw, path, line)
            k = (r["kind"], _norm_key(r["kind"], r["key"]))
            r = _merge(rows[k], r) if k in rows else r
            if r["kind"] != "venue" and r["tick_size"] is not None:
                _instrument(_norm_key(r["kind"], r["key"]), r, path, line)  # validates
            rows[k] = r
    _rows, _files = rows, files
    return rows


def _norm_key(kind: str, key: str) -> str:
    if kind == "venue":
        venue, _, market = key.partition(":")
        return venue.strip().upper() + (":" + market.strip().lower() if market.strip() else "")
    sym, _, venue = key.rpartition(".")
    return f"{sym.strip().upper()}.{venue.strip().upper()}"


def _instrument(instrument_id: str, r: Mapping[str, Any], path: Path | None = None,
                row: int | None = None) -> Instrument:
    kw = {k: r[k] for k in ("tick_size", "lot_size", "multiplier", "maker_fee_bps",
                            "taker_fee_bps", "currency", "inverse") if r.get(k) is not None}
    try:
        return Instrument(instrument_id, **kw)
    except ParameterError as exc:
        if path is None:
            raise
        raise DataQualityError(f"{exc} (row {row})", file=str(path), row=row) from None


def _split_id(instrument_id: object) -> tuple[str, str]:
    """``(SYMBOL, VENUE)`` upper-cased; ParameterError unless exactly one dot splits two parts."""
    if not isinstance(instrument_id, str):
        raise ParameterError(f"instrument id must be a string 'SYMBOL.VENUE', was"
                             f" {type(instrument_id).__name__} {instrument_id!r}")
    parts = instrument_id.strip().split(".")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise ParameterError(
            f"instrument id must be 'SYMBOL.VENUE' with exactly one dot, was {instrument_id!r}"
            " (a symbol holding a dot, such as BRK.B, cannot be an Instrument id: write it"
            " without the dot, e.g. 'BRK/B.XNYS')")
    return parts[0].strip().upper(), parts[1].strip().upper()


# --------------------------------------------------------------------------- public lookups
def register(path: str | os.PathLike[str]) -> None:
    """Add a user registry file (CSV or YAML with :data:`COLUMNS`); its rows win over earlier ones.

    Parameters
    ----------
    path
        A ``.csv`` file with a header row of :data:`COLUMNS` (any subset holding
        ``kind``, ``key`` and ``source``; ``#`` lines are comments), or a ``.yaml`` /
        ``.yml`` file holding a list of mappings with those keys (or
        ``{"instruments": [...]}``).

    Raises
    ------
    DataNotFoundError
        If the file does not exist.
    DataQualityError
        If a row is malformed: an unknown column, a missing ``kind``/``key``/``source``,
        an unknown kind, a non-numeric or non-positive size, a bad ``inverse``, or YAML
        that does not parse. The message names the file, the row (CSV: line number;
        YAML: list index), the field and the value. The registry is left as it was.
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


def _row_of(instrument_id: str) -> tuple[str, dict[str, Any] | None]:
    """The id normalised, and its instrument row, else its futures root row, else None."""
    sym, venue = _split_id(instrument_id)
    key = f"{sym}.{venue}"
    r = _load().get(("instrument", key))
    return key, (r if r is not None else _root_match(sym, venue))


def facts(instrument_id: str) -> dict[str, Any] | None:
    """Return the registry's facts for ``SYMBOL.VENUE`` (some may be None), or None.

    The dict has the fact columns (``tick_size`` ... ``fee_tier``), ``kind``
    (``"instrument"`` or ``"root"``), ``key`` (the matching row's key), ``source`` and
    ``file``. Unlike :func:`lookup` it answers for a row that leaves the tick empty.

    Raises
    ------
    ParameterError
        If the id is not ``SYMBOL.VENUE``.
    """
    _, r = _row_of(instrument_id)
    if r is None:
        return None
    return {k: r[k] for k in ("kind", "key", *_FACTS, "source", "file")}


def lookup(instrument_id: str) -> Instrument | None:
    """Return the registered :class:`Instrument` for ``SYMBOL.VENUE``, or None.

    The symbol and venue match without regard to case; a futures contract matches its
    root's row (``ESH4.GLBX`` and ``ESZ24.GLBX`` -> ``ES.GLBX``). The returned id is
    the registry's spelling of a listed instrument, and the upper-cased id of a futures
    contract. None also when the row leaves ``tick_size`` empty (see :func:`facts`).

    Raises
    ------
    ParameterError
        If the id is not ``SYMBOL.VENUE`` (exactly one dot, both parts non-empty).
    """
    key, r = _row_of(instrument_id)
    if r is None or r["tick_size"] is None:
        return None
    return _instrument(r["key"] if r["kind"] == "instrument" else key, r)


def get(instrument_id: str) -> Instrument:
    """Return the registered :class:`Instrument` for ``SYMBOL.VENUE``.

    Raises
    ------
    ParameterError
        If the registry does not know it, or its row leaves ``tick_size`` empty; the
        message names the files searched and how to add one.
    """
    inst = lookup(instrument_id)
    if inst is None:
        _load()
        f = facts(instrument_id)
        where = ", ".join(str(p) for p in _files)
        if f is not None:
            raise ParameterError(
                f"instrument {instrument_id!r} has a registry row ({f['key']}, {f['source']})"
                " without tick_size; pass instrument={'tick_size': ...}, an Instrument(...),"
                " or None to let the loader infer the tick from the prices")
        raise ParameterError(
            f"instrument {instrument_id!r} is not in the registry (files: {where}); add a row"
            f" with qlib.data.instruments.register(path) or ${ENV_VAR}, or pass an"
            " Instrument(...)")
    return inst


def source_of(instrument_id: str) -> str | None:
    """Return the ``source`` cell (and file) behind a registered instrument, or None.

    Raises
    ------
    ParameterError
        If the id is not ``SYMBOL.VENUE``.
    """
    _, r = _row_of(instrument_id)
    return None if r is None else f"{r['source']} ({Path(r['file']).name})"


def venue_defaults(venue: str, market: str | None = None) -> VenueDefaults | None:
    """Return the default currency and fee schedule of ``venue`` (and ``market``), or None.

    ``VENUE:market`` is looked up first, then ``VENUE``; case does not matter.
    """
    rows = _load()
    v = venue.strip().upper()
    keys = ([f"{v}:{market.strip().lower()}"] if market else []) + [v]
    for k in keys:
        r = rows.get(("venue", k))
        if r is not None:
            return VenueDefaults(k, r["currency"], r["maker_fee_bps"], r["taker_fee_bps"],
                                 r["fee_tier"] or "", r["source"])
    return None


def table() -> pd.DataFrame:
    """Return every registry row (after overrides) as a DataFrame, with its file and row."""
    rows = list(_load().values())
    return pd.DataFrame(rows, columns=[*COLUMNS, "file", "row"])


# --------------------------------------------------------------------------- equity rule
def equity_tick(price: float | np.ndarray, venue: str = "XNAS", *,
                half_penny: bool = False) -> float | np.ndarray:
    r"""Return the minimum price increment of a US NMS stock quoted at ``price``.

    SEC Regulation NMS Rule 612 [1]_ (17 CFR 242.612): no exchange, ATS or broker may
    display, rank or accept a bid, offer or order in an NMS stock in an increment
    smaller than

    .. math:: \delta(p) = \begin{cases} \$0.01 & p \ge \$1.00 \\
                                        \$0.0001 & p < \$1.00 \end{cases}

    A CSV row cannot state a rule of price, hence this function. It is the grid of
    *quotes and orders*: executions are not bound by it (midpoint and other hidden
    executions print at half a cent or finer), which is why a trade price off the grid
    is kept as ``EventKind.TRADE_SUBTICK``. A loader of a single-stock file (LOBSTER)
    infers the grid from the prices anyway (:func:`qlib.data.infer.infer_step`); this
    function says what the grid must be, e.g. to check an inferred one.

    Parameters
    ----------
    price
        Price(s) in USD per share (scalar or array).
    venue
        Market Identifier Code of a US equity exchange (:data:`RULE_612_VENUES`).
    half_penny
        The 2024 amendment [2]_ adds a $0.005 increment, at or above $1.00, for stocks
        whose time-weighted average quoted spread over an evaluation period was at most
        $0.015, assigned per stock twice a year by the primary listing exchange. The
        Commission stayed it pending judicial review (Release 34-101899, December 2024)
        and granted temporary exemptive relief from compliance (November 2025). qlib
        cannot know which stocks are assigned $0.005: pass True for one that is.

    Returns
    -------
    float or numpy.ndarray
        The increment in USD (float for a scalar price, float64 array otherwise).

    Raises
    ------
    ParameterError
        If ``venue`` is not a US equity exchange, or a price is not finite and positive.

    References
    ----------
    .. [1] U.S. Securities and Exchange Commission (2005). Regulation NMS, Release
       No. 34-51808, 70 FR 37496; Rule 612, Minimum pricing increment.
    .. [2] U.S. Securities and Exchange Commission (2024). Regulation NMS: Minimum
       Pricing Increments, Access Fees, and Transparency of Better Priced Orders,
       Release No. 34-101070, 89 FR 81620.

    Examples
    --------
    >>> equity_tick(580.12)
    0.01
    >>> equity_tick(0.5123)
    0.0001
    """
    v = str(venue).strip().upper()
    if v not in RULE_612_VENUES:
        raise ParameterError(f"venue was {venue!r}: Rule 612 applies to US equity exchanges"
                             f" {sorted(RULE_612_VENUES)}")
    p = np.asarray(price, dtype=np.float64)
    bad = ~np.isfinite(p) | (p <= 0)
    if bad.any():
        x = float(p.flat[int(np.flatnonzero(bad.ravel())[0])])
        raise ParameterError(f"price was {x!r}, expected a finite positive price in USD")
    tick = np.where(p >= 1.0, 0.005 if half_penny else 0.01, 0.0001)
    return float(tick) if tick.ndim == 0 else tick


# --------------------------------------------------------------------------- resolve
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
        (:func:`qlib.data.infer.infer_step`); needed when no one states the tick, and
        used to check a stated tick (and lot) against the data.
    venue, market
        For the venue's default fees and currency (default: the id's venue).
    known
        Facts the format itself states (``{"currency": "USD", "multiplier": 100.0,
        "inverse": True}`` for a Binance COIN-M contract, ``{"tick_size": 0.25}`` from
        a Databento instrument definition); recorded as ``certain``. Add
        ``"<fact>_basis": "..."`` to record a fact derived by a rule instead, with
        confidence ``high``. Registry facts win over these.

    Returns
    -------
    Instrument

    Raises
    ------
    ParameterError
        For an unknown id string, an override dict with an unknown field or a bad
        value, an ``instrument_id`` that is not ``SYMBOL.VENUE``, or when a fact
        cannot be known: no one states ``tick_size`` and there is no ``price_grid``
        (the message names the fact and the argument that supplies it).

    Notes
    -----
    Where each fact comes from, first hit wins:

    ========================  =================================  ==============
    fact                      source                             confidence
    ========================  =================================  ==============
    any                       the caller's dict                  certain
    any                       the registry row (or root row)     certain
    any                       ``known``                          certain / high
    tick_size, lot_size       ``price_grid`` / ``lot_grid``      the grid's
    lot_size                  one unit                           assumed
    currency, fees            the venue's default row            assumed
    currency                  USD                                assumed
    fees                      zero                               assumed
    multiplier, inverse       1, linear                          assumed
    ========================  =================================  ==============

    A stated tick (registry or ``known``) is checked against the data: when a price
    lies off it (the venue changed the tick since, or the file is another product with
    the same name), the inferred grid is used instead and the report says so - a grid
    finer than the venue's is safe for the books, a coarser one is not. The check uses
    :attr:`GridGuess.common_step`, so it holds for few distinct prices too. The lot is
    checked the same way against ``lot_grid``.
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
        bad = sorted(str(k) for k in instrument if k not in fields)
        if bad:
            raise ParameterError(f"instrument override has unknown field(s) {bad}; fields are"
                                 f" {sorted(fields)}")
        overrides = dict(instrument)
    elif instrument is not None:
        raise ParameterError("instrument must be an Instrument, an id 'SYMBOL.VENUE', a dict of"
                             f" overrides or None, was {type(instrument).__name__}")
    iid = str(overrides.pop("instrument_id", instrument_id))
    return _assemble(iid, report, price_grid, lot_grid, venue, market, dict(known or {}),
                     overrides)


def _assemble(iid: str, report: ValidationReport, price_grid: GridGuess | None,
              lot_grid: GridGuess | None, venue: str | None, market: str | None,
              known: dict[str, Any], overrides: dict[str, Any]) -> Instrument:
    """Gather every fact of ``iid`` from the sources in :func:`resolve`'s table."""
    key, row = _row_of(iid)
    if row is not None:  # a listed instrument keeps the registry's spelling, a contract its own
        iid = row["key"] if row["kind"] == "instrument" else key
    got: dict[str, Any] = {}       # fact -> value
    stated: dict[str, str] = {}    # fact -> "registry" / "known" for facts checked against data
    if row is not None:
        report.infer("instrument", iid, f"registry: {source_of(iid)}", "certain")
        for k in ("tick_size", "lot_size", "multiplier", "inverse", "currency", *_FEES):
            if row[k] is not None:
                got[k], stated[k] = row[k], "registry"
    for k in ("tick_size", "lot_size", "multiplier", "inverse", "currency", *_FEES):
        if k not in got and k not in overrides and known.get(k) is not None:
            v = known[k]
            try:
                v = bool(v) if k == "inverse" else str(v) if k == "currency" else float(v)
            except (TypeError, ValueError):
                raise ParameterError(f"known {k} was {v!r}, expected a number") from None
            got[k], stated[k] = v, "known"
            basis = known.get(f"{k}_basis")
            report.infer(k, v, basis or "stated by the format", "high" if basis else "certain")
    for k in overrides:
        stated.pop(k, None)
        got.pop(k, None)

    _grid_fact("tick_size", "prices", "tick", got, stated, overrides, price_grid, report)
    if "tick_size" not in got and "tick_size" not in overrides:
        raise ParameterError(
            f"tick_size of {iid!r} is unknown: the registry has no row with it and the file holds"
            " no prices to infer it from; pass instrument={'tick_size': ...} (or an"
            " Instrument(...)) to the loader")
    _grid_fact("lot_size", "quantities", "lot", got, stated, overrides, lot_grid, report)
    if "lot_size" not in got and "lot_size" not in overrides:
        got["lot_size"] = 1.0
        report.infer("lot_size", 1.0, "no quantities to infer it from: one unit", "assumed")

    venue = venue or iid.rpartition(".")[2]
    vd = venue_defaults(venue, market)
    where = venue + (f" {market}" if market else "")
    if "currency" not in got and "currency" not in overrides:
        if vd is not None and vd.currency:
            got["currency"] = vd.currency
            report.infer("currency", vd.currency, f"{where} default ({vd.source})", "assumed")
        else:
            got["currency"] = "USD"
            report.infer("currency", "USD", f"no default for {where}: USD", "assumed")
    missing_fees = [k for k in _FEES if k not in got and k not in overrides]
    if missing_fees:
        for k in missing_fees:
            dv = getattr(vd, k) if vd is not None else None
            got[k] = float(dv) if dv is not None else 0.0
        have_vd = vd is not None and any(getattr(vd, k) is not None for k in missing_fees)
        maker = got.get("maker_fee_bps", overrides.get("maker_fee_bps"))
        taker = got.get("taker_fee_bps", overrides.get("taker_fee_bps"))
        report.infer("fees", f"maker {_num(maker)} bps, taker {_num(taker)} bps",
                     (f"{where} default schedule, tier {vd.fee_tier or 'base'} ({vd.source})"
                      if have_vd else
                      f"no bps fee schedule for {where}, zero ({vd.source})" if vd is not None
                      else f"no fee schedule known for {where}: zero"), "assumed")
    if "multiplier" not in got and "multiplier" not in overrides:
        got["multiplier"] = 1.0
        report.infer("multiplier", 1.0, "no contract size known: one unit of the base asset"
                     " (or one share) per unit of quantity", "assumed")
    got.setdefault("inverse", False)

    for k, v in overrides.items():
        report.infer(k, v, "given by the caller (instrument={...})", "certain")
    if overrides:
        report.notes.append(f"instrument overridden by the caller: {overrides!r}")
    kw = {**got, **overrides}
    try:
        return Instrument(iid, **kw)
    except (TypeError, ParameterError) as exc:
        if overrides:
            raise ParameterError(f"instrument override {overrides!r}: {exc}") from None
        raise


def _num(x: object) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else repr(x)


def _grid_fact(fact: str, what: str, word: str, got: dict[str, Any], stated: dict[str, str],
               overrides: Mapping[str, Any], grid: GridGuess | None,
               report: ValidationReport) -> None:
    """Fill ``got[fact]`` from ``grid``, or replace a stated value the data lies off."""
    if fact in overrides or grid is None:
        return
    if fact not in got:
        got[fact] = grid.step
        report.infer(fact, grid.step, grid.basis, grid.confidence)
        return
    value = float(got[fact])
    if not grid.holds_values_of(value):
        who = "registry's" if stated.get(fact) == "registry" else "format's"
        report.infer(fact, grid.step, f"{what} off the {who} {word} {value:g}; {grid.basis}",
                     grid.confidence)
        got[fact] = grid.step
