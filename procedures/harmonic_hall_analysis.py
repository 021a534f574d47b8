"""Analysis of harmonic-Hall measurements: field sweeps of perpendicular magnets — the
damping-like and field-like spin-orbit effective fields with the planar-Hall correction
(Hayashi et al., PRB 89, 144425, 2014; physics.md) — and in-plane angle scans of in-plane
magnets (Avci et al., PRB 90, 224427, 2014; :func:`analyze_angle_scans`, which
:func:`analyze_harmonic_hall` calls when the data are angle scans).

Model (physics.md): R_xy = ΔR_A cos θ + ΔR_P sin²θ sin 2φ, I = I0 sin ωt, V_ω = I0·R_xy,
V_2ω defined by V(t) ⊃ V_2ω cos 2ωt (= −(I0²/2)·dR_xy/dI). With the field along X (Y),

    B_X(Y) = (∂V_2ω/∂H_X(Y)) / (∂²V_ω/∂H²_X(Y)),
    ΔH_X(Y) = −2 (B_X(Y) ± 2 ξ_R B_Y(X)) / (1 − 4 ξ_R²),   ξ_R = ΔR_P/ΔR_A, + for m_z > 0.

ΔH_X and ΔH_Y are the x and y components of the current-induced effective field at the
current amplitude I0. With design.md's torque −γ0·H_DL·m×(m×σ) − γ0·H_FL·m×σ and its σ = −ŷ
(``SIGMA_SPIN_HALL``: along the Oersted field at the magnet for θ_SH > 0) the damping-like
field is H_DL·(m×σ) = sign(m_z)·H_DL·x̂ and the field-like one −H_FL·ŷ, so

    H_DL = sign(m_z)·ΔH_X,   H_FL = −ΔH_Y   (H_FL includes the Oersted field, along σ).

How B is measured. Only ratios of V_2ω to V_ω enter, so rms or amplitude readings give the
same B provided both are the same. The X (Y) of each m_z branch within the fit window is
used: V_ω is fitted with a quartic polynomial in H (quadratic with fewer than 12 points),
and V_2ω is regressed on its derivative, V_2ω = c + B·∂V_ω/∂H, which is ∂V_2ω/∂H = B·∂²V_ω/∂H² with
B constant. For a uniaxial macrospin (h = H/H_K) this is exact for the field-like term with the
field along y (a real field, same shape as the applied one), while the damping-like torque rotates m
by H_DL/(H_K cos θ), so B_X carries 1/cos θ ≈ 1 + h²/2 and H_DL comes out high by about half
the mean h² over the window. Measured on the simulated bench's noiseless harmonics
(perpendicular_sot_hallbar, μ0H_K = 0.212 T): +1.4 % (DL) and +0.5 % (FL) for a window of
±0.19 H_K, +3.7 % and +1.4 % for ±0.28 H_K, +7 % and +2.6 % for ±0.38 H_K. Keep the window
small (default: half of each branch's extent, which is bounded by switching or by the sweep);
the result reports ``window_T``. V_ω and V_2ω may come from different sweeps (rows with only one of
them).

The sign of m_z on a branch needs the sign of ΔR_A: the data alone are unchanged by
(ΔR_A, m_z, H_DL) → (−ΔR_A, −m_z, −H_DL). On a branch ∂²V_ω/∂H² = −I0·ΔR_A·sign(m_z)/H_K², so
sign(m_z) = −sign(curvature)·sign(ΔR_A). ΔR_A and ΔR_P come from the options (keyword
arguments, ``--option``), else the file's Sample constants, else the procedure parameters
"AHE amplitude"/"PHE amplitude" — never the simulator's Sample parameters — else ΔR_A > 0
and ξ_R = 0 are assumed, with a warning (reported as ``dr_ahe_sign`` and ``xi_r``).

Signs and frames. Fields are reported in design.md's frame: current along +x, the heavy
metal below the magnet, σ = −ŷ (along the Oersted field at the magnet), torques
−γ0·H_FL·m×σ − γ0·H_DL·m×(m×σ), m_z's sign from ΔR_A's (an out-of-plane loop in the data's
own frame: R_xy largest with the field along +z means ΔR_A > 0). H_DL > 0 for Pt, < 0 for
Ta and W (design.md); H_FL > 0 means a field-like field along the Oersted field. Checked
against physics: an Oersted field alone (no spin-orbit torque) gives H_FL = +I/(2w).
Other frames differ by signs: a model with p = +ŷ (cmtj's, the Ta/CoFeB paper in
../shared/realdata) flips both fields; a ΔR_AHE of the other sign than the data's rotation
flips m_z and so H_DL alone. That paper (ΔR_AHE = −5.71 Ω against a rotation that reads
ΔR_A > 0, and p = +ŷ) reports (H_DL, H_FL) = (−420, +574) A/m; in this frame the same data
give (−458, −545) A/m: the same numbers, H_FL of the other sign.

Torque efficiencies (sample convention, labspin.sim_backend.samples):
H_DL/I = ξ_DL·ħ/(2e μ0 Ms t_F w d), (H_FL − H_Oe)/I = ξ_FL·ħ/(2e μ0 Ms t_F w d), with
H_Oe/I = +1/(2w) along σ = −ŷ for the heavy metal below the magnet (current sheet).
"""
from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from labspin.physics.constants import E_CHARGE, HBAR, MU0
from labspin.physics.macrospin import SIGMA_SPIN_HALL, sheet_oersted_per_A
from labspin.physics.macrospin.analytic import (
    inplane_magnetization_angle as magnetization_angle,
)
from labspin.results.header import ResultsHeader, parse_header
from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs

