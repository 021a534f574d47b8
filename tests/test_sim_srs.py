"""Simulated SRS lock-ins (SR830, SR860, SR865, SR865A): the command set through our drivers
and pymeasure's stock classes, in-process and over a loopback socket; the status/error bits;
harmonic Hall (1ω and 2ω), the output filter's step response in virtual time, overloads,
external-reference unlock, and ST-FMR through the lock-in at the Kittel field.

Tolerances come from the twin's noise model: per reading σ = √(4k_B·T·R_xx + e_n²)·√ENBW
(e_n = 6 nV/√Hz SR830, 2.5 nV/√Hz SR86x); a difference of two readings has √2·σ.
"""
from __future__ import annotations

import math
import uuid
from contextlib import contextmanager

import numpy as np
import pytest
import pyvisa
from pymeasure.instruments.srs import SR830 as PymeasureSR830
from pymeasure.instruments.srs import SR860 as PymeasureSR860

from labspin.bench.registry import DRIVERS, driver_roles
from labspin.drivers import srs
from labspin.physics.constants import KB, MU0
from labspin.physics.macrospin import kittel_inplane
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.sim_srs import (
    ENBW_PER_TAU,
    OVERRANGE,
    TWINS,
    SR830Twin,
    SR860Twin,
    SR865ATwin,
    SR865Twin,
    normalize_unit,
    step_response,
)
from labspin.sim_backend.virtual_bench import VirtualBench, VirtualMagnet

SQRT2 = math.sqrt(2.0)
DRIVER_OF = {SR830Twin: srs.SR830, SR860Twin: srs.SR860, SR865Twin: srs.SR865,
             SR865ATwin: srs.SR865A}
ALL = tuple(DRIVER_OF)
SR86X = (SR860Twin, SR865Twin, SR865ATwin)


def make_bench(seed: int = 7, field_T: float = 0.05) -> VirtualBench:
    """The in-plane W/CoFeB Hall bar, field in plane at 45° (planar Hall signal on "xy")."""
    bench = VirtualBench(load_sample("inplane_sot_hallbar"), seed=seed,
                         magnet=VirtualMagnet(l_over_r_s=1e-3, remanence_T=0.0, angle_deg=45.0))
    set_field(bench, field_T)
    return bench


def set_field(bench: VirtualBench, tesla: float) -> None:
    bench.set_magnet_current(tesla / bench.magnet.tesla_per_A)
    bench.clock.sleep(0.05)     # ≫ L/R = 1 ms


def sigma_of(bench: VirtualBench, twin, probe_r: str = "xx") -> float:
    """σ of one X (or Y) reading of ``twin`` (V rms)."""
    t = bench.system.magnet.temperature_K
    density = math.sqrt(4 * KB * t * bench.resistance(probe_r) + twin.INPUT_NOISE ** 2)
    return density * math.sqrt(twin.enbw())


@contextmanager
def reach(twin):
    """Register ``twin`` under a fresh in-process resource name; yield the name."""
    name = f"TCPIP0::srs-{uuid.uuid4().hex[:8]}::inst0::INSTR"
    with twin.bench.resources.registered({name: twin}) as names:
        yield names[name]


@contextmanager
def driver(twin, cls=None):
    """Our driver for ``twin`` over @labspin (clock = the bench's)."""
    with reach(twin) as name:
        inst = (cls or DRIVER_OF[type(twin)])(name, visa_library=twin.bench.visa_library,
                                               clock=twin.bench.clock)
        try:
            yield inst
        finally:
            inst.adapter.close()


def raw(twin):
    """A raw pyvisa session to ``twin`` (in-process)."""
    return reach(twin)


# ---------------------------------------------------------------- registry and parsing
def test_twins_cover_every_lock_in_driver():
    keys = {k for k in DRIVERS if driver_roles(k) == ("lock_in",)}
    assert set(TWINS) == keys
    for key, cls in TWINS.items():
        assert DRIVERS[key].endswith(":" + cls.MODEL)


