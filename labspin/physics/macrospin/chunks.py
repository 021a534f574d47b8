"""Ensemble problems cut into chunks of members, so that any executor (this process, a pool, a
Dask cluster) can run the chunks anywhere and reduce them on the caller's side.

A *chunked problem* is a picklable object with

- ``tasks()``: the list of its tasks (small picklable values, e.g. (point, lo, hi)),
- ``run_task(task)``: one task's partial result (numbers of that task's members only),
- ``reduce(tasks, partials)``: the result, from every task's partial in ``tasks()`` order,
- ``cost(task)``: its spin-steps (for progress and time remaining),
- ``describe(task)``: the task's parameters in words (for a failure report),
- optionally ``balanced(slots)``: the same problem cut so that its tasks share out evenly
  over ``slots`` workers (see :func:`balanced_chunk`); the numbers do not change.

Members draw from counter-based streams keyed by (seed, global member index, step), so a
task's numbers do not depend on which process runs it or on how the members were split;
reductions run in ``tasks()`` order on the caller's side, so the result is bit for bit the one
:func:`solve` gets in one process.
"""
from __future__ import annotations

from labspin.physics.macrospin.rng import MAX_MEMBERS

DEFAULT_CHUNK = 1 << 16
"""Members per task: ~2 MB of state (3 float64 per member, plus its drives) per worker, and
enough spins per call to keep the kernel's threads busy."""


def member_ranges(n: int, chunk: int = DEFAULT_CHUNK) -> list[tuple[int, int, int]]:
    """Get (block, lo, hi) pieces of n members: at most ``chunk`` members each, never across a
    stream block of :data:`~labspin.physics.macrospin.rng.MAX_MEMBERS` (block b holds the
    members b·MAX_MEMBERS + [lo, hi) of its own stream)."""
    if n < 1 or chunk < 1:
        raise ValueError(f"members and chunk must be ≥ 1, got {n} and {chunk}")
    out = []
    start = 0
    while start < n:
        block, lo = divmod(start, MAX_MEMBERS)
        hi = min(lo + chunk, MAX_MEMBERS, lo + n - start)
        out.append((block, lo, hi))
        start += hi - lo
    return out


def balanced_chunk(n: int, slots: int, most: int) -> int:
    """Get the chunk that cuts n members into a multiple of ``slots`` equal pieces of at
    most ``most`` members: 100 000 trials in chunks of 65 536 are a task of 65 536 and one
    of 34 464, the second worker idle for half the map; balanced over 2 slots they are two
    of 50 000."""
    if n < 1 or slots < 1 or most < 1:
        raise ValueError(f"members, slots and most must be ≥ 1, got {n}, {slots}, {most}")
    pieces = slots * -(-n // (slots * most))
    return max(1, -(-n // pieces))


def solve(problem):
    """Get a chunked problem's result in this process, task after task."""
    tasks = problem.tasks()
    return problem.reduce(tasks, [problem.run_task(t) for t in tasks])
