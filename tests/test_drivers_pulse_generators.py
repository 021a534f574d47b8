"""Pulse generators (33500B, 81160A, 10070A): command strings, limits before writes,
polarity handling, ramped shutdown in virtual time."""
from unittest.mock import MagicMock

import pytest
from pymeasure.instruments.agilent import Agilent33500
from pymeasure.instruments.keysight import Keysight81160A as PymeasureKeysight81160A
from pymeasure.test import expected_protocol

from labspin.bench import registry
from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError, SlewLimit
from labspin.drivers import roles
from labspin.drivers.pulse_generators import Keysight33500B, Keysight81160A, Picosecond10070A

ALL = [Keysight33500B, Keysight81160A, Picosecond10070A]

# Per function generator: polarity query/set, high/low level set/query, width, output.
FG = {
    Keysight33500B: dict(pol="OUTP:POL?", pol_set="OUTP:POL {}", high="VOLT:HIGH {:f}",
                         low="VOLT:LOW {:f}", high_q="VOLT:HIGH?", low_q="VOLT:LOW?",
                         width="FUNC:PULS:WIDT {:e}", width_q="FUNC:PULS:WIDT?",
                         out="OUTP {}", out_q="OUTP?", m=0.01),
    Keysight81160A: dict(pol=":OUTP1:POL?", pol_set=":OUTP1:POL {}", high=":VOLT1:HIGH {:f}",
                         low=":VOLT1:LOW {:f}", high_q=":VOLT1:HIGH?", low_q=":VOLT1:LOW?",
                         width=":PULS:WIDT1 {:e}", width_q=":PULS:WIDT1?",
                         out="OUTP1 {}", out_q="OUTP1?", m=0.05),
}
FGS = list(FG)


def protocol(cls, pairs, clock=None, **kwargs):
    return expected_protocol(cls, pairs, clock=clock or VirtualClock(), **kwargs)


# --- construction and role ------------------------------------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_constructs_with_mock_adapter_and_satisfies_role(cls):
    inst = cls(MagicMock())
    assert isinstance(inst, roles.PulseGenerator)
    assert isinstance(inst, roles.Sourcing)
    assert cls.roles == ("pulse_generator",)
    assert {"amplitude", "width"} <= set(cls.SAFE_LIMITS)


@pytest.mark.parametrize("cls", ALL)
def test_serves_role_statically_without_io(cls):
    with protocol(cls, []) as inst:             # nothing may be sent
        assert roles.serves(inst, "pulse_generator")
        assert roles.missing_members(inst, "pulse_generator") == []


@pytest.mark.parametrize("key, cls", [("keysight33500b", Keysight33500B),
                                      ("keysight81160a", Keysight81160A),
                                      ("psp10070a", Picosecond10070A)])
def test_registry_keys(key, cls):
    assert registry.driver_class(key) is cls
    assert registry.driver_roles(key) == ("pulse_generator",)


def test_subclass_pymeasure_drivers():
    assert issubclass(Keysight33500B, Agilent33500)
    assert issubclass(Keysight81160A, PymeasureKeysight81160A)


def test_clock_keyword_reaches_the_mixin():
    clock = VirtualClock()
    with protocol(Keysight33500B, [], clock=clock) as inst:
        assert inst.clock is clock


@pytest.mark.parametrize("cls, limits", [
    (Keysight33500B, {"amplitude": (-5.0, 5.0, "V"), "width": (16e-9, 1e6, "s")}),
    (Keysight81160A, {"amplitude": (-5.0, 5.0, "V"), "width": (1.5e-9, 1e6, "s")}),
    (Picosecond10070A, {"amplitude": (-7.5, 7.5, "V"), "width": (0.0, 10.2e-9, "s"),
                                 "offset": (-5.0, 5.0, "V")})])
def test_model_limits(cls, limits):
    assert cls.SAFE_LIMITS == limits


# --- 33500B / 81160A: level, polarity, width, output --------------------------------------------

