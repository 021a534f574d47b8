"""Pulse generators (role ``pulse_generator``) for current-pulse switching.

Units at the boundary: ``amplitude`` is the signed pulse level in V into 50 Ω from a 0 V
baseline (negative = negative-going pulses), ``width`` in s. Both are checked against the
limits before the write; switching the output on first checks the level already set.
``fire(count)`` emits ``count`` pulses now. ``shutdown()`` ramps the level to the model's
smallest pulse (``MIN_AMPLITUDE``, same sign) within ``DEFAULT_SLEW``, then disables the
output (even if the ramp failed; its error is re-raised).

On the 33500B and 81160A a pulse of level A is made with the high/low levels and the output
polarity so that the baseline never moves: A > 0 is HIGH = A, LOW = 0, polarity normal;
A < 0 is HIGH = 0, LOW = A, polarity inverted (the output is inverted about the offset, so
the baseline sits at HIGH = 0 and the pulse at LOW = A). Changing sign passes through
±``MIN_AMPLITUDE``; the baseline then moves by at most that much for a moment. Levels assume
the instrument's expected load is 50 Ω (its default). Call ``configure_pulse_mode()`` once
(output off, single triggered pulses, 0 V baseline) before using the role members.
Every message these two send passes a level guard in ``write()``
(:mod:`labspin.drivers.level_guard`): pymeasure's own controls inherited by these classes
(``voltage_high``, ``voltage_low``, ``amplitude`` in Vpp, ``offset``, ``channels[n]....``,
``apply_*``) and raw ``write()`` are refused with a LimitError, before anything is sent, if
after them a level of either channel would leave :meth:`~_LevelPolarityPulser.level_range`
(the amplitude limit, widened to hold 0 V and ±``MIN_AMPLITUDE``). Its shadow of the levels
starts from what ``configure_pulse_mode()`` writes; procedures still use the role members.
The 10070A checks its ``amplitude``/``offset`` commands in ``write()`` the same way.
"""
from __future__ import annotations

import math
import numbers

from pymeasure.instruments import Instrument
from pymeasure.instruments.agilent import Agilent33500
from pymeasure.instruments.keysight import Keysight81160A as _PymeasureKeysight81160A
from pymeasure.instruments.validators import strict_discrete_set, strict_range

from labspin.bench.safety import LimitError, SlewLimit, shutdown_all

from .base import SafeSourceMixin
from .level_guard import LevelGuard


class _PulseSource(SafeSourceMixin):
    """Checked amplitude and width, output on only within limits, ramped shutdown."""
    roles = ("pulse_generator",)
    DEFAULT_SLEW = {"amplitude": SlewLimit(max_step=0.5, max_rate=5.0)}   # V, V/s
    OUTPUT_IMPEDANCE_OHM = 50.0
    """The output's source impedance (Ω): a level V into 50 Ω is an EMF 2V behind it."""
    MIN_AMPLITUDE = 0.0
    """Smallest |pulse level| (V) the model makes; ``shutdown()`` ramps to it."""
    MAX_COUNT = 1

    def _check_amplitude(self, value: float) -> float:
        v = self.check_limit("amplitude", value)
        if abs(v) < self.MIN_AMPLITUDE:
            raise LimitError(f"{type(self).__name__} amplitude = {value!r} V is below the "
                             f"smallest pulse level {self.MIN_AMPLITUDE:g} V")
        return v

    def _safe_level(self, level: float) -> float | None:
        """Get the shutdown target for the present ``level``, or None if no ramp is needed."""
        low, high, _ = self.limits_of("amplitude")
        target = min(max(math.copysign(self.MIN_AMPLITUDE, level), low), high)
        if target * level <= 0 or abs(target) >= abs(level):
            return None
        return target

    def _ramp_to_safe(self) -> None:
        level = self.ramp_start("amplitude", lambda: self.amplitude)
        target = self._safe_level(level)
        if target is not None:
            self.ramp_output("amplitude", level, target, self._write_level)

    def safe_level(self, name: str) -> float:
        """Get the safe value of output ``name``: for the pulse level the model's smallest
        pulse of the last written sign (``MIN_AMPLITUDE``), else 0 (or the limit nearest)."""
        if name != "amplitude":
            return super().safe_level(name)
        level = self.last_setpoint("amplitude") or 0.0
        target = self._safe_level(level)
        return level if target is None else target

    def shutdown(self) -> None:
        """Ramp the pulse level to ±MIN_AMPLITUDE within the slew limits, then disable the
        output, even if the ramp failed (its error is re-raised)."""
        try:
            self._ramp_to_safe()
        finally:
            self._write_output(False)
            Instrument.shutdown(self)

    def _check_count(self, count: int) -> int:
        if isinstance(count, bool) or not isinstance(count, numbers.Integral) \
                or not 1 <= count <= self.MAX_COUNT:
            raise ValueError(f"count must be an integer in [1, {self.MAX_COUNT}], got {count!r}")
        return int(count)


