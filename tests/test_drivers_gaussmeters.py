"""Lake Shore 425/455/475 gaussmeters: command strings, reply formats, tesla whatever unit."""
from unittest.mock import MagicMock

import pytest
from pymeasure.test import expected_protocol

from labspin.drivers import roles
from labspin.drivers.gaussmeters import (
    TESLA_PER_UNIT,
    GaussmeterReadingError,
    LakeShore425,
    LakeShore455,
    LakeShore475,
)
from labspin.physics.constants import MU0

ALL = [LakeShore425, LakeShore455, LakeShore475]
DSP = [LakeShore455, LakeShore475]


@pytest.mark.parametrize("cls", ALL)
def test_constructible_with_a_mock_adapter_and_conforms_to_the_role(cls):
    gm = cls(MagicMock())
    assert cls.roles == ("gaussmeter",)
    assert isinstance(gm, roles.Gaussmeter)


@pytest.mark.parametrize("cls", ALL)
def test_not_a_source_shutdown_sends_nothing(cls):
    with expected_protocol(cls, []) as gm:
        gm.shutdown()
    assert not hasattr(cls, "SAFE_LIMITS")


@pytest.mark.parametrize("cls", ALL)
def test_init_sends_nothing(cls):
    with expected_protocol(cls, []):
        pass


def test_unit_conversions():
    assert TESLA_PER_UNIT == {"G": 1e-4, "T": 1.0, "Oe": 1e-4, "A/m": MU0}


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("unit, reply, tesla", [
    ("1", "+123.456E-01", 1.23456e-3),                     # 12.3456 G
    ("2", "-1.2000E-03", -1.2e-3),                         # T
    ("3", "+100.00E+00", 1e-2),                            # 100 Oe ↔ 10 mT in air
    ("4", "+7.9577E+03", MU0 * 7.9577e3),                  # A/m
])
def test_measure_field_is_tesla_whatever_the_unit(cls, unit, reply, tesla):
    with expected_protocol(cls, [(b"UNIT?", unit), (b"RDGFIELD?", reply)]) as gm:
        assert gm.measure_field() == pytest.approx(tesla, rel=1e-12)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("reply", ["OL", "", "NO PROBE"])
def test_unreadable_field_reading_raises(cls, reply):
    with expected_protocol(cls, [(b"UNIT?", b"1"), (b"RDGFIELD?", reply)]) as gm:
        with pytest.raises(GaussmeterReadingError, match="not a number"):
            gm.measure_field()


@pytest.mark.parametrize("cls", ALL)
def test_field_in_displayed_unit(cls):
    with expected_protocol(cls, [(b"RDGFIELD?", b"+123.456E-01")]) as gm:
        assert gm.field == pytest.approx(12.3456)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("unit, code", [("G", "1"), ("T", "2"), ("Oe", "3"), ("A/m", "4")])
def test_unit_control(cls, unit, code):
    with expected_protocol(cls, [(f"UNIT {code}".encode(), None), (b"UNIT?", code)]) as gm:
        gm.unit = unit
        assert gm.unit == unit


@pytest.mark.parametrize("cls", ALL)
def test_unit_rejects_unknown_before_sending(cls):
    with expected_protocol(cls, []) as gm:
        with pytest.raises(ValueError):
            gm.unit = "mT"


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("state, code", [(True, "1"), (False, "0")])
def test_auto_range_enabled(cls, state, code):
    with expected_protocol(cls, [(f"AUTO {code}".encode(), None), (b"AUTO?", code)]) as gm:
        gm.auto_range_enabled = state
        assert gm.auto_range_enabled is state


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("reply", ["40", "41", "42", "50"])
def test_probe_type(cls, reply):
    with expected_protocol(cls, [(b"TYPE?", reply)]) as gm:
        assert gm.probe_type == int(reply)


@pytest.mark.parametrize("cls", ALL)
def test_zero_probe(cls):
    with expected_protocol(cls, [(b"ZPROBE", None)]) as gm:
        gm.zero_probe()


# --- 425 --------------------------------------------------------------------------------------
def test_425_auto_range_sends_the_manuals_argument():
    with expected_protocol(LakeShore425, [(b"AUTO 1", None)]) as gm:
        gm.auto_range()


