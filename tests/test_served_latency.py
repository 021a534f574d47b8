"""Reply latency on the served bench (issue 13 item 9): ``reply_latency_s`` (``labspin sim
serve --latency NAME_OR_ROLE:SECONDS``) makes a served twin answer late, so that a client's
time-out races the reply, as on a slow GPIB or LAN instrument. With it the desynchronisation
of issue 13 is reproducible over a real loopback socket: a plain client reads the late reply
as the answer to its next query; labspin's driver resynchronises first and reads the truth.

The race needs wall time (the reply really must come after the client's time-out): each
test waits 0.3 s at most."""
from __future__ import annotations

import subprocess
import sys
import time

import pytest
import pyvisa

from labspin.drivers.magnet_supplies import KepcoBOP
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.wirings import build_bench

LATENCY_S, TIMEOUT_MS = 0.15, 50
SOCKET = dict(read_termination="\n", write_termination="\n")


@pytest.fixture
def served_supply():
    """The magnet supply twin of the transport bench served alone, 150 ms per reply, at
    CURRent 0.5 A with its output off."""
    vb, slots = build_bench(load_sample("inplane_sot_hallbar"), "transport")
    name = next(n for n, s in slots.items() if s.role == "magnet_supply")
    twin = vb.instruments[name]
    twin.set("current", 0.5)
    twin.reply_latency_s = LATENCY_S
    with serve({name: twin}) as handle:
        yield handle.resources[name], twin


def test_without_a_resync_the_late_reply_answers_the_next_query(served_supply):
    resource, twin = served_supply
    rm = pyvisa.ResourceManager("@py")
    inst = rm.open_resource(resource, timeout=TIMEOUT_MS, **SOCKET)
    try:
        inst.write("*IDN?")
        with pytest.raises(pyvisa.VisaIOError):
            inst.read()                              # timed out: the reply is still coming
        time.sleep(2 * LATENCY_S)
        inst.timeout = 1000
        assert inst.query("CURRent?") == twin.idn         # one behind: the *IDN? reply
    finally:
        inst.close()


def test_the_driver_resynchronises_and_reads_its_own_answer(served_supply):
    resource, _ = served_supply
    supply = KepcoBOP(resource, visa_library="@py", timeout=TIMEOUT_MS, **SOCKET)
    try:
        with pytest.raises(Exception, match="Timeout"):
            supply.measure_current()                 # the 0 A reply comes 150 ms later
        time.sleep(2 * LATENCY_S)
        supply.adapter.connection.timeout = 1000     # a patient client from now on
        assert supply.current_setpoint == 0.5        # not the stale 0 A measurement
    finally:
        supply.adapter.close()


def test_sim_serve_refuses_a_latency_for_no_instrument(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "labspin.cli.main", "sim", "serve",
                           "--wiring", "transport", "--latency", "nosuch:0.15"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "--latency 'nosuch:0.15': want NAME_OR_ROLE:SECONDS" in proc.stderr
    assert "magnet_supply" in proc.stderr


def test_a_message_is_stamped_when_it_arrives_not_when_the_bench_lock_frees():
    """A served bench handles one message at a time; one that waits for another twin's
    (a slow reading) keeps its arrival time in ``message_arrived_s``, which a slew auditor
    of the served bench times writes by."""
    import threading

    from labspin.sim_backend.wirings import follow_wall_clock
    vb, slots = build_bench(load_sample("inplane_sot_hallbar"), "transport")
    supply = vb.instruments["magnet_psu"]
    slow = vb.instruments["smu"]
    follow_wall_clock(vb, [supply, slow])
    inner = slow.respond.__defaults__[0]             # the twin's own handler, under the lock
    stamps = []

    def slow_reading(message):
        time.sleep(0.2)                              # holds the bench lock for 200 ms
        return inner(message)
    slow.respond.__defaults__ = (slow_reading,)
    supply.output_listeners.append(lambda *_: stamps.append(vb.message_arrived_s))
    reader = threading.Thread(target=slow.respond, args=("*IDN?",))
    reader.start()
    time.sleep(0.05)
    sent = time.monotonic()
    supply.respond("CURRent 0.1")                    # waits ~150 ms for the lock
    handled = time.monotonic()
    reader.join()
    assert handled - sent > 0.1
    assert stamps and sent <= stamps[-1] < sent + (handled - sent) / 2     # not at handling
