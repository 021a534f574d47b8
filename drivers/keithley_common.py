"""Helpers shared by the Keithley drivers: limit-checked pymeasure controls (and the
SourceMeters' set of them, built once for every model) and readings."""
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


SOURCE_MODES = ("current", "voltage")
"""The source functions of a SourceMeter (2400, 2450)."""


def _source_mode_check(self, mode):
    """Refuse a source mode whose stored setpoint lies outside its limits (switching applies it)."""
    if mode not in SOURCE_MODES:
        raise ValueError(f"source_mode must be one of {SOURCE_MODES}, got {mode!r}")
    self._check_stored_setpoint(mode)
    return mode


def _output_check(self, enabled):
    """Refuse to enable the output while the active setpoint lies outside its limits (and
    note the state: a ramp with the output on is followed by a readback check)."""
    if enabled:
        self._check_stored_setpoint(self.source_mode)
    self.__dict__["_output_on"] = bool(enabled)
    return enabled


def source_meter_controls(pm: type, output: property | None = None) -> dict[str, property]:
    """Get the limit-checked source controls of a SourceMeter built on pymeasure class ``pm``.

    Returns name -> property for ``source_mode``, ``source_current`` (A), ``source_voltage``
    (V), ``compliance_current`` (A), ``compliance_voltage`` (V) and ``source_enabled``, each
    wrapping ``pm``'s control of that name (``output`` instead of ``pm.source_enabled`` where
    that is not a control). The owner provides ``check_limit``, ``limits_of``,
    ``note_setpoint`` (:class:`SafeSourceMixin`) and ``_check_stored_setpoint(mode)``.
    """
    return {
        "source_mode": checked(
            pm.source_mode, _source_mode_check,
            "Control the source mode (str 'current' or 'voltage'); switching is refused if the "
            "stored setpoint of the new mode lies outside its limits."),
        "source_current": checked(
            pm.source_current, level_check("current"),
            "Control the source current setpoint (A), checked against the limits before the "
            "write."),
        "source_voltage": checked(
            pm.source_voltage, level_check("voltage"),
            "Control the source voltage setpoint (V), checked against the limits before the "
            "write."),
        "compliance_current": checked(
            pm.compliance_current, magnitude_check("current", "compliance_current"),
            "Control the compliance current, the current limit when sourcing voltage (A); "
            "|value| must lie within the current limits."),
        "compliance_voltage": checked(
            pm.compliance_voltage, magnitude_check("voltage", "compliance_voltage"),
            "Control the compliance voltage, the voltage limit when sourcing current (V); "
            "|value| must lie within the voltage limits."),
        "source_enabled": checked(
            output or pm.source_enabled, _output_check,
            "Control whether the output is on (bool); enabling is refused if the active "
            "setpoint lies outside the limits."),
    }
