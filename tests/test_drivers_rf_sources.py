"""RF sources (E8257D, N5183B, SMB100A): command strings, limits before writes, ramped
shutdown in virtual time."""
import math
import warnings
from unittest.mock import MagicMock

import pytest
from pymeasure.instruments.agilent import Agilent8257D
from pymeasure.test import expected_protocol

from labspin.bench import registry
from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError, SlewLimit
from labspin.drivers import roles
from labspin.drivers.base import OutputNotFollowingError
from labspin.drivers.rf_sources import E8257D, N5183B, SMB100A

KEYSIGHT = [E8257D, N5183B]
ALL = KEYSIGHT + [SMB100A]
# (power query, power write format, output write format) per class
CMDS = {
    E8257D: (":SOUR:POW?", ":SOUR:POW {:.2f} DBM", ":OUTP {}"),
    N5183B: (":SOUR:POW?", ":SOUR:POW {:.2f} DBM", ":OUTP {}"),
    SMB100A: ("SOUR:POW?", "SOUR:POW {:.2f} DBM", "OUTP {}"),
}
# the one message that checks a ramp's end: set power, RF switch, levelling status
CHECK = {
    E8257D: ":SOUR:POW?;:OUTP?;:STAT:QUES:POW:COND?",
    N5183B: ":SOUR:POW?;:OUTP?;:STAT:QUES:POW:COND?",
    SMB100A: "SOUR:POW?;:OUTP?;:OUTP:PROT:TRIP?",
}


def levelled(cls, power_dBm: float):
    """The check message and a healthy source's answer at ``power_dBm``."""
    return (CHECK[cls], f"{power_dBm:+.8E};1;0")


SMB_OPTIONS = "SMB-B140,SMB-K22,SMB-K23"
"""A 40 GHz SMB100A's *OPT? answer: the reverse power protection is standard there."""


def protocol(cls, pairs, clock=None, **kwargs):
    """pymeasure's expected_protocol; an SMB100A asks *OPT? once, before its first check."""
    pairs = list(pairs)
    if cls is SMB100A:
        first = next((i for i, (q, _) in enumerate(pairs) if q == CHECK[cls]), None)
        if first is not None:
            pairs.insert(first, ("*OPT?", SMB_OPTIONS))
    return expected_protocol(cls, pairs, clock=clock or VirtualClock(), **kwargs)


@pytest.mark.parametrize("options, query", [
    ("SMB-B140,SMB-K23", "SOUR:POW?;:OUTP?;:OUTP:PROT:TRIP?"),
    ("SMB-B112,SMB-K22", "SOUR:POW?;:OUTP?"),            # 12.75 GHz without B30: none
    ("SMB-B112L,SMB-B30", "SOUR:POW?;:OUTP?;:OUTP:PROT:TRIP?"),
    ("0", "SOUR:POW?;:OUTP?;:OUTP:PROT:TRIP?")])
def test_smb100a_asks_for_the_protection_only_where_the_unit_has_it(options, query):
    """fsc2's rs_smb100a reads the same rule from *OPT?; a unit without the protection
    would not answer OUTP:PROT:TRIP?, and the check would time out instead of checking."""
    reply = "-2.00000000E+001;1" + (";0" if query.endswith("TRIP?") else "")
    with expected_protocol(SMB100A, [("*OPT?", options), (query, reply), (query, reply)],
                           clock=VirtualClock()) as inst:
        inst.check_output(-20.0)
        inst.check_output(-20.0)                 # *OPT? is asked once
    stuck = "-1.50000000E+001;1" + (";0" if query.endswith("TRIP?") else "")
    with expected_protocol(SMB100A, [("*OPT?", options), (query, stuck)],
                           clock=VirtualClock()) as inst:
        with pytest.raises(OutputNotFollowingError, match="reads -15 dBm"):
            inst.check_output(-20.0)


# --- construction and role ------------------------------------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_constructs_with_mock_adapter_and_satisfies_role(cls):
    inst = cls(MagicMock())
    assert isinstance(inst, roles.RFSource)
    assert isinstance(inst, roles.Sourcing)
    assert cls.roles == ("rf_source",)
    assert set(cls.SAFE_LIMITS) == {"power"}


