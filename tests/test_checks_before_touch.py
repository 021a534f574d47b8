"""Every check before any touch (issue 13 item 7): inputs that used to fail only after
instruments were touched are refused before the first output changes. Each case runs on the
simulated bench and asserts on the twins' own logs (every message received, every output
change applied) that no output was changed — and, where the refusal comes before the bench
is opened, that no instrument received anything at all."""
from __future__ import annotations

import dataclasses

import pytest

from labspin.bench.safety import LimitError
from labspin.run.api import prepare
from labspin.run.runner import FAILED, run_procedure


def _logs(bench) -> dict[str, tuple[int, int]]:
    """Get per twin (messages received, output changes applied)."""
    return {n: (len(t.log), len(t.output_log)) for n, t in bench.virtual.instruments.items()}


def _outputs(bench) -> dict[str, list]:
    """Get per twin its output changes so far (a twin's power-on state may log one)."""
    return {n: list(t.output_log) for n, t in bench.virtual.instruments.items()}


def test_a_zero_current_is_refused_before_the_bench_is_opened(tmp_path):
    """field-sweep computes R = V/I per point: Current = 0 was a ZeroDivisionError mid-run,
    after the magnet and the source meter had been driven."""
    prepared = prepare("field-sweep", params={"max_field": 0.02, "field_step": 0.01},
                       seed=0)
    prepared.procedure.current = 0.0
    before = _logs(prepared.bench)
    with pytest.raises(ValueError, match=r"parameter 'Current' = 0 A: .* 0 < \|Current\| ≤"):
        run_procedure(prepared.procedure, prepared.bench, tmp_path)
    assert _logs(prepared.bench) == before                     # not a message sent
    assert list(tmp_path.iterdir()) == []                       # and no results file


def test_a_zero_current_is_refused_by_prepare_too():
    with pytest.raises(ValueError, match="parameter 'Current' = 0 A"):
        prepare("field-sweep", params={"current": 0}, seed=0)


def test_an_rf_power_outside_the_source_range_is_refused_before_any_touch(tmp_path):
    """The bench allows down to any power; the E8257D without its step attenuator stops at
    −20 dBm and would reject −30 dBm mid-run (after the magnet had ramped)."""
    params = {"frequencies": "6", "field_points": 5, "both_polarities": False,
              "dc_currents": "0", "powers": "-30"}
    with pytest.raises(LimitError, match=r"parameter 'Powers' \(the range of .*\) = -30.0? "
                                         r"dBm is outside the allowed range \[-20, "):
        prepare("stfmr", params=params, seed=0)


def test_a_bench_max_field_beyond_the_magnet_reach_fails_before_any_output(tmp_path):
    """A bench max_field_T the calibration cannot reach within the supply's current used to
    surface only when a sweep came near it (the magnet already at high field)."""
    prepared = prepare("field-sweep", params={"max_field": 0.02, "field_step": 0.01},
                       seed=0)
    bench = prepared.bench
    cfg = bench.config
    bench.config = dataclasses.replace(cfg, limits=dataclasses.replace(cfg.limits,
                                                                       max_field_T=50.0))
    before = _outputs(bench)
    result = run_procedure(prepared.procedure, bench, tmp_path)
    assert result.status == FAILED
    assert "bench limit max_field_T = 50 T is beyond the magnet's reach" in result.message
    assert _outputs(bench) == before


@pytest.mark.parametrize("fault", ["bad option", "dead resource"])
def test_a_broken_last_instrument_fails_before_any_output(tmp_path, fault):
    prepared = prepare("field-sweep", params={"max_field": 0.02, "field_step": 0.01},
                       seed=0)
    bench = prepared.bench
    cfg = bench.config
    last = list(cfg.instruments)[-1]
    broken = cfg.instruments[last]
    broken = (dataclasses.replace(broken, options={**broken.options, "no_such_option": 1})
              if fault == "bad option" else
              dataclasses.replace(broken, resource="GPIB0::29::INSTR"))
    bench.config = dataclasses.replace(cfg, instruments={**cfg.instruments, last: broken})
    before = _outputs(bench)
    result = run_procedure(prepared.procedure, bench, tmp_path)
    assert result.status == FAILED
    assert f"cannot open {last}" in result.message
    assert _outputs(bench) == before
    assert "#Status: FAILED" in result.path.read_text(encoding="utf-8")


def test_the_lock_in_sine_output_is_limited_by_the_bench_voltage_in_the_driver(tmp_path):
    """Issue 13 item 6: the sine output drives the sample like any source; its peak
    (√2·V_rms) and the SR86x dc offset are held to the bench's max_sample_voltage_V in the
    driver, whatever a procedure's check() does."""
    prepared = prepare("harmonic-hall", params={"max_field": 0.01, "field_step": 0.01,
                                                "field_angles": "0", "sine_amplitude": 1.0},
                       seed=0)
    bench = prepared.bench
    cfg = bench.config
    bench.config = dataclasses.replace(cfg, limits=dataclasses.replace(
        cfg.limits, max_sample_voltage_V=1.0))
    bench.open()
    try:
        name = bench.config.by_role("lock_in")[0].name
        lockin = bench.instruments[name]
        low, high, unit = lockin.limits_of("sine_amplitude")
        assert high == pytest.approx(1.0 / 2 ** 0.5) and unit == "V"
        before = _outputs(bench)
        with pytest.raises(LimitError, match=r"sine_amplitude = 0.8 V is outside .*0.707107\]"):
            lockin.sine_amplitude = 0.8
        if "sine_offset" in lockin.SAFE_LIMITS:
            assert lockin.limits_of("sine_offset")[:2] == (-1.0, 1.0)
        assert _outputs(bench) == before
    finally:
        bench.close()
