"""Swept spectrum analyzers: Keysight/Agilent X-series (N9020A MXA, N9030A PXA) and
Rohde & Schwarz FSV (role spectrum_analyzer).

Both expose the :class:`~labspin.drivers.roles.SpectrumAnalyzer` members in SI units (Hz,
dBm, dB) and :meth:`read_trace`: one single (averaged) sweep, then trace 1 as ASCII, with
the frequency axis computed from start/stop/points. Analyzers do not source anything, so
pymeasure's default ``shutdown`` is kept.

The numeric ranges in the validators are sanity bounds for the model family; the
instrument itself rounds to what the installed options allow.
"""
from __future__ import annotations

import numpy as np
from pymeasure.instruments import Instrument, SCPIMixin
from pymeasure.instruments.rohdeschwarz.fsseries import FSSeries
from pymeasure.instruments.validators import strict_discrete_set, strict_range


def nr_int(reply: str) -> int:
    """Get an integer from an NR1 or NR3 reply ("+1001", "+1.00000000E+001")."""
    return int(round(float(reply)))


def strict_int_range(value, values):
    """Get ``value`` as int if it is integral and within [min, max] of values; else ValueError."""
    if isinstance(value, bool) or float(value) != int(value):
        raise ValueError(f"{value!r} is not an integer")
    return int(strict_range(int(value), values))


def swept_controls(prefix: str, max_frequency: float, max_video_bandwidth: float,
                   points: list[int], reference_levels: list[float],
                   dynamic: bool = False) -> tuple:
    """Get the controls both families spell alike but for the headers' ``prefix`` (":" or
    ""): (center_frequency, span, start_frequency, stop_frequency, resolution_bandwidth,
    video_bandwidth, sweep_points, reference_level). Frequencies and span 0–``max_frequency``
    (Hz; ``dynamic``: a model narrows them with ``<name>_values``), RBW 1 Hz–10 MHz, VBW
    1 Hz–``max_video_bandwidth``, sweep ``points`` [min, max], ``reference_levels`` (dBm)."""
    def control(header, fmt, doc, values, dyn=False, validator=strict_range, **kwargs):
        return Instrument.control(f"{prefix}{header}?", f"{prefix}{header} {fmt}", doc,
                                  validator=validator, values=values, dynamic=dyn, **kwargs)

    span = [0, max_frequency]
    return (
        control("FREQ:CENT", "%.12g", "Control the center frequency (Hz).", span, dynamic),
        control("FREQ:SPAN", "%.12g", "Control the frequency span (Hz); 0 is zero span.",
                span, dynamic),
        control("FREQ:STAR", "%.12g", "Control the start frequency (Hz).", span, dynamic),
        control("FREQ:STOP", "%.12g", "Control the stop frequency (Hz).", span, dynamic),
        control("BAND:RES", "%.6g", "Control the resolution bandwidth (Hz).", [1, 10e6]),
        control("BAND:VID", "%.6g", "Control the video bandwidth (Hz).",
                [1, max_video_bandwidth]),
        control("SWE:POIN", "%d", "Control the number of sweep (trace) points.", points,
                validator=strict_int_range, cast=nr_int),
        control("DISP:WIND:TRAC:Y:RLEV", "%.6g", "Control the reference level (dBm).",
                reference_levels),
    )


