"""Transport of the simulated bench: SCPI parsing, status, faults, the @labspin pyvisa
backend and the raw SCPI socket server (loopback only, bounded in time)."""
from __future__ import annotations

import socket
import threading
import time
import uuid

import pytest
import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError

from labspin.bench.clock import VirtualClock
from labspin.sim_backend.registry import Registry
from labspin.sim_backend.scpi import (
    ESR_CME,
    ESR_EXE,
    ESR_PON,
    MAX_MESSAGE,
    Arg,
    SimInstrument,
    compile_pattern,
    garble,
    short_form,
)
from labspin.sim_backend.server import serve


class AcmeSource(SimInstrument):
    """A small SCPI current source with a voltmeter: the test model."""

    idn = "ACME,SRC1,0001,1.0"

    def __init__(self, clock=None):
        super().__init__(clock)
        self.triggers = 0
        self.add_parameter("current", "[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]",
                           float, range=(-1.05, 1.05), default=0.0, fmt="{:+.6E}", output=True)
        self.add_parameter("enabled", "OUTPut[:STATe]", bool, default=False, output=True)
        self.add_parameter("function", "[SOURce]:FUNCtion[:MODE]",
                           choices=["CURRent", "VOLTage"], default="CURR")
        self.add_parameter("voltage", "[SOURce]:VOLTage[:LEVel]", float, range=(-20, 20),
                           default=0.0, output=True)
        self.add_parameter("label", "DISPlay:TEXT", str, default="")
        self.add_parameter("nplc", "SENSe:NPLCycles", int, range=(1, 10), default=1)
        self.add_query("MEASure:VOLTage[:DC]", self._measure, fmt="{:+.6E}")
        self.add_query("CALCulate<n>:MARKer<m>:X", lambda n, m: f"{n},{m}")
        self.add_query("TRACe[1|2]:DATA", lambda trace: f"trace{trace}")

    def _measure(self) -> float:
        return 100.0 * self.output("current") if self.output("enabled") else 0.0

    def trigger(self) -> None:
        self.triggers += 1


class OddDialect(SimInstrument):
    """Non-SCPI mnemonics in the style of an SR830, a Danfysik 8500 and a LakeShore."""

    idn = "ODD,DIALECT,0,1"
    scpi = False

    def __init__(self):
        super().__init__()
        self.dac = {}
        self.on = False
        self.add_parameter("sensitivity", "SENS", int, range=(0, 26), default=22)
        self.add_parameter("polarity", "PO", choices={"+": 1, "-": -1}, default=1)
        self.add_parameter("unit", "UNIT", int, choices=(1, 2, 3, 4), default=1)
        self.add_query("OUTP", lambda i: f"{i * 1.5:g}", args=(Arg(int, choices=(1, 2, 3, 4)),))
        self.add_query("SNAP", lambda *ii: ",".join(str(int(i) * 10) for i in ii), args=None)
        self.add_command("DA", self.dac.__setitem__,
                         args=(Arg(int, range=(0, 7)), Arg(int, range=(0, 1_000_000))))
        self.add_query("AD", lambda ch: f"{ch * 100}", args=(Arg(int, range=(0, 15)),))
        self.add_command("N", lambda: setattr(self, "on", True))
        self.add_command("F", lambda: setattr(self, "on", False))
        self.add_query("RDGFIELD", lambda: "+1.234E-01")


def errors_of(inst: SimInstrument) -> list[int]:
    """Drain the error queue; get the codes."""
    codes = []
    while True:
        code = int(inst.handle("SYST:ERR?").split(",")[0])
        if code == 0:
            return codes
        codes.append(code)


# ---------------------------------------------------------------- patterns


def test_short_forms():
    assert short_form("CURRent") == "CURR"
    assert short_form("RDGFIELD") == "RDGFIELD"
    assert short_form("*IDN") == "*IDN"
    assert short_form("OUTPut2") == "OUTP2"


@pytest.mark.parametrize("header", [
    ":SOUR:CURR", ":CURR", ":source:current:level:immediate:amplitude", ":SOURce:CURRent:LEV",
    ":sour:curr:ampl", ":CURRENT:IMM",
])
def test_pattern_accepts_long_short_optional_any_case(header):
    regex, _, _ = compile_pattern("[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]")
    assert regex.fullmatch(header)


