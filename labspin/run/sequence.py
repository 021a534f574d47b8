"""Sequences: one procedure run over a grid of parameters, from a small TOML file; resumable.

A sequence file names the procedure, its bench (a bench config, or the simulated bench with
a sample, ``set`` overrides and a seed), fixed parameters and either a ``[grid]`` (every
combination, in the order written, the last key varying fastest) or pymeasure's sequencer
syntax (the text the GUI's sequencer saves). ``labspin sequence --example`` prints one.

Every run's parameters and limits are checked (:func:`labspin.run.api.prepare`) before the first
run starts. The output folder keeps ``sequence_state.json``: each run's parameters, seed,
results file and status, rewritten atomically before and after every run. Running the same
sequence into the same folder again continues from the first unfinished run: runs that
FINISHED (and whose file says so) are kept; a run that ended ABORTED or FAILED, or was killed
(its file has no ``#Status`` line), is run again into a new file — the old one is kept and
listed under the run's ``earlier_files``.
"""
from __future__ import annotations

import functools
import itertools
import json
import os
import sys
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from labspin.run.sequence_values import SequenceValueError, sequence_values

STATE_FILE = "sequence_state.json"
KEYS = ("procedure", "bench", "sample", "set", "seed", "out", "params", "grid", "sequencer",
        "sequencer_file")

EXAMPLE = '''\
# A labspin sequence: one procedure over a grid of parameters.
#   labspin sequence stfmr_grid.toml            run it (rerun the same command to resume)
#   labspin sequence stfmr_grid.toml --check    check every run, list them, run nothing
#   labspin analyze stfmr stfmr_grid/*.csv      analyze all its results files together

procedure = "stfmr"              # see `labspin procedures`
# bench = "bench.toml"           # a real bench's config; without it, the simulated bench:
sample = "inplane_sot_hallbar"   # simulated sample (`labspin sim samples`, or a .toml file)
set = ["alpha=0.012"]            # simulated sample overrides (`labspin sim show SAMPLE`)
seed = 0                         # simulated bench noise seed (may also be a grid key)
out = "stfmr_grid"               # results folder, relative to this file (--out overrides)

[params]                         # the same for every run (a wrong name is refused, with the
field_points = 41                #   list of this procedure's parameters)
both_polarities = true

[grid]                           # one run per combination, last key fastest (3 x 3 = 9 runs)
frequencies = [6, 9, 12]         # GHz, this procedure's unit for "Frequencies (GHz)"
dc_currents = [-2e-3, 0, 2e-3]   # A through the bias tee

# Instead of [grid], pymeasure's sequencer syntax (what the GUI's sequencer saves; names are
# the parameters' names as the GUI shows them, or as above; values are Python expressions
# with range, arange, linspace, ...; each "-" level is nested in the one above):
# sequencer = """
# - "Frequencies (GHz)", "[6, 9, 12]"
# -- "DC currents (A)", "linspace(-2e-3, 2e-3, 3)"
# """
# or: sequencer_file = "stfmr.seq"
'''


class SequenceError(ValueError):
    """A sequence file that cannot run; the message names the file, the key and the fix."""


@dataclass
class Sequence:
    """A parsed sequence: the procedure, its bench, fixed parameters and the runs' points
    (each {parameter name: value as text}, plus "seed" where the grid sets it)."""
    procedure: str
    bench: str | None = None
    sample: str | None = None
    set: list[str] = field(default_factory=list)
    seed: int = 0
    params: dict[str, str] = field(default_factory=dict)
    points: list[dict[str, str]] = field(default_factory=lambda: [{}])
    out: Path | None = None
    source: Path | None = None

    def identity(self) -> dict:
        """Get what every run shares: procedure and bench (a progress record is for one)."""
        return {"procedure": self.procedure, "bench": self.bench, "sample": self.sample,
                "set": list(self.set)}

    def runs(self) -> list[dict]:
        """Get each run as {"point", "params", "seed"}: the grid point, all its parameters
        (fixed ones and the point's) as text, and its seed."""
        out = []
        for point in self.points:
            params = {**self.params, **{k: v for k, v in point.items() if k != "seed"}}
            out.append({"point": dict(point), "params": params,
                        "seed": int(point.get("seed", self.seed))})
        return out


