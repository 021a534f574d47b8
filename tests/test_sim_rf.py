"""Simulated RF sources (E8257D, N5183B, SMB100A): our drivers and pymeasure's Agilent8257D
in-process, the N5183B over a loopback socket; the bench sees RF on/off, AM and the LF
reference."""
import uuid
import warnings
from contextlib import contextmanager

import pytest
import pyvisa
from pymeasure.instruments.agilent import Agilent8257D

from labspin.drivers.base import OutputNotFollowingError
from labspin.drivers.rf_sources import E8257D, N5183B, SMB100A
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.sim_rf import TWINS, E8257DTwin, N5183BTwin, SMB100ATwin
from labspin.sim_backend.virtual_bench import VirtualBench

MODELS = [(E8257DTwin, E8257D), (N5183BTwin, N5183B), (SMB100ATwin, SMB100A)]


@pytest.fixture
def bench():
    return VirtualBench(load_sample("inplane_sot_hallbar"), seed=0)


def _open(twin_cls, driver_cls, bench):
    twin = twin_cls(bench, "rf")
    name = f"TCPIP0::rf-{uuid.uuid4().hex[:8]}::inst0::INSTR"
    key = bench.resources.register(name, twin)
    driver = driver_cls(key, visa_library=bench.visa_library, clock=bench.clock)
    return twin, driver, key


@pytest.fixture
def opened(request, bench):
    made = []

    def make(twin_cls, driver_cls):
        twin, driver, key = _open(twin_cls, driver_cls, bench)
        made.append(key)
        return twin, driver

    yield make
    for key in made:
        bench.resources.unregister(key)


def errors(twin):
    out = []
    while twin.errors:
        out.append(int(twin.next_error().split(",")[0]))
    return out


def test_twins_table_uses_the_driver_registry_keys():
    from labspin.bench import registry as drivers
    for key, cls in TWINS.items():
        assert drivers.driver_class(key).__name__ == cls.__name__.removesuffix("Twin")


@pytest.mark.parametrize("twin_cls, driver_cls", MODELS)
def test_driver_drives_the_bench_through_the_twin(opened, bench, twin_cls, driver_cls):
    twin, rf = opened(twin_cls, driver_cls)
    assert rf.id == twin.idn
    assert rf.output_enabled is False and "rf" not in bench.drives.rf
    rf.frequency = 8e9
    rf.power = -5
    assert (rf.frequency, rf.power) == (8e9, -5.0)
    rf.configure_am_reference(1713.0, depth=80.0, lf_amplitude=1.5)
    assert bench.reference_frequency("rf") == 1713.0           # LF out -> lock-in reference
    assert "rf" not in bench.drives.rf                          # RF still off
    rf.output_enabled = True
    drive = bench.drives.rf["rf"]
    assert (drive.frequency_Hz, drive.power_dBm) == (8e9, -5.0)
    assert (drive.am_depth, drive.am_frequency_Hz) == (pytest.approx(0.8), 1713.0)
    rf.am_enabled = False                                       # carrier without AM
    assert bench.drives.rf["rf"].am_depth == 0.0
    rf.am_enabled = True
    rf.lf_output_enabled = False
    assert bench.reference_frequency("rf") is None
    assert rf.check_errors() == []
    # the ramped shutdown: 1 dB steps in virtual time, then RF off, seen in output_log
    t0 = bench.clock.now()
    rf.shutdown()
    powers = [v for _, n, v in twin.output_log if n == "power"]
    assert powers[-15:] == [float(p) for p in range(-6, -21, -1)]
    assert bench.clock.now() - t0 == pytest.approx(15 / 10.0)   # 15 dB at 10 dB/s
    assert "rf" not in bench.drives.rf and twin.output("rf_on") is False


@pytest.mark.parametrize("twin_cls", [E8257DTwin, N5183BTwin, SMB100ATwin])
def test_error_queue_out_of_range_power_and_bad_commands(bench, twin_cls):
    twin = twin_cls(bench, "rf")
    low, high = twin_cls.POWER_RANGE
    sour = ":SOUR" if twin_cls is not SMB100ATwin else "SOUR"
    twin.handle(f"{sour}:POW {high - 1} DBM")
    twin.handle(f"{sour}:POW {high + 1} DBM")
    assert float(twin.handle(f"{sour}:POW?")) == high - 1       # unchanged
    twin.handle(f"{sour}:POW {low - 1}")
    twin.handle(f"{sour}:FREQ 1 THZ")                             # unknown unit
    twin.handle(f"{sour}:FREQ 99 GHz")
    twin.handle(":SOUR:POWR 0")
    twin.handle(f"{sour}:AM:DEPT 120")
    assert errors(twin) == [-222, -222, -131, -222, -113, -222]
    assert twin.handle("SYST:ERR?") == '0,"No error"'


