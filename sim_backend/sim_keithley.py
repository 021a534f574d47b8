"""Simulated Keithley dc instruments wired to a :class:`VirtualBench`: the 2400 and 2450
SourceMeters, the 6221 ac/dc current source (dc, waveforms, delta mode with an attached 2182A)
and the 2182A nanovoltmeter.

Each twin parses its model's command set as our drivers (``labspin.drivers.keithley``) and
pymeasure's stock classes send it, with the model's *RST defaults, ranges, response formats,
status registers and error queue. Construct one as ``Twin(bench, name, **wiring)``; it registers
itself in ``bench.instruments[name]`` and runs on ``bench.clock``.

Wiring keywords
    2400 / 2450: ``probe`` ("xx" default; what the sense leads read in 4-wire mode),
    ``drives_sample`` (True: the force leads are in the sample's current path, along +x),
    ``lead_ohm`` (lead + contact resistance seen in 2-wire mode, Ω, default 0).
    6221: ``drives_sample`` (True), ``nanovoltmeter`` (name of the attached 2182A twin in
    ``bench.instruments``, resolved when needed; None: no RS-232/Trigger Link partner).
    2182A: ``probe`` (channel 1, "xx" default), ``probe2`` (channel 2, None: unconnected),
    ``thermal_emf_V`` (a constant thermoelectric offset in series with channel 1, V, default 0:
    delta mode cancels it, a plain dc reading does not), ``termination`` (reply terminator, CR
    by default: the read termination of pymeasure's and our 2182A driver; see below).

Physics of the readings (SI units throughout)
    * The sample's current path is probe "xx" of a Hall bar or "mtj" of a pillar; a source in
      it calls ``bench.set_dc_current(name, I)`` with the current it actually drives.
    * Current-source compliance: the force voltage is I·(|R_path| + lead_ohm); beyond the
      voltage limit the current is reduced to V_limit/(|R_path| + lead_ohm) and the model's
      compliance flag is set (2400: status-word bit 3, measurement event bit 14,
      ``:SENS:VOLT:PROT:TRIP?``; 2450: ``:SOUR:CURR:VLIM:TRIP?``; 6221: measurement condition
      bit 3 and the delta COMPliance element).
    * Voltage-source mode regulates the sensed voltage: I = (V − I_others·R_s)/(R_s + lead)
      with R_s = R(probe) in 4-wire mode and R(path) in 2-wire mode (lead only in 2-wire); beyond
      the current limit I is clamped and the compliance flag set.
    * A SourceMeter reading of V is ``bench.dc_voltage(sense probe, t_int·n_filter)`` (I·R(m)
      plus Johnson noise of the integration bandwidth) plus the meter's own noise, σ_V =
      2 ppm of the range/√(NPLC·n_filter); I = the driven current + σ_I (2 ppm of the current
      range/√(NPLC·n_filter)); R = V/I. Autorange picks the smallest range holding the value; a
      fixed range overflows beyond 105 % (+9.9E37).
    * 2182A: ``bench.dc_voltage(probe, t_int·n_filter)`` (+ thermal EMF on channel 1) plus
      the meter's floor σ_floor (rms, NPLC 5, filter off) of the range autorange picks: 10 mV:
      3 nV, 100 mV: 10 nV, 1 V: 80 nV, 10 V: 0.8 µV, 100 V: 8 µV, scaled by √(5/NPLC)/√n_filter.
      Overrange beyond 120 % of the range → +9.9E37. TEMPerature reads the sample temperature.
    * Integration time t_int = NPLC/line frequency (60 Hz); a reading takes the source delay
      (SMUs) or trigger delay plus n_filter·t_int, doubled with autozero (SMU) or front autozero
      (2182A) on. Readings advance ``bench.clock``; they never sleep in real time.
    * 6221 delta: alternating +HIGH/LOW with DELay + one 2182A conversion per step; delta
      reading n = (−1)^n (A_n − 2A_{n+1} + A_{n+2})/4 (the 6221's three-point algorithm), which
      is (V(+I) − V(−I))/2 for a steady sample and cancels the thermal EMF and its linear
      drift. The readings are computed as virtual time passes (clock listener and on every
      delta query), so a client that reads early sees a partial buffer, as on the instrument.
    * 6221 waveforms: while running, the bench gets the dc offset and the fundamental of the
      waveform (sine: its amplitude; square/ramp/arbitrary: the first Fourier component) via
      ``set_ac_current``, and the wave frequency as this source's reference output.

Deviations from the real instruments (knowingly)
    ASCII data only (``FORM:DATA`` other than ASCii → -224); arm/trigger sources other than
    BUS run immediately (no trigger link); sweeps (``SOUR:…:MODE SWE|LIST``), limit tests,
    math and the 2450's user buffers (defbuffer1/2 only) are absent; source ranges are stored
    and reported but do not limit the level (the model's full range applies); compliance is
    judged on the force voltage also in 4-wire mode (the 2400 limits the sensed one there);
    2400 CONFigure resets only the function's autorange, the trigger counts/delays/sources
    and buffer feed; a 6221 waveform in compliance is scaled, not clipped; the 6221
    publishes its wave frequency as a reference output whether or not the phase marker is
    on; ARM (wave or delta) turns the 6221 output on and an abort leaves it on at the dc
    level (not checked against a manual); 6221 current autorange is on after *RST and
    delta delays down to 0 s are accepted; the UNITs element is accepted and left out;
    the 2182A's digital filter is off after *RST; the 2182A answers with CR (over GPIB its
    replies end with LF+EOI, where any read termination works; a socket has no EOI, so the
    twin ends replies the way its usual clients read them, pymeasure's and ours);
    *OPC? with an infinite delta count answers at once. Cost: every reading solves the
    sample's state 1–3 times through the bench (≈1–3 ms on the Hall bars; a thermal-average
    sample such as the Kapitza magnet takes seconds per solve).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from labspin.physics.readout import HallBar

from .scpi import ERRORS, ESR_EXE, STB_MSS, Arg, SCPIError, SimInstrument, esr_bit, unquote
from .virtual_bench import VirtualBench

OVERFLOW = 9.9e37
"""Reading code for an overflow (all four models)."""
NOT_MEASURED = 9.91e37
"""2400: the value of a reading element whose function is not measured."""
LINE_HZ = 60.0
"""Power-line frequency of the virtual bench (Hz)."""

KEITHLEY_TEXTS = {
    -222: "Parameter data out of range",
    -213: "Init ignored",
    -230: "Data corrupt or stale",
    -410: "Query interrupted",
    -420: "Query unterminated",
    800: "Illegal with storage active",
    803: "Not permitted with OUTPUT off",
}
"""Error texts where Keithley's differ from the generic SCPI ones."""

_STAT_WORDS = {"MEAS": "MEASurement", "OPER": "OPERation", "QUES": "QUEStionable"}
_STB_SUMMARY = {"MEAS": 1 << 0, "QUES": 1 << 3, "OPER": 1 << 7}


def _nr3(value: float) -> str:
    """Keithley's ASCII number, e.g. '+1.234560E-03'."""
    return f"{value:+.6E}"


def _nr3_inf(value: float) -> str:
    return "+9.900000E+37" if math.isinf(value) else _nr3(value)


def _ignore(*_args: Any, **_kw: Any) -> None:
    return None


class _NumOrInf(Arg):
    """A number, or INFinity (stored as math.inf)."""

    def parse(self, token: str) -> Any:
        if token.strip().upper() in ("INF", "INFINITY"):
            return math.inf
        return super().parse(token)


def _snap(value: float, ranges: Sequence[float]) -> float:
    """Get the smallest range (as listed) that holds |value| (the largest if none does)."""
    v = abs(value) * (1 - 1e-9)
    return next((r for r in ranges if v <= r), ranges[-1])


def _auto_range(value: float, nominal: Sequence[float], headroom: float) -> float:
    """Get the smallest nominal range whose headroom×range holds |value|."""
    return next((r for r in nominal if abs(value) <= headroom * r), nominal[-1])


def _function_name(token: str, allowed: Sequence[str]) -> str:
    """Parse a quoted or bare function name ('VOLT', "VOLT:DC", CURRent) to its short form."""
    word = unquote(token.strip()).strip().upper()
    if word.endswith(":DC"):
        word = word[:-3]
    return Arg(str, choices=allowed).parse(word)


def current_path(bench: VirtualBench) -> str:
    """Get the probe whose resistance the sample's current path has: "xx" (Hall bar), "mtj"."""
    return "xx" if isinstance(bench.sample.readout, HallBar) else "mtj"


def r_upper(bench: VirtualBench, probe: str) -> float:
    """Get an upper bound (Ω) of |R(probe)| over all states (lets a compliance check skip the
    state computation when even the largest resistance stays within the limit)."""
    if bench.wall is not None:
        return 1.0 / bench.wall.readout.g_ap       # the whole pillar antiparallel
    ro = bench.sample.readout
    if isinstance(ro, HallBar):
        if probe == "xx":
            return abs(ro.r0) + abs(ro.dr_amr) + abs(ro.dr_smr)
        return abs(ro.r_xy0) + abs(ro.dr_ahe) + 2 * abs(ro.dr_phe)
    return max(ro.r_p, ro.r_ap)


def _check_probe(bench: VirtualBench, probe: str) -> str:
    allowed = ("xx", "xy") if isinstance(bench.sample.readout, HallBar) else ("mtj",)
    if probe not in allowed:
        raise ValueError(f"sample {bench.sample.name} has probes {allowed}, not {probe!r}")
    return probe


# ============================================================================ shared base


