"""The one Kittel path's field offsets and prior errors: a field offset given as
``field_offset_T=VALUE±ERR`` or fitted (``fit_field_offset=yes|per_polarity``) by stfmr,
kittel and fmr alike; a fixed μ0H_k's error propagated into μ0M_eff and on into ξ."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_stfmr_lines_output import FREQS, GAMMA, MEFF, _b_res, _sweeps

from labspin.physics.constants import MU0
from labspin.physics.macrospin.analytic import kittel_inplane
from labspin.procedures.fmr_analysis import analyze_fmr
from labspin.procedures.kittel_analysis import analyze_kittel
from labspin.procedures.stfmr_analysis import analyze_stfmr

REAL = Path(__file__).parents[1].parent / "shared" / "realdata"
FILM = {"mu0_ms_T": "1.0±0.03", "thickness_m": "2e-9±1e-10", "hm_thickness_m": "5e-9±2.5e-10"}


def _disagree(res) -> bool:
    return any(w.startswith("mu0_meff_T: the estimates disagree") for w in res["warnings"])


def test_a_3mT_offset_between_polarities_is_fitted_and_the_joint_meff_is_the_truth():
    """|B_read| = |B_true| − polarity·1.5 mT: 3 mT between the polarities, far beyond the
    ≈ 5 µT line errors. Not fitted: the polarities disagree (per polarity M_eff ± 0.03 T
    apart) and the joint M_eff is their compromise, its error widened by the systematic term
    (measured ± 0.013 T). Fitted (one offset of the signed
    field): δ = 1.5 mT and M_eff within 3 standard errors of the truth, no disagreement;
    per polarity: δ₊ = +1.5 mT, δ₋ = −1.5 mT."""
    df = _sweeps(offset_T=1.5e-3)
    raw = analyze_stfmr(df, gamma_Hz_per_T=GAMMA)
    assert _disagree(raw)
    fit = analyze_stfmr(df, gamma_Hz_per_T=GAMMA, fit_field_offset="yes")
    assert fit["field_offset_T"] == pytest.approx(1.5e-3, abs=3 * fit["field_offset_T_err"])
    assert fit["field_offset_T_err"] < 5e-5
    assert fit["mu0_meff_T"] == pytest.approx(MEFF, abs=3 * fit["mu0_meff_T_err"])
    assert not _disagree(fit) and "field_offset_T" not in fit["priors"]
    assert raw["mu0_meff_T_err"] > 20 * fit["mu0_meff_T_err"]
    pp = analyze_stfmr(df, gamma_Hz_per_T=GAMMA, fit_field_offset="per_polarity")
    assert pp["field_offset_plus_T"] == pytest.approx(1.5e-3, abs=3 * pp["field_offset_plus_T_err"])
    assert pp["field_offset_minus_T"] == pytest.approx(-1.5e-3,
                                                       abs=3 * pp["field_offset_minus_T_err"])
    assert pp["mu0_meff_T"] == pytest.approx(MEFF, abs=3 * pp["mu0_meff_T_err"])
    with pytest.raises(ValueError, match="fit_field_offset must be one of"):
        analyze_stfmr(df, fit_field_offset="maybe")


def _table(offset_T: float, err_T: float = 2e-5, seed: int = 0) -> pd.DataFrame:
    """An f(H) table of both polarities, the signed reading off by ``offset_T``
    (B_read = B_true − offset), with Gaussian errors."""
    rng = np.random.default_rng(seed)
    f = np.repeat(np.arange(4.0, 20.0, 2.0) * 1e9, 2)
    pol = np.tile([1, -1], f.size // 2)
    b = np.array([_b_res(x) for x in f]) * pol - offset_T
    b = b + err_T * rng.standard_normal(b.size)
    return pd.DataFrame({"Frequency (Hz)": f, "Field (T)": b, "Field error (T)": err_T})


def test_kittel_takes_a_given_offset_with_its_error_and_fits_one():
    """Given: the polarities shift oppositely, so with both the joint M_eff hardly depends on
    the offset; one polarity alone carries the offset's error into M_eff."""
    t = _table(1.5e-3)
    given = analyze_kittel(t, gamma_Hz_per_T=GAMMA, field_offset_T="1.5e-3±1e-4")
    assert given["priors"]["field_offset_T"] == {"value": 1.5e-3, "err": 1e-4,
                                                 "source": "option"}
    assert given["mu0_meff_T"] == pytest.approx(MEFF, abs=3 * given["mu0_meff_T_err"])
    plus = t[t["Field (T)"] > 0]
    one = analyze_kittel(plus, gamma_Hz_per_T=GAMMA, field_offset_T="1.5e-3±1e-4")
    exact = analyze_kittel(plus, gamma_Hz_per_T=GAMMA, field_offset_T=1.5e-3)
    assert one["mu0_meff_T"] == pytest.approx(MEFF, abs=3 * one["mu0_meff_T_err"])
    # the offset's 0.1 mT error is the dominant one: M_eff's error holds it
    assert one["mu0_meff_T_err"] > 3 * exact["mu0_meff_T_err"]
    fit = analyze_kittel(t, gamma_Hz_per_T=GAMMA, fit_field_offset="yes")
    assert fit["field_offset_T"] == pytest.approx(1.5e-3, abs=3 * fit["field_offset_T_err"])
    free = analyze_kittel(t, fit_field_offset="yes")       # γ free too: 3 parameters
    assert free["gamma_fitted"]
    for key, truth in (("mu0_meff_T", MEFF), ("gamma_Hz_per_T", GAMMA),
                       ("field_offset_T", 1.5e-3)):
        assert free[key] == pytest.approx(truth, abs=3 * free[key + "_err"]), key


