"""Running procedures from Python: the same path as ``labspin run``.

>>> from labspin.run import api
>>> out = api.run("field-sweep", params={"max_field": 0.05}, out="data")
>>> out.data.head(), out.path, out.status_name
>>> p = api.prepare("stfmr", params={"frequencies": "8"}); print("\n".join(p.summary()))
>>> out = api.run(p, out="data")               # run what was prepared and checked

:func:`prepare` builds the procedure and its bench (simulated unless ``bench`` names a bench
config) and checks every limit before any instrument is opened; :func:`run` then measures.
Each simulated bench owns its instruments (reached through its own VISA library string,
``bench-<n>@labspin``), so prepared runs on simulated benches may coexist and run at once.
"""
from __future__ import annotations

import difflib
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from labspin.run.values import parse_parameter


@dataclass
class PreparedRun:
    """A procedure with its parameters set, its bench built (not yet opened) and its limits
    checked; ``sample_name``/``sample_parameters`` describe the simulated sample ('' / {} on
    a real bench)."""
    procedure: object
    bench: object
    sample_name: str = ""
    sample_parameters: dict = field(default_factory=dict)
    seed: int | None = None
    bench_file: str | None = None

    def summary(self) -> list[str]:
        """Get the lines that say what the run will do: bench, instruments, limits, points,
        estimated duration."""
        proc, cfg = self.procedure, self.bench.config
        where = (f"bench config {self.bench_file}" if self.bench_file else
                 f"simulated {proc.sim_wiring()} bench, sample {self.sample_name}, "
                 f"seed {self.seed}")
        lines = [f"{proc.NAME} on the {where}"]
        for name, inst in cfg.instruments.items():
            lines.append(f"  {name:14s} {inst.role:18s} {inst.driver:16s} {inst.resource}")
        lim = cfg.limits
        lines.append(f"  limits: sample current ≤ {lim.max_sample_current_A:g} A, field ≤ "
                     f"{lim.max_field_T:g} T at ≤ {lim.max_field_ramp_T_per_s:g} T/s, RF ≤ "
                     f"{lim.max_rf_power_dBm:g} dBm")
        n, duration = proc.estimate()
        lines.append(f"  {n} points, about {duration:.0f} s of bench time"
                     f"{'' if self.bench_file else ' (virtual)'}")
        return lines


def set_parameters(procedure, params: Mapping[str, object] | Iterable[str]) -> None:
    """Set procedure parameters from a mapping {name: value} or ``NAME=VALUE`` strings;
    ValueError names the parameter and its allowed values."""
    items = ([f"{k}={v}" for k, v in params.items()] if isinstance(params, Mapping)
             else list(params))
    objects = procedure.parameter_objects()
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in objects:
            close = difflib.get_close_matches(key, objects, n=1)
            hint = f"did you mean {close[0]!r}? " if close and sep else ""
            raise ValueError(f"parameter {item!r}: {hint}parameters of {procedure.NAME} are "
                             + ", ".join(objects))
        p = objects[key]
        p.value = parse_parameter(p, text, name=key)
        setattr(procedure, key, p.value)


def prepare(procedure: str | object, *, bench: str | Path | None = None,
            sample: str | None = None, set: Iterable[str] = (),
            params: Mapping[str, object] | Iterable[str] = (), seed: int = 0) -> PreparedRun:
    """Get a :class:`PreparedRun`: the procedure (a name or an instance) with ``params`` set,
    on the bench config file ``bench`` or, without it, the simulated bench of the procedure's
    wiring with ``sample`` (default: the procedure's) and ``set`` overrides; the limits are
    checked here. Raises ValueError, LimitError, ConfigError or SampleError (user errors)
    before any instrument is opened."""
    from labspin.bench.config import load_bench_config
    from labspin.bench.session import Bench
    from labspin.procedures import PROCEDURES, procedure_class
    from labspin.sim_backend.samples import load_sample

    if isinstance(procedure, str):
        if procedure not in PROCEDURES:
            close = difflib.get_close_matches(procedure, PROCEDURES, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ValueError(f"unknown procedure {procedure!r}; {hint}procedures: "
                             f"{', '.join(PROCEDURES)}")
        procedure = procedure_class(procedure)()
    set_parameters(procedure, params)
    overrides = list(set)
    if bench is not None:
        if sample or overrides:
            raise ValueError("sample and set describe a simulated sample; use them with the "
                             "simulated bench, not with a bench config")
        b = Bench(load_bench_config(bench))
        prepared = PreparedRun(procedure, b, bench_file=str(bench))
    else:
        from labspin.sim_backend.virtual_bench import VirtualMagnet
        from labspin.sim_backend.wirings import simulated_bench
        name = sample or procedure.SAMPLE
        info = load_sample(name, overrides).describe()
        kw = procedure.sim_magnet()
        b = simulated_bench(procedure.sim_wiring(), name, overrides, seed=seed,
                            magnet=VirtualMagnet(**kw) if kw else None)
        prepared = PreparedRun(procedure, b, str(name), info, seed)
    from labspin.run.runner import check_parameters
    check_parameters(procedure, prepared.bench)
    return prepared


@dataclass
class RunOutput:
    """What :func:`run` gives back: the data (pandas DataFrame), the results file, the final
    status (pymeasure's Procedure.FINISHED/ABORTED/FAILED and its name), the message (empty
    when finished)."""
    data: object
    path: Path
    status: int
    status_name: str
    message: str

    def results(self):
        """Get the file as pymeasure Results (procedure with parameters and metadata)."""
        from pymeasure.experiment import Results
        return Results.load(str(self.path))


def run(procedure: str | object | PreparedRun, *, bench: str | Path | None = None,
        sample: str | None = None, set: Iterable[str] = (),
        params: Mapping[str, object] | Iterable[str] = (), out: str | Path = ".",
        seed: int = 0, progress: Callable[[float, float], None] | None = None,
        abort: threading.Event | None = None, stem: str | None = None) -> RunOutput:
    """Run one measurement; get a :class:`RunOutput` with the data as a pandas DataFrame and
    the results file's path. ``procedure`` is a name or instance (the other arguments as in
    :func:`prepare`) or a :class:`PreparedRun` (then only ``out``, ``progress`` and ``abort``
    apply; a PreparedRun runs once: its bench is shut down and closed at the end).
    progress(percent, elapsed bench-clock s) follows the run; setting ``abort`` stops it
    (status ABORTED); ``stem`` starts the file's name (default: the procedure's). User errors
    raise before anything is touched; a run that aborts or fails still returns its (partial)
    data."""
    from labspin.run.runner import run_procedure
    if isinstance(procedure, PreparedRun):
        given = [k for k, v in (("bench", bench), ("sample", sample), ("set", list(set)),
                                ("params", list(params)), ("seed", seed)) if v]
        if given:
            raise ValueError(f"run(PreparedRun) takes out, progress, abort and stem only; "
                             f"{', '.join(given)} belong to prepare()")
        p = procedure        # its simulated bench takes its own instruments back on open
    else:
        p = prepare(procedure, bench=bench, sample=sample, set=set, params=params, seed=seed)
    result = run_procedure(p.procedure, p.bench, out, sample_name=p.sample_name,
                           sample_parameters=p.sample_parameters, seed=p.seed,
                           progress=progress, abort=abort, stem=stem)
    return RunOutput(result.data(), result.path, result.status, result.status_name,
                     result.message)
