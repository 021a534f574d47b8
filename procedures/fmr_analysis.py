"""Analysis of broadband FMR field sweeps: one line per sweep (frequency, polarity, file,
repeat), then Kittel and damping by the one path of :mod:`procedures.kittel`.

Line shapes (field magnitude x = |μ0H| in T; F_S, F_A the symmetric and antisymmetric
Lorentzians of half width Δ at x0 = μ0H_res, as in ST-FMR):

- absorption (a VNA's S21/S12, a diode without modulation): V = S·F_S + A·F_A + c0 + c1·x;
- derivative (field modulation read by a lock-in: dP/dH, the lock-in's X and Y):
  V = Δ·∂/∂x[S·F_S + A·F_A] + c0 + c1·x, modulation amplitude ≪ Δ.

The mixing phase φ = atan2(A, S) (0: pure absorption; ±90°: pure dispersion) takes in a
detector's phase and the microwave circuit's. Widths: ``mu0_dh_T`` is the HWHM Δ of the
absorption line (design.md), ``mu0_dh_fwhm_T`` = 2Δ, and for derivative lines
``mu0_dh_pp_T`` = 2Δ/√3 = ΔB_FWHM/√3, the peak-to-peak width of a pure-absorption
derivative (a mixing phase moves the peaks; Δ is what the fit determines). Damping:
Δ(f) = Δ0 + f·α/γ with the HWHM.

Two lock-in channels (``signal="X (V),Y (V)"``) are combined per sweep by the rotation
θ that puts the line into one channel (the principal axis of (X, Y)); θ is reported as
``lockin_phase_deg``. Each line is refitted within ``window_hwhm`` half widths of its
resonance, so a curved baseline far from the line does not enter.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs
from labspin.results.reader import convert_onto, file_index

from .estimates import Option, Prior
from .kittel import _angles, fit_resonances, kittel_and_damping, resonance_result, resonance_setup
from .kittel_analysis import FIT_OFFSET_OPTION, MAGNET_OPTION
from .stfmr_analysis import OPTIONS as STFMR_OPTIONS
from .stfmr_analysis import (
    fit_line,
    fit_lines,
    sweeps,
    unused_line_warnings,
)

_SHARED = ("gamma_Hz_per_T", "mu0_hk_T", "fit_hk", "easy_axis_deg", "field_angle_deg",
           "min_frequency_Hz", "field_offset_T", "field_min_T", "field_max_T")

SIGNALS = ("dP/dH (V)", "Signal (V)", "Signal", "X (V)")
"""Signal columns looked for, in this order, when the option ``signal`` is not given (with
both ``X (V)`` and ``Y (V)`` present, the two lock-in channels are combined)."""

OPTIONS = tuple(o for o in STFMR_OPTIONS if o.name in _SHARED) + (
    FIT_OFFSET_OPTION,
    MAGNET_OPTION,
    Option("signal", "", "the signal column, or two lock-in channels 'X,Y' combined by "
           f"phase (default: {', '.join(SIGNALS)}; X (V) with Y (V) as a pair)", None,
           constant=False, kind=str),
    Option("lineshape", "", "'derivative' (field-modulated: dP/dH, lock-in X/Y), "
           "'absorption', or 'auto' (the shape most lines fit better, for all)", "auto",
           constant=False, kind=str),
    Option("window_hwhm", "", "refit each line within ± this many HWHM of its resonance "
           "(0: the whole sweep)", 10.0, constant=False),
    Option("modulation_T", "T", "peak field-modulation amplitude b_m of derivative lines: "
           "each HWHM is corrected for the modulation broadening (Δ_fit ≈ Δ + b_m²/(2Δ)); "
           "its error (V±E) propagates into α and ΔB0"),
)

MODULATION_VALID = 0.3
"""Largest b_m/Δ for which the modulation correction (:func:`modulation_corrected_hwhm`)
holds to 0.5 % of Δ."""


def modulation_corrected_hwhm(dh_fit_T, dh_err_T, b_m_T: float):
    """Get (Δ, its error) (T) of a Lorentzian whose field-modulated first harmonic (lock-in
    on a modulation b_m·sin ωt), fitted as a pure derivative, had the HWHM ``dh_fit_T``: the
    first harmonic is b_m·[P′ + (b_m²/8)·P‴ + …], which a derivative Lorentzian takes in as
    Δ_fit = Δ + b_m²/(2Δ) (checked against the exact harmonic to 0.5 % of Δ for
    b_m/Δ ≤ 0.3, tests/test_fmr_line_bias.py), so Δ = (Δ_fit + √(Δ_fit² − 2b_m²))/2."""
    d = np.asarray(dh_fit_T, float)
    root = np.sqrt(np.clip(d * d - 2 * b_m_T ** 2, 0.0, None))
    slope = 0.5 * (1 + d / np.maximum(root, 1e-300))
    return 0.5 * (d + root), np.asarray(dh_err_T, float) * slope

def add_modulation_error(out: dict, used, bm: Prior, set_: dict, priors: dict) -> None:
    """Add the modulation amplitude's prior error to ``out``'s α and ΔB0 errors, as
    :func:`kittel.fit_kittel` does for γ and μ0H_k: the damping refitted with the ``used``
    lines' fitted (uncorrected) HWHM corrected at b_m + σ and at b_m − σ, half the difference
    added in quadrature. The correction moves every line the same way, so this error is
    common to all lines (not a per-line one, which the straight line would average down).
    γ is held at the joint fit's value for both refits."""
    gamma = out.get("gamma_Hz_per_T", priors["gamma_Hz_per_T"].value
                    if "gamma_Hz_per_T" in priors else None)
    g = Prior(gamma, out.get("gamma_Hz_per_T_err", 0.0), "joint fit")
    ends = []
    for sign in (1, -1):
        dh, dh_err = modulation_corrected_hwhm(used["mu0_dh_T"], used["mu0_dh_T_err"],
                                               bm.value + sign * bm.err)
        res, *_ = kittel_and_damping(used.assign(mu0_dh_T=dh, mu0_dh_T_err=dh_err), set_, g,
                                     priors, _angles(used, set_), [])
        ends.append(res)
    for key in ("alpha", "mu0_dh0_T"):
        if key in out and all(key in e for e in ends):
            out[key + "_err"] = math.hypot(out[key + "_err"],
                                           0.5 * (ends[0][key] - ends[1][key]))


