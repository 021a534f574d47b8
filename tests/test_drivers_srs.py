"""SRS lock-ins (SR830, SR860, SR865, SR865A): protocol, role conformance, limits, shutdown."""
from unittest.mock import MagicMock

import pytest
from pymeasure.test import expected_protocol

from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError, SlewLimit
from labspin.drivers import roles
from labspin.drivers.srs import SR830, SR860, SR865, SR865A, nearest_log, smallest_at_least

SR86X = (SR860, SR865, SR865A)
ALL = (SR830,) + SR86X


# ---------------------------------------------------------------- construction and role
@pytest.mark.parametrize("cls", ALL)
def test_constructible_with_mock_adapter_and_satisfies_lock_in_role(cls):
    inst = cls(MagicMock(), clock=VirtualClock())
    assert cls.roles == ("lock_in",)
    assert isinstance(inst, roles.LockIn)
    assert isinstance(inst, roles.Sourcing)


# ---------------------------------------------------------------- validators
def test_smallest_at_least_and_nearest_log():
    ranges = [1e-3, 2e-3, 5e-3]
    assert smallest_at_least(1e-3, ranges) == 1e-3
    assert smallest_at_least(1.0000001e-3, ranges) == 1e-3      # 1 ppm tolerance
    assert smallest_at_least(1.1e-3, ranges) == 2e-3
    assert smallest_at_least(0, ranges) == 1e-3
    for bad in (6e-3, -1.0, float("nan")):
        with pytest.raises(ValueError):
            smallest_at_least(bad, ranges)
    tcs = [0.1, 0.3, 1.0]
    assert nearest_log(0.15, tcs) == 0.1
    assert nearest_log(0.2, tcs) == 0.3
    assert nearest_log(100, tcs) == 1.0
    with pytest.raises(ValueError):
        nearest_log(0, tcs)


# ---------------------------------------------------------------- SR830 properties
@pytest.mark.parametrize("attr, value, command", [
    ("frequency", 1234.5, "FREQ1.23450e+03"),
    ("frequency", 0.001, "FREQ1.00000e-03"),
    ("frequency", 102000, "FREQ1.02000e+05"),
    ("reference_source", "internal", "FMOD 1"),
    ("reference_source", "external", "FMOD 0"),
    ("harmonic", 1, "HARM1"),
    ("harmonic", 2, "HARM2"),
    ("harmonic", 19999, "HARM19999"),
    ("sensitivity", 2e-9, "SENS0"),
    ("sensitivity", 1e-3, "SENS17"),
    ("sensitivity", 1.5e-3, "SENS18"),       # smallest range ≥ value
    ("sensitivity", 0.6, "SENS26"),
    ("sensitivity", 1.0, "SENS26"),
    ("time_constant", 10e-6, "OFLT0"),
    ("time_constant", 0.1, "OFLT8"),
    ("time_constant", 0.15, "OFLT8"),         # nearest on a log scale
    ("time_constant", 0.2, "OFLT9"),
    ("time_constant", 1e6, "OFLT19"),
    ("filter_slope", 6, "OFSL0"),
    ("filter_slope", 12, "OFSL1"),
    ("filter_slope", 18, "OFSL2"),
    ("filter_slope", 24, "OFSL3"),
])
def test_sr830_setters(attr, value, command):
    with expected_protocol(SR830, [(command, None)]) as inst:
        setattr(inst, attr, value)


@pytest.mark.parametrize("attr, command, reply, expected", [
    ("frequency", "FREQ?", "1000.000", 1000.0),
    ("frequency", "FREQ?", "99999.99", 99999.99),
    ("reference_source", "FMOD?", "1", "internal"),
    ("reference_source", "FMOD?", "0", "external"),
    ("harmonic", "HARM?", "2", 2),
    ("sensitivity", "SENS?", "0", 2e-9),
    ("sensitivity", "SENS?", "17", 1e-3),
    ("sensitivity", "SENS?", "26", 1.0),
    ("time_constant", "OFLT?", "8", 0.1),
    ("time_constant", "OFLT?", "10", 1.0),
    ("filter_slope", "OFSL?", "0", 6),
    ("filter_slope", "OFSL?", "3", 24),
    ("sine_amplitude", "SLVL?", "1.000", 1.0),
    ("sine_amplitude", "SLVL?", "0.004", 0.004),
    ("sine_voltage", "SLVL?", "0.250", 0.25),
    ("overloaded", "LIAS?", "0", False),
    ("overloaded", "LIAS?", "1", True),       # input/amplifier overload
    ("overloaded", "LIAS?", "2", True),       # filter overload
    ("overloaded", "LIAS?", "4", True),       # output overload
    ("overloaded", "LIAS?", "8", False),      # reference unlock is no overload
    ("overloaded", "LIAS?", "40", False),
])
def test_sr830_getters(attr, command, reply, expected):
    with expected_protocol(SR830, [(command, reply)]) as inst:
        value = getattr(inst, attr)
    assert value == pytest.approx(expected) if isinstance(expected, float) else value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("attr, value", [
    ("frequency", 0.0005), ("frequency", 102001), ("reference_source", "dual"),
    ("reference_source", "Internal"), ("harmonic", 0), ("harmonic", 20000), ("harmonic", 1.5),
    ("sensitivity", 1.5), ("sensitivity", -1e-3), ("time_constant", 0),
    ("filter_slope", 10), ("filter_slope", 48),
])
def test_sr830_rejects_invalid_values_before_writing(attr, value):
    with expected_protocol(SR830, []) as inst:
        with pytest.raises(ValueError):
            setattr(inst, attr, value)


