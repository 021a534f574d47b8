"""Every sourcing driver ramps from the setpoint it last wrote and keeps its session in step
(issue 13 item 2): the 6221 current source, the RF sources, the lock-in sine output and the
pulse generator, like the source meters and magnet supplies (tests/test_ramp_start.py).

A wrong (stale, one-behind) readback is reported and never used to jump; after a failed
exchange (a timed-out read, a garbled reply) the next query first resynchronises the session
(``*ESE n;*ESE?`` until n comes back). Exchanges are pymeasure's expected_protocol; time is
virtual."""
import pytest
from pymeasure.test import expected_protocol

from labspin.bench.clock import VirtualClock
from labspin.drivers.keithley import Keithley6221
from labspin.drivers.magnet_supplies import KepcoBOP
from labspin.drivers.pulse_generators import Picosecond10070A
from labspin.drivers.rf_sources import SMB100A
from labspin.drivers.srs import SR830

NO_REPLY = "read without prior write"
"""What pymeasure's protocol adapter raises for a read no reply answers (a timeout here)."""


def test_6221_ramps_down_from_its_last_write_despite_a_one_behind_reply(caplog):
    """0.2 mA written; the readback then answers 0 (the reply of an earlier query): a ramp
    from 0 would write 0 at once. It steps 0.1 mA, 0 at 1 mA/s from 0.2 mA instead."""
    clock = VirtualClock()
    pairs = [(":SOUR:CURR?", "+0.000000E+00"), (":SOUR:CURR 0.0001", None),
             (":SOUR:CURR 0.0002", None),
             (":SOUR:CURR?", "+0.000000E+00"),          # one behind
             (":SOUR:CURR 0.0001", None), (":SOUR:CURR 0", None)]
    with expected_protocol(Keithley6221, pairs, clock=clock) as d:
        d.ramp_to_current(2e-4)
        d.ramp_to_current(0.0)
    assert clock.now() == pytest.approx(0.4)
    assert "reads back 0 A, not the 0.0002 A last written; ramping from 0.0002 A" in caplog.text


def test_rf_shutdown_ramps_down_from_the_power_last_written(caplog):
    """−5 dBm written, the readback says −20 dBm: the ramp still goes down in 1 dB steps from
    −5 dBm (15 writes, 1.5 s at 10 dB/s), then the RF goes off."""
    clock = VirtualClock()
    pairs = [("SOUR:POW -5.00 DBM", None), ("SOUR:POW?", "-20")]
    pairs += [(f"SOUR:POW {p:.2f} DBM", None) for p in range(-6, -21, -1)] + [("OUTP 0", None)]
    with expected_protocol(SMB100A, pairs, clock=clock) as rf:
        rf.power = -5
        assert rf.ramp_down_plan() == [("power", -5.0, -20.0, "dBm", pytest.approx(1.5))]
        rf.shutdown()
    assert clock.now() == pytest.approx(1.5)
    assert "reads back -20 dBm, not the -5 dBm last written" in caplog.text


def test_rf_readback_within_its_0_01_dB_resolution_agrees(caplog):
    clock = VirtualClock()
    pairs = [("SOUR:POW -19.00 DBM", None), ("SOUR:POW?", "-19.004"),
             ("SOUR:POW -20.00 DBM", None), ("OUTP 0", None)]
    with expected_protocol(SMB100A, pairs, clock=clock) as rf:
        rf.power = -19
        rf.shutdown()
    assert "reads back" not in caplog.text


def test_lock_in_sine_ramps_from_its_last_write_and_tolerates_its_2_mV_steps(caplog):
    """SR830 SLVL is stored in 2 mV steps: 0.104 V reading back as 0.105 V agrees; a reply
    of 1.0 V does not, and the ramp down still starts at the 0.054 V last written."""
    clock = VirtualClock()
    pairs = [("SLVL?", "0.004"), ("SLVL0.054", None), ("SLVL0.104", None),
             ("SLVL?", "0.105"), ("SLVL0.054", None),
             ("SLVL?", "1.000"), ("SLVL0.004", None)]
    with expected_protocol(SR830, pairs, clock=clock) as li:
        li.ramp_to_sine_amplitude(0.104)
        li.ramp_to_sine_amplitude(0.054)
        assert "reads back" not in caplog.text
        li.shutdown()
    assert "sine_amplitude: setpoint reads back 1 V, not the 0.054 V last written" in caplog.text
    assert clock.now() == pytest.approx((0.1 + 0.05 + 0.05) / 0.5)


def test_pulse_generator_offset_ramps_to_zero_from_its_last_write(caplog):
    clock = VirtualClock()
    pairs = [("header OFF", None), ("offset 0.2", None),
             ("amplitude?", "0.075"),                   # the level is already the smallest
             ("offset?", "OFFSET 0.000E+0"),            # wrong: 0.2 V was written
             ("offset 0.1", None), ("offset 0", None), ("disable", None)]
    with expected_protocol(Picosecond10070A, pairs, clock=clock) as p:
        p.header_enabled = False
        p.offset = 0.2
        p.shutdown()
    assert "offset: setpoint reads back 0 V, not the 0.2 V last written" in caplog.text
    assert clock.now() == pytest.approx(0.2 / 1.0)      # 0.1 V per write, 1 V/s


def test_a_timed_out_query_is_followed_by_a_resync_before_the_next_query(caplog):
    """The reply to MEASure:CURRent? does not come in time; the next query would read it one
    behind. The driver first sends *ESE 2;*ESE?, discards the late 1.5E0 and goes on once 2
    comes back; a command without a reply is not held up."""
    pairs = [(b"MEASure:CURRent?", None),               # the read times out
             (b"OUTPut 1", None),                       # a write goes at once
             (b"*ESE 2;*ESE?", b"1.5E0"), (None, b"2"), (b"*ESE 0", None),
             (b"MEASure:CURRent?", b"1.0E0")]
    with expected_protocol(KepcoBOP, pairs, clock=VirtualClock()) as k:
        with pytest.raises(AssertionError, match=NO_REPLY):
            k.measure_current()
        k.write("OUTPut 1")
        assert k.measure_current() == 1.0
    assert "discarded the stale reply '1.5E0'" in caplog.text


def test_a_silent_instrument_is_not_resynchronised_at_every_query(caplog):
    """After a resync found no answer, queries go straight (each would wait a timeout
    otherwise) until the instrument answers again."""
    pairs = [(b"MEASure:CURRent?", None), (b"*ESE 2;*ESE?", None),
             (b"MEASure:CURRent?", None), (b"MEASure:CURRent?", b"0.0E0")]
    with expected_protocol(KepcoBOP, pairs, clock=VirtualClock()) as k:
        for _ in range(2):
            with pytest.raises(AssertionError, match=NO_REPLY):
                k.measure_current()
        assert k.measure_current() == 0.0
    assert caplog.text.count("could not resynchronise") == 1
