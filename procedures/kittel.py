"""Kittel and damping fits of resonance lines: the one path every resonance analysis uses
(ST-FMR, broadband FMR, f(H) tables of PIMM, VNA-FMR and spin-diode measurements).

Fields μ0H in tesla, γ as γ/2π in Hz/T, linewidths as half widths at half maximum (HWHM, T).
Kittel forms (physics.md check 5; the core's ``labspin.physics.macrospin`` functions):

- ``magnet="inplane"``: in-plane film, field in plane, f = γ·√[(B + B_k)(B + B_k + μ0M_eff)]
  (B_k an in-plane uniaxial anisotropy field at an angle to the field:
  :func:`kittel_inplane_angle`); with μ0M_eff < 0 also a perpendicular magnet above
  saturation.
- ``magnet="perpendicular"``: a perpendicular magnet (μ0M_eff < 0, μ0H_k,eff = −μ0M_eff),
  field in plane: above saturation f = γ·√[B(B − μ0H_k,eff)], below f = γ·√(μ0H_k,eff² − B²).
- ``magnet="outofplane"``: field along the film normal, above saturation, f = γ·(B − μ0M_eff).

Damping: Δ(f) = Δ0 + f·α/γ (physics.md's Δ0 + 2πfα/γ0 in tesla).

μ0H_k: given (option, file) → fixed at it, its error propagated; not given → 0, or fitted
(setting ``fit_hk``: "yes", or "auto" where it lowers the Kittel χ² significantly,
:func:`_with_fitted_hk`).

γ: given (an option or the file's sample constants) → fixed at it, its error propagated;
otherwise fitted only where the frequencies determine it, the free fit is acceptable and γ is
physical (:func:`kittel_and_damping` states the criterion), else fixed at the default (free
electron ± 5 %) with a warning giving the free value. Fixed priors (γ, μ0H_k, a field
offset) propagate their errors into M_eff, α and what follows; a field offset
(:data:`OFFSET_MODES`) may be fitted instead.
"""
from __future__ import annotations

import math
from warnings import catch_warnings, simplefilter

import numpy as np
import pandas as pd
from scipy import stats
from scipy.optimize import OptimizeWarning, curve_fit

from labspin.physics.constants import MU0
from labspin.physics.macrospin.analytic import (
    inplane_magnetization_angle as magnetization_angle,
)
from labspin.physics.macrospin.analytic import (
    kittel_inplane,
    kittel_normal,
    kittel_perpendicular,
)

from .estimates import (
    DISAGREEMENT_P,
    Prior,
    combine,
    flag_undetermined,
    priors_dict,
    resolve_priors,
    settings,
    strict,
    weighted_line,
)

GAMMA_E_HZ_PER_T = 28.024951e9
"""γ/2π of the free electron (g = 2.0023), Hz/T: the default when γ cannot be fitted."""

GAMMA_PRIOR = (GAMMA_E_HZ_PER_T, 0.05 * GAMMA_E_HZ_PER_T)
"""The default γ/2π (Hz/T) where the frequencies do not determine it: the free electron's,
± 5 % (g = 2.00 ± 0.10 spans YIG's 2.00 to cobalt's 2.15–2.2; permalloy 2.1)."""

MAGNETS = ("inplane", "perpendicular", "outofplane")
"""The Kittel geometries (see the module docstring)."""


def inplane_stiffness(b_T, field_angle_deg, mu0_meff_T, mu0_hk_T, easy_axis_deg: float = 0.0):
    """Get (B1, B2) (T): the in-plane and out-of-plane stiffness fields of a saturated in-plane
    film at |b_T| (field at ``field_angle_deg``, uniaxial μ0H_k along ``easy_axis_deg``), m at
    the core's :func:`inplane_magnetization_angle` φ: B1 = B cos(φ−φ_H) + B_k cos 2(φ−φ_K),
    B2 = B cos(φ−φ_H) + B_k cos²(φ−φ_K) + μ0M_eff; f = γ·√(B1·B2)."""
    b = np.abs(np.asarray(b_T, float))
    ph = np.radians(np.broadcast_to(np.asarray(field_angle_deg, float), b.shape))
    pk = math.radians(easy_axis_deg)
    phi = magnetization_angle(b, field_angle_deg, mu0_hk_T, easy_axis_deg)
    hpar = b * np.cos(phi - ph)
    return (hpar + mu0_hk_T * np.cos(2 * (phi - pk)),
            hpar + mu0_hk_T * np.cos(phi - pk) ** 2 + mu0_meff_T)


def kittel_inplane_angle(b_T, field_angle_deg, mu0_meff_T, mu0_hk_T, gamma_Hz_per_T,
                         easy_axis_deg: float = 0.0):
    """Get f (Hz) of an in-plane film with a uniaxial in-plane anisotropy field μ0H_k (T)
    along ``easy_axis_deg``, the field |b_T| in plane at ``field_angle_deg`` (both from +x).

    m sits at φ with H·sin(φ − φ_H) + (H_k/2)·sin 2(φ − φ_K) = 0 (Newton from φ_H), and
    f = γ·√(B1·B2) with the stiffnesses of :func:`inplane_stiffness`.
    With H_k = 0 this is ``kittel_inplane`` of the core (used then).
    """
    b = np.abs(np.asarray(b_T, float))
    gamma0 = 2 * math.pi * MU0 * gamma_Hz_per_T
    if mu0_hk_T == 0.0:
        return kittel_inplane(b / MU0, mu0_meff_T / MU0, 0.0, gamma0=gamma0)
    e1, e2 = inplane_stiffness(b, field_angle_deg, mu0_meff_T, mu0_hk_T, easy_axis_deg)
    return gamma_Hz_per_T * np.sqrt(np.clip(e1 * e2, 0.0, None))


