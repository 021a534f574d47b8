"""Keithley dc source/measure family: 2400 and 2450 SourceMeters (role ``source_meter``), and,
re-exported from their own modules, the 6221 current source (``current_source``) and the 2182A
nanovoltmeter (``voltmeter``).

The source meters subclass pymeasure's drivers and add the role members of
:class:`labspin.drivers.roles.SourceMeter` in SI units, limits checked before any write, and
clock-based ramps. pymeasure's own ``ramp_to_*``/``shutdown`` (sleep-based, unchecked) are
replaced.
"""
from __future__ import annotations

from pymeasure.instruments import Instrument
from pymeasure.instruments.keithley import keithley2400 as _pm2400
from pymeasure.instruments.keithley import keithley2450 as _pm2450
from pymeasure.instruments.validators import strict_discrete_set

from labspin.bench.safety import SlewLimit, shutdown_all

from .base import OutputNotFollowingError, SafeSourceMixin
from .keithley_2182 import Keithley2182A
from .keithley_6221 import Keithley6221
from .keithley_common import reading, source_meter_controls

__all__ = ["Keithley2400", "Keithley2450", "Keithley6221", "Keithley2182A"]


class _SourceMeterRole(SafeSourceMixin):
    """Role members shared by the 2400 and 2450 (mix in before the pymeasure class).

    Each model sets ``_PM`` (the pymeasure class it subclasses: its limit-checked source
    controls are built from it, :func:`source_meter_controls`, when the model class is
    defined; ramps use its unchecked level controls, so that a ramp can bring an out-of-limit
    output back), ``_OUTPUT`` where ``_PM.source_enabled`` is not a control, and ``_MEASURE``
    (quantity -> (query, index of the value in the reply)).
    """
    roles = ("source_meter",)
    SAFE_LIMITS = {"current": (-1.05, 1.05, "A"), "voltage": (-210.0, 210.0, "V")}
    DEFAULT_SLEW = {"current": SlewLimit(1e-4, 1e-3), "voltage": SlewLimit(0.1, 1.0)}
    _PM: type
    _OUTPUT: property | None = None
    _MEASURE: dict[str, tuple[str, int]] = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "_PM" in vars(cls):
            for name, control in source_meter_controls(cls._PM, cls._OUTPUT).items():
                setattr(cls, name, control)

    def _level(self, mode: str) -> property:
        """Get pymeasure's unchecked setpoint control of source ``mode``."""
        return getattr(self._PM, f"source_{mode}")

    def _check_stored_setpoint(self, mode: str) -> None:
        """Read the stored setpoint of ``mode`` and raise LimitError if outside its limits."""
        self.check_limit(mode, self._level(mode).fget(self))

    STATUS_INDEX: int | None = None
    """Index of the status word in a reading's elements (None: the reading has none)."""
    COMPLIANCE_BIT = 3
    """The status word's bit set while the source sits in compliance (2400: CMPL, bit 3)."""
    FOLLOW_REL_TOL = 0.01
    FOLLOW_ABS_TOL = {"current": 1e-8, "voltage": 1e-3}
    """A measured source output agrees with its setpoint within FOLLOW_REL_TOL of it plus
    these (A, V): far beyond the 2400/2450's accuracy (0.03–0.1 % + a few counts), far
    inside any stuck output's error."""

    def _measure(self, quantity: str) -> float:
        command, index = self._MEASURE[quantity]
        values = self.values(command)
        self._check_compliance(values)
        return reading(values[index])

    def _check_compliance(self, values) -> None:
        """Raise OutputNotFollowingError if the reading's status word says the source sits in
        compliance: the sample does not take the setpoint, and the data would be wrong."""
        if self.STATUS_INDEX is None or len(values) <= self.STATUS_INDEX:
            return
        if not int(float(values[self.STATUS_INDEX])) & (1 << self.COMPLIANCE_BIT):
            return
        set_ = ", ".join(f"{n} {v:g} {self._limits[n][2]}"
                         for n, v in self.__dict__.get("_setpoints", {}).items())
        raise OutputNotFollowingError(
            f"{self.name} (source_meter): in compliance (status word bit "
            f"{self.COMPLIANCE_BIT}) with {set_ or 'no setpoint written'}; reads "
            f"{reading(values[0]):g} V, {reading(values[1]):g} A: the output does not follow "
            "its setpoint (an open contact, or a compliance limit too low)")

    def check_following(self, mode: str) -> None:
        """Measure the sourced ``mode`` ("current" or "voltage") and raise
        OutputNotFollowingError if it differs from the setpoint last written by more than
        FOLLOW_REL_TOL of it plus FOLLOW_ABS_TOL (a stuck output, a blown fuse)."""
        last = self.last_setpoint(mode)
        if last is None:
            return
        tolerance = self.FOLLOW_REL_TOL * abs(last) + self.FOLLOW_ABS_TOL[mode]
        self.check_follows(mode, self._measure(mode), tolerance)

    def measure_voltage(self) -> float:
        """Measure the voltage (V) once, with the configured NPLC (NaN on overflow)."""
        return self._measure("voltage")

    def measure_current(self) -> float:
        """Measure the current (A) once (NaN on overflow)."""
        return self._measure("current")

    def _ramp(self, mode: str, target: float, follow: bool = True) -> None:
        level = self._level(mode)
        self.ramp_from_last(mode, target, lambda: level.fget(self), lambda v: level.fset(self, v))
        if follow and target != 0.0 and self.__dict__.get("_output_on"):
            self.check_following(mode)

    def ramp_to_current(self, current_A: float) -> None:
        """Ramp the current setpoint from its present value to ``current_A`` (A) within the
        slew limits (the target is checked before anything is sent)."""
        self._ramp("current", current_A)

    def ramp_to_voltage(self, voltage_V: float) -> None:
        """Ramp the voltage setpoint from its present value to ``voltage_V`` (V) within the
        slew limits (the target is checked before anything is sent)."""
        self._ramp("voltage", voltage_V)

    def enable_source(self) -> None:
        """Enable the output (refused if the active setpoint lies outside the limits)."""
        self.source_enabled = True

    def disable_source(self) -> None:
        """Disable the output."""
        self.source_enabled = False

    def _ramp_active_to_zero(self) -> None:
        self._ramp(self.source_mode, 0.0, follow=False)

    def shutdown(self) -> None:
        """Abort any trigger/buffer run, ramp the active source to 0 within the slew limits,
        then disable the output. Every step is attempted; the first failure is raised after."""
        errors = shutdown_all(self.stop_buffer, self._ramp_active_to_zero, self.disable_source)
        Instrument.shutdown(self)
        if errors:
            raise errors[0]