@pytest.mark.parametrize("cls", ALL)
def test_serves_role_statically_without_io(cls):
    with protocol(cls, []) as inst:             # nothing may be sent
        assert roles.serves(inst, "rf_source")
        assert roles.missing_members(inst, "rf_source") == []


@pytest.mark.parametrize("key, cls", [("e8257d", E8257D), ("n5183b", N5183B),
                                      ("smb100a", SMB100A)])
def test_registry_keys(key, cls):
    assert registry.driver_class(key) is cls
    assert registry.driver_roles(key) == ("rf_source",)


def test_e8257d_extends_pymeasure_without_scpi_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inst = E8257D(MagicMock())
    assert isinstance(inst, Agilent8257D)
    with protocol(E8257D, [(":SOUR:PULM:STAT ON", None)]) as inst:
        inst.enable_pulse_modulation()          # pymeasure's extras stay available


def test_e8257d_pymeasure_power_paths_are_checked():
    pairs = [(":SOUR:POW?", "-5"), (":SOUR:POW -20.00 DBM", None), (":OUTP 1", None)]
    pairs += [(f":SOUR:POW {p:.2f} DBM", None) for p in range(-19, -4)]
    pairs += [levelled(E8257D, -5)] + [(":OUTP 0", None),
             (":SOUR:POW:STAR -1.000000e+01 dBm", None), (":SOUR:POW:STOP 5.000000e+00 dBm", None),
             (":SOUR:POW:STAR?", "-1.00000000E+001"), (":SOUR:POW:STOP?", "+5.00000000E+000")]
    with protocol(E8257D, pairs) as inst:
        inst.enable()
        inst.disable()
        inst.start_power = -10
        inst.stop_power = 5
        assert (inst.start_power, inst.stop_power) == (-10.0, 5.0)
        with pytest.raises(LimitError):
            inst.start_power = 26
        with pytest.raises(LimitError):
            inst.stop_power = -21
    with protocol(E8257D, [(":SOUR:POW?", "+1.50000000E+001")]) as inst:
        inst.configure_safety(limits={"power": (-20.0, 10.0)})
        with pytest.raises(LimitError):
            inst.enable()                   # front-panel power above the bench maximum


def test_clock_keyword_reaches_the_mixin():
    clock = VirtualClock()
    with protocol(N5183B, [], clock=clock) as inst:
        assert inst.clock is clock


# --- Keysight PSG/MXG command strings ---------------------------------------------------------

KEYSIGHT_SET = [
    ("frequency", 5e9, ":SOUR:FREQ 5000000000.000"),
    ("frequency", 1.5e6, ":SOUR:FREQ 1500000.000"),
    ("power", -5.5, ":SOUR:POW -5.50 DBM"),
    ("power", 0, ":SOUR:POW 0.00 DBM"),
    ("output_enabled", False, ":OUTP 0"),
    ("am_enabled", True, ":SOUR:AM:STAT 1"),
    ("am_enabled", False, ":SOUR:AM:STAT 0"),
    ("am_depth", 30, ":SOUR:AM:DEPT 30"),
    ("am_depth", 100, ":SOUR:AM:DEPT 100"),
    ("am_frequency", 1713.0, ":SOUR:AM:INT:FREQ 1713"),
    ("am_frequency", 0.5, ":SOUR:AM:INT:FREQ 0.5"),
    ("am_source", "internal", ":SOUR:AM:SOUR INT"),
    ("am_source", "external", ":SOUR:AM:SOUR EXT"),
    ("modulation_enabled", True, ":OUTP:MOD 1"),
    ("modulation_enabled", False, ":OUTP:MOD 0"),
    ("lf_output_enabled", True, ":SOUR:LFO:STAT 1"),
    ("lf_output_enabled", False, ":SOUR:LFO:STAT 0"),
    ("lf_output_amplitude", 2.0, ":SOUR:LFO:AMPL 2 VP"),
    ("lf_output_amplitude", 0.35, ":SOUR:LFO:AMPL 0.35 VP"),
    ("lf_output_source", "internal", ":SOUR:LFO:SOUR INT"),
    ("lf_output_source", "function", ":SOUR:LFO:SOUR FUNC"),
]

