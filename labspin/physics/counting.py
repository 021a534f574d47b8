"""Counting statistics of repeated trials: Beta-posterior intervals of a probability from k
successes in n trials, and the upper bound n trials with no success set."""
from __future__ import annotations

import numpy as np

INTERVAL_CL = 0.6827
"""Credible level of the reported Beta-posterior interval (the ±1σ mass of a Gaussian)."""


def beta_interval(k, n, cl: float = INTERVAL_CL, prior: str = "jeffreys"):
    """Get (posterior mean, lower, upper) of a switching probability from k successes in n
    trials: the central ``cl`` interval of the Beta posterior under the Jeffreys prior
    Beta(½, ½) (``prior="jeffreys"``) or the uniform prior Beta(1, 1) ("uniform")."""
    from scipy.stats import beta
    a0 = {"jeffreys": 0.5, "uniform": 1.0}[prior]
    k, n = np.asarray(k, float), np.asarray(n, float)
    a, b = k + a0, n - k + a0
    lo = beta.ppf(0.5 * (1 - cl), a, b)
    hi = beta.ppf(0.5 * (1 + cl), a, b)
    return a / (a + b), lo, hi


def zero_count_upper_bound(n, cl: float = 0.95):
    """Get the one-sided ``cl`` upper bound on a probability p when n trials saw no event:
    the p with (1 − p)ⁿ = 1 − cl (≈ 3/n at 95 %, the "rule of three")."""
    n = np.asarray(n, float)
    return -np.expm1(np.log1p(-cl) / n)


def trials_for_rate(rate: float, cl: float = 0.95) -> int:
    """Get the trials a brute-force estimate needs before a point with no event bounds the
    probability below ``rate`` at confidence ``cl``."""
    if not 0.0 < rate < 1.0:
        raise ValueError(f"rate must be in (0, 1), got {rate!r}")
    return int(np.ceil(np.log1p(-cl) / np.log1p(-rate)))
