"""The slew auditor of the simulated bench (issue 13 item 9): it records every setpoint change
of every simulated source and flags steps beyond the slew limit, rates beyond it, outputs
switched off away from their safe level and writes after the run ended. Each kind is shown
to fire on a change made to break it, and to stay silent on real runs (finished and aborted)
of the bench as labspin drives it."""
from __future__ import annotations

import threading

import pytest

from labspin.run.api import prepare
from labspin.run.runner import ABORTED, FINISHED, run_procedure
from labspin.sim_backend.audit import SlewAuditor

PARAMS = {"max_field": 0.05, "field_step": 0.01, "delay": 0}
SUPPLY = "magnet_psu"


@pytest.fixture
def opened():
    """An opened simulated field-sweep bench with an auditor watching it."""
    prepared = prepare("field-sweep", params=PARAMS, seed=1)
    bench = prepared.bench.open()
    auditor = SlewAuditor().watch(bench)
    yield bench, auditor, bench.virtual.instruments[SUPPLY]
    bench.close()


def test_a_step_beyond_the_slew_limit_is_a_violation(opened):
    bench, auditor, twin = opened
    step = bench.instruments[SUPPLY].slew_of("current").max_step
    twin.set("output", True)                    # at 0 A: a level is judged while it drives
    bench.clock.sleep(100.0)                    # no rate question: only the step counts
    twin.set("current", 1.5 * step)
    [v] = auditor.violations
    assert v.kind == "step" and v.change.twin == SUPPLY and v.change.output == "current"
    assert f"(max step {step:g})" in str(v)


def test_a_move_faster_than_the_slew_rate_is_a_violation(opened):
    bench, auditor, twin = opened
    slew = bench.instruments[SUPPLY].slew_of("current")
    twin.set("output", True)
    bench.clock.sleep(100.0)
    twin.set("current", 0.5 * slew.max_step)
    bench.clock.sleep(0.1 * slew.max_step / slew.max_rate)     # 10 × too fast
    twin.set("current", slew.max_step)
    assert [v.kind for v in auditor.violations] == ["rate"]


def test_switching_off_away_from_the_safe_level_is_a_violation(opened):
    bench, auditor, twin = opened
    twin.set("output", True)
    bench.clock.sleep(100.0)
    twin.set("current", 0.1)
    twin.set("output", False)
    [v] = auditor.violations
    assert v.kind == "off_not_safe" and "switched off with current at 0.1 (safe: 0)" in str(v)


def test_any_change_after_the_run_ended_is_a_violation(opened):
    bench, auditor, twin = opened
    auditor.end()
    twin.set("output", True)
    assert [v.kind for v in auditor.violations] == ["after_end"]


def test_a_correct_ramp_is_recorded_and_not_flagged(opened):
    bench, auditor, twin = opened
    supply = bench.instruments[SUPPLY]
    supply.output_enabled = True
    supply.ramp_to_current(1.0)
    supply.shutdown()
    moves = [c.new for c in auditor.changes if c.twin == SUPPLY and c.output == "current"]
    assert max(moves) == 1.0 and moves[-1] == 0.0 and len(moves) >= 2 * int(
        1.0 / supply.slew_of("current").max_step)
    assert auditor.violations == []


@pytest.mark.parametrize("abort_at", [None, 50.0])
def test_real_runs_have_no_violations(tmp_path, abort_at):
    prepared = prepare("field-sweep", params=PARAMS, seed=1)
    bench, abort = prepared.bench, threading.Event()
    opened_bench = bench.open
    auditors = []

    def open_and_watch(*args, **kwargs):
        out = opened_bench(*args, **kwargs)
        auditors.append(SlewAuditor().watch(bench))
        return out
    bench.open = open_and_watch

    def progress(percent, _):
        if abort_at is not None and percent >= abort_at:
            abort.set()
    result = run_procedure(prepared.procedure, bench, tmp_path, progress=progress, abort=abort)
    [auditor] = auditors
    auditor.end()
    assert result.status == (FINISHED if abort_at is None else ABORTED), result.message
    assert len(auditor.changes) > 10
    assert auditor.violations == []


def test_what_is_left_live_is_read_from_the_twins(opened):
    bench, auditor, twin = opened
    assert auditor.live() == []
    twin.set("output", True)
    twin.set("current", 0.1)
    assert auditor.live() == [f"{SUPPLY}.output on", f"{SUPPLY}.current = 0.1 (safe: 0)"]


def test_every_channel_of_a_two_channel_pulser_is_audited(tmp_path):
    """The Keysight 81160A's channels switch separately: each one left on is live, and a
    change after the end on either is a violation."""
    bench = prepare("pulse-switching").bench.open()
    try:
        auditor = SlewAuditor().watch(bench)
        pulser = bench.virtual.instruments["pulser"]
        assert "pulser" in auditor.watched
        assert pulser.audited_switches() == ("output[1]", "output[2]")
        pulser.respond(":OUTP2 ON")
        assert auditor.live() == ["pulser.output[2] on"]
        auditor.end()
        pulser.respond(":OUTP2 OFF")
        assert [(v.kind, v.change.output) for v in auditor.by_kind("after_end")] == [
            ("after_end", "output[2]")]
    finally:
        bench.close()


def test_a_served_bench_is_timed_by_the_given_clock(opened):
    """Timed by wall time, a write the twin's clock puts at the same instant as the one
    before (a served bench's clock ahead of wall time) is judged by when it was handled;
    ``timing_s`` allows that much lateness and no more."""
    bench, _, twin = opened
    slew = bench.instruments[SUPPLY].slew_of("current")
    now = [100.0]
    twin.set("output", True)
    auditor = SlewAuditor(timing_s=0.02, clock=lambda: now[0]).watch(bench)
    twin.set("current", slew.max_step)             # the twin's clock stands still throughout
    now[0] += slew.max_step / slew.max_rate - 0.015
    twin.set("current", 2 * slew.max_step)         # 15 ms early: within timing_s
    assert auditor.violations == []
    now[0] += slew.max_step / slew.max_rate - 0.03
    twin.set("current", 3 * slew.max_step)         # 30 ms early: too fast
    assert [v.kind for v in auditor.violations] == ["rate"]


def test_a_level_set_with_the_output_off_is_judged_when_it_goes_on(opened):
    """With the output off a setpoint drives nothing (an rf source sets its power, then goes
    on at its safe level and ramps): no step then; switching on away from the safe level by
    more than one step is what the device sees as a step."""
    bench, auditor, twin = opened
    step = bench.instruments[SUPPLY].slew_of("current").max_step
    bench.clock.sleep(100.0)
    twin.set("current", 4 * step)                  # output off: nothing reaches the coil
    assert auditor.violations == []
    twin.set("output", True)
    [v] = auditor.violations
    assert v.kind == "on_not_safe" and f"switched on with current at {4 * step:g}" in str(v)
    twin.set("output", False)
    twin.set("current", 0.5 * step)
    twin.set("output", True)                       # within one step of safe: allowed
    assert len(auditor.by_kind("on_not_safe")) == 1
