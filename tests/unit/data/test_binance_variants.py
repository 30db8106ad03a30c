"""load_binance on unseen variants of the shared recordings, with no instrument argument.

Each shared session is rewritten in tmp_path as another symbol of its market (ETHUSDT spot,
ETHUSDT USD-M, ETHUSD_PERP COIN-M: stream names, ``s``/``ps``/``symbol``/``pair`` fields
and file names) and as another price precision (every price divided by 1000 and every
quantity multiplied by 1000, rewritten digit by digit, as an altcoin would look). The
rebuilt book must still equal the recording's own bookTicker wherever their update ids
meet, and the inferred market, tick, lot and contract size must be the right ones and be
recorded in ``report.inferred``.
"""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest

from qlib.data import instruments
from qlib.data.binance import bookticker_agreement, load_binance

pytestmark = pytest.mark.realdata

# (shared set, files of one session, market, symbol renames, new file-name stem)
SESSIONS = {
    "spot": ("binance-spot-btcusdt-hftbacktest", ["btcusdt_20240808.gz", "btcusdt_20240809.gz"],
             "spot", {b"btcusdt@": b"ethusdt@", b'"s":"BTCUSDT"': b'"s":"ETHUSDT"'},
             ("btcusdt", "ethusdt"), "ETHUSDT.BINANCE", 0.01),
    "usdm": ("binance-usdm-btcusdt-hftbacktest", ["btcusdt_20240808.gz"],
             "usdm", {b"btcusdt@": b"ethusdt@", b'"s":"BTCUSDT"': b'"s":"ETHUSDT"'},
             ("btcusdt", "ethusdt"), "ETHUSDT-PERP.BINANCE", 0.1),
    "coinm": ("binance-coinm-btcusd-perp-hftbacktest", ["btcusd_perp_20240808.gz", "btcusd_perp_20240809.gz"],
              "coinm", {b"btcusd_perp@": b"ethusd_perp@", b'"s":"BTCUSD_PERP"': b'"s":"ETHUSD_PERP"',
                        b'"ps":"BTCUSD"': b'"ps":"ETHUSD"', b'"symbol":"BTCUSD_PERP"': b'"symbol":"ETHUSD_PERP"',
                        b'"pair":"BTCUSD"': b'"pair":"ETHUSD"'},
              ("btcusd_perp", "ethusd_perp"), "ETHUSD_PERP.BINANCE", 0.1),
}

_PAIR = re.compile(rb'\["(\d+(?:\.\d+)?)","(\d+(?:\.\d+)?)"\]')
_PX = re.compile(rb'"([pba])":"(\d+(?:\.\d+)?)"')
_QTY = re.compile(rb'"([qBA])":"(\d+(?:\.\d+)?)"')


def shift(text: bytes, k: int) -> bytes:
    """Multiply the decimal string ``text`` by 10**k exactly, keeping its significant digits."""
    whole, _, frac = text.decode().partition(".")
    digits, point = whole + frac, len(whole) + k
    if point <= 0:
        digits, point = "0" * (1 - point) + digits, 1
    elif point > len(digits):
        digits += "0" * (point - len(digits))
    head = digits[:point].lstrip("0") or "0"
    tail = digits[point:]
    return (head + ("." + tail if tail else "")).encode()


def reprice(text: bytes) -> bytes:
    """Prices / 1000, quantities * 1000 in every level pair, trade and bookTicker."""
    text = _PAIR.sub(lambda m: b'["' + shift(m[1], -3) + b'","' + shift(m[2], 3) + b'"]', text)
    text = _PX.sub(lambda m: b'"' + m[1] + b'":"' + shift(m[2], -3) + b'"', text)
    return _QTY.sub(lambda m: b'"' + m[1] + b'":"' + shift(m[2], 3) + b'"', text)


def test_shift_is_exact_decimal_arithmetic():
    assert shift(b"61837.63000000", -3) == b"61.83763000000"
    assert shift(b"0.5", -3) == b"0.0005"
    assert shift(b"12", -3) == b"0.012"
    assert shift(b"0.00100000", 3) == b"1.00000"
    assert shift(b"1001", 3) == b"1001000"
    assert shift(b"0.001", 3) == b"1"


@pytest.fixture
def venue_rows_only(tmp_path, monkeypatch):
    """A registry with only the Binance venue rows: every instrument fact is inferred."""
    ref = instruments.REFERENCE_FILE.read_text().splitlines()
    header = next(ln for ln in ref if ln.startswith("kind,"))
    rows = [ln for ln in ref if ln.startswith("venue,BINANCE")]
    path = tmp_path / "venues.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    monkeypatch.setattr(instruments, "REFERENCE_FILE", path)
    monkeypatch.delenv(instruments.ENV_VAR, raising=False)
    instruments.reset()
    yield
    instruments.reset()


