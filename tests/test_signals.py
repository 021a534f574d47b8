"""Stop signals take the abort path (issue 13, item 1): real ``labspin run`` subprocesses on
the simulated bench, real signals from this process.

The child is ``labspin run`` itself with three test-only hooks: it prints ``emitted N`` as each
point is formatted (so the signal lands mid-run, at a point drawn here), every simulated
instrument takes 2 ms of wall time per message (so the ramp-down lasts long enough in wall
time for a second signal to land inside it: the bench clock is virtual), and at exit it
prints the simulated sources' final state and the magnet supply's largest current step after
the signal, as one JSON line.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from labspin.run import signals

CHILD = textwrap.dedent("""
    import json, sys, time
    from pymeasure.experiment import Results
    from labspin.cli.main import main
    from labspin.run import api
    captured, count = [], [0]
    prepare = api.prepare

    def slow_prepare(*args, **kwargs):
        p = prepare(*args, **kwargs)
        captured.append(p)
        for twin in p.bench.virtual.instruments.values():
            def slow(message, _respond=twin.respond):
                time.sleep(0.002)
                return _respond(message)
            twin.respond = slow
        return p
    api.prepare = slow_prepare
    fmt = Results.format

    def counting(self, record):
        count[0] += 1
        print(f"emitted {count[0]}", flush=True)
        return fmt(self, record)
    Results.format = counting
    rc = main(sys.argv[1:])
    p = captured[0]
    vb, twins = p.bench.virtual, p.bench.virtual.instruments
    log = [v for _, o, v in twins["magnet_psu"].output_log if o == "current"]
    steps = [abs(b - a) for a, b in zip(log, log[1:])]
    print("state " + json.dumps({
        "magnet_A": vb.magnet.setpoint_A, "dc_A": dict(vb.drives.dc_A),
        "on": {n: [k for k in ("output", "enabled") if t.outputs.get(k)] for n, t in twins.items()},
        "max_step_A": max(steps, default=0.0),
        "slew_step_A": p.bench.magnet.current_slew.max_step,
        "peak_A": max(map(abs, log), default=0.0)}), flush=True)
    sys.exit(rc)