@pytest.mark.parametrize("cls", FGS)
@pytest.mark.parametrize("level", [2.5, 0.5, 5.0])
def test_positive_level_with_normal_polarity_writes_high_only(cls, level):
    c = FG[cls]
    with protocol(cls, [(c["pol"], "NORM"), (c["high"].format(level), None)]) as inst:
        inst.amplitude = level


@pytest.mark.parametrize("cls", FGS)
@pytest.mark.parametrize("level", [-1.0, -5.0])
def test_negative_level_with_inverted_polarity_writes_low_only(cls, level):
    c = FG[cls]
    with protocol(cls, [(c["pol"], "INV"), (c["low"].format(level), None)]) as inst:
        inst.amplitude = level


@pytest.mark.parametrize("cls", FGS)
def test_sign_change_passes_through_the_smallest_pulse(cls):
    c, m = FG[cls], FG[cls]["m"]
    to_negative = [(c["pol"], "NORM"), (c["high"].format(m), None), (c["low"].format(-m), None),
                   (c["high"].format(0), None), (c["pol_set"].format("INV"), None),
                   (c["low"].format(-2), None)]
    with protocol(cls, to_negative) as inst:
        inst.amplitude = -2
    to_positive = [(c["pol"], "INV"), (c["low"].format(-m), None), (c["high"].format(m), None),
                   (c["low"].format(0), None), (c["pol_set"].format("NORM"), None),
                   (c["high"].format(1.5), None)]
    with protocol(cls, to_positive) as inst:
        inst.amplitude = 1.5


@pytest.mark.parametrize("cls", FGS)
def test_get_level_follows_polarity(cls):
    c = FG[cls]
    with protocol(cls, [(c["pol"], "NORM"), (c["high_q"], "+2.500000000000000E+00")]) as inst:
        assert inst.amplitude == 2.5
    with protocol(cls, [(c["pol"], "INV"), (c["low_q"], "-1.000000000000000E+00")]) as inst:
        assert inst.amplitude == -1.0


@pytest.mark.parametrize("cls", FGS)
@pytest.mark.parametrize("level", [5.5, -5.5, 0.0, 0.004, -0.004, float("nan")])
def test_level_outside_limits_or_below_smallest_pulse_sends_nothing(cls, level):
    with protocol(cls, []) as inst:
        with pytest.raises(LimitError):
            inst.amplitude = level


@pytest.mark.parametrize("cls", FGS)
def test_bench_limit_narrows_level(cls):
    c = FG[cls]
    with protocol(cls, [(c["pol"], "NORM"), (c["high"].format(1.0), None)]) as inst:
        inst.configure_safety(limits={"amplitude": (-1.0, 1.0)})
        with pytest.raises(LimitError):
            inst.amplitude = 1.2
        inst.amplitude = 1.0


@pytest.mark.parametrize("cls", FGS)
def test_width(cls):
    c = FG[cls]
    low = cls.SAFE_LIMITS["width"][0]
    pairs = [(c["width"].format(100e-9), None), (c["width_q"], "+1.000000000000000E-07")]
    with protocol(cls, pairs) as inst:
        inst.width = 100e-9
        assert inst.width == 100e-9
        with pytest.raises(LimitError):
            inst.width = low / 2
        inst.configure_safety(limits={"width": (low, 1e-6)})
        with pytest.raises(LimitError):
            inst.width = 2e-6


@pytest.mark.parametrize("cls", FGS)
def test_output(cls):
    c = FG[cls]
    pairs = [(c["out"].format(0), None), (c["out_q"], "1"), (c["out_q"], "0"),
             (c["pol"], "NORM"), (c["high_q"], "+1.0E+00"), (c["out"].format(1), None)]
    with protocol(cls, pairs) as inst:
        inst.output_enabled = False
        assert inst.output_enabled is True
        assert inst.output_enabled is False
        inst.output_enabled = True


