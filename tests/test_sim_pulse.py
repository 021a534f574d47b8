"""Simulated pulse generators (Keysight 33500B, 81160A, Picosecond 10,070A) through our
drivers and pymeasure's stock classes, in-process (@labspin) and over a loopback socket
(@py): a pulse of enough amplitude switches the MTJ pillar (R_P → R_AP and back), a small
one does not; the 50 Ω source model; triggering; errors in the error queue/ESR."""

import pytest
from pymeasure.instruments.agilent import Agilent33500
from pymeasure.instruments.keysight import Keysight81160A as PymeasureKeysight81160A

from labspin.bench.registry import DRIVERS
from labspin.drivers.pulse_generators import Keysight33500B, Keysight81160A, Picosecond10070A
from labspin.sim_backend import sim_pulse_common
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.sim_pulse import (
    TWINS,
    Keysight33500BTwin,
    Keysight81160ATwin,
    Picosecond10070ATwin,
    series_current_A,
)
from labspin.sim_backend.virtual_bench import Z0, VirtualBench

R_P, R_AP = 2000.0, 4400.0           # the mtj_pillar's resistances (Ω)


@pytest.fixture
def bench():
    return VirtualBench(load_sample("mtj_pillar"), seed=5)


def test_twins_cover_the_registry_keys():
    keys = {"keysight81160a", "keysight33500b", "psp10070a"}
    assert set(TWINS) == keys and keys <= set(DRIVERS)


def test_series_current_model():
    # matched expected load: E = 2V, I = 2V/(Z0 + R); high-Z setting: E = V
    assert series_current_A(1.0, 50.0) == pytest.approx(1.0 / 50.0)        # V_load = V
    assert series_current_A(0.5, R_P) == pytest.approx(1.0 / (Z0 + R_P))
    assert series_current_A(0.5, R_P, 9.9e37) == pytest.approx(0.5 / (Z0 + R_P))
    assert series_current_A(1.0, 0.0) == pytest.approx(2.0 / Z0)           # short: 2V/Z0


# ---------------------------------------------------------------- switching, our drivers

# (twin, driver, big pulse: level V and width s, small pulse: level and width)
# Small pulses, all below the switching threshold at these widths (I_c ≈ 19 µA, the
# pillar's intrinsic time scale a few ns): 33500B 10 mV → 9.8 µA (0.5 I_c) for 20 ns;
# 81160A 50 mV → 49 µA (2.6 I_c) for 1.5 ns; 10,070A 75 mV → 73 µA (3.9 I_c) for 0.5 ns.
# Big pulses: 0.5–1 V → 0.2–1 mA (10–50 I_c), 20 ns (2 ns for the 10,070A).
MODELS = [
    (Keysight33500BTwin, Keysight33500B, (0.5, 20e-9), (0.01, 20e-9)),
    (Keysight81160ATwin, Keysight81160A, (0.5, 20e-9), (0.05, 1.5e-9)),
    (Picosecond10070ATwin, Picosecond10070A, (1.0, 2e-9), (0.075, 0.5e-9)),
]


def pulser(twin_cls, driver_cls, bench, plug):
    twin = twin_cls(bench, "pulser")
    drv = driver_cls(plug(twin), visa_library=twin.bench.visa_library, clock=bench.clock)
    drv.configure_pulse_mode()
    return twin, drv


def fire(drv, level, width):
    """Set a pulse with the output off, then fire it. (A sign change with the output on
    passes a baseline of ±MIN_AMPLITUDE through the sample for a moment — on the 81160A
    50 mV, 22 µA into the AP pillar, 1.2 I_c, enough to switch it by itself.)"""
    drv.output_enabled = False
    drv.amplitude = level
    drv.width = width
    drv.output_enabled = True
    drv.fire()


