"""``labspin sequence FILE [--out DIR] [--check] [--workers N | --scheduler ADDR]`` and
``labspin sequence --example``: the command line of :mod:`labspin.run.sequence` (and, with
--workers or --scheduler, of :mod:`labspin.run.sequence_dask`)."""
from __future__ import annotations

import sys
from pathlib import Path

from labspin.cli.progress import progress_printer
from labspin.run import signals
from labspin.run.distributed import DaskMissing, Where
from labspin.run.sequence import (
    EXAMPLE,
    STATE_FILE,
    SequenceError,
    default_out,
    describe_point,
    load_sequence,
    plan,
    raise_problems,
    run_sequence,
    validate,
)


def sequence_main(args) -> int:
    """``labspin sequence FILE [--out DIR] [--check]`` and ``labspin sequence --example``."""
    if getattr(args, "example", False):
        print(EXAMPLE, end="")
        return 0
    if not args.file:
        print("labspin sequence: give a sequence FILE (TOML); `labspin sequence --example` "
              "prints one", file=sys.stderr)
        return 2
    try:
        where = Where(workers=getattr(args, "workers", None),
                      scheduler=getattr(args, "scheduler", None))
        seq = load_sequence(args.file)
        if where.distributed and seq.bench is not None:
            raise SequenceError("a sequence on a real bench runs serially (one bench, one "
                                "owner): drop --workers/--scheduler")
        out = Path(args.out) if args.out else default_out(seq, Path(args.file))
        if out.exists() and not out.is_dir():
            raise SequenceError(f"the results folder {out} is a file; give another --out")
        problems, estimates, summary = validate(seq)
        raise_problems(problems)
        runs = seq.runs()
        todo = ([e["index"] for e in plan(seq, out)["runs"] if e["status"] != "FINISHED"]
                if out.is_dir() else list(range(len(runs))))
    except (SequenceError, ValueError) as exc:
        print(f"labspin sequence: {exc}", file=sys.stderr)
        return 2
    bench_s = sum(estimates[k][1] for k in todo)
    for line in summary:
        print(line, file=sys.stderr)
    print(f"sequence {args.file}: {len(runs)} runs, {len(runs) - len(todo)} finished earlier, "
          f"{len(todo)} to run, about {bench_s:.0f} s of bench time"
          f"{'' if seq.bench else ' (virtual)'}; results and {STATE_FILE} in {out}",
          file=sys.stderr)
    if getattr(args, "check", False):
        for k, r in enumerate(runs):
            print(f"  run {k + 1}: {describe_point(r['point'])}  seed {r['seed']}", file=sys.stderr)
        return 0
    # SIGTERM/SIGHUP between runs stop the sequence as Ctrl-C does; handlers put back after
    ours = not signals.installed() and signals.install()
    bar = progress_printer("wall clock" if where.distributed else "bench clock")
    progress = None if bar is None else (lambda k, n, pct, t: bar(pct, t))
    try:
        result = run_sequence(seq, out, progress=progress, check=False, where=where,
                              log=lambda text: print(("\n" if bar else "") + text,
                                                     file=sys.stderr, flush=True))
    except (SequenceError, DaskMissing) as exc:
        print(f"labspin sequence: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"\nlabspin sequence: interrupted; rerun `labspin sequence {args.file} --out "
              f"{out}` to resume", file=sys.stderr)
        return 130
    finally:
        if ours:
            signals.uninstall()
    for path in result.files:
        print(path)
    if not result.complete:
        print(f"labspin sequence: stopped with {len(result.files)} of {len(runs)} runs "
              f"finished; rerun `labspin sequence {args.file} --out {out}` to continue from "
              "the first unfinished run", file=sys.stderr)
        return 1
    return 0
