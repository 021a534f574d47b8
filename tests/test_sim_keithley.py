"""Simulated Keithley 2400, 2450, 6221 and 2182A: through our drivers and pymeasure's stock
classes in-process (@labspin), the 2400 and 2182A over loopback sockets (@py); reset defaults,
error queues, compliance, delta mode and the sample's physics through the instruments.

Noise model used for the tolerances (sim_backend/sim_keithley.py): a SourceMeter reading has the
sample's Johnson noise sqrt(4 k_B T R / (2 t_int)) (t_int = NPLC/60 Hz) plus 2 ppm of the range
per sqrt(NPLC); a 2182A reading has the Johnson noise plus its floor (10 mV range: 3 nV, 100 mV
range: 10 nV rms at NPLC 5).
"""
from __future__ import annotations

import math
import uuid
from contextlib import contextmanager

import numpy as np
import pytest
import pyvisa
from pymeasure.instruments.keithley import Keithley2182 as PmKeithley2182
from pymeasure.instruments.keithley import Keithley2400 as PmKeithley2400
from pymeasure.instruments.keithley import Keithley2450 as PmKeithley2450
from pymeasure.instruments.keithley import Keithley6221 as PmKeithley6221

from labspin.bench.registry import DRIVERS
from labspin.drivers.base import OutputNotFollowingError
from labspin.drivers.keithley import Keithley2182A, Keithley2400, Keithley2450, Keithley6221
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.sim_keithley import (
    OVERFLOW,
    TWINS,
    Keithley2182ATwin,
    Keithley2400Twin,
    Keithley2450Twin,
    Keithley6221Twin,
)
from labspin.sim_backend.virtual_bench import VirtualBench, VirtualMagnet

KB = 1.380649e-23
SAMPLE = "inplane_sot_hallbar"          # R_xx ≈ 1202.5 Ω with m along x, T = 300 K


@pytest.fixture
def bench():
    return VirtualBench(load_sample(SAMPLE), seed=7,
                        magnet=VirtualMagnet(remanence_T=0.0, l_over_r_s=1e-3))


@contextmanager
def visa(twin):
    """Register ``twin`` under a fresh resource name for the @labspin backend."""
    name = f"TCPIP0::{type(twin).__name__.lower()}-{uuid.uuid4().hex[:8]}::inst0::INSTR"
    with twin.bench.resources.registered({name: twin}) as names:
        yield names[name]


def johnson(bench, probe, nplc):
    """rms Johnson noise (V) of one reading integrating NPLC power-line cycles."""
    return bench.johnson_noise_V(probe, 1.0 / (2 * nplc / 60.0))


def errors(twin) -> list[int]:
    codes = []
    while (code := int(twin.handle("SYST:ERR?").split(",")[0])) != 0:
        codes.append(code)
    return codes


def test_twins_cover_the_keithley_driver_keys():
    assert set(TWINS) == {k for k in DRIVERS if k.startswith("keithley")}
    assert TWINS["keithley2400"] is Keithley2400Twin and TWINS["keithley2182a"] is Keithley2182ATwin


# ------------------------------------------------------------------------------------- 2400