def linewidth_drag(b_T, field_angle_deg, mu0_meff_T, mu0_hk_T, easy_axis_deg: float = 0.0):
    """Get c (dimensionless, 1 when m lies along the field) with the field-swept HWHM
    Δ_B = Δ0 + c·α·f/γ of an in-plane film.

    Linearising the LLG about the equilibrium, the frequency half width is
    δf = α·γ·(B1 + B2)/2 (Gilbert damping, B1 and B2 of :func:`inplane_stiffness`), and a field
    sweep at fixed f sees Δ_B = δf/(df/dB) with f = γ√(B1B2): c = (B1 + B2)/(d(B1B2)/dB).
    Where the field is off the easy axis, m lags behind the field (``dragging``) and c ≠ 1:
    with B1B2 = B(B + M_eff) c = 1 exactly. Checked against field sweeps of the core's
    susceptibility (tests/test_fmr_line_bias.py)."""
    b = np.abs(np.asarray(b_T, float))
    if mu0_hk_T == 0.0:
        return np.ones_like(b)
    h = 1e-6
    e1, e2 = inplane_stiffness(b, field_angle_deg, mu0_meff_T, mu0_hk_T, easy_axis_deg)
    hi = np.prod(inplane_stiffness(b + h, field_angle_deg, mu0_meff_T, mu0_hk_T,
                                   easy_axis_deg), axis=0)
    lo = np.prod(inplane_stiffness(b - h, field_angle_deg, mu0_meff_T, mu0_hk_T,
                                   easy_axis_deg), axis=0)
    return (e1 + e2) / ((hi - lo) / (2 * h))


def _kittel_model(magnet: str, hk_T: float, angle_deg, easy_axis_deg: float):
    def f(b_T, meff_T, gamma_Hz_per_T):
        gamma0 = 2 * math.pi * MU0 * gamma_Hz_per_T
        if magnet == "perpendicular":
            return kittel_perpendicular(np.asarray(b_T) / MU0, min(meff_T, -1e-9) / MU0,
                                        gamma0=gamma0)
        if magnet == "outofplane":
            return kittel_normal(np.abs(np.asarray(b_T)) / MU0, meff_T / MU0, gamma0=gamma0)
        return kittel_inplane_angle(b_T, angle_deg, meff_T, hk_T, gamma_Hz_per_T,
                                    easy_axis_deg)
    return f


FIELD_READING_REL_ERR = 5e-4
"""A field reading's accuracy relative to the reading (a Hall probe's calibration and
linearity, e.g. Lake Shore 455: ±0.05 % of reading): the Kittel form is held to describe the
resonance fields to within √(σ_B² + (this·B)²), the criterion of a free γ
(:func:`kittel_and_damping`); the fit itself weights by the line fits' σ_B."""

OFFSET_MODES = ("no", "yes", "per_polarity", "auto")
"""How the Kittel fit treats a field offset: "no" (fixed at the prior ``field_offset_T``,
its error propagated), "yes" (one offset δ of the signed field fitted: true |B| = |B_read| +
polarity·δ, a Hall probe's zero or a remanence), "per_polarity" (each polarity's own shift
δ± of |B| fitted: true |B| = |B_read| + δ_polarity; their mean acts as an in-plane
anisotropy field along the field, half their difference as a zero offset), "auto" (the
simplest of the three the data ask for: :func:`choose_offset_mode`; :func:`fit_resonances`
resolves it, :func:`fit_kittel` takes only the first three)."""


OFFSET_KEYS = ("field_offset_T", "field_offset_plus_T", "field_offset_minus_T")
"""The fitted field offsets' keys (T)."""


def _offset_keys(mode: str, pols) -> list[str]:
    if mode == "yes":
        return ["field_offset_T"]
    if mode == "per_polarity":
        return [f"field_offset_{'plus' if p > 0 else 'minus'}_T" for p in sorted(set(pols))[::-1]]
    return []


