"""The VXI-11 server (sim_backend/vxi11.py): pyvisa-py's TCPIP INSTR client with default
settings, its own RPC client classes (portmapper, core channel) for what pyvisa-py does not
send, the protocol's read reasons, status byte, device clear, locks, many clients and
garbage — as tests/test_sim_hislip.py does for HiSLIP."""
from __future__ import annotations

import socket
import struct
import threading

import pytest
from pyvisa_py.protocols import rpc
from pyvisa_py.protocols import vxi11 as v
from pyvisa_py.tcpip import Vxi11CoreClient

from labspin.sim_backend.default_bench import models_bench
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.scpi import MAX_MESSAGE
from labspin.sim_backend.vxi11 import PMAP_PORT, serve_vxi11

IDN_2400 = "KEITHLEY INSTRUMENTS INC.,MODEL 2400"


@pytest.fixture(scope="module")
def twins():
    bench, names = models_bench(load_sample("inplane_sot_hallbar"), ["keithley2400", "sr830"])
    return {"smu": bench.instruments["keithley2400"], "lockin": bench.instruments["sr830"]}


@pytest.fixture(scope="module")
def served(twins):
    with serve_vxi11(twins, portmapper_port=0) as handle:
        yield handle


class PortMapper(rpc.PartialPortMapperClient, rpc.RawTCPClient):
    """pyvisa-py's TCP portmapper client, on a port other than 111."""

    def __init__(self, port: int):
        rpc.RawTCPClient.__init__(self, "127.0.0.1", rpc.PMAP_PROG, rpc.PMAP_VERS, port)
        rpc.PartialPortMapperClient.__init__(self)


def core(served) -> Vxi11CoreClient:
    return Vxi11CoreClient("127.0.0.1", served.core_port)


def link(client: Vxi11CoreClient, device: str = "inst0", lock: bool = False) -> int:
    error, lid, abort_port, max_recv = client.create_link(1, lock, 0, device)
    assert error == 0
    return lid


def ask(client, lid, text: str, size: int = 1 << 16) -> tuple[int, bytes]:
    assert client.device_write(lid, 1000, 0, v.OP_FLAG_END, text.encode()) == (0, len(text))
    error, reason, data = client.device_read(lid, size, 1000, 0, 0, 0)
    assert error == 0
    return reason, bytes(data)


def test_pyvisa_py_default_settings_reach_every_twin(served, py_rm):
    assert served.resources["smu"] == f"TCPIP::127.0.0.1,{served.core_port}::inst0::INSTR"
    smu = py_rm.open_resource(served.resources["smu"])
    lockin = py_rm.open_resource(served.resources["lockin"])
    try:
        assert smu.query("*IDN?").startswith(IDN_2400)       # END ends the reply
        assert lockin.query("*IDN?").startswith("Stanford_Research_Systems,SR830")
        smu.write("*CLS;*ESE 1;*OPC")
        assert smu.read_stb() & 0x20                          # ESB: OPC is enabled
        smu.write("*IDN?")
        assert smu.read_stb() & 0x10                          # MAV: a reply waits
        smu.clear()
        assert not smu.read_stb() & 0x10                      # device clear dropped it
        assert smu.query("*OPC?").strip() == "1"
    finally:
        smu.close()
        lockin.close()


def test_pymeasure_keithley2400_unmodified(served):
    pymeasure = pytest.importorskip("pymeasure.instruments.keithley")
    smu = pymeasure.Keithley2400(served.resources["smu"], visa_library="@py")
    try:
        assert smu.id.startswith(IDN_2400)
        smu.source_mode = "voltage"
        smu.source_voltage = 0.125
        assert smu.source_voltage == pytest.approx(0.125)
    finally:
        smu.adapter.close()


def test_portmapper_gives_the_core_and_abort_ports(served):
    pm = PortMapper(served.portmapper_port)
    try:
        assert pm.get_port((v.DEVICE_CORE_PROG, v.DEVICE_CORE_VERS, rpc.IPPROTO_TCP, 0)) \
            == served.core_port
        assert pm.get_port((v.DEVICE_ASYNC_PROG, v.DEVICE_ASYNC_VERS, rpc.IPPROTO_TCP, 0)) \
            == served.abort_port
        assert pm.get_port((v.DEVICE_CORE_PROG, v.DEVICE_CORE_VERS, rpc.IPPROTO_UDP, 0)) == 0
        assert pm.get_port((123456, 1, rpc.IPPROTO_TCP, 0)) == 0
        ports = {(prog, port) for prog, _vers, _prot, port in pm.dump()}
        assert (v.DEVICE_CORE_PROG, served.core_port) in ports
    finally:
        pm.close()