def test_units_and_reset(bench):
    twin = E8257DTwin(bench, "rf")
    twin.handle(":FREQ 2.5 GHz;:POW -3.5 dBm;:OUTP ON;:lfo:ampl 2.0vp;:lfo:stat on")
    assert twin.handle(":FREQ?") == "+2.500000000000E+009"
    assert twin.handle(":POW?") == "-3.50000000E+000"
    assert twin.handle(":SOUR:LFO:AMPL?") == "+2.00000000E+000"
    assert bench.drives.rf["rf"].power_dBm == -3.5
    assert bench.reference_frequency("rf") == 400.0              # internal AM rate
    twin.handle("*RST")
    assert "rf" not in bench.drives.rf and bench.reference_frequency("rf") is None
    assert float(twin.handle(":FREQ?")) == 67e9 and float(twin.handle(":POW?")) == -20.0
    assert twin.handle(":OUTP?;:OUTP:MOD?;:AM:STAT?") == "0;1;0"


def test_scpi_suffixes_follow_ieee_488_2_from_the_unit_table(bench):
    """Suffixes are case-insensitive: "M" is milli ("MV"), mega is "MA", but "MHZ" is
    megahertz; the multipliers come from labspin.results.units."""
    from labspin.sim_backend.scpi import FREQ_UNITS, TIME_UNITS, VOLT_UNITS, scpi_suffixes
    assert FREQ_UNITS == {"HZ": 1.0, "KHZ": 1e3, "MHZ": 1e6, "MAHZ": 1e6, "GHZ": 1e9}
    assert VOLT_UNITS == {"V": 1.0, "MV": 1e-3, "UV": 1e-6, "VP": 1.0, "MVP": 1e-3}
    assert TIME_UNITS == {"S": 1.0, "MS": 1e-3, "US": 1e-6, "NS": 1e-9}
    with pytest.raises(ValueError, match="'MHZ' means mega"):
        scpi_suffixes("Hz", "m")
    twin = E8257DTwin(bench, "rf")
    twin.handle(":FREQ 250 mhz;:LFO:AMPL 500 mvp")
    assert float(twin.handle(":FREQ?")) == 250e6
    assert float(twin.handle(":SOUR:LFO:AMPL?")) == 0.5


def test_modulation_master_switch_and_am_source(bench):
    twin = N5183BTwin(bench, "rf")
    twin.handle(":FREQ 5 GHz;:POW 0;:AM:DEPT 50;:AM:INT:FREQ 1 kHz;:AM:STAT ON;:OUTP ON")
    assert bench.drives.rf["rf"].am_depth == 0.5
    twin.handle(":OUTP:MOD OFF")
    assert bench.drives.rf["rf"].am_depth == 0.0
    twin.handle(":OUTP:MOD ON;:AM:SOUR EXT")                     # external: no known rate
    assert bench.drives.rf["rf"].am_depth == 0.0
    twin.handle(":AM:SOUR INT;:LFO:SOUR FUNC;:LFO:FUNC:FREQ 777;:LFO:STAT ON")
    assert bench.drives.rf["rf"].am_frequency_Hz == 1e3
    assert bench.reference_frequency("rf") == 777.0
    assert errors(twin) == []


def test_stuck_output_keeps_the_bench_at_the_old_power(bench):
    twin = SMB100ATwin(bench, "rf")
    twin.handle("SOUR:FREQ 3e9;SOUR:POW -10;OUTP 1")
    twin.inject("stuck_output", on="power")
    twin.handle("SOUR:POW 5")
    assert float(twin.handle("SOUR:POW?")) == 5.0                # setpoint echoed
    assert bench.drives.rf["rf"].power_dBm == -10.0              # physical output stuck
    twin.handle("SOUR:POW 6")
    assert bench.drives.rf["rf"].power_dBm == 6.0