@pytest.mark.parametrize("twin_cls, driver_cls, big, small", MODELS)
def test_a_big_pulse_switches_the_pillar_and_a_small_one_does_not(bench, plug, twin_cls,
                                                                 driver_cls, big, small):
    twin, drv = pulser(twin_cls, driver_cls, bench, plug)
    assert bench.resistance("mtj") == pytest.approx(R_P)
    # small negative pulse: no switching
    fire(drv, -small[0], small[1])
    assert bench.resistance("mtj") == pytest.approx(R_P, rel=1e-6)
    # big negative pulse: STT drives the free layer to −z, antiparallel
    fire(drv, -big[0], big[1])
    assert bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)
    # the current is the 50 Ω model's with the resistance just before the pulse
    t, amps, width, rise = twin.pulses[-1]
    assert amps == pytest.approx(series_current_A(-big[0], R_P))
    assert width == pytest.approx(big[1])
    bench.clock.sleep(1.0)
    assert bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)      # the state stays
    # small positive pulse from AP: still AP; big positive pulse: back to parallel
    fire(drv, small[0], small[1])
    assert bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)
    fire(drv, big[0], big[1])
    assert bench.resistance("mtj") == pytest.approx(R_P, rel=1e-3)
    assert twin.pulses[-1][1] == pytest.approx(series_current_A(big[0], R_AP))
    assert [c for c, _ in twin.errors] == []
    drv.shutdown()
    assert twin.drive(1).on is False


@pytest.mark.parametrize("twin_cls, driver_cls, big, small", MODELS)
def test_levels_are_outputs_and_shutdown_ramps_them(bench, plug, twin_cls, driver_cls, big,
                                                   small):
    twin, drv = pulser(twin_cls, driver_cls, bench, plug)
    drv.amplitude = 2.0
    drv.output_enabled = True
    twin.output_log.clear()
    t0 = bench.clock.now()
    drv.shutdown()
    names = {name.split("[")[0] for _, name, _ in twin.output_log}
    assert names & {"high", "amplitude"} and names & {"output", "enabled"}
    assert twin.drive(1).on is False and bench.clock.now() > t0      # a ramp in virtual time
    assert abs(drv.amplitude) == pytest.approx(driver_cls.MIN_AMPLITUDE)


def test_no_pulse_with_the_output_off_and_the_burst_takes_its_time(bench, plug, monkeypatch):
    monkeypatch.setattr(sim_pulse_common, "MAX_SIMULATED_PULSES", 5)     # keep the test short
    twin, drv = pulser(Keysight33500BTwin, Keysight33500B, bench, plug)
    drv.amplitude = -1.0
    drv.width = 20e-9
    t0 = bench.clock.now()
    drv.fire(3)                                        # output off: nothing reaches the sample
    assert twin.pulses == [] and bench.resistance("mtj") == pytest.approx(R_P)
    assert bench.clock.now() - t0 == pytest.approx(2e-3 + 20e-9)  # 2 periods + 1 width
    drv.output_enabled = True
    t0 = bench.clock.now()
    drv.fire(3)
    assert len(twin.pulses) == 3 and bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)
    assert bench.clock.now() - t0 == pytest.approx(2e-3 + 20e-9)  # last pulse ends the burst
    # a long burst: MAX_SIMULATED_PULSES in the time domain, the rest only take their time
    t0 = bench.clock.now()
    drv.fire(55)
    assert len(twin.pulses) == 3 + 5
    assert bench.clock.now() - t0 == pytest.approx(4 * 1e-3 + 20e-9 + 50e-3)


def test_baseline_drives_a_dc_current_while_on(bench):
    twin = Keysight33500BTwin(bench, "pulser")
    twin.handle("FUNC PULS;:VOLT:HIGH 0.3;:VOLT:LOW 0.1")            # baseline 0.1 V
    assert "pulser" not in bench.drives.dc_A                          # output off
    twin.handle("OUTP ON")
    assert bench.drives.dc_A["pulser"] == pytest.approx(0.2 / (Z0 + R_P))
    twin.handle("OUTP:POL INV")                                       # baseline at HIGH
    assert bench.drives.dc_A["pulser"] == pytest.approx(0.6 / (Z0 + R_P))
    twin.handle("OUTP 0")
    assert "pulser" not in bench.drives.dc_A
    twin.handle("FUNC SIN;:VOLT 1;:VOLT:OFFS 0;:FREQ 137;:OUTP 1")     # a sine: ac current
    assert bench.drives.ac["pulser"] == pytest.approx((1.0 / (Z0 + R_P), 137.0))
    twin.handle("*RST")
    assert "pulser" not in bench.drives.ac


