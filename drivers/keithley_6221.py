"""Keithley 6221 ac/dc current source (role ``current_source``), with delta mode through an
attached 2182A nanovoltmeter."""
from __future__ import annotations

import numpy as np
from pymeasure.instruments import Instrument
from pymeasure.instruments.keithley import keithley6221 as _pm6221
from pymeasure.instruments.validators import strict_range

from labspin.bench.safety import SlewLimit, shutdown_all

from .base import OutputNotFollowingError, SafeSourceMixin
from .keithley_common import OVERFLOW, checked, level_check

_PM = _pm6221.Keithley6221


def _enable_check(self, enabled):
    """Refuse to enable the output while the dc setpoint lies outside the current limits."""
    if enabled:
        self.check_limit("current", _PM.source_current.fget(self))
    self.__dict__["_output_on"] = bool(enabled)
    return enabled


def _peaks_check(self, amplitude, offset):
    """Refuse a waveform whose peaks offset ± amplitude (A) lie outside the current limits
    (peaks rounded to 12 digits, so that e.g. 0.1 A − 0.005 A meets a −0.105 A limit)."""
    for sign in (1.0, -1.0):
        self.check_limit("current", float(f"{float(offset) + sign * abs(float(amplitude)):.12g}"))


def _amplitude_check(self, amplitude):
    _peaks_check(self, amplitude, _PM.waveform_offset.fget(self))
    return amplitude


def _offset_check(self, offset):
    _peaks_check(self, _PM.waveform_amplitude.fget(self), offset)
    return offset


def _delta_high_check(self, high):
    """Delta alternates between +high and low = −high (the 6221 sets low = −high)."""
    self.check_limit("current", high)
    self.check_limit("current", -float(high))
    return high


