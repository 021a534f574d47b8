"""magnet-calibration analysis of other labs' tables: a real saturating single-branch table
(OpenFMR's DXWD-80, up and down branches averaged by its authors), a multi-trial table in mT
swept in one direction (from the command line), and up/down sweeps without a Branch column."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labspin.cli.main import main
from labspin.procedures.magnet_calibration_analysis import analyze_calibration

REAL = Path(__file__).parents[1].parent / "shared" / "realdata" / "openfmr_magnet_calibration"


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata not present")
@pytest.mark.parametrize("gap, full_scale_T", [("20mm", 1.50), ("5mm", 2.79)])
def test_real_openfmr_tables(gap, full_scale_T):
    """The authors' calibrate_magnet.py averages the up and down sweeps and subtracts the
    zero-current field, so the table is one branch with B(0) = 0; the data README states
    ±1.50 T (20 mm gap) and ±2.79 T (5 mm gap) at ±30 A."""
    df = pd.read_csv(REAL / f"DXWD-80_{gap}.xy", sep=r"\s+", comment="#",
                     names=["Current (A)", "Field (T)"])
    whole = analyze_calibration(df)
    assert whole["branches"] == 1 and "mu0_remanence_T" not in whole
    assert whole["max_current_A"] == 30.0
    assert whole["mu0_field_at_max_current_T"] == pytest.approx(full_scale_T, abs=0.005)
    # saturating: one line over ±30 A misses by several % of full scale, and says so
    assert whole["nonlinearity"] > 0.05 and "not linear" in whole["warnings"][0]
    linear = analyze_calibration(df, fit_max_current_A="5")
    assert not [w for w in linear["warnings"] if "consistent with zero" not in w]
    assert linear["nonlinearity"] < 0.005
    # the slope of the linear part is the field step per ampere around zero
    i, b = df["Current (A)"].to_numpy(), df["Field (T)"].to_numpy()
    step = (b[i == 1.0] - b[i == -1.0])[0] / 2
    assert linear["tesla_per_A"] == pytest.approx(step, rel=0.02)
    assert linear["tesla_per_A"] > whole["tesla_per_A"]
    # B(0) = 0 by the authors' construction: the line's intercept is zero within its error
    assert abs(linear["mu0_offset_T"]) < 3 * linear["mu0_offset_T_err"] + 1e-5
    assert abs(linear["mu0_offset_T"]) < 1e-3


def test_multi_trial_table_in_mT_from_the_command_line(tmp_path, capsys):
    """current,trial1,trial2,trial3 in mT, one sweep direction. Noise σ = 0.05 mT per
    reading: over 3 × 21 readings spanning 10 A the slope's standard error is ~2e-6 T/A;
    the pooled trial scatter over 42 degrees of freedom is within ±35 % of σ (3 standard
    deviations of s: 1/√(2·42) = 11 %)."""
    rng = np.random.default_rng(7)
    i = np.arange(0.0, 10.5, 0.5)
    sigma = 0.05
    path = tmp_path / "magnet_cal.csv"
    pd.DataFrame({"current": i, **{f"trial{k}": 45.0 * i + 1.2 + rng.normal(0, sigma, i.size)
                                   for k in (1, 2, 3)}}).to_csv(path, index=False)
    assert main(["analyze", "magnet-calibration", str(path), "--json",
                 "--column", "Current (A)=current", "--option", "trials=trial*",
                 "--option", "field_unit=mT"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["branches"] == 1 and out["n_trials"] == 3
    assert out["tesla_per_A_err"] < 1e-5
    assert abs(out["tesla_per_A"] - 0.045) < 4 * out["tesla_per_A_err"]
    assert abs(out["mu0_offset_T"] - 1.2e-3) < 4 * out["mu0_offset_T_err"]
    assert out["trial_scatter_T"] == pytest.approx(sigma * 1e-3, rel=0.35)
    assert not [w for w in out["warnings"] if "consistent with zero" not in w]
    assert main(["analyze", "magnet-calibration", str(path),
                 "--column", "Current (A)=current", "--option", "trials=run*"]) == 2
    assert "no column matches 'run*'" in capsys.readouterr().err
    assert main(["analyze", "magnet-calibration", str(path),
                 "--column", "Current (A)=current", "--option", "trial=trial*"]) == 2
    assert "unknown option(s) trial; options: field_unit, fit_max_current_A, trials" in \
        capsys.readouterr().err


def test_up_and_down_sweeps_without_a_branch_column():
    """0 → +8 → −8 → +8 A: the first leg is the virgin curve (B = kI + c, no remanence) and
    must not join the up branch; the branches B = kI + c ∓ B_r are found from the sweep
    direction. σ = 20 µT: the remanence comes back within 4 standard errors; the largest
    measured gap is 2·B_r within 5·√2·σ (the largest of ~65 differences of two readings)."""
    rng = np.random.default_rng(3)
    k, c, br, sigma = 0.035, 2e-4, 4e-3, 2e-5
    legs = [np.linspace(0, 8, 33), np.linspace(8, -8, 65)[1:], np.linspace(-8, 8, 65)[1:]]
    i = np.concatenate(legs)
    b = np.concatenate([k * legs[0] + c, k * legs[1] + c + br, k * legs[2] + c - br])
    df = pd.DataFrame({"Supply current (A)": i, "Field (T)": b + rng.normal(0, sigma, i.size)})
    out = analyze_calibration(df)
    assert out["branches"] == 2
    for key, true in (("tesla_per_A", k), ("mu0_remanence_T", br), ("mu0_offset_T", c)):
        assert abs(out[key] - true) < 4 * out[key + "_err"], key
    assert out["mu0_branch_difference_max_T"] == pytest.approx(2 * br, abs=5 * np.sqrt(2) * sigma)
    assert not [w for w in out["warnings"] if "consistent with zero" not in w]


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata not present")
def test_single_branch_table_is_plotted_with_its_line():
    from labspin.procedures.plots import plot_analysis
    df = pd.read_csv(REAL / "DXWD-80_20mm.xy", sep=r"\s+", comment="#",
                     names=["Current (A)", "Field (T)"])
    result = analyze_calibration(df, fit_max_current_A=5)
    fig = plot_analysis("magnet-calibration", df, result)
    fits = [ln for ax in fig.axes for ln in ax.get_lines() if ln.get_gid() == "fit"]
    assert len(fits) == 1
    x, y = fits[0].get_data()
    assert list(x) == [-30.0, 30.0]
    assert y == pytest.approx((result["tesla_per_A"] * x + result["mu0_offset_T"]) * 1e3)


@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata not present")
def test_real_openfmr_table_from_the_command_line(capsys):
    """The .xy file as it is (its '#   current (A)  field (T)' line names the columns), with
    `labspin analyze magnet-calibration FILE` alone: the same numbers as the API on the
    renamed frame, ±1.50 T at ±30 A (README), and the saturation named."""
    path = REAL / "DXWD-80_20mm.xy"
    api = analyze_calibration(pd.read_csv(path, sep=r"\s+", comment="#",
                                          names=["Current (A)", "Field (T)"]))
    assert main(["analyze", "magnet-calibration", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["tesla_per_A"] == pytest.approx(api["tesla_per_A"], rel=1e-12)
    assert out["mu0_field_at_max_current_T"] == pytest.approx(1.50, abs=0.005)
    assert "not linear" in out["warnings"][0]
    assert main(["analyze", "magnet-calibration", str(path), "--json",
                 "--option", "fit_max_current_A=5"]) == 0
    assert json.loads(capsys.readouterr().out)["nonlinearity"] < 0.005
