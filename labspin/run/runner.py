"""Running one procedure on a bench: limits checked first, the results file written and
flushed point by point, and every exit (finish, abort, exception, instrument fault, Ctrl-C)
ending with every source in its safe state and the file closed with its status."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

from pymeasure.experiment import Procedure, Results

from labspin import __version__
from labspin.bench import journal
from labspin.bench import lock as bench_lock
from labspin.bench.session import Bench
from labspin.run import signals

FINISHED, ABORTED, FAILED = Procedure.FINISHED, Procedure.ABORTED, Procedure.FAILED
STATUS_NAMES = {FINISHED: "FINISHED", ABORTED: "ABORTED", FAILED: "FAILED"}


@dataclass
class RunResult:
    """The outcome of a run: results file, final status, message (empty when finished)."""
    path: Path
    status: int
    message: str

    @property
    def status_name(self) -> str:
        return STATUS_NAMES.get(self.status, str(self.status))

    def data(self):
        """Get the data as a pandas DataFrame."""
        import pandas as pd
        return pd.read_csv(self.path, comment="#")


def _unique_path(out_dir: Path, name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    for k in range(1000):
        p = out_dir / f"{name}_{stamp}{'' if k == 0 else f'_{k}'}.csv"
        if not p.exists():
            return p
    raise FileExistsError(f"no free file name for {name} in {out_dir}")


def _write_header(procedure, path: Path) -> None:
    """Write the results header of a run that stopped before writing it (e.g. Ctrl-C while
    the instruments were opened), so that the run still leaves a loadable file."""
    try:
        Results(procedure, str(path)).store_metadata()
    except Exception:  # noqa: BLE001 — the status line below is still written
        pass


def software_versions() -> dict[str, str]:
    """Get the versions of Python and of the packages a run's numbers depend on."""
    import platform
    from importlib.metadata import PackageNotFoundError, version
    out = {"python": platform.python_version(), "labspin": __version__}
    for dist in ("pymeasure", "pyvisa", "pyvisa-py", "numpy", "scipy", "numba", "pandas",
                 "lmfit"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def set_run_metadata(procedure, bench: Bench, sample_name: str = "",
                     sample_parameters: dict | None = None, seed: int | None = None) -> dict:
    """Set the metadata every results file carries (sample and its parameters, seed, the
    instruments' identities, the bench config's hash, versions, start time) on ``procedure``
    and evaluate it; get the identities. Call after ``bench.open()``."""
    identities = bench.identities()
    procedure.sample_name = sample_name
    procedure.sample_parameters = json.dumps(sample_parameters or {}, sort_keys=True)
    procedure.seed = "" if seed is None else str(seed)
    procedure.instruments = json.dumps(identities, sort_keys=True)
    procedure.bench_config_sha256 = bench.config.sha256
    procedure.labspin_version = __version__
    procedure.versions = json.dumps(software_versions(), sort_keys=True)
    procedure.start_time = datetime.now().isoformat(timespec="seconds")
    procedure.evaluate_metadata()
    return identities


def shutdown_bench(bench: Bench, status: int, message: str) -> tuple[int, str, list[str]]:
    """Bring every source of ``bench`` to its safe state (each attempted; never raises); get
    (status, message, failures): FAILED with the failures appended to the message if any."""
    try:
        failures = bench.shutdown()
    except BaseException as exc:  # noqa: BLE001
        failures = [f"shutdown: {type(exc).__name__}: {exc}"]
    if failures:
        status = FAILED
        message = "; ".join(filter(None, [message, *failures]))
    return status, message, failures


def status_tail(status: int, message: str) -> str:
    """Get the lines that close a results file: ``#End time``, ``#Status`` and, if any,
    ``#Message``."""
    end = datetime.now().isoformat(timespec="seconds")
    name = STATUS_NAMES[status]
    return (f"#End time: {end}{Results.LINE_BREAK}#Status: {name}{Results.LINE_BREAK}"
            + (f"#Message: {message}{Results.LINE_BREAK}" if message else ""))


def run_procedure(procedure, bench: Bench, out_dir: str | Path = ".", *,
                  sample_name: str = "", sample_parameters: dict | None = None,
                  seed: int | None = None,
                  progress: Callable[[float, float], None] | None = None,
                  abort: threading.Event | None = None) -> RunResult:
    """Run ``procedure`` on ``bench`` (opened here); get the RunResult.

    procedure.check(bench) runs before any instrument is written and its ValueError (or
    LimitError) propagates: nothing was touched and no file is written. After that every
    exit is caught, every source is shut down (each attempted), and the status is written.
    progress(percent, elapsed clock seconds) is called as the procedure reports progress;
    setting ``abort`` makes the procedure's should_stop() true (status ABORTED).
    """
    abort = abort or threading.Event()
    procedure.check(bench.config)
    owner = bench_lock.lock_for(bench, procedure.NAME or type(procedure).__name__)
    if owner is not None:           # BenchLockError (held, or left by a dead run): untouched
        owner.acquire(str(bench.config.path or "BENCH"))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = _unique_path(out_dir, procedure.NAME or type(procedure).__name__)
    status, message = FAILED, ""
    t0 = bench.clock.now()
    handle = None
    guard = signals.StopGuard(abort)
    try:
        guard.enter()               # SIGINT, SIGTERM, SIGHUP abort the run from here on
        bench.open()
        procedure.bench = bench
        set_run_metadata(procedure, bench, sample_name, sample_parameters, seed)
        if owner:                   # every setpoint written is journaled from here on
            journal.follow(bench, owner.journal_path)
        results = Results(procedure, str(path))
        results.store_metadata()
        handle = open(path, "a", encoding=Results.ENCODING)

        def emit(topic, record):
            if topic == "results":
                handle.write(results.format(record) + Results.LINE_BREAK)
                handle.flush()
            elif topic == "progress" and progress is not None:
                progress(float(record), bench.clock.now() - t0)
        procedure.emit = emit
        procedure.should_stop = abort.is_set
        procedure.status = Procedure.RUNNING
        procedure.startup()
        procedure.execute()
        status = ABORTED if procedure.should_stop() else FINISHED
    except KeyboardInterrupt as exc:
        status, message = ABORTED, f"interrupted ({getattr(exc, 'name', 'Ctrl-C')})"
    except Exception as exc:  # noqa: BLE001 — any fault ends FAILED, named
        status, message = FAILED, f"{type(exc).__name__}: {exc}"
    finally:
        try:                        # no signal interrupts the ramp-down from here on
            guard.shield(signals.ramp_down_lines(bench))
        except signals.StopSignal:  # one that came as the run ended: noted, not raised again
            guard.shield(signals.ramp_down_lines(bench))
        status, message, _ = shutdown_bench(bench, status, message)
        procedure.status = status
        tail = status_tail(status, message)
        if handle is None and not path.exists():
            _write_header(procedure, path)      # stopped before the header: still a file
        if handle is not None:
            handle.write(tail)
            handle.close()
        elif path.exists():
            with open(path, "a", encoding=Results.ENCODING) as f:
                f.write(tail)
        bench.close()
        if owner:
            owner.release()
        guard.leave()
    return RunResult(path, status, message)
