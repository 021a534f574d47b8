"""``labspin simulate wer``: the write-error-rate / switching-probability map of a simulated
sample's free layer (stochastic LLG from thermal equilibrium, the bench's pulse shape), in this
process or on Dask workers (:mod:`labspin.run.distributed`)."""
from __future__ import annotations

import sys

PROG = "labspin simulate wer"


def add_wer_parser(sub) -> None:
    """Add ``wer`` to the ``simulate`` subcommands ``sub``."""
    w = sub.add_parser("wer", help="write error rate and switching probability of a simulated "
                       "sample over pulse amplitude × width",
                       description="Count, per pulse amplitude and width, how many of N "
                       "stochastic-LLG trials of the sample's free layer switch: each trial "
                       "starts in thermal equilibrium in the starting well at zero field and "
                       "current, then gets a trapezoidal current pulse and 2 ns to relax. "
                       "Prints per point the switched count, the Jeffreys-Beta 68 %% interval "
                       "of P(switch) and of the write error rate, and, where no trial failed, "
                       "the 95 %% upper bound on the write error rate.")
    w.add_argument("sample", help="a built-in sample name (`labspin sim samples`) or a TOML file")
    w.add_argument("--amplitudes", required=True, metavar="µA",
                   help="pulse amplitudes in µA, e.g. '150,200,250' or '100:300:5'")
    w.add_argument("--widths", required=True, metavar="ns",
                   help="pulse full widths in ns, e.g. '2,5,10' or '1:10:4'")
    w.add_argument("--trials", type=int, required=True, help="trials per point, ≥ 1")
    w.add_argument("--rise", type=float, default=0.0, metavar="ns",
                   help="pulse edge time in ns, inside the width (default: %(default)s)")
    w.add_argument("--start", default=None, metavar="X,Y,Z",
                   help="the state written from (relaxed to its fixed point first); default: "
                   "opposite the spin torque's polarization, the state a positive pulse "
                   "writes away from")
    w.add_argument("--dt", type=float, default=1.0, metavar="ps",
                   help="time step in ps (default: %(default)s)")
    w.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    w.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a sample parameter (as `labspin sim show --set`)")
    w.add_argument("--csv", default=None, metavar="FILE", help="also write the table as CSV")
    add_where_arguments(w)
    w.set_defaults(func=simulate_wer)


def add_where_arguments(parser) -> None:
    """Add the mutually exclusive --workers N / --scheduler ADDR (Dask) options."""
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, metavar="N",
                       help="run on a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", default=None, metavar="ADDR",
                       help="run on the Dask cluster of this scheduler (tcp://host:8786)")


def solve_or_report(problem, where, prog: str):
    """Get ``problem`` solved on ``where`` with one progress bar, or (None, exit status) after
    a message naming what failed: Dask missing, failed chunks with their parameters, Ctrl-C."""
    from labspin.run.distributed import ChunkFailure, DaskMissing, solve
    try:
        return solve(problem, where, progress=_progress()), 0
    except DaskMissing as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return None, 2
    except ChunkFailure as exc:
        print(f"\n{prog}: {exc}", file=sys.stderr)
        return None, 1
    except KeyboardInterrupt:
        print(f"\n{prog}: cancelled", file=sys.stderr)
        return None, 130


def _problem(args):
    import numpy as np

    from labspin.physics.macrospin.trials import SwitchingProblem
    from labspin.procedures.base import parse_numbers
    from labspin.sim_backend.samples import load_sample

    sm = load_sample(args.sample, args.set)
    if sm.system is None:
        raise ValueError(f"sample {args.sample!r} is a {sm.geometry}, not a macrospin; "
                         "write error rates need a macrospin sample")
    if sm.system.magnet.temperature_K <= 0:
        raise ValueError(f"sample {args.sample!r} is at 0 K: every trial is the same; set "
                         "--set magnet.temperature_K=300")
    amps = parse_numbers(args.amplitudes, "--amplitudes", "µA", example="150,200,250",
                         scale=1e-6, ranges=True)
    widths = parse_numbers(args.widths, "--widths", "ns", example="2,5,10", scale=1e-9,
                           positive=True, ranges=True)
    if args.trials < 1:
        raise ValueError(f"--trials must be ≥ 1, got {args.trials}")
    if not args.dt > 0:
        raise ValueError(f"--dt must be > 0 ps, got {args.dt}")
    if args.start is not None:
        start = parse_numbers(args.start, "--start", example="0,0,-1")
        if len(start) != 3 or not np.any(start):
            raise ValueError(f"--start must be three numbers, not all 0, got {args.start!r}")
    elif sm.system.torques:
        start = tuple(-np.asarray(sm.system.torques[0].sigma))
    else:
        raise ValueError(f"sample {args.sample!r} has no spin torque; give --start X,Y,Z")
    return SwitchingProblem.from_rest(sm.system, amps, widths, args.trials, m_guess=start,
                                      rise_s=args.rise * 1e-9, dt_s=args.dt * 1e-12,
                                      seed=args.seed)


def _progress():
    from labspin.cli.progress import progress_printer
    show = progress_printer()
    if show is None:
        return None
    return lambda done, total, elapsed: show(100.0 * done / total, elapsed)


def wer_table(problem, result) -> list[dict]:
    """Get one row per (amplitude, width) point of a solved :class:`SwitchingProblem`."""
    p, p_lo, p_hi = result.switching_probability()
    e, e_lo, e_hi = result.write_error_rate()
    bound = result.error_upper_bound()
    rows = []
    for ia, a in enumerate(result.amplitudes_A):
        for iw, w in enumerate(result.widths_s):
            rows.append({"amplitude_uA": a * 1e6, "width_ns": w * 1e9, "trials": result.trials,
                         "switched": int(result.switched[ia, iw]),
                         "p_switch": p[ia, iw], "p_lo": p_lo[ia, iw], "p_hi": p_hi[ia, iw],
                         "wer": e[ia, iw], "wer_lo": e_lo[ia, iw], "wer_hi": e_hi[ia, iw],
                         "wer_upper_95": bound[ia, iw]})
    return rows


def simulate_wer(args) -> int:
    """Run ``labspin simulate wer``; returns the exit status."""
    from labspin.physics.macrospin.trials import brute_force_reach, spin_steps
    from labspin.run.distributed import Where

    try:
        where = Where(workers=args.workers, scheduler=args.scheduler)
        problem = _problem(args)
    except ValueError as exc:        # SampleError is a ValueError
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    print(f"# {len(problem.tasks())} tasks, {spin_steps(problem):.3g} spin-steps; "
          f"thermalization {problem.thermalize_s * 1e9:.3g} ns; start m = "
          f"({', '.join(f'{v:.4f}' for v in problem.m_start)})", file=sys.stderr)
    result, status = solve_or_report(problem, where, PROG)
    if result is None:
        return status
    rows = wer_table(problem, result)
    keys = list(rows[0])
    print(" ".join(f"{k:>12s}" for k in keys))
    for r in rows:
        print(" ".join(f"{r[k]:12d}" if isinstance(r[k], int) else f"{r[k]:12.5g}"
                       for k in keys))
    print(f"# brute force with {problem.trials} trials per point cannot show a write error "
          f"rate below {brute_force_reach(problem.trials):.3g} (95 % bound at 0 errors); "
          "smaller targets need more trials or a rare-event method")
    if args.csv:
        import csv
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            wr = csv.DictWriter(f, fieldnames=keys)
            wr.writeheader()
            wr.writerows(rows)
    return 0
