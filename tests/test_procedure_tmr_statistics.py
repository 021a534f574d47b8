"""tmr-statistics end to end on the simulated bench: the domain-wall Gaussian source is
Gaussian with the wall model's width, which rises as the gate voltage falls; a low-barrier
MTJ's telegraph dwells agree with Brown's exact mean first-passage times; limits refused
before anything is touched; an abort leaves the sources off."""
import json
import re

import numpy as np
import pytest

from labspin.cli.main import main
from labspin.physics.constants import MU0
from labspin.physics.telegraph import mean_first_passage_time
from labspin.procedures.tmr_statistics import TmrStatistics
from labspin.procedures.tmr_statistics_analysis import analyze_tmr_statistics
from labspin.run.runner import ABORTED, FINISHED, run_procedure
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import simulated_bench

GATES = (-1.0, 0.0, 1.0)


N = 400


def test_gaussian_source_is_normal_and_its_width_follows_the_wall_model(tmp_path):
    bench = simulated_bench("gaussian_source", "dw_gaussian_source", seed=4)
    p = TmrStatistics()
    p.gate_voltages, p.reads = ",".join(map(str, GATES)), N
    result = run_procedure(p, bench, tmp_path)
    assert result.status == FINISHED
    res = analyze_tmr_statistics(result.data())
    assert res["mode"] == "gaussian" and res["gate_voltages_V"] == list(GATES)
    wall = bench.virtual.wall                      # the truth, for the test only
    r0 = 1.0 / wall.expected_read_mean(bench.virtual.wall_site)
    for k, vg in enumerate(GATES):
        # R = 1/G: σ_R = σ_G·R² to first order (σ_G/G ≈ 2 %: second order ≪ tolerance)
        s_exp = wall.expected_read_std(vg) * r0 ** 2
        # the sample std of N Gaussian reads has relative standard error 1/√(2N) = 3.5 %:
        # 4 standard errors
        assert res["std_ohm_by_gate"][k] == pytest.approx(s_exp, rel=4 / np.sqrt(2 * N))
        assert abs(res["mean_ohm_by_gate"][k] - r0) < 4 * s_exp / np.sqrt(N) + 1e-3 * r0
        assert res["normality_pvalue_by_gate"][k] > 1e-3     # false alarm 1e-3 per gate
        assert res["std_ohm_err_by_gate"][k] == pytest.approx(
            res["std_ohm_by_gate"][k] / np.sqrt(2 * (N - 1)))
    # the width rises as the gate voltage falls (VCMA softens the pinning for V_g < 0)
    s = res["std_ohm_by_gate"]
    assert s[0] > s[1] > s[2]
    slope_exp = (wall.expected_read_std(1.0) - wall.expected_read_std(-1.0)) * r0 ** 2 / 2
    assert res["dstd_dvgate_ohm_per_V"] < 0
    assert abs(res["dstd_dvgate_ohm_per_V"] - slope_exp) < 4 * res["dstd_dvgate_ohm_per_V_err"]
    assert res["std_ohm"] == s[1] and res["mean_ohm"] == res["mean_ohm_by_gate"][1]


def _telegraph(tmp_path, seed=2, reads=6000, bias=1e-7):
    bench = simulated_bench("transport", "mtj_pillar", ["mu0_meff_T=-0.10"], seed=seed,
                            magnet=VirtualMagnet(axis="z"))
    p = TmrStatistics()
    p.mode, p.reads, p.bias_current = "telegraph", reads, bias
    return bench, p, run_procedure(p, bench, tmp_path)


def test_telegraph_dwells_agree_with_the_exact_first_passage_times(tmp_path):
    """Δ ≈ 19 (μ0M_eff = −0.10 T): dwells of 0.2–0.6 s sampled every ≈ 34 ms (one source
    meter read at 1 NPLC with autozero)."""
    bench, p, result = _telegraph(tmp_path)
    assert result.status == FINISHED
    res = analyze_tmr_statistics(result.data())
    assert res["mode"] == "telegraph"
    assert res["r_p_ohm"] == pytest.approx(2000, rel=1e-3)
    assert res["r_ap_ohm"] == pytest.approx(4400, rel=1e-3)
    vb = bench.virtual                       # the activation parameters, for the test only
    axis, hk, delta, tau_n = vb._activation
    assert 17 < delta < 21
    h = float(np.dot(vb.field_T() / MU0, axis)) / hk
    tq = vb.system.torques[0]
    h_s = tq.h_dl_per_A * p.bias_current * float(np.dot(tq.sigma, axis)) / (
        vb.system.magnet.alpha * hk)
    sign = 1 if axis[2] > 0 else -1            # R_P is m ∥ +z
    exact = {name: mean_first_passage_time(delta, h, h_s, tau_n=tau_n, from_state=s * sign)
             for s, name in ((1, "p"), (-1, "ap"))}
    dt = res["sample_interval_s"]
    for name, other in (("p", "ap"), ("ap", "p")):
        # 4 standard errors (1/√exits) plus the sampling bias: a dwell in the other state
        # shorter than the interval dt is missed (probability ≈ dt/τ_other) and merges two
        # dwells of this one, lengthening it by up to that fraction; 1.5× for its spread
        tol = 4 / np.sqrt(res[f"n_exits_{name}"]) + 1.5 * dt / exact[other]
        assert abs(res[f"tau_{name}_s"] / exact[name] - 1) < tol, (name, res, exact)
        assert res[f"tau_{name}_s_err"] == pytest.approx(
            res[f"tau_{name}_s"] / np.sqrt(res[f"n_exits_{name}"]))
        assert res[f"n_exits_{name}"] > 50


