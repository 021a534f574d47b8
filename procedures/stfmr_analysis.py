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
from scipy.optimize import curve_fit

from labspin.physics.constants import E_CHARGE, HBAR, MU0
from labspin.physics.macrospin.analytic import (
    inplane_magnetization_angle as magnetization_angle,
)
from labspin.physics.macrospin.analytic import kittel_inplane, kittel_perpendicular
from labspin.physics.macrospin.system import SIGMA_SPIN_HALL
from labspin.results.units import convert, split_unit

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

GAMMA_E_HZ_PER_T = 28.024951e9
"""γ/2π of the free electron (g = 2.0023), Hz/T: the default when γ cannot be fitted."""


_LINE_KEYS = ("mu0_hres_T", "mu0_dh_T", "s_V", "a_V", "offset_V", "slope_V_per_T")


# --- reading -------------------------------------------------------------------------------
def read_results(path) -> pd.DataFrame:
    """Read a results file (pymeasure header or plain CSV); the "Sample parameters" JSON of
    the header, when present, goes to ``df.attrs["sample_parameters"]``."""
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
    for quantity, si in (("Field", "T"), ("Frequency", "Hz")):
        if f"{quantity} ({si})" in out.columns:
            continue
        for column in list(out.columns):
            name, unit = split_unit(str(column))
            if name == quantity and unit:     # "Field (mT)", "Field (Oe)", "Frequency (GHz)"
                try:
                    out[f"{quantity} ({si})"] = convert(out[column].astype(float), unit, si)
                except ValueError:            # not a unit of that quantity: named below
                    continue
                break
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


def _line_basis(t, t0, d):
    """Get the columns F_S, F_A, 1, t of the line model at normalised fields t."""
    u = t - t0
    den = u * u + d * d
    return np.column_stack([d * d / den, d * u / den, np.ones_like(t), t])


def _line_jacobian(t, p):
    """Get ∂model/∂(t0, d, S, A, c0, c1) at normalised fields t and parameters p."""
    t0, d, s, a = p[:4]
    u = t - t0
    den = u * u + d * d
    fs, fa = d * d / den, d * u / den
    # ∂F_S/∂t0 = 2d²u/den², ∂F_S/∂d = 2du²/den², ∂F_A/∂t0 = d(u² − d²)/den²,
    # ∂F_A/∂d = u(u² − d²)/den²
    den2 = den * den
    j_t0 = s * 2 * d * d * u / den2 + a * d * (u * u - d * d) / den2
    j_d = s * 2 * d * u * u / den2 + a * u * (u * u - d * d) / den2
    return np.column_stack([j_t0, j_d, fs, fa, np.ones_like(t), t])


