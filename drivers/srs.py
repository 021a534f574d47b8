"""Stanford Research Systems lock-in amplifiers: SR830, SR860, SR865, SR865A (role lock_in).

Subclasses of pymeasure's SR830/SR860 that add the :class:`~labspin.drivers.roles.LockIn`
members in SI units with normalized values, and a sine output that is limit-checked before
any write and moved by slew-limited ramps. The sine output drives the current through the
sample in harmonic-Hall measurements, so :meth:`shutdown` ramps it down to the instrument's
minimum amplitude (neither model can switch the sine output off).

Sources (command strings, ranges, response formats):

* SR830 manual (rev. 2.5), ch. 5 "Remote programming": FMOD, FREQ, HARM (1–19999,
  i·f ≤ 102 kHz), SLVL (0.004–5.000 V rms, 2 mV resolution), SENS 0–26 (2 nV–1 V),
  OFLT 0–19 (10 µs–30 ks), OFSL 0–3, SNAP? 1,2 (X, Y in V), LIAS? status byte
  (bit 0 input/amplifier overload, bit 1 time-constant filter overload, bit 2 output
  overload; bits latch until read, reading clears them).
* SR860 manual (rev. 2.04, "500 kHz DSP lock-in"), SR865 manual (rev. 1.26, "2 MHz"),
  SR865A manual (rev. 2.07/2.11, "4 MHz"), ch. 4 "Programming": RSRC 0–3
  (INT/EXT/DUAL/CHOP), FREQ, HARM 1–99, SLVL 1 nV–2.0 V, SCAL 0–27 (1 V … 1 nV),
  OFLT 0–21 (1 µs–30 ks), OFSL 0–3, SNAP? 0,1 (X, Y), CUROVLDSTAT? (current overload
  state, not latched).
"""
from __future__ import annotations

import logging
import math

from pymeasure.instruments import Instrument
from pymeasure.instruments.srs import SR830 as _PymeasureSR830
from pymeasure.instruments.srs import SR860 as _PymeasureSR860
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from labspin.bench.limits import check_sine_peak
from labspin.bench.safety import LimitError, SlewLimit, shutdown_all

from .base import SafeSourceMixin

log = logging.getLogger(__name__)

_REL_TOL = 1e-6
_SR86X_OVERLOAD_MASK = 0x0F13
"""CUROVLDSTAT? bits counted as overload: 0–1 CH1/CH2 output, 4 input range, 8–11 data
channel outputs. Bit 3 (external reference unlock) is not an overload."""


def smallest_at_least(value, values):
    """Get the smallest of ``values`` that is ≥ value (1 ppm tolerance); ValueError if none."""
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{value!r} is not a valid range (must be finite and ≥ 0)")
    for candidate in sorted(values):
        if v <= candidate * (1 + _REL_TOL):
            return candidate
    raise ValueError(f"{value!r} exceeds the largest available range {max(values):g}")


def nearest_log(value, values):
    """Get the element of ``values`` nearest to value on a log scale; ValueError if value ≤ 0."""
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{value!r} is not a valid time constant (must be finite and > 0)")
    return min(values, key=lambda c: abs(math.log(c / v)))