@pytest.mark.parametrize("header", [":CURRE", ":SOU:CURR", ":SOUR", ":CURR:LEVEL:LEVEL", ":SOURCURR"])
def test_pattern_rejects_partial_forms(header):
    regex, _, _ = compile_pattern("[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]")
    assert not regex.fullmatch(header)


def test_pattern_numeric_suffixes():
    regex, names, defaults = compile_pattern("CALCulate<n>:MARKer<m>:X")
    assert names == ("n", "m") and defaults == (1, 1)
    m = regex.fullmatch(":CALC2:MARKER12:X")
    assert m and m.group("n") == "2" and m.group("m") == "12"
    regex, names, _ = compile_pattern("TRACe[1|2]:DATA")
    assert names == ("trace",)
    assert regex.fullmatch(":TRAC2:DATA") and regex.fullmatch(":trace:data")
    assert not regex.fullmatch(":TRAC3:DATA")


@pytest.mark.parametrize("bad", ["[SOURce:CURRent", "SOURce]", "CURR:<n>", "A<n>:B<n>", ""])
def test_bad_patterns_raise(bad):
    with pytest.raises(ValueError):
        compile_pattern(bad)


def test_suffixes_reach_handlers():
    src = AcmeSource()
    assert src.handle("CALC3:MARK2:X?") == "3,2"
    assert src.handle("calculate:marker:x?") == "1,1"
    assert src.handle("TRAC2:DATA?") == "trace2"
    assert src.handle("TRAC:DATA?") == "trace1"


# ---------------------------------------------------------------- parameters and status


@pytest.mark.parametrize("text, value", [
    ("1e-3", 1e-3), ("1.0E-03", 1e-3), ("+5e-1", 0.5), ("-.25", -0.25), ("1", 1.0),
    ("MIN", -1.05), ("maximum", 1.05), ("DEF", 0.0),
])
def test_numeric_parameter_forms(text, value):
    src = AcmeSource()
    src.handle(f":SOUR:CURR {text}")
    assert src.get("current") == pytest.approx(value)
    assert src.handle("CURR?") == f"{value:+.6E}"
    assert errors_of(src) == []


def test_parameter_min_max_queries_and_types():
    src = AcmeSource()
    assert src.handle("CURR? MAX") == "+1.050000E+00"
    assert src.handle("SENS:NPLC? MIN") == "1"
    src.handle("SENS:NPLC 4.6;:OUTP ON;:DISP:TEXT \"a, b;c\";:FUNC volt")
    assert src.handle("SENS:NPLC?;:OUTP?;:DISP:TEXT?;:FUNC?") == '5;1;"a, b;c";VOLT'
    assert src.get("function") == "VOLT" and src.get("label") == "a, b;c"
    src.handle("OUTP OFF")
    assert src.get("enabled") is False


@pytest.mark.parametrize("command, code", [
    ("SOUR:CURR 5", -222), ("SOUR:CURR abc", -104), ("SOUR:CURR 1mA", -131),
    ("SOUR:CURR", -109), ("SOUR:CURR 1,2", -108), ("FUNC FOO", -224), ("OUTP 2x", -224),
    ("SOUR:CURRE 1", -113), ("FOO:BAR?", -113), ("*IDN? 1", -108), ("\x00\xff\xfe", -102),
    ('DISP:TEXT "open', -102), ("*ESE 300", -222),
])
def test_errors_queue_codes_and_leave_state(command, code):
    src = AcmeSource()
    src.handle("*CLS;SOUR:CURR 0.5")
    assert src.handle(command) is None
    assert src.get("current") == 0.5
    esr = int(src.handle("*ESR?"))
    assert esr & (ESR_CME if code > -200 else ESR_EXE)
    assert errors_of(src) == [code]


