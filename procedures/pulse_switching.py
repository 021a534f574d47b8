"""pulse-switching: write pulses from a pulse generator, each followed by a read at low dc
current with the source meter; the pulse amplitude runs up and down for each polarity
(a switching loop), optionally at each field of a list (the I–H phase diagram).

Sign conventions
    * Pulse amplitude (V) is the pulse generator's signed level into 50 Ω from a 0 V
      baseline (the ``pulse_generator`` role); positive pulses drive current in the same
      direction as a positive source-meter current (+x on the simulated bench). For a pillar
      with η > 0 and the reference layer along +z (``mtj_pillar``) positive pulses switch
      AP → P, negative pulses P → AP.
    * The pulse current (A) column is an estimate, not a measurement: the generator is an
      EMF of twice the set level behind 50 Ω (its expected load is 50 Ω), so
      I = 2V/(50 Ω + R_s + R) with R the resistance read just before the pulse and R_s the
      bench's series resistor in the pulse line (``series_resistance_ohm``).
    * Fields (T) are μ0·H along the electromagnet's axis (the film normal for the simulated
      perpendicular pillar).

Safety: the generator's output is switched off before the sign of the amplitude changes (a
polarity flip with the output on moves the baseline by up to ±50 mV on the 81160A, enough to
switch an MTJ) and the source meter's read current is ramped to zero before every pulse.
"""
from __future__ import annotations

import numpy as np
from pymeasure.experiment import BooleanParameter, FloatParameter, IntegerParameter, Parameter

from labspin.bench.limits import output_limits, series_resistance_ohm
from labspin.bench.safety import check_limit

from .base import LabspinProcedure, parse_numbers

Z0 = 50.0
"""Source impedance of the pulse generator and its expected load (Ω)."""


def parse_fields(text) -> list[float]:
    """Get the fields (T) of a list like "0, 0.01, -0.01"; ValueError naming the parameter."""
    return parse_numbers(text, "Fields", "T", example="-0.02, 0, 0.02")


def lobe_amplitudes(min_V: float, max_V: float, step_V: float) -> tuple[np.ndarray, np.ndarray]:
    """Get the magnitudes (V) of one lobe, min → max → min, and their branch (+1 rising,
    −1 falling)."""
    n = max(1, int(round((max_V - min_V) / step_V)))
    up = np.linspace(min_V, max_V, n + 1)
    down = up[-2::-1]
    return np.concatenate([up, down]), np.concatenate([np.ones(up.size), -np.ones(down.size)])