class Keithley6221(SafeSourceMixin, _PM):
    """Keithley 6221 ac and dc current source (±105 mA, compliance 0.1–105 V), role
    ``current_source``.

    Commands: Model 6220/6221 Reference Manual (622x-901-01 Rev. B/C): ``:SOURce:CURRent``,
    ``:SOURce:CURRent:COMPliance``, ``:OUTPut``; the wave function subsystem
    (``SOUR:WAVE:FUNC SIN|AMPL|FREQ|OFFS|DUR:TIME INF``, ``SOUR:WAVE:ARM``, ``SOUR:WAVE:INIT``,
    ``SOUR:WAVE:ABOR``); Section 5, Delta (``SOUR:DELT:HIGH|DEL|COUN``, ``SOUR:DELT:NVPR?``,
    ``SOUR:DELT:ARM``, ``INIT:IMM``, ``SENS:DATA?``, ``TRAC:DATA?``, ``SOUR:SWE:ABOR`` which
    stops delta and returns the 2182A to local); Section 13, ``FORMat:ELEMents`` (default
    READing,TSTamp: buffer data come as reading,timestamp pairs). The 2182A is attached to the
    6221 by its RS-232 and Trigger Link cables; the 6221 talks to it.
    """
    roles = ("current_source",)
    SAFE_LIMITS = {"current": (-0.105, 0.105, "A"), "compliance_voltage": (0.1, 105.0, "V")}
    DEFAULT_SLEW = {"current": SlewLimit(1e-4, 1e-3)}

    def __init__(self, adapter, name="Keithley 6221 Current Source", **kwargs):
        super().__init__(adapter, name, **kwargs)

    # ---- dc source -------------------------------------------------------------------------

    source_current = checked(
        _PM.source_current, level_check("current"),
        "Control the dc source current setpoint (A), checked against the limits before the write.")
    compliance_voltage = checked(
        _PM.source_compliance, level_check("compliance_voltage", setpoint=False),
        "Control the compliance voltage (V, 0.1–105), checked against the limits before the "
        "write.")
    source_compliance = compliance_voltage
    source_enabled = checked(
        _PM.source_enabled, _enable_check,
        "Control whether the output is on (bool); enabling is refused if the dc setpoint lies "
        "outside the limits.")

    def enable_source(self) -> None:
        """Enable the output (refused if the dc setpoint lies outside the limits)."""
        self.source_enabled = True

    def disable_source(self) -> None:
        """Disable the output."""
        self.source_enabled = False

    def ramp_to_current(self, current_A: float) -> None:
        """Ramp the dc current from the setpoint last written (the readback before the first
        write) to ``current_A`` (A) within the slew limits (the target is checked before
        anything is sent)."""
        self.ramp_from_last("current", current_A, lambda: float(_PM.source_current.fget(self)),
                            lambda v: _PM.source_current.fset(self, v))
        if current_A != 0.0 and self.__dict__.get("_output_on"):
            self.check_compliance()

    # ---- waveforms -------------------------------------------------------------------------

    waveform_amplitude = checked(
        _PM.waveform_amplitude, _amplitude_check,
        "Control the waveform peak amplitude (A); offset ± amplitude must lie within the limits.")
    waveform_offset = checked(
        _PM.waveform_offset, _offset_check,
        "Control the waveform offset (A); offset ± amplitude must lie within the limits.")

    def start_sine(self, amplitude_A: float, frequency_Hz: float, offset_A: float = 0.0) -> None:
        """Start a continuous sine I(t) = offset + amplitude·sin(2πft) (amplitude is the peak
        value, 2 pA–105 mA; frequency 1 mHz–100 kHz). Peaks are checked before anything is sent;
        a running waveform is aborted first, then the sine is armed and started."""
        strict_range(amplitude_A, (2e-12, 0.105))
        strict_range(frequency_Hz, (1e-3, 1e5))
        _peaks_check(self, amplitude_A, offset_A)
        self.waveform_abort()
        self.waveform_function = "sine"
        _PM.waveform_amplitude.fset(self, amplitude_A)
        self.waveform_frequency = frequency_Hz
        _PM.waveform_offset.fset(self, offset_A)
        self.waveform_duration_set_infinity()
        self.waveform_arm()
        self.waveform_start()
        self.check_compliance()

    COMPLIANCE_BIT = 3
    """The Measurement Condition Register's compliance bit (CL, 622x manual, Status Model)."""

    def check_compliance(self) -> None:
        """Raise OutputNotFollowingError (naming the source, the current set and the
        compliance) if the 6221 sits in compliance (``:STAT:MEAS:COND?`` bit 3): the sample
        does not take the set current and the data would be wrong."""
        if not int(float(self.ask(":STAT:MEAS:COND?"))) & (1 << self.COMPLIANCE_BIT):
            return
        raise OutputNotFollowingError(
            f"{self.name} (current_source): in compliance (measurement condition bit "
            f"{self.COMPLIANCE_BIT}) with dc {self.last_setpoint('current') or 0.0:g} A, sine "
            f"amplitude {float(_PM.waveform_amplitude.fget(self)):g} A set at a "
            f"{float(_PM.source_compliance.fget(self)):g} V compliance: the output does not "
            "follow its setpoint (an open contact, or a compliance too low)")

    def stop_waveform(self) -> None:
        """Stop and disarm the waveform (SOUR:WAVE:ABOR)."""
        self.waveform_abort()

    # ---- delta mode with a 2182A -----------------------------------------------------------

    delta_high_source = checked(
        _PM.delta_high_source, _delta_high_check,
        "Control the delta high current (A, ≥ 0); ±value must lie within the limits (the 6221 "
        "sets low = −high).")
    delta_low_source = checked(
        _PM.delta_low_source, level_check("current", setpoint=False),
        "Control the delta low current (A, ≤ 0), checked against the limits before the write.")

    def delta_arm(self, high_A: float, delay_s: float, count: int) -> None:
        """Set up and arm delta mode: ``count`` readings (1–65536) alternating ±``high_A`` (A)
        with ``delay_s`` (s) between a current step and its 2182A reading; the buffer is sized
        to ``count`` and cleared, readings in volts. Limits are checked first; raises
        RuntimeError (nothing written) if the 6221 sees no 2182A on its RS-232 link."""
        strict_range(high_A, (0.0, 0.105))
        _delta_high_check(self, high_A)
        strict_range(delay_s, (0.0, 9999.999))
        count = int(count)
        strict_range(count, (1, 65536))
        if not self.delta_connected:
            raise RuntimeError(f"{self.name}: no 2182A answers on the 6221's RS-232/Trigger "
                               "Link (SOUR:DELT:NVPR? returned 0); delta mode needs one")
        self.delta_unit = "V"
        _PM.delta_high_source.fset(self, high_A)
        self.delta_delay = delay_s
        self.delta_cycles = count
        self.write(":TRAC:CLE")
        self.delta_buffer_points = count
        self.write(":FORM:ELEM READ,TST")
        self.write(":SOUR:DELT:ARM")

    def delta_read(self) -> np.ndarray:
        """Get the delta readings (V) stored in the 6221 buffer (NaN for overflow readings)."""
        values = np.asarray(self.values(":TRAC:DATA?"), dtype=float)[0::2]
        return np.where(np.abs(values) >= OVERFLOW, np.nan, values)

    # delta_start (":INIT:IMM") and delta_abort (":SOUR:SWE:ABOR") are pymeasure's.

    # ---- safe state ------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Abort any waveform and delta run, ramp the dc current to 0 within the slew limits,
        then disable the output. Every step is attempted; the first failure is raised after."""
        errors = shutdown_all(self.waveform_abort, self.delta_abort,
                              lambda: self.ramp_to_current(0.0), self.disable_source)
        Instrument.shutdown(self)
        if errors:
            raise errors[0]
