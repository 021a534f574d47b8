"""Notebook figures of each procedure's analysis (``labspin analyze NAME FILE… --plot PNG``).

One function per procedure, ``f(df, result) -> Figure``: ``df`` the table the analysis read
(:func:`labspin.results.reader.read_table`, header in ``df.attrs``), ``result`` what the analysis
returned. Fitted curves are rebuilt from the returned numbers (and, where the analysis keeps
per-line or per-trace fits in its public helpers, from those); the layout and the key numbers
come from :mod:`labspin.procedures.figures`. Axes in display units (mT, mA, GHz, µV); SI in
the keys.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from labspin.procedures.figures import add_key_numbers, decorate, mark_fit, new_figure
from labspin.procedures.registry import REGISTRY


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    return pd.to_numeric(df[name], errors="coerce").to_numpy(float)


def _si(values, unit: str) -> tuple[float, str]:
    """Get (multiplier, axis unit) putting the largest |value| in [1, 1000): ('µA' for
    3e-5 A)."""
    v = np.abs(np.asarray(values, float))
    m = float(np.nanmax(v)) if v.size and np.any(np.isfinite(v)) else 0.0
    for factor, p in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"),
                      (1e-6, "µ"), (1e-9, "n")):
        if m >= factor * 0.9999:
            return 1.0 / factor, p + unit
    return 1e12, "p" + unit


def _segments(*keys: np.ndarray) -> list[np.ndarray]:
    """Get the index arrays of the runs of consecutive rows with equal keys."""
    n = keys[0].size
    change = np.zeros(n, bool)
    for k in keys:
        change[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(change)
    return np.split(np.arange(n), starts) if n else []


def _band(ax, x, err, color, scale=1.0, vertical=True):
    """Draw a line at x with a ±err band (both in data units × scale); get the line."""
    if x is None or not np.isfinite(x):
        return None
    if err is not None and np.isfinite(err) and err > 0:
        (ax.axvspan if vertical else ax.axhspan)((x - err) * scale, (x + err) * scale,
                                                  color=color, alpha=0.2, lw=0)
    return (ax.axvline if vertical else ax.axhline)(x * scale, color=color, ls="--", lw=1)


def _weighted_centre(x, y, w) -> tuple[float, float]:
    """Get the weighted means of x and y: a weighted least-squares line passes through them,
    so a reported slope and this point give back the fitted line."""
    x, y, w = (np.asarray(v, float) for v in (x, y, w))
    return float(np.sum(w * x) / np.sum(w)), float(np.sum(w * y) / np.sum(w))


# --- field-sweep --------------------------------------------------------------------------------
def field_sweep(df, result):
    """R–H loop with the switching fields and the ideal loop of the fitted levels; with
    several field directions, the saturated R_xx per direction and the AMR/SMR model."""
    loop = "mu0_hc_T" in result
    amr = "dr_amr_ohm" in result
    fig, axes = new_figure(int(loop) + int(amr))
    if amr:
        ax = axes[-1]
        d = df[df["Probe"] == "source meter"] if "Probe" in df.columns else df
        polar = _col(d, "Field polar angle (deg)")
        phi = np.mod(_col(d, "Field angle (deg)"), 180.0)
        labels = np.where(np.abs(polar) < 45, "z", np.char.mod("φ=%g°", np.round(phi, 1)))
        b, r = _col(d, "Field (T)"), _col(d, "Resistance (ohm)")
        for lab in sorted(set(labels)):
            sel = labels == lab
            line, = ax.plot(b[sel] * 1e3, r[sel], ".", ms=3, label=f"field along {lab}")
            p = 0.0 if lab == "z" else math.radians(float(lab[2:-1]))
            model = result["r0_ohm"] if lab == "z" else (
                result["r0_ohm"] + result["dr_amr_ohm"] * math.cos(p) ** 2
                + result["dr_smr_ohm"] * math.sin(p) ** 2)
            mark_fit(ax.axhline(model, color=line.get_color(), ls="--", lw=1))
        ax.set(xlabel="μ0H (mT)", ylabel="R_xx (Ω)",
               title="saturated R_xx = r0 + ΔR_AMR m_x² + ΔR_SMR m_y²")
        ax.legend(fontsize=7)
    if loop:
        ax = axes[0]
        d = df[df["Probe"] == "voltmeter"] if amr and "Probe" in df.columns else df
        if amr and "Field polar angle (deg)" in d.columns:
            d = d[np.abs(_col(d, "Field polar angle (deg)")) < 45]
        b, r, br = _col(d, "Field (T)"), _col(d, "Resistance (ohm)"), _col(d, "Branch")
        for seg in _segments(br):
            up = br[seg[0]] > 0
            ax.plot(b[seg] * 1e3, r[seg], ".-", ms=3, lw=0.8, color="C3" if up else "C0")
        ax.plot([], [], ".-", color="C3", label="field rising")
        ax.plot([], [], ".-", color="C0", label="field falling")
        lvl_pos = result["r_high_ohm"] if result["dr_ahe_ohm"] >= 0 else result["r_low_ohm"]
        lvl_neg = result["r_low_ohm"] if result["dr_ahe_ohm"] >= 0 else result["r_high_ohm"]
        bmax = np.nanmax(np.abs(b)) * 1e3
        hu, hd = result["mu0_hsw_up_T"] * 1e3, result["mu0_hsw_down_T"] * 1e3
        ideal = ax.plot([-bmax, hu, hu, bmax, bmax, hd, hd, -bmax, -bmax],
                        [lvl_neg, lvl_neg, lvl_pos, lvl_pos, lvl_pos, lvl_pos, lvl_neg, lvl_neg,
                         lvl_neg], "k--", lw=1, label="levels and switching fields")
        mark_fit(ideal)
        _band(ax, result["mu0_hsw_up_T"], result.get("mu0_hsw_up_T_err"), "C3", 1e3)
        _band(ax, result["mu0_hsw_down_T"], result.get("mu0_hsw_down_T_err"), "C0", 1e3)
        ax.set(xlabel="μ0H (mT)", ylabel="R (Ω)", title="R–H loop")
        ax.legend(fontsize=7)
    add_key_numbers(fig, result, ["mu0_hc_T", "mu0_hshift_T", "mu0_hsw_up_T",
                                  "mu0_hsw_down_T", "dr_ahe_ohm", "r_high_ohm", "r_low_ohm",
                                  "mr_ratio", "r0_ohm", "dr_amr_ohm", "dr_smr_ohm"])
    return fig


# --- current-sweep and pulse-switching ------------------------------------------------------------
def _levels(ax, result):
    for key, color in (("r_p_ohm", "C2"), ("r_ap_ohm", "C1")):
        if np.isfinite(result.get(key, np.nan)):
            mark_fit(ax.axhline(result[key], color=color, ls=":", lw=1,
                                label=f"R_{key[2:-4].upper()}"))


def current_sweep(df, result):
    """R–I loops with the two resistance levels and the mean critical currents (± s.e.)."""
    fig, (ax,) = new_figure(1, width_per_panel=5.4)
    i, r = _col(df, "Current (A)"), _col(df, "Resistance (ohm)")
    br = _col(df, "Branch")
    cyc = _col(df, "Cycle") if "Cycle" in df.columns else np.zeros_like(i)
    k, unit = _si(i, "A")
    for seg in _segments(br, cyc):
        ax.plot(i[seg] * k, r[seg], ".-", ms=2.5, lw=0.6,
                color="C3" if br[seg[0]] > 0 else "C0", alpha=0.8)
    ax.plot([], [], ".-", color="C3", label="current rising")
    ax.plot([], [], ".-", color="C0", label="current falling")
    _levels(ax, result)
    for key in ("ic_pos_A", "ic_neg_A"):
        mark_fit(_band(ax, result.get(key), result.get(key + "_err"), "k", k))
    ax.set(xlabel=f"I ({unit})", ylabel="R (Ω)", title="R–I loops; dashed: I_c ± s.e.")
    ax.legend(fontsize=7)
    add_key_numbers(fig, result, ["ic_pos_A", "ic_neg_A", "r_p_ohm", "r_ap_ohm", "tmr_ratio"])
    return fig


def pulse_switching(df, result):
    """Resistance after each pulse against its amplitude (field nearest zero) with the
    critical amplitudes; with several fields, the I–H phase boundary."""
    boundary = result.get("phase_boundary")
    fig, axes = new_figure(2 if boundary else 1, width_per_panel=5.0)
    ax = axes[0]
    fs = _col(df, "Field set (T)")
    d = df[np.isclose(fs, result.get("mu0_h_T", 0.0))]
    a, r = _col(d, "Pulse amplitude (V)"), _col(d, "Resistance (ohm)")
    cyc = _col(d, "Cycle")
    for c in np.unique(cyc):
        sel = (cyc == c) & (a != 0)
        ax.plot(a[sel], r[sel], ".", ms=3, alpha=0.7, label=f"cycle {c:g}")
    _levels(ax, result)
    for key in ("vc_pos_V", "vc_neg_V"):
        mark_fit(_band(ax, result.get(key), result.get(key + "_err"), "k"))
    ax.set(xlabel="pulse amplitude (V)", ylabel="R after the pulse (Ω)",
           title=f"μ0H = {result.get('mu0_h_T', 0.0) * 1e3:g} mT; dashed: V_c ± s.e.")
    ax.legend(fontsize=7)
    if boundary:
        ax = axes[1]
        t = pd.DataFrame(boundary)
        for key, color in (("ic_pos_A", "C3"), ("ic_neg_A", "C0")):
            ok = t[key].notna()
            ax.errorbar(t["mu0_h_T"][ok] * 1e3, t[key][ok].astype(float) * 1e3,
                        t[key + "_err"][ok].astype(float) * 1e3, fmt="o-", color=color,
                        ms=4, capsize=2, label=key[:-2].replace("_", " "))
        ax.axhline(0, color="0.6", lw=0.8)
        ax.set(xlabel="μ0H (mT)", ylabel="critical pulse current (mA)",
               title="I–H phase boundary")
        ax.legend(fontsize=7)
    add_key_numbers(fig, result, ["vc_pos_V", "vc_neg_V", "ic_pos_A", "ic_neg_A", "r_p_ohm",
                                  "r_ap_ohm", "tmr_ratio"])
    return fig


# --- stfmr ----------------------------------------------------------------------------------------
def stfmr(df, result):
    """Mixing voltage against field with each sweep's S + A line-shape fit; resonance
    fields with the fitted Kittel curve; linewidths with the damping line."""
    from .stfmr_analysis import lineshape, per_frequency_table, standardize
    dc = "mu0_hdl_per_A_T" in result
    fig, axes = new_figure(4 if dc else 3, width_per_panel=4.1)
    ax0, ax1, ax2 = axes[:3]
    d = standardize(df)
    lines = per_frequency_table(d)
    if dc:
        _stfmr_dc(axes[3], lines)
    if "dc_current_A" in lines.columns:
        i0 = lines["dc_current_A"].abs().min()
        lines = lines[np.isclose(lines["dc_current_A"].abs(), i0)]
    b, v, f = _col(d, "Field (T)"), _col(d, "Vmix (V)"), _col(d, "Frequency (Hz)")
    freqs = sorted(lines["frequency_Hz"].unique())
    extra = {"dc_current_A": "DC current (A)", "power_dBm": "Power (dBm)",
             "field_angle_deg": "Field angle (deg)"}
    for _, row in lines.iterrows():
        color = f"C{freqs.index(row['frequency_Hz']) % 10}"
        sel = np.isclose(f, row["frequency_Hz"]) & (np.sign(b) == row["polarity"])
        for key, colname in extra.items():
            if key in row and colname in d.columns:
                sel &= np.isclose(_col(d, colname), row[key])
        x = np.abs(b[sel])
        ax0.plot(b[sel] * 1e3, v[sel] * 1e6, ".", ms=2.5, color=color)
        xs = np.linspace(x.min(), x.max(), 300)
        y = lineshape(xs, row["mu0_hres_T"], row["mu0_dh_T"], row["s_V"], row["a_V"],
                      row["offset_V"], row["slope_V_per_T"], float(np.mean(x)))
        mark_fit(ax0.plot(row["polarity"] * xs * 1e3, y * 1e6, "-", lw=1, color=color))
    for k, fr in enumerate(freqs):
        ax0.plot([], [], "-", color=f"C{k % 10}", label=f"{fr / 1e9:g} GHz")
    ax0.set(xlabel="μ0H (mT)", ylabel="V_mix (µV)", title="sweeps and S·F_S + A·F_A fits")
    ax0.legend(fontsize=7)
    ok = lines[np.isfinite(lines["mu0_hres_T_err"]) & (lines["mu0_dh_T"] > 0)]
    hk = (result.get("priors", {}).get("mu0_hk_T") or {}).get("value", 0.0)   # as fitted
    _kittel_panels(ax1, ax2, ok, result, float(hk or 0.0))
    add_key_numbers(fig, result, ["mu0_meff_T", "gamma_Hz_per_T", "alpha", "mu0_dh0_T",
                                  "s_over_a", "xi", "mu0_hk_eff_T", "mu0_hdl_per_A_T", "xi_dc"],
                    notes=[f"{int(result.get('n_lines', len(ok)))} lines at the smallest |I_dc|"])
    return fig


def _kittel_panels(ax1, ax2, ok, result, hk: float):
    """Resonance fields with the Kittel fit (in-plane form, μ0H_k ``hk``) on ax1, HWHM with
    the damping line on ax2, from the used lines ``ok`` (a lines table) and ``result``."""
    from .kittel import GAMMA_E_HZ_PER_T, kittel_inplane_angle
    ax1.errorbar(ok["mu0_hres_T"] * 1e3, ok["frequency_Hz"] / 1e9,
                 xerr=ok["mu0_hres_T_err"] * 1e3, fmt="o", ms=4, capsize=2, label="lines")
    gamma = result.get("gamma_Hz_per_T", (result.get("priors", {}).get("gamma_Hz_per_T") or
                                          {}).get("value", GAMMA_E_HZ_PER_T))
    angle = float(np.median(ok["field_angle_deg"])) if "field_angle_deg" in ok else 0.0
    bs = np.linspace(0.0, ok["mu0_hres_T"].max() * 1.15, 300)
    if "mu0_meff_T" in result:
        mark_fit(ax1.plot(bs * 1e3, kittel_inplane_angle(bs, angle, result["mu0_meff_T"], hk,
                                                           gamma) / 1e9, "k-", lw=1,
                          label="Kittel fit"))
    ax1.set(xlabel="μ0H_res (mT)", ylabel="f (GHz)", title="Kittel")
    ax1.legend(fontsize=7)
    ax2.errorbar(ok["frequency_Hz"] / 1e9, ok["mu0_dh_T"] * 1e3, ok["mu0_dh_T_err"] * 1e3,
                 fmt="o", ms=4, capsize=2, label="HWHM")
    if "alpha" in result:
        fs = np.linspace(0.0, ok["frequency_Hz"].max() * 1.1, 50)
        mark_fit(ax2.plot(fs / 1e9, (result["mu0_dh0_T"] + fs * result["alpha"] / gamma) * 1e3,
                          "k-", lw=1, label="Δ0 + f·α/γ"))
    ax2.set(xlabel="f (GHz)", ylabel="μ0ΔH (mT)", title="damping")
    ax2.legend(fontsize=7)


# --- fmr ------------------------------------------------------------------------------------------
def fmr(df, result):
    """The fitted signal (lock-in channels rotated into one) against field per frequency
    with each used line's resonance marked; Kittel and damping as for ST-FMR."""
    from .fmr_analysis import prepare
    d = prepare(df)
    fig, (ax0, ax1, ax2) = new_figure(3, width_per_panel=4.1)
    lines = pd.DataFrame(result["lines"])
    ok = lines[lines["used"].astype(bool)]
    b, v, f = _col(d, "Field (T)"), _col(d, "Signal (V)"), _col(d, "Frequency (Hz)")
    for k, fr in enumerate(sorted(np.unique(f))):
        sel = np.isclose(f, fr)
        ax0.plot(b[sel] * 1e3, v[sel] * 1e6, ".-", ms=2.5, lw=0.5, color=f"C{k % 10}",
                 label=f"{fr / 1e9:g} GHz")
        for x0 in ok.loc[np.isclose(ok["frequency_Hz"], fr), "mu0_hres_T"]:
            ax0.axvline(x0 * 1e3, color=f"C{k % 10}", lw=0.5, ls=":")
    ax0.set(xlabel="μ0H (mT)", ylabel="signal (µV)", title=f"{result.get('lineshape', '')} lines")
    ax0.legend(fontsize=7)
    hk = float((result.get("priors", {}).get("mu0_hk_T") or {}).get("value", 0.0))
    _kittel_panels(ax1, ax2, ok, result, hk)
    add_key_numbers(fig, result, ["mu0_meff_T", "gamma_Hz_per_T", "alpha", "mu0_dh0_T",
                                  "mu0_hk_eff_T"],
                    notes=[f"{int(result.get('n_lines', len(ok)))} lines"])
    return fig


