"""Magnet supplies (Kepco BOP, Danfysik 8500): command strings, limits before any write,
ramps and shutdown in virtual time, the Danfysik's safe polarity switch."""
import math
from unittest.mock import MagicMock

import pytest
from pymeasure.test import expected_protocol

from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError, SlewLimit
from labspin.drivers import roles
from labspin.drivers.magnet_supplies import (
    MAGNET_SLEW,
    Danfysik8500,
    DanfysikError,
    KepcoBOP,
    PolaritySwitchError,
)

DANFYSIK_INIT = [(b"ERRT", None), (b"UNLOCK", None)]


# --- both -------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [KepcoBOP, Danfysik8500])
def test_constructible_with_a_mock_adapter_and_conforms_to_the_role(cls):
    supply = cls(MagicMock())
    assert cls.roles == ("magnet_supply",)
    assert isinstance(supply, roles.MagnetSupply)
    assert isinstance(supply, roles.Sourcing)
    assert supply.slew_of("current") == MAGNET_SLEW == SlewLimit(0.5, 1.0)


@pytest.mark.parametrize("cls", [KepcoBOP, Danfysik8500])
@pytest.mark.parametrize("bad", [0, -3, math.nan, math.inf])
def test_max_current_must_be_positive(cls, bad):
    with pytest.raises(ValueError, match="max_current"):
        cls(MagicMock(), max_current=bad)


# --- Kepco BOP --------------------------------------------------------------------------------
def kepco(pairs, **kw):
    kw.setdefault("clock", VirtualClock())
    return expected_protocol(KepcoBOP, pairs, **kw)


def test_kepco_init_sends_nothing_and_takes_the_model_ratings():
    with kepco([], max_current=20, max_voltage=20) as k:
        assert k.max_current == 20.0
        assert k.limits_of("current") == (-20.0, 20.0, "A")
        assert k.limits_of("voltage") == (-20.0, 20.0, "V")
    with kepco([]) as k:                                  # pymeasure's BOP 36-12 by default
        assert k.limits_of("current") == (-12.0, 12.0, "A") and k.max_current == 12.0


def test_kepco_accepts_bench_terminations_without_clashing_with_pymeasure():
    with kepco([], read_termination="\r\n", write_termination="\n") as k:
        assert k.adapter.connection.read_termination == "\r\n"


@pytest.mark.parametrize("reply, amps", [("9.989E-2", 0.09989), ("-1.5E1", -15.0),
                                         ("0.0E0", 0.0)])
def test_kepco_current_setpoint_getter(reply, amps):
    with kepco([(b"CURRent?", reply)]) as k:
        assert k.current_setpoint == pytest.approx(amps)


def test_kepco_small_setpoint_change_is_one_write_paced_by_the_rate():
    clock = VirtualClock()
    with kepco([(b"CURRent?", b"1.0E0"), (b"CURRent 1.3", None),
                (b"CURRent?", b"1.3E0"), (b"CURRent 1.5", None)], clock=clock) as k:
        k.current_setpoint = 1.3                           # first write: nothing to wait for
        assert clock.now() == 0.0
        k.current_setpoint = 1.5                           # right after: 0.2 A at 1 A/s
    assert clock.now() == pytest.approx(0.2)


def test_kepco_pacing_survives_a_clock_swap():
    real_like = VirtualClock(start=1e6)
    virtual = VirtualClock()
    with kepco([(b"CURRent?", b"0"), (b"CURRent 0.5", None),
                (b"CURRent?", b"0.5"), (b"CURRent 1", None)], clock=real_like) as k:
        k.current_setpoint = 0.5
        k.configure_safety(clock=virtual)
        k.current_setpoint = 1.0                           # waits 0.5 s, not 1e6 s
    assert virtual.now() == pytest.approx(0.5)


def test_kepco_writes_paced_by_a_slower_caller_are_not_delayed():
    clock = VirtualClock()
    pairs = []
    for i in range(5):
        pairs += [(b"CURRent?", f"{0.1 * i:.4E}"), (f"CURRent {0.1 * (i + 1):g}".encode(), None)]
    with kepco(pairs, clock=clock) as k:
        for i in range(5):
            k.current_setpoint = 0.1 * (i + 1)
            clock.sleep(0.2)                               # the caller's own pace: 0.5 A/s
    assert clock.now() == pytest.approx(1.0)               # 5 × 0.2 s, no extra wait


