"""Analysis of ST-FMR (and spin-diode) field sweeps: line shapes, Kittel, damping, torque
efficiency.

Per sweep (one frequency, power, dc current and field polarity), the mixing voltage is fitted
against the field magnitude x = |μ0H| (physics.md, ST-FMR):

    V(x) = S·F_S + A·F_A + c0 + c1·(x − x̄),
    F_S = Δ²/((x − x0)² + Δ²),  F_A = Δ(x − x0)/((x − x0)² + Δ²),

x0 = μ0H_res and Δ the half width at half maximum (T). Both polarities are fitted separately
(offsets and a gaussmeter zero are real) against |B|, so S/A has the same meaning for both.
Then (fields in T, γ as γ/2π in Hz/T):

- Kittel, in-plane film with the field in plane, f = γ·√[(B + B_k)(B + B_k + μ0M_eff)]
  (``labspin.physics.macrospin.kittel_inplane``; B_k an optional in-plane anisotropy field, 0 by
  default; with μ0M_eff < 0 this is also a perpendicular magnet above saturation).
  ``magnet="perpendicular"``: ``kittel_perpendicular`` (μ0M_eff < 0, both branches).
  γ free (reported as ``gamma_Hz_per_T``) or fixed by the ``gamma_Hz_per_T`` argument.
- Damping, Δ(f) = Δ0 + f·α/γ (physics.md's Δ0 + 2πfα/γ0 in tesla) → ``alpha``,
  ``mu0_dh0_T``; γ's error is propagated when γ is free.
- Torque efficiency, ξ = (S/A)·(e·μ0Ms·t·d/ħ)·√(1 + μ0M_eff/μ0H_res) (physics.md; valid
  when the rf field is the Oersted field J_c·d/2 and there is no field-like torque), combined
  over the sweeps; needs μ0Ms (T), the magnet's thickness t (m) and the heavy metal's d (m):
  the options ``mu0_ms_T``, ``thickness_m``, ``hm_thickness_m`` (:data:`OPTIONS`), else the
  file's Sample constants, never the simulator's Sample parameters; without them ``xi`` is
  left out with a warning and only ``s_over_a`` is reported. Sign: design.md's, the
  literature's (S/A > 0 and ξ > 0 for Pt, Liu et al. 2011; S/A < 0 for Ta and W): with the
  magnet on top of the heavy metal and current along +x, σ of a θ_SH > 0 metal points along
  the Oersted field at the magnet, −ŷ. Linearizing the LLG about m = x̂ with an in-plane rf
  field h_y and the damping-like torque gives Re δφ ∝ γ0(H+M_eff)·h_y·(ω0² − ω²) +
  ω²Γ·H_DL·σ_y, so S/A ∝ H_DL·σ_y/h_y; σ_y = −1 and the Oersted field h_y = −J_c·d/2 are
  both negative, hence ξ = +(S/A)·(…).
- Torque efficiency from the dc-bias dependence of the linewidth (Liu et al. 2011;
  physics.md: α_eff = α + H_DL,dc·sin φ/(H + M_eff/2)), → ``xi_dc``: per frequency (and
  polarity, power, angle) the HWHM against the dc current is a straight line whose slope
  dΔ/dI = (f/γ)·μ0H_DL-per-A·(m·σ)/((B1 + B2)/2) (T/A), m·σ = −sin φ_M, gives
  ``mu0_hdl_per_A_T``, with
  B1 = B·cos(φ_M − φ) + B_k·cos 2φ_M and B2 = B·cos(φ_M − φ) + B_k·cos²φ_M + μ0M_eff the
  in-plane and out-of-plane stiffnesses at resonance (B1 + B2 = 2B + μ0M_eff without
  anisotropy, physics.md's form), φ_M the magnetization's angle (the field's, pulled toward
  the easy axis by B_k). Derived from the linearized LLG: the relaxation rate
  Γ = αγ0(H1 + H2)/2 + γ0·H_DL·(m·σ), divided by dω/dH. Sign: design.md's, H_DL > 0 drives
  m toward +σ, σ = −ŷ for a current along +x in a heavy metal with θ_SH > 0 below the
  magnet; with m along +σ (sin φ_M < 0) a positive H_DL adds damping and widens the line.
  So ``xi_dc`` has the literature's sign (positive for Pt, negative for W and Ta), as ``xi``
  from S/A has. ξ =
  μ0H_DL-per-A·2e·μ0Ms·t·w·d/(ħ·μ0) needs the bar width w as well.

Foreign data: :func:`standardize` maps other column names and field units (T, mT, Oe, G)
onto ``Field (T)``, ``Frequency (Hz)``, ``Vmix (V)``; :func:`read_column_pairs` reads the
"one (field, voltage) column pair per frequency" layout of spin-diode exports.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from labspin.physics.constants import E_CHARGE, HBAR, MU0
from labspin.physics.macrospin.analytic import (
    inplane_magnetization_angle as magnetization_angle,
)
from labspin.physics.macrospin.system import SIGMA_SPIN_HALL
from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs
from labspin.results.reader import convert_onto, file_index
from labspin.results.units import convert

from .estimates import (
    Option,
    Prior,
    combine,
    flag_undetermined,
    priors_dict,
    resolve_priors,
    settings,
    weighted_line,
)
from .kittel import (  # noqa: F401 — fit_kittel, fit_damping, … are also this module's API
    GAMMA_E_HZ_PER_T,
    GAMMA_PRIOR,
    HK_MODES,
    OFFSET_KEYS,
    OFFSET_MODES,
    fit_damping,
    fit_kittel,
    fit_resonances,
    inplane_stiffness,
    kittel_inplane_angle,
    linewidth_drag,
)

_LINE_KEYS = ("mu0_hres_T", "mu0_dh_T", "s_V", "a_V", "offset_V", "slope_V_per_T")


# --- reading -------------------------------------------------------------------------------
def read_results(path) -> pd.DataFrame:
    """Read a results file (pymeasure header or plain CSV) with
    :func:`labspin.results.reader.read_table`."""
    from labspin.results.reader import read_table
    return read_table(path)


def standardize(df: pd.DataFrame, columns: dict | None = None,
                field_unit: str | None = None) -> pd.DataFrame:
    """Get a copy of ``df`` with the analysis's columns ``Field (T)``, ``Frequency (Hz)``,
    ``Vmix (V)``.

    columns: {their name: our name}, e.g. {"H": "Field", "f": "Frequency (GHz)", "V": "Vmix"};
    our name may carry a unit ("Field (Oe)", "Frequency (GHz)") or take ``field_unit``.
    Columns already named "Field (mT)", "Field (Oe)", "Frequency (GHz)" are converted too.
    """
    out = df.rename(columns=columns or {}).copy()
    out.attrs = dict(df.attrs)
    if "Field" in out.columns:
        out = out.rename(columns={"Field": f"Field ({field_unit or 'T'})"})
    if "Vmix" in out.columns:
        out = out.rename(columns={"Vmix": "Vmix (V)"})
    convert_onto(out, ["Field (T)", "Frequency (Hz)"])
    missing = [c for c in ("Field (T)", "Frequency (Hz)", "Vmix (V)") if c not in out.columns]
    if missing:
        raise KeyError(f"stfmr analysis needs the columns {missing}; map yours with "
                       f"standardize(df, columns={{...}}, field_unit=...); have "
                       f"{list(df.columns)}")
    return out


def read_column_pairs(path, field_unit: str = "Oe", sep: str = "\t") -> pd.DataFrame:
    """Read a spin-diode export with one (field, voltage) column pair per frequency, the
    header naming the frequency (e.g. "4pf_8.0_GHz"), columns of different lengths; get the
    long table with ``Frequency (Hz)``, ``Field (T)``, ``Vmix (V)``."""
    raw = pd.read_csv(path, sep=sep, header=0, skip_blank_lines=True)
    rows = []
    for k in range(0, raw.shape[1] - 1, 2):
        name = str(raw.columns[k])
        m = re.search(r"([0-9.]+)\s*_?\s*(GHz|MHz|kHz|Hz)", name)
        if not m:
            raise ValueError(f"{path}: cannot read a frequency from column {name!r}")
        f = convert(float(m.group(1)), m.group(2), "Hz")
        pair = raw.iloc[:, [k, k + 1]].apply(pd.to_numeric, errors="coerce").dropna()
        rows.append(pd.DataFrame({"Frequency (Hz)": f,
                                  "Field (T)": convert(pair.iloc[:, 0].to_numpy(), field_unit,
                                                       "T"),
                                  "Vmix (V)": pair.iloc[:, 1].to_numpy()}))
    return pd.concat(rows, ignore_index=True)


# --- one line --------------------------------------------------------------------------------
def lineshape(x, x0, dh, s, a, c0, c1, xm=0.0):
    """Get S·F_S + A·F_A + c0 + c1·(x − xm) (V) at field magnitudes x (T)."""
    u = np.asarray(x, float) - x0
    den = u * u + dh * dh
    return s * dh * dh / den + a * dh * u / den + c0 + c1 * (np.asarray(x, float) - xm)


def _line_basis(t, t0, d, derivative: bool = False):
    """Get the columns F_S, F_A, 1, t of the line model at normalised fields t; with
    ``derivative`` the field derivatives times the width, d·∂F_S/∂t and d·∂F_A/∂t (a
    field-modulated line, :func:`derivative_lineshape`), in place of F_S and F_A."""
    u = t - t0                                # t0 may be a column of centres: (k, n, 4)
    den = u * u + d * d
    one = np.ones_like(u)
    if derivative:
        return np.stack([-2 * d ** 3 * u / den ** 2, d * d * (d * d - u * u) / den ** 2, one,
                         t * one], axis=-1)
    return np.stack([d * d / den, d * u / den, one, t * one], axis=-1)


def _line_jacobian(t, p, derivative: bool = False):
    """Get ∂model/∂(t0, d, S, A, c0, c1) at normalised fields t and parameters p."""
    t0, d, s, a = p[:4]
    u = t - t0
    den = u * u + d * d
    if derivative:
        # G = ∂F/∂t: G_S = −2d²u/den², G_A = d(d² − u²)/den²; the basis is H = d·G, so
        # ∂H/∂t0 = d·∂G/∂t0 and ∂H/∂d = G + d·∂G/∂d, with ∂G_S/∂t0 = 2d²(d² − 3u²)/den³,
        # ∂G_S/∂d = −4du(u² − d²)/den³, ∂G_A/∂t0 = 2du(3d² − u²)/den³,
        # ∂G_A/∂d = (−d⁴ + 6d²u² − u⁴)/den³
        den3 = den ** 3
        g_s, g_a = -2 * d * d * u / den ** 2, d * (d * d - u * u) / den ** 2
        j_t0 = s * d * 2 * d * d * (d * d - 3 * u * u) / den3 \
            + a * d * 2 * d * u * (3 * d * d - u * u) / den3
        j_d = s * (g_s + d * -4 * d * u * (u * u - d * d) / den3) \
            + a * (g_a + d * (-d ** 4 + 6 * d * d * u * u - u ** 4) / den3)
        return np.column_stack([j_t0, j_d, d * g_s, d * g_a, np.ones_like(t), t])
    fs, fa = d * d / den, d * u / den
    # ∂F_S/∂t0 = 2d²u/den², ∂F_S/∂d = 2du²/den², ∂F_A/∂t0 = d(u² − d²)/den²,
    # ∂F_A/∂d = u(u² − d²)/den²
    den2 = den * den
    j_t0 = s * 2 * d * d * u / den2 + a * d * (u * u - d * d) / den2
    j_d = s * 2 * d * u * u / den2 + a * u * (u * u - d * d) / den2
    return np.column_stack([j_t0, j_d, fs, fa, np.ones_like(t), t])


def derivative_lineshape(x, x0, dh, s, a, c0, c1, xm=0.0):
    """Get Δ·∂/∂x[S·F_S + A·F_A] + c0 + c1·(x − xm) (V) at field magnitudes x (T): the
    lock-in signal of a field-modulated line (modulation amplitude ≪ Δ), S and A in volts of
    the absorption's scale (its peak-to-peak is 3√3/4·√(S² + A²) for a pure S or A line)."""
    u = np.asarray(x, float) - x0
    den = u * u + dh * dh
    return (-2 * s * dh ** 3 * u + a * dh * dh * (dh * dh - u * u)) / den ** 2 + c0 \
        + c1 * (np.asarray(x, float) - xm)