class PulseSwitching(LabspinProcedure):
    """Switching loops in pulse amplitude: for each field, for each cycle, a positive lobe
    then a negative lobe; each lobe starts with a read (no pulse: amplitude 0 and branch 0 in
    the file), then pulses of rising (branch +1) then, with 'Sweep down', falling (branch −1)
    magnitude, each followed by a read."""
    NAME = "pulse-switching"
    DESCRIPTION = ("write pulses (pulse generator) and low-current reads: switching loops "
                   "in pulse amplitude and the I–H phase diagram")
    WIRING = "pulsed"
    SAMPLE = "mtj_pillar"
    SIM_MAGNET = {"axis": "z"}

    min_amplitude = FloatParameter("Min amplitude", units="V", default=0.05, minimum=0.0,
                                   maximum=10.0)
    max_amplitude = FloatParameter("Max amplitude", units="V", default=0.48, minimum=1e-3,
                                   maximum=10.0)
    amplitude_step = FloatParameter("Amplitude step", units="V", default=0.01, minimum=1e-4,
                                    maximum=10.0)
    pulse_width = FloatParameter("Pulse width", units="s", default=2e-9, minimum=1e-10,
                                 maximum=1.0)
    cycles = IntegerParameter("Cycles", default=3, minimum=1, maximum=1000)
    sweep_down = BooleanParameter("Sweep down", default=True)
    """Whether each lobe runs back down (min → max → min); off: min → max only."""
    fields = Parameter("Fields", default="0")
    """μ0·H (T) at which loops are taken, e.g. "-0.02, 0, 0.02"."""
    read_current = FloatParameter("Read current", units="A", default=2e-6, minimum=1e-9,
                                  maximum=1.0)
    delay = FloatParameter("Delay after pulse", units="s", default=0.01, minimum=0.0,
                           maximum=3600.0)
    compliance = FloatParameter("Compliance voltage", units="V", default=1.0, minimum=0.01,
                                maximum=210.0)

    DATA_COLUMNS = ["Field set (T)", "Field (T)", "Cycle", "Branch", "Pulse amplitude (V)",
                    "Pulse width (s)", "Pulse current (A)", "Read current (A)", "Voltage (V)",
                    "Resistance (ohm)"]

    def check(self, config) -> None:
        from labspin.bench.registry import driver_class
        lim = config.limits
        gens = config.by_role("pulse_generator")
        if not gens:
            raise ValueError("pulse-switching needs a pulse_generator in the bench config")
        if not config.by_role("source_meter"):
            raise ValueError("pulse-switching needs a source_meter in the bench config")
        cls = driver_class(gens[0].driver)
        low, high, _ = cls.SAFE_LIMITS["amplitude"]
        wlow, whigh, _ = cls.SAFE_LIMITS["width"]
        floor = getattr(cls, "MIN_AMPLITUDE", 0.0)
        top = min(-low, high)
        check_limit("parameter 'Min amplitude'", self.min_amplitude, floor, top, "V")
        check_limit("parameter 'Max amplitude'", self.max_amplitude, self.min_amplitude, top,
                    "V")
        check_limit("parameter 'Pulse width'", self.pulse_width, wlow, whigh, "s")
        # the bench's limit: an EMF 2V within the sample's voltage (an open device) and
        # its current into a shorted device behind 50 Ω and the bench's series resistor
        output_limits(config, gens[0])["amplitude"].check("parameter 'Max amplitude'",
                                                          self.max_amplitude)
        check_limit("parameter 'Read current'", self.read_current, 0.0,
                    lim.max_sample_current_A, "A")
        check_limit("parameter 'Compliance voltage'", self.compliance, 0.0,
                    lim.max_sample_voltage_V, "V")
        fields = parse_fields(self.fields)
        for b in fields:
            check_limit("parameter 'Fields'", abs(b), 0.0, config.settable_field_T, "T")
        if any(b != 0.0 for b in fields) and config.magnet is None:
            raise ValueError("parameter 'Fields' other than 0 needs a [magnet] in the bench "
                             "config")

    def _lobe(self):
        mags, branches = lobe_amplitudes(self.min_amplitude, self.max_amplitude,
                                         self.amplitude_step)
        if not self.sweep_down:
            keep = branches > 0
            return mags[keep], branches[keep]
        return mags, branches

    def estimate(self) -> tuple[int, float]:
        mags, _ = self._lobe()
        n = len(parse_fields(self.fields)) * self.cycles * 2 * (mags.size + 1)
        return n, n * (self.delay + 0.05)

    def startup(self) -> None:
        pg = self.bench.role("pulse_generator")
        pg.output_enabled = False
        if hasattr(pg, "configure_pulse_mode"):
            pg.configure_pulse_mode()       # triggered single pulses on a 0 V baseline
        pg.width = self.pulse_width
        smu = self.bench.role("source_meter")
        smu.source_mode = "current"
        smu.compliance_voltage = self.compliance
        smu.source_enabled = True

    def _read(self, smu) -> float:
        smu.ramp_to_current(self.read_current)
        v = smu.measure_voltage()
        smu.ramp_to_current(0.0)
        return v

    def execute(self) -> None:
        pg = self.bench.role("pulse_generator")
        smu = self.bench.role("source_meter")
        fields = parse_fields(self.fields)
        r_series = series_resistance_ohm(self.bench.config, "pulse_generator")
        mags, branches = self._lobe()
        n_total, done = len(fields) * self.cycles * 2 * (mags.size + 1), 0
        for b in fields:
            measured = float("nan")
            if self.bench.magnet is not None:
                measured = self.bench.magnet.set_field(float(b))
            for cycle in range(self.cycles):
                for sign in (1.0, -1.0):
                    if self.should_stop():
                        return
                    # the sign changes only with the output off (see the module notes)
                    pg.output_enabled = False
                    pg.amplitude = sign * self.min_amplitude
                    pg.output_enabled = True
                    row = {"Field set (T)": b, "Field (T)": measured, "Cycle": cycle,
                           "Pulse width (s)": self.pulse_width,
                           "Read current (A)": self.read_current}
                    v = self._read(smu)
                    r = v / self.read_current
                    self.emit("results", {**row, "Branch": 0, "Pulse amplitude (V)": 0.0,
                                          "Pulse current (A)": 0.0, "Voltage (V)": v,
                                          "Resistance (ohm)": r})
                    done += 1
                    for mag, br in zip(mags, branches):
                        if self.should_stop():
                            return
                        a = sign * float(mag)
                        pg.amplitude = a
                        i_pulse = 2.0 * a / (Z0 + r_series + abs(r))
                        pg.fire()
                        self.sleep(self.delay)
                        v = self._read(smu)
                        r = v / self.read_current
                        self.emit("results", {**row, "Branch": br, "Pulse amplitude (V)": a,
                                              "Pulse current (A)": i_pulse, "Voltage (V)": v,
                                              "Resistance (ohm)": r})
                        done += 1
                        self.emit("progress", 100.0 * done / n_total)
        pg.output_enabled = False
