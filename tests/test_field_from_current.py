"""--field-from-current: a linear law, a saturating real calibration table (OpenFMR's DXWD-80
electromagnet), labspin's own two-branch calibration results, refusals."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labspin.cli.main import main
from labspin.procedures.magnet_calibration import calibration_currents
from labspin.results.field_from_current import (
    apply_field_from_current,
    parse_field_from_current,
    read_calibration,
)

REAL = Path(__file__).parents[1].parent / "shared" / "realdata" / "openfmr_magnet_calibration"
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/realdata not present")


def test_linear_law_and_its_refusals():
    law = parse_field_from_current("0.05,-0.002")
    assert law.field(np.array([0.0, 2.0, -4.0])) == pytest.approx([-0.002, 0.098, -0.202])
    assert parse_field_from_current("0.05").field(10.0) == pytest.approx(0.5)
    for bad in ("0", "0.05,1,2", "0.05,x", "nan"):
        with pytest.raises(ValueError, match="SLOPE_T_PER_A"):
            parse_field_from_current(bad)
    with pytest.raises(ValueError, match="no file"):
        parse_field_from_current("no_such_calibration.xy")


@needs_real
@pytest.mark.parametrize("gap", ["20mm", "5mm"])
def test_real_saturating_table_is_read_and_interpolated_monotone(gap, tmp_path):
    path = REAL / f"DXWD-80_{gap}.xy"
    law = read_calibration(path)                       # header: "current (A)  field (T)"
    assert law.current_A[0] == -30.0 and law.current_A[-1] == 30.0 and law.current_A.size == 61
    full = law.field(law.current_A)
    assert np.all(np.diff(full) > 0)
    # the table's own points come back exactly
    assert full[[0, -1]] == pytest.approx(law.field_up_T[[0, -1]], abs=0)
    # every other point left out: the monotone cubic must do better than linear
    # interpolation, whose error is bounded by h²/8·|B''| = max|Δ²B|/8 on the coarse grid
    coarse = tmp_path / "coarse.xy"
    rows = np.column_stack([law.current_A[::2], law.field_up_T[::2]])
    coarse.write_text("#   current (A)      field (T)\n"
                      + "\n".join(f"{i:14.8f} {b:14.8f}" for i, b in rows), encoding="utf-8")
    half = read_calibration(coarse)
    left_out = law.current_A[1::2]
    err_pchip = np.abs(half.field(left_out) - law.field_up_T[1::2]).max()
    err_linear = np.abs(np.interp(left_out, *rows.T) - law.field_up_T[1::2]).max()
    bound = np.abs(np.diff(rows[:, 1], 2)).max() / 8
    assert err_pchip < err_linear and err_pchip < bound
    # saturating: the field between 29 and 30 A rises by far less than between 0 and 1 A
    assert law.field(30.0) - law.field(29.0) < 0.6 * (law.field(1.0) - law.field(0.0))
    with pytest.raises(ValueError, match=r"-30 A to 30 A.*not extrapolated"):
        law.field(np.array([0.0, 30.5]))


def test_multi_trial_table_in_mT_needs_and_takes_the_unit(tmp_path):
    path = tmp_path / "cal.csv"
    i = np.arange(0.0, 5.5, 0.5)
    trials = [40.0 * i + d for d in (-0.3, 0.0, 0.3)]        # mT
    pd.DataFrame({"current": i, **{f"trial{k + 1}": t for k, t in enumerate(trials)}}).to_csv(
        path, index=False)
    with pytest.raises(ValueError, match="names no field unit"):
        parse_field_from_current(str(path))
    law = parse_field_from_current(f"{path},mT")
    assert law.field(np.array([0.0, 2.25, 5.0])) == pytest.approx([0.0, 0.09, 0.2], abs=1e-12)


def _labspin_calibration_file(path, k=0.04, br=0.003):
    i, branch = calibration_currents(5.0, 0.5)
    field = k * i + np.where(branch > 0, -br, br)
    path.write_text("#Procedure: <labspin.procedures.magnet_calibration.MagnetCalibrationSweep>\n"
                    + pd.DataFrame({"Current setpoint (A)": i, "Supply current (A)": i,
                                    "Field (T)": field, "Branch": branch}).to_csv(index=False),
                    encoding="utf-8")
    return path


def test_labspin_calibration_picks_the_branch_from_the_sweep_direction(tmp_path):
    law = parse_field_from_current(str(_labspin_calibration_file(tmp_path / "cal.csv")))
    assert law.hysteretic
    current = np.r_[np.linspace(0, 5, 11), np.linspace(5, -5, 21)[1:], np.linspace(-5, 5, 21)[1:]]
    b = law.field(current)
    at_zero = np.flatnonzero(current == 0)                # start (up), down sweep, up sweep
    assert b[at_zero] == pytest.approx([-0.003, 0.003, -0.003])


def _rh_loop(tmp_path, current_to_field, hc=0.05):
    """An MTJ-like R–H loop file of another program that logged the magnet current only:
    0 → +8 A → −8 A → +8 A, R switching at ±hc (T)."""
    i = np.r_[np.linspace(0, 8, 33), np.linspace(8, -8, 65)[1:], np.linspace(-8, 8, 65)[1:]]
    b = current_to_field(i)
    state, r = 1.0, []
    for k in range(i.size):
        if b[k] > hc:
            state = 1.0
        elif b[k] < -hc:
            state = -1.0
        r.append(1000.0 + 50.0 * state)
    path = tmp_path / "rh_magnet_current.csv"
    branch = np.r_[np.ones(33), -np.ones(64), np.ones(64)]
    pd.DataFrame({"I_magnet (A)": i, "Resistance (ohm)": r, "Branch": branch}).to_csv(
        path, index=False)
    return path, b


@needs_real
def test_cli_turns_magnet_current_into_field_through_a_real_table(tmp_path, capsys):
    table = REAL / "DXWD-80_20mm.xy"
    law = read_calibration(table)
    path, b = _rh_loop(tmp_path, law.field)
    assert main(["analyze", "field-sweep", str(path), "--json",
                 "--column", "Magnet current (A)=I_magnet (A)",
                 "--field-from-current", str(table)]) == 0
    import json
    out = json.loads(capsys.readouterr().out)
    step = np.abs(np.diff(b)).max()                       # the coarsest field step
    assert out["mu0_hc_T"] == pytest.approx(0.05, abs=step)
    assert out["mu0_hshift_T"] == pytest.approx(0.0, abs=step)
    assert out["r_high_ohm"] == pytest.approx(1050.0) and out["r_low_ohm"] == pytest.approx(950.0)


def test_cli_refusals_name_the_column_and_the_range(tmp_path, capsys):
    path, _ = _rh_loop(tmp_path, lambda i: 0.05 * i)
    assert main(["analyze", "field-sweep", str(path),
                 "--field-from-current", "0.05"]) == 2
    assert "'Magnet current (A)'" in capsys.readouterr().err
    small = tmp_path / "small.csv"
    pd.DataFrame({"current (A)": [-5.0, 0.0, 5.0], "field (T)": [-0.2, 0.0, 0.2]}).to_csv(
        small, index=False)
    assert main(["analyze", "field-sweep", str(path), "--column", "Magnet current (A)=I_magnet (A)",
                 "--field-from-current", str(small)]) == 2
    assert "outside the calibration table small.csv (-5 A to 5 A)" in capsys.readouterr().err
    frame = pd.DataFrame({"Magnet current (A)": [1.0], "Field (T)": [0.1]})
    with pytest.raises(ValueError, match="already has 'Field \\(T\\)'"):
        apply_field_from_current(frame, parse_field_from_current("0.05"))


def test_a_current_mapped_as_the_field_is_refused_before_reading(tmp_path, capsys):
    """Issue 14: '--column "Field (T)=I_magnet (A)"' read 1 A as 1 T without complaint; a
    rename between units of another kind or scale needs --unit (or --field-from-current)."""
    path, _ = _rh_loop(tmp_path, lambda i: 0.05 * i)
    assert main(["analyze", "field-sweep", str(path),
                 "--column", "Field (T)=I_magnet (A)"]) == 2
    err = capsys.readouterr().err
    assert "'I_magnet (A)' is a current (A)" in err and "--field-from-current" in err
    oe = tmp_path / "oe.csv"
    pd.DataFrame({"H (Oe)": [-100.0, 100.0, -100.0], "Resistance (ohm)": [1.0, 2.0, 1.0]}
                 ).to_csv(oe, index=False)
    assert main(["analyze", "field-sweep", str(oe), "--column", "Field (T)=H (Oe)"]) == 2
    assert "add --unit \"Field (T)=Oe\"" in capsys.readouterr().err
