"""Simulated Stanford Research SR830 DSP lock-in.

Wiring keywords, the physics of a reading, the data buffers and the known deviations of
the SRS lock-in twins: :mod:`labspin.sim_backend.sim_srs`.
"""
from __future__ import annotations

from .scpi import Arg, SCPIError
from .sim_srs_common import SQRT2, SRSLockIn, int_tokens, wrap_phase
from .srs_buffer import SR830Storage

_SR830_SENS = (2e-9, 5e-9, 10e-9, 20e-9, 50e-9, 100e-9, 200e-9, 500e-9, 1e-6, 2e-6, 5e-6,
               10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3,
               50e-3, 100e-3, 200e-3, 500e-3, 1.0)
_SR830_TC = (10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 100e-3, 300e-3, 1.0,
             3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 10e3, 30e3)
_SR830_RESERVE_DB = {0: 60.0, 1: 40.0, 2: 20.0}
"""Dynamic reserve modelled per RMOD (0 high reserve, 1 normal, 2 low noise)."""


def _g(value: float) -> str:
    return f"{value:.6g}"


class SR830Twin(SR830Storage, SRSLockIn):
    """Simulated SR830 DSP lock-in (1 mHz–102 kHz), SR830 manual rev. 2.5 ch. 5.

    *RST (standard settings): internal reference 1 kHz, phase 0, harmonic 1, sine 1.000 V,
    sensitivity 1 V (SENS 26), normal reserve, 100 ms (OFLT 8), 12 dB/oct, AC coupling.
    """
    def audited_levels(self):
        return {"sine_amplitude": ("sine_amplitude", 1.0)}

    MODEL = "SR830"
    idn = "Stanford_Research_Systems,SR830,s/n12345,ver1.07"
    F_MIN, F_MAX, H_MAX = 1e-3, 102e3, 19999
    SENSITIVITIES = _SR830_SENS
    TIME_CONSTANTS = _SR830_TC
    INPUT_NOISE = 6e-9
    STB_FIXED = 0b11        # SCN (no scan in progress), IFC (no command executing)

    def _declare(self) -> None:
        p = self._param
        p("phase", "PHAS", float, range=(-360.0, 729.99), default=0.0, fmt=_g,
          transform=wrap_phase)
        p("reference_mode", "FMOD", int, range=(0, 1), default=1,
          hook=self._on_reference_change)
        p("frequency", "FREQ", float, range=(self.F_MIN, self.F_MAX), default=1000.0, fmt=_g,
          output=True, check=self._check_internal, hook=self._on_reference_change)
        self.add_query("FREQ", lambda: _g(self.reference_frequency()))
        p("trigger_slope", "RSLP", int, range=(0, 2), default=0)
        p("harmonic", "HARM", int, range=lambda: (1, self._harmonic_max()), default=1)
        p("sine_amplitude", "SLVL", float, range=(0.004, 5.0), default=1.0,
          fmt="{:.3f}".format, output=True, transform=lambda v: round(v, 3),
          hook=lambda v: self._refresh_drive())
        p("input_source", "ISRC", int, range=(0, 3), default=0)
        p("grounding", "IGND", int, range=(0, 1), default=0)
        p("coupling", "ICPL", int, range=(0, 1), default=0)
        p("line_filter", "ILIN", int, range=(0, 3), default=0)
        p("sensitivity", "SENS", int, range=(0, 26), default=26)
        p("reserve", "RMOD", int, range=(0, 2), default=1)
        p("time_constant", "OFLT", int, range=(0, 19), default=8)
        p("filter_slope", "OFSL", int, range=(0, 3), default=1, hook=self._on_slope)
        p("sync_filter", "SYNC", int, range=(0, 1), default=0)
        p("local", "LOCL", int, range=(0, 2), default=0)
        p("override_remote", "OVRM", int, range=(0, 1), default=0)
        p("output_interface", "OUTX", int, range=(0, 1), default=1)   # 1: GPIB
        self._display = {1: [0, 0], 2: [0, 0]}
        self._offsets = {1: [0.0, 0], 2: [0.0, 0], 3: [0.0, 0]}
        self._setups: dict[int, dict] = {}
        self.add_command("DDEF", self._set_ddef, args=None)
        self.add_query("DDEF", lambda i: "{},{}".format(*self._display[i]),
                       args=(Arg(int, range=(1, 2)),))
        self.add_command("FPOP", lambda i, j: None,
                         args=(Arg(int, range=(1, 2)), Arg(int, range=(0, 1))))
        self.add_command("OEXP", self._set_oexp, args=None)
        self.add_query("OEXP", lambda i: "{:.2f},{}".format(*self._offsets[i]),
                       args=(Arg(int, range=(1, 3)),))
        self.add_command("AOFF", self._auto_offset, args=(Arg(int, range=(1, 3)),))
        self.add_command("AUXV", self._set_auxv, args=(Arg(int, range=(1, 4)),
                                                       Arg(float, range=(-10.5, 10.5))))
        self.add_query("AUXV", lambda i: f"{self._aux_out[i - 1]:.3f}",
                       args=(Arg(int, range=(1, 4)),))
        self.add_query("OAUX", lambda i: "0.000", args=(Arg(int, range=(1, 4)),))
        self.add_query("OUTP", self._outp, args=(Arg(int, range=(1, 4)),))
        self.add_query("OUTR", self._outr, args=(Arg(int, range=(1, 2)),))
        self.add_query("SNAP", self._snap, args=None)
        self.add_command("AGAN", self._auto_scale)
        self.add_command("ARSV", lambda: None)
        self.add_command("SSET", self._save_setup, args=(Arg(int, range=(1, 9)),))
        self.add_command("RSET", self._recall_setup, args=(Arg(int, range=(1, 9)),))
        self._declare_storage()

    # -- settings
    def _external(self) -> bool:
        return int(self.get("reference_mode")) == 0

    def _check_internal(self, value) -> None:
        if self._external():
            raise SCPIError(-221, "FREQ needs the internal reference")

    def _input_range_V(self) -> float:
        reserve = _SR830_RESERVE_DB[int(self.get("reserve"))]
        return SQRT2 * min(self._fs() * 10 ** (reserve / 20), 1.0)

    def _reset_extra(self) -> None:
        self._display = {1: [0, 0], 2: [0, 0]}
        self._offsets = {1: [0.0, 0], 2: [0.0, 0], 3: [0.0, 0]}
        self._storage_reset()

    def _set_ddef(self, *tokens: str) -> None:
        i, j, k = int_tokens(tokens, (3, 3), (0, 4))
        if i not in (1, 2) or k > 2:
            raise SCPIError(-222)
        self._display[i] = [j, k]

    def _set_oexp(self, *tokens: str) -> None:
        if len(tokens) != 3:
            raise SCPIError(-109 if len(tokens) < 3 else -108)
        i, = int_tokens(tokens[:1], (1, 1), (1, 3))
        j, = int_tokens(tokens[2:], (1, 1), (0, 2))
        try:
            x = float(tokens[1])
        except ValueError:
            raise SCPIError(-104) from None
        if not -105.0 <= x <= 105.0:
            raise SCPIError(-222)
        self._offsets[i] = [x, j]

    def _auto_offset(self, i: int) -> None:
        s = self.snapshot()
        value = {1: s["x"], 2: s["y"], 3: s["r"]}[i]
        self._offsets[i][0] = max(-105.0, min(105.0, 100.0 * value / self._fs()))

    def _set_auxv(self, i: int, x: float) -> None:
        self._aux_out[i - 1] = x

    def _save_setup(self, i: int) -> None:
        self._setups[i] = {name: dict(p.values) for name, p in self.parameters().items()}

    def _recall_setup(self, i: int) -> None:
        saved = self._setups.get(i)
        if saved is None:
            raise SCPIError(-221, "no setup stored")
        self._sync()
        for name, values in saved.items():
            self.set(name, values.get((), self.parameters()[name].default))
        self._version += 1
        self._filter.set_order(self._order())
        self._refresh_drive()

    # -- status
    def _update_status(self, z: complex) -> None:
        c = self._conditions(z)
        bits = ((1 if c["input"] else 0) | (4 if c["x"] or c["y"] or c["r"] else 0)
                | (8 if c["unlock"] else 0))
        self.lias.word |= bits

    # -- readings
    _SNAP_KEYS = {1: "x", 2: "y", 3: "r", 4: "theta", 9: "frequency"}

    def _value(self, s: dict, i: int) -> float:
        if i in self._SNAP_KEYS:
            return s[self._SNAP_KEYS[i]]
        if 5 <= i <= 8:
            return 0.0
        return self._display_value(s, i - 9)

    def _display_value(self, s: dict, ch: int) -> float:
        j = self._display[ch][0]
        if j == 0:
            return s["x"] if ch == 1 else s["y"]
        if j == 1:
            return s["r"] if ch == 1 else s["theta"]
        if j == 2:
            return s["noise"]
        return 0.0

    def _outp(self, i: int) -> str:
        s = self.snapshot()
        return _g(self._value(s, i))

    def _outr(self, ch: int) -> str:
        return _g(self._display_value(self.snapshot(), ch))

    def _snap(self, *tokens: str) -> str:
        items = int_tokens(tokens, (2, 6), (1, 11))
        s = self.snapshot()
        return ",".join(_g(self._value(s, i)) for i in items)
