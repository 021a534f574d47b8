"""Limits from the worst case, in one place (issue 13 item 6), through every public API:

* a lock-in's sine and a pulse generator's level are limited in the driver layer by the
  current they would drive into a *shorted* sample behind their own 50 Ω and the bench's
  series resistor (``series_resistance_ohm``, bench hardware) — never by a resistance typed
  into a procedure parameter — and by the sample's voltage across an open one;
* the magnet supply's current stops where the first branch of the calibration (either
  polarity) reaches max_field_T, so driving the supply directly never exceeds it on any
  branch; a field the other branch cannot reach within that current is refused before
  anything is written, naming the field both branches reach;
* configure_safety() only ever narrows.
"""
from __future__ import annotations

import dataclasses
import math
import tomllib

import pytest

from labspin.bench.config import ConfigError, parse_bench_config
from labspin.bench.safety import LimitError
from labspin.run.api import prepare
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import PULSE_SERIES_OHM, WIRINGS, simulated_bench

I_MAX = 0.02                       # A, the simulated bench's max_sample_current_A


def _without_series(bench, name):
    """Get ``bench`` with instrument ``name``'s series resistor taken out of its config."""
    cfg = bench.config
    inst = dataclasses.replace(cfg.instruments[name], series_resistance_ohm=0.0)
    bench.config = dataclasses.replace(cfg, instruments={**cfg.instruments, name: inst})
    return bench


def test_the_series_resistor_is_bench_hardware_in_the_config():
    bench = simulated_bench("harmonic_hall", "perpendicular_sot_hallbar")
    cfg = bench.config
    # the twin's 10 kΩ is the whole resistance outside the sample, its 50 Ω output included
    assert cfg.instruments["lockin_1w"].series_resistance_ohm == 10e3 - 50.0
    assert simulated_bench("pulsed", "mtj_pillar").config.instruments["pulser"] \
        .series_resistance_ohm == PULSE_SERIES_OHM
    text = "\n".join(f"[instruments.{n}]\nrole = \"{s.role}\"\ndriver = \"{s.driver}\"\n"
                     f"resource = \"{s.resource}\"\n" for n, s in WIRINGS["pulsed"].items())
    text += "series_resistance_ohm = -5.0\n[limits]\nmax_sample_current_A = 0.01\n" \
            "max_field_T = 0.1\nmax_field_ramp_T_per_s = 0.1\nmax_rf_power_dBm = 0\n"
    with pytest.raises(ConfigError, match=r"instruments.gaussmeter.series_resistance_ohm: "
                                          r"must be ≥ 0"):
        parse_bench_config(tomllib.loads(text))


def test_a_lock_in_sine_into_a_shorted_sample_stays_within_the_current_limit():
    bench = _without_series(simulated_bench("harmonic_hall", "perpendicular_sot_hallbar"),
                            "lockin_1w").open()
    try:
        lockin = bench.role("lock_in", "lockin_1w")
        low, high, unit = lockin.limits_of("sine_amplitude")
        # the peak √2·V_rms behind the output's 50 Ω into a short is the bench's 20 mA
        assert math.sqrt(2) * high / 50.0 == pytest.approx(I_MAX, rel=1e-12)
        twin = bench.virtual.instruments["lockin_1w"]
        sent = len(twin.log)
        with pytest.raises(LimitError, match=r"SR830 sine_amplitude = 1.0 V is outside the "
                                             r"allowed range \[0.004, 0.707107\] V .*lock_in "
                                             r"lockin_1w: .*series_resistance_ohm"):
            lockin.sine_amplitude = 1.0
        assert len(twin.log) == sent                      # nothing was written
        # the SR860's dc offset is limited the same way: behind its 10 kΩ a short takes
        # 20 mA at 200 V, beyond the bench's 20 V and the model's own ±5 V, which holds
        assert bench.role("lock_in", "lockin_2w").limits_of("sine_offset")[:2] == (-5.0, 5.0)
    finally:
        bench.close()
    # with the 10 kΩ the same 5 V rms is 0.7 mA into a short: the default sine runs
    bench = simulated_bench("harmonic_hall", "perpendicular_sot_hallbar").open()
    try:
        assert bench.role("lock_in", "lockin_1w").limits_of("sine_amplitude")[:2] \
            == (0.004, 5.0)
    finally:
        bench.close()


