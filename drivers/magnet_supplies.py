"""Magnet power supplies (role ``magnet_supply``): Kepco BOP (BIT 4886) and Danfysik System 8500.

Both subclass pymeasure's drivers and add the role members (signed ``current_setpoint`` in A,
``output_enabled``, ``max_current``, ``measure_current()``) with the safety contract of
design.md: every setpoint is checked against the limits *before* anything is sent, every
move is a ramp within the slew limit, and ``shutdown()`` ramps to 0 A, then turns the output
off (it is attempted even if the ramp fails, and the ramp's error is then raised).

Magnets are inductive: a current step makes a voltage spike (L·dI/dt) and eddy currents, so
the default slew is :data:`MAGNET_SLEW` (0.5 A per write, 1 A/s). The bench config narrows it
with ``configure_safety(slew={"current": SlewLimit(step, rate)})``.

Pacing: a write of a step ΔI waits only until |ΔI|/max_rate has passed since the previous
write (on ``self.clock``), so a field controller that already paces its own writes more slowly
(``labspin.drivers.electromagnet``) is never slowed down further, while a tight loop of writes
is held to max_rate. ``shutdown()`` and a polarity switch also wait for the last step's time
before turning the output off or measuring the current, so a ramp from I to 0 takes
|I|/max_rate in all.

Because a setpoint write moves the output, ``current_setpoint = x`` ramps from the present
setpoint (read back from the instrument) to ``x``; ``output_enabled = True`` starts from 0 A
(a nonzero setpoint left on a disabled output is zeroed first, never switched onto the magnet);
``output_enabled = False`` is ``shutdown()``.
"""
from __future__ import annotations

import math
import re

from pymeasure.instruments import Instrument
from pymeasure.instruments.danfysik import Danfysik8500 as _PymeasureDanfysik8500
from pymeasure.instruments.kepco import KepcoBOP3612

from labspin.bench.safety import SlewLimit, ramp_points

from .base import SafeSourceMixin

MAGNET_SLEW = SlewLimit(max_step=0.5, max_rate=1.0)
"""Default current slew for magnet supplies: 0.5 A per write, 1 A/s."""


class DanfysikError(RuntimeError):
    """The Danfysik answered with an error message (``?<BEL> text``)."""


class PolaritySwitchError(RuntimeError):
    """The polarity of a relay-switched supply could not be changed safely (the current did
    not decay to zero, or the relay did not switch); nothing was ramped up afterwards."""


def _pop_settings(kwargs: dict, names: tuple[str, ...]) -> dict:
    return {n: kwargs.pop(n) for n in names if n in kwargs}


def _apply_settings(inst, settings: dict) -> None:
    """Set connection attributes (terminations, timeout) that the pymeasure parent class
    hard-codes in its constructor, so a bench config can still override them."""
    connection = getattr(inst.adapter, "connection", None)
    if connection is not None:
        for name, value in settings.items():
            setattr(connection, name, value)


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


