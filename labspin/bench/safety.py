"""Limits checked before any write, and ramps within slew limits (design.md safety contract).

Every sourcing driver uses :func:`check_limit` before it sends a setpoint and :func:`ramp`
to move an output, and its ``shutdown()`` ramps to the safe value with these same helpers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from labspin.bench.clock import REAL_CLOCK, Clock


def is_safe_source(obj) -> bool:
    """Get whether a driver (class or instance) is a safe source: it has per-output
    ``SAFE_LIMITS``, ``configure_safety()`` to narrow them, ``slew_of()`` and a ramping
    ``shutdown()`` (drivers.base.SafeSourceMixin provides them)."""
    return all(hasattr(obj, a) for a in ("SAFE_LIMITS", "configure_safety", "slew_of",
                                         "shutdown"))


class LimitError(ValueError):
    """A requested value lies outside a configured or instrument limit (nothing was sent)."""


def check_limit(name: str, value: float, low: float, high: float, unit: str = "",
                origin: str = "") -> float:
    """Get ``value`` as float if low ≤ value ≤ high, else raise LimitError naming the range
    (and, where given, where the limit comes from)."""
    v = float(value)
    if not math.isfinite(v) or v < low or v > high:
        u = f" {unit}" if unit else ""
        why = f" ({origin})" if origin else ""
        raise LimitError(f"{name} = {value!r}{u} is outside the allowed range "
                         f"[{low:g}, {high:g}]{u}{why}")
    return v


@dataclass(frozen=True)
class SlewLimit:
    """How an output may move: at most ``max_step`` per write and ``max_rate`` per second.

    Units are those of the output (A, V, T, dBm). max_rate = inf means no pause between
    steps beyond the instrument's own response.
    """
    max_step: float
    max_rate: float = math.inf

    def __post_init__(self):
        if not self.max_step > 0:
            raise ValueError(f"max_step must be > 0, got {self.max_step}")
        if not self.max_rate > 0:
            raise ValueError(f"max_rate must be > 0, got {self.max_rate}")


def ramp_points(start: float, stop: float, max_step: float) -> np.ndarray:
    """Get the setpoints from start (excluded) to stop (included), spaced ≤ max_step apart."""
    n = max(1, int(math.ceil(abs(stop - start) / max_step - 1e-12)))
    if start == stop:
        return np.array([float(stop)])
    pts = start + (stop - start) * np.arange(1, n + 1) / n
    pts[-1] = stop          # exactly: rounding must not leave the last write off the target
    return pts


def ramp(write: Callable[[float], None], start: float, stop: float, slew: SlewLimit,
         clock: Clock = REAL_CLOCK) -> None:
    """Move an output from start to stop by writes no larger than slew.max_step, waiting
    step/max_rate (s) after each so the rate never exceeds slew.max_rate."""
    prev = start
    for v in ramp_points(start, stop, slew.max_step):
        write(float(v))
        if math.isfinite(slew.max_rate):
            clock.sleep(abs(v - prev) / slew.max_rate)
        prev = v


def shutdown_each(actions: dict[str, Callable[[], None]]) -> dict[str, BaseException]:
    """Call every named action even if some raise; get name → exception for the failures.

    For composite shutdowns: each source is attempted even if another fails.
    """
    errors: dict[str, BaseException] = {}
    for name, action in actions.items():
        try:
            action()
        except BaseException as exc:  # noqa: BLE001 — a failing source must not stop the others
            errors[name] = exc
    return errors


def shutdown_all(*actions: Callable[[], None]) -> list[BaseException]:
    """Call every action even if some raise; get the exceptions raised (in order)."""
    return list(shutdown_each({str(i): a for i, a in enumerate(actions)}).values())
