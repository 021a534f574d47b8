"""QCoDeS 0.58's drivers, unmodified, against the twins (issue 19 item 4: a twin must answer
every query a well-known driver sends at connection and for its snapshot).

Each test builds the twin on a fresh virtual bench, opens the QCoDeS driver on it through
``@labspin`` in-process (``visalib=bench.visa_library``), takes ``snapshot(update=True)``,
requires every gettable parameter the driver can read in the state it is in to answer, then
sets and gets a few of the model's basic parameters and checks the physics shows.
Parameters a driver itself refuses to read in that state (a 2400's reading with the output
off, a 2450 sweep axis before ``sweep_setup``) are listed per test with the driver's reason.
"""
from __future__ import annotations

import pytest

pytest.importorskip("qcodes")

from qcodes.instrument import Instrument, InstrumentChannel, InstrumentModule  # noqa: E402

from labspin.sim_backend.samples import load_sample  # noqa: E402
from labspin.sim_backend.virtual_bench import VirtualBench  # noqa: E402
from labspin.sim_backend.wirings import twin_classes  # noqa: E402

SAMPLE = "inplane_sot_hallbar"


@pytest.fixture
def connect():
    """Get connect(key, driver_class, **wiring) -> (qcodes instrument, twin, bench); every
    instrument opened is closed after the test."""
    opened = []

    def open_driver(key, driver_class, **wiring):
        bench = VirtualBench(load_sample(SAMPLE), seed=0)
        twin = twin_classes()[key](bench, key, **wiring)
        address = bench.resources.register("GPIB0::1::INSTR", twin, replace=True)
        instrument = driver_class(f"qc_{key}", address, visalib=bench.visa_library)
        opened.append((instrument, bench))
        return instrument, twin, bench
    yield open_driver
    for instrument, _bench in opened:
        instrument.close()
    Instrument.close_all()


def _parameters(node, prefix=""):
    """Every parameter of an instrument and its submodules/channels: dotted name -> parameter."""
    out = {prefix + name: p for name, p in node.parameters.items()}
    for sub_name, sub in node.submodules.items():
        members = [sub] if isinstance(sub, (InstrumentChannel, InstrumentModule)) else list(sub)
        for member in members:
            out.update(_parameters(member, f"{prefix}{member.short_name}."))
    return out


def unanswered(instrument, refused_by_driver=()) -> dict[str, str]:
    """Snapshot with update, then get every gettable parameter; get name -> error of those
    that failed and are not in ``refused_by_driver``; counts go to the test's report."""
    instrument.snapshot(update=True)
    failed, total = {}, 0
    for name, parameter in _parameters(instrument).items():
        if not parameter.gettable or name in refused_by_driver:
            continue
        total += 1
        try:
            parameter.get()
        except Exception as exc:  # noqa: BLE001 -- report every failure at once
            failed[name] = f"{type(exc).__name__}: {exc}"[:300]
    print(f"{type(instrument).__name__}: {total - len(failed)}/{total} parameters answered")
    return failed


def test_keithley2400_connects_and_measures_the_sample(connect):
    from qcodes.instrument_drivers.Keithley import Keithley2400

    smu, twin, bench = connect("keithley2400", Keithley2400, drives_sample=True, probe="xx")
    assert smu.IDN()["model"] == "2400"
    refused = {"volt", "curr", "resistance"}      # the driver reads only with the output on
    assert unanswered(smu, refused) == {}
    smu.mode("CURR")
    smu.compliancev(2.0)
    smu.rangei(1e-3)
    smu.curr(1e-4)
    smu.nplcv(1.0)
    assert smu.mode() == "CURR" and '"VOLT:DC"' in smu.sense()   # concurrent functions on
    assert smu.compliancev() == pytest.approx(2.0)
    assert smu.nplcv() == pytest.approx(1.0)
    smu.output(True)
    assert smu.output() is True
    assert unanswered(smu) == {}
    r_xx = bench.resistance("xx")
    # :READ? gives the measured current: within the 1 mA range's source accuracy
    # (0.027 % + 0.6 µA, manual spec) of the set 100 µA
    assert smu.curr() == pytest.approx(1e-4, abs=0.27e-7 + 0.6e-6)
    # 100 µA through R_xx (kΩ): V ~ 0.1 V, noise and offsets far below the 5 % asked
    assert smu.volt() / 1e-4 == pytest.approx(r_xx, rel=0.05)
    assert smu.resistance() == pytest.approx(r_xx, rel=0.05)
    smu.output(False)
