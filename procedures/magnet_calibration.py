"""magnet-calibration: the magnet supply's current swept up and down with the gaussmeter read
at each point, for the calibration table (both branches, remanence) of the bench config.

The supply is driven directly (role ``magnet_supply``: ``current_setpoint`` ramps within the
driver's slew limit), never through ``bench.magnet``, whose calibration is what is measured.
Sequence: 0 → +I_max (conditioning leg, Branch 0), +I_max → −I_max (down branch, Branch −1),
−I_max → +I_max (up branch, Branch +1); the turning points are read on both legs. Currents
are signed (A), fields μ0·H in tesla as the gaussmeter reads them (signed along its probe).
"""
from __future__ import annotations

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter

from labspin.bench.limits import magnet_current_limit_A
from labspin.bench.safety import LimitError, check_limit, ramp

from .base import LabspinProcedure


def calibration_currents(max_current_A: float, step_A: float) -> tuple[np.ndarray, np.ndarray]:
    """Get the supply setpoints (A) of the sequence and their branch (0 conditioning leg,
    −1 down branch, +1 up branch)."""
    n = max(1, int(round(max_current_A / step_A)))
    first = np.linspace(0.0, max_current_A, n + 1)
    down = np.linspace(max_current_A, -max_current_A, 2 * n + 1)
    up = np.linspace(-max_current_A, max_current_A, 2 * n + 1)
    currents = np.concatenate([first, down, up])
    branch = np.concatenate([np.zeros(first.size), -np.ones(down.size), np.ones(up.size)])
    return currents, branch


def allowed_max_current(config) -> float:
    """Get the largest supply current (A): the one at which the first branch of the bench
    config's present calibration reaches max_field_T, within the table's current range
    (:func:`labspin.bench.limits.magnet_current_limit_A`, the supply's limit too)."""
    return magnet_current_limit_A(config)[0]


class MagnetCalibrationSweep(LabspinProcedure):
    """Calibrate the electromagnet: field (gaussmeter, T) against supply current (A) on the
    up and down branches. Analysis: ``magnet_calibration_analysis.analyze_calibration`` and
    ``calibration_table`` (the bench config's [magnet.calibration])."""
    NAME = "magnet-calibration"
    DESCRIPTION = "Magnet supply current swept up and down with the gaussmeter: calibration table"
    WIRING = "transport"
    SAMPLE = "perpendicular_sot_hallbar"

    max_current = FloatParameter("Max current", units="A", default=8.0, minimum=1e-3,
                                 maximum=1000.0)
    current_step = FloatParameter("Current step", units="A", default=0.5, minimum=1e-4,
                                  maximum=100.0)
    delay = FloatParameter("Settle delay", units="s", default=3.0, minimum=0.0, maximum=600.0)
    averages = IntegerParameter("Readings per point", default=5, minimum=1, maximum=1000)

    DATA_COLUMNS = ["Current setpoint (A)", "Supply current (A)", "Field (T)", "Field std (T)",
                    "Branch", "Readings"]

    def check(self, config) -> None:
        if config.magnet is None or config.magnet.gaussmeter is None:
            raise ValueError("magnet-calibration needs a [magnet] with a supply and a "
                             "gaussmeter in the bench config")
        check_limit("parameter 'Max current'", self.max_current, 0.0,
                    allowed_max_current(config), "A")
        check_limit("parameter 'Current step'", self.current_step, 1e-4, self.max_current,
                    "A")

    def estimate(self) -> tuple[int, float]:
        currents, _ = calibration_currents(self.max_current, self.current_step)
        travel = 5 * self.max_current     # A: 0 → +max → −max → +max → 0
        return currents.size, currents.size * (self.delay + 0.1 * self.averages) + travel

    def startup(self) -> None:
        self._supply = self.bench.role("magnet_supply")
        self._gauss = self.bench.role("gaussmeter")
        self._supply.output_enabled = True          # starts from 0 A
        self._setpoint = 0.0

    def _go(self, current_A: float) -> None:
        """Ramp the supply to current_A: steps within the bench's field slew (through the
        present calibration's slope), each write ramped and paced by the driver."""
        slew = self.bench.magnet.current_slew

        def write(v):
            self._supply.current_setpoint = float(v)
            self._setpoint = float(v)
        ramp(write, self._setpoint, float(current_A), slew, self.bench.clock)

    def execute(self) -> None:
        max_field = self.bench.config.limits.max_field_T
        currents, branch = calibration_currents(self.max_current, self.current_step)
        for k, (i, br) in enumerate(zip(currents, branch)):
            if self.should_stop():
                return
            self._go(i)
            self.sleep(self.delay)
            fields = np.array([self._gauss.measure_field() for _ in range(self.averages)])
            if np.abs(fields).max() > max_field:
                raise LimitError(f"gaussmeter reads {np.abs(fields).max():g} T at "
                                 f"{i:g} A, beyond the bench's max_field_T {max_field:g} T")
            self.emit("results", {
                "Current setpoint (A)": i,
                "Supply current (A)": float(self._supply.measure_current()),
                "Field (T)": float(fields.mean()),
                "Field std (T)": float(fields.std(ddof=1)) if fields.size > 1 else 0.0,
                "Branch": int(br), "Readings": int(fields.size)})
            self.emit("progress", 100.0 * (k + 1) / currents.size)
