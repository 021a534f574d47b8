"""Analysis of switching-probability runs: pooled counts per (current, width), Beta-posterior
intervals, and a maximum-likelihood fit of the thermally activated model (physics.md check 4,
the phenomenological Néel–Brown / Li–Zhang form):

    P(I, t_p) = 1 − exp(−t_p/τ),   τ = τ0·exp[Δ(1 − I/I_c0)]

I is the pulse current's magnitude ("Pulse current (A)"), t_p the width. ln τ is linear in
I, so only ln τ0 + Δ and Δ/I_c0 are identifiable: τ0 is fixed (default 1 ns, the usual
attempt time) and Δ, I_c0 follow. Intervals are the central 68.3 % of the Beta posterior
under the Jeffreys prior Beta(½, ½).

The exact axially symmetric model (labspin.telegraph.mean_first_passage_time) has the current
entering like a field, τ ∝ exp[Δ(1 − I/I_c0)²]: the Li–Zhang Δ and I_c0 are effective values
for the current range measured, not the barrier and critical current themselves.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.optimize import minimize

from .switching_probability import INTERVAL_CL, beta_interval

TAU0_S = 1e-9
"""Attempt time fixed in the fit (s)."""


def pooled_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Get one row per (pulse level, width): Trials and Switched summed over rows and files,
    the current the trial-weighted mean of the rows' (it moves with the measured R). Without
    a 'Pulse amplitude (V)' column (foreign data) rows are grouped by current (to 1 nA)."""
    current = df["Pulse current (A)"].abs().astype(float)
    level = (df["Pulse amplitude (V)"].abs().round(9) if "Pulse amplitude (V)" in df
             else current.round(9))
    n = df["Trials"].astype(float)
    d = pd.DataFrame({"level": level, "width": df["Pulse width (s)"].astype(float),
                      "n": n, "k": df["Switched"].astype(float), "in_": current * n})
    g = d.groupby(["level", "width"], as_index=False)[["n", "k", "in_"]].sum()
    g.insert(0, "current", g.pop("in_") / g["n"])
    return g.drop(columns="level").sort_values(["width", "current"], ignore_index=True)


def _p_and_grad(theta, current, width):
    """P and ∂P/∂(a, b) for ln τ = a − b·I."""
    a, b = theta
    ln_tau = a - b * current
    x = width * np.exp(-ln_tau)                    # t/τ
    q = np.exp(-x)                                 # 1 − P
    p = -np.expm1(-x)
    dp_dlntau = -q * x
    return p, np.stack([dp_dlntau, -current * dp_dlntau])


def fit_thermal_activation(current_A, width_s, trials, switched, tau0_s: float = TAU0_S):
    """Maximum-likelihood binomial fit of P = 1 − exp(−t/τ), τ = τ0 exp[Δ(1 − I/I_c0)].

    Get {delta, delta_err, ic0_A, ic0_A_err, tau0_s, ln_tau_intercept, slope_per_A, cov}
    with errors from the inverse Fisher information at the optimum (propagated to Δ and
    I_c0). Needs at least one point with 0 < P < 1 or points on both sides of P = ½.
    """
    i = np.asarray(current_A, float)
    t = np.asarray(width_s, float)
    n = np.asarray(trials, float)
    k = np.asarray(switched, float)
    if i.size < 2:
        raise ValueError("need at least two (current, width) points to fit")
    # scale the current for conditioning
    s = float(np.max(np.abs(i))) or 1.0
    u = i / s

    def nll(theta):
        a, b = theta
        x = t * np.exp(-(a - b * u))
        log_q = -x                                               # ln(1 − P), exact
        log_p = np.log(np.clip(-np.expm1(-x), 1e-300, 1.0))
        return -float(np.sum(k * log_p + (n - k) * log_q))

    # start: a line through the empirical ln τ of the points with 0 < P < 1
    pe = np.clip((k + 0.5) / (n + 1.0), 1e-3, 1 - 1e-3)
    ln_tau_e = np.log(t) - np.log(-np.log1p(-pe))
    if np.ptp(u) > 0:
        b0, a0 = np.polyfit(u, ln_tau_e, 1)
        b0 = -b0
    else:
        raise ValueError("all points have the same current: Δ and I_c0 are not separable")
    best = None
    for start in ([a0, b0], [a0, max(b0, 1.0)], [np.log(t.mean()) + 5.0, 10.0]):
        res = minimize(nll, start, method="Nelder-Mead",
                       options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 20000})
        if best is None or res.fun < best.fun:
            best = res
    theta = best.x
    p, g = _p_and_grad(theta, u, t)
    w = n / np.clip(p * (1 - p), 1e-12, None)
    fisher = (g * w) @ g.T
    cov_u = np.linalg.pinv(fisher)
    a, b_u = theta
    b = b_u / s                                        # per ampere
    cov = cov_u * np.array([[1.0, 1.0 / s], [1.0 / s, 1.0 / s ** 2]])
    delta = a - math.log(tau0_s)
    ic0 = delta / b
    # Δ = a − ln τ0; I_c0 = (a − ln τ0)/b: Jacobians
    j_ic0 = np.array([1.0 / b, -delta / b ** 2])
    return {
        "delta": float(delta), "delta_err": float(math.sqrt(max(cov[0, 0], 0.0))),
        "ic0_A": float(ic0), "ic0_A_err": float(math.sqrt(max(j_ic0 @ cov @ j_ic0, 0.0))),
        "tau0_s": float(tau0_s), "ln_tau_intercept": float(a), "slope_per_A": float(b),
        "cov": cov,
    }


def analyze_switching_probability(df: pd.DataFrame, tau0_s: float = TAU0_S) -> dict:
    """Get design.md's keys from a switching-probability table (columns 'Pulse current (A)',
    'Pulse width (s)', 'Trials', 'Switched'): ``delta``, ``ic0_A`` (with ``_err``, one
    standard error; τ0 fixed at ``tau0_s``), ``tau0_s``, the number of points and trials.
    Probability intervals (Jeffreys prior, 68.3 %)
    are in :func:`probability_table`."""
    counts = pooled_counts(df)
    fit = fit_thermal_activation(counts["current"], counts["width"], counts["n"], counts["k"],
                                 tau0_s)
    out = {k: v for k, v in fit.items() if k not in ("cov", "ln_tau_intercept", "slope_per_A")}
    out["n_points"] = int(len(counts))
    out["n_trials"] = int(counts["n"].sum())
    out["interval_credible_level"] = INTERVAL_CL
    return {k: (float(v) if not isinstance(v, int) else v) for k, v in out.items()}


def probability_table(df: pd.DataFrame, prior: str = "jeffreys") -> pd.DataFrame:
    """Get the pooled table with the probability, its Beta-posterior mean and 68.3 %
    interval (``prior``: "jeffreys" Beta(½,½) or "uniform" Beta(1,1))."""
    c = pooled_counts(df)
    mean, lo, hi = beta_interval(c["k"].to_numpy(), c["n"].to_numpy(), prior=prior)
    return c.assign(p=c["k"] / c["n"], p_mean=mean, p_low=lo, p_high=hi)