def fit_kittel(frequency_Hz, b_res_T, b_err_T, *, magnet: str = "inplane",
               gamma_Hz_per_T: float | None = None, gamma_err: float = 0.0,
               mu0_hk_T: float = 0.0, mu0_hk_err_T: float = 0.0, field_angle_deg=45.0,
               easy_axis_deg: float = 0.0, errors_known: bool = True, polarity=None,
               field_offset_T: float = 0.0, field_offset_err_T: float = 0.0,
               fit_offset: str = "no", fit_hk: bool = False) -> dict:
    """Fit f(B_res) with the Kittel form of ``magnet`` (:data:`MAGNETS`; "inplane" with
    ``mu0_hk_T`` ≠ 0 uses the field angle and anisotropy of :func:`kittel_inplane_angle`);
    γ free when ``gamma_Hz_per_T`` is None, else fixed at it; ``fit_hk``: μ0H_k fitted
    (starting from ``mu0_hk_T``; in-plane films only), reported as mu0_hk_T. Field offsets
    (:data:`OFFSET_MODES`, ``polarity`` ±1 per line): fixed at ``field_offset_T`` or fitted.
    Every fixed prior's error (γ's ``gamma_err``, μ0H_k's ``mu0_hk_err_T``, the fixed offset's
    ``field_offset_err_T``) is propagated into every fitted value by refitting at the prior
    ± its error (half the difference, in quadrature). Get mu0_meff_T, chi2_dof, (γ free)
    gamma_Hz_per_T and rho_meff_gamma, the fitted offsets (field_offset_T or
    field_offset_plus_T / field_offset_minus_T), each with _err.

    Scale-free: the fit runs in GHz and GHz/T. The field errors enter as frequency errors
    through the local slope df/dB (effective variance, refreshed once at the fitted values);
    the covariance is that of these errors, widened by the reduced χ² when it exceeds 1 —
    or, with ``errors_known=False`` (a table without errors: ``b_err_T`` are only relative
    weights), scaled by the reduced χ². RuntimeError when the fit does not converge.
    """
    if magnet not in MAGNETS:
        raise ValueError(f"magnet must be one of {', '.join(MAGNETS)}, got {magnet!r}")
    if fit_offset not in OFFSET_MODES[:3]:
        raise ValueError(f"fit_kittel: fit_offset must be one of {', '.join(OFFSET_MODES[:3])}"
                         f" ('auto' is resolved by choose_offset_mode), got {fit_offset!r}")
    f = np.asarray(frequency_Hz, float) / 1e9
    b = np.abs(np.asarray(b_res_T, float))
    be = np.asarray(b_err_T, float)
    pol = np.ones(b.size) if polarity is None else np.where(np.asarray(polarity) < 0, -1.0, 1.0)
    free = gamma_Hz_per_T is None
    if fit_hk and magnet != "inplane":
        raise ValueError("μ0H_k can be fitted only for magnet='inplane'")
    nfix = 1 + int(free) + int(fit_hk)            # parameters before the offsets
    okeys = _offset_keys(fit_offset, pol)
    chi2 = {}

    def fit_at(g_fix, hk, off_fix):
        model = _kittel_model(magnet, hk, field_angle_deg, easy_axis_deg)
        g0 = GAMMA_E_HZ_PER_T / 1e9 if free else g_fix

        def true_b(offs):
            if fit_offset == "yes":
                return b + pol * offs[0]
            if fit_offset == "per_polarity":
                shift = dict(zip(sorted(set(pol))[::-1], offs))
                return b + np.array([shift[p] for p in pol])
            return b + pol * off_fix

        def model_at(p):
            if not fit_hk:
                return model
            return _kittel_model(magnet, p[1 + int(free)], field_angle_deg, easy_axis_deg)

        def fun(bb, *p):
            g = p[1] if free else g_fix
            return model_at(p)(true_b(p[nfix:]), p[0], g * 1e9) / 1e9

        offs0 = [off_fix] * len(okeys)
        grid = np.linspace(-2.0, -1e-3, 400) if magnet == "perpendicular" else \
            np.linspace(-2.0, 3.0, 1001)
        bt = true_b(offs0)
        meff0 = float(grid[int(np.argmin([np.sum((model(bt, m, g0 * 1e9) / 1e9 - f) ** 2)
                                          for m in grid]))])
        params = [meff0] + ([g0] if free else []) + ([hk] if fit_hk else []) + offs0
        sigma = None
        for _ in range(2):
            popt, pcov, info, msg, ier = curve_fit(
                fun, b, f, p0=params, sigma=sigma, absolute_sigma=sigma is not None,
                maxfev=20000, full_output=True)
            if ier not in (1, 2, 3, 4):
                raise RuntimeError(f"the Kittel fit did not converge: {msg}")
            params = list(popt)
            h = 1e-5
            mod = model_at(popt)
            sl = np.abs(mod(true_b(popt[nfix:]) + h, popt[0],
                            (popt[1] if free else g_fix) * 1e9)
                        - mod(true_b(popt[nfix:]) - h, popt[0],
                              (popt[1] if free else g_fix) * 1e9)) / (2e9 * h)
            sigma = np.maximum(sl * np.maximum(be, 1e-9), 1e-6)
        dof = f.size - len(params)
        resid = (fun(b, *popt) - f) / sigma
        chi2["dof"] = float(resid @ resid) / dof if dof > 0 else float("nan")
        floor = resid * sigma / (sl * np.hypot(np.maximum(be, 1e-9), FIELD_READING_REL_ERR * b))
        chi2["accuracy"] = float(floor @ floor) / dof if dof > 0 else float("nan")
        if dof > 0:
            pcov = pcov * (chi2["dof"] if not errors_known else max(1.0, chi2["dof"]))
        return popt, pcov

    g_given = None if free else gamma_Hz_per_T / 1e9
    popt, pcov = fit_at(g_given, mu0_hk_T, field_offset_T)
    chi2_dof = chi2["dof"]
    var = np.clip(np.diag(pcov), 0.0, None)
    scale = np.array([1.0] + ([1e9] if free else []) + ([1.0] if fit_hk else [])
                     + [1.0] * len(okeys))
    shifts = []                                   # fixed priors' errors, propagated
    if not free and gamma_err > 0:
        shifts.append([fit_at(g_given + s * gamma_err / 1e9, mu0_hk_T, field_offset_T)[0]
                       for s in (1, -1)])
    if mu0_hk_err_T > 0 and not fit_hk:
        shifts.append([fit_at(g_given, mu0_hk_T + s * mu0_hk_err_T, field_offset_T)[0]
                       for s in (1, -1)])
    if fit_offset == "no" and field_offset_err_T > 0:
        shifts.append([fit_at(g_given, mu0_hk_T, field_offset_T + s * field_offset_err_T)[0]
                       for s in (1, -1)])
    for hi_, lo_ in shifts:
        var = var + (0.5 * (np.asarray(hi_) - np.asarray(lo_))) ** 2
    perr = np.sqrt(var) * scale
    out = {"mu0_meff_T": float(popt[0]), "mu0_meff_T_err": float(perr[0])}
    if free:
        out.update({"gamma_Hz_per_T": float(popt[1] * 1e9),
                    "gamma_Hz_per_T_err": float(perr[1]),
                    "rho_meff_gamma": float(pcov[0, 1] / max(math.sqrt(pcov[0, 0] * pcov[1, 1]),
                                                             1e-300))})
    if fit_hk:
        out["mu0_hk_T"], out["mu0_hk_T_err"] = float(popt[nfix - 1]), float(perr[nfix - 1])
    for k, key in enumerate(okeys, start=nfix):
        out[key], out[key + "_err"] = float(popt[k]), float(perr[k])
    if math.isfinite(chi2_dof):
        out["kittel_chi2_dof"] = chi2_dof
        out["kittel_dof"] = int(f.size - len(popt))
        out["kittel_chi2_dof_at_accuracy"] = chi2["accuracy"]
    return out


def fit_damping(frequency_Hz, dh_T, dh_err_T, gamma_Hz_per_T: float,
                gamma_err: float = 0.0, drag=None) -> dict:
    """Fit Δ(f) = Δ0 + c·f·α/γ (HWHM, T), a straight line in c·f weighted by the line fits'
    errors (:func:`estimates.weighted_line`: widened by the reduced χ² when above 1), c the
    dragging factor of each line (:func:`linewidth_drag`; 1 when not given); get alpha and
    mu0_dh0_T with _err (γ's error propagated into α) and damping_chi2_dof."""
    f = np.asarray(frequency_Hz, float)
    if np.unique(f).size < 2:
        raise ValueError("the damping fit needs at least two frequencies")
    x = f if drag is None else f * np.asarray(drag, float)
    coef, cov = weighted_line(x / 1e9, dh_T, dh_err_T)
    k, d0 = coef[0] / 1e9, coef[1]
    k_err, d0_err = math.sqrt(cov[0, 0]) / 1e9, math.sqrt(cov[1, 1])
    alpha = k * gamma_Hz_per_T
    alpha_err = math.hypot(k_err * gamma_Hz_per_T, k * gamma_err)
    out = {"alpha": float(alpha), "alpha_err": float(alpha_err),
           "mu0_dh0_T": float(d0), "mu0_dh0_T_err": float(d0_err)}
    dof = f.size - 2
    if dof > 0:
        r = (np.asarray(dh_T, float) - (coef[0] * x / 1e9 + d0)) / np.asarray(dh_err_T, float)
        out["damping_chi2_dof"] = float(r @ r) / dof
    return out