def test_2400_reset_defaults_and_settings_through_pymeasure(bench):
    smu = Keithley2400Twin(bench, "smu")
    with visa(smu) as res:
        k = PmKeithley2400(res, visa_library=bench.visa_library)
        k.clear()
        k.reset()
        # Series 2400 manual tables 18-4 to 18-9 (as pymeasure's hardware suite checks them)
        assert k.source_enabled is False and k.output_off_state == "normal"
        assert k.front_terminals_enabled is True
        assert k.current_range == 1.05e-4 and k.current_range_auto_enabled is True
        assert k.current_nplc == 1 and k.compliance_current == 1.05e-4
        assert k.voltage_range == 21 and k.voltage_range_auto_enabled is True
        assert k.voltage_nplc == 1 and k.compliance_voltage == 21
        assert k.resistance_mode_auto_enabled is True and k.resistance_range == 2.1e5
        assert k.resistance_range_auto_enabled is True and k.resistance_nplc == 1
        assert k.repeat_filter_enabled is True and k.filter_count == 10
        assert k.filter_enabled is False and k.auto_output_off_enabled is False
        assert k.source_mode == "voltage" and k.source_delay == 0.001
        assert k.source_delay_auto_enabled is True
        assert k.source_current_range == 1.05e-4 and k.source_current == 0
        assert k.source_voltage_range == 21 and k.source_voltage == 0
        assert k.auto_zero_enabled is True
        settings = [
            ("source_delay", 0.1), ("source_delay_auto_enabled", False),
            ("auto_zero_enabled", False), ("output_off_state", "disconnected"),
            ("output_off_state", "zero"), ("output_off_state", "guard"),
            ("auto_output_off_enabled", True), ("filter_enabled", True),
            ("repeat_filter_enabled", False), ("filter_count", 10),
            ("current_range", 0.000105), ("current_range_auto_enabled", False),
            ("current_nplc", 2.0), ("compliance_current", 0.01), ("source_current", 0.002),
            ("source_current_range", 0.0105), ("source_current_range_auto_enabled", False),
            ("voltage_range_auto_enabled", False), ("voltage_nplc", 1.0),
            ("compliance_voltage", 1.0), ("source_voltage", 1.5), ("source_voltage_range", 2.1),
            ("resistance_mode_auto_enabled", False), ("resistance_range", 2100.0),
            ("resistance_range_auto_enabled", False), ("resistance_nplc", 1.0),
            ("trigger_delay", 0.5), ("arm_timer", 1.0), ("trigger_source", "trigger_link"),
            ("arm_source", "timer"), ("arm_source", "bus"), ("arm_source", "manual"),
            ("trigger_output_event", "sense"), ("arm_output_event", "trigger_exit"),
            ("trigger_input_line", 2), ("arm_input_line", 3), ("trigger_output_line", 4),
            ("arm_output_line", 1), ("display_enabled", False), ("wires", 4), ("wires", 2),
            ("line_frequency", 60), ("line_frequency_auto_enabled", False),
            ("front_terminals_enabled", False), ("source_mode", "current"),
        ]
        for attr, value in settings:
            setattr(k, attr, value)
            assert getattr(k, attr) == value, attr
        assert k.check_errors() == []
        assert k.id.startswith("KEITHLEY INSTRUMENTS INC.,MODEL 2400,")
        k.adapter.close()


def test_2400_current_source_reads_i_times_r_through_our_driver(bench):
    smu = Keithley2400Twin(bench, "smu")
    with visa(smu) as res:
        d = Keithley2400(res, visa_library=bench.visa_library, clock=bench.clock)
        d.source_mode = "current"
        d.compliance_voltage = 10.0
        d.source_current = 1e-3
        assert "smu" not in bench.drives.dc_A                 # output off: no current
        d.enable_source()
        assert bench.drives.dc_A["smu"] == 1e-3
        t0 = bench.clock.now()
        v = d.measure_voltage()
        # one reading: 1 ms source delay + 2 × 1 PLC (autozero on) of virtual time
        assert bench.clock.now() - t0 == pytest.approx(1e-3 + 2 / 60.0)
        r = bench.resistance("xx")
        sigma = math.hypot(johnson(bench, "xx", 1.0), 2e-6 * 2.0)     # 2 V range
        assert abs(v - 1e-3 * r) < 5 * sigma
        assert d.measure_current() == pytest.approx(1e-3, abs=5 * 2e-6 * 1e-3)
        d.shutdown()                          # ramps to 0 in virtual time, output off
        assert "smu" not in bench.drives.dc_A and smu.get("output") is False
        assert [e for e in smu.output_log if e[1] == "source_current"][-1][2] == 0.0
        d.adapter.close()