def fit_line(field_T, v_V) -> dict:
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
    Errors: the covariance (JᵀJ)⁻¹ at the optimum scaled by the residual variance.
    """
    from scipy.optimize import least_squares
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

    def coef_at(t0, d):
        m = _line_basis(t, t0, d)
        c, *_ = np.linalg.lstsq(m, y, rcond=None)
        return m, c

    def resid(q):
        m, c = coef_at(q[0], q[1])
        return m @ c - y

    grid = []
    centres = t[1:-1][np.unique(np.linspace(0, t.size - 3, min(t.size - 2, 60)).astype(int))]
    for d in np.geomspace(step, 0.5, 20):
        for t0 in centres:
            m, c = coef_at(t0, d)
            grid.append((float(np.sum((m @ c - y) ** 2)), t0, d))
    grid.sort()
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
        m = _line_basis(t, p[0], p[1])
        r = y - m @ p[2:]
        jac = _line_jacobian(t, p)
        jtj = jac.T @ jac
        try:
            cov = np.linalg.inv(jtj)
        except np.linalg.LinAlgError:
            break
        dp = cov @ (jac.T @ r)
        s2 = float(r @ r) / dof
        sig = np.sqrt(np.clip(np.diag(cov), 0, None) * s2)
        if np.all(np.abs(dp) <= 1e-4 * np.maximum(sig, 1e-300)):
            converged = True
            break
        p_new = p + dp
        if p_new[1] <= 0:
            break
        r_new = y - _line_basis(t, p_new[0], p_new[1]) @ p_new[2:]
        if float(r_new @ r_new) > float(r @ r) * (1 + 1e-12):
            break
        p = p_new
    if not converged:
        raise RuntimeError("the line fit did not converge")
    scale = np.array([span, span, vs, vs, vs, vs / span])
    popt = p * scale
    popt[0] += xm
    popt[4] += vmed
    pcov = cov * s2 * np.outer(scale, scale)
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    out = {}
    for k, name in enumerate(_LINE_KEYS):
        out[name], out[name + "_err"] = float(popt[k]), float(perr[k])
    s, a = popt[2], popt[3]
    g = np.array([1 / a, -s / a ** 2])            # S/A with the S–A covariance
    out["s_over_a"] = float(s / a)
    out["s_over_a_err"] = float(math.sqrt(max(g @ pcov[2:4, 2:4] @ g, 0.0)))
    res_v = r * vs
    out["n_points"] = int(x.size)
    out["residual_rms_V"] = float(np.sqrt(np.mean(res_v ** 2)))
    out["noise_V"] = float(np.sqrt(0.5 * np.mean(np.diff(res_v) ** 2)))
    out["field_min_T"], out["field_max_T"] = float(x[0]), float(x[-1])
    out["field_step_T"] = float(np.median(np.diff(x)))
    return out


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
    where |B| jumps back against the sweep's direction by more than half the sweep so far
    (a repeat). Sweeps are never merged, so repeats and files stay apart."""
    extra = _group_keys(df)
    b = df["Field (T)"].to_numpy(float)
    cols = [df["Frequency (Hz)"].to_numpy(float), np.where(b < 0, -1, 1)]
    cols += [df[c].to_numpy(float) for c in extra]
    files = np.full(len(df), "", dtype=object)
    pos = 0
    for name, n in df.attrs.get("file_rows") or []:
        files[pos:pos + int(n)] = str(name)
        pos += int(n)
    out, seen = [], {}
    start, direction = 0, 0.0

    def close(stop):
        if stop > start:
            key = tuple(float(c[start]) for c in cols) + (files[start],)
            rep = seen.get(key, 0)
            seen[key] = rep + 1
            out.append((key + (rep,), np.arange(start, stop)))

    absb = np.abs(b)
    for i in range(1, len(df)):
        new = any(c[i] != c[i - 1] for c in cols) or files[i] != files[i - 1]
        if not new:
            step = absb[i] - absb[i - 1]
            extent = abs(absb[i - 1] - absb[start])
            if direction == 0.0 and step != 0:
                direction = np.sign(step)
            elif direction != 0.0 and np.sign(step) == -direction and abs(step) > 0.5 * extent:
                new = True
        if new:
            close(i)
            start, direction = i, 0.0
    close(len(df))
    return out


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
    ptp = float(np.ptp(np.asarray(v_V, float)))
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
              field_max_T: float | None = None) -> pd.DataFrame:
    """Get the per-sweep table (:func:`sweeps`: one row per sweep, repeats and files apart)
    with frequency_Hz, polarity (+1/−1), power_dBm, dc_current_A, field_angle_deg (when
    present), file, repeat, the fit of :func:`fit_line`, ``used`` and ``reason`` (why not:
    :func:`line_quality`, a failed or unconverged fit). The optional field window
    ``field_min_T`` ≤ |B| ≤ ``field_max_T`` is applied before fitting."""
    df = standardize(df)
    ok = np.isfinite(df["Field (T)"]) & np.isfinite(df["Vmix (V)"])
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
    b_all, v_all = df["Field (T)"].to_numpy(float), df["Vmix (V)"].to_numpy(float)
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
            fit = fit_line(b[inside], v[inside])
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
    return pd.DataFrame(rows)


