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

from pymeasure.experiment import Results

from labspin import __version__
from labspin.bench import journal
from labspin.bench import lock as bench_lock
from labspin.bench.safety import LimitError
from labspin.bench.session import Bench
from labspin.run import signals
from labspin.run.status import (  # noqa: F401 — re-exported for the API, sequences, GUI
    ABORTED,
    FAILED,
    FINISHED,
    RUNNING,
    STATUS_NAMES,
    status_name,
)


@dataclass
class RunResult:
    """The outcome of a run: results file, final status, message (empty when finished)."""
    path: Path
    status: int
    message: str

    @property
    def status_name(self) -> str:
        return status_name(self.status)

    def data(self):
        """Get the data as a pandas DataFrame, read by :func:`labspin.results.reader.read_table`
        (its attrs: the header; a cell may hold '#'); no rows yet: the columns only (the
        file's one line that is not '#')."""
        import csv

        import pandas as pd

        from labspin.results.formats import split_table
        from labspin.results.reader import EmptyFileError, read_table
        try:
            return read_table(self.path, add_constants=False)
        except EmptyFileError:              # ended before its first point
            names = [s for s in split_table(self.path).preamble if not s.startswith("#")]
            return pd.DataFrame(columns=next(csv.reader(names[-1:]), []))


def _unique_path(out_dir: Path, name: str) -> Path:
    stamp = datetime.now().strftime("%Y%m%d_%H%M%S")
    for k in range(1000):
        p = out_dir / f"{name}_{stamp}{'' if k == 0 else f'_{k}'}.csv"
        if not p.exists():
            return p
    raise FileExistsError(f"no free file name for {name} in {out_dir}")


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
    """Set the metadata every results file carries (sample, its constants and parameters,
    seed, the instruments' identities, the bench config's hash, versions, start time) on
    ``procedure`` and evaluate it; get the identities. Call after ``bench.open()``."""
    identities = bench.identities()
    procedure.sample_name = sample_name
    procedure.sample_parameters = json.dumps(sample_parameters or {}, sort_keys=True)
    # design.md: the simulated sample's nominal constants (never its truths)
    sample = getattr(getattr(bench, "virtual", None), "sample", None)
    constants = sample.constants() if hasattr(sample, "constants") else {}
    procedure.sample_constants = json.dumps(constants, sort_keys=True) if constants else ""
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
    name = status_name(status)
    return (f"#End time: {end}{Results.LINE_BREAK}#Status: {name}{Results.LINE_BREAK}"
            + (f"#Message: {message}{Results.LINE_BREAK}" if message else ""))


@dataclass
class RunHooks:
    """What the caller of :func:`run_life_cycle` adds to it. ``emit(topic, record)`` is the
    procedure's emit (rows, progress); ``opened(identities)`` is called once the bench is open
    and the metadata is in the file; ``safe(status, message, failures)`` once every source is
    in its safe state (before the bench is closed); ``rows_closed()`` when no row will come
    (before the status lines are appended); ``fault(exc)`` with the exception that ended a run
    FAILED. All but ``emit`` are optional."""
    emit: Callable[[str, object], None]
    opened: Callable[[dict], None] | None = None
    safe: Callable[[int, str, list[str]], None] | None = None
    rows_closed: Callable[[], None] | None = None
    fault: Callable[[BaseException], None] | None = None


def _store_metadata(procedure, bench: Bench, results: Results, sample_name: str,
                    sample_parameters: dict | None, seed: int | None) -> dict:
    """Set the run metadata and insert it into the results file; get the identities (empty
    if that failed: the header still stands and the run's own fault is the one reported)."""
    try:
        identities = set_run_metadata(procedure, bench, sample_name, sample_parameters, seed)
        results.store_metadata()
        return identities
    except Exception:  # noqa: BLE001 — the run's status line below is still written
        return {}


