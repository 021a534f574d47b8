"""Shared fixtures. Tests import the installed labspin (see README)."""
import os
import uuid
from pathlib import Path

import pytest
from hypothesis import settings

# Property-based tests draw the same examples on every run (CI must not turn red by the luck
# of a draw); LABSPIN_HYPOTHESIS=explore draws new ones, to look for new failures by hand.
settings.register_profile("fixed", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("LABSPIN_HYPOTHESIS", "fixed"))

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


@pytest.fixture
def realdata() -> Path:
    """Get ../shared/realdata, skipping when the checkout has no shared/ beside it."""
    if not REALDATA.is_dir():
        pytest.skip("../shared/realdata not present")
    return REALDATA


@pytest.fixture(scope="module")
def py_rm():
    """A pyvisa-py resource manager (``@py``) for the tests of a module."""
    import pyvisa

    manager = pyvisa.ResourceManager("@py")
    yield manager
    manager.close()


@pytest.fixture
def plug():
    """Register twins under fresh VISA names on their own bench for the test (reached with
    ``visa_library=twin.bench.visa_library``); get register(twin) -> name."""
    names = []

    def register(twin):
        name = twin.bench.resources.register(
            f"TCPIP0::{twin.name}-{uuid.uuid4().hex[:8]}::inst0::INSTR", twin)
        names.append((twin.bench.resources, name))
        return name
    yield register
    for resources, name in names:
        resources.unregister(name)


@pytest.fixture
def run_aborted():
    """Get run(procedure, bench, out_dir, at_percent): run_procedure with an abort raised once
    the procedure reports ``at_percent`` of progress; returns the RunResult."""
    import threading

    from labspin.run.runner import run_procedure

    def run(procedure, bench, out_dir, at_percent):
        abort = threading.Event()

        def progress(percent, elapsed):
            if percent >= at_percent:
                abort.set()
        return run_procedure(procedure, bench, out_dir, progress=progress, abort=abort)
    return run

# The vendored hardware suites need a device; tests/test_pymeasure_suites.py runs them.
collect_ignore = ["vendored"]


@pytest.fixture(autouse=True)
def _lock_dir(tmp_path_factory, monkeypatch):
    """Bench and results-folder locks (labspin.bench.lock) go to a folder of the test
    session, never the user's ~/.local/state (subprocesses inherit it)."""
    if "LABSPIN_LOCK_DIR" not in os.environ:
        monkeypatch.setenv("LABSPIN_LOCK_DIR", str(tmp_path_factory.getbasetemp() / "locks"))