GAMMA_PHYSICAL_HZ_PER_T = (25e9, 33e9)
"""The range of γ/2π (Hz/T) a free Kittel fit may return and be kept (a documented prior):
g = 1.78–2.36 spans YIG's and permalloy's 2.0–2.1, CoFeB's 2.0–2.1, cobalt's 2.15–2.2 and
nickel's 2.2; a free γ outside it is a misfit (an offset, an anisotropy, unsaturated lines),
not a measurement of g."""


MODERATE_MISFIT_CHI2_DOF = 10.0
"""The largest reduced χ² of a free Kittel fit that the likelihood-ratio arm of the free-γ
rule accepts (line errors underestimated by up to ≈ 3×, as fits on real backgrounds give:
the Ta/CoFeB spin-diode set is at 3.2); beyond it the misfit (field offsets, anisotropy,
unsaturated lines: the permalloy map without its field shifts is at 38) is what a free γ
would absorb."""


def _free_gamma_refusal(trial: dict | None, gamma: Prior, errors_known: bool,
                        fixed_fit=None, warnings: list | None = None) -> list[str]:
    """Get why a free-γ Kittel fit ``trial`` is not kept (the criterion of
    :func:`kittel_and_damping`); [] when it is. ``fixed_fit()`` gets the fit with γ fixed
    at the default (asked for only when the free fit's χ² is not acceptable); a free fit
    kept on the likelihood-ratio test adds its warning to ``warnings``."""
    if trial is None:
        return ["the free fit failed"]
    why = []
    g, ge = trial["gamma_Hz_per_T"], trial["gamma_Hz_per_T_err"]
    if not ge < gamma.err:
        why.append(f"not determined: its error {ge / 1e9:.2g} GHz/T is not below the "
                   f"default's ± {gamma.err / 1e9:.2g} GHz/T")
    dof = trial.get("kittel_dof", 0)
    if errors_known and dof > 0:
        c2 = trial["kittel_chi2_dof_at_accuracy"]
        p = float(stats.chi2.sf(c2 * dof, dof))
        if p < DISAGREEMENT_P:
            moderate = c2 <= MODERATE_MISFIT_CHI2_DOF
            fixed = fixed_fit() if fixed_fit is not None and moderate else None
            # the data exclude the default γ even with the misfit's scatter: the χ² the
            # fixed γ adds, in units of the free fit's reduced χ² (an F-type test, 1 dof)
            excess = (math.inf if fixed is None else
                      (fixed["kittel_chi2_dof_at_accuracy"] * fixed["kittel_dof"]
                       - c2 * dof) / c2)
            if fixed is not None and excess > stats.chi2.isf(DISAGREEMENT_P, 1):
                if warnings is not None:
                    warnings.append(
                        f"the free Kittel fit is not acceptable (χ²/dof = {c2:.3g}, {dof} dof, "
                        f"p = {p:.2g}), but the data exclude the default γ (fixing it adds "
                        f"{excess:.3g} reduced-χ² units, limit "
                        f"{stats.chi2.isf(DISAGREEMENT_P, 1):.3g}): γ kept free, its errors "
                        "widened by the scatter; a field offset (fit_field_offset), an "
                        "anisotropy (mu0_hk_T) or misfitted lines may be missing")
            else:
                why.append(f"not acceptable: χ²/dof = {c2:.3g} ({dof} dof, p = {p:.2g}) with "
                           f"the field errors and the reading's {FIELD_READING_REL_ERR:.2%} "
                           "accuracy, " + ("and the default γ fits about as well" if moderate
                                           else f"beyond {MODERATE_MISFIT_CHI2_DOF:g}, a "
                                           "misfit a free γ would absorb"))
    lo, hi = GAMMA_PHYSICAL_HZ_PER_T
    if not lo <= g <= hi:
        why.append(f"outside the physical range {lo / 1e9:g}–{hi / 1e9:g} GHz/T")
    return why


def true_fields(sel: pd.DataFrame, out: dict, set_: dict, offset: Prior | None) -> np.ndarray:
    """Get the lines' |B_res| corrected by the Kittel fit's field offsets ``out`` (fitted) or
    the fixed prior ``offset`` (:data:`OFFSET_MODES`)."""
    b = sel["mu0_hres_T"].to_numpy(float)
    pol = np.where(sel["polarity"].to_numpy() < 0, -1.0, 1.0)
    mode = set_.get("fit_field_offset", "no")
    if mode == "yes":
        return b + pol * out["field_offset_T"]
    if mode == "per_polarity":
        return b + np.where(pol > 0, out.get("field_offset_plus_T", 0.0),
                            out.get("field_offset_minus_T", 0.0))
    return b + pol * (offset.value if offset is not None else 0.0)


