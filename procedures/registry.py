"""Every procedure, registered once: name → :class:`Entry` (procedure class, analysis, figure,
GUI views, a small configuration for the reliability campaign).

The command line (``labspin procedures``, ``run``, ``analyze``), the API, sequences, the GUI
(launcher, windows) and the tests all read this table; adding a procedure is one entry here
(plus its own modules). References are ``"module:name"`` inside ``labspin.procedures``,
imported only when used, so reading the table imports neither pymeasure nor matplotlib::

    "my-proc": Entry("my_proc:MyProc", "my_proc_analysis:analyze_my_proc", "plots:my_proc",
                     views=(View("Signal vs field", "Field (T)", "Signal (V)"),),
                     small={"points": 3}, quick={"points": 11},
                     headline="signal_slope_V_per_T"),
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from .views import View


@dataclass(frozen=True)
class Entry:
    """One procedure. procedure: its LabspinProcedure class; analysis: f(DataFrame,
    **options) → dict of design.md's keys; plot: f(df, result) → matplotlib Figure (the
    notebook figure of ``labspin analyze --plot``); views: its GUI window's plots (none: the
    first data column against the next two); small: parameters of a run of a few seconds
    with every code path (the reliability campaign aborts and faults it anywhere); quick:
    parameters of a run of a few seconds that the analysis still fits (the figure test draws
    it; none: the procedure's defaults); headline: the analysis key of the number the
    procedure is run for (the figure shows it)."""
    procedure: str
    analysis: str
    plot: str
    views: tuple[View, ...] = ()
    small: dict = field(default_factory=dict)
    quick: dict = field(default_factory=dict)
    headline: str = ""

    def load(self, what: str):
        """Get the object ``what`` ("procedure", "analysis" or "plot") refers to."""
        module, _, name = getattr(self, what).partition(":")
        return getattr(importlib.import_module(f"labspin.procedures.{module}"), name)


_STFMR_SWEEP = ("Frequency (Hz)", "Power (dBm)", "DC current (A)", "sign(Field set (T))")

REGISTRY: dict[str, Entry] = {
    "field-sweep": Entry(
        "field_sweep:FieldSweep", "field_sweep_analysis:analyze_loop", "plots:field_sweep",
        views=(View("R–H loop", "Field (T)", "Resistance (ohm)", breaks=("Probe",)),
               View("Measured field vs setpoint", "Field set (T)", "Field (T)",
                    symbols=True)),
        small={"max_field": 0.03, "field_step": 0.01},
        quick={"max_field": 0.2, "field_step": 0.02},
        headline="mu0_hc_T"),
    "current-sweep": Entry(
        "current_sweep:CurrentSweep", "current_sweep_analysis:analyze_current_sweep",
        "plots:current_sweep",
        views=(View("R–I loops", "Current (A)", "Resistance (ohm)", breaks=("Cycle",),
                    shade_by="Cycle"),
               View("V–I", "Current (A)", "Voltage (V)", breaks=("Cycle",),
                    shade_by="Cycle")),
        small={"max_current": 6e-6, "current_step": 2e-6, "cycles": 1},
        quick={"cycles": 1, "current_step": 1e-6},
        headline="ic_pos_A"),
    "pulse-switching": Entry(
        "pulse_switching:PulseSwitching", "pulse_switching_analysis:analyze_pulse_switching",
        "plots:pulse_switching",
        views=(View("R after each pulse", "Pulse amplitude (V)", "Resistance (ohm)",
                    breaks=("Field set (T)", "Cycle"), shade_by="Field set (T)",
                    symbols=True),
               View("R vs pulse current", "Pulse current (A)", "Resistance (ohm)",
                    breaks=("Field set (T)", "Cycle"), shade_by="Field set (T)",
                    symbols=True)),
        small={"min_amplitude": 0.05, "max_amplitude": 0.2, "amplitude_step": 0.05,
               "cycles": 1, "sweep_down": False},
        quick={"fields": "0, 0.02", "cycles": 2, "amplitude_step": 0.025},
        headline="vc_pos_V"),
    "stfmr": Entry(
        "stfmr:STFMR", "stfmr_analysis:analyze_stfmr", "plots:stfmr",
        views=(View("Vmix vs field, per frequency", "Field (T)", "Vmix (V)",
                    breaks=_STFMR_SWEEP, shade_by="Frequency (Hz)"),
               View("Y (quadrature) vs field", "Field (T)", "Y (V)", breaks=_STFMR_SWEEP,
                    shade_by="Frequency (Hz)")),
        small={"frequencies": "6", "field_points": 5, "both_polarities": False,
               "dc_currents": "0.002"},
        # ±20 mT in 21 points: a 2 mT step resolves the 8 GHz line (HWHM ≈ 1.4 mT), which
        # the line quality control rejects at the default ±30 mT window (3 mT step)
        # with I = 0 among the dc currents: the damping fit takes the lines at the smallest
        # |I|, and at ±2 mA alone their widths differ by the antidamping (±35 %)
        quick={"frequencies": "8, 12", "dc_currents": "-0.002, 0, 0.002",
               "field_points": 21, "field_halfwidth": 0.02},
        headline="alpha"),
    "fmr": Entry(
        "fmr:FMR", "fmr_analysis:analyze_fmr", "plots:fmr",
        views=(View("Lock-in X vs field, per frequency", "Field (T)", "X (V)",
                    breaks=("Frequency (Hz)",), shade_by="Frequency (Hz)"),
               View("Lock-in Y vs field", "Field (T)", "Y (V)", breaks=("Frequency (Hz)",),
                    shade_by="Frequency (Hz)")),
        small={"frequencies": "8", "field_points": 15},
        quick={"frequencies": "8, 12", "field_points": 25},
        headline="alpha"),
    "switching-probability": Entry(
        "switching_probability:SwitchingProbability",
        "switching_probability_analysis:analyze_switching_probability",
        "plots:switching_probability",
        views=(View("Switching probability", "Pulse amplitude (V)", "Probability",
                    breaks=("Pulse width (s)",), shade_by="Pulse width (s)", symbols=True),
               View("Probability vs pulse current", "Pulse current (A)", "Probability",
                    breaks=("Pulse width (s)",), shade_by="Pulse width (s)", symbols=True)),
        small={"trials": 2, "amplitudes": "-0.06,-0.1", "widths": "5e-9"},
        quick={"trials": 8},
        headline="delta"),
    "tmr-statistics": Entry(
        "tmr_statistics:TmrStatistics", "tmr_statistics_analysis:analyze_tmr_statistics",
        "plots:tmr_statistics",
        views=(View("Resistance reads", "Time (s)", "Resistance (ohm)",
                    breaks=("Site", "Gate voltage (V)"), shade_by="Gate voltage (V)"),
               View("Resistance histogram", "Resistance (ohm)", "Counts", kind="histogram",
                    shade_by="Gate voltage (V)")),
        small={"reads": 10, "gate_voltages": "0,1"},
        quick={"reads": 200},
        headline="std_ohm"),
    "telegraph-dwell": Entry(
        "telegraph_dwell:TelegraphDwell", "telegraph_dwell_analysis:analyze_telegraph_dwell",
        "plots:telegraph_dwell",
        views=(View("Telegraph traces", "Time (s)", "Resistance (ohm)", breaks=("Trace",),
                    shade_by="Bias current (A)"),
               View("Resistance histogram", "Resistance (ohm)", "Counts", kind="histogram",
                    shade_by="Bias current (A)")),
        small={"reads": 10, "fields": "0,0.001", "bias_currents": "5e-8"},
        quick={"reads": 1000},
        headline="dln_tau_p_dB_per_T"),
    "magnet-calibration": Entry(
        "magnet_calibration:MagnetCalibrationSweep",
        "magnet_calibration_analysis:analyze_calibration", "plots:magnet_calibration",
        views=(View("Field vs supply current", "Supply current (A)", "Field (T)",
                    breaks=("Branch",), shade_by="Branch", symbols=True),
               View("Field noise", "Supply current (A)", "Field std (T)",
                    breaks=("Branch",), shade_by="Branch", symbols=True)),
        small={"max_current": 2.0, "current_step": 1.0, "averages": 1},
        quick={"current_step": 1.0},
        headline="tesla_per_A"),
    "kapitza-map": Entry(
        "kapitza_map:KapitzaMap", "kapitza_map_analysis:analyze_kapitza_map",
        "plots:kapitza_map",
        views=(View("Hall resistance map (ohm)", "Current (A)", "Field set (T)",
                    kind="image", z="Hall resistance (ohm)"),
               View("Fluctuation map (std, ohm)", "Current (A)", "Field set (T)",
                    kind="image", z="Hall resistance std (ohm)"),
               View("Hall resistance vs current, per field", "Current (A)",
                    "Hall resistance (ohm)", breaks=("Field set (T)",),
                    shade_by="Field set (T)", symbols=True)),
        small={"field_points": 1, "current_points": 3, "saturation_field": 0.0,
               "averages": 2},
        quick={"current_points": 6, "field_points": 3, "averages": 2},
        headline="mu0_h_per_A_T"),
    "harmonic-hall": Entry(
        "harmonic_hall:HarmonicHall", "harmonic_hall_analysis:analyze_harmonic_hall",
        "plots:harmonic_hall",
        views=(View("V1ω vs field", "Field (T)", "V1w (V)", breaks=("Field angle (deg)",),
                    shade_by="Field angle (deg)"),
               View("V2ω vs field", "Field (T)", "V2w (V)", breaks=("Field angle (deg)",),
                    shade_by="Field angle (deg)")),
        small={"max_field": 0.01, "field_step": 0.01, "field_angles": "0",
               "sine_amplitude": 1.0},
        quick={"max_field": 0.06, "field_step": 0.01},
        headline="mu0_hdl_T"),
    "stno-spectrum": Entry(
        "stno_spectrum:StnoSpectrum", "stno_spectrum_analysis:analyze_spectra",
        "plots:stno_spectrum",
        views=(View("Spectrum waterfall (power, dBm)", "Frequency (Hz)", "Trace",
                    kind="image", z="Power (dBm)", y_label_by="Current (A)"),
               View("Spectra", "Frequency (Hz)", "Power (dBm)", breaks=("Trace",),
                    shade_by="Current (A)")),
        small={"currents": "0.2e-3:1e-3:2", "sweep_points": 101, "averages": 1},
        quick={"sweep_points": 1001},
        headline="df_dI_Hz_per_A"),
}
"""The procedures by command-line name (each class's NAME)."""


ANALYSES: dict[str, str] = {
    "kittel": "kittel_analysis:analyze_kittel",
}
"""Analyses of other labs' tables that no procedure here writes: name → "module:function"
(``labspin analyze NAME``)."""
