"""switching-probability: N trials per write-pulse amplitude and width (reset pulse, read,
write pulse, read) on a two-state device (an MTJ pillar), giving the switching probability
with a Beta-posterior interval.

Sign convention: pulse levels are signed volts into 50 Ω (the pulse generator role); on the
simulated pillars (mtj_pillar, mtj_pillar_switching) a positive pulse drives the free layer
toward +z (parallel, low R) and a negative one toward −z (antiparallel, high R). The default
resets with a positive pulse (→ P) and writes with negative pulses (P → AP).

Defaults: made for the simulated mtj_pillar_switching (Δ ≈ 50, I_c0 ≈ 220 µA, R_P = 1 kΩ)
behind the pulsed wiring's 1.5 kΩ protection resistor: 10 write levels of 175–287.5 mV
(137–225 µA, ≈ 0.62–1.02 I_c0) at 10 and 30 ns, 40 trials each (800), span the switching
probability from ≈ 0 to ≈ 1 at both widths (the model's 0.006–0.955 at 10 ns, 0.03–1 at
30 ns), where the fit of the analysis gets Δ to ≈ 12 % and I_c0 to ≈ 2.4 % (Fisher errors
at the truth). The reset (480 mV, 30 ns: 256 µA, ≈ 1.16 I_c0 into R_AP) is close to the
largest the junction allows (a level of 0.5 V: its 1 V across an open device), so it is
long: the precessional switching time τ_D·ln(π/2θ0)/(I/I_c0 − 1) is ≈ 7 ns for a typical
thermal start (θ0 ≈ Δ^−½), and a start close enough to the axis to outlast 30 ns has a
probability ≈ Δ(π/2)²·exp(−2·30 ns·0.16/τ_D) ≈ 3e-7 (τ_D ≈ 0.5 ns); a failed reset is
retried. The dry run takes ≈ 40 s of CPU (the 30 ns resets double the simulated pulse time
of the former 5 ns ones, which a 100 Ω pulse line let run at ≈ 1.8 I_c0).

The pulse current in the sample is that of a 50 Ω generator into the device's resistance R
(measured after the reset) and the bench's series resistor R_s: I = 2V/(50 Ω + R_s + R) (the
level V is set as into a 50 Ω load, so the EMF is 2V). Recorded as "Pulse current (A)" (its
magnitude); the analysis fits against it, with what else sets the switching: the pulse's
edges ("Pulse rise (s)", the parameter "Pulse rise time": the generator's linear transition
time, inside the full width, recorded only — the pulse_generator role does not set it; 1 ns
is the 81160A's default, the simulated one's), the read current flowing during the pulse
("Bias current (A)", signed), and the times from the read after the reset to the pulse and
from the pulse to the read after it ("Wait before pulse (s)", "Wait after pulse (s)", means
over the trials, on the bench clock), over which a low-barrier magnet may also hop
thermally. "Damping" and "Anisotropy field" (μ0H_K of the easy axis, e.g. −μ0M_eff of a
perpendicular free layer), when known (from FMR, loops), fix the attempt time of the
analysis' fit; 0 leaves it free.
"""
from __future__ import annotations

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter, Parameter

from labspin.bench.limits import output_limits, series_resistance_ohm
from labspin.bench.safety import check_limit
from labspin.physics.counting import INTERVAL_CL, beta_interval  # noqa: F401 (re-exported)

from .base import LabspinProcedure, parse_numbers

Z0_OHM = 50.0
"""Source impedance of the pulse generator and the load its levels are set for (Ω)."""


