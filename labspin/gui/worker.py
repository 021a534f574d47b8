"""Running queued procedures from the GUI: pymeasure's Manager and Worker running the
runner's one life cycle (``labspin.run.runner.run_life_cycle``) in the worker thread.

The window checks the limits and builds the bench (``labspin.run.api.prepare``) when a run is
queued; the worker hands the life cycle pymeasure's emit (Recorder for the file, Monitor for
live plots) and reports the status only after the life cycle has brought every source to its
safe state, closed the bench and appended ``#End time/#Status/#Message``, so the window never
shows a run as ended while its bench is still ramping. Between points it samples the bench
for the bench panel (:class:`BenchState`).
"""
from __future__ import annotations

import logging
import threading
import time

from pymeasure.display.listeners import Monitor
from pymeasure.display.manager import Manager
from pymeasure.experiment import Results
from pymeasure.experiment.listeners import Recorder
from pymeasure.experiment.workers import Worker

from labspin.bench.lock import BenchLockError, lock_for
from labspin.run.runner import (
    FAILED,
    FINISHED,
    RUNNING,
    RunHooks,
    run_life_cycle,
    status_name,
    status_tail,
)

from .estimator import RunClock

log = logging.getLogger(__name__)


# role → (attribute, unit) pairs the bench panel reads from a source (read-only queries)
_OUTPUTS = {
    "source_meter": (("source_enabled", ""), ("source_current", "A"), ("source_voltage", "V")),
    "current_source": (("source_enabled", ""), ("source_current", "A")),
    "lock_in": (("sine_amplitude", "V rms"), ("frequency", "Hz")),
    "rf_source": (("output_enabled", ""), ("power", "dBm"), ("frequency", "Hz")),
    "magnet_supply": (("output_enabled", ""), ("current_setpoint", "A")),
    "pulse_generator": (("output_enabled", ""), ("amplitude", "V")),
}


def read_outputs(inst, role: str) -> dict[str, object]:
    """Get the output state of a source by role: {attribute: value or "unavailable (…)"}
    (queries only; a source meter's level is the one of its source mode)."""
    out: dict[str, object] = {}
    attrs = _OUTPUTS.get(role, ())
    if role == "source_meter":
        try:
            mode = str(inst.source_mode)
            attrs = tuple(a for a in attrs if a[0] != ("source_voltage" if mode == "current"
                                                        else "source_current"))
        except Exception as exc:  # noqa: BLE001 — the panel shows what it could read
            out["source_mode"] = f"unavailable ({type(exc).__name__})"
    for attr, _ in attrs:
        try:
            out[attr] = getattr(inst, attr)
        except Exception as exc:  # noqa: BLE001
            out[attr] = f"unavailable ({type(exc).__name__})"
    return out


PREPARING = "preparing the physics kernels (first run in this process: numba compiles them " \
    "or loads them from its cache, some seconds)…"


def physics_kernels_ready() -> bool:
    """Get whether a macrospin kernel of the simulated sample (the equilibrium's right-hand
    side, the time integrator) has run in this process: numba compiles them, or loads them
    from its cache, at their first call, before the first point (~4 s on a first run)."""
    from labspin.physics.macrospin.kernel import integrate, rhs_array
    return bool(rhs_array.signatures or integrate.signatures)