# --- reading -------------------------------------------------------------------------------
def _text(value, where: str) -> str:
    """Get a parameter value as the text a pymeasure Parameter takes; a list (for the
    comma-separated list parameters) is joined with ', '."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    if hasattr(value, "item"):                      # numpy scalars from the sequencer
        return _text(value.item(), where)
    if isinstance(value, list) and all(isinstance(v, (int, float, str)) and
                                       not isinstance(v, bool) for v in value):
        return ", ".join(str(v) for v in value)
    raise SequenceError(f"{where}: {value!r} is not a number, text, true/false or a list "
                        "of numbers")


def _names(procedure: str) -> dict[str, str]:
    """Get {accepted name: parameter attribute} of a procedure: the attribute names and the
    names the GUI shows (pymeasure's sequencer files use those)."""
    from labspin.procedures import procedure_class
    objects = procedure_class(procedure)().parameter_objects()
    names = {p.name: key for key, p in objects.items()}
    names.update({key: key for key in objects})
    return names


def _key(name: str, names: dict[str, str], procedure: str, where: str) -> str:
    if name == "seed":
        return "seed"
    key = names.get(name, names.get(name.replace("-", "_")))
    if key is None:
        attrs = sorted(set(names.values()))
        raise SequenceError(f"{where}: {procedure} has no parameter {name!r}; its parameters "
                            f"are {', '.join(attrs)} (or seed)")
    return key


def _grid_points(grid: dict, names, procedure: str, label: str) -> list[dict[str, str]]:
    keys, values = [], []
    for name, vals in grid.items():
        where = f"{label} [grid] {name}"
        key = _key(name, names, procedure, where)
        if key in keys:
            raise SequenceError(f"{where}: parameter {key!r} is given twice")
        if not isinstance(vals, list) or not vals:
            raise SequenceError(f"{where}: give a non-empty list of values, e.g. "
                                f"{name} = [1, 2, 3]")
        keys.append(key)
        values.append([_seed(v, where) if key == "seed" else _text(v, where) for v in vals])
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]


def _seed(value, where: str) -> str:
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SequenceError(f"{where}: a seed is an integer ≥ 0, got {value!r}")
    return str(value)


@functools.cache
def literal_sequence_handler():
    """Get pymeasure's SequenceHandler with its value expressions read as data by
    :func:`sequence_values` instead of ``eval`` (the CLI's sequences and the GUI's
    sequencer both use it: nothing in a sequence is executed)."""
    from pymeasure.experiment.sequencer import SequenceEvaluationError, SequenceHandler

    class LiteralSequenceHandler(SequenceHandler):
        @staticmethod
        def eval_string(string, name=None, depth=None, log_enabled=True):
            try:
                return sequence_values(string)
            except SequenceValueError as exc:
                raise SequenceEvaluationError(f"{name or string!r}: {exc}") from None

    return LiteralSequenceHandler


def _sequencer_points(text: str, names, procedure: str, label: str) -> list[dict[str, str]]:
    """Get the points of pymeasure's sequencer syntax (pymeasure.experiment.sequencer, no Qt),
    its value expressions read as data by :func:`sequence_values` (never evaluated)."""
    import io

    from pymeasure.experiment.sequencer import SequenceEvaluationError

    where = f"{label} sequencer"
    try:
        handler = literal_sequence_handler()(valid_inputs=list(names) + ["seed"],
                                         file_obj=io.StringIO(text))
        if not handler._sequences:
            raise SequenceError(f"{where}: no line of the form - \"Parameter\", \"[1, 2]\"")
        rows = handler.parameters_sequence(names_map={**names, "seed": "seed"})
    except SequenceEvaluationError as exc:
        raise SequenceError(f"{where}: {exc}") from None
    points = []
    for row in rows:
        point: dict[str, str] = {}
        for item in row:
            for key, value in item.items():
                w = f"{where} {key}"
                point[key] = _seed(value, w) if key == "seed" else _text(value, w)
        points.append(point)
    return points


