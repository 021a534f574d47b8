"""telegraph-dwell end to end on the simulated bench: a low-barrier MTJ (mtj_pillar with
μ0M_eff = −0.10 T, Δ ≈ 19) traced at three fields and two bias currents; the censoring-safe
dwells agree with Brown's exact mean first-passage times, the favoured state's dwell grows
with field and with the spin-transfer torque, and the fitted slopes d ln τ/dB, d ln τ/dI
match those of the exact times; limits refused before anything is touched; an abort leaves
the bias and the magnet off."""
import json
import re

import numpy as np
import pytest

from labspin.cli.main import main
from labspin.physics.constants import MU0
from labspin.physics.telegraph import mean_first_passage_time
from labspin.procedures.telegraph_dwell import TelegraphDwell
from labspin.procedures.telegraph_dwell_analysis import _common_slope, analyze_telegraph_dwell
from labspin.run.runner import ABORTED, FINISHED, run_procedure
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import simulated_bench

FIELDS = (-0.001, 0.0, 0.001)        # T: h = B/μ0H_K = ±0.01
BIASES = (-5e-8, 5e-8)               # A: h_s = ±0.0063 (μ0H_DL/I = 127 T/A, α = 0.01)
READS = 8000                         # × 34 ms ≈ 275 s per trace: ≈ 300–400 exits per state


def _bench(seed=2):
    return simulated_bench("transport", "mtj_pillar", ["mu0_meff_T=-0.10"], seed=seed,
                           magnet=VirtualMagnet(axis="z"))


def _exact(bench, field_T, bias_A, from_state):
    """Brown's mean first-passage time of the bench's activation model (the truth, read from
    the virtual bench as tests/test_virtual_bench.py does; for the test only)."""
    vb = bench.virtual
    axis, hk, delta, tau_n = vb._activation
    h = float(np.dot(np.array([0.0, 0.0, field_T]) / MU0, axis)) / hk
    tq = vb.system.torques[0]
    h_s = tq.h_dl_per_A * bias_A * float(np.dot(tq.sigma, axis)) / (vb.system.magnet.alpha * hk)
    sign = 1 if axis[2] > 0 else -1            # R_P is m ∥ +z
    return mean_first_passage_time(delta, h, h_s, tau_n=tau_n, from_state=from_state * sign)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    bench = _bench()
    p = TelegraphDwell()
    p.fields = ",".join(map(str, FIELDS))
    p.bias_currents = ",".join(map(str, BIASES))
    p.reads = READS
    result = run_procedure(p, bench, tmp_path_factory.mktemp("telegraph"))
    return bench, result, analyze_telegraph_dwell(result.data())


def test_dwells_agree_with_browns_first_passage_times(run):
    bench, result, res = run
    assert result.status == FINISHED
    vb = bench.virtual
    assert 17 < vb._activation[2] < 21                    # Δ ≈ 19
    assert res["fields_set_T"] == [b for b in FIELDS for _ in BIASES]
    assert res["bias_currents_A"] == [i for _ in FIELDS for i in BIASES]
    # the gaussmeter reads the settled field to ≈ 1 µT (its noise: 20 ppm of the 35 mT
    # range + 0.2 µT); 1 µT moves ln τ by 2Δ·1e-6/0.1 T ≈ 4e-4: negligible
    assert np.allclose(res["fields_T"], res["fields_set_T"], atol=5e-6)
    assert all(res["two_levels"])
    dt = res["sample_interval_s"]
    assert 0.03 < dt < 0.04                               # one read at 1 NPLC + autozero
    for k, (b, i) in enumerate(zip(res["fields_T"], res["bias_currents_A"])):
        assert res["r_p_ohm"][k] == pytest.approx(2000, rel=1e-3)
        assert res["r_ap_ohm"][k] == pytest.approx(4400, rel=1e-3)
        exact = {name: _exact(bench, b, i, s) for s, name in ((1, "p"), (-1, "ap"))}
        for name, other in (("p", "ap"), ("ap", "p")):
            n = res[f"n_exits_{name}"][k]
            assert n > 150
            tau = res[f"tau_{name}_s"][k]
            # 4 standard errors (1/√exits) plus the allowance for the read interval dt: a
            # dwell is counted in whole reads (on average dt/2 too long: the bench updates
            # the state once per read) and, on a continuous-time device, a dwell of the
            # other state shorter than dt is missed, merging two dwells (≈ dt/τ_other)
            tol = 4 / np.sqrt(n) + dt / (2 * exact[name]) + dt / exact[other]
            assert abs(tau / exact[name] - 1) < tol, (k, name, tau, exact)
            assert res[f"tau_{name}_s_err"][k] == pytest.approx(tau / np.sqrt(n))