# --- Kittel and damping ----------------------------------------------------------------------
def kittel_inplane_angle(b_T, field_angle_deg, mu0_meff_T, mu0_hk_T, gamma_Hz_per_T,
                         easy_axis_deg: float = 0.0):
    """Get f (Hz) of an in-plane film with a uniaxial in-plane anisotropy field μ0H_k (T)
    along ``easy_axis_deg``, the field |b_T| in plane at ``field_angle_deg`` (both from +x).

    m sits at φ with H·sin(φ − φ_H) + (H_k/2)·sin 2(φ − φ_K) = 0 (Newton from φ_H), and
    f = γ·√{[H cos(φ−φ_H) + H_k cos 2(φ−φ_K)]·[H cos(φ−φ_H) + H_k cos²(φ−φ_K) + M_eff]}.
    With H_k = 0 this is ``kittel_inplane`` of the core (used then).
    """
    b = np.abs(np.asarray(b_T, float))
    gamma0 = 2 * math.pi * MU0 * gamma_Hz_per_T
    if mu0_hk_T == 0.0:
        return kittel_inplane(b / MU0, mu0_meff_T / MU0, 0.0, gamma0=gamma0)
    ph = np.radians(np.broadcast_to(np.asarray(field_angle_deg, float), b.shape))
    pk = math.radians(easy_axis_deg)
    phi = magnetization_angle(b, field_angle_deg, mu0_hk_T, easy_axis_deg)
    hpar = b * np.cos(phi - ph)
    e1 = hpar + mu0_hk_T * np.cos(2 * (phi - pk))
    e2 = hpar + mu0_hk_T * np.cos(phi - pk) ** 2 + mu0_meff_T
    return gamma_Hz_per_T * np.sqrt(np.clip(e1 * e2, 0.0, None))


def _kittel_model(magnet: str, hk_T: float, angle_deg, easy_axis_deg: float):
    def f(b_T, meff_T, gamma_Hz_per_T):
        if magnet == "perpendicular":
            gamma0 = 2 * math.pi * MU0 * gamma_Hz_per_T
            return kittel_perpendicular(np.asarray(b_T) / MU0, min(meff_T, -1e-9) / MU0,
                                        gamma0=gamma0)
        return kittel_inplane_angle(b_T, angle_deg, meff_T, hk_T, gamma_Hz_per_T,
                                    easy_axis_deg)
    return f


def fit_kittel(frequency_Hz, b_res_T, b_err_T, *, magnet: str = "inplane",
               gamma_Hz_per_T: float | None = None, gamma_err: float = 0.0,
               mu0_hk_T: float = 0.0, field_angle_deg=45.0, easy_axis_deg: float = 0.0) -> dict:
    """Fit f(B_res) with the Kittel form of ``magnet`` ("inplane": with ``mu0_hk_T`` ≠ 0 the
    field angle and anisotropy of :func:`kittel_inplane_angle`; or "perpendicular"); γ free
    when ``gamma_Hz_per_T`` is None, else fixed at it with its error ``gamma_err`` propagated
    into M_eff (refits at γ ± σ_γ). Get mu0_meff_T and (γ free) gamma_Hz_per_T, each with
    _err, and (γ free) the correlation rho_meff_gamma.

    Scale-free: the fit runs in GHz and GHz/T. The field errors enter as frequency errors
    through the local slope df/dB (effective variance, refreshed once at the fitted values);
    the covariance is that of these errors, widened by the reduced χ² when it exceeds 1.
    RuntimeError when the fit does not converge.
    """
    f = np.asarray(frequency_Hz, float) / 1e9
    b = np.abs(np.asarray(b_res_T, float))
    be = np.asarray(b_err_T, float)
    model = _kittel_model(magnet, mu0_hk_T, field_angle_deg, easy_axis_deg)
    free = gamma_Hz_per_T is None
    g0 = (GAMMA_E_HZ_PER_T if free else gamma_Hz_per_T) / 1e9

    def fun(bb, m, g=None):
        return model(bb, m, (g if free else g_fixed) * 1e9) / 1e9

    def fit_at(g_fix):
        nonlocal g_fixed
        g_fixed = g_fix
        grid = np.linspace(-2.0, -1e-3, 400) if magnet == "perpendicular" else \
            np.linspace(-2.0, 3.0, 1001)
        meff0 = float(grid[int(np.argmin([np.sum((model(b, m, g0 * 1e9) / 1e9 - f) ** 2)
                                          for m in grid]))])
        params = [meff0, g0] if free else [meff0]
        sigma = None
        for _ in range(2):
            popt, pcov, info, msg, ier = curve_fit(
                (lambda bb, m, g: fun(bb, m, g)) if free else (lambda bb, m: fun(bb, m)),
                b, f, p0=params, sigma=sigma, absolute_sigma=sigma is not None,
                maxfev=20000, full_output=True)
            if ier not in (1, 2, 3, 4):
                raise RuntimeError(f"the Kittel fit did not converge: {msg}")
            params = list(popt)
            h = 1e-5
            sl = np.abs(fun(b + h, *popt) - fun(b - h, *popt)) / (2 * h)
            sigma = np.maximum(sl * np.maximum(be, 1e-9), 1e-6)
        dof = f.size - len(params)
        resid = (fun(b, *popt) - f) / sigma
        if dof > 0:
            pcov = pcov * max(1.0, float(resid @ resid) / dof)
        return popt, pcov

    g_fixed = None
    popt, pcov = fit_at(None if free else g0)
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    out = {"mu0_meff_T": float(popt[0]), "mu0_meff_T_err": float(perr[0])}
    if free:
        out.update({"gamma_Hz_per_T": float(popt[1] * 1e9),
                    "gamma_Hz_per_T_err": float(perr[1] * 1e9),
                    "rho_meff_gamma": float(pcov[0, 1] / max(perr[0] * perr[1], 1e-300))})
    elif gamma_err > 0:
        hi_, lo_ = (fit_at(g0 + s * gamma_err / 1e9)[0][0] for s in (1, -1))
        out["mu0_meff_T_err"] = float(math.hypot(perr[0], 0.5 * (hi_ - lo_)))
    return out


