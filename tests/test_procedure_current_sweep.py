"""current-sweep end to end on the simulated pulsed bench (mtj_pillar, field along z):
closed-loop recovery of the damping's effect on the critical current, limits refused before
anything is touched, an abort leaving the source meter at zero."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from labspin.bench.safety import LimitError
from labspin.cli.main import main
from labspin.procedures.current_sweep import CurrentSweep, loop_currents
from labspin.procedures.current_sweep_analysis import analyze_current_sweep
from labspin.run.runner import ABORTED, FINISHED, run_procedure
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import simulated_bench


def _bench(overrides=(), seed=1):
    return simulated_bench("pulsed", "mtj_pillar", list(overrides), seed=seed,
                           magnet=VirtualMagnet(axis="z"))


def _procedure(max_current=25e-6, step=0.5e-6, cycles=8):
    p = CurrentSweep()
    p.max_current, p.current_step, p.cycles = max_current, step, cycles
    return p


def test_loop_grid_skips_zero_and_repeats_cycles():
    i, br, cy = loop_currents(2e-6, 1e-6, cycles=2)
    assert np.allclose(i * 1e6, [1, 2, 1, -1, -2, -1, 1, 2, 1, -1, -2, -1, 1, 2])
    assert list(br) == [1, 1, -1, -1, -1, 1, 1, 1, -1, -1, -1, 1, 1, 1]
    assert list(cy) == [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]


def _ic(res):
    """Mean |critical current| of both polarities (A) and its standard error."""
    ic = 0.5 * (res["ic_pos_A"] - res["ic_neg_A"])
    return ic, 0.5 * math.hypot(res["ic_pos_A_err"], res["ic_neg_A_err"])


def test_critical_current_scales_with_damping(tmp_path):
    """Closed loop: the Slonczewski critical current I_c0 = α·μ0H_K,eff/(μ0H_DL per A) is
    proportional to α. A dc sweep measures the thermally activated switching current
    I_sw = I_c0·i*, where the dwell τ_N·exp[Δ(1 − i)²] (physics.md check 4) reaches the time
    spent near each current: Δ(1 − i*)² = L ≈ ln(t_point/τ_N). τ_N ∝ 1/α, so doubling α raises
    L by ln 2 and lowers i*: the expected ratio is
        (α2/α1)·[1 − √((L + ln(α2/α1))/Δ)] / (1 − √(L/Δ)),
    with L read from the α1 run (i*1 = I_sw/I_c0 ≈ 0.35, L ≈ 19, Δ = 45: ratio ≈ 1.93, i.e.
    the naive α2/α1 = 2 is ~4 % high). Tolerance: 3σ of the ratio from the analysis' own
    errors (the spread of the switching events over 8 loops × 2 polarities: ~2–3 % per run);
    against the naive α ratio, that 3σ plus the 4 % rate correction, plus 1 % for the small
    dependence of the Brown prefactor on the reduced current."""
    a1, a2 = 0.01, 0.02
    r1 = run_procedure(_procedure(), _bench([f"alpha={a1}"], seed=11), tmp_path)
    r2 = run_procedure(_procedure(), _bench([f"alpha={a2}"], seed=12), tmp_path)
    assert r1.status == FINISHED and r2.status == FINISHED
    res1, res2 = analyze_current_sweep(r1.data()), analyze_current_sweep(r2.data())
    (ic1, e1), (ic2, e2) = _ic(res1), _ic(res2)
    ratio = ic2 / ic1
    sigma = ratio * math.hypot(e1 / ic1, e2 / ic2)
    assert sigma < 0.1 * ratio                         # the test can resolve the ratio
    truth = load_sample("mtj_pillar", [f"alpha={a1}"]).describe()
    ic0_1 = a1 * (-truth["mu0_meff_T"]) / truth["mu0_hdl_per_A_T"]
    delta = truth["delta"]
    i1 = ic1 / ic0_1
    assert 0.2 < i1 < 0.6                              # thermally activated, below I_c0
    big_l = delta * (1 - i1) ** 2
    expected = (a2 / a1) * (1 - math.sqrt((big_l + math.log(a2 / a1)) / delta)) / i1
    assert abs(ratio - expected) <= 3 * sigma + 0.01 * expected
    assert abs(ratio / (a2 / a1) - 1) <= 0.04 + 0.01 + 3 * sigma / (a2 / a1)
    # the two polarities agree (symmetric STT, no field) and the levels are the sample's
    assert res1["ic_pos_A"] > 0 > res1["ic_neg_A"]
    assert abs(res1["ic_pos_A"] + res1["ic_neg_A"]) < 4 * math.hypot(res1["ic_pos_A_err"],
                                                                     res1["ic_neg_A_err"]) + 1e-6
    assert res1["r_p_ohm"] == pytest.approx(2000.0, abs=0.1)
    assert res1["r_ap_ohm"] == pytest.approx(4400.0, abs=0.1)
    assert res1["tmr_ratio"] == pytest.approx(1.2, abs=1e-4)


def test_cli_run_then_analyze(tmp_path, capsys):
    rc = main(["run", "current-sweep", "--sim", "--seed", "2", "--out", str(tmp_path),
               "--param", "cycles=2", "--param", "max_current=2e-5"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    header = open(path).read()
    assert "#\tSample: mtj_pillar" in header and "#Status: FINISHED" in header
    df = pd.read_csv(path, comment="#")
    assert {"Current (A)", "Voltage (V)", "Resistance (ohm)", "Branch", "Cycle"} <= set(df)
    assert (df["Current (A)"] != 0).all()
    assert main(["analyze", "current-sweep", path, "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert set(k for k in res if not k.endswith("_err")) == {
        k[:-4] for k in res if k.endswith("_err")}
    assert 2e-6 < res["ic_pos_A"] < 19e-6 and -19e-6 < res["ic_neg_A"] < -2e-6


def test_limits_are_refused_before_anything_is_touched(capsys):
    # the 40 nm junction's 5e11 A/m² (its [limits]): 0.628 mA, not the bench's 20 mA
    assert main(["run", "current-sweep", "--sim", "--param", "max_current=0.015"]) == 2
    err = capsys.readouterr().err
    assert ("parameter 'Max current' = 0.015 A is outside the allowed range [0, 0.000628319] A"
            " (source_meter smu: bench/sample limit max_sample_current_A)") in err
    assert "the sample's [limits] max_current_density_A_per_m2 = 5e+11 A/m²" in err
    bench = _bench()
    p = _procedure()
    p.max_current = 0.015
    with pytest.raises(LimitError, match=r"'Max current' = 0.015 A is outside the allowed "
                                         r"range \[0, 0.000628319\] A .*max_current_density"):
        run_procedure(p, bench, ".")
    for twin in bench.virtual.instruments.values():
        assert list(twin.log) == []                 # no command reached any instrument
    assert main(["run", "current-sweep", "--sim", "--param", "field=0.6"]) == 2
    assert "parameter 'Field'" in capsys.readouterr().err
    bench = _bench()
    p = _procedure()
    p.compliance = 50.0
    with pytest.raises(ValueError, match="Compliance voltage"):
        run_procedure(p, bench, ".")
    for twin in bench.virtual.instruments.values():
        assert list(twin.log) == []                 # no command reached any instrument


def test_abort_leaves_the_current_at_zero(tmp_path, run_aborted):
    bench = _bench()
    result = run_aborted(_procedure(cycles=1), bench, tmp_path, at_percent=30)
    assert result.status == ABORTED
    vb = bench.virtual
    assert vb.drives.dc_total() == 0.0
    log = [v for _, n, v in vb.instruments["smu"].output_log if n == "source_current"]
    assert abs(log[-1]) == 0.0
    assert np.abs(np.diff([0.0, *log])).max() <= 1e-4 + 1e-12        # ramped, never jumped
    assert "#Status: ABORTED" in result.path.read_text()