""")
ARGS = ["run", "field-sweep", "--sim", "--param", "max_field=0.3", "--param",
        "field_step=0.005", "--param", "delay=0"]
TIMEOUT_S = 240


def run_child(tmp_path, first: int, at_point: int = 30, second: int | None = None,
              ignore_sigint: bool = False) -> dict:
    """Run the child, send ``first`` when point ``at_point`` is emitted and ``second`` when
    the child says it is ramping down; get rc, output lines, the state and the file."""
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    out = tmp_path / "out"

    def preexec():                   # a script's background job: SIGINT inherited ignored
        if ignore_sigint:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
    proc = subprocess.Popen([sys.executable, str(script), *ARGS, "--out", str(out)],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, preexec_fn=preexec)
    timer = threading.Timer(TIMEOUT_S, proc.kill)
    timer.start()
    lines, sent = [], []
    try:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if not sent and line.startswith(f"emitted {at_point}"):
                os.kill(proc.pid, first)
                sent.append(first)
            elif second is not None and len(sent) == 1 and "labspin: ramping" in line:
                os.kill(proc.pid, second)
                sent.append(second)
        proc.wait(30)
    finally:
        timer.cancel()
        proc.kill()
    state = next(json.loads(ln[6:]) for ln in lines if ln.startswith("state "))
    path = out / [ln for ln in lines if ln.endswith(".csv")][-1].rsplit("/", 1)[-1]
    return {"rc": proc.returncode, "lines": lines, "state": state, "sent": sent,
            "text": path.read_text(encoding="utf-8")}


def assert_aborted_safely(r: dict, name: str) -> None:
    s = r["state"]
    assert r["rc"] == 1, r["lines"][-15:]
    assert "#Status: ABORTED" in r["text"], r["text"][-400:]
    assert f"#Message: interrupted ({name})" in r["text"]
    assert s["magnet_A"] == 0.0 and not any(s["dc_A"].values()), s
    assert not any(s["on"].values()), s
    assert s["peak_A"] > 5 * s["slew_step_A"], s          # there was a ramp to make
    # every write of the magnet current, run and ramp-down, within the step limit (the
    # Kepco twin's 10 µA setting resolution allowed)
    assert s["max_step_A"] <= s["slew_step_A"] * (1 + 1e-9) + 1e-5, s
    said = "\n".join(r["lines"])
    assert f"labspin: {name} received: aborting the run" in said
    assert "labspin: ramping magnet_psu current from " in said


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_ramp_down_and_write_the_status(tmp_path, signum):
    r = run_child(tmp_path, signum)
    assert_aborted_safely(r, signal.Signals(signum).name)


def test_inherited_ignored_sigint_still_stops_and_a_second_signal_does_not_cut_the_ramp(
        tmp_path):
    r = run_child(tmp_path, signal.SIGINT, second=signal.SIGTERM, ignore_sigint=True)
    assert r["sent"] == [signal.SIGINT, signal.SIGTERM], r["lines"][-15:]
    assert_aborted_safely(r, "SIGINT")
    assert "labspin: SIGTERM received during the ramp-down: it goes on" in "\n".join(
        r["lines"])


def test_guard_sets_abort_of_a_run_in_another_thread_and_raises_only_once():
    """The GUI's case: the run is in a worker thread; a signal to the process sets its abort
    event. In the main thread the first signal raises StopSignal, later ones never do."""
    told: list[str] = []
    main_abort, worker_abort = threading.Event(), threading.Event()
    ready, done = threading.Event(), threading.Event()

    def worker():
        with signals.stop_guard(worker_abort, told.append):
            ready.set()
            done.wait(10)
    t = threading.Thread(target=worker)
    t.start()
    ready.wait(10)
    try:
        with signals.stop_guard(main_abort, told.append) as guard:
            with pytest.raises(signals.StopSignal) as info:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(1)               # the handler runs at the next bytecode
            assert info.value.name == "SIGTERM" and main_abort.is_set()
            assert worker_abort.is_set()
            guard.shield(["ramping x current from 1 A to 0 A, about 1 s"])
            os.kill(os.getpid(), signal.SIGHUP)     # noted, not raised
            time.sleep(0.05)
            assert guard.received == ["SIGTERM", "SIGHUP"]
    finally:
        done.set()
        t.join(10)
    assert not signals.installed()                  # the handlers were put back
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    assert any("SIGHUP received during the ramp-down" in s for s in told), told


def test_a_signal_between_the_lock_and_the_start_ends_aborted_with_nothing_switched_on(
        tmp_path, monkeypatch):
    """SIGTERM while the run holds its bench lock but has not started (its file being made):
    before, the process died there by the signal's default action, leaving a lock that named
    a dead run and no file (1 of 18 tmr-statistics trials of a full interruption campaign).
    Now the signal is noted: the run ends ABORTED at once, its file has the status, the lock
    is freed, no source was switched on, and the handlers are put back."""
    from labspin.bench.lock import lock_dir
    from labspin.run import api, runner

    monkeypatch.setenv("LABSPIN_LOCK_DIR", str(tmp_path / "locks"))
    p = api.prepare("current-sweep", params=["max_current=0.0002", "current_step=0.00005"])
    made = runner._unique_path

    def signalled(*args):
        os.kill(os.getpid(), signal.SIGTERM)     # delivered at the next bytecode, in here
        time.sleep(0.05)
        return made(*args)
    monkeypatch.setattr(runner, "_unique_path", signalled)
    result = runner.run_procedure(p.procedure, p.bench, tmp_path)
    assert result.status == runner.ABORTED
    assert "#Status: ABORTED" in result.path.read_text(encoding="utf-8")
    twins = p.bench.virtual.instruments
    assert not [n for n, t in twins.items() if t.outputs.get("output")], \
        {n: t.outputs for n, t in twins.items()}
    # what opening the bench sets (the magnet supply's 36 V compliance) and nothing else
    levels = [(n, o, v) for n, t in twins.items() for _, o, v in getattr(t, "output_log", [])
              if v and (n, o) != ("magnet_psu", "voltage")]
    assert not levels, levels
    assert not list(lock_dir().glob("*.lock"))
    assert not signals.installed()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