class Keithley2400(_SourceMeterRole, _pm2400.Keithley2400):
    """Keithley 2400 SourceMeter (±1.05 A, ±210 V), role ``source_meter``.

    Commands: Series 2400 SourceMeter User's Manual (2400S-900-01 Rev. K, 2011), Section 18
    (``:SOURce:CURRent|VOLTage``, ``:SENSe:CURRent|VOLTage:PROTection``, ``:SOURce:FUNCtion``,
    ``:OUTPut``, ranges ±1.05 A / ±210 V) and Section 17 (``:MEASure:<function>?`` = CONFigure
    + READ?; it turns the output on and leaves it on unless auto output-off is enabled).
    Readings come as ``VOLT,CURR,RES,TIME,STAT`` (pymeasure sets :FORMat:ELEMents at init).
    """
    _PM = _pm2400.Keithley2400
    _MEASURE = {"voltage": (":MEASURE:VOLTAGE?", 0), "current": (":MEASURE:CURRENT?", 1)}
    STATUS_INDEX = 4          # VOLT,CURR,RES,TIME,STAT

    def __init__(self, adapter, name="Keithley 2400 SourceMeter", **kwargs):
        super().__init__(adapter, name, **kwargs)


# pymeasure's 2450 source_enabled is a measurement (read only); the output is written here.
_pm2450_output = Instrument.control(
    "OUTPUT?", "OUTPUT %d", "Control whether the output is on (bool).",
    validator=strict_discrete_set, values={True: 1, False: 0}, map_values=True)


class Keithley2450(_SourceMeterRole, _pm2450.Keithley2450):
    """Keithley 2450 SourceMeter (±1.05 A, ±210 V), role ``source_meter``, SCPI command set.

    Commands: Model 2450 Reference Manual (2450-901-01 Rev. B, 2013), Section 6:
    ``:SOURce[1]:<function>[:LEVel]``, ``:SOURce[1]:CURRent:VLIMit``,
    ``:SOURce[1]:VOLTage:ILIMit``, ``:OUTPut[1][:STATe]``, and ``:MEASure:<function>?``
    (p. 6-4: same as ``:SENSe:FUNCtion`` then ``READ?``; returns the reading only).
    """
    _PM = _pm2450.Keithley2450
    _OUTPUT = _pm2450_output
    _MEASURE = {"voltage": (":MEAS:VOLT?", 0), "current": (":MEAS:CURR?", 0)}

    def __init__(self, adapter, name="Keithley 2450 SourceMeter", **kwargs):
        super().__init__(adapter, name, **kwargs)