class _LevelPolarityPulser(_PulseSource):
    """Pulse level via VOLT:HIGH/LOW and OUTP:POL (33500B, 81160A); see module docstring.

    Subclasses set ``_levels`` (the object whose pymeasure controls voltage_high,
    voltage_low, pulse_width and output write the settings) and the query commands below.
    """
    _POL_GET = ""
    _POL_SET = ""   # format with NORM | INV
    _HIGH_GET = ""
    _LOW_GET = ""
    _WIDTH_GET = ""
    _OUTPUT_GET = ""

    @property
    def _levels(self):
        return self

    def level_range(self) -> tuple[float, float]:
        """Get the (low, high) range in V every output level must stay in: the amplitude
        limit in force, widened to hold the 0 V baseline and ±MIN_AMPLITUDE (the level a
        sign change passes through)."""
        low, high, _ = self.limits_of("amplitude")
        return min(low, -self.MIN_AMPLITUDE), max(high, self.MIN_AMPLITUDE)

    def _guard(self, message: str) -> None:
        """Raise LimitError if after ``message`` a level would leave :meth:`level_range`
        (see :mod:`labspin.drivers.level_guard`); else take its levels as the shadow."""
        guard = self.__dict__.get("_level_guard")
        if guard is None:
            guard = self.__dict__["_level_guard"] = LevelGuard(channels=(1, 2))
        origin = self.__dict__.get("_limit_origins", {}).get("amplitude")
        what = f"{type(self).__name__} amplitude limit" + (f" ({origin})" if origin else "")
        guard.commit(guard.check(message, self.level_range(), what))

    def write(self, command, **kwargs):
        """Write ``command`` if after it every channel's levels stay within
        :meth:`level_range`, else raise LimitError before anything is sent: pymeasure's
        own controls, ``apply_*`` and raw writes all come through here. The shadow is
        updated before the write (a write that fails may still have been applied)."""
        self._guard(str(command))
        return super().write(command, **kwargs)

    def write_bytes(self, content: bytes, **kwargs):
        """Write raw bytes, checked like :meth:`write`."""
        self._guard(bytes(content).decode("latin-1").rstrip("\r\n"))
        return super().write_bytes(content, **kwargs)

    def _inverted(self) -> bool:
        return self.ask(self._POL_GET).strip().upper().startswith("INV")

    def _query_float(self, command: str) -> float:
        return float(self.ask(command).strip())

    @property
    def amplitude(self) -> float:
        """Control the signed pulse level in V into 50 Ω from a 0 V baseline (float)."""
        return self._query_float(self._LOW_GET if self._inverted() else self._HIGH_GET)

    @amplitude.setter
    def amplitude(self, level: float) -> None:
        v = self._check_amplitude(level)
        self.note_setpoint("amplitude", v)
        inverted = self._inverted()
        if (v < 0) != inverted:
            self._flip_polarity(inverted)
        self._write_level(v)

    def _write_level(self, level: float) -> None:
        if level < 0:
            self._levels.voltage_low = level
        else:
            self._levels.voltage_high = level

    def _flip_polarity(self, inverted: bool) -> None:
        """Change pulse sign through ±MIN_AMPLITUDE, keeping HIGH > LOW at every step."""
        m, lv = self.MIN_AMPLITUDE, self._levels
        if not inverted:            # (A, 0) normal -> (0, -m) inverted
            lv.voltage_high = m
            lv.voltage_low = -m
            lv.voltage_high = 0
            self.write(self._POL_SET % "INV")
        else:                       # (0, A) inverted -> (m, 0) normal
            lv.voltage_low = -m
            lv.voltage_high = m
            lv.voltage_low = 0
            self.write(self._POL_SET % "NORM")

    @property
    def width(self) -> float:
        """Control the pulse width in s (float)."""
        return self._query_float(self._WIDTH_GET)

    @width.setter
    def width(self, width_s: float) -> None:
        self._levels.pulse_width = self.check_limit("width", width_s)

    @property
    def output_enabled(self) -> bool:
        """Control whether the output is on (bool); on only if the pulse level is within
        the limits."""
        return bool(int(self._query_float(self._OUTPUT_GET)))

    @output_enabled.setter
    def output_enabled(self, enabled: bool) -> None:
        if enabled:
            self.check_limit("amplitude", self.amplitude)
        self._write_output(bool(enabled))

    def _write_output(self, enabled: bool) -> None:
        self._levels.output = enabled