class SwitchingProbability(LabspinProcedure):
    """For each write-pulse width and level: ``trials`` times reset (one pulse of the reset
    level), read, write (one pulse), read; a trial switched when the read after the write
    differs from the read after the reset by more than ``threshold`` (relative). The source
    meter keeps a small read current through the device throughout."""
    NAME = "switching-probability"
    DESCRIPTION = "Switching probability vs write-pulse amplitude and width (Beta interval)"
    WIRING = "pulsed"
    SAMPLE = "mtj_pillar_switching"
    SIM_MAGNET = {"axis": "z"}

    amplitudes = Parameter("Write amplitudes (V)",
                           default="-0.175,-0.1875,-0.2,-0.2125,-0.225,-0.2375,-0.25,-0.2625,"
                                   "-0.275,-0.2875")
    widths = Parameter("Write widths (s)", default="1e-8,3e-8")
    trials = IntegerParameter("Trials per point", default=40, minimum=1, maximum=100000)
    reset_amplitude = FloatParameter("Reset amplitude", units="V", default=0.48,
                                     minimum=-10.0, maximum=10.0)
    reset_width = FloatParameter("Reset width", units="s", default=3e-8, minimum=1e-10,
                                 maximum=1.0)
    read_current = FloatParameter("Read current", units="A", default=1e-6, minimum=1e-9,
                                  maximum=1e-2)
    threshold = FloatParameter("Switch threshold", default=0.2, minimum=1e-3, maximum=10.0)
    field = FloatParameter("Field", units="T", default=0.0, minimum=-10.0, maximum=10.0)
    settle = FloatParameter("Delay after a pulse", units="s", default=1e-3, minimum=0.0,
                            maximum=60.0)
    rise_time = FloatParameter("Pulse rise time", units="s", default=1e-9, minimum=0.0,
                               maximum=1e-3)
    damping = FloatParameter("Damping", default=0.0, minimum=0.0, maximum=1.0)
    anisotropy_field = FloatParameter("Anisotropy field", units="T", default=0.0, minimum=0.0,
                                      maximum=20.0)

    DATA_COLUMNS = ["Pulse amplitude (V)", "Pulse width (s)", "Pulse current (A)", "Field (T)",
                    "Trials", "Switched", "Probability", "Probability low",
                    "Probability high", "R reset (ohm)", "R switched (ohm)", "Reset failures",
                    "Pulse rise (s)", "Bias current (A)", "Wait before pulse (s)",
                    "Wait after pulse (s)"]

    def _grid(self):
        amps = parse_numbers(self.amplitudes, "Write amplitudes (V)")
        widths = parse_numbers(self.widths, "Write widths (s)")
        return [(w, a) for w in widths for a in amps]

    def check(self, config) -> None:
        lim = config.limits
        grid = self._grid()
        if not config.by_role("pulse_generator"):
            raise ValueError("switching-probability needs a pulse_generator on the bench")
        # the bench's limit: the EMF 2V into an open device, and its current into a shorted
        # one behind 50 Ω and the bench's series resistor, whatever the device's resistance
        amp = output_limits(config, config.by_role("pulse_generator")[0])["amplitude"]
        amp.check("parameter 'Write amplitudes'", max(abs(a) for _, a in grid))
        amp.check("parameter 'Reset amplitude'", abs(self.reset_amplitude))
        if any(w <= 0 for w, _ in grid):
            raise ValueError("parameter 'Write widths (s)' must be > 0 s")
        if 2 * self.rise_time > min(w for w, _ in grid):
            raise ValueError(f"parameter 'Pulse rise time' = {self.rise_time:g} s: the edges "
                             "lie inside the width, so it must be ≤ half the shortest write "
                             f"width ({min(w for w, _ in grid):g} s)")
        check_limit("parameter 'Read current'", self.read_current, 0.0,
                    lim.max_sample_current_A, "A")
        if abs(self.field) > 0:
            check_limit("parameter 'Field'", abs(self.field), 0.0, config.settable_field_T, "T")
            if config.magnet is None:
                raise ValueError("parameter 'Field' is set but the bench has no [magnet]")
        if not config.by_role("source_meter"):
            raise ValueError("switching-probability needs a source_meter to read")

    def estimate(self) -> tuple[int, float]:
        grid = self._grid()
        return len(grid), len(grid) * self.trials * (2 * self.settle + 0.1)

    def startup(self) -> None:
        smu = self.bench.role("source_meter")
        smu.source_mode = "current"
        smu.compliance_voltage = min(2.0, self.bench.config.limits.max_sample_voltage_V)
        smu.source_enabled = True
        smu.ramp_to_current(self.read_current)
        pulser = self.bench.role("pulse_generator")
        pulser.configure_pulse_mode()        # single triggered pulses on a 0 V baseline
        self._field_measured = float(self.field)
        if self.bench.magnet is not None:
            self._field_measured = float(self.bench.magnet.set_field(float(self.field)))

    def _read(self) -> float:
        return self.bench.role("source_meter").measure_voltage() / self.read_current

    def _pulse(self, level: float, width: float) -> tuple[float, float]:
        """One pulse: levels are changed with the output off (a sign change with the output
        on passes ±the smallest level through the device for a moment). Get the bench-clock
        times (s) just before and just after the pulse."""
        pulser = self.bench.role("pulse_generator")
        pulser.output_enabled = False
        pulser.amplitude = level
        pulser.width = width
        pulser.output_enabled = True
        t0 = self.bench.clock.now()
        pulser.fire(1)
        t1 = max(self.bench.clock.now(), t0 + width)
        pulser.output_enabled = False
        self.sleep(self.settle)
        return t0, t1

    def _reset(self) -> tuple[float, int]:
        """Reset (up to 3 tries until the state matches the first reset's); get (R, fails)."""
        fails = 0
        for _ in range(3):
            self._pulse(self.reset_amplitude, self.reset_width)
            r = self._read()
            if self._r_ref is None:
                self._r_ref = r
            if abs(r - self._r_ref) <= self.threshold * abs(self._r_ref):
                return r, fails
            fails += 1
        return r, fails

    def execute(self) -> None:
        grid = self._grid()
        field = self._field_measured
        clock = self.bench.clock
        self._r_ref = None
        r_series = series_resistance_ohm(self.bench.config, "pulse_generator")
        for k, (width, amp) in enumerate(grid):
            switched, fails, r_reset, r_sw, waits = 0, 0, [], [], []
            for _ in range(self.trials):
                if self.should_stop():
                    return
                r0, f = self._reset()
                t_read = clock.now()
                fails += f
                r_reset.append(r0)
                t_pulse = self._pulse(amp, width)
                r1 = self._read()
                waits.append((t_pulse[0] - t_read, clock.now() - t_pulse[1]))
                if abs(r1 - r0) > self.threshold * abs(r0):
                    switched += 1
                    r_sw.append(r1)
            r0m = float(np.mean(r_reset))
            _, lo, hi = beta_interval(switched, self.trials)
            self.emit("results", {
                "Pulse amplitude (V)": amp, "Pulse width (s)": width,
                "Pulse current (A)": 2.0 * abs(amp) / (Z0_OHM + r_series + abs(r0m)),
                "Field (T)": field, "Trials": self.trials, "Switched": switched,
                "Probability": switched / self.trials, "Probability low": float(lo),
                "Probability high": float(hi), "R reset (ohm)": r0m,
                "R switched (ohm)": float(np.mean(r_sw)) if r_sw else float("nan"),
                "Reset failures": fails, "Pulse rise (s)": self.rise_time,
                "Bias current (A)": self.read_current,
                "Wait before pulse (s)": float(np.mean([w[0] for w in waits])),
                "Wait after pulse (s)": float(np.mean([w[1] for w in waits]))})
            self.emit("progress", 100.0 * (k + 1) / len(grid))