class _PacedCurrent(SafeSourceMixin):
    """Current ramps paced against the time of the previous write (see the module notes).

    A wait never exceeds the step's own |ΔI|/max_rate, so a clock swapped by
    ``configure_safety(clock=...)`` cannot make a ramp hang."""
    _last_write_t = -math.inf   # clock time of the last current write (s)
    _last_step_s = 0.0          # |ΔI|/max_rate of that write (s)

    @staticmethod
    def _as_written(current_A: float) -> float:
        """Get the current the supply receives when ``current_A`` is written (its command's
        number format); the identity unless a supply rounds it."""
        return current_A

    def _ramp_current(self, start: float, stop: float, write) -> None:
        """Check ``stop`` against the limits, then write from start (excluded) to stop in
        steps ≤ max_step, each paced to max_rate since the previous write."""
        self.check_limit("current", stop)
        slew = self.slew_of("current")
        prev = start
        for v in ramp_points(start, stop, slew.max_step):
            v = self._as_written(float(v))      # paced and recorded as the supply gets it
            step_s = abs(v - prev) / slew.max_rate
            self.clock.sleep(min(step_s, self._last_write_t + step_s - self.clock.now()))
            # recorded before the write: a write that fails may still have been applied
            self._last_write_t, self._last_step_s = self.clock.now(), step_s
            self.note_setpoint("current", v)
            write(v)
            prev = v

    zero_current_tolerance = 0.05
    """|measured current| (A) below which the coil counts as discharged (shutdown, relay)."""
    zero_current_timeout = 30.0
    """How long (s) to wait at a zero setpoint for the coil's L/R tail to decay."""
    ZERO_POLL_S = 0.5

    def _wait_settled(self) -> None:
        """Wait until the last written step has had its |ΔI|/max_rate."""
        due = self._last_write_t + self._last_step_s
        self.clock.sleep(min(self._last_step_s, due - self.clock.now()))

    def _measured_abs(self) -> float:
        """Measure |current| (A) in the coil."""
        raise NotImplementedError

    def _wait_for_decay(self) -> float | None:
        """After a ramp to 0 A, wait until the measured |current| ≤ zero_current_tolerance
        (the coil's L/R tail, which switching the output off would interrupt); get None, or
        the |current| (A) still flowing after zero_current_timeout."""
        self._wait_settled()
        deadline = self.clock.now() + self.zero_current_timeout
        while True:
            amps = abs(self._measured_abs())
            if amps <= self.zero_current_tolerance:
                return None
            if self.clock.now() >= deadline:
                return amps
            self.clock.sleep(self.ZERO_POLL_S)

    def _ramp_down_and_discharge(self) -> None:
        """Ramp to 0 A within the slew limit, then wait for the coil to discharge; a coil
        still carrying current after the timeout is an error (raised by the caller after it
        switched the output off anyway: a supply left on without control is worse)."""
        self.ramp_to_current(0.0)
        left = self._wait_for_decay()
        if left is not None:
            raise RuntimeError(f"{self.name}: {left:g} A still flow in the coil "
                               f"{self.zero_current_timeout:g} s after ramping to 0 A "
                               f"(tolerance {self.zero_current_tolerance:g} A); output "
                               "switched off anyway")


