"""fmr: broadband ferromagnetic resonance with field modulation.

The film lies face down on a coplanar waveguide fed by the rf source; a diode after the
waveguide rectifies the transmitted power; modulation coils on the magnet's poles, driven by
the lock-in's sine output, modulate the field at the reference frequency, so the lock-in on
the diode reads the field derivative of the absorption, dP/dH. At every frequency the
field sweeps up through a window around the resonance.

Conventions
- Fields μ0·H in tesla, in plane along the waveguide (``Field angle`` from +x); ``Field (T)``
  the gaussmeter's reading after the lock-in's (``LockInReadout._read_at_field``),
  ``Field set (T)`` the setpoint.
- ``X (V)``, ``Y (V)``: the lock-in's outputs (V rms) at the modulation frequency,
  X = b_m·dV_diode/dB/√2 for a modulation b_m·sin ωt in phase with the sine output; b_m
  (the coils' peak field, T) is recorded in the header (``Modulation field``), only the line
  shape enters the analysis (``labspin analyze fmr``: derivative Lorentzians, Kittel,
  damping).
- Windows: the first frequency's window is centred on the Kittel estimate of ``Expected mu0
  Meff`` and ``Expected gamma/2pi``; every later one on the resonance the previous lines put
  there (the Kittel law through the lines measured so far, M_eff refitted at the expected γ),
  its half width at least 5 HWHM of the line those lines predict (Δ ∝ f from the widest
  so far), so a wide line is not cut by a fixed window. A window that holds no usable line
  is followed by a coarse pass (:meth:`FMR.coarse_window`: μ0M_eff from a third of the guess
  to three times it) and a fine sweep around what it found, so a wrong guess costs a coarse
  pass, not the run.
"""
from __future__ import annotations

import math

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter, Parameter

from labspin.bench.limits import output_limits
from labspin.bench.safety import LimitError, check_limit

from .base import LabspinProcedure, LockInReadout, parse_numbers
from .stfmr import check_rf_bench, resonance_field_estimate

SINE_MAX_V = 5.0
"""The SR830's largest sine output (V rms)."""


