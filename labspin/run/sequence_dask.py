"""The runs of a simulated sequence side by side on Dask workers (``labspin sequence FILE
--workers N | --scheduler ADDR``).

Each run is one task: on a worker it builds its own simulated bench with the run's seed and
writes its results file into the sequence's folder through the one run life cycle (the
folder must be shared by the workers when they are on other hosts), named after the run
(:func:`labspin.run.sequence.run_stem`), so the files are the serial path's. This side keeps
the progress record: every submitted run is "running" (with its file stem), each result is
recorded as it arrives, and a sequence killed here resumes as a serial one does.

- A worker lost mid-run: the scheduler runs the task again on another worker (Dask's
  ``distributed.scheduler.allowed-failures``, 3 by default); the lost attempt's partial file
  is listed under the run's ``earlier_files``. A run whose workers kept dying is recorded as
  LOST with the scheduler's message, never left out.
- Ctrl-C (KeyboardInterrupt) or ``abort``: runs not started yet are cancelled (they stay
  pending); every running run is aborted on its worker and ends with its status (ABORTED,
  its file closed); then the interrupt is re-raised.
"""
from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from labspin.run.distributed import cluster, worker_threads

try:  # Dask is optional: without it this module is only imported to say so
    from distributed import WorkerPlugin
except ImportError:
    WorkerPlugin = object