KEYSIGHT_GET = [
    ("frequency", ":SOUR:FREQ?", "+5.000000000000E+09", 5e9),
    ("power", ":SOUR:POW?", "-1.25000000E+001", -12.5),
    ("output_enabled", ":OUTP?", "1", True),
    ("output_enabled", ":OUTP?", "0", False),
    ("am_enabled", ":SOUR:AM:STAT?", "1", True),
    ("am_enabled", ":SOUR:AM:STAT?", "0", False),
    ("am_depth", ":SOUR:AM:DEPT?", "+3.00000000E+001", 30.0),
    ("am_frequency", ":SOUR:AM:INT:FREQ?", "+1.71300000E+003", 1713.0),
    ("modulation_enabled", ":OUTP:MOD?", "1", True),
    ("lf_output_enabled", ":SOUR:LFO:STAT?", "0", False),
    ("lf_output_amplitude", ":SOUR:LFO:AMPL?", "+2.00000000E+000", 2.0),
]


@pytest.mark.parametrize("cls", KEYSIGHT)
@pytest.mark.parametrize("attr, value, command", KEYSIGHT_SET)
def test_keysight_set(cls, attr, value, command):
    with protocol(cls, [(command, None)]) as inst:
        setattr(inst, attr, value)


@pytest.mark.parametrize("cls", KEYSIGHT)
@pytest.mark.parametrize("attr, command, reply, expected", KEYSIGHT_GET)
def test_keysight_get(cls, attr, command, reply, expected):
    with protocol(cls, [(command, reply)]) as inst:
        assert getattr(inst, attr) == expected


@pytest.mark.parametrize("cls, frequency", [(E8257D, 80e9), (E8257D, 50e3),
                                            (N5183B, 45e9), (N5183B, 1e3)])
def test_keysight_frequency_range_per_model(cls, frequency):
    with protocol(cls, []) as inst:
        with pytest.raises(ValueError):
            inst.frequency = frequency


def test_model_frequency_ranges_differ():
    with protocol(E8257D, [(":SOUR:FREQ 67000000000.000", None)]) as inst:
        inst.frequency = 67e9
    with protocol(N5183B, [(":SOUR:FREQ 9000.000", None)]) as inst:
        inst.frequency = 9e3


@pytest.mark.parametrize("cls", KEYSIGHT)
@pytest.mark.parametrize("attr, value", [("am_depth", 101), ("am_depth", -1),
                                         ("am_frequency", 0.1), ("am_frequency", 2e6),
                                         ("lf_output_amplitude", 3.6),
                                         ("lf_output_amplitude", -0.1),
                                         ("am_source", "INT2"), ("lf_output_source", "x")])
def test_keysight_validators_send_nothing(cls, attr, value):
    with protocol(cls, []) as inst:
        with pytest.raises(ValueError):
            setattr(inst, attr, value)


@pytest.mark.parametrize("cls", KEYSIGHT)
def test_keysight_configure_am_reference(cls):
    pairs = [(":SOUR:AM:SOUR INT", None), (":SOUR:AM:INT:FREQ 1713", None),
             (":SOUR:AM:DEPT 80", None), (":SOUR:AM:STAT 1", None), (":OUTP:MOD 1", None),
             (":SOUR:LFO:SOUR INT", None), (":SOUR:LFO:AMPL 1.5 VP", None),
             (":SOUR:LFO:STAT 1", None)]
    with protocol(cls, pairs) as inst:
        inst.configure_am_reference(1713.0, depth=80, lf_amplitude=1.5)


# --- SMB100A command strings ------------------------------------------------------------------

SMB_SET = [
    ("frequency", 5e9, "SOUR:FREQ 5000000000.000"),
    ("frequency", 9e3, "SOUR:FREQ 9000.000"),
    ("power", -30, "SOUR:POW -30.00 DBM"),
    ("power", 12.25, "SOUR:POW 12.25 DBM"),
    ("output_enabled", False, "OUTP 0"),
    ("am_enabled", True, "SOUR:AM:STAT 1"),
    ("am_enabled", False, "SOUR:AM:STAT 0"),
    ("am_depth", 50, "SOUR:AM:DEPT 50"),
    ("am_frequency", 1000, "SOUR:LFO:FREQ 1000"),
    ("am_frequency", 0.1, "SOUR:LFO:FREQ 0.1"),
    ("am_source", "internal", "SOUR:AM:SOUR INT"),
    ("am_source", "external", "SOUR:AM:SOUR EXT"),
    ("lf_output_enabled", True, "SOUR:LFO:STAT 1"),
    ("lf_output_enabled", False, "SOUR:LFO:STAT 0"),
    ("lf_output_amplitude", 1.0, "SOUR:LFO:VOLT 1"),
    ("lf_output_amplitude", 3.0, "SOUR:LFO:VOLT 3"),
]