def _grid_starts(t, y, step: float, deriv: bool) -> list[tuple[float, float, float]]:
    """Get [(residual sum of squares, t0, d)], best first, over a grid of centres t0 (up to
    60 data points) and widths d (20, geometric from the field step to half the range), the
    linear parameters eliminated by least squares (batched normal equations)."""
    centres = t[1:-1][np.unique(np.linspace(0, t.size - 3, min(t.size - 2, 60)).astype(int))]
    grid = []
    for d in np.geomspace(step, 0.5, 20):
        m = _line_basis(t, centres[:, None], d, deriv)                  # (k, n, 4)
        mt = m.transpose(0, 2, 1)
        try:
            c = np.linalg.solve(mt @ m, (mt @ y)[..., None])[..., 0]
        except np.linalg.LinAlgError:
            c = np.stack([np.linalg.lstsq(mk, y, rcond=None)[0] for mk in m])
        sse = np.sum(((m @ c[..., None])[..., 0] - y) ** 2, axis=1)
        grid += [(float(e), float(t0), float(d)) for e, t0 in zip(sse, centres)]
    grid.sort()
    return grid


def fit_line(field_T, v_V, shape: str = "absorption", start=None) -> dict:
    """Fit one sweep (fields of one sign; fitted against |field|); get x0 = mu0_hres_T,
    mu0_dh_T (HWHM), s_V, a_V, offset_V, slope_V_per_T, each with _err, s_over_a(_err),
    n_points, residual_rms_V, noise_V (the point-to-point scatter, √½·rms of successive
    differences of the residuals) and field_min_T, field_max_T, field_step_T.

    Scale-free: the fit runs in normalised units, t = (|B| − B̄)/span and y = (V −
    median V)/rms, so that volts and microvolts, or an offset, give the same line; the linear
    parameters (S, A, c0, c1) are eliminated by linear least squares at each (x0, Δ)
    (variable projection). Start: a grid over x0 (every data point) and Δ (geometric, from
    the field step to half the range); then a trust-region fit of (x0, Δ) from the best grid
    points, then Gauss–Newton steps on all six parameters until the step is below 10⁻⁴ of
    every standard error. RuntimeError when that does not happen (not converged).
    Errors: the sandwich covariance of the fit under :func:`line_noise_covariance`'s noise
    model (voltage noise plus the field reading's noise times the line's slope, both
    estimated from the residuals), reported as ``voltage_noise_V`` and ``field_noise_T``.
    ``shape="derivative"``: the field derivative of the same line (:func:`derivative_lineshape`,
    field-modulated detection), x0 and Δ the absorption's. ``start``: (x0, Δ) in T to
    start from instead of the grid (a refit of a known line in a narrower window).
    ``shape="auto"``: the shape whose best grid point has the smaller residual (reported
    as ``lineshape``).
    """
    from scipy.optimize import least_squares
    if shape not in ("absorption", "derivative", "auto"):
        raise ValueError(f"shape must be 'absorption', 'derivative' or 'auto', got {shape!r}")
    x = np.abs(np.asarray(field_T, float))
    v = np.asarray(v_V, float)
    order = np.argsort(x)
    x, v = x[order], v[order]
    if x.size < 7:
        raise ValueError(f"a line needs ≥ 7 points, got {x.size}")
    xm = float(x.mean())
    span = float(x[-1] - x[0])
    if span <= 0:
        raise ValueError("a line needs more than one field value")
    vmed = float(np.median(v))
    vs = float(np.sqrt(np.mean((v - vmed) ** 2)))
    if not vs > 0:
        raise ValueError("the voltage is constant: no line")
    t, y = (x - xm) / span, (v - vmed) / vs
    step = max(float(np.median(np.diff(t))), 1e-4)

    grids = {}
    if shape == "auto":                       # the shape whose best grid point fits better
        grids = {k: _grid_starts(t, y, step, k == "derivative")
                 for k in ("absorption", "derivative")}
        shape = min(grids, key=lambda k: grids[k][0][0])
    deriv = shape == "derivative"

    def coef_at(t0, d):
        m = _line_basis(t, t0, d, deriv)
        c, *_ = np.linalg.lstsq(m, y, rcond=None)
        return m, c

    def resid(q):
        m, c = coef_at(q[0], q[1])
        return m @ c - y

    if start is None:
        grid = grids.get(shape) or _grid_starts(t, y, step, deriv)
    else:                                     # a previous fit's (x0, Δ)
        grid = [(0.0, (start[0] - xm) / span, max(start[1] / span, 0.05 * step))]
    lo, hi = [t[0] - 1.0, 0.05 * step], [t[-1] + 1.0, 4.0]
    best = None
    for _, t0, d in grid[:3]:
        r = least_squares(resid, [t0, d], bounds=(lo, hi), x_scale=[step, step],
                          xtol=1e-12, ftol=1e-12, gtol=1e-12, method="trf")
        if best is None or r.cost < best.cost:
            best = r
    _, c = coef_at(*best.x)
    p = np.concatenate([best.x, c])
    converged = False
    dof = max(1, t.size - 6)
    for _ in range(20):                       # Gauss–Newton polish and convergence check
        m = _line_basis(t, p[0], p[1], deriv)
        r = y - m @ p[2:]
        jac = _line_jacobian(t, p, deriv)
        jtj = jac.T @ jac
        try:
            cov = np.linalg.inv(jtj)
        except np.linalg.LinAlgError:
            break
        dp = cov @ (jac.T @ r)
        s2 = float(r @ r) / dof
        sig = np.sqrt(np.clip(np.diag(cov), 0, None) * s2)
        # converged: steps below 1e-4 of the errors, or (noiseless data, errors at the
        # rounding floor) below 1e-10 of the normalised parameters, which are of order 1
        if np.all(np.abs(dp) <= np.maximum(1e-4 * sig, 1e-10 * np.maximum(np.abs(p), 1.0))):
            converged = True
            break
        p_new = p + dp
        if p_new[1] <= 0:
            break
        r_new = y - _line_basis(t, p_new[0], p_new[1], deriv) @ p_new[2:]
        if float(r_new @ r_new) > float(r @ r) * (1 + 1e-12):
            break
        p = p_new
    if not converged:
        raise RuntimeError("the line fit did not converge")
    scale = np.array([span, span, vs, vs, vs, vs / span])
    popt = p * scale
    popt[0] += xm
    popt[4] += vmed
    # the line's slope dV/dt at each point: −∂model/∂t0 plus the baseline's c1
    g2 = (p[5] - jac[:, 0]) ** 2
    cols = noise_columns(cov, jac, g2) * np.array([1.0, (vs / span) ** 2])
    var_v, var_b = fit_noise_variances([cols], [(np.diff(r) * vs) ** 2])
    out = {name: float(popt[k]) for k, name in enumerate(_LINE_KEYS)}
    out["s_over_a"] = float(popt[2] / popt[3])
    out["_noise"] = {"cov": cov, "jac": jac, "g2": g2, "cols": cols,
                     "r2": (np.diff(r) * vs) ** 2,
                     "vs": vs, "span": span, "scale": scale}
    set_line_errors(out, var_v, var_b)
    res_v = r * vs
    out["n_points"] = int(x.size)
    out["residual_rms_V"] = float(np.sqrt(np.mean(res_v ** 2)))
    out["noise_V"] = float(np.sqrt(0.5 * np.mean(np.diff(res_v) ** 2)))
    out["field_min_T"], out["field_max_T"] = float(x[0]), float(x[-1])
    out["field_step_T"] = float(np.median(np.diff(x)))
    out["signal_ptp_V"] = float(np.ptp(v))
    out["lineshape"] = shape
    return out


