"""Reliability campaigns on the simulated bench (issue 8): every procedure aborted anywhere,
instrument faults at random messages, a shutdown that fails, and limits refused before any
command.

Each run is a small configuration of one procedure (``SMALL``); a clean run with the same seed
counts the messages every instrument receives before the shutdown, and the campaign then
triggers its event at a message drawn uniformly from that count (seeded), so an abort or a
fault can land anywhere: mid-ramp, mid-point, between points. After every run:

* every source is in its safe state (no dc or rf drive on the sample, sine outputs at their
  minimum, magnet supply at 0 A with its output off, gate at 0 V, every output disabled);
* the move to it was a ramp within the configured slew limits, checked on the simulated
  instruments' output logs from the moment shutdown began (steps ≤ max_step, rate ≤ max_rate);
* the file loads with pymeasure and pandas, ends with its status, and holds exactly the points
  the procedure emitted (counted as they were formatted);
* the run ended within a wall-clock watchdog (``WATCHDOG_S``).

CI runs ``N_ABORTS``/``N_FAULT_ROUNDS`` per procedure; ``LABSPIN_CAMPAIGN=full`` (or the
``slow`` tests) runs 24 aborts and 8 fault rounds (32 faults) per procedure.
"""
from __future__ import annotations

import math
import os
import re
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest
from pymeasure.experiment import Results

from labspin.procedures import PROCEDURES, procedure_class
from labspin.run.api import prepare
from labspin.run.runner import ABORTED, FAILED, FINISHED, run_procedure

SMALL = {name: entry.small for name, entry in PROCEDURES.items()}
"""Each procedure's small configuration, from its registry entry."""
FULL = os.environ.get("LABSPIN_CAMPAIGN", "") == "full"
N_ABORTS, N_FAULT_ROUNDS = (24, 8) if FULL else (3, 1)
FAULTS = ("timeout", "garbled", "drop", "error")
WATCHDOG_S = 60.0
"""Wall-clock bound of one run (s); the largest small run takes ~2 s on one core."""
ENABLE_FLAGS = ("output", "output[1]", "output[2]", "rf_on", "enabled")
ZERO_LEVELS = ("source_current", "source_voltage", "current")
RESOLUTION = {"sine_amplitude": 1e-3, "power": 1e-2, "current": 1e-5}
"""Setting resolution of the simulated models (SR830 sine out: 1 mV; rf power: 0.01 dB; Kepco
current: 10 µA, setpoints written with 6 significant digits up to 12 A): a
logged step may exceed the written one by this much, so it is the rate check's allowance."""
STATS = {"aborts": 0, "interrupts": 0, "faults": 0, "faults_tolerated": 0,
         "faults_in_driver_setup": 0,
         "failing_shutdowns": 0, "hangs": 0, "points_lost": 0}


@pytest.fixture(scope="module", autouse=True)
def report_figures():
    """Print the campaign's figures (pytest -s shows them)."""
    yield
    print("\nreliability campaign:", STATS)


def test_small_configurations_cover_every_procedure():
    """Every registry entry has a small configuration whose names are its parameters."""
    for name, small in SMALL.items():
        assert small, f"{name}: no small configuration in its registry entry"
        cls = procedure_class(name)
        unknown = [k for k in small if not hasattr(cls, k)]
        assert not unknown, f"{name}: small configuration names no parameter {unknown}"


