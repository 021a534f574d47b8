"""Simulated Keysight 81160A pulse function arbitrary noise generator.

Wiring keywords, the 50 Ω drive model, triggering and the known deviations of the pulse
generator twins: :mod:`labspin.sim_backend.sim_pulse`.
"""
from __future__ import annotations

from .scpi import Arg, SCPIError
from .sim_pulse_keysight import KEYSIGHT_FLOAT, KeysightSpec, KeysightTwin, channel_of
from .virtual_bench import VirtualBench


def _keysight_81160a_spec() -> KeysightSpec:
    return KeysightSpec(
        shape="[SOURce]:FUNCtion[1|2][:SHAPe]",
        shapes=("SINusoid", "SQUare", "RAMP", "PULSe", "NOISe", "DC", "USER"),
        frequency="[SOURce]:FREQuency[1|2][:CW]",
        amplitude="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate][:AMPLitude]",
        offset="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate]:OFFSet",
        high="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate]:HIGH",
        low="[SOURce]:VOLTage[1|2][:LEVel][:IMMediate]:LOW",
        period=("[SOURce]:PULSe:PERiod[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:PERiod"),
        width=("[SOURce]:PULSe:WIDTh[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:WIDTh"),
        transition=("[SOURce]:PULSe:TRANsition[1|2][:LEADing]",
                    "[SOURce]:FUNCtion[1|2]:PULSe:TRANsition"),
        output="OUTPut[1|2][:STATe]",
        polarity="OUTPut[1|2]:POLarity",
        load="OUTPut[1|2]:LOAD",
        min_vpp=0.05,
        frequency_range=(1e-6, 500e6), width_range=(1.5e-9, 1e6), period_range=(2e-9, 1e6),
        transition_range=(1e-9, 1e3),
        default_frequency=1e6, default_width=100e-9, default_transition=1e-9,
        load_range=(0.3, 1e6), unit="[SOURce]:VOLTage[1|2]:UNIT",
        square_duty="[SOURce]:FUNCtion[1|2]:SQUare:DCYCle",
        square_duty_range=(1.5e-4, 100 - 1.5e-4),     # 1.5 ns of a 1 kHz period
        ramp_symmetry="[SOURce]:FUNCtion[1|2]:RAMP:SYMMetry",
        pulse_hold=("[SOURce]:PULSe:HOLD[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:HOLD"),
        pulse_duty=("[SOURce]:PULSe:DCYCle[1|2]", "[SOURce]:FUNCtion[1|2]:PULSe:DCYCle"),
        apply="APPLy[1|2]")


class Keysight81160ATwin(KeysightTwin):
    """Keysight 81160A pulse function arbitrary noise generator (two channels), SCPI with
    the channel on the node (``:VOLT2:HIGH``, ``:PULS:WIDT2``, ``:OUTP2``).

    Commands: :FUNCtion[1|2], :FREQuency[1|2], :VOLTage[1|2][:AMPLitude]/:OFFSet/:HIGH/:LOW,
    :PULSe:WIDTh[1|2], :PULSe:PERiod[1|2], :PULSe:TRANsition[1|2] (also pymeasure's
    :FUNC<n>:PULS:TRAN), :OUTPut[1|2][:STATe]/:POLarity/:LOAD, :ARM:SOURce[1|2]
    IMM|INT2|EXT|MAN, :TRIGger[1|2]:COUNt (pulses per trigger; :BURSt[1|2]:NCYCles is the
    same count, :BURSt[1|2]:STATe/MODE/INTernal:PERiod are kept), :OUTPut[1|2]:LOAD
    (0.3 Ω–1 MΩ), :VOLTage[1|2]:UNIT, :VOLTage[1|2]:LIMit:STATe/HIGH/LOW (with the state
    on, levels outside the limits: -221), :FUNCtion[1|2]:SQUare:DCYCle / :RAMP:SYMMetry,
    :PULSe:HOLD[1|2] / :DCYCle[1|2] (also as :FUNC:PULS:…, pymeasure's spelling),
    :TRACe:CHANnel[1|2], *TRG, SYSTem:ERRor?. *RST: SIN, 1 MHz, 100 mVpp, pulse width
    100 ns, transitions 1 ns, ARM:SOUR IMM, count 1, outputs off, limits off (±5 V).
    Limits: 50 mVpp–10 Vpp and ±5 V levels into 50 Ω, width ≥ 1.5 ns, period ≥ 2 ns.
    """

    idn = "Agilent Technologies,81160A,MY00000000,2.2.0.0-2.2"
    SPEC = _keysight_81160a_spec()

    def __init__(self, bench: VirtualBench, name: str = "pulse_generator", **wiring):
        super().__init__(bench, name, **wiring)
        self.add_parameter("arm_source", "ARM:SOURce[1|2]",
                           choices=["IMMediate", "INTernal2", "EXTernal", "MANual"],
                           default="IMM", on_change=lambda value, ch=1: self._mode_changed(ch))
        self.add_parameter("count", "TRIGger[1|2]:COUNt", int, range=(1, 2_147_483_647),
                           default=1)
        self.add_command("[SOURce]:BURSt[1|2]:NCYCles",
                         lambda n, **kw: self.set("count", n, channel_of(kw)),
                         args=(Arg(int, range=(1, 2_147_483_647)),))
        self.add_query("[SOURce]:BURSt[1|2]:NCYCles",
                       lambda **kw: self.get("count", channel_of(kw)))
        self.add_parameter("burst_state", "[SOURce]:BURSt[1|2]:STATe", bool, default=False)
        # stored and read back: the triggering that reaches the sample is ARM:SOURce's
        self.add_parameter("burst_mode", "[SOURce]:BURSt[1|2]:MODE",
                           choices=["TRIGgered", "GATed"], default="TRIG")
        self.add_parameter("burst_period", "[SOURce]:BURSt[1|2]:INTernal:PERiod", float,
                           range=(3.03e-9, 1e6), default=1e-6, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("coupling", "TRACe:CHANnel[1|2]", bool, default=False)
        self.add_parameter("limit_state", "[SOURce]:VOLTage[1|2]:LIMit:STATe", bool,
                           default=False)
        self.add_parameter("limit_high", "[SOURce]:VOLTage[1|2]:LIMit[:HIGH]", float,
                           range=(-9.99, 10.0), default=5.0, fmt=KEYSIGHT_FLOAT)
        self.add_parameter("limit_low", "[SOURce]:VOLTage[1|2]:LIMit:LOW", float,
                           range=(-10.0, 9.99), default=-5.0, fmt=KEYSIGHT_FLOAT)
        self._remember_modes()

    def _check_limits(self, ch: int, *levels: float) -> None:
        """With VOLTage:LIMit:STATe on, levels outside LIMit:LOW…HIGH are refused."""
        if self.get("limit_state", ch) and not all(
                self.get("limit_low", ch) <= v <= self.get("limit_high", ch) for v in levels):
            raise SCPIError(-221, "Settings conflict;level outside the voltage limits")

    def triggered(self, ch: int) -> bool:
        return self.get("arm_source", ch) == "MAN"

    def free_running(self, ch: int) -> bool:
        return self.get("arm_source", ch) in ("IMM", "INT2")

    def burst_count(self, ch: int) -> int:
        return int(self.get("count", ch))
