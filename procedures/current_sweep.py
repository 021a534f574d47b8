"""current-sweep: R–I loops of a spin-transfer-torque device (an MTJ pillar) with a source
meter: the dc current that reads the resistance is the current that drives the torque.

Sign convention: a positive current is the source meter's HI terminal driving current into
the device's current path (+x on the simulated bench). For a pillar with a spin-transfer
efficiency η > 0 and its reference layer along +z (the simulated ``mtj_pillar``), positive
current favours the parallel (low-resistance) state: AP → P at +I, P → AP at −I.
"""
from __future__ import annotations

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter

from labspin.bench.limits import output_limits
from labspin.bench.safety import check_limit

from .base import LabspinProcedure


def loop_currents(max_current_A: float, step_A: float, cycles: int = 1
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Get (currents in A, branch, cycle) of ``cycles`` full loops 0 → +max → −max → +max
    (the later cycles start at +max), on a grid of integer multiples of the step, without the
    zero-current points (R = V/I is undefined there).

    branch: +1 while the current increases, −1 while it decreases; cycle: 0, 1, … ."""
    n = max(1, int(round(max_current_A / step_A)))
    k_up0 = np.arange(0, n + 1)
    k_down = np.arange(n - 1, -n - 1, -1)
    k_up = np.arange(-n + 1, n + 1)
    ks, br, cy = [k_up0], [np.ones(k_up0.size)], [np.zeros(k_up0.size)]
    for c in range(cycles):
        ks += [k_down, k_up]
        br += [-np.ones(k_down.size), np.ones(k_up.size)]
        cy += [np.full(k_down.size + k_up.size, c)]
    k, branch, cycle = np.concatenate(ks), np.concatenate(br), np.concatenate(cy)
    keep = k != 0
    return k[keep] * (max_current_A / n), branch[keep], cycle[keep].astype(int)


class CurrentSweep(LabspinProcedure):
    """Measure R against a dc current swept through the device in full loops: the source
    meter sources the current (ramped within its slew limits) and reads the voltage, with an
    optional bias field from the electromagnet (along its axis; normal to the film for the
    simulated perpendicular pillar)."""
    NAME = "current-sweep"
    DESCRIPTION = "R–I loops with a source meter (STT switching): critical current per polarity"
    WIRING = "pulsed"
    SAMPLE = "mtj_pillar"
    SIM_MAGNET = {"axis": "z"}

    max_current = FloatParameter("Max current", units="A", default=30e-6, minimum=1e-9,
                                 maximum=1.0)
    current_step = FloatParameter("Current step", units="A", default=0.5e-6, minimum=1e-10,
                                  maximum=0.1)
    cycles = IntegerParameter("Cycles", default=3, minimum=1, maximum=1000)
    field = FloatParameter("Field", units="T", default=0.0, minimum=-10.0, maximum=10.0)
    delay = FloatParameter("Delay per point", units="s", default=0.05, minimum=0.0,
                           maximum=3600.0)
    averages = IntegerParameter("Readings per point", default=1, minimum=1, maximum=1000)
    compliance = FloatParameter("Compliance voltage", units="V", default=1.0, minimum=0.01,
                                maximum=210.0)

    DATA_COLUMNS = ["Current (A)", "Voltage (V)", "Resistance (ohm)", "Branch", "Cycle",
                    "Field set (T)", "Field (T)"]

    def check(self, config) -> None:
        smus = config.by_role("source_meter")
        if not smus:
            raise ValueError("current-sweep needs a source_meter in the bench config")
        # the tighter of the bench's and the sample's limits (a 40 nm junction's current
        # density, its barrier's voltage) within the source meter's own ranges, named as
        # the driver names them when the bench opens
        out = output_limits(config, smus[0])
        for name, value, lim in (("Max current", self.max_current, out["current"]),
                                 ("Compliance voltage", self.compliance, out["voltage"])):
            check_limit(f"parameter '{name}'", value, 0.0, lim.high, lim.unit, lim.origin)
        check_limit("parameter 'Field'", abs(self.field), 0.0, config.settable_field_T, "T")
        if self.current_step > self.max_current:
            raise ValueError(f"parameter 'Current step' = {self.current_step:g} A must not "
                             f"exceed 'Max current' = {self.max_current:g} A")
        if self.field != 0.0 and config.magnet is None:
            raise ValueError("parameter 'Field' != 0 needs a [magnet] in the bench config")

    def estimate(self) -> tuple[int, float]:
        currents, _, _ = loop_currents(self.max_current, self.current_step, self.cycles)
        return currents.size, currents.size * (self.delay + 0.05 * self.averages)

    def startup(self) -> None:
        smu = self.bench.role("source_meter")
        smu.source_mode = "current"
        smu.compliance_voltage = self.compliance
        smu.source_enabled = True

    def execute(self) -> None:
        smu = self.bench.role("source_meter")
        measured = float("nan")
        if self.bench.magnet is not None:
            measured = self.bench.magnet.set_field(float(self.field))
        currents, branch, cycle = loop_currents(self.max_current, self.current_step,
                                                self.cycles)
        for k, (i, br, cy) in enumerate(zip(currents, branch, cycle)):
            if self.should_stop():
                return
            smu.ramp_to_current(float(i))
            self.sleep(self.delay)
            v = float(np.mean([smu.measure_voltage() for _ in range(self.averages)]))
            self.emit("results", {"Current (A)": i, "Voltage (V)": v,
                                  "Resistance (ohm)": v / i, "Branch": br, "Cycle": cy,
                                  "Field set (T)": self.field, "Field (T)": measured})
            self.emit("progress", 100.0 * (k + 1) / currents.size)
        smu.ramp_to_current(0.0)
