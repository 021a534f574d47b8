"""magnet-calibration end to end on the simulated bench: the virtual magnet's slope and
remanence come back within the gaussmeter noise, the calibration table is written into a
bench config that then drives the magnet, limits are refused before anything is touched,
and an abort leaves the supply at 0 A with its output off."""

import re

import numpy as np
import pytest

from labspin.bench.calibration import MagnetCalibration
from labspin.bench.config import load_bench_config
from labspin.bench.safety import LimitError
from labspin.bench.session import Bench
from labspin.procedures.magnet_calibration import MagnetCalibrationSweep, calibration_currents
from labspin.procedures.magnet_calibration_analysis import (
    DESCRIPTIVE_KEYS,
    analyze_calibration,
    calibration_table,
    write_calibration,
)
from labspin.run.runner import ABORTED, FINISHED, run_procedure
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import bench_config_text, simulated_bench

K_TRUE, BR_TRUE = 0.035, 0.005


def _bench(seed=4):
    return simulated_bench("transport", "perpendicular_sot_hallbar", seed=seed,
                           magnet=VirtualMagnet(tesla_per_A=K_TRUE, remanence_T=BR_TRUE))


def _procedure(max_current=8.0, step=0.5):
    p = MagnetCalibrationSweep()
    p.max_current, p.current_step, p.delay, p.averages = max_current, step, 3.0, 5
    return p


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    bench = _bench()
    result = run_procedure(_procedure(), bench, tmp_path_factory.mktemp("mc"))
    return bench, result


def test_sequence_covers_both_branches():
    i, br = calibration_currents(2.0, 0.5)
    assert list(i[:5]) == [0, 0.5, 1, 1.5, 2] and set(br[:5]) == {0}
    assert i[br < 0][0] == 2.0 and i[br < 0][-1] == -2.0
    assert i[br > 0][0] == -2.0 and i[br > 0][-1] == 2.0


def test_closed_loop_recovers_slope_and_remanence(run):
    """Tolerance: the gaussmeter reads with σ = 20 ppm of its range + 0.2 µT (7.2 µT on the
    0.35 T range), 5 reads a point: ~3.2 µT per point, so over 66 branch points spanning ±8 A
    the slope's standard error is ~8e-8 T/A and the remanence's ~0.4 µT; each must come back
    within 4 standard errors (12 seeds tried: |pull| ≤ 2.6). The 3 s settle leaves the coil's
    L/R = 0.2 s lag at 1 A/s ramps below 1e-8 T (no systematic allowance needed)."""
    bench, result = run
    assert result.status == FINISHED, result.message
    df = result.data()
    assert len(df) == 17 + 33 + 33
    assert {"Supply current (A)", "Field (T)", "Branch"} <= set(df.columns)
    res = analyze_calibration(df)
    assert res["tesla_per_A_err"] < 2e-7 and res["mu0_remanence_T_err"] < 1e-6
    assert abs(res["tesla_per_A"] - K_TRUE) < 4 * res["tesla_per_A_err"]
    assert abs(res["mu0_remanence_T"] - BR_TRUE) < 4 * res["mu0_remanence_T_err"]
    assert abs(res["mu0_offset_T"]) < 4 * res["mu0_offset_T_err"]
    assert res["residual_rms_T"] < 6e-6
    # the twin's gaussmeter has no zero offset: within its error of zero, and flagged so
    zero = [w for w in res["warnings"] if w.startswith("mu0_offset_T") and "zero" in w]
    assert bool(zero) == (abs(res["mu0_offset_T"]) <= res["mu0_offset_T_err"])
    assert res["branches"] == 2 and [w for w in res["warnings"] if w not in zero] == []
    assert set(k for k in res if not k.endswith("_err")) - set(DESCRIPTIVE_KEYS) <= \
        {k[:-4] for k in res if k.endswith("_err")}


def test_table_has_both_branches_on_a_common_grid(run):
    _, result = run
    table = calibration_table(result.data())
    cal = MagnetCalibration(**{k: np.array(v) for k, v in table.items()})   # validates
    assert cal.current_A[0] == -8.0 and cal.current_A[-1] == 8.0 and cal.current_A.size == 33
    up0, down0 = cal.remanence_T
    # single points at low field: σ ≈ 0.9 µT/√5 per point, interpolation between two
    assert up0 == pytest.approx(-BR_TRUE, abs=5e-6) and down0 == pytest.approx(BR_TRUE, abs=5e-6)
    # the minor loop after each reversal is replaced by the branch's continuation
    assert cal.field(8.0, "down") == pytest.approx(8 * K_TRUE + BR_TRUE, abs=3e-5)
    assert cal.field(-8.0, "up") == pytest.approx(-8 * K_TRUE - BR_TRUE, abs=3e-5)


def test_results_file_is_a_field_from_current_calibration(run):
    """The run's own results file given to --field-from-current: along a loop of supply
    currents, each point's branch from the sweep direction, the field comes back within
    the gaussmeter noise of the true up/down branches (σ ≈ 3 µT per point at 0.28 T: 5σ),
    outside the reversal's minor loop (~2·B_r/k = 0.3 A from each turning point)."""
    from labspin.results.field_from_current import parse_field_from_current
    _, result = run
    law = parse_field_from_current(str(result.path))
    assert law.hysteretic and law.current_A[[0, -1]].tolist() == [-8.0, 8.0]
    down = np.linspace(7.0, -7.0, 15)
    up = np.linspace(-7.0, 7.0, 15)
    b = law.field(np.r_[8.0, down, -8.0, up])
    assert b[1:16] == pytest.approx(K_TRUE * down + BR_TRUE, abs=1.5e-5)
    assert b[17:] == pytest.approx(K_TRUE * up - BR_TRUE, abs=1.5e-5)


