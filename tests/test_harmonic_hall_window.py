"""The fit-window systematic of harmonic-Hall field sweeps (issue 18, honest errors).

Hayashi's ratio B is first order in H/H_K and the 1ω curve is a quartic, so on real data the
fields depend on the fit window beyond their statistical errors (the Ta/CoFeB set: H_FL from
−545 to −566 A/m over window fractions 0.4–0.8, with a statistical error of ±4 A/m). The
analysis refits at ×1/√2 and ×√2 the window and adds what changes significantly.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from labspin.physics.constants import MU0
from labspin.procedures.harmonic_hall_analysis import (
    WINDOW_SIGNIFICANCE,
    analyze_harmonic_hall,
    window_systematic,
)
from labspin.run.analysis import read_files

REALDATA = Path(__file__).parents[1].parent / "shared" / "realdata"
HH = REALDATA / "cmtj_TaCoFeB_5360" / "harmonic_hall"


def _nested_means(rng, n: int = 400, bias: float = 0.0):
    """Get (value, err) of the mean of the central half of n unit-normal readings and of its
    refits on the central quarter and on all of them (nested windows); ``bias``·w² is a
    model error growing with the window w (1 for all readings)."""
    x = rng.standard_normal(n)
    t = np.linspace(-1, 1, n)
    out = []
    for w in (0.5, 0.5 / math.sqrt(2), min(1.0, 0.5 * math.sqrt(2))):
        sel = np.abs(t) <= w
        out.append((x[sel].mean() + bias * w ** 2, 1 / math.sqrt(sel.sum())))
    return out


def test_pure_noise_gives_no_systematic_at_the_significance_rate():
    """Nested refits of pure noise: the two changes are independent (Cov(subset, superset)
    = Var(superset)), each beyond 2σ with probability 4.55 %, so a systematic appears in
    1 − (1 − 0.0455)² = 8.9 % of 4000 trials: 356 ± 18 (binomial), within ±4σ."""
    assert WINDOW_SIGNIFICANCE == 2.0
    rng = np.random.default_rng(18)
    n, hits = 4000, 0
    for _ in range(n):
        (v, e), *refits = _nested_means(rng)
        hits += window_systematic(v, e, refits) > 0
    p = 1 - (1 - 2 * 0.5 * math.erfc(2 / math.sqrt(2))) ** 2
    assert abs(hits - n * p) < 4 * math.sqrt(n * p * (1 - p)), hits


def test_a_window_dependent_bias_is_measured():
    """A model error of 0.5·w²: at w = 0.5 (0.125) against 0.0625 and 0.25 at the refits,
    the larger change is 0.125; with σ ≈ 0.07 (200 readings) it is found, ≈ 0.125."""
    rng = np.random.default_rng(3)
    found = []
    for _ in range(200):
        (v, e), *refits = _nested_means(rng, n=40000, bias=0.5)
        found.append(window_systematic(v, e, refits))
    assert np.median(found) == pytest.approx(0.125, rel=0.1)


@pytest.fixture(scope="module")
def tacofeb():
    if not HH.exists():
        pytest.skip("../shared/realdata is not beside the checkout")
    one, two = HH / "5360_1f_hx_hy.csv", HH / "5360_2f_hx_hy.csv"
    df = read_files([one, two], procedure="harmonic-hall",
                    reshape="pairs:Field angle (deg)=0,90",
                    names=[f"{one.name}:Field (Oe),V1w (V)", f"{two.name}:Field (Oe),V2w (V)"],
                    constants=["Current amplitude (A)=2.68 mA"])

    def run(**kw):
        return analyze_harmonic_hall(df.copy(), dr_ahe_ohm=2.855, dr_phe_ohm=-0.308, **kw)
    return run


def test_real_set_errors_cover_the_window_dependence(tacofeb):
    """The Ta/CoFeB set (cmtj 5360): refitted over window fractions 0.3–0.8, the fields stay
    within 2 of the default's errors (the statistical error alone, ±4 A/m on H_FL, did
    not: the spread is 21 A/m); the published (−420, +574 in their frame, −574 in ours)
    A/m lie within 3 errors."""
    ref = tacofeb()
    assert ref["mu0_hfl_mzp_T_err_window"] > 0 or ref["mu0_hfl_mzm_T_err_window"] > 0
    assert any("fit window" in w for w in ref["warnings"])
    for fraction in (0.3, 0.4, 0.6, 0.7, 0.8):
        other = tacofeb(window_fraction=fraction)
        for key in ("mu0_hdl_T", "mu0_hfl_T"):
            assert abs(other[key] - ref[key]) < 2 * ref[key + "_err"], (fraction, key)
    assert abs(ref["mu0_hdl_T"] / MU0 + 420) < 3 * ref["mu0_hdl_T_err"] / MU0
    assert abs(ref["mu0_hfl_T"] / MU0 + 574) < 3 * ref["mu0_hfl_T_err"] / MU0