@pytest.mark.parametrize("start, target, writes, t_end", [
    ("0.0E0", 2.0, ["0.5", "1", "1.5", "2"], 1.5),
    ("1.0E0", -1.0, ["0.5", "0", "-0.5", "-1"], 1.5),    # bipolar: straight through zero
    ("-1.2E0", 0.0, ["-0.8", "-0.4", "0"], 0.8),
])
def test_kepco_setpoint_ramps_within_the_slew_limit(start, target, writes, t_end):
    clock = VirtualClock()
    pairs = [(b"CURRent?", start)] + [(f"CURRent {w}".encode(), None) for w in writes]
    with kepco(pairs, clock=clock) as k:
        k.current_setpoint = target
    # the first step goes out at once, each later one |ΔI|/(1 A/s) after the one before
    assert clock.now() == pytest.approx(t_end)


def test_kepco_ramp_to_current_method_is_the_same_ramp():
    clock = VirtualClock()
    with kepco([(b"CURRent?", b"0"), (b"CURRent 0.5", None), (b"CURRent 1", None)],
               clock=clock) as k:
        k.ramp_to_current(1.0)
    assert clock.now() == pytest.approx(0.5)


@pytest.mark.parametrize("bad", [12.5, -13.0, math.nan])
def test_kepco_current_limit_is_checked_before_anything_is_sent(bad):
    with kepco([]) as k:                                   # not even the read-back query
        with pytest.raises(LimitError):
            k.current_setpoint = bad
        with pytest.raises(LimitError):
            k.ramp_to_current(bad)


def test_kepco_bench_limits_narrow_and_slew_is_configurable():
    clock = VirtualClock()
    with kepco([(b"CURRent?", b"0"), (b"CURRent 1", None), (b"CURRent 2", None)],
               clock=clock) as k:
        k.configure_safety(limits={"current": (-2.0, 2.0)},
                           slew={"current": SlewLimit(1.0, 4.0)})
        assert k.max_current == 2.0
        with pytest.raises(LimitError, match=r"KepcoBOP current = 2.5 A"):
            k.current_setpoint = 2.5
        k.current_setpoint = 2.0
        with pytest.raises(LimitError, match="must lie within the model's"):
            k.configure_safety(limits={"current": (-13.0, 13.0)})
    assert clock.now() == pytest.approx(0.25)              # second 1 A step 1/4 s after the first


@pytest.mark.parametrize("volts, sent", [(10, "10"), (-2.5, "-2.5"), (36, "36")])
def test_kepco_voltage_setpoint_is_checked_then_written(volts, sent):
    with kepco([(f"VOLTage {sent}".encode(), None)]) as k:
        k.voltage_setpoint = volts
    with kepco([(f"VOLTage {sent}".encode(), None)]) as k:
        k.compliance_voltage = volts


def test_kepco_voltage_limit_refuses_before_writing():
    with kepco([]) as k:
        with pytest.raises(LimitError, match="voltage"):
            k.compliance_voltage = 40


@pytest.mark.parametrize("reply, volts", [("1.000E-1", 0.1), ("-3.6E1", -36.0)])
def test_kepco_voltage_setpoint_getter(reply, volts):
    with kepco([(b"VOLTage?", reply)]) as k:
        assert k.voltage_setpoint == pytest.approx(volts)
        assert KepcoBOP.compliance_voltage is KepcoBOP.voltage_setpoint


@pytest.mark.parametrize("reply, state", [("0", False), ("1", True)])
def test_kepco_output_enabled_getter(reply, state):
    with kepco([(b"OUTPut?", reply)]) as k:
        assert k.output_enabled is state


def test_kepco_enable_starts_from_zero_current():
    with kepco([(b"OUTPut?", b"0"), (b"CURRent?", b"0.0E0"), (b"OUTPut 1", None)]) as k:
        k.output_enabled = True
    # a setpoint left on a disabled output is zeroed before the output goes on
    with kepco([(b"OUTPut?", b"0"), (b"CURRent?", b"5.0E0"), (b"CURRent 0", None),
                (b"OUTPut 1", None)]) as k:
        k.output_enabled = True
    # already on: nothing changes (no jump to zero under current)
    with kepco([(b"OUTPut?", b"1")]) as k:
        k.output_enabled = True


