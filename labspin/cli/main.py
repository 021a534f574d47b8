"""The ``labspin`` command line.

``labspin demo kapitza`` — a dry run of the physics core (no hardware, no config): the
Kapitza phase map of a nearly isotropic magnet, printed and saved as PNG and CSV.
``labspin bench check FILE`` / ``labspin bench example`` — bench configs.
``labspin sim samples`` / ``labspin sim show SAMPLE [--set KEY=VALUE] --json`` — simulated samples;
``labspin sim serve`` — the simulated bench (or any twins) as loopback SCPI sockets, HiSLIP
or VXI-11 instruments.
The measurement commands of design.md (run, analyze, sim, gui, procedures) arrive with the
procedure and simulated-bench issues.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from labspin import __version__
from labspin.cli.progress import progress_printer
from labspin.results.formats import FORMATS


def _demo_kapitza(args) -> int:
    from labspin.cli.demo import demo_kapitza
    return demo_kapitza(args)


def _load_bench_config(path: str, command: str):
    """Get the bench config at ``path``, or None after printing why it is invalid."""
    from labspin.bench.config import ConfigError, load_bench_config
    try:
        return load_bench_config(path)
    except ConfigError as exc:
        print(f"labspin {command}: {exc}", file=sys.stderr)
        return None


def _bench_check(args) -> int:
    from labspin.bench.session import identify, output_states

    bench = _load_bench_config(args.file, "bench check")
    if bench is None:
        return 2
    magnet = (", magnet with " + ("gaussmeter" if bench.magnet.gaussmeter else "no gaussmeter")
              if bench.magnet else "")
    print(f"{args.file}: bench '{bench.name}' is valid: {len(bench.instruments)} instruments"
          f"{magnet}")
    lim = bench.limits
    print(f"  limits: sample current ≤ {lim.max_sample_current_A:g} A, field ≤ "
          f"{lim.max_field_T:g} T at ≤ {lim.max_field_ramp_T_per_s:g} T/s, RF ≤ "
          f"{lim.max_rf_power_dBm:g} dBm")
    unclean = _report_owners(args.file, bench)
    if args.no_connect:
        for name, i in bench.instruments.items():
            print(f"  {name:16s} {i.role:18s} {i.driver:16s} {i.resource}")
        return 1 if unclean else 0
    failed = 0
    for name, (ok, text) in identify(bench).items():
        i = bench.instruments[name]
        status = "ok  " if ok else "FAIL"
        failed += not ok
        print(f"  {status} {name:16s} {i.role:18s} {i.driver:16s} {i.resource}: {text}")
    if failed:
        print(f"labspin bench check: {failed} of {len(bench.instruments)} instruments did not "
              "answer", file=sys.stderr)
    live = 0
    for name, (ok, state) in output_states(bench).items():
        live += ok and state == "on"
        print(f"  output {name:16s} {state if ok else 'unreadable: ' + state}")
    if live:
        print(f"labspin bench check: {live} source output(s) on; `labspin bench safe "
              f"{args.file}` ramps every source to its safe state", file=sys.stderr)
    return 1 if failed or unclean or live else 0


def _report_owners(bench_file: str, bench) -> int:
    """Print who holds ``bench``'s instruments: a live run, or a dead run's unclean end with
    the sources its journal says may be live; get the number of unclean ends."""
    from labspin.bench.journal import read_sources
    from labspin.bench.lock import holders, unclean_message
    unclean, seen = 0, set()
    for _, holder in holders(i.resource for i in bench.instruments.values()):
        if (holder.pid, holder.host, holder.started) in seen:
            continue
        seen.add((holder.pid, holder.host, holder.started))
        if holder.alive():
            print(f"  in use by the run {holder.describe()}")
        else:
            unclean += 1
            text = unclean_message(holder, read_sources(holder.journal), bench_file)
            print(f"labspin bench check: {text}", file=sys.stderr)
    return unclean


def _bench_safe(args) -> int:
    from labspin.bench.journal import describe_sources, read_sources
    from labspin.bench.lock import BenchLock, BenchLockError, holders
    from labspin.bench.session import Bench, is_source

    config = _load_bench_config(args.file, "bench safe")
    if config is None:
        return 2
    resources = [i.resource for i in config.instruments.values()]
    dead = [h for _, h in holders(resources) if not h.alive()]
    owner = BenchLock(resources, "bench safe", config.name)
    try:                                   # a live run keeps its bench; a dead one's is taken
        owner.acquire(args.file, take_over_dead=True)
    except BenchLockError as exc:
        print(f"labspin bench safe: {exc}", file=sys.stderr)
        return 2
    for h in {h.journal: h for h in dead}.values():
        print(f"taking over from the dead run {h.describe()}: "
              f"{describe_sources(read_sources(h.journal))}", file=sys.stderr)
    bench = Bench(config)
    try:
        try:                               # an instrument that does not open is listed
            bench.open(keep_going=True)
        except Exception as exc:  # noqa: BLE001 — whatever opened is still ramped down
            print(f"labspin bench safe: {exc}", file=sys.stderr)
        for text in bench.open_failures:
            print(f"labspin bench safe: {text}", file=sys.stderr)
        failures = bench.shutdown()
        bench.close()
    finally:
        owner.release()
    for name in bench.instruments:
        if is_source(config.instruments[name]):
            bad = [f for f in failures if f.startswith(name) or f"({name})" in f]
            print(f"  {'FAIL' if bad else 'safe'} {name:16s} {config.instruments[name].role}"
                  + (f": {'; '.join(bad)}" if bad else ""))
    missing = set(config.instruments) - set(bench.instruments)
    if failures or missing:
        print(f"labspin bench safe: {len(failures)} shutdown failures"
              + (f"; not opened: {', '.join(sorted(missing))}" if missing else ""),
              file=sys.stderr)
        return 1
    for h in dead:
        Path(h.journal).unlink(missing_ok=True)
    return 0


def _bench_example(args) -> int:
    from labspin.bench.config import EXAMPLE
    print(EXAMPLE.read_text(encoding="utf-8"), end="")
    return 0


def _sim_samples(args) -> int:
    from labspin.sim_backend.samples import builtin_names, load_sample

    for name in builtin_names():
        print(f"{name:28s} {load_sample(name).description}")
    return 0


def _sim_show(args) -> int:
    import json

    from labspin.sim_backend.samples import SampleError, load_sample

    try:
        info = load_sample(args.sample, args.set).describe()
    except SampleError as exc:
        print(f"labspin sim show: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        width = max(len(k) for k in info)
        for k, v in info.items():
            print(f"{k:{width}s}  {v:.6g}" if isinstance(v, float) else f"{k:{width}s}  {v}")
    return 0


def _parse_instrument(spec: str) -> tuple[str, int]:
    """``MODEL[@PORT]`` of ``sim serve --instrument`` -> (driver key, port; 0: a free one)."""
    key, sep, port = spec.partition("@")
    if not sep:
        return key, 0
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"--instrument {spec!r}: the port after '@' must be an integer "
                         "from 1 to 65535")
    return key, int(port)


def _served_bench(args):
    """The bench ``sim serve`` serves: (bench, twin name -> driver key, name -> port,
    wiring slots or None). ValueError/SampleError with a message for the user."""
    from labspin.sim_backend.default_bench import models_bench
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.wirings import build_bench

    if args.instrument and args.wiring:
        raise ValueError("give --instrument or --wiring, not both")
    if args.instrument and args.bench_out:
        raise ValueError("--bench-out writes the config of a standard wiring; it needs "
                         "--wiring, not --instrument")
    sample = load_sample(args.sample, args.set)
    if not args.instrument:
        bench, slots = build_bench(sample, args.wiring or "stfmr", seed=args.seed)
        return bench, {n: s.driver for n, s in slots.items()}, {}, slots
    parsed = [_parse_instrument(spec) for spec in args.instrument]
    bench, models = models_bench(sample, [key for key, _ in parsed], seed=args.seed)
    ports = {name: port for name, (_, port) in zip(models, parsed) if port}
    return bench, models, ports, None


RF_FAULTS = ("unlevel", "trip_protection")
"""The RF twins' own faults: each the name of the twin's method that injects it."""


def _apply_fault(twins: dict, spec: str) -> None:
    """Inject ``sim serve --fault NAME:KIND[:ARG]`` into the twin NAME until the server stops.

    KIND is a transport fault of every twin (timeout, garbled, drop, error, stuck_output; ARG
    limits it to one command header or parameter) or an RF source's own fault: ``unlevel``
    (ARG: the most the ALC then delivers, dBm; the status register shows it unlevelled) or
    ``trip_protection`` (the SMB100A's reverse-power relay opens). ValueError names the problem.
    """
    name, _, rest = spec.partition(":")
    kind, _, arg = rest.partition(":")
    if name not in twins:
        raise ValueError(f"no instrument {name!r}; instruments: {', '.join(twins)}")
    twin = twins[name]
    if kind in RF_FAULTS:
        method = getattr(twin, kind, None)
        if method is None:
            able = [n for n, t in twins.items() if hasattr(t, kind)]
            raise ValueError(f"{name!r} ({type(twin).__name__}) has no {kind} fault; it is an "
                             f"RF source's" + (f": {', '.join(able)}" if able else
                                               " and this bench serves none that has it"))
        if kind == "unlevel":
            try:
                max_dBm = float(arg)
            except ValueError:
                raise ValueError("unlevel needs the most power the ALC delivers, in dBm: "
                                 f"{name}:unlevel:2 caps the output at +2 dBm") from None
            if not -150.0 <= max_dBm <= 30.0:
                raise ValueError(f"unlevel at {max_dBm:g} dBm: want -150 to +30 dBm")
            method(max_dBm)
        else:
            if arg:
                raise ValueError("trip_protection takes no argument")
            method()
        return
    twin.inject(kind, on=arg or None, count=None)


def _sim_serve(args) -> int:
    from labspin.sim_backend.samples import SampleError
    from labspin.sim_backend.server import serve
    from labspin.sim_backend.wirings import bench_config_text, follow_wall_clock, warm_up

    try:
        bench, drivers, ports, slots = _served_bench(args)
    except (SampleError, ValueError) as exc:
        print(f"labspin sim serve: {exc}", file=sys.stderr)
        return 2
    twins = {n: bench.instruments[n] for n in drivers}
    for spec in args.fault:
        try:
            _apply_fault(twins, spec)
        except ValueError as exc:
            print(f"labspin sim serve: --fault {spec!r}: {exc}", file=sys.stderr)
            return 2
    for spec in args.latency:
        key, _, seconds = spec.rpartition(":")
        chosen = [n for n in twins if key in (n, slots[n].role)]
        try:
            delay = float(seconds)
            if not chosen or not 0 <= delay <= 60:
                raise ValueError
        except ValueError:
            print(f"labspin sim serve: --latency {spec!r}: want NAME_OR_ROLE:SECONDS with "
                  f"0–60 s and one of {', '.join(twins)} or their roles "
                  f"{', '.join(sorted({s.role for s in slots.values()}))}", file=sys.stderr)
            return 2
        for name in chosen:
            twins[name].reply_latency_s = delay
    warm_up(bench.sample)           # compile the kernels before the first client's reading
    follow_wall_clock(bench, twins.values())
    try:
        if args.transport == "hislip":
            from labspin.sim_backend.hislip import serve_hislip
            handle = serve_hislip(twins, host=args.host, ports=ports)
        elif args.transport == "vxi11":
            from labspin.sim_backend.vxi11 import serve_vxi11
            if ports:
                print("labspin sim serve: VXI-11 serves every twin behind one core port "
                      "(--vxi11-port); --instrument takes no @PORT with it", file=sys.stderr)
                return 2
            handle = serve_vxi11(twins, host=args.host, core_port=args.vxi11_port,
                                 portmapper_port=args.portmapper_port)
            print(f"VXI-11 core port {handle.core_port}, portmapper on port "
                  f"{handle.portmapper_port}", file=sys.stderr, flush=True)
        else:
            handle = serve(twins, host=args.host, ports=ports)
    except OSError as exc:
        print(f"labspin sim serve: cannot listen on {args.host}: {exc}", file=sys.stderr)
        return 1
    try:
        for name, res in handle.resources.items():
            print(f"{name:14s} {drivers[name]:16s} {res}", flush=True)
        if args.bench_out:
            Path(args.bench_out).write_text(bench_config_text(
                bench, slots, resources=handle.resources, visa_library="@py",
                name="simulated bench over loopback"), encoding="utf-8")
            print(f"bench config: {args.bench_out}", flush=True)
        print("serving; Ctrl-C stops", file=sys.stderr, flush=True)
        handle.wait()
    except KeyboardInterrupt:
        pass
    finally:
        handle.close()
    return 0


def _procedures(args) -> int:
    from labspin.procedures import PROCEDURES, procedure_class
    if not args.name:
        for name in PROCEDURES:
            print(f"{name:22s} {procedure_class(name).DESCRIPTION}")
        return 0
    if args.name not in PROCEDURES:
        print(f"labspin procedures: unknown procedure {args.name!r}; procedures: "
              f"{', '.join(PROCEDURES)}", file=sys.stderr)
        return 2
    for line in parameter_lines(procedure_class(args.name)()):
        print(line)
    return 0


def parameter_lines(procedure) -> list[str]:
    """Get a procedure's description and its parameters, one line each: the name for
    ``--param``, the label, the default with its unit, and the allowed range or choices."""
    lines = [f"{procedure.NAME}: {procedure.DESCRIPTION}",
             f"simulated bench: {procedure.WIRING} wiring, sample {procedure.SAMPLE}", "",
             "parameters (labspin run " + procedure.NAME + " --param NAME=VALUE):"]
    from labspin.run.values import describe_allowed
    for key, p in procedure.parameter_objects().items():
        unit = f" {p.units}" if getattr(p, "units", None) else ""
        allowed = describe_allowed(p) if hasattr(p, "minimum") or getattr(p, "choices", None) \
            else ""
        lines.append(f"  {key:22s} {p.name} = {p.value}{unit}" + (f"   ({allowed})"
                                                                    if allowed else ""))
    return lines


def _run_help(parser: argparse.ArgumentParser, name: str) -> int:
    """Print ``labspin run NAME --help``: the options, then NAME's parameters with their
    defaults, units and ranges (did-you-mean if NAME is not a procedure)."""
    from labspin.procedures import PROCEDURES, procedure_class
    if name not in PROCEDURES:
        return _unknown_procedure("run", name)
    print(parser.run_parser.format_help())
    for line in parameter_lines(procedure_class(name)()):
        print(line)
    return 0


def _run(args) -> int:
    from labspin.bench.config import ConfigError
    from labspin.bench.lock import BenchLockError
    from labspin.bench.safety import LimitError
    from labspin.run.api import prepare
    from labspin.run.runner import FINISHED, run_procedure
    from labspin.sim_backend.samples import SampleError

    if args.seed < 0:
        print(f"labspin run: --seed {args.seed}: must be an integer ≥ 0", file=sys.stderr)
        return 2
    try:
        p = prepare(args.procedure, bench=args.bench, sample=args.sample, set=args.set,
                    params=args.param, seed=args.seed)
    except (ValueError, LimitError, ConfigError, SampleError) as exc:
        print(f"labspin run: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        print(f"labspin run: --out {args.out}: cannot make the results folder: "
              f"{'not a folder' if out.exists() else exc.strerror or exc}", file=sys.stderr)
        return 2
    for line in p.summary():
        print(line, file=sys.stderr)
    try:
        result = run_procedure(p.procedure, p.bench, args.out, sample_name=p.sample_name,
                               sample_parameters=p.sample_parameters, seed=p.seed,
                               progress=progress_printer())
    except BenchLockError as exc:          # held, or left live by a killed run: untouched
        print(f"labspin run: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:                 # before any instrument (e.g. the lock folder)
        print(f"labspin run: {exc} (nothing was touched; the bench locks are kept in "
              "LABSPIN_LOCK_DIR)", file=sys.stderr)
        return 2
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"status: {result.status_name}" + (f" ({result.message})" if result.message else ""),
          file=sys.stderr)
    print(result.path)
    return 0 if result.status == FINISHED else 1


def _export(args) -> int:
    from labspin.results.export import export_netcdf

    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        print(f"labspin export: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    grid = [g.strip() for g in args.grid.split(",")] if args.grid else None
    try:
        groups = export_netcdf(args.files, args.netcdf, grid)
    except (ValueError, RuntimeError) as exc:
        print(f"labspin export: {exc}", file=sys.stderr)
        return 2
    print(f"{args.netcdf}: {len(groups)} group(s): {', '.join(groups)}")
    return 0


def _analyze(args) -> int:
    import json

    from labspin.procedures import ANALYSES, PROCEDURES
    if args.procedure not in {**PROCEDURES, **ANALYSES}:
        print(f"labspin analyze: unknown procedure {args.procedure!r}; procedures: "
              f"{', '.join([*PROCEDURES, *ANALYSES])}", file=sys.stderr)
        return 2
    from labspin.results.field_from_current import parse_field_from_current
    from labspin.run.analysis import (
        ANALYSIS_ERRORS,
        UnreadableFile,
        analyze,
        read_files,
        report_lines,
    )
    try:
        law = args.field_from_current and parse_field_from_current(args.field_from_current)
    except (OSError, ValueError) as exc:
        print(f"labspin analyze: {exc}", file=sys.stderr)
        return 2
    try:
        data = read_files(
            args.files, args.column, args.unit, procedure=args.procedure, format=args.format,
            skip_rows=args.skip_rows, names=args.names, constants=args.constant,
            scales=args.scale, reshape=args.reshape, field_from_current=law or None,
            warn=lambda m: print(f"labspin analyze: warning: {m}", file=sys.stderr))
    except UnreadableFile as exc:
        print(f"labspin analyze: {exc}", file=sys.stderr)
        return 2
    options = {}
    for item in args.option:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            print(f"labspin analyze: --option {item!r}: expected NAME=VALUE[±ERR]",
                  file=sys.stderr)
            return 2
        options[name.strip()] = value.strip()
    try:
        out = analyze(args.procedure, data, options)
    except ANALYSIS_ERRORS as exc:
        print(f"labspin analyze: {args.procedure} cannot analyze these files: {exc}",
              file=sys.stderr)
        return 2
    from labspin.procedures.estimates import strict
    if args.json:
        print(json.dumps(strict(out), indent=2, allow_nan=False))
    else:
        print("\n".join(report_lines(out)))
    if args.plot:
        return _plot(args, data, out)
    return 0


def _analyze_help(parser: argparse.ArgumentParser, name: str) -> int:
    """Print ``labspin analyze NAME --help``: the options, then what NAME's analysis reads
    (columns, header keys) and the --options it takes, from the declarations beside it."""
    from labspin.procedures import ANALYSES, PROCEDURES, analysis_declarations
    if name not in PROCEDURES and name not in ANALYSES:
        return _unknown_procedure("analyze", name)
    print(parser.analyze_parser.format_help())
    needs, options = analysis_declarations(name)
    print(f"labspin analyze {name}:")
    for line in needs.help_lines() if needs else ["  (columns not declared)"]:
        print(line)
    if options:
        print("options (--option NAME=VALUE[±ERR]; a constant not given is taken from the "
              "file's Sample constants of the same name when it has them):")
        for o in options:
            default = "" if o.default is None else f" (default {o.default})"
            print(f"  {o.name:26s} {o.doc}" + (f" [{o.unit}]" if o.unit else "") + default)
    return 0


def _unknown_procedure(command: str, name: str) -> int:
    import difflib

    from labspin.procedures import PROCEDURES
    close = difflib.get_close_matches(name, PROCEDURES, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    print(f"labspin {command}: unknown procedure {name!r}; {hint}procedures: "
          f"{', '.join(PROCEDURES)}", file=sys.stderr)
    return 2


def _plot(args, data, result) -> int:
    """Draw the analysis for the notebook (--plot PNG); 1 if it cannot be drawn."""
    from labspin.procedures.figures import save_figure
    from labspin.run.analysis import figure
    try:
        save_figure(figure(args.procedure, data, result, files=args.files), args.plot)
    except (OSError, KeyError, ValueError, IndexError, TypeError) as exc:
        print(f"labspin analyze: cannot draw {args.plot}: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    print(f"plot: {args.plot}", file=sys.stderr)
    return 0


SIM_WIRINGS = ["transport", "lockin_transport", "stfmr", "harmonic_hall", "harmonic_hall_6221",
               "pulsed", "spectrum", "gaussian_source", "fmr"]
"""The simulated bench's standard wirings (sim_backend.wirings.WIRINGS; listed here so that
``labspin --help`` does not import the simulator; a test keeps the two equal)."""


def build_parser() -> argparse.ArgumentParser:
    """Get the argument parser of the ``labspin`` command."""
    p = argparse.ArgumentParser(
        prog="labspin", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Spintronics experiments: drivers, procedures, analysis and a simulated "
        "bench.",
        epilog="start here (no hardware needed: --sim is the simulated bench):\n"
        "  labspin procedures                      what can be measured\n"
        "  labspin procedures stfmr                its parameters, units and ranges\n"
        "  labspin run stfmr --sim --out runs      a dry run; prints the results file last\n"
        "  labspin analyze stfmr runs/stfmr_*.csv --plot stfmr.png\n"
        "  labspin gui stfmr                       the same in the GUI\n"
        "each command has its own --help, e.g. labspin run --help")
    p.add_argument("--version", action="version", version=f"labspin {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    pr = sub.add_parser("procedures", help="list the measurement procedures, or one "
                        "procedure's parameters with their defaults, units and ranges")
    pr.add_argument("name", nargs="?", help="show this procedure's parameters")
    pr.set_defaults(func=_procedures)
    r = sub.add_parser("run", help="run one measurement on a bench or the simulated bench; "
                       "prints the results file's path last")
    r.add_argument("procedure", help="a procedure name (see `labspin procedures`)")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--bench", metavar="FILE", help="a bench config (TOML) of a real bench")
    src.add_argument("--sim", action="store_true",
                     help="the built-in simulated bench (the default without --bench)")
    r.add_argument("--sample", help="simulated sample: a built-in name or a .toml file "
                   "(default: the procedure's)")
    r.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a simulated sample parameter (see `labspin sim show`)")
    r.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a procedure parameter by its name, e.g. max_field=0.3, in the unit "
                   "`labspin procedures PROCEDURE` lists for it")
    r.add_argument("--out", default=".", help="folder for the results file (default: .)")
    r.add_argument("--seed", type=int, default=0, help="simulated bench seed (default: 0)")
    r.set_defaults(func=_run)
    p.run_parser = r                        # for `labspin run PROCEDURE --help`
    a = sub.add_parser("analyze", help="fit a procedure's results files and report")
    a.add_argument("procedure", help="a procedure name (see `labspin procedures`)")
    a.add_argument("files", nargs="+", help="results files: labspin/pymeasure files, any "
                   "lab's delimited table (with or without header) or LabVIEW .lvm; empty "
                   "files are skipped with a warning")
    a.add_argument("--format", default="auto", choices=FORMATS,
                   help="the files' layout (default: auto, detected)")
    a.add_argument("--skip-rows", type=int, default=0, metavar="N",
                   help="drop the first N lines of each file before reading it")
    a.add_argument("--names", action="append", default=[], metavar="\"A (unit),B (unit)\"",
                   help="column names of a headerless table (or of a reshaped block); "
                   "\"FILE:A,B\" for one file only")
    a.add_argument("--constant", action="append", default=[], metavar="[FILE:]NAME=VALUE",
                   help="a constant of the file(s), e.g. \"Frequency (GHz)=8\", converted onto "
                   "the analysis's column; also read from '#'/key: value header lines and "
                   "from file names (8.00GHz, 13.5G, 10dBm, 4.50mA)")
    a.add_argument("--scale", action="append", default=[], metavar="COLUMN=FACTOR|rms|peak",
                   help="multiply a column (\"V2w (V)=0.01\" for a ×100 pre-amplifier); rms: "
                   "the column holds rms readings, converted to amplitudes (×√2); peak: "
                   "amplitudes already")
    a.add_argument("--reshape", metavar="SPEC", help="a wide table to one long table: "
                   "\"pairs[:NAME[=V1,V2,…]]\" (x,y column pairs per block, NAME e.g. "
                   "\"Frequency (GHz)\" read from each pair's header or given), "
                   "\"groups=N[:NAME[=…]]\" (blocks of N columns), \"trials[:NAME]\" (x then "
                   "one column per trial)")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument("--column", action="append", default=[], metavar="NEW=OLD",
                   help="rename a column of a foreign file onto the procedure's name, e.g. "
                   "\"Field (T)=H\"")
    a.add_argument("--unit", action="append", default=[], metavar="COLUMN=UNIT",
                   help="convert a column from Oe, G, mT, T, A/m (fields) or mA, µV, GHz, … "
                   "to SI, e.g. \"Field (T)=Oe\"")
    a.add_argument("--field-from-current", metavar="SPEC",
                   help="compute 'Field (T)' from the column 'Magnet current (A)': SPEC is "
                   "SLOPE_T_PER_A[,OFFSET_T], or FILE[,FIELD_UNIT], a calibration table "
                   "(labspin magnet-calibration results, or current and field columns; "
                   "interpolated, never extrapolated)")
    a.add_argument("--option", action="append", default=[], metavar="NAME=VALUE[±ERR]",
                   help="an external constant of the analysis (its prior, with a standard "
                   "error after ± or +-) or a setting, e.g. dr_ahe_ohm=-2.855+-0.05")
    a.add_argument("--plot", metavar="PNG", help="also draw the data, the fit and the key "
                   "numbers (value ± standard error) into this PNG, for a lab notebook")
    a.set_defaults(func=_analyze)
    p.analyze_parser = a                    # for `labspin analyze PROCEDURE --help`
    x = sub.add_parser("export", help="write results files as netCDF4/HDF5 (xarray; one "
                       "group per file; needs the 'export' extra)")
    x.add_argument("files", nargs="+", metavar="FILE", help="labspin or pymeasure results files")
    x.add_argument("--netcdf", required=True, metavar="OUT", help="the netCDF file to write")
    x.add_argument("--grid", default=None, metavar="COL[,COL]",
                   help="set-point columns that span a grid (e.g. 'Field set,Current set'): "
                        "dimensions instead of the 'point' dimension")
    x.set_defaults(func=_export)
    demo = sub.add_parser("demo", help="physics demos that need no hardware and no config")
    dsub = demo.add_subparsers(dest="demo", required=True)
    k = dsub.add_parser("kapitza", help="map ⟨m·Ĥ⟩ of a nearly isotropic magnet over current "
                        "and field (the spintronic Kapitza pendulum) and save it as PNG")
    k.add_argument("--out", default="labspin-demo", help="output folder (default: %(default)s)")
    k.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    k.add_argument("--temperature", type=float, default=300.0, metavar="K",
                   help="temperature in kelvin, > 0 (default: %(default)s)")
    k.add_argument("--quick", action="store_true", help="shorter runs (noisier map)")
    k.add_argument("--repeats", type=int, default=6, help="members per grid point, ≥ 2 "
                   "(default: %(default)s)")
    from labspin.cli.simulate import add_where_arguments
    add_where_arguments(k)
    k.set_defaults(func=_demo_kapitza)
    simulate = sub.add_parser("simulate", help="ensemble simulations of a simulated sample, "
                              "in this process or on Dask workers (--workers, --scheduler)")
    from labspin.cli.simulate import add_wer_parser
    add_wer_parser(simulate.add_subparsers(dest="simulate", required=True))
    bench = sub.add_parser("bench", help="bench configs: check one, print an example")
    bsub = bench.add_subparsers(dest="bench", required=True)
    c = bsub.add_parser("check", help="validate a bench config (TOML), then ask every "
                        "instrument for its identity")
    c.add_argument("file", help="the bench config, e.g. bench.toml")
    c.add_argument("--no-connect", action="store_true",
                   help="only validate the file; touch no instrument")
    c.set_defaults(func=_bench_check)
    s = bsub.add_parser("safe", help="ramp every source of a bench to its safe state "
                        "(after a run was killed: `bench check` says which may be live)")
    s.add_argument("file", help="the bench config, e.g. bench.toml")
    s.set_defaults(func=_bench_safe)
    e = bsub.add_parser("example", help="print an example config for an ST-FMR / "
                        "harmonic-Hall bench (redirect it to a file and edit it)")
    e.set_defaults(func=_bench_example)
    sim = sub.add_parser("sim", help="the simulated bench: its samples")
    ssub = sim.add_subparsers(dest="sim", required=True)
    sl = ssub.add_parser("samples", help="list the built-in simulated samples")
    sl.set_defaults(func=_sim_samples)
    sh = ssub.add_parser("show", help="a simulated sample's parameters and derived values "
                         "(the truth a measurement should recover)")
    sh.add_argument("sample", help="a built-in sample name or a sample .toml file")
    sh.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a parameter: a dotted TOML key (magnet.alpha=0.01) or a "
                    "key of the --json output (alpha, mu0_meff_T, dr_ahe_ohm, …); SI values")
    sh.add_argument("--json", action="store_true", help="print one JSON object")
    sh.set_defaults(func=_sim_show)
    sv = ssub.add_parser("serve", help="expose simulated instruments on 127.0.0.1 as raw "
                         "SCPI sockets, HiSLIP or VXI-11 instruments, for any VISA client")
    sv.add_argument("--sample", default="inplane_sot_hallbar",
                    help="a built-in sample name or a .toml file (default: %(default)s)")
    sv.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override a sample parameter (see `labspin sim show`)")
    sv.add_argument("--wiring", default=None,
                    choices=SIM_WIRINGS,
                    help="which standard bench to build (default: stfmr, unless "
                    "--instrument is given)")
    sv.add_argument("--instrument", action="append", default=[], metavar="MODEL[@PORT]",
                    help="serve a twin of this model (a driver key: keithley2400, "
                    "keysight33500b, sr865, …; repeat for several, a model may repeat) on "
                    "the sample of --sample, on PORT or a free port; instead of --wiring")
    sv.add_argument("--seed", type=int, default=0, help="noise seed (default: %(default)s)")
    sv.add_argument("--transport", choices=("socket", "hislip", "vxi11"), default="socket",
                    help="raw SCPI sockets, or HiSLIP or VXI-11 INSTR resources (END on every "
                    "reply, device clear, status byte: no termination settings needed); "
                    "default: %(default)s")
    sv.add_argument("--vxi11-port", type=int, default=0, metavar="PORT",
                    help="VXI-11: the core channel's port, shared by every twin (default: a "
                    "free one)")
    sv.add_argument("--portmapper-port", type=int, default=111, metavar="PORT",
                    help="VXI-11: the portmapper's port, where clients look up the core port; "
                    "a free one if it cannot be bound (default: %(default)s, the standard "
                    "one, which pyvisa-py needs to find the core port by itself)")
    sv.add_argument("--bench-out", metavar="FILE",
                    help="write a bench config pointing at the sockets, for "
                    "`labspin bench check` and `labspin run --bench`")
    sv.add_argument("--fault", action="append", default=[], metavar="NAME:KIND[:COMMAND]",
                    help="inject a fault into an instrument until the server stops: KIND is "
                    "timeout, garbled, drop, error or stuck_output; COMMAND limits it to one "
                    "header, e.g. smu:timeout:MEAS:VOLT?; an RF source also takes "
                    "unlevel:DBM (the ALC delivers at most DBM, e.g. rf:unlevel:2) and, on "
                    "an SMB100A, trip_protection")
    sv.add_argument("--latency", action="append", default=[], metavar="NAME_OR_ROLE:SECONDS",
                    help="delay every reply of an instrument (or of every instrument of a "
                    "role) by SECONDS of wall time, as a slow GPIB/LAN instrument would, "
                    "e.g. magnet_supply:0.15")
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default: %(default)s, loopback only)")
    sv.set_defaults(func=_sim_serve)
    g = sub.add_parser("gui", help="the graphical interface: a launcher listing the "
                       "procedures, or one procedure's window")
    g.add_argument("procedure", nargs="?", help="open this procedure's window directly")
    g.add_argument("--bench", metavar="FILE", help="a bench config (TOML) of a real bench "
                   "(default: the simulated bench)")
    g.add_argument("--sample", help="simulated sample: a built-in name or a .toml file")
    g.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a simulated sample parameter (see `labspin sim show`)")
    g.add_argument("--out", default=".", help="folder for the results files (default: .)")
    g.add_argument("--seed", type=int, default=0, help="simulated bench seed (default: 0)")
    g.set_defaults(func=_gui)
    q = sub.add_parser("sequence", help="run a procedure over a grid of parameters from a "
                       "TOML file; rerun the same command to resume an interrupted sequence",
                       description="Run one procedure over a grid of parameters described "
                       "by a small TOML file. Every run is checked against the bench's "
                       "limits before the first one starts. The results folder keeps "
                       "sequence_state.json; rerunning the same command continues from the "
                       "first unfinished run (aborted, failed or killed runs are redone into "
                       "new files, the old ones kept). Prints the results files last, one "
                       "per line.")
    q.add_argument("file", nargs="?", help="the sequence file (TOML); `labspin sequence "
                   "--example` prints one")
    q.add_argument("--out", default=None, help="folder for the results files and the "
                   "sequence's progress record (default: the file's `out`, else a folder "
                   "named after the file, beside it)")
    q.add_argument("--example", action="store_true", help="print a commented example "
                   "sequence file (ST-FMR over frequencies and dc biases) and exit")
    q.add_argument("--check", action="store_true", help="check every run's parameters and "
                   "limits and list the runs; run nothing")
    add_where_arguments(q)      # simulated sequences only: runs side by side on Dask
    q.set_defaults(func=_sequence)
    return p


def _gui(args) -> int:
    try:
        from labspin.gui import main as gui_main
    except ImportError as exc:
        print(f"labspin gui: the GUI needs PyQt6 and pyqtgraph ({exc}); install them with "
              "python -m pip install \".[gui]\"", file=sys.stderr)
        return 2
    return gui_main(args)


def _sequence(args) -> int:
    from labspin.cli.sequence import sequence_main
    return sequence_main(args)


def main(argv: list[str] | None = None) -> int:
    """Run the ``labspin`` command line; returns the exit status."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if len(argv) >= 2 and argv[0] == "run" and not argv[1].startswith("-") \
            and {"-h", "--help"} & set(argv):
        return _run_help(parser, argv[1])
    if len(argv) >= 2 and argv[0] == "analyze" and not argv[1].startswith("-") \
            and {"-h", "--help"} & set(argv):
        return _analyze_help(parser, argv[1])
    args = parser.parse_args(argv)
    if getattr(args, "temperature", 1.0) <= 0:
        parser.error(f"--temperature must be > 0 K, got {args.temperature}")
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (`labspin sim samples | head`): stop quietly, as Unix tools do
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