def noise_columns(cov, jac, g2) -> np.ndarray:
    """Get the (n − 1, 2) columns c with E[d_k²] = c_k0·σ_V² + c_k1·σ_B² for the successive
    differences d = r_(k+1) − r_k of the residuals r of a least-squares fit (``cov`` =
    (JᵀJ)⁻¹, ``jac`` J, ``g2`` the model's squared slope (dV/dB)² at each point, all in the
    fit's units) under the noise of a field sweep: each reading has voltage noise σ_V (the
    lock-in's, the voltmeter's) and a field reading noise σ_B (the gaussmeter's jitter; the
    voltage was taken at the true field), so the point's variance is σ_i² = σ_V² +
    σ_B²·(dV/dB)_i² (errors in variables, to first order). With the hat matrix H =
    J(JᵀJ)⁻¹Jᵀ and D the difference matrix, d = D(I − H)·ε, so E[d_k²] = Σ_j (D(I −
    H))_kj²·σ_j² (exact for the linearised model: no leverage bias). Differences, not the
    residuals themselves: a smooth misfit of the line shape (a real line's background, a
    second mode) also grows with the slope and would pass for field noise; between
    neighbouring points it largely cancels (the real Ta/CoFeB spin-diode set: 4.1 mT from
    the residuals, 1.6 mT from their differences — what remains is scatter the lines do
    show), and the Kittel fit's χ² shows the rest."""
    n = jac.shape[0]
    if n <= 3000:
        m = np.eye(n) - jac @ cov @ jac.T
        m = np.diff(m, axis=0)                       # D(I − H)
        m = m * m
        return np.column_stack([m.sum(axis=1), m @ g2])
    # large sweeps: the projection's share neglected, E[d_k²] ≈ σ_k² + σ_(k+1)²
    return np.column_stack([np.full(n - 1, 2.0), g2[:-1] + g2[1:]])