def test_kepco_disable_is_the_ramped_shutdown():
    clock = VirtualClock()
    with kepco([(b"CURRent?", b"1.0E0"), (b"CURRent 0.5", None), (b"CURRent 0", None),
                (b"MEASure:CURRent?", b"2.0E-3"), (b"OUTPut 0", None)], clock=clock) as k:
        k.output_enabled = False
    assert clock.now() == pytest.approx(1.0)


def test_kepco_shutdown_ramps_to_zero_then_turns_the_output_off():
    clock = VirtualClock()
    with kepco([(b"CURRent?", b"1.2E0"), (b"CURRent 0.8", None), (b"CURRent 0.4", None),
                (b"CURRent 0", None), (b"MEASure:CURRent?", b"-1.0E-3"),
                (b"OUTPut 0", None)], clock=clock) as k:
        k.shutdown()
        assert k.isShutdown
    assert clock.now() == pytest.approx(1.2)               # |ΔI| / 1 A/s


def test_kepco_shutdown_at_zero_writes_zero_once():
    clock = VirtualClock()
    with kepco([(b"CURRent?", b"0.0E0"), (b"CURRent 0", None),
                (b"MEASure:CURRent?", b"0.0E0"), (b"OUTPut 0", None)], clock=clock) as k:
        k.shutdown()
    assert clock.now() == 0.0


def test_kepco_shutdown_waits_for_the_coils_tail_before_switching_off():
    """The coil's L/R tail (0.3 A, then 0.1 A) is waited out, polled every ZERO_POLL_S, and
    the output goes off only at ≤ zero_current_tolerance (0.05 A)."""
    clock = VirtualClock()
    with kepco([(b"CURRent?", b"0.0E0"), (b"CURRent 0", None),
                (b"MEASure:CURRent?", b"3.0E-1"), (b"MEASure:CURRent?", b"1.0E-1"),
                (b"MEASure:CURRent?", b"4.0E-2"), (b"OUTPut 0", None)], clock=clock) as k:
        k.shutdown()
    assert clock.now() == pytest.approx(2 * KepcoBOP.ZERO_POLL_S)


def test_kepco_shutdown_switches_off_and_raises_if_the_coil_does_not_discharge():
    clock = VirtualClock()
    polls = int(KepcoBOP.zero_current_timeout / KepcoBOP.ZERO_POLL_S) + 1
    with kepco([(b"CURRent?", b"0.0E0"), (b"CURRent 0", None)]
               + [(b"MEASure:CURRent?", b"2.0E0")] * polls + [(b"OUTPut 0", None)],
               clock=clock) as k:
        with pytest.raises(RuntimeError, match=r"2 A still flow in the coil 30 s after"):
            k.shutdown()
    assert clock.now() == pytest.approx(KepcoBOP.zero_current_timeout)


def test_kepco_shutdown_turns_the_output_off_even_if_the_ramp_fails():
    with kepco([(b"CURRent?", b"garbage"), (b"OUTPut 0", None)]) as k:
        with pytest.raises(ValueError):
            k.shutdown()


@pytest.mark.parametrize("reply, amps", [("4.99E-3", 0.00499), ("-1.0E1", -10.0)])
def test_kepco_measure_current(reply, amps):
    with kepco([(b"MEASure:CURRent?", reply)]) as k:
        assert k.measure_current() == pytest.approx(amps)


def test_kepco_measure_voltage():
    with kepco([(b"MEASure:VOLTage?", b"-8.0E-3")]) as k:
        assert k.measure_voltage() == pytest.approx(-0.008)


def test_kepco_operating_mode_is_pymeasures():
    with kepco([(b"FUNCtion:MODE CURR", None), (b"FUNCtion:MODE?", b"1")]) as k:
        k.operating_mode = "CURR"
        assert k.operating_mode == "CURR"


def test_kepco_full_self_test_is_refused_on_a_magnet():
    with kepco([]) as k:                                   # DIAG:TST? never sent
        with pytest.raises(NotImplementedError, match="maximum"):
            _ = k.bop_test


def test_kepco_interface_self_test_is_pymeasures():
    with kepco([(b"*TST?", b"0")]) as k:
        assert k.confidence_test == 0


# --- Danfysik 8500 ----------------------------------------------------------------------------
def danfysik(pairs, **kw):
    kw.setdefault("clock", VirtualClock())
    return expected_protocol(Danfysik8500, DANFYSIK_INIT + pairs, **kw)