def run_life_cycle(procedure, bench: Bench, results: Results, abort: threading.Event,
                   hooks: RunHooks, *, sample_name: str = "",
                   sample_parameters: dict | None = None,
                   seed: int | None = None, owner=None,
                   guard: signals.StopGuard | None = None) -> tuple[int, str]:
    """Run a checked ``procedure`` whose results file ``results`` exists (header written):
    open the bench, store the metadata, startup/execute, and on every exit (finish, abort,
    exception, instrument fault, stop signal) ramp every source to its safe state, close the
    bench and append the status lines; get (status, message). Raises only an OSError from
    appending the status lines (or the caller's hooks' own errors). The one life
    cycle of the CLI, the API, sequences and the GUI worker; ``abort`` set means should_stop()
    is true (status ABORTED). ``owner``: the acquired bench lock
    (:func:`labspin.bench.lock.lock_for`); every setpoint written is journaled beside it and
    it is released at the end. ``guard``: a StopGuard the caller entered and held
    (:meth:`~labspin.run.signals.StopGuard.hold`) while it took the lock and made the file;
    a signal it noted ends the run ABORTED before anything is switched on."""
    status, message = FAILED, ""
    try:
        if guard is None:
            guard = signals.StopGuard(abort)
            guard.enter()           # SIGINT, SIGTERM, SIGHUP abort the run from here on
        else:
            guard.arm()
        try:
            bench.open()
        finally:                    # a bench that failed to open still leaves its metadata
            identities = _store_metadata(procedure, bench, results, sample_name,
                                         sample_parameters, seed)
        if owner:                   # every setpoint written is journaled from here on
            journal.follow(bench, owner.journal_path)
        procedure.bench = bench
        procedure.emit = hooks.emit
        procedure.should_stop = abort.is_set
        procedure.status = RUNNING
        if hooks.opened is not None:
            hooks.opened(identities)
        if not abort.is_set():      # (a stop before the start: nothing is switched on)
            procedure.startup()
        if not abort.is_set():
            procedure.execute()
        status = ABORTED if abort.is_set() else FINISHED
    except KeyboardInterrupt as exc:
        status, message = ABORTED, f"interrupted ({getattr(exc, 'name', 'Ctrl-C')})"
    except Exception as exc:  # noqa: BLE001 — any fault ends FAILED, named
        status, message = FAILED, f"{type(exc).__name__}: {exc}"
        if hooks.fault is not None:
            hooks.fault(exc)
    finally:
        try:                        # no signal interrupts the ramp-down from here on
            guard.shield(signals.ramp_down_lines(bench))
        except signals.StopSignal:  # one that came as the run ended: noted, not raised again
            guard.shield(signals.ramp_down_lines(bench))
        status, message, failures = shutdown_bench(bench, status, message)
        procedure.status = status
        if hooks.safe is not None:
            hooks.safe(status, message, failures)
        try:
            bench.close()
            if hooks.rows_closed is not None:
                hooks.rows_closed()
            with open(results.data_filename, "a", encoding=Results.ENCODING) as f:
                f.write(status_tail(status, message))
        finally:
            if owner:
                owner.release()
            guard.leave()
    return status, message


def check_parameters(procedure, bench: Bench) -> None:
    """Run ``procedure.check(bench.config)`` (nothing is touched); on a simulated bench a
    LimitError naming max_sample_current_A or max_sample_voltage_V also says which of the
    sample's [limits] set it (e.g. a junction's current density through its cross-section)."""
    try:
        procedure.check(bench.config)
    except LimitError as exc:
        sample = getattr(getattr(bench, "virtual", None), "sample", None)
        if sample is None:
            raise
        from labspin.sim_backend.wirings import sample_limits_note
        note = sample_limits_note(sample, str(exc))
        if not note:
            raise
        raise LimitError(f"{exc}; {note}") from None


def run_procedure(procedure, bench: Bench, out_dir: str | Path = ".", *,
                  sample_name: str = "", sample_parameters: dict | None = None,
                  seed: int | None = None,
                  progress: Callable[[float, float], None] | None = None,
                  abort: threading.Event | None = None, stem: str | None = None) -> RunResult:
    """Run ``procedure`` on ``bench`` (opened here); get the RunResult.

    procedure.check(bench) runs before any instrument is written and its ValueError (or
    LimitError) propagates: nothing was touched and no file is written. After that the run
    goes through :func:`run_life_cycle`, rows written and flushed point by point.
    progress(percent, elapsed clock seconds) is called as the procedure reports progress;
    setting ``abort`` makes the procedure's should_stop() true (status ABORTED). The file is
    ``out_dir/STEM_YYYYmmdd_HHMMSS.csv``, STEM the procedure's name unless given.
    """
    abort = abort or threading.Event()
    check_parameters(procedure, bench)
    # from the lock on, a stop signal is noted, not raised (nor the process killed by it)
    # until the run starts: it then ends ABORTED with its file's status and the lock freed
    guard = signals.StopGuard(abort)
    guard.enter()
    guard.hold()
    owner = None
    try:
        owner = bench_lock.lock_for(bench, procedure.NAME or type(procedure).__name__)
        if owner is not None:       # BenchLockError (held, or left by a dead run): untouched
            owner.acquire(str(bench.config.path or "BENCH"))
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = _unique_path(out_dir, stem or procedure.NAME or type(procedure).__name__)
        results = Results(procedure, str(path))
    except BaseException:           # no file, nothing touched: the bench is free again
        if owner is not None:
            owner.release()
        guard.leave()
        raise
    t0 = bench.clock.now()
    rows = []                       # the append handle, once the metadata is in the file

    def emit(topic, record):
        if topic == "results":
            rows[0].write(results.format(record) + Results.LINE_BREAK)
            rows[0].flush()
        elif topic == "progress" and progress is not None:
            progress(float(record), bench.clock.now() - t0)

    def close_rows():
        if rows:
            rows.pop().close()

    hooks = RunHooks(emit, opened=lambda _: rows.append(open(path, "a",
                                                             encoding=Results.ENCODING)),
                     rows_closed=close_rows)
    status, message = run_life_cycle(procedure, bench, results, abort, hooks,
                                     sample_name=sample_name,
                                     sample_parameters=sample_parameters, seed=seed,
                                     owner=owner, guard=guard)
    return RunResult(path, status, message)
