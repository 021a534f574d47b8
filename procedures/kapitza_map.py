"""kapitza-map: the spintronic Kapitza pendulum (physics.md check 7) measured the way a lab
would — a grid over dc current and field of the mean Hall readout and its fluctuation.

Geometry: a nearly isotropic magnet on a heavy metal whose spin polarization σ points along
−ẑ for positive current (+x); the field is along +ẑ (the magnet's axis "z"), so positive
current and positive field put σ along −Ĥ and the damping-like torque pushes m against the
field. The readout is the anomalous Hall resistance R_xy = V_xy/I ≈ R_xy0 + ΔR_AHE·m_z
(nanovoltmeter on the Hall probe, source meter driving the dc current). Each grid point
records the mean of repeated reads and their standard deviation, and the source meter's
longitudinal reading R_xx = V/I (mean and standard deviation). In the band
|H − H_DL/α| ≲ k_BT/(μ0 Ms V) m wanders over the sphere; its distribution's width
⟨(m·Ĥ)²⟩ − ⟨m·Ĥ⟩² shows in the mean of R_xx, which is quadratic in m (AMR/SMR:
⟨R_xx⟩ = R0 + ΔR_AMR⟨m_x²⟩ + ΔR_SMR⟨m_y²⟩, and ⟨m_x²⟩ = ⟨m_y²⟩ = (1 − ⟨m_z²⟩)/2 by the axial
symmetry of this geometry), not in the spread of the reads: a dc reading integrates over
milliseconds, ≫ the Néel time (≈ 40 ns for the built-in sample), so the read-to-read
scatter is measurement noise.

The readout is calibrated at ±``Saturation field``, where m is saturated along ±ẑ: before
the grid at the lowest current (the Hall amplitude, with the least spin torque), after it at
the highest (R_xx's saturated level R0, where the source meter's reading is most precise).
"""
from __future__ import annotations

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter

from labspin.bench.safety import check_limit

from .base import LabspinProcedure


def grid(min_value: float, max_value: float, points: int) -> np.ndarray:
    """Get ``points`` evenly spaced values from min_value to max_value."""
    return np.linspace(min_value, max_value, max(1, int(points)))


class KapitzaMap(LabspinProcedure):
    """Map the Hall readout over dc current (A, > 0: σ along −Ĥ) and field (μ0·H, T, along
    +ẑ): mean and standard deviation of repeated reads per point. Analysis:
    ``kapitza_map_analysis.analyze_kapitza_map``."""
    NAME = "kapitza-map"
    DESCRIPTION = "Current × field map of the Hall readout of a nearly isotropic magnet (Kapitza)"
    WIRING = "transport"
    SAMPLE = "kapitza_cofeb_w"
    SIM_MAGNET = {"axis": "z"}

    min_field = FloatParameter("Min field", units="T", default=0.005, minimum=0.0,
                               maximum=10.0)
    max_field = FloatParameter("Max field", units="T", default=0.02, minimum=0.0, maximum=10.0)
    field_points = IntegerParameter("Field points", default=4, minimum=1, maximum=1000)
    min_current = FloatParameter("Min current", units="A", default=1e-6, minimum=1e-9,
                                 maximum=1.0)
    max_current = FloatParameter("Max current", units="A", default=20e-6, minimum=1e-9,
                                 maximum=1.0)
    current_points = IntegerParameter("Current points", default=20, minimum=1, maximum=10000)
    saturation_field = FloatParameter("Saturation field", units="T", default=0.1, minimum=0.0,
                                      maximum=10.0)
    averages = IntegerParameter("Readings per point", default=5, minimum=2, maximum=10000)
    delay = FloatParameter("Delay per point", units="s", default=0.1, minimum=0.0,
                           maximum=3600.0)
    field_settle = FloatParameter("Field settle time", units="s", default=5.0, minimum=0.0,
                                  maximum=3600.0)
    """Wait after each field change (beyond the magnet's own settling) for the coil's L/R
    tail and eddy currents, so that the field is constant over a row of currents."""

    DATA_COLUMNS = ["Field set (T)", "Field (T)", "Current (A)", "Hall voltage (V)",
                    "Hall resistance (ohm)", "Hall resistance std (ohm)", "Readings",
                    "Longitudinal resistance (ohm)", "Longitudinal resistance std (ohm)"]

    def check(self, config) -> None:
        lim = config.limits
        for name, v in (("Min field", self.min_field), ("Max field", self.max_field),
                        ("Saturation field", self.saturation_field)):
            check_limit(f"parameter '{name}'", v, 0.0, config.settable_field_T, "T")
        check_limit("parameter 'Max current'", self.max_current, 1e-9,
                    lim.max_sample_current_A, "A")
        check_limit("parameter 'Min current'", self.min_current, 1e-9, self.max_current, "A")
        check_limit("parameter 'Min field'", self.min_field, 0.0, self.max_field, "T")
        if config.magnet is None:
            raise ValueError("kapitza-map needs a [magnet] in the bench config")
        if not config.by_role("source_meter"):
            raise ValueError("kapitza-map drives the current and reads R_xx with a "
                             "source_meter; the bench has none")
        if not config.by_role("voltmeter"):
            raise ValueError("kapitza-map reads the Hall voltage with a voltmeter; the bench "
                             "has none")

    def _points(self) -> list[tuple[float, float]]:
        pts = []
        if self.saturation_field > 0:
            pts += [(self.saturation_field, self.min_current),
                    (-self.saturation_field, self.min_current)]
        currents = grid(self.min_current, self.max_current, self.current_points)
        for b in grid(self.min_field, self.max_field, self.field_points):
            pts += [(float(b), float(i)) for i in currents]
        if self.saturation_field > 0 and self.max_current > self.min_current:
            pts += [(self.saturation_field, self.max_current),
                    (-self.saturation_field, self.max_current)]
        return pts

    def estimate(self) -> tuple[int, float]:
        n = len(self._points())
        ramp = 4 * max(self.saturation_field, self.max_field) / 0.05
        fields = self.field_points + (2 if self.saturation_field > 0 else 0)
        return n, n * (self.delay + 0.4 * self.averages) + ramp + fields * self.field_settle

    def startup(self) -> None:
        smu = self.bench.role("source_meter")
        smu.source_mode = "current"
        smu.compliance_voltage = min(10.0, self.bench.config.limits.max_sample_voltage_V)
        smu.source_enabled = True

    def execute(self) -> None:
        smu = self.bench.role("source_meter")
        meter = self.bench.role("voltmeter")
        pts = self._points()
        field_now = None
        for k, (b, i) in enumerate(pts):
            if self.should_stop():
                return
            if b != field_now:
                self.bench.magnet.set_field(b)
                self.sleep(self.field_settle)
                field_now = b
            smu.ramp_to_current(i)
            self.sleep(self.delay)
            v = np.array([meter.measure_voltage() for _ in range(self.averages)])
            r = v / i
            rxx = np.array([smu.measure_voltage() for _ in range(self.averages)]) / i
            self.emit("results", {
                "Field set (T)": b, "Field (T)": float(self.bench.magnet.measure_field()),
                "Current (A)": i, "Hall voltage (V)": float(v.mean()),
                "Hall resistance (ohm)": float(r.mean()),
                "Hall resistance std (ohm)": float(r.std(ddof=1)),
                "Readings": int(v.size),
                "Longitudinal resistance (ohm)": float(rxx.mean()),
                "Longitudinal resistance std (ohm)": float(rxx.std(ddof=1))})
            self.emit("progress", 100.0 * (k + 1) / len(pts))