def test_error_queue_overflow_and_status_bytes():
    src = AcmeSource()
    assert int(src.handle("*ESR?")) == ESR_PON          # power-on
    assert src.handle("*ESR?") == "0"                   # read clears
    assert src.handle("SYST:ERR?") == '0,"No error"'
    for _ in range(src.error_queue_size + 3):
        src.handle("NOPE")
    assert src.handle("SYST:ERR:COUN?") == str(src.error_queue_size)
    codes = errors_of(src)
    assert codes[-1] == -350 and codes[:-1] == [-113] * (src.error_queue_size - 1)
    src.handle("*CLS;*ESE 32;*SRE 32")
    src.handle("CURR 9")                                # -222: execution error, not ESE'd
    assert int(src.handle("*STB?")) == 4                 # EAV only
    src.handle("NOPE")                                  # command error -> ESB -> MSS
    assert int(src.handle("*STB?")) == 4 | 32 | 64
    assert src.handle("*ESE?;*SRE?") == "32;32"
    src.handle("*CLS")
    assert int(src.handle("*STB?")) == 0
    assert src.handle("*OPC?") == "1"
    src.handle("*OPC")
    assert int(src.handle("*ESR?")) == 1


def test_reset_restores_defaults_and_logs_outputs():
    clock = VirtualClock()
    src = AcmeSource(clock)
    src.handle("CURR 0.1;:OUTP ON;:FUNC VOLT;:SENS:NPLC 10")
    clock.sleep(2.0)
    src.handle("NOPE")
    src.handle("*RST")
    assert (src.get("current"), src.get("enabled"), src.get("function"), src.get("nplc")) == (
        0.0, False, "CURR", 1)
    assert errors_of(src) == [-113]                     # *RST keeps the error queue
    assert src.output_log == [(0.0, "current", 0.1), (0.0, "enabled", True),
                              (2.0, "current", 0.0), (2.0, "enabled", False)]
    assert (0.0, "CURR 0.1;:OUTP ON;:FUNC VOLT;:SENS:NPLC 10") in src.log
    assert (2.0, "*RST") in src.log


def test_multi_command_lines_and_implied_path():
    src = AcmeSource()
    assert src.handle("SOUR:FUNC CURR;CURR 2e-3;:OUTP 1;*IDN?;MEAS:VOLT?;VOLT?") == (
        "ACME,SRC1,0001,1.0;+2.000000E-01;+2.000000E-01")
    src.handle("SOUR:FUNC VOLT;VOLT 3")                   # relative: SOUR:VOLT
    assert src.get("voltage") == 3.0
    # a command error discards the rest of the message; an execution error does not
    assert src.handle("CURR 1e-3;BOGUS;CURR 2e-3") is None
    assert src.get("current") == 1e-3
    assert src.handle("CURR 7;CURR?") == "+1.000000E-03"
    assert errors_of(src) == [-113, -222]
    assert src.handle(";;  ;") is None and errors_of(src) == []


def test_odd_dialect_literal_mnemonics():
    odd = OddDialect()
    assert odd.handle("SENS?") == "22"
    odd.handle("SENS 12")
    assert odd.handle("sens?") == "12"
    assert odd.handle("OUTP? 1") == "1.5" and odd.handle("OUTP?3") == "4.5"
    assert odd.handle("SNAP? 1,2") == "10,20"
    odd.handle("DA 0,100000")
    assert odd.dac == {0: 100000}
    assert odd.handle("AD 8") is None and odd.handle("AD? 8") == "800"
    odd.handle("N")
    assert odd.on
    odd.handle("F")
    assert not odd.on
    odd.handle("PO -")
    assert odd.get("polarity") == -1 and odd.handle("PO?") == "-"
    odd.handle("UNIT 2")
    assert odd.handle("UNIT?") == "2"
    assert odd.handle("RDGFIELD?") == "+1.234E-01"
    assert [c for c, _ in odd.errors] == [-113]         # "AD 8": no such command form
    odd.handle("*CLS;UNIT 5;SENS 27;SENSE 1;OUTP? 9;DA 9,1")
    assert [c for c, _ in odd.errors] == [-224, -222, -113]  # the rest was discarded
    assert odd.handle("*IDN?") == "ODD,DIALECT,0,1"
    odd.handle("SYST:ERR?")                              # no SCPI system commands here
    assert odd.errors[-1][0] == -113


# ---------------------------------------------------------------- faults (in-process API)


