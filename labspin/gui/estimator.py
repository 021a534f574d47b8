"""How long a run has left: the procedure's own point count (``estimate()[0]``) and the rate
its rows arrive at (no Qt here; the worker thread counts, the window reads)."""
from __future__ import annotations

import time
from dataclasses import dataclass

from labspin.run.runner import status_name


def format_duration(seconds: float) -> str:
    """Get "4.2 s" / "1 min 23 s" / "2 h 05 min" for a duration in s."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


@dataclass
class RunClock:
    """The wall-clock account of one run: ``points`` expected (the procedure's estimate; 0
    when it gives none), when it ``started``, how many ``rows`` were written, when the
    ``first_row`` and the ``last_row`` arrived and when it ``ended`` (time.time(), s), with
    the runner's ``message`` (why it failed, if it did) and what it is ``waiting_for``
    before its first row."""
    points: int
    started: float | None = None
    rows: int = 0
    first_row: float | None = None
    last_row: float | None = None
    ended: float | None = None
    message: str = ""
    waiting_for: str = ""
    """What the run waits for before its first row (e.g. the physics kernels compiling)."""

    def row(self, now: float | None = None) -> None:
        """Count a row written at ``now`` (worker thread)."""
        now = time.time() if now is None else now
        if self.first_row is None:
            self.first_row = now
        self.last_row = now
        self.rows += 1

    def remaining_s(self, now: float) -> float | None:
        """Get the seconds left at ``now``: the points still to come at the rate measured
        between the first and the latest row (the start-up before the first row — bench
        opening, kernel compilation — is not a per-point cost), less the time since the
        latest row; None until two rows have come or without a point count."""
        if self.points <= 0 or self.rows < 2 or self.last_row <= self.first_row:
            return None
        per_row = (self.last_row - self.first_row) / (self.rows - 1)
        return max(0.0, max(self.points - self.rows, 0) * per_row - (now - self.last_row))

    def describe(self, now: float) -> str:
        """Get the queue's "Time left" cell at ``now``."""
        if self.ended is not None:
            return f"took {format_duration(self.ended - (self.started or self.ended))}"
        if self.started is None:
            return f"queued, {self.points} points" if self.points else "queued"
        left = self.remaining_s(now)
        if left is None:
            if self.rows == 0 and self.waiting_for:
                return f"{self.waiting_for}, {self.points} points"
            return (f"starting, {self.points} points" if self.rows == 0 else
                    f"measuring ({self.rows} of {self.points} points)" if self.points else
                    f"{self.rows} rows")
        end = time.strftime("%H:%M:%S", time.localtime(now + left))
        return f"{format_duration(left)} left (ends ≈ {end})"


def end_of_run_line(name: str, status: int, clock: RunClock, path: str) -> str:
    """Get the log's last line of a run: "field-sweep FINISHED: 21 rows in 1.3 s, file
    PATH" (and the runner's message, e.g. why it failed)."""
    ended = clock.ended if clock.ended is not None else time.time()
    took = ended - (clock.started if clock.started is not None else ended)
    line = (f"{name} {status_name(status)}: {clock.rows} rows in {format_duration(took)}, "
            f"file {path}")
    return line + (f" — {clock.message}" if clock.message else "")