def test_2400_measure_all_resistance_and_amr_through_pymeasure(bench):
    """R = V/I of the instrument matches the sample's R_xx(m); rotating a saturating field
    in-plane gives R0 + ΔR_AMR cos²φ + ΔR_SMR sin²φ (physics.md readout)."""
    smu = Keithley2400Twin(bench, "smu", probe="xx")
    ro = bench.sample.readout
    hk = bench.sample.describe()["mu0_hk_T"]
    with visa(smu) as res:
        k = PmKeithley2400(res, visa_library=bench.visa_library)
        k.source_mode = "current"
        k.compliance_voltage = 5
        k.source_current = 1e-3
        k.wires = 4
        k.source_enabled = True
        bench.set_magnet_current(0.1 / bench.magnet.tesla_per_A)    # 0.1 T ≫ H_k = 3.6 mT
        for phi in (0.0, 45.0, 90.0):
            bench.set_field_angle(phi)
            bench.clock.sleep(0.05)
            m = k.measure_all()
            # the 7-digit ASCII format rounds V, I and R independently
            assert m["voltage"] == pytest.approx(m["current"] * m["resistance"], rel=5e-6)
            assert m["status"] & (1 << 22) and not m["status"] & (1 << 3)   # 4-wire, no compliance
            sigma_r = math.hypot(johnson(bench, "xx", 1.0), 4e-6) / 1e-3
            assert abs(m["resistance"] - bench.resistance("xx")) < 5 * sigma_r
            # m lags the field toward the easy axis x by (H_k/2H)·sin 2φ (first order in H_k/H)
            theta = math.radians(phi) - hk / (2 * 0.1) * math.sin(math.radians(2 * phi))
            c2 = math.cos(theta) ** 2
            expected = ro.r0 + ro.dr_amr * c2 + ro.dr_smr * (1 - c2)
            # second order in H_k/H and the 1 mA torques (H_FL+H_Oe ≈ 0.06 mT) tilt m by
            # < 1e-3 rad: < 0.005 Ω, next to σ_R ≈ 4 mΩ
            assert m["resistance"] == pytest.approx(expected, abs=0.005 + 5 * sigma_r)
        k.adapter.close()


def test_2400_compliance_clamps_the_current_and_sets_the_flags(bench):
    smu = Keithley2400Twin(bench, "smu")
    r = bench.resistance("xx")
    with visa(smu) as res:
        d = Keithley2400(res, visa_library=bench.visa_library, clock=bench.clock)
        d.source_mode = "current"
        d.compliance_voltage = 0.5
        d.source_current = 1e-3                  # I·R = 1.2 V > 0.5 V
        d.enable_source()
        assert bench.drives.dc_A["smu"] == pytest.approx(0.5 / r)
        # labspin's driver refuses a reading in compliance (the data would be wrong): the
        # clamp is read with pymeasure's raw queries
        with pytest.raises(OutputNotFollowingError, match=r"in compliance .* with current 0.001 A; reads 0.49"):
            d.measure_voltage()
        assert float(d.values(":MEAS:VOLT?")[0]) == pytest.approx(0.5, abs=5e-5)
        assert float(d.values(":MEAS:CURR?")[1]) == pytest.approx(0.5 / r, rel=1e-4)
        assert d.ask(":SENS:VOLT:PROT:TRIP?").strip() == "1"
        status = int(float(d.values(":READ?")[4]))
        assert status & (1 << 3)                          # status word: compliance
        assert int(d.ask(":STAT:MEAS:COND?")) & (1 << 14)  # measurement condition: compliance
        d.compliance_voltage = 5.0
        assert bench.drives.dc_A["smu"] == 1e-3
        assert d.ask(":SENS:VOLT:PROT:TRIP?").strip() == "0"
        d.adapter.close()


def test_2400_voltage_source_drives_v_over_r_and_respects_the_current_limit(bench):
    smu = Keithley2400Twin(bench, "smu", probe="xx")
    with visa(smu) as res:
        d = Keithley2400(res, visa_library=bench.visa_library, clock=bench.clock)
        d.write(":SYST:RSEN ON")                       # 4-wire: regulate the xx voltage
        d.source_mode = "voltage"
        d.compliance_current = 0.01
        d.source_voltage = 0.1
        d.enable_source()
        r = bench.resistance("xx")
        assert bench.drives.dc_A["smu"] == pytest.approx(0.1 / r, rel=1e-9)
        assert d.measure_voltage() == pytest.approx(0.1, abs=5e-6)
        d.compliance_current = 1e-5                    # 0.1 V / 1.2 kΩ = 83 µA > 10 µA
        assert bench.drives.dc_A["smu"] == pytest.approx(1e-5)
        assert d.ask(":SENS:CURR:PROT:TRIP?").strip() == "1"
        assert float(d.values(":MEAS:VOLT?")[0]) == pytest.approx(1e-5 * r, abs=5e-6)
        with pytest.raises(OutputNotFollowingError, match="in compliance"):
            d.measure_voltage()
        d.adapter.close()