@pytest.mark.parametrize("cls", FGS)
def test_output_on_refused_when_level_exceeds_bench_limit(cls):
    c = FG[cls]
    with protocol(cls, [(c["pol"], "INV"), (c["low_q"], "-3.0")]) as inst:
        inst.configure_safety(limits={"amplitude": (-2.0, 2.0)})
        with pytest.raises(LimitError):
            inst.output_enabled = True


def test_33500b_fire_and_configure():
    with protocol(Keysight33500B, [("BURS:NCYC 1", None), ("*TRG;*WAI", None),
                                   ("BURS:NCYC 3", None), ("*TRG;*WAI", None)]) as inst:
        inst.fire()
        inst.fire(3)
    pairs = [("OUTP 0", None), ("FUNC PULS", None), ("VOLT 0.010000", None),
             ("VOLT:OFFS 0.005000", None), ("OUTP:POL NORM", None),
             ("FUNC:PULS:PER 2.000000e-03", None), ("BURS:MODE TRIG", None),
             ("BURS:NCYC 1", None), ("TRIG:SOUR BUS", None), ("BURS:STAT 1", None)]
    with protocol(Keysight33500B, pairs) as inst:
        inst.configure_pulse_mode(period=2e-3)


def test_81160a_fire_and_configure():
    with protocol(Keysight81160A, [(":TRIG1:COUN 1", None), ("*TRG;*WAI", None),
                                   (":TRIG1:COUN 5", None), ("*TRG;*WAI", None)]) as inst:
        inst.fire()
        inst.fire(5)
    pairs = [("OUTP1 0", None), (":FUNC1 PULS", None), (":VOLT1 0.050000", None),
             (":VOLT1:OFFS 0.025000", None), (":OUTP1:POL NORM", None),
             (":PULS:PER1 1.000000e-03", None), (":ARM:SOUR1 MAN", None),
             (":TRIG1:COUN 1", None)]
    with protocol(Keysight81160A, pairs) as inst:
        inst.configure_pulse_mode()


def test_81160a_second_channel():
    pairs = [(":OUTP2:POL?", "NORM"), (":VOLT2:HIGH 1.000000", None),
             (":PULS:WIDT2 5.000000e-09", None), ("OUTP2 0", None)]
    with protocol(Keysight81160A, pairs, channel=2) as inst:
        inst.amplitude = 1.0
        inst.width = 5e-9
        inst.output_enabled = False
    with pytest.raises(ValueError):
        Keysight81160A(MagicMock(), channel=3)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("count", [0, -1, 1.5, True, "2", 10**10])
def test_fire_rejects_bad_counts_before_sending(cls, count):
    with protocol(cls, []) as inst:
        with pytest.raises(ValueError):
            inst.fire(count)


@pytest.mark.parametrize("cls", FGS)
def test_fg_shutdown_ramps_positive_level_then_output_off(cls):
    c, m = FG[cls], FG[cls]["m"]
    clock = VirtualClock()
    steps = [2.0 - (2.0 - m) * k / 4 for k in (1, 2, 3, 4)]       # 0.5 V max step
    pairs = ([(c["pol"], "NORM"), (c["high_q"], "+2.0E+00")]
             + [(c["high"].format(v), None) for v in steps] + [(c["out"].format(0), None)])
    with protocol(cls, pairs, clock=clock) as inst:
        inst.shutdown()
        assert inst.isShutdown
    assert clock.now() == pytest.approx((2.0 - m) / 5.0)       # |Δ| / max_rate


@pytest.mark.parametrize("cls", FGS)
def test_fg_shutdown_ramps_negative_level_with_configured_slew(cls):
    c, m = FG[cls], FG[cls]["m"]
    clock = VirtualClock()
    steps = [-1.0 + (1.0 - m) * k / 3 for k in (1, 2, 3)]
    pairs = ([(c["pol"], "INV"), (c["low_q"], "-1.0")]
             + [(c["low"].format(v), None) for v in steps] + [(c["out"].format(0), None)])
    with protocol(cls, pairs, clock=clock) as inst:
        inst.configure_safety(slew={"amplitude": SlewLimit(max_step=0.4, max_rate=0.1)})
        inst.shutdown()
    assert clock.now() == pytest.approx((1.0 - m) / 0.1)