def test_smb100a_am_rate_is_the_lf_generator(opened, bench):
    twin, rf = opened(SMB100ATwin, SMB100A)
    rf.frequency, rf.power = 2e9, -20
    rf.configure_am_reference(333.0, depth=40.0, lf_amplitude=2.0)
    rf.output_enabled = True
    drive = bench.drives.rf["rf"]
    assert (drive.am_depth, drive.am_frequency_Hz) == (pytest.approx(0.4), 333.0)
    assert bench.reference_frequency("rf") == 333.0
    assert (rf.am_frequency, rf.lf_output_amplitude, rf.am_depth) == (333.0, 2.0, 40.0)
    twin.handle("SOUR:MOD:STAT OFF")
    assert bench.drives.rf["rf"].am_depth == 0.0


def test_pymeasure_agilent8257d_against_the_e8257d_twin(bench):
    twin = E8257DTwin(bench, "rf")
    with twin.bench.resources.registered({"GPIB0::19::INSTR": twin}) as names:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            psg = Agilent8257D(names["GPIB0::19::INSTR"],
                               visa_library=twin.bench.visa_library)
        assert psg.id == twin.idn
        psg.frequency = 9.5e9                                    # ":FREQ %e Hz;"
        psg.power = -7                                           # ":POW %g dBm;"
        assert (psg.frequency, psg.power) == (9.5e9, -7.0)
        psg.config_amplitude_modulation(frequency=2e3, depth=60.0, shape="triangle")
        psg.enable_modulation()                                  # also the LF output, 2 Vp
        psg.enable()
        drive = bench.drives.rf["rf"]
        assert (drive.frequency_Hz, drive.power_dBm, drive.am_depth) == (9.5e9, -7.0, 0.6)
        assert drive.am_frequency_Hz == 2e3 and bench.reference_frequency("rf") == 2e3
        assert psg.has_amplitude_modulation and psg.internal_shape == "triangle"
        assert (psg.amplitude_source, psg.low_freq_out_amplitude) == ("internal", 2.0)
        psg.config_step_sweep()
        psg.start_frequency, psg.stop_frequency, psg.step_points = 1e9, 2e9, 11
        assert (psg.start_frequency, psg.step_points) == (1e9, 11)
        assert psg.check_errors() == []
        psg.shutdown()
        assert "rf" not in bench.drives.rf and bench.reference_frequency("rf") is None
        psg.write(":POW 40 dBm")
        assert [int(code) for code, _ in psg.check_errors()] == [-222]


@contextmanager
def served_n5183b(bench):
    """Get (twin, driver) for an N5183B twin served on a loopback socket, closed after."""
    twin = N5183BTwin(bench, "rf")
    with serve({"rf": twin}) as server:
        rf = N5183B(server.resources["rf"], visa_library="@py", clock=bench.clock,
                    read_termination="\n", write_termination="\n", timeout=2000)
        try:
            yield twin, rf
        finally:
            rf.adapter.close()
    pyvisa.ResourceManager("@py").close()


def test_n5183b_over_a_loopback_socket(bench):
    with served_n5183b(bench) as (twin, rf):
        assert rf.id == twin.idn
        rf.frequency, rf.power = 12e9, 3.0
        rf.configure_am_reference(5e3, depth=100.0)
        rf.output_enabled = True
        assert rf.ask("*OPC?").strip() == "1"                # writes are asynchronous
        assert bench.drives.rf["rf"].power_dBm == 3.0
        assert bench.drives.rf["rf"].am_depth == 1.0
        rf.write(":SOUR:POW 25 DBM")                          # above +19 dBm
        assert [int(c) for c, _ in rf.check_errors()] == [-222]
        rf.shutdown()
        assert rf.ask("*OPC?").strip() == "1"
        assert "rf" not in bench.drives.rf


# --- the ALC: stuck and unlevelled outputs, reported as the real sources do (issue 13) ------

KEYSIGHT_TWINS = [(E8257DTwin, E8257D), (N5183BTwin, N5183B)]