class _KeithleyTwin(SimInstrument):
    """Bench wiring, Keithley error texts, the STATus subsystem and plain settings."""

    error_texts: dict[int, str] = KEITHLEY_TEXTS
    execution_codes = frozenset({800, 802, 803})
    registers: tuple[str, ...] = ("MEAS", "OPER", "QUES")

    def __init__(self, bench: VirtualBench, name: str):
        super().__init__(clock=bench.clock)
        self.bench, self.name = bench, name
        self._timer_zero = self.clock.now()
        self._regs = {reg: [0, 0, 0] for reg in self.registers}   # event, enable, condition
        self._settings: dict[str, Any] = {}
        self._setting_defaults: dict[str, Any] = {}
        self.add_command("STATus:PRESet", self._status_preset)
        for reg in self.registers:
            word = _STAT_WORDS[reg]
            self.add_query(f"STATus:{word}[:EVENt]", partial(self._read_event, reg))
            self.add_query(f"STATus:{word}:CONDition", partial(self._condition_of, reg))
            self.add_command(f"STATus:{word}:ENABle", partial(self._set_enable, reg),
                             args=(Arg(int, range=(0, 65535)),))
            self.add_query(f"STATus:{word}:ENABle", partial(self._enable_of, reg))
        self.add_command("STATus:QUEue:CLEar", self._clear_queue)
        self.add_command("STATus:QUEue:ENABle", _ignore, args=None)
        self.add_command("STATus:QUEue:DISable", _ignore, args=None)
        self.add_command("SYSTem:BEEPer[:IMMediate]", _ignore, args=None)
        self.add_command("SYSTem:LOCal", _ignore)
        self.add_command("SYSTem:REMote", _ignore)
        bench.instruments[name] = self

    # -- errors

    def _text(self, code: int, text: str | None) -> str:
        if text in (None, ERRORS.get(code), "Device-specific error"):
            return self.error_texts.get(code) or text or ERRORS.get(code, "Device-specific error")
        return text

    def push_error(self, code: int, text: str | None = None) -> None:
        """Queue an error with the model's text; +800-series codes are execution errors."""
        with self.lock:
            self.esr |= ESR_EXE if code in self.execution_codes else esr_bit(code)
            if len(self.errors) >= self.error_queue_size:
                self.errors[-1] = (-350, self._text(-350, None))
                self.esr |= esr_bit(-350)
            else:
                self.errors.append((code, self._text(code, text)))

    def _clear_queue(self) -> None:
        with self.lock:
            self.errors.clear()

    def clear_status(self) -> None:
        """*CLS: the error queue, ESR and the measurement/operation/questionable events."""
        super().clear_status()
        for reg in self._regs.values():
            reg[0] = 0

    # -- status registers (measurement, operation, questionable)

    def _status_preset(self) -> None:
        for reg in self._regs.values():
            reg[1] = 0

    def _read_event(self, reg: str) -> int:
        value, self._regs[reg][0] = self._regs[reg][0], 0
        return value

    def _condition_of(self, reg: str) -> int:
        return self._regs[reg][2]

    def _enable_of(self, reg: str) -> int:
        return self._regs[reg][1]

    def _set_enable(self, reg: str, value: int) -> None:
        self._regs[reg][1] = value

    def _set_condition(self, reg: str, bit: int, on: bool) -> None:
        """Set or clear a condition bit; a rising edge latches the event bit."""
        r, mask = self._regs[reg], 1 << bit
        if on and not r[2] & mask:
            r[0] |= mask
        r[2] = (r[2] | mask) if on else (r[2] & ~mask)

    def _event(self, reg: str, bit: int) -> None:
        self._regs[reg][0] |= 1 << bit

    def status_byte(self, mav: bool = False) -> int:
        """IEEE 488.2 status byte plus the summary bits MSB (0), QSB (3) and OSB (7)."""
        stb = super().status_byte(mav) & ~STB_MSS
        for reg, (event, enable, _cond) in self._regs.items():
            if event & enable:
                stb |= _STB_SUMMARY[reg]
        if stb & self.sre:
            stb |= STB_MSS
        return stb

    # -- plain settings (values the Parameter class cannot express: INF, ONCE, lists)

    def _setting(self, name: str, pattern: str, arg: Arg, default: Any,
                 fmt: Callable[[Any], str] | None = None,
                 on_change: Callable[[Any], None] | None = None) -> None:
        self._settings[name] = self._setting_defaults[name] = default

        def command(value: Any) -> None:
            self._settings[name] = value
            if on_change is not None:
                on_change(value)

        formatter = fmt or arg.format
        self.add_command(pattern, command, args=(arg,))
        self.add_query(pattern, lambda: formatter(self._settings[name]))

    def _alias(self, pattern: str, name: str) -> None:
        """Let ``pattern`` set and query parameter ``name`` as well."""
        param = self._params[name]

        def command(value: Any) -> None:
            self.set(name, value)
            if param.on_change is not None:
                param.on_change(value)

        self.add_command(pattern, command, args=(param.arg,))
        self.add_query(pattern, lambda: param.fmt(self.get(name)))

    def _snapping(self, name: str, ranges: Sequence[float], auto: str | None = None):
        """on_change for a range parameter: snap to a listed range and end autoranging."""
        def on_change(value: float, *_key: int) -> None:
            self.set(name, _snap(value, ranges))
            if auto is not None:
                self.set(auto, False)
        return on_change

    def on_reset(self) -> None:
        self._settings.update(self._setting_defaults)

    def line_frequency(self) -> float:
        """Get the power-line frequency (Hz)."""
        return LINE_HZ

    def _timestamp(self) -> float:
        return self.clock.now() - self._timer_zero


# ============================================================================ SourceMeters


class _ReadFetch:
    """READ? and FETCh? of the models whose readings come from ``_run`` (a fresh
    measurement) and are kept in ``_last``, formatted by ``_format``."""

    def _read(self) -> str:
        return self._format(self._run())

    def _fetch(self) -> str:
        if not self._last:
            raise SCPIError(-230)
        return self._format(self._last)


class _SourceMeter(_KeithleyTwin):
    """What the 2400 and 2450 share: wiring, compliance, the (V, I) measurement.

    A model declares the parameters "output", "source_function" ("CURR"|"VOLT"),
    "source_current", "source_voltage" (all ``output=True`` but the function) and implements
    the limits, the 4-wire flag, the ranges and NPLC/filter of the present measurement.
    """

    V_RANGES: tuple[float, ...] = ()
    I_RANGES: tuple[float, ...] = ()

    def __init__(self, bench: VirtualBench, name: str, *, probe: str = "xx",
                 drives_sample: bool = True, lead_ohm: float = 0.0, drives_gate: bool = False):
        super().__init__(bench, name)
        self.probe = _check_probe(bench, probe)
        self.path = current_path(bench)
        self.drives_sample = bool(drives_sample)
        self.drives_gate = bool(drives_gate)
        """True: the output is the VCMA gate of a domain-wall sample (voltage, no current)."""
        self.lead_ohm = float(lead_ohm)
        self.current_A = 0.0
        """The current this SMU drives through the sample now (A)."""
        self.tripped = False
        """Whether the source is in compliance now."""

    # -- model hooks
    def _voltage_limit(self) -> float:
        raise NotImplementedError

    def _current_limit(self) -> float:
        raise NotImplementedError

    def _four_wire(self) -> bool:
        raise NotImplementedError

    def _on_compliance(self, tripped: bool) -> None:
        """Report the compliance state in the model's status registers."""

    # -- sourcing
    def _drive(self) -> tuple[float, bool]:
        """Get (current this SMU drives (A), in compliance) for the present settings."""
        if not self.output("output"):
            return 0.0, False
        if self.get("source_function") == "CURR":
            level, vlim = self.output("source_current"), abs(self._voltage_limit())
            if not self.drives_sample:          # force leads not in a circuit: open
                return 0.0, level != 0.0
            if (r_upper(self.bench, self.path) + self.lead_ohm) * abs(level) <= vlim:
                return level, False
            r = abs(self.bench.resistance(self.path)) + self.lead_ohm
            if r * abs(level) > vlim:
                return math.copysign(vlim / r, level), True
            return level, False
        level, ilim = self.output("source_voltage"), abs(self._current_limit())
        if not self.drives_sample:
            return 0.0, False
        four = self._four_wire()
        rs = self.bench.resistance(self.probe if four else self.path)
        lead = 0.0 if four else self.lead_ohm
        others = self.bench.drives.dc_total() - self.bench.drives.dc_A.get(self.name, 0.0)
        need = level - others * rs
        i = need / (rs + lead) if rs + lead else (math.copysign(math.inf, need) if need else 0.0)
        if not math.isfinite(i) or abs(i) > ilim:
            return math.copysign(ilim, i), True
        return i, False

    def _apply(self) -> None:
        """Push the driven current (or, wired to a gate, the voltage) to the bench and update
        the compliance state."""
        if self.drives_gate:
            on = self.output("output") and self.get("source_function") == "VOLT"
            self.bench.set_gate_voltage(self.name, self.output("source_voltage") if on else 0.0)
        i, tripped = self._drive()
        if self.bench.drives.dc_A.get(self.name, 0.0) != i:
            self.bench.set_dc_current(self.name, i)
        self.current_A, self.tripped = i, tripped
        self._on_compliance(tripped)

    def _changed(self, *_args: Any) -> None:
        self._apply()

    # -- measuring
    def _measure_vi(self, nplc: float, n_avg: int, v_range: float | None,
                    i_range: float | None) -> tuple[float, float]:
        """Measure (V, I) once (V, A), the source applied; a range None means autorange.
        Fixed ranges overflow beyond 105 % (+9.9E37)."""
        bench, rng = self.bench, self.bench.rng
        t_int = nplc / self.line_frequency()
        four = self._four_wire()
        level = self.output("source_voltage") if self.get("source_function") == "VOLT" \
            else self.output("source_current")
        if not self.drives_sample and self.output("output") and (
                self.tripped or self.get("source_function") == "VOLT"):
            v = (math.copysign(abs(self._voltage_limit()), level) if self.tripped
                 else float(level))           # open circuit: the terminals at the limit/level
        else:
            v = bench.dc_voltage(self.probe if four else self.path, t_int * n_avg)
            if not four:
                v += self.current_A * self.lead_ohm
        vr = v_range if v_range is not None else _auto_range(v, self.V_RANGES, 1.05)
        v += 2e-6 * vr / math.sqrt(nplc * n_avg) * float(rng.normal())
        i = self.current_A
        ir = i_range if i_range is not None else _auto_range(i, self.I_RANGES, 1.05)
        i += 2e-6 * ir / math.sqrt(nplc * n_avg) * float(rng.normal())
        if v_range is not None and abs(v) > 1.05 * v_range:
            v = OVERFLOW
        if i_range is not None and abs(i) > 1.05 * i_range:
            i = OVERFLOW
        return v, i


# ---------------------------------------------------------------------------- 2400


@dataclass
class _Reading2400:
    volt: float
    curr: float
    res: float
    time: float
    status: float

    def element(self, name: str) -> float:
        return {"VOLT": self.volt, "CURR": self.curr, "RES": self.res, "TIME": self.time,
                "STAT": self.status}[name]


