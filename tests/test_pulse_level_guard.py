"""The level guard on the 33500B's and 81160A's write path (issue 13): pymeasure's own
level controls, ``apply_*`` and raw writes are refused (nothing sent) when a level would
leave the amplitude limit, and pass within it."""

import pytest
from pymeasure.test import expected_protocol

from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError
from labspin.drivers.level_guard import LevelGuard
from labspin.drivers.pulse_generators import Keysight33500B, Keysight81160A, Picosecond10070A

# per model: the channel commands pymeasure writes (format with channel, then value)
CMD = {
    Keysight33500B: dict(high="SOUR{n}:VOLT:HIGH {v:f}", low="SOUR{n}:VOLT:LOW {v:f}",
                         amp="SOUR{n}:VOLT {v:f}", off="SOUR{n}:VOLT:OFFS {v:f}"),
    Keysight81160A: dict(high=":VOLT{n}:HIGH {v:f}", low=":VOLT{n}:LOW {v:f}",
                         amp=":VOLT{n} {v:f}", off=":VOLT{n}:OFFS {v:f}"),
}
CASES = [(cls, n) for cls in CMD for n in (1, 2)]
LIMIT = (-1.0, 1.0)


def _cmd(cls, key, n, v):
    return (CMD[cls][key].format(n=n, v=v), None)


def _guarded(cls, pairs):
    inst = expected_protocol(cls, pairs, clock=VirtualClock())
    return inst


def _start(cls, n):
    """Known levels high 0.5 V, low 0 V on channel n (a 0.5 V pulse on a 0 V baseline)."""
    return [_cmd(cls, "high", n, 0.5), _cmd(cls, "low", n, 0.0)]


def _known(inst, n):
    inst.configure_safety(limits={"amplitude": LIMIT})
    inst.channels[n].voltage_high = 0.5
    inst.channels[n].voltage_low = 0.0


@pytest.mark.parametrize("cls, n", CASES)
def test_high_and_low_beyond_the_limit_are_refused(cls, n):
    pairs = _start(cls, n) + [_cmd(cls, "high", n, 0.9), _cmd(cls, "low", n, -0.2)]
    with _guarded(cls, pairs) as inst:
        _known(inst, n)
        with pytest.raises(LimitError, match=rf"{cls.__name__} amplitude limit: "
                                             rf".*HIGH 2.000000' refused, channel {n} level "
                                             r"would be high 2 V, low 0 V; allowed range "
                                             r"\[-1, 1\] V"):
            inst.channels[n].voltage_high = 2
        with pytest.raises(LimitError, match="low -2 V"):
            inst.channels[n].voltage_low = -2
        inst.channels[n].voltage_high = 0.9
        inst.channels[n].voltage_low = -0.2


@pytest.mark.parametrize("cls, n", CASES)
def test_amplitude_and_offset_move_both_levels(cls, n):
    # from (0.5, 0): offset 0.25 V; Vpp 4 -> (2.25, -1.75); Vpp 1 -> (0.75, -0.25);
    # then offset 3 -> (3.5, 2.5); offset 0.5 -> (1.0, 0.0), at the limit
    pairs = _start(cls, n) + [_cmd(cls, "amp", n, 1.0), _cmd(cls, "off", n, 0.5)]
    with _guarded(cls, pairs) as inst:
        _known(inst, n)
        with pytest.raises(LimitError, match="high 2.25 V, low -1.75 V"):
            inst.channels[n].amplitude = 4
        inst.channels[n].amplitude = 1
        with pytest.raises(LimitError, match="high 3.5 V, low 2.5 V"):
            inst.channels[n].offset = 3
        inst.channels[n].offset = 0.5
        with pytest.raises(LimitError, match="high 1.1 V, low 0.1 V"):
            inst.channels[n].offset = 0.6


@pytest.mark.parametrize("n", [1, 2])
def test_81160a_apply_is_checked(n):
    pairs = [(f":APPL{n}:PULS 1000.0, 1.5, 0.2", None), (f":APPL{n}:DC DEF, DEF, 0.8", None)]
    with _guarded(Keysight81160A, pairs) as inst:
        inst.configure_safety(limits={"amplitude": LIMIT})
        with pytest.raises(LimitError, match="high 2.2 V, low -1.8 V"):
            inst.channels[n].apply_pulse(1e3, 4.0, 0.2)
        with pytest.raises(LimitError, match="high 1.2 V, low -1.2 V"):
            inst.channels[n].apply_square(1e3, 2.4, 0.0)
        inst.channels[n].apply_pulse(1e3, 1.5, 0.2)             # (0.95, -0.55)
        with pytest.raises(LimitError, match="high 2 V, low 2 V"):
            inst.channels[n].apply_dc(2.0)
        inst.channels[n].apply_dc(0.8)


@pytest.mark.parametrize("cls", list(CMD))
def test_raw_writes_are_checked(cls):
    pairs = [("VOLT:HIGH 0.8", None), ("FREQ 1000", None), ("VOLT:LIM:HIGH 3", None),
             ("APPL:PULS 1e3, 1 VPP, 200 mV", None)]
    with _guarded(cls, pairs) as inst:
        inst.configure_safety(limits={"amplitude": LIMIT})
        with pytest.raises(LimitError, match=r"'VOLT:HIGH 2' refused, channel 1 level would "
                                             r"be 2 V"):
            inst.write("VOLT:HIGH 2")
        inst.write("VOLT:HIGH 0.8")
        inst.write("FREQ 1000")                  # not a level: passes unread
        inst.write("VOLT:LIM:HIGH 3")            # the 81160A's own clamp, not a level
        with pytest.raises(LimitError, match="high 2.2 V, low -1.8 V"):
            inst.write("APPL:PULS 1e3, 4 VPP, 200 mV")
        inst.write("APPL:PULS 1e3, 1 VPP, 200 mV")
        with pytest.raises(LimitError):
            inst.write_bytes(b"VOLT:HIGH 2\n")