class KepcoBOP(_PacedCurrent, KepcoBOP3612):
    """Kepco BOP bipolar operational power supply with the BIT 4886 interface, any model
    (BOP 20-20, 36-12, 50-8, …), as a magnet supply in current mode.

    :param max_current: the model's rated current (A); setpoints are limited to ±max_current.
    :param max_voltage: the model's rated voltage (V); limits the (compliance) voltage.
    :param clock: the clock for ramps (virtual in tests and dry runs).

    Commands (pymeasure ``KepcoBOP3612``; Kepco BIT 4886 / BOP-MG operator manuals, appendix B,
    SCPI): ``CURRent <A>``/``CURRent?`` (programmed value, e.g. ``2.71E1``), ``VOLTage``,
    ``OUTPut 0|1``/``OUTPut?``, ``FUNCtion:MODE VOLT|CURR``, ``MEASure:CURRent?``,
    ``MEASure:VOLTage?``, errors in ``SYSTem:ERRor?``. Run the magnet in current mode
    (``operating_mode = "CURR"``), where ``VOLTage`` is the compliance voltage.
    """
    roles = ("magnet_supply",)
    DEFAULT_SLEW = {"current": MAGNET_SLEW}

    def __init__(self, adapter, name="Kepco BOP bipolar power supply", max_current=12.0,
                 max_voltage=36.0, **kwargs):
        i_max = _check_positive("max_current", max_current)
        v_max = _check_positive("max_voltage", max_voltage)
        self.SAFE_LIMITS = {"current": (-i_max, i_max, "A"), "voltage": (-v_max, v_max, "V")}
        settings = _pop_settings(kwargs, ("read_termination", "write_termination"))
        super().__init__(adapter, name=name, **kwargs)
        _apply_settings(self, {k: v for k, v in settings.items() if v != "\n"})

    @property
    def current_setpoint(self) -> float:
        """Control the programmed output current (A, signed); setting it ramps there within
        the slew limit (LimitError before anything is sent if out of range)."""
        return float(self.ask("CURRent?"))

    @current_setpoint.setter
    def current_setpoint(self, current_A: float) -> None:
        self.ramp_to_current(current_A)

    def ramp_to_current(self, current_A: float) -> None:
        """Ramp the current setpoint from its present value to ``current_A`` (A) within the
        slew limit; LimitError before anything is sent if out of range."""
        target = self.check_limit("current", current_A)
        start = self.ramp_start("current", lambda: self.current_setpoint)
        self._ramp_current(start, target, self._write_current)

    @staticmethod
    def _as_written(current_A: float) -> float:
        return float("%g" % current_A)

    def _write_current(self, current_A: float) -> None:
        self.write("CURRent %g" % current_A)

    @property
    def voltage_setpoint(self) -> float:
        """Control the programmed voltage (V): the compliance voltage in current mode
        (checked against ±max_voltage before the write)."""
        return float(self.ask("VOLTage?"))

    @voltage_setpoint.setter
    def voltage_setpoint(self, voltage_V: float) -> None:
        self.write("VOLTage %g" % self.check_limit("voltage", voltage_V))

    compliance_voltage = voltage_setpoint

    @property
    def output_enabled(self) -> bool:
        """Control the output: enabling starts from 0 A (a nonzero setpoint is zeroed first
        while the output is still off); disabling is :meth:`shutdown` (ramp to 0 A, then off)."""
        return bool(KepcoBOP3612.output_enabled.fget(self))

    @output_enabled.setter
    def output_enabled(self, enabled: bool) -> None:
        if not enabled:
            self.shutdown()
            return
        if self.output_enabled:
            return
        if self.current_setpoint != 0.0:
            self._write_current(0.0)
        KepcoBOP3612.output_enabled.fset(self, True)

    @property
    def max_current(self) -> float:
        """Get the largest |current| (A) allowed: the model's or the bench's limit."""
        low, high, _ = self.limits_of("current")
        return max(abs(low), abs(high))

    def measure_current(self) -> float:
        """Measure the output current (A, signed)."""
        return float(self.current)

    def _measured_abs(self) -> float:
        return abs(self.measure_current())

    def measure_voltage(self) -> float:
        """Measure the output voltage (V, signed)."""
        return float(self.voltage)

    @property
    def bop_test(self):
        """Refused on a magnet supply: the full self-test (``DIAG:TST?``) switches the output
        on and swings it to its maximum values."""
        raise NotImplementedError(f"{self.name}: DIAG:TST? swings the output to its maximum; "
                                  "run it from the front panel with the magnet disconnected")

    def shutdown(self) -> None:
        """Ramp the current to 0 A within the slew limit, wait until the measured coil
        current is ≤ zero_current_tolerance (its L/R tail), then turn the output off (also
        when the ramp or the wait fails; the error is raised afterwards)."""
        try:
            self._ramp_down_and_discharge()
        finally:
            KepcoBOP3612.output_enabled.fset(self, False)
            super().shutdown()


