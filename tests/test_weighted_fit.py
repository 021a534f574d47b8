"""One weighted fit with one error rule (issue 12): estimates.weighted_fit, which weighted_line
and the AMR/SMR fit of field_sweep_analysis both use."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from labspin.procedures.estimates import weighted_fit, weighted_line
from labspin.procedures.field_sweep_analysis import analyze_amr_smr


def test_weighted_fit_is_generalised_least_squares_widened_by_the_birge_ratio():
    x = np.linspace(-1, 1, 9)
    design = np.column_stack([np.ones_like(x), x, x ** 2])
    e = np.full(x.size, 0.1)
    exact = design @ [1.0, 2.0, -0.5]
    c, cov = weighted_fit(design, exact + np.array([1, -1] * 4 + [1]) * 0.01, e)
    bare = np.linalg.inv(design.T @ design / 0.01)        # χ²/dof < 1: not narrowed
    assert c == pytest.approx([1.0, 2.0, -0.5], abs=0.02)
    assert cov == pytest.approx(bare)
    wild = exact + np.array([1, -1] * 4 + [1]) * 0.5       # χ²/dof ≫ 1: widened by it
    c, cov = weighted_fit(design, wild, e)
    chi2 = float(np.sum(((design @ c - wild) / e) ** 2)) / (x.size - 3)
    assert chi2 > 1 and cov == pytest.approx(bare * chi2)
    line, line_cov = weighted_line(x, 3 * x + 1, e)
    assert line == pytest.approx([3.0, 1.0]) and line_cov.shape == (2, 2)


def _amr_table(levels, n, rng, sigma):
    rows = []
    for (polar, phi), r in levels.items():
        for f in (0.9, 1.0):
            for _ in range(n):
                rows.append({"Field (T)": f, "Field polar angle (deg)": polar,
                             "Field angle (deg)": phi,
                             "Resistance (ohm)": r + rng.normal(0, sigma)})
    return pd.DataFrame(rows)


def test_amr_smr_errors_follow_the_one_rule():
    """Three directions: r0 = R(z), dr_amr = R(x) − R(z), dr_smr = R(y) − R(z), each error
    s·√(1/n_a + 1/n_b) from the pooled scatter s (no degrees of freedom left for a χ²). A
    fourth direction (45°) that misses the model by 40 σ/√n widens every error by the Birge
    ratio."""
    rng = np.random.default_rng(2)
    levels = {(0.0, 0.0): 300.0, (90.0, 0.0): 299.5, (90.0, 90.0): 299.1}
    df = _amr_table(levels, 5, rng, 0.01)
    out = analyze_amr_smr(df)
    means = df.groupby(["Field polar angle (deg)", "Field angle (deg)"])["Resistance (ohm)"]
    m, resid = means.mean(), df["Resistance (ohm)"] - means.transform("mean")
    s = np.sqrt(np.sum(resid ** 2) / (len(df) - 3))
    assert out["r0_ohm"] == pytest.approx(m[(0.0, 0.0)])
    assert out["dr_amr_ohm"] == pytest.approx(m[(90.0, 0.0)] - m[(0.0, 0.0)])
    assert out["dr_amr_ohm_err"] == pytest.approx(s * np.sqrt(2 / 10))
    off = {**levels, (90.0, 45.0): 299.3 + 40 * 0.01 / np.sqrt(10)}
    widened = analyze_amr_smr(_amr_table(off, 5, rng, 0.01))
    assert widened["dr_amr_ohm_err"] > 5 * out["dr_amr_ohm_err"]
