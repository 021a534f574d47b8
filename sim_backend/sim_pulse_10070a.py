"""Simulated Picosecond Pulse Labs 10,070A pulse generator.

Wiring keywords, the 50 Ω drive model, triggering and the known deviations of the pulse
generator twins: :mod:`labspin.sim_backend.sim_pulse`.
"""
from __future__ import annotations

from .scpi import Arg, SCPIError
from .sim_pulse_common import Drive, PulseTwin
from .virtual_bench import VirtualBench


class Picosecond10070ATwin(PulseTwin):
    """Picosecond Pulse Labs Model 10,070A pulse generator: GPIB, lowercase long-form
    commands with 4-letter short forms, replies with or without a header.

    Commands: amplitude (±7.5 V, |A| ≥ 75 mV), duration (100 ps–10.2 ns), delay (0–63 ns),
    offset (±5 V), period (10 µs–1 s) ↔ frequency (1 Hz–100 kHz), trigger
    INT|EXT|MAN|GPIB, level (trigger level, ±5 V), enable / disable / enable? (YES|NO) /
    disable?, header ON|OFF, *TRG, IEEE 488.2 common commands (errors: *ESR? bits).
    *RST: amplitude 75 mV, duration 1 ns, offset 0 V, delay 0, period 1 ms, trigger INT,
    disabled, header ON.
    """
    AUDIT_SWITCH = "enabled"

    def audited_levels(self):        # the dc baseline (pulse levels are not slew-limited)
        return {"offset": ("offset", 1.0)}

    idn = "PICOSECOND PULSE LABS,10070A,000000,1.0"
    scpi = False
    termination = "\n"
    RISE_S = 65e-12
    """Transition time (s) of the pulse edges (assumed)."""
    MIN_AMPLITUDE = 0.075

    def __init__(self, bench: VirtualBench, name: str = "pulse_generator", **wiring):
        super().__init__(bench, name, **wiring)
        refresh = lambda *_: self._refresh(self.channel)        # noqa: E731
        num = lambda header: lambda v: self._reply(header, f"{v:.3E}")   # noqa: E731
        self.add_parameter("header", "HEADer", bool, default=True)
        self.add_parameter("amplitude", "AMPLitude", float, range=(-7.5, 7.5), default=0.075,
                           fmt=num("AMPLITUDE"), output=True)
        self.add_command("AMPLitude", self._set_amplitude, args=(Arg(float, range=(-7.5, 7.5)),))
        self.add_parameter("duration", "DURAtion", float, range=(100e-12, 10.2e-9),
                           default=1e-9, fmt=num("DURATION"), on_change=refresh)
        self.add_parameter("delay", "DELAy", float, range=(0.0, 63e-9), default=0.0,
                           fmt=num("DELAY"))
        self.add_parameter("offset", "OFFSet", float, range=(-5.0, 5.0), default=0.0,
                           fmt=num("OFFSET"), output=True, on_change=refresh)
        self.add_parameter("level", "LEVEl", float, range=(-5.0, 5.0), default=0.0,
                           fmt=num("LEVEL"))
        self.add_parameter("period", "PERIod", float, range=(10e-6, 1.0), default=1e-3,
                           fmt=num("PERIOD"))
        self.add_command("FREQuency", lambda hz: self.set("period", 1.0 / hz),
                         args=(Arg(float, range=(1.0, 100e3)),))
        self.add_query("FREQuency", lambda: self._reply("FREQUENCY",
                                                        f"{1.0 / self.get('period'):.3E}"))
        self.add_parameter("trigger", "TRIGger",
                           choices=["INTernal", "EXTernal", "MANual", "GPIB"], default="INT",
                           fmt=lambda v: self._reply("TRIGGER", v),
                           on_change=lambda *_: self._mode_changed(self.channel))
        self.add_parameter("enabled", "ENABle", bool, default=False, output=True,
                           fmt=lambda v: self._reply("ENABLE", "YES" if v else "NO"))
        self.add_command("ENABle", lambda: self._enable(True))
        self.add_command("DISAble", lambda: self._enable(False))
        self.add_query("DISAble", lambda: self._reply(
            "DISABLE", "NO" if self.get("enabled") else "YES"))
        self._remember_modes()

    def _reply(self, header: str, text: str) -> str:
        return f"{header} {text}" if self.get("header") else text

    def _set_amplitude(self, volts: float) -> None:
        if abs(volts) < self.MIN_AMPLITUDE:
            raise SCPIError(-222)
        self._store(self._params["amplitude"], (), volts, apply=not self._stuck)
        self._refresh(self.channel)

    def _enable(self, on: bool) -> None:
        self._store(self._params["enabled"], (), on, apply=not self._stuck)
        self._refresh(self.channel)

    def drive(self, ch: int) -> Drive:
        offset = self.output("offset")
        return Drive(on=bool(self.output("enabled")), shape="PULS", base_V=offset,
                     pulse_V=offset + self.output("amplitude"), width_s=self.get("duration"),
                     rise_s=self.RISE_S, period_s=self.get("period"))

    def triggered(self, ch: int) -> bool:
        return self.get("trigger") == "GPIB"

    def free_running(self, ch: int) -> bool:
        return self.get("trigger") == "INT"

    def trigger(self) -> None:
        """*TRG: one pulse after ``delay`` (trigger GPIB), else -211."""
        if self.triggered(self.channel):
            self.clock.sleep(self.get("delay"))
        super().trigger()
