"""pulse-switching end to end on the simulated pulsed bench (mtj_pillar, field along z):
closed-loop recovery of the spin-transfer efficiency's effect on the critical pulse current,
the I–H phase-diagram boundary, polarity changes only with the output off, limits refused
before anything is touched, and an abort leaving the sources safe."""
import json
import math

import pandas as pd
import pytest

from labspin.cli.main import main
from labspin.procedures.pulse_switching import PulseSwitching, lobe_amplitudes, parse_fields
from labspin.procedures.pulse_switching_analysis import analyze_pulse_switching
from labspin.run.runner import ABORTED, FINISHED, run_procedure
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import PULSE_SERIES_OHM, simulated_bench


def _bench(overrides=(), seed=1):
    return simulated_bench("pulsed", "mtj_pillar", list(overrides), seed=seed,
                           magnet=VirtualMagnet(axis="z"))


def _procedure(scale=1.0, cycles=2, fields="0"):
    p = PulseSwitching()
    p.min_amplitude, p.max_amplitude = 0.05 * scale, 0.45 * scale
    p.amplitude_step, p.cycles, p.sweep_down, p.fields = 0.02 * scale, cycles, False, fields
    return p


def test_grids_and_field_list():
    mags, br = lobe_amplitudes(0.1, 0.3, 0.1)
    assert list(mags) == pytest.approx([0.1, 0.2, 0.3, 0.2, 0.1])
    assert list(br) == [1, 1, 1, -1, -1]
    assert parse_fields("-0.02, 0,0.02") == [-0.02, 0.0, 0.02]
    with pytest.raises(ValueError, match="Fields"):
        parse_fields("a, b")


def _ic(res):
    return 0.5 * (res["ic_pos_A"] - res["ic_neg_A"])


def test_critical_pulse_current_scales_inversely_with_eta(tmp_path):
    """Closed loop: the spin torque is H_DL = ħηI/(2eμ0Ms t_F A) and nothing else in the
    pillar's dynamics depends on η or I (no field-like torque or Oersted field in
    mtj_pillar; R(m) is independent of η), so in every regime — precessional 2 ns pulses
    here, where the critical current is NOT ∝ α — the critical pulse current scales as 1/η
    exactly. The runs use common random numbers (same seed) and an amplitude grid scaled by
    η1/η2, so the two runs see the same torques and noise: the ratio must be η1/η2 to float
    rounding (tolerance 2 %: a rounding-level difference can flip at most a marginal event,
    which moves one event by one grid step, ~1 % of the mean here). With independent seeds
    the switching at 2 ns is so stochastic (P_switch ≈ 1/3 at 150 µA, ~2–3 events per
    polarity in 3 cycles) that the ratio spread 1.55–2.62 over 8 seed pairs: a statistical
    version needs ~10× more cycles (minutes of simulation)."""
    # half the efficiency needs pulses of up to 0.9 V (an EMF of 1.8 V): beyond the 1 V the
    # junction's [limits] allow its barrier, and 1.16 mA into a short behind the 1.55 kΩ,
    # beyond its 0.63 mA (5e11 A/m²): both lifted here for the scaling law (the same on
    # both benches: limits change no physics, the random numbers stay common)
    lifted = ["limits.max_voltage_V=2", "limits.max_current_density_A_per_m2=1e12"]
    r1 = run_procedure(_procedure(1.0), _bench(["stt.eta=0.6", *lifted], seed=7), tmp_path)
    r2 = run_procedure(_procedure(2.0), _bench(["stt.eta=0.3", *lifted], seed=7), tmp_path)
    assert r1.status == FINISHED and r2.status == FINISHED
    res1, res2 = analyze_pulse_switching(r1.data()), analyze_pulse_switching(r2.data())
    assert _ic(res2) / _ic(res1) == pytest.approx(2.0, rel=0.02)
    assert res2["vc_pos_V"] / res1["vc_pos_V"] == pytest.approx(2.0, rel=0.02)
    # polarity: positive pulses switch AP → P, negative P → AP; the estimated currents
    # follow I = 2V/(50 Ω + R_s + R) with R the state before the pulse, R_s the wiring's
    # protection resistor
    assert res1["vc_pos_V"] > 0 > res1["vc_neg_V"] and res1["ic_pos_A"] > 0 > res1["ic_neg_A"]
    r_out = 50.0 + PULSE_SERIES_OHM
    assert res1["ic_pos_A"] / res1["vc_pos_V"] == pytest.approx(2 / (r_out + 4400), rel=0.1)
    assert res1["ic_neg_A"] / res1["vc_neg_V"] == pytest.approx(2 / (r_out + 2000), rel=0.1)
    # short pulses need several times the Slonczewski I_c0 = α μ0H_K,eff / (μ0H_DL per A)
    ic0 = 0.01 * 0.23995 / 126.579
    assert 3 * ic0 < _ic(res1) < 20 * ic0
    assert res1["r_p_ohm"] == pytest.approx(2000.0, abs=0.1)
    assert res1["tmr_ratio"] == pytest.approx(1.2, abs=1e-4)


def test_polarity_changes_only_with_the_output_off(tmp_path):
    bench = _bench(seed=3)
    p = _procedure(cycles=1)
    p.max_amplitude = 0.11
    assert run_procedure(p, bench, tmp_path).status == FINISHED
    twin = bench.virtual.instruments["pulser"]
    on, flips = False, 0
    for _, text in twin.log:
        text = text.strip().upper()
        if text.startswith("OUTP1 "):
            on = text.endswith(("1", "ON"))
        if ":POL " in text and text.split()[-1] in ("INV", "INVERTED"):
            flips += 1
            assert not on, f"polarity changed with the output on: {text}"
    assert flips >= 1                                     # a negative lobe was taken
    assert {math.copysign(1, a) for _, a, _, _ in twin.pulses} == {1.0, -1.0}


