"""Simulated Keithley 2450 SourceMeter.

Wiring keywords, the physics of the readings and the known deviations of the Keithley
twins: :mod:`labspin.sim_backend.sim_keithley`.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from .scpi import Arg, SCPIError, unquote
from .sim_keithley_common import (
    OVERFLOW,
    SourceMeter,
    function_name,
    ignore,
    knum,
)
from .virtual_bench import VirtualBench


class Keithley2450Twin(SourceMeter):
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
        self._declare_source()
        p("voltage_limit", "SOURce:CURRent:VLIMit[:LEVel]", float, range=(0.02, 210.0),
          default=21.0, fmt=knum, on_change=self._changed)
        p("current_limit", "SOURce:VOLTage:ILIMit[:LEVel]", float, range=(1e-9, 1.05),
          default=1.05e-4, fmt=knum, on_change=self._changed)
        self.add_query("SOURce:CURRent:VLIMit[:LEVel]:TRIPped",
                       lambda: int(self.tripped and self.get("source_function") == "CURR"))
        self.add_query("SOURce:VOLTage:ILIMit[:LEVel]:TRIPped",
                       lambda: int(self.tripped and self.get("source_function") == "VOLT"))
        for q, ranges, default in (("CURRent", self.I_RANGES, 1e-4),
                                   ("VOLTage", self.V_RANGES, 0.2)):
            key = q[:4].lower()
            p(f"source_{key}_range_auto", f"SOURce:{q}:RANGe:AUTO", bool, default=True)
            p(f"source_{key}_range", f"SOURce:{q}:RANGe", float,
              range=(-ranges[-1], ranges[-1]), default=default, fmt=knum,
              on_change=self._snapping(f"source_{key}_range", ranges, f"source_{key}_range_auto"))
            p(f"source_{key}_delay_auto", f"SOURce:{q}:DELay:AUTO", bool, default=True)
            p(f"source_{key}_delay", f"SOURce:{q}:DELay", float, range=(0.0, 10000.0),
              default=0.0, fmt=knum,
              on_change=lambda *_a, k=key: self.set(f"source_{k}_delay_auto", False))
            p(f"source_{key}_readback", f"SOURce:{q}:READ:BACK", bool, default=True)
            # user delays USER1…5 (for trigger models): stored and answered
            p(f"source_{key}_delay_user", f"SOURce:{q}:DELay:USER<n>", float,
              range=(0.0, 10000.0), default=0.0, fmt=knum)
        self._function = "CURR"
        self.add_command("[SENSe]:FUNCtion[:ON]", self._set_function, args=(Arg(str),))
        self.add_query("[SENSe]:FUNCtion[:ON]",
                       lambda: {"VOLT": '"VOLT:DC"', "CURR": '"CURR:DC"',
                                "RES": '"RES"'}[self._function])
        for f, (word, ranges_attr, default, _unit) in self._FUNCS.items():
            ranges, k = getattr(self, ranges_attr), f.lower()
            p(f"{k}_range_auto", f"[SENSe]:{word}:RANGe:AUTO", bool, default=True)
            p(f"{k}_range", f"[SENSe]:{word}:RANGe[:UPPer]", float,
              range=(0.0 if f == "RES" else -ranges[-1], ranges[-1]), default=default, fmt=knum,
              on_change=self._snapping(f"{k}_range", ranges, f"{k}_range_auto"))
            p(f"{k}_nplc", f"[SENSe]:{word}:NPLCycles", float, range=(0.01, 10.0),
              default=1.0, fmt=knum)
            p(f"{k}_filter", f"[SENSe]:{word}:AVERage[:STATe]", bool, default=False)
            p(f"{k}_filter_type", f"[SENSe]:{word}:AVERage:TCONtrol",
              choices=["REPeat", "MOVing"], default="REP")
            p(f"{k}_filter_count", f"[SENSe]:{word}:AVERage:COUNt", int, range=(1, 100),
              default=10)
            p(f"{k}_rsense", f"[SENSe]:{word}:RSENse", bool, default=False,
              on_change=self._changed)
            p(f"{k}_azero", f"[SENSe]:{word}:AZERo[:STATe]", bool, default=True)
            p(f"{k}_delay_user", f"[SENSe]:{word}:DELay:USER<n>", float,
              range=(0.0, 10000.0), default=0.0, fmt=knum)
        self.add_command("[SENSe]:AZERo:ONCE", ignore)
        p("count", "[SENSe]:COUNt", int, range=(1, 300000), default=1)
        p("front_terminals", "ROUTe:TERMinals", choices=["FRONt", "REAR"], default="FRON")
        p("display_light", "DISPlay:LIGHt:STATe",
          choices=["ON100", "ON75", "ON50", "ON25", "OFF", "BLACkout"], default="ON50")
        self.add_query("*LANG", lambda: "SCPI")
        self.add_query("SYSTem:LFRequency", lambda: int(self.line_frequency()))
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
        self.add_command("ABORt", ignore)
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
        self.add_command("TRACe:STATistics:CLEar", ignore, args=None)

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
        self._function = function_name(name, ("VOLTage", "CURRent", "RESistance"))
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
            # the voltage is measured when the reading or its source readback shows it
            need_v = self._function != "CURR" or (
                src == "VOLT" and self.get(f"source_{src.lower()}_readback"))
            v, i = self._measure_vi(nplc, n, self._fixed_range("VOLT"), self._fixed_range("CURR"),
                                    voltage=need_v)
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
