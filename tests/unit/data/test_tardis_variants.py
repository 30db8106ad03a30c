"""load_tardis on unseen variants of the shared Tardis files, loaded with NO instrument.

The shared recording (Binance USD-M BTCUSDT trades and quotes, 2020-02-22) is
rewritten in tmp_path: another symbol, another exchange, another price and amount
precision (decimal strings shifted exactly), gzip compression, quirks a re-saved
file carries, and book_snapshot_5 / book_snapshot_25 files built from the quotes
(level 1 is the quote, deeper levels synthetic but consistent). Each variant must
give the events of the source (up to the rewritten facts), an instrument inferred
from the data, and for snapshot files a rebuilt book equal to every snapshot row.
"""

from __future__ import annotations

import csv
import gzip
import io
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from qlib.book import bbo, depth_snapshots
from qlib.data.instruments import lookup
from qlib.data.tardis import load_tardis, tardis_kind
from qlib.enums import EventFlag, EventKind, Side

SET = "tardis-binance-futures-btcusdt-2020-02-22"
FILES = ("tardis_trades.csv", "tardis_quotes.csv")
pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def src(shared_data) -> Path:
    d = shared_data / SET
    if not d.is_dir():
        pytest.skip(f"shared data set {SET} is absent")
    return d


@pytest.fixture(scope="module")
def orig(src):
    return load_tardis(src)


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as fh:
        r = list(csv.reader(fh))
    return r[0], r[1:]


def _text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    return buf.getvalue()


def _rewrite(src: Path, out: Path, **col_fns) -> Path:
    """Copy both files into ``out`` with ``col_fns[column](cell)`` applied."""
    out.mkdir(exist_ok=True)
    for name in FILES:
        header, rows = _rows(src / name)
        fns = [col_fns.get(c) for c in header]
        rows = [[f(v) if f and v != "" else v for f, v in zip(fns, r)] for r in rows]
        (out / name).write_text(_text(header, rows))
    return out


def _shift(k: int):
    """Move the decimal point of a decimal string by ``k`` places, exactly."""
    def fn(s: str) -> str:
        return format(Decimal(s).scaleb(k).normalize(), "f")
    return fn


def _inferred(md, fact: str):
    hits = [i for i in md.report.inferred if i.fact == fact]
    assert len(hits) == 1, (fact, md.report.inferred)
    return hits[0]


# ------------------------------------------------------------------ symbol / exchange
def _unknown(iid: str) -> None:
    """Precondition of a test of the inference path: the registry does not list ``iid``."""
    assert lookup(iid) is None, f"the registry now lists {iid}: pick another unlisted symbol"


def test_tardis_variant_other_symbol_unlisted_infers_its_instrument(src, orig, tmp_path):
    d = _rewrite(src, tmp_path / "ada", symbol=lambda s: "ADAUSDT")
    _unknown("ADAUSDT-PERP.BINANCE")
    md = load_tardis(d)
    inst = md.instrument
    assert inst.instrument_id == "ADAUSDT-PERP.BINANCE"
    assert (inst.tick_size, inst.lot_size, inst.currency) == (0.01, 0.001, "USDT")
    assert (inst.maker_fee_bps, inst.taker_fee_bps) == (2.0, 5.0)  # BINANCE:usdm default
    assert _inferred(md, "fees").confidence == "assumed"
    assert _inferred(md, "tick_size").confidence == "high"
    assert _inferred(md, "lot_size").confidence == "high"
    assert _inferred(md, "market").value == "usdm"
    assert md.events.tobytes() == orig.events.tobytes()
    assert md.report.rows_by_kind == orig.report.rows_by_kind


