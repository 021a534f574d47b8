"""labspin.results.units: the one unit table. What a person types is read exactly as meant
("0.01 mA" is 10 µA, never 10 mA) or refused with a message naming the quantity and the unit."""
import math

import numpy as np
import pytest

from labspin.physics.constants import MU0
from labspin.results.units import convert, factor, lookup, parse_quantity, split_unit


@pytest.mark.parametrize("text, unit, value", [
    ("0.01 mA", "A", 1e-5), ("0.01mA", "A", 1e-5), ("1e-2mA", "A", 1e-5),
    ("-3 mT", "T", -3e-3), ("10 Oe", "T", 1e-3), ("2 kOe", "T", 0.2), ("5 G", "T", 5e-4),
    ("100 kA/m", "T", MU0 * 1e5), ("6 GHz", "Hz", 6e9), ("2.5e-6", "A", 2.5e-6),
    ("+4 µA", "A", 4e-6), ("4 uA", "A", 4e-6), ("4 μA", "A", 4e-6),
    ("50 ohm", "ohm", 50.0), ("50 Ω", "ohm", 50.0), ("50 kΩ", "ohm", 5e4),
    ("2 MOhm", "ohm", 2e6), ("10 ns", "s", 1e-8), ("-10 dBm", "dBm", -10.0),
    ("45 deg", "rad", math.pi / 4), ("90", "deg", 90.0), ("300 K", "K", 300.0),
    (" 7 ", "", 7.0), ("3 mA", "mA", 3.0), ("20 µV", "mV", 0.02)])
def test_quantities_read_as_meant(text, unit, value):
    assert parse_quantity(text, unit) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("text, unit, says", [
    ("-0.001 T", "A", "cannot convert 'T'"), ("5 %", "A", "cannot convert '%'"), ("5 furlong", "A", "unknown unit"),
    ("abc", "A", "not a number"), ("1,5 mA", "A", "decimal comma"),
    ("3 mdBm", "dBm", "unknown unit"), ("1 m", "A", "length"), ("", "V", "not a number")])
def test_refusals_name_the_quantity_unit_and_an_example(text, unit, says):
    with pytest.raises(ValueError) as info:
        parse_quantity(text, unit, name="current")
    msg = str(info.value)
    assert says in msg and msg.startswith("current: ") and "e.g." in msg


def test_conversions_of_arrays_and_scalars():
    np.testing.assert_allclose(convert(np.array([1.0, -2.0]), "Oe", "mT"), [0.1, -0.2])
    assert convert(3, "GHz", "Hz") == 3e9
    assert factor("uV", "V") == pytest.approx(1e-6, rel=1e-15)
    assert lookup("mT") == (lookup("T")[0], 1e-3)
    with pytest.raises(ValueError, match="'Hz'.*'T'"):
        convert(1.0, "Hz", "T")


@pytest.mark.parametrize("column, parts", [("Field (mT)", ("Field", "mT")),
                                           ("Vmix (µV)", ("Vmix", "µV")),
                                           ("Status", ("Status", "")),
                                           ("R (xx) (ohm)", ("R (xx)", "ohm"))])
def test_split_unit(column, parts):
    assert split_unit(column) == parts


def test_a_unit_outside_the_table_takes_a_bare_number_or_itself_only():
    assert parse_quantity("7", "time constants") == 7.0
    assert parse_quantity("7 time constants", "time constants") == 7.0
    with pytest.raises(ValueError, match="expected a number in time constants"):
        parse_quantity("7 s", "time constants", name="settle")
    assert parse_quantity("5 %", "%") == 5.0 and parse_quantity("0.5", "%") == 0.5
