"""The Keysight pulse twins' coupled settings beyond our drivers' needs (issue 19 item 4):
expected load, amplitude units, level coupling, pulse hold and duty cycle, the 81160A's
voltage limits and the 33500B's arbitrary-waveform memory — each with its effect on what
the twin applies, checked against the 50 Ω source model."""
import math

import pytest

from labspin.sim_backend.arb_memory import BUILTIN
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.sim_pulse import (
    HIGH_Z,
    Keysight33500BTwin,
    Keysight81160ATwin,
    series_current_A,
)
from labspin.sim_backend.virtual_bench import VirtualBench

R_P = 2000.0                         # the mtj_pillar's parallel resistance (Ω)


@pytest.fixture
def bench():
    return VirtualBench(load_sample("mtj_pillar"), seed=5)


def errors(twin) -> list[int]:
    out = []
    while (reply := twin.handle("SYST:ERR?")) and not reply.startswith("0,"):
        out.append(int(reply.split(",")[0]))
    return out


def test_33500b_new_expected_load_keeps_the_emf(bench):
    twin = Keysight33500BTwin(bench, "awg")
    twin.handle("FUNC SIN;:VOLT 1;:VOLT:OFFS 0;:FREQ 1e3;:OUTP 1")
    ac = bench.drives.ac["awg"][0]
    assert ac == pytest.approx(series_current_A(0.5, R_P))        # 1 Vpp into 50 Ω: E = 2 V
    twin.handle("OUTP:LOAD INF")
    assert float(twin.handle("VOLT?")) == pytest.approx(2.0)      # the same EMF, shown into high Z
    assert bench.drives.ac["awg"][0] == pytest.approx(ac)
    twin.handle("OUTP:LOAD 1")
    assert float(twin.handle("VOLT?")) == pytest.approx(2.0 * 1 / 51)
    assert bench.drives.ac["awg"][0] == pytest.approx(ac)
    assert errors(twin) == []


def test_amplitude_units_follow_the_crest_factor_and_load(bench):
    twin = Keysight33500BTwin(bench, "awg")
    twin.handle("FUNC SIN;:VOLT 1;:VOLT:UNIT VRMS")
    assert float(twin.handle("VOLT?")) == pytest.approx(1 / (2 * math.sqrt(2)))
    twin.handle("VOLT:UNIT DBM")                  # 0.3536 Vrms into 50 Ω: 2.5 mW
    assert float(twin.handle("VOLT?")) == pytest.approx(10 * math.log10(2.5))
    twin.handle("VOLT 0")                         # 0 dBm: 1 mW, 0.2236 Vrms, 0.6325 Vpp
    twin.handle("VOLT:UNIT VPP")
    assert float(twin.handle("VOLT?")) == pytest.approx(2 * math.sqrt(2) * math.sqrt(0.05))
    twin.handle("FUNC SQU;:VOLT:UNIT VRMS;:VOLT 0.5")           # a square's crest factor: 2
    twin.handle("VOLT:UNIT DBM;:OUTP:LOAD INF")   # no dBm into high Z: Vpp again
    assert twin.handle("VOLT:UNIT?") == "VPP"
    assert float(twin.handle("VOLT?")) == pytest.approx(2.0)    # 1 Vpp at 50 Ω, ×2 open
    assert errors(twin) == []


def test_levels_take_each_other_along_and_offset_is_clipped(bench):
    twin = Keysight81160ATwin(bench, "pulser")
    twin.handle(":VOLT1:HIGH 0.1;:VOLT1:LOW -0.1;:VOLT1:HIGH -4.95")
    assert float(twin.handle(":VOLT1:LOW?")) == pytest.approx(-5.0)     # 50 mV apart
    twin.handle(":VOLT1:LOW 4.95")
    assert float(twin.handle(":VOLT1:HIGH?")) == pytest.approx(5.0)
    twin.handle(":VOLT1:OFFS 0;:VOLT1 1;:VOLT1:OFFS 4.9")   # 1 Vpp leaves room for ±4.5 V
    assert float(twin.handle(":VOLT1:OFFS?")) == pytest.approx(4.5)
    assert errors(twin) == [-222]
    twin.handle(":APPL1:DC DEF, DEF, -4.995")     # a dc level: the amplitude does not count
    assert twin.handle(":FUNC1?") == "DC"
    assert float(twin.handle(":VOLT1:OFFS?")) == pytest.approx(-4.995)
    assert errors(twin) == []