@pytest.mark.parametrize("unit, expected", [
    ("SENS5", "SENS 5"), ("OUTP?1", "OUTP? 1"), ("SNAP? X, Y", "SNAP? X, Y"),
    ("*IDN?", "*IDN?"), ("FREQ1.23450e+03", "FREQ 1.23450e+03"), ("PSTF2, 1e3", "PSTF 2, 1e3"),
    ("AUXV1,1.5", "AUXV 1,1.5"), ("Harm 2", "Harm 2"), ("CUROVLDSTAT?", "CUROVLDSTAT?"),
])
def test_srs_dialect_headers(unit, expected):
    assert normalize_unit(unit) == expected


# ---------------------------------------------------------------- through our drivers
@pytest.mark.parametrize("cls", ALL)
def test_identity_settings_and_reset_through_our_driver(cls):
    bench = make_bench()
    twin = cls(bench, "lockin", probe="xy")
    assert bench.instruments["lockin"] is twin
    with driver(twin) as inst:
        assert cls.MODEL in inst.id and inst.id.startswith("Stanford_Research_Systems,")
        inst.frequency = 1234.5
        assert inst.frequency == pytest.approx(1234.5)
        inst.harmonic = 2
        assert inst.harmonic == 2
        inst.sensitivity = 1.5e-3
        assert inst.sensitivity == pytest.approx(2e-3)       # smallest range ≥ value
        inst.time_constant = 0.25
        assert inst.time_constant == pytest.approx(0.3)
        inst.filter_slope = 24
        assert inst.filter_slope == 24
        inst.reference_source = "external"
        assert inst.reference_source == "external"
        inst.reset()
        assert inst.reference_source == "internal"
        assert inst.frequency == pytest.approx(1000.0)
        assert inst.harmonic == 1
        assert inst.sensitivity == pytest.approx(1.0)
        assert inst.time_constant == pytest.approx(0.1)
        assert inst.filter_slope == 12
        assert inst.sine_amplitude == pytest.approx(1.0)
        assert inst.overloaded is False


@pytest.mark.parametrize("cls", ALL)
def test_sine_output_ramps_drive_the_sample_and_shutdown_ramps_down(cls):
    bench = make_bench()
    twin = cls(bench, "lockin", probe="xy", drives_sample=True, series_ohm=10e3)
    r_total = 10e3 + bench.resistance("xx")
    assert bench.drives.ac["lockin"] == (pytest.approx(SQRT2 * 1.0 / r_total), 1000.0)
    assert bench.reference_frequency("lockin") == 1000.0
    with driver(twin) as inst:
        t0 = bench.clock.now()
        inst.sine_amplitude = 0.2
        steps = [v for _, name, v in twin.output_log if name == "sine_amplitude"]
        assert steps[-1] == pytest.approx(0.2) and len(steps) >= 3
        assert all(b < a for a, b in zip(steps, steps[1:]))            # a monotonic ramp
        assert bench.clock.now() - t0 == pytest.approx(0.8 / 0.5, rel=1e-6)   # default slew
        assert bench.drives.ac["lockin"][0] == pytest.approx(SQRT2 * 0.2 / r_total, rel=1e-6)
        inst.frequency = 777.0
        assert bench.drives.ac["lockin"][1] == 777.0
        assert bench.reference_frequency("lockin") == 777.0
        inst.shutdown()
        low = inst.SAFE_LIMITS["sine_amplitude"][0]
        assert twin.output("sine_amplitude") == pytest.approx(low)
        assert bench.drives.ac["lockin"][0] == pytest.approx(SQRT2 * low / r_total, rel=1e-6)


@pytest.mark.parametrize("cls, f_ok, f_bad", [(SR830Twin, 102e3, 102.1e3),
                                              (SR860Twin, 500e3, 501e3),
                                              (SR865Twin, 2e6, 2.01e6),
                                              (SR865ATwin, 4e6, 4.01e6)])