def parse_sequence(data: dict, *, base: Path = Path("."), label: str = "sequence") -> Sequence:
    """Get a :class:`Sequence` from the parsed TOML ``data``; paths (bench, sample files,
    out, sequencer_file) are relative to ``base``. SequenceError names the key at fault."""
    from labspin.procedures import PROCEDURES
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise SequenceError(f"{label}: unknown key {unknown[0]!r}; a sequence file has "
                            f"{', '.join(KEYS)}")
    procedure = data.get("procedure")
    if procedure not in PROCEDURES:
        raise SequenceError(f"{label}: procedure = {procedure!r} is not a procedure; "
                            f"procedures: {', '.join(PROCEDURES)}" if procedure is not None
                            else f"{label}: procedure is missing, e.g. procedure = \"stfmr\"")
    names = _names(procedure)
    seq = Sequence(procedure, source=None)
    for key in ("bench", "sample", "out"):
        v = data.get(key)
        if v is not None and not isinstance(v, str):
            raise SequenceError(f"{label}: {key} must be a text, got {v!r}")
    if data.get("bench"):
        seq.bench = str((base / data["bench"]).resolve())
    if data.get("sample"):
        s = data["sample"]
        seq.sample = str((base / s).resolve()) if s.endswith(".toml") else s
    if data.get("out"):
        seq.out = (base / data["out"]).resolve()
    overrides = data.get("set", [])
    if not isinstance(overrides, list) or not all(isinstance(s, str) for s in overrides):
        raise SequenceError(f"{label}: set is a list of \"KEY=VALUE\" texts, e.g. "
                            "set = [\"alpha=0.012\"]")
    seq.set = list(overrides)
    seq.seed = int(_seed(data.get("seed", 0), f"{label} seed"))
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise SequenceError(f"{label}: params must be a table ([params])")
    for name, value in params.items():
        where = f"{label} [params] {name}"
        key = _key(name, names, procedure, where)
        if key == "seed":
            raise SequenceError(f"{where}: the seed is a top-level key (seed = 0) or a grid key")
        seq.params[key] = _text(value, where)
    given = [k for k in ("grid", "sequencer", "sequencer_file") if k in data]
    if len(given) > 1:
        raise SequenceError(f"{label}: give one of [grid], sequencer and sequencer_file, "
                            f"not {' and '.join(given)}")
    if "grid" in data:
        if not isinstance(data["grid"], dict) or not data["grid"]:
            raise SequenceError(f"{label}: [grid] needs at least one parameter = [values]")
        seq.points = _grid_points(data["grid"], names, procedure, label)
    elif given:
        text = data[given[0]]
        if not isinstance(text, str):
            raise SequenceError(f"{label}: {given[0]} must be a text")
        if given[0] == "sequencer_file":
            try:
                text = (base / text).read_text(encoding="utf-8")
            except OSError as exc:
                raise SequenceError(f"{label}: sequencer_file: {exc}") from None
        seq.points = _sequencer_points(text, names, procedure, label)
    for point in seq.points:
        clash = [k for k in point if k in seq.params]
        if clash:
            raise SequenceError(f"{label}: parameter {clash[0]!r} is both in [params] and in "
                                "the grid")
    return seq


