"""The socket server under abuse (issue 8), beyond tests/test_sim_transport.py: the simulated
bench served as ``labspin sim serve`` serves it binds the loopback unless told otherwise,
and survives random garbage (hypothesis: arbitrary bytes, over-long lines, writes split
anywhere, abrupt closes and resets) from several clients at once while other clients keep
getting their own correct replies; afterwards a whole measurement runs over the sockets.
"""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.scpi import MAX_MESSAGE
from labspin.sim_backend.server import serve
from labspin.sim_backend.wirings import bench_config_text, build_bench, follow_wall_clock

STATS = {"garbage clients": 0, "bytes sent": 0}


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    """Print the abuse figures (pytest -s shows them)."""
    yield
    print("\nserver abuse:", STATS)


@pytest.fixture(scope="module")
def served():
    """The transport bench's twins on loopback sockets, as `labspin sim serve` runs them."""
    vb, slots = build_bench(load_sample("perpendicular_sot_hallbar"), "transport")
    twins = {n: vb.instruments[n] for n in slots}
    follow_wall_clock(vb, twins.values())
    handle = serve(twins)
    yield handle, vb, slots, twins
    handle.close()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5.0)


def _ask(sock: socket.socket, text: str, term: bytes = b"\n") -> str:
    sock.sendall(text.encode() + b"\n")
    data = b""
    while not data.endswith(term):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by the server")
        data += chunk
    return data[:-len(term)].decode()


def test_binds_loopback_unless_told():
    vb, slots = build_bench(load_sample("inplane_sot_hallbar"), "transport")
    twins = {n: vb.instruments[n] for n in slots}
    with serve(twins) as handle:
        for name, port in handle.ports.items():
            assert handle.resources[name] == f"TCPIP::127.0.0.1::{port}::SOCKET"
        listeners = list(handle._instruments)
        assert {s.getsockname()[0] for s in listeners} == {"127.0.0.1"}
    with serve(twins, host="0.0.0.0") as handle:                      # told otherwise
        assert {s.getsockname()[0] for s in handle._instruments} == {"0.0.0.0"}


def test_sim_serve_command_binds_loopback(tmp_path):
    """`labspin sim serve` prints loopback resources and its --host default is 127.0.0.1."""
    proc = subprocess.Popen([sys.executable, "-m", "labspin.cli.main", "sim", "serve", "--wiring",
                             "transport", "--bench-out", "b.toml"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        while not any(ln.startswith("bench config:") for ln in lines):
            line = proc.stdout.readline()
            assert line, proc.stderr.read()
            lines.append(line)
        resources = [ln.split()[-1] for ln in lines if "::SOCKET" in ln]
        assert len(resources) == 4 and all("TCPIP::127.0.0.1::" in r for r in resources)
        port = int(resources[0].split("::")[2])
        with _connect(port) as sock:
            assert "KEITHLEY" in _ask(sock, "*IDN?").upper()
    finally:
        proc.terminate()
        proc.wait(30)


_chunks = st.lists(st.one_of(
    st.binary(min_size=1, max_size=300),
    st.sampled_from([b"\n", b"\r\n", b"\x00", b"\xff\xfe", b";;;\n", b"*IDN?", b"SYST:ERR?\n",
                     b'"unterminated\n', b":::\n", b"?\n"]),
    st.integers(MAX_MESSAGE - 2, MAX_MESSAGE + 100).map(lambda n: b"9" * n + b"\n"),
), min_size=1, max_size=8)


def _garbage_client(port: int, chunks: list[bytes], how: str) -> None:
    try:
        sock = _connect(port)
        for c in chunks:
            sock.sendall(c)
            STATS["bytes sent"] += len(c)
        if how == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            b"\x01\x00\x00\x00\x00\x00\x00\x00")
        elif how == "half":
            sock.shutdown(socket.SHUT_WR)
            sock.settimeout(0.2)
            try:
                while sock.recv(65536):
                    pass
            except OSError:
                pass
        sock.close()
    except OSError:
        pass                       # the server may close a client it dropped a line of
    STATS["garbage clients"] += 1


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(streams=st.lists(st.tuples(_chunks, st.sampled_from(["close", "reset", "half"])),
                        min_size=1, max_size=4))
def test_garbage_from_several_clients_leaves_the_others_served(served, streams):
    handle, vb, slots, twins = served
    ports = list(handle.ports.values())
    errors: list[str] = []

    def good_client(k: int) -> None:
        name = list(handle.ports)[k % len(ports)]
        term = b"\r" if name == "nanovoltmeter" else b"\n"
        try:
            with _connect(handle.ports[name]) as sock:
                for _ in range(5):
                    if _ask(sock, "*IDN?", term) != twins[name].idn:
                        errors.append(f"{name}: wrong identity")
        except OSError as exc:
            errors.append(f"{name}: {exc!r}")

    threads = [threading.Thread(target=_garbage_client, args=(ports[i % len(ports)], c, how))
               for i, (c, how) in enumerate(streams)]
    threads += [threading.Thread(target=good_client, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert errors == []
    assert handle._acceptor.is_alive() and not handle.closed


def test_a_measurement_runs_over_the_sockets_after_the_abuse(served, tmp_path):
    """After the garbage (error queues full of it): a whole run over the network, FINISHED,
    its stale errors read and dropped before its first command."""
    handle, vb, slots, twins = served
    for port in handle.ports.values():                  # one more round of abuse first
        _garbage_client(port, [b"\xff" * 100 + b"\n", b"X" * (MAX_MESSAGE + 5) + b"\n"],
                        "reset")
    assert any(t.errors for t in twins.values())
    bench = tmp_path / "sim.toml"
    text = bench_config_text(vb, slots, resources=handle.resources, visa_library="@py")
    bench.write_text(text.replace("settle_delay_s = 1.0", "settle_delay_s = 0.05"))
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, "-m", "labspin.cli.main", "run", "field-sweep", "--bench",
                        str(bench), "--param", "max_field=0.002", "--param", "field_step=0.002",
                        "--param", "delay=0", "--out", "o"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "status: FINISHED" in r.stderr
    assert time.monotonic() - t0 < 300