class Keithley2400Twin(_ReadFetch, _SourceMeter):
    """Keithley 2400 SourceMeter (±1.05 A, ±210 V), the Series 2400 User's Manual command set.

    *RST: output off, source voltage 0 V, compliance 105 µA / 21 V, sense function CURR:DC
    (concurrent on), auto ranges, NPLC 1, ohms mode AUTO, filter off (repeat, 10), 2-wire,
    FORMat:ELEMents VOLT,CURR,RES,TIME,STAT. Readings (READ?, FETCh?, TRACe:DATA?) come as
    one group of elements per reading; elements not measured are +9.91E37 except the source
    value. READ?/INIT with the output off (and auto output-off disabled) → +803.
    """

    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 2400,1398264,C32   Oct  4 2010 14:20:11/A02  /S/K"
    V_RANGES = (0.2, 2.0, 20.0, 200.0)
    I_RANGES = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    R_RANGES = (20.0, 200.0, 2e3, 2e4, 2e5, 2e6, 2e7, 2e8)
    OHMS_TEST_A = (0.1, 0.01, 1e-3, 1e-4, 1e-5, 1e-6, 1e-6, 1e-7)
    """Auto-ohms test current (A) per resistance range."""
    ELEMENTS = ("VOLTage", "CURRent", "RESistance", "TIME", "STATus")

    def __init__(self, bench: VirtualBench, name: str, **wiring: Any):
        super().__init__(bench, name, **wiring)
        rep = lambda ranges: tuple(1.05 * r for r in ranges)   # noqa: E731  ranges as reported
        self._v_rep, self._i_rep, self._r_rep = (rep(self.V_RANGES), rep(self.I_RANGES),
                                                 rep(self.R_RANGES))
        p = self.add_parameter
        # ---- output and source
        p("output", "OUTPut[:STATe]", bool, default=False, output=True, on_change=self._changed)
        p("output_off_state", "OUTPut:SMODe", choices=["HIMPedance", "NORMal", "ZERO", "GUARd"],
          default="NORM")
        p("source_function", "SOURce:FUNCtion[:MODE]", choices=["VOLTage", "CURRent"],
          default="VOLT", on_change=self._changed)
        p("source_current", "SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]", float,
          range=(-1.05, 1.05), default=0.0, fmt=_nr3, output=True, on_change=self._changed)
        p("source_voltage", "SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]", float,
          range=(-210.0, 210.0), default=0.0, fmt=_nr3, output=True, on_change=self._changed)
        for q, reps, default in (("current", self._i_rep, 1.05e-4), ("voltage", self._v_rep, 21.0)):
            word = q.upper()[:4] + q[4:]
            p(f"source_{q}_range_auto", f"SOURce:{word}:RANGe:AUTO", bool, default=True)
            p(f"source_{q}_range", f"SOURce:{word}:RANGe[:UPPer]", float,
              range=(-reps[-1], reps[-1]), default=default, fmt=_nr3,
              on_change=self._snapping(f"source_{q}_range", reps, f"source_{q}_range_auto"))
        p("source_delay_auto", "SOURce:DELay:AUTO", bool, default=True)
        p("source_delay", "SOURce:DELay", float, range=(0.0, 9999.998), default=0.001,
          fmt=_nr3, on_change=lambda *_: self.set("source_delay_auto", False))
        p("auto_output_off", "SOURce:CLEar:AUTO", bool, default=False)
        self.add_command("SOURce:CLEar[:IMMediate]", lambda: self._output_off())
        # ---- sense: compliance, ranges, NPLC, filter, ohms
        p("compliance_current", "[SENSe]:CURRent[:DC]:PROTection[:LEVel]", float,
          range=(-1.05, 1.05), default=1.05e-4, fmt=_nr3, on_change=self._changed)
        p("compliance_voltage", "[SENSe]:VOLTage[:DC]:PROTection[:LEVel]", float,
          range=(-210.0, 210.0), default=21.0, fmt=_nr3, on_change=self._changed)
        self.add_query("[SENSe]:CURRent[:DC]:PROTection:TRIPped",
                       lambda: int(self.tripped and self.get("source_function") == "VOLT"))
        self.add_query("[SENSe]:VOLTage[:DC]:PROTection:TRIPped",
                       lambda: int(self.tripped and self.get("source_function") == "CURR"))
        for key, word, reps, default in (("current", "CURRent[:DC]", self._i_rep, 1.05e-4),
                                         ("voltage", "VOLTage[:DC]", self._v_rep, 21.0),
                                         ("resistance", "RESistance", self._r_rep, 2.1e5)):
            low = 0.0 if key == "resistance" else -reps[-1]
            p(f"{key}_range_auto", f"[SENSe]:{word}:RANGe:AUTO", bool, default=True)
            p(f"{key}_range", f"[SENSe]:{word}:RANGe[:UPPer]", float, range=(low, reps[-1]),
              default=default, fmt=_nr3,
              on_change=self._snapping(f"{key}_range", reps, f"{key}_range_auto"))
        p("nplc", "[SENSe]:CURRent[:DC]:NPLCycles", float, range=(0.01, 10.0), default=1.0,
          fmt=_nr3)
        self._alias("[SENSe]:VOLTage[:DC]:NPLCycles", "nplc")
        self._alias("[SENSe]:RESistance:NPLCycles", "nplc")
        p("resistance_mode", "[SENSe]:RESistance:MODE", choices=["MANual", "AUTO"],
          default="AUTO")
        p("offset_compensated", "[SENSe]:RESistance:OCOMpensated", bool, default=False)
        p("filter", "[SENSe]:AVERage[:STATe]", bool, default=False)
        p("filter_type", "[SENSe]:AVERage:TCONtrol", choices=["REPeat", "MOVing"],
          default="REP")
        p("filter_count", "[SENSe]:AVERage:COUNt", int, range=(1, 100), default=10)
        p("concurrent", "[SENSe]:FUNCtion:CONCurrent", bool, default=True)
        self._funcs: list[str] = ["CURR"]
        self.add_command("[SENSe]:FUNCtion[:ON]", self._func_on, args=None)
        self.add_query("[SENSe]:FUNCtion[:ON]", self._func_query)
        self.add_command("[SENSe]:FUNCtion:OFF", self._func_off, args=None)
        self.add_command("[SENSe]:FUNCtion[:ON]:ALL", lambda: self._set_funcs(
            ["VOLT", "CURR", "RES"]))
        self.add_command("[SENSe]:FUNCtion:OFF:ALL", lambda: self._set_funcs([]))
        self.add_query("[SENSe]:FUNCtion:COUNt", lambda: len(self._funcs))
        self.add_query("[SENSe]:FUNCtion:STATe", self._func_state, args=(Arg(str),))
        # ---- system
        p("four_wire", "SYSTem:RSENse", bool, default=False, on_change=self._changed)
        p("line_frequency", "SYSTem:LFRequency", int, choices=(50, 60), default=60)
        p("line_frequency_auto", "SYSTem:LFRequency:AUTO", bool, default=True)
        self._settings["autozero"] = self._setting_defaults["autozero"] = "1"
        self.add_command("SYSTem:AZERo[:STATe]", self._set_autozero, args=(
            Arg(str, choices={"ON": "1", "1": "1", "OFF": "0", "0": "0", "ONCE": "ONCE"}),))
        self.add_query("SYSTem:AZERo[:STATe]", lambda: self._settings["autozero"])
        p("front_terminals", "ROUTe:TERMinals", choices=["FRONt", "REAR"], default="FRON")
        p("display", "DISPlay:ENABle", bool, default=True)
        self.add_command("SYSTem:TIME:RESet", self._reset_timer)
        self.add_query("SYSTem:TIME", self._timestamp, fmt=_nr3)
        self.add_command("SYSTem:PRESet", self.reset)
        # ---- trigger model
        p("trigger_count", "TRIGger[:SEQuence]:COUNt", int,
          range=lambda: (1, 2500 // self.get("arm_count")), default=1, fmt="{:+d}")
        p("arm_count", "ARM[:SEQuence][:LAYer]:COUNt", int,
          range=lambda: (1, 2500 // self.get("trigger_count")), default=1, fmt="{:+d}")
        p("trigger_delay", "TRIGger[:SEQuence]:DELay", float, range=(0.0, 999.9999),
          default=0.0, fmt=_nr3)
        p("trigger_source", "TRIGger[:SEQuence]:SOURce", choices=["IMMediate", "TLINk"],
          default="IMM")
        p("arm_source", "ARM[:SEQuence][:LAYer]:SOURce",
          choices=["IMMediate", "TLINk", "TIMer", "MANual", "BUS", "NSTest", "PSTest", "BSTest"],
          default="IMM")
        p("arm_timer", "ARM[:SEQuence][:LAYer]:TIMer", float, range=(0.001, 99999.99),
          default=0.1, fmt=_nr3)
        p("trigger_output", "TRIGger[:SEQuence][:TCONfigure]:OUTPut",
          choices=["SOURce", "DELay", "SENSe", "NONE"], default="NONE")
        p("arm_output", "ARM[:SEQuence][:LAYer][:TCONfigure]:OUTPut",
          choices=["TENTer", "TEXit", "NONE"], default="NONE")
        for key, pattern, default in (
                ("trigger_input_line", "TRIGger[:SEQuence][:TCONfigure][:ASYNchronous]:ILINe", 1),
                ("arm_input_line", "ARM[:SEQuence][:LAYer][:TCONfigure]:ILINe", 1),
                ("trigger_output_line", "TRIGger[:SEQuence][:TCONfigure][:ASYNchronous]:OLINe", 2),
                ("arm_output_line", "ARM[:SEQuence][:LAYer][:TCONfigure]:OLINe", 2)):
            p(key, pattern, int, range=(1, 4), default=default)
        self.add_command("TRIGger[:SEQuence]:CLEar", _ignore)
        self.add_command("INITiate[:IMMediate]", self._initiate)
        self.add_command("ABORt", self._abort)
        self.add_query("READ", self._read)
        self.add_query("FETCh", self._fetch)
        for word, func in (("VOLTage[:DC]", "VOLT"), ("CURRent[:DC]", "CURR"),
                           ("RESistance", "RES")):
            self.add_query(f"MEASure:{word}", partial(self._measure_query, func))
            self.add_command(f"CONFigure:{word}", partial(self._configure, func))
        self.add_query("MEASure", partial(self._measure_query, None))
        self.add_query("CONFigure", self._func_query)
        # ---- data: format, trace buffer, statistics
        self._elements = ["VOLT", "CURR", "RES", "TIME", "STAT"]
        self.add_command("FORMat:ELEMents[:SENSe]", self._set_elements, args=None)
        self.add_query("FORMat:ELEMents[:SENSe]", lambda: ",".join(self._elements))
        p("data_format", "FORMat[:DATA]", choices=["ASCii"], default="ASC")
        p("status_format", "FORMat:SREGister", choices=["ASCii", "HEXadecimal", "OCTal",
                                                        "BINary"], default="ASC")
        p("trace_points", "TRACe:POINts", int, range=(1, 2500), default=100,
          on_change=self._storage_guard("trace_points"))
        p("trace_feed", "TRACe:FEED", choices={"SENSe": "SENS", "SENSe1": "SENS",
                                               "CALCulate": "CALC1", "CALCulate1": "CALC1",
                                               "CALCulate2": "CALC2"}, default="SENS",
          on_change=self._storage_guard("trace_feed"))
        p("trace_control", "TRACe:FEED:CONTrol", choices=["NEVer", "NEXT"], default="NEV")
        self.add_command("TRACe:CLEar", self._trace_clear)
        self.add_query("TRACe:DATA", self._trace_data)
        self.add_query("TRACe:POINts:ACTual", lambda: len(self._trace))
        self.add_query("TRACe:FREE", lambda: f"{(2500 - len(self._trace)) * 40},"
                                             f"{len(self._trace) * 40}")
        p("calc3_format", "CALCulate3:FORMat",
          choices=["MEAN", "SDEViation", "MAXimum", "MINimum", "PKPK"], default="MEAN")
        self.add_query("CALCulate3:DATA", self._calc3_data)
        self._trace: list[_Reading2400] = []
        self._last: list[_Reading2400] = []
        self._bus_armed = False
        self._guard_prev = {"trace_points": 100, "trace_feed": "SENS"}

    # -- model hooks
    def _voltage_limit(self) -> float:
        return self.get("compliance_voltage")

    def _current_limit(self) -> float:
        return self.get("compliance_current")

    def _four_wire(self) -> bool:
        return self.get("four_wire")

    def _on_compliance(self, tripped: bool) -> None:
        self._set_condition("MEAS", 14, tripped)

    def line_frequency(self) -> float:
        return float(self.get("line_frequency"))

    def on_reset(self) -> None:
        super().on_reset()
        self._funcs = ["CURR"]
        self._elements = ["VOLT", "CURR", "RES", "TIME", "STAT"]
        self._bus_armed = False
        self._guard_prev = {"trace_points": 100, "trace_feed": "SENS"}
        self._apply()

    def trigger(self) -> None:
        """*TRG: run an INIT that waits for a bus trigger (ARM:SOURce BUS)."""
        if self._bus_armed:
            self._bus_armed = False
            try:
                self._run()
            except SCPIError as err:
                self.push_error(err.code, err.text)

    # -- settings helpers
    def _output_off(self) -> None:
        self.set("output", False)
        self._apply()

    def _set_autozero(self, value: str) -> None:
        if value != "ONCE":                 # ONCE: one zero now, the state is kept
            self._settings["autozero"] = value

    def _reset_timer(self) -> None:
        self._timer_zero = self.clock.now()

    def _storage_guard(self, name: str) -> Callable[..., None]:
        """on_change refusing (+800, value kept) a buffer setting while storage is active."""
        def on_change(value: Any, *_key: int) -> None:
            prev = self._guard_prev[name]
            points = self._guard_prev["trace_points"]
            if self.get("trace_control") == "NEXT" and len(self._trace) < points:
                self.set(name, prev)
                raise SCPIError(800)
            self._guard_prev[name] = value
        return on_change

    def _parse_funcs(self, tokens: Sequence[str]) -> list[str]:
        if not tokens or not all(tokens):
            raise SCPIError(-109)
        return [_function_name(t, ("VOLTage", "CURRent", "RESistance")) for t in tokens]

    def _set_funcs(self, funcs: list[str]) -> None:
        if not self.get("concurrent") and len(set(funcs)) > 1:
            funcs = funcs[-1:]
        self._funcs = [f for f in ("VOLT", "CURR", "RES") if f in funcs]

    def _func_on(self, *tokens: str) -> None:
        new = self._parse_funcs(tokens)
        self._set_funcs(new if not self.get("concurrent") else self._funcs + new)

    def _func_off(self, *tokens: str) -> None:
        off = self._parse_funcs(tokens)
        self._funcs = [f for f in self._funcs if f not in off]

    def _func_query(self) -> str:
        names = {"VOLT": '"VOLT:DC"', "CURR": '"CURR:DC"', "RES": '"RES"'}
        return ",".join(names[f] for f in self._funcs) if self._funcs else '""'

    def _func_state(self, name: str) -> int:
        return int(self._parse_funcs([name])[0] in self._funcs)

    def _set_elements(self, *tokens: str) -> None:
        arg = Arg(str, choices=self.ELEMENTS)
        if not tokens or not all(tokens):
            raise SCPIError(-109)
        chosen = {arg.parse(t) for t in tokens}
        self._elements = [e for e in ("VOLT", "CURR", "RES", "TIME", "STAT") if e in chosen]

    # -- readings
    def _integration_count(self) -> int:
        return self.get("filter_count") if self.get("filter") else 1

    def _settle_s(self) -> float:
        """Time one source-delay-measure cycle takes (s)."""
        nplc, n = self.get("nplc"), self._integration_count()
        az = 2 if self._settings["autozero"] == "1" else 1
        repeat = n if self.get("filter_type") == "REP" else 1
        return self.get("source_delay") + repeat * az * nplc / self.line_frequency()

    def _range_or_auto(self, key: str) -> float | None:
        return None if self.get(f"{key}_range_auto") else self.get(f"{key}_range") / 1.05

    def _reading(self) -> _Reading2400:
        """One source-delay-measure cycle (advances the clock)."""
        self.clock.sleep(self.get("trigger_delay") + self._settle_s())
        funcs = self._funcs
        auto_ohms = "RES" in funcs and self.get("resistance_mode") == "AUTO"
        n = self._integration_count()
        if auto_ohms:
            v, i, r = self._auto_ohms(n)
        else:
            self._apply()
            v, i = self._measure_vi(self.get("nplc"), n, self._range_or_auto("voltage"),
                                    self._range_or_auto("current"))
            r = v / i if i and OVERFLOW not in (v, i) else OVERFLOW
        src = self.get("source_function")
        volt = v if "VOLT" in funcs else (self.get("source_voltage") if src == "VOLT"
                                          else NOT_MEASURED)
        curr = i if "CURR" in funcs else (self.get("source_current") if src == "CURR"
                                          else NOT_MEASURED)
        res = r if "RES" in funcs else NOT_MEASURED
        status = self._status_word(funcs, OVERFLOW in (volt, curr, res), auto_ohms)
        self._event("MEAS", 6)                                   # reading available
        if OVERFLOW in (volt, curr, res):
            self._event("MEAS", 7)                               # reading overflow
        return _Reading2400(volt, curr, res, self._timestamp(), float(status))

    def _auto_ohms(self, n: int) -> tuple[float, float, float]:
        """Auto ohms: source the range's test current, R = V/I (4-wire if RSENse ON)."""
        sense = self.probe if self._four_wire() else self.path
        r_true = abs(self.bench.resistance(sense)) + (0.0 if self._four_wire() else self.lead_ohm)
        fixed = self._range_or_auto("resistance")
        r_range = fixed if fixed is not None else _auto_range(r_true, self.R_RANGES, 1.05)
        test = self.OHMS_TEST_A[self.R_RANGES.index(min(self.R_RANGES,
                                                        key=lambda x: abs(x - r_range)))]
        saved = (self.get("source_function"), self.output("source_current"))
        try:
            self.set("source_function", "CURR")
            self.outputs["source_current"] = test     # internal: not a user setpoint
            self._apply()
            v, i = self._measure_vi(self.get("nplc"), n, None, None)
        finally:
            self.set("source_function", saved[0])
            self.outputs["source_current"] = saved[1]
            self._apply()
        r = v / i if i else OVERFLOW
        if fixed is not None and abs(r) > 1.05 * fixed:
            r = OVERFLOW
        return v, i, r

    def _status_word(self, funcs: list[str], overflow: bool, auto_ohms: bool) -> int:
        bits = [(0, overflow), (1, self.get("filter")), (2, self.get("front_terminals") == "FRON"),
                (3, self.tripped), (10, auto_ohms), (11, "VOLT" in funcs),
                (12, "CURR" in funcs), (13, "RES" in funcs),
                (14, self.get("source_function") == "VOLT"),
                (15, self.get("source_function") == "CURR"), (22, self._four_wire())]
        return sum(1 << b for b, on in bits if on)

    def _run(self) -> list[_Reading2400]:
        """INIT: arm count × trigger count readings into the sample buffer (and trace)."""
        if not self.get("output") and not self.get("auto_output_off"):
            raise SCPIError(803)
        auto = not self.get("output")
        if auto:
            self.set("output", True)
        try:
            readings = []
            for k in range(self.get("arm_count")):
                if k and self.get("arm_source") == "TIM":
                    self.clock.sleep(self.get("arm_timer"))
                readings += [self._reading() for _ in range(self.get("trigger_count"))]
        finally:
            if auto:
                self.set("output", False)
            self._apply()
        self._last = readings
        self._store_trace(readings)
        return readings

    def _store_trace(self, readings: list[_Reading2400]) -> None:
        if self.get("trace_control") != "NEXT" or self.get("trace_feed") != "SENS":
            return
        room = self.get("trace_points") - len(self._trace)
        self._trace += readings[:max(room, 0)]
        if self._trace:
            self._event("MEAS", 8)                               # buffer available
        if len(self._trace) >= self.get("trace_points"):
            self.set("trace_control", "NEV")
            self._event("MEAS", 9)                               # buffer full

    def _format(self, readings: Sequence[_Reading2400]) -> str:
        return ",".join(_nr3(r.element(e)) for r in readings for e in self._elements)

    def _initiate(self) -> None:
        if self.get("arm_source") == "BUS":
            if not self.get("output") and not self.get("auto_output_off"):
                raise SCPIError(803)
            self._bus_armed = True
            return
        self._run()

    def _abort(self) -> None:
        self._bus_armed = False

    def _configure(self, func: str) -> None:
        """CONFigure:<function>: one function, its autorange on, counts 1, delays 0, output on."""
        self._funcs = [func]
        key = {"VOLT": "voltage", "CURR": "current", "RES": "resistance"}[func]
        self.set(f"{key}_range_auto", True)
        for name, value in (("trigger_count", 1), ("arm_count", 1), ("trigger_delay", 0.0),
                            ("trigger_source", "IMM"), ("arm_source", "IMM"),
                            ("trace_control", "NEV")):
            self.set(name, value)
        self._bus_armed = False
        if not self.get("auto_output_off"):
            self.set("output", True)
            self._apply()

    def _measure_query(self, func: str | None) -> str:
        self._abort()
        if func is not None:
            self._configure(func)
        return self._read()

    def _trace_clear(self) -> None:
        self._trace = []

    def _trace_data(self) -> str:
        if not self._trace:
            raise SCPIError(-230)
        return self._format(self._trace)

    def _calc3_data(self) -> str:
        if not self._trace:
            raise SCPIError(-230)
        stat = {"MEAN": np.mean, "SDEV": lambda a: np.std(a, ddof=1) if len(a) > 1 else 0.0,
                "MAX": np.max, "MIN": np.min, "PKPK": np.ptp}[self.get("calc3_format")]
        out = []
        for e in ("VOLT", "CURR", "RES"):
            if e in self._elements:
                out.append(_nr3(float(stat(np.array([r.element(e) for r in self._trace])))))
        return ",".join(out)


# ---------------------------------------------------------------------------- 2450


class Keithley2450Twin(_SourceMeter):
    """Keithley 2450 SourceMeter (±1.05 A, ±210 V), SCPI command set (2450-901-01 Rev. B).

    *RST: output off, source function VOLT at 0 V, limits 105 µA / 21 V, sense function
    CURR:DC, NPLC 1 per function, autoranges on, 2-wire. The 2450 measures with the output
    off (this source then drives nothing). READ?/MEAS? return the last reading (elements on
    request) and store ``[SENSe]:COUNt`` readings in defbuffer1. SYST:ERR? answers
    '<code>,"<text>;<type>;<date time>"' (type 1: error, "0 0" without an error).
    """

    idn = "KEITHLEY INSTRUMENTS,MODEL 2450,04474830,1.7.12b"
    V_RANGES = (0.02, 0.2, 2.0, 20.0, 200.0)
    I_RANGES = (1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    R_RANGES = (2.0, 20.0, 200.0, 2e3, 2e4, 2e5, 2e6, 2e7, 2e8)
    registers = ("OPER", "QUES")
    _FUNCS = {"VOLT": ("VOLTage[:DC]", "V_RANGES", 0.2, "Volt DC"),
              "CURR": ("CURRent[:DC]", "I_RANGES", 1e-4, "Amp DC"),
              "RES": ("RESistance", "R_RANGES", 2e5, "Ohm")}
    _EPOCH = datetime(2024, 1, 1)

    def __init__(self, bench: VirtualBench, name: str, **wiring: Any):
        super().__init__(bench, name, **wiring)
        p = self.add_parameter
        p("output", "OUTPut[:STATe]", bool, default=False, output=True, on_change=self._changed)
        for q in ("CURRent", "VOLTage"):
            p(f"off_state_{q[:4].lower()}", f"OUTPut:{q}:SMODe",
              choices=["HIMPedance", "NORMal", "ZERO", "GUARd"], default="NORM")
        p("source_function", "SOURce:FUNCtion[:MODE]", choices=["VOLTage", "CURRent"],
          default="VOLT", on_change=self._changed)
        p("source_current", "SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]", float,
          range=(-1.05, 1.05), default=0.0, fmt=_nr3, output=True, on_change=self._changed)
        p("source_voltage", "SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]", float,
          range=(-210.0, 210.0), default=0.0, fmt=_nr3, output=True, on_change=self._changed)
        p("voltage_limit", "SOURce:CURRent:VLIMit[:LEVel]", float, range=(0.02, 210.0),
          default=21.0, fmt=_nr3, on_change=self._changed)
        p("current_limit", "SOURce:VOLTage:ILIMit[:LEVel]", float, range=(1e-9, 1.05),
          default=1.05e-4, fmt=_nr3, on_change=self._changed)
        self.add_query("SOURce:CURRent:VLIMit[:LEVel]:TRIPped",
                       lambda: int(self.tripped and self.get("source_function") == "CURR"))
        self.add_query("SOURce:VOLTage:ILIMit[:LEVel]:TRIPped",
                       lambda: int(self.tripped and self.get("source_function") == "VOLT"))
        for q, ranges, default in (("CURRent", self.I_RANGES, 1e-4),
                                   ("VOLTage", self.V_RANGES, 0.2)):
            key = q[:4].lower()
            p(f"source_{key}_range_auto", f"SOURce:{q}:RANGe:AUTO", bool, default=True)
            p(f"source_{key}_range", f"SOURce:{q}:RANGe", float,
              range=(-ranges[-1], ranges[-1]), default=default, fmt=_nr3,
              on_change=self._snapping(f"source_{key}_range", ranges, f"source_{key}_range_auto"))
            p(f"source_{key}_delay_auto", f"SOURce:{q}:DELay:AUTO", bool, default=True)
            p(f"source_{key}_delay", f"SOURce:{q}:DELay", float, range=(0.0, 10000.0),
              default=0.0, fmt=_nr3,
              on_change=lambda *_a, k=key: self.set(f"source_{k}_delay_auto", False))
            p(f"source_{key}_readback", f"SOURce:{q}:READ:BACK", bool, default=True)
        self._function = "CURR"
        self.add_command("[SENSe]:FUNCtion[:ON]", self._set_function, args=(Arg(str),))
        self.add_query("[SENSe]:FUNCtion[:ON]",
                       lambda: {"VOLT": '"VOLT:DC"', "CURR": '"CURR:DC"',
                                "RES": '"RES"'}[self._function])
        for f, (word, ranges_attr, default, _unit) in self._FUNCS.items():
            ranges, k = getattr(self, ranges_attr), f.lower()
            p(f"{k}_range_auto", f"[SENSe]:{word}:RANGe:AUTO", bool, default=True)
            p(f"{k}_range", f"[SENSe]:{word}:RANGe[:UPPer]", float,
              range=(0.0 if f == "RES" else -ranges[-1], ranges[-1]), default=default, fmt=_nr3,
              on_change=self._snapping(f"{k}_range", ranges, f"{k}_range_auto"))
            p(f"{k}_nplc", f"[SENSe]:{word}:NPLCycles", float, range=(0.01, 10.0),
              default=1.0, fmt=_nr3)
            p(f"{k}_filter", f"[SENSe]:{word}:AVERage[:STATe]", bool, default=False)
            p(f"{k}_filter_type", f"[SENSe]:{word}:AVERage:TCONtrol",
              choices=["REPeat", "MOVing"], default="REP")
            p(f"{k}_filter_count", f"[SENSe]:{word}:AVERage:COUNt", int, range=(1, 100),
              default=10)
            p(f"{k}_rsense", f"[SENSe]:{word}:RSENse", bool, default=False,
              on_change=self._changed)
            p(f"{k}_azero", f"[SENSe]:{word}:AZERo[:STATe]", bool, default=True)
        self.add_command("[SENSe]:AZERo:ONCE", _ignore)
        p("count", "[SENSe]:COUNt", int, range=(1, 300000), default=1)
        p("front_terminals", "ROUTe:TERMinals", choices=["FRONt", "REAR"], default="FRON")
        p("display_light", "DISPlay:LIGHt:STATe",
          choices=["ON100", "ON75", "ON50", "ON25", "OFF", "BLACkout"], default="ON50")
        self.add_query("*LANG", lambda: "SCPI")
        self.add_command("SYSTem:CLEar", self._clear_queue)
        # ---- measurements and buffers
        self._buffers: dict[str, list[dict]] = {"defbuffer1": [], "defbuffer2": []}
        self._capacity = {"defbuffer1": 100000, "defbuffer2": 100000}
        self.add_query("READ", self._read, args=None)
        self.add_query("FETCh", self._fetch, args=None)
        for f, (word, *_rest) in self._FUNCS.items():
            self.add_query(f"MEASure:{word}", partial(self._measure_query, f), args=None)
        self.add_query("MEASure", partial(self._measure_query, None), args=None)
        self.add_command("INITiate[:IMMediate]", lambda: self._take(self._buffer(None)))
        self.add_command("ABORt", _ignore)
        self.add_command("TRACe:CLEar", lambda *t: self._buffer(t).clear(), args=None)
        self.add_command("TRACe:POINts", self._set_points, args=None)
        self.add_query("TRACe:POINts", lambda *t: self._capacity[self._buffer_name(t)],
                       args=None)
        self.add_query("TRACe:ACTual", lambda *t: len(self._buffer(t)), args=None)
        self.add_query("TRACe:ACTual:STARt", lambda *t: 1 if self._buffer(t) else 0, args=None)
        self.add_query("TRACe:ACTual:END", lambda *t: len(self._buffer(t)), args=None)
        self.add_query("TRACe:DATA", self._trace_data, args=None)
        for word, fn in (("AVERage", np.mean), ("MAXimum", np.max), ("MINimum", np.min),
                         ("PK2Pk", np.ptp),
                         ("STDDev", lambda a: np.std(a, ddof=1) if len(a) > 1 else 0.0)):
            self.add_query(f"TRACe:STATistics:{word}", partial(self._statistic, fn), args=None)
        self.add_command("TRACe:STATistics:CLEar", _ignore, args=None)

    # -- errors: '<code>,"<text>;<type>;<date time>"'
    def push_error(self, code: int, text: str | None = None) -> None:
        stamp = (self._EPOCH + timedelta(seconds=self.clock.now())).strftime(
            "%Y/%m/%d %H:%M:%S.%f")[:-3]
        super().push_error(code, f"{self._text(code, text)};1;{stamp}")

    def next_error(self) -> str:
        with self.lock:
            if not self.errors:
                return '0,"No error;0;0 0"'
        return super().next_error()

    # -- model hooks
    def _voltage_limit(self) -> float:
        return self.get("voltage_limit")

    def _current_limit(self) -> float:
        return self.get("current_limit")

    def _four_wire(self) -> bool:
        return self.get(f"{self._function.lower()}_rsense")

    def on_reset(self) -> None:
        super().on_reset()
        self._function = "CURR"
        self._apply()

    def _set_function(self, name: str) -> None:
        self._function = _function_name(name, ("VOLTage", "CURRent", "RESistance"))
        self._apply()

    # -- buffers
    def _buffer_name(self, tokens: Sequence[str] | None) -> str:
        name = unquote(tokens[0]).strip() if tokens else "defbuffer1"
        if name.lower() not in self._buffers:
            raise SCPIError(-224, "Illegal parameter value; reading buffer not found")
        return name.lower()

    def _buffer(self, tokens: Sequence[str] | None) -> list[dict]:
        return self._buffers[self._buffer_name(tokens)]

    def _set_points(self, *tokens: str) -> None:
        if not tokens or not tokens[0]:
            raise SCPIError(-109)
        n = Arg(int, range=(1, 7_500_000)).parse(tokens[0])
        name = self._buffer_name(tokens[1:])
        self._capacity[name] = n
        self._buffers[name].clear()

    # -- readings
    def _take(self, buffer: list[dict]) -> dict:
        """``[SENSe]:COUNt`` readings of the sense function into ``buffer``; get the last."""
        f = self._function.lower()
        n = self.get(f"{f}_filter_count") if self.get(f"{f}_filter") else 1
        nplc = self.get(f"{f}_nplc")
        az = 2 if self.get(f"{f}_azero") else 1
        repeat = n if self.get(f"{f}_filter_type") == "REP" else 1
        src = self.get("source_function")
        delay = self.get(f"source_{src.lower()}_delay")
        last: dict = {}
        for _ in range(self.get("count")):
            self.clock.sleep(delay + repeat * az * nplc / self.line_frequency())
            self._apply()
            v, i = self._measure_vi(nplc, n, self._fixed_range("VOLT"), self._fixed_range("CURR"))
            if self._function == "VOLT":
                value = v
            elif self._function == "CURR":
                value = i
            else:
                value = v / i if i and OVERFLOW not in (v, i) else OVERFLOW
                if not self.get("res_range_auto") and abs(value) > 1.05 * self.get("res_range"):
                    value = OVERFLOW
            readback = self.get(f"source_{src.lower()}_readback")
            source = ((v if src == "VOLT" else i) if readback
                      else self.get("source_voltage" if src == "VOLT" else "source_current"))
            last = {"READ": value, "SOUR": source, "SEC": self._timestamp(),
                    "UNIT": self._FUNCS[self._function][3],
                    "SOURUNIT": "Volt DC" if src == "VOLT" else "Amp DC"}
            if len(buffer) >= self._capacity[self._buffer_name_of(buffer)]:
                buffer.pop(0)
            buffer.append(last)
        return last

    def _fixed_range(self, func: str) -> float | None:
        """The fixed range of ``func`` if it is the sense function and not autoranging."""
        key = func.lower()
        if self._function != func or self.get(f"{key}_range_auto"):
            return None
        return self.get(f"{key}_range")

    def _buffer_name_of(self, buffer: list[dict]) -> str:
        return next(k for k, v in self._buffers.items() if v is buffer)

    _ELEMENTS = Arg(str, choices=["READing", "SOURce", "RELative", "SEConds", "FRACtional",
                                  "UNIT", "SOURUNIT", "STATus", "TSTamp"])

    def _format(self, readings: Sequence[dict], elements: Sequence[str], first: float) -> str:
        names = [self._ELEMENTS.parse(e) for e in elements] or ["READ"]
        out = []
        for r in readings:
            for e in names:
                if e in ("READ", "SOUR"):
                    out.append(f"{r[e]:.6E}" if abs(r[e]) < OVERFLOW else "9.9E+37")
                elif e == "REL":
                    out.append(f"{r['SEC'] - first:.6E}")
                elif e == "SEC":
                    out.append(f"{int(r['SEC'])}")
                elif e == "FRAC":
                    out.append(f"{r['SEC'] % 1:.9f}")
                elif e in ("UNIT", "SOURUNIT"):
                    out.append(r[e])
                elif e == "TST":
                    stamp = self._EPOCH + timedelta(seconds=r["SEC"])
                    out.append(stamp.strftime("%m/%d/%Y %H:%M:%S.%f"))
                else:
                    out.append("0")
        return ",".join(out)

    def _read(self, *tokens: str) -> str:
        buffer = self._buffer(tokens[:1])
        last = self._take(buffer)
        return self._format([last], tokens[1:], buffer[0]["SEC"])

    def _measure_query(self, func: str | None, *tokens: str) -> str:
        if func is not None:
            self._function = func
        return self._read(*tokens)

    def _fetch(self, *tokens: str) -> str:
        buffer = self._buffer(tokens[:1])
        if not buffer:
            raise SCPIError(-230, "Data corrupt or stale; reading buffer is empty")
        return self._format([buffer[-1]], tokens[1:], buffer[0]["SEC"])

    def _trace_data(self, *tokens: str) -> str:
        if len(tokens) < 2:
            raise SCPIError(-109)
        start, end = (Arg(int, range=(1, 7_500_000)).parse(t) for t in tokens[:2])
        buffer = self._buffer(tokens[2:3])
        if end < start or end > len(buffer):
            raise SCPIError(-222)
        return self._format(buffer[start - 1:end], tokens[3:], buffer[0]["SEC"])

    def _statistic(self, fn: Callable, *tokens: str) -> str:
        buffer = self._buffer(tokens[:1])
        if not buffer:
            raise SCPIError(-230, "Data corrupt or stale; reading buffer is empty")
        return f"{float(fn(np.array([r['READ'] for r in buffer]))):.6E}"


# ============================================================================ 2182A


class Keithley2182ATwin(_ReadFetch, _KeithleyTwin):
    """Keithley 2182A nanovoltmeter: channel 1 on ``probe``, channel 2 on ``probe2``.

    *RST: channel 1, function VOLT:DC, NPLC 5, autorange on, digital filter off (moving, 10),
    analog filter off, autozero and front autozero on, trigger count 1, INIT:CONT off.
    READ? = INIT + FETCh? (trigger count × sample count readings); MEAS? = CONF + READ?.
    """

    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 2182A,1187492,C02  /A02"
    CH1_RANGES = (0.01, 0.1, 1.0, 10.0, 100.0)
    CH2_RANGES = (0.1, 1.0, 10.0)
    NOISE_AT_NPLC5 = {0.01: 3e-9, 0.1: 10e-9, 1.0: 80e-9, 10.0: 0.8e-6, 100.0: 8e-6}
    """rms noise floor (V) per range at NPLC 5, filter off."""

    def __init__(self, bench: VirtualBench, name: str, *, probe: str = "xx",
                 probe2: str | None = None, thermal_emf_V: float = 0.0,
                 termination: str = "\r"):
        super().__init__(bench, name)
        self.probes = {1: _check_probe(bench, probe),
                       2: None if probe2 is None else _check_probe(bench, probe2)}
        self.thermal_emf_V = float(thermal_emf_V)
        self.termination = termination
        p = self.add_parameter
        p("channel", "[SENSe]:CHANnel", int, choices=(0, 1, 2), default=1)
        self._function = "VOLT"
        self.add_command("[SENSe]:FUNCtion", self._set_function, args=(Arg(str),))
        self.add_query("[SENSe]:FUNCtion",
                       lambda: '"VOLT:DC"' if self._function == "VOLT" else '"TEMP"')
        p("nplc", "[SENSe]:VOLTage[:DC]:NPLCycles", float,
          range=lambda: (0.01, self.line_frequency()), default=5.0, fmt=_nr3)
        p("temperature_nplc", "[SENSe]:TEMPerature:NPLCycles", float,
          range=lambda: (0.01, self.line_frequency()), default=5.0, fmt=_nr3)
        p("digits", "[SENSe]:VOLTage[:DC]:DIGits", int, range=(4, 8), default=8)
        for ch, ranges in ((1, self.CH1_RANGES), (2, self.CH2_RANGES)):
            base = f"[SENSe]:VOLTage[:DC]:CHANnel{ch}"
            top = 1.2 * ranges[-1]
            p(f"range_auto{ch}", f"{base}:RANGe:AUTO", bool, default=True)
            p(f"range{ch}", f"{base}:RANGe[:UPPer]", float, range=(0.0, top),
              default=ranges[-1], fmt=_nr3,
              on_change=self._snapping(f"range{ch}", ranges, f"range_auto{ch}"))
            p(f"ref{ch}", f"{base}:REFerence", float, range=(-top, top), default=0.0, fmt=_nr3)
            p(f"ref_state{ch}", f"{base}:REFerence:STATe", bool, default=False)
            self.add_command(f"{base}:REFerence:ACQuire", partial(self._acquire_ref, ch))
            p(f"filter{ch}", f"{base}:DFILter[:STATe]", bool, default=False)
            p(f"filter_count{ch}", f"{base}:DFILter:COUNt", int, range=(1, 100), default=10)
            p(f"filter_type{ch}", f"{base}:DFILter:TCONtrol", choices=["MOVing", "REPeat"],
              default="MOV")
            p(f"filter_window{ch}", f"{base}:DFILter:WINDow", float, range=(0.0, 10.0),
              default=0.01, fmt=_nr3)
            p(f"lpass{ch}", f"{base}:LPASs[:STATe]", bool, default=False)
            p(f"temp_ref{ch}", f"[SENSe]:TEMPerature:CHANnel{ch}:REFerence", float,
              range=(-273.0, 1820.0), default=0.0, fmt=_nr3)
            p(f"temp_ref_state{ch}", f"[SENSe]:TEMPerature:CHANnel{ch}:REFerence:STATe",
              bool, default=False)
        self.add_command("[SENSe]:VOLTage[:DC]:RANGe[:UPPer]", self._set_active_range,
                         args=(Arg(float, range=(0.0, 120.0)),))
        self.add_query("[SENSe]:VOLTage[:DC]:RANGe[:UPPer]",
                       lambda: _nr3(self.get(f"range{self._active()}")))
        self.add_command("[SENSe]:VOLTage[:DC]:RANGe:AUTO",
                         lambda on: self.set(f"range_auto{self._active()}", on), args=(bool,))
        self.add_query("[SENSe]:VOLTage[:DC]:RANGe:AUTO",
                       lambda: int(self.get(f"range_auto{self._active()}")))
        p("thermocouple", "[SENSe]:TEMPerature:TCouple[:TYPE]",
          choices=["J", "K", "T", "E", "R", "S", "B", "N"], default="J")
        p("rjunction", "[SENSe]:TEMPerature:RJUNction:RSELect",
          choices=["SIMulated", "INTernal"], default="INT")
        p("rjunction_sim", "[SENSe]:TEMPerature:RJUNction:SIMulated", float,
          range=(0.0, 60.0), default=23.0, fmt=_nr3)
        self.add_query("[SENSe]:TEMPerature:RTEMperature", lambda: _nr3(self._internal_C()))
        p("temperature_unit", "UNIT:TEMPerature", choices=["C", "F", "K"], default="C")
        p("autozero", "SYSTem:AZERo[:STATe]", bool, default=True)
        p("front_autozero", "SYSTem:FAZero[:STATe]", bool, default=True)
        p("line_sync", "SYSTem:LSYNc[:STATe]", bool, default=False)
        self.add_query("SYSTem:LFRequency", lambda: int(self.line_frequency()))
        p("display", "DISPlay:ENABle", bool, default=True)
        # ---- trigger and measurements
        p("trigger_count", "TRIGger[:SEQuence]:COUNt", int, range=(1, 9999), default=1)
        p("trigger_delay", "TRIGger[:SEQuence]:DELay", float, range=(0.0, 999999.999),
          default=0.0, fmt=_nr3, on_change=lambda *_: self.set("trigger_delay_auto", False))
        p("trigger_delay_auto", "TRIGger[:SEQuence]:DELay:AUTO", bool, default=True)
        p("trigger_source", "TRIGger[:SEQuence]:SOURce",
          choices=["IMMediate", "EXTernal", "TIMer", "MANual", "BUS"], default="IMM")
        p("trigger_timer", "TRIGger[:SEQuence]:TIMer", float, range=(0.001, 999999.999),
          default=0.1, fmt=_nr3)
        p("sample_count", "SAMPle:COUNt", int, range=(1, 1024), default=1)
        p("init_continuous", "INITiate:CONTinuous", bool, default=False)
        self.add_command("INITiate[:IMMediate]", self._initiate)
        self.add_command("ABORt", _ignore)
        self.add_query("READ", self._read)
        self.add_query("FETCh", self._fetch)
        self.add_query("[SENSe]:DATA[:LATest]", self._fetch)
        self.add_query("[SENSe]:DATA:FRESh", self._read)
        self.add_query("MEASure[:VOLTage[:DC]]", partial(self._measure_query, "VOLT"))
        self.add_query("MEASure:TEMPerature", partial(self._measure_query, "TEMP"))
        self.add_command("CONFigure[:VOLTage[:DC]]", partial(self._configure, "VOLT"))
        self.add_command("CONFigure:TEMPerature", partial(self._configure, "TEMP"))
        p("data_format", "FORMat[:DATA]", choices=["ASCii"], default="ASC")
        # ---- buffer and statistics
        p("trace_points", "TRACe:POINts", int, range=(2, 1024), default=2)
        p("trace_feed", "TRACe:FEED", choices={"SENSe": "SENS", "SENSe1": "SENS",
                                               "CALCulate": "CALC", "CALCulate1": "CALC",
                                               "NONE": "NONE"}, default="SENS")
        p("trace_control", "TRACe:FEED:CONTrol", choices=["NEVer", "NEXT"], default="NEV")
        self.add_command("TRACe:CLEar", lambda: self._trace.clear())
        self.add_query("TRACe:DATA", self._trace_data)
        self.add_query("TRACe:POINts:ACTual", lambda: len(self._trace))
        p("calc2_format", "CALCulate2:FORMat",
          choices=["MEAN", "SDEViation", "MAXimum", "MINimum", "PKPK", "NONE"], default="MEAN")
        p("calc2_state", "CALCulate2:STATe", bool, default=False)
        self.add_command("CALCulate2:IMMediate", self._calc2)
        self.add_query("CALCulate2:IMMediate", self._calc2)
        self.add_query("CALCulate2:DATA", lambda: _nr3(self._calc2_value))
        self._trace: list[float] = []
        self._last: list[float] = []
        self._calc2_value = NOT_MEASURED

    def on_reset(self) -> None:
        super().on_reset()
        self._function = "VOLT"

    # -- settings helpers
    def _active(self) -> int:
        ch = self.get("channel")
        return 1 if ch == 0 else ch

    def _set_active_range(self, value: float) -> None:
        ch = self._active()
        self.set(f"range{ch}", _snap(value, self.CH1_RANGES if ch == 1 else self.CH2_RANGES))
        self.set(f"range_auto{ch}", False)

    def _set_function(self, name: str) -> None:
        self._function = _function_name(name, ("VOLTage", "TEMPerature"))

    def _acquire_ref(self, ch: int) -> None:
        self.set(f"ref{ch}", self._convert(ch, apply_ref=False))

    # -- physics
    def conversion_s(self) -> float:
        """Get the time (s) one reading takes: trigger delay + A/D integration(s)."""
        ch = self._active()
        nplc = self.get("nplc") if self._function == "VOLT" else self.get("temperature_nplc")
        n = self.get(f"filter_count{ch}") if (self.get(f"filter{ch}")
                                              and self.get(f"filter_type{ch}") == "REP") else 1
        faz = 2 if self.get("front_autozero") else 1
        delay = 0.0 if self.get("trigger_delay_auto") else self.get("trigger_delay")
        return delay + n * faz * nplc / self.line_frequency()

    def noise_floor_V(self, ch: int, range_V: float) -> float:
        """Get the instrument's rms noise (V) on a range at the present NPLC and filter."""
        n = self.get(f"filter_count{ch}") if self.get(f"filter{ch}") else 1
        base = self.NOISE_AT_NPLC5[min(self.NOISE_AT_NPLC5, key=lambda r: abs(r - range_V))]
        return base * math.sqrt(5.0 / self.get("nplc")) / math.sqrt(n)

    def _convert(self, ch: int, apply_ref: bool = True) -> float:
        """One voltage reading of channel ``ch`` (V), no waiting: the sample's dc voltage with
        Johnson noise and this meter's floor, the thermal EMF (channel 1), overrange code."""
        if self._function == "TEMP" or self.get("channel") == 0:
            return self._temperature(ch)
        nplc = self.get("nplc")
        n = self.get(f"filter_count{ch}") if self.get(f"filter{ch}") else 1
        t_int = nplc / self.line_frequency() * n
        ranges = self.CH1_RANGES if ch == 1 else self.CH2_RANGES
        probe = self.probes[ch]
        v = self.bench.dc_voltage(probe, t_int) if probe is not None else 0.0
        if ch == 1:
            v += self.thermal_emf_V
        auto = self.get(f"range_auto{ch}")
        r = _auto_range(v, ranges, 1.2) if auto else self.get(f"range{ch}")
        v += self.noise_floor_V(ch, r) * float(self.bench.rng.normal())
        if abs(v) > 1.2 * r:
            return OVERFLOW
        if apply_ref and self.get(f"ref_state{ch}"):
            v -= self.get(f"ref{ch}")
        return v

    def _internal_C(self) -> float:
        return 25.0 + 0.01 * float(self.bench.rng.normal())

    def _temperature(self, ch: int) -> float:
        """Thermocouple at the sample (channel 1/2) or the internal sensor (channel 0)."""
        if self.get("channel") == 0:
            t_c = self._internal_C()
        else:
            t_c = self.bench.system.magnet.temperature_K - 273.15
            t_c += 0.02 * float(self.bench.rng.normal())
            if self.get(f"temp_ref_state{ch}"):
                t_c -= self.get(f"temp_ref{ch}")
        unit = self.get("temperature_unit")
        return t_c + 273.15 if unit == "K" else (t_c * 9 / 5 + 32 if unit == "F" else t_c)

    # -- measurements
    def _run(self) -> list[float]:
        readings = []
        for _ in range(self.get("trigger_count") * self.get("sample_count")):
            self.clock.sleep(self.conversion_s())
            readings.append(self._convert(self._active()))
        self._event("MEAS", 5)                                   # reading available
        self._last = readings
        if self.get("trace_control") == "NEXT" and self.get("trace_feed") == "SENS":
            room = self.get("trace_points") - len(self._trace)
            self._trace += readings[:max(room, 0)]
            if len(self._trace) >= self.get("trace_points"):
                self.set("trace_control", "NEV")
                self._event("MEAS", 9)                           # buffer full
        return readings

    @staticmethod
    def _format(values: Sequence[float]) -> str:
        return ",".join(f"{v:+.8E}" for v in values)

    def _initiate(self) -> None:
        self._run()

    def _configure(self, func: str) -> None:
        self._function = func
        if func == "VOLT":
            self.set(f"range_auto{self._active()}", True)
        self.set("trigger_count", 1)
        self.set("sample_count", 1)
        self.set("trace_control", "NEV")

    def _measure_query(self, func: str) -> str:
        self._configure(func)
        return self._read()

    def _trace_data(self) -> str:
        if not self._trace:
            raise SCPIError(-230)
        return self._format(self._trace)

    def _calc2(self) -> str:
        if not self._trace:
            raise SCPIError(-230)
        a = np.array(self._trace)
        fn = {"MEAN": np.mean, "SDEV": lambda x: np.std(x, ddof=1) if len(x) > 1 else 0.0,
              "MAX": np.max, "MIN": np.min, "PKPK": np.ptp,
              "NONE": lambda x: x[-1]}[self.get("calc2_format")]
        self._calc2_value = float(fn(a))
        return _nr3(self._calc2_value)


# ============================================================================ 6221


@dataclass
class _DeltaRun:
    """A delta test in progress (times in clock seconds, currents in A, voltages in V)."""
    t0: float
    step_s: float                       # delay + one 2182A conversion per A/D reading
    n_adc: float                        # A/D readings in all (count + 2; inf)
    high: float
    low: float
    k: int = 0                          # A/D readings taken so far
    last: list = field(default_factory=list)     # the last three: (time, V, level, compliance)
    done: bool = False


class Keithley6221Twin(_KeithleyTwin):
    """Keithley 6221 ac/dc current source (±105 mA, compliance 0.1–105 V).

    *RST: output off, dc 0 A, compliance 10 V, sine 1 kHz with amplitude 2 pA and offset 0,
    duration INF, delta high 1 mA (low −1 mA), delay 2 ms, count INF, sweep count 1,
    FORMat:ELEMents READ,TST. ``SOUR:WAVE:ARM`` and ``SOUR:DELT:ARM`` turn the output on;
    ``SOUR:WAVE:ABOR``/``SOUR:SWE:ABOR`` stop, and the output stays on at the dc level.
    Delta needs the 2182A named by ``nanovoltmeter`` (``SOUR:DELT:NVPR?`` → 1); without it
    ``SOUR:DELT:ARM`` → -221.
    """

    idn = "KEITHLEY INSTRUMENTS INC.,MODEL 6221,4143312,D04  /700x "
    RANGES = (2e-9, 2e-8, 2e-7, 2e-6, 2e-5, 2e-4, 2e-3, 2e-2, 1e-1)
    ELEMENTS = ("READing", "TSTamp", "UNITs", "RNUMber", "SOURce", "COMPliance", "AVOLtage")

    def __init__(self, bench: VirtualBench, name: str, *, drives_sample: bool = True,
                 nanovoltmeter: str | None = None):
        super().__init__(bench, name)
        self.path = current_path(bench)
        self.drives_sample = bool(drives_sample)
        self.nanovoltmeter = nanovoltmeter
        self.current_A = 0.0
        self.tripped = False
        p = self.add_parameter
        p("output", "OUTPut[:STATe]", bool, default=False, output=True,
          on_change=self._output_changed)
        p("low_to_earth", "OUTPut:LTEarth", bool, default=False)
        p("inner_shield", "OUTPut:ISHield", choices=["OLOW", "GUARd"], default="OLOW")
        p("response", "OUTPut:RESPonse", choices=["FAST", "SLOW"], default="FAST")
        self.add_query("OUTPut:INTerlock:TRIPped", lambda: 1)
        p("source_current", "[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]", float,
          range=(-0.105, 0.105), default=0.0, fmt=_nr3, output=True, on_change=self._changed)
        p("compliance", "[SOURce]:CURRent:COMPliance", float, range=(0.1, 105.0),
          default=10.0, fmt=_nr3, on_change=self._changed)
        p("range_auto", "[SOURce]:CURRent:RANGe:AUTO", bool, default=True)
        p("range", "[SOURce]:CURRent:RANGe", float, range=(-0.105, 0.105), default=2e-3,
          fmt=_nr3, on_change=self._snapping("range", self.RANGES, "range_auto"))
        p("filter", "[SOURce]:CURRent:FILTer[:STATe]", bool, default=False)
        p("source_delay", "[SOURce]:DELay", float, range=(1e-3, 999999.999), default=1e-3,
          fmt=_nr3)
        # ---- waveforms
        p("wave_function", "[SOURce]:WAVE:FUNCtion",
          choices=["SINusoid", "SQUare", "RAMP", "ARBitrary0", "ARBitrary1", "ARBitrary2",
                   "ARBitrary3", "ARBitrary4"], default="SIN")
        p("wave_amplitude", "[SOURce]:WAVE:AMPLitude", float, range=(2e-12, 0.105),
          default=2e-12, fmt=_nr3, output=True, on_change=self._changed)
        p("wave_frequency", "[SOURce]:WAVE:FREQuency", float, range=(1e-3, 1e5),
          default=1e3, fmt=_nr3, output=True, on_change=self._changed)
        p("wave_offset", "[SOURce]:WAVE:OFFSet", float, range=(-0.105, 0.105), default=0.0,
          fmt=_nr3, output=True, on_change=self._changed)
        p("wave_duty", "[SOURce]:WAVE:DCYCle", float, range=(0.0, 100.0), default=50.0,
          fmt=_nr3, on_change=self._changed)
        self._setting("wave_time", "[SOURce]:WAVE:DURation:TIME",
                      _NumOrInf(float, range=(100e-9, 999999.999)), math.inf,
                      fmt=lambda _v: _nr3_inf(self._wave_cycles() / self.get("wave_frequency")),
                      on_change=lambda _v: self._settings.update(wave_cycles=None))
        self._setting("wave_cycles", "[SOURce]:WAVE:DURation:CYCLes",
                      _NumOrInf(float, range=(1e-3, 99999999900.0)), None,
                      fmt=lambda v: _nr3_inf(self._wave_cycles()),
                      on_change=lambda _v: self._settings.update(wave_time=None))
        p("wave_ranging", "[SOURce]:WAVE:RANGing", choices=["BEST", "FIXed"], default="BEST")
        p("pmark", "[SOURce]:WAVE:PMARker:STATe", bool, default=False)
        p("pmark_phase", "[SOURce]:WAVE:PMARker[:LEVel]", float, range=(-180.0, 180.0),
          default=0.0, fmt=_nr3)
        p("pmark_line", "[SOURce]:WAVE:PMARker:OLINe", int, range=(1, 6), default=1)
        self.add_command("[SOURce]:WAVE:ARM", self._wave_arm)
        self.add_command("[SOURce]:WAVE:INITiate", self._wave_init)
        self.add_command("[SOURce]:WAVE:ABORt", self._wave_abort)
        self.add_command("[SOURce]:WAVE:ARBitrary:DATA", self._arb_data, args=None)
        self.add_command("[SOURce]:WAVE:ARBitrary:COPY", self._arb_copy,
                         args=(Arg(int, range=(1, 4)),))
        self._arb: dict[int, np.ndarray] = {}
        self._arb_work = np.zeros(0)
        self._wave = "idle"                # idle | armed | running
        self._wave_end = math.inf
        # ---- delta
        p("delta_high", "[SOURce]:DELTa:HIGH", float, range=(0.0, 0.105), default=1e-3,
          fmt=_nr3, output=True, on_change=lambda v, *_: self.set("delta_low", -v))
        p("delta_low", "[SOURce]:DELTa:LOW", float, range=(-0.105, 0.0), default=-1e-3,
          fmt=_nr3, output=True)
        self._setting("delta_delay", "[SOURce]:DELTa:DELay",
                      _NumOrInf(float, range=(0.0, 9999.999)), 2e-3, fmt=_nr3_inf)
        self._setting("delta_count", "[SOURce]:DELTa:COUNt",
                      _NumOrInf(int, range=(1, 65536)), math.inf,
                      fmt=lambda v: _nr3_inf(float(v)))
        self._setting("sweep_count", "[SOURce]:SWEep:COUNt",
                      _NumOrInf(int, range=(1, 65536)), 1, fmt=lambda v: _nr3_inf(float(v)))
        p("delta_cab", "[SOURce]:DELTa:CABort", bool, default=False)
        p("delta_csw", "[SOURce]:DELTa:CSWitch", bool, default=False)
        self.add_query("[SOURce]:DELTa:NVPResent", lambda: int(self._nv() is not None))
        self.add_command("[SOURce]:DELTa:ARM", self._delta_arm)
        self.add_query("[SOURce]:DELTa:ARM", lambda: int(self._delta_armed))
        self.add_command("INITiate[:IMMediate]", self._delta_init)
        self.add_command("[SOURce]:SWEep:ABORt", self._delta_abort)
        self.add_command("ABORt", _ignore)
        p("unit", "UNIT[:VOLTage][:DC]", choices={"V": "V", "OHMS": "OHMS", "W": "W",
                                                  "SIEMens": "SIEM"}, default="V")
        self._delta_armed = False
        self._run: _DeltaRun | None = None
        # ---- buffer and data format
        p("trace_points", "TRACe:POINts", int, range=(1, 65536), default=100,
          on_change=lambda *_: self._buffer.clear())
        self.add_command("TRACe:CLEar", lambda: self._buffer.clear())
        self.add_query("TRACe:POINts:ACTual", lambda: (self._catch_up(), len(self._buffer))[1])
        self.add_query("TRACe:FREE", lambda: f"{(65536 - len(self._buffer)) * 64},"
                                             f"{len(self._buffer) * 64}")
        self.add_query("TRACe:DATA", self._trace_data)
        self.add_query("TRACe:DATA:TYPE", lambda: "DELT" if self._buffer else "NONE")
        self.add_query("SENSe:DATA[:LATest]", self._latest)
        self._elements = ["READ", "TST"]
        self.add_command("FORMat:ELEMents", self._set_elements, args=None)
        self.add_query("FORMat:ELEMents", lambda: ",".join(self._elements))
        p("data_format", "FORMat[:DATA]", choices=["ASCii"], default="ASC")
        self._buffer: list[dict] = []
        self._latest_reading: dict | None = None
        # ---- trigger and misc
        p("arm_source", "ARM[:SEQuence][:LAYer]:SOURce",
          choices=["IMMediate", "TIMer", "BUS", "TLINk", "MANual"], default="IMM")
        p("arm_timer", "ARM[:SEQuence][:LAYer]:TIMer", float, range=(0.001, 99999.99),
          default=0.1, fmt=_nr3)
        p("trigger_source", "TRIGger[:SEQuence]:SOURce",
          choices=["IMMediate", "BUS", "TLINk", "MANual"], default="IMM")
        for key, pattern, default in (("arm_ilin", "ARM[:SEQuence][:LAYer]:ILINe", 1),
                                      ("trig_ilin", "TRIGger[:SEQuence]:ILINe", 1),
                                      ("trig_olin", "TRIGger[:SEQuence]:OLINe", 2)):
            p(key, pattern, int, range=(1, 6), default=default)
        p("trigger_output", "TRIGger[:SEQuence]:OUTPut", choices=["SOURce", "DELay", "NONE"],
          default="NONE")
        p("display", "DISPlay:ENABle", bool, default=True)
        self.add_query("*OPC", self._opc)
        self.clock.on_advance(self._on_clock)

    # -- wiring and physics
    def _nv(self) -> Keithley2182ATwin | None:
        nv = self.bench.instruments.get(self.nanovoltmeter) if self.nanovoltmeter else None
        return nv if isinstance(nv, Keithley2182ATwin) else None

    def _clamp(self, dc: float, amp: float) -> tuple[float, float, bool]:
        """Compliance: scale dc and ac so the peak force voltage stays within the limit."""
        peak = abs(dc) + abs(amp)
        if not self.drives_sample:
            return 0.0, 0.0, peak > 0
        vlim = self.get("compliance")
        if peak * r_upper(self.bench, self.path) <= vlim:
            return dc, amp, False
        r = abs(self.bench.resistance(self.path))
        if peak * r > vlim:
            s = vlim / (peak * r)
            return dc * s, amp * s, True
        return dc, amp, False

    def _fundamental(self) -> tuple[float, float]:
        """Get (dc part, amplitude of the fundamental) of the running waveform (A)."""
        amp, off = self.output("wave_amplitude"), self.output("wave_offset")
        func = self.get("wave_function")
        if func == "SIN":
            return off, amp
        n = 1024
        phase = np.arange(n) / n
        d = self.get("wave_duty") / 100.0
        if func == "SQU":
            shape = np.where(phase < d, 1.0, -1.0)
        elif func == "RAMP":
            rise = np.clip(phase / max(d, 1e-9), 0, 1)
            fall = np.clip((1 - phase) / max(1 - d, 1e-9), 0, 1)
            shape = np.where(phase < d, 2 * rise - 1, 2 * fall - 1)
        else:
            data = self._arb.get(int(func[-1]), self._arb_work) if func != "ARB0" \
                else self._arb_work
            if data.size == 0:
                return off, 0.0
            shape = data[(phase * data.size).astype(int)]
        c = np.fft.rfft(shape) / n
        return off + amp * float(c[0].real), amp * 2 * float(abs(c[1]))

    def _apply(self) -> None:
        """Push this source's dc and ac currents (and reference) to the bench."""
        bench, on = self.bench, self.output("output")
        amp, freq = 0.0, None
        run = self._run
        if not on:
            dc = 0.0
        elif run is not None and not run.done:
            dc = run.last[-1][2] if run.last else 0.0
        elif self._wave == "running":
            dc, amp = self._fundamental()
            freq = self.output("wave_frequency")
        elif self._wave == "armed":
            dc = self.output("wave_offset")
        else:
            dc = self.output("source_current")
        dc, amp, tripped = self._clamp(dc, amp)
        if bench.drives.dc_A.get(self.name, 0.0) != dc:
            bench.set_dc_current(self.name, dc)
        bench.set_ac_current(self.name, amp, freq or 0.0)
        bench.set_reference(self.name, freq if self._wave == "running" and on else None)
        self.current_A, self.tripped = dc, tripped
        self._set_condition("MEAS", 3, tripped)

    def _changed(self, *_args: Any) -> None:
        self._apply()

    def _output_changed(self, on: bool, *_key: int) -> None:
        if not on:                          # turning the output off ends waves and delta
            self._stop_wave()
            self._finish_delta()
        self._apply()

    def on_reset(self) -> None:
        super().on_reset()
        self._wave, self._wave_end = "idle", math.inf
        self._delta_armed, self._run = False, None
        self._elements = ["READ", "TST"]
        self._apply()

    def _on_clock(self, _t_old: float, t_new: float) -> None:
        """Clock listener: let a running delta test and a timed waveform progress."""
        if (self._run is None or self._run.done) and self._wave_end == math.inf:
            return
        if not self.lock.acquire(blocking=False):
            return                          # busy elsewhere: caught up on the next query
        try:
            if self._wave == "running" and t_new >= self._wave_end:
                self._stop_wave()
                self._apply()
            self._catch_up(t_new)
        finally:
            self.lock.release()

    # -- waveforms
    def _wave_cycles(self) -> float:
        cycles = self._settings.get("wave_cycles")
        if cycles is not None:
            return cycles
        return self._settings["wave_time"] * self.get("wave_frequency")

    def _wave_arm(self) -> None:
        self._wave = "armed"
        self.set("output", True)
        self._apply()

    def _wave_init(self) -> None:
        if self._wave != "armed":
            raise SCPIError(-221, "Settings conflict; waveform not armed")
        self._wave = "running"
        duration = self._wave_cycles() / self.get("wave_frequency")
        self._wave_end = self.clock.now() + duration
        self._apply()

    def _stop_wave(self) -> None:
        self._wave, self._wave_end = "idle", math.inf

    def _wave_abort(self) -> None:
        self._stop_wave()
        self._apply()

    def _arb_data(self, *tokens: str) -> None:
        if not tokens or not all(tokens):
            raise SCPIError(-109)
        arg = Arg(float, range=(-1.0, 1.0))
        self._arb_work = np.array([arg.parse(t) for t in tokens])

    def _arb_copy(self, location: int) -> None:
        self._arb[location] = self._arb_work.copy()

    # -- delta mode
    def _delta_arm(self) -> None:
        nv = self._nv()
        if nv is None:
            raise SCPIError(-221, "Settings conflict; 2182A not present")
        self._stop_wave()
        self._delta_armed, self._run = True, None
        self.set("output", True)
        self._apply()

    def _delta_init(self) -> None:
        if not self._delta_armed:
            raise SCPIError(-221, "Settings conflict; delta not armed")
        nv = self._nv()
        if nv is None:
            raise SCPIError(-221, "Settings conflict; 2182A not present")
        count = self._settings["delta_count"] * self._settings["sweep_count"]
        delay = self._settings["delta_delay"]
        step = delay + nv.conversion_s()
        self._delta_armed = False
        self._run = _DeltaRun(self.clock.now(), step, count + 2, self.output("delta_high"),
                              self.output("delta_low"))
        self._catch_up()

    def _catch_up(self, t: float | None = None) -> None:
        """Take the A/D readings of a running delta test up to time ``t`` (default: now)."""
        run, nv = self._run, self._nv()
        if run is None or run.done or nv is None:
            return
        t = self.clock.now() if t is None else t
        if not math.isfinite(run.step_s):
            return
        while run.k < run.n_adc:
            t_k = run.t0 + (run.k + 1) * run.step_s
            if t_k > t + 1e-12:
                break
            level = run.high if run.k % 2 == 0 else run.low
            dc, _amp, tripped = self._clamp(level, 0.0)
            if self.bench.drives.dc_A.get(self.name, 0.0) != dc:
                self.bench.set_dc_current(self.name, dc)
            run.last = run.last[-2:] + [(t_k, nv._convert(1), dc, tripped)]
            run.k += 1
            if run.k >= 3:
                self._delta_reading(run, run.k - 3)
            if tripped and self.get("delta_cab"):
                run.n_adc = run.k
        if run.k >= run.n_adc:
            self._finish_delta()
            self._apply()

    def _delta_reading(self, run: _DeltaRun, n: int) -> None:
        (_t0, a0, _l0, c0), (_t1, a1, _l1, c1), (t2, a2, _l2, c2) = run.last
        if OVERFLOW in (abs(a0), abs(a1), abs(a2)):
            delta = OVERFLOW
        else:
            delta = (-1) ** n * (a0 - 2 * a1 + a2) / 4.0
        half = (run.high - run.low) / 2.0
        unit = self.get("unit")
        if delta != OVERFLOW and unit != "V":
            r = delta / half if half else OVERFLOW
            delta = {"OHMS": r, "W": delta * half, "SIEM": 1 / r if r else OVERFLOW}[unit]
        reading = {"READ": delta, "TST": t2 - run.t0, "RNUM": float(n), "SOUR": run.high,
                   "COMP": float(c0 or c1 or c2), "AVOL": (a0 + 2 * a1 + a2) / 4.0}
        self._latest_reading = reading
        if len(self._buffer) < self.get("trace_points"):
            self._buffer.append(reading)
            if len(self._buffer) == self.get("trace_points"):
                self._event("MEAS", 9)                           # buffer full

    def _finish_delta(self) -> None:
        if self._run is not None:
            self._run.done = True
        self._delta_armed = False

    def _delta_abort(self) -> None:
        self._catch_up()
        self._finish_delta()
        self._wave_abort()

    def _opc(self) -> str:
        """*OPC?: wait (in virtual time) until a finite delta test has finished."""
        run = self._run
        if run is not None and not run.done and math.isfinite(run.n_adc):
            end = run.t0 + run.n_adc * run.step_s
            self.clock.sleep(end - self.clock.now())
            self._catch_up()
        return "1"

    def _set_elements(self, *tokens: str) -> None:
        if not tokens or not all(tokens):
            raise SCPIError(-109)
        arg = Arg(str, choices={"READing": "READ", "TSTamp": "TST", "UNITs": "UNIT",
                                "RNUMber": "RNUM", "SOURce": "SOUR", "COMPliance": "COMP",
                                "AVOLtage": "AVOL", "ALL": "ALL", "DEFault": "DEF"})
        chosen = {arg.parse(t) for t in tokens}
        order = ["READ", "TST", "UNIT", "RNUM", "SOUR", "COMP", "AVOL"]
        if "ALL" in chosen:
            chosen = set(order)
        if "DEF" in chosen:
            chosen = {"READ", "TST"}
        self._elements = [e for e in order if e in chosen]

    def _format(self, readings: Sequence[dict]) -> str:
        out = []
        for r in readings:
            for e in self._elements:
                if e == "UNIT":
                    continue                # units are appended to the reading on the 6221
                value = r[e]
                if abs(value) >= OVERFLOW:
                    out.append("+9.900000E+37")
                elif e in ("READ", "AVOL"):     # nanovolt resolution on millivolt readings
                    out.append(f"{value:+.8E}")
                else:
                    out.append(_nr3(value))
        return ",".join(out)

    def _trace_data(self) -> str:
        self._catch_up()
        if not self._buffer:
            raise SCPIError(-230)
        return self._format(self._buffer)

    def _latest(self) -> str:
        self._catch_up()
        if self._latest_reading is None:
            raise SCPIError(-230)
        return self._format([self._latest_reading])


TWINS = {
    "keithley2400": Keithley2400Twin,
    "keithley2450": Keithley2450Twin,
    "keithley6221": Keithley6221Twin,
    "keithley2182a": Keithley2182ATwin,
}
"""Driver registry key (drivers/registry.py) → twin class."""