def test_phase_diagram_boundary_follows_the_field(tmp_path, capsys):
    """The I–H boundary: a field along +z favours P, so at +0.06 T (h = +0.25 of
    μ0H_K,eff = 0.24 T) P → AP (negative pulses) needs a larger and AP → P (positive pulses)
    a smaller amplitude than at −0.06 T. Behind the wiring's 1.5 kΩ, over seeds 6–8:
    |vc_neg| 0.33–0.37 V (186–208 µA) at +0.06 T against 0.17–0.21 V (96–118 µA) at
    −0.06 T, vc_pos 0.11–0.21 V (37–71 µA) against 0.39–0.47 V (131–158 µA) — a shift many
    times the 2-ns switching spread, so the ordering is a safe assertion. −0.06 T comes
    first: its negative lobes end in AP, so the first +0.06 T loop starts in AP (at +0.06 T
    a negative lobe's marginal pulses, the field against the written state, leave P or AP
    at random, and a positive lobe that starts in P has no AP → P event: with +0.06 T first
    seeds 7–9 had none in 3 cycles)."""
    # pulses up to 0.65 V: an EMF of 1.3 V, beyond the barrier's 1 V, and 0.84 mA into a
    # short behind 1.55 kΩ, beyond the junction's 0.63 mA: both lifted for the phase diagram
    rc = main(["run", "pulse-switching", "--sim", "--seed", "6", "--out", str(tmp_path),
               "--param", "fields=-0.06, 0.06", "--param", "cycles=2",
               "--param", "sweep_down=false", "--param", "amplitude_step=0.04",
               "--param", "max_amplitude=0.65", "--set", "limits.max_voltage_V=1.5",
               "--set", "limits.max_current_density_A_per_m2=1e12"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    df = pd.read_csv(path, comment="#")
    assert sorted(df["Field set (T)"].unique()) == [-0.06, 0.06]
    assert main(["analyze", "pulse-switching", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    table = {row["mu0_h_T"]: row for row in res["phase_boundary"]}
    assert table[0.06]["vc_neg_V"] < table[-0.06]["vc_neg_V"] < 0
    assert table[-0.06]["vc_pos_V"] > table[0.06]["vc_pos_V"] > 0
    assert all(row["n_pos"] >= 1 and row["n_neg"] >= 1 for row in table.values())
    assert all(math.isfinite(res[k]) for k in ("r_p_ohm", "r_ap_ohm", "tmr_ratio"))


def test_limits_are_refused_before_anything_is_touched(capsys):
    assert main(["run", "pulse-switching", "--sim", "--param", "max_amplitude=6"]) == 2
    assert "parameter 'Max amplitude' = 6.0 V is outside" in capsys.readouterr().err
    assert main(["run", "pulse-switching", "--sim", "--param", "min_amplitude=0.01"]) == 2
    assert "[0.05, 5] V" in capsys.readouterr().err          # the 81160A's smallest pulse
    assert main(["run", "pulse-switching", "--sim", "--param", "fields=0, 0.5"]) == 2
    assert "parameter 'Fields'" in capsys.readouterr().err
    # the pulse limit is the worst case's: an EMF 2V into a shorted junction behind the 50 Ω
    # output and the wiring's 1.5 kΩ within the junction's 0.628 mA (5e11 A/m²), tighter
    # here than its barrier's 1 V across an open one (no typed sample resistance widens it)
    assert main(["run", "pulse-switching", "--sim", "--param", "max_amplitude=0.49"]) == 2
    err = capsys.readouterr().err
    assert ("'Max amplitude' = 0.49 V is outside the allowed range [-0.486947, 0.486947] V (a "
            "level V into 50 Ω is an EMF 2V ≤ 0.973894 V, pulse_generator pulser: "
            "max_sample_current_A = 0.000628319 A into a shorted sample behind 50 Ω output + "
            "1500 Ω series (instruments.pulser.series_resistance_ohm))") in err
    assert "the sample's [limits] max_current_density_A_per_m2 = 5e+11 A/m²" in err
    bench = _bench(["limits.max_voltage_V=20"])     # the barrier lifted: the short binds
    p = _procedure()
    p.max_amplitude = 0.49
    with pytest.raises(ValueError, match=r"'Max amplitude' = 0.49 V is outside the allowed "
                                         r"range \[-0.486947, 0.486947\] V .*1500 Ω series"):
        run_procedure(p, bench, ".")
    for twin in bench.virtual.instruments.values():
        assert list(twin.log) == []                       # no command reached any instrument


def test_abort_leaves_the_sources_safe(tmp_path, run_aborted):
    bench = _bench()
    result = run_aborted(_procedure(cycles=1), bench, tmp_path, at_percent=20)
    assert result.status == ABORTED
    vb = bench.virtual
    assert vb.drives.dc_total() == 0.0                    # no read current, no baseline
    outputs = [v for _, n, v in vb.instruments["pulser"].output_log if n == "output[1]"]
    assert outputs[-1] is False                           # pulse generator output off
    smu = [v for _, n, v in vb.instruments["smu"].output_log if n == "source_current"]
    assert smu[-1] == 0.0
    assert "#Status: ABORTED" in result.path.read_text()
