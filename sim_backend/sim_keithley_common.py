"""What the Keithley twins share: reading codes, number formats, range helpers, the bench
wiring of the sample's current path, the STATus subsystem and error texts (:class:`KeithleyTwin`),
READ?/FETCh? (:class:`ReadFetch`) and the SourceMeters' compliance and (V, I) measurement
(:class:`SourceMeter`). The models: :mod:`labspin.sim_backend.sim_keithley`.
"""
from __future__ import annotations

import math
from functools import partial
from typing import Any, Callable, Sequence

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


def knum(value: float) -> str:
    """Keithley's ASCII number, e.g. '+1.234560E-03'."""
    return f"{value:+.6E}"


def knum_inf(value: float) -> str:
    return "+9.900000E+37" if math.isinf(value) else knum(value)


def ignore(*_args: Any, **_kw: Any) -> None:
    return None


class NumOrInf(Arg):
    """A number, or INFinity (stored as math.inf)."""

    def parse(self, token: str) -> Any:
        if token.strip().upper() in ("INF", "INFINITY"):
            return math.inf
        return super().parse(token)


def snap_range(value: float, ranges: Sequence[float]) -> float:
    """Get the smallest range (as listed) that holds |value| (the largest if none does)."""
    v = abs(value) * (1 - 1e-9)
    return next((r for r in ranges if v <= r), ranges[-1])


def auto_range(value: float, nominal: Sequence[float], headroom: float) -> float:
    """Get the smallest nominal range whose headroom×range holds |value|."""
    return next((r for r in nominal if abs(value) <= headroom * r), nominal[-1])


def function_name(token: str, allowed: Sequence[str]) -> str:
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


def check_probe(bench: VirtualBench, probe: str) -> str:
    allowed = ("xx", "xy") if isinstance(bench.sample.readout, HallBar) else ("mtj",)
    if probe not in allowed:
        raise ValueError(f"sample {bench.sample.name} has probes {allowed}, not {probe!r}")
    return probe


# ============================================================================ shared base


class KeithleyTwin(SimInstrument):
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
        self.add_command("STATus:QUEue:ENABle", ignore, args=None)
        self.add_command("STATus:QUEue:DISable", ignore, args=None)
        self.add_command("SYSTem:BEEPer[:IMMediate]", ignore, args=None)
        self.add_command("SYSTem:LOCal", ignore)
        self.add_command("SYSTem:REMote", ignore)
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
            self.set(name, snap_range(value, ranges))
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


class ReadFetch:
    """READ? and FETCh? of the models whose readings come from ``_run`` (a fresh
    measurement) and are kept in ``_last``, formatted by ``_format``."""

    def _read(self) -> str:
        return self._format(self._run())

    def _fetch(self) -> str:
        if not self._last:
            raise SCPIError(-230)
        return self._format(self._last)


class SourceMeter(KeithleyTwin):
    """What the 2400 and 2450 share: wiring, compliance, the (V, I) measurement.

    A model declares the parameter "output" (``output=True``), calls
    :meth:`_declare_source` ("source_function", "source_current", "source_voltage") and implements
    the limits, the 4-wire flag, the ranges and NPLC/filter of the present measurement.
    """
    AUDIT_SWITCH = "output"

    def audited_levels(self):
        return {"source_current": ("current", 1.0), "source_voltage": ("voltage", 1.0)}

    V_RANGES: tuple[float, ...] = ()
    I_RANGES: tuple[float, ...] = ()

    def __init__(self, bench: VirtualBench, name: str, *, probe: str = "xx",
                 drives_sample: bool = True, lead_ohm: float = 0.0, drives_gate: bool = False):
        super().__init__(bench, name)
        self.probe = check_probe(bench, probe)
        self.path = current_path(bench)
        self.drives_sample = bool(drives_sample)
        self.drives_gate = bool(drives_gate)
        """True: the output is the VCMA gate of a domain-wall sample (voltage, no current)."""
        self.lead_ohm = float(lead_ohm)
        self.current_A = 0.0
        """The current this SMU drives through the sample now (A)."""
        self.tripped = False
        """Whether the source is in compliance now."""

    def _declare_source(self) -> None:
        """Declare the source function and levels, the same SCPI on the 2400 and 2450
        (±1.05 A, ±210 V)."""
        p = self.add_parameter
        p("source_function", "SOURce:FUNCtion[:MODE]", choices=["VOLTage", "CURRent"],
          default="VOLT", on_change=self._changed)
        p("source_current", "SOURce:CURRent[:LEVel][:IMMediate][:AMPLitude]", float,
          range=(-1.05, 1.05), default=0.0, fmt=knum, output=True, on_change=self._changed)
        p("source_voltage", "SOURce:VOLTage[:LEVel][:IMMediate][:AMPLitude]", float,
          range=(-210.0, 210.0), default=0.0, fmt=knum, output=True, on_change=self._changed)

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
                    i_range: float | None, voltage: bool = True) -> tuple[float, float]:
        """Measure (V, I) once (V, A), the source applied; a range None means autorange.
        Fixed ranges overflow beyond 105 % (+9.9E37). With ``voltage`` False the voltage
        function is off, as after ``:CONFigure:CURRent``: V reads NOT_MEASURED (9.91E37) and
        the sample's voltage is not computed (on a thermal sample that is a stochastic-LLG
        ensemble per current)."""
        bench, rng = self.bench, self.bench.rng
        t_int = nplc / self.line_frequency()
        four = self._four_wire()
        level = self.output("source_voltage") if self.get("source_function") == "VOLT" \
            else self.output("source_current")
        if not voltage:
            v = NOT_MEASURED
        elif not self.drives_sample and self.output("output") and (
                self.tripped or self.get("source_function") == "VOLT"):
            v = (math.copysign(abs(self._voltage_limit()), level) if self.tripped
                 else float(level))           # open circuit: the terminals at the limit/level
        else:
            v = bench.dc_voltage(self.probe if four else self.path, t_int * n_avg)
            if not four:
                v += self.current_A * self.lead_ohm
        if voltage:
            vr = v_range if v_range is not None else auto_range(v, self.V_RANGES, 1.05)
            v += 2e-6 * vr / math.sqrt(nplc * n_avg) * float(rng.normal())
        i = self.current_A
        ir = i_range if i_range is not None else auto_range(i, self.I_RANGES, 1.05)
        i += 2e-6 * ir / math.sqrt(nplc * n_avg) * float(rng.normal())
        if voltage and v_range is not None and abs(v) > 1.05 * v_range:
            v = OVERFLOW
        if i_range is not None and abs(i) > 1.05 * i_range:
            i = OVERFLOW
        return v, i