# ---------------------------------------------------------------- instrumented runs
@dataclass
class Run:
    """A prepared small run with message counting, a trigger at a global message index,
    shutdown bookkeeping, and a count of the points the procedure emitted."""
    name: str
    seed: int
    prepared: object = None
    messages: dict = field(default_factory=dict)        # twin name → messages received
    shutdown_at: dict | None = None                      # twin name → (log len, output_log len)
    emitted: int = 0
    hook: object = None              # hook(twin name, twin) before each message is handled
    after: object = None             # after(twin name, twin, message) once it was handled
    count: int = 0                   # messages received by all twins

    def __post_init__(self):
        self.prepared = prepare(self.name, params=SMALL[self.name], seed=self.seed)
        bench = self.prepared.bench
        for tname, twin in bench.virtual.instruments.items():
            self.messages[tname] = 0
            twin.respond = self._counting(tname, twin, twin.respond)
        shutdown = bench.shutdown

        def recording_shutdown():
            self.shutdown_at = {n: (self.messages[n], len(t.output_log))
                                for n, t in self.twins.items()}
            if self.on_shutdown is not None:
                self.on_shutdown()
            return shutdown()
        bench.shutdown = recording_shutdown
        self.on_shutdown = None

    @property
    def bench(self):
        return self.prepared.bench

    @property
    def twins(self) -> dict:
        return self.bench.virtual.instruments

    def _counting(self, tname, twin, respond):
        def counted(message):
            self.messages[tname] += 1
            self.count += 1
            if self.hook is not None:
                self.hook(tname, twin)
            reply = respond(message)
            if self.after is not None:
                self.after(tname, twin, message)
            return reply
        return counted

    def pre_shutdown_messages(self) -> int:
        return sum(n for n, _ in self.shutdown_at.values())

    def go(self, out_dir, abort: threading.Event | None = None):
        """Run in a thread under the watchdog; get the RunResult."""
        box: dict = {}
        original = Results.format

        def counting_format(results, record):
            self.emitted += 1
            return original(results, record)

        def target():
            try:
                box["result"] = run_procedure(self.prepared.procedure, self.bench, out_dir,
                                              sample_name=self.prepared.sample_name,
                                              seed=self.seed, abort=abort)
            except BaseException as exc:  # noqa: BLE001 — reported below
                box["error"] = exc
        Results.format = counting_format
        try:
            thread = threading.Thread(target=target, daemon=True)
            t0 = time.monotonic()
            thread.start()
            thread.join(WATCHDOG_S)
        finally:
            Results.format = original
        if thread.is_alive():
            STATS["hangs"] += 1
            pytest.fail(f"{self.name} seed {self.seed}: run still going after {WATCHDOG_S} s")
        assert "error" not in box, f"run_procedure raised {box.get('error')!r}"
        box["result"].wall_s = time.monotonic() - t0
        return box["result"]


_CLEAN: dict = {}


def clean_counts(name: str, seed: int, tmp_path_factory) -> Run:
    """A finished run of the small configuration: messages per twin before the shutdown."""
    key = (name, seed)
    if key not in _CLEAN:
        run = Run(name, seed)
        result = run.go(tmp_path_factory.mktemp("clean"))
        assert result.status == FINISHED, result.message
        _CLEAN[key] = run
    return _CLEAN[key]


# ---------------------------------------------------------------- the checks
def assert_file_intact(run: Run, result, status_name: str) -> None:
    """The file loads with pymeasure and pandas, ends with its status and holds every point
    the procedure emitted."""
    text = result.path.read_text(encoding="utf-8")
    tail = [ln for ln in text.splitlines() if ln.startswith("#Status:")]
    assert tail == [f"#Status: {status_name}"], tail
    df = pd.read_csv(result.path, comment="#")
    loaded = Results.load(str(result.path))
    lost = run.emitted - len(df)
    STATS["points_lost"] += max(lost, 0)
    assert len(df) == run.emitted == len(loaded.data), (len(df), run.emitted)
    assert list(df.columns) == list(run.prepared.procedure.DATA_COLUMNS)