class _SweptAnalyzerMixin:
    """read_trace, marker peak search and the averages switch shared by both families.

    Subclasses define ``PREFIX`` (what the family's headers begin with: ":" or ""), the
    command strings below and the ``average_count`` and ``trace_type`` controls.
    """

    roles = ("spectrum_analyzer",)
    PREFIX = ""
    CMD_TRACE1 = ""
    CMD_MARKER_ON = ""
    AVERAGE_TYPE = "AVER"
    WRITE_TYPE = "WRIT"
    AVERAGES_RANGE = (1, 10000)

    @property
    def averages(self) -> int:
        """Control the number of sweeps averaged into trace 1 (1 = clear/write, no averaging)."""
        if self.trace_type == self.AVERAGE_TYPE:
            return int(self.average_count)
        return 1

    @averages.setter
    def averages(self, count: int) -> None:
        count = strict_int_range(count, self.AVERAGES_RANGE)
        if count > 1:
            self.average_count = count
            self.trace_type = self.AVERAGE_TYPE
        else:
            self.trace_type = self.WRITE_TYPE

    def single_sweep_and_wait(self) -> None:
        """Stop continuous sweeping, start one (averaged) sweep and wait for it (*OPC?).

        The adapter's timeout must exceed sweep time × averages.
        """
        self.write(f"{self.PREFIX}INIT:CONT OFF")
        self.write(f"{self.PREFIX}INIT:IMM")
        self.ask("*OPC?")

    def read_trace(self) -> tuple[np.ndarray, np.ndarray]:
        """Take one (averaged) sweep and get (frequencies in Hz, trace 1 power in dBm)."""
        self.write(f"{self.PREFIX}FORM ASC")
        self.single_sweep_and_wait()
        power = np.asarray(self.values(self.CMD_TRACE1), dtype=np.float64)
        start, stop, points = self.start_frequency, self.stop_frequency, self.sweep_points
        if len(power) != points:
            raise ValueError(f"{self.name}: trace has {len(power)} points, the sweep {points}")
        return np.linspace(start, stop, points), power

    def marker_peak(self) -> tuple[float, float]:
        """Put marker 1 on the highest peak of the current trace; get (frequency Hz, level dBm)."""
        self.write(self.CMD_MARKER_ON)
        self.write(f"{self.PREFIX}CALC:MARK1:MAX")
        return (float(self.values(f"{self.PREFIX}CALC:MARK1:X?")[0]),
                float(self.values(f"{self.PREFIX}CALC:MARK1:Y?")[0]))


class KeysightXSeries(_SweptAnalyzerMixin, SCPIMixin, Instrument):
    """Keysight/Agilent X-series signal analyzer (N9020A MXA, N9030A PXA), Swept SA mode.

    Keysight X-Series "Spectrum Analyzer Mode User's & Programmer's Reference": [:SENSe]:
    FREQuency:CENTer/SPAN/STARt/STOP, BANDwidth[:RESolution], BANDwidth:VIDeo,
    SWEep:POINts, POWer[:RF]:ATTenuation, AVERage:COUNt (1–10000), DETector:TRACe[1]
    (query returns NORM, AVER, POS, SAMP, NEG, QPE, EAV, RAV), :TRACe[1]:TYPE
    WRITe|AVERage|MAXHold|MINHold, :DISPlay:WINDow:TRACe:Y:RLEVel, :FORMat[:TRACe][:DATA]
    ASCii, :TRACe[:DATA]? TRACE1 (comma-separated values in the Y-axis unit, dBm by
    default), :INITiate:CONTinuous, :INITiate[:IMMediate], :CALCulate:MARKer1:MODE POSition,
    :CALCulate:MARKer1:MAXimum, :CALCulate:MARKer1:X?/Y?. In single sweep with a trace in
    Average the analyzer takes AVERage:COUNt sweeps before *OPC? answers.
    """

    PREFIX = ":"
    CMD_TRACE1 = ":TRAC:DATA? TRACE1"
    CMD_MARKER_ON = ":CALC:MARK1:MODE POS"
    AVERAGES_RANGE = (1, 10000)
    DETECTORS = {"normal": "NORM", "average": "AVER", "peak": "POS", "negative": "NEG",
                 "sample": "SAMP", "quasi_peak": "QPE", "emi_average": "EAV",
                 "rms_average": "RAV"}

    (center_frequency, span, start_frequency, stop_frequency, resolution_bandwidth,
     video_bandwidth, sweep_points, reference_level) = swept_controls(
        PREFIX, 50e9, 50e6, points=[1, 40001], reference_levels=[-170, 30], dynamic=True)
    attenuation = Instrument.control(
        ":POW:ATT?", ":POW:ATT %d", "Control the input (mechanical) attenuation (dB).",
        validator=strict_int_range, values=[0, 70], cast=nr_int,
    )
    average_count = Instrument.control(
        ":AVER:COUN?", ":AVER:COUN %d", "Control the average/hold count N (1–10000).",
        validator=strict_int_range, values=[1, 10000], cast=nr_int,
    )
    trace_type = Instrument.control(
        ":TRAC1:TYPE?", ":TRAC1:TYPE %s",
        'Control the type of trace 1: "WRIT", "AVER", "MAXH" or "MINH".',
        validator=strict_discrete_set, values=["WRIT", "AVER", "MAXH", "MINH"], cast=str,
    )
    detector = Instrument.control(
        ":DET:TRAC1?", ":DET:TRAC1 %s",
        f"Control the detector of trace 1: one of {sorted(DETECTORS)}.",
        validator=strict_discrete_set, values=DETECTORS, map_values=True, cast=str,
    )
    continuous_sweep_enabled = Instrument.control(
        ":INIT:CONT?", ":INIT:CONT %d", "Control whether the analyzer sweeps continuously.",
        validator=strict_discrete_set, values={True: 1, False: 0}, map_values=True, cast=nr_int,
    )

    def __init__(self, adapter, name="Keysight X-series signal analyzer", **kwargs):
        super().__init__(adapter, name, **kwargs)