def _stfmr_dc(ax, lines):
    """Linewidth against dc current per frequency and polarity, with the analysis's
    weighted straight lines (slope from fit_dc_linewidth, through the weighted centre)."""
    from .stfmr_analysis import fit_dc_linewidth
    slopes = fit_dc_linewidth(lines)
    ok = lines[np.isfinite(lines["mu0_dh_T_err"]) & (lines["mu0_dh_T"] > 0)]
    freqs = sorted(ok["frequency_Hz"].unique())
    ki, unit = _si(ok["dc_current_A"], "A")
    for _, row in slopes.iterrows():
        sel = np.isclose(ok["frequency_Hz"], row["frequency_Hz"]) & \
            (ok["polarity"] == row["polarity"])
        for key in ("power_dBm", "field_angle_deg"):
            if key in row and key in ok:
                sel &= np.isclose(ok[key], row[key])
        g = ok[sel]
        color = f"C{freqs.index(row['frequency_Hz']) % 10}"
        ax.errorbar(g["dc_current_A"] * ki, g["mu0_dh_T"] * 1e3, g["mu0_dh_T_err"] * 1e3,
                    fmt="o" if row["polarity"] > 0 else "s", ms=3, capsize=1, color=color,
                    mfc=color if row["polarity"] > 0 else "none")
        x0, y0 = _weighted_centre(g["dc_current_A"], g["mu0_dh_T"], 1 / g["mu0_dh_T_err"] ** 2)
        xs = np.array([g["dc_current_A"].min(), g["dc_current_A"].max()])
        mark_fit(ax.plot(xs * ki, (y0 + row["slope_T_per_A"] * (xs - x0)) * 1e3, "-", lw=1,
                         color=color))
    ax.set(xlabel=f"I_dc ({unit})", ylabel="μ0ΔH (mT)",
           title="linewidth against dc bias (○ H > 0, □ H < 0)")