def _hk_table(seed: int = 0) -> pd.DataFrame:
    """An in-plane film with μ0H_k = 4 mT along the field (f = γ√((B+B_k)(B+B_k+M)))."""
    rng = np.random.default_rng(seed)
    f = np.arange(4.0, 20.0, 2.0) * 1e9
    g0 = 2 * math.pi * MU0 * GAMMA
    grid = np.linspace(1e-3, 0.6, 200001)
    fk = kittel_inplane(grid / MU0, MEFF / MU0, 4e-3 / MU0, gamma0=g0)
    b = np.interp(f, fk, grid) + 2e-5 * rng.standard_normal(f.size)
    return pd.DataFrame({"Frequency (Hz)": f, "Field (T)": b, "Field error (T)": 2e-5})


def test_hk_prior_error_propagates_into_meff_as_the_propagation_says():
    """μ0M_eff's variance is σ_stat² + (∂M_eff/∂B_k · σ_Bk)²: doubling σ_Bk quadruples the
    second term (to 2 %: the refits at ±σ are half differences of a smooth function)."""
    t = _hk_table()
    errs = {s: analyze_kittel(t, gamma_Hz_per_T=GAMMA, field_angle_deg=0.0,
                              mu0_hk_T=f"4e-3±{s}")["mu0_meff_T_err"]
            for s in (0.0, 2e-4, 4e-4)}
    assert errs[2e-4] > 2 * errs[0.0]
    term = {s: errs[s] ** 2 - errs[0.0] ** 2 for s in (2e-4, 4e-4)}
    assert term[4e-4] == pytest.approx(4 * term[2e-4], rel=0.02)
    # and the derivative is the Kittel law's: ∂M/∂B_k = −(2B + B_k + M)/(B + B_k) at each line,
    # weighted; here between −(2·0.01+0.9)/0.014 and −(2·0.3+0.9)/0.3
    slope = math.sqrt(term[2e-4]) / 2e-4
    assert 5 < slope < 66


def test_hk_prior_error_reaches_xi():
    """ST-FMR: a fixed μ0H_k with an error widens μ0M_eff's error and, through the Kittel
    factor √(1 + M_eff/B_res), ξ's."""
    df = _sweeps()
    res = {s: analyze_stfmr(df, gamma_Hz_per_T=GAMMA, mu0_hk_T=f"0±{s}", **FILM)
           for s in (0.0, 2e-4, 4e-4)}
    m = [res[s]["mu0_meff_T_err"] for s in (0.0, 2e-4, 4e-4)]
    x = [res[s]["xi_err"] for s in (0.0, 2e-4, 4e-4)]
    assert m[0] < m[1] < m[2] and x[0] < x[1] < x[2]
    assert m[2] ** 2 - m[0] ** 2 == pytest.approx(4 * (m[1] ** 2 - m[0] ** 2), rel=0.02)
    assert res[4e-4]["priors"]["mu0_hk_T"] == {"value": 0.0, "err": 4e-4, "source": "option"}
    assert len(FREQS) == 4


PY = REAL / "py_bbfmr_gofhilman" / "5_Py10nm28Kb.txt"


@pytest.mark.skipif(not PY.is_file(), reason="../shared/realdata is not here")
def test_real_permalloy_offsets():
    """10 nm Py at 28 K, 5–11 GHz, both polarities (realdata/README; γ/2π ≈ 29–30 GHz/T).
    Each polarity's resonances lie 0.2–0.5 mT apart. With the line errors of the two-variance
    noise model (≈ 150 µT per line: the lines' residuals grow with their slope) the Kittel
    χ²/dof is 5.1; one signed offset fitted, δ = −0.08 ± 0.10 mT, is not resolved (with the
    HC3 line errors, ≈ 3× smaller, it was −0.18 ± 0.05 mT, χ²/dof 14.1 → 6.6); fitted per
    polarity, δ₊ = +0.29 mT, δ₋ = +0.45 mT (a common shift, like an in-plane anisotropy
    along the field), χ²/dof 4.7, and the free γ/2π = 30.5 ± 1.8 GHz/T is not kept (not
    determined)."""
    d = pd.read_csv(PY, sep=r"\s+", header=None, names=[
        "Magnet current (A)", "Field (Oe)", "Frequency (Hz)", "Signal", "Temperature (K)"])
    d = d[d["Frequency (Hz)"].isin(np.arange(5, 11.5, 1) * 1e9)]
    plain = analyze_fmr(d)
    one = analyze_fmr(d, fit_field_offset="yes")
    assert abs(one["field_offset_T"]) < 3 * one["field_offset_T_err"]
    pp = analyze_fmr(d, fit_field_offset="per_polarity")
    assert pp["kittel_chi2_dof"] < plain["kittel_chi2_dof"]
    free = next(w for w in pp["warnings"] if w.startswith("γ not fitted"))
    assert "γ/2π = 30." in free and "not determined" in free
