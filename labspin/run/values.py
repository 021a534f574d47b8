"""One reader of what a person types for a procedure parameter: ``--param``, the Python API
(:func:`labspin.run.api.set_parameters`), sequence files and the GUI all call
:func:`parse_parameter`.

A value is read exactly as meant or refused (design.md, "Safety contract"): "0.01 mA" for a
parameter in A is 1e-05, "-3 mT" for one in T is -0.003, a bare number is in the parameter's
own unit; text, a wrong unit, a non-integer for an integer, a value out of range is a
ValueError naming the parameter, its unit, its range and an example — never a silent change
(pymeasure's FloatParameter reads "0.01 mA" for a parameter in A as an error of units only
after splitting at the first space, and "1e-2mA" not at all).
"""
from __future__ import annotations

import math

from pymeasure.experiment import BooleanParameter, FloatParameter, IntegerParameter, ListParameter

from labspin.results.units import parse_quantity

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def describe_allowed(parameter) -> str:
    """Get the allowed values of ``parameter`` as text: '[0, 0.05] T', 'one of a, b', …"""
    unit = getattr(parameter, "units", None) or ""
    if isinstance(parameter, (FloatParameter, IntegerParameter)):
        return f"[{parameter.minimum:g}, {parameter.maximum:g}] {unit}".rstrip()
    if isinstance(parameter, BooleanParameter):
        return "true or false"
    if isinstance(parameter, ListParameter):
        return "one of " + ", ".join(map(str, parameter.choices))
    return "see labspin procedures NAME"


def _example(parameter) -> str:
    unit = getattr(parameter, "units", None) or ""
    default = parameter.default
    if isinstance(default, float):
        default = f"{default:g}"
    return f"{default} {unit}".strip() if default not in (None, "") else ""


def _refuse(parameter, name: str, text, why: str) -> ValueError:
    unit = getattr(parameter, "units", None)
    example = _example(parameter)
    return ValueError(f"parameter {name}={text}: {why}; allowed "
                      f"{describe_allowed(parameter)}"
                      + (f" (unit {unit})" if unit else "")
                      + (f", e.g. {name}={example!r}" if example else ""))


def parse_parameter(parameter, text, *, name: str | None = None):
    """Get the value of the pymeasure ``parameter`` that ``text`` (what a person typed, or
    already a number/bool) means, in the parameter's own unit; ValueError (naming ``name``,
    default the parameter's label, its unit, range and an example) if it means none.
    A plain :class:`Parameter` (e.g. a list parameter that the procedure parses with
    ``parse_numbers``) gets the text unchanged."""
    name = name or parameter.name
    unit = getattr(parameter, "units", None) or ""
    if isinstance(parameter, BooleanParameter):
        if isinstance(text, bool):
            return text
        word = str(text).strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise _refuse(parameter, name, text, "not true or false")
    if isinstance(parameter, ListParameter):
        for choice in parameter.choices:
            if str(choice) == str(text).strip() or choice == text:
                return choice
        raise _refuse(parameter, name, text, "not one of the choices")
    if not isinstance(parameter, (FloatParameter, IntegerParameter)):
        return text
    if isinstance(text, bool):
        raise _refuse(parameter, name, text, "a bool is not a number")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        try:
            value = parse_quantity(str(text), unit, name=name)
        except ValueError as e:
            why = str(e) or "not a number"
            if isinstance(parameter, IntegerParameter):
                why = f"not an integer ({why})"
            raise _refuse(parameter, name, text, why) from None
    if not math.isfinite(value):
        raise _refuse(parameter, name, text, "not finite")
    if isinstance(parameter, IntegerParameter):
        if value != int(value):
            raise _refuse(parameter, name, text, "not an integer")
        value = int(value)
    if not parameter.minimum <= value <= parameter.maximum:
        raise _refuse(parameter, name, text, "out of range")
    return value
