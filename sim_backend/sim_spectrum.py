"""Simulated swept spectrum analyzers: Keysight/Agilent N9020A MXA, N9030A PXA and R&S FSV.

The twins parse the Swept SA command sets (as ``drivers/spectrum_analyzers.py`` and pymeasure's
:class:`~pymeasure.instruments.rohdeschwarz.fsseries.FSSeries` send them): center/span/start/
stop (coupled as on the instrument), RBW/VBW/sweep time with AUTO coupling, sweep points,
attenuation (AUTO: RL + 10 dB), reference level, detector, trace mode (write, average, max/min
hold, view), average/sweep count, single and continuous sweeps, ``*OPC?``, the trace as ASCII
(comma-separated, in the ``UNIT:POWer``, dBm by default, SWE:POIN values) or REAL,32/REAL,64
blocks,
and marker peak search (highest, next, left, right). Numbers may carry units ("1.2 GHz");
out-of-range values are -222 and change nothing.

Wiring: ``probe="mtj"`` (or "xx", "xy") — the analyzer sits on the rf port of the bias tee
whose dc port carries the bench's dc current I_dc (a source meter). Optional ``gain_dB`` and
``amplifier_nf_dB``: a low-noise amplifier between the bias tee and the analyzer.

Physics of a sweep (physics.md, "Spin-torque oscillator spectra")
    The sample's one-sided rf power density into Z0, S_P (W/Hz), and its Johnson noise come
    from :func:`labspin.sim_backend.sample_spectrum.sample_psd` (stochastic LLG, Welch PSD,
    Thevenin divider, cached per bench state); the analyzer only displays them.
    Displayed power at frequency f with resolution bandwidth B (Gaussian RBW filter, ENBW =
    1.065·B): P(f) = G·[(S_P ⊛ RBW)(f) + 4kTR̄Z0/(R̄+Z0)² + k·T0·(F_amp − 1)]·ENBW
    + k·T0·10^((NF + att)/10)·ENBW, T0 = 290 K, with the analyzer's noise figure NF (dB,
    per model: N9020A 20, N9030A 18, FSV 19; the DANL at 0 dB attenuation is −174 + NF
    dBm/Hz) raised dB for dB by the input attenuation att (the analyzer corrects the
    signal for it). G, F_amp: the optional amplifier's gain and noise factor.
    When B is narrower than the PSD resolution the PSD is interpolated (valid while lines are
    wider than the resolution).

Detectors and statistics (all random numbers from ``bench.rng``)
    Every trace point covers a bucket of span/(points − 1); n = bucket/RBW independent RBW
    cells fall in it. The expected power is evaluated at min(⌈n⌉, 64) sub-points; each gets an
    exponential (χ², Gaussian-noise) factor narrowed by video filtering, Gamma(k, 1/k) with
    k = max(1, RBW/VBW) (× n/sub-points for averaging detectors). Sample: the bucket center;
    positive peak, normal (Keysight), auto peak (R&S), quasi-peak: the maximum; negative: the
    minimum; RMS, average, EMI/RMS average: the mean. Trace WRITe shows the last sweep,
    AVERage the power average of the count (Gamma(N·k): noise std ∝ 1/√N), MAXHold/MINHold
    the max/min over the sweeps, VIEW freezes. All signals are treated as Gaussian noise
    (right for thermally broadened oscillator lines; a pure tone would not fluctuate).

Time
    A single sweep (``INIT:IMM``, ``*TRG``) advances the virtual clock by the sweep time times
    the count; the trace is computed from the bench state after that. Auto sweep time:
    SWT = 2.5·span/(RBW·min(RBW, VBW)) (Agilent AN 150's k·span/RBW² with k = 2.5, the video
    filter slowing it when narrower), at least 1 ms; zero span: 1 ms. ``*OPC?`` answers 1 at
    once after the sweep. In continuous mode (the preset) a trace query returns a fresh
    (averaged) trace without advancing the clock.

Known deviations: signals above the reference level are neither clipped nor flagged (no IF/ADC
overload, no mixer compression); a manual sweep time shorter than the auto value does not make
the amplitude uncalibrated; averaging is power (RMS) averaging whatever AVER:TYPE (Keysight's
default log-power averaging would read noise 2.5 dB lower); the peak detectors' noise bias is
that of at most 64 cells; MAXH/MINH and peak-detector averages over more than a budget of
sweeps are estimated from fewer; RBW/VBW are not rounded to the instrument's steps; only trace
1 exists; zero span shows the power at the center frequency vs time with independent samples;
the rf sources' carriers do not appear in the spectrum. X-series: only the Swept SA mode
(INST:CAT? "SA 1") and its SAN measurement exist; the preamp (POW:GAIN[:STAT], :BAND), the RBW
filter type (BAND:TYPE) and the sweep type (SWE:TYPE[:AUTO], FFT or swept) are stored and
answered but change nothing (no preamp noise figure, every trace computed as swept).
"""
from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from labspin.physics.constants import KB

