"""Random-truth dry runs (issue 18, "Done when"): per seed a sample truth is drawn over
physical ranges, the procedure runs with its defaults on the simulated bench through the
path a user takes (``api.run(..., set=[...])``, i.e. ``labspin run P --sim --set k=v``),
the file is analysed as a foreign file (the table read without its header: no Sample
parameters, no Sample constants) with the external constants given as a user gives them —
each drawn about the truth with the error the user states — and every reported parameter
must come back within its error: |pull| < 4 per draw, and over the draws the pulls
(value − truth)/error have mean within 3/√N of 0 and sample width within 3/√(2(N−1)) of 1.

Ranges (uniform):
- ST-FMR (inplane_sot_hallbar): α 0.004–0.03 (Py ≈ 0.007, CoFeB ≈ 0.006–0.015, Co/Ni and
  thin films up to ≈ 0.03); μ0M_eff 0.3–1.8 T (thin CoFeB with interface anisotropy to bulk
  CoFe, Fe); ξ_DL −0.3…+0.3 with |ξ_DL| ≥ 0.02 (W ≈ −0.3, Ta ≈ −0.1, Pt ≈ +0.05–0.15;
  below 0.02 the S/A of the default 10 dBm lines is not resolved from zero and ξ's pull is
  then about an error that dominates it — drawn |ξ| ∈ [0.02, 0.3], random sign).
- Harmonic Hall (perpendicular_sot_hallbar, field sweeps): ξ_DL as above, ΔR_AHE amplitude
  0.1–5 Ω with either sign (Ta/CoFeB 2.9 Ω, Pt/Co ≈ 0.3 Ω, sub-ohm in thick films).

Priors, as a user states them: γ/2π ± 1 % (g from the literature), μ0M_s ± 3 %, t and d
± 5 %, w ± 2 % (lithography); ΔR_A and ΔR_P ± 2 % (from the out-of-plane loop and the
angle scan); μ0H_k of the in-plane film ± 10 % (or 0.2 mT, the larger).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from labspin.procedures.harmonic_hall_analysis import analyze_harmonic_hall
from labspin.procedures.stfmr_analysis import analyze_stfmr
from labspin.run import api
from labspin.sim_backend.samples import load_sample

PRIOR_REL = {"gamma_Hz_per_T": 0.01, "mu0_ms_T": 0.03, "thickness_m": 0.05,
             "hm_thickness_m": 0.05, "width_m": 0.02, "dr_ahe_ohm": 0.02,
             "dr_phe_ohm": 0.02}


def _xi(rng) -> float:
    """ξ_DL uniform over ±[0.02, 0.3]."""
    return float(rng.choice((-1.0, 1.0)) * rng.uniform(0.02, 0.3))


def _prior(rng, value: float, rel: float, floor: float = 0.0) -> str:
    """A user's "v±e": e = rel·|value| (at least ``floor``), v drawn about the truth."""
    err = max(rel * abs(value), floor)
    return f"{value + err * rng.standard_normal()!r}±{err!r}"


def _foreign(out) -> pd.DataFrame:
    """The run's table without its header, as from another lab's program."""
    assert out.status_name == "FINISHED", out.message
    return pd.read_csv(out.path, comment="#")


def stfmr_draw(seed: int, out_dir) -> dict:
    """Get {key: (value, error, truth)} of μ0M_eff, α and ξ for one random-truth draw."""
    rng = np.random.default_rng(18_000 + seed)
    sets = [f"alpha={rng.uniform(0.004, 0.03)!r}", f"mu0_meff_T={rng.uniform(0.3, 1.8)!r}",
            f"xi_dl={_xi(rng)!r}"]
    truth = load_sample("inplane_sot_hallbar", sets).describe()
    out = api.run("stfmr", set=sets, out=out_dir, seed=seed)
    priors = {k: _prior(rng, truth[k], PRIOR_REL[k])
              for k in ("gamma_Hz_per_T", "mu0_ms_T", "thickness_m", "hm_thickness_m")}
    priors["mu0_hk_T"] = _prior(rng, truth["mu0_hk_T"], 0.1, floor=2e-4)
    res = analyze_stfmr(_foreign(out), **priors)
    want = {"mu0_meff_T": truth["mu0_meff_T"], "alpha": truth["alpha"], "xi": truth["xi_dl"]}
    return {k: (res.get(k), res.get(k + "_err"), v, res.get("warnings")) for k, v in want.items()}