# --- harmonic-hall --------------------------------------------------------------------------------
def _harmonic_angle_scans(df, result):
    """Angle scans (in-plane magnets): V_ω and V_2ω against the field angle per field
    magnitude, with the planar-Hall model of V_ω and each field's V_2ω fit."""
    from labspin.procedures import harmonic_hall_angle_analysis as hh
    fig, (ax0, ax1) = new_figure(2, width_per_panel=4.8)
    b, a = np.abs(_col(df, "Field (T)")), _col(df, "Field angle (deg)")
    v1, v2 = _col(df, "V1w (V)"), _col(df, "V2w (V)")
    groups = hh.field_groups(b)
    i0, hk = result["current_amplitude_A"], result.get("mu0_hk_T", 0.0)
    phi0 = result.get("angle_offset_deg",                  # fitted, else given, else 0
                      result.get("priors", {}).get("angle_offset_deg", {}).get("value", 0.0))
    dense = np.linspace(0.0, 360.0, 181)
    for k, g in enumerate(np.unique(groups[groups >= 0])):
        sel = groups == g
        color = f"C{k % 10}"
        order = np.argsort(a[sel])
        bb, aa = b[sel][order], a[sel][order]
        ax0.plot(aa, v1[sel][order] * 1e3, ".", ms=4, color=color,
                 label=f"{np.mean(bb) * 1e3:.0f} mT")
        ax1.plot(aa, v2[sel][order] * 1e6, ".", ms=4, color=color)
        bd = np.full(dense.size, np.mean(bb))
        pm = hh.magnetization_angle(bd, dense - phi0, hk)
        mark_fit(ax0.plot(dense, i0 * (result["r_xy0_ohm"] + result["dr_phe_ohm"]
                                       * np.sin(2 * pm)) * 1e3, "-", lw=1, color=color))
        ok = np.isfinite(v2[sel][order])
        if np.unique(np.round(aa[ok], 3)).size >= 6:
            p = hh.fit_second_harmonic(bb[ok], aa[ok] - phi0, v2[sel][order][ok], hk)
            c = np.cos(pm)
            gg = (2 * c ** 3 - c) * bd / (bd * np.cos(pm - np.radians(dense - phi0))
                                          + hk * np.cos(2 * pm))
            mark_fit(ax1.plot(dense, (p["offset_V"] + p["a_V"] * c + p["b_V"] * gg) * 1e6, "-",
                              lw=1, color=color))
    ax0.set(xlabel="field angle (deg)", ylabel="V_ω (mV)", title="V_ω: I0(R0 + ΔR_P sin 2φ_M)")
    ax1.set(xlabel="field angle (deg)", ylabel="V_2ω (µV)", title="V_2ω: c0 + a cos φ_M + b g")
    ax0.legend(fontsize=7)
    return fig


