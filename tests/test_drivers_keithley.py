"""Keithley 2400/2450 (source_meter), 6221 (current_source), 2182A (voltmeter): every command
string pinned with pymeasure's expected_protocol; limits refused before any write; shutdown
ramps in virtual time."""
import math
from unittest.mock import MagicMock

import numpy as np
import pytest
from pymeasure.test import expected_protocol

from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError, SlewLimit
from labspin.drivers import roles
from labspin.drivers.keithley import Keithley2182A, Keithley2400, Keithley2450, Keithley6221

# ---------------------------------------------------------------------------------------------
# 2400 and 2450: one table of command strings per model, the same tests for both
# ---------------------------------------------------------------------------------------------

SMU = {
    "2400": dict(
        cls=Keithley2400,
        init=[(":FORMAT:ELEMENTS VOLTAGE, CURRENT, RESISTANCE, TIME, STATUS", None)],
        mode_get=":SOURCE:FUNCTION?", mode_set=":SOURCE:FUNCTION %s",
        level_get={"current": ":SOURCE:CURRENT?", "voltage": ":SOURCE:VOLTAGE?"},
        level_set={"current": ":SOURCE:CURRENT %s", "voltage": ":SOURCE:VOLTAGE %s"},
        comp_get={"current": ":SENSE:CURRENT:PROTECTION?", "voltage": ":SENSE:VOLTAGE:PROTECTION?"},
        comp_set={"current": ":SENSE:CURRENT:PROTECTION %s",
                  "voltage": ":SENSE:VOLTAGE:PROTECTION %s"},
        out_get="OUTPUT?", out_set="OUTPUT %s",
        # :MEAS:<f>? returns VOLT,CURR,RES,TIME,STAT (pymeasure's :FORMAT:ELEMENTS)
        meas={"voltage": (":MEASURE:VOLTAGE?",
                          "+1.234560E-01,+1.000000E-03,+9.910000E+37,+1.234567E+03,+2.150800E+04",
                          0.123456),
              "current": (":MEASURE:CURRENT?",
                          "+1.234560E-01,-2.500000E-04,+9.910000E+37,+1.234567E+03,+2.150800E+04",
                          -2.5e-4)},
        overflow="+9.910000E+37,+1.000000E-03,+9.910000E+37,+1.234567E+03,+2.150800E+04",
    ),
    "2450": dict(
        cls=Keithley2450,
        init=[],
        mode_get=":SOUR:FUNC?", mode_set=":SOUR:FUNC %s",
        level_get={"current": ":SOUR:CURR?", "voltage": ":SOUR:VOLT?"},
        level_set={"current": ":SOUR:CURR:LEV %s", "voltage": ":SOUR:VOLT:LEV %s"},
        comp_get={"current": ":SOUR:VOLT:ILIM?", "voltage": ":SOUR:CURR:VLIM?"},
        comp_set={"current": ":SOUR:VOLT:ILIM %s", "voltage": ":SOUR:CURR:VLIM %s"},
        out_get="OUTPUT?", out_set="OUTPUT %s",
        meas={"voltage": (":MEAS:VOLT?", "1.234560E-01", 0.123456),
              "current": (":MEAS:CURR?", "-2.500000E-04", -2.5e-4)},
        overflow="9.9E+37",
    ),
}
MODELS = sorted(SMU)
CODE = {"current": "CURR", "voltage": "VOLT"}
UNIT_VALUES = {"current": [("0", 0.0), ("0.001", 1e-3), ("-0.00025", -2.5e-4), ("1.05", 1.05)],
               "voltage": [("0", 0.0), ("1.5", 1.5), ("-20", -20.0), ("210", 210.0)]}


def smu(model, pairs, **kwargs):
    m = SMU[model]
    return expected_protocol(m["cls"], m["init"] + list(pairs), **kwargs)


@pytest.mark.parametrize("model", MODELS)
def test_smu_constructs_with_magicmock_and_fits_the_role(model):
    d = SMU[model]["cls"](MagicMock())
    assert d.roles == ("source_meter",)
    assert isinstance(d, roles.SourceMeter) and isinstance(d, roles.Sourcing)
    assert d.limits_of("current") == (-1.05, 1.05, "A")
    assert d.limits_of("voltage") == (-210.0, 210.0, "V")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode", ["current", "voltage"])
