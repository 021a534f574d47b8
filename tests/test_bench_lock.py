"""One owner per bench and unclean ends (issue 13 items 4-5).

The locks themselves (a second owner refused naming the holder, a dead holder an unclean end,
a reused pid, another host), a second sequence on one results folder, the journal, and
``labspin bench safe`` beside a live run or a dead instrument. A ``labspin run`` SIGKILLed
with sources live on a served bench of each kind, the next run and ``labspin bench check``
naming them and ``labspin bench safe`` zeroing them, is in ``test_interruption_campaign.py``
(with a second run refused before every interruption of the campaign).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from labspin.bench.lock import BenchBusy, BenchLock, UncleanEnd
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.wirings import bench_config_text, build_bench, follow_wall_clock

RESOURCES = ["TCPIP::127.0.0.1::5025::SOCKET", "GPIB0::24::INSTR"]


@pytest.fixture
def locks(tmp_path, monkeypatch):
    monkeypatch.setenv("LABSPIN_LOCK_DIR", str(tmp_path / "locks"))
    return tmp_path / "locks"


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_second_owner_is_refused_naming_the_holder_and_nothing_is_kept(locks):
    first = BenchLock(RESOURCES, "stfmr", "bench A").acquire()
    with pytest.raises(BenchBusy) as err:           # another resource order, same instrument
        BenchLock(["gpib0::24::instr", "ASRL1::INSTR"], "field-sweep", "bench B").acquire()
    text = str(err.value)
    assert "GPIB0::24::INSTR" in text.upper() and "'stfmr'" in text
    assert f"pid {os.getpid()}" in text and first.holder["started"] in text
    assert len(list(locks.glob("*.lock"))) == 2     # the refused one took nothing
    first.release()
    assert not list(locks.iterdir())
    BenchLock(["ASRL1::INSTR", "GPIB0::24::INSTR"], "field-sweep", "bench B").acquire().release()


def test_a_dead_holder_is_an_unclean_end_not_a_takeover(locks):
    dead = BenchLock(RESOURCES, "stfmr", "bench A").acquire()
    pid = dead_pid()
    for path in locks.glob("*.lock"):               # as if that process had taken it
        holder = json.loads(path.read_text())
        path.write_text(json.dumps({**holder, "pid": pid}))
    dead.journal_path.write_text(json.dumps([{"name": "smu", "role": "source_meter",
                                 "resource": RESOURCES[0],
                                 "setpoints": {"current": [1e-3, "A"]}}]))
    with pytest.raises(UncleanEnd) as err:
        BenchLock(RESOURCES, "stfmr", "bench A").acquire("bench.toml")
    assert f"pid {pid}" in str(err.value) and "smu (source_meter" in str(err.value)
    assert "last set current 0.001 A" in str(err.value)
    assert "labspin bench safe bench.toml" in str(err.value)
    assert err.value.sources[0]["name"] == "smu"
    taker = BenchLock(RESOURCES, "bench safe", "bench A").acquire(take_over_dead=True)
    assert all(json.loads(p.read_text())["pid"] == os.getpid() for p in locks.glob("*.lock"))
    taker.release()


def test_a_reused_pid_is_not_the_holder(locks):
    """After a power cut the dead run's pid may belong to another live process."""
    lock = BenchLock(RESOURCES[:1], "stfmr", "bench A").acquire()
    path = next(locks.glob("*.lock"))
    holder = json.loads(path.read_text())
    if not holder["identity"]:
        pytest.skip("no /proc: only the pid is compared")
    boot, ticks = holder["identity"].rsplit(":", 1)
    path.write_text(json.dumps({**holder, "identity": f"{boot}:{int(ticks) - 1}"}))
    with pytest.raises(UncleanEnd, match=f"pid {os.getpid()}"):    # same pid, another start
        BenchLock(RESOURCES[:1], "stfmr", "bench A").acquire()
    path.write_text(json.dumps({**holder, "identity": f"another-boot:{ticks}"}))
    with pytest.raises(UncleanEnd):
        BenchLock(RESOURCES[:1], "stfmr", "bench A").acquire()
    path.write_text(json.dumps(holder))
    lock.release()


def test_a_holder_on_another_host_counts_as_alive(locks):
    lock = BenchLock(RESOURCES[:1], "stfmr", "bench A").acquire()
    path = next(locks.glob("*.lock"))
    path.write_text(json.dumps({**json.loads(path.read_text()), "host": "elsewhere",
                                "pid": dead_pid()}))
    with pytest.raises(BenchBusy, match="on elsewhere"):
        BenchLock(RESOURCES[:1], "stfmr", "bench A").acquire()
    path.unlink()
    lock.release()