def test_frequency_range_per_model(cls, f_ok, f_bad):
    twin = cls(make_bench(), "lockin")
    twin.handle(f"FREQ {f_ok}")
    assert float(twin.handle("FREQ?")) == pytest.approx(f_ok)
    twin.handle("*CLS")
    twin.handle(f"FREQ {f_bad}")
    assert int(twin.handle("*ESR?")) & 16            # EXE: out of range, value kept
    assert float(twin.handle("FREQ?")) == pytest.approx(f_ok)
    twin.handle("HARM 2")                           # 2·f_max is beyond the model's range
    assert twin.handle("HARM?") == "1" and int(twin.handle("*ESR?")) & 16


# ---------------------------------------------------------------- status and errors
@pytest.mark.parametrize("cls, bad_value", [(SR830Twin, "SENS 27"), (SR860Twin, "SCAL 28"),
                                            (SR865Twin, "OFLT 22"), (SR865ATwin, "OFSL 4")])
def test_bad_command_and_out_of_range_set_the_esr_bits(cls, bad_value):
    twin = cls(make_bench(), "lockin")
    with raw(twin) as name:
        rm = pyvisa.ResourceManager(twin.bench.visa_library)
        res = rm.open_resource(name, read_termination="\n")
        assert int(res.query("*ESR?")) == 128         # PON
        header = bad_value.split()[0]
        before = res.query(f"{header}?")
        res.write("BOGUS 1")
        assert int(res.query("*ESR?")) == 32          # CME: command error
        res.write(bad_value)
        assert int(res.query("*ESR?")) == 16          # EXE: parameter out of range
        assert res.query(f"{header}?") == before      # setting unchanged
        res.write("SYST:ERR?")                        # no SCPI error queue on these models
        assert int(res.query("*ESR?")) == 32
        assert [code for code, _ in twin.errors] == [-113, -222, -113]
        res.write("*ESE 48;*SRE 32")
        res.write("BOGUS")
        assert int(res.query("*STB?")) & 0x60 == 0x60     # ESB and the service request
        res.write("*CLS")
        assert int(res.query("*ESR?")) == 0 and len(twin.errors) == 0
        res.close()


def test_sr830_frequency_needs_the_internal_reference():
    twin = SR830Twin(make_bench(), "lockin", reference_source="rf")
    twin.handle("*CLS;FMOD 0")
    twin.handle("FREQ 2000")
    assert int(twin.handle("*ESR?")) == 16
    assert twin.errors[-1][0] == -221


def test_stuck_sine_output_echoes_the_setpoint_but_the_drive_stays():
    bench = make_bench()
    twin = SR830Twin(bench, "lockin", probe="xy", drives_sample=True)
    drive = bench.drives.ac["lockin"]
    twin.inject("stuck_output", on="sine_amplitude", count=None)
    twin.handle("SLVL 2.000")
    assert twin.handle("SLVL?") == "2.000"
    assert twin.output("sine_amplitude") == 1.0 and bench.drives.ac["lockin"] == drive
    twin.clear_faults()
    twin.handle("SLVL 2.000")
    assert bench.drives.ac["lockin"][0] == pytest.approx(2 * drive[0], rel=1e-9)


# ---------------------------------------------------------------- pymeasure stock classes
def test_pymeasure_sr830_stock_class():
    bench = make_bench()
    twin = SR830Twin(bench, "lockin", probe="xy", drives_sample=True)
    with reach(twin) as name:
        inst = PymeasureSR830(name, visa_library=twin.bench.visa_library)
        assert inst.id == SR830Twin.idn
        inst.sensitivity = 150e-6                      # truncated up to 200 µV
        assert inst.sensitivity == pytest.approx(200e-6)
        inst.time_constant = 0.1
        assert inst.time_constant == pytest.approx(0.1)
        inst.filter_slope = 24
        assert inst.filter_slope == 24
        inst.frequency = 777.0
        assert inst.frequency == pytest.approx(777.0)
        inst.phase = 30.0
        assert inst.phase == pytest.approx(30.0)
        inst.phase = 0.0
        inst.harmonic = 1
        assert inst.harmonic == 1
        inst.sine_voltage = 0.5
        assert inst.sine_voltage == pytest.approx(0.5)
        inst.reference_source = "Internal"
        assert inst.reference_source == "Internal"
        inst.input_config = "A - B"
        assert inst.input_config == "A - B"
        inst.aux_out_1 = 1.5
        assert inst.aux_out_1 == pytest.approx(1.5)
        assert inst.get_scaling("X") == (0.0, 1)
        bench.clock.sleep(2.0)
        x, y = inst.xy
        assert x > 0 and abs(y) < 0.01 * x
        assert inst.magnitude == pytest.approx(x, rel=1e-3)
        assert abs(inst.theta) < 1.0
        snap = inst.snap("X", "Y", "R", "Theta", "Frequency")
        assert len(snap) == 5 and snap[4] == pytest.approx(777.0)
        assert int(inst.lia_status) == 0 and int(inst.err_status) == 0
        inst.auto_phase()
        assert abs(inst.phase) < 1.0
        inst.reset()
        assert inst.sensitivity == pytest.approx(1.0)
        inst.adapter.close()


