"""Simulated Keithley 2400 SourceMeter.

Wiring keywords, the physics of the readings and the known deviations of the Keithley
twins: :mod:`labspin.sim_backend.sim_keithley`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from .scpi import Arg, SCPIError
from .sim_keithley_common import (
    NOT_MEASURED,
    OVERFLOW,
    ReadFetch,
    SourceMeter,
    auto_range,
    function_name,
    ignore,
    knum,
)
from .virtual_bench import VirtualBench


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


class Keithley2400Twin(ReadFetch, SourceMeter):
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
        self._declare_source()
        for q, reps, default in (("current", self._i_rep, 1.05e-4), ("voltage", self._v_rep, 21.0)):
            word = q.upper()[:4] + q[4:]
            p(f"source_{q}_range_auto", f"SOURce:{word}:RANGe:AUTO", bool, default=True)
            p(f"source_{q}_range", f"SOURce:{word}:RANGe[:UPPer]", float,
              range=(-reps[-1], reps[-1]), default=default, fmt=knum,
              on_change=self._snapping(f"source_{q}_range", reps, f"source_{q}_range_auto"))
        p("source_delay_auto", "SOURce:DELay:AUTO", bool, default=True)
        p("source_delay", "SOURce:DELay", float, range=(0.0, 9999.998), default=0.001,
          fmt=knum, on_change=lambda *_: self.set("source_delay_auto", False))
        p("auto_output_off", "SOURce:CLEar:AUTO", bool, default=False)
        self.add_command("SOURce:CLEar[:IMMediate]", lambda: self._output_off())
        # ---- sense: compliance, ranges, NPLC, filter, ohms
        p("compliance_current", "[SENSe]:CURRent[:DC]:PROTection[:LEVel]", float,
          range=(-1.05, 1.05), default=1.05e-4, fmt=knum, on_change=self._changed)
        p("compliance_voltage", "[SENSe]:VOLTage[:DC]:PROTection[:LEVel]", float,
          range=(-210.0, 210.0), default=21.0, fmt=knum, on_change=self._changed)
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
              default=default, fmt=knum,
              on_change=self._snapping(f"{key}_range", reps, f"{key}_range_auto"))
        p("nplc", "[SENSe]:CURRent[:DC]:NPLCycles", float, range=(0.01, 10.0), default=1.0,
          fmt=knum)
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
        self.add_query("SYSTem:TIME", self._timestamp, fmt=knum)
        self.add_command("SYSTem:PRESet", self.reset)
        # ---- trigger model
        p("trigger_count", "TRIGger[:SEQuence]:COUNt", int,
          range=lambda: (1, 2500 // self.get("arm_count")), default=1, fmt="{:+d}")
        p("arm_count", "ARM[:SEQuence][:LAYer]:COUNt", int,
          range=lambda: (1, 2500 // self.get("trigger_count")), default=1, fmt="{:+d}")
        p("trigger_delay", "TRIGger[:SEQuence]:DELay", float, range=(0.0, 999.9999),
          default=0.0, fmt=knum)
        p("trigger_source", "TRIGger[:SEQuence]:SOURce", choices=["IMMediate", "TLINk"],
          default="IMM")
        p("arm_source", "ARM[:SEQuence][:LAYer]:SOURce",
          choices=["IMMediate", "TLINk", "TIMer", "MANual", "BUS", "NSTest", "PSTest", "BSTest"],
          default="IMM")
        p("arm_timer", "ARM[:SEQuence][:LAYer]:TIMer", float, range=(0.001, 99999.99),
          default=0.1, fmt=knum)
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
        self.add_command("TRIGger[:SEQuence]:CLEar", ignore)
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
        return [function_name(t, ("VOLTage", "CURRent", "RESistance")) for t in tokens]

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
            # the voltage is measured when an element shows it (VOLT, or RES = V/I)
            need_v = "VOLT" in funcs or "RES" in funcs
            v, i = self._measure_vi(self.get("nplc"), n, self._range_or_auto("voltage"),
                                    self._range_or_auto("current"), voltage=need_v)
            r = v / i if need_v and i and OVERFLOW not in (v, i) else OVERFLOW
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
        r_range = fixed if fixed is not None else auto_range(r_true, self.R_RANGES, 1.05)
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
        return ",".join(knum(r.element(e)) for r in readings for e in self._elements)

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
                out.append(knum(float(stat(np.array([r.element(e) for r in self._trace])))))
        return ",".join(out)
