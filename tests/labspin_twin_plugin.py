"""pytest plugin: point a foreign hardware suite's ``--device-address`` at a labspin twin.

``pytest -p labspin_twin_plugin --labspin-twin KEY [--labspin-transport inprocess|hislip|vxi11]
SUITE`` (with ``tests/`` on PYTHONPATH) builds the twin of driver key KEY on a fresh virtual
bench and sets the suite's device address to it: registered in-process on that bench's own ``bench-N@labspin``
(through the PYVISA_LIBRARY variable pyvisa reads, since the suites pass no library), or
served on 127.0.0.1 over HiSLIP or VXI-11 for pyvisa-py (``@py``). The suite is run unmodified.
"""
from __future__ import annotations

import os

import pytest

IN_PROCESS_ADDRESS = "GPIB0::{n}::INSTR"


def pytest_addoption(parser):
    group = parser.getgroup("labspin")
    group.addoption("--labspin-twin", default=None, metavar="KEY",
                    help="driver key of the simulated twin to test (e.g. keithley2400)")
    group.addoption("--labspin-transport", default="inprocess", choices=("inprocess", "hislip", "vxi11"),
                    help="reach the twin through @labspin in-process, over HiSLIP or VXI-11")
    group.addoption("--labspin-sample", default="inplane_sot_hallbar",
                    help="sample of the virtual bench the twin is wired to")


def pytest_configure(config):
    key = config.getoption("--labspin-twin")
    if key is None:
        return
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.virtual_bench import VirtualBench
    from labspin.sim_backend.wirings import twin_classes, warm_up

    classes = twin_classes()
    if key not in classes:
        raise pytest.UsageError(f"--labspin-twin {key!r}: twins are {', '.join(classes)}")
    warm_up(load_sample(config.getoption("--labspin-sample")))
    bench = VirtualBench(load_sample(config.getoption("--labspin-sample")), seed=0)
    twin = classes[key](bench, key)
    config._labspin_bench = bench  # the bench's registry is held weakly: keep it for the session
    if config.getoption("--labspin-transport") == "inprocess":
        address = bench.resources.register(IN_PROCESS_ADDRESS.format(n=1), twin, replace=True)
        os.environ["PYVISA_LIBRARY"] = bench.visa_library
    else:
        if config.getoption("--labspin-transport") == "hislip":
            from labspin.sim_backend.hislip import serve_hislip
            handle = serve_hislip({key: twin})
        else:
            from labspin.sim_backend.vxi11 import serve_vxi11
            handle = serve_vxi11({key: twin}, portmapper_port=None)
        config.add_cleanup(handle.close)
        address = handle.resources[key]
        os.environ["PYVISA_LIBRARY"] = "@py"
    config.option.adapter = address