class _LockInMixin:
    """The sine-output ramping and shutdown shared by the SRS lock-ins (needs SafeSourceMixin)."""

    roles = ("lock_in",)
    OUTPUT_IMPEDANCE_OHM = 50.0
    """The sine output's source impedance (Ω; SR830 and SR86x manuals): with the bench's
    series resistor it bounds the current into a shorted sample."""
    SINE_SET_FORMAT = "SLVL %g"
    """Format of the sine amplitude write (V rms), per model."""
    SNAP_XY = ""
    """The SNAP? query that returns X and Y, per model."""

    def _write_sine_amplitude(self, amplitude_V: float) -> None:
        # Limits are checked before a ramp starts; clipping to the model's own range here only
        # absorbs float rounding of ramp points (e.g. 9.999999995e-10 for a 1 nV end point).
        low, high, _ = self.SAFE_LIMITS["sine_amplitude"]
        self.write(self.SINE_SET_FORMAT % min(max(amplitude_V, low), high))

    def _read_sine_amplitude(self) -> float:
        return float(self.values("SLVL?")[0])

    def ramp_to_sine_amplitude(self, amplitude_V: float) -> None:
        """Ramp the sine output to ``amplitude_V`` (V rms) within the slew limits.

        The target is checked against the limits before anything is sent; the start is the
        amplitude last written (read back from the instrument only before the first write).
        """
        self.ramp_from_last("sine_amplitude", amplitude_V, self._read_sine_amplitude,
                            self._write_sine_amplitude)

    def shutdown(self) -> None:
        """Ramp the sine output down to the model's minimum amplitude within the slew limits.

        Lowering the amplitude is always the safe direction, so the target is the model's own
        minimum. If reading or a ramp step fails, the minimum is written directly and the
        error is re-raised.
        """
        low = self.SAFE_LIMITS["sine_amplitude"][0]
        try:
            start = self.ramp_start("sine_amplitude", self._read_sine_amplitude)
            self.paced_ramp("sine_amplitude", start, low, self._write_sine_amplitude)
        except Exception:
            try:
                self._write_sine_amplitude(low)
            except Exception:  # noqa: BLE001 — report the first failure below
                log.exception("%s: writing the minimum sine amplitude failed", self.name)
            raise
        super().shutdown()

    def measure_xy(self) -> tuple[float, float]:
        """Measure X and Y (V rms) simultaneously with one SNAP? query."""
        x, y = self.values(self.SNAP_XY)
        return float(x), float(y)


def _filter_controls(pm: type, sensitivity_header: str, sep: str) -> tuple:
    """Get (sensitivity, time_constant, filter_slope) of a model on pymeasure class ``pm``
    (its SENSITIVITIES and TIME_CONSTANTS tables); the models differ in the sensitivity
    header (SENS, SCAL) and the separator before the value ("" on the SR830, " " on the
    SR86x)."""
    return (
        Instrument.control(
            f"{sensitivity_header}?", f"{sensitivity_header}{sep}%d",
            "Control the sensitivity (V full scale); setting picks the smallest range ≥ value.",
            validator=smallest_at_least, values=[float(v) for v in pm.SENSITIVITIES],
            map_values=True,
        ),
        Instrument.control(
            "OFLT?", f"OFLT{sep}%d",
            "Control the time constant (s); setting picks the nearest available (log scale).",
            validator=nearest_log, values=[float(v) for v in pm.TIME_CONSTANTS],
            map_values=True,
        ),
        Instrument.control(
            "OFSL?", f"OFSL{sep}%d",
            "Control the low-pass filter slope (dB/octave): 6, 12, 18 or 24.",
            validator=strict_discrete_set, values={6: 0, 12: 1, 18: 2, 24: 3},
            map_values=True,
        ),
    )


def _sine_amplitude_property():
    getter = Instrument.measurement(
        "SLVL?", "Control the sine output amplitude (V rms); setting it ramps within the "
        "slew limits after a limit check.").fget
    return property(getter, lambda self, value: self.ramp_to_sine_amplitude(value),
                    doc=getter.__doc__)