def test_expected_load_setting_changes_the_current(bench):
    twin = Keysight81160ATwin(bench, "pulser")
    twin.handle(":FUNC1 PULS;:VOLT1:HIGH 0.5;:VOLT1:LOW 0;:PULS:WIDT1 2e-8;:ARM:SOUR1 MAN")
    twin.handle(":OUTP1:LOAD INF;:OUTP1 ON")
    assert float(twin.handle(":OUTP1:LOAD?")) == pytest.approx(9.9e37)
    twin.handle("*TRG")
    assert twin.pulses[-1][1] == pytest.approx(0.5 / (Z0 + R_P))       # E = V into high Z


def test_free_running_trains_act_as_one_pulse_per_change(bench):
    twin = Keysight81160ATwin(bench, "pulser")                      # ARM:SOUR IMM after *RST
    twin.handle(":FUNC PULS;:VOLT:HIGH 0;:VOLT:LOW -0.8;:OUTP:POL INV;:PULS:WIDT 2e-8")
    assert twin.pulses == []
    twin.handle(":OUTP ON")
    assert len(twin.pulses) == 1 and bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)
    twin.handle("*TRG")                                             # not in manual arm mode
    assert twin.handle("SYST:ERR?") == '-211,"Trigger ignored"'


# ---------------------------------------------------------------- pymeasure's stock classes

def test_33500b_through_pymeasures_agilent33500(bench, plug):
    twin = Keysight33500BTwin(bench, "pulser")
    gen = Agilent33500(plug(twin), visa_library=twin.bench.visa_library)
    assert gen.id == twin.idn
    gen.reset()
    gen.shape = "PULS"
    assert gen.shape == "PULS"
    gen.voltage_high = 0.0
    gen.voltage_low = -0.6
    gen.write("OUTP:POL INV")
    gen.pulse_period = 1e-3
    gen.pulse_width = 30e-9
    gen.pulse_transition = 10e-9
    gen.burst_mode = "TRIG"
    gen.burst_ncycles = 1
    gen.trigger_source = "BUS"
    gen.burst_state = True
    gen.output = True
    assert gen.output is True and gen.burst_state is True
    assert gen.voltage_low == pytest.approx(-0.6) and gen.amplitude == pytest.approx(0.6)
    assert gen.offset == pytest.approx(-0.3) and gen.pulse_width == pytest.approx(30e-9)
    assert gen.frequency == pytest.approx(1e3)
    gen.trigger()
    gen.wait_for_trigger(timeout=1)
    assert bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)
    assert twin.pulses[-1][1] == pytest.approx(series_current_A(-0.6, R_P))
    assert twin.pulses[-1][3] == pytest.approx(10e-9)
    assert gen.check_errors() == []
    gen.write("VOLT:HIGH 6")                            # beyond ±5 V into 50 Ω: refused
    gen.pulse_width = 2e-3                              # not shorter than the period
    gen.write("FUNC:PULSE:WIDTH")                       # missing parameter
    gen.write("VOLT:SLEW 1")                            # not a 33500B command
    assert [int(code) for code, _ in gen.check_errors()] == [-222, -221, -109, -113]
    assert gen.voltage_high == 0.0


def test_81160a_through_pymeasures_stock_class(bench, plug):
    twin = Keysight81160ATwin(bench, "pulser")
    gen = PymeasureKeysight81160A(plug(twin), visa_library=twin.bench.visa_library)
    assert gen.id == twin.idn
    ch = gen.channels[1]
    ch.shape = "PULS"
    ch.voltage_high = 0.0
    ch.voltage_low = -0.5
    gen.write(":OUTP1:POL INV")
    ch.pulse_period = 1e-3
    ch.pulse_width = 20e-9
    ch.pulse_transition = 2e-9
    ch.trigger_mode = "MAN"
    ch.trigger_count = 2
    ch.output = True
    assert ch.trigger_count == 2 and ch.trigger_mode == "MAN" and ch.output is True
    gen.trigger()
    assert len(twin.pulses) == 2 and bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)
    assert twin.pulses[0][1] == pytest.approx(series_current_A(-0.5, R_P))
    assert twin.pulses[1][1] == pytest.approx(series_current_A(-0.5, R_AP))
    ch.trigger_mode = "IMM"                             # a free-running train starts
    assert len(twin.pulses) == 3
    gen.trigger()                                       # *TRG outside manual arming
    gen.write(":VOLT1:LOW -6")                          # beyond −5 V into 50 Ω
    assert [int(c) for c, _ in twin.errors] == [-211, -222]
    gen.channels[2].output = True                       # the second channel is not wired
    assert twin.get("output", 2) is True and len(twin.pulses) == 3


