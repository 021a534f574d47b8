"""pymeasure 0.16.0's hardware suites, unmodified (tests/vendored/pymeasure), against the twins.

Each suite runs in a child pytest with the plugin ``labspin_twin_plugin``, in-process
(``@labspin``) and over the HiSLIP server (``@py``, pyvisa-py's default settings). Suites whose
twin passes completely are asserted to pass completely; the pulse-generator suites are not yet
at that level (see the report of issue 19) and are not run here.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
SUITES = TESTS / "vendored" / "pymeasure"
PASSING = [
    ("keithley2400", "test_keithley2400_with_device.py"),
    ("keithley2400", "test_scpi_mixin_with_device.py"),
]


def run_suite(key: str, suite: str, transport: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "labspin_twin_plugin",
         "--labspin-twin", key, "--labspin-transport", transport, "--rootdir", str(SUITES),
         "-o", "addopts=", suite],
        cwd=SUITES, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("transport", ["inprocess", "hislip"])
@pytest.mark.parametrize(("key", "suite"), PASSING)
def test_suite_passes_against_twin(key, suite, transport):
    result = run_suite(key, suite, transport)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr
    assert result.returncode == 0, f"{suite} on {key} ({transport}): {summary}\n{result.stdout[-3000:]}"
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