def kittel_and_damping(sel: pd.DataFrame, set_: dict, gamma: Prior, priors: dict, angle,
                       warnings: list, errors_known: bool = True
                       ) -> tuple[dict, float, float, bool]:
    """Kittel and, where ``sel`` has ``mu0_dh_T``, damping of the lines ``sel`` (columns
    frequency_Hz, polarity, mu0_hres_T, mu0_hres_T_err, optional mu0_dh_T, mu0_dh_T_err);
    get (result, γ, σ_γ, γ free).

    ``priors``: μ0H_k (``mu0_hk_T``) and the field offset (``field_offset_T``), each fixed
    at its value with its error propagated (:func:`fit_kittel`), the offset fitted instead
    where ``set_["fit_field_offset"]`` says so. The damping fit takes each line's dragging
    factor (:func:`linewidth_drag`, in-plane films with μ0H_k ≠ 0).

    γ given (option, file) → fixed at it, its error propagated. γ from the default (free
    electron ± 5 %) → the free fit (≥ 3 frequencies) is kept only if (1) the covariance
    determines γ: its standard error is below the default's; (2) the free fit is
    acceptable: its χ², each resonance field's error widened by the field reading's accuracy
    :data:`FIELD_READING_REL_ERR`, has probability ≥ :data:`estimates.DISAGREEMENT_P` for
    its degrees of freedom (tables with field errors), or, where it has not but the misfit
    is moderate (χ²/dof ≤ :data:`MODERATE_MISFIT_CHI2_DOF`), the data exclude the default
    γ: fixing γ raises χ² by more than the 1-dof χ² quantile at DISAGREEMENT_P in units of
    the free fit's reduced χ² (kept with a warning; real sets are rarely at χ²/dof = 1, and
    a default γ that fits far worse is no improvement); and (3) γ/2π lies in
    :data:`GAMMA_PHYSICAL_HZ_PER_T`. Otherwise γ is fixed at the default, listed in
    ``priors``, its error propagated, and a warning gives the free fit's value and why it
    was not kept."""
    nfreq = sel["frequency_Hz"].nunique()
    hk = priors.get("mu0_hk_T") or Prior(0.0, 0.0, "default")
    offset = priors.get("field_offset_T") or Prior(0.0, 0.0, "default")
    kw = dict(magnet=set_["magnet"], mu0_hk_T=hk.value, mu0_hk_err_T=hk.err,
              field_angle_deg=angle, easy_axis_deg=set_.get("easy_axis_deg", 0.0),
              errors_known=errors_known, polarity=sel["polarity"].to_numpy(),
              field_offset_T=offset.value, field_offset_err_T=offset.err,
              fit_offset=set_.get("fit_field_offset", "no"))
    b = sel["mu0_hres_T"].to_numpy(float)
    args = (sel["frequency_Hz"], b, sel["mu0_hres_T_err"])
    free = False
    out = None
    if gamma.source == "default" and nfreq >= 3:
        try:
            trial = fit_kittel(*args, **kw)
        except RuntimeError:
            trial = None
        kept = []
        why = _free_gamma_refusal(
            trial, gamma, errors_known, warnings=kept,
            fixed_fit=lambda: fit_kittel(*args, gamma_Hz_per_T=gamma.value, gamma_err=0.0,
                                         **kw))
        warnings.extend(kept if not why else [])
        if not why:
            out, free = trial, True
        else:
            got = ("" if trial is None else
                   f" (γ/2π = {trial['gamma_Hz_per_T'] / 1e9:.4g} ± "
                   f"{trial['gamma_Hz_per_T_err'] / 1e9:.2g} GHz/T, μ0M_eff = "
                   f"{trial['mu0_meff_T']:.4g} ± {trial['mu0_meff_T_err']:.2g} T)")
            warnings.append(f"γ not fitted: the free fit of these {nfreq} frequencies{got} "
                            f"is {'; '.join(why)}; fixed at {gamma.value / 1e9:.4g} ± "
                            f"{gamma.err / 1e9:.2g} GHz/T (default), its error propagated")
    elif gamma.source == "default":
        warnings.append(f"γ cannot be fitted from {nfreq} frequencies: fixed at "
                        f"{gamma.value / 1e9:.4g} ± {gamma.err / 1e9:.2g} GHz/T (default)")
    if out is None:
        out = fit_kittel(*args, gamma_Hz_per_T=gamma.value, gamma_err=gamma.err, **kw)
    if _hk_fittable(set_, hk, out, len(sel)):
        out, free = _with_fitted_hk(out, free, args, kw, gamma, errors_known,
                                    set_.get("fit_hk", "auto") == "yes", warnings)
    gam = out.get("gamma_Hz_per_T", gamma.value)
    gam_err = out.get("gamma_Hz_per_T_err", gamma.err)
    hk_value = out.get("mu0_hk_T", hk.value)
    if nfreq >= 2 and "mu0_dh_T" in sel.columns:
        drag = None
        if set_["magnet"] == "inplane" and hk_value != 0.0:
            drag = linewidth_drag(true_fields(sel, out, set_, offset), angle,
                                  out["mu0_meff_T"], hk_value, set_.get("easy_axis_deg", 0.0))
        out.update(fit_damping(sel["frequency_Hz"], sel["mu0_dh_T"], sel["mu0_dh_T_err"],
                               gam, gam_err, drag))
    return out, gam, gam_err, free


HK_MODES = ("no", "yes", "auto")
"""How μ0H_k is treated where it is not given (no option, no sample constant): "no" (the
default) — 0; "yes" — fitted; "auto" — fitted where the data ask for it
(:func:`_with_fitted_hk`), else 0. Not "auto" by default: a field offset between the
polarities (a remanence) also lowers the χ² of a fitted μ0H_k, which then hides the
polarities' disagreement (tests/test_stfmr_lines_output.py)."""


def _hk_fittable(set_: dict, hk: Prior, out: dict, n_lines: int) -> bool:
    """Whether μ0H_k may be fitted: an in-plane film, μ0H_k not given (its default 0), the
    setting not "no", and at least 2 lines more than the fit's parameters with it."""
    if set_["magnet"] != "inplane" or hk.source != "default" or hk.value != 0.0:
        return False
    if set_.get("fit_hk", "no") == "no":
        return False
    n_par = 2 + ("gamma_Hz_per_T" in out) + sum(k in out for k in OFFSET_KEYS)
    return n_lines >= n_par + 2


