"""Loops from files of other programs (issue 14 item 4): the branches of R–H, R–I and
pulse-switching loops found from the sweep direction when a file has no Branch column, read
from the command line with only --column/--unit. No such file is shared in ../shared/realdata,
so the tests write files in those shapes: a pymeasure file of an MTJ R–H loop in Oe, an R–I
loop, a voltage-pulse switching loop with R read after each pulse."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from labspin.cli.main import main
from labspin.procedures.field_sweep import loop_fields
from labspin.procedures.field_sweep_analysis import analyze_loop
from labspin.results.sweep_direction import point_noise, segments, sweep_branches

HALL = Path(__file__).parents[1].parent / "shared" / "realdata" / "cmtj_TaCoFeB_5360" / \
    "harmonic_hall" / "5360_1f_hx_hy.csv"


def _triangle(start, turns, step):
    """Set points from start through each turning point, in steps of ``step``."""
    out = [np.array([start], float)]
    for a, b in zip([start, *turns[:-1]], turns):
        n = int(round(abs(b - a) / step))
        out.append(np.linspace(a, b, n + 1)[1:])
    return np.concatenate(out)


def test_branches_of_exact_repeated_and_noisy_sweeps():
    x = _triangle(0.0, [1.0, -1.0, 1.0], 0.05)
    truth = np.r_[np.ones(21), -np.ones(40), np.ones(40)]
    assert np.array_equal(sweep_branches(x), truth)
    # three readings per set point: repeats stay on their branch (the turning point's
    # repeats end the old branch)
    assert np.array_equal(sweep_branches(np.repeat(x, 3)), np.repeat(truth, 3))
    # a measured field whose noise (σ = 0.6 of a step) often reverses the sign of a single
    # difference: still three branches, each reversal within two points of the true one
    rng = np.random.default_rng(11)
    noisy = x + rng.normal(0, 0.03, x.size)
    assert np.mean(np.sign(np.diff(noisy)) != np.sign(np.diff(x))) > 0.05
    assert point_noise(noisy) == pytest.approx(0.03, rel=0.3)
    b = sweep_branches(noisy)
    seg = segments(b)
    assert seg.max() == 2 and b[0] == 1 and b[-1] == 1
    turns = np.flatnonzero(np.diff(seg)) + 1
    assert np.all(np.abs(turns - [21, 61]) <= 2)
    with pytest.raises(ValueError, match="no sweep direction"):
        sweep_branches(np.full(10, 0.3))


def test_labspin_loop_without_its_branch_column_gives_the_same_numbers():
    fields, branch = loop_fields(0.05, 0.002)
    state, r = 1.0, []
    for b in fields:
        state = 1.0 if b > 0.012 else (-1.0 if b < -0.016 else state)
        r.append(100.0 + 2.5 * state)
    df = pd.DataFrame({"Field set (T)": fields, "Field (T)": fields, "Branch": branch,
                       "Resistance (ohm)": r})
    own = analyze_loop(df)
    assert analyze_loop(df.drop(columns="Branch")) == own
    assert own["mu0_hsw_down_T"] == pytest.approx(-0.017) and own["mu0_hsw_up_T"] == \
        pytest.approx(0.013)


def _pymeasure_file(path, procedure: str, parameters: dict, table: pd.DataFrame) -> Path:
    """Write ``table`` as pymeasure's Results does: '#Procedure: <module.Class>',
    '#Parameters:', one '#\tName: value unit' line each, '#Data:', then the comma-separated
    DATA_COLUMNS line and the rows (pymeasure.experiment.results.Results.header/labels)."""
    head = [f"#Procedure: <{procedure}>", "#Parameters:"]
    head += [f"#\t{name}: {value}" for name, value in parameters.items()]
    head.append("#Data:")
    path.write_text("\n".join(head) + "\n" + table.to_csv(index=False), encoding="utf-8")
    return path


def _mtj_rh_file(path, start_Oe, rng):
    """Another lab's pymeasure file: R–H loop of an MTJ in Oe, free layer switching at
    −170 Oe (down) and +130 Oe (up): H_c = 150 Oe, loop shift −20 Oe; R_P = 1 kΩ, R_AP =
    1.8 kΩ; the field as read (σ = 0.5 Oe on 5 Oe steps), two readings per set point."""
    h_set = np.repeat(_triangle(start_Oe, [-start_Oe, start_Oe], 5.0), 2)
    h = h_set + rng.normal(0, 0.5, h_set.size)
    state = 1.0 if start_Oe > 0 else -1.0           # +1: parallel (low R)
    r = []
    for f in h:
        state = -1.0 if f < -170.0 else (1.0 if f > 130.0 else state)
        r.append((1000.0 if state > 0 else 1800.0) + rng.normal(0, 0.5))
    r = np.array(r)
    i = np.full(h.size, 10e-6)
    header = ("#Procedure: <OtherLab.procedures.MTJLoop>\n#Parameters:\n"
              "#\tBias current: 1e-05 A\n#\tField step: 5 Oe\n#Data:\n")
    table = pd.DataFrame({"Voltage (V)": i * r, "Current (A)": i, "Resistance (ohm)": r,
                          "Field (Oe)": h, "Time (s)": np.arange(h.size) * 0.2})
    path.write_text(header + table.to_csv(index=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("start_Oe", [500.0, -500.0])
def test_other_programs_mtj_rh_loop_from_the_command_line(tmp_path, capsys, start_Oe):
    """Starting at +500 Oe the up branch follows the down branch, at −500 Oe it comes
    first. Each switching field is the midpoint of the step's two neighbours: within one
    field step (5 Oe = 0.5 mT) of the truth; the levels' errors are 0.5 Ω/√n."""
    path = _mtj_rh_file(tmp_path / "mtj_loop.csv", start_Oe, np.random.default_rng(5))
    assert main(["analyze", "field-sweep", str(path), "--json",
                 "--column", "Field (T)=Field (Oe)", "--unit", "Field (T)=Oe"]) == 0
    out = json.loads(capsys.readouterr().out)
    step = 5e-4
    assert out["mu0_hsw_down_T"] == pytest.approx(-0.017, abs=step)
    assert out["mu0_hsw_up_T"] == pytest.approx(0.013, abs=step)
    assert out["mu0_hc_T"] == pytest.approx(0.015, abs=step)
    assert out["mu0_hshift_T"] == pytest.approx(-0.002, abs=step)
    assert out["r_low_ohm"] == pytest.approx(1000.0, abs=5 * out["r_low_ohm_err"])
    assert out["r_high_ohm"] == pytest.approx(1800.0, abs=5 * out["r_high_ohm_err"])
    assert out["mr_ratio"] == pytest.approx(0.8, abs=5 * out["mr_ratio_err"])