from .estimates import (
    Option,
    Prior,
    combine,
    flag_undetermined,
    priors_dict,
    resolve_priors,
    settings,
    weighted_fit,
    weighted_line,
)

# header names → keys of the film/readout dictionary
_HEADER_PARAMETERS = {"AHE amplitude": "dr_ahe_ohm", "PHE amplitude": "dr_phe_ohm",
                      "Film mu0Ms": "mu0_ms_T", "Film thickness": "thickness_m",
                      "Heavy-metal thickness": "hm_thickness_m", "Bar width": "width_m",
                      "Film mu0Meff": "mu0_meff_T"}


# ------------------------------------------------------------------------ header and files
def header_info(text: str) -> dict:
    """Get the readout and film constants a user typed into a labspin procedure's parameters
    (non-zero ones: "AHE amplitude", "PHE amplitude", "Film mu0Ms", …) from a results
    header: its ``#Parameters:`` section only, read by :mod:`labspin.results.header`. The
    metadata, other labs' lines and the simulator's "Sample parameters" (its truth) are
    never read."""
    typed = ResultsHeader(parameters=parse_header(text).parameters)
    info: dict = {}
    for name, key in _HEADER_PARAMETERS.items():
        value = typed.number(name)
        if value is not None and value != 0.0:
            info[key] = value
    return info


def read_header(path: str | Path) -> str:
    """Get the '#' comment lines of a results file."""
    from labspin.results.header import read_header as read_results_header
    return read_results_header(path).text + "\n"


def analyze_files(paths, **options) -> dict:
    """Read results files (header included) and analyze them together; options as
    :func:`analyze_harmonic_hall` (over the header's procedure parameters)."""
    from labspin.results.reader import read_table
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    frames = [read_table(p) for p in paths]
    df = pd.concat(frames, ignore_index=True)
    df.attrs = dict(frames[0].attrs)
    return analyze_harmonic_hall(df, **options)


# ------------------------------------------------------------------------ overload, clipping
OVERLOAD_FLAGS = {"V1w (V)": "Overload 1w", "V2w (V)": "Overload 2w"}
"""The columns of the lock-ins' overload flags (1: the lock-in reported an overload while
reading that point) the procedure records beside each voltage."""


def clipped(values, min_count: int = 2) -> np.ndarray:
    """Get which readings sit flat at the channel's extreme: a lock-in past its full scale
    returns its saturated output, one exact value, again and again. Flagged: the readings
    equal to the largest or the smallest value when at least ``min_count`` are, and at least
    twice as many as share any other value (a lock-in's finite digits repeat values too,
    but do not pile them up at the extreme)."""
    v = np.asarray(values, float)
    out = np.zeros(v.size, bool)
    ok = np.isfinite(v)
    if ok.sum() < min_count:
        return out
    vals, counts = np.unique(v[ok], return_counts=True)
    inner = counts[1:-1]                        # the values between the two extremes
    most_other = int(inner.max()) if inner.size else 1
    for idx in {0, vals.size - 1}:
        if vals[idx] != 0 and counts[idx] >= max(min_count, 2 * most_other):
            out |= ok & (v == vals[idx])
    return out