def _with_fitted_hk(out: dict, free: bool, args, kw: dict, gamma: Prior, errors_known: bool,
                    force: bool, warnings: list) -> tuple[dict, bool]:
    """Get (the Kittel result, γ free) with μ0H_k fitted where the data ask for it.

    A real film has an in-plane anisotropy the user may not know; with the field off the
    easy axis, m lags the field and the resonance fields follow no Kittel law of μ0M_eff
    and γ alone (the default ST-FMR dry run at 45°: χ²/dof ≈ 1100 without its 3.6 mT,
    0.95 with it). μ0H_k is fitted beside μ0M_eff (and γ where it stays determined: the
    free-γ criterion of :func:`kittel_and_damping` applied to the fit with μ0H_k, else γ
    fixed at its prior) and kept when it lowers χ² by more than the χ² quantile at
    :data:`estimates.DISAGREEMENT_P` for the parameters it adds, in units of the new fit's
    reduced χ² (where above 1) — an F-type test — and its error is below its magnitude;
    ``force`` (fit_hk="yes") keeps it regardless. The fit starts from μ0H_k = +1 mT along
    ``easy_axis_deg``: at 45° to it an easy axis along it and one across it give the same
    resonance fields (μ0M_eff then differs by μ0H_k), and the stated easy axis decides
    (μ0H_k < 0 would be a hard axis there). The default ST-FMR dry run: χ²/dof 1127 →
    0.99, μ0M_eff 0.8153 ± 0.0038 T (3.5σ from 0.8016) → 0.80142 ± 0.00017 T (1.0σ)."""
    kw_hk = {k: v for k, v in kw.items() if k not in ("mu0_hk_T", "mu0_hk_err_T")}

    def best(**g):                  # both signs to start: at 45° to the axis they mirror
        fits = []
        for start in (1e-3,):
            try:
                fits.append(fit_kittel(*args, fit_hk=True, mu0_hk_T=start, **g, **kw_hk))
            except (RuntimeError, ValueError, np.linalg.LinAlgError):
                pass
        fits = [f for f in fits if np.isfinite(f.get("kittel_chi2_dof", np.nan))]
        return min(fits, key=lambda f: f["kittel_chi2_dof"]) if fits else None

    trial = None
    if gamma.source == "default" and pd.Series(args[0]).nunique() >= 3:
        trial = best()
        if trial is not None and _free_gamma_refusal(trial, gamma, errors_known):
            trial = None
    if trial is None:
        trial = best(gamma_Hz_per_T=gamma.value, gamma_err=gamma.err)
    if trial is None:
        return out, free
    dof0, dof1 = out.get("kittel_dof", 0), trial.get("kittel_dof", 0)
    if dof1 <= 0:
        return out, free
    c0, c1 = out["kittel_chi2_dof"] * dof0, trial["kittel_chi2_dof"] * dof1
    added = max(dof0 - dof1, 1)
    excess = (c0 - c1) / max(1.0, trial["kittel_chi2_dof"])
    limit = float(stats.chi2.isf(DISAGREEMENT_P, added))
    determined = trial["mu0_hk_T_err"] < abs(trial["mu0_hk_T"])
    if not force and not (excess > limit and determined):
        return out, free
    free_now = "gamma_Hz_per_T" in trial
    warnings.append(f"μ0H_k fitted (not given): {trial['mu0_hk_T'] * 1e3:.4g} ± "
                    f"{trial['mu0_hk_T_err'] * 1e3:.2g} mT; Kittel χ²/dof "
                    f"{out['kittel_chi2_dof']:.3g} ({dof0} dof) without it, "
                    f"{trial['kittel_chi2_dof']:.3g} ({dof1} dof) with it"
                    + ("" if free_now or not free else "; γ no longer determined with "
                       "μ0H_k free: fixed at its prior"))
    if free_now and not free:
        warnings[:] = [w for w in warnings if not w.startswith("γ not fitted")]
    return trial, free_now


def _angles(sel: pd.DataFrame, set_: dict):
    """Get the in-plane field angle(s) (deg): the setting, else the lines' column, else 0."""
    if set_.get("field_angle_deg") is not None:
        return float(set_["field_angle_deg"])
    if "field_angle_deg" in sel.columns:
        return sel["field_angle_deg"].to_numpy(float)
    return 0.0


def _unsaturated(magnet: str, meff: float, sel: pd.DataFrame) -> np.ndarray:
    """Get the lines below saturation for ``magnet``: in-plane field on a perpendicular
    magnet below μ0H_k,eff = −μ0M_eff, or a normal field below μ0M_eff (one HWHM margin)."""
    b = sel["mu0_hres_T"].to_numpy(float)
    dh = sel["mu0_dh_T"].to_numpy(float) if "mu0_dh_T" in sel.columns else 0.0 * b
    if magnet == "perpendicular" and meff < 0:
        return b - dh < -meff
    if magnet == "outofplane":
        return b - dh < meff
    return np.zeros(b.size, bool)


OUTLIER_ROBUST_SIGMAS = 5.0
"""A line whose resonance field lies off the Kittel curve by more than this many robust
standard deviations (1.4826 × the median absolute deviation of the normalised residuals, at
least 1) is an outlier: a spurious feature, another mode, a misfit."""


def kittel_outliers(sel: pd.DataFrame, out: dict, set_: dict, hk: float, gamma_Hz_per_T: float
                    ) -> np.ndarray:
    """Get the lines of ``sel`` off the fitted Kittel curve ``out`` (see
    :data:`OUTLIER_ROBUST_SIGMAS`): residuals in frequency over σ_f = |df/dB|·σ_B."""
    model = _kittel_model(set_["magnet"], hk, _angles(sel, set_), set_.get("easy_axis_deg", 0.0))
    b = sel["mu0_hres_T"].to_numpy(float)
    f = sel["frequency_Hz"].to_numpy(float)
    h = 1e-5
    slope = np.abs(model(b + h, out["mu0_meff_T"], gamma_Hz_per_T)
                   - model(b - h, out["mu0_meff_T"], gamma_Hz_per_T)) / (2 * h)
    r = (model(b, out["mu0_meff_T"], gamma_Hz_per_T) - f) / np.maximum(
        slope * sel["mu0_hres_T_err"].to_numpy(float), 1e-3)
    dev = np.abs(r - np.median(r))
    return dev > OUTLIER_ROBUST_SIGMAS * max(1.4826 * float(np.median(dev)), 1.0)


def _exclude(sel: pd.DataFrame, lines: pd.DataFrame, mask, reason: str, warnings: list,
             why: str) -> pd.DataFrame:
    """Mark the lines ``sel[mask]`` unused in ``lines`` (``reason``), name each in
    ``warnings`` with ``why``; get the lines left."""
    for f, pol, b in zip(sel["frequency_Hz"][mask], sel["polarity"][mask],
                         sel["mu0_hres_T"][mask]):
        warnings.append(f"line {f / 1e9:g} GHz, polarity {pol:+d} ({b * 1e3:.4g} mT) not "
                        f"used: {why}")
    lines.loc[sel.index[mask], ["used", "reason"]] = [False, reason]
    return sel[~mask]