def test_2400_output_off_refuses_readings_and_errors_land_in_the_queue(bench):
    smu = Keithley2400Twin(bench, "smu")
    assert smu.handle(":READ?") is None
    assert smu.handle("SYST:ERR?") == '803,"Not permitted with OUTPUT off"'
    smu.handle(":SOUR:CURR 1e-3")
    smu.handle(":SOUR:CURR 2")                      # beyond ±1.05 A
    assert smu.get("source_current") == 1e-3        # unchanged
    smu.handle(":SOUR:CURRR 1")
    smu.handle(":SOUR:FUNC POWER")
    smu.handle(":SENS:CURR:NPLC 1mA")
    assert errors(smu) == [-222, -113, -224, -131]
    assert int(smu.handle("*ESR?")) & 0b110000 == 0b110000      # CME and EXE
    smu.handle(":SOUR:CLE:AUTO ON;:SOUR:FUNC CURR")
    assert smu.handle(":MEAS:VOLT?") is not None     # auto output-off: on for the reading only
    assert [e[1:] for e in smu.output_log[-2:]] == [("output", True), ("output", False)]
    assert "smu" not in bench.drives.dc_A


def test_2400_ramp_is_logged_in_virtual_time_and_stuck_output_is_physical(bench):
    smu = Keithley2400Twin(bench, "smu")
    with visa(smu) as res:
        d = Keithley2400(res, visa_library=bench.visa_library, clock=bench.clock)
        d.source_mode = "current"
        d.compliance_voltage = 5.0
        d.enable_source()
        d.ramp_to_current(5e-4)                      # default slew 1 mA/s in 0.1 mA steps
        ramp = [(t, v) for t, name, v in smu.output_log if name == "source_current"]
        assert [v for _t, v in ramp] == pytest.approx([1e-4, 2e-4, 3e-4, 4e-4, 5e-4])
        assert np.diff([t for t, _v in ramp]) == pytest.approx([0.1] * 4)
        assert bench.drives.dc_A["smu"] == 5e-4
        d.disable_source()
        smu.inject("stuck_output", on="output")
        d.enable_source()
        assert d.ask("OUTP?").strip() == "1"         # the setting says on …
        assert "smu" not in bench.drives.dc_A        # … the output does not drive
        d.adapter.close()


def test_2400_buffer_statistics_through_pymeasure(bench):
    smu = Keithley2400Twin(bench, "smu")
    with visa(smu) as res:
        k = PmKeithley2400(res, visa_library=bench.visa_library)
        k.source_mode = "current"
        k.compliance_voltage = 5
        k.source_current = 1e-3
        k.enable_source()
        k.write(":SENS:FUNC 'VOLT','CURR'")
        k.config_buffer(points=8)
        k.start_buffer()
        k.wait_for_buffer(timeout=1)
        assert k.is_buffer_full()
        data = k.buffer_data
        assert data.size == 8 * 5
        sigma = math.hypot(johnson(bench, "xx", 1.0), 4e-6)
        assert k.mean_voltage == pytest.approx(1e-3 * bench.resistance("xx"), abs=3 * sigma)
        assert k.mean_current == pytest.approx(1e-3, rel=1e-5)
        assert 0 < k.std_voltage < 3 * sigma
        assert k.check_errors() == []
        k.adapter.close()


def test_2400_bus_trigger_runs_an_armed_init(bench):
    smu = Keithley2400Twin(bench, "smu")
    with visa(smu) as res:
        k = PmKeithley2400(res, visa_library=bench.visa_library)
        k.source_mode = "current"
        k.source_current = 1e-4
        k.enable_source()
        k.trigger_on_bus()
        k.write(":INIT")
        assert smu.handle(":FETC?") is None and errors(smu) == [-230]
        k.trigger()                                   # *TRG
        assert len(k.values(":FETC?")) == 5
        t0 = bench.clock.now()
        k.write(":INIT")
        k.adapter.connection.assert_trigger()         # VISA group execute trigger
        assert bench.clock.now() > t0 and errors(smu) == []
        k.adapter.close()


# ------------------------------------------------------------------------------------- 2450