def _slew_limits(run: Run, tname: str, oname: str):
    """Get (max_step, max_rate) that output ``oname`` of twin ``tname`` must respect."""
    bench = run.bench
    inst = bench.instruments[tname]
    if oname in ("source_current", "source_voltage"):
        s = inst.slew_of(oname.removeprefix("source_"))
        if oname == "source_current" and bench.config.instruments[tname].role in (
                "source_meter", "current_source"):
            return s.max_step, min(s.max_rate, bench.config.limits.max_current_ramp_A_per_s)
        return s.max_step, s.max_rate
    if oname == "current" and bench.magnet is not None and bench.magnet.supply is inst:
        a, b = bench.magnet.current_slew, inst.slew_of("current")
        return min(a.max_step, b.max_step), min(a.max_rate, b.max_rate)
    if oname in ("sine_amplitude", "power"):
        s = inst.slew_of(oname)
        return s.max_step, s.max_rate
    return None


def assert_ramped(run: Run, skip: set = frozenset()) -> None:
    """From the start of shutdown, every level output moved in steps ≤ max_step at a rate
    ≤ max_rate (the real ramp, from the simulated instruments' output logs)."""
    for tname, twin in run.twins.items():
        if tname in skip:
            continue
        start = run.shutdown_at[tname][1]
        for oname in {o for _, o, _ in twin.output_log[start:]}:
            lim = _slew_limits(run, tname, oname)
            if lim is None:
                continue
            max_step, max_rate = lim
            quantum = RESOLUTION.get(oname, 0.0)
            entries = [(t, v) for t, o, v in twin.output_log if o == oname]
            n_before = sum(1 for _, o, _ in twin.output_log[:start] if o == oname)
            seq = entries[max(n_before - 1, 0):]
            if n_before == 0:
                param_default = 0.0 if oname != "sine_amplitude" else seq[0][1]
                seq = [(-math.inf, param_default)] + seq
            for (t0, v0), (t1, v1) in zip(seq, seq[1:]):
                step = abs(float(v1) - float(v0))
                assert step <= max_step * (1 + 1e-9) + quantum + 1e-15, (
                    f"{tname}.{oname} jumped {v0} → {v1} (max step {max_step}) during shutdown")
                if step > 0 and math.isfinite(max_rate):
                    assert step <= max_rate * (t1 - t0) * (1 + 1e-6) + quantum + 1e-15, (
                        f"{tname}.{oname} {v0} → {v1} in {t1 - t0} s exceeds {max_rate}/s")


def assert_safe(run: Run, skip: set = frozenset()) -> None:
    """Every source (but those in ``skip``, e.g. an instrument whose connection was dropped)
    is in its safe state, and the sample sees no drive from them."""
    vb = run.bench.virtual
    for tname, twin in run.twins.items():
        if tname in skip:
            continue
        for flag in ENABLE_FLAGS:
            assert not twin.outputs.get(flag, False), f"{tname}.{flag} left on"
        for level in ZERO_LEVELS:
            if level in twin.outputs:
                assert twin.outputs[level] == 0.0, f"{tname}.{level} = {twin.outputs[level]}"
        if "sine_amplitude" in twin.outputs:
            low = run.bench.instruments[tname].limits_of("sine_amplitude")[0]
            assert twin.outputs["sine_amplitude"] <= low + 1e-12, f"{tname} sine left on"
        assert vb.drives.dc_A.get(tname, 0.0) == 0.0, f"{tname} drives dc current"
        assert tname not in vb.drives.rf, f"{tname} drives rf"
        assert vb.gate_V.get(tname, 0.0) == 0.0, f"{tname} leaves a gate voltage"
    magnet = run.bench.config.magnet
    if magnet is not None and magnet.supply not in skip:
        assert vb.magnet.setpoint_A == 0.0
    assert_ramped(run, skip)


def names_instrument_and_command(run: Run, message: str, tname: str,
                                 received: bool = True) -> None:
    """The message names the faulted instrument and a command; with ``received``, one that
    the instrument really received (not so after a dropped connection: then the command
    that found the connection gone is named)."""
    cfg = run.bench.config.instruments[tname]
    assert f"{tname} ({cfg.driver} at {cfg.resource})" in message, message
    m = re.search(rf"{re.escape(tname)} \([^)]*\): command (['\"])(.*?)\1 failed", message)
    assert m and m.group(2).strip(), message
    if received:                # (the SR830 twin logs "SENS17" as it parses it: "SENS 17")
        log = [re.sub(r"\s+", "", msg) for _, msg in run.twins[tname].log]
        assert re.sub(r"\s+", "", m.group(2)) in log, (m.group(2), log[-5:])