SMB_GET = [
    ("frequency", "SOUR:FREQ?", "1000000000", 1e9),
    ("power", "SOUR:POW?", "-30", -30.0),
    ("output_enabled", "OUTP?", "1", True),
    ("output_enabled", "OUTP?", "0", False),
    ("am_enabled", "SOUR:AM:STAT?", "1", True),
    ("am_depth", "SOUR:AM:DEPT?", "30", 30.0),
    ("am_frequency", "SOUR:LFO:FREQ?", "1000", 1000.0),
    ("lf_output_enabled", "SOUR:LFO:STAT?", "0", False),
    ("lf_output_amplitude", "SOUR:LFO:VOLT?", "1", 1.0),
]


@pytest.mark.parametrize("attr, value, command", SMB_SET)
def test_smb100a_set(attr, value, command):
    with protocol(SMB100A, [(command, None)]) as inst:
        setattr(inst, attr, value)


@pytest.mark.parametrize("attr, command, reply, expected", SMB_GET)
def test_smb100a_get(attr, command, reply, expected):
    with protocol(SMB100A, [(command, reply)]) as inst:
        assert getattr(inst, attr) == expected


@pytest.mark.parametrize("attr, value", [("frequency", 41e9), ("frequency", 8e3),
                                         ("am_depth", 100.5), ("am_frequency", 0.05),
                                         ("am_frequency", 1.1e6),
                                         ("lf_output_amplitude", 3.1), ("am_source", "INT")])
def test_smb100a_validators_send_nothing(attr, value):
    with protocol(SMB100A, []) as inst:
        with pytest.raises(ValueError):
            setattr(inst, attr, value)


def test_smb100a_configure_am_reference():
    pairs = [("SOUR:AM:SOUR INT", None), ("SOUR:LFO:FREQ 1713", None),
             ("SOUR:AM:DEPT 100", None), ("SOUR:AM:STAT 1", None),
             ("SOUR:LFO:VOLT 2", None), ("SOUR:LFO:STAT 1", None)]
    with protocol(SMB100A, pairs) as inst:
        inst.configure_am_reference(1713.0, lf_amplitude=2.0)


# --- limits: checked before anything is sent ----------------------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_power_outside_model_range_sends_nothing(cls):
    low, high, unit = cls.SAFE_LIMITS["power"]
    assert unit == "dBm"
    with protocol(cls, []) as inst:
        for bad in (high + 0.5, low - 0.5, math.nan, math.inf):
            with pytest.raises(LimitError):
                inst.power = bad


@pytest.mark.parametrize("cls, limits", [(E8257D, (-20.0, 25.0)),
                                         (N5183B, (-20.0, 19.0)),
                                         (SMB100A, (-145.0, 30.0))])
def test_model_power_ranges(cls, limits):
    assert cls.SAFE_LIMITS["power"][:2] == limits


@pytest.mark.parametrize("cls", ALL)
def test_power_at_model_limits_is_written(cls):
    low, high, _ = cls.SAFE_LIMITS["power"]
    _, fmt, _ = CMDS[cls]
    with protocol(cls, [(fmt.format(high), None), (fmt.format(low), None)]) as inst:
        inst.power = high
        inst.power = low


@pytest.mark.parametrize("cls", ALL)
def test_bench_limit_narrows_power(cls):
    _, fmt, _ = CMDS[cls]
    with protocol(cls, [(fmt.format(-3), None)]) as inst:
        inst.configure_safety(limits={"power": (-20.0, -3.0)})
        with pytest.raises(LimitError, match=r"power = 0 dBm is outside the allowed range"):
            inst.power = 0
        inst.power = -3
        with pytest.raises(LimitError, match="must lie within the model's"):
            inst.configure_safety(limits={"power": (-20.0, 40.0)})