def test_pymeasure_sr860_stock_class():
    bench = make_bench()
    sr830 = SR830Twin(bench, "lockin_1w", probe="xy", drives_sample=True)
    twin = SR860Twin(bench, "lockin_2w", probe="xy", reference_source="lockin_1w")
    with reach(twin) as name:
        inst = PymeasureSR860(name, visa_library=twin.bench.visa_library)
        assert inst.ask("*IDN?").strip() == SR860Twin.idn    # the stock class has no `id`
        inst.frequency = 2345.0
        assert inst.frequency == pytest.approx(2345.0)
        inst.phase = -45.0
        assert inst.phase == pytest.approx(-45.0)
        inst.phase = 0.0
        inst.harmonic = 1                                # pymeasure sends "Harm 1"
        assert inst.harmonic == 1
        inst.sine_voltage = 0.25
        assert inst.sine_voltage == pytest.approx(0.25)
        inst.sensitivity = 1e-3
        assert inst.sensitivity == pytest.approx(1e-3)
        inst.time_constant = 0.1
        assert inst.time_constant == pytest.approx(0.1)
        inst.filter_slope = 3                            # index: 24 dB/oct
        assert inst.filter_slope == 3
        assert inst.get_noise_bandwidth == pytest.approx(5 / 64 / 0.1)
        inst.input_range = "100M"
        assert inst.input_range == "100M"
        inst.input_range = "1V"
        inst.input_coupling = "AC"
        assert inst.input_coupling == "AC"
        inst.reference_source = "EXT"                    # locks to the SR830's sine out
        assert inst.reference_source == "EXT"
        assert inst.frequency == pytest.approx(1000.0)
        assert inst.extfreqency == pytest.approx(1000.0)
        assert inst.detectedfrequency == pytest.approx(1000.0)
        inst.frequencypreset1 = 1234.0
        assert inst.frequencypreset1 == pytest.approx(1234.0)
        inst.aux_out_1 = -2.5
        assert inst.aux_out_1 == pytest.approx(-2.5)
        bench.clock.sleep(2.0)
        x, y, r = inst.snap("X", "Y", "R")
        expected = sr830.settled_value().real
        assert x == pytest.approx(expected, rel=1e-3) and r == pytest.approx(x, rel=1e-3)
        assert inst.x == pytest.approx(expected, rel=1e-3)
        assert abs(inst.theta) < 1.0
        assert len(inst.snap_all()) == 4
        assert 0 <= inst.get_signal_strength_indicator <= 3
        inst.adapter.close()


