"""Simulated Stanford Research SR860, SR865 and SR865A DSP lock-ins (one command set).

Wiring keywords, the physics of a reading, the data buffers and the known deviations of
the SRS lock-in twins: :mod:`labspin.sim_backend.sim_srs`.
"""
from __future__ import annotations

from .scpi import Arg, SCPIError
from .sim_srs_common import SRSLockIn, wrap_phase
from .srs_buffer import SR86xCapture

_SR86X_SENS = (1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 5e-4, 2e-4, 1e-4,
               5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6, 5e-7, 2e-7, 1e-7, 5e-8, 2e-8, 1e-8, 5e-9,
               2e-9, 1e-9)
_SR86X_TC = (1e-6, 3e-6, 10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 100e-3,
             300e-3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 10e3, 30e3)
_SR86X_IRNG = (1.0, 0.3, 0.1, 0.03, 0.01)
_SR86X_RSRC = {"INT": 0, "INTERNAL": 0, "EXT": 1, "EXTERNAL": 1, "DUAL": 2, "CHOP": 3,
               "0": 0, "1": 1, "2": 2, "3": 3}
_SR86X_PARAMS = {"X": 0, "Y": 1, "R": 2, "THETA": 3, "TH": 3, "IN1": 4, "IN2": 5, "IN3": 6,
                 "IN4": 7, "XNOISE": 8, "XNO": 8, "YNOISE": 9, "YNO": 9, "OUT1": 10,
                 "OUT2": 11, "PHASE": 12, "PHA": 12, "SAMP": 13, "SAM": 13, "LEVEL": 14,
                 "LEV": 14, "FINT": 15, "FI": 15, "FEXT": 16, "FE": 16}
"""OUTP?/SNAP? parameters of the SR86x: index or name (long or short form)."""


def _e(value: float) -> str:
    return f"{value:.6e}"


