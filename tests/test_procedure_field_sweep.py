"""field-sweep end to end on the simulated bench, and the run machinery's safety contract:
limits refused before anything is touched, faults and aborts ending with every source safe
and the file intact."""
import json
import threading

import numpy as np
import pandas as pd
import pytest
from pymeasure.experiment import Results

from labspin.bench import Bench
from labspin.cli import main
from labspin.procedures import analysis_function
from labspin.procedures.field_sweep import FieldSweep
from labspin.runner import ABORTED, FAILED, FINISHED, run_procedure

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
    assert "parameter 'Max field' = 0.6 T is outside the allowed range [0, 0.45] T" in err
    assert main(["run", "field-sweep", "--sim", "--param", "current=0.05"]) == 2
    assert "parameter 'Current'" in capsys.readouterr().err
    assert main(["run", "field-sweep", "--sim", "--param", "nope=1"]) == 2
    assert "parameters of field-sweep are" in capsys.readouterr().err
    assert main(["run", "field-sweep", "--sim", "--param", "averages=0"]) == 2
    assert "allowed [1, 1000]" in capsys.readouterr().err


def _bench(seed=1):
    return Bench.simulated("transport", "perpendicular_sot_hallbar", seed=seed)


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


def test_abort_ends_aborted_with_every_completed_point(tmp_path):
    bench = _bench()
    abort = threading.Event()

    def progress(percent, elapsed):
        if percent >= 30:
            abort.set()
    result = run_procedure(_procedure(), bench, tmp_path, progress=progress, abort=abort)
    assert result.status == ABORTED
    _assert_safe(bench)
    df = pd.read_csv(result.path, comment="#")
    assert 0 < len(df) < 61 and "#Status: ABORTED" in result.path.read_text()


def test_analysis_of_a_finished_run(tmp_path):
    result = run_procedure(_procedure(), _bench(), tmp_path, sample_name="x")
    assert result.status == FINISHED
    res = analysis_function("field-sweep")(result.data())
    assert set(k for k in res if not k.endswith("_err")) <= {k[:-4] for k in res if k.endswith("_err")}