def test_tardis_variant_other_symbol_listed_uses_the_registry(src, orig, tmp_path):
    md = load_tardis(_rewrite(src, tmp_path / "eth", symbol=lambda s: "ETHUSDT"))
    reg = lookup("ETHUSDT-PERP.BINANCE")
    inst = md.instrument
    assert inst.instrument_id == "ETHUSDT-PERP.BINANCE"
    if reg is not None:  # listed: its facts (the data sits on its 0.01 tick and 0.001 lot)
        assert inst == reg
        assert _inferred(md, "instrument").confidence == "certain"
    assert (inst.tick_size, inst.lot_size) == (0.01, 0.001)
    assert md.events.tobytes() == orig.events.tobytes()


@pytest.mark.parametrize(("exchange", "iid"), [
    pytest.param("bybit", "BTCUSDT.BYBIT", id="bybit"),
    pytest.param("okex-swap", "BTCUSDT.OKX", id="okex-swap"),
    pytest.param("gate-io-futures", "BTCUSDT.GATE_IO_FUTURES", id="generic-rule"),
])
def test_tardis_variant_other_exchange_gets_venue_from_exchange_id(src, orig, tmp_path,
                                                                  exchange, iid):
    _unknown(iid)
    md = load_tardis(_rewrite(src, tmp_path / exchange, exchange=lambda s: exchange))
    inst = md.instrument
    assert inst.instrument_id == iid
    assert (inst.tick_size, inst.lot_size) == (0.01, 0.001)
    assert _inferred(md, "fees").confidence == "assumed"
    assert _inferred(md, "tick_size").confidence == "high"
    assert not [i for i in md.report.inferred if i.fact == "market"]
    assert md.events.tobytes() == orig.events.tobytes()


def test_tardis_variant_binance_spot_uses_registry_row(src, orig, tmp_path):
    md = load_tardis(_rewrite(src, tmp_path / "spot", exchange=lambda s: "binance"))
    inst = md.instrument
    assert inst.instrument_id == "BTCUSDT.BINANCE"
    # registry row (tick 0.01, lot 1e-5) fits the data: kept
    assert (inst.tick_size, inst.lot_size, inst.taker_fee_bps) == (0.01, 1e-5, 10.0)
    assert _inferred(md, "instrument").confidence == "certain"
    assert md.events.tobytes() == orig.events.tobytes()


@pytest.mark.parametrize(("symbol", "mult"), [
    pytest.param("LINKUSD_PERP", 10.0, id="link-10usd"),
    pytest.param("BTCUSD_200327", 100.0, id="btc-dated-100usd"),
])
def test_tardis_variant_binance_delivery_is_inverse_with_contract_size(src, orig, tmp_path,
                                                                      symbol, mult):
    # COIN-M amounts are whole contracts: 0.132 BTC -> 132 contracts
    d = _rewrite(src, tmp_path / symbol, exchange=lambda s: "binance-delivery",
                 symbol=lambda s: symbol, amount=_shift(3), ask_amount=_shift(3),
                 bid_amount=_shift(3))
    _unknown(f"{symbol}.BINANCE")
    md = load_tardis(d)
    inst = md.instrument
    assert inst.instrument_id == f"{symbol}.BINANCE"
    assert (inst.multiplier, inst.inverse, inst.currency, inst.lot_size) == (mult, True, "USD", 1.0)
    assert _inferred(md, "multiplier").confidence == "high"  # Binance's rule, not the data
    assert f"{mult:g} USD" in _inferred(md, "multiplier").basis
    assert _inferred(md, "fees").confidence == "assumed"
    np.testing.assert_array_equal(md.events["px_tick"], orig.events["px_tick"])
    np.testing.assert_allclose(md.events["qty"], orig.events["qty"] * 1000, rtol=1e-12)


# ------------------------------------------------------------------ precision
@pytest.mark.parametrize(("k", "tick"), [pytest.param(-3, 1e-5, id="finer"),
                                         pytest.param(2, 1.0, id="coarser")])
