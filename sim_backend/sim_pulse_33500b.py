"""Simulated Keysight 33500B Trueform waveform generator (33522B).

Wiring keywords, the 50 Ω drive model, triggering and the known deviations of the pulse
generator twins: :mod:`labspin.sim_backend.sim_pulse`.
"""
from __future__ import annotations

from .arb_memory import ArbMemory
from .sim_pulse_keysight import KEYSIGHT_FLOAT, KeysightSpec, KeysightTwin, channel_of
from .virtual_bench import VirtualBench


def _keysight_33500b_spec() -> KeysightSpec:
    src = "[SOURce[1|2]]"
    return KeysightSpec(
        shape=f"{src}:FUNCtion",
        shapes=("SINusoid", "SQUare", "TRIangle", "RAMP", "PULSe", "PRBS", "NOISe", "ARB",
                "DC"),
        frequency=f"{src}:FREQuency",
        amplitude=f"{src}:VOLTage[:LEVel][:IMMediate][:AMPLitude]",
        offset=f"{src}:VOLTage[:LEVel][:IMMediate]:OFFSet",
        high=f"{src}:VOLTage[:LEVel][:IMMediate]:HIGH",
        low=f"{src}:VOLTage[:LEVel][:IMMediate]:LOW",
        period=(f"{src}:FUNCtion:PULSe:PERiod",),
        width=(f"{src}:FUNCtion:PULSe:WIDTh",),
        transition=(f"{src}:FUNCtion:PULSe:TRANsition[:BOTH]",),
        output="OUTPut[1|2][:STATe]",
        polarity="OUTPut[1|2]:POLarity",
        load="OUTPut[1|2]:LOAD",
        min_vpp=1e-3,
        frequency_range=(1e-6, 30e6), width_range=(16e-9, 1e6), period_range=(33e-9, 1e6),
        transition_range=(8.4e-9, 1e-6),
        default_frequency=1e3, default_width=100e-6, default_transition=10e-9,
        load_range=(1.0, 10e3), unit=f"{src}:VOLTage:UNIT",
        square_duty=f"{src}:FUNCtion:SQUare:DCYCle", square_duty_range=(0.01, 99.99),
        ramp_symmetry=f"{src}:FUNCtion:RAMP:SYMMetry",
        pulse_hold=(f"{src}:FUNCtion:PULSe:HOLD",), pulse_duty=(f"{src}:FUNCtion:PULSe:DCYCle",),
        apply=f"{src}:APPLy")