def test_cli_telegraph_on_the_default_wiring_and_analyze(tmp_path, capsys):
    rc = main(["run", "tmr-statistics", "--sim", "--sample", "mtj_pillar", "--set",
               "mu0_meff_T=-0.10", "--param", "mode=telegraph", "--param", "reads=1500",
               "--param", "bias_current=1e-7", "--seed", "3", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    assert main(["analyze", "tmr-statistics", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["mode"] == "telegraph"
    assert res["tau_p_s"] > 0 and res["tau_ap_s"] > 0 and "tau_ap_s_err" in res


def test_cli_gaussian_defaults_and_analyze(tmp_path, capsys):
    rc = main(["run", "tmr-statistics", "--sim", "--param", "reads=100", "--out",
               str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    assert main(["analyze", "tmr-statistics", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    for key in ("mean_ohm", "mean_ohm_err", "std_ohm", "std_ohm_err", "normality_pvalue",
                "dstd_dvgate_ohm_per_V", "dstd_dvgate_ohm_per_V_err"):
        assert np.isfinite(res[key]), key


def test_limits_are_refused_before_anything_is_touched():
    for attr, value, text in (("bias_current", 0.05, "parameter 'Bias current'"),
                              ("gate_voltages", "0,7", "parameter 'Gate voltages (V)'")):
        bench = simulated_bench("gaussian_source", "dw_gaussian_source")
        p = TmrStatistics()
        setattr(p, attr, value)
        with pytest.raises(ValueError, match=re.escape(text)):
            run_procedure(p, bench, ".")
        for twin in bench.virtual.instruments.values():
            assert list(twin.log) == []
    # gaussian mode needs the gate: the transport wiring has none
    bench = simulated_bench("transport", "mtj_pillar")
    with pytest.raises(ValueError, match="named 'gate'"):
        run_procedure(TmrStatistics(), bench, ".")


def test_abort_leaves_bias_and_gate_off(tmp_path, run_aborted):
    bench = simulated_bench("gaussian_source", "dw_gaussian_source", seed=1)
    p = TmrStatistics()
    p.reads = 200
    result = run_aborted(p, bench, tmp_path, at_percent=40)
    assert result.status == ABORTED
    vb = bench.virtual
    assert vb.drives.dc_total() == 0.0
    assert all(v == 0.0 for v in vb.gate_V.values())
    n = len(result.data())
    assert 0 < n < 600 and "#Status: ABORTED" in result.path.read_text()


# --- mean and width mapped against pinning site and gate voltage ----------------------------
SITES = (0, 1, 2, 3)
NS = 200


def _site_run(tmp_path, overrides=(), seed=6, gates=(0.0, 1.0), sites="0, 1, 2, 3"):
    bench = simulated_bench("gaussian_source", "dw_gaussian_source", list(overrides),
                            seed=seed)
    bench.virtual.set_wall_site(2)           # an unknown start: the reset must find site 0
    p = TmrStatistics()
    p.gate_voltages, p.reads, p.sites = ",".join(map(str, gates)), NS, sites
    return bench, run_procedure(p, bench, tmp_path)


def test_site_map_follows_the_readout(tmp_path):
    bench, result = _site_run(tmp_path)
    assert result.status == FINISHED
    res = analyze_tmr_statistics(result.data())
    assert res["mode"] == "gaussian" and res["sites"] == list(SITES)
    wall = bench.virtual.wall                      # the truth, for the test only
    r_exp = np.array([1.0 / wall.expected_read_mean(s) for s in SITES])
    s_exp = np.array([[wall.expected_read_std(vg) * r ** 2 for vg in (0.0, 1.0)]
                      for r in r_exp])
    mean = np.array(res["mean_ohm_by_site"])
    # each mean: 4 standard errors σ/√N (σ ≈ 1–5 Ω → ≤ 1.4 Ω) plus the second-order bias of
    # R = 1/G, R·(σ_G/G)² ≤ 3e-4·R, inside the 1e-3·R allowance
    assert np.all(np.abs(mean - r_exp) < 4 * s_exp[:, 0] / np.sqrt(NS) + 1e-3 * r_exp), \
        (mean, r_exp)
    # monotonic: the wall moving +x makes more of the pillar parallel (lower R) …
    assert np.all(np.diff(mean) < 0)
    # … with the readout's spacing: R(site i+1) − R(site i) (63, 39, 26 Ω here), each
    # difference within 4 combined standard errors plus the same bias allowance
    d_err = np.hypot(s_exp[1:, 0], s_exp[:-1, 0]) / np.sqrt(NS)
    assert np.all(np.abs(np.diff(mean) - np.diff(r_exp)) < 4 * d_err + 2e-3 * r_exp[:-1])
    # the width map: σ_R = σ_G·R² at each (site, gate), relative error 1/√(2N) = 5 %: 4 s.e.
    for k in range(len(SITES)):
        for j in range(2):
            assert res["std_ohm_map"][k][j] == pytest.approx(s_exp[k, j], rel=4 / np.sqrt(2 * NS))
        assert res["std_ohm_map"][k][0] > res["std_ohm_map"][k][1]   # V_g > 0 narrows
        assert res["normality_pvalue_map"][k][0] > 1e-3
    # conductance is linear in q: slope per site = dG/dq × pitch, within 4 standard errors
    g_slope = wall.readout.slope * wall.params.site_pitch
    assert abs(res["dconductance_dsite_S"] - g_slope) < 4 * res["dconductance_dsite_S_err"]
    assert res["dconductance_dsite_S_err"] < 0.01 * g_slope
    # the resistance line: the same weighted line through the true R(site) (R is not linear
    # in the site: its error, scaled by the reduced χ², absorbs the curvature)
    w = 1.0 / np.array(res["mean_ohm_err_by_site"])
    assert abs(res["dmean_dsite_ohm"] - np.polyfit(SITES, r_exp, 1, w=w)[0]) < \
        4 * res["dmean_dsite_ohm_err"]
    assert res["mean_ohm"] == res["mean_ohm_by_site"][0]           # the first site, 0 V


def test_site_spacing_recovers_the_pitch_and_tmr(tmp_path):
    """Closed loop: a sample with site pitch 80 nm (notches 40 nm half-length, so they do
    not overlap) and TMR 1.2 gives back the conductance
    step dG/dq·pitch = (G_P − G_AP)/L·pitch; the fit's standard error (≈ 0.3 % of the step
    with 200 reads per site) sets the 4-standard-error tolerance."""
    pitch, tmr = 80e-9, 1.2
    bench, result = _site_run(tmp_path, [f"domain_wall.site_pitch={pitch}",
                                         "domain_wall.notch_half_length=40e-9",
                                         f"dw_readout.tmr={tmr}"], seed=8, gates=(0.0,),
                              sites="3, 1, 0")
    assert result.status == FINISHED
    res = analyze_tmr_statistics(result.data())
    assert res["sites"] == [0, 1, 3]
    ro = bench.virtual.wall.readout
    g_p = (ro.x1 - ro.x0) * ro.width / ro.ra_p
    step = (g_p - g_p / (1 + tmr)) / (ro.x1 - ro.x0) * pitch
    assert abs(res["dconductance_dsite_S"] - step) < 4 * res["dconductance_dsite_S_err"]
    assert abs(res["dconductance_dsite_S"] / step - 1) < 0.02


def test_site_parameters_are_checked_before_anything_is_touched():
    for attr, value, text in (("sites", "0, 1.5", "parameter 'Sites'"),
                              ("sites", "-1", "parameter 'Sites'"),
                              ("move_current", 5e-6, "parameter 'Move pulse amplitude'"),
                              ("move_current", 0.05, "parameter 'Move pulse amplitude'")):
        bench = simulated_bench("gaussian_source", "dw_gaussian_source")
        p = TmrStatistics()
        p.sites = "0, 1"
        setattr(p, attr, value)
        with pytest.raises(ValueError, match=re.escape(text)):
            run_procedure(p, bench, ".")
        for twin in bench.virtual.instruments.values():
            assert list(twin.log) == []