class SR860Twin(SR86xCapture, SRSLockIn):
    """Simulated SR860 DSP lock-in (1 mHz–500 kHz), SR860 manual rev. 2.04 ch. 4; the SR865
    and SR865A twins change only the frequency range.

    *RST: internal reference 1 kHz, phase 0, harmonic 1, sine 1.000 V, dc level 0, sensitivity
    1 V (SCAL 0), 100 ms (OFLT 10), 12 dB/oct, input range 1 V, AC coupling.
    """
    def audited_levels(self):
        return {"sine_amplitude": ("sine_amplitude", 1.0), "sine_offset": ("sine_offset", 1.0)}

    MODEL = "SR860"
    idn = "Stanford_Research_Systems,SR860,003456,v1.51"
    F_MIN, F_MAX, H_MAX = 1e-3, 500e3, 99
    SENSITIVITIES = _SR86X_SENS
    TIME_CONSTANTS = _SR86X_TC
    INPUT_NOISE = 2.5e-9

    def _declare(self) -> None:
        p = self._param
        fmax = self.F_MAX
        p("timebase_mode", "TBMODE", int, range=(0, 1), default=0)
        self.add_query("TBSTAT", lambda: 1)
        p("phase", "PHAS", float, range=(-360000.0, 360000.0), default=0.0, fmt=_e,
          transform=wrap_phase)
        p("frequency", "FREQINT", float, range=(self.F_MIN, fmax), default=1000.0,
          fmt="{:.7e}".format, output=True, hook=self._on_reference_change)
        self.add_command("FREQ", self._set_freq, args=(Arg(float, range=(self.F_MIN, fmax)),))
        self.add_query("FREQ", lambda: f"{self.reference_frequency():.7e}")
        self.add_query("FREQEXT", self._freq_ext)
        self.add_query("FREQDET",
                       lambda: f"{self.get('harmonic') * self.reference_frequency():.7e}")
        p("harmonic", "HARM", int, range=lambda: (1, self._harmonic_max()), default=1)
        p("harmonic_dual", "HARMDUAL", int, range=(1, 99), default=1)
        p("sine_amplitude", "SLVL", float, range=(0.0, 2.0), default=1.0,
          fmt="{:.9e}".format, output=True, transform=lambda v: round(v, 9),
          hook=lambda v: self._refresh_drive())
        p("sine_offset", "SOFF", float, range=(-5.0, 5.0), default=0.0, fmt="{:.4e}".format,
          output=True, transform=lambda v: round(v, 4), hook=lambda v: self._refresh_drive())
        p("sine_dc_mode", "REFM", int, range=(0, 1), default=0)
        p("reference_mode", "RSRC", choices=_SR86X_RSRC, default=0, fmt=str,
          hook=self._on_reference_change)
        p("trigger_mode", "RTRG", int, range=(0, 2), default=0)
        p("trigger_input", "REFZ", int, range=(0, 1), default=1)
        self._presets = {"PSTF": [1e3, 1e4, 1e5, 2e5], "PSTA": [1e-3, 1e-2, 1e-1, 1.0],
                         "PSTL": [0.0, 1e-2, 1e-1, 1.0]}
        limits = {"PSTF": (self.F_MIN, fmax), "PSTA": (0.0, 2.0), "PSTL": (-5.0, 5.0)}
        for key, lim in limits.items():
            self.add_command(key, self._preset_setter(key),
                             args=(Arg(int, range=(0, 3)), Arg(float, range=lim)))
            self.add_query(key, self._preset_getter(key), args=(Arg(int, range=(0, 3)),))
        p("input_mode", "IVMD", int, range=(0, 1), default=0)
        p("input_source", "ISRC", int, range=(0, 1), default=0)
        p("coupling", "ICPL", int, range=(0, 1), default=0)
        p("grounding", "IGND", int, range=(0, 1), default=0)
        p("input_range", "IRNG", int, range=(0, 4), default=0)
        p("current_gain", "ICUR", int, range=(0, 1), default=0)
        self.add_query("ILVL", self._signal_strength)
        p("sensitivity", "SCAL", int, range=(0, 27), default=0)
        p("time_constant", "OFLT", int, range=(0, 21), default=10)
        p("filter_slope", "OFSL", int, range=(0, 3), default=1, hook=self._on_slope)
        p("sync_filter", "SYNC", int, range=(0, 1), default=0)
        p("advanced_filter", "ADVFILT", int, range=(0, 1), default=0)
        self.add_query("ENBW", lambda: _e(self.enbw()))
        self._cout = [0, 0]
        self._cdsp = [0, 1, 2, 3]
        self.add_command("COUT", self._set_list("_cout", 1), args=(Arg(int, range=(0, 1)),
                                                                    Arg(int, range=(0, 1))))
        self.add_query("COUT", lambda i: self._cout[i], args=(Arg(int, range=(0, 1)),))
        self.add_command("CDSP", self._set_list("_cdsp", 16), args=(Arg(int, range=(0, 3)),
                                                                     Arg(int, range=(0, 16))))
        self.add_query("CDSP", lambda i: self._cdsp[i], args=(Arg(int, range=(0, 3)),))
        p("blanking", "DBLK", int, range=(0, 1), default=0)
        p("layout", "DLAY", int, range=(0, 5), default=0)
        self.add_command("AUXV", self._set_auxv, args=(Arg(int, range=(0, 3)),
                                                       Arg(float, range=(-10.5, 10.5))))
        self.add_query("AUXV", lambda i: f"{self._aux_out[i]:.4e}",
                       args=(Arg(int, range=(0, 3)),))
        self.add_query("OAUX", lambda i: _e(0.0), args=(Arg(int, range=(0, 3)),))
        self.add_query("OUTP", self._outp, args=None)
        self.add_query("OUTR", self._outr, args=(Arg(int, range=(0, 3)),))
        self.add_query("SNAP", self._snap, args=None)
        self.add_query("SNAPD", self._snapd)
        self.add_query("CUROVLDSTAT", self._current_overload)
        self.add_command("ASCL", self._auto_scale)
        self.add_command("ARNG", self._auto_range)
        self.add_command("OAUT", lambda i: None, args=(Arg(int, range=(0, 2)),))
        self._offsets = {"COFP": [0.0] * 3, "CEXP": [0] * 3}
        for key, arg, fmt in (("COFP", Arg(float, range=(-999.99, 999.99)), "{:.4e}".format),
                              ("CEXP", Arg(int, range=(0, 2)), str)):
            self.add_command(key, self._offset_setter(key), args=(Arg(int, range=(0, 2)), arg))
            self.add_query(key, lambda i, key=key, fmt=fmt: fmt(self._offsets[key][i]),
                           args=(Arg(int, range=(0, 2)),))
        self._declare_capture()

    # -- settings
    def _external(self) -> bool:
        return int(self.get("reference_mode")) != 0

    def _set_freq(self, value: float) -> None:
        """FREQ x sets the internal frequency (the one used with the internal reference)."""
        self._sync()
        self.set("frequency", value)
        self._version += 1
        self._on_reference_change()

    def _freq_ext(self) -> str:
        f = self.bench.reference_frequency(self.reference_source) if self.reference_source \
            else None
        return f"{(f or 0.0):.7e}"

    def _input_range_V(self) -> float:
        return _SR86X_IRNG[int(self.get("input_range"))]

    def _sine_offset_V(self) -> float:
        return float(self.output("sine_offset"))

    def _preset_setter(self, key: str):
        def setter(i: int, x: float) -> None:
            self._presets[key][i] = x
        return setter

    def _preset_getter(self, key: str):
        def getter(i: int) -> str:
            return _e(self._presets[key][i])
        return getter

    def _offset_setter(self, key: str):
        """COFP i, x (offset, % of full scale) and CEXP i, j (expand ×1, ×10, ×100) of X, Y,
        R: stored and answered (see Known deviations)."""
        def setter(i: int, x) -> None:
            self._offsets[key][i] = x
        return setter

    def _set_list(self, attr: str, _max: int):
        def setter(i: int, j: int) -> None:
            getattr(self, attr)[i] = j
        return setter

    def _set_auxv(self, i: int, x: float) -> None:
        self._aux_out[i] = x

    def _reset_extra(self) -> None:
        self._cout = [0, 0]
        self._cdsp = [0, 1, 2, 3]
        self._offsets = {"COFP": [0.0] * 3, "CEXP": [0] * 3}
        self._capture_armed = False

    def _signal_strength(self) -> int:
        self._sync()
        ratio = self._input_peak / self._input_range_V()
        return 4 if ratio > 1 else 3 if ratio > 0.3 else 2 if ratio > 0.1 else \
            1 if ratio > 0.03 else 0

    def _auto_range(self) -> None:
        self._sync()
        fits = [i for i, v in enumerate(_SR86X_IRNG) if v >= 1.05 * self._input_peak]
        self.set("input_range", max(fits) if fits else 0)
        self._version += 1

    # -- status
    def _overload_word(self, z: complex) -> int:
        c = self._conditions(z)
        ch = {0: c["x"], 1: c["r"]}, {0: c["y"], 1: False}
        word = (int(ch[0][self._cout[0]]) | int(ch[1][self._cout[1]]) << 1
                | int(c["unlock"]) << 3 | int(c["input"]) << 4)
        per_param = {0: c["x"], 1: c["y"], 2: c["r"]}
        for i, param in enumerate(self._cdsp):
            if per_param.get(param, False):
                word |= 1 << (8 + i)
        return word

    def _update_status(self, z: complex) -> None:
        self.lias.word |= self._overload_word(z)

    def _current_overload(self) -> int:
        self._sync()
        return self._overload_word(self._filter.output())

    # -- readings
    def _param_index(self, token: str) -> int:
        t = token.strip().upper()
        if t in _SR86X_PARAMS:
            return _SR86X_PARAMS[t]
        try:
            i = int(round(float(t)))
        except ValueError:
            raise SCPIError(-224) from None
        if not 0 <= i <= 16:
            raise SCPIError(-222)
        return i

    def _value(self, s: dict, i: int) -> float:
        if i <= 3:
            return s[("x", "y", "r", "theta")[i]]
        if i in (8, 9):
            return s["noise"]
        if i in (10, 11):
            return self._aux_out[i - 10]
        if i == 12:
            return self._phase()
        if i == 13:
            return float(self.get("sine_amplitude"))
        if i == 14:
            return float(self.get("sine_offset"))
        if i == 15:
            return self._internal_frequency()
        if i == 16:
            return float(self._freq_ext())
        return 0.0

    def _outp(self, *tokens: str) -> str:
        if len(tokens) != 1:
            raise SCPIError(-109 if not tokens else -108)
        return _e(self._value(self.snapshot(), self._param_index(tokens[0])))

    def _outr(self, ch: int) -> str:
        return _e(self._value(self.snapshot(), self._cdsp[ch]))

    def _snap(self, *tokens: str) -> str:
        if not 2 <= len(tokens) <= 3:
            raise SCPIError(-109 if len(tokens) < 2 else -108)
        items = [self._param_index(t) for t in tokens]
        s = self.snapshot()
        return ",".join(_e(self._value(s, i)) for i in items)

    def _snapd(self) -> str:
        s = self.snapshot()
        return ",".join(_e(self._value(s, i)) for i in self._cdsp)



class SR865Twin(SR860Twin):
    """Simulated SR865 (1 mHz–2 MHz): the SR860 command set, SR865 manual rev. 1.26."""

    MODEL = "SR865"
    idn = "Stanford_Research_Systems,SR865,003456,v1.51"
    F_MAX = 2e6


class SR865ATwin(SR860Twin):
    """Simulated SR865A (1 mHz–4 MHz): the SR860 command set, SR865A manual rev. 2.07."""

    MODEL = "SR865A"
    idn = "Stanford_Research_Systems,SR865A,003456,v1.51"
    F_MAX = 4e6