def harmonic_hall(df, result):
    """Field sweeps along x and y: V_ω with its polynomial in the fit window and V_2ω with
    c + B·∂V_ω/∂H, B = Hayashi's ratio the analysis found (per m_z branch)."""
    keys = ["mu0_hdl_T", "mu0_hfl_T", "mu0_hdl_per_A_T", "mu0_hfl_per_A_T", "xi_dl", "xi_fl",
            "current_amplitude_A", "mu0_meff_T", "mu0_hk_T", "dr_phe_ohm", "v_ane_per_A2_V",
            "window_T"]
    if "window_T" not in result:
        fig = _harmonic_angle_scans(df, result)
        add_key_numbers(fig, result, keys)
        return fig
    from labspin.procedures import harmonic_hall_analysis as hh_analysis
    fig, (ax0, ax1) = new_figure(2, width_per_panel=4.8)
    h, v1, v2 = _col(df, "Field (T)"), _col(df, "V1w (V)"), _col(df, "V2w (V)")
    ang = np.mod(_col(df, "Field angle (deg)"), 360.0) if "Field angle (deg)" in df else \
        np.zeros(h.size)
    w = result["window_T"]
    sign_ahe = result.get("dr_ahe_sign", 1.0)
    for ax_name, angles, color in (("x", (0.0, 180.0), "C0"), ("y", (90.0, 270.0), "C3")):
        rows = np.isin(np.round(ang, 3), angles)
        if not rows.any():
            continue
        s = np.where(np.isclose(ang[rows], angles[1]), -1.0, 1.0)
        hh_, a1, a2 = h[rows] * s, v1[rows], v2[rows]
        ax0.plot(hh_ * 1e3, a1 * 1e3, ".", ms=2.5, color=color, label=f"field along {ax_name}")
        ax1.plot(hh_ * 1e3, a2 * 1e6, ".", ms=2.5, color=color, label=f"field along {ax_name}")
        labels = hh_analysis.branch_labels(hh_, a1)[0]
        for lab in (-1.0, 1.0):
            sel = (labels == lab) & (np.abs(hh_) <= w) & np.isfinite(a1)
            if sel.sum() < 5:
                continue
            deg = 4 if sel.sum() >= 12 else 2
            poly = np.polynomial.Polynomial.fit(hh_[sel], a1[sel], deg)
            xs = np.linspace(-w, w, 200)
            mark_fit(ax0.plot(xs * 1e3, poly(xs) * 1e3, "k-", lw=1))
            mz = -np.sign(poly.deriv(2)(0.0)) * sign_ahe
            bkey = f"b_{ax_name}_{'mzp' if mz > 0 else 'mzm'}_T"
            if bkey not in result:
                continue
            deriv = poly.deriv()
            sel2 = (labels == lab) & (np.abs(hh_) <= w) & np.isfinite(a2)
            c = float(np.mean(a2[sel2] - result[bkey] * deriv(hh_[sel2])))
            mark_fit(ax1.plot(xs * 1e3, (c + result[bkey] * deriv(xs)) * 1e6, "k-", lw=1))
    for ax in (ax0, ax1):
        ax.axvspan(-w * 1e3, w * 1e3, color="0.9", zorder=0, label="fit window")
        ax.legend(fontsize=7)
    ax0.set(xlabel="μ0H (mT)", ylabel="V_ω (mV)", title="V_ω and its polynomial")
    ax1.set(xlabel="μ0H (mT)", ylabel="V_2ω (µV)", title="V_2ω = c + B·∂V_ω/∂H")
    add_key_numbers(fig, result, keys)
    return fig


