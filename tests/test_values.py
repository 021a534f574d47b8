"""labspin.run.values.parse_parameter: a typed parameter value is read exactly as meant or
refused with a message naming the parameter, its unit, its range and an example (issue 15)."""
import pytest
from pymeasure.experiment import (
    BooleanParameter,
    FloatParameter,
    IntegerParameter,
    ListParameter,
    Parameter,
)

from labspin.procedures import procedure_class
from labspin.run.api import set_parameters
from labspin.run.values import parse_parameter

CURRENT = FloatParameter("Current", units="A", default=1e-3, minimum=-1e-3, maximum=1e-3)
FIELD = FloatParameter("Max field", units="T", default=0.2, minimum=-1.0, maximum=1.0)
POINTS = IntegerParameter("Field points", default=11, minimum=2, maximum=1000)


@pytest.mark.parametrize("text, value", [("-5e-4", -5e-4), ("5e-4 A", 5e-4), (0.001, 1e-3),
                                         ("-0.001 T", None)])
def test_bare_numbers_are_in_the_parameters_unit(text, value):
    if value is None:                              # a unit of the wrong dimension
        with pytest.raises(ValueError, match="current.*unit A"):
            parse_parameter(CURRENT, text, name="current")
    else:
        assert parse_parameter(CURRENT, text) == value


@pytest.mark.parametrize("param, text, value", [(CURRENT, "0.01 mA", 1e-5),
                                                (CURRENT, "0.5 mA", 5e-4),
                                                (FIELD, "-3 mT", -3e-3),
                                                (FIELD, "-0.001 T", -1e-3)])
def test_si_prefixes_and_sign(param, text, value):
    assert parse_parameter(param, text) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("param, text, why", [
    (CURRENT, "-5", "out of range"),                # -5 A: issue 15's case, never clipped
    (CURRENT, "abc", "current"), (CURRENT, "nan", "not finite"),
    (FIELD, "2", "out of range"),
    (POINTS, "abc", "not an integer"), (POINTS, "2.5", "not an integer"),
    (POINTS, "1", "out of range")])
def test_refusals_name_parameter_range_and_example(param, text, why):
    with pytest.raises(ValueError) as info:
        parse_parameter(param, text, name="current" if param is CURRENT else "x")
    msg = str(info.value)
    assert why in msg
    assert f"[{param.minimum:g}, {param.maximum:g}]" in msg and "e.g." in msg


def test_integers_booleans_choices_and_plain_parameters():
    assert parse_parameter(POINTS, "21") == 21 and isinstance(parse_parameter(POINTS, "21"), int)
    flag = BooleanParameter("Flag", default=False)
    assert parse_parameter(flag, "yes") is True and parse_parameter(flag, "False") is False
    with pytest.raises(ValueError, match="true or false"):
        parse_parameter(flag, "maybe")
    probe = ListParameter("Probe", choices=["source meter", "voltmeter"], default="voltmeter")
    assert parse_parameter(probe, " voltmeter") == "voltmeter"
    with pytest.raises(ValueError, match="one of source meter, voltmeter"):
        parse_parameter(probe, "voltmetre")
    assert parse_parameter(Parameter("Freqs", default="6"), "6, 9, 12") == "6, 9, 12"


def test_set_parameters_suggests_the_close_name_and_keeps_value_exact():
    proc = procedure_class("field-sweep")()
    with pytest.raises(ValueError, match="did you mean 'max_field'"):
        set_parameters(proc, ["max_fieldd=0.1"])
    with pytest.raises(ValueError, match="averages=abc: not an integer.*\\[1, 1000\\]"):
        set_parameters(proc, ["averages=abc"])
    set_parameters(proc, {"current": "-5e-4 A", "averages": "3"})
    assert proc.current == -5e-4 and proc.averages == 3