def test_tardis_variant_other_price_precision_keeps_ticks(src, orig, tmp_path, k, tick):
    _unknown("XRPUSDT.BYBIT")
    d = _rewrite(src, tmp_path / f"p{k}", exchange=lambda s: "bybit", symbol=lambda s: "XRPUSDT",
                 price=_shift(k),
                 ask_price=_shift(k), bid_price=_shift(k), amount=_shift(-k),
                 ask_amount=_shift(-k), bid_amount=_shift(-k))
    md = load_tardis(d)
    assert md.instrument.tick_size == pytest.approx(tick, rel=1e-12)
    assert md.instrument.lot_size == pytest.approx(0.001 * 10.0**-k, rel=1e-12)
    np.testing.assert_array_equal(md.events["px_tick"], orig.events["px_tick"])
    np.testing.assert_allclose(md.events["qty"], orig.events["qty"] * 10.0**-k, rtol=1e-12)
    for f in ("kind", "side", "ts_exch", "ts_local", "seq", "flags"):
        np.testing.assert_array_equal(md.events[f], orig.events[f])


# ------------------------------------------------------------------ compression and quirks
def test_tardis_variant_gzip_is_told_by_magic_bytes_not_name(src, orig, tmp_path):
    d = tmp_path / "gz"
    d.mkdir()
    for name in FILES:
        (d / (name + ".gz")).write_bytes(gzip.compress((src / name).read_bytes()))
    md = load_tardis(d)
    assert md.events.tobytes() == orig.events.tobytes()
    assert tardis_kind(d / "tardis_trades.csv.gz") == "trades"
    # gzip content under a .csv name, plain content under a .csv.gz name
    a, b = tmp_path / "trades_gzipped.csv", tmp_path / "quotes_plain.csv.gz"
    a.write_bytes((d / "tardis_trades.csv.gz").read_bytes())
    b.write_bytes((src / "tardis_quotes.csv").read_bytes())
    md2 = load_tardis([a, b])
    assert md2.events.tobytes() == orig.events.tobytes()


def test_tardis_variant_resaved_with_bom_quotes_crlf_extra_column_loads_identically(
        src, orig, tmp_path):
    d = tmp_path / "resaved"
    d.mkdir()
    for name in FILES:
        header, rows = _rows(src / name)
        buf = io.StringIO()
        w = csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        w.writerows([header + ["note"], *[r + ["x"] for r in rows]])
        (d / name).write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode())
    md = load_tardis(d)
    assert md.events.tobytes() == orig.events.tobytes()
    assert sum("['note']" in n for n in md.report.notes) == 2


# ------------------------------------------------------------------ book snapshots
def _snapshot_file(src: Path, out: Path, depth: int, nrows: int | None = None) -> tuple[Path, list]:
    """A book_snapshot_{depth} file from the quotes: level 0 is the quote, deeper levels
    step away by 0.05 + 0.01 i, amounts from the row number; every 7th row has only
    ``i % depth`` ask levels beyond the top (empty cells), so shallow books are covered."""
    header, rows = _rows(src / "tardis_quotes.csv")
    col = {c: j for j, c in enumerate(header)}
    out_rows, books = [], []
    for n, r in enumerate(rows[:nrows]):
        ask, bid = Decimal(r[col["ask_price"]]), Decimal(r[col["bid_price"]])
        asks, bids = [(ask, Decimal(r[col["ask_amount"]]))], [(bid, Decimal(r[col["bid_amount"]]))]
        for i in range(1, depth):
            step = Decimal("0.05") + Decimal("0.01") * i
            asks.append((asks[-1][0] + step, Decimal(n % 13 + i) / 1000))
            bids.append((bids[-1][0] - step, Decimal(n % 11 + 2 * i) / 1000))
        if n % 7 == 0:
            asks = asks[:1 + n % depth]
        cells = []
        for i in range(depth):
            for side in (asks, bids):
                cells += [str(side[i][0]), str(side[i][1])] if i < len(side) else ["", ""]
        out_rows.append(r[:4] + cells)
        books.append((bids, asks))
    hdr = header[:4] + [f"{s}[{i}].{f}" for i in range(depth) for s in ("asks", "bids")
                        for f in ("price", "amount")]
    p = out / f"binance-futures_book_snapshot_{depth}_2020-02-22_BTCUSDT.csv.gz"
    p.write_bytes(gzip.compress(_text(hdr, out_rows).encode()))
    return p, books