def test_fault_error_and_stuck_output():
    src = AcmeSource()
    src.inject("error", on="current", code=-221)
    src.handle("CURR 0.2")
    assert src.get("current") == 0.0 and errors_of(src) == [-221]
    src.handle("OUTP ON")
    src.inject("stuck_output", on="SOUR:CURR", count=2)
    src.handle("SOUR:CURR 0.3")
    src.handle(":source:current:level 0.4")
    assert src.get("current") == 0.4 and src.output("current") == 0.0
    assert src.handle("MEAS:VOLT?") == "+0.000000E+00"
    src.handle("CURR 0.5")                               # fault used up
    assert src.output("current") == 0.5
    assert [v for _, n, v in src.output_log if n == "current"] == [0.5]
    with pytest.raises(ValueError):
        src.inject("melt")
    with pytest.raises(ValueError):
        src.inject("timeout", on="NO:SUCH?")


def test_fault_timeout_garbled_drop_through_handle():
    src = AcmeSource()
    src.inject("timeout", on="*IDN?")
    src.handle("*IDN")                                   # -113: no set form, fault untouched
    assert src.handle("*IDN?") is None
    assert src.handle("*IDN?") == AcmeSource.idn
    src.inject("garbled", count=None)
    bad = src.handle("*IDN?")
    assert bad != AcmeSource.idn and len(bad) == len(AcmeSource.idn)
    assert garble(bad.encode("latin-1")) == AcmeSource.idn.encode()
    src.clear_faults()
    src.inject("drop", on="CURR")
    with pytest.raises(ConnectionResetError):
        src.handle("OUTP ON;CURR 0.1;CURR?")
    assert src.get("enabled") and src.get("current") == 0.0


# ---------------------------------------------------------------- @labspin pyvisa backend


@pytest.fixture
def lab():
    """A registry of its own (as a bench has), reached through ``lab.visa_library``."""
    return Registry()


@pytest.fixture
def acme(lab):
    """An AcmeSource registered under a fresh address; get (instrument, name)."""
    src = AcmeSource()
    name = f"TCPIP0::acme-{uuid.uuid4().hex[:8]}::inst0::INSTR"
    with lab.registered({name: src}) as names:
        yield src, names[name]


@pytest.fixture
def rm(lab):
    return pyvisa.ResourceManager(lab.visa_library)


def test_labspin_backend_lists_and_opens(acme, rm):
    src, name = acme
    assert name in rm.list_resources()
    assert name in rm.list_resources("TCPIP?*")
    res = rm.open_resource(name, read_termination="\n")
    assert res.query("*IDN?") == AcmeSource.idn
    res.write("SOUR:CURR 1e-3")
    assert src.get("current") == 1e-3
    res.write("CURR?")
    assert float(res.read()) == 1e-3
    assert res.query_ascii_values("CURR?;:MEAS:VOLT?", separator=";") == [1e-3, 0.0]
    res.close()
    with pytest.raises(VisaIOError) as err:
        rm.open_resource("TCPIP0::no-such-instrument::inst0::INSTR")
    assert err.value.error_code == constants.StatusCode.error_resource_not_found
    assert name in str(err.value) and "no-such-instrument" in str(err.value)


def test_labspin_backend_terminations_and_raw_reads(acme, rm):
    src, name = acme
    res = rm.open_resource(name)                          # pyvisa defaults: "" and "\r\n"
    assert res.query("*IDN?") == AcmeSource.idn + "\n"    # END ends the read
    res.write_termination = ""
    res.read_termination = "\n"
    res.write("CURR 2e-3")
    assert res.query("CURR?") == "+2.000000E-03"
    res.write("*IDN?")
    assert res.read_bytes(4) == b"ACME"
    assert res.read_raw() == b",SRC1,0001,1.0\n"
    src.termination = "\r\n"
    res.read_termination = "\r\n"
    assert res.query("*IDN?") == AcmeSource.idn
    assert res.timeout == 2000
    res.timeout = 50
    assert res.timeout == 50 and res.send_end