def test_sr830_measure_xy_is_one_snap():
    with expected_protocol(SR830, [("SNAP? 1,2", "1.234e-03,-5.6e-05")]) as inst:
        x, y = inst.measure_xy()
    assert (x, y) == (pytest.approx(1.234e-3), pytest.approx(-5.6e-5))
    assert isinstance(x, float) and isinstance(y, float)


# ---------------------------------------------------------------- SR86x properties
@pytest.mark.parametrize("cls", SR86X)
@pytest.mark.parametrize("attr, value, command", [
    ("frequency", 1234.5, "FREQ 1.234500e+03"),
    ("frequency", 0.001, "FREQ 1.000000e-03"),
    ("frequency", 500e3, "FREQ 5.000000e+05"),
    ("reference_source", "internal", "RSRC 0"),
    ("reference_source", "external", "RSRC 1"),
    ("reference_source", "dual", "RSRC 2"),
    ("reference_source", "chop", "RSRC 3"),
    ("harmonic", 1, "HARM 1"),
    ("harmonic", 2, "HARM 2"),
    ("harmonic", 99, "HARM 99"),
    ("sensitivity", 1.0, "SCAL 0"),
    ("sensitivity", 0.8, "SCAL 0"),
    ("sensitivity", 1e-3, "SCAL 9"),
    ("sensitivity", 1.5e-3, "SCAL 8"),
    ("sensitivity", 1e-9, "SCAL 27"),
    ("sensitivity", 0, "SCAL 27"),
    ("time_constant", 1e-6, "OFLT 0"),
    ("time_constant", 0.1, "OFLT 10"),
    ("time_constant", 0.2, "OFLT 11"),
    ("time_constant", 1.0, "OFLT 12"),
    ("time_constant", 30e3, "OFLT 21"),
    ("filter_slope", 6, "OFSL 0"),
    ("filter_slope", 12, "OFSL 1"),
    ("filter_slope", 18, "OFSL 2"),
    ("filter_slope", 24, "OFSL 3"),
])
def test_sr86x_setters(cls, attr, value, command):
    with expected_protocol(cls, [(command, None)]) as inst:
        setattr(inst, attr, value)


@pytest.mark.parametrize("cls", SR86X)
@pytest.mark.parametrize("attr, command, reply, expected", [
    ("frequency", "FREQ?", "1.0000000e+03", 1000.0),
    ("frequency", "FREQ?", "12345.678", 12345.678),
    ("reference_source", "RSRC?", "0", "internal"),
    ("reference_source", "RSRC?", "1", "external"),
    ("reference_source", "RSRC?", "2", "dual"),
    ("reference_source", "RSRC?", "3", "chop"),
    ("harmonic", "HARM?", "2", 2),
    ("sensitivity", "SCAL?", "0", 1.0),
    ("sensitivity", "SCAL?", "9", 1e-3),
    ("sensitivity", "SCAL?", "27", 1e-9),
    ("time_constant", "OFLT?", "0", 1e-6),
    ("time_constant", "OFLT?", "12", 1.0),
    ("filter_slope", "OFSL?", "1", 12),
    ("filter_slope", "OFSL?", "3", 24),
    ("sine_amplitude", "SLVL?", "1.000000000e-01", 0.1),
    ("sine_voltage", "SLVL?", "2.000000000e+00", 2.0),
    ("overloaded", "CUROVLDSTAT?", "0", False),
    ("overloaded", "CUROVLDSTAT?", "1", True),     # CH1 output
    ("overloaded", "CUROVLDSTAT?", "2", True),     # CH2 output
    ("overloaded", "CUROVLDSTAT?", "16", True),    # input range
    ("overloaded", "CUROVLDSTAT?", "256", True),   # data channel output
    ("overloaded", "CUROVLDSTAT?", "8", False),    # external reference unlock only
    ("overload_status", "CUROVLDSTAT?", "24", 24),
])
def test_sr86x_getters(cls, attr, command, reply, expected):
    with expected_protocol(cls, [(command, reply)]) as inst:
        value = getattr(inst, attr)
    assert value == pytest.approx(expected) if isinstance(expected, float) else value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize("cls", SR86X)
