"""Dead and half-dead instruments (issue 13 item 3), on the simulated bench in-process:

* a magnet supply that stops answering mid-run (its replies time out, its writes still act)
  is ramped down blind from the setpoint labspin last wrote, step by step within the slew
  limit, then switched off; the run's message says exactly what is known;
* a supply that stops taking commands at all (connection dropped) is reported as possibly
  still on, with its last written setpoint;
* a supply whose output does not follow its setpoint (an injected stuck output) fails the
  run, naming it, instead of finishing with data labelled with fields never applied.
"""
from __future__ import annotations

import threading

import pytest

from labspin.run.api import prepare
from labspin.run.runner import FAILED, FINISHED, run_procedure

PARAMS = {"max_field": 0.1, "field_step": 0.01, "delay": 0}
SUPPLY = "magnet_psu"
RESOLUTION_A = 1e-5        # the Kepco twin's setting resolution (written with 6 digits)


def _run_field_sweep(tmp_path, at_percent: float, fault: str):
    """Run field-sweep; when progress first reaches ``at_percent`` inject ``fault`` for good
    on the magnet supply twin; get (RunResult, prepared run, supply current when it began)."""
    prepared = prepare("field-sweep", params=PARAMS, seed=3)
    twin = prepared.bench.virtual.instruments[SUPPLY]
    when: dict = {}

    def progress(percent, _elapsed):
        if percent >= at_percent and not when:
            when["current_A"] = twin.output("current")
            when["log_at"] = len(twin.output_log)
            twin.inject(fault, count=None)
    result = run_procedure(prepared.procedure, prepared.bench, tmp_path, progress=progress,
                           sample_name=prepared.sample_name, seed=3, abort=threading.Event())
    return result, prepared, when


def _steps_after(twin, start: int) -> tuple[list[float], float]:
    """Get the |current| steps the supply applied from output_log[start] on, and the last."""
    log = [v for _, o, v in twin.output_log[:start] if o == "current"][-1:]
    log += [v for _, o, v in twin.output_log[start:] if o == "current"]
    return [abs(b - a) for a, b in zip(log, log[1:])], log[-1]


def test_a_supply_that_stops_answering_is_ramped_down_blind_and_the_message_says_so(tmp_path):
    result, prepared, when = _run_field_sweep(tmp_path, 10.0, "timeout")
    twin = prepared.bench.virtual.instruments[SUPPLY]
    assert result.status == FAILED
    assert abs(when["current_A"]) > 0.5                       # well away from 0 when it went silent
    written = prepared.bench.instruments[SUPPLY].last_setpoint("current")
    assert written == 0.0                                # the blind ramp got to 0 A
    assert f"magnet ({SUPPLY}): did not answer; ramped blind from " in result.message
    assert " A to 0 A; output state unknown (" in result.message
    steps, final = _steps_after(twin, when["log_at"])
    slew = prepared.bench.magnet.current_slew.max_step
    assert final == 0.0 and max(steps) <= slew + RESOLUTION_A
    assert twin.output("output") is False                # the writes still acted: off
    assert "#Status: FAILED" in result.path.read_text(encoding="utf-8")


def test_a_dropped_connection_is_reported_as_possibly_still_on(tmp_path):
    result, prepared, when = _run_field_sweep(tmp_path, 10.0, "drop")
    assert result.status == FAILED
    assert f"magnet ({SUPPLY}): " in result.message
    assert "did not answer; ramping blind from " in result.message
    assert "failed: the output may still be on (last written current " in result.message
    # and that is the truth: the twin got no command after the drop
    twin = prepared.bench.virtual.instruments[SUPPLY]
    assert twin.output("output") is True and twin.output("current") == when["current_A"]


def test_a_stuck_supply_output_fails_the_run_naming_the_supply(tmp_path):
    """From 30 % on the supply accepts setpoints but its output stays where it was: the
    gaussmeter loop cannot settle, and the cause is named (not only "did not settle")."""
    result, prepared, when = _run_field_sweep(tmp_path, 30.0, "stuck_output")
    assert result.status == FAILED, result.message
    assert "does not follow its setpoint (stuck output?)" in result.message
    assert "Kepco" in result.message and "current: measured" in result.message