def test_standard_portmapper_port_when_free(twins, py_rm):
    try:
        probe = socket.create_server(("127.0.0.1", PMAP_PORT))
    except OSError:
        pytest.skip("port 111 is taken or needs privileges here")
    probe.close()
    with serve_vxi11(twins) as handle:
        assert handle.portmapper_port == PMAP_PORT
        resource = handle.resources["smu"]
        assert resource == "TCPIP::127.0.0.1::inst0::INSTR"   # found through port 111
        inst = py_rm.open_resource(resource)
        try:
            assert inst.query("*IDN?").startswith(IDN_2400)
        finally:
            inst.close()


def test_read_reasons_request_size_and_termchar(served):
    client = core(served)
    lid = link(client)
    try:
        idn = ask(client, lid, "*IDN?")[1]
        assert idn.endswith(b"\n")
        client.device_write(lid, 1000, 0, v.OP_FLAG_END, b"*IDN?")
        parts = []
        while True:
            error, reason, data = client.device_read(lid, 7, 1000, 0, 0, 0)
            assert error == 0
            parts.append(bytes(data))
            if reason & v.RX_END:
                break
            assert reason == v.RX_REQCNT and len(data) == 7
        assert b"".join(parts) == idn
        client.device_write(lid, 1000, 0, v.OP_FLAG_END, b"*IDN?")
        error, reason, data = client.device_read(lid, 1 << 16, 1000, 0,
                                                 v.OP_FLAG_TERMCHAR_SET, ord(","))
        assert reason == v.RX_CHR and bytes(data) == idn[:idn.index(b",") + 1]
        assert client.device_read(lid, 1 << 16, 1000, 0, 0, 0)[1:] == (v.RX_END,
                                                                        idn[len(data):])
        # nothing waiting: io_timeout at once (the bench never waits in real time)
        assert client.device_read(lid, 100, 1000, 0, 0, 0)[0] == v.ErrorCodes.io_timeout
        # a message split over writes runs once END arrives; one reply per message
        client.device_write(lid, 1000, 0, 0, b"*ID")
        assert client.device_read(lid, 100, 1000, 0, 0, 0)[0] == v.ErrorCodes.io_timeout
        client.device_write(lid, 1000, 0, v.OP_FLAG_END, b"N?")
        client.device_write(lid, 1000, 0, v.OP_FLAG_END, b"*OPC?")
        assert client.device_read(lid, 1 << 16, 1000, 0, 0, 0)[2] == idn
        assert client.device_read(lid, 1 << 16, 1000, 0, 0, 0)[2] == b"1\n"
    finally:
        client.destroy_link(lid)
        client.close()