@pytest.mark.parametrize("attr, value", [
    ("frequency", 0.0005), ("reference_source", "INT"), ("harmonic", 0), ("harmonic", 100),
    ("sensitivity", 1.01), ("time_constant", -1.0), ("filter_slope", 3),
])
def test_sr86x_rejects_invalid_values_before_writing(cls, attr, value):
    with expected_protocol(cls, []) as inst:
        with pytest.raises(ValueError):
            setattr(inst, attr, value)


@pytest.mark.parametrize("cls, f_max", [(SR860, 500e3), (SR865, 2e6), (SR865A, 4e6)])
def test_sr86x_frequency_range_per_model(cls, f_max):
    with expected_protocol(cls, [(f"FREQ {f_max:0.6e}", None)]) as inst:
        inst.frequency = f_max
    with expected_protocol(cls, []) as inst:
        with pytest.raises(ValueError):
            inst.frequency = f_max * 1.001


@pytest.mark.parametrize("cls", SR86X)
def test_sr86x_measure_xy_is_one_snap(cls):
    with expected_protocol(cls, [("SNAP? 0,1", "-1.23456e-05,2.34567e-06")]) as inst:
        assert inst.measure_xy() == (pytest.approx(-1.23456e-5), pytest.approx(2.34567e-6))


# ---------------------------------------------------------------- sine output: limits and ramps
def test_sr830_sine_amplitude_ramps_up_within_slew_limits():
    clock = VirtualClock()
    with expected_protocol(SR830, [("SLVL?", "0.004"), ("SLVL0.053", None), ("SLVL0.102", None),
                                   ("SLVL0.151", None), ("SLVL0.200", None)],
                           clock=clock) as inst:
        inst.sine_amplitude = 0.2
    assert clock.now() == pytest.approx((0.2 - 0.004) / 0.5)   # |Δ| / max_rate


def test_sr830_sine_voltage_is_the_same_ramping_setter():
    clock = VirtualClock()
    with expected_protocol(SR830, [("SLVL?", "0.100"), ("SLVL0.050", None)],
                           clock=clock) as inst:
        inst.sine_voltage = 0.05
    assert clock.now() == pytest.approx(0.1)


@pytest.mark.parametrize("cls", SR86X)
def test_sr86x_ramp_to_sine_amplitude(cls):
    clock = VirtualClock()
    with expected_protocol(cls, [("SLVL?", "5.000000000e-01"), ("SLVL 4.500000000e-01", None),
                                 ("SLVL 4.000000000e-01", None)], clock=clock) as inst:
        inst.ramp_to_sine_amplitude(0.4)
    assert clock.now() == pytest.approx(0.1 / 0.5)


@pytest.mark.parametrize("cls, value", [(SR830, 5.1), (SR830, 0.001), (SR830, float("nan")),
                                        (SR860, 2.5), (SR865, -0.1), (SR865A, 3.0)])
def test_sine_amplitude_outside_model_limits_sends_nothing(cls, value):
    with expected_protocol(cls, [], clock=VirtualClock()) as inst:
        with pytest.raises(LimitError):
            inst.sine_amplitude = value
        with pytest.raises(LimitError):
            inst.ramp_to_sine_amplitude(value)


@pytest.mark.parametrize("cls", ALL)
def test_bench_limits_narrow_the_sine_amplitude(cls):
    with expected_protocol(cls, [], clock=VirtualClock()) as inst:
        inst.configure_safety(limits={"sine_amplitude": (0.004, 0.1)})
        with pytest.raises(LimitError, match="sine_amplitude"):
            inst.sine_amplitude = 0.2
        with pytest.raises(LimitError, match="must lie within the model's"):
            inst.configure_safety(limits={"sine_amplitude": (0.0, 10.0)})


def test_configured_slew_is_used():
    clock = VirtualClock()
    with expected_protocol(SR830, [("SLVL?", "1.000"), ("SLVL0.502", None), ("SLVL0.004", None)],
                           clock=clock) as inst:
        inst.configure_safety(slew={"sine_amplitude": SlewLimit(0.5, 0.1)})
        inst.shutdown()
    assert clock.now() == pytest.approx(0.996 / 0.1)


# ---------------------------------------------------------------- shutdown
def test_sr830_shutdown_ramps_down_to_the_minimum():
    clock = VirtualClock()
    with expected_protocol(SR830, [("SLVL?", "0.204"), ("SLVL0.154", None), ("SLVL0.104", None),
                                   ("SLVL0.054", None), ("SLVL0.004", None)],
                           clock=clock) as inst:
        inst.shutdown()
        assert inst.isShutdown
    assert clock.now() == pytest.approx(0.2 / 0.5)


