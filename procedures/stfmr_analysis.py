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
- Torque efficiency, |ξ| = |S/A|·(e·μ0Ms·t·d/ħ)·√(1 + μ0M_eff/μ0H_res) (physics.md; valid
  when the rf field is the Oersted field J_c·d/2 and there is no field-like torque), averaged
  over the sweeps; needs μ0Ms (T), the magnet's thickness t (m) and the heavy metal's d (m):
  from the arguments, else from the results file's "Sample parameters" metadata (keys
  ``mu0_ms_T``, ``thickness_m``, ``hm_thickness_m``) attached as
  ``df.attrs["sample_parameters"]`` by :func:`read_results`; without them ``xi`` is left out
  and only ``s_over_a`` is reported. Sign: design.md's convention (H_DL > 0 drives m toward
  +σ, σ = +ŷ for θ_SH > 0 at the top interface), the same as ``xi_dc``'s and as the simulated
  sample's ``xi_dl``. Linearizing the LLG about m = x̂ with an in-plane rf field h_y and the
  damping-like torque (equivalent to a field H_DL·m×σ = H_DL·ẑ) gives
  Re δφ ∝ γ0(H+M_eff)·h_y·(ω0² − ω²) + ω²Γ·H_DL, so S/A = H_DL/(h_y·…); the Oersted field of
  a heavy metal under the magnet is h_y = −J_c·d/2 (x̂ × ẑ), hence ξ = −(S/A)·(…). Liu et
  al. report S/A > 0 for Pt, which this convention reads as ξ < 0: the sign question is
  the contract's (the direction of σ for θ_SH > 0), not the fit's.
- Torque efficiency from the dc-bias dependence of the linewidth (Liu et al. 2011;
  physics.md: α_eff = α + H_DL,dc·sin φ/(H + M_eff/2)), → ``xi_dc``: per frequency (and
  polarity, power, angle) the HWHM against the dc current is a straight line whose slope
  dΔ/dI = (f/γ)·μ0H_DL-per-A·sin φ_M/((B1 + B2)/2) (T/A) gives ``mu0_hdl_per_A_T``, with
  B1 = B·cos(φ_M − φ) + B_k·cos 2φ_M and B2 = B·cos(φ_M − φ) + B_k·cos²φ_M + μ0M_eff the
  in-plane and out-of-plane stiffnesses at resonance (B1 + B2 = 2B + μ0M_eff without
  anisotropy, physics.md's form), φ_M the magnetization's angle (the field's, pulled toward
  the easy axis by B_k). Derived from the linearized LLG: the relaxation rate
  Γ = αγ0(H1 + H2)/2 + γ0·H_DL·sin φ_M, divided by dω/dH. Sign: design.md's, H_DL > 0 drives
  m toward +σ, σ = +ŷ for a current along +x in a heavy metal with θ_SH > 0; with m along +σ
  (sin φ_M > 0) a positive H_DL adds damping and widens the line. So ``xi_dc`` has the sign
  of the simulated sample's ``xi_dl`` (negative for W), as ``xi`` from S/A has. ξ =
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
from labspin.physics.macrospin.analytic import kittel_inplane, kittel_perpendicular
from labspin.results.units import convert, split_unit

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
        for col in list(out.columns):
            name, unit = split_unit(str(col))
            if name == quantity and unit:
                out[f"{quantity} ({si})"] = convert(out[col].astype(float).to_numpy(), unit, si)
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


def fit_line(field_T, v_V) -> dict:
    """Fit one sweep (fields of one sign; fitted against |field|); get x0 = mu0_hres_T,
    mu0_dh_T (HWHM), s_V, a_V, offset_V, slope_V_per_T, each with _err, and s_over_a(_err).

    Start: a grid over x0 (every data point) and Δ (geometric, from the field step to half
    the range), S, A, c0, c1 linear least squares at each; then a full nonlinear fit.
    Errors: the covariance scaled by the residual variance.
    """
    x = np.abs(np.asarray(field_T, float))
    v = np.asarray(v_V, float)
    order = np.argsort(x)
    x, v = x[order], v[order]
    if x.size < 7:
        raise ValueError(f"a line needs ≥ 7 points, got {x.size}")
    xm = float(x.mean())
    span = float(x[-1] - x[0])
    step = max(float(np.median(np.diff(x))), span * 1e-4)
    best = (np.inf, None)
    centres = x[1:-1][np.unique(np.linspace(0, x.size - 3, min(x.size - 2, 60)).astype(int))]
    for dh in np.geomspace(step, span / 2, 20):
        for x0 in centres:
            u = x - x0
            den = u * u + dh * dh
            m = np.column_stack([dh * dh / den, dh * u / den, np.ones_like(x), x - xm])
            coef, *_ = np.linalg.lstsq(m, v, rcond=None)
            sse = float(np.sum((m @ coef - v) ** 2))
            if sse < best[0]:
                best = (sse, (x0, dh, *coef))
    p0 = best[1]
    f = lambda xx, x0, dh, s, a, c0, c1: lineshape(xx, x0, dh, s, a, c0, c1, xm)  # noqa: E731
    lo = [x[0] - span, step * 0.05, -np.inf, -np.inf, -np.inf, -np.inf]
    hi = [x[-1] + span, 4 * span, np.inf, np.inf, np.inf, np.inf]
    popt, pcov = curve_fit(f, x, v, p0=p0, bounds=(lo, hi), maxfev=20000)
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None))
    out = {}
    for k, name in enumerate(_LINE_KEYS):
        out[name], out[name + "_err"] = float(popt[k]), float(perr[k])
    s, a = popt[2], popt[3]
    # S/A with the S–A covariance
    g = np.array([1 / a, -s / a ** 2])
    cov = pcov[2:4, 2:4]
    out["s_over_a"] = float(s / a)
    out["s_over_a_err"] = float(math.sqrt(max(g @ cov @ g, 0.0)))
    out["n_points"] = int(x.size)
    out["residual_rms_V"] = float(np.sqrt(np.mean((f(x, *popt) - v) ** 2)))
    return out


