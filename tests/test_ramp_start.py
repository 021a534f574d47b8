"""Ramps start from the setpoint the driver last wrote (issue 13 items 2–3): a stale
(one-behind) or wrong setpoint reply is reported and never used to jump; a supply whose
readback fails is still ramped down blind, step by step at the slew limit, then switched off.
The command/reply exchanges are pymeasure's expected_protocol; time is virtual."""
import logging

import pytest
from pymeasure.test import expected_protocol

from labspin.bench.clock import VirtualClock
from labspin.bench.safety import LimitError
from labspin.drivers.keithley import Keithley2400
from labspin.drivers.magnet_supplies import Danfysik8500, KepcoBOP

K2400_INIT = [(":FORMAT:ELEMENTS VOLTAGE, CURRENT, RESISTANCE, TIME, STATUS", None)]
# Kepco BOP, slew 0.5 A per write at 1 A/s: from 1.0 A the ramp to 0 is 0.5 A, 0 A (1 s)
KEPCO_UP = [(b"CURRent?", b"0.0E0"), (b"CURRent 0.5", None), (b"CURRent 1", None)]
KEPCO_DOWN = [(b"CURRent 0.5", None), (b"CURRent 0", None), (b"MEASure:CURRent?", b"1.0E-3"),
              (b"OUTPut 0", None)]


def _kepco(pairs, clock):
    return expected_protocol(KepcoBOP, pairs, clock=clock)


def test_an_agreeing_readback_ramps_from_the_last_write_without_a_report(caplog):
    clock = VirtualClock()
    with _kepco(KEPCO_UP + [(b"CURRent?", b"1.0E0")] + KEPCO_DOWN, clock) as k:
        k.ramp_to_current(1.0)
        k.shutdown()
    assert clock.now() == pytest.approx(2.0)            # 1 A up and 1 A down at 1 A/s
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_one_behind_reply_is_reported_and_not_used_to_jump(caplog):
    """The reply read is the previous query's 0 A: ramping from it would write 0 A at once
    (a 1 A step against the 0.5 A slew limit); the ramp starts from the 1 A last written."""
    clock = VirtualClock()
    with _kepco(KEPCO_UP + [(b"CURRent?", b"0.0E0")] + KEPCO_DOWN, clock) as k:
        k.ramp_to_current(1.0)
        k.shutdown()
    assert "setpoint reads back 0 A, not the 1 A last written; ramping from 1 A" in caplog.text


def test_a_supply_that_does_not_answer_is_ramped_down_blind_then_switched_off(caplog):
    clock = VirtualClock()
    resync = [(b"*ESE 2;*ESE?", b"2"), (b"*ESE 0", None)]   # garbled: in step before a query
    down = KEPCO_DOWN[:2] + resync + KEPCO_DOWN[2:]
    with _kepco(KEPCO_UP + [(b"CURRent?", b"+1.0E0,garbled")] + down, clock) as k:
        k.ramp_to_current(1.0)
        k.shutdown()
    assert clock.now() == pytest.approx(2.0)            # the blind ramp keeps the slew rate
    assert "setpoint readback failed (ValueError" in caplog.text
    assert "ramping blind from the last written 1 A" in caplog.text


def test_before_any_write_an_unreadable_setpoint_is_an_error_and_only_the_output_goes_off():
    with _kepco([(b"CURRent?", b"garbled"), (b"OUTPut 0", None)], VirtualClock()) as k:
        with pytest.raises(ValueError):
            k.shutdown()


def test_a_source_meter_ramps_down_from_its_last_write_despite_a_wrong_reply(caplog):
    clock = VirtualClock()
    pairs = K2400_INIT + [(":SOURCE:CURRENT?", "+0.000000E+00")]
    pairs += [(f":SOURCE:CURRENT {v}", None) for v in ("0.0001", "0.0002")]
    pairs += [(":SOURCE:CURRENT?", "+5.000000E-04")]        # not what was written
    pairs += [(f":SOURCE:CURRENT {v}", None) for v in ("0.0001", "0")]
    with expected_protocol(Keithley2400, pairs, clock=clock) as d:
        d.ramp_to_current(2e-4)
        d.ramp_to_current(0.0)
    assert clock.now() == pytest.approx(0.4)            # 0.2 mA up, 0.2 mA down at 1 mA/s
    assert "reads back 0.0005 A, not the 0.0002 A last written" in caplog.text


def test_a_danfysik_that_stops_answering_is_ramped_down_blind_on_its_polarity(caplog):
    """160 A full scale: 0.5 A = 3125 ppm. The supply took −1 A (negative relay); then its
    setpoint reply is garbled: the magnitude is ramped down from 1 A without asking again."""
    clock = VirtualClock()
    pairs = [(b"ERRT", None), (b"UNLOCK", None), (b"DA 0", b"0,3125"), (b"PO", b"-"),
             (b"DA 0,6250", None),                                   # −0.5 A → −1 A
             (b"DA 0", b"garbled"), (b"DA 0,3125", None), (b"DA 0,0", None),
             (b"AD 8", b"0"), (b"F", None)]
    with expected_protocol(Danfysik8500, pairs, clock=clock) as d:
        d.ramp_to_current(-1.0)
        d.shutdown()
    assert clock.now() == pytest.approx(1.5)            # 0.5 A up, 1 A down at 1 A/s
    assert "ramping blind from the last written -1 A" in caplog.text


def test_resync_discards_a_stale_reply_until_its_known_answer_comes_back(caplog):
    """The reply to an interrupted CURRent? is still pending: it is read and discarded, and
    only the unique *ESE answer puts the session back in step."""
    with _kepco([(b"*ESE 2;*ESE?", b"2.0E0"), (None, b"1"), (None, b"+2"), (b"*ESE 0", None),
                 (b"*ESE 3;*ESE?", b"3"), (b"*ESE 0", None)], VirtualClock()) as k:
        assert k.resync() is True
        assert k.resync() is True                         # a new token each time
    assert "discarded the stale reply '2.0E0'" in caplog.text
    assert "discarded the stale reply '1'" in caplog.text


def test_resync_of_a_silent_session_says_so_and_does_not_raise(caplog):
    with _kepco([(b"*ESE 2;*ESE?", None)], VirtualClock()) as k:
        assert k.resync() is False
    assert "could not resynchronise the session" in caplog.text


def test_resync_of_a_danfysik_only_discards_pending_input():
    with expected_protocol(Danfysik8500, [(b"ERRT", None), (b"UNLOCK", None)]) as d:
        assert d.resync() is True


def test_limits_are_only_ever_narrowed_after_the_bench_config_set_them():
    """Issue 13 item 6: one configure_safety call let a supply jump 0 → 10 A; now a caller
    can narrow the limits in force, never widen them back toward the model's range."""
    with _kepco([], VirtualClock()) as k:
        k.configure_safety(limits={"current": (-2.0, 2.0)})          # the bench config
        with pytest.raises(LimitError, match=r"within the limits in force \[-2, 2\] A"):
            k.configure_safety(limits={"current": (-10.0, 10.0)})
        assert k.limits_of("current") == (-2.0, 2.0, "A")
        k.configure_safety(limits={"current": (-1.0, 1.0)})
        assert k.limits_of("current") == (-1.0, 1.0, "A")
