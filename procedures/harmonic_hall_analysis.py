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
current amplitude I0. With design.md's torque −γ0·H_DL·m×(m×σ) − γ0·H_FL·m×σ and σ = ŷ the
damping-like field is H_DL·(m×σ) = −sign(m_z)·H_DL·x̂ and the field-like one H_FL·ŷ, so

    H_DL = −sign(m_z)·ΔH_X,   H_FL = ΔH_Y   (H_FL includes the Oersted field).

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
sign(m_z) = −sign(curvature)·sign(ΔR_A). ΔR_A and ΔR_P come from the keyword arguments, else
the file header (procedure parameters "AHE amplitude"/"PHE amplitude", else the simulated
sample's ``dr_ahe_ohm``/``dr_phe_ohm``), else ΔR_A > 0 and ξ_R = 0 are assumed (reported as
``dr_ahe_sign`` and ``xi_r``).

Torque efficiencies (sample convention, labspin.sim_backend.samples):
H_DL/I = ξ_DL·ħ/(2e μ0 Ms t_F w d), (H_FL − H_Oe)/I = ξ_FL·ħ/(2e μ0 Ms t_F w d), with
H_Oe/I = −1/(2w) along σ = ŷ for the heavy metal below the magnet (current sheet).
"""
from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from labspin.physics.constants import E_CHARGE, HBAR, MU0
from labspin.physics.macrospin import sheet_oersted_per_A

# header names → keys of the film/readout dictionary
_HEADER_PARAMETERS = {"AHE amplitude": "dr_ahe_ohm", "PHE amplitude": "dr_phe_ohm",
                      "Film mu0Ms": "mu0_ms_T", "Film thickness": "thickness_m",
                      "Heavy-metal thickness": "hm_thickness_m", "Bar width": "width_m",
                      "Film mu0Meff": "mu0_meff_T"}
_SAMPLE_KEYS = ("dr_ahe_ohm", "dr_phe_ohm", "mu0_ms_T", "thickness_m", "mu0_meff_T")


# ------------------------------------------------------------------------ header and files
def header_info(text: str) -> dict:
    """Get readout and film parameters from a labspin results header: the procedure's
    parameters (non-zero ones) over the simulated sample's metadata (``dr_ahe_ohm``,
    ``dr_phe_ohm``, ``mu0_ms_T``, ``thickness_m``, ``mu0_meff_T``)."""
    info: dict = {}
    m = re.search(r"^#\s*Sample parameters:\s*(\{.*\})\s*$", text, re.M)
    if m:
        try:
            sample = json.loads(m.group(1))
        except json.JSONDecodeError:
            sample = {}
        for k in _SAMPLE_KEYS:
            if isinstance(sample.get(k), (int, float)):
                info[k] = float(sample[k])
    for name, key in _HEADER_PARAMETERS.items():
        m = re.search(rf"^#\s*{re.escape(name)}:\s*([-+0-9.eE]+)", text, re.M)
        if m:
            try:
                v = float(m.group(1))
            except ValueError:
                continue
            if v != 0.0:
                info[key] = v
    return info


def read_header(path: str | Path) -> str:
    """Get the '#' comment lines of a results file."""
    from labspin.results.header import read_header as read_results_header
    return read_results_header(path).text + "\n"


def analyze_files(paths, **kwargs) -> dict:
    """Read labspin results files (header included) and analyze them together; keyword
    arguments as :func:`analyze_harmonic_hall` (they override the header)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    frames = [pd.read_csv(p, comment="#") for p in paths]
    info = header_info(read_header(paths[0]))
    info.update({k: v for k, v in kwargs.items() if v is not None})
    return analyze_harmonic_hall(pd.concat(frames, ignore_index=True), **info)


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


