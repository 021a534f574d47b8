"""Chunked problems and independent jobs on Dask (``dask.distributed``), or in this process.

:func:`solve` runs a chunked problem (:mod:`labspin.physics.macrospin.chunks`: a phase map, a
write-error-rate map) task by task on the workers of a Dask cluster and reduces on this side,
in the problem's task order, so the result is bit for bit the in-process one.

- Cluster: :func:`cluster` opens a ``LocalCluster`` of ``workers`` processes (one thread each;
  numba's threads per worker = cores ÷ workers) or connects to ``scheduler`` (an address such
  as ``tcp://10.0.0.5:8786``, a ``dask scheduler`` started by hand or by dask-jobqueue).
  Neither: everything runs in this process and Dask is not imported (it is optional).
- Start-up: where the platform has it, the local workers are forked from one ``forkserver``
  that imported labspin's run and physics modules (and the labspin modules this process
  has loaded) once, instead of each spawned worker importing scipy, pymeasure and labspin
  again (≈ 2 s of CPU a worker, the length of ten short runs); the server lives as long as
  this process, so a second cluster starts in a fraction of a second. Nothing runs a
  kernel there (GNU OpenMP is not fork-safe): each worker loads its numba kernels itself.
- Memory: at most ``in_flight`` tasks per worker are submitted at a time and each partial
  result is taken off the cluster as it arrives; a worker holds one task's members.
- Progress: one callback over all workers, ``progress(done_cost, total_cost, elapsed_s)``.
- Failures: a task that raises is reported with its parameters (:class:`ChunkFailure`) after
  the others have finished (not retried: the same numbers would fail again); a task whose
  worker died is rescheduled on another one by the scheduler (``distributed.scheduler.
  allowed-failures`` times, 3 by default).
- Ctrl-C (KeyboardInterrupt): the pending tasks are cancelled, the local cluster closed, and
  the interrupt re-raised.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

Progress = Callable[[float, float, float], None]


class DaskMissing(RuntimeError):
    """Distributed execution asked for without the ``dask`` extra installed."""


class ChunkFailure(RuntimeError):
    """Some tasks failed; ``failures`` lists (task description, error text); ``partials``
    holds the other tasks' results (None where failed), in task order."""

    def __init__(self, failures: list[tuple[str, str]], partials: list):
        self.failures = failures
        self.partials = partials
        lines = "\n  ".join(f"{d}: {e}" for d, e in failures)
        super().__init__(f"{len(failures)} of {len(partials)} tasks failed (the others "
                         f"finished):\n  {lines}")


@dataclass(frozen=True)
class Where:
    """Where work runs: ``workers`` local processes, or a ``scheduler`` address, or (both
    None) this process."""
    workers: int | None = None
    scheduler: str | None = None
    threads_per_worker: int | None = None
    memory_limit: str = "auto"

    def __post_init__(self):
        if self.workers is not None and self.scheduler is not None:
            raise ValueError("give --workers N (a local cluster) or --scheduler ADDR, not both")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be ≥ 1, got {self.workers}")

    @property
    def distributed(self) -> bool:
        return self.workers is not None or self.scheduler is not None


PRELOAD = ("labspin.run.api", "labspin.run.sequence_dask", "labspin.physics.macrospin",
           "labspin.physics.macrospin.trials", "labspin.physics.macrospin.phase_map",
           "labspin.procedures.registry", "labspin.sim_backend.wirings",
           "labspin.sim_backend.samples", "labspin.drivers", "pymeasure.experiment",
           "pymeasure.instruments", "scipy.optimize", "scipy.stats", "scipy.signal",
           "labspin.run.worker_preload")
"""Modules the local workers' forkserver imports once (a missing one is skipped)."""
QUIET = {"distributed.worker.profile.enabled": False,
         "distributed.admin.system-monitor.interval": "5s",
         "distributed.admin.tick.interval": "500ms"}
