"""The HiSLIP server (sim_backend/hislip.py): an unmodified pyvisa-py client with default
settings, the protocol's framing, END, device clear and status byte, many clients, garbage
and a bounded loopback load — as tests/test_reliability_server.py does for the raw sockets.
"""
from __future__ import annotations

import socket
import struct
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labspin.sim_backend import hislip
from labspin.sim_backend.hislip import pack, serve_hislip
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.scpi import MAX_MESSAGE
from labspin.sim_backend.virtual_bench import VirtualBench
from labspin.sim_backend.wirings import twin_classes


@pytest.fixture(scope="module")
def twins():
    bench = VirtualBench(load_sample("inplane_sot_hallbar"), seed=0)
    classes = twin_classes()
    return {"smu": classes["keithley2400"](bench, "smu"),
            "nanovoltmeter": classes["keithley2182a"](bench, "nanovoltmeter")}


@pytest.fixture(scope="module")
def served(twins):
    with serve_hislip(twins) as handle:
        yield handle


class RawClient:
    """A minimal HiSLIP client on raw sockets, to send what pyvisa-py never sends."""

    def __init__(self, port: int, sub_address: bytes = b"hislip0"):
        self.sync = socket.create_connection(("127.0.0.1", port), timeout=5.0)
        self.sync.sendall(struct.pack("!2sBBHHQ", b"HS", hislip.INITIALIZE, 0, 0x0100,
                                      0x5858, len(sub_address)) + sub_address)
        msg_type, _control, parameter, _payload = self.recv(self.sync)
        assert msg_type == hislip.INITIALIZE_RESPONSE
        self.session_id = parameter & 0xFFFF
        assert parameter >> 16 == hislip.PROTOCOL_VERSION
        self.asyn = socket.create_connection(("127.0.0.1", port), timeout=5.0)
        self.asyn.sendall(pack(hislip.ASYNC_INITIALIZE, 0, self.session_id))
        assert self.recv(self.asyn)[0] == hislip.ASYNC_INITIALIZE_RESPONSE
        self.message_id = 0xFFFF_FF00

    @staticmethod
    def recv(sock: socket.socket) -> tuple[int, int, int, bytes]:
        header = hislip._recv_exact(sock, hislip.HEADER.size)
        prologue, msg_type, control, parameter, length = hislip.HEADER.unpack(header)
        assert prologue == b"HS"
        return msg_type, control, parameter, hislip._recv_exact(sock, length)

    def send(self, text: str, parts: int = 1) -> int:
        data, mid = text.encode(), self.message_id
        step = max(1, -(-len(data) // parts))
        chunks = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            self.sync.sendall(pack(hislip.DATA_END if last else hislip.DATA, 0, mid, chunk))
        self.message_id = (mid + 2) & 0xFFFF_FFFF
        return mid

    def reply(self) -> tuple[bytes, list[tuple[int, int]]]:
        """Read one whole reply; get its bytes and the (type, MessageID) of its packets."""
        data, packets = b"", []
        while True:
            msg_type, _control, parameter, payload = self.recv(self.sync)
            packets.append((msg_type, parameter))
            data += payload
            if msg_type == hislip.DATA_END:
                return data, packets

    def close(self) -> None:
        self.sync.close()
        self.asyn.close()


def test_pyvisa_py_default_settings_query_idn(served, twins, py_rm):
    """A raw pyvisa-py client, nothing set but the address: *IDN? answers with END."""
    resource = served.resources["smu"]
    assert resource == f"TCPIP::127.0.0.1::hislip0,{served.ports['smu']}::INSTR"
    inst = py_rm.open_resource(resource)
    try:
        assert inst.read_termination is None
        assert inst.query("*IDN?") == twins["smu"].idn + "\n"
    finally:
        inst.close()


def test_end_needs_no_termination_for_a_cr_terminated_model(served, twins, py_rm):
    """The 2182A ends its replies with CR, which breaks a raw socket client set for LF; over
    HiSLIP the END of the last packet ends the read whatever the terminator."""
    assert twins["nanovoltmeter"].termination == "\r"
    inst = py_rm.open_resource(served.resources["nanovoltmeter"])
    try:
        assert inst.query("*IDN?").rstrip("\r") == twins["nanovoltmeter"].idn
    finally:
        inst.close()


def test_binds_loopback_and_names_hislip_resources(twins):
    with serve_hislip(twins) as handle:
        assert {s.getsockname()[0] for s in handle._instruments} == {"127.0.0.1"}
        assert set(handle.resources) == set(twins)


def test_framing_split_messages_and_replies_carry_the_message_id(served, twins):
    client = RawClient(served.ports["smu"])
    try:
        mid = client.send("*IDN?", parts=3)                    # Data, Data, DataEnd
        data, packets = client.reply()
        assert data == (twins["smu"].idn + "\n").encode()
        assert packets == [(hislip.DATA_END, mid)]
        # the client announces 64-byte packets: the reply comes in 48-byte payloads
        client.asyn.sendall(pack(hislip.ASYNC_MAX_MSG_SIZE, 0, 0, struct.pack("!Q", 64)))
        msg_type, _c, _p, payload = client.recv(client.asyn)
        assert msg_type == hislip.ASYNC_MAX_MSG_SIZE_RESPONSE
        assert struct.unpack("!Q", payload)[0] == hislip.MAX_MSG_SIZE
        mid = client.send("*IDN?")
        data, packets = client.reply()
        expected = (twins["smu"].idn + "\n").encode()
        assert data == expected
        n = -(-len(expected) // 48)
        assert packets == [(hislip.DATA, mid)] * (n - 1) + [(hislip.DATA_END, mid)]
        # two lines in one message run in turn; their replies come back as one reply
        client.send("*OPC?\n*OPC?\n")
        assert client.reply()[0] == b"1\n1\n"
    finally:
        client.close()


def test_status_byte_reports_mav_until_the_reply_is_read(served, py_rm):
    inst = py_rm.open_resource(served.resources["smu"])
    try:
        inst.write("*CLS")
        assert inst.read_stb() & 0x10 == 0
        inst.write("*IDN?")
        assert inst.read_stb() & 0x10                          # MAV: a reply is waiting
        inst.read()
        assert inst.read_stb() & 0x10 == 0
        inst.write("*ESE 32")
        inst.write("BOGUS:HEADER")                             # -113 sets CME (ESR bit 5)
        assert inst.read_stb() & 0x24 == 0x24                  # ESB and EAV
        inst.write("*CLS;*ESE 0")
        assert inst.read_stb() == 0
    finally:
        inst.close()


def test_device_clear_discards_input_and_calls_the_hook(served, twins, py_rm, monkeypatch):
    calls = []
    monkeypatch.setattr(twins["smu"], "device_clear", lambda: calls.append(1))
    inst = py_rm.open_resource(served.resources["smu"])
    try:
        inst.write("*CLS;*IDN?")
        inst.read()
        inst.clear()                                         # pyvisa-py's viClear
        assert calls == [1]
        assert inst.query("*OPC?") == "1\n"
        assert inst.read_stb() & 0x10 == 0
    finally:
        inst.close()
    client = RawClient(served.ports["smu"])
    try:
        client.asyn.sendall(pack(hislip.ASYNC_DEVICE_CLEAR))
        assert client.recv(client.asyn)[:2] == (hislip.ASYNC_DEVICE_CLEAR_ACKNOWLEDGE, 0)
        client.send("*IDN?")                                 # during the clear: discarded
        client.sync.sendall(pack(hislip.DEVICE_CLEAR_COMPLETE, 0))
        assert client.recv(client.sync)[:2] == (hislip.DEVICE_CLEAR_ACKNOWLEDGE, 0)
        client.message_id = 0xFFFF_FF00
        mid = client.send("*OPC?")
        assert client.reply() == (b"1\n", [(hislip.DATA_END, mid)])
        assert calls == [1, 1]
    finally:
        client.close()


def test_many_clients_each_get_their_own_replies(served, twins, py_rm):
    errors: list[str] = []

    def client(k: int) -> None:
        name = ("smu", "nanovoltmeter")[k % 2]
        try:
            inst = py_rm.open_resource(served.resources[name])
            for i in range(20):
                if inst.query("*IDN?").rstrip() != twins[name].idn:
                    errors.append(f"client {k}: wrong identity at {i}")
            inst.close()
        except Exception as exc:
            errors.append(f"client {k}: {exc!r}")

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads) and errors == []


def test_protocol_errors_are_answered_and_the_server_keeps_serving(served, twins):
    port = served.ports["smu"]
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:   # no prologue
        sock.sendall(b"*IDN?\n" + b"\0" * 10)
        msg_type, control, _p, _payload = RawClient.recv(sock)
        assert (msg_type, control) == (hislip.FATAL_ERROR, hislip.FATAL_POORLY_FORMED)
        assert sock.recv(16) == b""                                            # closed
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:   # Data first
        sock.sendall(pack(hislip.DATA_END, 0, 0, b"*IDN?"))
        assert RawClient.recv(sock)[:2] == (hislip.FATAL_ERROR, hislip.FATAL_BAD_INIT)
    with socket.create_connection(("127.0.0.1", port), timeout=5.0) as sock:   # bad session
        sock.sendall(pack(hislip.ASYNC_INITIALIZE, 0, 0xBEEF))
        assert RawClient.recv(sock)[:2] == (hislip.FATAL_ERROR, hislip.FATAL_BAD_INIT)
    with pytest.raises(AssertionError):
        RawClient(port, sub_address=b"inst7")
    client = RawClient(port)
    try:
        client.sync.sendall(pack(99, 0, 0, b"vendor"))             # unknown message type
        assert client.recv(client.sync)[:2] == (hislip.ERROR, hislip.ERROR_UNRECOGNIZED_TYPE)
        client.send("9" * (MAX_MESSAGE + 10), parts=4)             # over-long: -363, no reply
        client.send("SYST:ERR?")
        assert client.reply()[0].startswith(b"-363,")
    finally:
        client.close()


def test_injected_drop_closes_only_that_session(served, twins, py_rm):
    twins["smu"].inject("drop", on="*TST?")
    client = RawClient(served.ports["smu"])
    try:
        client.send("*TST?")
        assert client.sync.recv(16) == b""
    finally:
        client.close()
    inst = py_rm.open_resource(served.resources["smu"])
    try:
        assert inst.query("*TST?") == "0\n"
    finally:
        inst.close()


_garbage = st.lists(st.one_of(
    st.binary(min_size=1, max_size=64),
    st.builds(lambda t, c, p, body: pack(t, c, p, body), st.integers(0, 255),
              st.integers(0, 255), st.integers(0, 2**32 - 1), st.binary(max_size=40)),
), min_size=1, max_size=6)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(chunks=_garbage)
def test_garbage_leaves_other_clients_served(served, twins, py_rm, chunks):
    port = served.ports["smu"]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2.0) as sock:
            for chunk in chunks:
                sock.sendall(chunk)
            sock.settimeout(0.05)
            try:
                sock.recv(4096)
            except OSError:
                pass
    except OSError:
        pass                                 # the server may close it mid-garbage
    inst = py_rm.open_resource(served.resources["smu"])
    try:
        assert inst.query("*IDN?").rstrip() == twins["smu"].idn
    finally:
        inst.close()
    assert served._acceptor.is_alive()


def test_bounded_loopback_load(served, py_rm):
    """2000 queries from one pyvisa-py client in well under 20 s (about 0.3 ms each here)."""
    inst = py_rm.open_resource(served.resources["smu"])
    try:
        t0 = time.perf_counter()
        for _ in range(2000):
            assert inst.query("*OPC?") == "1\n"
        elapsed = time.perf_counter() - t0
    finally:
        inst.close()
    print(f"\nHiSLIP loopback: {elapsed / 2000 * 1e3:.3f} ms per query")
    assert elapsed < 20.0


def test_sim_serve_hislip_reached_by_default_pyvisa_py(tmp_path):
    """`labspin sim serve --transport hislip`: an unmodified pyvisa-py client, default settings."""
    import subprocess
    import sys

    import pyvisa

    proc = subprocess.Popen([sys.executable, "-m", "labspin.cli.main", "sim", "serve",
                             "--transport", "hislip", "--wiring", "transport"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    try:
        first = proc.stdout.readline().split()      # "smu  keithley2400  TCPIP::…::INSTR"
        assert first[:2] == ["smu", "keithley2400"] and "hislip0," in first[2], first
        resource = pyvisa.ResourceManager("@py").open_resource(first[2])
        try:
            assert resource.query("*IDN?").startswith("KEITHLEY INSTRUMENTS INC.,MODEL 2400,")
        finally:
            resource.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
