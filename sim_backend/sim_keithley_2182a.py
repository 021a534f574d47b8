"""Simulated Keithley 2182A nanovoltmeter.

Wiring keywords, the physics of the readings and the known deviations of the Keithley
twins: :mod:`labspin.sim_backend.sim_keithley`.
"""
from __future__ import annotations

import math
from functools import partial
from typing import Sequence

import numpy as np

from .scpi import Arg, SCPIError
from .sim_keithley_common import (
    NOT_MEASURED,
    OVERFLOW,
    KeithleyTwin,
    ReadFetch,
    auto_range,
    check_probe,
    function_name,
    ignore,
    knum,
    snap_range,
)
from .virtual_bench import VirtualBench


class Keithley2182ATwin(ReadFetch, KeithleyTwin):
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
        self.probes = {1: check_probe(bench, probe),
                       2: None if probe2 is None else check_probe(bench, probe2)}
        self.thermal_emf_V = float(thermal_emf_V)
        self.termination = termination
        p = self.add_parameter
        p("channel", "[SENSe]:CHANnel", int, choices=(0, 1, 2), default=1)
        self._function = "VOLT"
        self.add_command("[SENSe]:FUNCtion", self._set_function, args=(Arg(str),))
        self.add_query("[SENSe]:FUNCtion",
                       lambda: '"VOLT:DC"' if self._function == "VOLT" else '"TEMP"')
        p("nplc", "[SENSe]:VOLTage[:DC]:NPLCycles", float,
          range=lambda: (0.01, self.line_frequency()), default=5.0, fmt=knum)
        p("temperature_nplc", "[SENSe]:TEMPerature:NPLCycles", float,
          range=lambda: (0.01, self.line_frequency()), default=5.0, fmt=knum)
        p("digits", "[SENSe]:VOLTage[:DC]:DIGits", int, range=(4, 8), default=8)
        for ch, ranges in ((1, self.CH1_RANGES), (2, self.CH2_RANGES)):
            base = f"[SENSe]:VOLTage[:DC]:CHANnel{ch}"
            top = 1.2 * ranges[-1]
            p(f"range_auto{ch}", f"{base}:RANGe:AUTO", bool, default=True)
            p(f"range{ch}", f"{base}:RANGe[:UPPer]", float, range=(0.0, top),
              default=ranges[-1], fmt=knum,
              on_change=self._snapping(f"range{ch}", ranges, f"range_auto{ch}"))
            p(f"ref{ch}", f"{base}:REFerence", float, range=(-top, top), default=0.0, fmt=knum)
            p(f"ref_state{ch}", f"{base}:REFerence:STATe", bool, default=False)
            self.add_command(f"{base}:REFerence:ACQuire", partial(self._acquire_ref, ch))
            p(f"filter{ch}", f"{base}:DFILter[:STATe]", bool, default=False)
            p(f"filter_count{ch}", f"{base}:DFILter:COUNt", int, range=(1, 100), default=10)
            p(f"filter_type{ch}", f"{base}:DFILter:TCONtrol", choices=["MOVing", "REPeat"],
              default="MOV")
            p(f"filter_window{ch}", f"{base}:DFILter:WINDow", float, range=(0.0, 10.0),
              default=0.01, fmt=knum)
            p(f"lpass{ch}", f"{base}:LPASs[:STATe]", bool, default=False)
            p(f"temp_ref{ch}", f"[SENSe]:TEMPerature:CHANnel{ch}:REFerence", float,
              range=(-273.0, 1820.0), default=0.0, fmt=knum)
            p(f"temp_ref_state{ch}", f"[SENSe]:TEMPerature:CHANnel{ch}:REFerence:STATe",
              bool, default=False)
        self.add_command("[SENSe]:VOLTage[:DC]:RANGe[:UPPer]", self._set_active_range,
                         args=(Arg(float, range=(0.0, 120.0)),))
        self.add_query("[SENSe]:VOLTage[:DC]:RANGe[:UPPer]",
                       lambda: knum(self.get(f"range{self._active()}")))
        self.add_command("[SENSe]:VOLTage[:DC]:RANGe:AUTO",
                         lambda on: self.set(f"range_auto{self._active()}", on), args=(bool,))
        self.add_query("[SENSe]:VOLTage[:DC]:RANGe:AUTO",
                       lambda: int(self.get(f"range_auto{self._active()}")))
        p("thermocouple", "[SENSe]:TEMPerature:TCouple[:TYPE]",
          choices=["J", "K", "T", "E", "R", "S", "B", "N"], default="J")
        p("rjunction", "[SENSe]:TEMPerature:RJUNction:RSELect",
          choices=["SIMulated", "INTernal"], default="INT")
        p("rjunction_sim", "[SENSe]:TEMPerature:RJUNction:SIMulated", float,
          range=(0.0, 60.0), default=23.0, fmt=knum)
        self.add_query("[SENSe]:TEMPerature:RTEMperature", lambda: knum(self._internal_C()))
        p("temperature_unit", "UNIT:TEMPerature", choices=["C", "F", "K"], default="C")
        p("autozero", "SYSTem:AZERo[:STATe]", bool, default=True)
        p("front_autozero", "SYSTem:FAZero[:STATe]", bool, default=True)
        p("line_sync", "SYSTem:LSYNc[:STATe]", bool, default=False)
        self.add_query("SYSTem:LFRequency", lambda: int(self.line_frequency()))
        p("display", "DISPlay:ENABle", bool, default=True)
        # ---- trigger and measurements
        p("trigger_count", "TRIGger[:SEQuence]:COUNt", int, range=(1, 9999), default=1)
        p("trigger_delay", "TRIGger[:SEQuence]:DELay", float, range=(0.0, 999999.999),
          default=0.0, fmt=knum, on_change=lambda *_: self.set("trigger_delay_auto", False))
        p("trigger_delay_auto", "TRIGger[:SEQuence]:DELay:AUTO", bool, default=True)
        p("trigger_source", "TRIGger[:SEQuence]:SOURce",
          choices=["IMMediate", "EXTernal", "TIMer", "MANual", "BUS"], default="IMM")
        p("trigger_timer", "TRIGger[:SEQuence]:TIMer", float, range=(0.001, 999999.999),
          default=0.1, fmt=knum)
        p("sample_count", "SAMPle:COUNt", int, range=(1, 1024), default=1)
        p("init_continuous", "INITiate:CONTinuous", bool, default=False)
        self.add_command("INITiate[:IMMediate]", self._initiate)
        self.add_command("ABORt", ignore)
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
        self.add_query("CALCulate2:DATA", lambda: knum(self._calc2_value))
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
        self.set(f"range{ch}", snap_range(value, self.CH1_RANGES if ch == 1 else self.CH2_RANGES))
        self.set(f"range_auto{ch}", False)

    def _set_function(self, name: str) -> None:
        self._function = function_name(name, ("VOLTage", "TEMPerature"))

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
        r = auto_range(v, ranges, 1.2) if auto else self.get(f"range{ch}")
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
        return knum(self._calc2_value)