class Keysight33500B(_LevelPolarityPulser, Agilent33500):
    """Keysight 33500B Trueform waveform generator (channel 1) as a ``pulse_generator``.

    Extends pymeasure's :class:`~pymeasure.instruments.agilent.Agilent33500`; the role's
    ``amplitude`` (signed pulse level) replaces pymeasure's instrument-level Vpp
    ``amplitude`` (still available as ``channels[1].amplitude``). Pulses are single
    triggered bursts: ``fire(n)`` sets BURSt:NCYCles n and sends ``*TRG`` (bus trigger).

    Reference: Keysight 33500B/33600A Series Operating and Service Guide, "SCPI Programming
    Reference" (FUNCtion:PULSe, VOLTage:HIGH/LOW, OUTPut:POLarity, BURSt, TRIGger).
    Limits: ±5 V into 50 Ω, width 16 ns to 1 Ms (pymeasure's ranges); smallest pulse 10 mV
    (pymeasure's minimum amplitude, 10 mVpp).
    """
    SAFE_LIMITS = {"amplitude": (-5.0, 5.0, "V"), "width": (16e-9, 1e6, "s")}
    MIN_AMPLITUDE = 0.01
    MAX_COUNT = 99_999
    _POL_GET = "OUTP:POL?"
    _POL_SET = "OUTP:POL %s"
    _HIGH_GET = "VOLT:HIGH?"
    _LOW_GET = "VOLT:LOW?"
    _WIDTH_GET = "FUNC:PULS:WIDT?"
    _OUTPUT_GET = "OUTP?"

    def __init__(self, adapter, name="Keysight 33500B waveform generator", **kwargs):
        super().__init__(adapter, name, **kwargs)

    def configure_pulse_mode(self, period: float = 1e-3) -> None:
        """Switch the output off, select pulses of the smallest level on a 0 V baseline
        (polarity normal) with ``period`` (s), as single bursts on a bus trigger (*TRG)."""
        m = self.MIN_AMPLITUDE
        self.output = False
        self.shape = "PULS"
        self.write("VOLT %f" % m)
        self.write("VOLT:OFFS %f" % (m / 2))
        self.write(self._POL_SET % "NORM")
        self.pulse_period = period
        self.burst_mode = "TRIG"
        self.burst_ncycles = 1
        self.trigger_source = "BUS"
        self.burst_state = True

    def fire(self, count: int = 1) -> None:
        """Emit ``count`` pulses now (burst of ``count`` cycles on a bus trigger)."""
        self.burst_ncycles = self._check_count(count)
        self.trigger()