class SR830(_LockInMixin, SafeSourceMixin, _PymeasureSR830):
    """Stanford Research SR830 DSP lock-in (102 kHz), role lock_in.

    SR830 manual rev. 2.5, ch. 5. pymeasure's ``sine_voltage`` is redirected to the
    limit-checked, ramping :attr:`sine_amplitude`.
    """

    SAFE_LIMITS = {"sine_amplitude": (0.004, 5.0, "V")}
    DEFAULT_SLEW = {"sine_amplitude": SlewLimit(0.05, 0.5)}
    READBACK_RESOLUTION = {"sine_amplitude": 0.002}    # 2 mV steps (manual, SLVL)
    SINE_SET_FORMAT = "SLVL%0.3f"
    SNAP_XY = "SNAP? 1,2"

    frequency = Instrument.control(
        "FREQ?", "FREQ%0.5e",
        "Control the reference frequency (Hz): internal setpoint, or the measured external "
        "one when the reference is external (set only with the internal reference).",
        validator=strict_range, values=[0.001, 102000],
    )
    reference_source = Instrument.control(
        "FMOD?", "FMOD %d", 'Control the reference source: "internal" or "external".',
        validator=strict_discrete_set, values={"external": 0, "internal": 1},
        map_values=True,
    )
    harmonic = Instrument.control(
        "HARM?", "HARM%d", "Control the detection harmonic (1–19999, harmonic·f ≤ 102 kHz).",
        validator=strict_discrete_set, values=range(1, 20000), cast=int,
    )
    sensitivity, time_constant, filter_slope = _filter_controls(_PymeasureSR830, "SENS", "")
    overloaded = Instrument.measurement(
        "LIAS?",
        "Get whether an input/amplifier, filter or output overload occurred since the last "
        "read (LIAS? bits 0–2; reading clears them).",
        cast=int, get_process=lambda status: bool(status & 0b111),
    )
    sine_amplitude = _sine_amplitude_property()
    sine_voltage = sine_amplitude

    def __init__(self, adapter, name="Stanford Research Systems SR830 lock-in amplifier",
                 **kwargs):
        super().__init__(adapter, name, **kwargs)