def analyze_harmonic_hall(df: pd.DataFrame, *, dr_ahe_ohm: float | None = None,
                          dr_phe_ohm: float | None = None, xi_r: float | None = None,
                          current_amplitude_A: float | None = None,
                          window_T: float | None = None, window_fraction: float = 0.5,
                          mu0_ms_T: float | None = None, thickness_m: float | None = None,
                          hm_thickness_m: float | None = None, width_m: float | None = None,
                          hm_below: bool = True, mu0_meff_T: float | None = None,
                          mu0_hk_T: float | None = None) -> dict:
    """Get design.md's keys from harmonic-Hall field sweeps along x (0°) and y (90°), or —
    when the data are in-plane angle scans (:func:`is_angle_scan`) — from
    :func:`analyze_angle_scans` (which takes ``mu0_meff_T`` and ``mu0_hk_T``).

    Columns: 'Field (T)' (μ0·H along the field direction), 'Field angle (deg)' (0, 90, 180
    or 270; absent: read as 0), 'V1w (V)' and 'V2w (V)' (physics.md's V_ω and V_2ω, both as
    amplitudes or both as rms; a row may have only one of them), 'Current amplitude (A)' (I0,
    amplitude; or ``current_amplitude_A``). A labspin file's header is read by
    :func:`analyze_files`; ``df.attrs['header']`` is read when present.

    Keyword arguments: ΔR_A = ``dr_ahe_ohm`` and ΔR_P = ``dr_phe_ohm`` (Ω, amplitudes as in
    physics.md) or ``xi_r`` = ΔR_P/ΔR_A directly (then ΔR_A's sign is taken as +1 unless
    ``dr_ahe_ohm`` is given); fit window ±``window_T`` (T), default ``window_fraction`` of the
    smaller field extent of each branch (ends of the branch: its switching or the sweep's
    maximum); film: μ0Ms (T), ferromagnet and heavy-metal thicknesses and bar width (m), the
    heavy metal below the magnet (``hm_below``) for the Oersted-field sign.

    Returns mu0_hdl_T, mu0_hfl_T (μ0·H_DL, μ0·H_FL at I0, H_FL including the Oersted field),
    mu0_hdl_per_A_T, mu0_hfl_per_A_T, per m_z branch mu0_hdl_mzp_T/mu0_hdl_mzm_T (and hfl),
    b_x_mzp_T, b_y_mzp_T, … (Hayashi's B), each with _err; xi_dl, xi_fl (with _err) when the
    film is known; and current_amplitude_A, xi_r, dr_ahe_sign, n_branches, window_T.
    """
    hdr = df.attrs.get("header") if hasattr(df, "attrs") else None
    if hdr:
        info = header_info(hdr)
        dr_ahe_ohm = dr_ahe_ohm if dr_ahe_ohm is not None else info.get("dr_ahe_ohm")
        dr_phe_ohm = dr_phe_ohm if dr_phe_ohm is not None else info.get("dr_phe_ohm")
        mu0_ms_T = mu0_ms_T or info.get("mu0_ms_T")
        thickness_m = thickness_m or info.get("thickness_m")
        hm_thickness_m = hm_thickness_m or info.get("hm_thickness_m")
        width_m = width_m or info.get("width_m")
        mu0_meff_T = mu0_meff_T if mu0_meff_T is not None else info.get("mu0_meff_T")
    if is_angle_scan(df):
        return analyze_angle_scans(
            df, dr_ahe_ohm=dr_ahe_ohm, current_amplitude_A=current_amplitude_A,
            mu0_meff_T=mu0_meff_T, mu0_hk_T=mu0_hk_T, mu0_ms_T=mu0_ms_T,
            thickness_m=thickness_m, hm_thickness_m=hm_thickness_m, width_m=width_m,
            hm_below=hm_below)
    for col in ("Field (T)", "V1w (V)", "V2w (V)"):
        if col not in df.columns:
            raise KeyError(f"column {col!r} missing; columns: {', '.join(map(str, df.columns))}")
    if xi_r is None:
        xi_r = (dr_phe_ohm / dr_ahe_ohm) if (dr_phe_ohm and dr_ahe_ohm) else 0.0
    if abs(2 * xi_r) >= 1:
        raise ValueError(f"xi_r = {xi_r:g}: |ξ_R| must be < 1/2 for the Hayashi correction")
    ahe_sign = float(np.sign(dr_ahe_ohm)) if dr_ahe_ohm else 1.0
    if current_amplitude_A is None:
        if "Current amplitude (A)" not in df.columns:
            raise KeyError("column 'Current amplitude (A)' missing: pass current_amplitude_A")
        current_amplitude_A = float(pd.to_numeric(df["Current amplitude (A)"]).mean())
    i0 = float(current_amplitude_A)

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
        dhx = -2.0 * (bx["b_T"] + 2 * xi_r * mz * by["b_T"]) / d
        dhy = -2.0 * (by["b_T"] + 2 * xi_r * mz * bx["b_T"]) / d
        dhx_err = 2.0 * np.hypot(bx["b_T_err"], 2 * xi_r * by["b_T_err"]) / abs(d)
        dhy_err = 2.0 * np.hypot(by["b_T_err"], 2 * xi_r * bx["b_T_err"]) / abs(d)
        hdl, hfl = -mz * dhx, dhy
        out.update({f"b_x_{tag}_T": bx["b_T"], f"b_x_{tag}_T_err": bx["b_T_err"],
                    f"b_y_{tag}_T": by["b_T"], f"b_y_{tag}_T_err": by["b_T_err"],
                    f"mu0_hdl_{tag}_T": hdl, f"mu0_hdl_{tag}_T_err": dhx_err,
                    f"mu0_hfl_{tag}_T": hfl, f"mu0_hfl_{tag}_T_err": dhy_err})
        per.append((hdl, dhx_err, hfl, dhy_err))
    if not per:
        found = ", ".join(f"{ax} m_z {'+' if mz > 0 else '−'}" for ax, mz in bs) or "none"
        raise ValueError("need field sweeps along x (0°) and y (90°) on a common m_z branch "
                         f"with enough points in the fit window; found: {found}")

    def wmean(vals, errs):
        vals, errs = np.asarray(vals, float), np.asarray(errs, float)
        if np.all(errs > 0):
            w = 1 / errs ** 2
            return float(np.sum(w * vals) / np.sum(w)), float(1 / np.sqrt(np.sum(w)))
        return float(vals.mean()), float(np.sqrt(np.sum(errs ** 2)) / errs.size)

    hdl, hdl_err = wmean([p[0] for p in per], [p[1] for p in per])
    hfl, hfl_err = wmean([p[2] for p in per], [p[3] for p in per])
    out.update({"mu0_hdl_T": hdl, "mu0_hdl_T_err": hdl_err,
                "mu0_hfl_T": hfl, "mu0_hfl_T_err": hfl_err,
                "mu0_hdl_per_A_T": hdl / i0, "mu0_hdl_per_A_T_err": hdl_err / i0,
                "mu0_hfl_per_A_T": hfl / i0, "mu0_hfl_per_A_T_err": hfl_err / i0,
                "current_amplitude_A": i0, "xi_r": float(xi_r), "dr_ahe_sign": ahe_sign,
                "n_branches": float(len(per)), "window_T": float(np.max(windows))})
    out.update(_efficiencies(out, mu0_ms_T, thickness_m, hm_thickness_m, width_m, hm_below))
    return {k: float(v) for k, v in out.items()}


