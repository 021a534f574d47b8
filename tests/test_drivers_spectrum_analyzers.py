"""Spectrum analyzers (Keysight X-series N9020A/N9030A, R&S FSV): protocol and role conformance."""
from unittest.mock import MagicMock

import numpy as np
import pytest
from pymeasure.test import expected_protocol

from labspin.drivers import roles
from labspin.drivers.spectrum_analyzers import (
    FSV,
    N9020A,
    N9030A,
    KeysightXSeries,
    nr_int,
    strict_int_range,
)

XSERIES = (KeysightXSeries, N9020A, N9030A)
ALL = XSERIES + (FSV,)


@pytest.mark.parametrize("cls", ALL)
def test_constructible_with_mock_adapter_and_satisfies_role(cls):
    inst = cls(MagicMock())
    assert cls.roles == ("spectrum_analyzer",)
    assert isinstance(inst, roles.SpectrumAnalyzer)


def test_helpers():
    assert nr_int("+1001") == 1001 and nr_int("+1.00000000E+001") == 10
    assert strict_int_range(5, [1, 10]) == 5 and strict_int_range(5.0, [1, 10]) == 5
    for bad in (2.5, 0, 11, True):
        with pytest.raises(ValueError):
            strict_int_range(bad, [1, 10])


# ---------------------------------------------------------------- X-series properties
@pytest.mark.parametrize("cls", XSERIES)
@pytest.mark.parametrize("attr, value, command", [
    ("center_frequency", 1.5e9, ":FREQ:CENT 1500000000"),
    ("center_frequency", 9876543210.0, ":FREQ:CENT 9876543210"),
    ("span", 0, ":FREQ:SPAN 0"),
    ("span", 20e6, ":FREQ:SPAN 20000000"),
    ("start_frequency", 1e9, ":FREQ:STAR 1000000000"),
    ("stop_frequency", 2.5e9, ":FREQ:STOP 2500000000"),
    ("resolution_bandwidth", 1e3, ":BAND:RES 1000"),
    ("resolution_bandwidth", 3e6, ":BAND:RES 3e+06"),
    ("video_bandwidth", 300, ":BAND:VID 300"),
    ("sweep_points", 1001, ":SWE:POIN 1001"),
    ("sweep_points", 40001, ":SWE:POIN 40001"),
    ("reference_level", -20, ":DISP:WIND:TRAC:Y:RLEV -20"),
    ("reference_level", 10.5, ":DISP:WIND:TRAC:Y:RLEV 10.5"),
    ("attenuation", 10, ":POW:ATT 10"),
    ("average_count", 100, ":AVER:COUN 100"),
    ("trace_type", "AVER", ":TRAC1:TYPE AVER"),
    ("trace_type", "WRIT", ":TRAC1:TYPE WRIT"),
    ("trace_type", "MAXH", ":TRAC1:TYPE MAXH"),
    ("detector", "normal", ":DET:TRAC1 NORM"),
    ("detector", "average", ":DET:TRAC1 AVER"),
    ("detector", "peak", ":DET:TRAC1 POS"),
    ("detector", "negative", ":DET:TRAC1 NEG"),
    ("detector", "sample", ":DET:TRAC1 SAMP"),
    ("detector", "quasi_peak", ":DET:TRAC1 QPE"),
    ("detector", "rms_average", ":DET:TRAC1 RAV"),
    ("continuous_sweep_enabled", False, ":INIT:CONT 0"),
    ("continuous_sweep_enabled", True, ":INIT:CONT 1"),
])
def test_xseries_setters(cls, attr, value, command):
    with expected_protocol(cls, [(command, None)]) as inst:
        setattr(inst, attr, value)


@pytest.mark.parametrize("cls", XSERIES)
@pytest.mark.parametrize("attr, command, reply, expected", [
    ("center_frequency", ":FREQ:CENT?", "+1.50000000000E+009", 1.5e9),
    ("span", ":FREQ:SPAN?", "+2.00000000E+007", 20e6),
    ("start_frequency", ":FREQ:STAR?", "+1.49000000000E+009", 1.49e9),
    ("stop_frequency", ":FREQ:STOP?", "+1.51000000000E+009", 1.51e9),
    ("resolution_bandwidth", ":BAND:RES?", "+1.00000000E+003", 1e3),
    ("video_bandwidth", ":BAND:VID?", "+3.00000000E+002", 300.0),
    ("sweep_points", ":SWE:POIN?", "+1001", 1001),
    ("reference_level", ":DISP:WIND:TRAC:Y:RLEV?", "-2.00000000E+001", -20.0),
    ("attenuation", ":POW:ATT?", "+1.00000000E+001", 10),
    ("average_count", ":AVER:COUN?", "+100", 100),
    ("trace_type", ":TRAC1:TYPE?", "AVER", "AVER"),
    ("detector", ":DET:TRAC1?", "NORM", "normal"),
    ("detector", ":DET:TRAC1?", "POS", "peak"),
    ("detector", ":DET:TRAC1?", "SAMP", "sample"),
    ("continuous_sweep_enabled", ":INIT:CONT?", "1", True),
    ("continuous_sweep_enabled", ":INIT:CONT?", "0", False),
])
def test_xseries_getters(cls, attr, command, reply, expected):
    with expected_protocol(cls, [(command, reply)]) as inst:
        value = getattr(inst, attr)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("cls", XSERIES)