def test_2450_through_our_driver_compliance_and_output_off(bench):
    smu = Keithley2450Twin(bench, "smu")
    r = bench.resistance("xx")
    with visa(smu) as res:
        d = Keithley2450(res, visa_library=bench.visa_library, clock=bench.clock)
        d.source_mode = "current"
        d.compliance_voltage = 5.0
        d.source_current = 1e-3
        off = d.measure_voltage()              # the 2450 measures with the output off
        assert abs(off) < 1e-5 and "smu" not in bench.drives.dc_A
        d.enable_source()
        v = d.measure_voltage()
        sigma = math.hypot(johnson(bench, "xx", 1.0), 2e-6 * 2.0)
        assert abs(v - 1e-3 * r) < 5 * sigma
        assert d.measure_current() == pytest.approx(1e-3, abs=1e-8)
        d.compliance_voltage = 0.2
        assert d.measure_voltage() == pytest.approx(0.2, abs=5e-6)
        assert bench.drives.dc_A["smu"] == pytest.approx(0.2 / r)
        assert d.ask(":SOUR:CURR:VLIM:TRIP?").strip() == "1"
        d.disable_source()
        assert "smu" not in bench.drives.dc_A
        d.adapter.close()


def test_2450_pymeasure_settings_and_error_format(bench):
    smu = Keithley2450Twin(bench, "smu")
    with visa(smu) as res:
        k = PmKeithley2450(res, visa_library=bench.visa_library)
        k.reset()
        assert "KEITHLEY INSTRUMENTS,MODEL 2450" in k.id
        assert k.source_mode == "voltage" and k.source_enabled is False
        assert k.compliance_voltage == 21 and k.compliance_current == 1.05e-4
        settings = [
            ("source_mode", "current"), ("current_range", 10e-9), ("current_range", 1.0),
            ("current_nplc", 0.01), ("current_nplc", 10), ("compliance_current", 1.05),
            ("compliance_current", 10e-9), ("source_current", -1.05), ("source_current", 0.5),
            ("source_current_range", 10e-9), ("source_current_range", 1.0),
            ("source_current_delay", 1000), ("source_current_delay_auto", True),
            ("voltage_range", 20e-3), ("voltage_range", 200), ("voltage_nplc", 10),
            ("compliance_voltage", 20e-3), ("compliance_voltage", 210), ("source_voltage", -210),
            ("source_voltage_range", 20e-3), ("source_voltage_delay", 0),
            ("source_voltage_delay_auto", False), ("resistance_range", 2),
            ("resistance_range", 200e6), ("resistance_nplc", 0.01), ("wires", 4), ("wires", 2),
            ("buffer_points", 10), ("buffer_points", 5211488), ("current_filter_type", "MOV"),
            ("current_filter_count", 100), ("voltage_filter_type", "REP"),
            ("voltage_filter_count", 1), ("current_output_off_state", "HIMP"),
            ("voltage_output_off_state", "GUAR"),
        ]
        for attr, value in settings:
            setattr(k, attr, value)
            assert getattr(k, attr) == value, attr
        k.current_filter_state = "ON"
        assert k.current_filter_state == 1.0
        assert k.check_errors() == []
        k.write(":SOUR:CURR:VLIM 500")
        err = k.ask("SYST:ERR?").strip()
        assert err.startswith('-222,"Parameter data out of range;1;2024/01/01 ')
        assert k.ask("SYST:ERR?").strip() == '0,"No error;0;0 0"'
        k.apply_current(current_range=1e-3, compliance_voltage=5)
        k.measure_voltage(nplc=1)
        k.source_current = 1e-4
        k.enable_source()
        assert k.source_enabled is True
        assert k.voltage == pytest.approx(1e-4 * bench.resistance("xx"), abs=1e-5)
        k.shutdown()
        assert "smu" not in bench.drives.dc_A
        k.adapter.close()


# ---------------------------------------------------------------------------- 6221 + 2182A