def test_example_bench_rf_limit_fits_the_e8257d():
    with protocol(E8257D, []) as inst:
        inst.configure_safety(limits={"power": (-20.0, 15.0)})   # bench_example.toml


@pytest.mark.parametrize("cls", ALL)
def test_rf_on_checks_the_set_power_first(cls):
    get, fmt, out = CMDS[cls]
    ramp_up = [(fmt.format(p), None) for p in range(-19, -9)]      # 1 dB steps to −10 dBm
    clock = VirtualClock()
    with protocol(cls, [(get, "-10"), (fmt.format(-20), None), (out.format(1), None)]
                  + ramp_up + [levelled(cls, -10)], clock=clock) as inst:
        inst.output_enabled = True                   # on at −20 dBm, then ramped up
    # the first 1 dB step waits 1 dB / (10 dB/s) after the switch-on (the output's first
    # change, as the slew auditor times it), then 10 dB at 10 dB/s
    assert clock.now() == pytest.approx(1 / 10.0 + 10 / 10.0)
    with protocol(cls, [(get, "-20"), (out.format(1), None), levelled(cls, -20)]) as inst:
        inst.output_enabled = True                   # already at the safe level
    with protocol(cls, [(get, "+5.00000000E+000")]) as inst:
        inst.configure_safety(limits={"power": (-20.0, 0.0)})
        with pytest.raises(LimitError):
            inst.output_enabled = True          # front-panel power above the bench limit


# --- ramps and shutdown in virtual time ---------------------------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_ramp_to_power_steps_and_rate(cls):
    get, fmt, _ = CMDS[cls]
    clock = VirtualClock()
    pairs = [(get, "-10")] + [(fmt.format(p), None) for p in (-9, -8, -7)]
    with protocol(cls, pairs, clock=clock) as inst:
        inst.ramp_to_power(-7)
    assert clock.now() == pytest.approx(3 / 10.0)     # 3 dB at 10 dB/s
    with protocol(cls, [], clock=clock) as inst:
        with pytest.raises(LimitError):
            inst.ramp_to_power(40)


@pytest.mark.parametrize("cls", ALL)
def test_shutdown_ramps_down_in_1_dB_steps_then_rf_off(cls):
    get, fmt, out = CMDS[cls]
    clock = VirtualClock()
    pairs = ([(get, "+3.00000000E+000")]
             + [(fmt.format(p), None) for p in range(2, -21, -1)]
             + [(out.format(0), None)])
    with protocol(cls, pairs, clock=clock) as inst:
        inst.shutdown()
        assert inst.isShutdown
    assert clock.now() == pytest.approx(23 / 10.0)    # |Δ| / max_rate


@pytest.mark.parametrize("cls", ALL)
def test_shutdown_follows_configured_slew_and_lower_limit(cls):
    get, fmt, out = CMDS[cls]
    clock = VirtualClock()
    pairs = [(get, "0"), (fmt.format(-5), None), (fmt.format(-10), None), (out.format(0), None)]
    with protocol(cls, pairs, clock=clock) as inst:
        inst.configure_safety(limits={"power": (-10.0, 5.0)},
                              slew={"power": SlewLimit(max_step=5.0, max_rate=2.0)})
        inst.shutdown()
    assert clock.now() == pytest.approx(10 / 2.0)


@pytest.mark.parametrize("cls", ALL)
def test_shutdown_never_ramps_up(cls):
    get, _, out = CMDS[cls]
    clock = VirtualClock()
    with protocol(cls, [(get, "-35"), (out.format(0), None)], clock=clock) as inst:
        inst.shutdown()
    assert clock.now() == 0.0


@pytest.mark.parametrize("cls", ALL)
def test_shutdown_switches_rf_off_even_if_the_ramp_fails(cls):
    get, fmt, out = CMDS[cls]
    with protocol(cls, [(get, "0"), (out.format(0), None)]) as inst:
        def broken(value):
            raise RuntimeError("bus error")
        inst._write_power = broken
        with pytest.raises(RuntimeError, match="bus error"):
            inst.shutdown()
    with protocol(cls, [(get, "garbage"), (out.format(0), None)]) as inst:
        with pytest.raises(ValueError):
            inst.shutdown()


# --- a stuck or unlevelled output fails (issue 13 item 3) -----------------------------------------