# --- switching-probability ------------------------------------------------------------------------
def _switching_curves(df, result, currents):
    """Get {width: P at ``currents``} of the fitted model: the Brown switching model of the
    analysis (Δ, I_c0, τ_D at the fitted values) when it has one, else the Néel–Brown form
    P = 1 − exp(−t/τ), τ = τ0·e^{Δ(1 − I/I_c0)}; {} when neither can be rebuilt."""
    from labspin.procedures import switching_probability_analysis as spa
    counts = spa.pooled_counts(df)
    if "tau_d_s" in result and hasattr(spa, "ThermalSwitchingModel"):
        # one table: every width's conditions (rise, bias, field, waits) at every current
        rows = [g.iloc[-1] for _, g in counts.groupby("width")]
        dense = pd.DataFrame([r for r in rows for _ in currents]).reset_index(drop=True)
        dense["current"] = np.tile(currents, len(rows))
        hk = (result.get("priors", {}).get("mu0_hk_T") or {}).get("value")   # as fitted
        model = spa.ThermalSwitchingModel(dense, hk)
        p = model.probabilities(result["delta"], result["ic0_A"], result["tau_d_s"])
        return {r["width"]: p[k * currents.size:(k + 1) * currents.size]
                for k, r in enumerate(rows)}
    if "tau0_s" in result:
        tau = result["tau0_s"] * np.exp(result["delta"] * (1 - currents / result["ic0_A"]))
        return {w: -np.expm1(-w / tau) for w in counts["width"].unique()}
    return {}


def switching_probability(df, result):
    """Switching probability per pulse width against current, with 68 % Beta intervals and
    the maximum-likelihood thermal-activation model at the fitted Δ and I_c0."""
    from .switching_probability_analysis import probability_table
    fig, (ax,) = new_figure(1, width_per_panel=5.4)
    t = probability_table(df)
    currents = np.linspace(t["current"].min() * 0.8, t["current"].max() * 1.05, 30)
    curves = _switching_curves(df, result, currents)
    s, unit = _si(currents, "A")
    for k, (width, g) in enumerate(t.groupby("width")):
        color = f"C{k % 10}"
        ax.plot(g["current"] * s, g["p"], "o", ms=4, color=color, label=f"{width * 1e9:g} ns")
        ax.vlines(g["current"] * s, g["p_low"], g["p_high"], color=color, lw=1)
        if width in curves:
            mark_fit(ax.plot(currents * s, curves[width], "-", lw=1, color=color))
    ax.set(xlabel=f"pulse current ({unit})", ylabel="switching probability",
           title="points: k/n with 68 % Beta intervals; lines: fit", ylim=(-0.03, 1.03))
    ax.legend(fontsize=7, title="pulse width")
    add_key_numbers(fig, result, ["delta", "ic0_A", "tau_n_s", "tau0_s", "gof_pvalue",
                                  "n_points", "n_trials"])
    return fig


# --- tmr-statistics and telegraph-dwell -----------------------------------------------------------
def _dwell_survival(ax, t, r, thr, taus):
    """Plot the fraction of completed dwells longer than t per state and exp(−t/τ)."""
    order = np.argsort(t)
    t, r = t[order], r[order]
    state = r < thr
    dt = float(np.median(np.diff(t))) if t.size > 1 else 1.0
    cuts = np.flatnonzero(np.diff(state.astype(int))) + 1
    runs = np.split(np.arange(t.size), cuts)[1:-1]            # drop the censored ends
    for is_p, name, color in ((True, "P", "C2"), (False, "AP", "C1")):
        d = np.sort([len(x) * dt for x in runs if state[x[0]] == is_p])
        tau = taus.get(name)
        if d.size == 0 or tau is None or not np.isfinite(tau):
            continue
        ax.step(d, 1 - np.arange(d.size) / d.size, where="post", color=color,
                label=f"{name}: {d.size} dwells")
        x = np.linspace(0, d.max(), 100)
        mark_fit(ax.plot(x, np.exp(-x / tau), "--", color=color, lw=1))
    ax.set(yscale="log", xlabel="dwell time (s)", ylabel="fraction longer",
           title="dwells; dashed: exp(−t/τ)")
    ax.legend(fontsize=7)


