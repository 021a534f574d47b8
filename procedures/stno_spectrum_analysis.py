"""Analysis of spin-torque-oscillator spectra (stno-spectrum): per trace the line's peak
frequency, half width and integrated power; per field the threshold current and the
frequency tunability.

Input: a long-format table, one row per trace point, with columns ``Current (A)``,
``Field (T)``, ``Frequency (Hz)``, ``Power (dBm)``; optional ``Field set (T)`` (traces are
grouped by it when present, else by the measured field), ``Trace`` (a sweep index) and
``Resolution bandwidth (Hz)`` (needed for the power calibration, see below).

Per trace (one field, one current)
    The displayed power is taken to linear units (W) and a Lorentzian on a constant noise
    floor, P(f) = A·Δ²/((f − f0)² + Δ²) + c, is fitted (scipy ``curve_fit``) in a window of
    ±6 half widths around the smoothed maximum above the floor. ``f_peak_Hz`` = f0,
    ``linewidth_Hz`` = Δ (HWHM). ``power_W`` = Σ (P − floor)·δf / ENBW over f0 ± 6Δ, with δf
    the point spacing, the floor the mean of the points outside that window and ENBW =
    1.0645·RBW the analyzer's equivalent noise bandwidth (a Gaussian RBW filter): the displayed
    power is the power density times ENBW. (The numeric sum, not the Lorentzian's area πAΔ:
    thermally broadened lines have lighter tails than a Lorentzian.) Without a RBW column, ENBW is
    taken as the trace point spacing. Errors: one standard error from the fit covariance (scaled by
    the residuals). A trace whose line does not rise above the floor gets power_W = 0 and NaN for
    the rest; it counts as "below threshold".

Threshold current ``ic_A`` (method stated, as issue 6 asks)
    The normalized power p = power_W / I² (∝ the oscillation's squared amplitude, the readout's
    I² factored out) jumps by orders of magnitude at the onset of auto-oscillation (sub-
    threshold it is the thermal FMR mode). ic_A is where log p, interpolated linearly in I
    across the largest step between neighbouring currents, crosses the geometric mean of the
    levels on either side (the medians of p below and above the step); its error is the
    step's current interval / √12 (the onset lies somewhere in it). A step counts only if p
    rises by ≥ 10×; the oscillating traces are those from the step on whose p lies within
    10× of the median p above them (the thermal mode's power rises steeply just below
    threshold, and a largest step below such a trace moves up to the plateau); without a
    step, every trace that shows a line is above threshold and the threshold lies in
    [0, I_min]: ic_A = I_min/2 ± I_min/√12 (e.g. at H = 0 for the in-plane free layer with
    perpendicular polarizer, whose threshold is zero — physics.md check 6).
    Currents are taken by magnitude, so a sweep of one polarity is expected.

Tunability ``df_dI_Hz_per_A``
    The slope of f_peak against I over the above-threshold traces (least squares weighted by
    the f_peak errors; the error from the covariance scaled by the residuals, so it reflects
    the actual scatter: the fit errors of f_peak, a few MHz, miss the record-to-record
    wander of the thermal line's centre). With few currents the residual-scaled error is
    itself uncertain (n − 2 degrees of freedom): use ≥ 5 currents. At H = 0 this is γ0·(H_DL per
    A)/(2πα) (check 6).

Keys: the headline ``ic_A``, ``df_dI_Hz_per_A``, ``f0_Hz`` (intercept of the f–I line),
``mu0_h_T`` (the field they belong to: the field of smallest magnitude), each with ``_err``;
per trace the lists ``current_A``, ``field_T``, ``f_peak_Hz``, ``linewidth_Hz``,
``power_W`` (with ``_err`` lists) and ``oscillating`` (1/0); per field the list
``per_field`` of {mu0_h_T, ic_A, df_dI_Hz_per_A, f0_Hz, … _err}.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.ndimage import uniform_filter1d
from scipy.optimize import curve_fit

from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs

ENBW_PER_RBW = 1.0645
"""Equivalent noise bandwidth of a Gaussian RBW filter per its 3 dB bandwidth."""
STEP_RATIO = 10.0
"""Smallest rise of the normalized power between neighbouring currents that marks the onset."""


def lorentzian(f, a, f0, hw, c):
    """Get A·Δ²/((f − f0)² + Δ²) + c (A, c in W; f, f0, Δ in Hz)."""
    return a * hw ** 2 / ((f - f0) ** 2 + hw ** 2) + c


def _floor(p_w: np.ndarray) -> tuple[float, float]:
    """Get (the noise floor, its point-to-point scatter) in W from the lower half of the
    trace: the lines cover a small part of the span."""
    low = np.sort(p_w)[: max(8, p_w.size // 2)]
    return float(np.median(low)), float(1.4826 * np.median(np.abs(low - np.median(low))))


def fit_trace(freq_Hz: np.ndarray, power_dBm: np.ndarray, rbw_Hz: float | None = None
              ) -> dict:
    """Get the line of one trace: f_peak_Hz, linewidth_Hz (HWHM), power_W (integrated), each
    with _err, and floor_W; power_W = 0 (others NaN) when no line rises above the floor."""
    order = np.argsort(freq_Hz)
    f = np.asarray(freq_Hz, float)[order]
    p = 1e-3 * 10 ** (np.asarray(power_dBm, float)[order] / 10)
    step = float(np.median(np.diff(f))) if f.size > 1 else 1.0
    enbw = ENBW_PER_RBW * rbw_Hz if rbw_Hz and np.isfinite(rbw_Hz) else step
    floor, scatter = _floor(p)
    none = {"f_peak_Hz": math.nan, "f_peak_Hz_err": math.nan, "linewidth_Hz": math.nan,
            "linewidth_Hz_err": math.nan, "power_W": 0.0, "power_W_err": 0.0,
            "floor_W": floor}
    width = max(3, f.size // 200)
    smooth = uniform_filter1d(p, width, mode="nearest") - floor
    i = int(np.argmax(smooth))
    # a line: the smoothed excess stands 5 standard errors of a smoothed floor point above it
    if smooth[i] <= 5 * scatter / math.sqrt(width):
        return none
    half = smooth >= 0.5 * smooth[i]
    lo, hi = i, i
    while lo > 0 and half[lo - 1]:
        lo -= 1
    while hi < f.size - 1 and half[hi + 1]:
        hi += 1
    hw0 = max(0.5 * (f[hi] - f[lo]), step)
    win = (f > f[i] - 6 * hw0) & (f < f[i] + 6 * hw0)
    if win.sum() < 6:
        return none
    # fit in scaled units (frequency in initial half widths from the maximum, power in peak
    # heights): curve_fit's finite differences fail on 1e10 Hz and 1e-12 W
    fx, px, scale = (f[win] - f[i]) / hw0, p[win] / smooth[i], smooth[i]
    try:
        popt, pcov = curve_fit(lorentzian, fx, px, p0=[1.0, 0.0, 1.0, floor / scale],
                               bounds=([0, fx[0], step / 4 / hw0, -np.inf],
                                       [np.inf, fx[-1], 10 * (f[-1] - f[0]) / hw0, np.inf]),
                               maxfev=20000)
    except (RuntimeError, ValueError):
        return none
    if not np.all(np.isfinite(pcov)):
        return none
    err = np.sqrt(np.clip(np.diag(pcov), 0, None)) * np.array([scale, hw0, hw0, scale])
    a, f0, hw, c = popt * np.array([scale, hw0, hw0, scale]) + np.array([0, f[i], 0, 0])
    # integrated power: the excess over the floor summed over f0 ± 6 Δ (the line's shape at
    # 300 K is not exactly Lorentzian, so the Lorentzian's area would overstate it); the floor
    # is the mean of the points outside that window (the median of the Gamma-distributed
    # averaged noise is biased low)
    inside = np.abs(f - f0) <= 6 * hw
    outside = p[~inside]
    c_out = float(np.mean(outside)) if outside.size >= 8 else float(c)
    noise = float(np.std(outside, ddof=1)) if outside.size >= 8 else scatter
    area = float(np.sum(p[inside] - c_out)) * step / enbw
    area_err = math.hypot(noise * math.sqrt(inside.sum()),
                          noise / math.sqrt(max(outside.size, 1)) * inside.sum()) * step / enbw
    return {"f_peak_Hz": float(f0), "f_peak_Hz_err": float(err[1]),
            "linewidth_Hz": float(hw), "linewidth_Hz_err": float(err[2]),
            "power_W": area, "power_W_err": area_err, "floor_W": c_out}


def threshold(current_A: np.ndarray, power_W: np.ndarray) -> tuple[float, float, np.ndarray]:
    """Get (ic_A, ic_A_err, oscillating mask) from the integrated power per current (the
    method of the module docstring). Currents by magnitude, sorted internally."""
    i_abs = np.abs(np.asarray(current_A, float))
    order = np.argsort(i_abs)
    i_s, p_s = i_abs[order], np.asarray(power_W, float)[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(i_s > 0, p_s / i_s ** 2, 0.0)
    tiny = np.max(norm[norm > 0]) * 1e-6 if np.any(norm > 0) else 1e-300
    logp = np.log(np.maximum(norm, tiny))
    osc = np.zeros(i_s.size, bool)
    if i_s.size >= 2:
        jumps = np.diff(logp)
        k = int(np.argmax(jumps))
    if i_s.size >= 2 and jumps[k] >= math.log(STEP_RATIO):
        # the oscillating branch is the plateau of p: a point after the step still more than
        # STEP_RATIO below the median of the points above it is the sub-threshold mode's
        # rise (its power grows as 1/(I_c − I) near threshold), not yet the oscillation
        while k + 2 < i_s.size and logp[k + 1] < np.median(logp[k + 2:]) - math.log(STEP_RATIO):
            k += 1
        level = 0.5 * (np.median(logp[: k + 1]) + np.median(logp[k + 1:]))
        level = min(max(level, logp[k]), logp[k + 1])
        frac = (level - logp[k]) / (logp[k + 1] - logp[k])
        ic = i_s[k] + frac * (i_s[k + 1] - i_s[k])
        ic_err = (i_s[k + 1] - i_s[k]) / math.sqrt(12)
        osc[k + 1:] = True
    elif np.all(norm > 0):
        ic, ic_err = 0.5 * i_s[0], i_s[0] / math.sqrt(12)
        osc[:] = True
    else:
        ic, ic_err = math.nan, math.nan
    mask = np.zeros_like(osc)
    mask[order] = osc
    return float(ic), float(ic_err), mask


def tunability(current_A: np.ndarray, f_Hz: np.ndarray, f_err: np.ndarray) -> dict:
    """Get df_dI_Hz_per_A and f0_Hz (intercept) with errors: weighted straight line."""
    ok = np.isfinite(f_Hz) & np.isfinite(f_err)
    x, y, s = current_A[ok], f_Hz[ok], f_err[ok]
    nan = {"df_dI_Hz_per_A": math.nan, "df_dI_Hz_per_A_err": math.nan,
           "f0_Hz": math.nan, "f0_Hz_err": math.nan}
    if x.size < 2 or np.ptp(x) == 0:
        return nan
    sigma = np.where(s > 0, s, np.nanmedian(s[s > 0]) if np.any(s > 0) else 1.0)
    if x.size == 2:
        slope = (y[1] - y[0]) / (x[1] - x[0])
        err = math.hypot(sigma[0], sigma[1]) / abs(x[1] - x[0])
        return {"df_dI_Hz_per_A": float(slope), "df_dI_Hz_per_A_err": float(err),
                "f0_Hz": float(y[0] - slope * x[0]), "f0_Hz_err": float(math.nan)}
    # weighted least squares, covariance scaled by the reduced χ² (the actual scatter)
    w = 1.0 / sigma ** 2
    xm, ym = np.sum(w * x) / np.sum(w), np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    slope = np.sum(w * (x - xm) * (y - ym)) / sxx
    icpt = ym - slope * xm
    chi2 = np.sum(w * (y - icpt - slope * x) ** 2) / (x.size - 2)
    err_slope = math.sqrt(chi2 / sxx)
    err_icpt = math.sqrt(chi2 * (1.0 / np.sum(w) + xm ** 2 / sxx))
    return {"df_dI_Hz_per_A": float(slope), "df_dI_Hz_per_A_err": float(err_slope),
            "f0_Hz": float(icpt), "f0_Hz_err": float(err_icpt)}


def analyze_spectra(df: pd.DataFrame) -> dict:
    """Get design.md's keys from a stno-spectrum table (see the module docstring)."""
    for col in ("Current (A)", "Field (T)", "Frequency (Hz)", "Power (dBm)"):
        if col not in df.columns:
            raise KeyError(f"column {col!r} missing; stno-spectrum needs 'Current (A)', "
                           "'Field (T)', 'Frequency (Hz)', 'Power (dBm)'")
    field_key = "Field set (T)" if "Field set (T)" in df.columns else "Field (T)"
    keys = ["Trace"] if "Trace" in df.columns else [field_key, "Current (A)"]
    rows = []
    for _, g in df.groupby(keys, sort=False):
        rbw = (float(g["Resolution bandwidth (Hz)"].iloc[0])
               if "Resolution bandwidth (Hz)" in g.columns else None)
        line = fit_trace(g["Frequency (Hz)"].to_numpy(float), g["Power (dBm)"].to_numpy(float),
                         rbw)
        rows.append({"group_T": float(g[field_key].iloc[0]),
                     "field_T": float(g["Field (T)"].mean()),
                     "current_A": float(g["Current (A)"].iloc[0]), **line})
    table = pd.DataFrame(rows)
    table["oscillating"] = 0
    per_field = []
    for _h, g in table.groupby("group_T", sort=True):
        ic, ic_err, osc = threshold(g["current_A"].to_numpy(), g["power_W"].to_numpy())
        table.loc[g.index, "oscillating"] = osc.astype(int)
        above = g[osc]
        tune = tunability(above["current_A"].to_numpy(float), above["f_peak_Hz"].to_numpy(float),
                          above["f_peak_Hz_err"].to_numpy(float))
        per_field.append({"mu0_h_T": float(g["field_T"].mean()), "mu0_h_T_err":
                          float(g["field_T"].std(ddof=1) / math.sqrt(len(g)))
                          if len(g) > 1 else 0.0,
                          "ic_A": ic, "ic_A_err": ic_err, **tune})
    head = min(per_field, key=lambda d: abs(d["mu0_h_T"]))
    out = dict(head)
    for col in ("current_A", "field_T", "f_peak_Hz", "f_peak_Hz_err", "linewidth_Hz",
                "linewidth_Hz_err", "power_W", "power_W_err", "oscillating"):
        out[col] = [float(v) if col != "oscillating" else int(v) for v in table[col]]
    out["per_field"] = per_field
    return out


NEEDS = Needs(columns=(
    Column("Frequency (Hz)", "analyzer frequency, Hz", ("Frequency (GHz)",)),
    Column("Power (dBm)", "analyzer power, dBm"),
    Column("Current (A)", "dc current through the oscillator, A", ("Current (mA)",)),
    Column("Field (T)", "applied field μ0H, T", FIELD_ALTERNATIVES),
    Column("Field set (T)", "field set point, T (absent: Field (T))", required=False),
    Column("Trace", "trace number (absent: field and current tell them apart)",
           required=False),
    Column("Resolution bandwidth (Hz)", "analyzer RBW, Hz", required=False),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
