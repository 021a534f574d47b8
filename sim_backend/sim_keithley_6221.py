"""Simulated Keithley 6221 ac/dc current source (dc, waveforms, delta mode with an attached 2182A).

Wiring keywords, the physics of the readings and the known deviations of the Keithley
twins: :mod:`labspin.sim_backend.sim_keithley`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .scpi import Arg, SCPIError
from .sim_keithley_2182a import Keithley2182ATwin
from .sim_keithley_common import (
    OVERFLOW,
    KeithleyTwin,
    NumOrInf,
    current_path,
    ignore,
    knum,
    knum_inf,
    r_upper,
)
from .virtual_bench import VirtualBench


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


class Keithley6221Twin(KeithleyTwin):
    """Keithley 6221 ac/dc current source (±105 mA, compliance 0.1–105 V).

    *RST: output off, dc 0 A, compliance 10 V, sine 1 kHz with amplitude 2 pA and offset 0,
    duration INF, delta high 1 mA (low −1 mA), delay 2 ms, count INF, sweep count 1,
    FORMat:ELEMents READ,TST. ``SOUR:WAVE:ARM`` and ``SOUR:DELT:ARM`` turn the output on;
    ``SOUR:WAVE:ABOR``/``SOUR:SWE:ABOR`` stop, and the output stays on at the dc level.
    Delta needs the 2182A named by ``nanovoltmeter`` (``SOUR:DELT:NVPR?`` → 1); without it
    ``SOUR:DELT:ARM`` → -221.
    """
    AUDIT_SWITCH = "output"

    def audited_levels(self):
        return {"source_current": ("current", 1.0)}

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
          range=(-0.105, 0.105), default=0.0, fmt=knum, output=True, on_change=self._changed)
        p("compliance", "[SOURce]:CURRent:COMPliance", float, range=(0.1, 105.0),
          default=10.0, fmt=knum, on_change=self._changed)
        p("range_auto", "[SOURce]:CURRent:RANGe:AUTO", bool, default=True)
        p("range", "[SOURce]:CURRent:RANGe", float, range=(-0.105, 0.105), default=2e-3,
          fmt=knum, on_change=self._snapping("range", self.RANGES, "range_auto"))
        p("filter", "[SOURce]:CURRent:FILTer[:STATe]", bool, default=False)
        p("source_delay", "[SOURce]:DELay", float, range=(1e-3, 999999.999), default=1e-3,
          fmt=knum)
        # ---- waveforms
        p("wave_function", "[SOURce]:WAVE:FUNCtion",
          choices=["SINusoid", "SQUare", "RAMP", "ARBitrary0", "ARBitrary1", "ARBitrary2",
                   "ARBitrary3", "ARBitrary4"], default="SIN")
        p("wave_amplitude", "[SOURce]:WAVE:AMPLitude", float, range=(2e-12, 0.105),
          default=2e-12, fmt=knum, output=True, on_change=self._changed)
        p("wave_frequency", "[SOURce]:WAVE:FREQuency", float, range=(1e-3, 1e5),
          default=1e3, fmt=knum, output=True, on_change=self._changed)
        p("wave_offset", "[SOURce]:WAVE:OFFSet", float, range=(-0.105, 0.105), default=0.0,
          fmt=knum, output=True, on_change=self._changed)
        p("wave_duty", "[SOURce]:WAVE:DCYCle", float, range=(0.0, 100.0), default=50.0,
          fmt=knum, on_change=self._changed)
        self._setting("wave_time", "[SOURce]:WAVE:DURation:TIME",
                      NumOrInf(float, range=(100e-9, 999999.999)), math.inf,
                      fmt=lambda _v: knum_inf(self._wave_cycles() / self.get("wave_frequency")),
                      on_change=lambda _v: self._settings.update(wave_cycles=None))
        self._setting("wave_cycles", "[SOURce]:WAVE:DURation:CYCLes",
                      NumOrInf(float, range=(1e-3, 99999999900.0)), None,
                      fmt=lambda v: knum_inf(self._wave_cycles()),
                      on_change=lambda _v: self._settings.update(wave_time=None))
        p("wave_ranging", "[SOURce]:WAVE:RANGing", choices=["BEST", "FIXed"], default="BEST")
        p("pmark", "[SOURce]:WAVE:PMARker:STATe", bool, default=False)
        p("pmark_phase", "[SOURce]:WAVE:PMARker[:LEVel]", float, range=(-180.0, 180.0),
          default=0.0, fmt=knum)
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
          fmt=knum, output=True, on_change=lambda v, *_: self.set("delta_low", -v))
        p("delta_low", "[SOURce]:DELTa:LOW", float, range=(-0.105, 0.0), default=-1e-3,
          fmt=knum, output=True)
        self._setting("delta_delay", "[SOURce]:DELTa:DELay",
                      NumOrInf(float, range=(0.0, 9999.999)), 2e-3, fmt=knum_inf)
        self._setting("delta_count", "[SOURce]:DELTa:COUNt",
                      NumOrInf(int, range=(1, 65536)), math.inf,
                      fmt=lambda v: knum_inf(float(v)))
        self._setting("sweep_count", "[SOURce]:SWEep:COUNt",
                      NumOrInf(int, range=(1, 65536)), 1, fmt=lambda v: knum_inf(float(v)))
        p("delta_cab", "[SOURce]:DELTa:CABort", bool, default=False)
        p("delta_csw", "[SOURce]:DELTa:CSWitch", bool, default=False)
        self.add_query("[SOURce]:DELTa:NVPResent", lambda: int(self._nv() is not None))
        self.add_command("[SOURce]:DELTa:ARM", self._delta_arm)
        self.add_query("[SOURce]:DELTa:ARM", lambda: int(self._delta_armed))
        self.add_command("INITiate[:IMMediate]", self._delta_init)
        self.add_command("[SOURce]:SWEep:ABORt", self._delta_abort)
        self.add_command("ABORt", ignore)
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
          default=0.1, fmt=knum)
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
                    out.append(knum(value))
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
