"""Sequences (issue 7 "Scripted sweeps"): a grid from a TOML file runs in order; an
interrupted sequence (an abort in the third run, or the process killed with SIGKILL during
it) resumes with the unfinished runs only, keeping the partial files; bad files run nothing.

The runs are tmr-statistics reads of the simulated domain-wall source (100 reads, a few
tens of ms each), so a 2 × 2 grid costs well under a second."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from pymeasure.experiment import Results

from labspin.bench.session import Bench
from labspin.cli.main import main
from labspin.procedures.tmr_statistics import TmrStatistics
from labspin.run import sequence as sq

GRID = """\
procedure = "tmr-statistics"
seed = 4

[params]
reads = 100

[grid]
gate_voltages = [-1, 1]
bias_current = [5e-6, 1e-5]
"""
POINTS = [("-1", 5e-6), ("-1", 1e-5), ("1", 5e-6), ("1", 1e-5)]


def _write(tmp_path, text, name="seq.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _state(out):
    return json.loads((out / sq.STATE_FILE).read_text(encoding="utf-8"))


def _status_line(path):
    return [ln for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.startswith("#Status:")]


def test_a_grid_runs_every_point_in_order(tmp_path, capsys):
    seq = _write(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sequence", str(seq), "--out", str(out)]) == 0
    std = capsys.readouterr()
    files = std.out.strip().splitlines()
    assert len(files) == 4
    for k, (path, (gate, bias)) in enumerate(zip(files, POINTS)):
        proc = Results.load(path).procedure
        assert isinstance(proc, TmrStatistics)
        assert (proc.gate_voltages, proc.bias_current, proc.reads) == (gate, bias, 100)
        assert proc.seed == "4"
        assert f"[{k + 1}/4]" in std.err
    state = _state(out)
    assert [e["status"] for e in state["runs"]] == ["FINISHED"] * 4
    assert [str(out / e["file"]) for e in state["runs"]] == files
    assert state["runs"][1]["point"] == {"gate_voltages": "-1", "bias_current": "1e-05"}
    # the same command again runs nothing and prints the same files
    assert main(["sequence", str(seq), "--out", str(out)]) == 0
    again = capsys.readouterr()
    assert again.out.strip().splitlines() == files
    assert ": running" not in again.err and again.err.count(": finished earlier:") == 4


def test_an_abort_in_the_third_run_resumes_with_the_unfinished_runs(tmp_path, capsys):
    seq_path = _write(tmp_path, GRID)
    out = tmp_path / "out"
    abort = threading.Event()

    def progress(k, n, percent, elapsed):
        if k == 2 and percent >= 50:
            abort.set()
    first = sq.run_sequence(sq.load_sequence(seq_path), out, progress=progress, abort=abort)
    assert first.ran == [0, 1, 2] and not first.complete
    state = _state(out)
    assert [e["status"] for e in state["runs"]] == ["FINISHED", "FINISHED", "ABORTED",
                                                    "pending"]
    aborted = out / state["runs"][2]["file"]
    kept = {e["file"]: (out / e["file"]).stat().st_mtime_ns for e in state["runs"][:2]}
    aborted_text = aborted.read_text(encoding="utf-8")
    assert _status_line(aborted) == ["#Status: ABORTED"]
    capsys.readouterr()

    assert main(["sequence", str(seq_path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count(": running") == 2                       # runs 3 and 4 only
    state = _state(out)
    assert [e["status"] for e in state["runs"]] == ["FINISHED"] * 4
    assert state["runs"][2]["earlier_files"] == [aborted.name]
    assert state["runs"][2]["file"] != aborted.name
    assert aborted.read_text(encoding="utf-8") == aborted_text   # kept, not overwritten
    for name, mtime in kept.items():
        assert (out / name).stat().st_mtime_ns == mtime


KILLED_RUNNER = textwrap.dedent("""\
    import pathlib, sys, time
    from labspin.run.sequence import load_sequence, run_sequence
    marker = pathlib.Path(sys.argv[3])

    def progress(k, n, percent, elapsed):
        if k == 2 and percent >= 30:          # in the third run, after 30 of 100 reads
            marker.write_text("blocked")
            time.sleep(600)
    run_sequence(load_sequence(sys.argv[1]), sys.argv[2], progress=progress)