def _weighted_nnls(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Get the non-negative x of E[y] = a·x, iteratively weighted by 1/E[y] (squared
    residual differences scatter in proportion to their mean); columns normalised."""
    from scipy.optimize import nnls
    norm = np.maximum(a.max(axis=0), 1e-300)
    a = a / norm
    w = np.ones(y.size)
    x = np.zeros(a.shape[1])
    for _ in range(4):
        x, _ = nnls(a * w[:, None], y * w)
        pred = a @ x
        if not pred.max() > 0:
            break
        w = 1.0 / np.maximum(pred, 1e-3 * pred.max())
    return x / norm


def fit_noise_variances(cols, r2) -> tuple[float, float]:
    """Get (σ_V², σ_B²) from the squared residual differences ``r2`` of one or more line fits
    and their :func:`noise_columns` ``cols`` (same units across the fits): a non-negative
    least-squares fit of E[r²], iteratively weighted by 1/E[r²] (r² scatters in proportion
    to its mean). Several fits share both: the lines of one file were read by one
    voltmeter or lock-in, whose noise floor does not depend on the line, and one
    gaussmeter (:func:`pool_line_noise`). A single line's few steep points, where its field
    noise shows, determine σ_B only to ≈ ±30 %, which left B_res pulls of width 1.3; a
    voltage noise of each line's own, fitted beside one shared σ_B, took up part of the
    steep points' scatter (σ_B 13 % low over 150 synthetic lines, against 3 % with both
    shared)."""
    y = np.concatenate(r2)
    var = _weighted_nnls(np.concatenate(cols), y)
    if not np.any(var > 0):                         # a perfect fit: the plain variance
        var[0] = 0.5 * float(np.mean(y))
    return float(var[0]), float(var[1])


def set_line_errors(fit: dict, var_v: float, var_b: float) -> None:
    """Set ``fit``'s parameter errors (each ``_err``, s_over_a_err with the S–A covariance)
    and ``voltage_noise_V``, ``field_noise_T`` from the noise variances σ_V² (V²) and σ_B²
    (T²): the sandwich covariance (JᵀJ)⁻¹·Jᵀ·diag(σ_i²)·J·(JᵀJ)⁻¹ of the fit
    (:func:`noise_columns`'s model), correlations kept. Field jitter concentrates the noise
    on the few steep points where B_res and Δ are decided: the plain estimate s²·(JᵀJ)⁻¹,
    which spreads it evenly, understated their errors ≈ 2× there, and a per-point (HC3)
    sandwich overstated Δ's ≈ 2× where the voltage noise dominates (ΔB0 pulls of width
    0.51, tests/test_fmr_pulls.py); the two-variance model holds in both regimes."""
    nz = fit["_noise"]
    cov, jac = nz["cov"], nz["jac"]
    s2 = var_v / nz["vs"] ** 2 + var_b / nz["span"] ** 2 * nz["g2"]
    pcov = cov @ ((jac * s2[:, None]).T @ jac) @ cov * np.outer(nz["scale"], nz["scale"])
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    for k, name in enumerate(_LINE_KEYS):
        fit[name + "_err"] = float(perr[k])
    s, a = fit["s_V"], fit["a_V"]
    g = np.array([1 / a, -s / a ** 2])              # S/A with the S–A covariance
    fit["s_over_a_err"] = float(math.sqrt(max(g @ pcov[2:4, 2:4] @ g, 0.0)))
    fit["voltage_noise_V"] = math.sqrt(var_v)
    fit["field_noise_T"] = math.sqrt(var_b)
    if "mixing_phase_deg" in fit:                   # fmr_analysis.fit_fmr_line's
        amp = math.hypot(s, a)
        fit["mixing_phase_deg_err"] = math.degrees(math.hypot(s * fit["a_V_err"],
                                                              a * fit["s_V_err"]) / amp ** 2)


VOLTAGE_NOISE_P = 1e-3
"""The p-value below which the lines' own voltage noises are taken to differ
(:func:`voltage_noise_differs`)."""


def voltage_noise_differs(fits: list[dict]) -> bool:
    """Get whether the lines' own voltage-noise estimates (``voltage_noise_V``, which
    :func:`fit_line` set from each line alone) differ beyond their scatter: Bartlett's test
    of equal variances at p < :data:`VOLTAGE_NOISE_P`, each estimate with its number of
    residual differences as degrees of freedom. One lock-in at one sensitivity passes; a VNA
    whose noise floor changes over 0.5–20 GHz, or a lock-in that changed range between
    lines, does not (the real permalloy map: 0.25×10⁻³ to 25×10⁻³ of its signal unit)."""
    from scipy.stats import chi2
    var, dof = [], []
    for f in fits:
        v = f["voltage_noise_V"] ** 2
        if v > 0:
            var.append(v)
            dof.append(f["_noise"]["r2"].size)
    if len(var) < 2:
        return False
    var, dof = np.array(var), np.array(dof, float)
    pooled = float((dof * var).sum() / dof.sum())
    k = var.size
    stat = (dof.sum() * math.log(pooled) - float((dof * np.log(var)).sum())) / (
        1 + (float((1 / dof).sum()) - 1 / dof.sum()) / (3 * (k - 1)))
    return bool(chi2.sf(stat, k - 1) < VOLTAGE_NOISE_P)


def fit_noise_variances_per_line(cols, r2) -> tuple[list[float], float]:
    """Get ([σ_V,i²], σ_B²): each fit's own voltage noise and one field-reading noise they
    share (one gaussmeter), from their :func:`noise_columns` ``cols`` and squared residual
    differences ``r2`` (:func:`fit_noise_variances`' weighted non-negative least squares,
    with a voltage column per fit)."""
    k = len(cols)
    blocks = []
    for i, c in enumerate(cols):
        a = np.zeros((c.shape[0], k + 1))
        a[:, i], a[:, k] = c[:, 0], c[:, 1]
        blocks.append(a)
    var = _weighted_nnls(np.vstack(blocks), np.concatenate(r2))
    own = [float(v) if v > 0 else 0.5 * float(np.mean(r)) for v, r in zip(var[:k], r2)]
    return own, float(var[k])


def pool_line_noise(fits: list[dict]) -> None:
    """Refit the noise of the line fits ``fits`` (of one file: one voltmeter or lock-in,
    one gaussmeter) and set their errors from it (:func:`set_line_errors`): one voltage
    noise σ_V and one field-reading noise σ_B for all (:func:`fit_noise_variances`), or,
    where the lines' own voltage noises differ (:func:`voltage_noise_differs`: a VNA's floor
    over frequency, a lock-in's range), each line's own σ_V with one shared σ_B
    (:func:`fit_noise_variances_per_line`) — one pooled σ_V then set the quiet lines'
    errors by the noisiest (10–25× on the real permalloy map, damping χ²/dof 0.12)."""
    fits = [f for f in fits if "_noise" in f]
    if len(fits) < 2:
        return
    cols, r2 = [f["_noise"]["cols"] for f in fits], [f["_noise"]["r2"] for f in fits]
    if voltage_noise_differs(fits):
        own, var_b = fit_noise_variances_per_line(cols, r2)
        for f, var_v in zip(fits, own):
            set_line_errors(f, var_v, var_b)
        return
    var_v, var_b = fit_noise_variances(cols, r2)
    for f in fits:
        set_line_errors(f, var_v, var_b)


def _group_keys(df: pd.DataFrame) -> list[str]:
    return [c for c in ("Power (dBm)", "DC current (A)", "Field angle (deg)")
            if c in df.columns]


def _unit_suffix(col: str) -> str:
    return {"Power (dBm)": "_dBm", "DC current (A)": "_A", "Field angle (deg)": "_deg"}[col]


def sweeps(df: pd.DataFrame) -> list[tuple[tuple, np.ndarray]]:
    """Get the sweeps of a long table in row order: (key, row positions) with key =
    (frequency, polarity, the optional power, dc current and field angle, file, repeat).
    A new sweep starts where the key's columns change, where a new file starts
    (``df.attrs["file_rows"]``: [(name, number of rows), …], set by ``labspin analyze``), or
    where |B| jumps back against the sweep's net direction by more than half the sweep so
    far (a repeat; only after 7 points, the fewest a line needs, so that jitter of the first
    readings does not split a sweep). Sweeps are never merged, so repeats and files stay
    apart."""
    extra = _group_keys(df)
    b = df["Field (T)"].to_numpy(float)
    cols = [df["Frequency (Hz)"].to_numpy(float), np.where(b < 0, -1, 1)]
    cols += [df[c].to_numpy(float) for c in extra]
    names = [str(name) for name, _ in df.attrs.get("file_rows") or []] or [""]
    files = np.array(names, dtype=object)[file_index(df)]
    out, seen = [], {}
    start = 0

    def close(stop):
        if stop > start:
            key = tuple(float(c[start]) for c in cols) + (files[start],)
            rep = seen.get(key, 0)
            seen[key] = rep + 1
            out.append((key + (rep,), np.arange(start, stop)))

    absb = np.abs(b)
    for i in range(1, len(df)):
        new = any(_differ(c[i], c[i - 1]) for c in cols) or files[i] != files[i - 1]
        if not new and i - start >= 7:
            step = absb[i] - absb[i - 1]
            net = absb[i - 1] - absb[start]
            new = bool(net != 0 and np.sign(step) == -np.sign(net) and abs(step) > 0.5 * abs(net))
        if new:
            close(i)
            start = i
    close(len(df))
    return out


def _differ(a: float, b: float) -> bool:
    """Whether two key values differ, NaN equal to NaN (a constant one file lacks, e.g. a
    power its name does not give, must not split that file into one-point sweeps)."""
    return a != b and not (a != a and b != b)


def line_quality(fit: dict, v_V) -> str | None:
    """Get why a fitted line is not a usable resonance (None when it is):

    - its resonance lies outside the swept window (closer than one HWHM to an end);
    - its width is not resolved (HWHM below half a field step: FWHM under one step) or
      exceeds a quarter of the window (a tail or a baseline, not a line);
    - the film is not saturated there (resonance within 3 HWHM of zero field);
    - its amplitude is not significant (S and A together below 5 standard errors) or far
      larger than the data (√(S² + A²) above 10× the sweep's peak-to-peak voltage);
    - its residuals do not fit the noise: rms residual above 3× the point-to-point noise and
      above 5 % of the line's amplitude (a double feature, a distorted line).
    """
    x0, dh = fit["mu0_hres_T"], fit["mu0_dh_T"]
    lo, hi, step = fit["field_min_T"], fit["field_max_T"], fit["field_step_T"]
    amp = math.hypot(fit["s_V"], fit["a_V"])
    sig = math.hypot(fit["s_V"] / max(fit["s_V_err"], 1e-300),
                     fit["a_V"] / max(fit["a_V_err"], 1e-300))
    ptp = fit.get("signal_ptp_V", float(np.ptp(np.asarray(v_V, float))))
    if not (x0 - dh >= lo and x0 + dh <= hi):
        return (f"resonance {x0 * 1e3:.4g} mT (HWHM {dh * 1e3:.3g} mT) outside the swept "
                f"window {lo * 1e3:.4g}–{hi * 1e3:.4g} mT")
    if dh < 0.5 * step:
        return f"width not resolved (HWHM {dh * 1e3:.3g} mT, field step {step * 1e3:.3g} mT)"
    if dh > 0.25 * (hi - lo):
        return (f"HWHM {dh * 1e3:.3g} mT exceeds a quarter of the window "
                f"{(hi - lo) * 1e3:.3g} mT")
    if x0 < 3 * dh:
        return f"resonance {x0 * 1e3:.3g} mT within 3 HWHM of zero field: film not saturated"
    if sig < 5:
        return f"amplitude not significant ({sig:.2g} standard errors)"
    if amp > 10 * ptp:
        return f"line amplitude {amp:.3g} V far above the data's range {ptp:.3g} V"
    if fit["residual_rms_V"] > 3 * fit["noise_V"] and fit["residual_rms_V"] > 0.05 * amp:
        return (f"residuals {fit['residual_rms_V']:.3g} V exceed the noise "
                f"{fit['noise_V']:.3g} V and 5 % of the line: not one Lorentzian line")
    return None


def fit_lines(df: pd.DataFrame, field_min_T: float | None = None,
              field_max_T: float | None = None, *, signal: str = "Vmix (V)",
              fit_one=fit_line) -> pd.DataFrame:
    """Get the per-sweep table (:func:`sweeps`: one row per sweep, repeats and files apart)
    with frequency_Hz, polarity (+1/−1), power_dBm, dc_current_A, field_angle_deg (when
    present), file, repeat, the fit of ``fit_one`` (field, signal → :func:`fit_line`'s
    dict), ``used`` and ``reason`` (why not: :func:`line_quality`, a failed or unconverged
    fit). The optional field window ``field_min_T`` ≤ |B| ≤ ``field_max_T`` is applied
    before fitting. The usable lines of each file share one voltage and one field-reading
    noise (:func:`pool_line_noise`: one lock-in, one gaussmeter), from which their errors
    are set. ``signal``: the column fitted (another than ``Vmix (V)``: ``df`` has
    ``Field (T)`` and ``Frequency (Hz)`` already)."""
    if signal == "Vmix (V)":
        df = standardize(df)
    ok = np.isfinite(df["Field (T)"]) & np.isfinite(df[signal])
    attrs = dict(df.attrs)
    if not ok.all() and attrs.get("file_rows"):
        # keep the file boundaries: count the kept rows per file
        counts, pos = [], 0
        for name, n in attrs["file_rows"]:
            counts.append((name, int(ok.iloc[pos:pos + int(n)].sum())))
            pos += int(n)
        attrs["file_rows"] = counts
    df = df[ok].reset_index(drop=True)
    df.attrs = attrs
    extra = _group_keys(df)
    names = ["frequency_Hz", "polarity"] + [c.split(" (")[0].lower().replace(" ", "_")
                                            + _unit_suffix(c) for c in extra]
    rows = []
    b_all, v_all = df["Field (T)"].to_numpy(float), df[signal].to_numpy(float)
    for key, idx in sweeps(df):
        row = dict(zip(names, key[:len(names)]))
        row["polarity"] = int(row["polarity"])
        row["file"], row["repeat"] = key[-2], int(key[-1])
        b, v = b_all[idx], v_all[idx]
        inside = np.ones(b.size, bool)
        if field_min_T is not None:
            inside &= np.abs(b) >= field_min_T
        if field_max_T is not None:
            inside &= np.abs(b) <= field_max_T
        try:
            fit = fit_one(b[inside], v[inside])
        except (ValueError, RuntimeError, np.linalg.LinAlgError) as exc:
            row.update({"used": False, "reason": f"no fit: {exc}", "n_points": int(inside.sum())})
            rows.append(row)
            continue
        row.update(fit)
        reason = line_quality(fit, v[inside])
        row["used"], row["reason"] = reason is None, reason
        rows.append(row)
    if not rows:
        raise ValueError("no sweep found (columns Frequency (Hz), Field (T), Vmix (V))")
    for name in {r["file"] for r in rows}:           # one gaussmeter per file
        pool_line_noise([r for r in rows if r["file"] == name and r["used"]])
    for r in rows:
        r.pop("_noise", None)
    return pd.DataFrame(rows)


def unused_line_warnings(lines: pd.DataFrame) -> list[str]:
    """Get one warning per line of a lines table that is not used, naming it and why."""
    return [f"line {r['frequency_Hz'] / 1e9:g} GHz, polarity {r['polarity']:+d}"
            + (f", {r['file']}" if r["file"] else "")
            + (f", repeat {r['repeat']}" if r["repeat"] else "")
            + f" not used: {r['reason']}" for _, r in lines[~lines["used"]].iterrows()]


# --- Kittel and damping ----------------------------------------------------------------------
def xi_from_s_over_a(s_over_a, mu0_hres_T, mu0_meff_T, mu0_ms_T, thickness_m, hm_thickness_m):
    """Get ξ = (S/A)·(e·μ0Ms·t·d/ħ)·√(1 + μ0M_eff/μ0H_res) (physics.md; design.md's sign:
    S/A > 0 and ξ > 0 for Pt; μ0Ms in T, so e·μ0Ms·t·d/ħ is dimensionless)."""
    scale = E_CHARGE * mu0_ms_T * thickness_m * hm_thickness_m / HBAR
    stiffness = np.sqrt(1.0 + mu0_meff_T / np.abs(np.asarray(mu0_hres_T, float)))
    # S/A ∝ H_DL·σ_y/h_y with the Oersted h_y < 0: ξ has the sign of −σ_y·S/A
    return -SIGMA_SPIN_HALL[1] * np.asarray(s_over_a, float) * scale * stiffness


def linewidth_slope_factor(frequency_Hz, b_res_T, field_angle_deg, mu0_meff_T: float,
                           gamma_Hz_per_T: float, mu0_hk_T: float = 0.0,
                           easy_axis_deg: float = 0.0):
    """Get F (dimensionless) with dΔ/dI_dc = F·μ0H_DL-per-A: F = c·(f/γ)·(m·σ)/((B1 + B2)/2)
    (c the dragging factor of :func:`kittel.linewidth_drag`, 1 with m along the field), with
    m·σ = −sin φ_M for design.md's σ = −ŷ (see the module doc; field angle of the field's
    direction, i.e. + 180° for a negative field)."""
    b = np.abs(np.asarray(b_res_T, float))
    pm = magnetization_angle(b, field_angle_deg, mu0_hk_T, easy_axis_deg)
    b1, b2 = inplane_stiffness(b, field_angle_deg, mu0_meff_T, mu0_hk_T, easy_axis_deg)
    m_dot_sigma = SIGMA_SPIN_HALL[1] * np.sin(pm)      # σ = −ŷ
    drag = linewidth_drag(b, field_angle_deg, mu0_meff_T, mu0_hk_T, easy_axis_deg)
    return (np.asarray(frequency_Hz, float) / gamma_Hz_per_T * m_dot_sigma * drag
            / (0.5 * (b1 + b2)))


def fit_dc_linewidth(lines: pd.DataFrame) -> pd.DataFrame:
    """Get, per (frequency, polarity, power, field angle, file and repeat when present) with
    ≥ 2 distinct dc currents among the used lines, the weighted straight line HWHM = Δ(0) +
    slope·I_dc (:func:`estimates.weighted_line`): frequency_Hz, polarity, field_angle_deg (if
    present), mu0_hres_T (mean), slope_T_per_A with _err, n_currents."""
    if "dc_current_A" not in lines.columns:
        return pd.DataFrame()
    keys = ["frequency_Hz", "polarity"] + [c for c in ("power_dBm", "field_angle_deg", "file")
                                           if c in lines.columns]
    rows = []
    ok = lines[lines["used"].astype(bool)] if "used" in lines.columns else lines
    ok = ok[np.isfinite(ok["mu0_dh_T_err"]) & (ok["mu0_dh_T"] > 0)]
    for key, g in ok.groupby(keys, sort=True):
        i = g["dc_current_A"].to_numpy(float)
        if np.unique(i).size < 2:
            continue
        coef, cov = weighted_line(i, g["mu0_dh_T"], g["mu0_dh_T_err"])
        row = dict(zip(keys, key))
        row.update({"mu0_hres_T": float(g["mu0_hres_T"].mean()),
                    "slope_T_per_A": float(coef[0]),
                    "slope_T_per_A_err": float(np.sqrt(cov[0, 0])),
                    "n_currents": float(np.unique(i).size)})
        rows.append(row)
    return pd.DataFrame(rows)


# --- everything --------------------------------------------------------------------------------
OPTIONS = (
    Option("gamma_Hz_per_T", "Hz/T", "γ/2π; given: fixed at it (else fitted where the "
           "frequencies determine it, else the free electron's ± 5 %)"),
    Option("mu0_hk_T", "T", "in-plane uniaxial anisotropy field in the Kittel form (not "
           "given: 0, or fitted with option fit_hk)", 0.0),
    Option("fit_hk", "", "μ0H_k where not given: 'no' (0), 'yes' (fitted) or 'auto' (fitted "
           "where it lowers the Kittel χ² significantly)", "no", constant=False, kind=str),
    Option("mu0_ms_T", "T", "μ0·M_s of the magnet (for ξ)"),
    Option("thickness_m", "m", "magnet thickness t (for ξ)"),
    Option("hm_thickness_m", "m", "heavy-metal thickness d (for ξ)"),
    Option("width_m", "m", "bar width w (for ξ from the dc-bias linewidth)"),
    Option("field_offset_T", "T", "offset of the signed field reading (a Hall probe's zero, "
           "a remanence): true |B| = |B_read| + polarity·offset; fixed at it, its error "
           "propagated, unless fit_field_offset fits it", 0.0),
    Option("fit_field_offset", "", "fit a field offset in the Kittel fit: 'no', 'yes' (one "
           "offset of the signed field), 'per_polarity' (each polarity's own shift of |B|) or "
           "'auto' (the simplest the data ask for)", "no", constant=False, kind=str),
    Option("magnet", "", "'inplane' or 'perpendicular' (PMA film, field in plane)",
           "inplane", constant=False, kind=str),
    Option("easy_axis_deg", "deg", "direction of the in-plane anisotropy from +x", 0.0,
           constant=False),
    Option("field_angle_deg", "deg", "in-plane field angle from +x (default: the data's "
           "'Field angle (deg)', else 0)", None, constant=False),
    Option("min_frequency_Hz", "Hz", "lines below this frequency are not used", 0.0,
           constant=False),
    Option("field_min_T", "T", "field window: smallest |B| fitted", None, constant=False),
    Option("field_max_T", "T", "field window: largest |B| fitted", None, constant=False),
)


def _header_film(df: pd.DataFrame) -> dict:
    """Get the film constants a user typed into the procedure's parameters (the header's
    "Film mu0Ms", "Film thickness", "Heavy-metal thickness", "Bar width"; non-zero)."""
    if not df.attrs.get("header"):
        return {}
    from .harmonic_hall_analysis import header_info
    hdr = header_info(df.attrs["header"])
    return {k: hdr[k] for k in ("mu0_ms_T", "thickness_m", "hm_thickness_m", "width_m")
            if k in hdr}


def analyze_stfmr(df: pd.DataFrame, *, table: bool = False, **options) -> dict:
    """Get design.md's keys from ST-FMR sweeps (columns ``Frequency (Hz)``, ``Field (T)``,
    ``Vmix (V)``; optional ``Power (dBm)``, ``DC current (A)``, ``Field angle (deg)``).

    Options (:data:`OPTIONS`, keyword arguments or ``--option NAME=VALUE[±ERR]``): the
    external constants γ, μ0H_k, μ0Ms, t, d, w and a field offset, each "v" or "v±e" or
    (v, e), else from the file's Sample constants, else the procedure parameters the user
    typed (film constants), else the default; and the settings magnet, easy_axis_deg,
    field_angle_deg, min_frequency_Hz and the field window field_min_T/field_max_T.

    Lines: every sweep is fitted alone (:func:`fit_lines`; repeats and files never merged)
    and used only if it passes :func:`line_quality`; the others are named in ``warnings``.
    ``lines`` lists every sweep (frequency, polarity, power, dc current, file, repeat,
    B_res, ΔH, S, A, S/A with errors, used, reason).

    γ: given (option or file) → fixed at it, its error propagated. Otherwise fitted only
    where the frequencies determine it — the criterion is the free fit's covariance: γ is
    kept free when its standard error is below the default prior's (free electron ± 5 %),
    i.e. when the data know γ better than the default does (3–5 close frequencies do not:
    M_eff and γ are then almost fully correlated and the free error is large); else fixed at
    the default, with a warning, and its error propagated into M_eff and α. ``priors`` lists
    every constant used with its value, error and source.

    Kittel and damping use the used lines at the smallest |dc current| and frequencies ≥
    ``min_frequency_Hz``: jointly and per polarity (``per_polarity``); where the polarities
    disagree beyond their errors (:func:`estimates.combine`) the joint error gets the
    systematic term and a warning. S/A and ξ per line are combined by the same rule. Prior
    errors (μ0Ms, t, d, w) propagate into ξ and ξ_dc. With sweeps at ≥ 2 dc currents
    (in-plane magnets, a known field angle): mu0_hdl_per_A_T from the linewidth's slopes and,
    with μ0Ms, t, d and w, xi_dc. Values the data do not determine are left out with a
    warning. ``table=True`` adds "dc_slopes".
    """
    given = dict(options)
    known = {o.name for o in OPTIONS}
    unknown = sorted(set(given) - known)
    if unknown:
        raise ValueError(f"stfmr: unknown option(s) {', '.join(unknown)}; options: "
                         f"{', '.join(sorted(known))}")
    set_ = settings(OPTIONS, given)
    if set_["magnet"] not in ("inplane", "perpendicular"):
        raise ValueError(f"magnet must be 'inplane' or 'perpendicular', got {set_['magnet']!r}")
    if set_["fit_hk"] not in HK_MODES:
        raise ValueError(f"fit_hk must be one of {', '.join(HK_MODES)}, got {set_['fit_hk']!r}")
    if set_["fit_field_offset"] not in OFFSET_MODES:
        raise ValueError(f"fit_field_offset must be one of {', '.join(OFFSET_MODES)}, got "
                         f"{set_['fit_field_offset']!r}")
    priors = resolve_priors(OPTIONS, {k: v for k, v in given.items() if k not in set_},
                            df.attrs, _header_film(df))
    gamma = priors.get("gamma_Hz_per_T") or Prior(*GAMMA_PRIOR, "default")
    warnings: list[str] = []
    lines = fit_lines(df, set_["field_min_T"], set_["field_max_T"])
    warnings += unused_line_warnings(lines)
    sel = lines[lines["used"] & (lines["frequency_Hz"] >= set_["min_frequency_Hz"])]
    if "dc_current_A" in sel.columns and len(sel):
        i0 = sel["dc_current_A"].abs().min()
        sel = sel[np.isclose(sel["dc_current_A"].abs(), i0)]
    if len(sel) < 2:
        more = f"; and {len(warnings) - 5} more" if len(warnings) > 5 else ""
        raise ValueError(f"need ≥ 2 usable lines for the Kittel fit, got {len(sel)} of "
                         f"{len(lines)} sweeps"
                         + (f" ({'; '.join(warnings[:5])}{more})" if warnings else ""))
    hk = priors["mu0_hk_T"].value
    out, sel, per_pol, _ = fit_resonances(sel, lines, set_, priors, gamma, warnings)
    hk = out.get("mu0_hk_T", hk)                     # fitted where not given
    gam = out.get("gamma_Hz_per_T", priors.get("gamma_Hz_per_T", gamma).value)
    gam_err = out.get("gamma_Hz_per_T_err", priors.get("gamma_Hz_per_T", gamma).err)
    labels = [f"{f / 1e9:g} GHz {p:+d}" for f, p in zip(sel["frequency_Hz"], sel["polarity"])]
    if "dc_current_A" in sel.columns and sel["dc_current_A"].nunique() > 1:
        labels = [f"{lab} {i * 1e3:+g} mA" for lab, i in zip(labels, sel["dc_current_A"])]
    c = combine(sel["s_over_a"], sel["s_over_a_err"], labels, "S/A")
    out["s_over_a"], out["s_over_a_err"] = c["mean"], c["err"]
    # at fixed ξ, S/A falls with frequency as 1/√(1 + M_eff/B_res): the reduced ratio
    # (S/A)·√(1 + M_eff/B_res) = ξ·ħ/(e·μ0Ms·t·d) is the one that lines should share
    kittel = np.sqrt(np.clip(1.0 + out["mu0_meff_T"] / sel["mu0_hres_T"].abs(), 0.0, None))
    red = combine(sel["s_over_a"] * kittel, sel["s_over_a_err"] * kittel, labels,
                  "S/A·√(1 + M_eff/B_res)")
    out["s_over_a_reduced"], out["s_over_a_reduced_err"] = red["mean"], red["err"]
    if c["warning"]:
        why = ("; S/A depends on frequency through the Kittel factor √(1 + M_eff/B_res): the "
               f"reduced S/A·√(1 + M_eff/B_res) has χ²/dof = {red['birge'] ** 2:.3g}")
        warnings.append(c["warning"] + why)
    if red["warning"]:
        warnings.append(red["warning"] + " (a field-like torque, a frequency-dependent rf "
                        "phase or a dc-bias change of the lines: not the Kittel factor)")
    film = [priors.get(k) for k in ("mu0_ms_T", "thickness_m", "hm_thickness_m")]
    if None not in film:
        ms, t, d = (p.value for p in film)
        film_rel = math.sqrt(sum((p.err / p.value) ** 2 for p in film))
        def xi_at(meff):
            xi = xi_from_s_over_a(sel["s_over_a"], sel["mu0_hres_T"], meff, ms, t, d)
            xi_e = np.abs(xi) * sel["s_over_a_err"].to_numpy() / np.abs(sel["s_over_a"])
            return combine(xi, xi_e.to_numpy(), labels, "ξ")

        c = xi_at(out["mu0_meff_T"])
        meff_shift = 0.5 * (xi_at(out["mu0_meff_T"] + out["mu0_meff_T_err"])["mean"]
                            - xi_at(out["mu0_meff_T"] - out["mu0_meff_T_err"])["mean"])
        out["xi"] = c["mean"]
        out["xi_err"] = math.sqrt(c["err"] ** 2 + (c["mean"] * film_rel) ** 2 + meff_shift ** 2)
        if c["warning"]:
            warnings.append(c["warning"])
    else:
        warnings.append("ξ needs mu0_ms_T, thickness_m and hm_thickness_m (options or the "
                        "file's sample constants): only s_over_a is reported")
    out["n_lines"] = int(len(sel))
    slopes = fit_dc_linewidth(lines[lines["frequency_Hz"] >= set_["min_frequency_Hz"]])
    if set_["magnet"] == "inplane" and len(slopes):
        if set_["field_angle_deg"] is not None:
            ang = np.full(len(slopes), float(set_["field_angle_deg"]))
        elif "field_angle_deg" in slopes.columns:
            ang = slopes["field_angle_deg"].to_numpy(float)
        else:
            ang = None                  # no field angle: sin φ unknown, no xi_dc
            warnings.append("dc-bias linewidths need the field angle (option "
                            "field_angle_deg or a 'Field angle (deg)' column)")
        if ang is not None:
            ang = ang + np.where(slopes["polarity"].to_numpy() < 0, 180.0, 0.0)

            def h_at(meff, gamma_):
                fac = linewidth_slope_factor(slopes["frequency_Hz"], slopes["mu0_hres_T"], ang,
                                             meff, gamma_, hk, set_["easy_axis_deg"])
                good = np.abs(fac) > 1e-6
                return good, combine(
                    slopes["slope_T_per_A"].to_numpy()[good] / fac[good],
                    slopes["slope_T_per_A_err"].to_numpy()[good] / np.abs(fac[good]),
                    [f"{f / 1e9:g} GHz {p:+d}" for f, p in
                     zip(slopes["frequency_Hz"][good], slopes["polarity"][good])],
                    "μ0H_DL per A")

            meff, meff_err = out["mu0_meff_T"], out["mu0_meff_T_err"]
            good, c = h_at(meff, gam)
            h = c["mean"]
            # M_eff's and γ's errors move the slope factor: half the shifts, in quadrature
            # (conservative: with γ fixed, M_eff's error holds γ's prior once more)
            shifts = [h_at(meff + meff_err, gam)[1]["mean"]
                      - h_at(meff - meff_err, gam)[1]["mean"]]
            if gam_err > 0:
                shifts.append(h_at(meff, gam + gam_err)[1]["mean"]
                              - h_at(meff, gam - gam_err)[1]["mean"])
            h_err = math.hypot(c["err"], *(0.5 * x for x in shifts))
            if c["warning"]:
                warnings.append(c["warning"])
            if np.isfinite(h):
                out["mu0_hdl_per_A_T"], out["mu0_hdl_per_A_T_err"] = h, h_err
                out["n_dc_lines"] = int(good.sum())
                film_w = film + [priors.get("width_m")]
                if None not in film_w:
                    ms, t, d, w = (p.value for p in film_w)
                    rel = math.sqrt(sum((p.err / p.value) ** 2 for p in film_w))
                    unit = MU0 * HBAR / (2 * E_CHARGE * ms * t * w * d)  # T per A at ξ = 1
                    out["xi_dc"] = h / unit
                    out["xi_dc_err"] = math.hypot(h_err / unit, abs(h / unit) * rel)
    flag_undetermined(out, ("mu0_meff_T", "mu0_hk_eff_T", "gamma_Hz_per_T", "alpha",
                            "mu0_hk_T"), warnings)
    vanish = ("mu0_dh0_T", "s_over_a", "s_over_a_reduced", "xi", "mu0_hdl_per_A_T",
              "xi_dc") + OFFSET_KEYS
    flag_undetermined(out, vanish, warnings, may_vanish=vanish)
    out = {k: (int(v) if k.startswith("n_") else float(v)) for k, v in out.items()}
    out["per_polarity"] = per_pol
    out["lines"] = _line_records(lines)
    out["priors"] = priors_dict(priors)
    out["warnings"] = warnings
    if table:
        out["dc_slopes"] = slopes.to_dict(orient="records")
    return out


_LINE_OUT = ("frequency_Hz", "polarity", "power_dBm", "dc_current_A", "field_angle_deg",
             "file", "repeat", "mu0_hres_T", "mu0_hres_T_err", "mu0_dh_T", "mu0_dh_T_err",
             "s_V", "s_V_err", "a_V", "a_V_err", "s_over_a", "s_over_a_err", "n_points",
             "used", "reason")


_MAY_VANISH = ("s_V", "a_V", "s_over_a")
"""A line's amplitudes may be zero (a purely antisymmetric or symmetric line)."""