def test_danfysik_init_is_pymeasures_and_takes_the_full_scale():
    with danfysik([], max_current=100) as d:
        assert d.max_current == 100.0 and d.full_scale_current == 100.0
        assert d.limits_of("current") == (-100.0, 100.0, "A")


def test_danfysik_accepts_bench_timeout_and_terminations():
    with danfysik([], timeout=5000, read_termination="\r") as d:
        assert d.adapter.connection.timeout == 5000


@pytest.mark.parametrize("da, po, amps", [("0,500000", "+", 80.0), ("DA 0,500000", "-", -80.0),
                                          ("62500", "+", 10.0), ("0,0", "-", 0.0)])
def test_danfysik_current_setpoint_getter_is_signed(da, po, amps):
    with danfysik([(b"DA 0", da), (b"PO", po)]) as d:
        assert d.current_setpoint == pytest.approx(amps)


@pytest.mark.parametrize("po, sign", [("+", 1), ("-", -1)])
def test_danfysik_polarity_getter(po, sign):
    with danfysik([(b"PO", po)]) as d:
        assert d.polarity == sign


def test_danfysik_same_polarity_ramp_writes_ppm_of_full_scale():
    clock = VirtualClock()
    with danfysik([(b"DA 0", b"0,62500"), (b"PO", b"+"),
                   (b"DA 0,65625", None), (b"DA 0,68750", None)], clock=clock) as d:
        d.current_setpoint = 11.0                          # 10 A → 11 A in 0.5 A steps
    assert clock.now() == pytest.approx(0.5)


def test_danfysik_negative_setpoint_on_negative_polarity_writes_the_magnitude():
    clock = VirtualClock()
    with danfysik([(b"DA 0", b"0,3125"), (b"PO", b"-"), (b"DA 0,6250", None)],
                  clock=clock) as d:
        d.ramp_to_current(-1.0)
    assert clock.now() == 0.0


def test_danfysik_sign_change_ramps_to_zero_checks_the_current_then_switches():
    clock = VirtualClock()
    with danfysik([(b"DA 0", b"0,3125"), (b"PO", b"+"),        # +0.5 A
                   (b"DA 0,0", None),                           # ramp down
                   (b"AD 8", b"0"),                             # |I| = 0 A measured
                   (b"PO -", None), (b"PO", b"-"),              # switch, read back
                   (b"DA 0,3125", None)], clock=clock) as d:    # ramp up to -0.5 A
        d.current_setpoint = -0.5
    assert clock.now() == pytest.approx(0.5)      # the 0.5 A step down settles before AD 8


def test_danfysik_waits_for_the_current_to_decay_before_switching():
    clock = VirtualClock()
    with danfysik([(b"DA 0", b"0,0"), (b"PO", b"-"), (b"DA 0,0", None),
                   (b"AD 8", b"20"), (b"AD 8", b"3"),           # 0.2 A, then 0.03 A
                   (b"PO +", None), (b"PO", b"+"), (b"DA 0,3125", None)], clock=clock) as d:
        d.current_setpoint = 0.5
    assert clock.now() == pytest.approx(Danfysik8500.ZERO_POLL_S)


def test_danfysik_refuses_to_switch_while_current_flows():
    clock = VirtualClock()
    with danfysik([(b"DA 0", b"0,3125"), (b"PO", b"+"), (b"DA 0,0", None),
                   (b"AD 8", b"50"), (b"AD 8", b"50"), (b"AD 8", b"50")],
                  clock=clock, zero_current_timeout=1.0) as d:
        with pytest.raises(PolaritySwitchError, match=r"still 0.5 A after 1 s"):
            d.current_setpoint = -0.5                          # no "PO -", no ramp up


def test_danfysik_stops_if_the_relay_did_not_switch():
    with danfysik([(b"DA 0", b"0,0"), (b"PO", b"+"), (b"DA 0,0", None), (b"AD 8", b"0"),
                   (b"PO -", None), (b"PO", b"+")]) as d:
        with pytest.raises(PolaritySwitchError, match="did not switch"):
            d.current_setpoint = -1.0                          # nothing ramped up


@pytest.mark.parametrize("bad", [160.5, -200.0, math.inf])
def test_danfysik_limit_is_checked_before_anything_is_sent(bad):
    with danfysik([]) as d:
        with pytest.raises(LimitError):
            d.current_setpoint = bad