def test_a_pulse_at_the_limit_into_a_shorted_sample_drives_at_most_the_current_limit():
    """A near-short (a 1 mΩ junction): the simulated generator's own physics (EMF 2V behind
    50 Ω and the wiring's protection resistor) gives at most the 40 nm junction's 0.628 mA
    (5e11 A/m², its [limits]) at the largest level the driver allows."""
    bench = simulated_bench("pulsed", "mtj_pillar",
                            ["readout.r_p_ohm=0.001", "readout.r_ap_ohm=0.002"]).open()
    i_max = 5e11 * math.pi * (20e-9) ** 2        # A, the sample's current density limit
    try:
        assert bench.config.limits.max_sample_current_A == pytest.approx(i_max, rel=1e-12)
        pg = bench.role("pulse_generator")
        low, high, _ = pg.limits_of("amplitude")
        # the short binds before the barrier's 1 V: 0.628 mA · 1.55 kΩ = 0.97 V < 1 V
        assert high == pytest.approx(i_max * (50.0 + PULSE_SERIES_OHM) / 2) == -low
        assert 2 * high < bench.config.limits.max_sample_voltage_V
        pg.configure_pulse_mode()
        pg.width = 2e-9
        # the largest level the generator holds within the limit: it keeps 6 significant
        # digits, and a level written as "0.486947" (above 0.4869469 V) is refused when
        # the output is switched on
        top = math.floor(high * 1e6) / 1e6
        for level in (top, -top):
            pg.output_enabled = False
            pg.amplitude = level
            pg.output_enabled = True
            pg.fire()
        twin = bench.virtual.instruments["pulser"]
        currents = [abs(p[1]) for p in twin.pulses[-2:]]
        assert all(0.999 * i_max < c <= i_max * (1 + 1e-9) for c in currents), currents
        sent = len(twin.log)
        for value in (0.49, -0.49):
            with pytest.raises(LimitError, match=r"amplitude = -?0.49 V is outside the "
                                                 r"allowed range \[-0.486947, 0.486947\] V "
                                                 r".*pulse_generator pulser: "
                                                 r"max_sample_current_A = 0.000628319 A .*"
                                                 r"1500 Ω series"):
                pg.amplitude = value
        assert len(twin.log) == sent                      # nothing was written
        # the bench's limits are only ever narrowed
        with pytest.raises(LimitError, match="only ever narrowed"):
            pg.configure_safety(limits={"amplitude": (-5.0, 5.0)})
        assert pg.limits_of("amplitude")[1] == pytest.approx(high)
    finally:
        bench.shutdown()
        bench.close()


def test_an_intact_junction_gets_the_pulse_current_of_the_series_circuit():
    """The wiring's protection resistor is in the simulated pulse current: a level V into
    50 Ω drives 2V/(50 Ω + R_s + R) through the junction in P and in AP."""
    bench = simulated_bench("pulsed", "mtj_pillar").open()
    try:
        pg = bench.role("pulse_generator")
        pg.configure_pulse_mode()
        pg.width = 2e-9
        twin = bench.virtual.instruments["pulser"]
        r = abs(bench.virtual.resistance(twin.probe))
        assert r == pytest.approx(2000.0, rel=1e-3) or r == pytest.approx(4400.0, rel=1e-3)
        pg.amplitude = 0.4                # 0.8 V / (1.55 kΩ + R): 0.1–0.2 mA
        pg.output_enabled = True
        pg.fire()
        assert twin.pulses[-1][1] == pytest.approx(0.8 / (50.0 + PULSE_SERIES_OHM + r),
                                                   rel=1e-9)
    finally:
        bench.shutdown()
        bench.close()


