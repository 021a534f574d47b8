"""Chunked problems and independent jobs on Dask (``dask.distributed``), or in this process.

:func:`solve` runs a chunked problem (:mod:`labspin.physics.macrospin.chunks`: a phase map, a
write-error-rate map) task by task on the workers of a Dask cluster and reduces on this side,
in the problem's task order, so the result is bit for bit the in-process one.

- Cluster: :func:`cluster` opens a ``LocalCluster`` of ``workers`` processes (one thread each;
  numba's threads per worker = cores ÷ workers) or connects to ``scheduler`` (an address such
  as ``tcp://10.0.0.5:8786``, a ``dask scheduler`` started by hand or by dask-jobqueue).
  Neither: everything runs in this process and Dask is not imported (it is optional).
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
    threads = where.threads_per_worker or max(1, (os.cpu_count() or 1) // where.workers)
    env = {"NUMBA_NUM_THREADS": str(threads), "OMP_NUM_THREADS": "1"}
    lc = distributed.LocalCluster(n_workers=where.workers, threads_per_worker=1,
                                  processes=True, memory_limit=where.memory_limit,
                                  dashboard_address=None, host="127.0.0.1", env=env)
    client = distributed.Client(lc)
    try:
        yield client
    finally:
        client.close()
        lc.close()


def _run_task(problem, task):
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
        _gather_bounded(fn, items, client, in_flight, retries, finished)
    if failures:
        failures.sort()
        raise ChunkFailure([(describe(items[k]), e) for k, e in failures], out)
    return out


def _gather_bounded(fn, items, client, in_flight, retries, finished) -> None:
    from distributed import as_completed
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    pending = iter(enumerate(items))
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
    import functools
    tasks = problem.tasks()
    fn = functools.partial(_run_task, problem)
    kw = dict(cost=[problem.cost(t) for t in tasks], describe=problem.describe,
              progress=progress)
    if client is not None:
        return problem.reduce(tasks, map_tasks(fn, tasks, client, **kw))
    if not where.distributed:
        return problem.reduce(tasks, map_tasks(fn, tasks, None, **kw))
    with cluster(where) as c:
        return problem.reduce(tasks, map_tasks(fn, tasks, c, **kw))