class N9020A(KeysightXSeries):
    """Keysight/Agilent N9020A MXA signal analyzer (X-series SCPI; up to 26.5 GHz)."""

    center_frequency_values = start_frequency_values = stop_frequency_values = [0, 26.5e9]
    span_values = [0, 26.5e9]

    def __init__(self, adapter, name="Keysight N9020A MXA signal analyzer", **kwargs):
        super().__init__(adapter, name, **kwargs)


class N9030A(KeysightXSeries):
    """Keysight/Agilent N9030A PXA signal analyzer (X-series SCPI; up to 50 GHz)."""

    def __init__(self, adapter, name="Keysight N9030A PXA signal analyzer", **kwargs):
        super().__init__(adapter, name, **kwargs)


class FSV(_SweptAnalyzerMixin, FSSeries):
    """Rohde & Schwarz FSV signal and spectrum analyzer (FSV3 … FSV40), role spectrum_analyzer.

    Builds on pymeasure's FSSeries (FSL/FSW family commands). R&S FSVA/FSV operating manual
    1176.7510.02, ch. 4.2 "Remote control": [SENSe:]FREQuency:CENTer/SPAN/STARt/STOP,
    BANDwidth[:RESolution], BANDwidth:VIDeo, SWEep:POINts, AVERage:COUNt (= SWEep:COUNt),
    DETector[:FUNCtion] (APEak|POSitive|NEGative|SAMPle|RMS|AVERage|QPEak), DISPlay[:WINDow]
    :TRACe:MODE WRITe|AVERage|MAXHold|MINHold|VIEW, DISPlay:WINDow:TRACe:Y:RLEVel,
    INPut:ATTenuation, FORMat[:DATA] ASCii, TRACe[:DATA]? TRACE1, INITiate:CONTinuous,
    INITiate[:IMMediate], CALCulate:MARKer1:STATe, :MAXimum, :X?, :Y?. In single sweep
    mode the FSV performs SWEep:COUNt sweeps before *OPC? answers.
    """

    PREFIX = ""
    CMD_TRACE1 = "TRAC? TRACE1"
    CMD_MARKER_ON = "CALC:MARK1:STAT ON"
    AVERAGES_RANGE = (1, 32767)
    DETECTORS = {"auto_peak": "APE", "peak": "POS", "negative": "NEG", "sample": "SAMP",
                 "rms": "RMS", "average": "AVER", "quasi_peak": "QPE"}

    (center_frequency, span, start_frequency, stop_frequency, resolution_bandwidth,
     video_bandwidth, sweep_points, reference_level) = swept_controls(
        PREFIX, 40e9, 10e6, points=[101, 32001], reference_levels=[-130, 30])
    attenuation = Instrument.control(
        "INP:ATT?", "INP:ATT %d", "Control the RF input attenuation (dB).",
        validator=strict_int_range, values=[0, 70], cast=nr_int,
    )
    average_count = Instrument.control(
        "AVER:COUN?", "AVER:COUN %d", "Control the average (sweep) count (1–32767).",
        validator=strict_int_range, values=[1, 32767], cast=nr_int,
    )
    trace_type = Instrument.control(
        "DISP:TRAC1:MODE?", "DISP:TRAC1:MODE %s",
        'Control the mode of trace 1: "WRIT", "AVER", "MAXH", "MINH" or "VIEW".',
        validator=strict_discrete_set, values=["WRIT", "AVER", "MAXH", "MINH", "VIEW"],
        cast=str,
    )
    detector = Instrument.control(
        "DET?", "DET %s", f"Control the detector of trace 1: one of {sorted(DETECTORS)}.",
        validator=strict_discrete_set, values=DETECTORS, map_values=True, cast=str,
    )

    def __init__(self, adapter, name="Rohde&Schwarz FSV signal and spectrum analyzer",
                 **kwargs):
        super().__init__(adapter, name, **kwargs)