def test_labspin_backend_resource_kinds_and_long_messages(lab, rm):
    class Gaussmeter(SimInstrument):
        idn = "LSCI,MODEL425,0,1"
        termination = "\r\n"

    names = {"ASRL/dev/ttyLABSPIN::INSTR": Gaussmeter(), "GPIB0::29::INSTR": AcmeSource()}
    with lab.registered(names):
        serial = rm.open_resource("ASRL/dev/ttyLABSPIN::INSTR", baud_rate=57600, data_bits=7,
                                  parity=constants.Parity.odd, read_termination="\r\n")
        assert serial.query("*IDN?") == Gaussmeter.idn and serial.baud_rate == 57600
        gpib = rm.open_resource("GPIB::29", read_termination="\n")
        gpib.write_raw(b"SOUR:CURR " + b"1" * MAX_MESSAGE)        # one message, too long
        assert gpib.query("SYST:ERR?") == '-363,"Input buffer overrun"'
        gpib.close()
        serial.close()


def test_labspin_backend_timeouts_are_immediate(acme, rm):
    src, name = acme
    res = rm.open_resource(name, read_termination="\n", timeout=10_000)
    src.inject("timeout", on="MEAS:VOLT?")
    start = time.perf_counter()
    with pytest.raises(VisaIOError) as err:
        res.query("MEAS:VOLT?")
    assert err.value.error_code == constants.StatusCode.error_timeout
    with pytest.raises(VisaIOError):
        res.read()                                        # nothing to read: -420 queued
    assert time.perf_counter() - start < 0.5
    assert res.query("MEAS:VOLT?") == "+0.000000E+00"     # count=1: used up
    res.write("*IDN?")
    res.write("CURR?")                                   # unread reply: -410
    assert res.read() == "+0.000000E+00"
    assert res.query("SYST:ERR?;SYST:ERR?;SYST:ERR?") == (
        '-420,"Query UNTERMINATED";-410,"Query INTERRUPTED";0,"No error"')


def test_labspin_backend_garbled_drop_clear_stb_trigger(acme, rm):
    src, name = acme
    res = rm.open_resource(name, read_termination="\n")
    src.inject("garbled", on="*IDN?")
    with pytest.raises(UnicodeDecodeError):
        res.query("*IDN?")
    res.write("NOPE;*ESE 32;*SRE 32")                     # rest discarded after -113
    res.write("*ESE 32;*SRE 32;NOPE")
    assert res.read_stb() & 0x64 == 0x64                  # EAV, ESB, MSS
    res.write("*IDN?")
    assert res.read_stb() & 0x10                          # MAV
    res.clear()
    assert not res.read_stb() & 0x10
    res.assert_trigger()
    res.write("*TRG")
    assert src.triggers == 2
    res.flush(constants.BufferOperation.discard_read_buffer)
    src.inject("drop", on="*IDN?")
    res.write("*IDN?")
    for call in (res.read, lambda: res.write("*IDN?")):
        with pytest.raises(VisaIOError) as err:
            call()
        assert err.value.error_code == constants.StatusCode.error_connection_lost
    res.close()
    again = rm.open_resource(name, read_termination="\n")
    assert again.query("*IDN?") == AcmeSource.idn


def test_pymeasure_instrument_on_labspin(acme, lab):
    from pymeasure.instruments import Instrument, SCPIMixin

    class Acme(SCPIMixin, Instrument):
        current = Instrument.control("SOUR:CURR?", "SOUR:CURR %g", "Source current (A).")
        voltage = Instrument.measurement("MEAS:VOLT?", "Measured voltage (V).")
        enabled = Instrument.control("OUTP?", "OUTP %d", "Output on.", cast=int)

        def __init__(self, adapter, **kwargs):
            super().__init__(adapter, "Acme", **kwargs)

    src, name = acme
    inst = Acme(name, visa_library=lab.visa_library, read_termination="\n")
    assert inst.id == AcmeSource.idn
    inst.current = 0.01
    inst.enabled = 1
    assert inst.current == pytest.approx(0.01) and inst.voltage == pytest.approx(1.0)
    inst.write("CURR 9")
    assert [int(code) for code, _ in inst.check_errors()] == [-222]
    inst.reset()
    inst.clear()
    assert inst.current == 0.0 and src.output("enabled") is False
    inst.adapter.flush_read_buffer()
    inst.shutdown()


# ---------------------------------------------------------------- socket server