# ---------------------------------------------------------------- loopback socket
def test_sr865_over_a_loopback_socket_with_our_driver():
    bench = make_bench()
    twin = SR865Twin(bench, "lockin", probe="xy", drives_sample=True)
    handle = serve({"lockin": twin})
    try:
        resource = handle.resources["lockin"]
        assert resource.startswith("TCPIP::127.0.0.1::")
        inst = srs.SR865(resource, visa_library="@py", read_termination="\n",
                         write_termination="\n", timeout=2000, clock=bench.clock)
        try:
            assert "SR865" in inst.id
            inst.frequency = 1.5e6
            assert inst.frequency == pytest.approx(1.5e6)
            inst.frequency = 1234.5
            inst.sensitivity = 200e-6
            bench.clock.sleep(1.0)
            x, y = inst.measure_xy()
            expected = twin.settled_value()
            assert abs(x - expected.real) < 5 * sigma_of(bench, twin)
            assert inst.overloaded is False
            inst.write("BOGUS")
            assert int(inst.ask("*ESR?")) & 32
        finally:
            inst.adapter.close()
    finally:
        handle.close()


# ---------------------------------------------------------------- harmonic Hall
def test_first_harmonic_is_i0_rxy_over_root_two_through_our_sr830():
    bench = make_bench()
    twin = SR830Twin(bench, "lockin", probe="xy", drives_sample=True, series_ohm=10e3)
    with driver(twin) as inst:
        inst.frequency = 1234.5
        inst.sensitivity = 200e-6
        inst.time_constant = 0.1
        bench.clock.sleep(1.0)                       # 10 τ at 12 dB/oct
        xs = np.array([inst.measure_xy() for _ in range(20)])
    i0 = SQRT2 * 1.0 / (10e3 + bench.resistance("xx"))
    expected = i0 * bench.resistance("xy") / SQRT2    # rms, in phase with the sine out
    sigma = sigma_of(bench, twin)
    # the mean of 20 readings: 5σ/√20 of noise; the quasi-static 1ω term differs from
    # I0·R_xy only at O(I0³) (current-induced tilt: ~1e-8 relative here)
    assert abs(xs[:, 0].mean() - expected) < 5 * sigma / math.sqrt(20) + 1e-6 * expected
    assert abs(xs[:, 1].mean()) < 5 * sigma / math.sqrt(20)
    assert xs[:, 0].std() == pytest.approx(sigma, rel=0.5)    # 20 samples: ±35 % at 2σ


def test_second_harmonic_reads_v2w_in_quadrature_on_an_externally_locked_sr860():
    bench = make_bench()
    SR830Twin(bench, "lockin_1w", probe="xy", drives_sample=True, series_ohm=10e3)
    twin = SR860Twin(bench, "lockin_2w", probe="xy", reference_source="lockin_1w")
    with driver(bench.instruments["lockin_1w"]) as inst1, driver(twin) as inst2:
        inst1.sine_amplitude = 5.0                  # I0 ≈ 0.63 mA
        inst2.reference_source = "external"
        inst2.harmonic = 2
        inst2.sensitivity = 1e-6
        inst2.time_constant = 1.0
        inst2.filter_slope = 24
        # the filter still remembers the 1ω signal it followed before the switch (≈ 0.4 mV):
        # at 24 dB/oct it decays as e^{−x}(1 + x + x²/2 + x³/6): 2e-3 at 12 τ, 5e-10 at 30 τ
        bench.clock.sleep(30.0)
        x, y = inst2.measure_xy()
        assert inst2.frequency == pytest.approx(1000.0)
    i0 = bench.drives.ac["lockin_1w"][0]
    v2w = bench.harmonics("xy", i0, 2)[2].real        # physics.md: V ⊃ V_2ω cos 2ωt
    sigma = sigma_of(bench, twin)
    assert abs(v2w) / SQRT2 > 20 * sigma
    assert y == pytest.approx(v2w / SQRT2, abs=5 * sigma)
    assert abs(x) < 5 * sigma