def _efficiencies(out: dict, mu0_ms_T, thickness_m, hm_thickness_m, width_m,
                  hm_below: bool) -> dict:
    """Get xi_dl, xi_fl (with _err) from the fields per ampere in ``out`` when the film is
    known ({} otherwise): H per A of unit efficiency ħ/(2e μ0 Ms t_F w d), the Oersted field
    of the heavy-metal sheet (along σ = ŷ) taken out of the field-like one."""
    if not (mu0_ms_T and thickness_m and hm_thickness_m and width_m):
        return {}
    unit = HBAR / (2 * E_CHARGE * mu0_ms_T * thickness_m * width_m * hm_thickness_m)
    h_oe = sheet_oersted_per_A(width_m, below=hm_below)[1]
    res = {}
    if "mu0_hdl_per_A_T" in out:
        res["xi_dl"] = out["mu0_hdl_per_A_T"] / MU0 / unit
        res["xi_dl_err"] = out["mu0_hdl_per_A_T_err"] / MU0 / unit
    if "mu0_hfl_per_A_T" in out:
        res["xi_fl"] = (out["mu0_hfl_per_A_T"] / MU0 - h_oe) / unit
        res["xi_fl_err"] = out["mu0_hfl_per_A_T_err"] / MU0 / unit
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


