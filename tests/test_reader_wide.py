"""Wide tables reshaped by --reshape (issue 14 items 5 and 8): column pairs per frequency
(the real Ta/CoFeB spin-diode set) and per field direction (the real harmonic-Hall loops),
column groups per field with units and description rows, multi-trial columns."""
import json
import math

import numpy as np
import pytest

from labspin.cli.main import main
from labspin.physics.constants import MU0
from labspin.physics.macrospin import SIGMA_SPIN_HALL
from labspin.results.reader import read_table
from labspin.results.wide import parse_spec


def test_spec_is_read_or_refused_by_name():
    assert parse_spec("pairs:Frequency (GHz)") == ("pairs", 2, "Frequency (GHz)", None)
    assert parse_spec("groups=5:Field (mT)=1,2") == ("groups", 5, "Field (mT)", [1.0, 2.0])
    assert parse_spec("trials") == ("trials", 2, None, None)
    for bad in ("pair", "groups", "groups=x", "pairs:F=1,a"):
        with pytest.raises(ValueError, match="--reshape"):
            parse_spec(bad)


def test_real_spin_diode_pairs_read_as_the_api_reads_them(realdata):
    """cmtj's 4p set: 17 (field, V) pairs, the frequency in each pair's header
    ("4pf_8.0_GHz"), columns of different lengths. The same numbers as the Python API's
    read_column_pairs (tests/test_procedure_stfmr.py: μ0H_k,eff 0.20–0.25 T, README)."""
    f = realdata / "cmtj_TaCoFeB_5360" / "vsd" / "5360_4p.csv"
    df = read_table(f, reshape="pairs:Frequency (GHz)", names="Field (Oe),Vmix (V)",
                    targets=["Field (T)", "Frequency (Hz)", "Vmix (V)"])
    from labspin.procedures.stfmr_analysis import read_column_pairs
    api = read_column_pairs(f, field_unit="Oe")
    assert np.array_equal(df["Frequency (Hz)"].to_numpy(), api["Frequency (Hz)"].to_numpy())
    assert np.allclose(df["Field (T)"], api["Field (T)"], rtol=1e-12)
    assert np.allclose(df["Vmix (V)"], api["Vmix (V)"], rtol=1e-12)