# ---------------------------------------------------------------- output filter
@pytest.mark.parametrize("slope_index", [0, 1, 2, 3])
def test_step_response_of_the_output_filter_in_virtual_time(slope_index):
    bench = make_bench()
    twin = SR830Twin(bench, "lockin", probe="xy", drives_sample=True)
    n = slope_index + 1
    twin.handle(f"SENS 17;OFLT 10;OFSL {slope_index};SLVL 0.500")    # 1 mV, τ = 1 s
    bench.clock.sleep(100.0)
    sigma = sigma_of(bench, twin)
    assert twin.enbw() == pytest.approx(ENBW_PER_TAU[n] / 1.0)

    def x():
        return float(twin.handle("OUTP? 1"))

    x0 = x()
    twin.handle("SLVL 1.000")                       # the signal doubles at t0
    bench.clock.sleep(1.0)
    x_tau = x()
    bench.clock.sleep(4.0)
    x_5tau = x()
    bench.clock.sleep(5.0)
    x_10tau = x()
    bench.clock.sleep(100.0)
    x1 = x()
    step = x1 - x0
    assert step > 1000 * sigma
    tol = 5 * SQRT2 * sigma
    assert x_tau - x0 == pytest.approx(step * step_response(1.0, n), abs=tol)
    assert x_5tau - x0 == pytest.approx(step * step_response(5.0, n), abs=tol)
    if n == 1:
        assert step_response(1.0, 1) == pytest.approx(1 - math.exp(-1))
        assert x_5tau == pytest.approx(x1, rel=0.01)      # 5τ: settled within 1 %
    if n == 4:
        assert x_10tau == pytest.approx(x1, rel=0.011)    # 24 dB/oct: ~10τ


def test_time_constant_change_keeps_the_filter_state():
    bench = make_bench()
    twin = SR860Twin(bench, "lockin", probe="xy", drives_sample=True)
    twin.handle("SCAL 12;OFSL 0;OFLT 12")            # 100 µV, 6 dB/oct, τ = 1 s
    bench.clock.sleep(50.0)
    target = twin.settled_value().real
    twin.handle("SLVL 0.5")                          # halves the signal
    bench.clock.sleep(1.0)                          # 1 τ at 1 s …
    twin.handle("OFLT 10")                          # … then τ = 0.1 s for 0.1 s
    bench.clock.sleep(0.1)
    expected = target * (0.5 + 0.5 * math.exp(-1) * math.exp(-1))
    assert float(twin.handle("OUTP? 0")) == pytest.approx(expected, abs=5 * sigma_of(bench, twin))


# ---------------------------------------------------------------- overload and unlock
def test_sr830_output_overload_latches_and_outputs_saturate():
    bench = make_bench()
    twin = SR830Twin(bench, "lockin", probe="xy", drives_sample=True)
    with driver(twin) as inst:
        inst.sensitivity = 20e-6                     # the 1ω signal is ≈ 71 µV
        bench.clock.sleep(1.0)
        x, y = inst.measure_xy()
        assert x == pytest.approx(OVERRANGE * 20e-6)
        assert inst.overloaded is True               # reading clears the latch, but …
        assert int(inst.ask("LIAS?")) == 4           # … the overload persists: set again
        inst.sensitivity = 200e-6
        inst.ask("LIAS?")                            # the overload lasted until the change
        bench.clock.sleep(1.0)
        assert inst.overloaded is False
        assert int(inst.ask("LIAS?")) == 0
        assert inst.measure_xy()[0] < 200e-6


def test_sr86x_input_range_and_output_overload_bits():
    bench = make_bench()
    twin = SR865ATwin(bench, "lockin", probe="xx", drives_sample=True)   # 1ω on xx ≈ 0.15 V
    with driver(twin) as inst:
        inst.sensitivity = 1.0
        bench.clock.sleep(1.0)
        assert inst.overload_status == 0 and inst.overloaded is False
        inst.write("IRNG 4")                        # 10 mV input range
        assert inst.overload_status == 1 << 4 and inst.overloaded is True
        assert int(inst.ask("ILVL?")) == 4
        inst.write("IRNG 0")
        inst.sensitivity = 0.05                      # X ≈ I0·R_xx/√2 ≈ 0.107 V
        bench.clock.sleep(1.0)
        assert inst.overload_status == 1 | 1 << 8 | 1 << 10     # CH1 = X, DAT1 = X, DAT3 = R
        assert inst.measure_xy()[0] == pytest.approx(OVERRANGE * 0.05)
        assert int(inst.ask("LIAS?")) & 0x0511 == 0x0511         # latched: input, X, R
        assert int(inst.ask("LIAS?")) & 0x10 == 0


