"""Analysis of resonance tables f(H) — PIMM, VNA-FMR, spin-diode resonance tables, or the
per-line output of an FMR analysis: Kittel (μ0M_eff, γ, μ0H_k,eff) and, where linewidths are
given, damping (α, ΔB0), by the one path of :mod:`procedures.kittel`.

Columns (one row per resonance): ``Frequency (Hz)`` and ``Field (T)`` (the resonance field
μ0H_res, a sign = polarity; any unit of the unit table: "Frequency (GHz)", "Field (mT)",
"Field (Oe)"); optional ``Field error (T)`` (one standard error of μ0H_res), ``Linewidth (T)``
(HWHM, μ0ΔH) with ``Linewidth error (T)``, ``Field angle (deg)`` (in plane, from +x).
Without field errors (nor the option ``field_err_T``) the points are weighted alike and the
errors come from the scatter about the fit (χ²/dof = 1 by construction, then reported as
left out).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from labspin.results.reader import convert_onto

from .estimates import Option
from .kittel import fit_resonances, resonance_result, resonance_setup
from .stfmr_analysis import OPTIONS as STFMR_OPTIONS

_SHARED = ("gamma_Hz_per_T", "mu0_hk_T", "fit_hk", "easy_axis_deg", "field_angle_deg",
           "min_frequency_Hz", "field_offset_T")

MAGNET_OPTION = Option("magnet", "", "Kittel geometry: 'inplane' (field in plane), "
                       "'perpendicular' (PMA film, field in plane, both branches) or "
                       "'outofplane' (field along the normal)", "inplane", constant=False,
                       kind=str)

FIT_OFFSET_OPTION = Option(
    "fit_field_offset", "", "field offsets in the Kittel fit: 'no' (fixed at field_offset_T),"
    " 'yes' (one offset of the signed field), 'per_polarity' (each polarity's shift of |B|: "
    "their mean acts as an in-plane anisotropy along the field) or 'auto' (the simplest of "
    "these that the data ask for, by a nested-χ² test at p = 0.01)", "auto", constant=False,
    kind=str)
"""The offset option of the f(H) analyses (fmr, kittel): ``auto`` by default, since a zero
offset or an anisotropy of under 1 mT pulls γ and M_eff of low-field lines far off
(:func:`procedures.kittel.choose_offset_mode`)."""

OPTIONS = tuple(o for o in STFMR_OPTIONS if o.name in _SHARED) + (
    FIT_OFFSET_OPTION,
    MAGNET_OPTION,
    Option("field_err_T", "T", "one standard error of every resonance field, where the "
           "table has no 'Field error (T)' column", None, constant=False),
)

_OPTIONAL = {"field_err": ("Field error", "T"), "dh": ("Linewidth", "T"),
             "dh_err": ("Linewidth error", "T"), "angle": ("Field angle", "deg")}


def resonance_table(df: pd.DataFrame, field_err_T: float | None = None) -> pd.DataFrame:
    """Get the lines table of ``df`` (columns of the module docstring): frequency_Hz,
    polarity, mu0_hres_T (|B|), mu0_hres_T_err, optional mu0_dh_T(_err), field_angle_deg,
    used, reason. KeyError naming the missing columns."""
    df = df.rename(columns={c: str(c).strip() for c in df.columns}).copy()
    convert_onto(df, ["Field (T)", "Frequency (Hz)",
                      *(f"{q} ({si})" for q, si in _OPTIONAL.values())])
    missing = [c for c in ("Frequency (Hz)", "Field (T)") if c not in df.columns]
    if missing:
        raise KeyError(f"kittel needs the columns {missing} (one row per resonance, any "
                       f"unit, e.g. 'Frequency (GHz)', 'Field (mT)'); have {list(df.columns)}")
    b = df["Field (T)"].to_numpy(float)
    out = pd.DataFrame({"frequency_Hz": df["Frequency (Hz)"].to_numpy(float),
                        "polarity": np.where(b < 0, -1, 1), "mu0_hres_T": np.abs(b)})
    if "Field error (T)" in df.columns:
        out["mu0_hres_T_err"] = df["Field error (T)"].to_numpy(float)
    elif field_err_T is not None:
        out["mu0_hres_T_err"] = float(field_err_T)
    if "Linewidth (T)" in df.columns:
        if "Linewidth error (T)" not in df.columns:
            raise KeyError("kittel: a 'Linewidth (T)' column needs 'Linewidth error (T)' "
                           "beside it (the damping fit is weighted by it)")
        out["mu0_dh_T"] = df["Linewidth (T)"].to_numpy(float)
        out["mu0_dh_T_err"] = df["Linewidth error (T)"].to_numpy(float)
    if "Field angle (deg)" in df.columns:
        out["field_angle_deg"] = df["Field angle (deg)"].to_numpy(float)
    good = np.isfinite(out["frequency_Hz"]) & np.isfinite(out["mu0_hres_T"]) & \
        (out["frequency_Hz"] > 0)
    if "mu0_hres_T_err" in out.columns:
        good &= np.isfinite(out["mu0_hres_T_err"]) & (out["mu0_hres_T_err"] > 0)
    out["used"] = good
    out["reason"] = np.where(good, None, "not a finite, positive frequency, field and error")
    return out


def analyze_kittel(df: pd.DataFrame, **options) -> dict:
    """Get design.md's keys from a resonance table (module docstring): mu0_meff_T,
    gamma_Hz_per_T (fitted where the frequencies determine it, else fixed and listed in
    ``priors`` with a warning), mu0_hk_eff_T (μ0M_eff < 0), kittel_chi2_dof, and with
    linewidths alpha, mu0_dh0_T, damping_chi2_dof; each with _err; ``per_polarity``,
    ``lines``, ``priors``, ``warnings``.

    Options (:data:`OPTIONS`): γ/2π, μ0H_k (in-plane anisotropy, a prior), the geometry
    ``magnet`` (:data:`procedures.kittel.MAGNETS`), field and easy-axis angles, the lowest
    frequency used and ``field_err_T``."""
    set_, priors, gamma = resonance_setup(OPTIONS, options, df.attrs)
    warnings: list[str] = []
    lines = resonance_table(df, set_["field_err_T"])
    errors_known = "mu0_hres_T_err" in lines.columns
    if not errors_known:
        lines["mu0_hres_T_err"] = 1e-3             # equal weights; errors from the scatter
        warnings.append("no resonance-field errors (column 'Field error (T)' or option "
                        "field_err_T): points weighted alike, errors from the scatter about "
                        "the fit")
    low = lines["used"] & (lines["frequency_Hz"] < set_["min_frequency_Hz"])
    lines.loc[low, ["used", "reason"]] = [False, "below min_frequency_Hz"]
    for _, r in lines[~lines["used"]].iterrows():
        warnings.append(f"row {r['frequency_Hz'] / 1e9:g} GHz, {r['mu0_hres_T']:.4g} T not "
                        f"used: {r['reason']}")
    sel = lines[lines["used"]]
    nparam = 2 if gamma.source == "default" else 1
    if len(sel) < nparam + 1:
        raise ValueError(f"kittel needs ≥ {nparam + 1} usable resonances, got {len(sel)}")
    out, sel, per_pol, free = fit_resonances(sel, lines, set_, priors, gamma, warnings,
                                             unsaturated_branch=True,
                                             errors_known=errors_known)
    if not errors_known:
        out.pop("kittel_chi2_dof", None)
    return resonance_result(out, sel, per_pol, free, lines.to_dict(orient="records"), priors,
                            warnings)


analyze_kittel.OPTIONS = OPTIONS