from .sample_spectrum import sample_psd
from .scpi import (
    FREQ_UNITS,
    POWER_UNITS,
    TIME_UNITS,
    Arg,
    SCPIError,
    SimInstrument,
    UnitArg,
    nr3,
    rs_number,
    unquote,
    with_units,
)
from .virtual_bench import Z0, VirtualBench

T0_K = 290.0
"""Reference temperature of noise figures (K)."""
ENBW_PER_RBW = 1.0645
"""Equivalent noise bandwidth of a Gaussian RBW filter per 3 dB bandwidth."""
SWEEP_K = 2.5
"""k in the auto sweep time k·span/(RBW·min(RBW, VBW))."""
MIN_SWEEP_S = 1e-3
"""Shortest auto sweep time (s)."""
DB_UNITS = {"DB": 1.0}

# ---------------------------------------------------------------- the analyzer

_PEAK, _MEAN, _MIN, _SAMPLE = "peak", "mean", "min", "sample"
_DRAW_BUDGET = 2_000_000


def _series_13(value: float) -> float:
    """Round to the nearest value of the 1-3-10 series."""
    if value <= 0:
        return 1.0
    decade = 10.0 ** math.floor(math.log10(value))
    steps = np.array([1.0, 3.0, 10.0]) * decade
    return float(steps[np.argmin(np.abs(np.log(steps / value)))])