class Keysight81160A(_LevelPolarityPulser, _PymeasureKeysight81160A):
    """Keysight 81160A pulse/function/arbitrary generator (one channel) as a
    ``pulse_generator``.

    Extends pymeasure's :class:`~pymeasure.instruments.keysight.Keysight81160A`; the role
    members drive the channel given by ``channel=`` (1 or 2) through pymeasure's channel
    controls (``:VOLT1:HIGH``, ``:PULS:WIDT1``, ``:OUTP1``, ``:TRIG1:COUN``, ``:ARM:SOUR1``).
    ``fire(n)`` sets the trigger count and sends ``*TRG`` (arm source manual), the sequence
    pymeasure documents for this model.

    Reference: Keysight 81150A/81160A Pulse Function Arbitrary Noise Generator User's Guide,
    "Programming Reference" (:VOLTage:HIGH/LOW, :PULSe:WIDTh, :OUTPut:POLarity, :ARM,
    :TRIGger:COUNt). Limits: ±5 V into 50 Ω, width 1.5 ns to 1 Ms, smallest pulse 50 mV
    (pymeasure's ranges for this model).
    """
    SAFE_LIMITS = {"amplitude": (-5.0, 5.0, "V"), "width": (1.5e-9, 1e6, "s")}
    MIN_AMPLITUDE = 0.05
    MAX_COUNT = 2_147_483_647

    def __init__(self, adapter, name="Keysight 81160A pulse generator", channel: int = 1,
                 **kwargs):
        if channel not in (1, 2):
            raise ValueError(f"channel must be 1 or 2, got {channel!r}")
        self._channel = channel
        self._POL_GET = f":OUTP{channel}:POL?"
        self._POL_SET = f":OUTP{channel}:POL %s"
        self._HIGH_GET = f":VOLT{channel}:HIGH?"
        self._LOW_GET = f":VOLT{channel}:LOW?"
        self._WIDTH_GET = f":PULS:WIDT{channel}?"
        self._OUTPUT_GET = f"OUTP{channel}?"
        super().__init__(adapter, name, **kwargs)

    @property
    def _levels(self):
        return self.channels[self._channel]

    def configure_pulse_mode(self, period: float = 1e-3) -> None:
        """Switch the channel off, select pulses of the smallest level on a 0 V baseline
        (polarity normal) with ``period`` (s), one pulse per manual trigger (*TRG)."""
        ch, m = self._levels, self.MIN_AMPLITUDE
        ch.output = False
        ch.shape = "PULS"
        ch.amplitude = m
        ch.offset = m / 2
        self.write(self._POL_SET % "NORM")
        ch.pulse_period = period
        ch.trigger_mode = "MAN"
        ch.trigger_count = 1

    def fire(self, count: int = 1) -> None:
        """Emit ``count`` pulses now (trigger count ``count``, then *TRG)."""
        self._levels.trigger_count = self._check_count(count)
        self.trigger()


def _last_token(reply: str) -> str:
    """Drop a response header ("AMPLITUDE 2.5E+0" -> "2.5E+0"); works with HEADER OFF too."""
    parts = reply.split()
    return parts[-1] if parts else reply