def tmr_statistics(df, result):
    """Gaussian mode: histograms per gate voltage with the fitted Gaussians, the width
    against gate voltage (and the site map); telegraph mode: the trace and its dwells."""
    r = _col(df, "Resistance (ohm)")
    if result.get("mode") == "telegraph":
        fig, (ax0, ax1) = new_figure(2, width_per_panel=4.8)
        t = _col(df, "Time (s)")
        n = min(t.size, 3000)
        k, unit = _si(t[:n] - t[0], "s")
        ax0.plot((t[:n] - t[0]) * k, r[:n], "-", lw=0.5, color="0.3")
        mark_fit(ax0.axhline(result["threshold_ohm"], color="k", ls="--", lw=1))
        _levels(ax0, result)
        ax0.set(xlabel=f"time ({unit})", ylabel="R (Ω)", title="trace, threshold and levels")
        ax0.legend(fontsize=7)
        _dwell_survival(ax1, t, r, result["threshold_ohm"],
                        {"P": result.get("tau_p_s"), "AP": result.get("tau_ap_s")})
        add_key_numbers(fig, result, ["tau_p_s", "tau_ap_s", "r_p_ohm", "r_ap_ohm",
                                      "threshold_ohm"])
        return fig
    sites = result.get("sites")
    fig, axes = new_figure(3 if sites and len(sites) >= 2 else 2, width_per_panel=4.4)
    d = df
    if sites:
        d = df[_col(df, "Site") == sites[0]]
    r = _col(d, "Resistance (ohm)")
    gates = _col(d, "Gate voltage (V)") if "Gate voltage (V)" in d else np.zeros(r.size)
    levels = result["gate_voltages_V"]
    for k, g in enumerate(levels):
        x = r[np.isclose(gates, g)]
        color = f"C{k % 10}"
        axes[0].hist(x, bins=max(10, int(np.sqrt(x.size))), density=True, alpha=0.35,
                     color=color, label=f"{g:g} V")
        mu, sd = result["mean_ohm_by_gate"][k], result["std_ohm_by_gate"][k]
        xs = np.linspace(mu - 4 * sd, mu + 4 * sd, 200)
        mark_fit(axes[0].plot(xs, np.exp(-0.5 * ((xs - mu) / sd) ** 2)
                              / (sd * math.sqrt(2 * math.pi)),
                              "-", color=color, lw=1))
    axes[0].set(xlabel="R (Ω)", ylabel="density",
                title="reads" + (f" at site {sites[0]}" if sites else "") + " and Gaussian fits")
    axes[0].legend(fontsize=7, title="gate")
    s, e = np.array(result["std_ohm_by_gate"]), np.array(result["std_ohm_err_by_gate"])
    axes[1].errorbar(levels, s, e, fmt="o", ms=4, capsize=2)
    if "dstd_dvgate_ohm_per_V" in result:
        x0, y0 = _weighted_centre(levels, s, 1 / e ** 2)
        xs = np.array([min(levels), max(levels)])
        mark_fit(axes[1].plot(xs, y0 + result["dstd_dvgate_ohm_per_V"] * (xs - x0), "k-",
                              lw=1, label="weighted line"))
        axes[1].legend(fontsize=7)
    axes[1].set(xlabel="gate voltage (V)", ylabel="σ_R (Ω)", title="width against gate")
    if len(axes) == 3:
        m, me = np.array(result["mean_ohm_by_site"]), np.array(result["mean_ohm_err_by_site"])
        axes[2].errorbar(sites, m, me, fmt="o", ms=4, capsize=2)
        if "dmean_dsite_ohm" in result:
            x0, y0 = _weighted_centre(sites, m, 1 / me ** 2)
            xs = np.array([min(sites), max(sites)], float)
            mark_fit(axes[2].plot(xs, y0 + result["dmean_dsite_ohm"] * (xs - x0), "k-", lw=1))
        axes[2].set(xlabel="pinning site", ylabel="mean R (Ω)", title="mean by site")
    add_key_numbers(fig, result, ["mean_ohm", "std_ohm", "normality_pvalue",
                                  "dstd_dvgate_ohm_per_V", "dmean_dsite_ohm",
                                  "dconductance_dsite_S"])
    return fig


def _common_slope_lines(ax, x, y, w, group, slope, fmt_group, color):
    """Plot y against x per group with the common-slope lines (intercepts: weighted means)."""
    for k, gval in enumerate(sorted(set(group))):
        sel = np.array([g == gval for g in group])
        ls = ["-", "--", ":", "-."][k % 4]
        ax.plot(x[sel], y[sel], "o", color=color, ms=4, alpha=0.8)
        if np.isfinite(slope) and sel.sum() >= 1:
            x0, y0 = _weighted_centre(x[sel], y[sel], w[sel])
            xs = np.array([x[sel].min(), x[sel].max()])
            mark_fit(ax.plot(xs, y0 + slope * (xs - x0), ls, color=color, lw=1,
                             label=fmt_group(gval)))