_LINE_OUT = ("frequency_Hz", "polarity", "power_dBm", "file", "repeat", "lineshape",
             "lockin_phase_deg", "mu0_hres_T", "mu0_hres_T_err", "mu0_dh_T", "mu0_dh_T_err",
             "mu0_dh_fwhm_T", "mu0_dh_pp_T", "mixing_phase_deg", "mixing_phase_deg_err",
             "amplitude_V", "n_points", "residual_rms_V", "noise_V", "used", "reason")


def fit_fmr_line(field_T, v, shape: str = "auto", window_hwhm: float = 10.0) -> dict:
    """Fit one sweep with :func:`stfmr_analysis.fit_line` in the line ``shape``
    ("absorption", "derivative", or "auto": fit_line's choice on the whole sweep), then
    refit within ``window_hwhm`` HWHM of the resonance (at most 3 times, while
    ≥ 15 points remain and the window shrinks). Get fit_line's keys and lineshape,
    mu0_dh_fwhm_T, mu0_dh_pp_T (derivative), mixing_phase_deg(_err), amplitude_V."""
    if shape not in ("auto", "absorption", "derivative"):
        raise ValueError(f"lineshape must be 'auto', 'absorption' or 'derivative', got "
                         f"{shape!r}")
    x, v = np.abs(np.asarray(field_T, float)), np.asarray(v, float)
    auto = shape == "auto"
    fit = fit_line(x, v, shape)
    shape = fit["lineshape"]
    inside = np.ones(x.size, bool)
    for _ in range(3 if window_hwhm > 0 else 0):
        near = np.abs(x - fit["mu0_hres_T"]) <= window_hwhm * fit["mu0_dh_T"]
        if near.sum() < 15 or near.sum() >= inside.sum():
            break
        inside = near
        fit = fit_line(x[inside], v[inside], shape, start=(fit["mu0_hres_T"],
                                                            fit["mu0_dh_T"]))
    if auto:                                  # both shapes on the final window's points
        other = "derivative" if shape == "absorption" else "absorption"
        try:
            alt = fit_line(x[inside], v[inside], other)
        except (RuntimeError, ValueError, np.linalg.LinAlgError):
            alt = None
        if alt is not None and alt["residual_rms_V"] < fit["residual_rms_V"]:
            fit = alt
    shape = fit["lineshape"]
    s, a = fit["s_V"], fit["a_V"]
    amp = math.hypot(s, a)
    fit["amplitude_V"] = amp
    fit["mixing_phase_deg"] = math.degrees(math.atan2(a, s))
    # the phase's error from S's and A's (their covariance is not kept: an upper bound)
    fit["mixing_phase_deg_err"] = math.degrees(math.hypot(s * fit["a_V_err"],
                                                          a * fit["s_V_err"]) / amp ** 2)
    fit["mu0_dh_fwhm_T"] = 2 * fit["mu0_dh_T"]
    if shape == "derivative":
        fit["mu0_dh_pp_T"] = 2 * fit["mu0_dh_T"] / math.sqrt(3)
    return fit