def test_pulse_hold_and_duty_cycle_set_the_pulse_that_is_emitted(bench):
    twin = Keysight33500BTwin(bench, "awg")
    twin.handle("FUNC PULS;:FREQ 1e3;:FUNC:PULS:DCYC 25")
    assert float(twin.handle("FUNC:PULS:WIDT?")) == pytest.approx(250e-6)
    twin.handle("FUNC:PULS:HOLD DCYC;:FREQ 2e3")          # the duty cycle is held
    assert float(twin.handle("FUNC:PULS:WIDT?")) == pytest.approx(125e-6)
    assert float(twin.handle("FUNC:PULS:DCYC?")) == pytest.approx(25.0)
    twin.handle("FUNC:PULS:HOLD WIDT;:FREQ 1e3")          # the width is held
    assert float(twin.handle("FUNC:PULS:WIDT?")) == pytest.approx(125e-6)
    assert twin.handle("FUNC:PULS:HOLD?") == "WIDT"
    twin.handle("VOLT:HIGH 0.2;:VOLT:LOW 0;:BURS:STAT 1;:TRIG:SOUR BUS;:OUTP 1;*TRG")
    assert twin.pulses[-1][2] == pytest.approx(125e-6)
    assert twin.pulses[-1][1] == pytest.approx(series_current_A(0.2, R_P), rel=1e-3)
    assert errors(twin) == []


def test_81160a_voltage_limits_refuse_levels_outside_them(bench):
    twin = Keysight81160ATwin(bench, "pulser")
    twin.handle(":VOLT1:LIM:HIGH 1;:VOLT1:LIM:LOW -1;:VOLT1:HIGH 2")   # limits off: accepted
    assert float(twin.handle(":VOLT1:HIGH?")) == 2.0
    twin.handle(":VOLT1:HIGH 0.5;:VOLT1:LIM:STAT ON;:VOLT1:HIGH 1.5;:VOLT1:LOW -2")
    assert errors(twin) == [-221, -221]
    assert float(twin.handle(":VOLT1:HIGH?")) == 0.5
    twin.handle(":FREQ1 500e6")
    assert float(twin.handle(":FREQ1?")) == 500e6            # as set, not 1/(1/f)
    twin.handle(":VOLT1:HIGH 0.05")                          # ±50 mV fit 0.3 Ω's ±60 mV
    twin.handle(":OUTP1:LOAD 0.3;:OUTP1:LOAD 1e6")           # the 81160A's load range
    assert float(twin.handle(":OUTP1:LOAD?")) == 1e6
    assert errors(twin) == []
    assert float(twin.handle(":OUTP1:LOAD INF;:OUTP1:LOAD?")) == HIGH_Z


def test_33500b_arbitrary_waveform_memory(bench):
    twin = Keysight33500BTwin(bench, "awg")
    assert twin.handle("FUNC:ARB?") == f'"{BUILTIN}"'
    points = ", ".join(f"{math.sin(2 * math.pi * k / 16):.6f}" for k in range(16))
    twin.handle(f"SOUR2:DATA:ARB wave_1, {points}")
    twin.handle("SOUR2:FUNC:ARB WAVE_1;:SOUR2:FUNC ARB")
    assert twin.handle("SOUR2:FUNC:ARB?") == '"WAVE_1"'
    assert twin.arb.waveforms[2]["WAVE_1"][4] == pytest.approx(1.0)
    assert twin.handle("SOUR2:DATA:VOL:CAT?") == f'"{BUILTIN}","WAVE_1"'
    twin.handle("SOUR1:FUNC:ARB WAVE_1")                     # loaded on channel 2 only
    twin.handle("DATA:ARB short, 0, 1, 0")                  # fewer than 8 points
    twin.handle("DATA:ARB:DAC big, " + ", ".join(["40000"] * 8))   # beyond ±32767
    assert errors(twin) == [-224, -222, -222]
    twin.handle("SOUR2:DATA:VOL:CLE")
    assert twin.handle("SOUR2:FUNC:ARB?") == f'"{BUILTIN}"'
    assert twin.handle("SOUR2:FUNC:ARB:SRAT?") == "+4.000000000000000E+04"
    # 65 536 float points: one 1.3 MB message
    big = ", ".join(["-0.123456789"] * 65536)
    twin.handle(f"DATA:ARB BIG, {big}")
    assert len(twin.arb.waveforms[1]["BIG"]) == 65536 and errors(twin) == []