def fit_damping(frequency_Hz, dh_T, dh_err_T, gamma_Hz_per_T: float,
                gamma_err: float = 0.0) -> dict:
    """Fit Δ(f) = Δ0 + f·α/γ (HWHM, T), a straight line weighted by the line fits' errors
    (:func:`estimates.weighted_line`: widened by the reduced χ² when above 1); get alpha
    and mu0_dh0_T with _err (γ's error propagated into α)."""
    f = np.asarray(frequency_Hz, float)
    if np.unique(f).size < 2:
        raise ValueError("the damping fit needs at least two frequencies")
    coef, cov = weighted_line(f / 1e9, dh_T, dh_err_T)
    k, d0 = coef[0] / 1e9, coef[1]
    k_err, d0_err = math.sqrt(cov[0, 0]) / 1e9, math.sqrt(cov[1, 1])
    alpha = k * gamma_Hz_per_T
    alpha_err = math.hypot(k_err * gamma_Hz_per_T, k * gamma_err)
    return {"alpha": float(alpha), "alpha_err": float(alpha_err),
            "mu0_dh0_T": float(d0), "mu0_dh0_T_err": float(d0_err)}


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
    """Get F (dimensionless) with dΔ/dI_dc = F·μ0H_DL-per-A: F = (f/γ)·(m·σ)/((B1 + B2)/2)
    with m·σ = −sin φ_M for design.md's σ = −ŷ (see the module doc; field angle of the
    field's direction, i.e. + 180° for a negative field)."""
    b = np.abs(np.asarray(b_res_T, float))
    pm = magnetization_angle(b, field_angle_deg, mu0_hk_T, easy_axis_deg)
    ph = np.radians(np.broadcast_to(np.asarray(field_angle_deg, float), b.shape))
    pk = math.radians(easy_axis_deg)
    hpar = b * np.cos(pm - ph)
    b1 = hpar + mu0_hk_T * np.cos(2 * (pm - pk))
    b2 = hpar + mu0_hk_T * np.cos(pm - pk) ** 2 + mu0_meff_T
    m_dot_sigma = SIGMA_SPIN_HALL[1] * np.sin(pm)      # σ = −ŷ
    return np.asarray(frequency_Hz, float) / gamma_Hz_per_T * m_dot_sigma / (0.5 * (b1 + b2))


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
GAMMA_PRIOR = (GAMMA_E_HZ_PER_T, 0.05 * GAMMA_E_HZ_PER_T)
"""The default γ/2π (Hz/T) where the frequencies do not determine it: the free electron's,
± 5 % (g = 2.00 ± 0.10 spans YIG's 2.00 to cobalt's 2.15–2.2; permalloy 2.1)."""