def test_6221_dc_and_2182a_reading_through_our_drivers(bench):
    cs = Keithley6221Twin(bench, "cs", nanovoltmeter="nv")
    nv = Keithley2182ATwin(bench, "nv", probe="xx")
    r = bench.resistance("xx")
    with visa(cs) as res_cs, visa(nv) as res_nv:
        src = Keithley6221(res_cs, visa_library=bench.visa_library, clock=bench.clock)
        meter = Keithley2182A(res_nv, visa_library=bench.visa_library)
        src.compliance_voltage = 10.0
        src.source_current = 1e-5
        src.enable_source()
        assert bench.drives.dc_A["cs"] == 1e-5
        t0 = bench.clock.now()
        v = meter.measure_voltage()
        assert bench.clock.now() - t0 == pytest.approx(2 * 5 / 60.0)   # NPLC 5, front autozero
        sigma = math.hypot(johnson(bench, "xx", 5.0), 10e-9)         # 12 mV: 100 mV range
        assert abs(v - 1e-5 * r) < 5 * sigma
        src.compliance_voltage = 0.1                     # 1 mA × 1.2 kΩ = 1.2 V > 0.1 V
        src.source_current = 1e-3
        assert bench.drives.dc_A["cs"] == pytest.approx(0.1 / r)
        assert int(src.ask(":STAT:MEAS:COND?")) & (1 << 3)
        src.shutdown()
        assert "cs" not in bench.drives.dc_A and cs.get("output") is False
        src.adapter.close()
        meter.adapter.close()


def test_6221_sine_drives_the_bench_while_running(bench):
    cs = Keithley6221Twin(bench, "cs")
    with visa(cs) as res:
        src = Keithley6221(res, visa_library=bench.visa_library, clock=bench.clock)
        src.start_sine(1e-3, 1234.5, 2e-4)
        assert src.source_enabled is True                 # arming turns the output on
        assert bench.drives.ac["cs"] == (1e-3, 1234.5)
        assert bench.drives.dc_A["cs"] == 2e-4
        assert bench.reference_frequency("cs") == 1234.5
        src.stop_waveform()
        assert "cs" not in bench.drives.ac and "cs" not in bench.drives.dc_A
        assert bench.reference_frequency("cs") is None
        src.adapter.close()
    # a square wave reaches the bench as its fundamental, 4/π of the amplitude; a finite
    # duration ends in virtual time
    cs.handle(":SOUR:WAVE:FUNC SQU;:SOUR:WAVE:AMPL 1e-3;:SOUR:WAVE:FREQ 100")
    cs.handle(":SOUR:WAVE:DUR:CYCL 50;:SOUR:WAVE:ARM;:SOUR:WAVE:INIT")
    assert bench.drives.ac["cs"][0] == pytest.approx(4e-3 / math.pi, rel=1e-3)
    assert float(cs.handle(":SOUR:WAVE:DUR:TIME?")) == pytest.approx(0.5)
    bench.clock.sleep(0.49)
    assert "cs" in bench.drives.ac
    bench.clock.sleep(0.02)
    assert "cs" not in bench.drives.ac
    cs.handle(":SOUR:WAVE:INIT")
    assert errors(cs) == [-221]                          # not armed any more


def test_6221_delta_mode_cancels_the_thermal_emf(bench):
    cs = Keithley6221Twin(bench, "cs", nanovoltmeter="nv")
    nv = Keithley2182ATwin(bench, "nv", probe="xx", thermal_emf_V=5e-6)
    r = bench.resistance("xx")
    with visa(cs) as res_cs, visa(nv) as res_nv:
        src = Keithley6221(res_cs, visa_library=bench.visa_library, clock=bench.clock)
        meter = Keithley2182A(res_nv, visa_library=bench.visa_library)
        assert src.delta_connected is True
        src.delta_arm(1e-5, 0.002, 20)
        src.delta_start()
        step = 0.002 + 2 * 5 / 60.0                    # delay + one 2182A conversion
        bench.clock.sleep(5 * step)
        early = src.delta_read()
        assert early.size == 3                         # 5 A/D readings: 3 deltas so far
        bench.clock.sleep(20 * step)
        v = src.delta_read()
        assert v.size == 20
        # one A/D: Johnson (NPLC 5) ⊕ 10 nV floor (100 mV range); a 3-point delta has
        # sqrt(6)/4 of it; the mean of 20 (neighbours correlated) within 5 σ_delta/sqrt(20/3)
        sigma_a = math.hypot(johnson(bench, "xx", 5.0), 10e-9)
        sigma_d = math.sqrt(6) / 4 * sigma_a
        assert abs(v.mean() - 1e-5 * r) < 5 * sigma_d / math.sqrt(20 / 3)
        assert v.std() < 3 * sigma_d
        src.delta_abort()
        assert bench.drives.dc_A.get("cs", 0.0) == 0.0
        # a plain dc reading keeps the 5 µV offset that delta mode removed
        src.source_current = 1e-5
        dc = np.mean([meter.measure_voltage() for _ in range(5)])
        assert dc - 1e-5 * r == pytest.approx(5e-6, abs=5 * sigma_a)
        src.adapter.close()
        meter.adapter.close()