@pytest.mark.parametrize("cls", FGS)
def test_fg_shutdown_at_smallest_pulse_only_switches_off(cls):
    c = FG[cls]
    clock = VirtualClock()
    pairs = [(c["pol"], "NORM"), (c["high_q"], str(c["m"])), (c["out"].format(0), None)]
    with protocol(cls, pairs, clock=clock) as inst:
        inst.shutdown()
    assert clock.now() == 0.0


@pytest.mark.parametrize("cls", FGS)
def test_fg_shutdown_switches_off_even_if_reading_fails(cls):
    c = FG[cls]
    with protocol(cls, [(c["pol"], "NORM"), (c["high_q"], "garbage"),
                        (c["out"].format(0), None)]) as inst:
        with pytest.raises(ValueError):
            inst.shutdown()


# --- Picosecond 10070A -----------------------------------------------------------------------

PSPL = Picosecond10070A

PSPL_SET = [
    ("amplitude", 2.5, "amplitude 2.5"),
    ("amplitude", -0.075, "amplitude -0.075"),
    ("amplitude", 7.5, "amplitude 7.5"),
    ("width", 1e-9, "duration 1e-09"),
    ("width", 250e-12, "duration 2.5e-10"),
    ("offset", 0.5, "offset 0.5"),
    ("offset", -5, "offset -5"),
    ("delay", 10e-9, "delay 1e-08"),
    ("period", 1e-3, "period 0.001"),
    ("frequency", 1000, "frequency 1000"),
    ("trigger_source", "GPIB", "trigger GPIB"),
    ("trigger_source", "INT", "trigger INT"),
    ("header_enabled", False, "header OFF"),
    ("header_enabled", True, "header ON"),
    ("output_enabled", False, "disable"),
]

PSPL_GET = [
    ("amplitude", "amplitude?", "2.500E+0", 2.5),
    ("amplitude", "amplitude?", "AMPLITUDE -7.500E-2", -0.075),
    ("width", "duration?", "1.000E-9", 1e-9),
    ("offset", "offset?", "OFFSET 0.000E+0", 0.0),
    ("delay", "delay?", "1.0E-8", 1e-8),
    ("period", "period?", "PERIOD 1.0E-3", 1e-3),
    ("frequency", "frequency?", "1.0E+3", 1000.0),
    ("trigger_source", "trigger?", "GPIB", "GPIB"),
    ("trigger_source", "trigger?", "TRIGGER INT", "INT"),
    ("output_enabled", "enable?", "YES", True),
    ("output_enabled", "enable?", "NO", False),
    ("output_enabled", "enable?", "ENABLE YES", True),
]


@pytest.mark.parametrize("attr, value, command", PSPL_SET)
def test_10070a_set(attr, value, command):
    with protocol(PSPL, [(command, None)]) as inst:
        setattr(inst, attr, value)


@pytest.mark.parametrize("attr, command, reply, expected", PSPL_GET)
def test_10070a_get(attr, command, reply, expected):
    with protocol(PSPL, [(command, reply)]) as inst:
        value = getattr(inst, attr)
    if isinstance(expected, float):
        assert value == pytest.approx(expected)
    else:
        assert value == expected


@pytest.mark.parametrize("attr, value, error", [
    ("amplitude", 8.0, LimitError), ("amplitude", -8.0, LimitError),
    ("amplitude", 0.05, LimitError), ("width", 11e-9, LimitError),
    ("offset", 5.5, LimitError), ("delay", 64e-9, ValueError), ("period", 5e-6, ValueError),
    ("frequency", 2e5, ValueError), ("trigger_source", "BUS", ValueError)])
def test_10070a_limits_and_validators_send_nothing(attr, value, error):
    with protocol(PSPL, []) as inst:
        with pytest.raises(error):
            setattr(inst, attr, value)