def magnetization_angle(field_T, angle_deg, mu0_hk_T: float) -> np.ndarray:
    """Get the in-plane angle φ_M (rad) of a saturated in-plane magnet with a uniaxial
    anisotropy field μ0H_k (T) along x, the field |field_T| (T) at angle_deg from +x: the
    root of B·sin(φ_M − φ) + (B_k/2)·sin 2φ_M = 0 near φ (Newton)."""
    b = np.abs(np.asarray(field_T, float))
    ph = np.radians(np.asarray(angle_deg, float))
    pm = ph.copy()
    for _ in range(30):
        g = b * np.sin(pm - ph) + 0.5 * mu0_hk_T * np.sin(2 * pm)
        dg = b * np.cos(pm - ph) + mu0_hk_T * np.cos(2 * pm)
        pm = pm - g / np.where(np.abs(dg) > 1e-12, dg, 1e-12)
    return pm


def fit_first_harmonic(field_T, angle_deg, v1w_V, i0_A: float,
                       mu0_hk_T: float | None = None) -> dict:
    """Fit V_ω/I0 = R_xy0 + ΔR_P·sin 2φ_M over every angle and field (φ_M from
    :func:`magnetization_angle`); get r_xy0_ohm, dr_phe_ohm and — unless ``mu0_hk_T`` is
    given — the in-plane anisotropy field mu0_hk_T (from how far m lags the field toward
    x at low fields), each with _err (covariance scaled by the residuals)."""
    b, a = np.asarray(field_T, float), np.asarray(angle_deg, float)
    y = np.asarray(v1w_V, float) / i0_A

    def lin(bk):
        return np.column_stack([np.ones_like(b), np.sin(2 * magnetization_angle(b, a, bk))])
    if mu0_hk_T is not None:
        coef, cov = _lstsq(lin(mu0_hk_T), y)
        return {"r_xy0_ohm": coef[0], "r_xy0_ohm_err": np.sqrt(cov[0, 0]),
                "dr_phe_ohm": coef[1], "dr_phe_ohm_err": np.sqrt(cov[1, 1])}
    bmin = float(np.min(b))

    def model(_, r0, rp, bk):
        return r0 + rp * np.sin(2 * magnetization_angle(b, a, bk))
    grid = np.linspace(-0.5 * bmin, 0.5 * bmin, 41)
    sse = [np.sum((lin(bk) @ _lstsq(lin(bk), y)[0] - y) ** 2) for bk in grid]
    bk0 = float(grid[int(np.argmin(sse))])
    c0 = _lstsq(lin(bk0), y)[0]
    popt, pcov = curve_fit(model, b, y, p0=[c0[0], c0[1], bk0],
                           bounds=([-np.inf, -np.inf, -0.9 * bmin], [np.inf, np.inf, 0.9 * bmin]))
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    return {"r_xy0_ohm": popt[0], "r_xy0_ohm_err": perr[0], "dr_phe_ohm": popt[1],
            "dr_phe_ohm_err": perr[1], "mu0_hk_T": popt[2], "mu0_hk_T_err": perr[2]}