def _point_names(df: pd.DataFrame, rows: np.ndarray, most: int = 8) -> str:
    """Get the rows as "0.1 T at 15°, …" (field and, where recorded, angle)."""
    names = []
    for i in np.where(rows)[0][:most]:
        name = f"{float(pd.to_numeric(df['Field (T)'].iloc[i], errors='coerce')):.4g} T" \
            if "Field (T)" in df.columns else f"row {i + 1}"
        if "Field angle (deg)" in df.columns:
            name += f" at {float(pd.to_numeric(df['Field angle (deg)'].iloc[i])):.4g}°"
        names.append(name)
    more = int(rows.sum()) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def exclude_overloaded(df: pd.DataFrame, warnings: list) -> pd.DataFrame:
    """Get ``df`` with each voltage reading the lock-in flagged as overloaded (the
    procedure's "Overload 1w"/"Overload 2w" columns) or that is clipped at the channel's
    extreme (:func:`clipped`: a real file without flags) set to NaN, so that the fits leave
    those points out; each channel's excluded points are named in ``warnings``."""
    out = df.copy()
    for col, flag in OVERLOAD_FLAGS.items():
        if col not in out.columns:
            continue
        v = pd.to_numeric(out[col], errors="coerce").to_numpy(float)
        flagged = np.zeros(v.size, bool)
        if flag in out.columns:
            flagged = np.nan_to_num(pd.to_numeric(out[flag], errors="coerce")
                                    .to_numpy(float)) > 0
        flat = clipped(v) & ~flagged
        for rows, why in ((flagged & np.isfinite(v), f"flagged overloaded ({flag})"),
                          (flat, f"clipped, flat at {v[flat][0]:.4g} V" if flat.any() else "")):
            if rows.any():
                warnings.append(f"{col}: {int(rows.sum())} reading(s) {why} left out: "
                                f"{_point_names(out, rows)}")
        out[col] = np.where(flagged | flat, np.nan, v)
    return out


