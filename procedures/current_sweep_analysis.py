"""Analysis of R–I switching loops: the resistance levels, and the critical current of each
polarity from every switching event of every loop.

A switching event is a resistance step between neighbouring points of one sweep segment
larger than half the jump between the two levels. Its critical value is taken halfway
between the last point before and the first point after the step; with a grid step s this
midpoint is uniform within ±s/2 of the threshold (standard error s/√12). Over N events the
critical value is their mean and its standard error √(var/N + s²/12): var/N from the
stochastic (thermally activated) spread, s²/12 the quantisation, kept whole because it does
not average away when the events fall on the same grid points (a spread ≲ s).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from labspin.results.needs import Column, Needs
from labspin.results.sweep_direction import with_branch


def resistance_levels(r: np.ndarray) -> tuple[float, float, float, float]:
    """Get (r_low, r_low_err, r_high, r_high_err) in Ω: the two states split at the midpoint
    of the range of readings; errors are standard errors of the mean of each state."""
    r = r[np.isfinite(r)]
    if r.size == 0:
        raise ValueError("no finite resistance readings")
    mid = 0.5 * (np.min(r) + np.max(r))
    lo, hi = r[r <= mid], r[r > mid]
    se = lambda a: float(a.std(ddof=1) / np.sqrt(a.size)) if a.size > 1 else 0.0  # noqa: E731
    if hi.size == 0:
        return float(lo.mean()), se(lo), float("nan"), float("nan")
    return float(lo.mean()), se(lo), float(hi.mean()), se(hi)


def switching_events(x: np.ndarray, r: np.ndarray, segment: np.ndarray,
                     r_low: float, r_high: float) -> list[tuple[float, int, int]]:
    """Get the switching events of a loop: (x at the midpoint of the step, direction, index
    of the first point after the step); direction +1 for low → high resistance (P → AP),
    −1 for high → low (AP → P). Steps between points of different segments are ignored."""
    jump = 0.5 * abs(r_high - r_low)
    out = []
    for k in range(1, x.size):
        if segment[k] != segment[k - 1] or not (np.isfinite(r[k]) and np.isfinite(r[k - 1])):
            continue
        d = r[k] - r[k - 1]
        if abs(d) > jump:
            out.append((0.5 * (x[k] + x[k - 1]), 1 if d > 0 else -1, k))
    return out


def mean_with_grid(values: np.ndarray, step: float) -> tuple[float, float]:
    """Get (mean, standard error) of critical values read on a grid of spacing ``step``."""
    values = np.asarray(values, float)
    if values.size == 0:
        return float("nan"), float("nan")
    var = values.var(ddof=1) if values.size > 1 else 0.0
    return float(values.mean()), float(np.sqrt(var / values.size + step ** 2 / 12.0))


def _grid_step(x: np.ndarray) -> float:
    d = np.abs(np.diff(np.unique(np.round(x, 15))))
    return float(np.min(d[d > 0])) if np.any(d > 0) else 0.0


def analyze_current_sweep(df: pd.DataFrame) -> dict:
    """Get design.md's keys from a current-sweep table (columns 'Current (A)',
    'Resistance (ohm)', and 'Branch', found from the sweep direction of the current when the
    file has none):

    ic_pos_A: mean critical current of the switches at positive current (AP → P for η > 0),
    ic_neg_A: the same at negative current (signed, < 0; P → AP), each with ``_err`` (see the
    module notes); r_p_ohm, r_ap_ohm (low and high level), tmr_ratio = (R_AP − R_P)/R_P,
    each with ``_err``. Raises ValueError when a polarity never switched.
    """
    df = with_branch(df, ("Current (A)",))
    i = df["Current (A)"].to_numpy(float)
    r = df["Resistance (ohm)"].to_numpy(float)
    branch = df["Branch"].to_numpy(float)
    # a segment is a run of points with one branch (cycle numbers split repeated loops)
    seg = np.concatenate([[0], np.cumsum(branch[1:] != branch[:-1])])
    r_low, e_low, r_high, e_high = resistance_levels(r)
    if not np.isfinite(r_high) or (r_high - r_low) < 10 * max(e_low, e_high, 1e-12):
        raise ValueError("the resistance never switched between two levels")
    events = switching_events(i, r, seg, r_low, r_high)
    step = _grid_step(i)
    pos = np.array([x for x, _, _ in events if x > 0])
    neg = np.array([x for x, _, _ in events if x < 0])
    if pos.size == 0 or neg.size == 0:
        raise ValueError("no switching at "
                         + ("positive" if pos.size == 0 else "negative") + " current")
    ic_pos, e_pos = mean_with_grid(pos, step)
    ic_neg, e_neg = mean_with_grid(neg, step)
    tmr = (r_high - r_low) / r_low
    e_tmr = np.hypot(e_high / r_low, r_high * e_low / r_low ** 2)
    out = {"ic_pos_A": ic_pos, "ic_pos_A_err": e_pos, "ic_neg_A": ic_neg, "ic_neg_A_err": e_neg,
           "r_p_ohm": r_low, "r_p_ohm_err": e_low, "r_ap_ohm": r_high, "r_ap_ohm_err": e_high,
           "tmr_ratio": tmr, "tmr_ratio_err": e_tmr}
    return {k: float(v) for k, v in out.items()}


NEEDS = Needs(columns=(
    Column("Current (A)", "sample current, A (dc, or pulse amplitude)", ("Current (mA)",)),
    Column("Resistance (ohm)", "resistance read after each step, Ω"),
    Column("Branch", "+1 on the up sweep, −1 on the down sweep", required=False),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