def test_field_and_current_dependence(run):
    bench, _, res = run
    tau_p, tau_ap = np.array(res["tau_p_s"]), np.array(res["tau_ap_s"])
    grid_p = tau_p.reshape(len(FIELDS), len(BIASES))      # [field, bias]
    grid_ap = tau_ap.reshape(len(FIELDS), len(BIASES))
    # field along +z favours P: τ_P grows with field, τ_AP shrinks (one ln-τ step between
    # neighbouring fields is 2Δ·Δh ≈ 0.38, ≈ 5 standard errors of the difference)
    assert np.all(np.diff(grid_p, axis=0) > 0)
    assert np.all(np.diff(grid_ap, axis=0) < 0)
    # positive current with the polarizer along +z favours P (h_s > 0): between ∓50 nA,
    # ln τ moves by 4Δ·h_s ≈ 0.48, ≈ 6 standard errors — resolvable at every field
    assert np.all(grid_p[:, 1] > grid_p[:, 0])
    assert np.all(grid_ap[:, 1] < grid_ap[:, 0])
    # the fitted slopes against those of the exact times at the same fields and currents
    # (same model, same weights): 4 standard errors + 5 % for the read-interval bias,
    # which varies with τ and so tilts ln τ slightly (dt/2τ: ≤ 9 % over the grid)
    b, i = np.array(res["fields_T"]), np.array(res["bias_currents_A"])
    for s, name in ((1, "p"), (-1, "ap")):
        w = np.array(res[f"n_exits_{name}"], float)
        ln_exact = np.log([_exact(bench, bk, ik, s) for bk, ik in zip(b, i)])
        slope_b, _, _ = _common_slope(b, ln_exact, w, list(i))
        slope_i, _, _ = _common_slope(i, ln_exact, w, res["fields_set_T"])
        assert s * slope_b > 300                          # ≈ 2Δ/μ0H_K = 377 /T
        for key, exp in ((f"dln_tau_{name}_dB_per_T", slope_b),
                         (f"dln_tau_{name}_dI_per_A", slope_i)):
            assert abs(res[key] - exp) < 4 * res[f"{key}_err"] + 0.05 * abs(exp), (key, res)
            assert 0 < res[f"{key}_err"] < 0.2 * abs(exp)
            assert res[f"{key}_chi2_red"] < 5


def test_state_column_follows_the_levels(run):
    _, result, _ = run
    df = result.data()
    r, state = df["Resistance (ohm)"].to_numpy(), df["State"].to_numpy()
    known = state != 0
    assert known.mean() > 0.99
    assert np.all((state[known] == 1) == (r[known] < 3200))
    assert set(df["Trace"]) == set(range(len(FIELDS) * len(BIASES)))


def test_cli_defaults_and_analyze(tmp_path, capsys):
    rc = main(["run", "telegraph-dwell", "--sim", "--set", "mu0_meff_T=-0.10",
               "--param", "reads=400", "--seed", "3", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    assert main(["analyze", "telegraph-dwell", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert len(res["tau_p_s"]) == 6 and all(t > 0 for t in res["tau_ap_s"])
    for key in ("dln_tau_p_dB_per_T", "dln_tau_ap_dB_per_T", "dln_tau_p_dB_per_T_err",
                "dln_tau_ap_dB_per_T_err"):
        assert np.isfinite(res[key]), key


def test_limits_are_refused_before_anything_is_touched():
    for attr, value, text in (("bias_currents", "1e-7,0.05", "parameter 'Bias currents (A)'"),
                              ("bias_currents", "0,1e-7", "parameter 'Bias currents (A)'"),
                              ("fields", "0,20", "parameter 'Fields (T)'"),
                              ("fields", "0,x", "parameter 'Fields (T)'")):
        bench = _bench()
        p = TelegraphDwell()
        setattr(p, attr, value)
        with pytest.raises(ValueError, match=re.escape(text)):
            run_procedure(p, bench, ".")
        for twin in bench.virtual.instruments.values():
            assert list(twin.log) == []


def test_abort_leaves_bias_and_magnet_off(tmp_path, run_aborted):
    bench = _bench(seed=1)
    p = TelegraphDwell()
    p.reads = 200
    result = run_aborted(p, bench, tmp_path, at_percent=40)
    assert result.status == ABORTED
    vb = bench.virtual
    assert vb.drives.dc_total() == 0.0
    assert vb.magnet.setpoint_A == 0.0
    n = len(result.data())
    assert 0 < n < 1200 and "#Status: ABORTED" in result.path.read_text()


def test_a_stable_junction_gives_no_dwells(tmp_path, capsys):
    """The built-in mtj_pillar (Δ ≈ 45: dwells of years) never switches: the analysis reports
    no exits and nan dwells instead of splitting the read noise into two 'levels'."""
    rc = main(["run", "telegraph-dwell", "--sim", "--sample", "mtj_pillar", "--param",
               "reads=100", "--param", "settle_time=0.5", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert main(["analyze", "telegraph-dwell", out.out.strip().splitlines()[-1], "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["two_levels"] == [False] * 6
    assert res["n_exits_p"] == [0] * 6 and res["n_exits_ap"] == [0] * 6
    # no dwell is measured: strict JSON writes null for the non-finite values (issue 18)
    assert res["tau_p_s"] == [None] * 6 and res["dln_tau_p_dB_per_T"] is None