"""Dask settings of the local cluster: no statistical profiler (it feeds a dashboard the
cluster does not open) and slower health checks; measured idle here, a worker's and the
client's background CPU 3.6 % and 3.6 % of a core each with Dask's defaults, 0.7 % and
1.0 % with these, taken from the runs' cores."""
THREADS_ENV = "LABSPIN_NUMBA_THREADS"
"""Environment variable that gives a local worker its numba threads (numba read its own
NUMBA_NUM_THREADS in the forkserver, before the worker existed)."""


def _preload() -> list[str]:
    """Get what the forkserver imports: :data:`PRELOAD` and the labspin modules loaded here
    (what this process needed for the same work), without the GUI."""
    import sys
    here = sorted(m for m in sys.modules if m.startswith("labspin.")
                  and not m.startswith(("labspin.gui", "labspin.cli")))
    return list(dict.fromkeys([*PRELOAD, *here]))


def _start_method() -> str:
    """Get how local workers are started: "forkserver" (preloaded) where available."""
    import multiprocessing

    import dask
    try:
        from distributed.utils import get_mp_context
    except ImportError:             # another distributed: its own start method
        return dask.config.get("distributed.worker.multiprocessing-method")
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return "spawn"
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        ctx = get_mp_context()      # sets distributed's own preload, once: ours goes after it
    ctx.set_forkserver_preload(["distributed", *_preload()])
    return "forkserver"


def worker_threads() -> None:
    """Give this thread the numba threads its local worker was started with (call at the
    start of a task; a no-op outside a local cluster's worker)."""
    n = os.environ.get(THREADS_ENV)
    if n:
        import numba
        numba.set_num_threads(max(1, min(int(n), numba.config.NUMBA_NUM_THREADS)))


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise DaskMissing("distributed runs need Dask: pip install 'labspin[dask]' "
                          "(or run without --workers/--scheduler)") from None
    return distributed


