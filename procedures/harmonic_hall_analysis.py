"""Analysis of harmonic-Hall measurements: field sweeps of perpendicular magnets — the
damping-like and field-like spin-orbit effective fields with the planar-Hall correction
(Hayashi et al., PRB 89, 144425, 2014; physics.md) — and in-plane angle scans of in-plane
magnets (Avci et al., PRB 90, 224427, 2014; :mod:`.harmonic_hall_angle_analysis`, which
:func:`analyze_harmonic_hall` calls when the data are angle scans). This module is the
entry point the registry names: it resolves the priors and adds the torque efficiencies.

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
by H_DL/(H_K cos θ), so along x V_2ω is regressed on (∂V_ω/∂H)/cos θ, cos θ = √(1 − H²/H_K²)
with H_K from the V_ω quartic itself (p4/p2 = 1/(4H_K²), :func:`branch_b`), the correction's
error propagated. Without it H_DL came out high by about the mean h² over the window:
+1.4 % (DL) at ±0.19 H_K on the simulated bench's noiseless harmonics (perpendicular_sot_hallbar,
μ0H_K = 0.212 T), +3.7 % at ±0.28 H_K; random-truth dry runs (tests/test_random_truth.py) saw
+1.1 %, 5 standard errors. The fields themselves come from one fit of both directions per
m_z branch (:func:`joint_fields`): Hayashi's cross terms through ξ_R carry cos²θ in the
macrospin, which his constant ratios leave out (H_FL leaked by up to −7.8 % at large
|ξ_R·H_DL|), and the V_ω coefficients' errors (slopes and H_K) enter with their covariance.
Where the file records the sweep direction ("Branch"), a field reading that lags the field
the lock-ins saw is fitted out first (:func:`_direction_lag`). Keep the window small
(default: half of each branch's extent, which is bounded by switching or by the sweep); the
result reports ``window_T``. V_ω and V_2ω may come from different sweeps (rows with only
one of them). Repeated readings of one set point (one "Field set (T)" on one sweep
direction, e.g. the two up-sweeps of a loop) are averaged first, their pooled scatter the
error of each mean, and the fits weighted by it (:func:`set_point_means`; ``n_readings``,
``n_points``). Each branch is refitted at ×1/√2 and ×√2 the window; a change beyond twice its own
standard error (nested windows: √|σ'² − σ²|) is a window systematic, added to the branch's
errors and reported (``mu0_hdl_mzp_T_err_window``, …) with a warning
(:func:`window_systematic`): on the real Ta/CoFeB set H_FL moves by 21 A/m over window
fractions 0.4–0.8 against a statistical ±4 A/m.

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

import math
from pathlib import Path

import numpy as np
import pandas as pd

from labspin.physics.constants import E_CHARGE, HBAR, MU0
from labspin.physics.macrospin import SIGMA_SPIN_HALL, sheet_oersted_per_A
from labspin.results.header import ResultsHeader, parse_header
from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs
from labspin.results.reader import file_index, join_tables, read_table

from .estimates import (
    Option,
    Prior,
    average_repeats,
    combine,
    flag_undetermined,
    least_squares,
    priors_dict,
    resolve_priors,
    settings,
    weighted_fit,
)
from .harmonic_hall_angle_analysis import analyze_angle_scans, is_angle_scan

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
    """Read results files (header included) and analyze them together, each file's rows
    kept apart (``attrs["file_rows"]``: a branch's history never runs across files); options
    as :func:`analyze_harmonic_hall` (over the header's procedure parameters)."""
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    return analyze_harmonic_hall(join_tables([read_table(p) for p in paths],
                                             names=[str(p) for p in paths]), **options)


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
def branch_labels(h: np.ndarray, v1: np.ndarray,
                  files: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """Label each row of one field direction with its m_z branch, +1/−1 by the 1ω level
    (0 where unknown); one branch only → all +1. Also get the level between the branches and
    half their separation (NaN with one branch).

    Rows with V_ω: at small field (|H| ≤ 0.15 max|H|) one branch is one parabola; if a
    parabola leaves residuals above a fifth of the spread, the values are split into two
    levels at the largest gap of the sorted values. Rows without V_ω (a 2ω-only sweep): the
    branch of the last saturating field (|H| > ½ max|H|) seen before them in their own file
    (``files``: each row's file number; rows before a file's first saturating field: 0),
    mapped onto the levels by the V_ω rows' same rule."""
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
    files = np.zeros(n, int) if files is None else np.asarray(files)
    last = 0.0
    for i in range(n):
        if i and files[i] != files[i - 1]:       # another file: its magnet's history unknown
            last = 0.0
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
def set_point_means(h, v1, v2, set_point=None, sweep=None) -> dict:
    """Average the repeated readings of one branch's set points (:func:`estimates.
    average_repeats`): a set point is one value of ``set_point`` (the "Field set (T)" column;
    else the measured field ``h`` itself, so only exact repeats) on one sweep direction
    ``sweep`` (the "Branch" column, where recorded). Get {"h": the mean measured field per
    set point, "v1", "v2", "v1_err", "v2_err" (None without repeats), "n", "s" (each set
    point's sweep direction, None unless both are there)}."""
    key = np.round(np.asarray(h if set_point is None else set_point, float), 12)
    sweep = np.zeros(key.size) if sweep is None else np.asarray(sweep, float)
    pairs = list(zip(key, sweep))
    index = {k: i for i, k in enumerate(sorted(set(pairs)))}
    cells = np.array([index[k] for k in pairs], int)
    out = average_repeats(cells, {"v1": v1, "v2": v2, "h": h, "s": sweep})
    out["s"] = out["s"] if np.any(out["s"] > 0) and np.any(out["s"] < 0) else None
    return out


def branch_b(h1, v1, h2, v2, window_T: float, e1=None, e2=None,
             tilt: bool = False, d1=None, d2=None) -> dict:
    """Get B = (∂V_2ω/∂H)/(∂²V_ω/∂H²) (T) of one branch and one direction, its standard
    error, and the sign of the 1ω curvature, from rows within |H| ≤ window_T.

    V_ω: quartic polynomial (quadratic below 12 points); V_2ω = c + B·∂V_ω/∂H. The error combines
    the regression's and the relative error of the V_ω curvature (which scales B). With the
    readings' errors ``e1``, ``e2`` (repeats' scatter, :func:`set_point_means`) the fits are
    weighted and their covariance widened by the reduced χ² when above 1
    (:func:`estimates.weighted_fit`); without, ordinary least squares scaled by the
    residuals.

    ``tilt`` (the damping-like sweep, field along x): a torque tangent to m's rotation acts as
    a field along H of H_DL/cos θ, so V_2ω = c + B·(∂V_ω/∂H)/cos θ with B the field at the
    axis. cos θ = √(1 − H²/H_K²) of the uniaxial macrospin, V_ω ∝ cos θ, whose Taylor
    coefficients give H_K from the data alone (scale- and offset-free): p4/p2 = 1/(4H_K²)
    (quartic fits only; without a resolved p4 < 0 relative to p2 no correction)."""
    s1 = np.abs(h1) <= window_T
    s2 = np.abs(h2) <= window_T
    if s1.sum() < 4 or s2.sum() < 4:
        raise ValueError(f"too few points within the fit window ±{window_T:g} T "
                         f"({int(s1.sum())} with V1w, {int(s2.sum())} with V2w)")

    def fit(design, y, e, sel):
        return least_squares(design, y[sel]) if e is None else \
            weighted_fit(design, y[sel], np.asarray(e)[sel])
    scale = window_T
    degree = 4 if s1.sum() >= 12 else 2
    lag = _direction_lag(h1, v1, e1, s1, d1, scale, degree, fit)
    if lag:
        h1, h2 = h1 + lag * d1, h2 + lag * d2
    x1 = h1[s1] / scale
    p, pcov = fit(np.vander(x1, degree + 1, increasing=True), v1, e1, s1)
    x2 = h2[s2] / scale
    deriv = _omega_slope(p, x2, scale)

    def regress(inv_hk2: float):
        """V_2ω on ∂V_ω/∂H·(1/cos θ) with 1/H_K² = inv_hk2 (window units; 0: no tilt)."""
        return fit(np.column_stack(
            [np.ones_like(x2), deriv / np.sqrt(1 - inv_hk2 * x2 ** 2)]), v2, e2, s2)

    hk = _inv_hk2(p, pcov, x2.max()) if degree == 4 else None
    inv_hk2, inv_hk2_err = (0.0, 0.0) if hk is None or not tilt else hk
    q, qcov = regress(inv_hk2)
    b = float(q[1])
    rel_curv = float(np.sqrt(pcov[2, 2]) / abs(p[2])) if p[2] != 0 else np.inf
    err = float(np.hypot(np.sqrt(qcov[1, 1]), abs(b) * rel_curv))
    if inv_hk2_err:                               # the tilt correction's own error
        err = float(np.hypot(err, 0.5 * (regress(inv_hk2 + inv_hk2_err)[0][1]
                                         - regress(max(inv_hk2 - inv_hk2_err, 0.0))[0][1])))
    sweep = {"scale": scale, "p": p, "pcov": pcov, "hk": hk, "x2": x2, "v2": v2[s2],
             "e2": None if e2 is None else np.asarray(e2, float)[s2]}
    return {"b_T": b, "b_T_err": err, "curvature_sign": float(np.sign(p[2])),
            "n1": int(s1.sum()), "n2": int(s2.sum()), "sweep": sweep, "lag_T": lag}


def _direction_lag(h1, v1, e1, sel, d1, scale: float, degree: int, fit) -> float:
    """Get the field reading's lag δ (T) behind the field the voltages were read at, one
    value for both sweep directions d1 = ±1 (up, down): the true field is H + d·δ. Fitted
    as V_ω = poly(H + d·δ), iterated from δ = 0 with the regressor d·∂V_ω/∂H; 0 without both
    directions in the window (or below 12 points).

    Why: on the simulated bench the field column reads behind the field the lock-ins saw (at
    0.076 T up and down readings 86 µT apart with V_2ω equal to 6e-5; fitted δ ≈ 24 µT within
    the default window, random-truth seeds 0, 5, 10); the default
    loop crosses positive fields twice upward and once downward, so the lag does not cancel
    and bends the V_ω quartic's h⁴ term, from which H_K comes (:func:`_inv_hk2`): H_K came
    out 0.192 T against 0.212 T, and the tilt correction took |H_DL| 0.4 % low in every
    random-truth draw."""
    if d1 is None or degree < 4:
        return 0.0
    d = np.asarray(d1, float)[sel]
    if (d > 0).sum() < 4 or (d < 0).sum() < 4:
        return 0.0
    lag = 0.0
    for _ in range(4):
        x = (h1[sel] + lag * d) / scale
        base = np.vander(x, degree + 1, increasing=True)
        p, _ = fit(base, v1, e1, sel)
        q, _ = fit(np.column_stack([base, d * _omega_slope(p, x, scale)]), v1, e1, sel)
        lag += float(q[-1])
    return lag if abs(lag) < 0.1 * scale else 0.0


def _positive(e) -> np.ndarray:
    """Get errors with those ≤ 0 or non-finite replaced by the smallest positive one (1
    where none is), as :func:`estimates.weighted_fit` weights them."""
    e = np.asarray(e, float)
    good = np.isfinite(e) & (e > 0)
    return np.where(good, e, np.min(e[good]) if good.any() else 1.0)


def _omega_slope(p, x, scale: float) -> np.ndarray:
    """Get ∂V_ω/∂H (V/T) of the V_ω polynomial ``p`` (coefficients of (H/scale)^k) at
    x = H/scale."""
    return sum(k * p[k] * x ** (k - 1) for k in range(1, len(p))) / scale


def _inv_hk2(p, pcov, x_max: float) -> tuple[float, float] | None:
    """Get 1/H_K² and its error (units of the window: H_K/scale) from a V_ω quartic:
    V_ω ∝ cos θ = √(1 − H²/H_K²) has p4/p2 = 1/(4H_K²); None where the quartic does not
    resolve it (p4/p2 ≤ 0, an error as large as itself, or cos θ undefined in the window)."""
    if len(p) != 5 or p[2] == 0 or p[4] == 0:
        return None
    k = 4 * p[4] / p[2]
    k_err = abs(k) * math.sqrt(pcov[4, 4] / p[4] ** 2 + pcov[2, 2] / p[2] ** 2
                               - 2 * pcov[2, 4] / (p[2] * p[4]))
    if 0 < k and k_err < k and (k + k_err) * x_max ** 2 < 1:
        return float(k), float(k_err)
    return None


def _pooled_inv_hk2(sweeps, ps=None) -> float:
    """Get 1/H_K² (T⁻²) of one m_z branch from the V_ω quartics of its sweeps along x and
    y (:func:`_inv_hk2`, the same H_K), weighted by their errors at the fitted coefficients;
    ``ps``: other coefficients to evaluate it at (the error propagation); 0 where neither
    resolves it (no tilt correction)."""
    num = den = 0.0
    for k, sw in enumerate(sweeps):
        if sw["hk"] is None:
            continue
        p = sw["p"] if ps is None else ps[k]
        w = (sw["hk"][1] / sw["scale"] ** 2) ** -2
        num += w * 4 * p[4] / p[2] / sw["scale"] ** 2
        den += w
    return num / den if den else 0.0


def joint_fields(sx: dict, sy: dict, mz: float, xi_r: float,
                 inv_hk2: float | None = None) -> dict:
    """Get the current-induced field components (ΔH_X, ΔH_Y) (T, at I0: Hayashi's) of one
    m_z branch from its sweeps along x (``sx``) and y (``sy``) (:func:`branch_b`'s
    ``sweep``), fitted together, with their covariance.

    The uniaxial macrospin (sin θ = H/H_K, m in the plane of the field and z; physics.md's
    R_xy) to first order in the current-induced fields, b_X = −ΔH_X/2, b_Y = −ΔH_Y/2,
    s = sign(m_z), D = ∂V_ω/∂H of each sweep:

        along x:  V_2ω = c_x + (D/cos θ)·(b_X − 2 ξ_R s cos²θ b_Y),
        along y:  V_2ω = c_y + D·(b_Y − 2 ξ_R s cos²θ b_X).

    The damping-like field (m×σ) is tangent to m's rotation along x (hence 1/cos θ, see
    :func:`branch_b`) but along x̂ with magnitude cos θ when m turns toward y; the planar-Hall
    signal of an in-plane field transverse to the sweep is 2ΔR_P·H·ΔH_⊥/H_K², i.e.
    −2ξ_R·cos θ·D·ΔH_⊥. At H → 0 this is Hayashi's B_X = b_X − 2ξ_R s b_Y (his formula inverted);
    his constant ratios leave the cos²θ out, which moved H_FL by −2ξ_R·H_DL·⟨h²⟩: −7.8 % on
    noiseless curves at ξ_R = −0.31, ξ_DL = 0.3 (window ±0.19 H_K) and 4–6 % in random-truth
    draws. cos θ = √(1 − H²/H_K²), H_K pooled from both sweeps' V_ω quartics
    (:func:`_pooled_inv_hk2`; none resolved: cos θ = 1, Hayashi's), or ``inv_hk2`` (T⁻²)
    held fixed: the refits in other windows (:func:`window_systematic`) take the H_K of
    the chosen window, a property of the film; re-estimated in a narrower window, where the
    quartic may no longer resolve it, the correction would switch off and fake a window
    dependence.

    Errors: the regression's (weighted by the set points' errors, else by each sweep's own
    residual scatter), and the V_ω coefficients' (the slopes D and H_K), propagated with
    their full covariance through a numerical Jacobian (V_ω and V_2ω are read by different
    lock-ins: independent). Get {"dhx", "dhy" (T), "cov" (2×2, T²)}."""
    sweeps, fixed = (sx, sy), inv_hk2

    def design(ps):
        inv_hk2 = _pooled_inv_hk2(sweeps, ps) if fixed is None else fixed
        blocks = []
        for k, (sw, p) in enumerate(zip(sweeps, ps)):
            h = sw["x2"] * sw["scale"]
            cos = np.sqrt(np.clip(1 - inv_hk2 * h ** 2, 1e-6, None))
            d = _omega_slope(p, sw["x2"], sw["scale"])
            own, cross = (d / cos, -2 * xi_r * mz * cos * d) if k == 0 else \
                (d, -2 * xi_r * mz * cos ** 2 * d)
            cols = np.zeros((h.size, 4))
            cols[:, k] = 1.0
            cols[:, 2], cols[:, 3] = (own, cross) if k == 0 else (cross, own)
            blocks.append(cols)
        return np.vstack(blocks)

    y = np.concatenate([sx["v2"], sy["v2"]])
    ps0 = [sx["p"], sy["p"]]
    a0 = design(ps0)
    resid = y - a0 @ np.linalg.lstsq(a0, y, rcond=None)[0]
    e = []
    for k, sw in enumerate(sweeps):
        if sw["e2"] is not None:
            e.append(sw["e2"])
            continue
        r = resid[:sx["v2"].size] if k == 0 else resid[sx["v2"].size:]
        e.append(np.full(r.size, math.sqrt(np.sum(r ** 2) / max(1, r.size - 2))))
    e = _positive(np.concatenate(e))
    q, qcov = weighted_fit(a0, y, e)

    def coef(ps):
        a = design(ps) / e[:, None]
        return np.linalg.lstsq(a, y / e, rcond=None)[0][2:]
    cov = qcov[2:, 2:].copy()
    for k, sw in enumerate(sweeps):
        jac = np.zeros((2, len(sw["p"])))
        for i in range(len(sw["p"])):
            step = 0.1 * math.sqrt(sw["pcov"][i, i]) or 1e-9 * (abs(sw["p"][i]) or 1.0)
            up, dn = [np.array(p, float) for p in ps0], [np.array(p, float) for p in ps0]
            up[k][i] += step
            dn[k][i] -= step
            jac[:, i] = (coef(up) - coef(dn)) / (2 * step)
        cov += jac @ sw["pcov"] @ jac.T
    return {"dhx": -2.0 * float(q[2]), "dhy": -2.0 * float(q[3]), "cov": 4.0 * cov,
            "inv_hk2": _pooled_inv_hk2(sweeps) if fixed is None else fixed}


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
    into the per-ampere fields, the film into ξ; ξ_R's after the branches are combined, since
both share it). Without ΔR_A its sign is taken as +1 and
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
        out = analyze_angle_scans(df, priors, warnings)
    else:
        out = _analyze_field_sweeps(df, priors, set_, warnings)
    out.update(_efficiencies(out, priors, set_["hm_below"], warnings))
    flag_undetermined(out, [k for k in out if "_err" not in k], warnings,
                      may_vanish=[k for k in out if k.startswith(("mu0_h", "xi_", "b_",
                                                                   "v2w", "v_ane"))])
    out = {k: (int(v) if k.startswith("n_") else float(v)) for k, v in out.items()}
    out["priors"] = priors_dict(priors)
    out["warnings"] = warnings
    return out


def _branch_fields(bx: dict, by: dict, mz: float, xi_r: float,
                   inv_hk2: float | None = None) -> tuple[float, ...]:
    """Get (H_DL, H_FL, their errors (T), 1/H_K² (T⁻²), the joint fit) of one m_z branch
    from its sweeps along x and y
    (:func:`joint_fields`; σ = −ŷ, see above): m×σ = −m_z·σ_y·x̂, so H_DL = −σ_y·sign(m_z)·ΔH_X
    and H_FL = σ_y·ΔH_Y."""
    f = joint_fields(bx["sweep"], by["sweep"], mz, xi_r, inv_hk2)
    sy = SIGMA_SPIN_HALL[1]
    return (-sy * mz * f["dhx"], sy * f["dhy"], math.sqrt(f["cov"][0, 0]),
            math.sqrt(f["cov"][1, 1]), f["inv_hk2"], f)


WINDOW_CHECKS = (1 / math.sqrt(2.0), math.sqrt(2.0))
"""The fit windows (× the chosen one) at which the field-sweep fields are refitted to find
how far they depend on the window (:func:`window_systematic`)."""
WINDOW_SIGNIFICANCE = 2.0
"""A refit's change counts as a systematic beyond this many standard errors of the change."""


def _branches(field, v1, direction, sign, files, set_field, sweep, v2) -> list[dict]:
    """Get each (direction, 1ω-level label) group of field-sweep rows as the fits need it,
    whatever the window: its readings averaged per set point (:func:`set_point_means`), the
    readings and set points counted, and its extent (the fields where its 1ω level is clearly
    its own — beyond half-way to the other level: switching, or saturation in plane; None
    where there is none)."""
    out = []
    for ax in ("x", "y"):
        rows = np.where((direction == ax) & np.isfinite(field))[0]
        if rows.size == 0:
            continue
        h = field[rows] * sign[rows]
        labels, mid, half = branch_labels(h, v1[rows], files[rows])
        for lab in (-1.0, 1.0):
            sel = labels == lab
            sel1 = sel & np.isfinite(v1[rows])
            sel2 = sel & np.isfinite(v2[rows])
            if sel1.sum() < 4 or sel2.sum() < 4:
                continue
            strong = sel1
            if np.isfinite(mid):
                strong = sel1 & (np.abs(v1[rows] - mid) > half)
            ext = min(h[strong].max(), -h[strong].min()) if strong.sum() >= 2 else 0.0
            at = rows[sel]
            m = set_point_means(h[sel], v1[at], v2[at],
                                None if set_field is None else set_field[at] * sign[at],
                                None if sweep is None else sweep[at] * sign[at])
            out.append({"ax": ax, "means": m, "extent": ext if ext > 0 else None,
                        "n_readings": int(sel.sum()), "n_points": int((m["n"] > 0).sum())})
    return out


def _branch_bs(branches: list[dict], window_T, window_fraction, ahe_sign,
               scale: float = 1.0) -> tuple[dict, list]:
    """Get Hayashi's B per (direction, m_z sign) of :func:`_branches` and the windows used,
    with every fit window (window_T, or window_fraction of each branch's extent) multiplied
    by ``scale``; a branch whose window would reach past its extent (fraction·scale > 1) or
    hold too few points is left out (at scale 1 the latter raises)."""
    bs: dict[tuple[str, float], dict] = {}
    windows = []
    for br in branches:
        if window_T is not None:
            w = window_T * scale
        elif br["extent"] is None or window_fraction * scale > 1.0:
            continue
        else:
            w = window_fraction * scale * br["extent"]
        m = br["means"]
        ok1, ok2 = np.isfinite(m["v1"]), np.isfinite(m["v2"])
        try:
            res = branch_b(m["h"][ok1], m["v1"][ok1], m["h"][ok2], m["v2"][ok2], w,
                           None if m["v1_err"] is None else m["v1_err"][ok1],
                           None if m["v2_err"] is None else m["v2_err"][ok2],
                           tilt=br["ax"] == "x",
                           d1=None if m["s"] is None else m["s"][ok1],
                           d2=None if m["s"] is None else m["s"][ok2])
        except ValueError:
            if scale == 1.0:
                raise
            continue
        res.update(n_readings=br["n_readings"], n_points=br["n_points"])
        mz = -res["curvature_sign"] * ahe_sign
        windows.append(w)
        key = (br["ax"], mz)
        if key in bs and bs[key]["b_T_err"] <= res["b_T_err"]:
            continue                 # two label groups on one m_z: keep the better one
        bs[key] = res
    return bs, windows


def window_systematic(value: float, err: float, refits) -> float:
    """Get the fit-window systematic of a field-sweep estimate (its unit): the largest
    change among ``refits`` [(value', err'), …] — the same data refitted in a narrower or
    wider window — beyond what statistics give it, 0 if none is significant.

    The windows are nested, so the change has variance |err'² − err²| (Barlow,
    hep-ex/0207026, for estimates from a subset of the data); a change larger than
    :data:`WINDOW_SIGNIFICANCE` times its standard error counts, as √(Δ² − var): the part
    that the truncated model (Hayashi's first order in H/H_K, a quartic V_ω) and unmodelled
    signals (thermal voltages, a tilted field) make window-dependent."""
    worst = 0.0
    for v, e in refits:
        if not (math.isfinite(v) and math.isfinite(e)):
            continue
        delta, var = v - value, abs(e ** 2 - err ** 2)
        if delta ** 2 > WINDOW_SIGNIFICANCE ** 2 * var:
            worst = max(worst, math.sqrt(delta ** 2 - var))
    return worst


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
    files = file_index(df)

    def column(name):
        return pd.to_numeric(df[name], errors="coerce").to_numpy(float) if name in df.columns \
            else None
    set_field, sweep = column("Field set (T)"), column("Branch")
    branches = _branches(field, v1, direction, sign, files, set_field, sweep, v2)
    bs, windows = _branch_bs(branches, window_T, window_fraction, ahe_sign)
    checks = {s: _branch_bs(branches, window_T, window_fraction, ahe_sign, scale=s)[0]
              for s in WINDOW_CHECKS}
    out: dict = {}
    per = []
    for mz, tag in ((1.0, "mzp"), (-1.0, "mzm")):
        if ("x", mz) not in bs or ("y", mz) not in bs:
            continue
        bx, by = bs[("x", mz)], bs[("y", mz)]
        hdl, hfl, hdl_err, hfl_err, inv_hk2, _ = _branch_fields(bx, by, mz, xi_r)
        refits = [_branch_fields(c[("x", mz)], c[("y", mz)], mz, xi_r, inv_hk2)
                  for c in checks.values() if ("x", mz) in c and ("y", mz) in c]
        # compared at the same H_K (a film property, not refitted): the nominal fit's errors
        # without H_K's own part, as the refits'
        held = _branch_fields(bx, by, mz, xi_r, inv_hk2)
        hdl_sys = window_systematic(hdl, held[2], [(f[0], f[2]) for f in refits])
        hfl_sys = window_systematic(hfl, held[3], [(f[1], f[3]) for f in refits])
        if hdl_sys or hfl_sys:
            branch = "m_z " + ("+" if mz > 0 else "−")
            warnings.append(
                f"{branch}: the fields change with the fit window beyond their statistical "
                f"errors (refitted at ×{WINDOW_CHECKS[0]:.2f} and ×{WINDOW_CHECKS[1]:.2f} the "
                f"window): a window systematic of {hdl_sys / MU0:.3g} A/m (H_DL) and "
                f"{hfl_sys / MU0:.3g} A/m (H_FL) is added to their errors")
        hdl_err, hfl_err = math.hypot(hdl_err, hdl_sys), math.hypot(hfl_err, hfl_sys)
        out.update({f"mu0_hdl_{tag}_T_err_window": hdl_sys,
                    f"mu0_hfl_{tag}_T_err_window": hfl_sys})
        # ξ_R's prior error: common to both branches, so added after they are combined
        shifted = [_branch_fields(bx, by, mz, xi_r + d, inv_hk2)[:2] if xi_r_err > 0
                   else (hdl, hfl)
                   for d in (xi_r_err, -xi_r_err)]
        xi_part = [0.5 * abs(shifted[0][k] - shifted[1][k]) for k in (0, 1)]
        out.update({f"b_x_{tag}_T": bx["b_T"], f"b_x_{tag}_T_err": bx["b_T_err"],
                    f"b_y_{tag}_T": by["b_T"], f"b_y_{tag}_T_err": by["b_T_err"],
                    f"mu0_hdl_{tag}_T": hdl,
                    f"mu0_hdl_{tag}_T_err": math.hypot(hdl_err, xi_part[0]),
                    f"mu0_hfl_{tag}_T": hfl,
                    f"mu0_hfl_{tag}_T_err": math.hypot(hfl_err, xi_part[1])})
        per.append((tag, hdl, hdl_err, hfl, hfl_err, shifted))
    if not per:
        found = ", ".join(f"{ax} m_z {'+' if mz > 0 else '−'}" for ax, mz in bs) or "none"
        raise ValueError("need field sweeps along x (0°) and y (90°) on a common m_z branch "
                         f"with enough points in the fit window; found: {found}")
    labels = [f"m_z {'+' if p[0] == 'mzp' else '−'}" for p in per]
    for key, k in (("mu0_hdl_T", 1), ("mu0_hfl_T", 3)):
        c = combine([p[k] for p in per], [p[k + 1] for p in per], labels, key)
        if c["warning"]:
            warnings.append(c["warning"])
        # the same weights at ξ_R ± its error: the combined value's shift is its ξ_R part
        w = 1.0 / (np.array([p[k + 1] for p in per]) ** 2 + c["sys_err"] ** 2)
        at = [float(np.sum(w * [p[5][j][k // 2] for p in per]) / np.sum(w)) for j in (0, 1)]
        c["err"] = math.hypot(c["err"], 0.5 * abs(at[0] - at[1]))
        out[key], out[key + "_err"] = c["mean"], c["err"]
        per_a = key.replace("_T", "_per_A_T")
        out[per_a] = c["mean"] / i0
        out[per_a + "_err"] = abs(out[per_a]) * math.hypot(c["err"] / abs(c["mean"]),
                                                           i0p.err / i0) if c["mean"] else \
            c["err"] / i0
    out.update({"current_amplitude_A": i0, "xi_r": float(xi_r), "dr_ahe_sign": ahe_sign,
                "n_branches": len(per), "window_T": float(np.max(windows)),
                "n_readings": sum(b["n_readings"] for b in bs.values()),
                "n_points": sum(b["n_points"] for b in bs.values())})
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