class _AnalyzerTwin(SimInstrument):
    """What the Keysight X-series and the R&S FSV twins share."""

    encoding = "latin-1"          # REAL,32/64 blocks are bytes
    FREQ_MIN = 0.0
    FREQ_MAX = 26.5e9
    PRESET_START = 10e6
    RBW_RANGE = (1.0, 8e6)
    VBW_RANGE = (1.0, 50e6)
    AUTO_RBW_MAX = 3e6
    SPAN_PER_RBW = 106.0
    POINTS_RANGE = (1, 40001)
    POINTS_DEFAULT = 1001
    AVG_RANGE = (1, 10000)
    AVG_DEFAULT = 10
    REF_RANGE = (-170.0, 30.0)
    SWT_RANGE = (1e-6, 4000.0)
    ATT_STEP = 2
    NOISE_FIGURE_dB = 20.0
    DETECTORS: dict[str, str] = {}
    TRACE_MODES = ["WRITe", "AVERage", "MAXHold", "MINHold"]
    LITTLE_ENDIAN_DEFAULT = False
    MAX_TRACE = 6
    MAX_MARKERS = 12
    SWEEP_COUNT_ALWAYS = False
    """Whether a single sweep takes the count's sweeps even in WRITe (R&S SWE:COUNt)."""

    def __init__(self, bench: VirtualBench, name: str, *, probe: str = "mtj",
                 gain_dB: float = 0.0, amplifier_nf_dB: float = 3.0, members: int = 16,
                 segments: int = 4, resolution_Hz: float = 5e6):
        super().__init__(clock=bench.clock)
        self.bench = bench
        self.name = name
        self.probe = probe
        self.gain_dB = float(gain_dB)
        self.amplifier_nf_dB = float(amplifier_nf_dB)
        self.psd_options = {"members": int(members), "segments": int(segments),
                            "resolution_Hz": float(resolution_Hz)}
        bench.instruments[name] = self
        self._declare_common()
        self._declare()
        self.on_reset()

    # -- state outside the parameter table

    def on_reset(self) -> None:
        self._start, self._stop = self.PRESET_START, self.FREQ_MAX
        self._rbw: float | None = None          # None: AUTO
        self._vbw: float | None = None
        self._swt: float | None = None
        self._att: int | None = None
        self._binary = False
        self._real_bits = 32
        self._little = self.LITTLE_ENDIAN_DEFAULT
        self._trace: np.ndarray | None = None   # W
        self._trace_f: np.ndarray | None = None
        self._markers: dict[int, dict] = {}
        self._smooth_key = None
        self._smooth = None

    # -- declarations

    def _declare_common(self) -> None:
        fmt_f = self._fmt_freq
        for what, setter in (("CENTer", self._set_center), ("SPAN", self._set_span),
                             ("STARt", self._set_start), ("STOP", self._set_stop)):
            arg = UnitArg(float, units=FREQ_UNITS,
                          range=(0.0 if what == "SPAN" else self.FREQ_MIN, self.FREQ_MAX))
            pattern = f"[SENSe]:FREQuency:{what}"
            self.add_command(pattern, setter, args=(arg,))
            self.add_query(pattern, getattr(self, f"_{what.lower()}_value"), fmt=fmt_f)
        self.add_command("[SENSe]:FREQuency:SPAN:FULL", self._full_span)
        self.add_command("[SENSe]:FREQuency:SPAN:ZERO", lambda: self._set_span(0.0))
        rbw = UnitArg(float, units=FREQ_UNITS, range=self.RBW_RANGE)
        vbw = UnitArg(float, units=FREQ_UNITS, range=self.VBW_RANGE)
        swt = UnitArg(float, units=TIME_UNITS, range=self.SWT_RANGE)
        for bw in ("BANDwidth", "BWIDth"):
            self._auto_pair(f"[SENSe]:{bw}[:RESolution]", "_rbw", rbw, self.rbw, self._fmt)
            self._auto_pair(f"[SENSe]:{bw}:VIDeo", "_vbw", vbw, self.vbw, self._fmt)
        self._auto_pair("[SENSe]:SWEep:TIME", "_swt", swt, self.sweep_time, self._fmt)
        self.add_parameter("points", "[SENSe]:SWEep:POINts", int, range=self.POINTS_RANGE,
                           default=self.POINTS_DEFAULT, fmt=self._fmt_int)
        self.add_parameter("ref_level", "DISPlay[:WINDow<w>]:TRACe<t>:Y[:SCALe]:RLEVel", float,
                           range=self.REF_RANGE, default=0.0, fmt=self._fmt)
        with_units(self, "ref_level", POWER_UNITS)
        self.add_parameter("continuous", "INITiate:CONTinuous", bool, default=True)
        self.add_command("INITiate[:IMMediate]", self.single_sweep)
        self.add_parameter("unit", "UNIT:POWer", str,
                           choices=["DBM", "DBMV", "DBUV", "V", "W"], default="DBM")
        self.add_command("CALCulate<w>:MARKer<n>[:STATe]", self._marker_state, args=(Arg(bool),))
        self.add_query("CALCulate<w>:MARKer<n>[:STATe]", lambda w=1, n=1: self._marker(n)["on"])
        self.add_command("CALCulate<w>:MARKer<n>:X", self._marker_set_x,
                         args=(UnitArg(float, units=FREQ_UNITS),))
        self.add_query("CALCulate<w>:MARKer<n>:X", self._marker_x, fmt=self._fmt_freq)
        self.add_query("CALCulate<w>:MARKer<n>:Y", self._marker_y, fmt=self._fmt)
        self.add_command("CALCulate<w>:MARKer<n>:MAXimum[:PEAK]", self._marker_max)
        self.add_command("CALCulate<w>:MARKer<n>:MAXimum:NEXT", self._marker_next)
        self.add_command("CALCulate<w>:MARKer<n>:MAXimum:LEFT", self._marker_left)
        self.add_command("CALCulate<w>:MARKer<n>:MAXimum:RIGHt", self._marker_right)
        self.add_command("CALCulate<w>:MARKer<n>:TRACe", lambda t, w=1, n=1: None,
                         args=(Arg(int, range=(1, self.MAX_TRACE)),))
        self.add_query("CALCulate<w>:MARKer<n>:TRACe", lambda w=1, n=1: 1)
        self.add_command("SYSTem:PRESet", self.reset)
        self.add_command("FORMat:BORDer", self._set_border,
                         args=(Arg(str, choices=["NORMal", "SWAPped"]),))
        self.add_query("FORMat:BORDer", lambda: "SWAP" if self._little else "NORM")

    def _declare(self) -> None:
        raise NotImplementedError

    def _auto_pair(self, pattern: str, attr: str, arg: Arg, value, fmt) -> None:
        """``pattern <v>`` (manual), ``pattern?``, ``pattern:AUTO ON|OFF`` and its query."""
        def set_value(v: float) -> None:
            setattr(self, attr, float(v))

        def set_auto(on: bool) -> None:
            setattr(self, attr, None if on else value())

        self.add_command(pattern, set_value, args=(arg,))
        self.add_query(pattern, value, fmt=fmt)
        self.add_command(pattern + ":AUTO", set_auto, args=(Arg(bool),))
        self.add_query(pattern + ":AUTO", lambda: getattr(self, attr) is None)

    # -- formats (model specific)

    def _fmt(self, v: float) -> str:
        return nr3(v, 8)

    def _fmt_freq(self, v: float) -> str:
        return nr3(v, 11)

    def _fmt_int(self, v: int) -> str:
        return f"{int(v):+d}"

    def _fmt_trace_value(self, v: float) -> str:
        return f"{v:.9E}"

    # -- frequency axis (coupled)

    def _center_value(self) -> float:
        return 0.5 * (self._start + self._stop)

    def _span_value(self) -> float:
        return self._stop - self._start

    def _start_value(self) -> float:
        return self._start

    def _stop_value(self) -> float:
        return self._stop

    def _set_center(self, c: float) -> None:
        half = min(0.5 * self._span_value(), c - self.FREQ_MIN, self.FREQ_MAX - c)
        self._start, self._stop = c - half, c + half

    def _set_span(self, s: float) -> None:
        s = min(s, self.FREQ_MAX - self.FREQ_MIN)
        start = max(self.FREQ_MIN, self._center_value() - 0.5 * s)
        stop = min(self.FREQ_MAX, start + s)
        self._start, self._stop = stop - s, stop

    def _set_start(self, a: float) -> None:
        self._start = a
        if self._stop < a:
            self._stop = a

    def _set_stop(self, z: float) -> None:
        self._stop = z
        if self._start > z:
            self._start = z

    def _full_span(self) -> None:
        self._start, self._stop = self.PRESET_START, self.FREQ_MAX

    # -- coupled bandwidths and times

    def rbw(self) -> float:
        """Get the resolution bandwidth in force (Hz)."""
        if self._rbw is not None:
            return self._rbw
        span = self._span_value()
        if span <= 0:
            return self.AUTO_RBW_MAX
        return min(max(_series_13(span / self.SPAN_PER_RBW), self.RBW_RANGE[0]),
                   self.AUTO_RBW_MAX)

    def vbw(self) -> float:
        """Get the video bandwidth in force (Hz); AUTO: equal to the RBW."""
        return self._vbw if self._vbw is not None else self.rbw()

    def sweep_time(self) -> float:
        """Get the sweep time in force (s); AUTO: 2.5·span/(RBW·min(RBW, VBW)), ≥ 1 ms."""
        if self._swt is not None:
            return self._swt
        rbw = self.rbw()
        return max(SWEEP_K * self._span_value() / (rbw * min(rbw, self.vbw())), MIN_SWEEP_S)

    def attenuation(self) -> int:
        """Get the input attenuation in force (dB); AUTO: RL + 10 dB in the model's steps."""
        if self._att is not None:
            return self._att
        rl = float(self.get("ref_level"))
        att = math.ceil((rl + 10.0) / self.ATT_STEP) * self.ATT_STEP
        return int(min(max(att, 0), 70))

    def _set_att(self, v: int) -> None:
        self._att = int(v)

    def _set_att_auto(self, on: bool) -> None:
        self._att = None if on else self.attenuation()

    def _declare_attenuation(self, pattern: str, fmt=None) -> None:
        """ATTenuation[:AUTO] (whole dB); ``fmt`` formats the answer (default: _fmt)."""
        arg = UnitArg(int, units=DB_UNITS, range=(0, 70))
        self.add_command(pattern, self._set_att, args=(arg,))
        self.add_query(pattern, self.attenuation, fmt=fmt or self._fmt)
        self.add_command(pattern + ":AUTO", self._set_att_auto, args=(Arg(bool),))
        self.add_query(pattern + ":AUTO", lambda: self._att is None)

    # -- trace format

    def _set_format(self, *tokens: str) -> None:
        if not tokens or not tokens[0]:
            raise SCPIError(-109)
        kind = tokens[0].strip().upper()
        if kind in ("ASC", "ASCII") and len(tokens) == 1:
            self._binary = False
        elif kind == "REAL" and (len(tokens) == 1 or tokens[1].strip() in ("32", "64")):
            self._binary = True
            self._real_bits = 32 if len(tokens) == 1 else int(tokens[1].strip())
        elif kind in ("REAL", "INT", "INTEGER", "UINT"):
            raise SCPIError(-221, "Settings conflict;only ASCii, REAL,32 and REAL,64 are "
                                  "simulated")
        else:
            raise SCPIError(-224)

    def _format_value(self) -> str:
        return f"REAL,{self._real_bits}" if self._binary else "ASC,8"

    def _set_border(self, value: str) -> None:
        self._little = value == "SWAP"

    # -- the spectrum

    def _expected(self, freqs: np.ndarray, rbw: float) -> np.ndarray:
        """Get the expected displayed power (W) at ``freqs`` (Hz) with RBW ``rbw`` (Hz)."""
        psd = sample_psd(self.bench, self.probe, **self.psd_options)
        if self._smooth_key is None or self._smooth_key[0] is not psd or self._smooth_key[1] != rbw:
            sigma = rbw / (2.0 * math.sqrt(2.0 * math.log(2.0))) / psd.resolution_Hz
            s = psd.s_W_per_Hz
            self._smooth = gaussian_filter1d(s, sigma, mode="reflect") if sigma > 0.5 else s
            self._smooth_key = (psd, rbw)
        sig = np.interp(freqs, psd.f_Hz, self._smooth, right=0.0)
        gain = 10.0 ** (self.gain_dB / 10.0)
        amp_noise = (KB * T0_K * (10.0 ** (self.amplifier_nf_dB / 10.0) - 1.0)
                     if self.gain_dB > 0 else 0.0)
        floor = KB * T0_K * 10.0 ** ((self.NOISE_FIGURE_dB + self.attenuation()) / 10.0)
        enbw = ENBW_PER_RBW * rbw
        return (gain * (sig + psd.johnson_W_per_Hz + amp_noise) + floor) * enbw

    def _detector_kind(self) -> str:
        return self.DETECTORS[self.detector_value()]

    def detector_value(self) -> str:
        raise NotImplementedError

    def trace_mode(self) -> str:
        raise NotImplementedError

    def average_count(self) -> int:
        raise NotImplementedError

    def frequencies(self) -> np.ndarray:
        """Get the trace's frequency axis (Hz): SWE:POIN points from start to stop."""
        n = int(self.get("points"))
        if n == 1:
            return np.array([self._center_value()])
        return np.linspace(self._start, self._stop, n)

    def _compute_trace(self) -> tuple[np.ndarray, np.ndarray]:
        """Get (frequencies Hz, trace W) for the present settings and bench state."""
        rng = self.bench.rng
        freqs = self.frequencies()
        n = freqs.size
        rbw, vbw = self.rbw(), self.vbw()
        kv = max(1.0, rbw / vbw)
        span = self._span_value()
        bucket = span / (n - 1) if n > 1 and span > 0 else 0.0
        cells = max(1.0, bucket / rbw)
        kind = self._detector_kind()
        sub = 1 if kind == _SAMPLE or bucket == 0.0 else int(min(math.ceil(cells), 64))
        offsets = bucket * ((np.arange(sub) + 0.5) / sub - 0.5)
        expected = self._expected((freqs[:, None] + offsets[None, :]).ravel(), rbw)
        expected = expected.reshape(n, sub)
        shape = kv * (cells / sub if kind == _MEAN else 1.0)
        mode = self.trace_mode()
        count = max(1, self.average_count()) if mode in ("AVER", "MAXH", "MINH") else 1

        def reduce(x: np.ndarray) -> np.ndarray:
            if kind == _PEAK:
                return x.max(axis=-1)
            if kind == _MIN:
                return x.min(axis=-1)
            return x.mean(axis=-1)

        if mode == "AVER" and (sub == 1 or kind == _MEAN):
            k = shape * count                  # a sum of Gammas is a Gamma
            trace = reduce(expected * rng.gamma(k, 1.0 / k, size=expected.shape))
        else:
            draws = max(1, min(count, _DRAW_BUDGET // (n * sub)))
            x = reduce(expected[None] * rng.gamma(shape, 1.0 / shape,
                                                  size=(draws,) + expected.shape))
            if mode == "MAXH":
                trace = x.max(axis=0)
            elif mode == "MINH":
                trace = x.min(axis=0)
            elif mode == "AVER":
                trace = x.mean(axis=0)
                if draws < count:              # shrink toward the expected detector value
                    ref = reduce(expected)
                    mu = ref * float(np.mean(x / ref))
                    trace = mu + (trace - mu) * math.sqrt(draws / count)
            else:
                trace = x[-1]
        return freqs, trace

    def single_sweep(self) -> None:
        """INIT:IMM: take the sweep(s) of one single-sweep run in virtual time."""
        if self.trace_mode() == "VIEW":
            return
        mode = self.trace_mode()
        counted = mode in ("AVER", "MAXH", "MINH") or self.SWEEP_COUNT_ALWAYS
        count = max(1, self.average_count()) if counted else 1
        self.clock.sleep(self.sweep_time() * count)
        self._trace_f, self._trace = self._compute_trace()

    def trigger(self) -> None:
        self.single_sweep()

    def continue_sweep(self) -> None:
        """INIT:CONM (R&S): continue a single sweep — here one more single sweep run."""
        self.single_sweep()

    def current_trace(self) -> tuple[np.ndarray, np.ndarray]:
        """Get the trace a query sees: a fresh one in continuous mode, else the last sweep."""
        fresh = self._trace is None or (self.get("continuous") and self.trace_mode() != "VIEW")
        if fresh:
            self._trace_f, self._trace = self._compute_trace()
        return self._trace_f, self._trace

    def _to_unit(self, watts: np.ndarray) -> np.ndarray:
        unit = self.get("unit")
        p = np.maximum(np.asarray(watts, float), 1e-30)
        if unit == "W":
            return p
        if unit == "V":
            return np.sqrt(p * Z0)
        if unit == "DBMV":
            return 20.0 * np.log10(np.sqrt(p * Z0) / 1e-3)
        if unit == "DBUV":
            return 20.0 * np.log10(np.sqrt(p * Z0) / 1e-6)
        return 10.0 * np.log10(p / 1e-3)

    def _trace_query(self, *tokens: str, **suffix: int) -> str:
        name = unquote(tokens[0]).strip().upper() if tokens and tokens[0] else ""
        if len(tokens) > 1:
            raise SCPIError(-108)
        if not name:
            raise SCPIError(-109)
        if not (name.startswith("TRACE") and name[5:].isdigit()):
            raise SCPIError(-224)
        if int(name[5:]) != 1:
            raise SCPIError(-221, "Settings conflict;only trace 1 is simulated")
        _, trace = self.current_trace()
        return self._format_values(self._to_unit(trace))

    def _format_values(self, values: np.ndarray) -> str:
        """Values in the FORMat: an IEEE 488.2 block of REAL,32/64 (FORM:BORD order) or ASCII."""
        if self._binary:
            width = "f4" if self._real_bits == 32 else "f8"
            data = values.astype(("<" if self._little else ">") + width).tobytes()
            size = str(len(data))
            return f"#{len(size)}{size}" + data.decode("latin-1")
        return ",".join(self._fmt_trace_value(v) for v in values)

    # -- markers

    def _marker(self, n: int) -> dict:
        if not 1 <= n <= self.MAX_MARKERS:
            raise SCPIError(-114, "Header suffix out of range")
        return self._markers.setdefault(n, {"on": False, "x": self._center_value()})

    def _marker_state(self, on: bool, w: int = 1, n: int = 1) -> None:
        mk = self._marker(n)
        if on and not mk["on"]:
            mk["x"] = self._center_value()
        mk["on"] = on

    def _marker_mode(self, mode: str, w: int = 1, n: int = 1) -> None:
        self._marker_state(mode != "OFF", w, n)
        self._marker(n)["mode"] = mode

    def _marker_set_x(self, x: float, w: int = 1, n: int = 1) -> None:
        freqs, _ = self.current_trace()
        mk = self._marker(n)
        mk["on"] = True
        mk["x"] = float(freqs[np.argmin(np.abs(freqs - x))])

    def _marker_x(self, w: int = 1, n: int = 1) -> float:
        return self._marker(n)["x"]

    def _marker_y(self, w: int = 1, n: int = 1) -> float:
        freqs, trace = self.current_trace()
        i = int(np.argmin(np.abs(freqs - self._marker(n)["x"])))
        return float(self._to_unit(trace[i:i + 1])[0])

    def _peaks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        freqs, trace = self.current_trace()
        db = 10.0 * np.log10(np.maximum(trace, 1e-30))
        idx, _ = find_peaks(np.concatenate(([-np.inf], db, [-np.inf])),
                            prominence=self.peak_excursion())
        idx = idx - 1
        return freqs, db, idx

    def peak_excursion(self) -> float:
        """Get the peak excursion (dB) a local maximum needs to count as a peak."""
        return 6.0

    def _marker_max(self, w: int = 1, n: int = 1) -> None:
        freqs, trace = self.current_trace()
        mk = self._marker(n)
        mk["on"] = True
        mk["x"] = float(freqs[int(np.argmax(trace))])

    def _marker_move(self, n: int, pick) -> None:
        freqs, db, idx = self._peaks()
        mk = self._marker(n)
        i = int(np.argmin(np.abs(freqs - mk["x"])))
        chosen = pick(freqs, db, idx, i)
        if chosen is None:
            raise SCPIError(-200, "Execution error;No peak found")
        mk["on"] = True
        mk["x"] = float(freqs[chosen])

    def _marker_next(self, w: int = 1, n: int = 1) -> None:
        def pick(freqs, db, idx, i):
            lower = [j for j in idx if db[j] < db[i]]
            return max(lower, key=lambda j: db[j]) if lower else None
        self._marker_move(n, pick)

    def _marker_left(self, w: int = 1, n: int = 1) -> None:
        self._marker_move(n, lambda f, db, idx, i: max((j for j in idx if j < i), default=None))

    def _marker_right(self, w: int = 1, n: int = 1) -> None:
        self._marker_move(n, lambda f, db, idx, i: min((j for j in idx if j > i), default=None))


# ---------------------------------------------------------------- Keysight X-series


class _XSeriesTwin(_AnalyzerTwin):
    """Keysight X-series Swept SA mode ("Spectrum Analyzer Mode User's & Programmer's
    Reference"): the commands of the module docstring with Keysight's spellings."""

    DETECTORS = {"NORM": _PEAK, "AVER": _MEAN, "POS": _PEAK, "SAMP": _SAMPLE, "NEG": _MIN,
                 "QPE": _PEAK, "EAV": _MEAN, "RAV": _MEAN}
    MAX_MARKERS = 12

    def _declare(self) -> None:
        self.add_parameter("detector", "[SENSe]:DETector:TRACe<n>", str,
                           choices=["NORMal", "AVERage", "POSitive", "SAMPle", "NEGative",
                                    "QPEak", "EAVerage", "RAVerage"], default="NORM")
        self.add_parameter("trace_type", "TRACe<n>:TYPE", str, choices=self.TRACE_MODES,
                           default="WRIT")
        self.add_parameter("avg_count", "[SENSe]:AVERage:COUNt", int, range=self.AVG_RANGE,
                           default=self.AVG_DEFAULT, fmt=self._fmt_int)
        self.add_command("[SENSe]:AVERage[:STATe]", self._set_avg_state, args=(Arg(bool),))
        self.add_query("[SENSe]:AVERage[:STATe]", lambda: self.trace_mode() == "AVER")
        self.add_parameter("avg_type", "[SENSe]:AVERage:TYPE", str,
                           choices=["LOG", "RMS", "SCALar"], default="LOG")
        # the X-series answers the mechanical attenuation in whole dB ("10")
        self._declare_attenuation("[SENSe]:POWer[:RF]:ATTenuation", fmt=self._fmt_int)
        self.add_query("TRACe<n>[:DATA]", self._trace_query, args=None)
        self.add_command("FORMat[:TRACe][:DATA]", self._set_format, args=None)
        self.add_query("FORMat[:TRACe][:DATA]", self._format_value)
        self.add_command("CALCulate<w>:MARKer<n>:MODE", self._marker_mode,
                         args=(Arg(str, choices=["POSition", "DELTa", "FIXed", "OFF"]),))
        self.add_query("CALCulate<w>:MARKer<n>:MODE",
                       lambda w=1, n=1: self._marker(n).get(
                           "mode", "POS") if self._marker(n)["on"] else "OFF")
        self.add_parameter("pexc", "CALCulate<w>:MARKer<n>:PEAK:EXCursion", float,
                           range=(0.0, 100.0), default=6.0, fmt=self._fmt)
        with_units(self, "pexc", DB_UNITS)
        self.add_command("CONFigure:SANalyzer", lambda: None)
        self.add_command("INSTrument[:SELect]", lambda mode: None,
                         args=(Arg(str, choices=["SA"]),))
        self.add_query("INSTrument[:SELect]", lambda: "SA")
        # the one mode (Swept SA, mode number 1) and measurement the twin has
        self.add_query("INSTrument:CATalog", lambda: '"SA 1"')
        self.add_query("CONFigure:CATalog", lambda: '"SAN"')
        self.add_query("CONFigure", lambda: "SAN")
        self.add_query("READ:SANalyzer<n>", lambda n=1: self._swept_sa_result(n, sweep=True))
        self.add_query("FETCh:SANalyzer<n>", lambda n=1: self._swept_sa_result(n, sweep=False))
        # stored and answered only (see Known deviations)
        self.add_parameter("preamp_band", "[SENSe]:POWer[:RF]:GAIN:BAND", str,
                           choices=["LOW", "FULL"], default="LOW")
        self.add_parameter("preamp_on", "[SENSe]:POWer[:RF]:GAIN[:STATe]", bool, default=False)
        self.add_parameter("rbw_type", "[SENSe]:BANDwidth[:RESolution]:TYPE", str,
                           choices=["DB3", "DB6", "IMPulse", "NOISe"], default="DB3")
        self.add_parameter("sweep_type_auto", "[SENSe]:SWEep:TYPE:AUTO", bool, default=True)
        self.add_parameter("sweep_type", "[SENSe]:SWEep:TYPE", str, choices=["FFT", "SWEep"],
                           default="SWE")

    def _swept_sa_result(self, n: int, sweep: bool) -> str:
        """READ:SAN<n>? (a single sweep, then the result) / FETC:SAN<n>? (the last one):
        trace n as frequency (Hz), amplitude pairs, in the FORMat."""
        if n != 1:
            raise SCPIError(-221, "Settings conflict;only trace 1 is simulated")
        if sweep:
            self.single_sweep()
        freqs, trace = self.current_trace()
        return self._format_values(np.column_stack([freqs, self._to_unit(trace)]).ravel())

    def _set_avg_state(self, on: bool) -> None:
        self.set("trace_type", "AVER" if on else "WRIT", 1)

    def detector_value(self) -> str:
        return self.get("detector", 1)

    def trace_mode(self) -> str:
        return self.get("trace_type", 1)

    def average_count(self) -> int:
        return int(self.get("avg_count"))

    def peak_excursion(self) -> float:
        return float(self.get("pexc"))


class N9020ATwin(_XSeriesTwin):
    """Keysight/Agilent N9020A MXA (option 526: 10 Hz–26.5 GHz)."""
    idn = "Agilent Technologies,N9020A,MY51110123,A.14.16"
    options = '"526"'
    """*OPT?, a quoted list as the X-series answers it: 526 (10 Hz–26.5 GHz)."""
    FREQ_MAX = 26.5e9
    NOISE_FIGURE_dB = 20.0


class N9030ATwin(_XSeriesTwin):
    """Keysight/Agilent N9030A PXA (option 550: up to 50 GHz)."""
    idn = "Keysight Technologies,N9030A,MY54170123,A.14.16"
    options = '"550"'
    """*OPT?, a quoted list as the X-series answers it: 550 (3 Hz–50 GHz)."""
    FREQ_MAX = 50e9
    NOISE_FIGURE_dB = 18.0


# ---------------------------------------------------------------- R&S FSV


class FSVTwin(_AnalyzerTwin):
    """Rohde & Schwarz FSV-40 (operating manual 1176.7510.02, ch. 4.2 "Remote control")."""

    idn = "Rohde&Schwarz,FSV-40,1321.3008K39/101234,3.40"
    FREQ_MAX = 40e9
    PRESET_START = 0.0
    RBW_RANGE = (1.0, 10e6)
    VBW_RANGE = (1.0, 10e6)
    SPAN_PER_RBW = 100.0
    POINTS_RANGE = (101, 32001)
    POINTS_DEFAULT = 691
    AVG_RANGE = (0, 32767)
    AVG_DEFAULT = 0
    REF_RANGE = (-130.0, 30.0)
    SWT_RANGE = (1e-6, 16000.0)
    ATT_STEP = 5
    NOISE_FIGURE_dB = 19.0
    LITTLE_ENDIAN_DEFAULT = True
    SWEEP_COUNT_ALWAYS = True
    TRACE_MODES = ["WRITe", "AVERage", "MAXHold", "MINHold", "VIEW", "BLANk"]
    DETECTORS = {"APE": _PEAK, "POS": _PEAK, "NEG": _MIN, "SAMP": _SAMPLE, "RMS": _MEAN,
                 "AVER": _MEAN, "QPE": _PEAK}
    MAX_MARKERS = 16

    def _declare(self) -> None:
        self.add_parameter("detector", "[SENSe]:DETector<t>[:FUNCtion]", str,
                           choices=["APEak", "POSitive", "NEGative", "SAMPle", "RMS",
                                    "AVERage", "QPEak"], default="APE")
        self.add_parameter("trace_mode", "DISPlay[:WINDow<w>]:TRACe<t>:MODE", str,
                           choices=self.TRACE_MODES, default="WRIT")
        self.add_parameter("avg_count", "[SENSe]:AVERage<n>:COUNt", int, range=self.AVG_RANGE,
                           default=self.AVG_DEFAULT, fmt=self._fmt_int)
        count = self.parameters()["avg_count"].command
        self.add_command("[SENSe]:SWEep:COUNt", lambda *t: count.setter(list(t), {"n": 1}),
                         args=None)
        self.add_query("[SENSe]:SWEep:COUNt", lambda *t: count.getter(list(t), {"n": 1}),
                       args=None)
        self.add_command("[SENSe]:AVERage<n>[:STATe<t>]", self._set_avg_state,
                         args=(Arg(bool),))
        self.add_query("[SENSe]:AVERage<n>[:STATe<t>]",
                       lambda n=1, t=1: self.trace_mode() == "AVER")
        self._declare_attenuation("INPut:ATTenuation")
        self.add_query("TRACe<n>[:DATA]", self._trace_query, args=None)
        self.add_command("FORMat[:DATA]", self._set_format, args=None)
        self.add_query("FORMat[:DATA]", self._format_value)
        self.add_parameter("pexc", "CALCulate<w>:MARKer<n>:PEXCursion", float,
                           range=(0.0, 80.0), default=6.0, fmt=self._fmt)
        with_units(self, "pexc", DB_UNITS)
        self.add_command("INITiate:CONMeas", self.continue_sweep)
        self.add_command("INSTrument[:SELect]", lambda mode: None,
                         args=(Arg(str, choices=["SANalyzer"]),))
        self.add_query("INSTrument[:SELect]", lambda: "SAN")

    def _set_avg_state(self, on: bool, n: int = 1, t: int = 1) -> None:
        self.set("trace_mode", "AVER" if on else "WRIT", 1, 1)

    def _fmt(self, v: float) -> str:
        return rs_number(v)

    def _fmt_freq(self, v: float) -> str:
        return rs_number(v)

    def _fmt_int(self, v: int) -> str:
        return str(int(v))

    def _fmt_trace_value(self, v: float) -> str:
        return f"{v:.4f}"

    def detector_value(self) -> str:
        return self.get("detector", 1)

    def trace_mode(self) -> str:
        mode = self.get("trace_mode", 1, 1)
        return "VIEW" if mode == "BLAN" else mode

    def average_count(self) -> int:
        return int(self.get("avg_count", 1))

    def peak_excursion(self) -> float:
        return float(self.get("pexc", 1, 1))


TWINS = {"n9020a": N9020ATwin, "n9030a": N9030ATwin, "fsv": FSVTwin}
"""Driver registry key -> twin class."""

__all__ = ["N9020ATwin", "N9030ATwin", "FSVTwin", "TWINS"]