def test_the_same_sweep_without_a_fault_finishes(tmp_path):
    """The control for the three above: the following check passes on a healthy supply."""
    prepared = prepare("field-sweep", params=PARAMS, seed=3)
    result = run_procedure(prepared.procedure, prepared.bench, tmp_path,
                           sample_name=prepared.sample_name, seed=3)
    assert result.status == FINISHED, result.message


@pytest.mark.parametrize("fault", ["timeout", "drop"])
def test_other_sources_are_still_made_safe(tmp_path, fault):
    _, prepared, _ = _run_field_sweep(tmp_path, 40.0, fault)
    for name, twin in prepared.bench.virtual.instruments.items():
        if name != SUPPLY and "output" in twin.outputs:
            assert not twin.outputs["output"], name


# ---------------------------------------------------------------- source meters
SWEEP = {"max_current": 6e-6, "current_step": 2e-6, "cycles": 1, "compliance": 1.0}


def _run_current_sweep(tmp_path, params=SWEEP, fault_at: float | None = None):
    """Run current-sweep (the source meter drives the junction); from ``fault_at`` % on the
    source meter twin's output stays where it was (it still echoes its setpoints)."""
    prepared = prepare("current-sweep", params=params, seed=2)
    twin = prepared.bench.virtual.instruments["smu"]

    def progress(percent, _elapsed):
        if fault_at is not None and percent >= fault_at and not twin.faults:
            twin.inject("stuck_output", count=None)
    result = run_procedure(prepared.procedure, prepared.bench, tmp_path, progress=progress,
                           sample_name=prepared.sample_name, seed=2)
    return result, twin


def test_a_stuck_source_meter_fails_the_run_naming_setpoint_readback_and_tolerance(tmp_path):
    result, twin = _run_current_sweep(tmp_path, fault_at=30.0)
    assert result.status == FAILED, result.message
    assert "Keithley 2400 SourceMeter current: measured " in result.message
    assert " A set (tolerance " in result.message
    assert "does not follow its setpoint (stuck output?)" in result.message
    assert "#Status: FAILED" in result.path.read_text(encoding="utf-8")


def test_a_source_meter_in_compliance_fails_the_run(tmp_path):
    """6 µA into the 2–4.4 kΩ junction needs 12–26 mV: a 10 mV compliance holds it back."""
    result, _ = _run_current_sweep(tmp_path, {**SWEEP, "compliance": 0.01})
    assert result.status == FAILED, result.message
    assert "(source_meter): in compliance (status word bit 3) with current " in result.message


def test_the_same_current_sweep_without_a_fault_finishes(tmp_path):
    result, twin = _run_current_sweep(tmp_path)
    assert result.status == FINISHED, result.message
    assert any("MEAS" in text.upper() and "CURR" in text.upper() for _, text in twin.log)


def test_a_current_source_in_compliance_is_refused_when_its_sine_starts():
    """The 6221's compliance (measurement condition bit 3): 1 mA peak into the 1.2 kΩ bar
    needs 1.2 V; at a 0.5 V compliance the sine is clipped, the error names it."""
    from labspin.drivers.base import OutputNotFollowingError
    from labspin.sim_backend.wirings import simulated_bench
    bench = simulated_bench("lockin_transport", "inplane_sot_hallbar").open()
    try:
        cs = bench.role("current_source")
        cs.compliance_voltage = 0.5
        with pytest.raises(OutputNotFollowingError, match=r"Keithley 6221 Current Source "
                                                          r"\(current_source\): in compliance "
                                                          r".* sine amplitude 0.001 A set at a "
                                                          r"0.5 V compliance"):
            cs.start_sine(1e-3, 133.0)
        cs.compliance_voltage = 10.0
        cs.start_sine(1e-3, 133.0)                       # 1.2 V within 10 V: runs
    finally:
        assert bench.shutdown() == []
        bench.close()