def load_sequence(path: str | Path) -> Sequence:
    """Read a sequence file (TOML); SequenceError names the file, line or key at fault."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SequenceError(f"cannot read sequence file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SequenceError(f"{path} is not valid TOML: {exc}") from None
    seq = parse_sequence(data, base=path.resolve().parent, label=str(path))
    seq.source = path.resolve()
    return seq


def describe_point(point: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in point.items()) or "(fixed parameters)"


def raise_problems(problems: list[str]) -> None:
    if problems:
        raise SequenceError("nothing was run; fix these runs of the sequence first:\n  "
                            + "\n  ".join(problems))


def validate(seq: Sequence) -> tuple[list[str], list[tuple[int, float]], list[str]]:
    """Prepare every run (parameters, bench and limits checked; nothing opened); get (one
    problem per failing run, (points, bench seconds) per run, the first run's summary)."""
    from labspin.bench.config import ConfigError
    from labspin.bench.safety import LimitError
    from labspin.run.api import prepare
    from labspin.sim_backend.samples import SampleError
    problems, estimates, summary = [], [], []
    runs = seq.runs()
    for k, run in enumerate(runs):
        try:
            p = prepare(seq.procedure, bench=seq.bench, sample=seq.sample, set=seq.set,
                        params=run["params"], seed=run["seed"])
        except (ValueError, LimitError, ConfigError, SampleError) as exc:
            problems.append(f"run {k + 1} of {len(runs)} ({describe_point(run['point'])}): {exc}")
            estimates.append((0, 0.0))
            continue
        estimates.append(p.procedure.estimate())
        summary = summary or p.summary()
    return problems, estimates, summary


# --- the progress record ---------------------------------------------------------------------
def _run_key(run: dict) -> str:
    return json.dumps({"params": run["params"], "seed": run["seed"]}, sort_keys=True)


def file_status(path: Path) -> str | None:
    """Get the final status a results file records (its last '#Status:' line), or None when
    it has none (the run was killed) or the file is missing."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            tail = f.read().decode("utf-8", errors="replace")
    except OSError:
        return None
    status = None
    for line in tail.splitlines():
        if line.startswith("#Status:"):
            status = line.partition(":")[2].strip()
    return status


def write_state(path: Path, state: dict) -> None:
    """Write the progress record atomically (a temporary file, flushed, then renamed)."""
    state["updated"] = datetime.now().isoformat(timespec="seconds")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state, f, indent=1)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_state(out: Path) -> dict | None:
    """Get the progress record of the sequence in ``out`` (None if there is none)."""
    path = out / STATE_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SequenceError(f"{path} is unreadable ({exc}); move it away to start the "
                            "sequence over") from None


def run_stem(seq: Sequence, index: int) -> str:
    """Get the start of run ``index``'s results file names: "stfmr_run003" (then the
    runner's time stamp), so a file left by a killed run is known to be that run's."""
    return f"{seq.procedure}_run{index + 1:03d}"


def _claimed(state: dict) -> set[str]:
    names = set()
    for e in state.get("runs", []) + state.get("other_runs", []):
        names.update(filter(None, [e.get("file"), *e.get("earlier_files", [])]))
    return names


def plan(seq: Sequence, out: Path) -> dict:
    """Get the progress record for ``seq`` in ``out``: the earlier record's runs matched by
    parameters and seed (a FINISHED run whose file says so stays done; any other run is to
    be redone, its file moved to ``earlier_files``), new runs pending. SequenceError if
    ``out`` holds another procedure's or bench's sequence."""
    old = read_state(out)
    if old is not None and old.get("identity") != seq.identity():
        raise SequenceError(f"{out} holds the progress of another sequence "
                            f"({old.get('identity')}); this file describes "
                            f"{seq.identity()}: give another --out")
    old_runs = {_run_key(e): e for e in (old or {}).get("runs", []) + (old or {}).get(
        "other_runs", [])}
    # a run killed mid-way left a file the record does not name yet: find it
    unclaimed = sorted(p.name for p in out.glob(f"{seq.procedure}_*.csv")
                       if p.name not in _claimed(old or {}))
    runs = []
    for k, run in enumerate(seq.runs()):
        e = dict(old_runs.pop(_run_key(run), {}))
        e.update({"index": k, "point": run["point"], "params": run["params"],
                  "seed": run["seed"]})
        e.setdefault("earlier_files", [])
        if e.get("status") == "running":
            # the killed run's files: those named after it (runs on Dask workers run side by
            # side), or any unnamed one (one run at a time, before runs were named)
            tag = e.get("stem", "\0") + "_"
            mine = [n for n in unclaimed if n.startswith(tag) or "_run" not in n]
            for name in mine:
                if file_status(out / name) == "FINISHED" and not e.get("file"):
                    e["file"] = name           # finished, then killed before the record
                    e["status"] = "FINISHED"
                else:
                    e["earlier_files"].append(name)
            unclaimed = [n for n in unclaimed if n not in mine]
        done = (e.get("status") == "FINISHED" and e.get("file") and
                file_status(out / e["file"]) == "FINISHED")
        if not done:
            if e.get("file") and (out / e["file"]).exists():
                e["earlier_files"].append(e["file"])
            e.update({"status": "pending", "file": None, "message": ""})
        runs.append(e)
    return {"format": 1, "sequence_file": str(seq.source) if seq.source else None,
            "identity": seq.identity(), "runs": runs,
            "other_runs": list(old_runs.values())}


# --- running ---------------------------------------------------------------------------------
@dataclass
class SequenceResult:
    """What :func:`run_sequence` did: the progress record, the indices of the runs it ran,
    whether every run has FINISHED, and the finished runs' files in grid order."""
    state: dict
    ran: list[int]
    complete: bool
    files: list[Path]


def run_sequence(seq: Sequence, out: str | Path, **kwargs) -> SequenceResult:
    """Run the unfinished runs of ``seq`` into ``out`` (:func:`run_unlocked`, same keywords)
    while holding the results folder's lock: a second sequence on the folder is refused
    with SequenceError naming the holder (procedure, pid, host, start time). A dead
    sequence's lock is taken over, said in the log: its runs marked running are redone, and
    the bench lock of each run reports any source it left live (issue 13 item 4)."""
    from labspin.bench.lock import BenchBusy, BenchLock, holders
    log = kwargs.get("log") or (lambda text: print(text, file=sys.stderr, flush=True))
    key = f"FOLDER::{Path(out).resolve()}"
    for _, h in holders([key]):
        if not h.alive():
            log(f"results folder {out}: taking over from the dead sequence {h.describe()}")
    owner = BenchLock([key], f"sequence of {seq.procedure}", f"results folder {out}")
    try:
        owner.acquire(take_over_dead=True)
    except BenchBusy as exc:
        raise SequenceError(f"results folder {out}: in use by the run "
                            f"{exc.holder.describe()}; a second sequence on one folder is "
                            "refused") from None
    try:
        return run_unlocked(seq, out, **kwargs)
    finally:
        owner.release()


def run_unlocked(seq: Sequence, out: str | Path, *,
                 progress: Callable[[int, int, float, float], None] | None = None,
                 abort: threading.Event | None = None,
                 log: Callable[[str], None] | None = None,
                 check: bool = True, where=None) -> SequenceResult:
    """Run the unfinished runs of ``seq`` into ``out`` (see the module notes); stop at the
    first run that does not finish (rerun to resume). progress(run index, runs, percent,
    elapsed bench s) follows each run; setting ``abort`` aborts the current run and stops.
    Every run is checked first (``check=False``: the caller did :func:`validate`):
    SequenceError lists the failing runs and nothing runs. ``where``
    (:class:`labspin.run.distributed.Where` with workers or a scheduler): the runs go to
    Dask workers side by side (:mod:`labspin.run.sequence_dask`)."""
    from labspin.run import api
    abort = abort or threading.Event()
    log = log or (lambda text: print(text, file=sys.stderr, flush=True))
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise SequenceError(f"the results folder {out} is a file; give another --out")
    if where is not None and where.distributed:
        if seq.bench is not None:
            raise SequenceError("a sequence on a real bench runs serially (one bench, one "
                                "owner): drop --workers/--scheduler")
        from labspin.run.distributed import Starting
        starting = Starting(where)          # the workers start while the runs are checked
        try:
            if check:
                raise_problems(validate(seq)[0])
            state = _planned(seq, out)
            return _run_on_dask(seq, out, state, where, progress, abort, log,
                                starting.client())
        finally:
            starting.close()
    if check:
        raise_problems(validate(seq)[0])
    state = _planned(seq, out)
    state_path = out / STATE_FILE
    runs = state["runs"]
    ran = []
    for e in runs:
        k, n = e["index"], len(runs)
        head = f"[{k + 1}/{n}] {seq.procedure} {describe_point(e['point'])}"
        if e["status"] == "FINISHED":
            log(f"{head}: finished earlier: {out / e['file']}")
            continue
        if abort.is_set():
            break
        p = api.prepare(seq.procedure, bench=seq.bench, sample=seq.sample, set=seq.set,
                        params=e["params"], seed=e["seed"])
        e.update({"status": "running", "stem": run_stem(seq, k),
                  "started": datetime.now().isoformat(timespec="seconds")})
        write_state(state_path, state)
        log(f"{head}: running (seed {e['seed']})")
        ran.append(k)
        cb = None if progress is None else (lambda pct, t, k=k, n=n: progress(k, n, pct, t))
        result = api.run(p, out=out, progress=cb, abort=abort, stem=e["stem"])
        e.update({"status": result.status_name, "file": result.path.name,
                  "message": result.message,
                  "ended": datetime.now().isoformat(timespec="seconds")})
        write_state(state_path, state)
        log(f"{head}: {result.status_name}" + (f" ({result.message})" if result.message
                                               else "") + f": {result.path}")
        if result.status_name != "FINISHED":
            break
    files = [out / e["file"] for e in runs if e["status"] == "FINISHED"]
    return SequenceResult(state, ran, len(files) == len(runs), files)


def _planned(seq: Sequence, out: Path) -> dict:
    """Get the progress record of ``seq`` in ``out`` (made, written to its file)."""
    out.mkdir(parents=True, exist_ok=True)
    state = plan(seq, out)
    write_state(out / STATE_FILE, state)
    return state


def _run_on_dask(seq, out, state, where, progress, abort, log, client) -> SequenceResult:
    from labspin.run.sequence_dask import run_on_dask
    runs = state["runs"]
    n = len(runs)

    def head(e):
        return f"[{e['index'] + 1}/{n}] {seq.procedure} {describe_point(e['point'])}"
    todo = []
    for e in runs:
        if e["status"] == "FINISHED":
            log(f"{head(e)}: finished earlier: {out / e['file']}")
        else:
            e["stem"] = run_stem(seq, e["index"])
            todo.append(e)
    run_on_dask(seq, out, todo, where, save=lambda: write_state(out / STATE_FILE, state),
                head=head, log=log, status_of=file_status, progress=progress, abort=abort,
                client=client)
    files = [out / e["file"] for e in runs if e["status"] == "FINISHED"]
    return SequenceResult(state, [e["index"] for e in todo], len(files) == n, files)


# --- command line ----------------------------------------------------------------------------
def default_out(seq: Sequence, path: Path) -> Path:
    """Get the sequence's results folder: its ``out`` key, else a folder named after the
    file, beside it (stfmr_grid.toml → stfmr_grid/)."""
    return seq.out or path.resolve().with_suffix("")