def fit_second_harmonic(field_T, angle_deg, v2w_V, mu0_hk_T: float) -> dict:
    """Fit one field's angle scan, V_2ω = c0 + a·cos φ_M + b·g(φ), with
    g = (2cos³φ_M − cos φ_M)·B/(B·cos(φ_M − φ) + B_k·cos 2φ_M) — the planar-Hall response to
    the field-like field ŷ·H_FL over the in-plane stiffness — so that b = −I0·ΔR_P·B_FL/B
    exactly (small angles); get field_T (mean |B|), a_V, b_V (with _err), n."""
    b, ang = np.abs(np.asarray(field_T, float)), np.asarray(angle_deg, float)
    pm, ph = magnetization_angle(b, ang, mu0_hk_T), np.radians(ang)
    c = np.cos(pm)
    g = (2 * c ** 3 - c) * b / (b * np.cos(pm - ph) + mu0_hk_T * np.cos(2 * pm))
    coef, cov = _lstsq(np.column_stack([np.ones_like(b), c, g]), np.asarray(v2w_V, float))
    return {"field_T": float(b.mean()), "a_V": coef[1], "a_V_err": np.sqrt(cov[1, 1]),
            "b_V": coef[2], "b_V_err": np.sqrt(cov[2, 2]), "offset_V": coef[0], "n": b.size}