""")


def test_a_sequence_killed_during_a_run_resumes_there(tmp_path, capsys):
    seq_path = _write(tmp_path, GRID)
    out, marker = tmp_path / "out", tmp_path / "blocked"
    script = _write(tmp_path, KILLED_RUNNER, "runner.py")
    proc = subprocess.Popen([sys.executable, str(script), str(seq_path), str(out), str(marker)],
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.stderr.read().decode() if proc.poll() is not None else ""
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    state = _state(out)
    assert [e["status"] for e in state["runs"]] == ["FINISHED", "FINISHED", "running",
                                                    "pending"]
    assert state["runs"][2].get("file") is None
    named = {e["file"] for e in state["runs"][:2]}
    partial = [p for p in out.glob("tmr-statistics_*.csv") if p.name not in named]
    assert len(partial) == 1 and _status_line(partial[0]) == []
    partial_text = partial[0].read_text(encoding="utf-8")
    rows = [ln for ln in partial_text.splitlines() if ln and not ln.startswith("#")][1:]
    assert 30 <= len(rows) < 100                   # the reads flushed before the kill

    assert main(["sequence", str(seq_path), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count(": running") == 2
    state = _state(out)
    assert [e["status"] for e in state["runs"]] == ["FINISHED"] * 4
    assert state["runs"][2]["earlier_files"] == [partial[0].name]
    assert partial[0].read_text(encoding="utf-8") == partial_text


def test_a_run_killed_after_its_file_was_closed_is_not_redone(tmp_path):
    """Killed between the file's #Status line and the record: the finished file counts."""
    seq = sq.load_sequence(_write(tmp_path, GRID))
    out = tmp_path / "out"
    sq.run_sequence(seq, out)
    state = _state(out)
    name = state["runs"][3]["file"]
    state["runs"][3].update({"status": "running", "file": None})
    sq.write_state(out / sq.STATE_FILE, state)
    again = sq.run_sequence(seq, out)
    assert again.ran == [] and again.complete
    assert again.state["runs"][3]["file"] == name


def test_a_larger_grid_reuses_the_finished_runs(tmp_path):
    out = tmp_path / "out"
    sq.run_sequence(sq.load_sequence(_write(tmp_path, GRID)), out)
    bigger = GRID.replace("bias_current = [5e-6, 1e-5]", "bias_current = [5e-6, 1e-5, 2e-5]")
    result = sq.run_sequence(sq.load_sequence(_write(tmp_path, bigger, "big.toml")), out)
    assert result.ran == [2, 5] and result.complete           # (-1, 2e-5) and (1, 2e-5)


def test_another_sequence_cannot_share_the_folder(tmp_path, capsys):
    out = tmp_path / "out"
    sq.run_sequence(sq.load_sequence(_write(tmp_path, GRID)), out)
    other = GRID.replace('seed = 4', 'seed = 4\nsample = "mtj_pillar"')
    assert main(["sequence", str(_write(tmp_path, other, "o.toml")), "--out", str(out)]) == 2
    assert "another sequence" in capsys.readouterr().err


