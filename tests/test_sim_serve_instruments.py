"""`labspin sim serve --instrument MODEL[@PORT]`: any twin served without a bench file, in a
real subprocess, reached by pymeasure 0.16's unmodified drivers over HiSLIP (no settings but
the address), VXI-11 (the same) and raw sockets (the termination a raw socket needs)."""
from __future__ import annotations

import socket
import subprocess
import sys
import time

import pytest

pymeasure = pytest.importorskip("pymeasure")
from pymeasure.instruments.agilent import Agilent33500  # noqa: E402
from pymeasure.instruments.keithley import Keithley2400  # noqa: E402

R_P, R_AP = 2000.0, 4400.0
"""mtj_pillar's parallel and antiparallel resistances (Ω, `labspin sim show mtj_pillar`)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(*args: str, tmp_path) -> tuple[subprocess.Popen, dict[str, tuple[str, str]]]:
    """Start `labspin sim serve ARGS`; get the process and name -> (driver key, resource)."""
    proc = subprocess.Popen([sys.executable, "-m", "labspin.cli.main", "sim", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=tmp_path)
    served: dict[str, tuple[str, str]] = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        name, key, resource = line.split()
        served[name] = (key, resource)
        if len(served) == sum(a == "--instrument" for a in args):
            return proc, served
    proc.kill()
    raise AssertionError(f"sim serve did not come up: {proc.stderr.read()}")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.parametrize("transport", ["hislip", "vxi11", "socket"])
def test_served_models_reach_pymeasure_drivers(transport, tmp_path):
    port = _free_port()
    # VXI-11 serves every twin behind one core port; the others give each twin its own
    where = (["--vxi11-port", str(port), "--portmapper-port", "0"] if transport == "vxi11"
             else [])
    first = "keithley2400" if transport == "vxi11" else f"keithley2400@{port}"
    proc, served = _serve("--instrument", first, "--instrument", "keysight33500b",
                          "--instrument", "keithley2400", *where, "--sample", "mtj_pillar",
                          "--transport", transport, tmp_path=tmp_path)
    try:
        assert [(n, k) for n, (k, _) in served.items()] == [
            ("keithley2400", "keithley2400"), ("keysight33500b", "keysight33500b"),
            ("keithley2400-2", "keithley2400")]
        smu_res, awg_res = served["keithley2400"][1], served["keysight33500b"][1]
        assert f",{port}::" in smu_res or f"::{port}::" in smu_res
        # a raw socket has no message end: the client says which character ends a reply
        kw = {"read_termination": "\n"} if transport == "socket" else {}
        smu = Keithley2400(smu_res, visa_library="@py", **kw)
        awg = Agilent33500(awg_res, visa_library="@py", **kw)
        try:
            assert smu.id.startswith("KEITHLEY INSTRUMENTS INC.,MODEL 2400")
            assert "335" in awg.id
            smu.source_mode = "current"
            smu.compliance_voltage = 2.0
            smu.source_current = 10e-6
            smu.enable_source()
            resistance = smu.voltage / 10e-6
            smu.disable_source()
            # the pillar is parallel or antiparallel: 10 µA is far below its switching current
            assert min(abs(resistance - R_P) / R_P, abs(resistance - R_AP) / R_AP) < 0.05, \
                resistance
            awg.shape = "SIN"
            awg.frequency = 12.5e3
            awg.amplitude = 0.25
            assert (awg.shape, awg.frequency, awg.amplitude) == ("SIN", 12.5e3, 0.25)
        finally:
            smu.adapter.close()
            awg.adapter.close()
    finally:
        _stop(proc)


def test_serve_instrument_refusals(capsys):
    from labspin.cli.main import main
    assert main(["sim", "serve", "--instrument", "hp3458a"]) == 2
    err = capsys.readouterr().err
    assert "unknown instrument model 'hp3458a'" in err and "keysight33500b" in err
    assert main(["sim", "serve", "--instrument", "sr865@70000"]) == 2
    assert "from 1 to 65535" in capsys.readouterr().err
    assert main(["sim", "serve", "--instrument", "sr865", "--wiring", "transport"]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["sim", "serve", "--instrument", "sr865@5025", "--transport", "vxi11"]) == 2
    assert "one core port" in capsys.readouterr().err