class BenchState:
    """What the bench panel shows, written by the worker thread, read by the GUI thread.

    ``snapshot()`` gets a dict: ``phase`` ("idle", "running", or the final status name),
    ``instruments`` (name → role, driver, resource, identity, outputs), ``field_T`` (the last
    measured field in the data, T), ``field_read`` (when that point was measured, wall time
    in s since the epoch), ``field_setpoint_T`` (the magnet's setpoint, T), ``sampled`` (when
    the outputs were read, wall time), ``cost_s`` (how long reading them took). Sampling between
    points is paced so that it takes at most 1/``BUDGET`` of the run's wall time and happens
    at most every ``MIN_INTERVAL_S``.
    """
    MIN_INTERVAL_S = 0.5
    BUDGET = 50

    def __init__(self):
        self._lock = threading.Lock()
        self._snapshot: dict = {"phase": "idle", "instruments": {}}
        self._next = 0.0

    def snapshot(self) -> dict:
        with self._lock:
            return dict(self._snapshot)

    def _publish(self, snap: dict) -> None:
        with self._lock:
            self._snapshot = snap

    def sample(self, bench, phase: str, identities: dict[str, str],
               field_T: float | None = None) -> None:
        """Read every open source's outputs now and publish them (worker thread only)."""
        t0 = time.perf_counter()
        insts = {}
        for name, cfg in bench.config.instruments.items():
            inst = bench.instruments.get(name)
            insts[name] = {"role": cfg.role, "driver": cfg.driver, "resource": cfg.resource,
                           "identity": identities.get(name, "not connected"),
                           "outputs": read_outputs(inst, cfg.role) if inst is not None else {}}
        magnet = bench.magnet
        cost = time.perf_counter() - t0
        previous = self.snapshot()
        now = time.time()
        self._publish({
            "phase": phase, "instruments": insts,
            "field_T": field_T if field_T is not None else previous.get("field_T"),
            "field_read": now if field_T is not None else previous.get("field_read"),
            "field_setpoint_T": None if magnet is None else magnet.field_setpoint_T,
            "sampled": now, "cost_s": cost})
        self._next = time.monotonic() + max(self.MIN_INTERVAL_S, self.BUDGET * cost)

    def observe(self, bench, identities: dict[str, str], record: dict) -> None:
        """Note a measured point (its field, the magnet's setpoint: no query); read the
        sources if their turn has come (worker thread)."""
        field = record.get("Field (T)")
        field = float(field) if isinstance(field, (int, float)) else None
        if time.monotonic() >= self._next:
            self.sample(bench, "running", identities, field)
            return
        update = {} if field is None else {"field_T": field, "field_read": time.time()}
        if bench.magnet is not None:
            update["field_setpoint_T"] = bench.magnet.field_setpoint_T
        with self._lock:
            self._snapshot = {**self._snapshot, **update}