@contextlib.contextmanager
def cluster(where: Where) -> Iterator[object]:
    """Get a ``distributed.Client`` for ``where`` (closed, with its local cluster, on exit)."""
    distributed = _import_distributed()
    if where.scheduler is not None:
        client = distributed.Client(where.scheduler)
        try:
            yield client
        finally:
            client.close()
        return
    import dask
    threads = where.threads_per_worker or max(1, (os.cpu_count() or 1) // where.workers)
    # not NUMBA_NUM_THREADS: numba read it in the forkserver, and a worker whose environment
    # disagrees with that once its thread pool runs fails every later compile ("Cannot set
    # NUMBA_NUM_THREADS ... once the threads have been launched"); THREADS_ENV sets the count
    env = {THREADS_ENV: str(threads), "OMP_NUM_THREADS": "1"}
    # for the cluster's lifetime: a worker the nanny restarts is started the same way
    with dask.config.set({"distributed.worker.multiprocessing-method": _start_method(),
                          **QUIET}):
        lc = distributed.LocalCluster(n_workers=where.workers, threads_per_worker=1,
                                      processes=True, memory_limit=where.memory_limit,
                                      dashboard_address=None, host="127.0.0.1", env=env)
        client = distributed.Client(lc)
        try:
            yield client
        finally:
            client.close()
            lc.close()


class Starting:
    """A :func:`cluster` being started in a background thread, so that this process goes
    on with work that needs no worker (checking a sequence's runs) meanwhile.

    ``client()`` waits for it (re-raising what the start raised, e.g. :class:`DaskMissing`);
    ``close()`` closes it, started or not."""

    def __init__(self, where: Where):
        import concurrent.futures
        self._stack = contextlib.ExitStack()
        self._pool = concurrent.futures.ThreadPoolExecutor(1, "labspin-cluster-start")
        self._future = self._pool.submit(self._stack.enter_context, cluster(where))

    def client(self):
        return self._future.result()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._future.result()
        self._pool.shutdown()
        self._stack.close()


def _run_task(problem, task):
    worker_threads()
    return problem.run_task(task)


def map_tasks(fn: Callable, items: list, client, *, cost: Iterable[float] | None = None,
              describe: Callable[[object], str] = repr, progress: Progress | None = None,
              in_flight: int = 4, retries: int = 0, on_result: Callable | None = None) -> list:
    """Get [fn(item) for item in items] computed on ``client``'s workers (None for ``client``:
    here), in item order. At most ``in_flight`` × workers items are on the cluster at once.

    ``on_result(index, value)`` is called as each result arrives; ChunkFailure after every
    item ran if any raised (``describe(item)`` names it)."""
    costs = [1.0] * len(items) if cost is None else [float(c) for c in cost]
    total = sum(costs) or 1.0
    t0 = time.monotonic()
    out: list = [None] * len(items)
    failures: list[tuple[int, str]] = []
    done = [0.0]

    def finished(k, value=None, error=None):
        if error is None:
            out[k] = value
            if on_result is not None:
                on_result(k, value)
        else:
            failures.append((k, f"{type(error).__name__}: {error}"))
        done[0] += costs[k]
        if progress is not None:
            progress(done[0], total, time.monotonic() - t0)

    if client is None:
        for k, item in enumerate(items):
            try:
                value = fn(item)
            except Exception as exc:  # noqa: BLE001 — reported with the item, others go on
                finished(k, error=exc)
            else:
                finished(k, value)
    else:
        _gather_bounded(fn, items, costs, client, in_flight, retries, finished)
    if failures:
        failures.sort()
        raise ChunkFailure([(describe(items[k]), e) for k, e in failures], out)
    return out


def slots(client) -> int:
    """Get the task slots (threads over all workers) of ``client``'s cluster now."""
    workers = client.scheduler_info().get("workers", {})
    return max(1, sum(int(w.get("nthreads", 1)) for w in workers.values()))


def _gather_bounded(fn, items, costs, client, in_flight, retries, finished) -> None:
    """Submit the costliest items first (no long task left to start last, alone), at most
    ``in_flight`` per slot at a time."""
    from distributed import as_completed
    n_workers = slots(client)
    order = sorted(range(len(items)), key=lambda k: -costs[k])
    pending = ((k, items[k]) for k in order)
    index, live = {}, set()
    ac = as_completed()

    def submit_next():
        for k, item in pending:
            fut = client.submit(fn, item, pure=False, retries=retries)
            index[fut.key] = k
            live.add(fut)
            ac.add(fut)
            return

    try:
        for _ in range(max(1, in_flight * n_workers)):
            submit_next()
        for fut in ac:
            live.discard(fut)
            k = index.pop(fut.key)
            if fut.status == "finished":
                finished(k, fut.result())
            else:
                finished(k, error=fut.exception())
            fut.release()
            submit_next()
    except BaseException:           # Ctrl-C, or the scheduler gone: drop the cluster's work
        client.cancel(list(live))
        raise


def solve(problem, where: Where = Where(), *, progress: Progress | None = None,
          client=None):
    """Get a chunked problem's result on ``where`` (or on an open ``client``), reduced here in
    task order: the same numbers as :func:`labspin.physics.macrospin.chunks.solve`."""
    if client is None and not where.distributed:
        return _solve_on(problem, None, progress)
    if client is not None:
        return _solve_on(problem, client, progress)
    with cluster(where) as c:
        return _solve_on(problem, c, progress)


def _solve_on(problem, client, progress):
    """Solve on ``client`` (None: here), its tasks balanced over the cluster's slots when
    the problem can (``balanced``)."""
    import functools
    if client is not None and hasattr(problem, "balanced"):
        problem = problem.balanced(slots(client))
    tasks = problem.tasks()
    return problem.reduce(tasks, map_tasks(
        functools.partial(_run_task, problem), tasks, client,
        cost=[problem.cost(t) for t in tasks], describe=problem.describe, progress=progress))