def _group_keys(df: pd.DataFrame) -> list[str]:
    return [c for c in ("Power (dBm)", "DC current (A)", "Field angle (deg)")
            if c in df.columns]


def fit_lines(df: pd.DataFrame) -> pd.DataFrame:
    """Get the per-sweep table: one row per (frequency, polarity and, when present, power,
    dc current, field angle), with frequency_Hz, polarity (+1/−1), the fit of
    :func:`fit_line`; sweeps that cannot be fitted are left out."""
    df = standardize(df)
    df = df[np.isfinite(df["Field (T)"]) & np.isfinite(df["Vmix (V)"])]
    extra = _group_keys(df)
    rows = []
    sign = np.sign(df["Field (T)"]).replace(0, 1)
    for key, g in df.groupby(["Frequency (Hz)", sign, *extra], sort=True):
        f, pol, *rest = key
        try:
            fit = fit_line(g["Field (T)"], g["Vmix (V)"])
        except (ValueError, RuntimeError):
            continue
        row = {"frequency_Hz": float(f), "polarity": int(pol)}
        row.update({k.split(" (")[0].lower().replace(" ", "_") + _unit_suffix(k): float(v)
                    for k, v in zip(extra, rest)})
        row.update(fit)
        rows.append(row)
    if not rows:
        raise ValueError("no sweep could be fitted (each needs ≥ 7 points of one field sign)")
    return pd.DataFrame(rows)


