"""`labspin simulate wer`: the CLI over the write-error-rate map, in this process and on Dask."""
import csv

import pytest

from labspin.cli.main import main

ARGS = ["simulate", "wer", "mtj_pillar_switching", "--amplitudes", "150,300", "--widths", "10",
        "--trials", "64", "--seed", "4"]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_wer_table_and_brute_force_reach(tmp_path, capsys):
    assert main(ARGS + ["--csv", str(tmp_path / "w.csv")]) == 0
    out = capsys.readouterr().out
    rows = _rows(tmp_path / "w.csv")
    assert [(float(r["amplitude_uA"]), float(r["width_ns"])) for r in rows] == [
        (150.0, 10.0), (300.0, 10.0)]
    k = [int(r["switched"]) for r in rows]
    # I_c0 ≈ 220 µA: 300 µA for 10 ns (≈ 20 τ_D) writes essentially always; 150 µA rarely
    assert k[1] >= 62 and k[0] <= 16
    for r in rows:
        assert float(r["p_lo"]) <= float(r["p_switch"]) <= float(r["p_hi"])
        assert float(r["wer"]) == pytest.approx(1 - float(r["p_switch"]))
    # 64 trials with 0 errors bound the rate at 1 − 0.05^(1/64) = 0.0457
    assert "below 0.0457" in out


def test_wer_on_one_dask_worker_prints_the_same_counts(tmp_path):
    pytest.importorskip("distributed")
    assert main(ARGS + ["--csv", str(tmp_path / "a.csv")]) == 0
    assert main(ARGS + ["--workers", "1", "--csv", str(tmp_path / "b.csv")]) == 0
    assert _rows(tmp_path / "a.csv") == _rows(tmp_path / "b.csv")


@pytest.mark.parametrize("extra, message", [
    (["--amplitudes", "x"], "--amplitudes"),
    (["--trials", "0"], "--trials must be ≥ 1"),
    (["--widths", "0"], "--widths"),
])
def test_bad_arguments_are_named(extra, message, capsys):
    argv = list(ARGS)
    for flag, value in zip(extra[::2], extra[1::2]):
        argv[argv.index(flag) + 1] = value
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_wall_sample_is_refused(capsys):
    argv = list(ARGS)
    argv[2] = "dw_gaussian_source"
    assert main(argv) == 2
    assert "not a macrospin" in capsys.readouterr().err