OPTIONS = (
    Option("gamma_Hz_per_T", "Hz/T", "γ/2π; given: fixed at it (else fitted where the "
           "frequencies determine it, else the free electron's ± 5 %)"),
    Option("mu0_hk_T", "T", "in-plane uniaxial anisotropy field in the Kittel form", 0.0),
    Option("mu0_ms_T", "T", "μ0·M_s of the magnet (for ξ)"),
    Option("thickness_m", "m", "magnet thickness t (for ξ)"),
    Option("hm_thickness_m", "m", "heavy-metal thickness d (for ξ)"),
    Option("width_m", "m", "bar width w (for ξ from the dc-bias linewidth)"),
    Option("mu0_field_offset_T", "T", "field reading's offset (a remanence): true |B| = "
           "|B_read| + polarity·offset", 0.0),
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


def _kittel_and_damping(sel: pd.DataFrame, set_: dict, gamma: Prior | None, hk: float,
                        angle, warnings: list) -> tuple[dict, float, float, bool]:
    """Kittel (γ by the criterion of :func:`analyze_stfmr`) and damping of the lines
    ``sel``; get (result, γ, σ_γ, γ free)."""
    nfreq = sel["frequency_Hz"].nunique()
    kw = dict(magnet=set_["magnet"], mu0_hk_T=hk, field_angle_deg=angle,
              easy_axis_deg=set_["easy_axis_deg"])
    b = sel["mu0_hres_T"].to_numpy(float)
    args = (sel["frequency_Hz"], b, sel["mu0_hres_T_err"])
    free = False
    out = None
    if gamma.source == "default" and nfreq >= 3:
        try:
            trial = fit_kittel(*args, **kw)
        except RuntimeError:
            trial = None
        if trial is not None and trial["gamma_Hz_per_T_err"] < gamma.err:
            out, free = trial, True
        else:
            got = ("the free fit failed" if trial is None else
                   f"free fit: γ/2π = {trial['gamma_Hz_per_T'] / 1e9:.4g} ± "
                   f"{trial['gamma_Hz_per_T_err'] / 1e9:.2g} GHz/T")
            warnings.append(f"γ is not determined by these {nfreq} frequencies ({got}, no "
                            f"better than the default's ± {gamma.err / 1e9:.2g} GHz/T): fixed "
                            f"at {gamma.value / 1e9:.4g} GHz/T, its error propagated")
    elif gamma.source == "default":
        warnings.append(f"γ cannot be fitted from {nfreq} frequencies: fixed at "
                        f"{gamma.value / 1e9:.4g} ± {gamma.err / 1e9:.2g} GHz/T (default)")
    if out is None:
        out = fit_kittel(*args, gamma_Hz_per_T=gamma.value, gamma_err=gamma.err, **kw)
    gam = out.get("gamma_Hz_per_T", gamma.value)
    gam_err = out.get("gamma_Hz_per_T_err", gamma.err)
    if nfreq >= 2:
        out.update(fit_damping(sel["frequency_Hz"], sel["mu0_dh_T"], sel["mu0_dh_T_err"],
                               gam, gam_err))
    return out, gam, gam_err, free


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
    priors = resolve_priors(OPTIONS, {k: v for k, v in given.items() if k not in set_},
                            df.attrs, _header_film(df))
    gamma = priors.get("gamma_Hz_per_T") or Prior(*GAMMA_PRIOR, "default")
    warnings: list[str] = []
    lines = fit_lines(df, set_["field_min_T"], set_["field_max_T"])
    off = priors["mu0_field_offset_T"].value
    if "mu0_hres_T" in lines.columns and off:
        lines["mu0_hres_T"] = lines["mu0_hres_T"] + lines["polarity"] * off
    for _, r in lines[~lines["used"]].iterrows():
        warnings.append(f"line {r['frequency_Hz'] / 1e9:g} GHz, polarity {r['polarity']:+d}"
                        + (f", {r['file']}" if r["file"] else "")
                        + (f", repeat {r['repeat']}" if r["repeat"] else "")
                        + f" not used: {r['reason']}")
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
    if set_["field_angle_deg"] is not None:
        angle = float(set_["field_angle_deg"])
    elif "field_angle_deg" in sel.columns:
        angle = sel["field_angle_deg"].to_numpy(float)
    else:
        angle = 0.0
    out, gam, gam_err, free = _kittel_and_damping(sel, set_, gamma, hk, angle, warnings)
    if set_["magnet"] == "perpendicular" and out["mu0_meff_T"] < 0:
        # an in-plane field saturates a perpendicular film only above μ0H_k,eff = −μ0M_eff
        low = (sel["mu0_hres_T"] - sel["mu0_dh_T"]).to_numpy() < -out["mu0_meff_T"]
        if low.any() and (~low).sum() >= 2:
            for f, pol in zip(sel["frequency_Hz"][low], sel["polarity"][low]):
                warnings.append(f"line {f / 1e9:g} GHz, polarity {pol:+d} not used: resonance "
                                f"below μ0H_k,eff = {-out['mu0_meff_T']:.4g} T, film not "
                                "saturated in plane")
            lines.loc[sel.index[low], ["used", "reason"]] = [False, "film not saturated"]
            sel = sel[~low]
            if np.ndim(angle):
                angle = sel["field_angle_deg"].to_numpy(float)
            out, gam, gam_err, free = _kittel_and_damping(sel, set_, gamma, hk, angle,
                                                          warnings)
    out.pop("rho_meff_gamma", None)
    if not free:
        priors["gamma_Hz_per_T"] = Prior(gam, gam_err, gamma.source)
    # per polarity, γ as in the joint fit (fixed at its value and error)
    per_pol = []
    if sel["polarity"].nunique() == 2:
        g_pol = Prior(gam, gam_err, "joint fit")
        for pol, g in sel.groupby("polarity"):
            if g["frequency_Hz"].nunique() < 2:
                continue
            ang = angle if np.ndim(angle) == 0 else g["field_angle_deg"].to_numpy(float)
            res, *_ = _kittel_and_damping(g, set_, g_pol, hk, ang, [])
            per_pol.append({"polarity": int(pol), "n_lines": int(len(g)), **res})
        if len(per_pol) == 2:
            for key in ("mu0_meff_T", "alpha"):
                if all(key in p for p in per_pol) and key in out:
                    c = combine([p[key] for p in per_pol], [p[key + "_err"] for p in per_pol],
                                [f"polarity {p['polarity']:+d}" for p in per_pol], key)
                    if c["warning"]:
                        warnings.append(c["warning"])
                        out[key + "_err"] = max(out[key + "_err"], c["err"])
    if out["mu0_meff_T"] < 0:
        out["mu0_hk_eff_T"] = -out["mu0_meff_T"]
        out["mu0_hk_eff_T_err"] = out["mu0_meff_T_err"]
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
    flag_undetermined(out, ("mu0_meff_T", "mu0_hk_eff_T", "gamma_Hz_per_T", "alpha"),
                      warnings)
    vanish = ("mu0_dh0_T", "s_over_a", "s_over_a_reduced", "xi", "mu0_hdl_per_A_T", "xi_dc")
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


def _line_records(lines: pd.DataFrame) -> list[dict]:
    cols = [c for c in _LINE_OUT if c in lines.columns]
    recs = lines[cols].to_dict(orient="records")
    return [{k: (None if isinstance(v, float) and not math.isfinite(v) else v)
             for k, v in r.items()} for r in recs]


def per_frequency_table(df: pd.DataFrame, **window) -> pd.DataFrame:
    """Get the per-sweep fit table (see :func:`fit_lines`), sorted by frequency."""
    return fit_lines(df, **window).sort_values(["frequency_Hz", "polarity"], ignore_index=True)


analyze_stfmr.OPTIONS = OPTIONS