def test_other_programs_r_i_loop_from_the_command_line(tmp_path, capsys):
    """R–I loop 0 → +1 mA → −1 mA → 0, twice, in 20 µA steps; AP → P above +0.411 mA,
    P → AP below −0.523 mA. Every event lands on the same grid points, so the critical current
    is the grid midpoint, within half a step (10 µA) of the threshold."""
    one = _triangle(0.0, [1e-3, -1e-3, 0.0], 2e-5)
    i = np.concatenate([one, one[1:]])
    state, r = -1.0, []
    for x in i:
        state = 1.0 if x > 0.411e-3 else (-1.0 if x < -0.523e-3 else state)
        r.append(500.0 if state > 0 else 650.0)
    path = tmp_path / "ri_loop.csv"
    pd.DataFrame({"Current (A)": i, "Voltage (V)": i * np.array(r),
                  "Resistance (ohm)": r}).to_csv(path, index=False)
    assert main(["analyze", "current-sweep", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ic_pos_A"] == pytest.approx(0.41e-3) and out["ic_neg_A"] == \
        pytest.approx(-0.53e-3)                          # the midpoints of the grid steps
    assert abs(out["ic_pos_A"] - 0.411e-3) <= 1e-5 and abs(out["ic_neg_A"] + 0.523e-3) <= 1e-5
    assert out["r_p_ohm"] == pytest.approx(500.0) and out["r_ap_ohm"] == pytest.approx(650.0)
    assert out["tmr_ratio"] == pytest.approx(0.3)


def test_voltage_pulse_switching_loop_from_the_command_line(tmp_path, capsys):
    """Pulses 0 → +1 V → −1 V → 0 in 50 mV steps, twice, R read after each pulse; AP → P
    above +0.62 V, P → AP below −0.48 V, and no switch on the way back down (the falling
    half of each lobe). The critical amplitude is the midpoint of the switching pulse and
    the one before: within half a step (25 mV). No field and no current column: the
    analysis says so and reports neither. The file is pymeasure's exact layout (another
    program's procedure: its parameters are the file's constants, not labspin's)."""
    one = _triangle(0.0, [1.0, -1.0, 0.0], 0.05)
    v = np.concatenate([one, one[1:]])
    state, r = -1.0, []
    for a in v:
        state = 1.0 if a > 0.62 else (-1.0 if a < -0.48 else state)
        r.append(2000.0 if state > 0 else 3200.0)
    path = tmp_path / "pulse_loop.csv"
    params = {"Pulse width": "1e-06 s", "Read voltage": "0.05 V", "Voltage step": "0.05 V"}
    _pymeasure_file(path, "OtherLab.procedures.VoltagePulseLoop", params,
                    pd.DataFrame({"Applied Voltage (V)": v, "Resistance (ohm)": r}))
    assert path.read_text().startswith("#Procedure: <OtherLab.procedures.VoltagePulseLoop>\n"
                                       "#Parameters:\n#\tPulse width: 1e-06 s\n")
    assert main(["analyze", "pulse-switching", str(path), "--json",
                 "--column", "Pulse amplitude (V)=Applied Voltage (V)"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["vc_pos_V"] == pytest.approx(0.625) and out["vc_neg_V"] == pytest.approx(-0.475)
    assert abs(out["vc_pos_V"] - 0.62) <= 0.025 and abs(out["vc_neg_V"] + 0.48) <= 0.025
    assert out["vc_pos_V_err"] == pytest.approx(0.05 / np.sqrt(12))
    assert out["ic_pos_A"] is None and "mu0_h_T" not in out
    assert any("Pulse current" in w for w in out["warnings"])
    assert out["tmr_ratio"] == pytest.approx(0.6)
    assert main(["analyze", "pulse-switching", str(path)]) == 2
    assert "--column \"Pulse amplitude (V)=NAME\"" in capsys.readouterr().err
    # with the field as read (50 Oe, σ = 0.3 Oe): one loop at its median, the same critical
    # amplitudes (readings that scatter must not split the lobes)
    field = 50.0 + np.random.default_rng(4).normal(0, 0.3, v.size)
    _pymeasure_file(path, "OtherLab.procedures.VoltagePulseLoop", params, pd.DataFrame(
        {"Applied Voltage (V)": v, "Resistance (ohm)": r, "Field (Oe)": field}))
    assert main(["analyze", "pulse-switching", str(path), "--json",
                 "--column", "Pulse amplitude (V)=Applied Voltage (V)",
                 "--column", "Field (T)=Field (Oe)", "--unit", "Field (T)=Oe"]) == 0
    at_field = json.loads(capsys.readouterr().out)
    assert at_field["mu0_h_T"] == pytest.approx(np.median(field) * 1e-4)
    assert at_field["vc_pos_V"] == out["vc_pos_V"] and at_field["vc_neg_V"] == out["vc_neg_V"]


@pytest.mark.skipif(not HALL.is_file(), reason="../shared/realdata not present")
def test_real_hall_loops_in_plane_field_switch_mz_alike_along_x_and_y(capsys):
    """Ta/CoFeB (cmtj, 5360): 1ω Hall voltage in full loops −5 → +5 → −5 kOe (Hx) and
    ±8.5 kOe (Hy), no branch column, the Hx pair shorter than the Hy pair (empty cells).
    m_z reverses where the voltage jumps: on the up sweep of Hx between +647 and +814 Oe,
    on the down sweep between −633 and −798 Oe (the readings either side of the jump, read
    off the file). Along x and along y the coercive field is the same within the errors (a
    perpendicular film without in-plane anisotropy)."""
    data = pd.read_csv(HALL)
    assert sweep_branches(data["Hx"]).tolist().count(1) == 121      # −5 → +5 kOe, then down
    out = {}
    for axis in ("Hx", "Hy"):
        assert main(["analyze", "field-sweep", str(HALL), "--json",
                     "--column", f"Field (T)={axis}", "--unit", "Field (T)=Oe",
                     "--column", f"Resistance (ohm)={axis}_1f_voltage"]) == 0
        out[axis] = json.loads(capsys.readouterr().out)
    assert 0.0647 < out["Hx"]["mu0_hsw_up_T"] < 0.0814
    assert -0.0798 < out["Hx"]["mu0_hsw_down_T"] < -0.0633
    hx, hy = out["Hx"], out["Hy"]
    assert abs(hx["mu0_hc_T"] - hy["mu0_hc_T"]) < 2 * np.hypot(hx["mu0_hc_T_err"],
                                                              hy["mu0_hc_T_err"])
    assert abs(hx["mu0_hshift_T"]) < 4 * hx["mu0_hshift_T_err"]