@pytest.mark.parametrize("edit, names", [
    (lambda t: t.replace('"tmr-statistics"', '"tmr-statistic"'), "tmr-statistic"),
    (lambda t: t.replace("bias_current = [", "bias_currents = ["), "bias_currents"),
    (lambda t: t.replace("reads = 100", "read = 100"), "read"),
    (lambda t: t.replace("reads = 100", "reads = 5"), "reads=5"),             # < minimum 10
    (lambda t: t.replace("1e-5]", "0.5]"), "bias_current=0.5"),  # > its maximum, 10 mA
    (lambda t: t.replace("[-1, 1]", "[-1, 50]"), "Gate voltages (V)"),   # > the gate's limit
    (lambda t: t.replace("[-1, 1]", "[-1, 1"), "not valid TOML"),
    (lambda t: t.replace("[-1, 1]", "[]"), "gate_voltages"),
    (lambda t: t.replace("seed = 4", "seed = 4\nrepeat = 2"), "repeat"),
    (lambda t: t.split("[grid]")[0].replace(
        "seed = 4", 'seed = 4\nsequencer = """\n- "Bias current", "[5e-6, 1e-5"\n"""'),
     "sequencer"),
    (lambda t: t.replace("seed = 4", 'seed = "four"'), "seed"),
])
def test_bad_files_name_the_key_and_run_nothing(edit, names, tmp_path, capsys, monkeypatch):
    opened = []
    monkeypatch.setattr(Bench, "open", lambda self: opened.append(self) or self)
    out = tmp_path / "out"
    assert main(["sequence", str(_write(tmp_path, edit(GRID))), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert names in err
    assert opened == [] and not out.exists()


def test_a_limit_in_one_run_stops_the_whole_sequence_before_it_starts(tmp_path, capsys):
    text = GRID.replace("gate_voltages = [-1, 1]", "gate_voltages = [1, 50]")
    out = tmp_path / "out"
    assert main(["sequence", str(_write(tmp_path, text)), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "run 3 of 4 (gate_voltages=50 bias_current=5e-06): parameter 'Gate voltages" in err
    assert "run 4 of 4" in err and "run 1 of 4" not in err and "run 2 of 4" not in err
    assert not out.exists()


def test_pymeasure_sequencer_syntax_gives_the_same_runs(tmp_path):
    grid = sq.load_sequence(_write(tmp_path, GRID))
    head = GRID.split("[grid]")[0]
    text = head.replace('seed = 4', 'seed = 4\nsequencer = """\n'
                        '- "Gate voltages (V)", "[-1, 1]"\n'
                        '-- "bias_current", "linspace(5e-6, 1e-5, 2)"\n"""')
    seqr = sq.load_sequence(_write(tmp_path, text, "s.toml"))

    def as_float(runs):
        return [{k: (float(v) if k == "bias_current" else v)
                 for k, v in r["params"].items()} for r in runs]
    assert as_float(seqr.runs()) == as_float(grid.runs())
    (tmp_path / "grid.seq").write_text('- "Gate voltages (V)", "[-1, 1]"\n'
                                       '-- "Bias current", "[5e-6, 1e-5]"\n')
    filed = sq.load_sequence(_write(tmp_path, head.replace(
        "seed = 4", 'seed = 4\nsequencer_file = "grid.seq"'), "f.toml"))
    assert as_float(filed.runs()) == as_float(grid.runs())


def test_the_example_is_a_valid_sequence(tmp_path, capsys):
    assert main(["sequence", "--example"]) == 0
    path = _write(tmp_path, capsys.readouterr().out, "stfmr_grid.toml")
    seq = sq.load_sequence(path)
    assert seq.procedure == "stfmr" and len(seq.points) == 9
    assert seq.points[1] == {"frequencies": "6", "dc_currents": "0"}
    assert seq.out == tmp_path / "stfmr_grid"
    assert sq.validate(seq)[0] == []
    assert main(["sequence", str(path), "--check"]) == 0
    err = capsys.readouterr().err
    assert "9 runs, 0 finished earlier, 9 to run" in err
    assert not (tmp_path / "stfmr_grid").exists()


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "out").write_text("x")
    assert main(["sequence", str(_write(tmp_path, GRID)), "--out", str(tmp_path / "out")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_no_file_and_no_example_is_a_usage_error(capsys):
    assert main(["sequence"]) == 2
    assert "--example" in capsys.readouterr().err


def test_the_progress_record_is_replaced_atomically(tmp_path, monkeypatch):
    """A crash while writing the record leaves the previous record whole."""
    path = tmp_path / sq.STATE_FILE
    sq.write_state(path, {"runs": [1]})
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError("crash")))
    with pytest.raises(OSError):
        sq.write_state(path, {"runs": [1, 2]})
    assert json.loads(path.read_text())["runs"] == [1]