def telegraph_dwell(df, result):
    """One telegraph trace with its levels; ln τ_P and ln τ_AP against field (per bias) and
    against bias current (per field) with the common-slope fits."""
    fig, (ax0, ax1, ax2) = new_figure(3, width_per_panel=4.3)
    first = df[_col(df, "Trace") == _col(df, "Trace")[0]] if "Trace" in df else df
    t, r = _col(first, "Time (s)"), _col(first, "Resistance (ohm)")
    n = min(t.size, 3000)
    kt, tunit = _si(t[:n] - t[0], "s")
    ax0.plot((t[:n] - t[0]) * kt, r[:n], "-", lw=0.5, color="0.3")
    for key, color in (("r_p_ohm", "C2"), ("r_ap_ohm", "C1")):
        if np.isfinite(result[key][0]):
            mark_fit(ax0.axhline(result[key][0], color=color, ls=":", lw=1,
                                 label=key[2:-4].upper()))
    b = np.array(result["fields_T"])
    i = np.array(result["bias_currents_A"])
    ki, iunit = _si(i, "A")
    ax0.set(xlabel=f"time ({tunit})", ylabel="R (Ω)",
            title=f"trace 1: {result['fields_set_T'][0] * 1e3:g} mT, "
                  f"{result['bias_currents_A'][0] * ki:g} {iunit}")
    ax0.legend(fontsize=7)
    for name, color in (("p", "C2"), ("ap", "C1")):
        tau = np.array(result[f"tau_{name}_s"], float)
        n_ex = np.array(result[f"n_exits_{name}"], float)
        ok = np.isfinite(tau) & (n_ex > 0)
        y = np.log(tau[ok])
        _common_slope_lines(ax1, b[ok] * 1e3, y, n_ex[ok], list(i[ok]),
                            result[f"dln_tau_{name}_dB_per_T"] / 1e3,
                            lambda g, s=name: f"{s.upper()}, {g * ki:g} {iunit}", color)
        _common_slope_lines(ax2, i[ok] * ki, y, n_ex[ok],
                            list(np.array(result["fields_set_T"])[ok]),
                            result[f"dln_tau_{name}_dI_per_A"] / ki,
                            lambda g, s=name: f"{s.upper()}, {g * 1e3:g} mT", color)
    ax1.set(xlabel="μ0H (mT)", ylabel="ln(τ / 1 s)", title="ln τ against field")
    ax2.set(xlabel=f"bias current ({iunit})", ylabel="ln(τ / 1 s)", title="ln τ against current")
    for ax in (ax1, ax2):
        ax.legend(fontsize=6)
    add_key_numbers(fig, result, ["dln_tau_p_dB_per_T", "dln_tau_ap_dB_per_T",
                                  "dln_tau_p_dI_per_A", "dln_tau_ap_dI_per_A",
                                  "sample_interval_s"])
    return fig


# --- magnet-calibration --------------------------------------------------------------------------
def magnet_calibration(df, result):
    """Field against supply current per branch with the fitted lines B = k·I + c ∓ B_r (one
    line B = k·I + c for a table of one branch), and the residuals (minor-loop points after
    each reversal stand out)."""
    from .magnet_calibration_analysis import calibration_points
    fig, (ax0, ax1) = new_figure(2, width_per_panel=4.8)
    i, b, br, _ = calibration_points(df)
    k, c = result["tesla_per_A"], result["mu0_offset_T"]
    rem = result.get("mu0_remanence_T", 0.0)
    groups = (((1.0, "up", "C3"), (-1.0, "down", "C0")) if result.get("branches", 2) == 2
              else ((None, "table", "C2"),))
    for sign, name, color in groups:
        sel = br == sign if sign is not None else np.ones(i.size, bool)
        sign = sign or 0.0
        model = k * i + c - sign * rem
        ax0.plot(i[sel], b[sel] * 1e3, ".", ms=4, color=color, label=f"{name} branch")
        xs = np.array([i[sel].min(), i[sel].max()])
        mark_fit(ax0.plot(xs, (k * xs + c - sign * rem) * 1e3, "-", lw=1, color=color))
        ax1.plot(i[sel], (b[sel] - model[sel]) * 1e3, ".-", ms=4, lw=0.6, color=color,
                 label=name)
    ax0.set(xlabel="I (A)", ylabel="B (mT)", title="calibration; lines: B = kI + c ∓ B_r")
    ax1.axhline(0, color="0.5", lw=0.8)
    ax1.set(xlabel="I (A)", ylabel="B − fit (mT)", title="residuals")
    ax0.legend(fontsize=7)
    ax1.legend(fontsize=7)
    add_key_numbers(fig, result, [key for key in ("tesla_per_A", "mu0_remanence_T",
                                                  "mu0_offset_T", "residual_rms_T")
                                  if key in result])
    return fig


# --- kapitza-map ---------------------------------------------------------------------------------
def kapitza_map(df, result):
    """⟨m·Ĥ⟩ over current and field with the fitted stability boundary μ0H = h0 + slope·I;
    cuts per field against L(ξ_eff) when the sample is known."""
    from .kapitza_map_analysis import m_dot_h_table, model_constants
    fig, (ax0, ax1) = new_figure(2, width_per_panel=4.8)
    sample = model_constants(result.get("priors") or {})     # the constants the fit used
    t = m_dot_h_table(df, sample)
    # the map: fields swept over several currents (not the saturating calibration rows)
    swept = t.groupby("field_set_T")["current_A"].transform("nunique") >= 3
    t = t[swept.to_numpy()]
    k, unit = _si(t.current_A, "A")
    grid = t.pivot_table(index="field_set_T", columns="current_A", values="m_dot_h")
    im = ax0.pcolormesh(grid.columns.to_numpy() * k, grid.index.to_numpy() * 1e3,
                        grid.to_numpy(), cmap="RdBu", vmin=-1, vmax=1, shading="nearest")
    fig.colorbar(im, ax=ax0, label="⟨m·Ĥ⟩")
    ii = np.linspace(t.current_A.min(), t.current_A.max(), 50)
    bb = result["mu0_h0_T"] + result["mu0_h_per_A_T"] * ii
    inside = (bb >= t.field_T.min()) & (bb <= t.field_T.max())
    mark_fit(ax0.plot(ii[inside] * k, bb[inside] * 1e3, "k--", lw=1.2, label="boundary fit"))
    ax0.set(xlabel=f"I ({unit})", ylabel="μ0H (mT)", title="⟨m·Ĥ⟩ map")
    ax0.legend(fontsize=7, loc="lower right")
    for n, (b, g) in enumerate(t.groupby("field_set_T")):
        color = f"C{n % 10}"
        g = g.sort_values("current_A")
        ax1.errorbar(g.current_A * k, g.m_dot_h, g.m_dot_h_err, fmt="o", ms=3, capsize=1,
                     color=color, label=f"{b * 1e3:g} mT")
        if "theory" in g:
            ax1.plot(g.current_A * k, g.theory, "-", lw=1, color=color)
    ax1.axhline(0, color="0.6", lw=0.8)
    ax1.set(xlabel=f"I ({unit})", ylabel="⟨m·Ĥ⟩",
            title="cuts" + ("; lines: L(ξ_eff)" if sample else ""))
    ax1.legend(fontsize=7)
    add_key_numbers(fig, result, ["mu0_h_per_A_T", "mu0_h0_T", "dr_ahe_ohm",
                                  "boundary_fields", "langevin_max_abs_dev",
                                  "langevin_rms_dev"])
    return fig


