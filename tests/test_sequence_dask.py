"""Sequences of dry runs on Dask workers (issue 16 item 3): the same results files as the
serial path, a worker killed mid-run rerun elsewhere (or its run reported LOST, never left
out), and a terminal's Ctrl-C ending every running run with its status.

The runs are tmr-statistics reads of the simulated domain-wall source (a few ms of wall time
per read), as in test_sequence.py."""
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest

from labspin.run import sequence as sq
from labspin.run.distributed import Where

distributed = pytest.importorskip("distributed")
dask = pytest.importorskip("dask")

GRID = """\
procedure = "tmr-statistics"
seed = 4

[params]
reads = {reads}

[grid]
gate_voltages = [-1, 1]
bias_current = {biases}
"""


def _sequence(tmp_path, reads=100, biases="[5e-6, 1e-5]", name="seq.toml"):
    path = tmp_path / name
    path.write_text(GRID.format(reads=reads, biases=biases), encoding="utf-8")
    return path


def _data(path):
    return pd.read_csv(path, comment="#")


def _rows(path):
    """Get how many data rows a results file holds so far."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return max(0, sum(1 for ln in lines if ln and not ln.startswith("#")) - 1)


def _status_lines(path):
    return [ln for ln in path.read_text(encoding="utf-8").splitlines()
            if ln.startswith("#Status:")]


def test_runs_on_two_workers_write_the_serial_files(tmp_path):
    seq = sq.load_sequence(_sequence(tmp_path))
    serial = sq.run_sequence(seq, tmp_path / "serial", log=lambda _: None)
    logs = []
    par = sq.run_sequence(seq, tmp_path / "dask", where=Where(workers=2), log=logs.append)
    assert par.complete and par.ran == [0, 1, 2, 3]
    assert len(par.files) == len(serial.files) == 4
    for a, b in zip(serial.files, par.files, strict=True):
        assert a.name.rsplit("_", 2)[0] == b.name.rsplit("_", 2)[0]     # tmr-statistics_run00k
        pd.testing.assert_frame_equal(_data(a), _data(b))               # the same numbers
        assert _status_lines(b) == ["#Status: FINISHED"]
        assert len(_data(b)) == 100
    state = json.loads((tmp_path / "dask" / sq.STATE_FILE).read_text(encoding="utf-8"))
    assert [e["status"] for e in state["runs"]] == ["FINISHED"] * 4
    assert [e["file"] for e in state["runs"]] == [p.name for p in par.files]
    assert any("runs on the Dask cluster" in line for line in logs)
    # resuming the finished sequence runs nothing, on workers or not
    again = sq.run_sequence(seq, tmp_path / "dask", where=Where(workers=1),
                            log=lambda _: None)
    assert again.ran == [] and again.complete


def test_a_real_bench_sequence_stays_serial(tmp_path):
    seq = sq.load_sequence(_sequence(tmp_path))
    seq.bench = tmp_path / "bench.toml"
    with pytest.raises(sq.SequenceError, match="real bench runs serially"):
        sq.run_unlocked(seq, tmp_path / "out", where=Where(workers=2), check=False)


@pytest.mark.parametrize("allowed_failures", [3, 0])
def test_a_worker_killed_mid_run(tmp_path, allowed_failures):
    """SIGKILL to the worker of run 1 once its file holds 150 of its 600 reads: the
    scheduler reruns it on the other worker (the lost attempt's file kept under
    earlier_files, and the rerun draws the same numbers), or, allowed no failure, the run is
    recorded LOST with the scheduler's message and the sequence is incomplete."""
    seq = sq.load_sequence(_sequence(tmp_path, reads=600, biases="[5e-6]"))
    out = tmp_path / "out"
    box, logs = {}, []
    with dask.config.set({"distributed.scheduler.allowed-failures": allowed_failures}):
        lc = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None, host="127.0.0.1")
    with lc, distributed.Client(lc) as client:
        where = Where(scheduler=lc.scheduler_address)
        t = threading.Thread(target=lambda: box.update(
            result=sq.run_sequence(seq, out, where=where, log=logs.append)))
        t.start()
        deadline = time.monotonic() + 240
        first = []
        while time.monotonic() < deadline and t.is_alive():
            first = sorted(out.glob("tmr-statistics_run001_*.csv"))
            if first and _rows(first[0]) >= 150:
                break
            time.sleep(0.05)
        busy = [a for a, keys in client.processing().items()
                if any(str(k).startswith("tmr-statistics_run001") for k in keys)]
        assert first and busy, logs
        pid = client.run(os.getpid, workers=busy)[busy[0]]
        os.kill(pid, signal.SIGKILL)
        t.join(timeout=300)
    assert not t.is_alive()
    result = box["result"]
    run1, run2 = result.state["runs"]
    assert run2["status"] == "FINISHED"
    partial = out / first[0].name
    assert _status_lines(partial) == []                    # the lost attempt, cut short
    lost_rows = _data(partial)
    assert 150 <= len(lost_rows) < 600
    if allowed_failures:
        assert result.complete and run1["status"] == "FINISHED"
        assert run1["earlier_files"] == [partial.name]
        rerun = _data(out / run1["file"])
        assert len(rerun) == 600
        pd.testing.assert_frame_equal(rerun.iloc[:len(lost_rows)], lost_rows)
    else:
        assert not result.complete and run1["status"] == "LOST"
        assert "KilledWorker" in run1["message"] and run1["file"] is None
        assert run1["earlier_files"] == [partial.name]
        assert any(": LOST" in line for line in logs)
        # the next start redoes it
        assert sq.plan(seq, out)["runs"][0]["status"] == "pending"