def test_danfysik_polarity_setter_is_safe():
    # same polarity: nothing written
    with danfysik([(b"PO", b"+")]) as d:
        d.polarity = 1
    # nonzero setpoint: refused without writing
    with danfysik([(b"PO", b"+"), (b"DA 0", b"0,3125")]) as d:
        with pytest.raises(PolaritySwitchError, match="ramp the current to 0 A"):
            d.polarity = -1
    # zero setpoint and zero current: switched and read back
    with danfysik([(b"PO", b"+"), (b"DA 0", b"0,0"), (b"AD 8", b"1"),
                   (b"PO -", None), (b"PO", b"-")]) as d:
        d.polarity = -1


@pytest.mark.parametrize("ad, po, amps", [("512", "-", -5.12), ("1600", "+", 16.0)])
def test_danfysik_measure_current_is_signed(ad, po, amps):
    with danfysik([(b"AD 8", ad), (b"PO", po)]) as d:
        assert d.measure_current() == pytest.approx(amps)


@pytest.mark.parametrize("s1h, state", [("000000", True), ("800000", False), ("800002", False),
                                        ("000002", True)])
def test_danfysik_output_enabled_getter(s1h, state):
    with danfysik([(b"S1H", s1h)]) as d:
        assert d.output_enabled is state


def test_danfysik_enable_starts_from_zero_current():
    with danfysik([(b"S1H", b"800000"), (b"DA 0", b"0,0"), (b"N", None)]) as d:
        d.output_enabled = True
    with danfysik([(b"S1H", b"800000"), (b"DA 0", b"0,3125"), (b"DA 0,0", None),
                   (b"N", None)]) as d:
        d.output_enabled = True
    with danfysik([(b"S1H", b"000000")]) as d:            # already on: no change
        d.output_enabled = True


def test_danfysik_shutdown_ramps_to_zero_then_main_power_off():
    clock = VirtualClock()
    with danfysik([(b"DA 0", b"0,6250"), (b"PO", b"-"),        # -1 A
                   (b"DA 0,3125", None), (b"DA 0,0", None), (b"AD 8", b"1"), (b"F", None)],
                  clock=clock) as d:
        d.shutdown()
    assert clock.now() == pytest.approx(1.0)


def test_danfysik_disable_is_the_ramped_shutdown():
    with danfysik([(b"DA 0", b"0,0"), (b"PO", b"+"), (b"DA 0,0", None), (b"AD 8", b"0"),
                   (b"F", None)]) as d:
        d.output_enabled = False


def test_danfysik_shutdown_turns_main_power_off_even_if_the_ramp_fails():
    with danfysik([(b"DA 0", b"?\x07 Illegal command"), (b"F", None)]) as d:
        with pytest.raises(DanfysikError, match="Illegal command"):
            d.shutdown()


def test_danfysik_current_property_measures_and_ramps():
    with danfysik([(b"AD 8", b"100"), (b"PO", b"+"),
                   (b"DA 0", b"0,0"), (b"PO", b"+"), (b"DA 0,3125", None)]) as d:
        assert d.current == pytest.approx(1.0)
        d.current = 0.5
    with danfysik([]) as d:
        with pytest.raises(LimitError):
            d.current = 161


def test_danfysik_current_ppm_is_read_only():
    with danfysik([(b"DA 0", b"0,123456")]) as d:
        assert d.current_ppm == 123456
        with pytest.raises(AttributeError):
            d.current_ppm = 1000


@pytest.mark.parametrize("method, args", [
    ("add_ramp_step", (10.0,)), ("set_ramp_to_current", (10.0, 5)), ("start_ramp", ()),
    ("set_sequence", (0, [0, 10], [1])), ("sync_sequence", (0,)), ("start_sequence", (0,))])
def test_danfysik_hardware_ramps_and_sequences_are_refused(method, args):
    with danfysik([]) as d:                               # nothing sent
        with pytest.raises(NotImplementedError, match="bypass labspin's limits"):
            getattr(d, method)(*args)


@pytest.mark.parametrize("command", ["stop_ramp", "stop_sequence", "clear_ramp_set"])
def test_danfysik_stopping_the_supplys_own_ramps_stays_available(command):
    sent = {"stop_ramp": [(b"RAMP S", b"")], "stop_sequence": [(b"STOP", None)],
            "clear_ramp_set": [(b"RAMPSET C", None)]}[command]
    with danfysik(sent) as d:
        getattr(d, command)()