def _unit_suffix(col: str) -> str:
    return {"Power (dBm)": "_dBm", "DC current (A)": "_A", "Field angle (deg)": "_deg"}[col]


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
               gamma_Hz_per_T: float | None = None, mu0_hk_T: float = 0.0,
               field_angle_deg=45.0, easy_axis_deg: float = 0.0) -> dict:
    """Fit f(B_res) with the Kittel form of ``magnet`` ("inplane": with ``mu0_hk_T`` ≠ 0 the
    field angle and anisotropy of :func:`kittel_inplane_angle`; or "perpendicular");
    get mu0_meff_T and (γ free) gamma_Hz_per_T, each with _err.

    The field errors enter as frequency errors through the local slope df/dB (effective
    variance); the covariance is scaled by the residual variance when there are more
    points than parameters.
    """
    f = np.asarray(frequency_Hz, float)
    b = np.abs(np.asarray(b_res_T, float))
    be = np.asarray(b_err_T, float)
    model = _kittel_model(magnet, mu0_hk_T, field_angle_deg, easy_axis_deg)
    g0 = gamma_Hz_per_T or GAMMA_E_HZ_PER_T
    grid = np.linspace(-2.0, -1e-3, 400) if magnet == "perpendicular" else \
        np.linspace(-2.0, 3.0, 1001)
    sse = [np.sum((model(b, m, g0) - f) ** 2) for m in grid]
    meff0 = float(grid[int(np.argmin(sse))])
    free = gamma_Hz_per_T is None

    def slope(meff, gam):
        h = 1e-5
        return np.abs(model(b + h, meff, gam) - model(b - h, meff, gam)) / (2 * h)

    sigma = None
    params = [meff0, g0] if free else [meff0]
    for _ in range(2):       # refresh the effective variance once at the fitted values
        fun = (lambda bb, m, g: model(bb, m, g)) if free else \
            (lambda bb, m: model(bb, m, gamma_Hz_per_T))
        popt, pcov = curve_fit(fun, b, f, p0=params, sigma=sigma, absolute_sigma=False,
                               maxfev=20000)
        params = list(popt)
        gam = popt[1] if free else gamma_Hz_per_T
        sigma = np.maximum(slope(popt[0], gam) * np.maximum(be, 1e-9), 1.0)
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None)) if f.size > len(params) else \
        np.full(len(params), np.inf)
    out = {"mu0_meff_T": float(popt[0]), "mu0_meff_T_err": float(perr[0])}
    if free:
        out.update({"gamma_Hz_per_T": float(popt[1]), "gamma_Hz_per_T_err": float(perr[1]),
                    "cov_meff_gamma": float(pcov[0, 1]) if f.size > 2 else 0.0})
    return out


def fit_damping(frequency_Hz, dh_T, dh_err_T, gamma_Hz_per_T: float,
                gamma_err: float = 0.0) -> dict:
    """Fit Δ(f) = Δ0 + f·α/γ (HWHM, T) weighted by the line fits' errors; get alpha and
    mu0_dh0_T with _err (γ's error propagated into α)."""
    f = np.asarray(frequency_Hz, float)
    dh = np.asarray(dh_T, float)
    w = 1.0 / np.maximum(np.asarray(dh_err_T, float), 1e-12)
    if np.unique(f).size < 2:
        raise ValueError("the damping fit needs at least two frequencies")
    popt, pcov = curve_fit(lambda ff, d0, k: d0 + k * ff, f, dh, p0=[0.0, 1e-12],
                           sigma=1.0 / w, absolute_sigma=False)
    perr = np.sqrt(np.clip(np.diag(pcov), 0.0, None)) if f.size > 2 else np.full(2, np.inf)
    d0, k = popt
    alpha = k * gamma_Hz_per_T
    alpha_err = math.hypot(perr[1] * gamma_Hz_per_T, k * gamma_err)
    return {"alpha": float(alpha), "alpha_err": float(alpha_err),
            "mu0_dh0_T": float(d0), "mu0_dh0_T_err": float(perr[0])}


def xi_from_s_over_a(s_over_a, mu0_hres_T, mu0_meff_T, mu0_ms_T, thickness_m, hm_thickness_m):
    """Get ξ = −(S/A)·(e·μ0Ms·t·d/ħ)·√(1 + μ0M_eff/μ0H_res) (physics.md's magnitude; the
    sign is design.md's: the Oersted field of the heavy metal under the magnet points along
    −σ, see the module docstring; μ0Ms in T, so e·μ0Ms·t·d/ħ is dimensionless)."""
    return -(np.asarray(s_over_a, float) * E_CHARGE * mu0_ms_T * thickness_m * hm_thickness_m
             / HBAR * np.sqrt(1.0 + mu0_meff_T / np.abs(np.asarray(mu0_hres_T, float))))


