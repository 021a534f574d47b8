"""Repeated readings of one set point in harmonic-Hall field sweeps (issue 18 items 6–7):
averaged before the fits, their pooled scatter the error of each mean (the one helper
``estimates.average_repeats``, which angle scans use too) — on a synthetic table whose
repeats have a known scatter."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from labspin.procedures.estimates import average_repeats
from labspin.procedures.harmonic_hall_analysis import analyze_harmonic_hall

I0, RA, HK = 1e-3, 1.0, 0.2          # A, Ω (ΔR_A), T (μ0H_K)
BX, BY = 2e-4, -1e-4                 # Hayashi's B along x and y (T), m_z > 0
SIGMA_V2 = SIGMA_V1 = 2e-9          # the readings' noise (V)


def synthetic_sweeps(seed: int, repeats: int = 4, common_V: float = 0.0) -> pd.DataFrame:
    """Field sweeps along x and y of a perpendicular macrospin on its m_z > 0 branch, the
    small-angle harmonics V_ω = I0·ΔR_A·(1 − h²/2), V_2ω = B·∂V_ω/∂H (h = H/H_K), each set
    point −0.06 … 0.06 T read ``repeats`` times in a row with white noise of known σ, and
    on V_2ω an offset of σ ``common_V`` shared by one set point's repeats (a drift slower
    than the repeats: they are not independent readings of the curve)."""
    rng = np.random.default_rng(seed)
    rows = []
    for angle, b in ((0.0, BX), (90.0, BY)):
        offsets = np.repeat(common_V * rng.standard_normal(25), repeats)
        for h, off in zip(np.repeat(np.linspace(-0.06, 0.06, 25), repeats), offsets):
            v1 = I0 * RA * (1 - 0.5 * (h / HK) ** 2)
            v2 = b * (-I0 * RA * h / HK ** 2) + off
            rows.append({"Field set (T)": h, "Field (T)": h, "Field angle (deg)": angle,
                         "Current amplitude (A)": I0,
                         "V1w (V)": v1 + SIGMA_V1 * rng.standard_normal(),
                         "V2w (V)": v2 + SIGMA_V2 * rng.standard_normal()})
    return pd.DataFrame(rows)


def test_means_and_errors_of_the_shared_helper():
    """Three set points read 3, 2 and 1 times: the means; the error of each the pooled
    within-point variance (dof 2 + 1) over its number of readings."""
    v = np.array([1.0, 2.0, 3.0, 10.0, 12.0, 7.0])
    out = average_repeats([0, 0, 0, 1, 1, 2], {"v": v}, min_dof=3)
    assert out["v"] == pytest.approx([2.0, 11.0, 7.0])
    s2 = (2.0 + 2.0) / 3                         # (1 + 0 + 1) + (1 + 1), 3 dof
    assert out["v_err"] == pytest.approx(np.sqrt(s2 / np.array([3, 2, 1])))
    assert list(out["n"]) == [3, 2, 1]
    assert average_repeats([0, 0, 1], {"v": v[:3]}, min_dof=3)["v_err"] is None


def test_field_sweep_repeats_are_averaged_with_their_scatter_as_the_error():
    """25 set points × 4 readings per direction: 50 points of 200 readings enter the fits;
    each mean's error is the pooled scatter/2, which recovers the noise σ of V_2ω to its
    statistical precision (75 dof per direction: ± 3·8 %)."""
    df = synthetic_sweeps(0)
    res = analyze_harmonic_hall(df, dr_ahe_ohm=RA, dr_phe_ohm=0.0)
    assert res["n_readings"] == 200 and res["n_points"] == 50
    x = df[df["Field angle (deg)"] == 0.0]
    cells = np.repeat(np.arange(25), 4)
    m = average_repeats(cells, {"v2": x["V2w (V)"]})
    assert m["v2_err"] * 2 == pytest.approx(SIGMA_V2, rel=3 / math.sqrt(2 * 75))


@pytest.mark.parametrize("common_V", [0.0, 4e-9])
def test_field_sweep_pulls_with_repeats(common_V):
    """20 seeds: pulls of Hayashi's B_X and B_Y (truth − value)/error have mean within
    3/√20 of 0 and width within 1 ± 3/√38 — also where the repeats share an offset twice
    their own scatter: the means' scatter then exceeds their errors and the weighted fit
    widens them by √(χ²/dof). Fitting the 200 readings as independent points instead
    understated those errors: pulls of width 2.2 (1.16 without the shared offset)."""
    pulls = {"b_x_mzp_T": [], "b_y_mzp_T": []}
    for seed in range(20):
        res = analyze_harmonic_hall(synthetic_sweeps(seed, common_V=common_V),
                                    dr_ahe_ohm=RA, dr_phe_ohm=0.0)
        for key, truth in (("b_x_mzp_T", BX), ("b_y_mzp_T", BY)):
            pulls[key].append((truth - res[key]) / res[key + "_err"])
    for key, x in pulls.items():
        assert abs(np.mean(x)) < 3 / math.sqrt(20), (key, x)
        assert abs(np.std(x, ddof=1) - 1) < 3 / math.sqrt(38), (key, x)