class FMR(LabspinProcedure, LockInReadout):
    """Broadband FMR field sweeps, field-modulated, diode and lock-in detection."""
    NAME = "fmr"
    DESCRIPTION = ("broadband FMR: rf through a waveguide, diode + lock-in on field "
                   "modulation from its sine output, field sweeps per frequency")
    WIRING = "fmr"
    SAMPLE = "py_film_fmr"
    SIM_MAGNET = {"axis": "inplane", "angle_deg": 0.0}

    frequencies = Parameter("Frequencies (GHz)", default="8, 12, 16")
    """Comma-separated carrier frequencies in GHz."""
    power = FloatParameter("Power", units="dBm", default=0.0, minimum=-60.0, maximum=30.0)
    field_angle = FloatParameter("Field angle", units="deg", default=0.0, minimum=-360.0,
                                 maximum=360.0)
    meff_guess = FloatParameter("Expected mu0 Meff", units="T", default=1.0, minimum=-5.0,
                                maximum=5.0)
    gamma_guess = FloatParameter("Expected gamma/2pi", units="Hz/T", default=29.0e9,
                                 minimum=1e9, maximum=100e9)
    field_halfwidth = FloatParameter("Field half window", units="T", default=0.015,
                                     minimum=1e-4, maximum=5.0)
    field_points = IntegerParameter("Field points", default=31, minimum=15, maximum=100000)
    modulation_frequency = FloatParameter("Modulation frequency", units="Hz", default=1000.0,
                                          minimum=1.0, maximum=100e3)
    modulation_amplitude = FloatParameter("Modulation amplitude", units="V", default=0.5,
                                          minimum=0.004, maximum=SINE_MAX_V)
    """The lock-in's sine output (V rms) into the modulation coils."""

    DATA_COLUMNS = ["Frequency (Hz)", "Power (dBm)", "Field angle (deg)", "Field set (T)",
                    "Field (T)", "X (V)", "Y (V)", "Sensitivity (V)"]

    def frequency_list(self) -> list[float]:
        """Get the carrier frequencies (Hz), in the order given."""
        return parse_numbers(self.frequencies, "Frequencies", "GHz", scale=1e9, positive=True)

    def window(self, frequency_Hz: float, meff_T: float, centre_T: float | None = None,
               halfwidth_T: float | None = None, top_T: float | None = None) -> np.ndarray:
        """Get the rising field magnitudes (T) of the window around ``centre_T`` (default: the
        Kittel resonance of ``frequency_Hz`` for μ0M_eff = ``meff_T`` at the expected γ),
        ± ``halfwidth_T`` (default 'Field half window'); with ``top_T`` (the settable field)
        a window beyond it is shifted down to end there, its width kept."""
        b0 = centre_T if centre_T is not None else resonance_field_estimate(
            frequency_Hz, meff_T, self.gamma_guess)
        half = self.field_halfwidth if halfwidth_T is None else halfwidth_T
        lo, hi = max(0.0, b0 - half), b0 + half
        if top_T is not None and hi > top_T:
            lo, hi = max(0.0, top_T - 2 * half), top_T
        return np.linspace(lo, hi, self.field_points)

    def coarse_window(self, frequency_Hz: float, top_T: float) -> np.ndarray:
        """Get the coarse pass's fields (T, rising): the resonances of μ0M_eff from a third
        of 'Expected mu0 Meff' to three times it (|μ0M_eff| ≥ 0.1 T), ± 'Field half window',
        at three times 'Field points', up to ``top_T``."""
        m = max(abs(self.meff_guess), 0.1) * np.sign(self.meff_guess or 1.0)
        ends = [resonance_field_estimate(frequency_Hz, m * k, self.gamma_guess)
                for k in (1 / 3, 3.0)]
        lo = max(0.0, min(ends) - self.field_halfwidth)
        hi = min(max(ends) + self.field_halfwidth, top_T)
        return np.linspace(lo, hi, 3 * self.field_points)

    def predicted_halfwidth(self, frequency_Hz: float, found: list) -> float:
        """Get the half window (T) at ``frequency_Hz``: 'Field half window', or 5 HWHM of the
        line the found ones [(f Hz, B_res T, HWHM T)] predict (Δ ∝ f, the widest), the larger."""
        if not found:
            return self.field_halfwidth
        return max(self.field_halfwidth, 5 * max(d * frequency_Hz / f for f, _, d in found))

    def check(self, config) -> None:
        freqs = self.frequency_list()
        check_rf_bench(self.NAME, config, freqs, [self.power], "Power")
        self.check_modulation_drive(config)
        # a window moved by the lines found (by up to one half window) stays covered
        top = max(float(self.window(f, self.meff_guess)[-1]) for f in freqs)
        check_limit("parameter 'Field half window' (with the Kittel estimate, the sweep's "
                    "largest field, plus one half window)", top + self.field_halfwidth, 0.0,
                    config.settable_field_T, "T")

    def check_modulation_drive(self, config) -> None:
        """Refuse a bench whose lock-in does not declare its modulation coils'
        ``max_coil_current_A`` (the sample's limits mean nothing for a coil), and a
        ``Modulation amplitude`` beyond what that current allows into a shorted coil."""
        lockins = config.by_role("lock_in")
        if not lockins:
            return                       # the bench's role check names the missing lock-in
        lockin = lockins[0]
        if lockin.max_coil_current_A is None:
            raise LimitError(f"{self.NAME}: lock_in {lockin.name} drives the field-modulation "
                             "coils, but the bench config gives no "
                             f"instruments.{lockin.name}.max_coil_current_A (the coils' or "
                             "their amplifier's largest peak current, A)")
        output_limits(config, lockin)["sine_amplitude"].check(
            "parameter 'Modulation amplitude'", self.modulation_amplitude)

    def estimate(self) -> tuple[int, float]:
        n = len(self.frequency_list()) * self.field_points
        return n, n * (self.settle * self.time_constant + 1.0 + 0.05 * self.averages)

    def startup(self) -> None:
        b = self.bench
        lockin = b.role("lock_in")
        lockin.reference_source = "internal"
        lockin.frequency = self.modulation_frequency
        lockin.sine_voltage = self.modulation_amplitude
        lockin.harmonic = 1
        lockin.time_constant = self.time_constant
        lockin.filter_slope = 24
        lockin.sensitivity = self.sensitivity
        b.role("rf_source").output_enabled = False
        b.set_field_angle(self.field_angle)

    def next_meff(self, found: list[tuple]) -> float:
        """Get μ0M_eff (T) of the Kittel law through the resonances found so far [(f Hz,
        B_res T, …)] at the expected γ (the median of the per-line inversions
        M = (f/γ)²/B − B); the guess while none is found."""
        if not found:
            return self.meff_guess
        g = self.gamma_guess
        return float(np.median([(f / g) ** 2 / b - b for f, b, *_ in found]))

    @staticmethod
    def _line(fields, xs, ys) -> tuple[float, float] | None:
        """Get (B_res, HWHM) (T) of one measured sweep when it holds a usable line (the
        analysis's own fit and quality control), else None."""
        from .fmr_analysis import fit_fmr_line, rotate_channels
        from .stfmr_analysis import line_quality
        try:
            signal = rotate_channels(xs, ys)[0]
            fit = fit_fmr_line(fields, signal, "derivative")
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            return None
        if line_quality(fit, signal) is not None:
            return None
        return fit["mu0_hres_T"], fit["mu0_dh_T"]

    @staticmethod
    def _coarse_line(fields, xs, ys) -> tuple[float, float] | None:
        """Get (B_res, HWHM) (T) of a coarse pass: its fitted line where it is usable, else
        the derivative line's peaks — the centre between the largest and the smallest
        reading and Δ = (√3/2)·their separation (the peak-to-peak width 2Δ/√3) — where their
        difference exceeds 20× the point-to-point noise (a line narrower than the coarse
        step is found, not fitted); None when neither."""
        from .fmr_analysis import rotate_channels
        line = FMR._line(fields, xs, ys)
        if line is not None:
            return line
        b = np.asarray(fields, float)
        sig = rotate_channels(xs, ys)[0]
        noise = 1.4826 * float(np.median(np.abs(np.diff(sig) - np.median(np.diff(sig)))))
        noise /= math.sqrt(2)
        hi, lo = int(np.argmax(sig)), int(np.argmin(sig))
        if not sig[hi] - sig[lo] > 20 * noise:
            return None
        step = float(np.median(np.abs(np.diff(b))))
        return 0.5 * (b[hi] + b[lo]), max(0.5 * math.sqrt(3) * abs(b[hi] - b[lo]), step)

    def _sweep(self, lockin, f: float, window, progress) -> tuple | None:
        """Sweep the field up through ``window`` at ``f``, emitting each point; get (fields,
        X, Y), None when stopped."""
        fields, xs, ys = [], [], []
        for b_set in window:
            if self.should_stop():
                return None
            measured, x, y = self._read_at_field(lockin, float(b_set))
            self.emit("results", {
                "Frequency (Hz)": f, "Power (dBm)": self.power,
                "Field angle (deg)": self.field_angle, "Field set (T)": float(b_set),
                "Field (T)": measured, "X (V)": x, "Y (V)": y,
                "Sensitivity (V)": float(lockin.sensitivity)})
            fields.append(measured)
            xs.append(x)
            ys.append(y)
            progress()
        return fields, xs, ys

    def execute(self) -> None:
        b = self.bench
        lockin, rf = b.role("lock_in"), b.role("rf_source")
        freqs = self.frequency_list()
        top = b.config.settable_field_T
        state = {"total": self.estimate()[0], "done": 0}

        def progress():
            state["done"] += 1
            state["total"] = max(state["total"], state["done"])
            self.emit("progress", 100.0 * state["done"] / state["total"])

        found: list[tuple[float, float, float]] = []       # (f, B_res, HWHM) of usable lines
        rf.power = self.power
        rf.output_enabled = True
        for f in freqs:
            if self.should_stop():
                return
            rf.frequency = f
            rf.check_output()                   # levelled at this frequency (issue 13)
            half = self.predicted_halfwidth(f, found)
            got = self._sweep(lockin, f, self.window(f, self.next_meff(found), None, half,
                                                     top), progress)
            if got is None:
                return
            line = self._line(*got)
            if line is None:                    # missed: a coarse pass, then a fine sweep
                got = self._sweep(lockin, f, self.coarse_window(f, top), progress)
                if got is None:
                    return
                line = self._coarse_line(*got)
                if line is not None:
                    half = max(half, 5 * line[1])
                    got = self._sweep(lockin, f, self.window(f, 0.0, line[0], half, top),
                                      progress)
                    if got is None:
                        return
                    line = self._line(*got) or line
            if line is not None:
                found.append((f, *line))