def harmonic_hall_draw(seed: int, out_dir) -> dict:
    """Get {key: (value, error, truth)} of the per-ampere damping-like field and ξ_DL."""
    rng = np.random.default_rng(18_500 + seed)
    dr_ahe = float(rng.choice((-1.0, 1.0)) * rng.uniform(0.1, 5.0))
    sets = [f"xi_dl={_xi(rng)!r}", f"dr_ahe_ohm={dr_ahe!r}"]
    truth = load_sample("perpendicular_sot_hallbar", sets).describe()
    out = api.run("harmonic-hall", set=sets, out=out_dir, seed=seed)
    priors = {k: _prior(rng, truth[k], PRIOR_REL[k])
              for k in ("dr_ahe_ohm", "dr_phe_ohm", "mu0_ms_T", "thickness_m",
                        "hm_thickness_m", "width_m")}
    xi_r = truth["dr_phe_ohm"] / truth["dr_ahe_ohm"]
    try:
        res = analyze_harmonic_hall(_foreign(out), **priors)
    except ValueError as exc:       # outside Hayashi's correction: refused, never reported
        assert "|ξ_R| must be < 1/2" in str(exc) and abs(xi_r) > 0.4, (xi_r, exc)
        return REFUSED
    want = {"mu0_hdl_per_A_T": truth["mu0_hdl_per_A_T"],
            "mu0_hfl_per_A_T": truth["mu0_hfl_per_A_T"], "xi_dl": truth["xi_dl"]}
    return {k: (res.get(k), res.get(k + "_err"), v, res.get("warnings")) for k, v in want.items()}


REFUSED: dict = {}
"""A draw whose ΔR_AHE is below 2|ΔR_P| (|ξ_R| = |ΔR_P/ΔR_A| ≥ 1/2, e.g. −0.34 Ω against the
sample's −0.308 Ω): Hayashi's correction (1 − 4ξ_R²) has no solution there and the analysis
refuses it by name; such draws are checked to be refused and left out of the pulls."""


def pulls(draws: list[dict], keys=None) -> dict[str, np.ndarray]:
    """Get (value − truth)/error per key over the draws; a missing value is a failure."""
    out = {}
    for key in keys or draws[0]:
        for d in draws:
            v, e, t, warnings = d[key]
            assert v is not None and e, (key, t, warnings)
        out[key] = np.array([(d[key][0] - d[key][2]) / d[key][1] for d in draws])
    return out


def check(draws: list[dict], keys=None) -> None:
    """|pull| < 4 per draw; mean within 3/√N of 0 and width within 3/√(2(N−1)) of 1."""
    n = len(draws)
    for key, x in pulls(draws, keys).items():
        print(f"\n{key}: pull mean {x.mean():+.2f}, width {x.std(ddof=1):.2f}, "
              f"max |pull| {np.abs(x).max():.2f} over {n} draws")     # pytest -s shows it
        assert np.all(np.abs(x) < 4), (key, x)
        assert abs(x.mean()) < 3 / math.sqrt(n), (key, x)
        assert abs(x.std(ddof=1) - 1) < 3 / math.sqrt(2 * (n - 1)), (key, x)


CI_DRAWS, FULL_DRAWS = 2, 20
HH_FIELDS = ("mu0_hdl_per_A_T", "mu0_hfl_per_A_T")
"""H_DL and H_FL per ampere: H_DL came out +1.0–1.8 % high (≈ 5σ) in every draw before
the analysis corrected the damping-like sweep for the tilt (1/cos θ, harmonic_hall_analysis)."""


@pytest.fixture(scope="module")
def hh_ci(tmp_path_factory):
    # seeds 0, 1, fixed before looking (the first two); the bounds are check()'s 3σ ones
    return [harmonic_hall_draw(s, tmp_path_factory.mktemp(f"hh{s}")) for s in (0, 1)]


@pytest.fixture(scope="module")
def hh_full(tmp_path_factory):
    draws = [harmonic_hall_draw(s, tmp_path_factory.mktemp(f"hh{s}"))
             for s in range(FULL_DRAWS)]
    return [d for d in draws if d is not REFUSED]


def test_stfmr_random_truths_ci(tmp_path):
    check([stfmr_draw(seed, tmp_path / str(seed)) for seed in range(CI_DRAWS)])


def test_harmonic_hall_random_truths_xi_ci(hh_ci):
    check(hh_ci, ["xi_dl"])


def test_harmonic_hall_random_truths_fields_ci(hh_ci):
    check(hh_ci, HH_FIELDS)


@pytest.mark.slow
def test_stfmr_random_truths_full(tmp_path):
    check([stfmr_draw(seed, tmp_path / str(seed)) for seed in range(FULL_DRAWS)])


@pytest.mark.slow
def test_harmonic_hall_random_truths_xi_full(hh_full):
    check(hh_full, ["xi_dl"])


@pytest.mark.slow
def test_harmonic_hall_random_truths_fields_full(hh_full):
    check(hh_full, HH_FIELDS)
