"""A slew auditor for the simulated bench (issue 13 item 9).

Every simulated source declares which of its outputs are sourced levels (its hook
:meth:`~labspin.sim_backend.scpi.SimInstrument.audited_levels`) and which outputs switch it
on and off (``audited_switches``: ``AUDIT_SWITCH``, or one per channel). :class:`SlewAuditor`
listens to each twin's output changes (``output_listeners``, in the twin's clock time) and
records every setpoint change per source;
a violation is

* ``step``: a level moved by more than its slew limit's ``max_step`` in one write;
* ``rate``: a level moved faster than ``max_rate`` since its previous change;
* ``off_not_safe``: the output was switched off while a level was not at its safe value;
* ``on_not_safe``: the output was switched on with a level further from its safe value than
  ``max_step`` (what the device sees is a step from the safe level);
* ``after_end``: any output changed after the run ended (:meth:`SlewAuditor.end`).

A level of a source whose outputs are all switched off drives nothing: its changes are
recorded, and judged when the output goes on (``on_not_safe``). The limits are those the run's
drivers hold (``slew_of``, ``safe_level``), so the auditor
checks the bench exactly as configured. A level may differ from the written value by the
instrument's setting resolution (``READBACK_RESOLUTION``, or 1 ppm of its range).

A served bench (:func:`~labspin.sim_backend.wirings.follow_wall_clock`) stamps a write with
the wall time at which its server thread handles it, not the time the client sent it: a write
handled late by scheduling shortens the next interval although the client paced both. The
rate check allows ``timing_s`` of such lateness (0 on the in-process bench, whose virtual
clock is exact); a step beyond ``max_step`` is a violation whatever the timing. A served
bench's virtual clock also runs ahead of wall time while a twin simulates a measurement's
duration that its reply does not wait for, so there changes are timed by ``clock`` (e.g.
``time.monotonic``: when the write was handled) instead of the twin's clock.
"""
from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Callable

KINDS = ("step", "rate", "off_not_safe", "on_not_safe", "after_end")


@dataclass(frozen=True)
class Change:
    """One applied change of an output: clock time (s), twin, output, old and new value."""
    time_s: float
    twin: str
    output: str
    old: object
    new: object


@dataclass(frozen=True)
class Violation:
    """A change that broke the safety contract: its kind (one of KINDS) and what happened."""
    kind: str
    change: Change
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.change.twin}.{self.change.output} {self.detail}"


@dataclass
class _Level:
    """An audited level: the driver output it is, its conversion factor (twin value ×
    factor = driver units), slew limit, safe value and allowance."""
    driver_output: str
    factor: float
    max_step: float
    max_rate: float
    safe: float
    quantum: float