def test_links_errors_locks_and_overrun(served, twins):
    a, b = core(served), core(served)
    try:
        assert a.create_link(1, False, 0, "inst9")[0] == v.ErrorCodes.device_not_accessible
        la = link(a, "INST0")                                 # device names ignore case
        lb = link(b, "inst0")
        assert a.device_write(9999, 1000, 0, v.OP_FLAG_END, b"*IDN?")[0] == \
            v.ErrorCodes.invalid_link_identifier
        assert b.device_write(la, 1000, 0, v.OP_FLAG_END, b"*IDN?")[0] == \
            v.ErrorCodes.invalid_link_identifier              # another connection's link
        assert a.device_lock(la, 0, 0) == 0
        assert b.device_lock(lb, 0, 0) == v.ErrorCodes.device_locked_by_another_link
        assert b.device_write(lb, 1000, 0, v.OP_FLAG_END, b"*IDN?")[0] == \
            v.ErrorCodes.device_locked_by_another_link
        assert b.create_link(2, True, 0, "inst0")[0] == \
            v.ErrorCodes.device_locked_by_another_link
        assert b.device_unlock(lb) == v.ErrorCodes.no_lock_held_by_this_link
        assert ask(a, la, "*IDN?")[1].startswith(IDN_2400.encode())
        assert a.device_unlock(la) == 0
        assert ask(b, lb, "*OPC?")[1] == b"1\n"
        assert a.device_trigger(la, 0, 0, 1000) == 0
        assert a.device_docmd(la, 0, 1000, 0, 0x20000, True, 1, b"")[0] == \
            v.ErrorCodes.operation_not_supported
        a.device_write(la, 1000, 0, v.OP_FLAG_END, b"*CLS")
        for _ in range(5):                                    # 5/4 of MAX_MESSAGE
            a.device_write(la, 1000, 0, 0, b"X" * (MAX_MESSAGE // 4))
        a.device_write(la, 1000, 0, v.OP_FLAG_END, b"")
        assert ask(a, la, "SYST:ERR?")[1].startswith(b"-363")
        assert a.destroy_link(la) == 0
        assert a.device_read(la, 10, 1000, 0, 0, 0)[0] == v.ErrorCodes.invalid_link_identifier
    finally:
        a.close()
        b.close()


def _rpc_call(prog: int, vers: int, proc: int, args: bytes = b"", rpcvers: int = 2) -> bytes:
    body = struct.pack("!IIIIIIIIII", 7, 0, rpcvers, prog, vers, proc, 0, 0, 0, 0) + args
    return struct.pack("!I", 0x8000_0000 | len(body)) + body


def _rpc_reply(sock: socket.socket) -> tuple[int, ...]:
    mark = struct.unpack("!I", sock.recv(4))[0]
    body = b""
    while len(body) < mark & 0x7FFF_FFFF:
        body += sock.recv(4096)
    return struct.unpack(f"!{len(body) // 4}I", body)


def test_rpc_errors_garbage_and_many_clients(served):
    with socket.create_connection(("127.0.0.1", served.core_port), timeout=5) as sock:
        sock.sendall(_rpc_call(v.DEVICE_CORE_PROG + 5, 1, 10))
        assert _rpc_reply(sock)[:6] == (7, 1, 0, 0, 0, 1)         # PROG_UNAVAIL
        sock.sendall(_rpc_call(v.DEVICE_CORE_PROG, 3, 10))
        assert _rpc_reply(sock)[:8] == (7, 1, 0, 0, 0, 2, 1, 1)   # PROG_MISMATCH 1..1
        sock.sendall(_rpc_call(v.DEVICE_CORE_PROG, 1, 99))
        assert _rpc_reply(sock)[:6] == (7, 1, 0, 0, 0, 3)         # PROC_UNAVAIL
        sock.sendall(_rpc_call(v.DEVICE_CORE_PROG, 1, v.CREATE_LINK, b"\0\0"))
        assert _rpc_reply(sock)[:6] == (7, 1, 0, 0, 0, 4)         # GARBAGE_ARGS
        sock.sendall(_rpc_call(v.DEVICE_CORE_PROG, 1, 10, rpcvers=3))
        assert _rpc_reply(sock)[:6] == (7, 1, 1, 0, 2, 2)         # MSG_DENIED RPC_MISMATCH
        sock.sendall(struct.pack("!I", 0xFFFF_FFFF))              # a 2 GB record: closed
        assert sock.recv(10) == b""
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            c = core(served)
            lid = link(c, "inst0")
            for i in range(20):
                value = (n * 20 + i) % 256   # one message: set and read back atomically
                assert ask(c, lid, f"*ESE {value};*ESE?")[1].strip() == str(value).encode()
            c.destroy_link(lid)
            c.close()
        except BaseException as err:  # reported in the main thread
            errors.append(err)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors


def test_a_slow_reply_times_out_cleanly_and_is_read_later(twins, monkeypatch):
    """A message still running at the client's io_timeout: the write is answered, the read
    answers io_timeout before the client's RPC deadline, and the reply waits to be read."""
    gate = threading.Event()
    smu = twins["smu"]
    original = smu.respond

    def respond(line):
        if line == "*IDN?":
            gate.wait(10)                     # a reply that takes longer than the client waits
        return original(line)

    monkeypatch.setattr(smu, "respond", respond)
    with serve_vxi11({"smu": smu}, portmapper_port=None) as handle:
        client = Vxi11CoreClient("127.0.0.1", handle.core_port)
        try:
            lid = link(client)
            assert client.device_write(lid, 100, 0, v.OP_FLAG_END, b"*IDN?") == (0, 5)
            assert client.device_read(lid, 1 << 16, 100, 0, 0, 0)[0] == v.ErrorCodes.io_timeout
            gate.set()
            error, reason, data = client.device_read(lid, 1 << 16, 5000, 0, 0, 0)
            assert error == 0 and reason == v.RX_END
            assert bytes(data).startswith(IDN_2400.encode())
            assert ask(client, lid, "*OPC?")[1] == b"1\n"       # the stream stays in step
        finally:
            gate.set()
            client.close()