def labspin(*args, env, cwd, **kw):
    return subprocess.run([sys.executable, "-m", "labspin.cli.main", *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=120, **kw)


SEQUENCE = """\
procedure = "tmr-statistics"
seed = 4

[params]
reads = 100

[grid]
bias_current = [5e-6]
"""


def test_a_second_sequence_on_one_results_folder_is_refused_naming_the_holder(tmp_path, locks):
    from labspin.run import sequence as sq
    (tmp_path / "seq.toml").write_text(SEQUENCE)
    out = tmp_path / "out"
    holder = BenchLock([f"FOLDER::{out.resolve()}"], "sequence of tmr-statistics",
                       f"results folder {out}").acquire()       # a live sequence holds it
    try:
        r = labspin("sequence", "seq.toml", "--out", str(out), env=dict(os.environ),
                    cwd=tmp_path)
        assert r.returncode == 2
        assert f"in use by the run 'sequence of tmr-statistics' (pid {os.getpid()}" in r.stderr
        assert not out.exists() or not list(out.glob("*.csv"))
    finally:
        holder.release()
    # a dead sequence's lock is taken over, said in the log
    dead = BenchLock([f"FOLDER::{out.resolve()}"], "sequence of tmr-statistics", "x").acquire()
    for path in locks.glob("*.lock"):
        path.write_text(json.dumps({**json.loads(path.read_text()), "pid": dead_pid()}))
    said = []
    result = sq.run_sequence(sq.load_sequence(tmp_path / "seq.toml"), out, log=said.append)
    assert result.complete and "taking over from the dead sequence" in said[0]
    dead.journal_path.unlink(missing_ok=True)
    assert not list(locks.glob("*.lock"))


def test_the_journal_follows_every_setpoint_before_it_is_written(tmp_path):
    """A kill between two rows (during a ramp) leaves the setpoint last written in it."""
    from labspin.bench.journal import follow, read_sources
    from labspin.run.api import prepare
    bench = prepare("current-sweep").bench.open()
    path = tmp_path / "run.journal.json"
    try:
        follow(bench, path)
        assert {s["name"]: s["setpoints"]["current"][0] for s in read_sources(path)
                if s["role"] == "source_meter"} == {"smu": None}
        smu = bench.role("source_meter")
        smu.source_current = 2.5e-6                  # one write, no results row
        after = {s["name"]: s["setpoints"] for s in read_sources(path)}
        assert after["smu"]["current"] == [2.5e-6, "A"]
    finally:
        bench.shutdown()
        bench.close()


def test_bench_safe_leaves_a_bench_a_live_run_holds_alone(tmp_path, capsys):
    from labspin.bench.config import EXAMPLE, load_bench_config
    from labspin.cli.main import main
    config = load_bench_config(EXAMPLE)
    live = BenchLock([c.resource for c in config.instruments.values()][:1], "stfmr",
                     config.name).acquire()
    try:
        assert main(["bench", "safe", str(EXAMPLE)]) == 2          # before any connection
        assert "in use by the run 'stfmr'" in capsys.readouterr().err
    finally:
        live.release()


def test_bench_safe_ramps_the_others_when_one_instrument_is_dead(tmp_path):
    from labspin.bench.config import load_bench_config
    from labspin.bench.session import Bench
    vb, slots = build_bench(load_sample("mtj_pillar"), "pulsed")
    twins = {n: vb.instruments[n] for n in slots}
    follow_wall_clock(vb, twins.values())
    handle = serve(twins)
    try:
        text = bench_config_text(vb, slots, resources=handle.resources, visa_library="@py",
                                 name="served")
        dead = "TCPIP::127.0.0.1::9::SOCKET"             # discard port: nothing answers
        (tmp_path / "b.toml").write_text(text.replace(handle.resources["pulser"], dead))
        live = Bench(load_bench_config(tmp_path / "b.toml"))
        live.open(keep_going=True)
        smu = live.role("source_meter")
        smu.source_mode = "current"
        smu.source_current = 5e-6                        # left on, as a killed run leaves it
        smu.source_enabled = True
        live.close()
        assert twins["smu"].outputs["output"] and twins["smu"].outputs["source_current"] == 5e-6
        r = labspin("bench", "safe", "b.toml", env=dict(os.environ), cwd=tmp_path)
        assert r.returncode == 1, r.stderr
        said = r.stdout + r.stderr             # refused at open, or at its shutdown: named
        assert "cannot open pulser" in said or "FAIL pulser" in said, said
        assert "safe smu" in r.stdout and "safe magnet_psu" in r.stdout
        assert not twins["smu"].outputs["output"] and twins["smu"].outputs["source_current"] == 0
    finally:
        handle.close()