ABORT_WAIT_S = 120.0
"""Longest wait (wall s) for the running runs to end after an abort (a simulated bench's
ramp-down takes milliseconds)."""
_ABORTS: dict[str, threading.Event] = {}
"""Per worker process: the abort flag of each sequence, set by :func:`_abort`."""


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run of a simulated sequence."""
    procedure: str
    sample: str | None
    set: tuple[str, ...]
    params: dict
    seed: int
    out: str
    stem: str
    sequence_id: str


def _abort(sequence_id: str) -> None:
    """Set (on the worker it runs on) the abort flag of sequence ``sequence_id``."""
    _ABORTS.setdefault(sequence_id, threading.Event()).set()


def _abort_event(sequence_id: str):
    """Get the cluster-wide abort event of a sequence (held by the scheduler: a worker
    started after the abort sees it too)."""
    import distributed
    return distributed.Event(f"labspin-abort-{sequence_id}")


class IgnoreTerminalInterrupt(WorkerPlugin):
    """Worker plugin for the local cluster's workers: a terminal's Ctrl-C reaches the whole
    process group, and a worker it killed would lose its run's status; the sequence's side
    turns the Ctrl-C into an abort every running run answers with its status."""
    name = "labspin-ignore-sigint"

    def setup(self, worker) -> None:
        import signal
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def run_task(task: RunTask) -> dict:
    """Run one run on this worker; get its status, file name and message ("CANCELLED" and no
    file when the sequence was aborted before the run started)."""
    from labspin.run import api
    worker_threads()
    abort = _ABORTS.setdefault(task.sequence_id, threading.Event())
    if abort.is_set() or _abort_event(task.sequence_id).is_set():
        return {"status": "CANCELLED", "file": None, "message": "the sequence was aborted"}
    p = api.prepare(task.procedure, sample=task.sample, set=list(task.set),
                    params=task.params, seed=task.seed)
    result = api.run(p, out=task.out, abort=abort, stem=task.stem)
    return {"status": result.status_name, "file": result.path.name,
            "message": result.message}


def run_on_dask(seq, out: Path, todo: list[dict], where, *, save, head, log, status_of,
                progress=None, abort=None, client=None) -> None:
    """Run the entries ``todo`` of the progress record of ``seq`` in ``out`` (each with its
    file "stem") on the Dask cluster of ``where`` (or on ``client``, already connected to it),
    updating them as results arrive; ``save()`` writes the record, ``head(entry)`` names a
    run in ``log`` lines, ``status_of(path)`` reads a results file's final status; see the
    module notes."""
    import contextlib

    import distributed
    abort = abort or threading.Event()
    n = len(todo)
    sequence_id = uuid.uuid4().hex
    with (contextlib.nullcontext(client) if client is not None else cluster(where)) as client:
        if where.workers is not None:        # our own processes, in the terminal's group
            client.register_plugin(IgnoreTerminalInterrupt())
        futures = {}
        for e in todo:
            e.update({"status": "running",
                      "started": datetime.now().isoformat(timespec="seconds")})
            task = RunTask(seq.procedure, seq.sample, tuple(seq.set), e["params"],
                           e["seed"], str(Path(out).resolve()), e["stem"], sequence_id)
            futures[client.submit(run_task, task, pure=False,
                                  key=f"{e['stem']}-{sequence_id}")] = e
        save()
        log(f"{len(todo)} runs on the Dask cluster at {client.scheduler.address}")
        t0, done = time.monotonic(), 0
        pending = set(futures)
        interrupted = None
        while pending:
            try:
                if abort.is_set() and interrupted is None:
                    interrupted = _stop(client, sequence_id, log)
                finished, pending = distributed.wait(
                    pending, timeout=0.25 if interrupted is None else ABORT_WAIT_S,
                    return_when="FIRST_COMPLETED")
            except KeyboardInterrupt as exc:     # Ctrl-C, or SIGTERM/SIGHUP (run.signals)
                interrupted = interrupted or _stop(client, sequence_id, log, exc)
                continue
            except distributed.TimeoutError:
                if interrupted is None:
                    continue
                break                            # the running runs did not end in time
            for fut in finished:
                e = futures[fut]
                _record(e, fut, out, head, log)
                done += 1
                save()
                if progress is not None:
                    progress(e["index"], n, 100.0 * done / n, time.monotonic() - t0)
        for fut in pending:                       # did not end within ABORT_WAIT_S
            _from_files(futures[fut], out, status_of)
            fut.cancel()
        save()
        if isinstance(interrupted, BaseException):
            raise interrupted


def _stop(client, sequence_id: str, log, exc: BaseException | None = None):
    """Abort the sequence on every worker; get what to re-raise at the end (or True)."""
    log("aborting: runs not started are cancelled, running ones end with their status")
    _abort_event(sequence_id).set()
    client.run(_abort, sequence_id)
    return exc if exc is not None else True


def _from_files(e: dict, out: Path, status_of) -> None:
    """Record a run whose task did not answer from the files named after it: the last one's
    status if it has one, else pending (it is redone on the next start)."""
    names = sorted(p.name for p in out.glob(f"{e['stem']}_*.csv"))
    status = status_of(out / names[-1]) if names else None
    if status is not None:
        e.update({"status": status, "file": names[-1], "message": "no answer from its "
                  f"worker within {ABORT_WAIT_S:g} s of the abort; status from its file"})
        names = names[:-1]
    else:
        e.update({"status": "pending", "file": None, "message": ""})
    e["earlier_files"].extend(n for n in names if n not in e["earlier_files"])


def _record(e: dict, fut, out: Path, head, log) -> None:
    """Put a finished task's outcome into its run's entry ``e``, with the files lost
    attempts left (named after the run, not its result) under ``earlier_files``."""
    if fut.status == "finished":
        r = fut.result()
    else:
        err = fut.exception()
        r = {"status": "LOST" if type(err).__name__ == "KilledWorker" else "FAILED",
             "file": None, "message": f"{type(err).__name__}: {err}"}
    fut.release()
    if r["status"] == "CANCELLED":
        e.update({"status": "pending", "file": None, "message": ""})
        return
    e.update({"status": r["status"], "file": r["file"], "message": r["message"],
              "ended": datetime.now().isoformat(timespec="seconds")})
    lost = sorted(p.name for p in out.glob(f"{e['stem']}_*.csv")
                  if p.name != r["file"] and p.name not in e["earlier_files"])
    e["earlier_files"].extend(lost)
    where = f": {out / r['file']}" if r["file"] else ""
    extra = f" ({r['message']})" if r["message"] else ""
    lost_text = f"; {len(lost)} attempt(s) lost with their worker: {', '.join(lost)}" \
        if lost else ""
    log(f"{head(e)}: {r['status']}{extra}{where}{lost_text}")