def test_smu_source_mode_get(model, mode):
    m = SMU[model]
    with smu(model, [(m["mode_get"], CODE[mode])]) as d:
        assert d.source_mode == mode


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode", ["current", "voltage"])
def test_smu_source_mode_set_checks_the_stored_setpoint_first(model, mode):
    m = SMU[model]
    with smu(model, [(m["level_get"][mode], "+0.000000E+00"),
                     (m["mode_set"] % CODE[mode], None)]) as d:
        d.source_mode = mode


@pytest.mark.parametrize("model", MODELS)
def test_smu_source_mode_refused_when_stored_setpoint_is_beyond_limits(model):
    m = SMU[model]
    with smu(model, [(m["level_get"]["voltage"], "+2.000000E+01")], clock=VirtualClock()) as d:
        d.configure_safety(limits={"voltage": (-5.0, 5.0)})
        with pytest.raises(LimitError, match="voltage = 20.0 V"):
            d.source_mode = "voltage"
    with smu(model, []) as d:
        with pytest.raises(ValueError, match="source_mode"):
            d.source_mode = "power"


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode,text,value",
                         [(mode, t, v) for mode, tv in UNIT_VALUES.items() for t, v in tv])
def test_smu_source_level_set(model, mode, text, value):
    m = SMU[model]
    with smu(model, [(m["level_set"][mode] % text, None)]) as d:
        setattr(d, f"source_{mode}", value)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode,reply,value", [("current", "+1.000000E-03", 1e-3),
                                              ("current", "-2.500000E-04", -2.5e-4),
                                              ("voltage", "+1.500000E+00", 1.5)])
def test_smu_source_level_get(model, mode, reply, value):
    m = SMU[model]
    with smu(model, [(m["level_get"][mode], reply)]) as d:
        assert getattr(d, f"source_{mode}") == pytest.approx(value)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode,bad", [("current", 1.1), ("current", -2.0), ("voltage", 211.0),
                                      ("voltage", math.nan)])
def test_smu_source_level_beyond_model_range_sends_nothing(model, mode, bad):
    with smu(model, []) as d:
        with pytest.raises(LimitError):
            setattr(d, f"source_{mode}", bad)