# ------------------------------------------------------------------------ branches
def branch_labels(h: np.ndarray, v1: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Label each row of one field direction with its m_z branch, +1/−1 by the 1ω level
    (0 where unknown); one branch only → all +1. Also get the level between the branches and
    half their separation (NaN with one branch).

    Rows with V_ω: at small field (|H| ≤ 0.15 max|H|) one branch is one parabola; if a
    parabola leaves residuals above a fifth of the spread, the values are split into two
    levels at the largest gap of the sorted values. Rows without V_ω (a 2ω-only sweep): the
    branch of the last saturating field (|H| > ½ max|H|) seen before them, mapped onto the
    levels by the V_ω rows' same rule."""
    n = h.size
    labels = np.zeros(n)
    has1 = np.isfinite(v1)
    hmax = np.nanmax(np.abs(h))
    small = has1 & (np.abs(h) <= 0.15 * hmax)
    if small.sum() < 5:
        small = has1 & (np.abs(h) <= 0.3 * hmax)
    if small.sum() < 5:
        small = has1
    hs, vs = h[small], v1[small]
    spread = vs.max() - vs.min() if vs.size else 0.0
    if vs.size >= 4 and spread > 0:
        coef, *_ = np.linalg.lstsq(np.column_stack([np.ones_like(hs), hs ** 2]), vs, rcond=None)
        rms = float(np.sqrt(np.mean((vs - coef[0] - coef[1] * hs ** 2) ** 2)))
        two = rms > 0.2 * spread
    else:
        two = False
    if not two:
        labels[:] = 1.0
        return labels, np.nan, np.nan
    vals = np.sort(vs)
    gaps = np.diff(vals)
    k = int(np.argmax(gaps))
    mid = 0.5 * (vals[k] + vals[k + 1])
    half = 0.25 * ((vals[-1] - mid) + (mid - vals[0]))
    labels[has1] = np.sign(v1[has1] - mid)
    # origin of each row: sign of the last saturating field before it
    origin = np.zeros(n)
    last = 0.0
    for i in range(n):
        if np.isfinite(h[i]) and abs(h[i]) > 0.5 * hmax:
            last = np.sign(h[i])
        origin[i] = last
    if (~has1).any():
        mapping = {}
        for o in (-1.0, 1.0):
            sel = small & (origin == o)
            if sel.any():
                mapping[o] = float(np.sign(np.mean(labels[sel])))
        for i in np.where(~has1)[0]:
            labels[i] = mapping.get(origin[i], 0.0)
    return labels, mid, half


# ------------------------------------------------------------------------ one branch
def _lstsq(a: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Get (coefficients, covariance) of an ordinary least-squares fit, the covariance scaled
    by the residual variance."""
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    dof = max(1, y.size - a.shape[1])
    s2 = float(np.sum((y - a @ coef) ** 2)) / dof
    cov = s2 * np.linalg.pinv(a.T @ a)
    return coef, cov


def branch_b(h1, v1, h2, v2, window_T: float) -> dict:
    """Get B = (∂V_2ω/∂H)/(∂²V_ω/∂H²) (T) of one branch and one direction, its standard
    error, and the sign of the 1ω curvature, from rows within |H| ≤ window_T.

    V_ω: quartic polynomial (quadratic below 12 points); V_2ω = c + B·∂V_ω/∂H. The error combines
    the regression's and the relative error of the V_ω curvature (which scales B)."""
    s1 = np.abs(h1) <= window_T
    s2 = np.abs(h2) <= window_T
    if s1.sum() < 4 or s2.sum() < 4:
        raise ValueError(f"too few points within the fit window ±{window_T:g} T "
                         f"({int(s1.sum())} with V1w, {int(s2.sum())} with V2w)")
    scale = window_T
    x1 = h1[s1] / scale
    degree = 4 if x1.size >= 12 else 2
    p, pcov = _lstsq(np.vander(x1, degree + 1, increasing=True), v1[s1])
    x2 = h2[s2] / scale
    deriv = sum(k * p[k] * x2 ** (k - 1) for k in range(1, degree + 1)) / scale
    a = np.column_stack([np.ones_like(x2), deriv])
    q, qcov = _lstsq(a, v2[s2])
    b = float(q[1])
    rel_curv = float(np.sqrt(pcov[2, 2]) / abs(p[2])) if p[2] != 0 else np.inf
    err = float(np.hypot(np.sqrt(qcov[1, 1]), abs(b) * rel_curv))
    return {"b_T": b, "b_T_err": err, "curvature_sign": float(np.sign(p[2])),
            "n1": int(s1.sum()), "n2": int(s2.sum())}


# ------------------------------------------------------------------------ analysis
def _direction(angle_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Get (direction 'x'/'y'/'' per row, sign of the field along that axis)."""
    a = np.mod(np.round(np.asarray(angle_deg, float), 6), 360.0)
    d = np.full(a.shape, "", dtype=object)
    sign = np.zeros(a.shape)
    for ang, ax, sg in ((0.0, "x", 1.0), (180.0, "x", -1.0), (90.0, "y", 1.0),
                        (270.0, "y", -1.0), (360.0, "x", 1.0)):
        sel = np.abs(a - ang) < 1e-3
        d[sel], sign[sel] = ax, sg
    return d, sign


def _flag(text) -> bool:
    """Get a boolean from True/False or "true"/"false"/"1"/"0"/"yes"/"no"."""
    if isinstance(text, bool):
        return text
    t = str(text).strip().lower()
    if t in ("true", "1", "yes"):
        return True
    if t in ("false", "0", "no"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


OPTIONS = (
    Option("dr_ahe_ohm", "ohm", "anomalous-Hall amplitude ΔR_A (its sign fixes m_z of each "
           "branch; needed for H_DL from angle scans)"),
    Option("dr_phe_ohm", "ohm", "planar-Hall amplitude ΔR_P (for ξ_R = ΔR_P/ΔR_A)"),
    Option("xi_r", "", "ξ_R = ΔR_P/ΔR_A directly (instead of dr_phe_ohm)"),
    Option("current_amplitude_A", "A", "I0, the current's amplitude (default: the "
           "'Current amplitude (A)' column)"),
    Option("mu0_ms_T", "T", "μ0·M_s (for ξ)"),
    Option("thickness_m", "m", "magnet thickness t_F (for ξ)"),
    Option("hm_thickness_m", "m", "heavy-metal thickness d (for ξ)"),
    Option("width_m", "m", "bar width w (for ξ and the Oersted field)"),
    Option("mu0_meff_T", "T", "μ0·M_eff for angle scans (else fitted from ≥ 4 fields)"),
    Option("mu0_hk_T", "T", "in-plane anisotropy field for angle scans (else fitted)"),
    Option("angle_offset_deg", "deg", "angle scans: the stage's misalignment φ0 (the field's "
           "angle from the sample's x axis is the recorded angle less φ0; else fitted from "
           "V1w)"),
    Option("window_T", "T", "field-sweep fit window ±window_T (default: a fraction of each "
           "branch)", None, constant=False),
    Option("window_fraction", "", "fit window as a fraction of each branch's extent", 0.5,
           constant=False),
    Option("hm_below", "", "heavy metal below the magnet (Oersted sign)", True,
           constant=False, kind=_flag),
)


def analyze_harmonic_hall(df: pd.DataFrame, **options) -> dict:
    """Get design.md's keys from harmonic-Hall field sweeps along x (0°) and y (90°), or —
    when the data are in-plane angle scans (:func:`is_angle_scan`) — from
    :func:`analyze_angle_scans`.

    Columns: 'Field (T)' (μ0·H along the field direction), 'Field angle (deg)' (0, 90, 180
    or 270; absent: read as 0), 'V1w (V)' and 'V2w (V)' (physics.md's V_ω and V_2ω, both as
    amplitudes or both as rms; a row may have only one of them), 'Current amplitude (A)' (I0,
    amplitude; or the option ``current_amplitude_A``).

    Options (:data:`OPTIONS`; keyword arguments, ``--option NAME=VALUE[±ERR]``, else the
    file's Sample constants, else the procedure parameters a user typed — "AHE amplitude",
    "Film mu0Ms", … — never the simulator's Sample parameters): ΔR_A, ΔR_P (or ξ_R), I0,
    the film (μ0Ms, t_F, d, w), μ0M_eff and μ0H_k for angle scans; settings window_T,
    window_fraction, hm_below. Prior errors propagate (ξ_R into the Hayashi correction, I0
    into the per-ampere fields, the film into ξ). Without ΔR_A its sign is taken as +1 and
    ξ_R as 0, with a warning.

    Signs (design.md, pinned by the real Ta/CoFeB set: H_DL < 0): σ = −ŷ, H_DL > 0 toward
    +σ; the damping-like field H_DL·(m×σ) = sign(m_z)·H_DL·x̂ and the field-like one
    −H_FL·ŷ, so H_DL = sign(m_z)·ΔH_X and H_FL = −ΔH_Y.

    Returns mu0_hdl_T, mu0_hfl_T (at I0, H_FL including the Oersted field), per ampere, per
    m_z branch mu0_hdl_mzp_T/mu0_hdl_mzm_T (and hfl), b_x_mzp_T, … (Hayashi's B), each with
    _err; the branches combined by :func:`estimates.combine` (a warning and a systematic
    term where they disagree); xi_dl, xi_fl with the film; current_amplitude_A, xi_r,
    dr_ahe_sign, n_branches, window_T, priors, warnings.
    """
    known = {o.name for o in OPTIONS}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"harmonic-hall: unknown option(s) {', '.join(unknown)}; options: "
                         f"{', '.join(sorted(known))}")
    set_ = settings(OPTIONS, options)
    hdr = df.attrs.get("header") if hasattr(df, "attrs") else None
    priors = resolve_priors(OPTIONS, {k: v for k, v in options.items() if k not in set_},
                            df.attrs, header_info(hdr) if hdr else {})
    warnings: list[str] = []
    if "current_amplitude_A" not in priors:
        if "Current amplitude (A)" not in df.columns:
            raise KeyError("column 'Current amplitude (A)' missing: give the option "
                           "current_amplitude_A")
        priors["current_amplitude_A"] = Prior(
            float(pd.to_numeric(df["Current amplitude (A)"]).mean()), 0.0, "data column")
    df = exclude_overloaded(df, warnings)
    if is_angle_scan(df):
        out = analyze_angle_scans(df, priors, set_["hm_below"], warnings)
    else:
        out = _analyze_field_sweeps(df, priors, set_, warnings)
    flag_undetermined(out, [k for k in out if not k.endswith("_err")], warnings,
                      may_vanish=[k for k in out if k.startswith(("mu0_h", "xi_", "b_",
                                                                   "v2w", "v_ane"))])
    out = {k: (int(v) if k.startswith("n_") else float(v)) for k, v in out.items()}
    out["priors"] = priors_dict(priors)
    out["warnings"] = warnings
    return out


def _branch_fields(bx: dict, by: dict, mz: float, xi_r: float) -> tuple[float, float]:
    """Get (H_DL, H_FL) of one m_z branch from Hayashi's B_X, B_Y (σ = −ŷ, see above):
    m×σ = −m_z·σ_y·x̂, so H_DL = −σ_y·sign(m_z)·ΔH_X and H_FL = σ_y·ΔH_Y."""
    d = 1.0 - 4.0 * xi_r ** 2
    dhx = -2.0 * (bx + 2 * xi_r * mz * by) / d
    dhy = -2.0 * (by + 2 * xi_r * mz * bx) / d
    sy = SIGMA_SPIN_HALL[1]
    return -sy * mz * dhx, sy * dhy


def _analyze_field_sweeps(df: pd.DataFrame, priors: dict, set_: dict, warnings: list) -> dict:
    for col in ("Field (T)", "V1w (V)", "V2w (V)"):
        if col not in df.columns:
            raise KeyError(f"column {col!r} missing; columns: {', '.join(map(str, df.columns))}")
    ahe, phe = priors.get("dr_ahe_ohm"), priors.get("dr_phe_ohm")
    if "xi_r" in priors:
        xi_r, xi_r_err = priors["xi_r"].value, priors["xi_r"].err
    elif ahe and phe and ahe.value:
        xi_r = phe.value / ahe.value
        xi_r_err = abs(xi_r) * math.hypot(phe.err / phe.value if phe.value else 0.0,
                                          ahe.err / ahe.value)
    else:
        xi_r, xi_r_err = 0.0, 0.0
        warnings.append("ξ_R = ΔR_P/ΔR_A unknown (options dr_ahe_ohm and dr_phe_ohm, or "
                        "xi_r): taken as 0, no planar-Hall correction")
    if abs(2 * xi_r) >= 1:
        raise ValueError(f"xi_r = {xi_r:g}: |ξ_R| must be < 1/2 for the Hayashi correction")
    if ahe and ahe.value:
        ahe_sign = float(np.sign(ahe.value))
    else:
        ahe_sign = 1.0
        warnings.append("ΔR_A unknown (option dr_ahe_ohm): its sign taken as +1, which fixes "
                        "m_z of each branch and so the sign of H_DL")
    i0p = priors["current_amplitude_A"]
    i0 = i0p.value
    window_T, window_fraction = set_["window_T"], set_["window_fraction"]

    field = pd.to_numeric(df["Field (T)"], errors="coerce").to_numpy(float)
    angle = (pd.to_numeric(df["Field angle (deg)"], errors="coerce").to_numpy(float)
             if "Field angle (deg)" in df.columns else np.zeros(field.size))
    v1 = pd.to_numeric(df["V1w (V)"], errors="coerce").to_numpy(float)
    v2 = pd.to_numeric(df["V2w (V)"], errors="coerce").to_numpy(float)
    direction, sign = _direction(angle)

    # B per (direction, m_z sign)
    bs: dict[tuple[str, float], dict] = {}
    windows = []
    for ax in ("x", "y"):
        rows = np.where((direction == ax) & np.isfinite(field))[0]
        if rows.size == 0:
            continue
        h = field[rows] * sign[rows]
        labels, mid, half = branch_labels(h, v1[rows])
        for lab in (-1.0, 1.0):
            sel = labels == lab
            sel1 = sel & np.isfinite(v1[rows])
            sel2 = sel & np.isfinite(v2[rows])
            if sel1.sum() < 4 or sel2.sum() < 4:
                continue
            w = window_T
            if w is None:
                # the branch's extent: the fields where its 1ω level is clearly its own
                # (beyond half-way to the other level: switching, or saturation in plane)
                strong = sel1
                if np.isfinite(mid):
                    strong = sel1 & (np.abs(v1[rows] - mid) > half)
                if strong.sum() < 2:
                    continue
                ext = min(h[strong].max(), -h[strong].min())
                if ext <= 0:
                    continue
                w = window_fraction * ext
            res = branch_b(h[sel1], v1[rows][sel1], h[sel2], v2[rows][sel2], w)
            mz = -res["curvature_sign"] * ahe_sign
            windows.append(w)
            if (ax, mz) in bs:       # two label groups on one m_z: keep the better one
                if bs[(ax, mz)]["b_T_err"] <= res["b_T_err"]:
                    continue
            bs[(ax, mz)] = res
    out: dict = {}
    per = []
    for mz, tag in ((1.0, "mzp"), (-1.0, "mzm")):
        if ("x", mz) not in bs or ("y", mz) not in bs:
            continue
        bx, by = bs[("x", mz)], bs[("y", mz)]
        d = 1.0 - 4.0 * xi_r ** 2
        hdl, hfl = _branch_fields(bx["b_T"], by["b_T"], mz, xi_r)
        hdl_err = 2.0 * np.hypot(bx["b_T_err"], 2 * xi_r * by["b_T_err"]) / abs(d)
        hfl_err = 2.0 * np.hypot(by["b_T_err"], 2 * xi_r * bx["b_T_err"]) / abs(d)
        if xi_r_err > 0:                           # ξ_R's prior error
            up = _branch_fields(bx["b_T"], by["b_T"], mz, xi_r + xi_r_err)
            dn = _branch_fields(bx["b_T"], by["b_T"], mz, xi_r - xi_r_err)
            hdl_err = math.hypot(hdl_err, 0.5 * (up[0] - dn[0]))
            hfl_err = math.hypot(hfl_err, 0.5 * (up[1] - dn[1]))
        out.update({f"b_x_{tag}_T": bx["b_T"], f"b_x_{tag}_T_err": bx["b_T_err"],
                    f"b_y_{tag}_T": by["b_T"], f"b_y_{tag}_T_err": by["b_T_err"],
                    f"mu0_hdl_{tag}_T": hdl, f"mu0_hdl_{tag}_T_err": hdl_err,
                    f"mu0_hfl_{tag}_T": hfl, f"mu0_hfl_{tag}_T_err": hfl_err})
        per.append((tag, hdl, hdl_err, hfl, hfl_err))
    if not per:
        found = ", ".join(f"{ax} m_z {'+' if mz > 0 else '−'}" for ax, mz in bs) or "none"
        raise ValueError("need field sweeps along x (0°) and y (90°) on a common m_z branch "
                         f"with enough points in the fit window; found: {found}")
    labels = [f"m_z {'+' if p[0] == 'mzp' else '−'}" for p in per]
    for key, k in (("mu0_hdl_T", 1), ("mu0_hfl_T", 3)):
        c = combine([p[k] for p in per], [p[k + 1] for p in per], labels, key)
        if c["warning"]:
            warnings.append(c["warning"])
        out[key], out[key + "_err"] = c["mean"], c["err"]
        per_a = key.replace("_T", "_per_A_T")
        out[per_a] = c["mean"] / i0
        out[per_a + "_err"] = abs(out[per_a]) * math.hypot(c["err"] / abs(c["mean"]),
                                                           i0p.err / i0) if c["mean"] else \
            c["err"] / i0
    out.update({"current_amplitude_A": i0, "xi_r": float(xi_r), "dr_ahe_sign": ahe_sign,
                "n_branches": len(per), "window_T": float(np.max(windows))})
    out.update(_efficiencies(out, priors, set_["hm_below"], warnings))
    return out


def _efficiencies(out: dict, priors: dict, hm_below: bool, warnings: list) -> dict:
    """Get xi_dl, xi_fl (with _err) from the fields per ampere in ``out`` when the film is
    known ({} and a warning otherwise): H per A of unit efficiency ħ/(2e μ0 Ms t_F w d), the
    Oersted field of the heavy-metal sheet along σ taken out of the field-like one; the
    film's prior errors propagated."""
    film = [priors.get(k) for k in ("mu0_ms_T", "thickness_m", "hm_thickness_m", "width_m")]
    if None in film or not all(p.value for p in film):
        warnings.append("ξ_DL, ξ_FL need mu0_ms_T, thickness_m, hm_thickness_m and width_m "
                        "(options or the file's sample constants)")
        return {}
    ms, t, d, w = (p.value for p in film)
    rel = math.sqrt(sum((p.err / p.value) ** 2 for p in film))
    unit = HBAR / (2 * E_CHARGE * ms * t * w * d)
    h_oe = float(np.dot(sheet_oersted_per_A(w, below=hm_below), SIGMA_SPIN_HALL))  # along σ
    res = {}
    for xi, key, oe in (("xi_dl", "mu0_hdl_per_A_T", 0.0), ("xi_fl", "mu0_hfl_per_A_T", h_oe)):
        if key in out:
            res[xi] = (out[key] / MU0 - oe) / unit
            res[xi + "_err"] = math.hypot(out[key + "_err"] / MU0 / unit, abs(res[xi]) * rel)
    return res


# ------------------------------------------------------------------------ angle scans
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
    return weighted_fit(design, y, e) if e is not None else _lstsq(design, y)


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
    (:func:`field_groups`) and one angle (mod 360°, to 1e-3°) — so that repeats enter the
    fits once, as their mean, not as independent points.

    Each channel's error is the repeats' scatter: the within-point variance pooled over the
    points of one field magnitude (over every field when one has fewer than ``min_dof``
    degrees of freedom; the lock-in's noise does not depend on the angle), divided by the
    point's number of readings. Without repeats (fewer than ``min_dof`` degrees of freedom
    in all) the errors are None and the fits scale their covariance by the residuals.

    ``channels``: {name: values} (NaN = no reading). Get {"field_T", "angle_deg", "n"
    (readings per point, the most of any channel), name: means, name + "_err": errors or
    None, "n_readings", "n_points"}."""
    field = np.abs(np.asarray(field_T, float))
    angle = np.round(np.mod(np.asarray(angle_deg, float), 360.0), 3) % 360.0
    groups = field_groups(np.where(np.isfinite(angle), field, np.nan))
    keys = sorted({(int(g), float(a)) for g, a in zip(groups, angle) if g >= 0})
    index = {k: i for i, k in enumerate(keys)}
    cell = np.array([index.get((int(g), float(a)), -1) for g, a in zip(groups, angle)])
    used = cell >= 0
    npts = len(keys)
    out: dict = {"field_T": np.array([field[cell == i].mean() for i in range(npts)]),
                 "angle_deg": np.array([k[1] for k in keys]),
                 "n_readings": int(used.sum()), "n_points": npts}
    cell_group = np.array([k[0] for k in keys])
    n_max = np.zeros(npts, int)
    for name, values in channels.items():
        v = np.asarray(values, float)
        ok = used & np.isfinite(v)
        n = np.bincount(cell[ok], minlength=npts)
        total = np.bincount(cell[ok], weights=v[ok], minlength=npts)
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev2 = np.bincount(cell[ok], weights=(v[ok] - mean[cell[ok]]) ** 2, minlength=npts)
        n_max = np.maximum(n_max, n)
        dof = np.maximum(n - 1, 0)
        err = None
        if dof.sum() >= min_dof:
            s2_all = dev2.sum() / dof.sum()
            s2 = np.full(npts, s2_all)
            for g in np.unique(cell_group):
                sel = cell_group == g
                if dof[sel].sum() >= min_dof:
                    s2[sel] = dev2[sel].sum() / dof[sel].sum()
            err = np.where(n > 0, np.sqrt(s2 / np.maximum(n, 1)), np.nan)
        out[name], out[name + "_err"] = mean, err
    out["n"] = n_max
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


def analyze_angle_scans(df: pd.DataFrame, priors: dict, hm_below: bool = True,
                        warnings: list | None = None, table: bool = False) -> dict:
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
    by :func:`analyze_harmonic_hall`): current_amplitude_A (required), dr_ahe_ohm (needed
    for H_DL: from an out-of-plane loop; without it H_DL is left out with a warning),
    mu0_meff_T (else fitted from a(B) with ≥ 4 fields: weakly determined; where the fit does
    not determine it, H_DL is left out with a warning), mu0_hk_T (else from V_ω),
    angle_offset_deg (else fitted), the film for xi_dl, xi_fl. Prior errors of ΔR_A, I0,
    μ0M_eff and φ0 propagate; ``warnings`` (a list) is appended to. A perpendicular film
    (μ0M_eff ≤ 0 given, or a planar-Hall amplitude growing with the field) is refused with
    a ValueError naming the field-sweep analysis that applies.

    Returns mu0_hdl_T, mu0_hfl_T and per ampere, v2w_ane_V, v_ane_per_A2_V, dr_phe_ohm,
    r_xy0_ohm, mu0_hk_T, mu0_meff_T, angle_offset_deg (each with _err; _err the prior's for
    given values), xi_dl, xi_fl with film parameters, current_amplitude_A, n_fields,
    n_readings, n_points (readings averaged into points); ``table=True`` adds "per_field"
    (list of dicts: field_T, a_V, b_V with errors).
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
    out.update(_efficiencies(out, priors, hm_below, warnings))
    out = {k_: (int(v) if k_.startswith("n_") else float(v)) for k_, v in out.items()}
    if table:
        out["per_field"] = [{k_: float(v) for k_, v in p.items()} for p in per]
    return out


NEEDS = Needs(columns=(
    Column("Field (T)", "μ0H along the field direction, T", FIELD_ALTERNATIVES),
    Column("V1w (V)", "first-harmonic Hall voltage V_ω (amplitude, or rms with V2w rms)"),
    Column("V2w (V)", "second-harmonic Hall voltage V_2ω (same convention as V1w)"),
    Column("Field angle (deg)", "field direction φ: 0, 90, 180 or 270 (absent: 0)",
           required=False),
    Column("Current amplitude (A)", "ac current amplitude I0 (or --option "
           "current_amplitude_A, or --constant)", required=False),
    Column("Overload 1w", "1 where the 1ω lock-in reported an overload (that V1w is left "
           "out)", required=False),
    Column("Overload 2w", "1 where the 2ω lock-in reported an overload (that V2w is left "
           "out)", required=False),
), header_keys={k: f"a procedure parameter, read as the option {v}"
                for k, v in _HEADER_PARAMETERS.items()})
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
