"""What every labspin driver adds to pymeasure's Instrument: a clock and, for sources, limits
and slew limits checked and applied the same way everywhere.

Usage in a driver::

    class Keithley2400(SafeSourceMixin, pymeasure.instruments.keithley.Keithley2400):
        roles = ("source_meter",)
        SAFE_LIMITS = {"current": (-1.05, 1.05, "A"), "voltage": (-210, 210, "V")}
        DEFAULT_SLEW = {"current": SlewLimit(1e-4, 1e-3), "voltage": SlewLimit(0.1, 1.0)}

and in each setter: ``value = self.check_limit("current", value)`` before the write, and
``self.ramp_output("current", start, stop, write)`` to move an output. The bench config
narrows the limits with :meth:`configure_safety` (never widens them beyond the model's).
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable

from labspin.bench.clock import REAL_CLOCK, Clock
from labspin.bench.safety import LimitError, SlewLimit, check_limit, ramp

log = logging.getLogger(__name__)

READBACK_REL_TOL = 1e-4
"""Relative disagreement between setpoint readback and last write that is reported (a
readback printed with 5–6 significant digits agrees far better)."""


class OutputNotFollowingError(RuntimeError):
    """A source's measured output does not follow its setpoint (a stuck output)."""


class SafeSourceMixin:
    """Limits, slew limits and a clock for a sourcing driver (mix in before the Instrument)."""
    roles: tuple[str, ...] = ()
    SAFE_LIMITS: dict[str, tuple[float, float, str]] = {}
    """Per output: (low, high, unit), the model's own range."""
    DEFAULT_SLEW: dict[str, SlewLimit] = {}
    """Per output: the slew limit used when the bench config gives none."""

    def __init__(self, *args, clock: Clock | None = None, **kwargs):
        self.clock = clock or REAL_CLOCK
        self._limits = dict(self.SAFE_LIMITS)
        self._slew = dict(self.DEFAULT_SLEW)
        super().__init__(*args, **kwargs)

    def configure_safety(self, limits: dict[str, tuple[float, float]] | None = None,
                         slew: dict[str, SlewLimit] | None = None,
                         clock: Clock | None = None,
                         origins: dict[str, str] | None = None) -> None:
        """Set narrower limits (low, high) and slew limits per output, and the clock;
        ``origins``: per output, where its limit comes from (named when a value is refused).

        Limits are only ever tightened: raises LimitError if one lies outside the limits in
        force (the model's own range, or the narrower ones the bench config set), before
        anything changes.
        """
        for name, (low, high) in (limits or {}).items():
            if name not in self.SAFE_LIMITS:
                raise LimitError(f"{type(self).__name__} has no output {name!r}; "
                                 f"outputs: {sorted(self.SAFE_LIMITS)}")
            flow, fhigh, unit = self._limits[name]
            if low < flow or high > fhigh or low > high:
                mlow, mhigh, _ = self.SAFE_LIMITS[name]
                beyond_model = low < mlow or high > mhigh
                whose = "model's" if beyond_model else "limits in force"
                a, b = (mlow, mhigh) if beyond_model else (flow, fhigh)
                raise LimitError(f"{type(self).__name__} {name} limits [{low:g}, {high:g}] "
                                 f"{unit} must lie within the {whose} [{a:g}, {b:g}] {unit}: "
                                 "limits are only ever narrowed")
        for name, (low, high) in (limits or {}).items():
            self._limits[name] = (float(low), float(high), self._limits[name][2])
            origin = (origins or {}).get(name)
            if origin:
                self.__dict__.setdefault("_limit_origins", {})[name] = origin
        for name, s in (slew or {}).items():
            if name not in self.SAFE_LIMITS:
                raise LimitError(f"{type(self).__name__} has no output {name!r}; "
                                 f"outputs: {sorted(self.SAFE_LIMITS)}")
            self._slew[name] = s
        if clock is not None:
            self.clock = clock

    def note_setpoint(self, name: str, value: float) -> None:
        """Record ``value`` as the setpoint last written to output ``name`` (call it just
        before the write: a write that fails may still have been applied)."""
        self.__dict__.setdefault("_setpoints", {})[name] = float(value)
        listener = self.__dict__.get("setpoint_listener")
        if listener is not None:            # the run's journal of live sources (issue 13)
            listener()

    def last_setpoint(self, name: str) -> float | None:
        """Get the setpoint last written to output ``name`` by this driver, or None."""
        return self.__dict__.get("_setpoints", {}).get(name)

    IEEE488 = True
    """Whether the instrument answers IEEE 488.2 common commands (*ESE), used by resync."""
    READBACK_RESOLUTION: dict[str, float] = {}
    """Per output: the step (its unit) in which the instrument stores and reports a setpoint
    (the SR830's 2 mV sine amplitude, an RF source's 0.01 dB), so that a readback within
    it agrees with the last write."""

    # ---- sessions kept in step (issue 13 item 2) ---------------------------------------

    def write(self, command, **kwargs):
        """Write ``command``; a query after a failed exchange first brings the session back
        in step (:meth:`resync`), so no reply is ever read one behind (commands without a
        reply go at once: a shutdown's writes are not held up by a silent instrument)."""
        if self.__dict__.get("_out_of_step") and not self.__dict__.get("_resyncing") \
                and "?" in str(command):
            self.resync()
        try:
            return super().write(command, **kwargs)
        except Exception:
            self.mark_out_of_step()
            if "?" not in str(command):         # the first failed setting, for the report
                self.__dict__.setdefault("_write_failure", str(command))
            raise

    def read(self, **kwargs):
        """Read a reply; a failed read (timeout, dropped connection) leaves the session out
        of step until the next query resynchronises it."""
        try:
            reply = super().read(**kwargs)
        except Exception:
            self.mark_out_of_step()
            raise
        self.__dict__["_unanswered"] = False
        return reply

    @property
    def silent(self) -> bool:
        """Whether the last resync found the instrument not answering (until it answers)."""
        return bool(self.__dict__.get("_unanswered"))

    def mark_out_of_step(self) -> None:
        """Note a failed or garbled exchange: the next query resynchronises first (unless
        the last resync found the instrument silent: then not until it answers again)."""
        if not self.__dict__.get("_unanswered"):
            self.__dict__["_out_of_step"] = True

    def resync(self, attempts: int = 8) -> bool:
        """Bring the session back in step before its replies are trusted again (before a
        shutdown, after an interrupted exchange): discard input pending at the adapter,
        then write ``*ESE n;*ESE?`` with an n new to this session (2–254) and read until n comes
        back, discarding replies left by an interrupted query; then ``*ESE 0``. Get whether
        the session is in step; a failure is logged, never raised (the ramps that follow
        start from the last written setpoints, whatever the replies)."""
        self.__dict__["_out_of_step"] = False
        self.__dict__["_resyncing"] = True
        try:
            self.adapter.flush_read_buffer()
            if not self.IEEE488:
                return True
            count = self.__dict__["_resyncs"] = self.__dict__.get("_resyncs", 0) + 1
            token = 2 + (count - 1) % 253   # 2–254: not a boolean reply's 0 or 1
            self.write(f"*ESE {token};*ESE?")
            for _ in range(attempts):
                reply = self.read().strip()
                if reply.lstrip("+") == str(token):   # NR1, exactly: a stale 2.0E0 is not it
                    self.write("*ESE 0")
                    return True
                log.warning("%s: discarded the stale reply %r", type(self).__name__, reply)
        except Exception as exc:  # noqa: BLE001 — a dead session: reported, ramps go blind
            log.warning("%s: could not resynchronise the session (%s: %s)",
                        type(self).__name__, type(exc).__name__, exc)
            self.__dict__.update(_out_of_step=False, _unanswered=True)
            return False
        finally:
            self.__dict__["_resyncing"] = False
        log.warning("%s: no known answer in %d replies; session out of step",
                    type(self).__name__, attempts)
        return False

    def ramp_start(self, name: str, read_back: Callable[[], float]) -> float:
        """Get where a ramp of output ``name`` starts: the setpoint this driver last wrote.

        ``read_back()`` (the instrument's setpoint query) is still asked: a reply that
        disagrees (beyond READBACK_REL_TOL, or 1e-6 of the range) or none at all is logged
        and the last written setpoint is used, so a stale, one-behind or missing reply
        never makes a ramp jump. Only before this driver's first write is the readback the
        start (then a failing query raises: nothing is known).
        """
        last = self.last_setpoint(name)
        low, high, unit = self._limits[name]
        try:
            present = float(read_back())
        except Exception as exc:  # noqa: BLE001 — any failed exchange: ramp from what we wrote
            self.mark_out_of_step()          # a garbled reply: the next query resyncs first
            if last is None:
                raise
            self.__dict__.setdefault("_blind", {})[name] = last
            log.warning("%s %s: setpoint readback failed (%s: %s); ramping blind from the "
                        "last written %g %s", type(self).__name__, name, type(exc).__name__,
                        exc, last, unit)
            return last
        if last is None:
            return present
        resolution = self.READBACK_RESOLUTION.get(name, 0.0)
        if not math.isclose(present, last, rel_tol=READBACK_REL_TOL,
                            abs_tol=max(1e-6 * max(abs(low), abs(high)), resolution)):
            log.warning("%s %s: setpoint reads back %g %s, not the %g %s last written; "
                        "ramping from %g %s", type(self).__name__, name, present, unit, last,
                        unit, last, unit)
        return last

    def shutdown_report(self, exc: BaseException) -> str:
        """Get what is known after ``shutdown()`` raised ``exc``: which outputs were ramped
        blind (the instrument did not answer) from which setpoint, and whether the output may
        still be on (a write failed: the connection is gone) or its state is unknown."""
        cause = f"{type(exc).__name__}: {exc}"
        blind = self.__dict__.get("_blind", {})
        failed = self.__dict__.get("_write_failure")
        if not blind and failed is None:
            return f"shutdown failed: {cause}"
        verb = "ramping" if failed is not None else "ramped"
        known = ["did not answer" if blind else "stopped taking commands"]
        known += [f"{verb} blind from {v:g} {self._limits[n][2]} to "
                  f"{self.safe_level(n):g} {self._limits[n][2]}" for n, v in blind.items()]
        if failed is None:
            known.append("output state unknown")
            return "; ".join(known) + f" ({cause})"
        last = ", ".join(f"{n} {v:g} {self._limits[n][2]}"
                         for n, v in self.__dict__.get("_setpoints", {}).items()
                         if n in self._limits)
        return ("; ".join(known) + f", the write {failed!r} failed: the output may still be "
                "on" + (f" (last written {last})" if last else "") + f" ({cause})")

    def check_follows(self, name: str, measured: float, tolerance: float) -> None:
        """Raise OutputNotFollowingError if the ``measured`` value of output ``name`` differs
        from the setpoint last written by more than ``tolerance`` (its unit): a stuck output
        (a relay, a fuse, a hung DAC) would otherwise give a run of wrong data."""
        last = self.last_setpoint(name)
        if last is None or abs(float(measured) - last) <= tolerance:
            return
        unit = self._limits[name][2]
        raise OutputNotFollowingError(
            f"{getattr(self, 'name', type(self).__name__)} {name}: measured {measured:g} "
            f"{unit} with {last:g} {unit} set (tolerance {tolerance:g} {unit}): the output "
            "does not follow its setpoint (stuck output?)")

    def ramp_from_last(self, name: str, target: float, read_back: Callable[[], float],
                       write: Callable[[float], None]) -> None:
        """Check ``target`` against the limits of output ``name`` (LimitError before anything
        is sent), then ramp there with write(v) within the slew limit, from
        :meth:`ramp_start` (the setpoint last written; ``read_back()`` only before the first
        write)."""
        target = self.check_limit(name, target)
        start = self.ramp_start(name, read_back)
        self.ramp_output(name, start, target, write)

    def safe_level(self, name: str) -> float:
        """Get the safe value of output ``name``: 0, or the limit nearest 0 if 0 lies
        outside them (an RF source's lowest power, in dBm)."""
        low, high, _ = self._limits[name]
        return min(max(0.0, low), high)

    def ramp_down_plan(self) -> list[tuple[str, float, float, str, float]]:
        """Get, per output left away from its safe value by this driver's last writes:
        (output, last setpoint, safe value, unit, seconds the ramp to it takes at the slew
        limit: |Δ|/max_rate, or 0 where the rate is unlimited)."""
        plan = []
        for name, value in self.__dict__.get("_setpoints", {}).items():
            if name not in self._slew:
                continue
            safe, rate = self.safe_level(name), self._slew[name].max_rate
            if value != safe:
                seconds = abs(value - safe) / rate if math.isfinite(rate) else 0.0
                plan.append((name, value, safe, self._limits[name][2], seconds))
        return plan

    def limits_of(self, name: str) -> tuple[float, float, str]:
        """Get the (low, high, unit) in force for output ``name``."""
        return self._limits[name]

    def slew_of(self, name: str) -> SlewLimit:
        """Get the slew limit in force for output ``name``."""
        return self._slew[name]

    def check_limit(self, name: str, value: float) -> float:
        """Get value if within the limits of output ``name``; else raise LimitError."""
        low, high, unit = self._limits[name]
        try:
            return check_limit(f"{type(self).__name__} {name}", value, low, high, unit)
        except LimitError as exc:
            origin = self.__dict__.get("_limit_origins", {}).get(name)
            if origin is None:
                raise
            raise LimitError(f"{exc} ({origin})") from None

    def ramp_output(self, name: str, start: float, stop: float, write) -> None:
        """Check ``stop`` against the limits, then ramp from start to stop with write(v)."""
        self.check_limit(name, stop)
        self.paced_ramp(name, start, stop, write)

    def note_step(self, name: str, value: float) -> None:
        """Record that output ``name`` has just changed to ``value`` by other means than a
        paced write (an output switched on at that level): the next paced write of it waits
        its |Δ|/max_rate from now."""
        self.__dict__.setdefault("_last_writes", {})[name] = (self.clock.now(), float(value))

    def paced_ramp(self, name: str, start: float, stop: float, write) -> None:
        """Ramp output ``name`` from start to stop with write(v) within its slew limit (no
        limit check: for ramps toward the safe state). Each write also waits until the step
        from the previous write of this output has had its |Δ|/max_rate, so a ramp cut short
        (an abort, Ctrl-C, a fault) followed at once by another — the shutdown's — never
        moves the output faster than max_rate."""
        slew = self._slew[name]
        last = self.__dict__.setdefault("_last_writes", {})

        def paced(v: float) -> None:
            if name in last and math.isfinite(slew.max_rate):
                t_prev, v_prev = last[name]
                wait = t_prev + abs(v - v_prev) / slew.max_rate - self.clock.now()
                if wait > 0:
                    self.clock.sleep(wait)
            last[name] = (self.clock.now(), v)      # before the write: it may apply, then fail
            self.note_setpoint(name, v)
            write(v)
        ramp(paced, start, stop, slew, self.clock)
