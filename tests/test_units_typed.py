"""The one unit table, as typed: quantities, conversions, column units, parameters and lists
(written against the same API in parallel with test_units.py; both kept: different cases)."""
import math

import numpy as np
import pytest

from labspin.physics.constants import MU0
from labspin.results.units import convert, parse_quantity, split_unit, unit_scale


@pytest.mark.parametrize("text, unit, expected", [
    ("0.01 mA", "A", 1e-5),          # the bug: this was read as 10 mA
    ("0.01mA", "A", 1e-5),
    ("-3 mT", "T", -3e-3),
    ("10 Oe", "T", 1e-3),            # μ0H: 1 Oe ↔ 0.1 mT
    ("1.5 kOe", "T", 0.15),
    ("6 GHz", "Hz", 6e9),
    ("2.5e-6", "A", 2.5e-6),         # a bare number is in the asked unit
    ("+4E3 uV", "V", 4e-3),
    ("4 µV", "V", 4e-6),             # micro sign
    ("4 μV", "V", 4e-6),             # Greek mu
    ("50 ohm", "ohm", 50.0),
    ("50 Ω", "ohm", 50.0),
    ("50 kΩ", "ohm", 5e4),
    ("50 \u2126", "ohm", 50.0),            # ohm sign U+2126
    ("10 dBm", "dBm", 10.0),
    ("45 deg", "rad", math.pi / 4),
    ("10 ns", "s", 1e-8),
    (".5", "", 0.5),
])
def test_parse_quantity_reads_prefix_and_unit(text, unit, expected):
    assert parse_quantity(text, unit) == pytest.approx(expected, rel=1e-12)


def test_parse_quantity_field_in_ampere_per_metre_is_mu0_h():
    assert parse_quantity("1 kA/m", "T") == pytest.approx(1e3 * MU0, rel=1e-12)


@pytest.mark.parametrize("text, unit", [
    ("3 mT", "A"), ("10 dBm", "W"), ("0,01 mA", "A"), ("abc", "A"),
    ("1e999 A", "A"), ("", "V"), ("3 kdeg", "deg"), ("1 mdBm", "dBm"),
])
def test_parse_quantity_refuses_with_name_text_unit_and_example(text, unit):
    with pytest.raises(ValueError) as err:
        parse_quantity(text, unit, name="--current")
    msg = str(err.value)
    assert "--current" in msg and repr(text) in msg
    assert "e.g." in msg or "finite" in msg


def test_convert_scalars_and_arrays():
    assert convert(10, "Oe", "T") == pytest.approx(1e-3)
    assert convert(250, "mT", "T") == pytest.approx(0.25)
    assert convert(1, "T", "Oe") == pytest.approx(1e4)
    assert convert(6, "GHz", "Hz") == pytest.approx(6e9)
    assert convert(180, "deg", "rad") == pytest.approx(math.pi)
    out = convert(np.array([1.0, -2.0]), "uV", "V")
    assert isinstance(out, np.ndarray) and np.allclose(out, [1e-6, -2e-6])
    assert np.allclose(convert([3.0], "µV", "nV"), [3e3])


def test_convert_refuses_other_dimension_naming_both_units():
    with pytest.raises(ValueError, match="'mT'.*'mA'"):
        convert(1.0, "mT", "mA")
    with pytest.raises(ValueError, match="unknown unit 'furlong'"):
        convert(1.0, "furlong", "m")


def test_meter_gauss_and_prefix_ambiguities():
    metre, tesla, hertz = (unit_scale(u)[0] for u in ("m", "T", "Hz"))
    assert metre != unit_scale("")[0]                # metre, not a bare prefix
    assert unit_scale("mm") == (metre, 1e-3)
    assert unit_scale("G") == (tesla, 1e-4)          # gauss, not giga
    assert unit_scale("GHz") == (hertz, 1e9)
    assert unit_scale("T") == (tesla, 1.0)


@pytest.mark.parametrize("column, expected", [
    ("Field (mT)", ("Field", "mT")), ("Voltage X (uV)", ("Voltage X", "uV")),
    ("Field [Oe]", ("Field", "Oe")), ("Trial", ("Trial", "")), ("R ()", ("R", "")),
])
def test_split_unit(column, expected):
    assert split_unit(column) == expected


def test_typed_parameter_with_unit_is_converted_once():
    """'0.01 mA' for a parameter in A is 1e-5 A (it once became 10 mA); a bare number is
    in the parameter's unit; a unit of another dimension is refused naming the range."""
    from labspin.procedures import procedure_class
    from labspin.run.api import set_parameters
    proc = procedure_class("field-sweep")()
    set_parameters(proc, ["current=0.01 mA"])
    assert proc.current == pytest.approx(1e-5, rel=1e-12)
    set_parameters(proc, {"current": "-2e-4"})
    assert proc.current == pytest.approx(-2e-4, rel=1e-12)
    with pytest.raises(ValueError, match=r"parameter current.*'3 mT'.*\[-1, 1\] A"):
        set_parameters(proc, ["current=3 mT"])
    with pytest.raises(ValueError, match=r"allowed \[-1, 1\] A"):
        set_parameters(proc, ["current=2 A"])         # out of range: pymeasure's check


def test_list_parameters_take_units_per_value():
    """Every typed list value goes through parse_quantity: units per value, glued or not,
    the unit from the parameter's name when not given; other dimensions refused."""
    from labspin.procedures.base import parse_numbers
    assert parse_numbers("-20 mT, 0, 20mT", "Fields", "T") == pytest.approx([-0.02, 0, 0.02])
    assert parse_numbers("6, 12 GHz; 18e9 Hz", "Frequencies", "GHz", scale=1e9) == \
        pytest.approx([6e9, 12e9, 18e9])
    assert parse_numbers("0.01 mA 20 uA", "Currents", "A") == pytest.approx([1e-5, 2e-5])
    assert parse_numbers("500 mV, 1", "Write amplitudes (V)") == pytest.approx([0.5, 1.0])
    with pytest.raises(ValueError, match=r"'Fields'.*in T.*'3 mA'"):
        parse_numbers("0, 3 mA", "Fields", "T")