def test_6221_delta_opc_waits_and_units_convert(bench):
    cs = Keithley6221Twin(bench, "cs", nanovoltmeter="nv")
    Keithley2182ATwin(bench, "nv")
    cs.handle(":UNIT:VOLT:DC OHMS;:SOUR:DELT:HIGH 1e-4;:SOUR:DELT:COUN 4;:TRAC:POIN 4")
    cs.handle(":FORM:ELEM READ,TST,RNUM,SOUR;:SOUR:DELT:ARM;:INIT:IMM")
    t0 = bench.clock.now()
    assert cs.handle("*OPC?") == "1"
    assert bench.clock.now() - t0 == pytest.approx(6 * (0.002 + 2 * 5 / 60.0))
    data = np.array(cs.handle(":TRAC:DATA?").split(","), float).reshape(4, 4)
    assert data[:, 0] == pytest.approx(bench.resistance("xx"), abs=1e-3)   # Ω
    assert list(data[:, 2]) == [0, 1, 2, 3] and set(data[:, 3]) == {1e-4}
    assert np.all(np.diff(data[:, 1]) > 0)


def test_6221_delta_needs_a_2182a(bench):
    cs = Keithley6221Twin(bench, "cs")                  # nothing on its RS-232 link
    with visa(cs) as res:
        src = Keithley6221(res, visa_library=bench.visa_library, clock=bench.clock)
        with pytest.raises(RuntimeError, match="2182A"):
            src.delta_arm(1e-5, 0.002, 10)
        src.write(":SOUR:DELT:ARM")
        assert src.next_error[0] == -221
        src.adapter.close()


def test_6221_pymeasure_stock_class(bench):
    cs = Keithley6221Twin(bench, "cs", nanovoltmeter="nv")
    Keithley2182ATwin(bench, "nv")
    with visa(cs) as res:
        k = PmKeithley6221(res, visa_library=bench.visa_library)
        k.reset()
        assert k.source_enabled is False and k.source_current == 0.0
        assert k.source_compliance == 10.0
        k.source_current = 2e-3
        k.source_compliance = 50
        k.source_range = 0.02
        assert k.source_range == 0.02 and k.source_auto_range is False
        k.waveform_function = "square"
        k.waveform_amplitude = 0.05
        k.waveform_offset = 0.001
        k.waveform_frequency = 347
        k.waveform_dutycycle = 50
        k.waveform_ranging = "best"
        assert (k.waveform_function, k.waveform_amplitude, k.waveform_frequency) == (
            "square", 0.05, 347)
        k.delta_high_source = 1e-4
        assert k.delta_low_source == -1e-4
        k.delta_cycles = "INF"
        assert k.delta_cycles >= OVERFLOW
        k.delta_delay = 0.01
        assert k.delta_delay == 0.01
        k.delta_compliance_abort_enabled = True
        assert k.delta_compliance_abort_enabled is True
        assert k.delta_connected is True and k.delta_unit == "V"
        k.enable_source()
        assert bench.drives.dc_A["cs"] == 2e-3
        assert k.check_errors() == []
        k.shutdown()
        assert "cs" not in bench.drives.dc_A
        k.adapter.close()


