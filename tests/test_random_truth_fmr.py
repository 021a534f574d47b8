"""Random-truth dry runs of broadband FMR (issue 18, "Done when"), as tests/test_random_truth.py
does for ST-FMR and harmonic Hall: per seed a truth is drawn over physical ranges, the fmr
procedure runs with its defaults on the simulated bench through the path a user takes
(``api.run("fmr", set=[...])``, i.e. ``labspin run fmr --sim --set k=v``), the file is analysed
as a foreign file (the table read without its header) with the external constants given as a
user gives them — drawn about the truth with the error the user states — and every reported
parameter must come back within its error: |pull| < 4 per draw, and over the draws the pulls
(value − truth)/error have mean within 3/√N of 0 and sample width within 3/√(2(N−1)) of 1
(the statistics of N unit-normal pulls).

Ranges (uniform; py_film_fmr otherwise): α 0.002–0.03 (YIG-like films excluded: below 0.002
the 8 GHz HWHM of 0.5 mT is not resolved by the default 1 mT field step); μ0M_eff 0.3–1.8 T
(thin CoFeB with interface anisotropy to bulk CoFe); γ/2π 27.5–30.8 GHz/T (g = 1.96–2.2:
YIG, permalloy, CoFeB, cobalt). μ0H_k stays the film's 0.25 mT, given as a user's ± 10 % (or
0.2 mT, the larger). Each draw is analysed twice: γ given as the literature's ± 1 %, and γ
not given (fitted where the three frequencies determine it, else the free electron's ± 5 %).
The inhomogeneous width ΔB0 is not drawn: the simulator's susceptibility is the macrospin's
(no distribution of resonance fields), so ΔB0's truth is 0 and its pull is checked about 0.

Measured over the 20 draws (pull = (value − truth)/error: mean, width, largest |·|): γ given —
α −0.13, 0.72, 1.88; μ0M_eff +0.18, 1.00, 1.85; ΔB0 +0.06, 0.98, 1.82; γ not given — α −0.03,
0.95, 1.79; μ0M_eff −0.17, 0.78, 2.01; ΔB0 +0.05, 0.89, 1.82; γ fitted in 16 of 20 (pulls +0.40,
0.66, 1.90; not asserted: the others fix it at the free electron's ± 5 %). Before the fmr
procedure's coarse pass and line-width windows, the defaults lost every line of draws 0–3
(the first window placed from the 1 T guess missed, and later ones had no line to follow).
"""
from __future__ import annotations

import numpy as np
import pytest
from test_random_truth import _foreign, _prior, check

from labspin.procedures.fmr_analysis import analyze_fmr
from labspin.run import api
from labspin.sim_backend.samples import load_sample

SAMPLE = "py_film_fmr"
KEYS_GIVEN = ("alpha", "mu0_meff_T", "mu0_dh0_T")
KEYS_FREE = KEYS_GIVEN + ("gamma_Hz_per_T",)


def fmr_draw(seed: int, out_dir) -> tuple[dict, dict]:
    """Get ({key: (value, error, truth, warnings)} with γ given, the same with γ not given)."""
    rng = np.random.default_rng(18_800 + seed)
    sets = [f"alpha={rng.uniform(0.002, 0.03)!r}", f"mu0_meff_T={rng.uniform(0.3, 1.8)!r}",
            f"gamma_Hz_per_T={rng.uniform(27.5e9, 30.8e9)!r}"]
    truth = load_sample(SAMPLE, sets).describe()
    out = api.run("fmr", set=sets, out=out_dir, seed=seed)
    foreign = _foreign(out)
    hk = _prior(rng, truth["mu0_hk_T"], 0.1, floor=2e-4)
    given = analyze_fmr(foreign, mu0_hk_T=hk,
                        gamma_Hz_per_T=_prior(rng, truth["gamma_Hz_per_T"], 0.01))
    free = analyze_fmr(foreign, mu0_hk_T=hk)
    want = {"alpha": truth["alpha"], "mu0_meff_T": truth["mu0_meff_T"], "mu0_dh0_T": 0.0,
            "gamma_Hz_per_T": truth["gamma_Hz_per_T"]}

    def keyed(res, keys):
        return {k: (res.get(k), res.get(k + "_err"), want[k], res.get("warnings")) for k in keys}
    free_keys = KEYS_FREE if free.get("gamma_fitted") else KEYS_GIVEN
    return keyed(given, KEYS_GIVEN), keyed(free, free_keys)


CI_DRAWS, FULL_DRAWS = 2, 20


def _draws(n: int, tmp_path_factory) -> list:
    return [fmr_draw(s, tmp_path_factory.mktemp(f"fmr{s}")) for s in range(n)]


@pytest.fixture(scope="module")
def fmr_ci(tmp_path_factory):
    return _draws(CI_DRAWS, tmp_path_factory)


@pytest.fixture(scope="module")
def fmr_full(tmp_path_factory):
    return _draws(FULL_DRAWS, tmp_path_factory)


def test_fmr_random_truths_gamma_given_ci(fmr_ci):
    check([given for given, _ in fmr_ci])


def test_fmr_random_truths_gamma_free_ci(fmr_ci):
    check([free for _, free in fmr_ci], KEYS_GIVEN)


@pytest.mark.slow
def test_fmr_random_truths_gamma_given_full(fmr_full):
    check([given for given, _ in fmr_full])


@pytest.mark.slow
def test_fmr_random_truths_gamma_free_full(fmr_full):
    check([free for _, free in fmr_full], KEYS_GIVEN)