def _signal_columns(df: pd.DataFrame, signal: str | None) -> list[str]:
    if signal:
        cols = [c.strip() for c in str(signal).split(",")]
    elif "X (V)" in df.columns and "Y (V)" in df.columns:
        cols = ["X (V)", "Y (V)"]
    else:
        cols = [next((c for c in SIGNALS if c in df.columns), None)]
    missing = [c for c in cols if c not in df.columns]
    if missing or len(cols) > 2:
        raise KeyError(f"fmr: signal column(s) {missing or cols} not found (option signal: "
                       f"one column or 'X,Y'; looked for {', '.join(SIGNALS)}); have "
                       f"{list(df.columns)}")
    return cols


def prepare(df: pd.DataFrame, signal: str | None = None) -> pd.DataFrame:
    """Get a copy of ``df`` with ``Field (T)``, ``Frequency (Hz)`` (from any unit; column
    names stripped of spaces), rows stably sorted by frequency (a map written field by
    field becomes one sweep per frequency), and the fitted ``Signal (V)``: the one signal
    column, or two lock-in channels rotated per sweep by the principal axis θ (its sign
    chosen so that the dominant channel keeps its sign), θ in ``Lock-in phase (deg)``."""
    out = df.rename(columns={c: str(c).strip() for c in df.columns}).copy()
    out.attrs = dict(df.attrs)
    convert_onto(out, ["Field (T)", "Frequency (Hz)"])          # "Freq (GHz)" too
    missing = [c for c in ("Field (T)", "Frequency (Hz)") if c not in out.columns]
    if missing:
        raise KeyError(f"fmr needs the columns {missing} (any unit, e.g. 'Field (Oe)', "
                       f"'Frequency (GHz)'); have {list(df.columns)}")
    cols = _signal_columns(out, signal)
    for c in cols:
        out[c] = pd.to_numeric(out[c], errors="raise").astype(float)
    files = file_index(out)
    order = np.lexsort((np.arange(len(out)), out["Frequency (Hz)"].to_numpy(float), files))
    attrs = out.attrs
    out = out.iloc[order].reset_index(drop=True)
    out.attrs = attrs
    out["Signal (V)"] = out[cols[0]]
    if len(cols) == 2:
        out["Lock-in phase (deg)"] = 0.0
        for _, idx in sweeps(out):
            sig, theta = rotate_channels(out.loc[idx, cols[0]], out.loc[idx, cols[1]])
            out.loc[idx, "Signal (V)"] = sig
            out.loc[idx, "Lock-in phase (deg)"] = theta
    return out