class Picosecond10070A(_PulseSource, Instrument):
    """Picosecond Pulse Labs (Tektronix) Model 10,070A pulse generator as a
    ``pulse_generator``: 100 ps-class pulses up to ±7.5 V into 50 Ω.

    GPIB commands (long forms; the instrument also takes the 4-letter short forms):
    ``amplitude``, ``duration``, ``delay``, ``offset``, ``period``, ``frequency``,
    ``trigger INT|EXT|MAN|GPIB``, ``enable`` / ``disable`` / ``enable?`` (YES|NO),
    ``header OFF``, ``*TRG``. The manual itself was not available: the command set and the
    ranges (amplitude ±7.5 V, duration ≤ 10.2 ns, delay 0–63 ns, offset ±5 V, period 10 µs
    to 1 s, frequency 1 Hz to 100 kHz) come from the drivers in BBN's auspex and
    Qlab (Apache-2.0), which agree with each other; the smallest pulse (75 mV) is
    assumed. Replies are read with or without a header.

    ``offset`` is a DC level on the output: it is limited like the amplitude, the pulse's
    level offset + amplitude within the amplitude's limit too (in every write, raw ones
    included), and ``shutdown()`` also ramps it to 0 V before disabling the output.
    ``fire(n)`` sends ``*TRG`` n times (trigger source GPIB, see :meth:`configure_pulse_mode`).
    """
    SAFE_LIMITS = {"amplitude": (-7.5, 7.5, "V"), "width": (0.0, 10.2e-9, "s"),
                   "offset": (-5.0, 5.0, "V")}
    DEFAULT_SLEW = {"amplitude": SlewLimit(max_step=0.5, max_rate=5.0),
                    "offset": SlewLimit(max_step=0.1, max_rate=1.0)}
    MIN_AMPLITUDE = 0.075
    MAX_COUNT = 1000

    delay = Instrument.control(
        "delay?", "delay %g",
        """Control the delay from trigger to pulse in s (float, 0 to 63 ns).""",
        validator=strict_range, values=(0, 63e-9), preprocess_reply=_last_token)

    period = Instrument.control(
        "period?", "period %g",
        """Control the internal trigger period in s (float, 10 µs to 1 s).""",
        validator=strict_range, values=(10e-6, 1.0), preprocess_reply=_last_token)

    frequency = Instrument.control(
        "frequency?", "frequency %g",
        """Control the internal trigger frequency in Hz (float, 1 Hz to 100 kHz).""",
        validator=strict_range, values=(1.0, 100e3), preprocess_reply=_last_token)

    trigger_source = Instrument.control(
        "trigger?", "trigger %s",
        """Control the trigger source (str: 'INT', 'EXT', 'MAN' or 'GPIB').""",
        validator=strict_discrete_set, values=("INT", "EXT", "MAN", "GPIB"),
        preprocess_reply=_last_token, cast=str)

    header_enabled = Instrument.setting(
        "header %s",
        """Set whether replies carry a header (bool).""",
        validator=strict_discrete_set, values={True: "ON", False: "OFF"}, map_values=True)

    def __init__(self, adapter, name="Picosecond Pulse Labs 10070A pulse generator",
                 **kwargs):
        kwargs.setdefault("includeSCPI", False)
        super().__init__(adapter, name, **kwargs)

    def _query_float(self, command: str) -> float:
        return float(_last_token(self.ask(command).strip()))

    def write(self, command, **kwargs):
        """Write ``command`` if every ``amplitude``/``offset`` setting in it (long or
        4-letter form, ``;``-separated) is a number of volts within that output's limit,
        and the pulse's peak level offset + amplitude stays within the amplitude's limit
        (:meth:`_check_peak`), else raise LimitError before anything is sent (a raw write
        cannot bypass them)."""
        levels = dict(self.__dict__.get("_written_levels", {}))
        for unit in str(command).split(";"):
            words = unit.split()
            head = words[0].lower() if words else ""
            name = next((n for n in ("amplitude", "offset")
                         if len(head) >= 4 and n.startswith(head)), None)
            if name is None:
                continue
            try:
                levels[name] = self.check_limit(name, float(words[1]) if len(words) == 2
                                                else math.nan)
            except (ValueError, LimitError) as exc:
                low, high, unit_ = self.limits_of(name)
                raise LimitError(f"{type(self).__name__}: {command!r} refused: {name} must "
                                 f"be a number within [{low:g}, {high:g}] {unit_} "
                                 f"({exc})") from None
        self._check_peak(levels, f"{command!r}")
        out = super().write(command, **kwargs)
        self.__dict__["_written_levels"] = levels
        return out

    def _check_peak(self, levels: dict, what: str) -> None:
        """Refuse (LimitError) amplitude and offset whose sum, the output's level during a
        pulse, lies beyond the amplitude's limit (the bench's limit bounds the level, not
        each part): unless it moves the peak toward 0 V (a ramp down is never refused)."""
        if not {"amplitude", "offset"} <= set(levels):
            return
        peak = levels["offset"] + levels["amplitude"]
        low, high, unit = self.limits_of("amplitude")
        if low <= peak <= high:
            return
        old = self.__dict__.get("_written_levels", {})
        if {"amplitude", "offset"} <= set(old) and abs(peak) <= abs(old["offset"]
                                                                  + old["amplitude"]):
            return
        raise LimitError(f"{type(self).__name__}: {what} refused: offset {levels['offset']:g}"
                         f" V + amplitude {levels['amplitude']:g} V puts the pulse at "
                         f"{peak:g} V, beyond the amplitude's limit [{low:g}, {high:g}] {unit}")

    @property
    def amplitude(self) -> float:
        """Control the signed pulse amplitude in V into 50 Ω (float, ±7.5 V)."""
        return self._query_float("amplitude?")

    @amplitude.setter
    def amplitude(self, level: float) -> None:
        level = self._check_amplitude(level)
        self.note_setpoint("amplitude", level)
        self._write_level(level)

    def _write_level(self, level: float) -> None:
        self.write("amplitude %g" % level)

    @property
    def width(self) -> float:
        """Control the pulse duration in s (float, up to 10.2 ns)."""
        return self._query_float("duration?")

    @width.setter
    def width(self, width_s: float) -> None:
        self.write("duration %g" % self.check_limit("width", width_s))

    @property
    def offset(self) -> float:
        """Control the baseline offset in V into 50 Ω (float, ±5 V)."""
        return self._query_float("offset?")

    @offset.setter
    def offset(self, offset_V: float) -> None:
        offset_V = self.check_limit("offset", offset_V)
        self.note_setpoint("offset", offset_V)
        self._write_offset(offset_V)

    def _write_offset(self, offset_V: float) -> None:
        self.write("offset %g" % offset_V)

    @property
    def output_enabled(self) -> bool:
        """Control whether the pulse output is enabled (bool); enabled only if amplitude and
        offset are within the limits."""
        return _last_token(self.ask("enable?").strip()).upper() == "YES"

    @output_enabled.setter
    def output_enabled(self, enabled: bool) -> None:
        if enabled:
            levels = {"amplitude": self.check_limit("amplitude", self.amplitude),
                      "offset": self.check_limit("offset", self.offset)}
            self.__dict__.pop("_written_levels", None)     # what the instrument holds
            self._check_peak(levels, "switching the output on")
            self.__dict__["_written_levels"] = levels
        self._write_output(bool(enabled))

    def _write_output(self, enabled: bool) -> None:
        self.write("enable" if enabled else "disable")

    def _ramp_to_safe(self) -> None:
        def offset_to_zero():
            start = self.ramp_start("offset", lambda: self.offset)
            if start != 0.0:
                low, high, _ = self.limits_of("offset")
                self.ramp_output("offset", start, min(max(0.0, low), high), self._write_offset)
        errors = shutdown_all(super()._ramp_to_safe, offset_to_zero)
        if errors:
            raise errors[0]

    def configure_pulse_mode(self) -> None:
        """Disable the output, switch reply headers off and take triggers from GPIB."""
        self._write_output(False)
        self.header_enabled = False
        self.trigger_source = "GPIB"

    def fire(self, count: int = 1) -> None:
        """Emit ``count`` pulses now (``*TRG`` per pulse; trigger source GPIB)."""
        for _ in range(self._check_count(count)):
            self.write("*TRG")