# --- stno-spectrum -------------------------------------------------------------------------------
def stno_spectrum(df, result):
    """Spectra against current (field nearest zero) with the peak frequencies and the
    tunability line; a few spectra with their Lorentzians; the normalized power with the
    threshold current."""
    from .stno_spectrum_analysis import ENBW_PER_RBW, lorentzian
    fig, (ax0, ax1, ax2) = new_figure(3, width_per_panel=4.3)
    field_key = "Field set (T)" if "Field set (T)" in df.columns else "Field (T)"
    keys = ["Trace"] if "Trace" in df.columns else [field_key, "Current (A)"]
    traces = [g for _, g in df.groupby(keys, sort=False)]
    h0 = result["mu0_h_T"]
    fields = np.array(result["field_T"])
    at = np.isclose(fields, fields[np.argmin(np.abs(fields - h0))], atol=5e-4)
    cur = np.array(result["current_A"])
    fpk, lw = np.array(result["f_peak_Hz"]), np.array(result["linewidth_Hz"])
    pw, osc = np.array(result["power_W"]), np.array(result["oscillating"], bool)
    idx = np.flatnonzero(at)
    rows = [traces[k] for k in idx]
    f_all = np.concatenate([_col(g, "Frequency (Hz)") for g in rows])
    img = np.array([_col(g, "Power (dBm)") for g in rows]) if len({len(g) for g in rows}) == 1 \
        else None
    if img is not None:
        order = np.argsort(cur[idx])
        ax0.pcolormesh(_col(rows[0], "Frequency (Hz)") / 1e9, cur[idx][order] * 1e3,
                       img[order], shading="nearest", cmap="viridis")
    ax0.plot(fpk[idx] / 1e9, cur[idx] * 1e3, "w.", ms=5, label="f_peak")
    if np.isfinite(result.get("df_dI_Hz_per_A", np.nan)) and osc[idx].any():
        ii = np.linspace(cur[idx][osc[idx]].min(), cur[idx][osc[idx]].max(), 20)
        mark_fit(ax0.plot((result["f0_Hz"] + result["df_dI_Hz_per_A"] * ii) / 1e9, ii * 1e3,
                          "r-", lw=1.2, label="f0 + (df/dI)·I"))
    ax0.set(xlabel="f (GHz)", ylabel="I (mA)", title=f"spectra (dBm) at {h0 * 1e3:.3g} mT",
            xlim=(f_all.min() / 1e9, f_all.max() / 1e9))
    ax0.legend(fontsize=7)
    shown = [k for k in idx if np.isfinite(fpk[k])][-4:]
    for n, k in enumerate(shown):
        g = traces[k]
        f, p = _col(g, "Frequency (Hz)"), 1e-3 * 10 ** (_col(g, "Power (dBm)") / 10)
        color = f"C{n % 10}"
        ax1.plot(f / 1e9, p * 1e12, "-", lw=0.5, color=color, alpha=0.6,
                 label=f"{cur[k] * 1e3:g} mA")
        rbw = _col(g, "Resolution bandwidth (Hz)")[0] if "Resolution bandwidth (Hz)" in g \
            else np.nan
        step = float(np.median(np.diff(np.sort(f))))
        enbw = ENBW_PER_RBW * rbw if np.isfinite(rbw) else step
        floor = float(np.mean(p[np.abs(f - fpk[k]) > 6 * lw[k]]))
        # the amplitude whose Lorentzian holds the reported power within f0 ± 6Δ
        amp = pw[k] * enbw / (2 * lw[k] * math.atan(6.0))
        fs = np.linspace(fpk[k] - 8 * lw[k], fpk[k] + 8 * lw[k], 300)
        mark_fit(ax1.plot(fs / 1e9, lorentzian(fs, amp, fpk[k], lw[k], floor) * 1e12, "k-",
                          lw=0.8))
    ax1.set(xlabel="f (GHz)", ylabel="P (pW)",
            title="black: Lorentzian, fitted f0 and Δ, reported power")
    ax1.legend(fontsize=7)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = pw[idx] / cur[idx] ** 2
    ax2.semilogy(np.abs(cur[idx]) * 1e3, np.where(norm > 0, norm, np.nan), "o", ms=4)
    mark_fit(_band(ax2, result.get("ic_A"), result.get("ic_A_err"), "k", 1e3))
    ax2.set(xlabel="|I| (mA)", ylabel="P / I² (W/A²)", title="onset; dashed: I_c ± s.e.")
    add_key_numbers(fig, result, ["ic_A", "df_dI_Hz_per_A", "f0_Hz", "mu0_h_T"])
    return fig


def plot_analysis(procedure: str, df, result: dict, files: Sequence[str | Path] = ()):
    """Get the notebook figure of ``procedure``'s analysis ``result`` of the table ``df``
    (as :func:`labspin.results.reader.read_table` reads it; ``files`` for the footer)."""
    if procedure not in REGISTRY:
        raise KeyError(f"no plot for procedure {procedure!r}")
    from labspin.results.header import parse_header, read_header
    if files and not df.attrs.get("header"):
        # several files concatenated lose pandas' attrs: the first file's header stands in
        df = df.copy()
        df.attrs.update(header=read_header(files[0]).text)
    fig = REGISTRY[procedure].load("plot")(df, result)
    header = parse_header(df.attrs.get("header", ""))
    sample = header.metadata.get("Sample", header.other.get("Sample", ""))
    decorate(fig, procedure, files, sample)
    return fig
