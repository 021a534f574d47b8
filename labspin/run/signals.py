"""Stop signals take a run's abort path (design.md, "Safety contract").

SIGINT (Ctrl-C; re-enabled when the process inherited it ignored, as a script's background
job does), SIGTERM (kill, systemd, a batch scheduler) and SIGHUP (a closed terminal or SSH
session) all abort the run in progress: the first one sets the run's abort event and, in the
thread that runs it (the main thread: the CLI, the API, sequences), raises :class:`StopSignal`
— a KeyboardInterrupt, so every ``except KeyboardInterrupt`` path already handles it. From
then on, and during the whole ramp-down (:meth:`StopGuard.shield`), further signals are only
acknowledged on the terminal: they never cut the ramp short. A run in another thread (the
GUI's worker) registers its abort event; a signal then sets it (the handlers themselves are
installed from the main thread with :func:`install`).

Usage (the runner's hook)::

    guard = StopGuard(abort)
    try:
        guard.enter()
        ...                          # the run; StopSignal may be raised here, once
    finally:
        try:
            guard.shield(lines)      # the ramp-down: signals are noted, never raised
        except StopSignal:           # one that came just as the run ended
            guard.shield(lines)
        ...                          # shutdown, status line
        guard.leave()
"""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Callable, Iterator

STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP")
                     if hasattr(signal, n))
"""The signals that abort a run (SIGHUP does not exist on Windows)."""


class StopSignal(KeyboardInterrupt):
    """A stop signal arrived while a run was in progress (raised once per run)."""

    def __init__(self, signum: int):
        self.signum = signum
        self.name = signal_name(signum)
        super().__init__(f"stopped by {self.name}")


def signal_name(signum: int) -> str:
    """Get a signal's name ('SIGTERM'), or its number as text."""
    try:
        return signal.Signals(signum).name
    except ValueError:
        return str(signum)


def _tell(text: str) -> None:
    try:
        print(f"labspin: {text}", file=sys.stderr, flush=True)
    except Exception:  # noqa: BLE001 — a closed terminal (SIGHUP) must not stop a ramp-down
        pass


class StopGuard:
    """One run's view of the stop signals: its abort event, whether it may still be
    interrupted, and the signals received (names, in order)."""

    def __init__(self, abort: threading.Event, tell: Callable[[str], None] = _tell):
        self.abort = abort
        self.tell = tell
        self.thread = threading.current_thread()
        self.received: list[str] = []
        self._interruptible = True
        self._holding = False
        self._ramp_lines: list[str] = []

    @property
    def signal(self) -> str | None:
        """Get the name of the first stop signal received, or None."""
        return self.received[0] if self.received else None

    def shield(self, lines: list[str] | None = None) -> None:
        """Enter the ramp-down: from now on signals are noted, never raised. ``lines``
        (what is ramped and how long it takes) are printed once if a signal stopped the run
        and are repeated to any signal that arrives during the ramp."""
        self._interruptible = False
        self._ramp_lines = list(lines or [])
        if self.received:
            for line in self._ramp_lines:
                self.tell(line)

    def hold(self) -> None:
        """Before the run starts (its bench lock and file being made): signals are noted
        (abort set), never raised, so that the run then ends ABORTED at once with its file's
        status and its lock released, instead of the process dying between them."""
        self._interruptible, self._holding = False, True

    def arm(self) -> None:
        """The run starts: from now on a first signal raises (see :meth:`hold`)."""
        self._holding = False
        self._interruptible = not self.received

    def enter(self) -> None:
        """Register the run for the stop signals, installing the handlers if this is the
        main thread and nobody did (they are removed again by :meth:`leave`)."""
        self._ours = not installed() and install()
        with _lock:
            _guards.append(self)

    def leave(self) -> None:
        """Unregister the run (nothing if it never entered)."""
        with _lock:
            if self in _guards:
                _guards.remove(self)
        if getattr(self, "_ours", False):
            self._ours = False
            uninstall()

    def _on_signal(self, signum: int, in_own_thread: bool) -> None:
        name = signal_name(signum)
        self.received.append(name)
        self.abort.set()
        if self._holding:
            if len(self.received) == 1:
                self.tell(f"{name} received: aborting the run before it starts (no source is "
                          "switched on; the file gets its status)")
            return
        if self._interruptible:
            self._interruptible = False
            self.tell(f"{name} received: aborting the run; sources ramp to their safe state "
                      "(further signals do not interrupt the ramp-down)")
            if in_own_thread:
                raise StopSignal(signum)
            return
        self.tell(f"{name} received during the ramp-down: it goes on"
                  + ("" if not self._ramp_lines else ": " + "; ".join(self._ramp_lines)))


_guards: list[StopGuard] = []
_previous: dict[int, object] = {}
_lock = threading.Lock()


def _handler(signum, frame) -> None:
    """The process's handler for every stop signal (runs in the main thread)."""
    with _lock:
        guards = list(_guards)
    if not guards:                  # between runs (a sequence's gaps): stop the command
        raise StopSignal(signum)
    main = threading.current_thread()
    mine = [g for g in guards if g.thread is main]
    for g in guards:
        if g.thread is not main:
            g._on_signal(signum, False)
    for g in mine:                  # raise last: every other run has been told first
        g._on_signal(signum, True)


def installed() -> bool:
    """Get whether the stop-signal handlers are installed."""
    return bool(_previous)


def install() -> bool:
    """Install the stop-signal handlers (main thread only; SIGINT is re-enabled even if the
    process inherited it ignored); get whether they are installed now. Idempotent."""
    if _previous:
        return True
    if threading.current_thread() is not threading.main_thread():
        return False
    for signum in STOP_SIGNALS:
        _previous[signum] = signal.signal(signum, _handler)
    return True


def uninstall() -> None:
    """Put back the handlers that :func:`install` replaced (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return
    while _previous:
        signum, old = _previous.popitem()
        signal.signal(signum, old if old is not None else signal.SIG_DFL)


@contextmanager
def stop_guard(abort: threading.Event,
               tell: Callable[[str], None] = _tell) -> Iterator[StopGuard]:
    """The stop signals abort a run for the duration of the ``with`` block
    (:meth:`StopGuard.enter` and :meth:`StopGuard.leave`)."""
    guard = StopGuard(abort, tell)
    guard.enter()
    try:
        yield guard
    finally:
        guard.leave()


def ramp_down_lines(bench) -> list[str]:
    """Get one line per source of ``bench`` that its shutdown ramps: what it ramps, from which
    setpoint (the last one written) and about how long it takes at the slew limit."""
    from labspin.bench.safety import is_safe_source
    lines = []
    for name, inst in getattr(bench, "instruments", {}).items():
        try:
            plan = inst.ramp_down_plan() if is_safe_source(inst) else []
        except Exception:  # noqa: BLE001 — a description must never stop the ramp-down
            plan = []
        for output, value, safe, unit, seconds in plan:
            lines.append(f"ramping {name} {output} from {value:g} {unit} to {safe:g} {unit}, "
                         f"about {seconds:.3g} s")
    return lines


def exit_status(guard: StopGuard | None) -> int | None:
    """Get the conventional exit status for a run stopped by a signal (128 + its number), or
    None if no signal stopped it."""
    if guard is None or guard.signal is None:
        return None
    return 128 + int(getattr(signal, guard.signal, 2))


__all__ = ["STOP_SIGNALS", "StopGuard", "StopSignal", "exit_status", "install", "installed",
           "signal_name", "stop_guard", "uninstall"]
