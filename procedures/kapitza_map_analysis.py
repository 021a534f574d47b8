"""Analysis of a Kapitza map (physics.md check 7): ⟨m·Ĥ⟩ per grid point from the Hall
readout, the stability boundary H(I) where ⟨m·Ĥ⟩ crosses zero, its slope, and the comparison
with ⟨m·Ĥ⟩ = L(ξ_eff), ξ_eff = μ0 Ms V (H − H_DL/α)/k_BT.

Conventions: fields μ0·H (T) along +ẑ, current I (A) > 0 puts σ along −Ĥ for H > 0 (the
``kapitza_cofeb_w`` geometry); m·Ĥ = sign(H)·m_z; m_z = (R_xy − R_xy0)/ΔR_AHE.

The distribution's width. With σ ∥ Ĥ ∥ ẑ on an isotropic magnet the stationary distribution
is P(θ) ∝ sin θ·exp(ξ_eff cos θ) (physics.md check 7), so ⟨m·Ĥ⟩ = L(ξ_eff),
⟨(m·Ĥ)²⟩ = 1 − 2L(ξ_eff)/ξ_eff and the width w = ⟨(m·Ĥ)²⟩ − ⟨m·Ĥ⟩² (1/3 at ξ_eff = 0, → 0
when saturated). It is measured from the mean longitudinal resistance (the column
'Longitudinal resistance (ohm)'): R_xx = R0 + ΔR_AMR m_x² + ΔR_SMR m_y² and, by the axial
symmetry, ⟨m_x²⟩ = ⟨m_y²⟩ = (1 − ⟨m_z²⟩)/2, so ⟨m_z²⟩ = 1 − (⟨R_xx⟩ − R0)/ΔR_Q with
ΔR_Q = (ΔR_AMR + ΔR_SMR)/2 — from the sample (``dr_amr_ohm``, ``dr_smr_ohm``: a field-sweep
along x and y measures them) — and R0 from the saturated calibration rows (where
⟨m_z²⟩ = 1 − 2L/ξ, or 1 without the sample). The spread of repeated dc reads is measurement
noise, not this width: each read integrates over ≫ the Néel time.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy.optimize import curve_fit

from labspin.physics.constants import MU0
from labspin.physics.macrospin.analytic import kapitza_xi_eff, langevin, langevin_second_moment
from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs

from .estimates import Option, priors_dict, resolve_priors

FIELD, FIELD_SET, CURRENT = "Field (T)", "Field set (T)", "Current (A)"
R, R_STD, N = "Hall resistance (ohm)", "Hall resistance std (ohm)", "Readings"
RXX, RXX_STD = "Longitudinal resistance (ohm)", "Longitudinal resistance std (ohm)"
SAMPLE_KEYS = ("mu0_ms_T", "volume_m3", "alpha", "temperature_K", "mu0_hdl_per_A_T")
"""The constants of the model L(ξ_eff): M_s, V, T from the file's Sample constants (what the
experimenter knows), α and H_DL per ampere from other measurements (FMR, harmonic Hall)."""

OPTIONS = (
    Option("mu0_ms_T", "T", "μ0·M_s of the magnet (for ξ_eff)"),
    Option("volume_m3", "m^3", "magnet volume V (for ξ_eff)"),
    Option("temperature_K", "K", "sample temperature T (for ξ_eff)"),
    Option("alpha", "", "Gilbert damping α, e.g. from FMR (for ξ_eff)"),
    Option("mu0_hdl_per_A_T", "T/A", "damping-like field per ampere μ0H_DL/I, e.g. from "
           "harmonic Hall (for ξ_eff)"),
    Option("dr_ahe_ohm", "ohm", "anomalous-Hall amplitude ΔR_AHE (else calibrated from the "
           "saturated rows)"),
    Option("dr_amr_ohm", "ohm", "AMR amplitude ΔR_AMR (for the width from R_xx)"),
    Option("dr_smr_ohm", "ohm", "SMR amplitude ΔR_SMR (for the width from R_xx)"),
)
"""The external constants this analysis takes (``--option NAME=VALUE[±ERR]``, keyword
arguments, else the file's Sample constants); never the simulator's Sample parameters."""


def xi_eff(sample: dict, field_T, current_A):
    """Get ξ_eff for fields μ0·H (T, signed along +ẑ) and currents (A): σ is along −Ĥ for
    H > 0 and I > 0, along +Ĥ for H < 0."""
    field_T, current_A = np.asarray(field_T, float), np.asarray(current_A, float)
    s = np.where(field_T >= 0, 1.0, -1.0)
    return kapitza_xi_eff(sample["mu0_ms_T"] / MU0, sample["volume_m3"],
                          np.abs(field_T) / MU0, s * sample["mu0_hdl_per_A_T"] * current_A / MU0,
                          sample["alpha"], sample["temperature_K"])


def _readout(df: pd.DataFrame) -> pd.DataFrame:
    for c in (FIELD, CURRENT, R):
        if c not in df.columns:
            raise KeyError(f"a kapitza-map table needs the column {c!r}")
    d = df.copy()
    if FIELD_SET not in d.columns:
        d[FIELD_SET] = d[FIELD].round(5)
    if R_STD not in d.columns:
        d[R_STD] = np.nan
    if N not in d.columns:
        d[N] = 1
    d = d.dropna(subset=[FIELD, CURRENT, R])
    if (d[CURRENT] == 0).any():
        raise ValueError("a Hall resistance at zero current is undefined: drop those rows")
    return d


def readout_calibration(df: pd.DataFrame, sample: dict | None = None) -> tuple[float, float, float]:
    """Get (ΔR_AHE, its error, R_xy0) in Ω from the rows at the lowest current and the
    largest |field|: with both signs, ΔR = (R₊ − R₋)/(m₊ + m₋) and R_xy0 the weighted middle;
    with one sign, ΔR = sign(H)·R/m and R_xy0 = 0. m = L(ξ_eff) of the sample if given (the
    few per mille short of saturation at a finite field), else 1."""
    d = _readout(df)
    low = d[np.isclose(d[CURRENT], d[CURRENT].min(), rtol=1e-6)]
    fmax = low[FIELD].abs().max()
    top = low[low[FIELD].abs() > 0.9 * fmax]
    se = (top[R_STD] / np.sqrt(top[N])).fillna(0.0)
    m = np.abs(langevin(xi_eff(sample, top[FIELD], top[CURRENT]))) if sample else np.ones(len(top))
    pos, neg = top[FIELD] > 0, top[FIELD] < 0
    if pos.any() and neg.any():
        rp, rn = top[R][pos].mean(), top[R][neg].mean()
        mp, mn = m[pos.to_numpy()].mean(), m[neg.to_numpy()].mean()
        ep = np.sqrt((se[pos] ** 2).sum()) / pos.sum()
        en = np.sqrt((se[neg] ** 2).sum()) / neg.sum()
        dr = (rp - rn) / (mp + mn)
        return float(dr), float(np.hypot(ep, en) / (mp + mn)), float(
            0.5 * (rp + rn) - 0.5 * dr * (mp - mn))
    s = 1.0 if pos.any() else -1.0
    return (float(s * top[R].mean() / m.mean()),
            float(np.sqrt((se ** 2).sum()) / len(top) / m.mean()), 0.0)


def m_dot_h_table(df: pd.DataFrame, sample: dict | None = None,
                  dr_ahe_ohm: float | None = None, r_xy0_ohm: float = 0.0) -> pd.DataFrame:
    """Get the map per point: field, current, m_dot_h = sign(H)·(R − R_xy0)/ΔR_AHE, its
    error (from the spread of the reads), the state ('parallel' m·Ĥ > 0.5, 'antiparallel'
    < −0.5, else 'wandering'), and with a sample ``theory`` = L(ξ_eff)."""
    d = _readout(df)
    if dr_ahe_ohm is None:
        dr_ahe_ohm, _, r_xy0_ohm = readout_calibration(d, sample)
    s = np.sign(d[FIELD].to_numpy(float))
    s[s == 0] = 1.0
    out = pd.DataFrame({
        "field_set_T": d[FIELD_SET].to_numpy(float), "field_T": d[FIELD].to_numpy(float),
        "current_A": d[CURRENT].to_numpy(float),
        "m_dot_h": s * (d[R].to_numpy(float) - r_xy0_ohm) / dr_ahe_ohm,
        "m_dot_h_err": (d[R_STD] / np.sqrt(d[N])).to_numpy(float) / abs(dr_ahe_ohm),
        "fluctuation_ohm": d[R_STD].to_numpy(float)})
    out["state"] = np.where(out.m_dot_h > 0.5, "parallel",
                            np.where(out.m_dot_h < -0.5, "antiparallel", "wandering"))
    if sample:
        out["theory"] = langevin(xi_eff(sample, out.field_T, out.current_A))
    return out


def width_theory(xi):
    """Get the width ⟨(m·Ĥ)²⟩ − ⟨m·Ĥ⟩² = 1 − 2L(ξ)/ξ − L(ξ)² of P ∝ exp(ξ cos θ)."""
    return langevin_second_moment(xi) - np.asarray(langevin(xi)) ** 2


def width_table(df: pd.DataFrame, table: pd.DataFrame, dr_q_ohm: float,
                sample: dict | None = None) -> pd.DataFrame:
    """Get ``table`` (from :func:`m_dot_h_table`, same rows) with the second moment
    m_dot_h_sq = ⟨(m·Ĥ)²⟩ = 1 − (⟨R_xx⟩ − R0)/ΔR_Q, the width = m_dot_h_sq − m_dot_h² and
    their errors (from the spread of the reads), and with a sample ``width_theory``.

    Read errors: the meter's voltage noise is the same at every point, so it is pooled over
    the map, σ_V² = mean of (std(R_xx)·I)² (a few reads per point estimate their own spread
    poorly), and each point's error of the mean is σ_V/(I·√reads).
    R0 from the rows at the largest |field| (the saturation rows, every current there),
    weighted by their read errors: R0 = ⟨R_xx⟩ − ΔR_Q·(1 − ⟨m_z²⟩), ⟨m_z²⟩ = 1 − 2L(ξ)/ξ with
    the sample, else 1; its error enters every point's m_dot_h_sq alike."""
    d = _readout(df)
    rxx = d[RXX].to_numpy(float)
    cur = np.abs(d[CURRENT].to_numpy(float))
    if RXX_STD in d.columns and d[RXX_STD].notna().any():
        sigma_v = float(np.sqrt(np.nanmean((d[RXX_STD].to_numpy(float) * cur) ** 2)))
        se = sigma_v / (cur * np.sqrt(d[N].to_numpy(float)))
    else:
        se = np.full(rxx.size, np.nan)
    b = np.abs(d[FIELD].to_numpy(float))
    cal = (b > 0.9 * b.max()) & np.isfinite(rxx)
    m2_cal = (langevin_second_moment(xi_eff(sample, d[FIELD][cal], d[CURRENT][cal]))
              if sample else np.ones(int(cal.sum())))
    r0_each = rxx[cal] - dr_q_ohm * (1.0 - m2_cal)
    if np.all(np.isfinite(se[cal]) & (se[cal] > 0)):
        wgt = 1.0 / se[cal] ** 2
        r0, r0_err = float(np.sum(wgt * r0_each) / np.sum(wgt)), float(1 / np.sqrt(np.sum(wgt)))
    else:
        r0, r0_err = float(np.mean(r0_each)), 0.0
    out = table.copy()
    m2 = 1.0 - (rxx - r0) / dr_q_ohm
    m2_err = se / abs(dr_q_ohm)
    out["m_dot_h_sq"] = m2
    out["m_dot_h_sq_err"] = np.hypot(m2_err, r0_err / abs(dr_q_ohm))
    out["width"] = m2 - out["m_dot_h"].to_numpy() ** 2
    out["width_err"] = np.hypot(out["m_dot_h_sq_err"],
                                2 * np.abs(out["m_dot_h"]) * out["m_dot_h_err"])
    if sample:
        out["width_theory"] = width_theory(xi_eff(sample, out.field_T, out.current_A))
    return out


def _langevin_step(i, amp, scale, ic):
    return amp * langevin(scale * (ic - i))


def boundary_current(current_A, m_dot_h, err=None) -> tuple[float, float]:
    """Get (I_c, its standard error): the current where ⟨m·Ĥ⟩ crosses zero going from the
    parallel to the anti-aligned state, from a fit of A·L(s·(I_c − I)) (the shape of
    L(ξ_eff), ξ_eff linear in I) with A, s, I_c free; covariance scaled by the residuals.
    Raises ValueError if the readout does not change sign."""
    i, m = np.asarray(current_A, float), np.asarray(m_dot_h, float)
    order = np.argsort(i)
    i, m = i[order], m[order]
    e = None if err is None else np.asarray(err, float)[order]
    cross = np.nonzero((m[:-1] > 0) & (m[1:] <= 0))[0]
    if cross.size == 0:
        raise ValueError("⟨m·Ĥ⟩ does not cross zero on this current range")
    k = cross[0]
    ic0 = i[k] + (i[k + 1] - i[k]) * m[k] / (m[k] - m[k + 1])
    slope = (m[k + 1] - m[k]) / (i[k + 1] - i[k])
    amp0 = max(abs(m[0]), abs(m[-1]), 0.5)
    p0 = [amp0, max(3 * abs(slope) / amp0, 1e-6 / max(ic0, 1e-30)), ic0]
    if e is not None and np.all(np.isfinite(e)) and np.all(e > 0):
        sigma = np.maximum(e, 0.1 * np.median(e))
    else:
        sigma = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p, cov = curve_fit(_langevin_step, i, m, p0=p0, sigma=sigma, maxfev=20000)
        err_ic = float(np.sqrt(cov[2, 2]))
        if not (np.isfinite(err_ic) and i[0] <= p[2] <= i[-1]) or i.size <= 3:
            raise RuntimeError
        return float(p[2]), err_ic
    except (RuntimeError, ValueError):
        # linear interpolation between the bracketing points, error from their spread
        ek = 0.0 if e is None else float(np.hypot(e[k], e[k + 1]) / abs(slope))
        return float(ic0), max(ek, (i[k + 1] - i[k]) / np.sqrt(12))


def model_constants(priors: dict) -> dict | None:
    """Get {name: value} of the constants of L(ξ_eff) (:data:`SAMPLE_KEYS`) from priors:
    ``Prior`` objects, a result's ``priors`` entries ({"value", "err", "source"}) or plain
    numbers; None unless all are there."""
    if not all(k in priors for k in SAMPLE_KEYS):
        return None
    values = {k: priors[k] for k in SAMPLE_KEYS}
    return {k: float(v["value"] if isinstance(v, dict) else getattr(v, "value", v))
            for k, v in values.items()}


def analyze_kapitza_map(df: pd.DataFrame, **options) -> dict:
    """Get design.md's keys from a kapitza-map table.

    Options (:data:`OPTIONS`; keyword arguments or ``--option NAME=VALUE[±ERR]``, else the
    file's Sample constants — never the simulator's Sample parameters): the constants of
    L(ξ_eff) (:data:`SAMPLE_KEYS`), ΔR_AHE, ΔR_AMR and ΔR_SMR.

    - ``dr_ahe_ohm`` (± err): the readout amplitude (from the saturated rows, see
      :func:`readout_calibration`; or the prior given, with its error).
    - ``mu0_h_per_A_T`` (± err): slope of the stability boundary, μ0·H at the crossing of
      ⟨m·Ĥ⟩ through zero against the crossing current (= μ0·H_DL per ampere / α for σ along
      −Ĥ), and ``mu0_h0_T`` (± err) its intercept (residual anisotropy, field-like torque);
      a weighted straight-line fit of the crossing currents against the measured fields
      (errors from the per-field fits, scaled up by the reduced χ² when it exceeds 1).
    - ``boundary_fields``: how many fields gave a crossing.
    - ``m_dot_h_err_median``: the typical per-point error of ⟨m·Ĥ⟩ (read noise).
    - with all constants of L(ξ_eff): ``langevin_max_abs_dev``, max |⟨m·Ĥ⟩ − L(ξ_eff)|
      over the map, and ``langevin_rms_dev`` (a warning names the constants missing).
    - the distribution's width against the model (module doc), when the table has
      'Longitudinal resistance (ohm)' and ΔR_Q = (ΔR_AMR + ΔR_SMR)/2 ≠ 0: ``width_max``,
      the largest measured width (1/3 for a magnet wandering over the whole sphere) with
      ``width_max_err``, and with the constants: ``width_chi2_per_point`` (mean of t²,
      t = (w − w_theory)/σ over the grid points, calibration rows left out; σ² = σ_w² plus
      the priors' errors propagated into w − w_theory), ``width_max_abs_t``,
      ``width_max_abs_dev`` (max |w − w_theory|) and ``width_points``.
    - ``priors`` (each constant used, with its error and source) and ``warnings``.
    """
    priors = resolve_priors(OPTIONS, options, df.attrs)
    warnings: list[str] = []
    sample = model_constants(priors)
    if sample is None:
        missing = [k for k in SAMPLE_KEYS if k not in priors]
        warnings.append(f"no comparison with L(ξ_eff): give {', '.join(missing)} "
                        f"(--option NAME=VALUE±ERR)")
    d = _readout(df)
    if "dr_ahe_ohm" not in priors:
        dr, dr_err, r0 = readout_calibration(d, sample)
    else:
        dr, dr_err, r0 = priors["dr_ahe_ohm"].value, priors["dr_ahe_ohm"].err, 0.0
    t = m_dot_h_table(d, sample, dr, r0)
    rows = []
    for _, g in t.groupby("field_set_T"):
        if g.field_T.iloc[0] <= 0 or g.current_A.nunique() < 3:
            continue
        try:
            ic, ic_err = boundary_current(g.current_A, g.m_dot_h, g.m_dot_h_err)
        except ValueError:
            continue
        b_err = g.field_T.std(ddof=1) / np.sqrt(len(g)) if len(g) > 1 else 0.0
        rows.append((g.field_T.mean(), b_err, ic, ic_err))
    if len(rows) < 2:
        raise ValueError(f"the stability boundary needs crossings at ≥ 2 fields, found "
                         f"{len(rows)}: widen the current range")
    b, b_err, ic, ic_err = (np.array(c, float) for c in zip(*rows))
    out = {"dr_ahe_ohm": dr, "dr_ahe_ohm_err": dr_err}
    # I_c = c0 + c1·B: fields are measured to µT, the crossing currents carry the noise
    w = 1.0 / np.maximum(ic_err, 1e-30)
    if b.size >= 3:
        coef, cov = np.polyfit(b, ic, 1, w=w, cov="unscaled")
        chi2 = float(np.sum(((ic - np.polyval(coef, b)) * w) ** 2)) / (b.size - 2)
        cov = cov * max(1.0, chi2)
    else:
        coef = np.polyfit(b, ic, 1)
        j = np.array([[b[0], 1.0], [b[1], 1.0]])
        cov = np.linalg.inv(j) @ np.diag(ic_err ** 2) @ np.linalg.inv(j).T
    c1, c0 = coef
    slope = 1.0 / c1
    slope_err = np.sqrt(cov[0, 0]) / c1 ** 2
    h0 = -c0 / c1                        # the field where I_c = 0
    g = np.array([c0 / c1 ** 2, -1.0 / c1])
    out.update({"mu0_h_per_A_T": slope, "mu0_h_per_A_T_err": slope_err,
                "mu0_h0_T": h0, "mu0_h0_T_err": float(np.sqrt(g @ cov @ g)),
                "boundary_fields": float(b.size),
                "m_dot_h_err_median": float(np.nanmedian(t.m_dot_h_err))})
    if sample:
        dev = np.abs(t.m_dot_h - t.theory)
        out["langevin_max_abs_dev"] = float(dev.max())
        out["langevin_rms_dev"] = float(np.sqrt(np.mean(dev ** 2)))
    dr_q = 0.5 * sum(priors[k].value for k in ("dr_amr_ohm", "dr_smr_ohm") if k in priors)
    if RXX in d.columns and d[RXX].notna().any() and dr_q == 0.0:
        warnings.append("no width from R_xx: give dr_amr_ohm and/or dr_smr_ohm")
    if RXX in d.columns and dr_q != 0.0 and d[RXX].notna().any():
        out.update(_width_results(d, t, priors, sample))
    out = {k: float(v) for k, v in out.items()}
    out["priors"] = priors_dict(priors)
    out["warnings"] = warnings
    return out


def _width_results(d: pd.DataFrame, t: pd.DataFrame, priors: dict, sample: dict | None
                   ) -> dict:
    """Get the width keys of :func:`analyze_kapitza_map`; w − w_theory's error from the
    priors (ΔR_Q and the constants of L(ξ_eff)) by finite differences, one prior at a time
    moved by its error, added in quadrature to the read errors."""
    grid_rows = ~_calibration_rows(d)

    def widths(values: dict):
        dr_q = 0.5 * (values.get("dr_amr_ohm", 0.0) + values.get("dr_smr_ohm", 0.0))
        model = model_constants(values) if sample else None
        return width_table(d, t, dr_q, model)[grid_rows]

    values = {k: p.value for k, p in priors.items()}
    grid = widths(values)
    ok = (np.isfinite(grid.width) & (grid.width_err > 0)).to_numpy()
    out: dict = {}
    if not ok.any():
        return out
    measured = grid[ok]
    k = int(np.argmax(measured.width.to_numpy()))
    out["width_max"] = float(measured.width.iloc[k])
    out["width_max_err"] = float(measured.width_err.iloc[k])
    if not sample:
        return out
    deviation = (measured.width - measured.width_theory).to_numpy(float)
    var = measured.width_err.to_numpy(float) ** 2
    for name in ("dr_amr_ohm", "dr_smr_ohm", *SAMPLE_KEYS):
        if name in priors and priors[name].err > 0:
            moved = widths({**values, name: values[name] + priors[name].err})[ok]
            var = var + ((moved.width - moved.width_theory).to_numpy(float) - deviation) ** 2
    tt = deviation / np.sqrt(var)
    out.update({"width_chi2_per_point": float(np.mean(tt ** 2)),
                "width_max_abs_t": float(np.max(np.abs(tt))),
                "width_max_abs_dev": float(np.max(np.abs(deviation))),
                "width_points": float(len(measured))})
    return out


def _calibration_rows(d: pd.DataFrame) -> np.ndarray:
    """Get a mask of the calibration rows: those at the largest |field| (the procedure's
    ±'Saturation field' rows), when they are few (≤ 4) and the grid's fields lie below."""
    b = np.abs(d[FIELD].to_numpy(float))
    top = b > 0.9 * b.max()
    if top.sum() > 4 or not (~top).any():
        return np.zeros(b.size, bool)            # no separate saturation rows
    return top


NEEDS = Needs(columns=(
    Column(FIELD, "measured field μ0H, T", FIELD_ALTERNATIVES),
    Column(FIELD_SET, "field set point, T"),
    Column(CURRENT, "dc current, A", ("Current (mA)",)),
    Column(R, "mean Hall resistance, Ω"),
    Column(R_STD, "its standard deviation, Ω", required=False),
    Column(N, "readings averaged per point", required=False),
    Column(RXX, "mean longitudinal resistance, Ω", required=False),
    Column(RXX_STD, "its standard deviation, Ω", required=False),
), header_keys={"Sample constants": "μ0M_s, V, T of the film (priors, see the options)"})
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
