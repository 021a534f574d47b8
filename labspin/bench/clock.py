"""Clocks: every wait in labspin (ramps, settling, lock-in time constants) goes through one.

On a real bench :class:`RealClock` sleeps. On the simulated bench a :class:`VirtualClock`
advances virtual time instantly and tells its listeners (the virtual sample, the magnet),
so a dry run never sleeps through a magnet ramp (design.md, "Conventions").
"""
from __future__ import annotations

import time
from typing import Callable, Protocol


class Clock(Protocol):
    """What drivers and procedures need of a clock: the time (s) and a way to wait."""

    def now(self) -> float:
        """Get the current time (s), monotonic."""

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (s)."""


class RealClock:
    """Wall-clock time: time.monotonic and time.sleep."""

    def now(self) -> float:
        """Get time.monotonic() (s)."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` (s); negative values do nothing."""
        if seconds > 0:
            time.sleep(seconds)


class VirtualClock:
    """Virtual time that advances only when something waits on it.

    Listeners registered with :meth:`on_advance` are called as f(t_old, t_new) after each
    advance, e.g. to integrate the virtual sample over the elapsed interval.
    """

    def __init__(self, start: float = 0.0):
        self._t = float(start)
        self._listeners: list[Callable[[float, float], None]] = []

    def now(self) -> float:
        """Get the virtual time (s)."""
        return self._t

    def sleep(self, seconds: float) -> None:
        """Advance the virtual time by ``seconds`` (s) and notify listeners."""
        if seconds <= 0:
            return
        old, self._t = self._t, self._t + float(seconds)
        for listener in list(self._listeners):
            listener(old, self._t)

    def on_advance(self, listener: Callable[[float, float], None]) -> None:
        """Register listener(t_old, t_new), called after every advance."""
        self._listeners.append(listener)


REAL_CLOCK = RealClock()
"""The shared wall clock, the default wherever no clock is given."""
