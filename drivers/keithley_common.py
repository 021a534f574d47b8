"""Helpers shared by the Keithley drivers: limit-checked pymeasure controls and readings."""
from __future__ import annotations

import math
from typing import Any, Callable

from labspin.bench.safety import check_limit

OVERFLOW = 9.9e37
"""Keithley instruments answer +9.9E37 (2400: +9.91E37) for an overflow or an invalid reading."""


def reading(value: Any) -> float:
    """Get a reading as float (V, A), NaN for the instruments' overflow/invalid code."""
    v = float(value)
    return math.nan if abs(v) >= OVERFLOW else v


def checked(control: property, check: Callable[[Any, Any], Any],
            doc: str | None = None) -> property:
    """Get ``control`` (a pymeasure property) whose setter first calls ``check(self, value)``.

    ``check`` raises (LimitError, ValueError) before anything is written, or returns the value
    to pass on to the pymeasure setter (which validates and writes the command). The getter is
    pymeasure's, unchanged.
    """
    def fset(self, value):
        control.fset(self, check(self, value))

    return property(control.fget, fset, doc=doc or control.__doc__)


def level_check(name: str, setpoint: bool = True) -> Callable[[Any, Any], float]:
    """Get check(self, value) -> value, refusing values outside the limits of output ``name``;
    with ``setpoint``, an accepted value is recorded as the output's setpoint about to be
    written (:meth:`SafeSourceMixin.note_setpoint`)."""
    def check(self, value):
        value = self.check_limit(name, value)
        if setpoint:
            self.note_setpoint(name, value)
        return value
    return check


def magnitude_check(name: str, what: str) -> Callable[[Any, Any], float]:
    """Get check(self, value) -> value, refusing |value| beyond the limits of output ``name``.

    For compliances: a compliance of c lets the output swing to ±c, so |c| must not exceed the
    largest magnitude the limits of ``name`` allow.
    """
    def check(self, value):
        low, high, unit = self.limits_of(name)
        check_limit(f"{type(self).__name__} {what}", abs(float(value)), 0.0,
                    max(abs(low), abs(high)), unit)
        return float(value)
    return check