@pytest.mark.parametrize("message", [
    "VOLT:HIGH 0.5;LOW -2",                       # compound path: VOLT:LOW
    "SOURce2:VOLTage:LEVel:IMMediate:HIGH 2", ":VOLTage2:HIGH 2000 mV",
    "VOLT:HIGH MAX", "VOLT:HIGH DEF", "VOLT:HIGH MIN", "VOLT:HIGH 1 KV", "VOLT:HIGH nan",
    "VOLT 1 DBM", "VOLT:UNIT VRMS", "CURR:HIGH 0.01", "OUTP:LOAD 10", ":OUTP1:IMP 5",
    ":OUTP2:IMP:EXT 1", "VOLT:COUP ON", ":TRAC:CHAN1 1", "*RCL 1", "MEM:STAT:REC 1",
    "APPL:SIN 1000", "APPL:PULS 1e3, DEF, 0", "SOUR3:VOLT:HIGH 0.1",
    "AM:STAT ON", "SOUR1:SUM:STAT 1", "SOUR1:COMB:FEED CH2", ":CHAN:MATH PLUS",
])
def test_refused_messages(message):
    guard = LevelGuard()
    with pytest.raises(LimitError, match="refused"):
        guard.check(message, LIMIT, "test")


@pytest.mark.parametrize("message", [
    "VOLT:HIGH 0.5;LOW -0.5", "VOLT:HIGH?;:VOLT:LOW?", "*TRG;*WAI", "BURS:NCYC 3",
    "OUTP:POL INV", "OUTP:LOAD INF", "OUTP:LOAD 50", ":OUTP1:IMP 50", "VOLT:UNIT VPP",
    "FUNC:PULS:WIDT 1e-8", "SOUR2:VOLT:LOW -.5", "*RST", "AM:STAT OFF", "COMB:FEED NONE",
    ":CHAN:MATH OFF", "AM:DEPT 100",
])
def test_passed_messages(message):
    LevelGuard().check(message, LIMIT, "test")


def test_amplitude_or_offset_with_the_other_unknown_needs_the_output_off():
    guard = LevelGuard()
    with pytest.raises(LimitError, match="unknown with the output possibly on"):
        guard.check("VOLT 0.5", LIMIT, "test")
    guard.commit(guard.check("OUTP OFF;VOLT 0.5", LIMIT, "test"))
    with pytest.raises(LimitError, match="levels are unknown"):
        guard.check("OUTP ON", LIMIT, "test")
    guard.commit(guard.check("VOLT:OFFS 0.25", LIMIT, "test"))      # now (0.5, 0)
    guard.commit(guard.check("OUTP ON", LIMIT, "test"))
    # limits narrowed after the write: switching on again is refused
    guard.commit(guard.check("OUTP OFF", LIMIT, "test"))
    with pytest.raises(LimitError, match="high 0.5 V, low 0 V"):
        guard.check("OUTP ON", (-0.4, 0.4), "test")


def test_configure_pulse_mode_seeds_the_shadow():
    pairs = [("OUTP 0", None), ("FUNC PULS", None), ("VOLT 0.010000", None),
             ("VOLT:OFFS 0.005000", None), ("OUTP:POL NORM", None),
             ("FUNC:PULS:PER 1.000000e-03", None), ("BURS:MODE TRIG", None),
             ("BURS:NCYC 1", None), ("TRIG:SOUR BUS", None), ("BURS:STAT 1", None),
             ("VOLT:OFFS 0.500000", None)]
    with _guarded(Keysight33500B, pairs) as inst:
        inst.configure_safety(limits={"amplitude": LIMIT})
        inst.configure_pulse_mode()
        # (0.01, 0) known: an offset of 1 V is a pulse from 0.995 V to 1.005 V
        with pytest.raises(LimitError, match="high 1.005 V, low 0.995 V"):
            inst.offset = 1.0
        inst.offset = 0.5


def test_10070a_raw_amplitude_and_offset_writes_are_checked():
    pairs = [("amplitude 0.9", None), ("ampl -0.5;offs 0.2", None), ("amplitude?", "0.9"),
             ("duration 1e-9", None)]
    with _guarded(Picosecond10070A, pairs) as inst:
        inst.configure_safety(limits={"amplitude": LIMIT, "offset": (-0.5, 0.5)})
        for message in ("amplitude 2", "AMPL -1.5", "offset 0.6", "ampl 0.5;offs 1",
                        "amplitude MAX", "amplitude", "offs 1e999"):
            with pytest.raises(LimitError, match=rf"Picosecond10070A: '{message}' refused: "
                                                 r"(amplitude|offset) must be a number "
                                                 r"within \[-(1|0.5), (1|0.5)\] V"):
                inst.write(message)
        inst.write("amplitude 0.9")
        inst.write("ampl -0.5;offs 0.2")
        assert inst.ask("amplitude?") == "0.9"
        inst.write("duration 1e-9")               # not a level: passes
