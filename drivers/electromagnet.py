"""The electromagnet as a field controller: a bipolar supply, a calibration and an optional
gaussmeter.

- :class:`MagnetCalibration` maps supply current ↔ field (μ0·H, T) on separate up and down
  branches: an iron-yoke magnet has hysteresis and remanence, so the current that gives
  +0.1 T coming from below differs from the one coming from above.
- :class:`Electromagnet` ``set_field()`` checks the target against the limits before anything
  is written, picks the branch from the direction of travel, ramps the current so that the
  field moves by at most ``max_step_T`` per write and ``max_ramp_rate_T_per_s``, then — with a
  gaussmeter — trims the current until the reading is within ``tolerance_T`` or raises
  :class:`FieldSettleError` after ``settle_timeout_s``. ``shutdown()`` ramps to zero current.
Every wait goes through the clock, so tests and the simulated bench run in virtual time.
"""
from __future__ import annotations

import math

import numpy as np

from labspin.bench.calibration import BRANCHES, MagnetCalibration
from labspin.bench.clock import REAL_CLOCK, Clock
from labspin.bench.safety import LimitError, SlewLimit, check_limit, ramp


class FieldSettleError(RuntimeError):
    """The gaussmeter did not read the target field within tolerance before the time-out."""


class Electromagnet:
    """Control the field (μ0·H, T) of an electromagnet through its supply and gaussmeter.

    supply: a magnet_supply driver (signed ``current_setpoint`` in A, ``measure_current``,
    ``output_enabled``, ``shutdown``); gaussmeter: optional, ``measure_field()`` in T.
    max_field_T, max_ramp_rate_T_per_s, max_step_T: limits from the bench config;
    tolerance_T, settle_timeout_s: closed-loop settling (with a gaussmeter);
    settle_delay_s: wait after each write before reading the gaussmeter (eddy currents).
    """
    roles = ("field_controller",)

    def __init__(self, supply, calibration: MagnetCalibration, gaussmeter=None, *,
                 max_field_T: float, max_ramp_rate_T_per_s: float, max_step_T: float,
                 tolerance_T: float = 2e-4, settle_timeout_s: float = 30.0,
                 settle_delay_s: float = 0.2, clock: Clock | None = None):
        for name, v in [("max_field_T", max_field_T),
                        ("max_ramp_rate_T_per_s", max_ramp_rate_T_per_s),
                        ("max_step_T", max_step_T), ("tolerance_T", tolerance_T),
                        ("settle_timeout_s", settle_timeout_s)]:
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"magnet {name} must be a number > 0, got {v!r}")
        self.supply = supply
        self.calibration = calibration
        self.gaussmeter = gaussmeter
        self.max_field_T = float(max_field_T)
        self.max_ramp_rate_T_per_s = float(max_ramp_rate_T_per_s)
        self.max_step_T = float(max_step_T)
        self.tolerance_T = float(tolerance_T)
        self.settle_timeout_s = float(settle_timeout_s)
        self.settle_delay_s = float(settle_delay_s)
        self.clock = clock or REAL_CLOCK
        self._current = float(supply.current_setpoint)
        self._last_write: tuple[float, float] | None = None     # (clock time, A)
        self._branch = "up" if self._current <= 0 else "down"
        self.field_setpoint_T = self.calibration.field(self._current, self._branch)

    @property
    def current_slew(self) -> SlewLimit:
        """Get the current slew limit (A, A/s) equivalent to the field limits at the
        calibration's steepest slope."""
        k = self.calibration.slope()
        return SlewLimit(self.max_step_T / k, self.max_ramp_rate_T_per_s / k)

    def measure_field(self) -> float:
        """Measure the field (T): the gaussmeter if there is one, else the calibration at the
        measured supply current on the present branch."""
        if self.gaussmeter is not None:
            return float(self.gaussmeter.measure_field())
        return self.calibration.field(float(self.supply.measure_current()), self._branch)

    @property
    def current_limit_A(self) -> float:
        """Get the largest |supply current| (A) the magnet is driven to: the smallest at
        which any branch of the calibration reaches ±max_field_T (so no branch exceeds it),
        within the supply's own range."""
        return min(self.calibration.current_limit(self.max_field_T),
                   float(self.supply.max_current))

    def check_field(self, field_T: float) -> float:
        """Get field_T if |field_T| ≤ max_field_T and both branches reach it within
        :attr:`current_limit_A`; else raise LimitError naming the field both branches reach
        (nothing written)."""
        f = check_limit("magnet field", field_T, -self.max_field_T, self.max_field_T, "T")
        i_max = self.current_limit_A
        for branch in BRANCHES:
            i = self.calibration.current(f, branch)
            if abs(i) > i_max:
                reach = self.calibration.reach_T(i_max)
                raise LimitError(
                    f"magnet field {f:g} T needs {i:g} A on the {branch} branch of the "
                    f"calibration, beyond the magnet current limit ±{i_max:g} A (where the "
                    f"first branch reaches max_field_T = {self.max_field_T:g} T, or the "
                    f"supply's ±{float(self.supply.max_current):g} A); both branches reach "
                    f"±{reach:g} T within it")
        return f

    def set_field(self, field_T: float) -> float:
        """Ramp to field_T (T) and settle; get the final field reading (T).

        The branch follows the direction of travel. Raises LimitError before any write if
        the target is out of range, FieldSettleError if the gaussmeter does not read within
        tolerance_T after settle_timeout_s; without a gaussmeter, OutputNotFollowingError if
        the supply's measured current does not follow its setpoint (:meth:`check_following`).
        """
        target = self.check_field(field_T)
        if target != self.field_setpoint_T:
            self._branch = "up" if target > self.field_setpoint_T else "down"
        current = self.calibration.current(target, self._branch)
        self._ramp_current(current)
        self.field_setpoint_T = target
        if self.gaussmeter is None:
            self.clock.sleep(self.settle_delay_s)
            self.check_following()
            return target
        return self._settle(target)

    def check_following(self) -> None:
        """Raise OutputNotFollowingError (naming the supply) if the measured supply current
        differs from the one last written by more than the coil can lag behind a paced ramp:
        two current steps, 2 % of the current and the supply's zero tolerance (a stuck output
        would otherwise give a field sweep at one field, labelled with many)."""
        check = getattr(self.supply, "check_follows", None)
        if check is None:
            return
        tolerance = (2 * self.current_slew.max_step + 0.02 * abs(self._current)
                     + getattr(self.supply, "zero_current_tolerance", 0.0))
        check("current", self.supply.measure_current(), tolerance)

    def _ramp_current(self, current: float, enable: bool = True) -> None:
        if not self.supply.output_enabled:
            if not enable:
                return          # an output that is off carries no current: nothing to ramp
            self.supply.output_enabled = True

        slew = self.current_slew

        def write(v):
            # pace against the previous write too: a ramp cut short (abort, Ctrl-C, fault)
            # followed at once by another (the shutdown's) stays within max_rate
            if self._last_write is not None:
                t_prev, v_prev = self._last_write
                wait = t_prev + abs(v - v_prev) / slew.max_rate - self.clock.now()
                if wait > 0:
                    self.clock.sleep(wait)
            self._last_write = (self.clock.now(), v)
            self.supply.current_setpoint = v
            self._current = v
        ramp(write, self._current, current, slew, self.clock)

    def _settle(self, target: float) -> float:
        """Trim the current until the gaussmeter reads target ± tolerance or time runs out."""
        start = self.clock.now()
        k_inv = 1.0 / self.calibration.slope()
        while True:
            self.clock.sleep(self.settle_delay_s)
            reading = self.measure_field()
            error = target - reading
            if abs(error) <= self.tolerance_T:
                return reading
            elapsed = self.clock.now() - start
            if elapsed >= self.settle_timeout_s:
                raise FieldSettleError(
                    f"magnet did not settle at {target:g} T: gaussmeter reads {reading:g} T, "
                    f"tolerance ±{self.tolerance_T:g} T, after {elapsed:.3g} s "
                    f"(settle_timeout_s = {self.settle_timeout_s:g}); supply current "
                    f"{self._current:g} A")
            self.check_following()          # never trim on against a stuck supply
            # closed-loop trim: a proportional correction through the calibration slope,
            # bounded by the step limit and the supply's current range
            trim = float(np.clip(error * k_inv, -self.current_slew.max_step,
                                 self.current_slew.max_step))
            new = self._current + trim
            if abs(new) > self.current_limit_A:
                raise LimitError(f"magnet trim to {target:g} T needs {new:g} A, beyond the "
                                 f"magnet current limit ±{self.current_limit_A:g} A")
            self._ramp_current(new)

    def shutdown(self) -> None:
        """Ramp the current to zero within the field slew limits, then shut the supply down
        (which disables its output). The supply is shut down even if the ramp fails."""
        try:
            # from the setpoint the supply last wrote (it may have been driven directly, as by
            # magnet-calibration); a readback is used only if none was written (issue 13)
            start = getattr(self.supply, "ramp_start", None)
            try:
                self._current = float(start("current", lambda: self.supply.current_setpoint)
                                      if start else self.supply.current_setpoint)
            except Exception:  # noqa: BLE001 — ramp from the last value written here
                pass
            self._branch = "down" if self._current > 0 else "up"
            self._ramp_current(0.0, enable=False)
            self.field_setpoint_T = self.calibration.field(0.0, self._branch)
        finally:
            self.supply.shutdown()