@pytest.mark.parametrize("gauss, code", [(35, "1"), (350, "2"), (3500, "3"), (35000, "4")])
def test_425_range_in_gauss(gauss, code):
    with expected_protocol(LakeShore425, [(f"RANGE {code}".encode(), None),
                                          (b"RANGE?", code)]) as gm:
        gm.range = gauss
        assert gm.range == gauss


def test_425_reading_mode_is_pymeasures():
    with expected_protocol(LakeShore425, [(b"RDGMODE 1,0,1", None),
                                          (b"RDGMODE?", b"1,0,1")]) as gm:
        gm.dc_mode()
        assert gm.mode == (1, 0, 1)


# --- 455 / 475 --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", DSP)
def test_dsp_id(cls):
    with expected_protocol(cls, [(b"*IDN?", b"LSCI,MODEL455,0000000,01012020")]) as gm:
        assert gm.id == "LSCI,MODEL455,0000000,01012020"


@pytest.mark.parametrize("cls", DSP)
@pytest.mark.parametrize("index", [1, 2, 3, 4, 5])
def test_dsp_range_index(cls, index):
    with expected_protocol(cls, [(f"RANGE {index}".encode(), None),
                                 (b"RANGE?", str(index))]) as gm:
        gm.range = index
        assert gm.range == index


@pytest.mark.parametrize("cls", DSP)
@pytest.mark.parametrize("bad", [0, 6, 2.5])
def test_dsp_range_rejects_before_sending(cls, bad):
    with expected_protocol(cls, []) as gm:
        with pytest.raises(ValueError):
            gm.range = bad


@pytest.mark.parametrize("cls", DSP)
@pytest.mark.parametrize("mode, sent", [((1, 3, 1, 1, 1), "1,3,1,1,1"),
                                        ((2, 2, 3, 2, 3), "2,2,3,2,3")])
def test_dsp_reading_mode(cls, mode, sent):
    with expected_protocol(cls, [(f"RDGMODE {sent}".encode(), None),
                                 (b"RDGMODE?", sent)]) as gm:
        gm.reading_mode = mode
        assert gm.reading_mode == mode


@pytest.mark.parametrize("cls", DSP)
@pytest.mark.parametrize("bad", [(4, 1, 1, 1, 1), (1, 3, 1, 3, 1), (1, 3, 1, 1), 3, ("a",) * 5])
def test_dsp_reading_mode_rejects_before_sending(cls, bad):
    with expected_protocol(cls, []) as gm:
        with pytest.raises(ValueError):
            gm.reading_mode = bad


@pytest.mark.parametrize("cls", DSP)
@pytest.mark.parametrize("digits, res", [(3, 1), (4, 2), (5, 3)])
def test_dsp_dc_mode_keeps_the_other_settings(cls, digits, res):
    with expected_protocol(cls, [(b"RDGMODE?", b"2,1,2,2,3"),
                                 (f"RDGMODE 1,{res},2,2,3".encode(), None)]) as gm:
        gm.dc_mode(digits)


@pytest.mark.parametrize("cls", DSP)
@pytest.mark.parametrize("name, code", [("wide", 1), ("narrow", 2), ("lowpass", 3)])
def test_dsp_rms_mode_keeps_the_other_settings(cls, name, code):
    with expected_protocol(cls, [(b"RDGMODE?", b"1,3,1,2,3"),
                                 (f"RDGMODE 2,3,{code},2,3".encode(), None)]) as gm:
        gm.rms_mode(name)


@pytest.mark.parametrize("cls", DSP)
def test_dsp_mode_helpers_reject_bad_arguments_before_sending(cls):
    with expected_protocol(cls, []) as gm:
        with pytest.raises(ValueError):
            gm.dc_mode(6)
        with pytest.raises(ValueError):
            gm.rms_mode("bandpass")


def test_475_is_the_455_command_set_with_its_own_name():
    assert issubclass(LakeShore475, LakeShore455)
    assert LakeShore475(MagicMock()).name == "Lake Shore 475 DSP gaussmeter"
    assert LakeShore455(MagicMock()).name == "Lake Shore 455 DSP gaussmeter"