class SR860(_LockInMixin, SafeSourceMixin, _PymeasureSR860):
    """Stanford Research SR860 DSP lock-in (500 kHz), role lock_in.

    SR860 manual rev. 2.04, ch. 4. Subclasses change only the frequency range
    (``frequency_values``). pymeasure's ``sine_voltage`` is redirected to the limit-checked,
    ramping :attr:`sine_amplitude`.
    """

    SAFE_LIMITS = {"sine_amplitude": (1e-9, 2.0, "V"), "sine_offset": (-5.0, 5.0, "V")}
    DEFAULT_SLEW = {"sine_amplitude": SlewLimit(0.05, 0.5),
                    "sine_offset": SlewLimit(0.05, 0.5)}
    READBACK_RESOLUTION = {"sine_offset": 1e-4}        # SOFF in 0.1 mV steps
    SINE_SET_FORMAT = "SLVL %0.9e"
    SNAP_XY = "SNAP? 0,1"

    frequency = Instrument.control(
        "FREQ?", "FREQ %0.6e",
        "Control the reference frequency (Hz): internal setpoint, or the measured external "
        "one when the reference is external.",
        validator=strict_range, values=[0.001, 500e3], dynamic=True,
    )
    reference_source = Instrument.control(
        "RSRC?", "RSRC %d",
        'Control the reference source: "internal", "external", "dual" or "chop".',
        validator=strict_discrete_set,
        values={"internal": 0, "external": 1, "dual": 2, "chop": 3}, map_values=True,
    )
    harmonic = Instrument.control(
        "HARM?", "HARM %d", "Control the detection harmonic (1–99).",
        validator=strict_discrete_set, values=range(1, 100), cast=int,
    )
    sensitivity, time_constant, filter_slope = _filter_controls(_PymeasureSR860, "SCAL", " ")
    overload_status = Instrument.measurement(
        "CUROVLDSTAT?", "Get the current overload state word (CUROVLDSTAT?).", cast=int,
    )
    overloaded = Instrument.measurement(
        "CUROVLDSTAT?",
        "Get whether an input-range or output overload is present now (CUROVLDSTAT? bits "
        "0, 1, 4, 8–11).",
        cast=int, get_process=lambda status: bool(status & _SR86X_OVERLOAD_MASK),
    )
    sine_amplitude = _sine_amplitude_property()
    sine_voltage = sine_amplitude
    id = Instrument.measurement(
        "*IDN?", "Get the identification of the instrument (*IDN?).", cast=str, maxsplit=0,
    )

    SINE_PEAK_V = math.inf
    """The model's own bound on |offset| + √2·V_rms (V): none beyond each output's range."""

    def configure_sine_peak(self, peak_V: float, origin: str = "") -> None:
        """Narrow the limit (V) of the output's peak |offset| + √2·V_rms (the bench's, from
        :func:`labspin.bench.limits.sine_peak_limit`); raises LimitError if that widens it."""
        now = self.__dict__.get("_sine_peak", (self.SINE_PEAK_V, ""))[0]
        if not 0.0 <= peak_V <= now:
            raise LimitError(f"{type(self).__name__} sine peak limit {peak_V:g} V must lie "
                             f"within [0, {now:g}] V: limits are only ever narrowed")
        self._sine_peak = (float(peak_V), origin)

    def check_sine_peak(self, offset_V: float | None = None,
                        amplitude_V: float | None = None) -> None:
        """Raise LimitError (naming both values) if the dc offset ``offset_V`` (V) with the
        amplitude ``amplitude_V`` (V rms) peaks beyond the limit in force; the one not given
        is the one in force (the setpoint last written, else read back). Without a finite
        limit nothing is asked."""
        peak_V, origin = self.__dict__.get("_sine_peak", (self.SINE_PEAK_V, ""))
        if not math.isfinite(peak_V):
            return
        if offset_V is None:
            offset_V = self.ramp_start("sine_offset", lambda: self.sine_offset)
        if amplitude_V is None:
            amplitude_V = self.ramp_start("sine_amplitude", self._read_sine_amplitude)
        check_sine_peak(type(self).__name__, offset_V, amplitude_V, peak_V, origin)

    def ramp_to_sine_amplitude(self, amplitude_V: float) -> None:
        """Ramp the sine output to ``amplitude_V`` (V rms) within the slew limits, after
        checking it alone and with the dc offset in force (|offset| + √2·V_rms)."""
        amplitude_V = self.check_limit("sine_amplitude", amplitude_V)
        self.check_sine_peak(amplitude_V=amplitude_V)
        super().ramp_to_sine_amplitude(amplitude_V)

    @property
    def sine_offset(self) -> float:
        """Control the sine output's dc offset (V, SOFF, −5 to 5 V); setting it ramps there
        within the slew limits from the offset last written, after a limit check alone and
        with the amplitude in force (|offset| + √2·V_rms, :meth:`check_sine_peak`). It drives
        a dc current through the sample like any source, and is zeroed at shutdown."""
        return float(self.values("SOFF?")[0])

    @sine_offset.setter
    def sine_offset(self, offset_V: float) -> None:
        offset_V = self.check_limit("sine_offset", offset_V)
        self.check_sine_peak(offset_V=offset_V)
        self.ramp_from_last("sine_offset", offset_V, lambda: self.sine_offset,
                            self._write_sine_offset)

    def shutdown(self) -> None:
        """Ramp the dc offset to 0 V, then the sine amplitude to the minimum, each within the
        slew limits and each attempted even if the other fails (the first error is raised)."""
        errors = shutdown_all(self._offset_to_zero, super().shutdown)
        if errors:
            raise errors[0]

    def _offset_to_zero(self) -> None:
        start = self.ramp_start("sine_offset", lambda: self.sine_offset)
        if start != 0.0:
            self.paced_ramp("sine_offset", start, 0.0, self._write_sine_offset)

    def _write_sine_offset(self, offset_V: float) -> None:
        self.write("SOFF %0.4e" % offset_V)

    def __init__(self, adapter, name="Stanford Research Systems SR860 lock-in amplifier",
                 **kwargs):
        super().__init__(adapter, name, **kwargs)

    def clear(self) -> None:
        """Clear the status registers (*CLS)."""
        self.write("*CLS")

    def reset(self) -> None:
        """Reset the instrument to its default settings (*RST)."""
        self.write("*RST")


class SR865(SR860):
    """Stanford Research SR865 DSP lock-in (2 MHz): the SR860 command set, FREQ up to 2 MHz.

    SR865 manual rev. 1.26.
    """

    frequency_values = [0.001, 2e6]

    def __init__(self, adapter, name="Stanford Research Systems SR865 lock-in amplifier",
                 **kwargs):
        super().__init__(adapter, name, **kwargs)


class SR865A(SR860):
    """Stanford Research SR865A DSP lock-in (4 MHz): the SR860 command set, FREQ up to 4 MHz.

    SR865A manual rev. 2.07.
    """

    frequency_values = [0.001, 4e6]

    def __init__(self, adapter, name="Stanford Research Systems SR865A lock-in amplifier",
                 **kwargs):
        super().__init__(adapter, name, **kwargs)