class Keysight33500BTwin(KeysightTwin):
    """Keysight 33500B Trueform waveform generator (33522B, two channels), SCPI.

    Commands ([SOURce[1|2]:] optional): FUNCtion, FREQuency, VOLTage[:AMPLitude] (Vpp),
    VOLTage:OFFSet, VOLTage:HIGH/LOW, FUNCtion:PULSe:WIDTh/PERiod/TRANsition[:BOTH],
    BURSt:STATe/MODE/NCYCles/INTernal:PERiod, OUTPut[1|2][:STATe], OUTPut[1|2]:POLarity
    NORM|INV, OUTPut[1|2]:LOAD <Ω>|INF (1 Ω–10 kΩ; the set levels follow, the EMF is
    kept), TRIGger[1|2]:SOURce IMM|EXT|TIM|BUS, VOLTage:UNIT, FUNCtion:SQUare:DCYCle,
    FUNCtion:RAMP:SYMMetry, FUNCtion:PULSe:HOLD/DCYCle, PHASe, the arbitrary-waveform
    memory (DATA:ARBitrary[:DAC], DATA:VOLatile:*, FUNCtion:ARBitrary[:SRATe|:ADVance|
    :FILTer]), FREQuency:MODE, TRIGger[1|2]:SLOPe/COUNt/DELay/TIMer, BURSt:PHASe,
    BURSt:GATE:POLarity, OUTPut:SYNC[:SOURce] (stored and read back), *TRG, SYSTem:ERRor?.
    *RST: SIN, 1 kHz, 100 mVpp, 0 V offset, pulse width
    100 µs, edges 10 ns, load 50 Ω, burst off (triggered, 1 cycle), trigger source IMM,
    outputs off, Vpp, square 50 %, ramp symmetry 100 %, hold width, arb EXP_RISE at 40 kSa/s,
    frequency mode CW, trigger slope POS, count 1, delay 0, timer 1 s, burst phase 0, gate
    polarity NORM, sync on from CH1.
    Limits: 1 mVpp–10 Vpp and ±5 V levels into 50 Ω, width 16 ns–1 Ms, period 33 ns–1 Ms,
    edges 8.4 ns–1 µs.
    """

    idn = "Keysight Technologies,33522B,MY00000000,4.00-3.15-2.00-58-00"
    SPEC = _keysight_33500b_spec()
    RESCALE_ON_LOAD = True

    def __init__(self, bench: VirtualBench, name: str = "pulse_generator", **wiring):
        super().__init__(bench, name, **wiring)
        src = "[SOURce[1|2]]"
        self.arb = ArbMemory(self, channel_of, src)
        mode = lambda value, ch=1: self._mode_changed(ch)       # noqa: E731
        self.add_parameter("burst_state", f"{src}:BURSt:STATe", bool, default=False,
                           on_change=mode)
        self.add_parameter("burst_mode", f"{src}:BURSt:MODE", choices=["TRIGgered", "GATed"],
                           default="TRIG", on_change=mode)
        self.add_parameter("burst_ncycles", f"{src}:BURSt:NCYCles", int,
                           range=(1, 100_000_000), default=1)
        self.add_parameter("burst_period", f"{src}:BURSt:INTernal:PERiod", float,
                           range=(1e-6, 8000.0), default=10e-3, fmt=KEYSIGHT_FLOAT)
        # Waveform phase (degrees, -360..360): stored and read back; the bench's drive has
        # no phase reference, so it does not change what the sample sees.
        self.add_parameter("phase", f"{src}:PHASe[:ADJust]", float, range=(-360.0, 360.0),
                           default=0.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("trigger_source", "TRIGger[1|2]:SOURce",
                           choices=["IMMediate", "EXTernal", "TIMer", "BUS"], default="IMM",
                           on_change=mode)
        # Stored and read back (what QCoDeS's Keysight33xxx snapshot reads); a timer or
        # external trigger's timing, count, delay and slope do not reach the sample (see
        # Known deviations): the burst's pulses are those of BURSt:NCYCles.
        self.add_parameter("frequency_mode", f"{src}:FREQuency:MODE",
                           choices=["CW", "LIST", "SWEep", "FIXed"], default="CW")
        self.add_parameter("trigger_slope", "TRIGger[1|2]:SLOPe",
                           choices=["POSitive", "NEGative"], default="POS")
        self.add_parameter("trigger_count", "TRIGger[1|2]:COUNt", int, range=(1, 1_000_000),
                           default=1)
        self.add_parameter("trigger_delay", "TRIGger[1|2]:DELay", float, range=(0.0, 1000.0),
                           default=0.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("trigger_timer", "TRIGger[1|2]:TIMer", float, range=(1e-6, 8000.0),
                           default=1.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("burst_phase", f"{src}:BURSt:PHASe", float, range=(-360.0, 360.0),
                           default=0.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("burst_gate_polarity", f"{src}:BURSt:GATE:POLarity",
                           choices=["NORMal", "INVerted"], default="NORM")
        self.add_parameter("sync_output", "OUTPut:SYNC[:STATe]", bool, default=True)
        self.add_parameter("sync_source", "OUTPut:SYNC:SOURce", choices=["CH1", "CH2"],
                           default="CH1")
        self.add_command("SYSTem:BEEP", lambda: None)
        self._remember_modes()

    def on_reset(self) -> None:
        if hasattr(self, "arb"):
            self.arb.reset()
        super().on_reset()

    def triggered(self, ch: int) -> bool:
        return (self.get("burst_state", ch) and self.get("burst_mode", ch) == "TRIG"
                and self.get("trigger_source", ch) == "BUS")

    def free_running(self, ch: int) -> bool:
        return not self.get("burst_state", ch) or (
            self.get("burst_mode", ch) == "TRIG"
            and self.get("trigger_source", ch) in ("IMM", "TIM"))

    def burst_count(self, ch: int) -> int:
        return int(self.get("burst_ncycles", ch))
