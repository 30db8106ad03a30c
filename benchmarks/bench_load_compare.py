"""Load time and peak memory of every loader on the shared sets, this tree against another.

Run: ``.venv/bin/python benchmarks/bench_load_compare.py [--baseline DIR] [--repeat N]``
(needs ../shared/data).

``--baseline DIR`` is a checkout of an earlier commit (``git worktree add /tmp/base
<commit>``): each measurement runs in a fresh subprocess with ``PYTHONPATH`` set to one
tree or the other, in the order new, base, base, new (the better of each tree's two
runs), so both see the same machine load on average. ``--only spot,databento`` keeps the
sets whose names contain one of the words. Per data set it
prints the warm load time (best of ``--repeat`` after one warm-up call) and, in another
fresh process, the peak RSS increase of a first load (``VmHWM`` minus the RSS after
importing ``qlib.data`` and the loader's module: the events, the loader's temporaries
and the numba cache it loads),
and the ratio new / baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import cpu_name  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

#: name -> (source, path relative to ../shared/data)
SETS = {
    "lobster GOOG L10": ("lobster", "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_10.zip"),
    "lobster GOOG L1": ("lobster", "lobster-goog-2012-06-21/LOBSTER_SampleFile_GOOG_2012-06-21_1.zip"),
    "binance spot (2 files)": ("binance", "binance-spot-btcusdt-hftbacktest"),
    "binance usdm 2024-08-08": ("binance", "binance-usdm-btcusdt-hftbacktest/btcusdt_20240808.gz"),
    "binance coinm (2 files)": ("binance", "binance-coinm-btcusd-perp-hftbacktest"),
    "tardis futures": ("tardis", "tardis-binance-futures-btcusdt-2020-02-22"),
    "databento ESH4 MBO": ("databento", "databento-glbx-esh4-mbo-2023-12-25/esh4-glbx-mdp3-20231225.mbo.dbn.zst"),
}

_CHILD = r"""
import importlib, json, sys, time
import qlib.data as qd
source, path, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
# the loader's modules are imported before the memory baseline in both trees (qlib.data
# imports them lazily since issue 11, eagerly before)
importlib.import_module("qlib.data." + source)
importlib.import_module("qlib.data.sources")
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024
if repeat == 0:                     # the memory child: one first load
    before = status("VmRSS:")
    md = qd.load(source, path)
    print(json.dumps({"peak": status("VmHWM:") - before, "events": len(md)}))
    raise SystemExit
md = qd.load(source, path)          # warm-up: numba cache load, first-call setup
best = float("inf")
for _ in range(repeat):
    t0 = time.perf_counter(); md = qd.load(source, path); best = min(best, time.perf_counter() - t0)
print(json.dumps({"s": best, "events": len(md), "nbytes": md.events.nbytes}))
"""


def measure(tree: Path, source: str, path: Path, repeat: int) -> dict[str, float]:
    """Time (``repeat`` warm loads) and peak RSS (a first load) in two fresh processes."""
    out = _child(tree, source, path, repeat)
    out["peak"] = _child(tree, source, path, 0)["peak"]
    return out


def _child(tree: Path, source: str, path: Path, repeat: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run([sys.executable, "-c", _CHILD, source, str(path), str(repeat)],
                         env=env, capture_output=True, text=True, cwd=tree)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise SystemExit(f"{source} {path} failed in {tree}: {last}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated substrings of the set names")
    args = ap.parse_args()
    from qlib.data.paths import shared_data_dir

    shared = shared_data_dir()
    if shared is None:
        sys.exit("../shared/data is absent")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; repeat {args.repeat}")
    head = "| data set | events | load (s) | peak RSS (MB) |"
    if args.baseline:
        head = ("| data set | events (base / new) | load base (s) | load new (s) | new/base |"
                " peak base (MB) | peak new (MB) | new/base |")
    print(head)
    print("|" + "---|" * (head.count("|") - 1))
    only = [w.strip() for w in args.only.split(",") if w.strip()]
    for name, (source, rel) in SETS.items():
        if only and not any(w in name for w in only):
            continue
        path = shared / rel
        if not path.exists():
            print(f"| {name} | absent | | |")
            continue
        new = measure(ROOT, source, path, args.repeat)
        if not args.baseline:
            print(f"| {name} | {new['events']:,} | {new['s']:.3f} | {new['peak'] / 1e6:.1f} |")
            continue
        # alternate new, base, base, new: each tree gets two runs at the same mean time
        base = measure(args.baseline, source, path, args.repeat)
        base2 = measure(args.baseline, source, path, args.repeat)
        new2 = measure(ROOT, source, path, args.repeat)
        s_new, s_base = min(new["s"], new2["s"]), min(base["s"], base2["s"])
        p_new, p_base = min(new["peak"], new2["peak"]), min(base["peak"], base2["peak"])
        print(f"| {name} | {base['events']:,} / {new['events']:,} | {s_base:.3f} | {s_new:.3f} |"
              f" {s_new / s_base:.2f} | {p_base / 1e6:.1f} | {p_new / 1e6:.1f} |"
              f" {p_new / max(p_base, 1):.2f} |")


if __name__ == "__main__":
    main()