@pytest.mark.parametrize("cls", ALL)
def test_a_ramp_with_the_rf_on_ends_with_one_check_message(cls):
    get, fmt, out = CMDS[cls]
    pairs = [(get, "-20"), (out.format(1), None), levelled(cls, -20), (get, "-20")]
    pairs += [(fmt.format(p), None) for p in (-19, -18)] + [levelled(cls, -18)]
    with protocol(cls, pairs) as inst:
        inst.output_enabled = True
        inst.ramp_to_power(-18)                     # 2 steps, then one query


@pytest.mark.parametrize("cls", ALL)
def test_a_ramp_with_the_rf_off_is_not_checked(cls):
    get, fmt, _ = CMDS[cls]
    with protocol(cls, [(get, "-20"), (fmt.format(-19), None)]) as inst:
        inst.ramp_to_power(-19)                     # nothing is delivered: nothing to level


@pytest.mark.parametrize("cls, status, meaning", [
    (E8257D, 2, r":STAT:QUES:POW:COND\? bit 1 \(unleveled\)"),
    (N5183B, 2, r":STAT:QUES:POW:COND\? bit 1 \(unleveled\)"),
    (E8257D, 1, r":STAT:QUES:POW:COND\? bit 0 \(reverse power protection tripped\)"),
    (SMB100A, 1, r"OUTP:PROT:TRIP\? bit 0 \(reverse power protection tripped\)")])
def test_an_unlevelled_output_fails_naming_source_setpoint_and_status(cls, status, meaning):
    get, fmt, out = CMDS[cls]
    pairs = [(get, "-20"), (out.format(1), None), levelled(cls, -20), (get, "-20")]
    pairs += [(fmt.format(-19), None), (CHECK[cls], f"-1.90000000E+001;1;{status}")]
    with protocol(cls, pairs) as inst:
        inst.output_enabled = True
        with pytest.raises(OutputNotFollowingError,
                           match=rf"^{inst.name} \(rf_source\): {meaning}, with -19 dBm set "
                                 rf"and the RF on \(read: power -19 dBm, output 1, status "
                                 rf"{status}\): the output does not deliver its setpoint"):
            inst.ramp_to_power(-19)


@pytest.mark.parametrize("cls", ALL)
def test_readbacks_that_disagree_with_the_writes_fail(cls):
    """POW? beyond its 0.01 dB resolution from the power written, OUTP? 0 after RF on."""
    get, _, out = CMDS[cls]
    with protocol(cls, [(get, "-20"), (out.format(1), None),
                        (CHECK[cls], "-2.00000000E+001;0;0")]) as inst:
        with pytest.raises(OutputNotFollowingError, match=r"OUTP\? reads 0 after the RF was "
                                                          r"switched on, with -20 dBm set"):
            inst.output_enabled = True
    with protocol(cls, [(get, "-20"), (out.format(1), None),
                        (CHECK[cls], "-1.99800000E+001;1;0")]) as inst:
        with pytest.raises(OutputNotFollowingError, match=r"POW\? reads -19.98 dBm, with "
                                                          r"-20 dBm set"):
            inst.output_enabled = True
    with protocol(cls, [(get, "-20"), (out.format(1), None),
                        (CHECK[cls], "-1.99900000E+001;1;0")]) as inst:
        inst.output_enabled = True                  # within the 0.01 dB resolution


@pytest.mark.parametrize("cls", ALL)
def test_after_a_failed_check_the_shutdown_still_ramps_down_and_switches_off(cls):
    get, fmt, out = CMDS[cls]
    pairs = [(get, "-20"), (out.format(1), None), levelled(cls, -20), (get, "-20")]
    pairs += [(fmt.format(p), None) for p in (-19, -18)]
    pairs += [(CHECK[cls], "-1.80000000E+001;1;2" if cls is not SMB100A else
               "-1.80000000E+001;1;1")]
    pairs += [(get, "-1.80000000E+001")] + [(fmt.format(p), None) for p in (-19, -20)]
    pairs += [(out.format(0), None)]
    with protocol(cls, pairs) as inst:
        inst.output_enabled = True
        with pytest.raises(OutputNotFollowingError):
            inst.ramp_to_power(-18)
        inst.shutdown()                             # from the −18 dBm last written