OFFSET_MAX_VIF = 10.0
"""The largest variance inflation of μ0M_eff (and of a free γ) that an offset fitted by
``fit_field_offset="auto"`` may cause (the usual bound for collinear parameters): a shift of
|B| that only the curvature of f(B) tells from M_eff (lines far above M_eff, one polarity)
would absorb any misfit of the Kittel form into an offset and M_eff."""


def choose_offset_mode(sel: pd.DataFrame, set_: dict, priors: dict, gamma: Prior,
                       errors_known: bool = True) -> tuple[str, str | None]:
    """Get (the offset mode for ``fit_field_offset="auto"``, a note or None): among "no",
    "yes", "per_polarity" (:data:`OFFSET_MODES`) those whose offsets the data determine
    apart from μ0M_eff and γ (variance inflation of each ≤ :data:`OFFSET_MAX_VIF` over the
    fit without offsets, errors not widened by χ²), the simplest that the most general of
    them does not improve on significantly — a nested-model test: the χ² it adds over the
    general fit, in units of the general fit's reduced χ² (at least 1 where the errors are
    known; the field errors widened by the reading's :data:`FIELD_READING_REL_ERR`, as in
    the free-γ rule), at most the χ² quantile at :data:`estimates.DISAGREEMENT_P` for the
    extra parameters. γ is free where the free-γ rule would try it (default γ, ≥ 3
    frequencies), else fixed. "per_polarity" is no candidate for ``magnet="outofplane"``,
    where a common shift of |B| is M_eff itself (f = γ(B − μ0M_eff))."""
    hk = priors.get("mu0_hk_T") or Prior(0.0, 0.0, "default")
    offset = priors.get("field_offset_T") or Prior(0.0, 0.0, "default")
    free = gamma.source == "default" and sel["frequency_Hz"].nunique() >= 3
    modes = ("no", "yes") if set_["magnet"] == "outofplane" else OFFSET_MODES[:3]
    fits = {}
    for mode in modes:
        try:
            with catch_warnings():
                simplefilter("ignore", OptimizeWarning)   # a degenerate offset: VIF below
                r = fit_kittel(sel["frequency_Hz"], sel["mu0_hres_T"], sel["mu0_hres_T_err"],
                               magnet=set_["magnet"],
                               gamma_Hz_per_T=None if free else gamma.value,
                               mu0_hk_T=hk.value, field_angle_deg=_angles(sel, set_),
                               easy_axis_deg=set_.get("easy_axis_deg", 0.0),
                               errors_known=errors_known, polarity=sel["polarity"].to_numpy(),
                               field_offset_T=offset.value, fit_offset=mode)
        except (RuntimeError, ValueError):
            continue
        dof = r.get("kittel_dof", 0)
        if dof <= 0:
            continue
        c2 = r["kittel_chi2_dof_at_accuracy"] if errors_known else r["kittel_chi2_dof"]
        widen = math.sqrt(max(1.0, r["kittel_chi2_dof"]) if errors_known
                          else max(r["kittel_chi2_dof"], 1e-300))
        errs = [r[k + "_err"] / widen for k in ("mu0_meff_T", "gamma_Hz_per_T") if k in r]
        fits[mode] = (c2 * dof, dof, errs)
    if "no" not in fits:
        return "no", None
    base = fits["no"][2]
    usable = [m for m in modes if m in fits and all(
        math.isfinite(e) and e ** 2 <= OFFSET_MAX_VIF * b ** 2
        for e, b in zip(fits[m][2], base))]
    c2_g, dof_g, _ = fits[usable[-1]]
    scale = max(1.0, c2_g / dof_g) if errors_known else c2_g / dof_g
    for mode in usable:
        k = fits[mode][1] - dof_g
        excess = (fits[mode][0] - c2_g) / max(scale, 1e-300)
        if k > 0 and excess > stats.chi2.isf(DISAGREEMENT_P, k):
            continue
        if mode == "no":
            return "no", None
        k_no = fits["no"][1] - fits[mode][1]
        return mode, (f"fit_field_offset=auto: field offset(s) fitted ({mode}): they lower "
                      f"the Kittel χ² by {(fits['no'][0] - fits[mode][0]) / scale:.3g} "
                      f"reduced-χ² units, above the limit "
                      f"{stats.chi2.isf(DISAGREEMENT_P, k_no):.3g} for {k_no} parameter(s); "
                      "with both polarities the mean shift of |B| acts as an in-plane "
                      "anisotropy field along the field, half the difference as a zero "
                      "offset or remanence of the reading (fit_field_offset=no fixes them "
                      "at field_offset_T)")
    return "no", None