# ---------------------------------------------------------------- abort anywhere
def _abort_case(name: str, k: int, tmp_path_factory) -> None:
    rng = np.random.default_rng([k, len(name)])
    seed = int(rng.integers(0, 3))
    clean = clean_counts(name, seed, tmp_path_factory)
    run = Run(name, seed)
    at = int(rng.integers(1, clean.pre_shutdown_messages() + 1))
    interrupt = k % 3 == 2             # one in three: Ctrl-C arriving inside an instrument call
    abort = threading.Event()

    def fire(tname, twin):
        if run.count != at:
            return
        if interrupt:
            raise KeyboardInterrupt
        abort.set()
    run.hook = fire
    result = run.go(tmp_path_factory.mktemp("abort"), abort)
    STATS["interrupts" if interrupt else "aborts"] += 1
    assert result.status == ABORTED, (name, seed, at, result.message)
    assert result.message == ("interrupted (Ctrl-C)" if interrupt else "")
    assert_safe(run)
    assert_file_intact(run, result, "ABORTED")


@pytest.mark.parametrize("name", list(SMALL))
def test_abort_anywhere(name, tmp_path_factory):
    for k in range(N_ABORTS):
        _abort_case(name, k, tmp_path_factory)


# ---------------------------------------------------------------- instrument faults
def _fault_case(name: str, kind: str, k: int, tmp_path_factory) -> None:
    rng = np.random.default_rng([k, FAULTS.index(kind), len(name), 7])
    seed = int(rng.integers(0, 3))
    clean = clean_counts(name, seed, tmp_path_factory)
    counts = {n: c for n, (c, _) in clean.shutdown_at.items() if c > 0}
    tname = str(rng.choice(sorted(counts)))
    at = int(rng.integers(1, counts[tname] + 1))
    run = Run(name, seed)
    fault, fired_on = [], []

    def fire(t, twin):
        if t == tname and run.messages[t] == at and not fault:
            fault.append(twin.inject(kind, count=1))

    def after(t, twin, message):
        if t == tname and fault and fault[0].remaining == 0 and not fired_on:
            fired_on.append(message)
    run.hook, run.after = fire, after
    result = run.go(tmp_path_factory.mktemp("fault"))
    STATS["faults"] += 1
    where = f"{name} seed {seed}: {kind} on {tname} at its message {at} ({fired_on})"
    if not fired_on:        # e.g. a timeout armed after the instrument's last query
        assert result.status == FINISHED, (where, result.message)
        return
    if result.status == FINISHED:
        # only where the design reads on: the identity for the metadata ("unavailable"),
        # and the status read that clears stale entries before a command
        # a lost connection to an instrument the procedure does not use after *IDN? (its
        # identity then reads "unavailable") leaves the run to finish as well
        text = result.path.read_text(encoding="utf-8")
        log = [m for _, m in run.twins[tname].log]
        setup = log[:log.index("*ESR?")] if "*ESR?" in log else log
        if fired_on[0] in setup:    # sent by pymeasure's constructor, before labspin wraps
            STATS["faults_in_driver_setup"] += 1     # the instrument: not status-checked
            return
        assert fired_on[0] in ("*IDN?", "*ESR?"), where
        if fired_on[0] == "*IDN?" or kind == "drop":
            assert "unavailable" in text, where
        STATS["faults_tolerated"] += 1
        return
    assert result.status == FAILED, (where, result.status_name)
    try:
        names_instrument_and_command(run, result.message, tname, received=kind != "drop")
        assert_safe(run, skip={tname} if kind == "drop" else set())
        assert_file_intact(run, result, "FAILED")
    except AssertionError as exc:
        raise AssertionError(f"{where}: {exc}\n{result.message}") from None


