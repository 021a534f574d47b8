"""The one Kittel path's field offsets and prior errors: a field offset given as
``field_offset_T=VALUE±ERR`` or fitted (``fit_field_offset=yes|per_polarity|auto``) by
stfmr, kittel and fmr alike (auto, the default of kittel and fmr, on the real permalloy map);
a fixed μ0H_k's error propagated into μ0M_eff and on into ξ."""
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
    Each polarity's resonances lie 0.2–0.5 mT apart. With each line's own voltage noise (the
    VNA's floor differs between frequencies, stfmr_analysis.voltage_noise_differs) and one
    shared field noise: no offset, Kittel χ²/dof 17.7 (the free γ/2π 26.6 ± 0.9 GHz/T
    refused); one signed offset, δ = −0.17 ± 0.05 mT (a zero offset of the reading),
    χ²/dof 9.3; per polarity, δ₊ = +0.21 ± 0.33 mT, δ₋ = +0.57 ± 0.33 mT (a common shift
    too, like an in-plane anisotropy along the field), χ²/dof 4.3, and the free γ/2π moves
    to 29.6 ± 1.2 GHz/T (still not kept, p = 0.00016). Without the 2–4.5 GHz lines the
    common shift is poorly determined; the whole map's default (fit_field_offset=auto) is
    tested below. (With one voltage noise pooled over the lines, the noisiest set every
    line's errors: δ = −0.08 ± 0.10 mT, not resolved.)"""
    d = pd.read_csv(PY, sep=r"\s+", header=None, names=[
        "Magnet current (A)", "Field (Oe)", "Frequency (Hz)", "Signal", "Temperature (K)"])
    d = d[d["Frequency (Hz)"].isin(np.arange(5, 11.5, 1) * 1e9)]
    plain = analyze_fmr(d, fit_field_offset="no")
    one = analyze_fmr(d, fit_field_offset="yes")
    assert one["field_offset_T"] < 0 and abs(one["field_offset_T"]) > 3 * one["field_offset_T_err"]
    pp = analyze_fmr(d, fit_field_offset="per_polarity")
    assert pp["kittel_chi2_dof"] < 0.5 * plain["kittel_chi2_dof"]
    free = next(w for w in pp["warnings"] if w.startswith("γ not fitted"))
    assert "γ/2π = 29." in free


def _shifted_table(shift_plus_T: float, shift_minus_T: float, seed: int = 3,
                   err_T: float = 3e-5) -> pd.DataFrame:
    """A permalloy-like f(H) table, 2–12 GHz, both polarities (μ0M_eff 1.0 T, γ/2π 29.8
    GHz/T), each polarity's |B| read short by its shift (true |B| = |B_read| + δ±), Gaussian
    field errors of ``err_T``."""
    rng = np.random.default_rng(seed)
    gamma, meff = 29.8e9, 1.0
    f = np.repeat(np.arange(2.0, 12.5, 1.0) * 1e9, 2)
    pol = np.tile([1, -1], f.size // 2)
    true = -meff / 2 + np.sqrt(meff ** 2 / 4 + (f / gamma) ** 2)
    read = true - np.where(pol > 0, shift_plus_T, shift_minus_T)
    read = read + err_T * rng.standard_normal(read.size)
    return pd.DataFrame({"Frequency (GHz)": f / 1e9, "Field (mT)": 1e3 * pol * read,
                         "Field error (mT)": 1e3 * err_T})


def test_auto_offsets_fit_an_anisotropy_and_a_zero_offset_only_where_the_data_ask():
    """fit_field_offset=auto (the default of kittel and fmr): a common shift of |B| of 0.8 mT
    (an in-plane anisotropy along the field) and a zero offset of 0.15 mT, 30 µT field
    errors: the per-polarity shifts are fitted and γ, μ0M_eff and δ± come back within 4
    standard errors (seed fixed beforehand; |pull| < 4 fails once in 16 000). Without the
    shifts, on the same noise, nothing is fitted (the test's false-alarm rate is 1 %).
    Fixing the shifts at zero, the same table gives a γ far off and a χ²/dof ≫ 1: the
    permalloy map's failure."""
    t = _shifted_table(0.95e-3, 0.65e-3)
    r = analyze_kittel(t)
    assert r["gamma_fitted"]
    for key, truth in (("gamma_Hz_per_T", 29.8e9), ("mu0_meff_T", 1.0),
                       ("field_offset_plus_T", 0.95e-3), ("field_offset_minus_T", 0.65e-3)):
        assert r[key] == pytest.approx(truth, abs=4 * r[key + "_err"]), key
    assert any(w.startswith("fit_field_offset=auto: field offset(s) fitted (per_polarity)")
               for w in r["warnings"])
    off = analyze_kittel(t, fit_field_offset="no")
    assert off["kittel_chi2_dof"] > 20 * r["kittel_chi2_dof"]
    clean = analyze_kittel(_shifted_table(0.0, 0.0))
    assert not any(k.startswith("field_offset") for k in clean)
    assert not any("fit_field_offset=auto" in w for w in clean["warnings"])
    assert clean["gamma_Hz_per_T"] == pytest.approx(29.8e9, abs=4 * clean["gamma_Hz_per_T_err"])
    with pytest.raises(ValueError, match="fit_field_offset must be one of no, yes, "
                                         "per_polarity, auto"):
        analyze_kittel(t, fit_field_offset="maybe")


def _permalloy_map(freqs_GHz=None) -> pd.DataFrame:
    d = pd.read_csv(PY, sep=r"\s+", header=None, names=[
        "Magnet current (A)", "Field (Oe)", "Frequency (Hz)", "Signal", "Temperature (K)"])
    return d if freqs_GHz is None else d[d["Frequency (Hz)"].isin(np.asarray(freqs_GHz) * 1e9)]


def _permalloy_checks(r):
    """realdata/README: permalloy's μ0M_eff near 1 T, γ/2π ≈ 29–30 GHz/T."""
    assert r["gamma_fitted"]
    g, ge = r["gamma_Hz_per_T"], r["gamma_Hz_per_T_err"]
    assert 29e9 - 2 * ge < g < 30e9 + 2 * ge and ge < 1e9
    assert 0.9 < r["mu0_meff_T"] < 1.1 and r["mu0_meff_T_err"] < 0.05
    for key in ("field_offset_plus_T", "field_offset_minus_T"):
        assert 0 < r[key] < 2e-3 and r[key] > 5 * r[key + "_err"], key
    assert 0.006 < r["alpha"] < 0.011


@pytest.mark.skipif(not PY.is_file(), reason="../shared/realdata is not here")
def test_real_permalloy_map_by_default_2_to_11_GHz():
    """The map at 2, 3, …, 11 GHz with the defaults (≈ 10 s). Measured: shifts of |B| of
    +0.66 and +0.96 mT fitted (fit_field_offset=auto: per_polarity; their mean, 0.8 mT, an
    in-plane anisotropy along the field; half their difference a 0.15 mT zero offset),
    γ/2π = 29.95 ± 0.47 GHz/T kept free, μ0M_eff = 1.007 ± 0.035 T, α = 0.0090 ± 0.0003.
    With the shifts fixed at zero the free fit gave γ/2π ≈ 25.5 GHz/T and μ0M_eff ≈ 1.4 T
    (χ²/dof ≈ 40), the low-field lines pulled by the 0.8 mT."""
    r = analyze_fmr(_permalloy_map(np.arange(2, 11.5, 1)))
    _permalloy_checks(r)
    assert r["n_lines"] == 19


@pytest.mark.slow
@pytest.mark.skipif(not PY.is_file(), reason="../shared/realdata is not here")
def test_real_permalloy_whole_map_from_the_command_line(capsys):
    """All 40 frequencies (0.5–20 GHz, ≈ 60 s) with `labspin analyze fmr FILE --names …`
    alone. Measured: 39 lines used (2–11.5 GHz; the rest outside the ±156 mT sweep, below
    saturation or off the Kittel curve, each named), γ/2π = 30.62 ± 0.49 GHz/T, μ0M_eff =
    0.960 ± 0.034 T, α = 0.0091 ± 0.0003, δ± = +0.72 / +1.00 mT, Kittel χ²/dof 7.4 — most of
    it two lines (8.5 GHz +, 11.5 GHz −: −9.7σ and −7.3σ, residuals 1.2–1.4× the noise, a
    baseline feature under the line); without them χ²/dof ≈ 3.4."""
    import json

    from labspin.cli.main import main
    assert main(["analyze", "fmr", str(PY), "--json", "--names",
                 "Magnet current (A),Field (Oe),Frequency (Hz),Signal,Temperature (K)"]) == 0
    r = json.loads(capsys.readouterr().out)
    _permalloy_checks(r)
    assert r["n_lines"] >= 35