class Danfysik8500(_PacedCurrent, _PymeasureDanfysik8500):
    """Danfysik System 8500 magnet supply: unipolar, with a polarity-reversal relay.

    :param max_current: the model's full-scale current (A): ``DA 0,1000000`` (ppm of full
        scale) programs it; pymeasure's default is 160 A. Setpoints are limited to ±max_current.
    :param zero_current_tolerance: |current| (A) below which the relay may switch (0.05 A).
    :param zero_current_timeout: how long (s) to wait for the current to decay before a
        polarity switch is refused with :class:`PolaritySwitchError` (30 s).
    :param clock: the clock for ramps and waits (virtual in tests and dry runs).

    A signed setpoint whose sign differs from the relay's polarity is reached by ramping to
    0 A, waiting until the measured |current| ≤ zero_current_tolerance, switching the relay
    (``PO +``/``PO -``), reading the polarity back, and only then ramping up: the relay is
    never switched with current flowing.

    Commands (pymeasure ``Danfysik8500``; Danfysik System 8500 manual, appendix SW1 standard
    commands): ``DA 0,<ppm>`` current DAC, ``DA 0`` its read-back, ``AD 8`` output current
    ADC (0.01 A per count as in pymeasure), ``PO``/``PO +``/``PO -`` polarity, ``N``/``F`` main
    power on/off, ``S1H`` status (bit 0x800000 set: main power off), ``ERRT`` text errors,
    ``UNLOCK`` (both sent on connecting). An error reply (``?<BEL> text``) raises
    :class:`DanfysikError` on the next read.
    """
    IEEE488 = False                 # its own command set: no *ESE for resync
    roles = ("magnet_supply",)
    DEFAULT_SLEW = {"current": MAGNET_SLEW}
    ADC_AMPS_PER_COUNT = 1e-2
    """``AD 8`` reply → amperes (pymeasure's scaling for the 160 A model)."""
    """Interval (s) between current read-backs while waiting for zero before a switch."""

    def __init__(self, adapter, name="Danfysik System 8500 magnet supply", max_current=160.0,
                 zero_current_tolerance=0.05, zero_current_timeout=30.0, **kwargs):
        self.full_scale_current = _check_positive("max_current", max_current)
        self.zero_current_tolerance = _check_positive("zero_current_tolerance",
                                                      zero_current_tolerance)
        self.zero_current_timeout = _check_positive("zero_current_timeout",
                                                    zero_current_timeout)
        i_max = self.full_scale_current
        self.SAFE_LIMITS = {"current": (-i_max, i_max, "A")}
        settings = _pop_settings(kwargs, ("read_termination", "write_termination", "timeout"))
        super().__init__(adapter, name=name, **kwargs)
        _apply_settings(self, {k: v for k, v in settings.items()
                               if not (k.endswith("termination") and v == "\r")})

    def read(self) -> str:
        """Read a reply; raise DanfysikError if it is an error message (``?<BEL> text``)."""
        reply = str(Instrument.read(self))
        error = re.search(r"^\?\x07\s*(?P<text>.*)$", reply, re.MULTILINE)
        if error:
            raise DanfysikError(f"{self.name} raised the error: {error.group('text').strip()}")
        return reply

    def _ask_str(self, command: str) -> str:
        return self.ask(command).strip()

    # --- polarity -------------------------------------------------------------------------
    @property
    def polarity(self) -> int:
        """Control the polarity relay, +1 or -1; switching needs a zero setpoint and a measured
        |current| ≤ zero_current_tolerance (PolaritySwitchError otherwise)."""
        return 1 if self._ask_str("PO") == "+" else -1

    @polarity.setter
    def polarity(self, value: int) -> None:
        want = 1 if value > 0 else -1
        if want == self.polarity:
            return
        if self._setpoint_ppm() != 0:
            raise PolaritySwitchError(f"{self.name}: ramp the current to 0 A before switching "
                                      "the polarity (the setpoint is not zero)")
        self._switch_polarity(want)

    def _switch_polarity(self, want: int) -> None:
        self._wait_for_zero_current()
        self.write("PO +" if want > 0 else "PO -")
        if self.polarity != want:
            raise PolaritySwitchError(f"{self.name}: the polarity relay did not switch to "
                                      f"{'+' if want > 0 else '-'}")

    def _wait_for_zero_current(self) -> None:
        left = self._wait_for_decay()
        if left is not None:
            raise PolaritySwitchError(
                f"{self.name}: the current is still {left:g} A after "
                f"{self.zero_current_timeout:g} s at a zero setpoint (tolerance "
                f"{self.zero_current_tolerance:g} A); polarity not switched")

    # --- current --------------------------------------------------------------------------
    def _setpoint_ppm(self) -> int:
        numbers = re.findall(r"\d+", self._ask_str("DA 0"))
        if not numbers:
            raise ValueError(f"{self.name}: cannot read the current setpoint")
        return int(numbers[-1])

    def _measured_magnitude(self) -> float:
        return float(self._ask_str("AD 8")) * self.ADC_AMPS_PER_COUNT

    _measured_abs = _measured_magnitude

    def _write_magnitude(self, current_A: float) -> None:
        ppm = int(round(abs(current_A) / self.full_scale_current * 1e6))
        self.write("DA 0,%d" % min(ppm, 1_000_000))

    @property
    def current_setpoint(self) -> float:
        """Control the current setpoint (A, signed: the DAC value times the polarity); setting
        it ramps there, switching the polarity safely through 0 A when the sign changes."""
        return self._setpoint_ppm() * self.full_scale_current / 1e6 * self.polarity

    @current_setpoint.setter
    def current_setpoint(self, current_A: float) -> None:
        self.ramp_to_current(current_A)

    def ramp_to_current(self, current_A: float) -> None:
        """Ramp to ``current_A`` (A, signed) within the slew limit; through 0 A and a safe
        polarity switch when the sign changes. LimitError before anything is sent."""
        target = self.check_limit("current", current_A)
        read = {}

        def signed_setpoint() -> float:
            magnitude = self._setpoint_ppm() * self.full_scale_current / 1e6
            read["polarity"] = self.polarity
            return magnitude * read["polarity"]
        start = self.ramp_start("current", signed_setpoint)
        if "polarity" in read:
            polarity = read["polarity"]
        elif target == 0.0:             # unanswered readback: ramping the magnitude down is
            polarity = 1 if start >= 0 else -1      # the same on either relay position
        else:
            polarity = self.polarity
        want = polarity if target == 0.0 else (1 if target > 0 else -1)
        if want == polarity:
            self._ramp_current(start, target, self._write_magnitude)
            return
        self._ramp_current(start, 0.0, self._write_magnitude)
        self._switch_polarity(want)
        self._ramp_current(0.0, target, self._write_magnitude)

    def measure_current(self) -> float:
        """Measure the output current (A, signed: ``AD 8`` times the polarity)."""
        return self._measured_magnitude() * self.polarity

    @property
    def current(self) -> float:
        """Control the current (A, signed): reading measures it (:meth:`measure_current`),
        setting ramps the setpoint (:meth:`ramp_to_current`)."""
        return self.measure_current()

    @current.setter
    def current(self, current_A: float) -> None:
        self.ramp_to_current(current_A)

    @property
    def current_ppm(self) -> int:
        """Get the current DAC setting in ppm of full scale (read-only here: set currents with
        ``current_setpoint``, which checks limits and ramps)."""
        return self._setpoint_ppm()

    def _unchecked(self, *args, **kwargs):
        raise NotImplementedError(
            f"{self.name}: the supply's own ramps and sequences would bypass labspin's limits "
            "and slew limits; use current_setpoint / ramp_to_current")

    add_ramp_step = set_ramp_to_current = start_ramp = _unchecked
    set_sequence = sync_sequence = start_sequence = _unchecked

    @property
    def output_enabled(self) -> bool:
        """Control the main power (``N``/``F``; read from ``S1H``): enabling starts from 0 A;
        disabling is :meth:`shutdown` (ramp to 0 A, then ``F``)."""
        match = re.search(r"[0-9A-F]{6}", self._ask_str("S1H").upper())
        if match is None:
            raise ValueError(f"{self.name}: unreadable status reply to S1H")
        return int(match.group(0), 16) & 0x800000 == 0

    @output_enabled.setter
    def output_enabled(self, enabled: bool) -> None:
        if not enabled:
            self.shutdown()
            return
        if self.output_enabled:
            return
        if self._setpoint_ppm() != 0:
            self._write_magnitude(0.0)
        self.enable()

    @property
    def max_current(self) -> float:
        """Get the largest |current| (A) allowed: the model's or the bench's limit."""
        low, high, _ = self.limits_of("current")
        return max(abs(low), abs(high))

    def shutdown(self) -> None:
        """Ramp the current to 0 A within the slew limit, wait until the measured coil
        current is ≤ zero_current_tolerance, then switch the main power off (``F``, also
        when the ramp or the wait fails; the error is raised afterwards)."""
        try:
            self._ramp_down_and_discharge()
        finally:
            self.disable()
            super().shutdown()