def magnetization_angle(b_T, field_angle_deg, mu0_hk_T: float, easy_axis_deg: float = 0.0):
    """Get φ_M (rad): the in-plane magnetization's angle under the field |b_T| (T) at
    ``field_angle_deg`` with a uniaxial anisotropy field μ0H_k along ``easy_axis_deg``
    (Newton on B·sin(φ − φ_H) + (B_k/2)·sin 2(φ − φ_K) = 0 from φ_H)."""
    b = np.abs(np.asarray(b_T, float))
    ph = np.radians(np.broadcast_to(np.asarray(field_angle_deg, float), b.shape))
    pk = math.radians(easy_axis_deg)
    phi = ph.copy()
    for _ in range(30):
        g = b * np.sin(phi - ph) + 0.5 * mu0_hk_T * np.sin(2 * (phi - pk))
        dg = b * np.cos(phi - ph) + mu0_hk_T * np.cos(2 * (phi - pk))
        phi = phi - g / np.where(np.abs(dg) > 1e-12, dg, 1e-12)
    return phi


def linewidth_slope_factor(frequency_Hz, b_res_T, field_angle_deg, mu0_meff_T: float,
                           gamma_Hz_per_T: float, mu0_hk_T: float = 0.0,
                           easy_axis_deg: float = 0.0):
    """Get F (dimensionless) with dΔ/dI_dc = F·μ0H_DL-per-A: F = (f/γ)·sin φ_M/((B1 + B2)/2)
    (see the module doc; field angle of the field's direction, i.e. + 180° for a negative
    field)."""
    b = np.abs(np.asarray(b_res_T, float))
    pm = magnetization_angle(b, field_angle_deg, mu0_hk_T, easy_axis_deg)
    ph = np.radians(np.broadcast_to(np.asarray(field_angle_deg, float), b.shape))
    pk = math.radians(easy_axis_deg)
    hpar = b * np.cos(pm - ph)
    b1 = hpar + mu0_hk_T * np.cos(2 * (pm - pk))
    b2 = hpar + mu0_hk_T * np.cos(pm - pk) ** 2 + mu0_meff_T
    return np.asarray(frequency_Hz, float) / gamma_Hz_per_T * np.sin(pm) / (0.5 * (b1 + b2))


def fit_dc_linewidth(lines: pd.DataFrame) -> pd.DataFrame:
    """Get, per (frequency, polarity, power and field angle when present) with ≥ 2 distinct
    dc currents, the weighted straight line HWHM = Δ(0) + slope·I_dc: frequency_Hz,
    polarity, field_angle_deg (if present), mu0_hres_T (mean), slope_T_per_A with _err
    (covariance scaled by the reduced χ² when above 1), n_currents."""
    if "dc_current_A" not in lines.columns:
        return pd.DataFrame()
    keys = ["frequency_Hz", "polarity"] + [c for c in ("power_dBm", "field_angle_deg")
                                           if c in lines.columns]
    rows = []
    ok = lines[np.isfinite(lines["mu0_dh_T_err"]) & (lines["mu0_dh_T"] > 0)]
    for key, g in ok.groupby(keys, sort=True):
        i = g["dc_current_A"].to_numpy(float)
        if np.unique(i).size < 2:
            continue
        dh, e = g["mu0_dh_T"].to_numpy(float), g["mu0_dh_T_err"].to_numpy(float)
        e = np.where(e > 0, e, np.max(e) if np.any(e > 0) else 1.0)
        a = np.column_stack([i, np.ones_like(i)]) / e[:, None]
        coef, *_ = np.linalg.lstsq(a, dh / e, rcond=None)
        cov = np.linalg.inv(a.T @ a)
        if i.size > 2:
            cov = cov * max(1.0, float(np.sum((a @ coef - dh / e) ** 2)) / (i.size - 2))
        row = dict(zip(keys, key))
        row.update({"mu0_hres_T": float(g["mu0_hres_T"].mean()),
                    "slope_T_per_A": float(coef[0]),
                    "slope_T_per_A_err": float(np.sqrt(cov[0, 0])),
                    "n_currents": float(np.unique(i).size)})
        rows.append(row)
    return pd.DataFrame(rows)