def _magnet_bench():
    return simulated_bench("transport", "perpendicular_sot_hallbar",
                           magnet=VirtualMagnet(axis="z"))


def test_driving_the_supply_directly_never_exceeds_max_field_on_any_branch():
    """The issue's case (0.468 T against 0.45 T): the supply's current limit is where the
    down branch reaches +max_field_T (and the up branch −max_field_T), so a full loop to
    the limit, written to the supply directly, stays within ±max_field_T."""
    bench = _magnet_bench().open()
    vb = bench.virtual
    k, br = vb.magnet.tesla_per_A, vb.magnet.remanence_T
    b_max = bench.config.limits.max_field_T
    supply = bench.role("magnet_supply")
    i_lim = (b_max - br) / k                        # the down branch B = kI + B_r at b_max
    try:
        assert supply.limits_of("current")[:2] == pytest.approx((-i_lim, i_lim), rel=1e-12)
        fields = []
        supply.output_enabled = True
        for target in (i_lim, -i_lim, i_lim):
            supply.current_setpoint = target        # ramped by the driver, limit-checked
            bench.clock.sleep(5.0)                  # the coil settles (L/R = 0.2 s)
            fields.append(vb.magnet.field_magnitude_T())
        # up branch kI − B_r at +I_lim, down branch kI + B_r at −I_lim: both 2·B_r inside
        assert fields == pytest.approx([b_max - 2 * br, -(b_max - 2 * br), b_max - 2 * br],
                                       abs=1e-6)
        assert max(abs(f) for f in fields) <= b_max + 1e-9
        sent = len(vb.instruments["magnet_psu"].log)
        with pytest.raises(LimitError, match=r"max_field_T = 0.45 T is reached at 11.175 A"):
            supply.current_setpoint = i_lim + 0.01
        assert len(vb.instruments["magnet_psu"].log) == sent
        # the bench's limits are only ever narrowed
        with pytest.raises(LimitError, match="only ever narrowed"):
            supply.configure_safety(limits={"current": (-12.0, 12.0)})
        assert supply.limits_of("current")[1] == pytest.approx(i_lim)
    finally:
        assert bench.shutdown() == []
        bench.close()


def test_a_field_the_other_branch_cannot_reach_is_refused_naming_the_reachable_one():
    bench = _magnet_bench().open()
    vb = bench.virtual
    reach = bench.config.limits.max_field_T - 2 * vb.magnet.remanence_T      # 0.444 T
    assert bench.config.settable_field_T == pytest.approx(reach)
    try:
        sent = len(vb.instruments["magnet_psu"].log)
        with pytest.raises(LimitError, match=r"magnet field 0.45 T needs 11.325 A on the up "
                                             r"branch .*both branches reach ±0.444 T"):
            bench.magnet.set_field(0.45)
        assert len(vb.instruments["magnet_psu"].log) == sent
        assert bench.magnet.set_field(-0.44) == pytest.approx(-0.44, abs=5e-4)
    finally:
        assert bench.shutdown() == []
        bench.close()
    # a procedure's check() (before any instrument is opened) refuses it the same way
    with pytest.raises(LimitError, match=r"'Max field' = 0.445 T is outside the allowed "
                                         r"range \[0, 0.444\] T"):
        prepare("field-sweep", params={"max_field": 0.445, "field_step": 0.005}, seed=0)


