"""field-sweep: an R–H loop with a source meter (dc current, 4-wire), on the up and down
branches, recording the set and the measured field, the field's direction (along the film
normal or in plane at an angle from +x) and the probe read.

Field direction: "normal" puts the field along the film normal +z (a positive field points
along +z); "in-plane" puts it in the film plane at "Field angle" φ from +x (the current
direction) toward +y, a positive field pointing along (cos φ, sin φ, 0). On the simulated bench
the procedure picks the virtual magnet's axis (:meth:`FieldSweep.sim_magnet`) and turns the
rotation stage to φ; on a real bench the magnet's geometry is physical and the direction and
angle are only recorded. Three longitudinal runs (probe "source meter": R_xx on the
transport wiring) along z, x (φ = 0) and y (φ = 90°), taken above saturation, give the AMR and
SMR amplitudes (``labspin analyze field-sweep Z.csv X.csv Y.csv``; see
:func:`labspin.procedures.field_sweep_analysis.analyze_amr_smr`)."""
from __future__ import annotations

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter, ListParameter

from labspin.drivers.safety import check_limit

from .base import LabspinProcedure


def loop_fields(max_field_T: float, step_T: float) -> tuple[np.ndarray, np.ndarray]:
    """Get the fields (T) of a full loop 0 → +max → −max → +max and their branch
    (+1 field increasing, −1 decreasing)."""
    n = max(1, int(round(max_field_T / step_T)))
    up0 = np.linspace(0.0, max_field_T, n + 1)
    down = np.linspace(max_field_T, -max_field_T, 2 * n + 1)[1:]
    up = np.linspace(-max_field_T, max_field_T, 2 * n + 1)[1:]
    fields = np.concatenate([up0, down, up])
    branch = np.concatenate([np.ones(up0.size), -np.ones(down.size), np.ones(up.size)])
    return fields, branch


class FieldSweep(LabspinProcedure):
    """Measure R against field: the source meter drives a dc current through the sample and
    reads the voltage on its probe; the field runs a full loop through the electromagnet."""
    NAME = "field-sweep"
    DESCRIPTION = "R–H loop with a source meter (dc current, 4-wire): up and down branches"
    WIRING = "transport"
    SAMPLE = "perpendicular_sot_hallbar"

    max_field = FloatParameter("Max field", units="T", default=0.2, minimum=1e-4, maximum=10.0)
    field_step = FloatParameter("Field step", units="T", default=0.005, minimum=1e-6,
                                maximum=1.0)
    current = FloatParameter("Current", units="A", default=1e-3, minimum=-1.0, maximum=1.0)
    probe = ListParameter("Probe", choices=["source meter", "voltmeter"],
                          default="voltmeter")
    delay = FloatParameter("Delay per point", units="s", default=0.1, minimum=0.0,
                           maximum=3600.0)
    averages = IntegerParameter("Readings per point", default=1, minimum=1, maximum=1000)
    field_direction = ListParameter("Field direction", choices=["normal", "in-plane"],
                                    default="normal")
    field_angle = FloatParameter("Field angle", units="deg", default=0.0, minimum=-360.0,
                                 maximum=360.0)
    """In-plane angle φ of the field from +x toward +y (deg); used when "Field direction" is
    "in-plane", recorded always."""

    DATA_COLUMNS = ["Field set (T)", "Field (T)", "Branch", "Current (A)", "Voltage (V)",
                    "Resistance (ohm)", "Field polar angle (deg)", "Field angle (deg)",
                    "Probe"]
    """"Field polar angle (deg)": the field's angle from the film normal +z (0: "normal", 90:
    "in-plane"); "Field angle (deg)": the parameter "Field angle" (in-plane φ from +x);
    "Probe": the parameter "Probe" ("source meter" or "voltmeter", text)."""

    def sim_magnet(self) -> dict:
        """Get the simulated magnet for ``--sim``: along z for "normal", in plane at the
        field angle for "in-plane"."""
        if self.field_direction == "in-plane":
            return {"axis": "inplane", "angle_deg": float(self.field_angle)}
        return {"axis": "z"}

    def check(self, config) -> None:
        lim = config.limits
        check_limit("parameter 'Max field'", self.max_field, 0.0, lim.max_field_T, "T")
        check_limit("parameter 'Current'", abs(self.current), 0.0, lim.max_sample_current_A,
                    "A")
        if config.magnet is None:
            raise ValueError("field-sweep needs a [magnet] in the bench config")
        if self.probe == "voltmeter" and not config.by_role("voltmeter"):
            raise ValueError("parameter 'Probe' = 'voltmeter' but the bench has no voltmeter; "
                             "choose 'source meter'")

    def estimate(self) -> tuple[int, float]:
        fields, _ = loop_fields(self.max_field, self.field_step)
        ramp = 4 * self.max_field / 0.05
        return fields.size, fields.size * (self.delay + 0.05 * self.averages) + ramp

    def startup(self) -> None:
        smu = self.bench.role("source_meter")
        smu.source_mode = "current"
        smu.compliance_voltage = min(10.0, self.bench.config.limits.max_sample_voltage_V)
        smu.source_enabled = True
        smu.ramp_to_current(self.current)

    def execute(self) -> None:
        smu = self.bench.role("source_meter")
        meter = self.bench.role("voltmeter") if self.probe == "voltmeter" else smu
        fields, branch = loop_fields(self.max_field, self.field_step)
        inplane = self.field_direction == "in-plane"
        if inplane:
            self.bench.set_field_angle(float(self.field_angle))   # recorded only on a real bench
        polar = 90.0 if inplane else 0.0
        for k, (b, br) in enumerate(zip(fields, branch)):
            if self.should_stop():
                return
            measured = self.bench.magnet.set_field(float(b))
            self.sleep(self.delay)
            v = float(np.mean([meter.measure_voltage() for _ in range(self.averages)]))
            self.emit("results", {"Field set (T)": b, "Field (T)": measured, "Branch": br,
                                  "Current (A)": self.current, "Voltage (V)": v,
                                  "Resistance (ohm)": v / self.current,
                                  "Field polar angle (deg)": polar,
                                  "Field angle (deg)": float(self.field_angle),
                                  "Probe": self.probe})
            self.emit("progress", 100.0 * (k + 1) / fields.size)