def _weighted_line(x, y, e, intercept: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Get (coefficients, covariance) of y = c1·x (+ c0) weighted by 1/e², [c1, c0] order;
    the covariance scaled by the reduced χ² when that exceeds 1 (Birge)."""
    x, y, e = (np.asarray(v, float) for v in (x, y, e))
    e = np.where(e > 0, e, np.min(e[e > 0]) if np.any(e > 0) else 1.0)
    a = np.column_stack([x, np.ones_like(x)] if intercept else [x]) / e[:, None]
    coef, *_ = np.linalg.lstsq(a, y / e, rcond=None)
    cov = np.linalg.pinv(a.T @ a)
    dof = x.size - a.shape[1]
    if dof > 0:
        chi2 = float(np.sum((a @ coef - y / e) ** 2)) / dof
        cov = cov * max(1.0, chi2)
    return coef, cov


def analyze_angle_scans(df: pd.DataFrame, *, dr_ahe_ohm: float | None = None,
                        current_amplitude_A: float | None = None,
                        mu0_meff_T: float | None = None, mu0_hk_T: float | None = None,
                        mu0_ms_T: float | None = None, thickness_m: float | None = None,
                        hm_thickness_m: float | None = None, width_m: float | None = None,
                        hm_below: bool = True, table: bool = False) -> dict:
    """Get the SOT fields and the thermoelectric term of an in-plane magnet from in-plane
    angle scans at several field magnitudes (Avci et al., PRB 90, 224427, 2014).

    Model (physics.md, the convention checked there — published in-plane formulas differ by
    a factor of 2): R_xy = ΔR_A·m_z + ΔR_P·sin 2φ_M, R^{2ω} = [R(+I0) − R(−I0)]/4 =
    [ΔR_A·H_DL/(2(H + M_eff)) + R_∇T]·cos φ + ΔR_P·(H_FL/H)·(2cos³φ − cos φ), and with
    physics.md's V_2ω (V ⊃ V_2ω cos 2ωt, I = I0 sin ωt) V_2ω = −I0·R^{2ω}. Derived for
    design.md's torques (H_DL > 0 toward +σ, σ = ŷ): the damping-like field H_DL·(m×ŷ) =
    H_DL·cos φ_M·ẑ tilts m out of plane against the stiffness H + M_eff; the field-like
    H_FL·ŷ (Oersted included) turns it in plane by H_FL·cos φ_M/(H + H_k cos 2φ_M).
    Checked against the simulated bench's noiseless harmonics to 1e-4.

    Steps: (1) V_ω = I0·(R_xy0 + ΔR_P·sin 2φ_M) over all rows → ΔR_P and (unless given)
    μ0H_k; (2) per field, V_2ω = c0 + a·cos φ_M + b·g (:func:`fit_second_harmonic`);
    (3) a(B) = s/(B + μ0M_eff) + c, a weighted straight line in 1/(B + μ0M_eff):
    μ0H_DL = −2s/(I0·ΔR_A); the field-independent c is the thermoelectric (anomalous Nernst)
    term, reported as ``v2w_ane_V`` = c and ``v_ane_per_A2_V`` = −2c/I0² (V_ANE = c'·I²·m_x
    on the Hall probe, the simulated sample's ``readout.v_ane_per_A2_V``); (4) b(B) =
    −I0·ΔR_P·μ0H_FL/B, a weighted line through the origin in 1/B → μ0H_FL. The damping-like
    stiffness's in-plane-anisotropy part B_k·cos²φ_M is left out of step 3: a relative error
    ≲ B_k/(B + μ0M_eff) in H_DL.

    Inputs: columns 'Field (T)' (magnitude), 'Field angle (deg)' (φ from +x), 'V1w (V)',
    'V2w (V)' (amplitudes, physics.md's V_ω and V_2ω), 'Current amplitude (A)' (or
    ``current_amplitude_A``). ΔR_A = ``dr_ahe_ohm`` (needed for H_DL: from an out-of-plane
    loop, the header's "AHE amplitude" or the simulated sample's metadata); μ0M_eff =
    ``mu0_meff_T`` (else fitted from a(B) with ≥ 4 fields: weakly determined); μ0H_k =
    ``mu0_hk_T`` (else from V_ω). Film parameters give xi_dl, xi_fl as the field sweeps do.

    Returns mu0_hdl_T, mu0_hfl_T and per ampere, v2w_ane_V, v_ane_per_A2_V, dr_phe_ohm,
    r_xy0_ohm, mu0_hk_T, mu0_meff_T (each with _err; _err 0 for given values), xi_dl, xi_fl
    with film parameters, current_amplitude_A, n_fields; ``table=True`` adds "per_field"
    (list of dicts: field_T, a_V, b_V with errors).
    """
    for col in ("Field (T)", "Field angle (deg)", "V1w (V)", "V2w (V)"):
        if col not in df.columns:
            raise KeyError(f"column {col!r} missing; columns: {', '.join(map(str, df.columns))}")
    if current_amplitude_A is None:
        if "Current amplitude (A)" not in df.columns:
            raise KeyError("column 'Current amplitude (A)' missing: pass current_amplitude_A")
        current_amplitude_A = float(pd.to_numeric(df["Current amplitude (A)"]).mean())
    i0 = float(current_amplitude_A)
    field = np.abs(pd.to_numeric(df["Field (T)"], errors="coerce").to_numpy(float))
    angle = pd.to_numeric(df["Field angle (deg)"], errors="coerce").to_numpy(float)
    v1 = pd.to_numeric(df["V1w (V)"], errors="coerce").to_numpy(float)
    v2 = pd.to_numeric(df["V2w (V)"], errors="coerce").to_numpy(float)
    ok1 = np.isfinite(field) & np.isfinite(angle) & np.isfinite(v1)
    if ok1.sum() < 4:
        raise ValueError("angle scans need V1w (V) at ≥ 4 points for the planar-Hall "
                         "amplitude")
    out: dict = {"current_amplitude_A": i0}
    first = fit_first_harmonic(field[ok1], angle[ok1], v1[ok1], i0, mu0_hk_T)
    out.update(first)
    hk = float(first.get("mu0_hk_T", mu0_hk_T))
    if mu0_hk_T is not None:
        out.update({"mu0_hk_T": hk, "mu0_hk_T_err": 0.0})
    rp, rp_err = first["dr_phe_ohm"], first["dr_phe_ohm_err"]

    ok2 = np.isfinite(field) & np.isfinite(angle) & np.isfinite(v2)
    groups = field_groups(np.where(ok2, field, np.nan))
    per = []
    for g in np.unique(groups[groups >= 0]):
        sel = groups == g
        if np.unique(np.round(np.mod(angle[sel], 360.0), 3)).size < 6:
            continue
        per.append(fit_second_harmonic(field[sel], angle[sel], v2[sel], hk))
    if len(per) < 2:
        raise ValueError(f"the Avci separation needs angle scans (≥ 6 angles) at ≥ 2 field "
                         f"magnitudes; found {len(per)}")
    bf = np.array([p["field_T"] for p in per])
    a, ae = np.array([p["a_V"] for p in per]), np.array([p["a_V_err"] for p in per])
    bb, be = np.array([p["b_V"] for p in per]), np.array([p["b_V_err"] for p in per])

    # (3) damping-like and thermoelectric: a = s/(B + M_eff) + c
    if mu0_meff_T is not None:
        meff, meff_err = float(mu0_meff_T), 0.0
        coef, cov = _weighted_line(1.0 / (bf + meff), a, ae)
        s_, c_, s_err, c_err = coef[0], coef[1], np.sqrt(cov[0, 0]), np.sqrt(cov[1, 1])
    else:
        if len(per) < 4:
            raise ValueError("μ0M_eff is not known (argument, 'Film mu0Meff' or sample "
                             "metadata) and fitting it needs angle scans at ≥ 4 fields; "
                             f"found {len(per)}")
        def chi2(m):
            c = _weighted_line(1 / (bf + m), a, ae)[0]
            return float(np.sum(((c[0] / (bf + m) + c[1] - a) / ae) ** 2))
        grid = np.linspace(-0.9 * bf.min() + 1e-3, 5.0, 600)
        m0 = float(grid[int(np.argmin([chi2(m) for m in grid]))])
        c0 = _weighted_line(1 / (bf + m0), a, ae)[0]
        popt, pcov = curve_fit(lambda bb_, s1, c1, m1: s1 / (bb_ + m1) + c1, bf, a,
                               p0=[c0[0], c0[1], m0], sigma=ae, absolute_sigma=True,
                               maxfev=20000)
        # the per-field errors are the scale; widened by the reduced χ² when it exceeds 1
        pcov = pcov * max(1.0, chi2(popt[2]) / (bf.size - 3)) if bf.size > 3 else pcov
        perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
        s_, c_, meff = popt
        s_err, c_err, meff_err = perr
    out.update({"mu0_meff_T": float(meff), "mu0_meff_T_err": float(meff_err),
                "v2w_ane_V": float(c_), "v2w_ane_V_err": float(c_err),
                "v_ane_per_A2_V": float(-2 * c_ / i0 ** 2),
                "v_ane_per_A2_V_err": float(2 * c_err / i0 ** 2),
                "n_fields": float(len(per))})
    if dr_ahe_ohm:
        hdl = -2 * s_ / (i0 * dr_ahe_ohm)
        hdl_err = 2 * s_err / abs(i0 * dr_ahe_ohm)
        out.update({"mu0_hdl_T": hdl, "mu0_hdl_T_err": hdl_err,
                    "mu0_hdl_per_A_T": hdl / i0, "mu0_hdl_per_A_T_err": hdl_err / i0})
    # (4) field-like (Oersted included): b = k/B, k = −I0·ΔR_P·B_FL
    (k,), kcov = _weighted_line(1.0 / bf, bb, be, intercept=False)
    k_err = float(np.sqrt(kcov[0, 0]))
    hfl = -k / (i0 * rp)
    hfl_err = abs(hfl) * float(np.hypot(k_err / k, rp_err / rp)) if k else k_err / abs(i0 * rp)
    out.update({"mu0_hfl_T": hfl, "mu0_hfl_T_err": hfl_err,
                "mu0_hfl_per_A_T": hfl / i0, "mu0_hfl_per_A_T_err": hfl_err / i0})
    out.update(_efficiencies(out, mu0_ms_T, thickness_m, hm_thickness_m, width_m, hm_below))
    out = {k_: float(v) for k_, v in out.items()}
    if table:
        out["per_field"] = [{k_: float(v) for k_, v in p.items()} for p in per]
    return out