def test_10070a_output_on_checks_amplitude_and_offset():
    with protocol(PSPL, [("amplitude?", "1.0"), ("offset?", "0.0"), ("enable", None)]) as inst:
        inst.output_enabled = True
    with protocol(PSPL, [("amplitude?", "1.0"), ("offset?", "0.3")]) as inst:
        inst.configure_safety(limits={"offset": (-0.1, 0.1)})
        with pytest.raises(LimitError):
            inst.output_enabled = True


def test_10070a_fire_and_configure():
    with protocol(PSPL, [("*TRG", None)] * 4) as inst:
        inst.fire()
        inst.fire(3)
    with protocol(PSPL, [("disable", None), ("header OFF", None), ("trigger GPIB", None)]) as inst:
        inst.configure_pulse_mode()


def test_10070a_shutdown_ramps_amplitude_and_offset_then_disables():
    clock = VirtualClock()
    pairs = [("amplitude?", "2.000E+0"), ("amplitude 1.51875", None), ("amplitude 1.0375", None),
             ("amplitude 0.55625", None), ("amplitude 0.075", None),
             ("offset?", "2.000E-1"), ("offset 0.1", None), ("offset 0", None),
             ("disable", None)]
    with protocol(PSPL, pairs, clock=clock) as inst:
        inst.shutdown()
        assert inst.isShutdown
    assert clock.now() == pytest.approx(1.925 / 5.0 + 0.2 / 1.0)


def test_10070a_shutdown_negative_amplitude_zero_offset():
    pairs = [("amplitude?", "-0.5"), ("amplitude -0.075", None), ("offset?", "0"),
             ("disable", None)]
    with protocol(PSPL, pairs) as inst:
        inst.shutdown()


def test_10070a_shutdown_tries_offset_and_disable_when_amplitude_ramp_fails():
    pairs = [("amplitude?", "2.0"), ("offset?", "-0.1"), ("offset 0", None), ("disable", None)]
    with protocol(PSPL, pairs) as inst:
        def broken(level):
            raise RuntimeError("GPIB timeout")
        inst._write_level = broken
        with pytest.raises(RuntimeError, match="GPIB timeout"):
            inst.shutdown()


def test_10070a_offset_plus_amplitude_is_limited_as_the_pulse_level():
    """The pulse sits at offset + amplitude: each within its limit (±1 V here) is not enough;
    the sum beyond it is refused in any write, raw ones included, and at switch-on; a step
    back toward 0 V (a ramp down) is never refused."""
    with protocol(PSPL, [("offset 0.5", None), ("amplitude 0.4", None)]) as inst:
        inst.configure_safety(limits={"amplitude": (-1.0, 1.0), "offset": (-1.0, 1.0)})
        inst.offset = 0.5
        inst.amplitude = 0.4
        with pytest.raises(LimitError, match="puts the pulse at 1.3 V"):
            inst.amplitude = 0.8
        with pytest.raises(LimitError, match="puts the pulse at 1.4 V"):
            inst.write("offs 1.0")
        with pytest.raises(LimitError, match="puts the pulse at 1.5 V"):
            inst.write("ampl 0.5;offset 1.0")
    with protocol(PSPL, [("amplitude?", "0.9"), ("offset?", "0.5")]) as inst:
        inst.configure_safety(limits={"amplitude": (-1.0, 1.0), "offset": (-1.0, 1.0)})
        with pytest.raises(LimitError, match="switching the output on refused"):
            inst.output_enabled = True
    # a peak already beyond (set before a limit was narrowed) may only come down
    with protocol(PSPL, [("offset 0.6", None), ("amplitude 0.6", None),
                         ("amplitude 0.5", None)]) as inst:
        inst.offset = 0.6
        inst.amplitude = 0.6
        inst.configure_safety(limits={"amplitude": (-1.0, 1.0), "offset": (-1.0, 1.0)})
        inst.amplitude = 0.5                     # 1.1 V: beyond, but down from 1.2 V
        with pytest.raises(LimitError):
            inst.amplitude = 0.55