@pytest.mark.slow
def test_real_spin_diode_kittel_from_the_command_line(realdata, capsys):
    """The same set analysed by `labspin analyze` alone (≈ 30 s on a shared machine)."""
    f = realdata / "cmtj_TaCoFeB_5360" / "vsd" / "5360_4p.csv"
    assert main(["analyze", "stfmr", str(f), "--json", "--reshape", "pairs:Frequency (GHz)",
                 "--names", "Field (Oe),Vmix (V)", "--option", "magnet=perpendicular",
                 "--option", "min_frequency_Hz=8e9"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert 0.20 < res["mu0_hk_eff_T"] < 0.25
    assert 27.5e9 < res["gamma_Hz_per_T"] < 30e9


def test_real_harmonic_hall_pairs_per_field_direction(realdata, capsys):
    """cmtj's 1ω and 2ω files: (Hx, V) and (Hy, V) pairs in Oe, one file per harmonic,
    names given per file. Published: H_DL = −420 A/m, |H_FL| = 574 A/m at 2.68 mA; ΔR_A > 0
    with the sign the data's own R_xy rotation gives, and the same 15 % as the Python-API
    test (tests/test_procedure_harmonic_hall.py, which says why)."""
    hh = realdata / "cmtj_TaCoFeB_5360" / "harmonic_hall"
    one, two = hh / "5360_1f_hx_hy.csv", hh / "5360_2f_hx_hy.csv"
    assert main(["analyze", "harmonic-hall", str(one), str(two), "--json",
                 "--reshape", "pairs:Field angle (deg)=0,90",
                 "--names", f"{one.name}:Field (Oe),V1w (V)",
                 "--names", f"{two.name}:Field (Oe),V2w (V)",
                 "--constant", "Current amplitude (A)=2.68 mA",
                 "--option", "dr_ahe_ohm=2.855", "--option", "dr_phe_ohm=-0.308"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n_branches"] == 2
    assert res["mu0_hdl_T"] / MU0 == pytest.approx(-420, rel=0.15)
    assert abs(res["mu0_hfl_T"]) / MU0 == pytest.approx(574, rel=0.15)


def _angle_groups(path, fields_mT, i0=2e-3, r0=1.0, drp=-0.3, dra=-2.8, meff=1.0,
                  hdl=2e-4, hfl=-1e-4):
    """Column groups per field: Angle, Field, V1w, V2w, Phase × fields, a units row and a
    description row below the names; an in-plane magnet (φ_M = φ, no anisotropy) with
    V_ω = I0(R0 + ΔR_P sin 2φ), V_2ω = a cos φ + b(2cos³φ − cos φ),
    a = −σ_y·μ0H_DL·I0·ΔR_A/(2(B + μ0M_eff)), b = −σ_y·I0·ΔR_P·μ0H_FL/B (Avci et al. 2014
    for σ = σ_y·ŷ; design.md's σ_y = −1, ``SIGMA_SPIN_HALL``)."""
    phi = np.deg2rad(np.arange(0, 360, 10.0))
    cols, names = [], []
    for b_mT in fields_mT:
        b = b_mT * 1e-3
        a = -SIGMA_SPIN_HALL[1] * hdl * i0 * dra / (2 * (b + meff))
        bb = -SIGMA_SPIN_HALL[1] * i0 * drp * hfl / b
        c = np.cos(phi)
        cols += [np.rad2deg(phi), np.full(phi.size, b_mT), i0 * (r0 + drp * np.sin(2 * phi)),
                 a * c + bb * (2 * c ** 3 - c), np.zeros(phi.size)]
        names += ["Angle", "Field", "V1w", "V2w", "Phase"]
    units = ["deg", "mT", "V", "V", "deg"] * len(fields_mT)
    desc = ["stage", "set", "lock-in X 1f", "lock-in X 2f", "lock-in phase"] * len(fields_mT)
    rows = [",".join(names), ",".join(units), ",".join(desc)]
    rows += [",".join(f"{v:.12g}" for v in r) for r in np.array(cols).T]
    path.write_text("\n".join(rows) + "\n")


def test_column_groups_per_field_with_units_and_description_rows(tmp_path, capsys):
    """Four blocks of five columns, reshaped by groups=5, analysed as angle scans: the
    noiseless Avci model gives back H_DL and H_FL (1e-6: only the 12-digit cells round)."""
    f = tmp_path / "angle_scans.csv"
    _angle_groups(f, [50, 100, 200, 300])
    df = read_table(f, ["Field angle (deg)=Angle (deg)"], reshape="groups=5",
                    targets=["Field (T)", "Field angle (deg)", "V1w (V)", "V2w (V)"])
    assert len(df) == 4 * 36 and set(df["Block"]) == {1, 2, 3, 4}
    assert set(df["Field (T)"]) == {0.05, 0.1, 0.2, 0.3}
    assert df.attrs["descriptions"]["V2w (V)"] == "lock-in X 2f"
    assert main(["analyze", "harmonic-hall", str(f), "--json", "--reshape", "groups=5",
                 "--column", "Field angle (deg)=Angle (deg)",
                 "--constant", "Current amplitude (A)=2 mA", "--option", "dr_ahe_ohm=-2.8",
                 "--option", "mu0_meff_T=1.0", "--option", "mu0_hk_T=0"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["mu0_hdl_T"] == pytest.approx(2e-4, rel=1e-6)
    assert res["mu0_hfl_T"] == pytest.approx(-1e-4, rel=1e-6)


def test_multi_trial_columns(tmp_path):
    """A magnet calibration `current,trial1,trial2,trial3` in mT, one sweep direction:
    one long table (current, field, trial); empty cells of a short trial dropped."""
    current = np.linspace(0, 5, 11)
    f = tmp_path / "cal.csv"
    lines = ["current,trial1,trial2,trial3"]
    for k, i in enumerate(current):
        t3 = "" if k == 10 else f"{100 * i + 0.2:.3f}"
        lines.append(f"{i:.2f},{100 * i:.3f},{100 * i + 0.1:.3f},{t3}")
    f.write_text("\n".join(lines) + "\n")
    df = read_table(f, reshape="trials", names="Supply current (A),Field (mT)",
                    targets=["Supply current (A)", "Field (T)"])
    assert len(df) == 32 and list(df["Trial"].value_counts().sort_index()) == [11, 11, 10]
    trial2 = df[df["Trial"] == 2]
    assert trial2["Field (T)"].to_numpy() == pytest.approx(0.1 * current + 1e-4)
    slope = np.polyfit(df["Supply current (A)"], df["Field (T)"], 1)[0]
    assert slope == pytest.approx(0.1, rel=1e-3)
    plain = read_table(f, reshape="trials")
    assert list(plain.columns) == ["current", "trial", "Trial"]
    assert not math.isnan(plain["trial"].sum())
