"""stno-spectrum end to end on the simulated bench (spin_torque_oscillator: in-plane free
layer, perpendicular polarizer): the tunability closes the loop on physics.md check 6, the
threshold appears with an in-plane field, limits are refused before anything is touched, and
an abort leaves the source meter at zero current, ramped."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from labspin.cli.main import main
from labspin.procedures.stno_spectrum import StnoSpectrum, parse_values
from labspin.procedures.stno_spectrum_analysis import analyze_spectra, threshold
from labspin.run.runner import ABORTED, FINISHED, run_procedure
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.wirings import simulated_bench

SAMPLE = "spin_torque_oscillator"


def check6_tunability(overrides):
    """physics.md check 6 at H = 0: f = γ0·H_DL/(2πα), so df/dI = (γ/2π)·μ0H_DL per A / α,
    from `labspin sim show --json` keys."""
    d = load_sample(SAMPLE, overrides).describe()
    return d["gamma_Hz_per_T"] * d["mu0_hdl_per_A_T"] / d["alpha"]


def test_cli_run_then_analyze_recovers_the_check6_tunability(tmp_path, capsys):
    """Closed loop at H = 0 with α set to 0.015 (truth 1.82e13 Hz/A).

    Tolerance: the f_peak of each trace scatters by the thermal line (HWHM ≈ 0.45 GHz,
    independent of α: δf = γ·μ0M_eff·δm_z with δm_z² = k_BT/(μ0Ms²V)) over the record,
    ≈ 3–5 MHz per trace from the fit; the fit's slope error (residual-scaled) is ≈ 0.2 %.
    The LLG step (Δt = 0.2/(γ0 h)) biases m_z, hence f, low by ≈ 0.2 % (sim_spectrum
    docstring). So |recovered − truth| < 3σ + 0.5 %. Measured: seed 2, α = 0.015: see the
    report (−0.1 … −0.3 % over seeds 1–4, all within 2σ + 0.2 %).
    """
    overrides = ["alpha=0.015"]
    rc = main(["run", "stno-spectrum", "--sim", "--set", *overrides, "--seed", "2",
               "--out", str(tmp_path), "--param", "currents=1e-4:4e-4:4",
               "--param", "sweep_points=1001"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    df = pd.read_csv(path, comment="#")
    assert len(df) == 4 * 1001                                  # long format: a row a point
    assert set(StnoSpectrum.DATA_COLUMNS) == set(df.columns)
    header = open(path).read()
    assert "#\tSample: spin_torque_oscillator" in header and "#Status: FINISHED" in header
    assert main(["analyze", "stno-spectrum", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    truth = check6_tunability(overrides)
    assert truth == pytest.approx(1.8219e13, rel=1e-3)
    err = res["df_dI_Hz_per_A_err"]
    assert 0 < err < 0.01 * truth
    assert abs(res["df_dI_Hz_per_A"] - truth) < 3 * err + 0.005 * truth
    # f_peak of each trace on check 6 within the same tolerance, and the line is broad
    f6 = truth * np.array(res["current_A"])
    assert np.allclose(res["f_peak_Hz"], f6, rtol=0.01)
    assert all(2e8 < w < 8e8 for w in res["linewidth_Hz"])      # HWHM of the thermal line
    # the integrated rf power grows with current (∝ I²(1 − m_z²) here)
    assert np.all(np.diff(res["power_W"]) > 0)
    assert res["ic_A"] <= 1e-4 and res["oscillating"] == [1, 1, 1, 1]


def test_threshold_with_an_in_plane_field_and_zero_at_h0(tmp_path):
    """At 5 mT in plane the oscillator needs ~0.3 mA (direct LLG runs: thermal FMR mode at
    ~2.8 GHz below, the check-6 line above; no closed form in physics.md for this geometry,
    so the test asserts a bracket); at H = 0 it runs at every current (threshold 0)."""
    bench = simulated_bench("spectrum", SAMPLE, seed=1)
    p = StnoSpectrum()
    p.fields, p.currents, p.sweep_points = "0, 0.005", "0.15e-3:0.55e-3:5", 1001
    result = run_procedure(p, bench, tmp_path)
    assert result.status == FINISHED
    res = analyze_spectra(result.data())
    h0, h5 = res["per_field"]
    assert abs(h0["mu0_h_T"]) < 1e-3 and h5["mu0_h_T"] == pytest.approx(0.005, abs=1e-3)
    assert h0["ic_A"] <= 0.15e-3                     # oscillating everywhere at H = 0
    assert 0.15e-3 < h5["ic_A"] < 0.45e-3 and h5["ic_A_err"] == pytest.approx(
        0.1e-3 / math.sqrt(12))
    # above threshold the 5 mT line sits on check 6 too (H ≪ M_eff), below it does not
    truth = check6_tunability([])
    table = pd.DataFrame({k: res[k] for k in ("field_T", "current_A", "f_peak_Hz",
                                              "oscillating")})
    above = table[(table.field_T > 0.003) & (table.oscillating == 1)]
    assert len(above) >= 2
    assert np.allclose(above.f_peak_Hz, truth * above.current_A, rtol=0.02)
    assert h5["df_dI_Hz_per_A"] == pytest.approx(truth, rel=0.05)
    # the headline keys belong to the smallest field
    assert res["ic_A"] == h0["ic_A"] and res["mu0_h_T"] == h0["mu0_h_T"]


def test_threshold_method():
    i = np.array([1, 2, 3, 4, 5]) * 1e-4
    p = np.array([1e-3, 1.2e-3, 0.3, 0.3, 0.3]) * i ** 2    # normalized power steps ×250
    ic, err, osc = threshold(i, p)
    assert 2e-4 < ic < 3e-4 and err == pytest.approx(1e-4 / math.sqrt(12))
    assert osc.tolist() == [False, False, True, True, True]
    ic, err, osc = threshold(i, 0.3 * i ** 2)               # no step: at or below I_min
    assert ic == pytest.approx(0.5e-4) and osc.all()


def test_parse_values():
    assert parse_values("1e-4:3e-4:3", "Currents", "A") == pytest.approx([1e-4, 2e-4, 3e-4])
    assert parse_values("0, 0.005", "Fields", "T") == pytest.approx([0, 0.005])
    with pytest.raises(ValueError, match="parameter 'Currents'"):
        parse_values("1e-4:3e-4", "Currents", "A")


def test_limits_are_refused_before_anything_is_touched(capsys):
    assert main(["run", "stno-spectrum", "--sim", "--param", "currents=1e-3, 0.05"]) == 2
    err = capsys.readouterr().err
    # the sample's [limits] bound the current density at 1e12 A/m² through the 120 nm × 60 nm
    # ellipse: 5.655 mA, tighter than the procedure's own 20 mA
    i_max = 1e12 * math.pi / 4 * 120e-9 * 60e-9
    assert f"parameter 'Currents' = 0.05 A is outside the allowed range [0, {i_max:.6g}] A" in err
    assert main(["run", "stno-spectrum", "--sim", "--param", "fields=0.6"]) == 2
    assert "parameter 'Fields'" in capsys.readouterr().err
    assert main(["run", "stno-spectrum", "--sim", "--param", "currents=abc"]) == 2
    assert "parameter 'Currents'" in capsys.readouterr().err
    assert main(["run", "stno-spectrum", "--sim", "--param", "start_frequency=30e9",
                 "--param", "stop_frequency=20e9"]) == 2
    assert "'Start frequency'" in capsys.readouterr().err
    bench = simulated_bench("spectrum", SAMPLE, seed=1)
    p = StnoSpectrum()
    p.currents = "0.1"
    with pytest.raises(ValueError):
        run_procedure(p, bench, ".")
    for twin in bench.virtual.instruments.values():
        assert list(twin.log) == []                 # no command reached any instrument


def test_abort_leaves_the_current_at_zero_ramped(tmp_path, run_aborted):
    bench = simulated_bench("spectrum", SAMPLE, seed=1)
    p = StnoSpectrum()
    p.currents, p.sweep_points = "0.2e-3:1e-3:5", 201
    result = run_aborted(p, bench, tmp_path, at_percent=40)
    assert result.status == ABORTED
    vb = bench.virtual
    assert vb.drives.dc_total() == 0.0
    assert vb.magnet.setpoint_A == 0.0
    smu_log = [v for _, n, v in vb.instruments["smu"].output_log if n == "source_current"]
    steps = np.abs(np.diff([0.0, *smu_log]))
    assert steps.max() <= 1e-4 + 1e-12                          # ramped, never jumped
    df = pd.read_csv(result.path, comment="#")
    assert len(df) in (2 * 201, 3 * 201) and "#Status: ABORTED" in result.path.read_text()