@pytest.mark.parametrize("model", MODELS)
def test_smu_configured_limits_refuse_before_any_write(model):
    m = SMU[model]
    with smu(model, [(m["level_set"]["current"] % "0.001", None)], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(LimitError, match=r"current = 0.0011 A .* \[-0.001, 0.001\] A"):
            d.source_current = 1.1e-3
        d.source_current = 1e-3


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind", ["current", "voltage"])
def test_smu_compliance_set_get(model, kind):
    m = SMU[model]
    text, value = {"current": ("0.01", 0.01), "voltage": ("5", 5.0)}[kind]
    reply = {"current": "+1.000000E-02", "voltage": "+5.000000E+00"}[kind]
    with smu(model, [(m["comp_set"][kind] % text, None), (m["comp_get"][kind], reply)]) as d:
        setattr(d, f"compliance_{kind}", value)
        assert getattr(d, f"compliance_{kind}") == pytest.approx(value)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("kind,limit,bad", [("current", (-1e-3, 1e-3), 2e-3),
                                            ("voltage", (0.0, 2.0), -3.0),
                                            ("voltage", (-210.0, 210.0), 300.0)])
def test_smu_compliance_beyond_limits_sends_nothing(model, kind, limit, bad):
    with smu(model, [], clock=VirtualClock()) as d:
        d.configure_safety(limits={kind: limit})
        with pytest.raises(LimitError, match=f"compliance_{kind}"):
            setattr(d, f"compliance_{kind}", bad)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("reply,value", [("0", False), ("1", True)])
def test_smu_source_enabled_get(model, reply, value):
    m = SMU[model]
    with smu(model, [(m["out_get"], reply)]) as d:
        assert d.source_enabled is value


@pytest.mark.parametrize("model", MODELS)
def test_smu_enable_checks_the_active_setpoint_then_writes(model):
    m = SMU[model]
    with smu(model, [(m["mode_get"], "CURR"), (m["level_get"]["current"], "+1.000000E-03"),
                     (m["out_set"] % 1, None),
                     (m["out_set"] % 0, None),
                     (m["mode_get"], "VOLT"), (m["level_get"]["voltage"], "+1.000000E+00"),
                     (m["out_set"] % 1, None),
                     (m["out_set"] % 0, None)]) as d:
        d.source_enabled = True
        d.source_enabled = False
        d.enable_source()
        d.disable_source()


@pytest.mark.parametrize("model", MODELS)
def test_smu_enable_refused_when_setpoint_beyond_limits(model):
    m = SMU[model]
    with smu(model, [(m["mode_get"], "CURR"), (m["level_get"]["current"], "+5.000000E-03")],
             clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(LimitError):
            d.source_enabled = True


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("quantity", ["voltage", "current"])
def test_smu_measure(model, quantity):
    command, reply, value = SMU[model]["meas"][quantity]
    with smu(model, [(command, reply)]) as d:
        assert getattr(d, f"measure_{quantity}")() == pytest.approx(value)


@pytest.mark.parametrize("model", MODELS)
def test_smu_measure_overflow_is_nan(model):
    command = SMU[model]["meas"]["voltage"][0]
    with smu(model, [(command, SMU[model]["overflow"])]) as d:
        assert math.isnan(d.measure_voltage())


def _ramp_writes(template, values):
    return [(template % v, None) for v in values]


@pytest.mark.parametrize("model", MODELS)
def test_smu_ramp_to_current_steps_and_rate_in_virtual_time(model):
    m = SMU[model]
    clock = VirtualClock()
    pairs = [(m["level_get"]["current"], "+0.000000E+00")]
    pairs += _ramp_writes(m["level_set"]["current"], ["0.0001", "0.0002", "0.0003", "0.0004"])
    with smu(model, pairs, clock=clock) as d:
        d.ramp_to_current(4e-4)
    assert clock.now() == pytest.approx(0.4)        # 0.4 mA at the default 1 mA/s


@pytest.mark.parametrize("model", MODELS)
def test_smu_ramp_to_voltage_uses_configured_slew(model):
    m = SMU[model]
    clock = VirtualClock()
    pairs = [(m["level_get"]["voltage"], "+2.000000E+00")]
    pairs += _ramp_writes(m["level_set"]["voltage"], ["1", "0"])
    with smu(model, pairs, clock=clock) as d:
        d.configure_safety(slew={"voltage": SlewLimit(1.0, 0.5)})
        d.ramp_to_voltage(0.0)
    assert clock.now() == pytest.approx(4.0)        # 2 V at 0.5 V/s


@pytest.mark.parametrize("model", MODELS)
def test_smu_ramp_target_beyond_limits_sends_nothing(model):
    with smu(model, [], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(LimitError):
            d.ramp_to_current(2e-3)
        with pytest.raises(LimitError):
            d.ramp_to_voltage(250.0)


@pytest.mark.parametrize("model", MODELS)
def test_smu_ramp_back_from_an_out_of_limit_setpoint_is_allowed(model):
    """A ramp toward a permitted target writes even while it passes out-of-limit values."""
    m = SMU[model]
    pairs = [(m["level_get"]["current"], "+2.000000E-04")]
    pairs += _ramp_writes(m["level_set"]["current"], ["0.0001", "0"])
    with smu(model, pairs, clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-5e-5, 5e-5)})
        d.ramp_to_current(0.0)


@pytest.mark.parametrize("model", MODELS)
def test_smu_shutdown_ramps_current_to_zero_then_disables(model):
    m = SMU[model]
    clock = VirtualClock()
    pairs = [(":ABOR", None), (m["mode_get"], "CURR"), (m["level_get"]["current"], "-3.000000E-04")]
    pairs += _ramp_writes(m["level_set"]["current"], ["-0.0002", "-0.0001", "0"])
    pairs += [(m["out_set"] % 0, None)]
    with smu(model, pairs, clock=clock) as d:
        d.shutdown()
        assert d.isShutdown
    assert clock.now() == pytest.approx(0.3)


@pytest.mark.parametrize("model", MODELS)
def test_smu_shutdown_ramps_voltage_to_zero_then_disables(model):
    m = SMU[model]
    clock = VirtualClock()
    pairs = [(":ABOR", None), (m["mode_get"], "VOLT"), (m["level_get"]["voltage"], "+3.000000E-01")]
    pairs += _ramp_writes(m["level_set"]["voltage"], ["0.2", "0.1", "0"])
    pairs += [(m["out_set"] % 0, None)]
    with smu(model, pairs, clock=clock) as d:
        d.shutdown()
    assert clock.now() == pytest.approx(0.3)        # 0.3 V at 1 V/s


@pytest.mark.parametrize("model", MODELS)
def test_smu_shutdown_still_disables_output_when_the_ramp_fails(model):
    m = SMU[model]
    pairs = [(":ABOR", None), (m["mode_get"], "GARBAGE"), (m["out_set"] % 0, None)]
    with smu(model, pairs, clock=VirtualClock()) as d:
        with pytest.raises(KeyError):
            d.shutdown()


# ---------------------------------------------------------------------------------------------
# 6221
# ---------------------------------------------------------------------------------------------

def k6221(pairs, **kwargs):
    return expected_protocol(Keithley6221, list(pairs), **kwargs)


def test_6221_constructs_with_magicmock_and_fits_the_role():
    d = Keithley6221(MagicMock())
    assert d.roles == ("current_source",)
    assert isinstance(d, roles.CurrentSource) and isinstance(d, roles.Sourcing)
    assert d.limits_of("current") == (-0.105, 0.105, "A")
    assert d.limits_of("compliance_voltage") == (0.1, 105.0, "V")


@pytest.mark.parametrize("text,value", [("0", 0.0), ("0.001", 1e-3), ("-0.105", -0.105),
                                        ("2.5e-07", 2.5e-7)])
def test_6221_source_current_set(text, value):
    with k6221([(":SOUR:CURR %s" % text, None)]) as d:
        d.source_current = value


def test_6221_source_current_get():
    with k6221([(":SOUR:CURR?", "-1.000000E-03")]) as d:
        assert d.source_current == pytest.approx(-1e-3)


@pytest.mark.parametrize("bad", [0.106, -0.2, math.inf])
def test_6221_source_current_beyond_range_sends_nothing(bad):
    with k6221([]) as d:
        with pytest.raises(LimitError):
            d.source_current = bad


@pytest.mark.parametrize("text,value", [("0.1", 0.1), ("10", 10.0), ("105", 105.0)])
def test_6221_compliance_voltage_set_get(text, value):
    with k6221([(":SOUR:CURR:COMP %s" % text, None), (":SOUR:CURR:COMP?", "+%E" % value)]) as d:
        d.compliance_voltage = value
        assert d.compliance_voltage == pytest.approx(value)
        assert Keithley6221.source_compliance is Keithley6221.compliance_voltage


@pytest.mark.parametrize("bad,limits", [(0.05, None), (106.0, None), (20.0, (0.1, 10.0))])
def test_6221_compliance_beyond_limits_sends_nothing(bad, limits):
    with k6221([], clock=VirtualClock()) as d:
        if limits:
            d.configure_safety(limits={"compliance_voltage": limits})
        with pytest.raises(LimitError, match="compliance_voltage"):
            d.compliance_voltage = bad


@pytest.mark.parametrize("reply,value", [("0", False), ("1", True)])
def test_6221_source_enabled_get(reply, value):
    with k6221([("OUTPut?", reply)]) as d:
        assert d.source_enabled is value


def test_6221_enable_checks_the_dc_setpoint_then_writes():
    with k6221([(":SOUR:CURR?", "+1.000000E-03"), ("OUTPut 1", None), ("OUTPut 0", None),
                (":SOUR:CURR?", "+0.000000E+00"), ("OUTPut 1", None), ("OUTPut 0", None)]) as d:
        d.source_enabled = True
        d.source_enabled = False
        d.enable_source()
        d.disable_source()


def test_6221_enable_refused_when_setpoint_beyond_limits():
    with k6221([(":SOUR:CURR?", "+5.000000E-03")], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(LimitError):
            d.source_enabled = True


def test_6221_ramp_to_current_in_virtual_time():
    clock = VirtualClock()
    pairs = [(":SOUR:CURR?", "+0.000000E+00")]
    pairs += [(":SOUR:CURR %s" % v, None) for v in ["-0.0001", "-0.0002", "-0.0003"]]
    with k6221(pairs, clock=clock) as d:
        d.ramp_to_current(-3e-4)
    assert clock.now() == pytest.approx(0.3)


def test_6221_ramp_target_beyond_limits_sends_nothing():
    with k6221([], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(LimitError):
            d.ramp_to_current(2e-3)


SINE = [":SOUR:WAVE:ABOR", ":SOUR:WAVE:FUNC SIN", ":SOUR:WAVE:AMPL %s", ":SOUR:WAVE:FREQ %s",
        ":SOUR:WAVE:OFFS %s", ":SOUR:WAVE:DUR:TIME INF", ":SOUR:WAVE:ARM", ":SOUR:WAVE:INIT"]
COMPLIANCE_OK = [(":STAT:MEAS:COND?", "0")]     # then the compliance bit is read: not set


@pytest.mark.parametrize("amp,freq,offset,texts", [
    (1e-3, 1234.5, 0.0, ("0.001", "1234.5", "0")),
    (5e-4, 13.7, 2e-4, ("0.0005", "13.7", "0.0002")),
    (0.1, 1e5, -0.005, ("0.1", "100000", "-0.005")),
])
def test_6221_start_sine_sequence(amp, freq, offset, texts):
    it = iter(texts)
    pairs = [((c % next(it)) if "%s" in c else c, None) for c in SINE] + COMPLIANCE_OK
    with k6221(pairs) as d:
        d.start_sine(amp, freq, offset)


def test_6221_start_sine_default_offset_is_zero():
    pairs = [((c % t) if "%s" in c else c, None)
             for c, t in zip(SINE, ["", "", "0.002", "500", "0", "", "", ""])] + COMPLIANCE_OK
    with k6221(pairs) as d:
        d.start_sine(2e-3, 500)


@pytest.mark.parametrize("amp,freq,offset,err", [
    (2e-3, 100.0, 0.0, LimitError),           # peak 2 mA beyond a 1 mA limit
    (5e-4, 100.0, 8e-4, LimitError),          # offset + amplitude = 1.3 mA
    (5e-4, 100.0, -8e-4, LimitError),         # offset − amplitude = −1.3 mA
    (0.0, 100.0, 0.0, ValueError),            # amplitude below 2 pA
    (1e-4, 2e5, 0.0, ValueError),             # above 100 kHz
    (1e-4, 1e-4, 0.0, ValueError),            # below 1 mHz
])
def test_6221_start_sine_refused_before_any_write(amp, freq, offset, err):
    with k6221([], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(err, match="outside the allowed range|not in range"):
            d.start_sine(amp, freq, offset)


def test_6221_stop_waveform():
    with k6221([(":SOUR:WAVE:ABOR", None)]) as d:
        d.stop_waveform()


def test_6221_waveform_amplitude_and_offset_are_checked_against_each_other():
    with k6221([(":SOUR:WAVE:OFFS?", "+1.000000E-03"), (":SOUR:WAVE:AMPL 0.002", None),
                (":SOUR:WAVE:AMPL?", "+2.000000E-03"), (":SOUR:WAVE:OFFS -0.001", None),
                (":SOUR:WAVE:OFFS?", "+1.000000E-03"),
                (":SOUR:WAVE:AMPL?", "+2.000000E-03")], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-5e-3, 5e-3)})
        d.waveform_amplitude = 2e-3
        d.waveform_offset = -1e-3
        with pytest.raises(LimitError):
            d.waveform_amplitude = 4.5e-3          # 1 mA + 4.5 mA > 5 mA
        with pytest.raises(LimitError):
            d.waveform_offset = 4e-3               # 4 mA + 2 mA > 5 mA


@pytest.mark.parametrize("text,value", [("0.001", 1e-3), ("1e-06", 1e-6)])
def test_6221_delta_high_and_low_source(text, value):
    with k6221([(":SOUR:DELT:HIGH %s" % text, None), (":SOUR:DELT:LOW -%s" % text, None),
                (":SOUR:DELT:HIGH?", "+%E" % value)]) as d:
        d.delta_high_source = value
        d.delta_low_source = -value
        assert d.delta_high_source == pytest.approx(value)


def test_6221_delta_high_beyond_limits_sends_nothing():
    with k6221([], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(LimitError):
            d.delta_high_source = 2e-3
        with pytest.raises(LimitError):
            d.delta_low_source = -2e-3


@pytest.mark.parametrize("high,delay,count,texts", [
    (1e-3, 0.1, 100, ("0.001", "0.1", "100")),
    (1e-5, 0.002, 65536, ("1e-05", "0.002", "65536")),
])
def test_6221_delta_arm_sequence(high, delay, count, texts):
    h, dl, n = texts
    pairs = [(":SOUR:DELT:NVPR?", "1"), (":UNIT:VOLT:DC V", None), (":SOUR:DELT:HIGH %s" % h, None),
             (":SOUR:DELT:DELay %s" % dl, None), (":SOUR:DELT:COUN %s" % n, None),
             (":TRAC:CLE", None), ("TRAC:POIN %s" % n, None), (":FORM:ELEM READ,TST", None),
             (":SOUR:DELT:ARM", None)]
    with k6221(pairs) as d:
        d.delta_arm(high, delay, count)


def test_6221_delta_arm_without_2182a_writes_nothing():
    with k6221([(":SOUR:DELT:NVPR?", "0")]) as d:
        with pytest.raises(RuntimeError, match="2182A"):
            d.delta_arm(1e-3, 0.1, 10)


@pytest.mark.parametrize("high,delay,count,err", [
    (2e-3, 0.1, 10, LimitError),
    (-1e-4, 0.1, 10, ValueError),
    (1e-4, -1.0, 10, ValueError),
    (1e-4, 0.1, 0, ValueError),
    (1e-4, 0.1, 70000, ValueError),
])
def test_6221_delta_arm_refused_before_any_command(high, delay, count, err):
    with k6221([], clock=VirtualClock()) as d:
        d.configure_safety(limits={"current": (-1e-3, 1e-3)})
        with pytest.raises(err, match="outside the allowed range|not in range"):
            d.delta_arm(high, delay, count)


def test_6221_delta_start_read_abort():
    reply = "+1.234560E-06,+0.000000E+00,-2.000000E-07,+1.600000E-01,+9.900000E+37,+3.200000E-01"
    with k6221([(":INIT:IMM", None), (":TRAC:DATA?", reply), (":SOUR:SWE:ABOR", None)]) as d:
        d.delta_start()
        v = d.delta_read()
        d.delta_abort()
    assert isinstance(v, np.ndarray) and v.shape == (3,)
    assert v[:2] == pytest.approx([1.23456e-6, -2e-7]) and math.isnan(v[2])


def test_6221_shutdown_aborts_ramps_and_disables():
    clock = VirtualClock()
    pairs = [(":SOUR:WAVE:ABOR", None), (":SOUR:SWE:ABOR", None), (":SOUR:CURR?", "+2.000000E-04"),
             (":SOUR:CURR 0.0001", None), (":SOUR:CURR 0", None), ("OUTPut 0", None)]
    with k6221(pairs, clock=clock) as d:
        d.shutdown()
        assert d.isShutdown
    assert clock.now() == pytest.approx(0.2)


def test_6221_shutdown_still_disables_output_when_the_ramp_fails():
    pairs = [(":SOUR:WAVE:ABOR", None), (":SOUR:SWE:ABOR", None), (":SOUR:CURR?", "ERR"),
             ("OUTPut 0", None)]
    with k6221(pairs, clock=VirtualClock()) as d:
        with pytest.raises(ValueError, match="could not convert"):
            d.shutdown()


# ---------------------------------------------------------------------------------------------
# 2182A
# ---------------------------------------------------------------------------------------------

def test_2182a_constructs_with_magicmock_and_fits_the_role():
    d = Keithley2182A(MagicMock())
    assert d.roles == ("voltmeter",)
    assert isinstance(d, roles.Voltmeter)


@pytest.mark.parametrize("reply,value", [("+1.23456789E-06", 1.23456789e-6),
                                         ("-4.500000E-09", -4.5e-9)])
def test_2182a_measure_voltage(reply, value):
    with expected_protocol(Keithley2182A, [(":READ?", reply)]) as d:
        assert d.measure_voltage() == pytest.approx(value)


def test_2182a_measure_overflow_is_nan():
    with expected_protocol(Keithley2182A, [(":READ?", "+9.9E37")]) as d:
        assert math.isnan(d.measure_voltage())


@pytest.mark.parametrize("text,value", [("1", 1), ("5", 5), ("0.01", 0.01)])
def test_2182a_nplc(text, value):
    with expected_protocol(Keithley2182A, [(":SENS:VOLT:NPLC %s" % text, None),
                                           (":SENS:VOLT:NPLC?", "+%E" % value)]) as d:
        d.voltage_nplc = value
        assert d.voltage_nplc == pytest.approx(value)


def test_2182a_channel_range_controls():
    with expected_protocol(Keithley2182A, [(":SENS:VOLT:CHAN1:RANG 0.1", None),
                                           (":SENS:VOLT:CHAN1:RANG?", "+1.000000E-01"),
                                           (":SENS:VOLT:CHAN1:RANG:AUTO 1", None)]) as d:
        d.ch_1.voltage_range = 0.1
        assert d.ch_1.voltage_range == pytest.approx(0.1)
        d.ch_1.voltage_range_auto_enabled = True