class SlewAuditor:
    """Records every output change of the simulated sources of an opened bench and the
    violations among them (see the module notes).

    ``watch(bench)`` starts auditing the twins of an opened :class:`labspin.bench.session.
    Bench` with the slew limits and safe levels its drivers hold; ``end()`` marks the end of
    the run. ``changes`` and ``violations`` are lists of :class:`Change` and
    :class:`Violation`. ``timing_s``: the lateness (s) the rate check allows a write's time
    stamp; ``clock``: what times the changes (s; default each twin's clock). See the module
    notes.
    """

    def __init__(self, timing_s: float = 0.0, clock: Callable[[], float] | None = None):
        self.timing_s = float(timing_s)
        self._clock = clock
        self.changes: list[Change] = []
        self.violations: list[Violation] = []
        self._levels: dict[tuple[str, str], _Level] = {}
        self._last: dict[tuple[str, str], tuple[float, float]] = {}
        self._twins: dict[str, object] = {}
        self._ended = False
        self._lock = threading.Lock()

    def watch(self, bench, twins: dict | None = None) -> SlewAuditor:
        """Audit every simulated source of ``bench`` (opened) with the limits its drivers
        hold; get self. ``twins``: the twins by the instrument names of the bench config
        (default ``bench.virtual.instruments``; for a bench served over sockets, the served
        twins: the auditor keeps listening after that bench is closed)."""
        twins = bench.virtual.instruments if twins is None else twins
        for name, twin in twins.items():
            driver = bench.instruments.get(name)
            if driver is None or not hasattr(driver, "slew_of"):
                continue
            self._twins[name] = twin
            for output, (driver_output, factor) in twin.audited_levels().items():
                if driver_output not in driver.SAFE_LIMITS:
                    continue
                low, high, _ = driver.limits_of(driver_output)
                slew = driver.slew_of(driver_output) if driver_output in driver._slew else None
                resolution = getattr(driver, "READBACK_RESOLUTION", {}).get(driver_output, 0.0)
                self._levels[name, output] = _Level(
                    driver_output, factor, slew.max_step if slew else math.inf,
                    slew.max_rate if slew else math.inf, driver.safe_level(driver_output),
                    max(resolution, 1e-6 * max(abs(low), abs(high))))
                self._last[name, output] = (-math.inf, float(twin.output(output)) * factor)
            twin.output_listeners.append(
                lambda t, output, value, _name=name: self._record(_name, t, output, value))
        return self

    def end(self) -> None:
        """Mark the end of the run: from now on any output change is a violation."""
        with self._lock:
            self._ended = True

    @property
    def watched(self) -> list[str]:
        """Get the names of the twins audited (the simulated sources)."""
        return list(self._twins)

    def live(self) -> list[str]:
        """Get what is left live on the audited twins now, read from the twins themselves:
        each output switch still on and each level away from its safe value (by more than
        its allowance), as "twin.output = value (safe: s)"; [] when every source is safe."""
        out = [f"{name}.{switch} on" for name, twin in self._twins.items()
               for switch in twin.audited_switches() if twin.output_named(switch)]
        for (name, output), level in self._levels.items():
            value = float(self._twins[name].output(output)) * level.factor
            if abs(value - level.safe) > level.quantum:
                out.append(f"{name}.{output} = {value:g} (safe: {level.safe:g})")
        return out

    def by_kind(self, kind: str) -> list[Violation]:
        """Get the violations of one kind."""
        return [v for v in self.violations if v.kind == kind]

    def _record(self, name: str, t: float, output: str, value) -> None:
        with self._lock:
            if self._clock is not None:
                t = self._clock()
            key = (name, output)
            level = self._levels.get(key)
            old = self._last[key][1] if level else None
            change = Change(t, name, output, old, value)
            self.changes.append(change)
            if self._ended:
                self._flag("after_end", change, f"changed to {value!r} after the run ended")
            twin = self._twins[name]
            if level is not None:
                new = float(value) * level.factor
                if self._driving(twin):
                    self._check_level(key, level, change, new)
                else:                   # nothing reaches the device: judged at switch-on
                    self._last[key] = (t, new)
            if output in twin.audited_switches():
                (self._check_on if value else self._check_off)(name, change)

    @staticmethod
    def _driving(twin) -> bool:
        """Whether a source applies its levels: no switch, or one of them on."""
        switches = twin.audited_switches()
        return not switches or any(twin.output_named(s) for s in switches)

    def _check_on(self, name: str, change: Change) -> None:
        for (twin, output), level in self._levels.items():
            if twin != name:
                continue
            value = self._last[twin, output][1]
            if abs(value - level.safe) > level.max_step * (1 + 1e-9) + level.quantum:
                self._flag("on_not_safe", change, f"switched on with {level.driver_output} "
                           f"at {value:g} (safe: {level.safe:g}, max step "
                           f"{level.max_step:g})")
            if abs(value - level.safe) > level.quantum:     # a step from safe, at switch-on
                self._last[twin, output] = (change.time_s, value)

    def _check_level(self, key, level: _Level, change: Change, new: float) -> None:
        t_prev, prev = self._last[key]
        self._last[key] = (change.time_s, new)
        step = abs(new - prev)
        if step > level.max_step * (1 + 1e-9) + level.quantum:
            self._flag("step", change, f"stepped {prev:g} → {new:g} (max step "
                       f"{level.max_step:g})")
        if step > level.quantum and math.isfinite(level.max_rate):
            dt = change.time_s - t_prev
            if step > level.max_rate * (dt + self.timing_s) * (1 + 1e-6) + level.quantum:
                self._flag("rate", change, f"moved {prev:g} → {new:g} in {dt:g} s (max rate "
                           f"{level.max_rate:g}/s)")

    def _check_off(self, name: str, change: Change) -> None:
        for (twin, _), level in self._levels.items():
            if twin != name:
                continue
            value = self._last[twin, _][1]
            if abs(value - level.safe) > level.quantum:
                self._flag("off_not_safe", change, f"switched off with {level.driver_output} "
                           f"at {value:g} (safe: {level.safe:g})")

    def _flag(self, kind: str, change: Change, detail: str) -> None:
        self.violations.append(Violation(kind, change, detail))
