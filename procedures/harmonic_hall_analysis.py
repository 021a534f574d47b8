"""Analysis of harmonic-Hall field sweeps of perpendicular magnets: the damping-like and
field-like spin-orbit effective fields with the planar-Hall correction (Hayashi et al.,
PRB 89, 144425, 2014; physics.md).

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
and V_2ω is regressed on its derivative, V_2ω = c + B·∂V_ω/∂H, which is ∂V_2ω/∂H = B·∂²V_ω/∂H² with B constant. For a uniaxial
macrospin (h = H/H_K) this is exact for the field-like term with the field along y (a real
field, same shape as the applied one), while the damping-like torque rotates m by
H_DL/(H_K cos θ), so B_X carries 1/cos θ ≈ 1 + h²/2 and H_DL comes out high by about half
the mean h² over the window. Measured on the simulated bench's noiseless harmonics
(perpendicular_sot_hallbar, μ0H_K = 0.212 T): +1.4 % (DL) and +0.5 % (FL) for a window of
±0.19 H_K, +3.7 % and +1.4 % for ±0.28 H_K, +7 % and +2.6 % for ±0.38 H_K. Keep the window
small (default: half of each branch's extent, which is bounded by switching or by the sweep);
the result reports ``window_T``. V_ω and V_2ω may come from different sweeps (rows with only one of them).

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

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd

from labspin.constants import E_CHARGE, HBAR, MU0
from labspin.macrospin import sheet_oersted_per_A

# header names → keys of the film/readout dictionary
_HEADER_PARAMETERS = {"AHE amplitude": "dr_ahe_ohm", "PHE amplitude": "dr_phe_ohm",
                      "Film mu0Ms": "mu0_ms_T", "Film thickness": "thickness_m",
                      "Heavy-metal thickness": "hm_thickness_m", "Bar width": "width_m"}


# ------------------------------------------------------------------------ header and files
def header_info(text: str) -> dict:
    """Get readout and film parameters from a labspin results header: the procedure's
    parameters (non-zero ones) over the simulated sample's metadata (``dr_ahe_ohm``,
    ``dr_phe_ohm``, ``mu0_ms_T``, ``thickness_m``)."""
    info: dict = {}
    m = re.search(r"^#\s*Sample parameters:\s*(\{.*\})\s*$", text, re.M)
    if m:
        try:
            sample = json.loads(m.group(1))
        except json.JSONDecodeError:
            sample = {}
        for k in ("dr_ahe_ohm", "dr_phe_ohm", "mu0_ms_T", "thickness_m"):
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
    with open(path, encoding="utf-8", errors="replace") as f:
        return "".join(line for line in f if line.startswith("#"))


def analyze_files(paths, **kwargs) -> dict:
    """Read labspin results files (header included) and analyze them together; keyword
    arguments as :func:`analyze_harmonic_hall` (they override the header)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    frames = [pd.read_csv(p, comment="#") for p in paths]
    info = header_info(read_header(paths[0]))
    info.update({k: v for k, v in kwargs.items() if v is not None})
    return analyze_harmonic_hall(pd.concat(frames, ignore_index=True), **info)


# ------------------------------------------------------------------------ branches
def _branch_labels(h: np.ndarray, v1: np.ndarray) -> tuple[np.ndarray, float, float]:
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

    V_ω: quartic polynomial (quadratic below 12 points); V_2ω = c + B·∂V_ω/∂H. The error combines the regression's and
    the relative error of the V_ω curvature (which scales B)."""
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
                          hm_below: bool = True) -> dict:
    """Get design.md's keys from harmonic-Hall field sweeps along x (0°) and y (90°).

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
        labels, mid, half = _branch_labels(h, v1[rows])
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
    if mu0_ms_T and thickness_m and hm_thickness_m and width_m:
        # H per A (A/m per A) of unit efficiency: ħ/(2e μ0 Ms t_F w d), μ0 Ms = mu0_ms_T
        unit = HBAR / (2 * E_CHARGE * mu0_ms_T * thickness_m * width_m * hm_thickness_m)
        h_oe = sheet_oersted_per_A(width_m, below=hm_below)[1]          # along σ = ŷ
        per_a_dl = out["mu0_hdl_per_A_T"] / MU0
        per_a_fl = out["mu0_hfl_per_A_T"] / MU0
        out.update({"xi_dl": per_a_dl / unit,
                    "xi_dl_err": out["mu0_hdl_per_A_T_err"] / MU0 / unit,
                    "xi_fl": (per_a_fl - h_oe) / unit,
                    "xi_fl_err": out["mu0_hfl_per_A_T_err"] / MU0 / unit})
    return {k: float(v) for k, v in out.items()}
