"""stno-spectrum: the rf spectrum of a spin-torque oscillator against dc current (and field).

A source meter drives a dc current through the dc port of a bias tee into the pillar; a
spectrum analyzer on the rf port records the oscillator's line (physics.md "Spin-torque
oscillator spectra" and check 6). For every field in ``fields`` (set through the
electromagnet, the measured value recorded) and every current in ``currents`` the analyzer
takes one averaged sweep; the trace is stored in *long format*: one row per trace point,
with the current, the set and measured field, the dc voltage the source meter read and the
resolution bandwidth repeated on each row (``Trace`` numbers the sweeps 0, 1, …).

Sign conventions: the current is the source meter's signed setpoint (A); positive current
gives H_DL > 0, which drives m toward +σ (the polarizer). Fields are μ0·H (T) along the
magnet's axis (in plane on the standard ``spectrum`` wiring). Power is what the analyzer
displays (dBm in its resolution bandwidth, with the trace detector as set on the analyzer).
The oscillator's line is noise-like, so a peak ("normal") detector reads it high by the
maximum of the RBW cells in a trace bucket; the defaults keep span/(points − 1) ≈ RBW and the
video bandwidth at RBW/10, which narrows the cells' fluctuations: on the simulated bench the
integrated power then reads ≈ 15 % high (an averaging detector set on the instrument removes
that). The ``Voltage (V)`` column is the source meter's dc reading when ``Read dc voltage`` is
on, NaN otherwise (on the simulated bench a dc reading of this low-barrier magnet runs a
thermal-average LLG of about a minute, hence off by default).
"""
from __future__ import annotations

import numpy as np
from pymeasure.experiment import BooleanParameter, FloatParameter, IntegerParameter, Parameter

from labspin.bench.safety import check_limit

from .base import LabspinProcedure, parse_numbers


def parse_values(text, name: str, unit: str) -> np.ndarray:
    """Get the values of a list/range parameter: "a, b, c" or "start:stop:n" (n values
    evenly spaced, both ends included); ValueError names the parameter."""
    return np.array(parse_numbers(text, name, unit, ranges=True, example="0.001:0.005:5"))


class StnoSpectrum(LabspinProcedure):
    """Record the oscillator's spectrum at each (field, current): dc current through the bias
    tee from the source meter, one averaged sweep of the spectrum analyzer on the rf port."""
    NAME = "stno-spectrum"
    DESCRIPTION = ("spin-torque oscillator spectra vs dc current and field (source meter "
                   "through a bias tee, spectrum analyzer on the rf port)")
    WIRING = "spectrum"
    SAMPLE = "spin_torque_oscillator"

    currents = Parameter("Currents (A)",
                         default="0.1e-3, 0.2e-3, 0.3e-3, 0.4e-3, 0.5e-3")
    fields = Parameter("Fields (T)", default="0")
    start_frequency = FloatParameter("Start frequency", units="Hz", default=0.5e9,
                                     minimum=0.0, maximum=50e9)
    stop_frequency = FloatParameter("Stop frequency", units="Hz", default=20e9,
                                    minimum=1.0, maximum=50e9)
    rbw = FloatParameter("Resolution bandwidth", units="Hz", default=8e6, minimum=1.0,
                         maximum=8e6)
    vbw = FloatParameter("Video bandwidth", units="Hz", default=0.8e6, minimum=1.0,
                         maximum=50e6)
    sweep_points = IntegerParameter("Sweep points", default=2001, minimum=101, maximum=40001)
    averages = IntegerParameter("Averages", default=16, minimum=1, maximum=10000)
    read_voltage = BooleanParameter("Read dc voltage", default=False)
    delay = FloatParameter("Delay per current", units="s", default=0.1, minimum=0.0,
                           maximum=3600.0)

    DATA_COLUMNS = ["Trace", "Field set (T)", "Field (T)", "Current (A)", "Voltage (V)",
                    "Resolution bandwidth (Hz)", "Frequency (Hz)", "Power (dBm)"]

    def _grid(self) -> tuple[np.ndarray, np.ndarray]:
        return (parse_values(self.fields, "Fields", "T"),
                parse_values(self.currents, "Currents", "A"))

    def check(self, config) -> None:
        fields, currents = self._grid()
        lim = config.limits
        check_limit("parameter 'Currents'", float(np.max(np.abs(currents))), 0.0,
                    lim.max_sample_current_A, "A")
        check_limit("parameter 'Fields'", float(np.max(np.abs(fields))), 0.0,
                    config.settable_field_T, "T")
        if not self.start_frequency < self.stop_frequency:
            raise ValueError(f"parameter 'Start frequency' = {self.start_frequency:g} Hz must "
                             f"be below 'Stop frequency' = {self.stop_frequency:g} Hz")
        if np.any(fields != 0.0) and config.magnet is None:
            raise ValueError("parameter 'Fields' asks for a field but the bench config has no "
                             "[magnet]; use Fields = 0")
        for role in ("source_meter", "spectrum_analyzer"):
            if not config.by_role(role):
                raise ValueError(f"stno-spectrum needs a {role} in the bench config")

    def estimate(self) -> tuple[int, float]:
        fields, currents = self._grid()
        span = self.stop_frequency - self.start_frequency
        sweep = max(2.5 * span / (self.rbw * min(self.rbw, self.vbw)), 1e-3) * self.averages
        n = fields.size * currents.size
        return n * self.sweep_points, n * (self.delay + sweep) + 4 * np.max(np.abs(fields)) / 0.05

    def startup(self) -> None:
        sa = self.bench.role("spectrum_analyzer")
        sa.center_frequency = 0.5 * (self.start_frequency + self.stop_frequency)
        sa.span = self.stop_frequency - self.start_frequency
        sa.resolution_bandwidth = self.rbw
        sa.video_bandwidth = self.vbw
        sa.sweep_points = self.sweep_points
        sa.averages = self.averages
        smu = self.bench.role("source_meter")
        smu.source_mode = "current"
        smu.compliance_voltage = min(10.0, self.bench.config.limits.max_sample_voltage_V)
        smu.source_current = 0.0
        smu.source_enabled = True

    def execute(self) -> None:
        smu = self.bench.role("source_meter")
        sa = self.bench.role("spectrum_analyzer")
        fields, currents = self._grid()
        total, k = fields.size * currents.size, 0
        for field in fields:
            if self.bench.magnet is not None:
                measured = self.bench.magnet.set_field(float(field))
            else:
                measured = float(field)
            for current in currents:
                if self.should_stop():
                    return
                smu.ramp_to_current(float(current))
                self.sleep(self.delay)
                volts = smu.measure_voltage() if self.read_voltage else float("nan")
                freq, dbm = sa.read_trace()
                rbw = sa.resolution_bandwidth
                for f, p in zip(freq, dbm):
                    self.emit("results", {
                        "Trace": k, "Field set (T)": float(field), "Field (T)": measured,
                        "Current (A)": float(current), "Voltage (V)": volts,
                        "Resolution bandwidth (Hz)": rbw, "Frequency (Hz)": float(f),
                        "Power (dBm)": float(p)})
                k += 1
                self.emit("progress", 100.0 * k / total)