def rotate_channels(x, y) -> tuple[np.ndarray, float]:
    """Get (X·cos θ + Y·sin θ, θ in degrees) with θ the principal axis of the (X, Y) points
    about their median — the lock-in phase that puts the line into one channel — its sign
    chosen so that the dominant channel keeps its sign."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    dx, dy = x - np.median(x), y - np.median(y)
    theta = 0.5 * math.atan2(2 * float(dx @ dy), float(dx @ dx - dy @ dy))
    if abs(theta) > math.pi / 4 and theta < 0:
        theta += math.pi                      # Y dominates: keep Y's sign
    return x * math.cos(theta) + y * math.sin(theta), math.degrees(theta)


def analyze_fmr(df: pd.DataFrame, **options) -> dict:
    """Get design.md's keys from broadband FMR sweeps (columns ``Field (T)``, ``Frequency
    (Hz)`` in any unit, a signal column or two lock-in channels: :data:`OPTIONS`): per line
    (``lines``: frequency, polarity, file, repeat, shape, B_res, Δ (HWHM), FWHM,
    peak-to-peak, mixing phase with errors, used or why not) and, from the used lines,
    mu0_meff_T, gamma_Hz_per_T (fitted where the frequencies determine it, else fixed and
    in ``priors``), mu0_hk_eff_T (μ0M_eff < 0), alpha, mu0_dh0_T, kittel_chi2_dof,
    damping_chi2_dof, ``per_polarity``, ``priors``, ``warnings``.

    Lines pass :func:`stfmr_analysis.line_quality` (resonance inside the sweep, width
    resolved, amplitude significant, residuals at the noise, film saturated); sweeps are
    never merged across files or repeats."""
    set_, priors, gamma = resonance_setup(OPTIONS, options, df.attrs)
    data = prepare(df, set_["signal"])
    shape, k = set_["lineshape"], float(set_["window_hwhm"])

    done = {}                                 # first pass's fits, by sweep

    def fit_one(b, v, shape):
        key = (b.size, float(b.sum()), float(v.sum()))
        if key in done and done[key]["lineshape"] == shape:
            return dict(done[key])
        done[key] = fit_fmr_line(b, v, shape, k)
        return dict(done[key])

    def fit_all(shape):
        return fit_lines(data, set_["field_min_T"], set_["field_max_T"], signal="Signal (V)",
                         fit_one=lambda b, v: fit_one(b, v, shape))
    lines = fit_all(shape)
    if shape == "auto":
        # one detection scheme per data set: the shape most usable lines prefer
        votes = lines.loc[lines["used"], "lineshape"].value_counts()
        shape = votes.index[0] if len(votes) else "absorption"
        if (lines["lineshape"] != shape).any():
            lines = fit_all(shape)
    if "Lock-in phase (deg)" in data.columns:
        lines["lockin_phase_deg"] = [float(data.loc[idx[0], "Lock-in phase (deg)"])
                                     for _, idx in sweeps(data)]
    warnings = unused_line_warnings(lines)
    bm = priors.get("modulation_T")
    if bm is not None and shape == "derivative" and "mu0_dh_T" in lines.columns:
        fit_dh = lines["mu0_dh_T"].to_numpy(float)
        fit_dh_err = lines["mu0_dh_T_err"].to_numpy(float)
        lines["mu0_dh_T"], lines["mu0_dh_T_err"] = modulation_corrected_hwhm(
            fit_dh, lines["mu0_dh_T_err"], bm.value)
        wide = lines["used"] & (bm.value > MODULATION_VALID * lines["mu0_dh_T"])
        if wide.any():
            warnings.append(f"modulation {bm.value * 1e3:.3g} mT exceeds {MODULATION_VALID:g} "
                            f"of the HWHM of {int(wide.sum())} line(s): its correction is "
                            "approximate there; lower the modulation")
        lines["mu0_dh_fwhm_T"] = 2 * lines["mu0_dh_T"]
        lines["mu0_dh_pp_T"] = 2 * lines["mu0_dh_T"] / math.sqrt(3)
    sel = lines[lines["used"] & (lines["frequency_Hz"] >= set_["min_frequency_Hz"])]
    if sel["frequency_Hz"].nunique() < 2:
        raise ValueError(f"need usable lines at ≥ 2 frequencies for Kittel and damping, got "
                         f"{len(sel)} line(s)" + (f" ({'; '.join(warnings)})" if warnings
                                                   else ""))
    out, sel, per_pol, free = fit_resonances(sel, lines, set_, priors, gamma, warnings,
                                             reject_outliers=True)
    if bm is not None and bm.err > 0 and shape == "derivative":
        add_modulation_error(out, lines.loc[sel.index].assign(
            mu0_dh_T=fit_dh[lines.index.get_indexer(sel.index)],
            mu0_dh_T_err=fit_dh_err[lines.index.get_indexer(sel.index)]), bm, set_, priors)
    cols = [c for c in _LINE_OUT if c in lines.columns]
    result = resonance_result(out, sel, per_pol, free, lines[cols].to_dict(orient="records"),
                              priors, warnings)
    result["lineshape"] = shape
    return result


analyze_fmr.OPTIONS = OPTIONS


NEEDS = Needs(columns=(
    Column("Field (T)", "applied field μ0H, T", FIELD_ALTERNATIVES),
    Column("Frequency (Hz)", "rf frequency, Hz (a constant of each file: --constant or "
           "its name)", ("Frequency (GHz)", "Freq (GHz)")),
    Column("X (V)", "lock-in X (with Y: rotated into one channel; else option signal)",
           required=False),
    Column("Y (V)", "lock-in Y", required=False),
    Column("Power (dBm)", "rf power, dBm (lines apart per power)", required=False),
    Column("Field angle (deg)", "in-plane field angle, deg", required=False),
))
"""The columns this analysis reads (``labspin analyze fmr --help``)."""