@pytest.mark.parametrize("attr, value", [
    ("center_frequency", -1.0), ("span", 60e9), ("resolution_bandwidth", 0.5),
    ("video_bandwidth", 0), ("sweep_points", 0), ("sweep_points", 40002),
    ("sweep_points", 100.5), ("reference_level", 31), ("attenuation", 71),
    ("attenuation", 2.5), ("average_count", 0), ("average_count", 10001),
    ("trace_type", "VIEW"), ("detector", "rms"), ("detector", "POS"),
])
def test_xseries_rejects_invalid_values_before_writing(cls, attr, value):
    with expected_protocol(cls, []) as inst:
        with pytest.raises(ValueError):
            setattr(inst, attr, value)


def test_n9020a_range_is_narrower_than_n9030a():
    with expected_protocol(N9020A, [(":FREQ:STOP 26500000000", None)]) as inst:
        inst.stop_frequency = 26.5e9
    for attr in ("center_frequency", "span", "start_frequency", "stop_frequency"):
        with expected_protocol(N9020A, []) as inst:
            with pytest.raises(ValueError):
                setattr(inst, attr, 30e9)
    with expected_protocol(N9030A, [(":FREQ:CENT 30000000000", None)]) as inst:
        inst.center_frequency = 30e9


# ---------------------------------------------------------------- FSV properties
@pytest.mark.parametrize("attr, value, command", [
    ("center_frequency", 1.5e9, "FREQ:CENT 1500000000"),
    ("span", 0, "FREQ:SPAN 0"),
    ("span", 20e6, "FREQ:SPAN 20000000"),
    ("start_frequency", 1e9, "FREQ:STAR 1000000000"),
    ("stop_frequency", 40e9, "FREQ:STOP 40000000000"),
    ("resolution_bandwidth", 1e3, "BAND:RES 1000"),
    ("video_bandwidth", 10e6, "BAND:VID 1e+07"),
    ("sweep_points", 691, "SWE:POIN 691"),
    ("sweep_points", 101, "SWE:POIN 101"),
    ("sweep_points", 32001, "SWE:POIN 32001"),
    ("reference_level", -30, "DISP:WIND:TRAC:Y:RLEV -30"),
    ("attenuation", 20, "INP:ATT 20"),
    ("average_count", 50, "AVER:COUN 50"),
    ("trace_type", "AVER", "DISP:TRAC1:MODE AVER"),
    ("trace_type", "VIEW", "DISP:TRAC1:MODE VIEW"),
    ("detector", "auto_peak", "DET APE"),
    ("detector", "peak", "DET POS"),
    ("detector", "negative", "DET NEG"),
    ("detector", "sample", "DET SAMP"),
    ("detector", "rms", "DET RMS"),
    ("detector", "average", "DET AVER"),
    ("detector", "quasi_peak", "DET QPE"),
])
def test_fsv_setters(attr, value, command):
    with expected_protocol(FSV, [(command, None)]) as inst:
        setattr(inst, attr, value)


@pytest.mark.parametrize("attr, command, reply, expected", [
    ("center_frequency", "FREQ:CENT?", "1500000000", 1.5e9),
    ("span", "FREQ:SPAN?", "20000000", 20e6),
    ("start_frequency", "FREQ:STAR?", "1490000000", 1.49e9),
    ("stop_frequency", "FREQ:STOP?", "1510000000", 1.51e9),
    ("resolution_bandwidth", "BAND:RES?", "1000", 1e3),
    ("video_bandwidth", "BAND:VID?", "3000", 3e3),
    ("sweep_points", "SWE:POIN?", "691", 691),
    ("reference_level", "DISP:WIND:TRAC:Y:RLEV?", "-30", -30.0),
    ("attenuation", "INP:ATT?", "20", 20),
    ("average_count", "AVER:COUN?", "50", 50),
    ("trace_type", "DISP:TRAC1:MODE?", "WRIT", "WRIT"),
    ("detector", "DET?", "APE", "auto_peak"),
    ("detector", "DET?", "RMS", "rms"),
])
def test_fsv_getters(attr, command, reply, expected):
    with expected_protocol(FSV, [(command, reply)]) as inst:
        value = getattr(inst, attr)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("attr, value", [
    ("center_frequency", 41e9), ("resolution_bandwidth", 20e6), ("sweep_points", 100),
    ("sweep_points", 32002), ("reference_level", -131), ("attenuation", -1),
    ("average_count", 32768), ("trace_type", "BLANK"), ("detector", "normal"),
])
def test_fsv_rejects_invalid_values_before_writing(attr, value):
    with expected_protocol(FSV, []) as inst:
        with pytest.raises(ValueError):
            setattr(inst, attr, value)


