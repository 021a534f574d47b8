"""Analysis of telegraph-dwell runs: dwell times in P and AP per (field, bias current), and
their dependence on field and current.

Per trace (one field set, one bias current): the states are re-derived from the
resistances — the threshold between the two levels by two-means (tmr-statistics'
``two_level_threshold``) when the trace shows two well-separated levels (gap > 10× the
spread within each), else the threshold of all reads of the same bias pooled (or of all reads) if
those show two levels; with no two levels anywhere the sample did not switch (taus nan) — P (+1) is
the low-resistance state. The mean dwell in each state is the censoring-safe estimate of
labspin.physics.telegraph.estimate_dwell_times on the event list of the reads (time in state /
exits, the maximum-likelihood estimate for exponential dwells; standard error mean/√exits;
no exits: nan).

Field and current dependence: weighted least squares of ln τ (σ = 1/√exits) per state,
    ln τ = c_bias + (d ln τ/dB)·B      (common slope, one intercept per bias current)
    ln τ = c_field + (d ln τ/dI)·I     (common slope, one intercept per field set)
over the traces with exits, B the measured field (T), I the bias current (A); standard
errors from the unscaled covariance (the 1/√exits weights are the Poisson errors), and
``*_chi2_red`` the reduced χ² of each fit (≈ 1 when the model and the errors hold).
Positive field (along +z) and positive current favour P in the simulated sample's
convention, so d ln τ_P/dB > 0 > d ln τ_AP/dB.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from labspin.physics.telegraph import estimate_dwell_times
from labspin.results.needs import Column, Needs

from .tmr_statistics_analysis import two_level_threshold

STATES = ((1, "p"), (-1, "ap"))


def _two_levels(r: np.ndarray, thr: float) -> bool:
    lo, hi = r[r < thr], r[r >= thr]
    return bool(lo.size >= 2 and hi.size >= 2 and
                hi.mean() - lo.mean() > 10 * max(lo.std(), hi.std()))


def trace_dwells(t: np.ndarray, r: np.ndarray, thr: float) -> dict:
    """Get tau_p_s, tau_ap_s (with _err), n_exits_p, n_exits_ap and the resistance levels
    of one trace: reads r (ohm) at times t (s), split at thr (ohm), P below."""
    order = np.argsort(t, kind="stable")
    t, r = t[order], r[order]
    states = np.where(r < thr, 1, -1)
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    est = estimate_dwell_times(t, states, end_time=float(t[-1] + dt))
    out = {"sample_interval_s": dt, "threshold_ohm": float(thr)}
    for s, name in STATES:
        e = est.get(s)
        if e is None or e.n_exits == 0:
            out[f"tau_{name}_s"] = out[f"tau_{name}_s_err"] = float("nan")
            out[f"n_exits_{name}"] = 0
        else:
            out[f"tau_{name}_s"] = float(e.mean_s)
            out[f"tau_{name}_s_err"] = float(e.stderr_s)
            out[f"n_exits_{name}"] = int(e.n_exits)
        sel = r[states == s]
        out[f"r_{name}_ohm"] = float(sel.mean()) if sel.size else float("nan")
    return out


def _common_slope(x, y, w, group) -> tuple[float, float, float]:
    """Get (slope, its standard error, reduced χ²) of y = c_group + slope·x, weights w = 1/σ²
    (nan when the slope is not determined)."""
    x, y, w = map(np.asarray, (x, y, w))
    keys = sorted(set(group))
    a = np.column_stack([x] + [np.asarray([g == k for g in group], float) for k in keys])
    sw = np.sqrt(w)
    if len(y) <= a.shape[1] - 1 or np.linalg.matrix_rank(a * sw[:, None]) < a.shape[1]:
        return float("nan"), float("nan"), float("nan")
    aw, yw = a * sw[:, None], y * sw
    cov = np.linalg.inv(aw.T @ aw)
    beta = cov @ aw.T @ yw
    dof = len(y) - a.shape[1]
    chi2 = float(np.sum((yw - aw @ beta) ** 2))
    return float(beta[0]), float(np.sqrt(cov[0, 0])), chi2 / dof if dof > 0 else float("nan")


def analyze_telegraph_dwell(df: pd.DataFrame) -> dict:
    """Get design.md's keys of a telegraph-dwell table (columns 'Field set (T)', 'Field (T)',
    'Bias current (A)', 'Time (s)', 'Resistance (ohm)').

    Per trace, in the order of the run (lists): fields_set_T, fields_T (measured),
    bias_currents_A, tau_p_s, tau_p_s_err, tau_ap_s, tau_ap_s_err, n_exits_p, n_exits_ap,
    r_p_ohm, r_ap_ohm, two_levels (whether the trace itself showed both levels; when no
    trace and no pool of reads shows two, nothing switched: taus nan, exits 0). Scalars: the field
    slopes dln_tau_p_dB_per_T, dln_tau_ap_dB_per_T and the current slopes dln_tau_p_dI_per_A,
    dln_tau_ap_dI_per_A (each with _err and _chi2_red; nan with fewer than two fields / currents),
    sample_interval_s (median).
    """
    b_set = df["Field set (T)"].to_numpy(float)
    b = df["Field (T)"].to_numpy(float)
    bias = df["Bias current (A)"].to_numpy(float)
    t = df["Time (s)"].to_numpy(float)
    r = df["Resistance (ohm)"].to_numpy(float)
    if "Trace" in df:
        trace = df["Trace"].to_numpy(int)
    else:
        _, trace = np.unique(np.column_stack([b_set, bias]), axis=0, return_inverse=True)
        trace = trace.ravel()
    # fall-backs for a trace that stays in one state: the threshold of all reads at its
    # bias, else of all reads, if those show two levels; else no switching was seen
    thr_all = two_level_threshold(r)
    thr_all = thr_all if _two_levels(r, thr_all) else None
    pooled = {}
    for i in np.unique(bias):
        thr = two_level_threshold(r[bias == i])
        pooled[i] = thr if _two_levels(r[bias == i], thr) else thr_all
    keys = ("tau_p_s", "tau_p_s_err", "tau_ap_s", "tau_ap_s_err", "n_exits_p", "n_exits_ap",
            "r_p_ohm", "r_ap_ohm")
    out: dict = {"fields_set_T": [], "fields_T": [], "bias_currents_A": [],
                 "two_levels": [], **{k: [] for k in keys}}
    dts = []
    first = [np.flatnonzero(trace == k)[0] for k in np.unique(trace)]
    for k in np.unique(trace)[np.argsort(first)]:
        sel = trace == k
        rk = r[sel]
        thr = two_level_threshold(rk)
        two = _two_levels(rk, thr)
        if not two:
            thr = pooled[bias[sel][0]]
        if thr is None:                  # one level only, and nowhere two: no switching
            res = {"sample_interval_s": float(np.median(np.diff(np.sort(t[sel]))))
                   if rk.size > 1 else float("nan"),
                   **{k: float("nan") for k in keys}, "n_exits_p": 0, "n_exits_ap": 0}
        else:
            res = trace_dwells(t[sel], rk, thr)
        out["two_levels"].append(two)
        dts.append(res["sample_interval_s"])
        out["fields_set_T"].append(float(b_set[sel][0]))
        out["fields_T"].append(float(np.mean(b[sel])))
        out["bias_currents_A"].append(float(bias[sel][0]))
        for key in keys:
            out[key].append(res[key])
    out["sample_interval_s"] = float(np.median(dts)) if dts else float("nan")
    fields_t, fset = np.array(out["fields_T"]), out["fields_set_T"]
    currents = out["bias_currents_A"]
    for _, name in STATES:
        tau = np.array(out[f"tau_{name}_s"])
        n = np.array(out[f"n_exits_{name}"], float)
        ok = np.isfinite(tau) & (n > 0)
        y, w = np.log(tau[ok]), n[ok]
        slope = _common_slope(fields_t[ok], y, w, [currents[i] for i in np.flatnonzero(ok)])
        for suffix, v in zip(("", "_err", "_chi2_red"), slope):
            out[f"dln_tau_{name}_dB_per_T{suffix}"] = v
        slope = _common_slope(np.array(currents)[ok], y, w,
                              [fset[i] for i in np.flatnonzero(ok)])
        for suffix, v in zip(("", "_err", "_chi2_red"), slope):
            out[f"dln_tau_{name}_dI_per_A{suffix}"] = v
    return out


NEEDS = Needs(columns=(
    Column("Time (s)", "time of each reading, s"),
    Column("Resistance (ohm)", "resistance, Ω"),
    Column("Field (T)", "measured field μ0H, T", ("Field (mT)", "Field (Oe)")),
    Column("Field set (T)", "field set point, T"),
    Column("Bias current (A)", "read current, A", ("Bias current (mA)",)),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