def test_external_reference_unlocks_without_a_source_and_locks_when_one_publishes():
    bench = make_bench()
    sr830 = SR830Twin(bench, "lockin", probe="xx", reference_source="rf")
    sr865 = SR865Twin(bench, "lockin2", probe="xx", reference_source="rf")
    with driver(sr830) as a, driver(sr865) as b:
        a.reference_source = "external"
        b.reference_source = "external"
        bench.clock.sleep(1.0)
        assert int(a.ask("LIAS?")) & 8
        assert a.overloaded is False                 # unlock is no overload
        assert b.overload_status == 8 and b.overloaded is False
        bench.set_reference("rf", 2345.0)
        bench.clock.sleep(1.0)
        a.ask("LIAS?")                               # clear what latched while unlocked
        assert int(a.ask("LIAS?")) & 8 == 0
        assert b.overload_status == 0
        assert a.frequency == pytest.approx(2345.0) and b.frequency == pytest.approx(2345.0)


# ---------------------------------------------------------------- ST-FMR through the lock-in
def test_stfmr_mixing_voltage_through_the_lock_in_peaks_at_the_kittel_field():
    bench = make_bench(seed=3)
    f_rf, f_am, depth = 8e9, 1234.5, 1.0
    bench.set_rf("rf", f_rf, 10.0, am_depth=depth, am_frequency_Hz=f_am)
    bench.set_reference("rf", f_am)                  # the rf source's LF output
    twin = SR830Twin(bench, "lockin", probe="xx", reference_source="rf")
    fields = np.linspace(0.05, 0.2, 61)
    xs, ys = [], []
    with driver(twin) as inst:
        inst.reference_source = "external"
        inst.sensitivity = 1e-3
        inst.time_constant = 0.1
        for b in fields:
            set_field(bench, b)
            bench.clock.sleep(1.0)                   # 10 τ
            x, y = inst.measure_xy()
            xs.append(x)
            ys.append(y)
        assert inst.frequency == pytest.approx(f_am)
        assert inst.overloaded is False
        xs, ys = np.array(xs), np.array(ys)
        sigma = sigma_of(bench, twin)
        # the Ω component of V_mix0·(1 + d sin Ωt)² is 2d·V_mix0 in sine phase: X = √2·d·V_mix0
        v0 = bench.mixing_voltage("xx", f_rf, bench.rf_current_A(10.0))
        assert xs[-1] == pytest.approx(SQRT2 * depth * v0, abs=5 * sigma)
        assert np.abs(ys).max() < 5 * sigma
        # and at 2Ω: −(d²/2)·V_mix0 in cosine phase → Y = −d²V_mix0/(2√2)
        inst.harmonic = 2
        bench.clock.sleep(1.0)
        x2, y2 = inst.measure_xy()
        assert y2 == pytest.approx(-depth ** 2 * v0 / (2 * SQRT2), abs=5 * sigma)
        assert abs(x2) < 5 * sigma
    mg = bench.system.magnet
    peak = fields[np.argmax(np.abs(xs))]
    kittel = fields[np.argmin(np.abs(kittel_inplane(fields / MU0, mg.meff, 0.0, mg.gamma) - f_rf))]
    # in-plane anisotropy (3.6 mT along x, field at 45°) and the antisymmetric part shift the
    # extremum by less than a few linewidths (2πfα/γ0 ≈ 2 mT)
    assert abs(peak - kittel) < 0.01
    assert np.abs(xs).max() > 100 * sigma


# ---------------------------------------------------------------- reproducibility
def test_a_seed_reproduces_the_readings():
    def run():
        bench = make_bench(seed=11)
        twin = SR860Twin(bench, "lockin", probe="xy", drives_sample=True)
        twin.handle("SCAL 12")
        bench.clock.sleep(1.0)
        return [twin.handle("SNAP? 0,1") for _ in range(5)]
    first = run()
    assert first == run()
    assert len(set(first)) == 5
