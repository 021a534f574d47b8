"""The simulated benches ``@labspin`` offers to any client: the default bench and benches
chosen by a specification, as pyvisa-sim chooses its file.

``pyvisa.ResourceManager("@labspin")`` reaches the *default bench*: one twin of every
supported model on GPIB board 0 at the addresses of :data:`DEFAULT_ADDRESSES`, wired to
the sample :data:`DEFAULT_SAMPLE`. ``"SPEC@labspin"`` picks another bench
(:func:`bench_for_spec`):

* ``SAMPLE`` (a built-in sample name or a sample TOML file): every twin on that sample;
* ``SAMPLE:WIRING`` (``perpendicular_sot_hallbar:transport``): the twins of a standard
  wiring at the wiring's resources (:data:`labspin.sim_backend.wirings.WIRINGS`);
* a bench config file (TOML with ``[instruments]``): a twin for each instrument's driver at
  its resource, on the default sample.

The environment variable ``LABSPIN_SIM_BENCH`` gives the SPEC of plain ``"@labspin"`` for
clients that cannot pass a library string (with ``PYVISA_LIBRARY=@labspin`` they need not
even name the backend). These benches serve clients that know nothing of the bench clock,
so their clocks follow wall time (:func:`~labspin.sim_backend.wirings.follow_wall_clock`);
labspin's own runs make benches of their own (``bench-<n>@labspin``) that keep virtual time.

Every source of the default bench is wired into the sample's current path (as through a
switch matrix: use one at a time); the Kepco BOP drives the magnet (the Danfysik 8500 is
connected to a dummy load); the 6221's delta partner is the 2182A.
"""
from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path
from typing import Sequence

from .samples import SampleModel, load_sample
from .virtual_bench import VirtualBench
from .wirings import WIRINGS, build_bench, follow_wall_clock, probe_for, twin_classes

ENV_VAR = "LABSPIN_SIM_BENCH"
"""The environment variable holding the SPEC of plain ``"@labspin"``."""

DEFAULT_SAMPLE = "inplane_sot_hallbar"
"""The sample of the default bench."""

DEFAULT_ADDRESSES: dict[str, tuple[int, dict]] = {
    # driver key: (GPIB address on board 0, the twin's wiring keywords)
    "keithley2400": (24, {"drives_sample": True, "probe": "xx"}),
    "keithley2450": (18, {"drives_sample": True, "probe": "xx"}),
    "keithley6221": (12, {"drives_sample": True, "nanovoltmeter": "keithley2182a"}),
    "keithley2182a": (7, {"probe": "xy"}),
    "sr830": (8, {"probe": "xy", "drives_sample": True, "series_ohm": 10e3}),
    "sr860": (9, {"probe": "xy"}),
    "sr865": (13, {"probe": "xy"}),
    "sr865a": (14, {"probe": "xy"}),
    "e8257d": (19, {"drives_sample": True}),
    "n5183b": (21, {"drives_sample": True}),
    "smb100a": (28, {"drives_sample": True}),
    "n9020a": (17, {"probe": "xx"}),
    "n9030a": (16, {"probe": "xx"}),
    "fsv": (20, {"probe": "xx"}),
    "kepco_bop": (6, {"drives_magnet": True}),
    "danfysik8500": (5, {"drives_magnet": False}),
    "lakeshore425": (1, {}),
    "lakeshore455": (2, {}),
    "lakeshore475": (11, {}),
    "keysight81160a": (10, {"drives_sample": True}),
    "keysight33500b": (15, {"drives_sample": True}),
    "psp10070a": (3, {"drives_sample": True}),
}
"""The default bench: every twin's GPIB address and wiring. The factory defaults where one
bench can hold them (Keithley 2400: 24, 2450: 18, 6221: 12, 2182A: 7; SR830: 8; E8257D:
19; SMB100A: 28; FSV: 20; Kepco BOP: 6; 81160A: 10), free addresses for models whose
factory address another model already holds (the X-series analyzers' and the MXG's)."""


def _probe(bench: VirtualBench, wiring: dict) -> dict:
    kw = dict(wiring)
    if "probe" in kw:
        kw["probe"] = probe_for(bench.sample, kw["probe"])
    return kw


