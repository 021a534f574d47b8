"""field-sweep end to end on the simulated bench, and the run machinery's safety contract:
limits refused before anything is touched, faults and aborts ending with every source safe
and the file intact."""
import json

import numpy as np
import pandas as pd
import pytest
from pymeasure.experiment import Results

from labspin.cli.main import main
from labspin.procedures import analysis_function
from labspin.procedures.field_sweep import FieldSweep
from labspin.run.runner import ABORTED, FAILED, FINISHED, run_procedure
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import simulated_bench

SMALL = ["--param", "max_field=0.12", "--param", "field_step=0.004"]


def test_cli_run_then_analyze_recovers_the_ahe_amplitude(tmp_path, capsys):
    """Closed loop: dr_ahe_ohm set with --set comes back within the noise. The Hall voltage
    noise at 1 mA (2182A floor + Johnson noise of R_xx over 20 ms) is ~10 nV, i.e. 1e-5 Ω."""
    rc = main(["run", "field-sweep", "--sim", "--set", "dr_ahe_ohm=-1.7", "--seed", "3",
               "--out", str(tmp_path), *SMALL])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    assert "status: FINISHED" in out.err and "points" in out.err
    df = pd.read_csv(path, comment="#")
    assert len(df) == 151            # 31 + 60 + 60: 0 → +max → −max → +max
    results = Results.load(path)
    assert len(results.data) == 151
    header = open(path).read()
    assert "#\tSample: perpendicular_sot_hallbar" in header and "#\tSeed: 3" in header
    assert "#Status: FINISHED" in header and "KEITHLEY" in header
    assert main(["analyze", "field-sweep", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["dr_ahe_ohm"] == pytest.approx(-1.7, abs=1e-3)
    assert 0.02 < res["mu0_hc_T"] < 0.21            # thermally activated, below μ0H_K
    assert abs(res["mu0_hshift_T"]) < 3 * res["mu0_hc_T_err"] + 0.004


def test_limits_are_refused_before_anything_is_touched(capsys):
    assert main(["run", "field-sweep", "--sim", "--param", "max_field=0.6"]) == 2
    err = capsys.readouterr().err
    # 0.444 T: what both branches reach within the current at which the first reaches the
    # bench's 0.45 T (remanence 3 mT)
    assert "parameter 'Max field' = 0.6 T is outside the allowed range [0, 0.444] T" in err
    assert main(["run", "field-sweep", "--sim", "--param", "current=0.05"]) == 2
    assert "parameter 'Current'" in capsys.readouterr().err
    assert main(["run", "field-sweep", "--sim", "--param", "nope=1"]) == 2
    assert "parameters of field-sweep are" in capsys.readouterr().err
    assert main(["run", "field-sweep", "--sim", "--param", "averages=0"]) == 2
    assert "allowed [1, 1000]" in capsys.readouterr().err


def _bench(seed=1):
    return simulated_bench("transport", "perpendicular_sot_hallbar", seed=seed)


def _procedure():
    p = FieldSweep()
    p.max_field, p.field_step = 0.1, 0.01
    return p


def test_refused_run_sends_no_command():
    bench = _bench()
    p = _procedure()
    p.max_field = 2.0
    with pytest.raises(ValueError):
        run_procedure(p, bench, ".")
    for twin in bench.virtual.instruments.values():
        assert list(twin.log) == []                 # no command reached any instrument


def _assert_safe(bench):
    vb = bench.virtual
    assert vb.drives.dc_total() == 0.0                          # no current in the sample
    assert vb.magnet.setpoint_A == 0.0                          # magnet supply ramped to 0
    smu_log = [v for _, n, v in vb.instruments["smu"].output_log if n == "source_current"]
    if smu_log:
        steps = np.abs(np.diff([0.0, *smu_log]))
        assert steps.max() <= 1e-4 + 1e-12                      # ramped, never jumped


def test_instrument_fault_mid_run_ends_failed_safe_and_intact(tmp_path):
    bench = _bench()
    bench.virtual.instruments["nanovoltmeter"].inject("timeout", on=None, count=None)
    result = run_procedure(_procedure(), bench, tmp_path)
    assert result.status == FAILED and "VI_ERROR_TMO" in result.message
    # the message names the instrument, its driver and resource, and the command
    assert result.message.startswith("InstrumentError: nanovoltmeter (keithley2182a at "
                                     "GPIB0::7::INSTR): command")
    _assert_safe(bench)
    text = result.path.read_text()
    assert "#Status: FAILED" in text
    assert len(pd.read_csv(result.path, comment="#")) == 0      # the one in flight is lost


def test_abort_ends_aborted_with_every_completed_point(tmp_path, run_aborted):
    bench = _bench()
    result = run_aborted(_procedure(), bench, tmp_path, at_percent=30)
    assert result.status == ABORTED
    _assert_safe(bench)
    df = pd.read_csv(result.path, comment="#")
    assert 0 < len(df) < 61 and "#Status: ABORTED" in result.path.read_text()


def test_analysis_of_a_finished_run(tmp_path):
    result = run_procedure(_procedure(), _bench(), tmp_path, sample_name="x")
    assert result.status == FINISHED
    res = analysis_function("field-sweep")(result.data())
    values = {k for k in res if not k.endswith("_err")}
    assert values <= {k[:-4] for k in res if k.endswith("_err")}


# --- field direction and the AMR/SMR amplitudes ------------------------------------------------
AMR_SMR = ["dr_amr_ohm=-0.4", "dr_smr_ohm=-0.9"]


def _direction_run(tmp_path, direction, angle, seed):
    """One small longitudinal loop (probe "source meter" = the smu's own probe, "xx" on the
    transport wiring) of the perpendicular sample with distinct AMR and SMR, to ±0.4 T in 0.2 T
    steps (11 points, 3 of them at |B| = 0.4 T)."""
    p = FieldSweep()
    p.max_field, p.field_step, p.probe = 0.4, 0.2, "source meter"
    p.field_direction, p.field_angle = direction, angle
    bench = simulated_bench("transport", "perpendicular_sot_hallbar", AMR_SMR, seed=seed,
                            magnet=VirtualMagnet(**p.sim_magnet()))
    result = run_procedure(p, bench, tmp_path / direction / str(angle))
    assert result.status == FINISHED, result.message
    return bench, result


def test_sim_magnet_follows_the_field_direction():
    p = FieldSweep()
    assert p.field_direction == "normal" and p.sim_magnet() == {"axis": "z"}   # default
    p.field_direction, p.field_angle = "in-plane", 30.0
    assert p.sim_magnet() == {"axis": "inplane", "angle_deg": 30.0}


def test_amr_and_smr_recovered_from_three_field_directions(tmp_path, capsys):
    """Closed loop: dr_amr_ohm = −0.4 Ω and dr_smr_ohm = −0.9 Ω set with --set come back.

    Saturation: the sample's μ0H_k,eff = −μ0M_eff = 0.21 T, so at |B| = 0.4 T in plane m lies
    along the field exactly (the hard-axis Stoner–Wohlfarth tilt vanishes above H_k,eff), and
    along z m = ±z: R(x) = r0 + dr_amr, R(y) = r0 + dr_smr, R(z) = r0. The current-induced
    fields at 1 mA (H_FL ≈ 0.27 mT, H_DL ≈ 0.20 mT) tilt m by ≲ 1e-3 rad: m² changes by
    ≲ 1e-6, i.e. < 1 µΩ. Noise per reading: the 2400's 2 ppm of its 1 V range at NPLC 1 = 2 µV,
    plus Johnson noise of 304 Ω over 30 Hz ≈ 12 nV: σ_R ≈ 2 mΩ at 1 mA; 3 saturated readings per
    direction → each difference has σ ≈ 2 mΩ·√(2/3) ≈ 1.7 mΩ. Tolerance 10 mΩ (≈ 6σ) absolute,
    and |error| < 5 reported standard errors."""
    files = []
    for k, (direction, angle) in enumerate([("normal", 0.0), ("in-plane", 0.0),
                                            ("in-plane", 90.0)]):
        bench, result = _direction_run(tmp_path, direction, angle, seed=10 + k)
        if direction == "in-plane":
            assert bench.virtual.magnet.axis == "inplane"
            assert bench.virtual.magnet.angle_deg == angle
        df = result.data()
        assert len(df) == 11
        assert (df["Field angle (deg)"] == angle).all()
        assert (df["Field polar angle (deg)"] == (90.0 if direction == "in-plane" else 0)).all()
        assert (df["Probe"] == "source meter").all()
        files.append(str(result.path))
    # a single file is one loop: the loop keys, as before
    single = analysis_function("field-sweep")(pd.read_csv(files[0], comment="#"))
    assert "mu0_hc_T" in single and "dr_amr_ohm" not in single
    # the three files together (as `labspin analyze field-sweep Z X Y` concatenates them)
    capsys.readouterr()
    assert main(["analyze", "field-sweep", *files, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key, truth in [("r0_ohm", 304.3), ("dr_amr_ohm", -0.4), ("dr_smr_ohm", -0.9)]:
        err = res[key] - truth
        with capsys.disabled():
            print(f"\n{key}: {res[key]:.5f} ± {res[key + '_err']:.1g} (truth {truth}, error "
              f"{err:+.2g})")
        assert abs(err) < 0.01
        assert abs(err) < 5 * res[key + "_err"] + 1e-4
    assert "mu0_hc_T" not in res                 # an R_xx loop along z has no loop keys
    # add a Hall loop along the normal (probe "voltmeter" = xy): its loop keys come too
    p = _procedure()
    p.max_field, p.field_step = 0.3, 0.01
    hall = run_procedure(p, simulated_bench("transport", "perpendicular_sot_hallbar",
                                            [*AMR_SMR, "dr_ahe_ohm=-1.7"], seed=20),
                         tmp_path / "hall")
    assert hall.status == FINISHED
    assert main(["analyze", "field-sweep", *files, str(hall.path), "--json"]) == 0
    both = json.loads(capsys.readouterr().out)
    assert both["dr_amr_ohm"] == res["dr_amr_ohm"]   # the Hall rows are not in the AMR/SMR fit
    assert both["dr_ahe_ohm"] == pytest.approx(-1.7, abs=1e-3)
    assert 0.02 < both["mu0_hc_T"] < 0.21


def test_cli_in_plane_run_turns_the_simulated_magnet(tmp_path, capsys):
    rc = main(["run", "field-sweep", "--sim", "--seed", "2", "--out", str(tmp_path),
               "--param", "field_direction=in-plane", "--param", "field_angle=90",
               "--param", "probe=source meter", "--param", "max_field=0.4",
               "--param", "field_step=0.2", "--set", "dr_smr_ohm=-0.9"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    df = pd.read_csv(out.out.strip().splitlines()[-1], comment="#")
    assert (df["Field angle (deg)"] == 90.0).all() and (df["Field polar angle (deg)"] == 90).all()
    sat = df["Resistance (ohm)"][df["Field set (T)"].abs() > 0.39]
    assert sat.mean() == pytest.approx(304.3 - 0.9 + 0.0, abs=0.01)   # m ∥ y: r0 + dr_smr


# --- the lock-in readout -------------------------------------------------------------------
LOCKIN = {"readout": "lock-in", "max_field": 0.12, "field_step": 0.006}


def _lockin_procedure(**params):
    p = FieldSweep()
    for k, v in {**LOCKIN, **params}.items():
        setattr(p, k, v)
    return p


class _Timed(FieldSweep):
    """FieldSweep that notes the bench-clock time of each lock-in reading."""

    def _read_lockin(self):
        v = super()._read_lockin()
        self.read_times.append(self.bench.clock.now())
        return v


def _switch_distribution(fields, t_reads, trace, activation, from_state):
    """Get the predicted distribution of one branch's switching field as the analysis
    measures it (the midpoint of the two readings around the switch): {midpoint: P}.

    Hazard from the simulated bench's own physics (virtual_bench._thermal_switch): over
    every clock interval the state leaves its well at Brown's exact rate at the field of
    the interval's end (the magnet relaxes with L/R); no barrier (|h| ≥ 1) switches at once.
    The branch starts saturated in ``from_state`` (+1: m_z > 0) at its first reading."""
    from labspin.physics.telegraph import mean_first_passage_time
    axis, hk, delta, tau_n = activation
    mu0_hk = 1.25663706212e-6 * hk
    t_all = np.array([t for t, _, _ in trace])
    hazard, cum = 0.0, []
    for (t_old, t_new, bz) in trace:
        if t_new <= t_reads[0]:
            cum.append(0.0)
            continue
        t_old = max(t_old, t_reads[0])
        h = bz * float(axis[2]) / mu0_hk
        h_own = h * from_state * float(np.sign(axis[2]))
        if h_own <= -1.0:
            hazard = np.inf
        elif t_new > t_old:
            hazard += (t_new - t_old) / mean_first_passage_time(
                delta, h_own, tau_n=tau_n, from_state=+1)
        cum.append(hazard)
    cum = np.array(cum)
    surv = np.exp(-np.interp(t_reads, t_all, cum))         # survival at each reading
    out: dict = {}
    for k in range(1, len(fields)):
        p = surv[k - 1] - surv[k]
        if p > 0:
            mid = 0.5 * (fields[k - 1] + fields[k])
            out[mid] = out.get(mid, 0.0) + p
    return out


def _central(dist: dict, value: float, tail: float = 0.0015) -> bool:
    """Whether ``value`` lies in the central 1 − 2·tail of the discrete distribution."""
    keys = np.array(sorted(dist))
    p = np.array([dist[k] for k in keys])
    p = p / p.sum()
    j = int(np.argmin(np.abs(keys - value)))
    return abs(keys[j] - value) < 1e-9 and p[: j + 1].sum() > tail and p[j:].sum() > tail


def test_lockin_readout_recovers_the_ahe_amplitude_and_coercive_field(tmp_path):
    """Closed loop with the lock-in readout (6221 sine of 1 mA amplitude, SR830 at 1ω on
    the Hall probe; wiring lockin_transport): dr_ahe_ohm = −1.7 Ω set on the perpendicular
    sample comes back, and each branch's switching field is where the sample's own thermal
    activation puts it.

    Noise of R per reading: √2·σ_X/I0, σ_X = √(4k_BT·R_xx + e_n²)·√ENBW with R_xx = 304 Ω,
    the SR830's e_n = 6 nV/√Hz and ENBW = 1/(8τ) = 1.25 Hz (τ = 0.1 s, 12 dB/oct): 7.2 nV,
    so σ_R ≈ 1.0e-5 Ω; the saturated levels average ≈ 16 readings each: σ(dr_ahe) ≈ 2e-6 Ω
    (the analysis' own error, checked). Tolerance: 5 reported errors + 1e-5 Ω for the ac
    current's nonlinear 1ω part (the current-induced tilt θ ≈ 1e-3 rad changes m_z by θ²/2
    ≈ 5e-7: ≲ 1e-6 Ω). The current is the 6221's own amplitude: no series-resistor error.

    Switching fields: the hazard of leaving the saturated well, from the bench's Brown rates
    integrated over the recorded field history, gives the distribution of the measured
    midpoint field per branch; each measured switching field lies in its central 99.7 %,
    and mu0_hc_T within 3σ of the predicted mean (σ from the two branches' spreads)."""
    p = _Timed()
    for k, v in LOCKIN.items():
        setattr(p, k, v)
    p.read_times = []
    assert p.sim_wiring() == "lockin_transport"
    bench = simulated_bench(p.sim_wiring(), "perpendicular_sot_hallbar", ["dr_ahe_ohm=-1.7"],
                            seed=3, magnet=VirtualMagnet(**p.sim_magnet()))
    trace = []
    bench.clock.on_advance(
        lambda t0, t1: trace.append((t0, t1, float(bench.virtual.field_T()[2]))))
    result = run_procedure(p, bench, tmp_path, sample_name="perpendicular_sot_hallbar")
    assert result.status == FINISHED, result.message
    df = result.data()
    assert len(df) == 101 and (df["Probe"] == "lock-in").all()
    assert (df["Current (A)"] == 1e-3).all()
    assert "MODEL 6221" in result.path.read_text() and "SR830" in result.path.read_text()
    res = analysis_function("field-sweep")(df)
    err = res["dr_ahe_ohm"] - (-1.7)
    assert 5e-7 < res["dr_ahe_ohm_err"] < 1e-5                 # the noise estimate above
    assert abs(err) < 5 * res["dr_ahe_ohm_err"] + 1e-5, (res["dr_ahe_ohm"], err)
    # the switching fields against the sample's thermal activation
    t_reads = np.array(p.read_times)
    field, branch = df["Field (T)"].to_numpy(), df["Branch"].to_numpy()
    start_down = int(np.argmax(branch < 0))
    stop_down = start_down + int(np.sum(branch[start_down:] < 0))
    act = bench.virtual._activation
    means, variances = [], []
    for sl, state, key in ((slice(start_down - 1, stop_down), +1, "mu0_hsw_down_T"),
                           (slice(stop_down - 1, None), -1, "mu0_hsw_up_T")):
        dist = _switch_distribution(field[sl], t_reads[sl], trace, act, state)
        assert _central(dist, res[key]), (key, res[key], dist)
        keys = np.array(list(dist))
        w = np.array(list(dist.values()))
        w = w / w.sum()
        means.append(float(keys @ w))
        variances.append(float(((keys - keys @ w) ** 2) @ w))
    hc_pred = 0.5 * (means[1] - means[0])
    hc_sigma = 0.5 * np.sqrt(sum(variances))
    assert abs(res["mu0_hc_T"] - hc_pred) < 3 * hc_sigma + 1e-9
    print(f"\nlock-in: dr_ahe_ohm {res['dr_ahe_ohm']:.7f} ± {res['dr_ahe_ohm_err']:.1g} (truth "
          f"-1.7, error {err:+.1g}); mu0_hc_T {res['mu0_hc_T']:.4f} (predicted {hc_pred:.4f} "
          f"± {hc_sigma:.4f})")


def test_lockin_readout_steps_an_overloaded_range_up(tmp_path):
    """Started at 10 µV full scale under V_ω ≈ 1.7 mV: each overloaded reading is taken again
    at the next range, so the loop's levels are real readings and dr_ahe_ohm = −1.7 Ω comes
    back as at the default range (read once, every reading was clipped at 1.1 full scale)."""
    p = _lockin_procedure(sensitivity=1e-5)
    bench = simulated_bench(p.sim_wiring(), "perpendicular_sot_hallbar", ["dr_ahe_ohm=-1.7"],
                            seed=3, magnet=VirtualMagnet(**p.sim_magnet()))
    result = run_procedure(p, bench, tmp_path, sample_name="perpendicular_sot_hallbar")
    assert result.status == FINISHED, result.message
    res = analysis_function("field-sweep")(result.data())
    assert abs(res["dr_ahe_ohm"] + 1.7) < 5 * res["dr_ahe_ohm_err"] + 1e-5, res["dr_ahe_ohm"]


def test_lockin_readout_through_its_sine_output(tmp_path):
    """A bench without a current source (the harmonic_hall wiring): the lock-in's sine output
    drives I0 = "Current" = 0.5 mA through 10 kΩ (1 mA would need 7.3 V rms, above the
    SR830's 5 V: refused before anything is touched); with "Sample resistance" = R_xx the
    computed I0 (from the sine amplitude the lock-in reports, its 1 mV steps included) is
    exact, so the saturated Hall levels give dr_ahe_ohm within the noise
    (σ_R ≈ 2e-5 Ω per reading at 0.5 mA, as above; 5 readings per level) + 1e-5 Ω."""
    bench = simulated_bench("harmonic_hall", "perpendicular_sot_hallbar", seed=4)
    with pytest.raises(ValueError, match=r"V_sine = I0.*\[0.004, 5\] V"):
        run_procedure(_lockin_procedure(sample_resistance=304.3), bench, ".")
    p = _lockin_procedure(max_field=0.12, field_step=0.03, sample_resistance=304.3,
                          current=5e-4)
    bench = simulated_bench("harmonic_hall", "perpendicular_sot_hallbar", ["dr_ahe_ohm=-1.7"],
                            seed=4, magnet=VirtualMagnet(**p.sim_magnet()))
    result = run_procedure(p, bench, tmp_path)
    assert result.status == FINISHED, result.message
    df = result.data()
    # I0 from the sine amplitude the SR830 reports set (1 mV resolution: 3.643 V rms)
    assert np.allclose(df["Current (A)"], np.sqrt(2) * 3.643 / (10e3 + 304.3), rtol=1e-9)
    levels_sent = [float(c[4:]) for _, c in bench.virtual.instruments["lockin_1w"].log
                   if c.upper().startswith("SLVL") and "?" not in c]
    assert max(levels_sent) == pytest.approx(5e-4 * (10e3 + 304.3) / np.sqrt(2), abs=1e-3)
    levels = df.groupby(np.sign(df["Field set (T)"]).where(df["Field set (T)"].abs() > 0.1))
    hi, lo = levels["Resistance (ohm)"].mean().loc[[1.0, -1.0]]
    assert 0.5 * (hi - lo) == pytest.approx(-1.7, abs=5 * 2e-5 / np.sqrt(5) + 1e-5)


def test_lockin_readout_from_the_cli(tmp_path, capsys):
    """--sim builds the lock-in bench (sim_wiring) for readout=lock-in; analyze reads it."""
    rc = main(["run", "field-sweep", "--sim", "--seed", "1", "--out", str(tmp_path),
               "--param", "readout=lock-in", "--param", "max_field=0.12",
               "--param", "field_step=0.02", "--set", "dr_ahe_ohm=-1.7"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    text = open(path, encoding="utf-8").read()
    assert "#\tReadout: lock-in" in text and "MODEL 6221" in text
    assert main(["analyze", "field-sweep", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["dr_ahe_ohm"] == pytest.approx(-1.7, abs=1e-4)


def test_readout_roles_are_checked_before_anything_is_touched():
    for wiring, readout, text in (("transport", "lock-in", "needs a lock_in"),
                                  ("lockin_transport", "source meter", "no source_meter")):
        bench = simulated_bench(wiring, "perpendicular_sot_hallbar", seed=1)
        p = _lockin_procedure(readout=readout)
        with pytest.raises(ValueError, match=text):
            run_procedure(p, bench, ".")
        for twin in bench.virtual.instruments.values():
            assert list(twin.log) == []
    bench = simulated_bench("harmonic_hall", "perpendicular_sot_hallbar", seed=1)
    with pytest.raises(ValueError, match="parameter 'Current' .sine out"):
        run_procedure(_lockin_procedure(current=0.019), bench, ".")
    for twin in bench.virtual.instruments.values():
        assert list(twin.log) == []
    assert FieldSweep().sim_wiring() == "transport"
