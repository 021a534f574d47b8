"""stfmr: spin-torque ferromagnetic resonance (Liu et al., PRL 106, 036601, 2011).

An rf source drives I_rf·cos ωt through the bias tee into the sample; its amplitude is
modulated (internal sine AM) and its LF output, carrying the same modulation, is the lock-in's
external reference. The lock-in on the bias tee's dc port reads the rectified mixing voltage
at the AM rate while the field sweeps through resonance, at each frequency, power and
(optionally) dc bias current through the tee (the source meter).

Conventions
- Fields μ0·H in tesla, at the in-plane angle ``Field angle`` from +x (the current
  direction); a negative field points along angle + 180°. ``Field (T)`` is the measured
  (gaussmeter) field, ``Field set (T)`` the setpoint.
- ``Vmix (V)`` is the lock-in's in-phase output X (V rms) with the reference phase 0, i.e.
  the AM-rate component of the rectified voltage: X = √2·d·V_mix for a sine AM of depth d
  (100 % → d = 1) and V_mix the unmodulated mixing voltage; ``Y (V)`` the quadrature. Only
  the line shape and S/A enter the analysis, so this scale factor cancels.
- dc current positive along +x (the source meter's sign).
"""
from __future__ import annotations

import math

import numpy as np
from pymeasure.experiment import (
    BooleanParameter,
    FloatParameter,
    IntegerParameter,
    ListParameter,
    Parameter,
)

from labspin.bench.safety import check_limit

from .base import FilmParameters, LabspinProcedure, LockInReadout, parse_numbers

RF_RANGE_HZ = (1e5, 70e9)
"""Frequencies accepted before the rf source's own range check (Hz)."""


def resonance_field_estimate(frequency_Hz: float, mu0_meff_T: float,
                             gamma_Hz_per_T: float) -> float:
    """Get the field μ0·H_res (T, ≥ 0) where the Kittel frequency of an in-plane field equals
    ``frequency_Hz``: the inverse of f = γ·√[B(B + μ0M_eff)] (physics.md check 5; for
    M_eff < 0 the branch above saturation). Used only to centre the sweep windows."""
    b2 = (frequency_Hz / gamma_Hz_per_T) ** 2
    m = mu0_meff_T
    return -0.5 * m + math.sqrt(0.25 * m * m + b2) if m >= 0 else \
        0.5 * -m + math.sqrt(0.25 * m * m + b2)


def check_rf_bench(name: str, config, frequencies_Hz, powers_dBm, power_name: str) -> None:
    """Check a resonance procedure's rf plan against the bench config before anything is
    sent: each frequency within RF_RANGE_HZ, each power (the parameter ``power_name``) within
    the bench's rf limit, a [magnet], an rf_source and a lock_in; else LimitError or
    ValueError naming the parameter or the missing part."""
    for f in frequencies_Hz:
        check_limit("parameter 'Frequencies'", f / 1e9, RF_RANGE_HZ[0] / 1e9,
                    RF_RANGE_HZ[1] / 1e9, "GHz")
    for p in powers_dBm:
        check_limit(f"parameter '{power_name}'", p, -150.0, config.limits.max_rf_power_dBm,
                    "dBm")
    if config.magnet is None:
        raise ValueError(f"{name} needs a [magnet] in the bench config")
    for role in ("rf_source", "lock_in"):
        if not config.by_role(role):
            raise ValueError(f"{name} needs a {role} in the bench config")
    from labspin.bench.registry import driver_class
    source = config.by_role("rf_source")[0]
    low, high, _ = driver_class(source.driver).SAFE_LIMITS["power"]
    for p in powers_dBm:            # the source's own range, not only the bench's limit
        check_limit(f"parameter '{power_name}' (the range of {source.name}, {source.driver})",
                    p, low, min(high, config.limits.max_rf_power_dBm), "dBm")