def every_twin_bench(sample: str | Path = DEFAULT_SAMPLE, *, seed: int = 0) -> VirtualBench:
    """Make a bench with one twin of every model at :data:`DEFAULT_ADDRESSES` on ``sample``
    (a built-in name or a TOML file)."""
    bench = VirtualBench(load_sample(sample), seed=seed)
    missing = set(twin_classes()) - set(DEFAULT_ADDRESSES)
    if missing:
        raise RuntimeError(f"no default address for the twins {sorted(missing)}")
    for key, (address, _wiring) in DEFAULT_ADDRESSES.items():
        twin = add_twin(bench, key, key, partners=tuple(DEFAULT_ADDRESSES))
        bench.resources.register(f"GPIB0::{address}::INSTR", twin)
    return bench


def add_twin(bench: VirtualBench, key: str, name: str, *, partners: Sequence[str] = ()):
    """Make the twin of driver ``key`` named ``name`` on ``bench``, wired as in
    :data:`DEFAULT_ADDRESSES`; a 6221 gets its delta partner only if ``partners`` (the
    names of the bench's other twins) holds a 2182A named "keithley2182a"."""
    wiring = dict(DEFAULT_ADDRESSES.get(key, (0, {}))[1])
    if wiring.get("nanovoltmeter") not in partners:
        wiring.pop("nanovoltmeter", None)
    return twin_classes()[key](bench, name, **_probe(bench, wiring))


def bench_config_bench(path: Path, *, seed: int = 0) -> VirtualBench:
    """Make a bench with a twin for each instrument of a bench config file, at its resource,
    on the default sample (wired as in :data:`DEFAULT_ADDRESSES`)."""
    from labspin.bench.config import load_bench_config

    cfg = load_bench_config(path)
    bench = VirtualBench(load_sample(DEFAULT_SAMPLE), seed=seed)
    for name, inst in cfg.instruments.items():
        bench.resources.register(inst.resource, add_twin(bench, inst.driver, name))
    return bench


def models_bench(sample: SampleModel, models: Sequence[str], *,
                 seed: int = 0) -> tuple[VirtualBench, dict[str, str]]:
    """Make a bench on ``sample`` with one twin per entry of ``models`` (driver keys, a key
    may repeat), wired as in :data:`DEFAULT_ADDRESSES`; get (bench, twin name -> key).

    Twins are named by their key, a repeated one "key-2", "key-3", ... ValueError names an
    unknown model and the models there are."""
    classes = twin_classes()
    names: dict[str, str] = {}
    for key in models:
        if key not in classes:
            raise ValueError(f"unknown instrument model {key!r}; models: "
                             f"{', '.join(sorted(classes))}")
        n = sum(1 for k in names.values() if k == key)
        names[key if not n else f"{key}-{n + 1}"] = key
    bench = VirtualBench(sample, seed=seed)
    for name, key in names.items():
        add_twin(bench, key, name, partners=tuple(names))
    return bench, names


def bench_for_spec(spec: str, *, seed: int = 0) -> VirtualBench:
    """Make the bench a SPEC names ("" for the default bench; see the module doc).

    ValueError names the spec and what it may be."""
    spec = spec.strip()
    if not spec:
        return every_twin_bench(seed=seed)
    path = Path(spec)
    if path.suffix == ".toml" and path.is_file():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "instruments" in data:
            return bench_config_bench(path, seed=seed)
        return every_twin_bench(path, seed=seed)
    sample, sep, wiring = spec.rpartition(":")
    if sep and wiring in WIRINGS:
        return build_bench(load_sample(sample), wiring, seed=seed)[0]
    if sep and not Path(spec).exists():
        raise ValueError(f"simulated bench {spec!r}: unknown wiring {wiring!r}; a SPEC is "
                         f"SAMPLE, SAMPLE:WIRING (wirings: {', '.join(WIRINGS)}), or a "
                         f"sample or bench config .toml file")
    return every_twin_bench(spec, seed=seed)


_SERVED: dict[str, VirtualBench] = {}
_SERVED_LOCK = threading.Lock()


def served_bench(spec: str | None) -> VirtualBench:
    """Get the bench ``"SPEC@labspin"`` reaches, made on first use and kept for the process,
    its clock following wall time; ``None`` or "labspin": the default bench, or the SPEC in
    ``LABSPIN_SIM_BENCH``."""
    if spec in (None, "", "labspin"):
        spec = os.environ.get(ENV_VAR, "")
    key = spec.strip()
    with _SERVED_LOCK:
        bench = _SERVED.get(key)
        if bench is None:
            bench = bench_for_spec(key)
            follow_wall_clock(bench, bench.instruments.values())
            _SERVED[key] = bench
    return bench