@pytest.mark.parametrize("name", list(SMALL))
def test_instrument_faults_at_random_messages(name, tmp_path_factory):
    for k in range(N_FAULT_ROUNDS):
        for kind in FAULTS:
            _fault_case(name, kind, k, tmp_path_factory)


# ---------------------------------------------------------------- a failing shutdown
def _failing_shutdown_case(name: str, k: int, tmp_path_factory) -> None:
    rng = np.random.default_rng([len(name), 11, k])
    clean = clean_counts(name, 0, tmp_path_factory)
    sources = [n for n, (c, _) in clean.shutdown_at.items() if c > 0
               and clean.bench.config.instruments[n].role not in ("gaussmeter", "voltmeter",
                                                                   "spectrum_analyzer")]
    tname = str(rng.choice(sorted(sources)))
    kind = str(rng.choice(["timeout", "error", "drop"]))
    run = Run(name, 0)
    run.on_shutdown = lambda: run.twins[tname].inject(kind, count=None)
    result = run.go(tmp_path_factory.mktemp("shutdown"))
    STATS["failing_shutdowns"] += 1
    assert result.status == FAILED
    known = ("shutdown failed", "did not answer", "stopped taking commands")   # its state
    assert any(f"{label}: {what}" in result.message for label in (tname, f"magnet ({tname})")
               for what in known), result.message
    names_instrument_and_command(run, result.message, tname, received=kind != "drop")
    assert_safe(run, skip={tname})
    assert_file_intact(run, result, "FAILED")


@pytest.mark.parametrize("name", list(SMALL))
def test_failing_shutdown_still_makes_the_others_safe(name, tmp_path_factory):
    """When shutdown begins, one source (drawn per procedure) starts failing every command
    (time-outs, rejected commands or a lost connection, for good): the run still ends, FAILED,
    naming it; its file is closed with the status; every other source is safe."""
    _failing_shutdown_case(name, 0, tmp_path_factory)


# ---------------------------------------------------------------- limits
LIMIT_CASES = [
    ("field-sweep", {"max_field": 0.6}, "Max field"),
    ("field-sweep", {"current": 0.05}, "Current"),
    ("current-sweep", {"max_current": 0.05}, "Max current"),
    ("current-sweep", {"field": 0.6}, "Field"),
    ("pulse-switching", {"read_current": 0.05}, "Read current"),
    ("pulse-switching", {"max_amplitude": 4.0}, "amplitude"),
    ("stfmr", {"powers": "25"}, "ower"),
    ("stfmr", {"dc_currents": "0.05"}, "urrent"),
    ("stfmr", {"field_range": "fixed", "field_max": 0.6}, "ield"),
    ("switching-probability", {"read_current": 0.008, "reset_amplitude": 0.1}, "Read current"),
    ("switching-probability", {"field": 0.6, "reset_amplitude": 0.1}, "Field"),
    ("tmr-statistics", {"bias_current": 0.008}, "ias current"),
    ("telegraph-dwell", {"fields": "0,0.6"}, "ield"),
    ("telegraph-dwell", {"bias_currents": "0.05"}, "urrent"),
    ("magnet-calibration", {"max_current": 15.0}, "Max current"),
    ("kapitza-map", {"max_current": 0.05}, "urrent"),
    ("kapitza-map", {"max_field": 0.6}, "ield"),
    ("harmonic-hall", {"max_field": 0.6}, "Max field"),
    ("stno-spectrum", {"currents": "0.001,0.05"}, "urrent"),
    ("stno-spectrum", {"fields": "0.6"}, "ield"),
]