class STFMR(LabspinProcedure, FilmParameters, LockInReadout):
    """ST-FMR field sweeps with AM lock-in detection of the mixing voltage.

    For every power (dBm), dc current (A) and frequency, the field sweeps over a window —
    around the resonance expected from ``Expected mu0 Meff`` and ``Expected gamma/2pi``, or a
    fixed range — on the positive and (optionally) the negative side, magnitudes rising.
    """
    NAME = "stfmr"
    DESCRIPTION = ("ST-FMR: AM-modulated rf through a bias tee, lock-in on the dc port, "
                   "field sweeps per frequency and power")
    WIRING = "stfmr"
    SAMPLE = "inplane_sot_hallbar"
    SIM_MAGNET = {"axis": "inplane", "angle_deg": 45.0}

    frequencies = Parameter("Frequencies (GHz)", default="6, 12, 18")
    """Comma-separated list of carrier frequencies in GHz (e.g. "4, 6.5, 9")."""
    powers = Parameter("Powers (dBm)", default="10")
    """Comma-separated list of rf powers in dBm at the source output."""
    dc_currents = Parameter("DC currents (A)", default="0")
    """Comma-separated list of dc bias currents (A, + along +x) through the tee; "0": none
    (the source meter is then left off)."""
    field_angle = FloatParameter("Field angle", units="deg", default=45.0, minimum=-360.0,
                                 maximum=360.0)
    field_range = ListParameter("Field range", choices=["around Kittel estimate", "fixed"],
                                default="around Kittel estimate")
    meff_guess = FloatParameter("Expected mu0 Meff", units="T", default=0.8, minimum=-5.0,
                                maximum=5.0)
    gamma_guess = FloatParameter("Expected gamma/2pi", units="Hz/T", default=29.0e9,
                                 minimum=1e9, maximum=100e9)
    window_placement = ListParameter("Window placement", choices=["measured lines",
                                                                  "Kittel estimate"],
                                     default="measured lines")
    """'measured lines': each window is centred on the resonance the lines measured so far
    predict (the same frequency's, else μ0M_eff inverted from each measured line at the
    expected γ, their median), and a window that misses its line is followed by a coarse
    pass (:meth:`coarse_window`) and a fine sweep around what it found; 'Kittel estimate':
    every window from 'Expected mu0 Meff' alone."""
    field_halfwidth = FloatParameter("Field half window", units="T", default=0.03,
                                     minimum=1e-4, maximum=5.0)
    field_min = FloatParameter("Fixed range min field", units="T", default=0.01, minimum=0.0,
                               maximum=10.0)
    field_max = FloatParameter("Fixed range max field", units="T", default=0.3, minimum=0.0,
                               maximum=10.0)
    field_points = IntegerParameter("Field points", default=61, minimum=3, maximum=100000)
    both_polarities = BooleanParameter("Both field polarities", default=True)
    am_frequency = FloatParameter("AM frequency", units="Hz", default=1000.0, minimum=1.0,
                                  maximum=100e3)
    am_depth = FloatParameter("AM depth", units="%", default=100.0, minimum=1.0, maximum=100.0)
    lf_amplitude = FloatParameter("LF output amplitude", units="V", default=1.0, minimum=0.01,
                                  maximum=3.5)

    DATA_COLUMNS = ["Frequency (Hz)", "Power (dBm)", "DC current (A)", "Field angle (deg)",
                    "Field set (T)", "Field (T)", "Vmix (V)", "Y (V)", "Sensitivity (V)"]

    # --- plan ---------------------------------------------------------------------------
    def frequency_list(self) -> list[float]:
        """Get the carrier frequencies (Hz)."""
        return parse_numbers(self.frequencies, "Frequencies", "GHz", scale=1e9)

    def power_list(self) -> list[float]:
        """Get the rf powers (dBm)."""
        return parse_numbers(self.powers, "Powers", "dBm")

    def current_list(self) -> list[float]:
        """Get the dc bias currents (A)."""
        return parse_numbers(self.dc_currents, "DC currents", "A")

    def field_window(self, frequency_Hz: float, centre_T: float | None = None,
                     top_T: float | None = None) -> np.ndarray:
        """Get the field magnitudes (T, rising) of the sweep at one frequency: the fixed range,
        or ± 'Field half window' around ``centre_T`` (default: the Kittel estimate from
        'Expected mu0 Meff' and 'Expected gamma/2pi'). With ``top_T`` (the bench's settable
        field) a window placed beyond it is shifted down to end there, its width kept: a
        resonance the magnet cannot reach (a low M_eff at a high frequency) costs that
        frequency's line, which the analysis names as outside its window, not the run."""
        if self.field_range == "fixed":
            lo, hi = self.field_min, self.field_max
        else:
            b0 = centre_T if centre_T is not None else resonance_field_estimate(
                frequency_Hz, self.meff_guess, self.gamma_guess)
            lo, hi = max(0.0, b0 - self.field_halfwidth), b0 + self.field_halfwidth
            if top_T is not None and hi > top_T:
                lo, hi = max(0.0, top_T - 2 * self.field_halfwidth), top_T
        return np.linspace(lo, hi, self.field_points)

    def _adaptive(self) -> bool:
        return (self.field_range == "around Kittel estimate"
                and self.window_placement == "measured lines")

    def predicted_resonance(self, frequency_Hz: float, measured: dict) -> float:
        """Get the window centre (T) at ``frequency_Hz`` from ``measured`` ({frequency Hz:
        resonance field T} of the usable lines so far): the same frequency's line, else the
        Kittel field of the median μ0M_eff = (f/γ)²/B − B over the measured lines (γ the
        expected one), else the 'Expected mu0 Meff' estimate."""
        if frequency_Hz in measured:
            return measured[frequency_Hz]
        meff = self.meff_guess
        if measured:
            meff = float(np.median([(f / self.gamma_guess) ** 2 / b - b
                                    for f, b in measured.items()]))
        return resonance_field_estimate(frequency_Hz, meff, self.gamma_guess)

    def measured_resonance(self, fields_T, v_V) -> float | None:
        """Get the resonance field (T) of one measured sweep when it holds a usable line
        (the analysis's own line fit and quality control), else None."""
        from .stfmr_analysis import fit_line, line_quality
        try:
            fit = fit_line(fields_T, v_V)
        except (ValueError, RuntimeError, np.linalg.LinAlgError):
            return None
        return fit["mu0_hres_T"] if line_quality(fit, v_V) is None else None

    def coarse_window(self, frequency_Hz: float) -> np.ndarray:
        """Get the coarse pass's fields (T, rising): the resonances of μ0M_eff from a third
        of 'Expected mu0 Meff' to three times it (|μ0M_eff| ≥ 0.1 T), ± 'Field half window',
        at three times 'Field points', within the field limit."""
        m = max(abs(self.meff_guess), 0.1) * np.sign(self.meff_guess or 1.0)
        ends = [resonance_field_estimate(frequency_Hz, m * k, self.gamma_guess)
                for k in (1 / 3, 3.0)]
        lo = max(0.0, min(ends) - self.field_halfwidth)
        hi = min(max(ends) + self.field_halfwidth, self.bench.config.settable_field_T)
        return np.linspace(lo, hi, 3 * self.field_points)

    def sweeps(self):
        """Yield (power dBm, dc current A, frequency Hz, signed fields T) of every sweep."""
        signs = (1.0, -1.0) if self.both_polarities else (1.0,)
        for p in self.power_list():
            for i in self.current_list():
                for f in self.frequency_list():
                    mags = self.field_window(f)
                    for s in signs:
                        yield p, i, f, s * mags

    def check(self, config) -> None:
        lim = config.limits
        freqs = self.frequency_list()
        check_rf_bench(self.NAME, config, freqs, self.power_list(), "Powers")
        for i in self.current_list():
            check_limit("parameter 'DC currents'", abs(i), 0.0, lim.max_sample_current_A, "A")
        if self.field_range == "fixed" and self.field_min > self.field_max:
            raise ValueError(f"parameter 'Fixed range min field' = {self.field_min} T exceeds "
                             f"'Fixed range max field' = {self.field_max} T")
        top = max(float(self.field_window(f)[-1]) for f in freqs)
        name = ("parameter 'Fixed range max field'" if self.field_range == "fixed" else
                "parameter 'Field half window' (with the Kittel estimate, the sweep's "
                "largest field)")
        check_limit(name, top, 0.0, config.settable_field_T, "T")
        if any(i != 0 for i in self.current_list()) and not config.by_role("source_meter"):
            raise ValueError("parameter 'DC currents' is not 0 but the bench has no "
                             "source_meter to drive it through the bias tee")

    def estimate(self) -> tuple[int, float]:
        n = sum(len(b) for *_, b in self.sweeps())
        per_point = self.settle * self.time_constant + 1.0 + 0.05 * self.averages
        return n, n * per_point

    # --- run ----------------------------------------------------------------------------
    def startup(self) -> None:
        b = self.bench
        lockin = b.role("lock_in")
        lockin.reference_source = "external"
        lockin.harmonic = 1
        self.set_up_lockin(lockin, self.sensitivity, filter_slope=24)
        rf = b.role("rf_source")
        rf.output_enabled = False
        rf.configure_am_reference(self.am_frequency, self.am_depth, self.lf_amplitude)
        b.set_field_angle(self.field_angle)
        if any(i != 0 for i in self.current_list()):
            smu = b.role("source_meter")
            smu.source_mode = "current"
            smu.compliance_voltage = min(10.0, b.config.limits.max_sample_voltage_V)
            smu.source_enabled = True

    def execute(self) -> None:
        b = self.bench
        lockin, rf = b.role("lock_in"), b.role("rf_source")
        smu = b.role("source_meter") if any(i != 0 for i in self.current_list()) else None
        self._n_total, self._done = self.estimate()[0], 0
        self._rf_on = False
        current_now = 0.0
        measured: dict[float, float] = {}          # frequency → resonance of a usable line
        top = b.config.settable_field_T
        for power, i_dc, f, fields in self.sweeps():
            if self.should_stop():
                return
            if smu is not None and i_dc != current_now:
                smu.ramp_to_current(i_dc)
                current_now = i_dc
            self._tune(rf, f, power)
            if not self._adaptive():
                if self._sweep(lockin, power, i_dc, f, fields) is None:
                    return
            elif fields[-1] > 0:
                # the first (positive) polarity: place the window from the lines so far
                centre = self.predicted_resonance(f, measured)
                got = self._sweep(lockin, power, i_dc, f, self.field_window(f, centre, top))
                if got is None:
                    return
                b_res = self.measured_resonance(*got)
                if b_res is None:          # missed: a coarse pass, then the fine sweep
                    got = self._sweep(lockin, power, i_dc, f, self.coarse_window(f))
                    if got is None:
                        return
                    b_res = self.measured_resonance(*got)
                    if b_res is not None and self._sweep(
                            lockin, power, i_dc, f, self.field_window(f, b_res, top)) is None:
                        return
                if b_res is not None:
                    measured[f] = b_res
                self._window = self.field_window(f, measured.get(f, centre), top)
            else:                                  # the negative polarity: the same window
                if self._sweep(lockin, power, i_dc, f, -self._window) is None:
                    return

    def _tune(self, rf, frequency_Hz: float, power_dBm: float) -> None:
        rf.frequency = frequency_Hz
        if not self._rf_on:
            rf.power = power_dBm
            rf.output_enabled = True
            self._rf_on = True
        elif abs(float(rf.power) - power_dBm) > 1e-9:
            rf.ramp_to_power(power_dBm)          # the output is checked at the ramp's end
        else:
            rf.check_output()                    # a new frequency may not level (issue 13)

    def _sweep(self, lockin, power, i_dc, f, fields):
        """Measure one sweep at the signed ``fields`` (T); get (measured fields, Vmix), None
        when stopped."""
        b, v = [], []
        for b_set in fields:
            if self.should_stop():
                return None
            measured, x, y = self._read_at_field(lockin, float(b_set))
            self.emit("results", {
                "Frequency (Hz)": f, "Power (dBm)": power, "DC current (A)": i_dc,
                "Field angle (deg)": self.field_angle, "Field set (T)": float(b_set),
                "Field (T)": measured, "Vmix (V)": x, "Y (V)": y,
                "Sensitivity (V)": float(lockin.sensitivity)})
            b.append(measured)
            v.append(x)
            self._done += 1
            self.emit("progress", min(100.0, 100.0 * self._done / self._n_total))
        return np.asarray(b), np.asarray(v)