_ORIGINAL: dict[str, object] = {}


def original(shared_data: Path, name: str):
    if name not in _ORIGINAL:
        d, files = SESSIONS[name][:2]
        _ORIGINAL[name] = load_binance([shared_data / d / f for f in files])
    return _ORIGINAL[name]


def variant(shared_data: Path, tmp_path: Path, name: str, precision: bool) -> list[Path]:
    d, files, _, renames, (old, new), *_ = SESSIONS[name]
    out = []
    for f in files:
        text = gzip.decompress((shared_data / d / f).read_bytes())
        for a, b in renames.items():
            text = text.replace(a, b)
        if precision:
            text = reprice(text)
        p = tmp_path / f.replace(old, new)
        p.write_bytes(gzip.compress(text, compresslevel=1))
        out.append(p)
    return out


def inferred(md) -> dict[str, object]:
    return {i.fact: i for i in md.report.inferred}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_load_binance_other_symbol_infers_instrument_and_book_equals_bookticker(
        shared_data, tmp_path, venue_rows_only, name):
    _, _, market, _, _, iid, tick = SESSIONS[name]
    ref = original(shared_data, name)
    md = load_binance(variant(shared_data, tmp_path, name, precision=False))
    inst = md.instrument
    assert inst.instrument_id == iid
    inf = inferred(md)
    assert inf["market"].value == market and inf["market"].confidence == "certain"
    assert inf["tick_size"].value == tick == inst.tick_size and inf["tick_size"].confidence == "high"
    assert inf["lot_size"].value == inst.lot_size
    assert inf["fees"].confidence == "assumed"
    if market == "coinm":  # Binance's rule: non-BTC COIN-M contracts are 10 USD
        assert inst.inverse and inst.multiplier == 10.0 and inf["multiplier"].value == 10.0
        assert inst.currency == "USD"
    else:
        assert not inst.inverse and inst.multiplier == 1.0
    # the same ticks as the registry's BTC instrument: the events are the recording's own
    assert inst.tick_size == ref.instrument.tick_size
    np.testing.assert_array_equal(md.events, ref.events)
    a = bookticker_agreement(md)
    assert a == bookticker_agreement(ref)
    assert a["exact"] > 500 and a["exact_agree"] == a["exact"]


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_load_binance_other_price_precision_infers_grid_and_book_equals_bookticker(
        shared_data, tmp_path, venue_rows_only, name):
    _, _, market, _, _, iid, tick = SESSIONS[name]
    ref = original(shared_data, name)
    (tmp_path / "same").mkdir()
    same = load_binance(variant(shared_data, tmp_path / "same", name, precision=False))
    md = load_binance(variant(shared_data, tmp_path, name, precision=True))
    inst, inf = md.instrument, inferred(md)
    assert inst.instrument_id == iid and inf["market"].value == market
    assert inst.tick_size == pytest.approx(tick / 1000, rel=1e-12)
    assert inf["tick_size"].value == inst.tick_size and "gcd" in inf["tick_size"].basis
    assert inst.lot_size == pytest.approx(same.instrument.lot_size * 1000, rel=1e-12)
    assert inf["lot_size"].value == inst.lot_size
    if market == "coinm":
        assert inst.multiplier == 10.0 and inst.inverse
    ev, rv = md.events, ref.events
    np.testing.assert_array_equal(ev["px_tick"], rv["px_tick"])  # same ticks, a finer grid
    np.testing.assert_array_equal(ev[["kind", "side", "seq", "ts_exch", "ts_local"]],
                                  rv[["kind", "side", "seq", "ts_exch", "ts_local"]])
    np.testing.assert_allclose(ev["qty"], rv["qty"] * 1000, rtol=1e-12)
    a = bookticker_agreement(md)
    assert a["compared"] == bookticker_agreement(ref)["compared"]
    assert a["exact"] > 500 and a["exact_agree"] == a["exact"]
    assert a["agree_px"] == bookticker_agreement(ref)["agree_px"]


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_load_binance_other_symbol_with_the_shipped_registry_loads(shared_data, tmp_path, name):
    # whatever rows the shipped registry holds for these symbols, the load needs no argument
    md = load_binance(variant(shared_data, tmp_path, name, precision=False))
    assert md.instrument.instrument_id == SESSIONS[name][5]
    a = bookticker_agreement(md)
    assert a["exact"] > 500 and a["exact_agree"] == a["exact"]