@pytest.mark.parametrize("twin_cls", [E8257DTwin, N5183BTwin])
def test_keysight_questionable_power_bit_1_reports_an_unlevelled_output(bench, twin_cls):
    twin = twin_cls(bench, "rf")
    status = ":STAT:QUES:POW:COND?;:STAT:QUES:COND?"
    twin.handle(":FREQ 5 GHz;:POW 10 DBM")
    assert twin.handle(status) == "0;0"                          # RF off: nothing to level
    twin.handle(":OUTP 1")
    assert twin.handle(status) == "0;0" and bench.drives.rf["rf"].power_dBm == 10.0
    twin.unlevel(4.0)                                            # the ALC tops out at +4 dBm
    assert twin.handle(status) == "2;8"                          # bit 1, summary bit 3
    assert twin.handle(":POW?") == "+1.00000000E+001"            # POW? is the power set
    assert bench.drives.rf["rf"].power_dBm == 4.0                # the sample gets what leaves
    twin.handle(":POW 3.99 DBM")
    assert twin.handle(status) == "0;0"                          # levelled again below the cap
    twin.unlevel(None)
    twin.inject("stuck_output", on="power", count=None)         # a hung level DAC
    twin.handle(":POW 5 DBM")
    assert twin.handle(status) == "2;8" and bench.drives.rf["rf"].power_dBm == 3.99
    twin.handle(":OUTP 0")
    assert twin.handle(status) == "0;0" and "rf" not in bench.drives.rf


@pytest.mark.parametrize("twin_cls, driver_cls", KEYSIGHT_TWINS)
def test_keysight_driver_fails_an_unlevelled_ramp_and_still_shuts_down(opened, bench, twin_cls,
                                                                       driver_cls):
    twin, rf = opened(twin_cls, driver_cls)
    rf.frequency, rf.power = 8e9, -10
    rf.output_enabled = True                                     # levelled: passes
    twin.unlevel(-3.0)
    rf.ramp_to_power(-5)                                         # below the cap: passes
    with pytest.raises(OutputNotFollowingError,
                       match=rf"^{rf.name} \(rf_source\): :STAT:QUES:POW:COND\? bit 1 "
                             r"\(unleveled\), with 0 dBm set and the RF on \(read: power 0 "
                             r"dBm, output 1, status 2\)"):
        rf.ramp_to_power(0)
    assert bench.drives.rf["rf"].power_dBm == -3.0
    rf.shutdown()
    powers = [v for _, n, v in twin.output_log if n == "power"]
    assert powers[-20:] == [float(p) for p in range(-1, -21, -1)]   # 1 dB steps from 0 dBm
    assert twin.output("rf_on") is False and "rf" not in bench.drives.rf


def test_smb100a_reverse_power_protection_fails_the_check(opened, bench):
    twin, rf = opened(SMB100ATwin, SMB100A)
    rf.frequency, rf.power = 2e9, -20
    rf.output_enabled = True
    twin.trip_protection()                                       # reflected power: relay open
    assert "rf" not in bench.drives.rf and rf.output_enabled is True
    with pytest.raises(OutputNotFollowingError, match=r"OUTP:PROT:TRIP\? bit 0 \(reverse power "
                                                      r"protection tripped\), with -19 dBm"):
        rf.ramp_to_power(-19)
    rf.write("OUTP:PROT:CLE")
    assert bench.drives.rf["rf"].power_dBm == -19.0
    rf.ramp_to_power(-18)                                        # healthy again
    rf.shutdown()
    assert twin.output("rf_on") is False


@pytest.mark.parametrize("twin_cls, driver_cls", MODELS)
def test_a_stuck_rf_switch_fails_when_the_rf_goes_on(opened, bench, twin_cls, driver_cls):
    """The switch writes are taken but the output stays off: OUTP? answers the switch set
    (1), so the Keysight ALC's unleveled bit is what tells; the SMB100A cannot tell."""
    twin, rf = opened(twin_cls, driver_cls)
    rf.power = -20
    twin.inject("stuck_output", on="rf_on", count=None)
    if twin_cls is SMB100ATwin:
        rf.output_enabled = True                                 # not visible remotely
    else:
        with pytest.raises(OutputNotFollowingError, match=r"bit 1 \(unleveled\)"):
            rf.output_enabled = True
    assert "rf" not in bench.drives.rf


def test_n5183b_unlevelled_output_is_caught_over_a_loopback_socket(bench):
    """The check's one compound message (three replies joined by ';') over a raw socket."""
    with served_n5183b(bench) as (twin, rf):
        rf.frequency, rf.power = 12e9, -18.0
        rf.output_enabled = True
        twin.unlevel(-19.5)
        with pytest.raises(OutputNotFollowingError, match=r"bit 1 \(unleveled\), with -17 "
                                                          r"dBm set .* status 2\)"):
            rf.ramp_to_power(-17)
        rf.shutdown()
        assert rf.ask("*OPC?").strip() == "1"
        assert twin.output("rf_on") is False
