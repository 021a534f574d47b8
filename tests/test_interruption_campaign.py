"""Interruption campaign over served sockets (issue 13 item 10).

The simulated transport bench is served on loopback sockets from this process (its clock
following wall time, the slew auditor listening to every twin); ``labspin run --bench`` drives
it from another process, exactly as on a real bench, and is interrupted at a random moment
(a message count drawn uniformly, seeded) with SIGINT, SIGTERM or SIGHUP, a quarter of the
trials with a second signal while it ramps down, half of them with every magnet supply reply
150 ms late (``reply_latency_s``, as ``labspin sim serve --latency``). After each trial:

* the auditor saw no violation (no step or rate beyond the slew limits, no output switched
  off away from its safe level, nothing changed after the process ended);
* every source is at its safe level with its output off;
* the results file loads and ends with its status (ABORTED), and the process exited.

CI runs ``N_TRIALS`` trials; ``LABSPIN_CAMPAIGN=full`` runs ``N_FULL``. The figures are
printed (pytest -s).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from labspin.bench.config import load_bench_config
from labspin.bench.session import Bench
from labspin.sim_backend.audit import SlewAuditor
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.wirings import bench_config_text, build_bench, follow_wall_clock

FULL = os.environ.get("LABSPIN_CAMPAIGN", "") == "full"
N_TRIALS, N_FULL = 2, 200
"""Trials in CI (each a process start and a run of some 20–40 s of wall time) and in full."""
RUNS = {
    "field-sweep": ["--param", "max_field=0.02", "--param", "field_step=0.002",
                    "--param", "delay=0"],
    "current-sweep": ["--param", "max_current=6e-6", "--param", "current_step=1e-6",
                      "--param", "cycles=3"],
}
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LATENCY_S = 0.15
TIMEOUT_S = 120
FIGURES: Counter = Counter()


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    yield
    print("\ninterruption campaign:", dict(FIGURES))


def _serve_bench(tmp_path, latency_s: float):
    """Serve a fresh transport bench; get (handle, twins, bench config path, auditor)."""
    vb, slots = build_bench(load_sample("inplane_sot_hallbar"), "transport", seed=0)
    twins = {n: vb.instruments[n] for n in slots}
    follow_wall_clock(vb, twins.values())
    handle = serve(twins)
    path = tmp_path / "bench.toml"
    path.write_text(bench_config_text(vb, slots, resources=handle.resources,
                                      visa_library="@py", name="served campaign bench"),
                    encoding="utf-8")
    limits = Bench(load_bench_config(path)).open()      # the drivers' limits, as configured
    auditor = SlewAuditor().watch(limits, twins)
    limits.close()
    for name, slot in slots.items():
        if slot.role == "magnet_supply":
            twins[name].reply_latency_s = latency_s
    return handle, twins, path, auditor


def _messages(twins) -> int:
    return sum(len(t.log) for t in twins.values())


def _trial(k: int, tmp_path) -> None:
    rng = np.random.default_rng([13, k])
    procedure = sorted(RUNS)[k % len(RUNS)]
    first = SIGNALS[k % len(SIGNALS)]
    double = k % 4 == 1
    latency = LATENCY_S if k % 2 else 0.0
    handle, twins, bench_file, auditor = _serve_bench(tmp_path, latency)
    try:
        start = _messages(twins)
        at = start + int(rng.integers(20, 200))
        out = tmp_path / "out"
        proc = subprocess.Popen(
            [sys.executable, "-m", "labspin.cli.main", "run", procedure, "--bench",
             str(bench_file), *RUNS[procedure], "--out", str(out)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + TIMEOUT_S
        while _messages(twins) < at and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        finished_first = proc.poll() is not None
        if not finished_first:
            proc.send_signal(first)
            if double:                   # a second signal while it ramps down
                changes = len(auditor.changes)
                while (len(auditor.changes) == changes and proc.poll() is None
                       and time.monotonic() < deadline):
                    time.sleep(0.002)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGINT)
                    FIGURES["second_signals"] += 1
        stdout, stderr = proc.communicate(timeout=TIMEOUT_S)
        auditor.end()
        time.sleep(0.05)                 # nothing may arrive after the process ended
    finally:
        handle.close()
    FIGURES["trials"] += 1
    FIGURES[f"latency_{latency:g}s"] += 1
    FIGURES[signal.Signals(first).name] += 1
    where = f"trial {k}: {procedure}, {signal.Signals(first).name}, double={double}, " \
            f"latency={latency}: rc={proc.returncode}\n{stderr[-2000:]}"
    assert auditor.violations == [], (where, [str(v) for v in auditor.violations])
    FIGURES["auditor_violations"] += len(auditor.violations)
    for name, twin in twins.items():
        if twin.AUDIT_SWITCH is not None:
            assert not twin.output(twin.AUDIT_SWITCH), (where, f"{name} left on")
        for output in twin.audited_levels():
            assert twin.output(output) == 0, (where, f"{name}.{output} = {twin.output(output)}")
    files = sorted(out.glob("*.csv"))
    assert len(files) == 1, where
    text = files[0].read_text(encoding="utf-8")
    status = "FINISHED" if finished_first else "ABORTED"
    assert f"#Status: {status}" in text, (where, text[-300:])
    pd.read_csv(files[0], comment="#")
    FIGURES["files_intact"] += 1
    FIGURES["finished_before_the_signal" if finished_first else "interrupted"] += 1


@pytest.mark.parametrize("k", range(N_FULL if FULL else N_TRIALS))
def test_random_interruptions_over_served_sockets(k, tmp_path):
    _trial(k, tmp_path)