def test_server_through_pyvisa_py():
    src = AcmeSource()
    with serve({"acme": src}) as server:
        resource = server.resources["acme"]
        assert resource == f"TCPIP::127.0.0.1::{server.ports['acme']}::SOCKET"
        rm = pyvisa.ResourceManager("@py")
        res = rm.open_resource(resource, read_termination="\n", timeout=2000)
        try:
            assert res.query("*IDN?") == AcmeSource.idn
            res.write("SOUR:CURR 3e-3;:OUTP ON")
            assert float(res.query("MEAS:VOLT?")) == pytest.approx(0.3)
            src.inject("timeout", on="*IDN?")
            res.timeout = 150
            with pytest.raises(VisaIOError) as err:
                res.query("*IDN?")
            assert err.value.error_code == constants.StatusCode.error_timeout
            res.timeout = 2000
            assert res.query("SYST:ERR?") == '0,"No error"'
        finally:
            res.close()
            rm.close()


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=2.0)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _ask(sock: socket.socket, text: str) -> str:
    sock.sendall(text.encode() + b"\n")
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data[:-1].decode()


def test_server_survives_garbage_long_lines_and_disconnects():
    src = AcmeSource()
    with serve({"acme": src}) as server:
        port = server.ports["acme"]
        with _connect(port) as sock:
            sock.sendall(b"\x00\xff\xfe\x80garbage\r\n*CLS\r\n")
            assert _ask(sock, "*IDN?\r") == AcmeSource.idn
            sock.sendall(b"CURR " + b"9" * (MAX_MESSAGE + 10) + b"\n")
            sock.sendall(b"X" * (3 * MAX_MESSAGE) + b"\n")
            assert _ask(sock, "SYST:ERR?;SYST:ERR?;SYST:ERR?") == (
                '-363,"Input buffer overrun";-363,"Input buffer overrun";0,"No error"')
            src.inject("garbled", on="*IDN?")
            sock.sendall(b"*IDN?\n")
            data = b""
            while not data.endswith(b"\n"):
                data += sock.recv(4096)
            assert garble(data, 1) == (AcmeSource.idn + "\n").encode()
        half = _connect(port)
        half.sendall(b"SOUR:CURR 1e-")                      # then vanish mid-line
        half.close()
        rst = _connect(port)
        rst.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        rst.sendall(b"*IDN?\n")
        rst.close()                                       # abortive close (RST)
        src.inject("drop", on="OUTP?")
        with _connect(port) as dropped:
            dropped.sendall(b"OUTP?\n")
            assert dropped.recv(100) == b""               # closed by the server
        with _connect(port) as sock:
            assert _ask(sock, "*IDN?") == AcmeSource.idn
            assert _ask(sock, "CURR?") == "+0.000000E+00"


def test_server_concurrent_clients_and_prompt_close():
    src, odd = AcmeSource(), OddDialect()
    server = serve({"acme": src, "odd": odd})
    failures: list[str] = []

    def client(i: int) -> None:
        try:
            with _connect(server.ports["acme"]) as sock:
                for j in range(1, 40):
                    got = _ask(sock, f"CALC{i}:MARK{j}:X?")
                    if got != f"{i},{j}":
                        failures.append(f"client {i}: {got!r}")
        except Exception as exc:  # reported below
            failures.append(f"client {i}: {exc!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(1, 5)]
    for t in threads:
        t.start()
    with _connect(server.ports["odd"]) as sock:
        assert _ask(sock, "SNAP? 1,2") == "10,20"
    for t in threads:
        t.join(10)
    assert not failures and not any(t.is_alive() for t in threads)
    idle = _connect(server.ports["acme"])                 # a client still connected
    assert _ask(idle, "*OPC?") == "1"
    start = time.perf_counter()
    server.close()
    assert time.perf_counter() - start < 1.0 and server.wait(0)
    assert idle.recv(10) == b""
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.ports["acme"]), timeout=1.0)
    assert not [t for t in threading.enumerate() if t.name.startswith("labspin-sim")]


def test_serve_fixed_ports_and_port_in_use():
    with serve({"a": AcmeSource()}) as first:
        port = first.ports["a"]
        with pytest.raises(OSError):
            serve({"b": AcmeSource()}, ports=[port])
    with serve({"b": AcmeSource()}, ports={"b": port}) as second:
        assert second.ports == {"b": port}