def fit_resonances(sel: pd.DataFrame, lines: pd.DataFrame, set_: dict, priors: dict,
                   gamma: Prior, warnings: list, *, unsaturated_branch: bool = False,
                   errors_known: bool = True, reject_outliers: bool = False
                   ) -> tuple[dict, pd.DataFrame, list, bool]:
    """Kittel and damping of the used lines ``sel`` (rows of ``lines``), jointly and per
    polarity; get (result, the lines used, per-polarity results, γ fitted).

    With ``reject_outliers``, lines off the Kittel curve (:func:`kittel_outliers`) are
    excluded too, named in ``warnings``, and the fit repeated (up to 3 times).
    ``set_["fit_field_offset"] == "auto"`` is resolved on each set of lines fitted
    (:func:`choose_offset_mode`), the choice written into ``set_`` and, where offsets are
    fitted, a note added to ``warnings``. Only the final fit's own warnings (free γ kept
    or not, offsets) are kept, not those of fits before lines were excluded.
    Lines below saturation (:func:`_unsaturated`) are excluded and named in ``warnings``
    (``lines``' used/reason updated) — except, with ``unsaturated_branch=True``, a
    perpendicular magnet's in-plane branch below μ0H_k,eff, which the Kittel form covers
    (f(H) tables of a single-domain film). γ not fitted is entered into ``priors``. Where
    the two polarities disagree beyond their errors (:func:`estimates.combine`) the joint
    error of μ0M_eff and α gets the systematic term and a warning. μ0M_eff < 0 also gives
    mu0_hk_eff_T = −μ0M_eff.
    """
    hk = priors["mu0_hk_T"].value if "mu0_hk_T" in priors else 0.0
    magnet = set_["magnet"]
    auto = set_.get("fit_field_offset", "no") == "auto"
    note = []                                 # the last fit's own warnings only

    def fit(sel):
        note.clear()
        if auto:                              # chosen anew on each set of lines
            set_["fit_field_offset"], why = choose_offset_mode(sel, set_, priors, gamma,
                                                               errors_known)
            note.extend([why] if why else [])
        return kittel_and_damping(sel, set_, gamma, priors, _angles(sel, set_), note,
                                  errors_known)

    def corrected(sel, out):                 # the lines at their true fields
        return sel.assign(mu0_hres_T=true_fields(sel, out, set_,
                                                 priors.get("field_offset_T")))

    out, gam, gam_err, free = fit(sel)
    skip = magnet == "perpendicular" and unsaturated_branch
    low = np.zeros(len(sel), bool) if skip else _unsaturated(magnet, out["mu0_meff_T"],
                                                             corrected(sel, out))
    if low.any() and (~low).sum() >= 2:
        edge = -out["mu0_meff_T"] if magnet == "perpendicular" else out["mu0_meff_T"]
        sel = _exclude(sel, lines, low, "film not saturated", warnings,
                       f"resonance below the saturation field {edge:.4g} T ({magnet} field)")
        out, gam, gam_err, free = fit(sel)
    for _ in range(3 if reject_outliers else 0):
        off = kittel_outliers(corrected(sel, out), out, set_, out.get("mu0_hk_T", hk), gam)
        if not off.any() or (~off).sum() < 3:
            break
        sel = _exclude(sel, lines, off, "off the Kittel curve", warnings,
                       f"its resonance lies off the Kittel curve by more than "
                       f"{OUTLIER_ROBUST_SIGMAS:g} robust standard deviations")
        out, gam, gam_err, free = fit(sel)
    warnings.extend(note)
    mode = set_.get("fit_field_offset", "no")
    for key, what, dof in (("kittel_chi2_dof", "the Kittel form", out.get("kittel_dof", 0)),
                           ("damping_chi2_dof", "the straight line Δ(f)", len(sel) - 2)):
        if key in out and dof > 0 and stats.chi2.sf(out[key] * dof, dof) < DISAGREEMENT_P:
            warnings.append(f"{what} describes these lines only to χ²/dof = {out[key]:.3g} "
                            f"({dof} dof): errors widened by √(χ²/dof); a field offset "
                            "(option fit_field_offset), an anisotropy (option mu0_hk_T, or "
                            "fit_hk=yes), unsaturated or misfitted lines can cause it")
    out.pop("rho_meff_gamma", None)
    out.pop("kittel_chi2_dof_at_accuracy", None)
    if not free:
        priors["gamma_Hz_per_T"] = Prior(gam, gam_err, gamma.source)
    if mode != "no":
        priors.pop("field_offset_T", None)   # fitted, not a prior
    if "mu0_hk_T_err" in out:
        priors.pop("mu0_hk_T", None)         # fitted, not a prior
    per_pol = []
    if sel["polarity"].nunique() == 2:
        g_pol = Prior(gam, gam_err, "joint fit")
        for pol, g in sel.groupby("polarity"):
            if g["frequency_Hz"].nunique() < 2:
                continue
            pri = dict(priors)
            if "mu0_hk_T_err" in out:
                pri["mu0_hk_T"] = Prior(out["mu0_hk_T"], out["mu0_hk_T_err"], "joint fit")
            if mode == "yes":
                pri["field_offset_T"] = Prior(out["field_offset_T"], out["field_offset_T_err"],
                                              "joint fit")
            elif mode == "per_polarity":
                key = f"field_offset_{'plus' if pol > 0 else 'minus'}_T"
                pri["field_offset_T"] = Prior(pol * out[key], out[key + "_err"], "joint fit")
            res, *_ = kittel_and_damping(g, {**set_, "fit_field_offset": "no"}, g_pol, pri,
                                         _angles(g, set_), [], errors_known)
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
    return out, corrected(sel, out), per_pol, free


def resonance_setup(options_declared, given: dict, attrs: dict) -> tuple[dict, dict, Prior]:
    """Get (settings, priors, γ prior) of a resonance analysis from its declared options and
    the ``given`` ones (:func:`estimates.settings`, :func:`estimates.resolve_priors`; γ
    defaults to :data:`GAMMA_PRIOR`); ValueError for an unknown ``magnet``."""
    set_ = settings(options_declared, given)
    if set_["magnet"] not in MAGNETS:
        raise ValueError(f"magnet must be one of {', '.join(MAGNETS)}, got {set_['magnet']!r}")
    if set_.get("fit_field_offset", "no") not in OFFSET_MODES:
        raise ValueError(f"fit_field_offset must be one of {', '.join(OFFSET_MODES)}, got "
                         f"{set_['fit_field_offset']!r}")
    if set_.get("fit_hk", "no") not in HK_MODES:
        raise ValueError(f"fit_hk must be one of {', '.join(HK_MODES)}, got {set_['fit_hk']!r}")
    priors = resolve_priors(options_declared,
                            {k: v for k, v in given.items() if k not in set_}, attrs)
    return set_, priors, priors.get("gamma_Hz_per_T") or Prior(*GAMMA_PRIOR, "default")


def resonance_result(out: dict, sel: pd.DataFrame, per_pol: list, free: bool,
                     lines: list[dict], priors: dict, warnings: list) -> dict:
    """Get the strict-JSON result of a resonance analysis: ``out`` with values the data do
    not determine left out (design.md), n_lines, gamma_fitted, per_polarity, lines, priors,
    warnings."""
    flag_undetermined(out, ("mu0_meff_T", "mu0_hk_eff_T", "gamma_Hz_per_T", "alpha",
                            "mu0_hk_T"), warnings)
    flag_undetermined(out, OFFSET_KEYS + ("mu0_dh0_T",), warnings,
                      may_vanish=OFFSET_KEYS + ("mu0_dh0_T",))
    out.update(n_lines=int(len(sel)), gamma_fitted=bool(free), per_polarity=per_pol,
               lines=lines, priors=priors_dict(priors), warnings=warnings)
    return strict(out)
