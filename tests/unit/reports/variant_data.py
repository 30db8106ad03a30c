"""Unseen variants of the shared recordings, written to a temporary directory.

Each builder rewrites a real file of ``../shared/data`` into one a user might hold and we
do not: another symbol, another price precision, a stock under $1, times written by a
float formatter. The rewrites are exact text edits (no float round trip of prices), so
the book a loader rebuilds from a variant is the original book on another grid.
"""

from __future__ import annotations

import gzip
import re
import zipfile
from pathlib import Path

LOBSTER_5 = "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_5.zip"
BINANCE_USDM = "binance-usdm-btcusdt-hftbacktest/btcusdt_20240808.gz"
TARDIS = "tardis-binance-futures-btcusdt-2020-02-22"

#: LOBSTER's empty-level price sentinels (orderbook file).
_EMPTY = {"9999999999", "-9999999999"}


def _shift_decimal(match: re.Match[bytes]) -> bytes:
    """A quoted decimal string divided by ten, exactly: b'"61496.50"' -> b'"6149.650"'."""
    whole, frac = match.group(1), match.group(2)
    whole = whole or b"0"
    out_whole, moved = whole[:-1] or b"0", whole[-1:]
    return b'"' + out_whole + b"." + moved + frac + b'"'


def binance_other_symbol(shared: Path, out: Path) -> Path:
    """The USD-M BTCUSDT day as ETHUSDT, every quoted decimal divided by ten (0.01 tick)."""
    raw = gzip.decompress((shared / BINANCE_USDM).read_bytes())
    raw = raw.replace(b"btcusdt", b"ethusdt").replace(b"BTCUSDT", b"ETHUSDT")
    raw = re.sub(rb'"(\d*)\.(\d+)"', _shift_decimal, raw)
    path = out / "ethusdt_20240808.gz"
    path.write_bytes(gzip.compress(raw, compresslevel=1))
    return path


def _lobster_rows(shared: Path) -> tuple[dict[str, str], str, str]:
    with zipfile.ZipFile(shared / LOBSTER_5) as z:
        names = {n: z.read(n).decode() for n in z.namelist() if n.endswith(".csv")}
    msg = next(n for n in names if "_message_" in n)
    book = next(n for n in names if "_orderbook_" in n)
    return names, msg, book


def _write_lobster(out: Path, ticker: str, msg_text: str, book_text: str, msg_name: str,
                   book_name: str) -> Path:
    directory = out / f"lobster_{ticker}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / msg_name.replace("GOOG", ticker)).write_text(msg_text)
    (directory / book_name.replace("GOOG", ticker)).write_text(book_text)
    return directory


def lobster_under_one_dollar(shared: Path, out: Path) -> Path:
    """The GOOG level-5 day as ticker PENY at about $0.40-0.70 on a $0.0001 grid.

    Prices (dollars x 10,000) map ``p -> p // 100 - 52_000``: one cent of GOOG becomes one
    hundredth of a cent, so the order of prices and every book level survive.
    """
    names, msg, book = _lobster_rows(shared)

    def px(cell: str) -> str:
        return cell if cell in _EMPTY else str(int(cell) // 100 - 52_000)

    msg_lines = []
    for line in names[msg].splitlines():
        c = line.split(",")
        c[4] = px(c[4]) if c[1] != "7" else c[4]
        msg_lines.append(",".join(c))
    book_lines = []
    for line in names[book].splitlines():
        c = line.split(",")
        for j in range(0, len(c), 2):
            c[j] = px(c[j])
        book_lines.append(",".join(c))
    return _write_lobster(out, "PENY", "\n".join(msg_lines) + "\n", "\n".join(book_lines) + "\n",
                          msg, book)


def lobster_float_times(shared: Path, out: Path) -> Path:
    """The GOOG level-5 day as ticker FLTT with times written as Python floats.

    Each time is ``repr(nanoseconds * 1e-9)``, as a writer that scales an integer clock
    in binary floating point does: about a third of the rows get 10-12 decimals
    (``34200.113246707006`` for ``34200.113246707``).
    """
    names, msg, book = _lobster_rows(shared)
    msg_lines = []
    for line in names[msg].splitlines():
        c = line.split(",")
        whole, _, frac = c[0].partition(".")
        c[0] = repr((int(whole) * 10**9 + int((frac + "0" * 9)[:9])) * 1e-9)
        msg_lines.append(",".join(c))
    return _write_lobster(out, "FLTT", "\n".join(msg_lines) + "\n", names[book], msg, book)


def tardis_other_symbol(shared: Path, out: Path) -> Path:
    """The Tardis BTCUSDT futures day as ETHUSDT, prices divided by ten (exact text edit).

    Beside the trades and quotes it writes the ``book_snapshot_5`` file Tardis would ship
    for the day, with the quote as level 0 and deeper levels empty (the shared set has no
    book file; a backtest needs a book to quote against).
    """
    directory = out / "tardis_eth"
    directory.mkdir(parents=True, exist_ok=True)
    for src in sorted((shared / TARDIS).glob("*.csv")):
        lines = src.read_text().splitlines()
        header = lines[0].split(",")
        price_cols = [i for i, h in enumerate(header) if h.endswith("price")]
        rows = [lines[0]]
        for line in lines[1:]:
            c = line.split(",")
            c[1] = c[1].replace("BTCUSDT", "ETHUSDT")
            for i in price_cols:
                whole, _, frac = c[i].partition(".")
                c[i] = f"{whole[:-1] or '0'}.{whole[-1]}{frac}"
            rows.append(",".join(c))
        (directory / src.name).write_text("\n".join(rows) + "\n")
        if "ask_price" in header:
            _tardis_snapshot_from_quotes(header, rows[1:], directory)
    return directory


def _tardis_snapshot_from_quotes(header: list[str], rows: list[str], directory: Path) -> None:
    col = {h: i for i, h in enumerate(header)}
    head = header[:4] + [f"{side}[{i}].{f}" for i in range(5) for side in ("asks", "bids")
                         for f in ("price", "amount")]
    lines = [",".join(head)]
    for line in rows:
        c = line.split(",")
        top = [c[col["ask_price"]], c[col["ask_amount"]], c[col["bid_price"]], c[col["bid_amount"]]]
        lines.append(",".join(c[:4] + top + [""] * 16))
    (directory / "binance-futures_book_snapshot_5_2020-02-22_ETHUSDT.csv").write_text(
        "\n".join(lines) + "\n")


#: variant name -> (source, builder)
VARIANTS = {
    "binance_ethusdt": ("binance", binance_other_symbol),
    "lobster_under_1usd": ("lobster", lobster_under_one_dollar),
    "lobster_float_times": ("lobster", lobster_float_times),
    "tardis_ethusdt": ("tardis", tardis_other_symbol),
}
