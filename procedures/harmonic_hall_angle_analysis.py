"""Analysis of harmonic-Hall in-plane angle scans of in-plane magnets: the damping-like and
field-like spin-orbit fields and the thermoelectric term (Avci et al., PRB 90, 224427, 2014;
physics.md). :func:`harmonic_hall_analysis.analyze_harmonic_hall` is the entry point: it
resolves the priors, calls :func:`analyze_angle_scans` when :func:`is_angle_scan`, and adds
the torque efficiencies ξ_DL, ξ_FL."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from labspin.physics.macrospin import SIGMA_SPIN_HALL
from labspin.physics.macrospin.analytic import (
    inplane_magnetization_angle as magnetization_angle,
)

from .estimates import average_repeats as mean_repeats
from .estimates import least_squares, weighted_fit, weighted_line


def field_groups(field_T, rel_gap: float = 0.02) -> np.ndarray:
    """Get a group index per row: the field magnitudes |field_T| sorted and split where
    consecutive values differ by more than ``rel_gap`` of the larger (NaN rows: −1)."""
    b = np.abs(np.asarray(field_T, float))
    labels = np.full(b.size, -1)
    ok = np.where(np.isfinite(b))[0]
    if ok.size == 0:
        return labels
    order = ok[np.argsort(b[ok])]
    g = 0
    labels[order[0]] = 0
    for prev, cur in itertools.pairwise(order):
        if b[cur] - b[prev] > rel_gap * max(b[cur], 1e-12):
            g += 1
        labels[cur] = g
    return labels


def is_angle_scan(df: pd.DataFrame, min_angles: int = 6) -> bool:
    """Get whether a table holds in-plane angle scans: a 'Field angle (deg)' column with at
    least ``min_angles`` distinct angles at one field magnitude."""
    if "Field angle (deg)" not in df.columns or "Field (T)" not in df.columns:
        return False
    angle = pd.to_numeric(df["Field angle (deg)"], errors="coerce").to_numpy(float)
    groups = field_groups(pd.to_numeric(df["Field (T)"], errors="coerce"))
    for g in np.unique(groups[groups >= 0]):
        a = angle[(groups == g) & np.isfinite(angle)]
        if np.unique(np.round(np.mod(a, 360.0), 3)).size >= min_angles:
            return True
    return False


def _fit(design, y, e):
    """Get (coefficients, covariance) of a linear model: weighted by 1/e² with the scatter
    correction (:func:`estimates.weighted_fit`) when the readings have errors ``e``, else
    ordinary least squares scaled by the residuals."""
    return weighted_fit(design, y, e) if e is not None else least_squares(design, y)


def _chi2(design, y, e) -> float:
    coef = _fit(design, y, e)[0]
    r = design @ coef - y
    return float(np.sum((r / e) ** 2) if e is not None else np.sum(r ** 2))


def phase_start(angle_deg, y, e=None) -> tuple[float, float, float]:
    """Get starting (R_xy0, ΔR_P, φ0 in degrees) for the planar-Hall fit from the linear fit
    y = c + A·sin 2φ + B·cos 2φ: sin 2(φ − φ0) = sin 2φ·cos 2φ0 − cos 2φ·sin 2φ0, so
    φ0 = ½·atan2(−B, A), taken within ±45° (ΔR_P's sign absorbs the quarter turn)."""
    t = np.radians(np.asarray(angle_deg, float))
    design = np.column_stack([np.ones_like(t), np.sin(2 * t), np.cos(2 * t)])
    c = _fit(design, np.asarray(y, float), e)[0]
    phi0, rp = 0.5 * math.degrees(math.atan2(-c[2], c[1])), math.hypot(c[1], c[2])
    if abs(phi0) > 45.0:
        phi0, rp = phi0 - math.copysign(90.0, phi0), -rp
    return float(c[0]), float(rp), float(phi0)


def fit_first_harmonic(field_T, angle_deg, v1w_V, i0_A: float,
                       mu0_hk_T: float | None = None, angle_offset_deg: float | None = None,
                       v1w_err_V=None) -> dict:
    """Fit V_ω/I0 = R_xy0 + ΔR_P·sin 2φ_M over every angle and field, φ_M from
    :func:`magnetization_angle` for the field at φ − φ0 from the sample's x axis (φ the
    recorded angle, φ0 the misalignment of the stage's zero). Get r_xy0_ohm, dr_phe_ohm and
    — unless given — the in-plane anisotropy field mu0_hk_T (from how far m lags the field
    toward x at low fields: a sin 4φ term) and the angle offset angle_offset_deg (a cos 2φ
    term: the two are not degenerate), each with _err. With ``v1w_err_V`` (the repeats'
    scatter) the fit is weighted and its covariance widened by the reduced χ² when that
    exceeds 1; without, the covariance is scaled by the residuals."""
    b, a = np.abs(np.asarray(field_T, float)), np.asarray(angle_deg, float)
    y = np.asarray(v1w_V, float) / i0_A
    e = None if v1w_err_V is None else np.asarray(v1w_err_V, float) / abs(i0_A)
    _, _, phi_start = phase_start(a, y, e)
    phi0 = phi_start if angle_offset_deg is None else float(angle_offset_deg)

    def lin(bk, p0):
        return np.column_stack([np.ones_like(b),
                                np.sin(2 * magnetization_angle(b, a - p0, bk))])
    free_hk, free_p0 = mu0_hk_T is None, angle_offset_deg is None
    if not (free_hk or free_p0):
        coef, cov = _fit(lin(mu0_hk_T, phi0), y, e)
        return {"r_xy0_ohm": coef[0], "r_xy0_ohm_err": np.sqrt(cov[0, 0]),
                "dr_phe_ohm": coef[1], "dr_phe_ohm_err": np.sqrt(cov[1, 1])}
    bmin = float(np.min(b))
    bk0 = mu0_hk_T
    if free_hk:
        grid = np.linspace(-0.5 * bmin, 0.5 * bmin, 41)
        bk0 = float(grid[int(np.argmin([_chi2(lin(bk, phi0), y, e) for bk in grid]))])
    c0 = _fit(lin(bk0, phi0), y, e)[0]

    def unpack(rest):
        rest = list(rest)
        bk = rest.pop(0) if free_hk else mu0_hk_T
        return bk, (rest.pop(0) if free_p0 else phi0)

    def model(_, r0, rp, *rest):
        bk, p0 = unpack(rest)
        return r0 + rp * np.sin(2 * magnetization_angle(b, a - p0, bk))
    start = [c0[0], c0[1]] + ([bk0] if free_hk else []) + ([phi0] if free_p0 else [])
    lo = [-np.inf, -np.inf] + ([-0.9 * bmin] if free_hk else []) + \
        ([phi0 - 30.0] if free_p0 else [])
    hi = [np.inf, np.inf] + ([0.9 * bmin] if free_hk else []) + \
        ([phi0 + 30.0] if free_p0 else [])
    popt, pcov = curve_fit(model, b, y, p0=start, bounds=(lo, hi), sigma=e,
                           absolute_sigma=e is not None)
    if e is not None and y.size > popt.size:
        chi2 = float(np.sum(((model(None, *popt) - y) / e) ** 2))
        pcov = pcov * max(1.0, chi2 / (y.size - popt.size))
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    out = {"r_xy0_ohm": popt[0], "r_xy0_ohm_err": perr[0], "dr_phe_ohm": popt[1],
           "dr_phe_ohm_err": perr[1]}
    k = 2
    if free_hk:
        out.update({"mu0_hk_T": popt[k], "mu0_hk_T_err": perr[k]})
        k += 1
    if free_p0:
        out.update({"angle_offset_deg": popt[k], "angle_offset_deg_err": perr[k]})
    return out


MODEL_ORDER2 = 0.5
"""The field-like shape g of :func:`fit_second_harmonic` is exact to first order in B_k/B;
measured on the simulated bench's harmonics (inplane_sot_hallbar, B_k = 3.6 mT), the next
order moves b by ≈ 0.2 % and a (the cos φ term, there 9 times smaller) by ≈ 0.7 % at 50 mT
(B_k/B = 0.072, (B_k/B)² = 0.5 %): a model error of 0.5·(B_k/B)²·|b| covers both."""


def fit_second_harmonic(field_T, angle_deg, v2w_V, mu0_hk_T: float, v2w_err_V=None) -> dict:
    """Fit one field's angle scan, V_2ω = c0 + a·cos φ_M + b·g(φ), with
    g = (2cos³φ_M − cos φ_M)·B/(B·cos(φ_M − φ) + B_k·cos 2φ_M) — the planar-Hall response to
    the field-like field ŷ·H_FL over the in-plane stiffness — so that b = −I0·ΔR_P·B_FL/B
    exactly to first order in B_k/B; φ the field's angle from the sample's x axis (the
    recorded angle less the offset φ0). Weighted by 1/err² when ``v2w_err_V`` is given (see
    :func:`fit_first_harmonic`). The next order is a model error, added in quadrature to
    both coefficients' errors as ``MODEL_ORDER2``·(B_k/B)²·|b| (it leaks into a, which at
    low field is an order of magnitude smaller than b). Get field_T (mean |B|), a_V, b_V
    (with _err), n."""
    b, ang = np.abs(np.asarray(field_T, float)), np.asarray(angle_deg, float)
    pm, ph = magnetization_angle(b, ang, mu0_hk_T), np.radians(ang)
    c = np.cos(pm)
    g = (2 * c ** 3 - c) * b / (b * np.cos(pm - ph) + mu0_hk_T * np.cos(2 * pm))
    coef, cov = _fit(np.column_stack([np.ones_like(b), c, g]), np.asarray(v2w_V, float),
                     None if v2w_err_V is None else np.asarray(v2w_err_V, float))
    model = MODEL_ORDER2 * (mu0_hk_T / b.mean()) ** 2 * abs(coef[2])
    return {"field_T": float(b.mean()), "a_V": coef[1],
            "a_V_err": math.hypot(np.sqrt(cov[1, 1]), model), "b_V": coef[2],
            "b_V_err": math.hypot(np.sqrt(cov[2, 2]), model), "offset_V": coef[0], "n": b.size}


def average_repeats(field_T, angle_deg, channels: dict, min_dof: int = 5) -> dict:
    """Average repeated readings of one point of an angle scan — one field magnitude
    (:func:`field_groups`) and one angle (mod 360°, to 1e-3°) — by
    :func:`estimates.average_repeats`, the within-point variance pooled over the points of
    one field magnitude (over every field where one has fewer than ``min_dof`` degrees of
    freedom).

    ``channels``: {name: values} (NaN = no reading). Get {"field_T", "angle_deg", "n"
    (readings per point, the most of any channel), name: means, name + "_err": errors or
    None, "n_readings", "n_points"}."""
    field = np.abs(np.asarray(field_T, float))
    angle = np.round(np.mod(np.asarray(angle_deg, float), 360.0), 3) % 360.0
    groups = field_groups(np.where(np.isfinite(angle), field, np.nan))
    keys = sorted({(int(g), float(a)) for g, a in zip(groups, angle) if g >= 0})
    index = {k: i for i, k in enumerate(keys)}
    cell = np.array([index.get((int(g), float(a)), -1) for g, a in zip(groups, angle)])
    npts = len(keys)
    out = mean_repeats(cell, channels, np.array([k[0] for k in keys], int), min_dof)
    out.update({"field_T": np.array([field[cell == i].mean() for i in range(npts)]),
                "angle_deg": np.array([k[1] for k in keys]),
                "n_readings": int((cell >= 0).sum()), "n_points": npts})
    return out


_PERPENDICULAR = ("angle scans: {} ≤ 0, a perpendicular film: Avci's in-plane model needs "
                  "an in-plane magnet saturated along the field; measure field sweeps along "
                  "x and y (Hayashi's analysis) instead")

_UNSATURATED = ("angle scans: the planar-Hall amplitude grows with the field ({}): the "
                "magnet is not saturated in plane (a perpendicular film below its anisotropy "
                "field, or fields too weak), which Avci's in-plane model needs; measure field "
                "sweeps along x and y (Hayashi's analysis) for a perpendicular film, or "
                "angle scans at higher fields")


def check_saturated(pts: dict, phi0: float, hk: float, min_ratio: float = 0.8,
                    n_sigma: float = 5.0) -> None:
    """Refuse (ValueError) angle scans whose planar-Hall amplitude ΔR_P per field grows with
    the field: a magnet saturated in plane has one ΔR_P at every field, a perpendicular film
    below saturation sin²θ·ΔR_P with sin θ = H/H_K. Refused when the lowest field's
    amplitude is below ``min_ratio`` of the highest's by more than ``n_sigma`` errors."""
    amps = []
    groups = field_groups(pts["field_T"])
    for g in np.unique(groups[groups >= 0]):
        sel = (groups == g) & np.isfinite(pts["v1"])
        if sel.sum() < 4:
            continue
        fb = float(np.mean(pts["field_T"][sel]))
        s = np.sin(2 * magnetization_angle(pts["field_T"][sel], pts["angle_deg"][sel] - phi0,
                                           hk))
        e = None if pts["v1_err"] is None else pts["v1_err"][sel]
        coef, cov = _fit(np.column_stack([np.ones_like(s), s]), pts["v1"][sel], e)
        amps.append((fb, abs(coef[1]), float(np.sqrt(cov[1, 1]))))
    if len(amps) < 2:
        return
    (b_lo, a_lo, e_lo), (b_hi, a_hi, e_hi) = amps[0], amps[-1]
    if a_lo < min_ratio * a_hi and a_hi - a_lo > n_sigma * math.hypot(e_lo, e_hi):
        raise ValueError(_UNSATURATED.format(
            f"|I0·ΔR_P| = {a_lo:.3g} V at {b_lo:.3g} T, {a_hi:.3g} V at {b_hi:.3g} T"))


def _avci_fields(pts: dict, hk: float, phi0: float, priors: dict, rp: float,
                 rp_err: float, warnings: list) -> tuple[dict, list]:
    """Steps (2)–(4) of :func:`analyze_angle_scans` at the angle offset ``phi0`` (deg): get
    (fields and thermoelectric term with errors, the per-field fits)."""
    i0p = priors["current_amplitude_A"]
    i0 = i0p.value
    ahe, meffp = priors.get("dr_ahe_ohm"), priors.get("mu0_meff_T")
    ok2 = np.isfinite(pts["v2"])
    groups = field_groups(np.where(ok2, pts["field_T"], np.nan))
    per = []
    for g in np.unique(groups[groups >= 0]):
        sel = groups == g
        if np.unique(pts["angle_deg"][sel]).size < 6:
            continue
        e2 = None if pts["v2_err"] is None else pts["v2_err"][sel]
        per.append(fit_second_harmonic(pts["field_T"][sel], pts["angle_deg"][sel] - phi0,
                                       pts["v2"][sel], hk, e2))
    if len(per) < 2:
        raise ValueError(f"the Avci separation needs angle scans (≥ 6 angles) at ≥ 2 field "
                         f"magnitudes; found {len(per)}")
    bf = np.array([p["field_T"] for p in per])
    a, ae = np.array([p["a_V"] for p in per]), np.array([p["a_V_err"] for p in per])
    bb, be = np.array([p["b_V"] for p in per]), np.array([p["b_V_err"] for p in per])
    out: dict = {}
    # (3) damping-like and thermoelectric: a = s/(B + M_eff) + c
    if meffp is not None:
        meff, meff_err = meffp.value, meffp.err
        coef, cov = weighted_line(1.0 / (bf + meff), a, ae)
        s_, c_, s_err, c_err = coef[0], coef[1], np.sqrt(cov[0, 0]), np.sqrt(cov[1, 1])
        if meff_err > 0:                       # the prior's error moves the slope s
            up = weighted_line(1.0 / (bf + meff + meff_err), a, ae)[0][0]
            dn = weighted_line(1.0 / (bf + meff - meff_err), a, ae)[0][0]
            s_err = math.hypot(s_err, 0.5 * (up - dn))
    else:
        if len(per) < 4:
            raise ValueError("μ0M_eff is not known (option mu0_meff_T, the file's sample "
                             "constants or 'Film mu0Meff') and fitting it needs angle scans "
                             f"at ≥ 4 fields; found {len(per)}")

        def chi2(m):
            c = weighted_line(1 / (bf + m), a, ae)[0]
            return float(np.sum(((c[0] / (bf + m) + c[1] - a) / ae) ** 2))
        grid = np.linspace(-0.9 * bf.min() + 1e-3, 5.0, 600)
        m0 = float(grid[int(np.argmin([chi2(m) for m in grid]))])
        c0 = weighted_line(1 / (bf + m0), a, ae)[0]
        popt, pcov = curve_fit(lambda bb_, s1, c1, m1: s1 / (bb_ + m1) + c1, bf, a,
                               p0=[c0[0], c0[1], m0], sigma=ae, absolute_sigma=True,
                               maxfev=20000)
        # the per-field errors are the scale; widened by the reduced χ² when it exceeds 1
        pcov = pcov * max(1.0, chi2(popt[2]) / (bf.size - 3)) if bf.size > 3 else pcov
        perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
        s_, c_, meff = popt
        s_err, c_err, meff_err = perr
        if not (meff > 0 and meff_err < meff):
            warnings.append(f"μ0M_eff fitted from the damping-like term's field dependence is "
                            f"not determined ({meff:.3g} ± {meff_err:.2g} T): μ0H_DL and the "
                            "thermoelectric term are left out; give the option mu0_meff_T "
                            "(an in-plane film, from FMR or a hard-axis loop)")
            s_ = None
    if s_ is not None:
        out.update({"mu0_meff_T": float(meff), "mu0_meff_T_err": float(meff_err),
                    "v2w_ane_V": float(c_), "v2w_ane_V_err": float(c_err),
                    "v_ane_per_A2_V": float(-2 * c_ / i0 ** 2),
                    "v_ane_per_A2_V_err": float(2 * c_err / i0 ** 2)})
        if ahe and ahe.value:
            hdl = -2 * s_ / (i0 * ahe.value) * SIGMA_SPIN_HALL[1]
            hdl_err = math.hypot(2 * s_err / abs(i0 * ahe.value), hdl * ahe.err / ahe.value)
            out.update({"mu0_hdl_T": hdl, "mu0_hdl_T_err": hdl_err})
        else:
            warnings.append("μ0H_DL is not reported: angle scans give it only with ΔR_A "
                            "(option dr_ahe_ohm, from an out-of-plane loop: its magnitude "
                            "scales H_DL and its sign fixes H_DL's)")
    # (4) field-like (Oersted included): b = k/B, k = −I0·ΔR_P·B_FL
    (k,), kcov = weighted_line(1.0 / bf, bb, be, intercept=False)
    k_err = float(np.sqrt(kcov[0, 0]))
    hfl = -k / (i0 * rp) * SIGMA_SPIN_HALL[1]
    hfl_err = abs(hfl) * float(np.hypot(k_err / k, rp_err / rp)) if k else k_err / abs(i0 * rp)
    out.update({"mu0_hfl_T": hfl, "mu0_hfl_T_err": hfl_err, "n_fields": len(per)})
    return out, per


def analyze_angle_scans(df: pd.DataFrame, priors: dict, warnings: list | None = None,
                        table: bool = False) -> dict:
    """Get the SOT fields and the thermoelectric term of an in-plane magnet from in-plane
    angle scans at several field magnitudes (Avci et al., PRB 90, 224427, 2014).

    Model (physics.md, the convention checked there — published in-plane formulas differ by
    a factor of 2): R_xy = ΔR_A·m_z + ΔR_P·sin 2φ_M, R^{2ω} = [R(+I0) − R(−I0)]/4 =
    [ΔR_A·H_DL/(2(H + M_eff)) + R_∇T]·cos φ + ΔR_P·(H_FL/H)·(2cos³φ − cos φ), and with
    physics.md's V_2ω (V ⊃ V_2ω cos 2ωt, I = I0 sin ωt) V_2ω = −I0·R^{2ω}. Derived for
    design.md's torques (H_DL > 0 toward +σ, σ = σ_y·ŷ with σ_y = −1, ``SIGMA_SPIN_HALL``):
    the damping-like field H_DL·(m×σ) = σ_y·H_DL·cos φ_M·ẑ tilts m out of plane against the
    stiffness H + M_eff; the field-like σ_y·H_FL·ŷ (Oersted included) turns it in plane by
    σ_y·H_FL·cos φ_M/(H + H_k cos 2φ_M). The formulas below are for σ_y = +1; the code
    multiplies H_DL and H_FL by σ_y.
    Checked against the simulated bench's noiseless harmonics to 1e-4.

    Steps: (0) repeated readings of one point (field, angle) averaged, their scatter the
    error (:func:`average_repeats`); (1) V_ω = I0·(R_xy0 + ΔR_P·sin 2φ_M) over all points →
    ΔR_P, the angle offset φ0 (the field's angle from the sample's x axis is the recorded
    angle less φ0; option angle_offset_deg to fix it) and (unless given) μ0H_k; a planar-Hall
    amplitude that grows with the field is refused (:func:`check_saturated`). A lock-in
    filter that has not settled fully lags the stage, which in a scan in one direction looks
    like an offset: ≈ +0.1° with 15° steps read 7τ after each (12 dB/oct), taken up by φ0;
    (2) per field,
    V_2ω = c0 + a·cos φ_M + b·g at the angles less φ0 (:func:`fit_second_harmonic`);
    (3) a(B) = s/(B + μ0M_eff) + c, a weighted straight line in 1/(B + μ0M_eff):
    μ0H_DL = −2s/(I0·ΔR_A); the field-independent c is the thermoelectric (anomalous Nernst)
    term, reported as ``v2w_ane_V`` = c and ``v_ane_per_A2_V`` = −2c/I0² (V_ANE = c'·I²·m_x
    on the Hall probe, the simulated sample's ``readout.v_ane_per_A2_V``); (4) b(B) =
    −I0·ΔR_P·μ0H_FL/B, a weighted line through the origin in 1/B → μ0H_FL. φ0's error
    propagates into (2)–(4): steps (2)–(4) are repeated at φ0 ± its error and the larger
    change is added in quadrature (the cos φ and g terms move to second order in the
    offset, so half the difference would miss it). The damping-like stiffness's
    in-plane-anisotropy part B_k·cos²φ_M is left out of step 3: a relative error
    ≲ B_k/(B + μ0M_eff) in H_DL.

    Inputs: columns 'Field (T)' (magnitude), 'Field angle (deg)' (φ from +x), 'V1w (V)',
    'V2w (V)' (amplitudes, physics.md's V_ω and V_2ω); ``priors`` ({name: Prior}, resolved
    by :func:`.harmonic_hall_analysis.analyze_harmonic_hall`): current_amplitude_A
    (required), dr_ahe_ohm (needed for H_DL: from an out-of-plane loop; without it H_DL is
    left out with a warning), mu0_meff_T (else fitted from a(B) with ≥ 4 fields: weakly
    determined; where the fit does not determine it, H_DL is left out with a warning),
    mu0_hk_T (else from V_ω), angle_offset_deg (else fitted). Prior errors of ΔR_A, I0,
    μ0M_eff and φ0 propagate; ``warnings`` (a list) is appended to. A perpendicular film
    (μ0M_eff ≤ 0 given, or a planar-Hall amplitude growing with the field) is refused with
    a ValueError naming the field-sweep analysis that applies.

    Returns mu0_hdl_T, mu0_hfl_T and per ampere, v2w_ane_V, v_ane_per_A2_V, dr_phe_ohm,
    r_xy0_ohm, mu0_hk_T, mu0_meff_T, angle_offset_deg (each with _err; _err the prior's for
    given values), current_amplitude_A, n_fields, n_readings, n_points (readings averaged
    into points); ``table=True`` adds "per_field" (list of dicts: field_T, a_V, b_V with
    errors). The torque efficiencies ξ_DL, ξ_FL are added by the entry point.
    """
    for col in ("Field (T)", "Field angle (deg)", "V1w (V)", "V2w (V)"):
        if col not in df.columns:
            raise KeyError(f"column {col!r} missing; columns: {', '.join(map(str, df.columns))}")
    warnings = [] if warnings is None else warnings
    i0p = priors["current_amplitude_A"]
    i0 = i0p.value
    meffp, hkp, p0p = (priors.get(k) for k in ("mu0_meff_T", "mu0_hk_T", "angle_offset_deg"))
    if meffp is not None and meffp.value <= 0:
        raise ValueError(_PERPENDICULAR.format(f"given μ0M_eff = {meffp.value:.4g} T"))
    mu0_hk_T = hkp.value if hkp else None

    def col(name):
        return pd.to_numeric(df[name], errors="coerce").to_numpy(float)
    field, angle = np.abs(col("Field (T)")), col("Field angle (deg)")
    pts = average_repeats(field, angle, {"v1": col("V1w (V)"), "v2": col("V2w (V)")})
    ok1 = np.isfinite(pts["v1"])
    if ok1.sum() < 4:
        raise ValueError("angle scans need V1w (V) at ≥ 4 points for the planar-Hall "
                         "amplitude")
    out: dict = {"current_amplitude_A": i0, "n_readings": pts["n_readings"],
                 "n_points": pts["n_points"]}
    e1 = None if pts["v1_err"] is None else pts["v1_err"][ok1]
    first = fit_first_harmonic(pts["field_T"][ok1], pts["angle_deg"][ok1], pts["v1"][ok1], i0,
                               mu0_hk_T, p0p.value if p0p else None, e1)
    out.update(first)
    hk = float(first.get("mu0_hk_T", mu0_hk_T))
    if hkp is not None:
        out.update({"mu0_hk_T": hk, "mu0_hk_T_err": hkp.err})
    phi0, phi0_err = ((p0p.value, p0p.err) if p0p is not None       # given: in priors
                      else (first["angle_offset_deg"], first["angle_offset_deg_err"]))
    check_saturated(pts, phi0, hk)
    rp, rp_err = first["dr_phe_ohm"], first["dr_phe_ohm_err"]
    second, per = _avci_fields(pts, hk, phi0, priors, rp, rp_err, warnings)
    if phi0_err > 0:          # the offset's error moves every 2ω result (to second order)
        up = _avci_fields(pts, hk, phi0 + phi0_err, priors, rp, rp_err, [])[0]
        dn = _avci_fields(pts, hk, phi0 - phi0_err, priors, rp, rp_err, [])[0]
        for key in [k_ for k_ in second if k_ + "_err" in second]:
            if key in up and key in dn:
                shift = max(abs(up[key] - second[key]), abs(dn[key] - second[key]))
                second[key + "_err"] = math.hypot(second[key + "_err"], shift)
    out.update(second)
    for key in ("mu0_hdl_T", "mu0_hfl_T"):
        if key in out:
            per_a, v = key.replace("_T", "_per_A_T"), out[key]
            out.update({per_a: v / i0,
                        per_a + "_err": math.hypot(out[key + "_err"] / i0, v * i0p.err / i0 ** 2)})
    out = {k_: (int(v) if k_.startswith("n_") else float(v)) for k_, v in out.items()}
    if table:
        out["per_field"] = [{k_: float(v) for k_, v in p.items()} for p in per]
    return out

