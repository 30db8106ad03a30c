"""Benchmark vectorised BSM Greeks (1e6 options) and implied vol (1e5 options).

Run with ``.venv/bin/python benchmarks/bench_greeks.py [n_greeks] [n_iv]``. Inputs are
random (seeded): spot 50-150, strike 50-150, time 0.02-3 years, rate, yield, vol
0.05-1.0, mixed calls and puts. JIT compilation (or on-disk cache load) is timed apart
on the first call; steady state is the best of 3 warm calls. The baseline is a
straightforward numpy/scipy implementation of the same formulas (``scipy.special.ndtr``
for N(x)) and, for implied vol, ``scipy.optimize.brentq`` per option on the same
no-arbitrage-checked problems (timed on a 2,000-option subsample and scaled);
ratio = baseline / qlib. Prints a markdown table.
"""

from __future__ import annotations

import platform
import sys
import time

import numba
import numpy as np
import scipy
from scipy.optimize import brentq
from scipy.special import ndtr

from qlib.risk import _greeks_kernels as _k
from qlib.risk import bsm_greeks, implied_vol_with_status

REPEATS = 3


def best_of(fn, repeats: int = REPEATS) -> float:
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


def once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def numpy_greeks(s, k, t, r, q, v, w):
    """Reference numpy/scipy implementation (the baseline)."""
    sqt = np.sqrt(t)
    sd = v * sqt
    d1 = (np.log(s / k) + (r - q) * t) / sd + 0.5 * sd
    d2 = d1 - sd
    dq, dr = np.exp(-q * t), np.exp(-r * t)
    nd1, nd2 = ndtr(w * d1), ndtr(w * d2)
    pdf = np.exp(-0.5 * d1 * d1) / np.sqrt(2 * np.pi)
    price = w * (s * dq * nd1 - k * dr * nd2)
    delta = w * dq * nd1
    gamma = dq * pdf / (s * sd)
    vega = s * dq * pdf * sqt
    theta = -s * dq * pdf * v / (2 * sqt) + w * (q * s * dq * nd1 - r * k * dr * nd2)
    rho = w * k * t * dr * nd2
    return price, delta, gamma, vega, theta, rho


def scipy_iv(p, s, k, t, r, q, w):
    out = np.empty(len(p))
    for i in range(len(p)):
        def f(x, i=i):
            return numpy_greeks(s[i], k[i], t[i], r[i], q[i], x, w[i])[0] - p[i]
        out[i] = brentq(f, 1e-6, 10.0, xtol=1e-14, rtol=1e-14)
    return out


def inputs(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return (rng.uniform(50, 150, n), rng.uniform(50, 150, n), rng.uniform(0.02, 3.0, n),
            rng.uniform(0.0, 0.06, n), rng.uniform(0.0, 0.03, n), rng.uniform(0.05, 1.0, n),
            rng.choice(np.array([-1, 1], dtype=np.int8), n))


def main() -> None:
    n_g = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    n_iv = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    s, k, t, r, q, v, w = inputs(n_g, 1)
    outs = [np.empty(n_g) for _ in range(6)]
    wf = w.astype(np.float64)

    first = once(lambda: _k.bsm_greeks(s[:10], k[:10], t[:10], r[:10], q[:10], v[:10], w[:10],
                                       *(o[:10] for o in outs)))
    t_kernel = best_of(lambda: _k.bsm_greeks(s, k, t, r, q, v, w, *outs))
    t_api = best_of(lambda: bsm_greeks(s, k, t, r, q, v, w))
    t_np = best_of(lambda: numpy_greeks(s, k, t, r, q, v, wf))
    ref = numpy_greeks(s, k, t, r, q, v, wf)
    err = max(float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))) for a, b in zip(outs, ref))

    si, ki, ti, ri, qi, vi, wi = inputs(n_iv, 2)
    px = np.empty(n_iv)
    _k.bsm_prices(si, ki, ti, ri, qi, vi, wi, px)
    first_iv = once(lambda: implied_vol_with_status(px[:10], si[:10], ki[:10], ti[:10], ri[:10],
                                                    qi[:10], wi[:10]))
    res = {}
    t_iv = best_of(lambda: res.update(r=implied_vol_with_status(px, si, ki, ti, ri, qi, wi)))
    iv, status = res["r"]
    ok = status == 0
    m = 2_000
    wif = wi.astype(np.float64)
    t_brent = once(lambda: scipy_iv(px[:m], si[:m], ki[:m], ti[:m], ri[:m], qi[:m], wif[:m])) * n_iv / m
    iv_err = float(np.max(np.abs(iv[ok] - vi[ok]) / vi[ok]))
    # vol is identifiable from a float64 price only to about eps * price / vega
    vega = bsm_greeks(si, ki, ti, ri, qi, vi, wi)["vega"].to_numpy()
    with np.errstate(divide="ignore"):
        cond = np.finfo(float).eps * px / (vega * vi)
    well = ok & (cond < 1e-10)
    iv_err_well = float(np.max(np.abs(iv[well] - vi[well]) / vi[well]))

    print(f"CPU: {platform.processor() or platform.machine()} x {numba.config.NUMBA_NUM_THREADS};"
          f" Python {platform.python_version()}, numpy {np.__version__}, numba {numba.__version__},"
          f" scipy {scipy.__version__}\n")
    print("| what | qlib | baseline | ratio (baseline / qlib) |")
    print("|---|---|---|---|")
    print(f"| first call (JIT compile or cache load), bsm_greeks kernel | {first * 1e3:.0f} ms | | |")
    print(f"| bsm_greeks kernel, {n_g:,} options, 6 outputs, warm best of 3 |"
          f" {t_kernel / n_g * 1e9:.1f} ns/option | numpy/scipy {t_np / n_g * 1e9:.1f} ns/option |"
          f" {t_np / t_kernel:.1f}x |")
    print(f"| public bsm_greeks (validation + DataFrame), {n_g:,} options |"
          f" {t_api / n_g * 1e9:.1f} ns/option | numpy/scipy {t_np / n_g * 1e9:.1f} ns/option |"
          f" {t_np / t_api:.1f}x |")
    print(f"| max relative difference kernel vs numpy/scipy | {err:.1e} | | |")
    print(f"| first call, implied_vol_with_status | {first_iv * 1e3:.0f} ms | | |")
    print(f"| implied_vol_with_status, {n_iv:,} options, warm best of 3 |"
          f" {t_iv / n_iv * 1e9:.0f} ns/option | scipy brentq {t_brent / n_iv * 1e9:.0f} ns/option"
          f" (2,000-option sample) | {t_brent / t_iv:.0f}x |")
    print(f"| implied vol statuses: OK {int(ok.sum()):,}, BELOW_LOWER_BOUND"
          f" {int((status == 1).sum()):,}, other {int((status > 1).sum()):,}"
          f" (BELOW: time value lost to float64 rounding) | | | |")
    print(f"| max relative vol error, OK and well-conditioned (eps*price/(vega*vol) < 1e-10,"
          f" {int(well.sum()):,} options) | {iv_err_well:.1e} | | |")
    print(f"| max relative vol error, all OK (includes vols the price cannot identify) |"
          f" {iv_err:.1e} | | |")


if __name__ == "__main__":
    main()