def test_fsv_keeps_pymeasure_fsseries_members():
    with expected_protocol(FSV, [("FREQ:CENT?", "1000000000"), ("INIT:CONT 0", None)]) as inst:
        assert inst.freq_center == 1e9
        inst.continuous_sweep_enabled = False


# ---------------------------------------------------------------- averages (count + on/off)
XS_AVG = (":AVER:COUN", ":TRAC1:TYPE")
FSV_AVG = ("AVER:COUN", "DISP:TRAC1:MODE")


@pytest.mark.parametrize("cls, cmd", [(c, XS_AVG) for c in XSERIES] + [(FSV, FSV_AVG)])
def test_averages_setter_switches_trace_to_average(cls, cmd):
    count, mode = cmd
    with expected_protocol(cls, [(f"{count} 16", None), (f"{mode} AVER", None)]) as inst:
        inst.averages = 16
    with expected_protocol(cls, [(f"{mode} WRIT", None)]) as inst:
        inst.averages = 1


@pytest.mark.parametrize("cls, cmd", [(c, XS_AVG) for c in XSERIES] + [(FSV, FSV_AVG)])
def test_averages_getter(cls, cmd):
    count, mode = cmd
    with expected_protocol(cls, [(f"{mode}?", "AVER"), (f"{count}?", "16")]) as inst:
        assert inst.averages == 16
    for other in ("WRIT", "MAXH"):
        with expected_protocol(cls, [(f"{mode}?", other)]) as inst:
            assert inst.averages == 1


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("bad", [0, -3, 2.5, 10 ** 6])
def test_averages_rejects_invalid_counts_before_writing(cls, bad):
    with expected_protocol(cls, []) as inst:
        with pytest.raises(ValueError):
            inst.averages = bad


# ---------------------------------------------------------------- read_trace and marker
XS_TRACE = [(":FORM ASC", None), (":INIT:CONT OFF", None), (":INIT:IMM", None),
            ("*OPC?", "1"),
            (":TRAC:DATA? TRACE1", "-8.012345678E+01,-7.9E+01,-2.05E+01,-7.95E+01,-8.0E+01"),
            (":FREQ:STAR?", "+1.00000000000E+009"), (":FREQ:STOP?", "+1.00000400000E+009"),
            (":SWE:POIN?", "+5")]
FSV_TRACE = [("FORM ASC", None), ("INIT:CONT OFF", None), ("INIT:IMM", None), ("*OPC?", "1"),
             ("TRAC? TRACE1", "-80.12345678,-79,-20.5,-79.5,-80"),
             ("FREQ:STAR?", "1000000000"), ("FREQ:STOP?", "1000004000"), ("SWE:POIN?", "5")]


@pytest.mark.parametrize("cls, exchanges", [(c, XS_TRACE) for c in XSERIES] + [(FSV, FSV_TRACE)])
def test_read_trace_single_sweep_then_ascii_trace(cls, exchanges):
    with expected_protocol(cls, exchanges) as inst:
        freq, power = inst.read_trace()
    np.testing.assert_allclose(freq, [1e9, 1.000001e9, 1.000002e9, 1.000003e9, 1.000004e9])
    np.testing.assert_allclose(power, [-80.12345678, -79, -20.5, -79.5, -80])
    assert freq.dtype == np.float64 and power.dtype == np.float64


@pytest.mark.parametrize("cls, exchanges", [(c, XS_TRACE) for c in XSERIES] + [(FSV, FSV_TRACE)])
def test_read_trace_rejects_a_point_count_mismatch(cls, exchanges):
    exchanges = exchanges[:-1] + [(exchanges[-1][0], "7")]
    with expected_protocol(cls, exchanges) as inst:
        with pytest.raises(ValueError, match="5 points, the sweep 7"):
            inst.read_trace()


@pytest.mark.parametrize("cls, exchanges", [
    (c, [(":CALC:MARK1:MODE POS", None), (":CALC:MARK1:MAX", None),
         (":CALC:MARK1:X?", "+1.00000200000E+009"), (":CALC:MARK1:Y?", "-2.05000000E+001")])
    for c in XSERIES] + [
    (FSV, [("CALC:MARK1:STAT ON", None), ("CALC:MARK1:MAX", None),
           ("CALC:MARK1:X?", "1000002000"), ("CALC:MARK1:Y?", "-20.5")])])
def test_marker_peak(cls, exchanges):
    with expected_protocol(cls, exchanges) as inst:
        assert inst.marker_peak() == (pytest.approx(1.000002e9), pytest.approx(-20.5))


@pytest.mark.parametrize("cls", ALL)
def test_shutdown_is_pymeasure_default_and_sends_nothing(cls):
    with expected_protocol(cls, []) as inst:
        inst.shutdown()
        assert inst.isShutdown


@pytest.mark.parametrize("cls", ALL)
def test_identity_and_error_queue(cls):
    idn = "Keysight Technologies,N9030A,MY12345678,A.14.16"
    with expected_protocol(cls, [("*IDN?", idn), ("SYST:ERR?", '0,"No error"')]) as inst:
        assert inst.id == idn
        assert inst.check_errors() == []
