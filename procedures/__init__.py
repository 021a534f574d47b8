"""Measurement procedures and their analysis (imported as ``labspin.procedures``).

PROCEDURES maps each command-line name to its Procedure class and analysis function.
"""
from __future__ import annotations

import importlib

PROCEDURES: dict[str, tuple[str, str]] = {
    "field-sweep": ("labspin.procedures.field_sweep:FieldSweep",
                    "labspin.procedures.field_sweep_analysis:analyze_loop"),
    "current-sweep": ("labspin.procedures.current_sweep:CurrentSweep",
                      "labspin.procedures.current_sweep_analysis:analyze_current_sweep"),
    "pulse-switching": ("labspin.procedures.pulse_switching:PulseSwitching",
                        "labspin.procedures.pulse_switching_analysis:analyze_pulse_switching"),
    "stfmr": ("labspin.procedures.stfmr:STFMR",
              "labspin.procedures.stfmr_analysis:analyze_stfmr"),
    "switching-probability": (
        "labspin.procedures.switching_probability:SwitchingProbability",
        "labspin.procedures.switching_probability_analysis:analyze_switching_probability"),
    "tmr-statistics": ("labspin.procedures.tmr_statistics:TmrStatistics",
                       "labspin.procedures.tmr_statistics_analysis:analyze_tmr_statistics"),
    "telegraph-dwell": ("labspin.procedures.telegraph_dwell:TelegraphDwell",
                        "labspin.procedures.telegraph_dwell_analysis:analyze_telegraph_dwell"),
    "magnet-calibration": (
        "labspin.procedures.magnet_calibration:MagnetCalibrationSweep",
        "labspin.procedures.magnet_calibration_analysis:analyze_calibration"),
    "kapitza-map": ("labspin.procedures.kapitza_map:KapitzaMap",
                    "labspin.procedures.kapitza_map_analysis:analyze_kapitza_map"),
    "harmonic-hall": ("labspin.procedures.harmonic_hall:HarmonicHall",
                      "labspin.procedures.harmonic_hall_analysis:analyze_harmonic_hall"),
    "fmr": ("labspin.procedures.fmr:FMR", "labspin.procedures.fmr_analysis:analyze_fmr"),
    "stno-spectrum": ("labspin.procedures.stno_spectrum:StnoSpectrum",
                      "labspin.procedures.stno_spectrum_analysis:analyze_spectra"),
}

ANALYSES: dict[str, str] = {
    "kittel": "labspin.procedures.kittel_analysis:analyze_kittel",
}
"""Analyses of other labs' tables that no procedure here writes: name → analysis function."""


def _load(ref: str):
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def procedure_class(name: str):
    """Get the Procedure class of a command-line name (KeyError if unknown)."""
    return _load(PROCEDURES[name][0])


def analysis_function(name: str):
    """Get the analysis function (DataFrame → dict of design.md keys) of a procedure."""
    return _load(ANALYSES[name] if name in ANALYSES else PROCEDURES[name][1])