def _line_records(lines: pd.DataFrame) -> list[dict]:
    """Get each line as a dict, non-finite numbers as None; an amplitude within its error of
    zero is named in the line's ``consistent_with_zero`` (design.md: no value whose error is
    as large as itself goes out unflagged)."""
    cols = [c for c in _LINE_OUT if c in lines.columns]
    recs = lines[cols].to_dict(orient="records")
    out = []
    for r in recs:
        rec = {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
               for k, v in r.items()}
        zero = [k for k in _MAY_VANISH if isinstance(rec.get(k), float)
                and isinstance(rec.get(k + "_err"), float) and not rec[k + "_err"] < abs(rec[k])]
        if zero:
            rec["consistent_with_zero"] = zero
        out.append(rec)
    return out


def per_frequency_table(df: pd.DataFrame, **window) -> pd.DataFrame:
    """Get the per-sweep fit table (see :func:`fit_lines`), sorted by frequency."""
    return fit_lines(df, **window).sort_values(["frequency_Hz", "polarity"], ignore_index=True)


analyze_stfmr.OPTIONS = OPTIONS


NEEDS = Needs(columns=(
    Column("Field (T)", "applied field μ0H, T", FIELD_ALTERNATIVES),
    Column("Frequency (Hz)", "rf frequency, Hz (a column, --constant, a header line or "
           "the file name: 8.00GHz, 13.5G)", ("Frequency (GHz)",)),
    Column("Vmix (V)", "dc mixing voltage, V", ("Vmix (µV)",)),
    Column("Power (dBm)", "rf power, dBm (file name: 10dBm)", required=False),
    Column("DC current (A)", "dc bias current, A (file name: 4.50mA); for xi_dc",
           required=False),
    Column("Field angle (deg)", "in-plane field angle, deg", required=False),
), header_keys={"Film mu0Ms": "μ0Ms, T (option mu0_ms_T)",
                "Film thickness": "magnet thickness, m (option thickness_m)",
                "Heavy-metal thickness": "m (option hm_thickness_m)",
                "Bar width": "m (option width_m)"})
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