def test_the_sr86x_sine_peak_with_its_dc_offset_stays_within_the_limit_at_every_write():
    # without its 10 kΩ, lockin_2w (an SR860) drives a short behind 50 Ω: the sample's 20 mA
    # allow an EMF of 1 V, which |offset| + √2·V_rms must not exceed, whichever is set first
    bench = _without_series(simulated_bench("harmonic_hall", "perpendicular_sot_hallbar"),
                            "lockin_2w").open()
    try:
        lockin = bench.role("lock_in", "lockin_2w")
        twin = bench.virtual.instruments["lockin_2w"]
        assert lockin.limits_of("sine_offset")[:2] == pytest.approx((-I_MAX * 50,
                                                                     I_MAX * 50))
        lockin.sine_amplitude = 0.5                        # peak 0.707 V: within 1 V alone
        sent = len(twin.log)
        with pytest.raises(LimitError, match=r"SR860: dc offset -0.5 V with sine amplitude "
                                             r"0.5 V rms peaks at .* = 1.20711 V, outside the "
                                             r"allowed range \[0, 1\] V .*lockin_2w: "
                                             r".*series_resistance_ohm"):
            lockin.sine_offset = -0.5                      # 0.5 V alone is within ±1 V
        assert not any(cmd.startswith("SOFF ") for _, cmd in list(twin.log)[sent:])
        lockin.sine_offset = -0.25                         # 0.25 + 0.707 = 0.957 V
        assert lockin.sine_offset == pytest.approx(-0.25, abs=1e-4)
        sent = len(twin.log)
        with pytest.raises(LimitError, match=r"dc offset -0.25 V with sine amplitude 0.6 V "
                                             r"rms peaks at .* = 1.09853 V"):
            lockin.sine_amplitude = 0.6                    # 0.6 V rms alone is within 0.707
        assert not any(cmd.startswith("SLVL ") for _, cmd in list(twin.log)[sent:])
        lockin.sine_amplitude = 0.5
        assert lockin.sine_amplitude == pytest.approx(0.5, rel=1e-6)
    finally:
        bench.close()
    # the limit is only ever narrowed
    with pytest.raises(LimitError, match=r"sine peak limit 2 V must lie within \[0, 1\] V"):
        lockin.configure_sine_peak(2.0)


def test_pymeasure_level_controls_cannot_drive_a_short_beyond_the_limit():
    """pymeasure's own controls inherited by the 81160A (``channels[1].voltage_high = 2``
    with the output on drove 2·2 V / 1.55 kΩ = 2.58 mA into the shorted junction, 4.1× its
    0.628 mA) and raw writes are refused by the driver's write guard before anything is
    sent; the pulse that follows stays within the limit."""
    bench = simulated_bench("pulsed", "mtj_pillar",
                            ["readout.r_p_ohm=0.001", "readout.r_ap_ohm=0.002"]).open()
    i_max = 5e11 * math.pi * (20e-9) ** 2        # A, the sample's current density limit
    try:
        pg = bench.role("pulse_generator")
        high = pg.limits_of("amplitude")[1]
        pg.configure_pulse_mode()
        pg.width = 2e-9
        pg.amplitude = 0.4
        pg.output_enabled = True
        twin = bench.virtual.instruments["pulser"]
        sent = len(twin.log)
        refused = [lambda: setattr(pg.channels[1], "voltage_high", 2),
                   lambda: setattr(pg.channels[1], "voltage_low", -2),
                   lambda: setattr(pg.channels[1], "amplitude", 4),
                   lambda: setattr(pg.channels[1], "offset", 3),
                   lambda: pg.channels[1].apply_pulse(1e3, 1.0, 0.5),
                   lambda: pg.write(":VOLT1:HIGH 2"),
                   lambda: pg.write(":VOLT:HIGH 0.4;LOW -1")]
        for attempt in refused:
            with pytest.raises(LimitError, match=rf"Keysight81160A amplitude limit \(.*"
                                                 r"max_sample_current_A.*\): .* refused, "
                                                 r"channel 1 level would be .*allowed range "
                                                 rf"\[-{high:.6g}, {high:.6g}\] V"):
                attempt()
        assert len(twin.log) == sent                      # nothing was written
        pg.channels[1].voltage_high = 0.45                # within the limit: passes
        pg.fire()
        current = abs(twin.pulses[-1][1])
        assert current == pytest.approx(2 * 0.45 / (50.0 + PULSE_SERIES_OHM), rel=1e-6)
        assert current <= i_max
    finally:
        bench.shutdown()
        bench.close()