def _weighted_mean(v, e) -> tuple[float, float]:
    """Get the weighted mean and its error: the larger of the internal error and the one
    from the scatter (Birge ratio)."""
    v, e = np.asarray(v, float), np.asarray(e, float)
    ok = np.isfinite(v) & np.isfinite(e) & (e > 0)
    v, e = v[ok], e[ok]
    if v.size == 0:
        return float("nan"), float("inf")
    w = 1 / e ** 2
    mean = float(np.sum(w * v) / np.sum(w))
    err = float(1 / math.sqrt(np.sum(w)))
    if v.size > 1:
        chi2 = float(np.sum(w * (v - mean) ** 2) / (v.size - 1))
        err *= max(1.0, math.sqrt(chi2))
    return mean, err


# --- everything --------------------------------------------------------------------------------
def _film(name, value, params, keys):
    if value is not None:
        return float(value)
    for k in keys:
        if params.get(k) is not None:
            return float(params[k])
    return None


def analyze_stfmr(df: pd.DataFrame, *, magnet: str = "inplane",
                  gamma_Hz_per_T: float | None = None, mu0_hk_T: float | None = None,
                  easy_axis_deg: float = 0.0, field_angle_deg: float | None = None,
                  min_frequency_Hz: float = 0.0, mu0_ms_T: float | None = None,
                  thickness_m: float | None = None, hm_thickness_m: float | None = None,
                  width_m: float | None = None,
                  sample_parameters: dict | None = None, table: bool = False) -> dict:
    """Get design.md's keys from ST-FMR sweeps (columns ``Frequency (Hz)``, ``Field (T)``,
    ``Vmix (V)``; optional ``Power (dBm)``, ``DC current (A)``, ``Field angle (deg)``).

    In-plane anisotropy: ``mu0_hk_T`` (T, along ``easy_axis_deg`` from +x; default the
    "Sample parameters" metadata's mu0_hk_T, else 0) enters the Kittel form with the field
    angle (``field_angle_deg``, else the data's ``Field angle (deg)``, else 0).

    Returns mu0_meff_T, gamma_Hz_per_T (γ free, i.e. ``gamma_Hz_per_T`` None and ≥ 3 line
    fits; else γ fixed: the argument, or the free electron's), alpha, mu0_dh0_T, s_over_a
    and, with film parameters, xi — each with _err — plus n_lines. Kittel and damping use
    the sweeps at the smallest |dc current|, every power, both polarities, and frequencies
    ≥ ``min_frequency_Hz``. With sweeps at ≥ 2 dc currents (in-plane magnets, a known field
    angle): mu0_hdl_per_A_T from the linewidth's slopes (weighted mean over frequencies and
    polarities, Birge-scaled) and, with μ0Ms, t, d and the bar width w (``width_m``), xi_dc,
    each with _err, and n_dc_lines. Film parameters: the arguments, else the results
    header's procedure parameters ("Film mu0Ms", "Film thickness", "Heavy-metal thickness",
    "Bar width", non-zero), else the sample metadata. With ``table=True`` also
    "per_frequency": the line table as a list of dicts, and "dc_slopes" (not scalars: leave
    it off for ``labspin analyze``'s text output).
    """
    if magnet not in ("inplane", "perpendicular"):
        raise ValueError(f"magnet must be 'inplane' or 'perpendicular', got {magnet!r}")
    lines = fit_lines(df)
    sel = lines[lines["frequency_Hz"] >= min_frequency_Hz]
    if "dc_current_A" in sel.columns:
        i0 = sel["dc_current_A"].abs().min()
        sel = sel[np.isclose(sel["dc_current_A"].abs(), i0)]
    # lines whose centre is at the window's edge or unresolved are not resonances
    sel = sel[np.isfinite(sel["mu0_hres_T_err"]) & (sel["mu0_dh_T"] > 0)]
    if len(sel) < 2:
        raise ValueError(f"need ≥ 2 fitted lines for the Kittel fit, got {len(sel)}")
    free = gamma_Hz_per_T is None and sel["frequency_Hz"].nunique() >= 3
    gam_fixed = None if free else (gamma_Hz_per_T or GAMMA_E_HZ_PER_T)
    params = dict(sample_parameters or df.attrs.get("sample_parameters") or {})
    if df.attrs.get("header"):
        from .harmonic_hall_analysis import header_info
        hdr = header_info(df.attrs["header"])
        params.update({k: hdr[k] for k in ("mu0_ms_T", "thickness_m", "hm_thickness_m",
                                           "width_m") if k in hdr})
    hk = _film("mu0_hk_T", mu0_hk_T, params, ("mu0_hk_T",)) or 0.0
    if field_angle_deg is not None:
        angle = float(field_angle_deg)
    elif "field_angle_deg" in sel.columns:
        angle = sel["field_angle_deg"].to_numpy(float)
    else:
        angle = 0.0
    out = fit_kittel(sel["frequency_Hz"], sel["mu0_hres_T"], sel["mu0_hres_T_err"],
                     magnet=magnet, gamma_Hz_per_T=gam_fixed, mu0_hk_T=hk,
                     field_angle_deg=angle, easy_axis_deg=easy_axis_deg)
    out.pop("cov_meff_gamma", None)
    gam = out.get("gamma_Hz_per_T", gam_fixed)
    gam_err = out.get("gamma_Hz_per_T_err", 0.0)
    if out["mu0_meff_T"] < 0:
        out["mu0_hk_eff_T"] = -out["mu0_meff_T"]
        out["mu0_hk_eff_T_err"] = out["mu0_meff_T_err"]
    if sel["frequency_Hz"].nunique() >= 2:
        out.update(fit_damping(sel["frequency_Hz"], sel["mu0_dh_T"], sel["mu0_dh_T_err"],
                               gam, gam_err))
    sa, sa_err = _weighted_mean(sel["s_over_a"], sel["s_over_a_err"])
    out["s_over_a"], out["s_over_a_err"] = sa, sa_err
    ms = _film("mu0_ms_T", mu0_ms_T, params, ("mu0_ms_T",))
    t = _film("thickness_m", thickness_m, params, ("thickness_m",))
    d = _film("hm_thickness_m", hm_thickness_m, params,
              ("hm_thickness_m", "heavy_metal_thickness_m"))
    if None not in (ms, t, d):
        meff = out["mu0_meff_T"]
        xi = xi_from_s_over_a(sel["s_over_a"], sel["mu0_hres_T"], meff, ms, t, d)
        xi_e = np.abs(xi) * sel["s_over_a_err"].to_numpy() / np.abs(sel["s_over_a"].to_numpy())
        out["xi"], out["xi_err"] = _weighted_mean(xi, xi_e)
    out["n_lines"] = float(len(sel))
    slopes = fit_dc_linewidth(lines[lines["frequency_Hz"] >= min_frequency_Hz])
    if magnet == "inplane" and len(slopes):
        if field_angle_deg is not None:
            ang = np.full(len(slopes), float(field_angle_deg))
        elif "field_angle_deg" in slopes.columns:
            ang = slopes["field_angle_deg"].to_numpy(float)
        else:
            ang = None                  # no field angle: sin φ unknown, no xi_dc
        if ang is not None:
            ang = ang + np.where(slopes["polarity"].to_numpy() < 0, 180.0, 0.0)
            fac = linewidth_slope_factor(slopes["frequency_Hz"], slopes["mu0_hres_T"], ang,
                                         out["mu0_meff_T"], gam, hk, easy_axis_deg)
            good = np.abs(fac) > 1e-6
            h, h_err = _weighted_mean(slopes["slope_T_per_A"].to_numpy()[good] / fac[good],
                                      slopes["slope_T_per_A_err"].to_numpy()[good]
                                      / np.abs(fac[good]))
            if np.isfinite(h):
                out["mu0_hdl_per_A_T"], out["mu0_hdl_per_A_T_err"] = h, h_err
                out["n_dc_lines"] = float(good.sum())
                w = _film("width_m", width_m, params, ("width_m",))
                if None not in (ms, t, d, w):
                    unit = MU0 * HBAR / (2 * E_CHARGE * ms * t * w * d)   # T per A at ξ = 1
                    out["xi_dc"], out["xi_dc_err"] = h / unit, h_err / unit
    out = {k: float(v) for k, v in out.items()}
    if table:
        out["per_frequency"] = lines.to_dict(orient="records")
        out["dc_slopes"] = slopes.to_dict(orient="records")
    return out


def per_frequency_table(df: pd.DataFrame) -> pd.DataFrame:
    """Get the per-sweep fit table (see :func:`fit_lines`), sorted by frequency."""
    return fit_lines(df).sort_values(["frequency_Hz", "polarity"], ignore_index=True)