# ---------------------------------------------------------------- errors

def test_10070a_errors_set_esr_and_headers_follow_the_setting(bench, plug):
    twin = Picosecond10070ATwin(bench, "pulser")
    drv = Picosecond10070A(plug(twin), visa_library=twin.bench.visa_library, clock=bench.clock)
    assert twin.handle("amplitude?") == "AMPLITUDE 7.500E-02"            # header ON at *RST
    assert drv.amplitude == pytest.approx(0.075) and drv.trigger_source == "INT"
    drv.configure_pulse_mode()
    assert twin.handle("ampl?") == "7.500E-02"                          # short form, no header
    drv.write("amplitude 0.01")                         # below the smallest pulse
    drv.write("duration 20e-9")                         # beyond 10.2 ns
    drv.write("polarity inverted")                      # no such command
    assert int(drv.ask("*ESR?")) & 0b0011_0000 == 0b0011_0000
    assert [c for c, _ in twin.errors] == [-222, -222, -113]
    drv.period = 1e-3
    assert drv.frequency == pytest.approx(1e3)
    twin.handle("trigger INT")
    twin.handle("*TRG")
    assert twin.errors[-1][0] == -211


def test_33500b_over_a_loopback_socket(bench):
    twin = Keysight33500BTwin(bench, "pulser")
    with serve({"pulser": twin}) as server:
        drv = Keysight33500B(server.resources["pulser"], visa_library="@py", clock=bench.clock,
                             read_termination="\n", timeout=2000)
        try:
            assert drv.id == twin.idn
            drv.configure_pulse_mode()
            fire(drv, -0.5, 20e-9)
            assert drv.ask("*OPC?").strip() == "1"     # wait for the server's thread
            assert bench.resistance("mtj") == pytest.approx(R_AP, rel=1e-3)
            assert drv.check_errors() == []
            drv.shutdown()
            assert drv.ask("*OPC?").strip() == "1"
            assert twin.drive(1).on is False
        finally:
            drv.adapter.close()


@pytest.mark.parametrize(("twin_class", "apply", "queries"), [
    (Keysight81160ATwin, "APPL2:SIN {f}, {a}, {o}",
     ("FUNC2?", "FREQ2?", "VOLT2?", "VOLT2:OFFS?")),
    (Keysight33500BTwin, "SOUR2:APPL:SIN {f}, {a}, {o}",
     ("SOUR2:FUNC?", "SOUR2:FREQ?", "SOUR2:VOLT?", "SOUR2:VOLT:OFFS?")),
])
def test_apply_sets_shape_frequency_amplitude_offset(bench, twin_class, apply, queries):
    """APPLy:SINusoid sets shape, frequency, amplitude and offset at once (issue 19: it did
    not); DEF leaves a value as it is."""
    twin = twin_class(bench, "pulse_generator")
    twin.handle("FUNC2 SQU" if twin_class is Keysight81160ATwin else "SOUR2:FUNC SQU")

    def state():
        shape, *numbers = (twin.handle(q).strip() for q in queries)
        return (shape, *map(float, numbers))

    twin.handle(apply.format(f=2e4, a=1.5, o=0.25))
    assert state() == ("SIN", pytest.approx(2e4), pytest.approx(1.5), pytest.approx(0.25))
    twin.handle(apply.format(f="DEF", a="DEF", o=-0.5))
    assert state() == ("SIN", pytest.approx(2e4), pytest.approx(1.5), pytest.approx(-0.5))
    assert twin.handle("SYST:ERR?").startswith("0,")


def test_33500b_phase_is_stored_per_channel_and_range_checked(bench):
    twin = Keysight33500BTwin(bench, "pulse_generator")
    twin.handle("SOUR2:PHAS -90")
    assert float(twin.handle("SOUR2:PHAS?")) == -90.0
    assert float(twin.handle("SOUR1:PHAS?")) == 0.0          # *RST default, channel 1 untouched
    twin.handle("SOUR2:PHAS 400")                            # outside -360..360 degrees
    assert twin.handle("SYST:ERR?").startswith("-222")
    assert float(twin.handle("SOUR2:PHAS?")) == -90.0
