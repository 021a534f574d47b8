"""Analysis of tmr-statistics runs.

Gaussian mode: per gate voltage, the Gaussian fit of the reads (maximum likelihood: mean
and sample standard deviation; standard errors σ/√n and σ/√(2(n−1))), D'Agostino–Pearson
normality test (scipy.stats.normaltest), a histogram fit of a Gaussian as a cross-check,
and a linear fit of the width against gate voltage (``dstd_dvgate_ohm_per_V``). With a
"Site" column (the procedure's ``sites``): the same per pinning site — mean and width mapped
against site and gate voltage — and straight-line fits of the mean resistance and of the mean
conductance ⟨1/R⟩ against site index (``dmean_dsite_ohm``, ``dconductance_dsite_S``). The
domain-wall readout's conductance is linear in the wall position (labspin.physics.domainwall), so
``dconductance_dsite_S`` is dG/dq × site pitch; R = 1/G is not, so the resistance line's
error is scaled by the fit's reduced χ² (it absorbs the curvature).

Telegraph mode: the trace is split at the threshold between the two resistance levels
(two-means clustering), and the mean dwell in each state is the censoring-safe estimate of
labspin.physics.telegraph.estimate_dwell_times (time in state / exits; standard error mean/√exits).
P is the low-resistance state.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import curve_fit

from labspin.physics.telegraph import estimate_dwell_times
from labspin.results.needs import Column, Needs


def _gaussian_stats(r: np.ndarray) -> dict:
    n = r.size
    mean, std = float(r.mean()), float(r.std(ddof=1))
    counts, edges = np.histogram(r, bins=max(10, int(np.sqrt(n))))
    centres = 0.5 * (edges[1:] + edges[:-1])
    try:
        (_, mu_h, sig_h), _ = curve_fit(
            lambda x, a, m, s: a * np.exp(-0.5 * ((x - m) / s) ** 2), centres, counts,
            p0=[counts.max(), mean, std], sigma=np.sqrt(np.maximum(counts, 1.0)))
    except RuntimeError:
        mu_h, sig_h = np.nan, np.nan
    return {"mean_ohm": mean, "mean_ohm_err": std / np.sqrt(n),
            "std_ohm": std, "std_ohm_err": std / np.sqrt(2.0 * (n - 1)),
            "normality_pvalue": float(stats.normaltest(r).pvalue) if n >= 20 else float("nan"),
            "hist_mean_ohm": float(mu_h), "hist_std_ohm": float(abs(sig_h)), "n_reads": n}


def _line(x, y, e) -> tuple[float, float]:
    """Get the weighted straight-line slope and its standard error: exact for 2 points;
    for more, the covariance scaled by the reduced χ² when that exceeds 1 (lack of fit)."""
    x, y, e = (np.asarray(v, float) for v in (x, y, e))
    if x.size == 2:
        return float((y[1] - y[0]) / (x[1] - x[0])), float(np.hypot(*e) / abs(x[1] - x[0]))
    (slope, icpt), cov = np.polyfit(x, y, 1, w=1.0 / e, cov="unscaled")
    chi2 = float(np.sum(((y - slope * x - icpt) / e) ** 2)) / (x.size - 2)
    return float(slope), float(np.sqrt(cov[0, 0] * max(1.0, chi2)))


def _analyze_sites(df: pd.DataFrame) -> dict:
    """Get the (site, gate voltage) maps and the fits against site (keys in the module doc)."""
    site = df["Site"].to_numpy(float)
    gates = df["Gate voltage (V)"].to_numpy(float)
    r = df["Resistance (ohm)"].to_numpy(float)
    sites, levels = np.unique(site), np.unique(gates)
    ref = int(np.argmin(np.abs(levels)))
    out = {"sites": [int(s) for s in sites]}
    grid = {k: [] for k in ("mean_ohm", "mean_ohm_err", "std_ohm", "std_ohm_err",
                            "normality_pvalue")}
    g_mean, g_err = [], []
    for s in sites:
        row = [_gaussian_stats(r[(site == s) & (gates == g)]) for g in levels]
        for k in grid:
            grid[k].append([p[k] for p in row])
        rg = 1.0 / r[(site == s) & (gates == levels[ref])]
        g_mean.append(float(rg.mean()))
        g_err.append(float(rg.std(ddof=1) / np.sqrt(rg.size)))
    for k, v in grid.items():
        out[f"{k}_map"] = v                                   # [site][gate]
        out[f"{k}_by_site"] = [row[ref] for row in v]          # at the gate nearest 0 V
    out["conductance_S_by_site"], out["conductance_S_err_by_site"] = g_mean, g_err
    if sites.size >= 2:
        out["dmean_dsite_ohm"], out["dmean_dsite_ohm_err"] = _line(
            sites, out["mean_ohm_by_site"], out["mean_ohm_err_by_site"])
        out["dconductance_dsite_S"], out["dconductance_dsite_S_err"] = _line(
            sites, g_mean, g_err)
    return out


def analyze_gaussian(df: pd.DataFrame) -> dict:
    """Get mean_ohm, std_ohm, normality_pvalue (with _err) at the gate voltage nearest 0 V,
    the same per gate voltage (lists, ``*_by_gate``), and the slope of the width against
    gate voltage ``dstd_dvgate_ohm_per_V`` (weighted linear fit; needs ≥ 2 gate voltages).
    With sites (a "Site" column with finite values) these are at the first site listed, and
    the site maps and fits of :func:`_analyze_sites` are added."""
    site_out = {}
    if "Site" in df and np.isfinite(df["Site"].to_numpy(float)).any():
        df = df[np.isfinite(df["Site"].to_numpy(float))]
        site_out = _analyze_sites(df)
        df = df[df["Site"].to_numpy(float) == df["Site"].iloc[0]]
    gates = df["Gate voltage (V)"].to_numpy(float) if "Gate voltage (V)" in df else \
        np.zeros(len(df))
    r = df["Resistance (ohm)"].to_numpy(float)
    levels = np.unique(gates)
    per = [_gaussian_stats(r[gates == g]) for g in levels]
    ref = per[int(np.argmin(np.abs(levels)))]
    out = {k: ref[k] for k in ("mean_ohm", "mean_ohm_err", "std_ohm", "std_ohm_err",
                               "normality_pvalue", "n_reads")}
    out["gate_voltages_V"] = [float(g) for g in levels]
    for key in ("mean_ohm", "mean_ohm_err", "std_ohm", "std_ohm_err", "normality_pvalue"):
        out[f"{key}_by_gate"] = [p[key] for p in per]
    if levels.size >= 2:
        s = np.array([p["std_ohm"] for p in per])
        e = np.array([p["std_ohm_err"] for p in per])
        if levels.size == 2:
            slope = (s[1] - s[0]) / (levels[1] - levels[0])
            err = np.hypot(e[0], e[1]) / abs(levels[1] - levels[0])
        else:
            (slope, _), cov = np.polyfit(levels, s, 1, w=1.0 / e, cov="unscaled")
            err = np.sqrt(cov[0, 0])
        out["dstd_dvgate_ohm_per_V"] = float(slope)
        out["dstd_dvgate_ohm_per_V_err"] = float(err)
    out.update(site_out)
    return out


def two_level_threshold(r: np.ndarray, iterations: int = 50) -> float:
    """Get the threshold between the two levels of a telegraph trace (two-means)."""
    thr = 0.5 * (np.min(r) + np.max(r))
    for _ in range(iterations):
        lo, hi = r[r < thr], r[r >= thr]
        if lo.size == 0 or hi.size == 0:
            break
        new = 0.5 * (lo.mean() + hi.mean())
        if new == thr:
            break
        thr = new
    return float(thr)


def analyze_telegraph(df: pd.DataFrame) -> dict:
    """Get tau_p_s, tau_ap_s (with _err), the exits counted, both resistance levels and
    the threshold from a telegraph trace (columns 'Time (s)', 'Resistance (ohm)')."""
    t = df["Time (s)"].to_numpy(float)
    r = df["Resistance (ohm)"].to_numpy(float)
    order = np.argsort(t, kind="stable")
    t, r = t[order], r[order]
    thr = two_level_threshold(r)
    states = np.where(r < thr, 1, -1)                    # +1: P (low R), −1: AP
    dt = float(np.median(np.diff(t))) if t.size > 1 else 0.0
    est = estimate_dwell_times(t, states, end_time=float(t[-1] + dt))
    out = {"threshold_ohm": thr, "sample_interval_s": dt}
    for s, name in ((1, "p"), (-1, "ap")):
        e = est.get(s)
        if e is None:
            out[f"tau_{name}_s"], out[f"tau_{name}_s_err"], out[f"n_exits_{name}"] = \
                float("nan"), float("nan"), 0
            continue
        out[f"tau_{name}_s"] = float(e.mean_s)
        out[f"tau_{name}_s_err"] = float(e.stderr_s)
        out[f"n_exits_{name}"] = int(e.n_exits)
    lo, hi = r[states == 1], r[states == -1]
    out["r_p_ohm"] = float(lo.mean()) if lo.size else float("nan")
    out["r_ap_ohm"] = float(hi.mean()) if hi.size else float("nan")
    return out


def analyze_tmr_statistics(df: pd.DataFrame, mode: str | None = None) -> dict:
    """Get design.md's keys of a tmr-statistics table. ``mode`` None: telegraph when the
    reads split into two well-separated levels (gap > 10× the spread within each, both
    levels seen), else gaussian."""
    if mode is None:
        r = df["Resistance (ohm)"].to_numpy(float)
        thr = two_level_threshold(r)
        lo, hi = r[r < thr], r[r >= thr]
        two = (lo.size >= 2 and hi.size >= 2 and
               hi.mean() - lo.mean() > 10 * max(lo.std(), hi.std()))
        mode = "telegraph" if two else "gaussian"
    res = analyze_telegraph(df) if mode == "telegraph" else analyze_gaussian(df)
    return {"mode": mode, **res}


NEEDS = Needs(columns=(
    Column("Resistance (ohm)", "junction resistance, Ω"),
    Column("Gate voltage (V)", "gate (read) voltage, V", required=False),
    Column("Time (s)", "time of each reading, s (for drift)", required=False),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
