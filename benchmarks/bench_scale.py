"""Cost and speed-up of ensemble maps on Dask workers, next to the same map in one process.

    python benchmarks/bench_scale.py            # table
    python benchmarks/bench_scale.py --json     # one JSON object
    python benchmarks/bench_scale.py --small    # CI smoke sizes

The map: write-error-rate trials of the built-in ``mtj_pillar_switching`` sample (stochastic
LLG from thermal equilibrium, 4 amplitudes × 1 width). Timed after a warm-up solve on each
executor (numba compiles once per process), cluster start-up excluded (reported apart):

- ``map_in_process_s``: this process, numba threads = all cores;
- ``dask_overhead_1_worker`` = 1 worker (all cores) ÷ in process;
- ``map_speedup_2_workers`` = in process ÷ 2 workers (cores/2 threads each);
- ``bit_identical``: the three executors' counts are equal;
- ``sequence_serial_s``, ``sequence_2_workers_s``, ``sequence_speedup_2_workers``: a
  sequence of simulated tmr-statistics runs (40 runs, 400 reads each; 8 × 100 with --small)
  one after another and on 2 workers (``labspin sequence --workers 2``; cluster start-up
  included, as a user waits for it).

Numbers on a machine shared with other jobs are noisy; the speed-up is bounded by the cores.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace

import numpy as np

from labspin.physics.macrospin.chunks import solve as solve_here
from labspin.physics.macrospin.trials import SwitchingProblem, spin_steps
from labspin.run import distributed as dist
from labspin.sim_backend.samples import load_sample


def _problem(trials: int) -> SwitchingProblem:
    system = load_sample("mtj_pillar_switching").system
    return SwitchingProblem.from_rest(system, [180e-6, 220e-6, 260e-6, 300e-6], [5e-9], trials,
                                      m_guess=(0.0, 0.0, -1.0), seed=1,
                                      chunk=max(1, trials // 8))


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def run(small: bool) -> dict:
    problem = _problem(256 if small else 4096)
    warm = replace(problem, trials=8, chunk=4)
    cores = os.cpu_count() or 1
    solve_here(warm)
    t_here, here = _timed(lambda: solve_here(problem))
    out = {"cores": cores, "trials_per_point": problem.trials, "tasks": len(problem.tasks()),
           "spin_steps": spin_steps(problem), "map_in_process_s": t_here}
    counts = {"in_process": here.switched}
    for n in (1, 2):
        t0 = time.perf_counter()
        with dist.cluster(dist.Where(workers=n, threads_per_worker=max(1, cores // n))) as c:
            c.wait_for_workers(n)
            out[f"cluster_start_{n}_workers_s"] = time.perf_counter() - t0
            dist.solve(warm, client=c)
            t, res = _timed(lambda: dist.solve(problem, client=c))
        out[f"map_{n}_workers_s"] = t
        counts[f"{n}_workers"] = res.switched
    out["dask_overhead_1_worker"] = out["map_1_workers_s"] / t_here
    out["map_speedup_2_workers"] = t_here / out["map_2_workers_s"]
    out["bit_identical"] = all(np.array_equal(v, here.switched) for v in counts.values())
    out["switched"] = here.switched[:, 0].tolist()
    out.update(_sequence_speedup(small))
    return out


SEQUENCE = """procedure = "tmr-statistics"
seed = 4

[params]
reads = {reads}

[grid]
gate_voltages = [-1, 1]
bias_current = {biases}
"""


def _sequence_speedup(small: bool) -> dict:
    """Time a sequence of dry runs serially and on 2 Dask workers (wall time, s)."""
    import tempfile
    from pathlib import Path

    from labspin.run import sequence as sq
    n, reads = (4, 100) if small else (20, 400)
    biases = "[" + ", ".join(f"{k}e-6" for k in range(1, n + 1)) + "]"
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "seq.toml"
        f.write_text(SEQUENCE.format(reads=reads, biases=biases), encoding="utf-8")
        seq = sq.load_sequence(f)
        t_serial, _ = _timed(lambda: sq.run_sequence(seq, Path(tmp) / "serial",
                                                      log=lambda _: None))
        t_dask, res = _timed(lambda: sq.run_sequence(
            seq, Path(tmp) / "dask", where=dist.Where(workers=2), log=lambda _: None))
    return {"sequence_runs": 2 * n, "sequence_serial_s": t_serial,
            "sequence_2_workers_s": t_dask, "sequence_speedup_2_workers": t_serial / t_dask,
            "sequence_complete": bool(res.complete)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--small", action="store_true", help="CI smoke sizes")
    args = ap.parse_args(argv)
    out = run(args.small)
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:32s} {v:.4g}" if isinstance(v, float) else f"{k:32s} {v}")
    return 0 if out["bit_identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