@pytest.mark.parametrize(("depth", "nrows"), [pytest.param(5, None, id="book_snapshot_5"),
                                              pytest.param(25, 600, id="book_snapshot_25")])
def test_tardis_variant_book_snapshot_rebuilt_book_equals_every_row(src, tmp_path, depth, nrows):
    p, books = _snapshot_file(src, tmp_path, depth, nrows)
    assert tardis_kind(p) == f"book_snapshot_{depth}"
    md = load_tardis(p)
    ev = md.events
    inst = md.instrument
    assert inst.instrument_id == "BTCUSDT-PERP.BINANCE" and inst.tick_size == 0.01
    n_levels = sum(len(b) + len(a) for b, a in books)
    assert md.report.rows_by_kind == {"CLEAR": len(books), "SNAPSHOT": n_levels}
    assert (ev["flags"] & EventFlag.SNAPSHOT).all()
    assert md.report.crossed_rows == 0 and md.report.locked_rows == 0
    clear = np.flatnonzero(ev["kind"] == EventKind.CLEAR)
    assert (ev["side"][clear] == Side.NONE).all()
    last = np.flatnonzero(ev["flags"] & EventFlag.LAST)
    np.testing.assert_array_equal(last, np.append(clear[1:] - 1, len(ev) - 1))

    df = depth_snapshots(md, levels=depth)
    assert len(df) == len(books)
    for side, k in (("bid", 0), ("ask", 1)):
        for i in range(depth):
            want_px = np.array([float(b[k][i][0]) if i < len(b[k]) else np.nan for b in books])
            want_q = np.array([float(b[k][i][1]) if i < len(b[k]) else 0.0 for b in books])
            np.testing.assert_allclose(df[f"{side}_px_{i + 1}"].to_numpy(), want_px, rtol=0,
                                       atol=1e-9, err_msg=f"{side} level {i + 1}")
            np.testing.assert_array_equal(df[f"{side}_qty_{i + 1}"].to_numpy(), want_q)


def test_tardis_variant_book_snapshot_bbo_equals_quotes_file(src, tmp_path):
    p, _ = _snapshot_file(src, tmp_path, 5)
    book = bbo(load_tardis(p))
    quotes = bbo(load_tardis(quotes=src / "tardis_quotes.csv"), source="quotes")
    cols = ["bid_px", "bid_qty", "ask_px", "ask_qty"]
    np.testing.assert_array_equal(book[cols].to_numpy(), quotes[cols].to_numpy())
    np.testing.assert_array_equal(book["ts_exch"].to_numpy(), quotes["ts_exch"].to_numpy())


def test_tardis_variant_snapshot_and_trades_of_other_exchange_symbol_merge(src, tmp_path):
    p, books = _snapshot_file(src, tmp_path, 5)
    d = _rewrite(src, tmp_path / "bybit", exchange=lambda s: "bybit", symbol=lambda s: "ETHUSDT")
    (d / "tardis_quotes.csv").unlink()
    text = gzip.decompress(p.read_bytes()).decode().replace("binance-futures,BTCUSDT,",
                                                            "bybit,ETHUSDT,")
    (d / "snap.csv.gz").write_bytes(gzip.compress(text.encode()))
    md = load_tardis(d)
    assert md.instrument.instrument_id == "ETHUSDT.BYBIT"
    assert md.report.rows_by_kind["TRADE"] == 9_999
    assert md.report.rows_by_kind["CLEAR"] == len(books)
    assert np.all(np.diff(md.events["ts_exch"]) >= 0)
    assert md.provenance["kinds"] == ["book_snapshot_5", "trades"]