def test_ctrl_c_cancels_the_remaining_runs_and_ends_the_running_ones(tmp_path):
    """`labspin sequence FILE --workers 2` in its own session; SIGINT to the whole process
    group (what a terminal's Ctrl-C does) once both workers write: exit status 130, the two
    running runs ABORTED (file and record), the four others pending with no file."""
    seq_path = _sequence(tmp_path, reads=1500, biases="[5e-6, 1e-5, 2e-5]")
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "labspin.cli.main", "sequence",
                             str(seq_path), "--out", str(out), "--workers", "2"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True, text=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            files = sorted(out.glob("*.csv"))
            if len(files) == 2 and all(_rows(p) > 100 for p in files):
                break
            time.sleep(0.1)
        assert proc.poll() is None, proc.stderr.read()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    assert "interrupted; rerun" in err
    state = json.loads((out / sq.STATE_FILE).read_text(encoding="utf-8"))
    statuses = [e["status"] for e in state["runs"]]
    assert sorted(statuses) == ["ABORTED"] * 2 + ["pending"] * 4, statuses
    files = sorted(out.glob("*.csv"))
    assert len(files) == 2
    for e in state["runs"]:
        if e["status"] == "ABORTED":
            assert _status_lines(out / e["file"]) == ["#Status: ABORTED"]
            assert 100 < len(_data(out / e["file"])) < 1500
        else:
            assert e["file"] is None


def test_a_forty_run_sequence_through_the_dask_path(tmp_path):
    """Issue 16's CI size: 40 runs (2 gate voltages × 20 bias currents, 10 reads each, the fewest allowed) on 2
    workers: every run FINISHED in its own file and in the state record, each file the
    serial path's numbers (the run's seed is its grid point's, not the worker's)."""
    biases = "[" + ", ".join(f"{k}e-6" for k in range(1, 21)) + "]"
    seq = sq.load_sequence(_sequence(tmp_path, reads=10, biases=biases))
    par = sq.run_sequence(seq, tmp_path / "dask", where=Where(workers=2), log=lambda _: None)
    assert par.complete and par.ran == list(range(40)) and len(par.files) == 40
    state = json.loads((tmp_path / "dask" / sq.STATE_FILE).read_text(encoding="utf-8"))
    assert [e["status"] for e in state["runs"]] == ["FINISHED"] * 40
    serial = sq.run_sequence(seq, tmp_path / "serial", log=lambda _: None)
    for a, b in zip(serial.files, par.files, strict=True):
        pd.testing.assert_frame_equal(_data(a), _data(b))
        assert _status_lines(b) == ["#Status: FINISHED"] and len(_data(b)) == 10
