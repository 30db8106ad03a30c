"""Jitted kernels of :mod:`qlib.signals.pin` (arrays in, scalars and arrays out)."""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def negll_grad(theta, b, s, cb, cs, grad):
    """Negative EKOP log-likelihood and its gradient in natural parameters; see :func:`qlib.signals.pin.pin_loglik`.

    ``theta = (alpha, delta, mu, eps_b, eps_s)``; ``cb``, ``cs`` are ``log(B!)``,
    ``log(S!)``. Writes ``-d loglik / d theta`` into ``grad`` and returns ``-loglik``.
    """
    alpha, delta, mu, eb, es = theta[0], theta[1], theta[2], theta[3], theta[4]
    lb, ls = math.log(eb), math.log(es)
    lbm, lsm = math.log(mu + eb), math.log(mu + es)
    l0 = math.log1p(-alpha) if alpha < 1.0 else -np.inf
    l1 = math.log(alpha * delta) if alpha * delta > 0.0 else -np.inf
    l2 = math.log(alpha * (1.0 - delta)) if alpha * (1.0 - delta) > 0.0 else -np.inf
    ll = 0.0
    g0 = 0.0
    g1 = 0.0
    g2 = 0.0
    g3 = 0.0
    g4 = 0.0
    for i in range(b.shape[0]):
        bb, ss = b[i], s[i]
        base_b = bb * lb - eb - cb[i]
        base_s = ss * ls - es - cs[i]
        t0 = l0 + base_b + base_s
        t1 = l1 + base_b + (ss * lsm - (mu + es) - cs[i])
        t2 = l2 + (bb * lbm - (mu + eb) - cb[i]) + base_s
        m = max(t0, max(t1, t2))
        e0 = math.exp(t0 - m)
        e1 = math.exp(t1 - m)
        e2 = math.exp(t2 - m)
        tot = e0 + e1 + e2
        ll += m + math.log(tot)
        w0, w1, w2 = e0 / tot, e1 / tot, e2 / tot
        g0 += -w0 / (1.0 - alpha) + (w1 + w2) / alpha if 0.0 < alpha < 1.0 else 0.0
        g1 += w1 / delta - w2 / (1.0 - delta) if 0.0 < delta < 1.0 else 0.0
        g2 += w1 * (ss / (mu + es) - 1.0) + w2 * (bb / (mu + eb) - 1.0)
        g3 += (w0 + w1) * (bb / eb - 1.0) + w2 * (bb / (mu + eb) - 1.0)
        g4 += (w0 + w2) * (ss / es - 1.0) + w1 * (ss / (mu + es) - 1.0)
    grad[0] = -g0
    grad[1] = -g1
    grad[2] = -g2
    grad[3] = -g3
    grad[4] = -g4
    return -ll