class LabspinWorker(Worker):
    """pymeasure's Worker running one prepared run (``labspin.run.api.PreparedRun``) with the
    runner's bench life cycle, metadata, status lines and safe-state guarantee; ``clock``
    (a RunClock) gets its start, rows, end and message."""

    def __init__(self, results: Results, prepared, state: BenchState,
                 clock: RunClock | None = None, log_level=logging.INFO):
        super().__init__(results, log_level=log_level, port=None)
        self.prepared, self.state = prepared, state
        self.clock = clock if clock is not None else RunClock(0)
        self.identities: dict[str, str] = {}
        self.message = ""

    def emit(self, topic: str, record):
        super().emit(topic, record)
        if topic == "results" and isinstance(record, dict):
            self.clock.row()
            try:
                self.state.observe(self.prepared.bench, self.identities, record)
            except Exception as exc:  # noqa: BLE001 — the panel must never stop a run
                log.debug("bench panel sample failed: %s", exc)

    def run(self):
        proc = self.procedure = self.results.procedure
        p = self.prepared
        self.recorder = Recorder(self.results, self.recorder_queue)
        self.recorder.start()
        proc.is_last = self.is_last
        self.clock.started = time.time()
        if self.prepared.bench_file is None and not physics_kernels_ready():
            self.clock.waiting_for = PREPARING
            log.info("%s: %s", proc.NAME, PREPARING)
        self.update_status(RUNNING)
        self.emit("progress", 0.0)
        hooks = RunHooks(self.emit, opened=self._opened, safe=self._safe,
                         rows_closed=self._close_rows,
                         fault=lambda exc: log.error("%s failed", proc.NAME, exc_info=exc))
        owner = lock_for(p.bench, proc.NAME or type(proc).__name__)
        try:
            if owner is not None:   # a bench another run holds (or a dead run left live)
                owner.acquire(str(p.bench.config.path or "BENCH"))
        except BenchLockError as exc:
            self._refused(str(exc))
            return
        try:
            status, self.message = run_life_cycle(
                proc, p.bench, self.results, self._should_stop, hooks,
                sample_name=p.sample_name, sample_parameters=p.sample_parameters, seed=p.seed,
                owner=owner)
        except OSError as exc:      # the status lines could not be appended
            status, self.message = proc.status, f"{type(exc).__name__}: {exc}"
            log.error("cannot append the status to %s: %s", self.results.data_filename, exc)
        self._report(status)

    def _refused(self, message: str) -> None:
        """The bench is not ours: nothing was touched; the file says why (FAILED)."""
        log.error(message)
        self.message = message
        self.procedure.status = FAILED
        self._close_rows()
        with open(self.results.data_filename, "a", encoding=Results.ENCODING) as f:
            f.write(status_tail(FAILED, message))
        self._report(FAILED)

    def _opened(self, identities: dict[str, str]) -> None:
        self.identities = identities
        waiting = self.clock.waiting_for
        self.state.sample(self.prepared.bench, f"running — {waiting}" if waiting else "running",
                          identities)

    def _safe(self, status: int, message: str, failures: list[str]) -> None:
        """Every source is safe: log the failures, show the final state (never raises)."""
        for f in failures:
            log.error(f)
        name = status_name(status)
        try:
            self.state.sample(self.prepared.bench, f"{name} — bench in its safe state"
                              if not failures else f"{name} — shutdown failed", self.identities)
        except Exception as exc:  # noqa: BLE001
            log.debug("bench panel sample failed: %s", exc)

    def _close_rows(self) -> None:
        try:
            self.recorder.stop()
        except Exception as exc:  # noqa: BLE001
            log.error("closing the results file: %s", exc)

    def _report(self, status: int) -> None:
        """Tell the GUI the status, after the bench is safe and the file closed."""
        if status == FAILED and self.message:
            log.error("%s: %s", self.procedure.NAME, self.message)
        self.clock.ended, self.clock.message = time.time(), self.message
        self.update_status(status)
        if status == FINISHED:
            self.emit("progress", 100.0)
        self.monitor_queue.put(None)
        self.stop()


class LabspinManager(Manager):
    """pymeasure's Manager, starting a :class:`LabspinWorker` per queued experiment (its
    procedure carries the PreparedRun in ``labspin_prepared``, the experiment its RunClock in
    ``run_clock``)."""

    def __init__(self, widget_list, browser, log_level=logging.INFO, parent=None):
        super().__init__(widget_list, browser, port=None, log_level=log_level, parent=parent)
        self.bench_state = BenchState()

    def worker(self):
        """Get the running experiment's worker (None when idle)."""
        return self._worker

    def next(self):
        if self.is_running():
            raise RuntimeError("Another procedure is already running")
        if not self.experiments.has_next():
            return
        experiment = self.experiments.next()
        self._running_experiment = experiment
        prepared = experiment.procedure.labspin_prepared
        if getattr(experiment, "run_clock", None) is None:
            experiment.run_clock = RunClock(int(experiment.procedure.estimate()[0]))
        self._worker = LabspinWorker(experiment.results, prepared, self.bench_state,
                                     experiment.run_clock, log_level=self.log_level)
        self._worker.is_last = lambda: not self.experiments.has_next()
        self._monitor = Monitor(self._worker.monitor_queue)
        self._monitor.worker_running.connect(self._running)
        self._monitor.worker_failed.connect(self._failed)
        self._monitor.worker_abort_returned.connect(self._abort_returned)
        self._monitor.worker_finished.connect(self._finish)
        self._monitor.progress.connect(self._update_progress)
        self._monitor.status.connect(self._update_status)
        self._monitor.log.connect(self._update_log)
        self._monitor.start()
        self._worker.start()

    def _clean_up(self):
        # the worker has reported its status after its bench was safe and closed; wait for
        # its thread to end (bounded) before the next run may open a bench
        self._worker.join(5.0)
        super()._clean_up()