def with_limits(prepared, *replace: str):
    """Get a Bench on the prepared run's simulated instruments whose config has the
    replacements (old, new, old, new, …) made in its text."""
    import tomllib

    from labspin.bench.config import parse_bench_config
    from labspin.bench.session import Bench
    from labspin.sim_backend.wirings import WIRINGS, bench_config_text

    vb = prepared.bench.virtual
    text = bench_config_text(vb, WIRINGS[prepared.procedure.sim_wiring()])
    for old, new in zip(replace[::2], replace[1::2]):
        # "key = value": the value in force where the sample's [limits] hold a tighter one
        key, value = old.split(" = ")
        found = re.search(rf"(?m)^{re.escape(key)} = (.*)$", text)
        assert found and float(found.group(1)) <= float(value), (old, found)
        wanted = min(float(found.group(1)), float(new.split(" = ")[1]))
        text = text.replace(found.group(0), f"{key} = {wanted!r}")
    return Bench(parse_bench_config(tomllib.loads(text)), vb.clock, virtual=vb)


@pytest.mark.parametrize("name,params,word", LIMIT_CASES)
def test_beyond_the_limits_is_refused_before_any_command(name, params, word):
    """Sample current, magnet field and rf power beyond the bench's limits: refused by
    prepare() and again by run_procedure(), with no message reaching any instrument."""
    from labspin.bench.safety import LimitError
    from labspin.bench.session import Bench
    from labspin.run.api import set_parameters

    ok = prepare(name, params=SMALL[name])
    procedure = ok.procedure
    # 5 mA: the read and bias current parameters stop at 10 mA, the simulated bench at 20 mA
    bench = with_limits(ok, "max_sample_current_A = 0.02", "max_sample_current_A = 0.005")
    powered_on = {n: list(t.output_log) for n, t in bench.virtual.instruments.items()}
    set_parameters(procedure, params)
    with pytest.raises((ValueError, LimitError)) as info:
        run_procedure(procedure, bench, ".")
    assert word in str(info.value) and ("allowed" in str(info.value) or "limit" in
                                        str(info.value)), str(info.value)
    assert isinstance(bench, Bench)
    for n, twin in bench.virtual.instruments.items():
        assert list(twin.log) == [] and twin.output_log == powered_on[n]


def test_configured_ramp_rates_bound_every_move(tmp_path):
    """Slower ramp limits in the bench config (field and sample current) are what the
    simulated instruments see: no move of the magnet supply or the sample current is faster.
    (No procedure takes a ramp rate as a parameter: the bench config's rates bound them.)"""
    p = prepare("stno-spectrum", params=SMALL["stno-spectrum"], seed=0)
    vb = p.bench.virtual
    bench = with_limits(p, "max_current_ramp_A_per_s = 0.01", "max_current_ramp_A_per_s = 2e-4",
                        "max_field_ramp_T_per_s = 0.5", "max_field_ramp_T_per_s = 0.02")
    p.procedure.fields = "0.02"
    result = run_procedure(p.procedure, bench, tmp_path)
    assert result.status == FINISHED, result.message
    smu = [(t, v) for t, o, v in vb.instruments["smu"].output_log if o == "source_current"]
    psu = [(t, v) for t, o, v in vb.instruments["magnet_psu"].output_log if o == "current"]
    k = bench.magnet.calibration.slope()
    for log, rate in ((smu, 2e-4), (psu, 0.02 / k)):
        assert len(log) > 3
        for (t0, v0), (t1, v1) in zip(log, log[1:]):
            assert abs(v1 - v0) <= rate * (t1 - t0) * (1 + 1e-6) + 1e-15


# ---------------------------------------------------------------- full size, on demand
@pytest.mark.slow
@pytest.mark.parametrize("name", list(SMALL))
def test_full_campaign(name, tmp_path_factory):
    """24 aborts (a third of them Ctrl-C inside an instrument call), 32 faults and 5 more
    failing shutdowns per procedure: ``pytest -m slow tests/test_reliability_campaign.py``."""
    for k in range(24):
        _abort_case(name, k, tmp_path_factory)
    for k in range(8):
        for kind in FAULTS:
            _fault_case(name, kind, k, tmp_path_factory)
    for k in range(1, 6):
        _failing_shutdown_case(name, k, tmp_path_factory)