@pytest.mark.parametrize("cls", SR86X)
def test_sr86x_shutdown_ramps_down_to_the_minimum(cls):
    clock = VirtualClock()
    with expected_protocol(cls, [("SOFF?", "0.0000e+00"),
                                 ("SLVL?", "1.000000000e-01"), ("SLVL 5.000000050e-02", None),
                                 ("SLVL 1.000000000e-09", None)], clock=clock) as inst:
        inst.shutdown()
    assert clock.now() == pytest.approx((0.1 - 1e-9) / 0.5)


def test_shutdown_at_the_minimum_writes_it_once():
    clock = VirtualClock()
    with expected_protocol(SR830, [("SLVL?", "0.004"), ("SLVL0.004", None)], clock=clock) as inst:
        inst.shutdown()
    assert clock.now() == 0.0


def test_shutdown_ignores_narrowed_lower_limit():
    """The safe state is the model's minimum even if the bench narrows the lower limit."""
    with expected_protocol(SR830, [("SLVL?", "0.100"), ("SLVL0.052", None), ("SLVL0.004", None)],
                           clock=VirtualClock()) as inst:
        inst.configure_safety(limits={"sine_amplitude": (0.05, 0.5)})
        inst.shutdown()


def test_shutdown_writes_the_minimum_if_the_read_back_fails():
    with expected_protocol(SR830, [("SLVL0.004", None)], clock=VirtualClock()) as inst:
        def fail():
            raise TimeoutError("SLVL? timed out")
        inst._read_sine_amplitude = fail
        with pytest.raises(TimeoutError):
            inst.shutdown()
        assert not inst.isShutdown


def test_shutdown_writes_the_minimum_if_a_ramp_step_fails():
    written = []
    inst = SR860(MagicMock(), clock=VirtualClock())
    inst._read_sine_amplitude = lambda: 1.0
    inst._offset_to_zero = lambda: None         # the dc offset is at 0 V: nothing to ramp

    def write(v):
        if len(written) == 2:
            raise OSError("bus error")
        written.append(v)
    inst._write_sine_amplitude = write
    with pytest.raises(OSError):
        inst.shutdown()
    assert written == [pytest.approx(0.95), pytest.approx(0.9)]
    # the third call (the direct fallback to the minimum) also failed: the original error wins


def test_shutdown_fallback_reaches_the_minimum_after_a_failed_step():
    calls = []
    inst = SR830(MagicMock(), clock=VirtualClock())
    inst._read_sine_amplitude = lambda: 1.0

    def write(v):
        calls.append(v)
        if len(calls) == 2:
            raise OSError("bus error")
    inst._write_sine_amplitude = write
    with pytest.raises(OSError):
        inst.shutdown()
    assert calls[-1] == 0.004 and len(calls) == 3


# ---------------------------------------------------------------- identity and common commands
@pytest.mark.parametrize("cls", ALL)
def test_identity_and_common_commands(cls):
    idn = "Stanford_Research_Systems,SR865A,003456,v1.51"
    with expected_protocol(cls, [("*IDN?", idn), ("*CLS", None), ("*RST", None)]) as inst:
        assert inst.id == idn
        inst.clear()
        inst.reset()


@pytest.mark.parametrize("cls", SR86X)
def test_sr86x_dc_offset_is_a_limited_source_ramped_and_zeroed_at_shutdown(cls):
    """Issue 13 items 1 and 6: the SR86x sine dc offset drives a dc current like any source:
    limit-checked before any write, ramped at 0.05 V per write and 0.5 V/s from the offset
    last written (a wrong readback is not used to jump), and ramped to 0 V at shutdown."""
    clock = VirtualClock()
    pairs = [("SOFF?", "0.0000e+00"), ("SOFF 5.0000e-02", None), ("SOFF 1.0000e-01", None),
             ("SOFF?", "3.0000e+00"),                     # not what was written
             ("SOFF 5.0000e-02", None), ("SOFF 0.0000e+00", None),
             ("SLVL?", "1.000000000e-09"), ("SLVL 1.000000000e-09", None)]
    with expected_protocol(cls, pairs, clock=clock) as inst:
        inst.configure_safety(limits={"sine_offset": (-0.5, 0.5)})
        with pytest.raises(LimitError, match=r"sine_offset = 0.6 V is outside .*\[-0.5, 0.5\]"):
            inst.sine_offset = 0.6
        inst.sine_offset = 0.1
        inst.shutdown()
    assert clock.now() == pytest.approx(0.2 / 0.5)        # 0.1 V up and down at 0.5 V/s