def test_2182a_pymeasure_buffer_noise_floor_and_timing(bench):
    nv = Keithley2182ATwin(bench, "nv", probe="xx", probe2="xy")
    bench.set_dc_current("ext", 1e-4)
    with visa(nv) as res:
        k = PmKeithley2182(res, visa_library=bench.visa_library)
        k.reset()
        k.ch_1.setup_voltage(nplc=5)
        assert k.active_channel == 1 and k.channel_function == "voltage"
        assert k.voltage_nplc == 5
        k.ch_1.voltage_range = 0.1
        assert k.ch_1.voltage_range == 0.1
        k.ch_1.voltage_range_auto_enabled = True
        k.config_buffer(points=10)
        t0 = bench.clock.now()
        k.start_buffer()
        assert bench.clock.now() - t0 == pytest.approx(10 * 2 * 5 / 60.0)
        k.wait_for_buffer(timeout=1)
        sigma = math.hypot(johnson(bench, "xx", 5.0), 80e-9)      # 0.12 V: 1 V range, 80 nV
        assert k.mean == pytest.approx(1e-4 * bench.resistance("xx"), abs=5 * sigma)
        # channel 2 on the Hall probe
        k.write(":SENS:CHAN 2;:TRIG:COUN 1")
        assert k.voltage == pytest.approx(1e-4 * bench.resistance("xy"), abs=1e-6)
        assert k.check_errors() == []
        k.adapter.close()
    # the floor alone: an unconnected channel 2 at NPLC 1 (100 mV range: 10 nV·sqrt(5))
    lone = Keithley2182ATwin(bench, "lone")
    lone.handle(":SENS:CHAN 2;:SENS:VOLT:NPLC 1;:SAMP:COUN 400")
    v = np.array(lone.handle(":READ?").split(","), float)
    expected = 10e-9 * math.sqrt(5.0)
    assert v.std() == pytest.approx(expected, rel=4 / math.sqrt(2 * v.size))
    lone.handle(":SENS:VOLT:CHAN2:RANG:AUTO 0;:SENS:VOLT:CHAN2:RANG 0.1;:SENS:CHAN 1")
    lone.handle(":SENS:VOLT:CHAN1:RANG 0.01;:SAMP:COUN 1")
    assert float(lone.handle(":READ?")) == OVERFLOW          # 0.12 V on the 10 mV range
    lone.handle(":SENS:VOLT:NPLC 70")
    lone.handle(":SENS:FUNC 'POWER'")
    assert errors(lone) == [-222, -224]


# ------------------------------------------------------------------- sockets, reproducibility


def test_2400_and_2182a_over_loopback_sockets_with_our_drivers(bench):
    smu = Keithley2400Twin(bench, "smu")
    nv = Keithley2182ATwin(bench, "nv")
    with serve({"smu": smu, "nv": nv}) as server:
        d = Keithley2400(server.resources["smu"], visa_library="@py", clock=bench.clock,
                         read_termination="\n", timeout=2000)
        meter = Keithley2182A(server.resources["nv"], visa_library="@py", timeout=2000)
        try:
            d.source_mode = "current"
            d.compliance_voltage = 5.0
            d.source_current = 1e-4
            d.enable_source()
            r = bench.resistance("xx")
            assert d.measure_voltage() == pytest.approx(1e-4 * r, abs=2e-5)
            assert meter.measure_voltage() == pytest.approx(1e-4 * r, abs=1e-6)
            d.write(":SOUR:CURR 5")
            assert d.ask("SYST:ERR?").strip() == '-222,"Parameter data out of range"'
            d.shutdown()
            # writes over a socket return before the server has handled them: a query
            # answered after them says they have all reached the twin
            assert d.ask("*OPC?").strip() == "1"
            assert "smu" not in bench.drives.dc_A
        finally:
            d.adapter.close()
            meter.adapter.close()


def test_a_seed_reproduces_the_readings():
    def run(seed):
        b = VirtualBench(load_sample(SAMPLE), seed=seed)
        smu = Keithley2400Twin(b, "smu")
        nv = Keithley2182ATwin(b, "nv")
        smu.handle(":SOUR:FUNC CURR;:SOUR:CURR 1e-4;:OUTP ON")
        return [smu.handle(":READ?") for _ in range(3)] + [nv.handle(":READ?") for _ in range(3)]

    assert run(11) == run(11)
    assert run(11) != run(12)


def test_resource_manager_lists_and_opens_a_twin(bench):
    smu = Keithley2450Twin(bench, "smu")
    with visa(smu) as name:
        rm = pyvisa.ResourceManager(bench.visa_library)
        assert name in rm.list_resources()
        inst = rm.open_resource(name, read_termination="\n")
        assert inst.query("*IDN?") == Keithley2450Twin.idn
        inst.close()