def test_written_config_drives_the_magnet(run, tmp_path):
    bench, result = run
    table = calibration_table(result.data())
    from labspin.sim_backend.wirings import WIRINGS
    text = bench_config_text(bench.virtual, WIRINGS["transport"])
    # the table spans ±8 A (±0.275 T): a bench limit beyond it would not open (below), so
    # this bench promises 0.25 T
    text = re.sub(r"max_field_T = [0-9.]+", "max_field_T = 0.25", text)
    path = tmp_path / "bench.toml"
    path.write_text("# my bench\n" + text)
    write_calibration(path, table)
    assert (tmp_path / "bench.toml.bak").read_text() == "# my bench\n" + text
    new = path.read_text()
    assert new.startswith("# my bench\n") and "tesla_per_A" not in new
    cfg = load_bench_config(path)
    assert cfg.magnet.calibration.to_dict() == table
    assert cfg.limits.max_field_T == 0.25 and cfg.instruments == bench.config.instruments
    # replacing again keeps one table
    write_calibration(path, table, backup=False)
    assert path.read_text().count("[magnet.calibration]") == 1
    # the new calibration drives the same (simulated) magnet: on target at the first read
    b2 = Bench(load_bench_config(path), bench.virtual.clock, virtual=bench.virtual).open()
    try:
        got = b2.magnet.set_field(0.2)
        assert got == pytest.approx(0.2, abs=5e-4)
        assert b2.virtual.magnet.setpoint_A == pytest.approx((0.2 + BR_TRUE) / K_TRUE, abs=2e-3)
    finally:
        assert b2.shutdown() == []
        b2.close()
    # the same table with the bench's 0.415 T limit: refused when the bench opens, before
    # any output is written
    wide = tmp_path / "wide.toml"
    wide.write_text(re.sub(r"max_field_T = 0.25", "max_field_T = 0.415", path.read_text()))
    with pytest.raises(LimitError, match="beyond the magnet's reach"):
        Bench(load_bench_config(wide), bench.virtual.clock, virtual=bench.virtual).open()


def test_write_adds_a_missing_table_and_refuses_files_without_magnet(tmp_path):
    table = MagnetCalibration.linear(0.03, 5.0, 0.002).to_dict()
    p = tmp_path / "b.toml"
    p.write_text('[limits]\nmax_field_T = 0.4\n\n[magnet]\nsupply = "psu"\n\n[instruments.psu]\n'
                 'role = "magnet_supply"\n')
    write_calibration(p, table)
    import tomllib
    data = tomllib.loads(p.read_text())
    assert data["magnet"]["calibration"] == table and data["magnet"]["supply"] == "psu"
    assert data["instruments"]["psu"]["role"] == "magnet_supply"
    q = tmp_path / "c.toml"
    q.write_text("[limits]\nmax_field_T = 0.4\n")
    with pytest.raises(ValueError, match="no \\[magnet\\]"):
        write_calibration(q, table)
    with pytest.raises(ValueError):
        write_calibration(p, {"current_A": [0, 1], "field_up_T": [1, 0], "field_down_T": [0, 1]})


def test_the_command_line_reads_a_cell_holding_a_hash(run, tmp_path, capsys):
    """``python -m …magnet_calibration_analysis RESULTS BENCH`` reads RESULTS with the one
    results reader: a first column "Hall probe #2" is data (pandas' comment='#' would cut
    every row there, losing its currents and fields), and the table written is the run's;
    --field-from-current's reader takes the same file."""
    _, result = run
    lines, named = [], False
    for line in result.path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            line = ("Probe," if not named else "Hall probe #2,") + line
            named = True
        lines.append(line)
    noted = tmp_path / "noted.csv"
    noted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bench = tmp_path / "b.toml"
    bench.write_text('[limits]\nmax_field_T = 0.25\n\n[magnet]\nsupply = "psu"\n\n'
                     '[instruments.psu]\nrole = "magnet_supply"\n')
    from labspin.procedures.magnet_calibration_analysis import main
    assert main([str(noted), str(bench)]) == 0
    capsys.readouterr()
    import tomllib
    written = tomllib.loads(bench.read_text())["magnet"]["calibration"]
    assert written == calibration_table(result.data())
    # --field-from-current reads the same law from it (the same reader)
    from labspin.results.field_from_current import read_calibration
    law, noted_law = read_calibration(result.path), read_calibration(noted)
    assert list(noted_law.current_A) == list(law.current_A) and len(law.current_A) > 10
    assert list(noted_law.field_up_T) == list(law.field_up_T)


def test_limits_are_refused_before_anything_is_touched():
    bench = _bench()
    p = _procedure(max_current=15.0)          # 15 A × 0.035 T/A > max_field_T 0.45 T
    with pytest.raises(LimitError, match="parameter 'Max current' = 15.0 A is outside"):
        run_procedure(p, bench, ".")
    for twin in bench.virtual.instruments.values():
        assert list(twin.log) == []


def test_abort_leaves_the_supply_at_zero_with_output_off(tmp_path, run_aborted):
    bench = _bench(seed=5)
    result = run_aborted(_procedure(4.0, 1.0), bench, tmp_path, at_percent=30)
    assert result.status == ABORTED
    vb = bench.virtual
    assert vb.magnet.setpoint_A == 0.0
    twin = vb.instruments["magnet_psu"]
    assert not twin.output("output")
    assert not getattr(twin, "hazards", [])       # never switched off with current flowing
    assert 0 < len(result.data()) < 21 and "#Status: ABORTED" in result.path.read_text()
