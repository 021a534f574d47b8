"""Standard wirings of the simulated bench and the bench config that matches them.

A wiring lists instruments: name → (role, driver key, resource, wiring keywords of the twin).
:func:`build_bench` makes a :class:`VirtualBench` for a sample with those twins, registered
in the bench's own registry under their resources (reachable with
``visa_library=bench.visa_library``, e.g. "bench-3@labspin": benches never share names);
:func:`bench_config_text` writes the bench config (TOML) that points at them, or at the
sockets of ``labspin sim serve``.
"""
from __future__ import annotations

import importlib
import json
import math
from dataclasses import dataclass

from .samples import SampleModel
from .virtual_bench import VirtualBench, VirtualMagnet

TWIN_MODULES = ("sim_keithley", "sim_srs", "sim_rf", "sim_spectrum", "sim_magnet", "sim_pulse")


def twin_classes() -> dict[str, type]:
    """Get every simulated twin by driver registry key (from the sim_* modules)."""
    out: dict[str, type] = {}
    for mod in TWIN_MODULES:
        out.update(importlib.import_module(f"{__package__}.{mod}").TWINS)
    return out


@dataclass(frozen=True)
class Slot:
    """One instrument of a wiring: role, driver key, resource, the twin's wiring keywords and
    the driver options the bench config passes (e.g. a model's read termination)."""
    role: str
    driver: str
    resource: str
    wiring: dict
    options: tuple = ()


_MAGNET = {
    "magnet_psu": Slot("magnet_supply", "kepco_bop", "GPIB0::6::INSTR", {}),
    "gaussmeter": Slot("gaussmeter", "lakeshore475", "GPIB0::11::INSTR", {}),
}

MODULATION_COIL_MAX_A = 0.1
"""The simulated field-modulation coils' rated peak current (A): the bench config's
``max_coil_current_A`` of the lock-in driving them (3.5 V rms behind its 50 Ω)."""

PULSE_SERIES_OHM = 1500.0
"""The protection resistor (Ω) in the pulsed wiring's pulse line, between the generator's
50 Ω output and the sample: a pulse of EMF E (twice the level set into 50 Ω) drives
E/(50 Ω + R_s + R) through a device of resistance R, at most E/1.55 kΩ into a shorted one.
Sized for the 40 nm junctions (mtj_pillar: 1 V across the barrier, 0.628 mA through the
pillar): the E12 value just below 1 V/0.628 mA − 50 Ω = 1.54 kΩ, above which the
barrier's 1 V would bind instead and more resistance only takes current from an intact
junction (with 100 Ω a short at 0.628 mA would have allowed 94 mV, below the 81160A's
smallest pulse). An
intact 40 nm junction then takes up to 0.97 V/(1.55 kΩ + R): 0.27 mA in P, 0.16 mA in AP."""

WIRINGS: dict[str, dict[str, Slot]] = {
    "transport": {
        "smu": Slot("source_meter", "keithley2400", "GPIB0::24::INSTR",
                    {"drives_sample": True, "probe": "xx"}),
        "nanovoltmeter": Slot("voltmeter", "keithley2182a", "GPIB0::7::INSTR", {"probe": "xy"},
                              (("read_termination", "\r"),)),
        **_MAGNET,
    },
    "stfmr": {
        "rf": Slot("rf_source", "e8257d", "TCPIP::192.168.10.30::INSTR", {"drives_sample": True}),
        "lockin": Slot("lock_in", "sr830", "GPIB0::8::INSTR",
                       {"probe": "xx", "reference_source": "rf"}),
        "smu": Slot("source_meter", "keithley2400", "GPIB0::24::INSTR",
                    {"drives_sample": True, "probe": "xx"}),
        **_MAGNET,
    },
    "fmr": {                       # broadband FMR: CPW, rf diode, field-modulation coils
        "rf": Slot("rf_source", "e8257d", "TCPIP::192.168.10.30::INSTR", {"drives_sample": True}),
        "lockin": Slot("lock_in", "sr830", "GPIB0::8::INSTR",
                       {"probe": "diode", "series_ohm": 50.0, "coil_T_per_A": 1e-3}),
        **_MAGNET,
    },
    "harmonic_hall": {
        "lockin_1w": Slot("lock_in", "sr830", "GPIB0::8::INSTR",
                          {"probe": "xy", "drives_sample": True, "series_ohm": 10e3}),
        "lockin_2w": Slot("lock_in", "sr860", "TCPIP::192.168.10.21::INSTR",
                          {"probe": "xy", "reference_source": "lockin_1w"}),
        **_MAGNET,
    },
    "harmonic_hall_6221": {        # harmonic Hall: a 6221 sine, both lock-ins on its reference
        "acsource": Slot("current_source", "keithley6221", "GPIB0::12::INSTR",
                         {"drives_sample": True}),
        "lockin_1w": Slot("lock_in", "sr830", "GPIB0::8::INSTR",
                          {"probe": "xy", "reference_source": "acsource"}),
        "lockin_2w": Slot("lock_in", "sr860", "TCPIP::192.168.10.21::INSTR",
                          {"probe": "xy", "reference_source": "acsource"}),
        **_MAGNET,
    },
    "lockin_transport": {          # ac resistance: a 6221 sine, the lock-in on its reference
        "acsource": Slot("current_source", "keithley6221", "GPIB0::12::INSTR",
                         {"drives_sample": True}),
        "lockin": Slot("lock_in", "sr830", "GPIB0::8::INSTR",
                       {"probe": "xy", "reference_source": "acsource"}),
        **_MAGNET,
    },
    "pulsed": {
        "pulser": Slot("pulse_generator", "keysight81160a", "GPIB0::10::INSTR",
                       {"drives_sample": True, "series_ohm": PULSE_SERIES_OHM}),
        "smu": Slot("source_meter", "keithley2400", "GPIB0::24::INSTR",
                    {"drives_sample": True, "probe": "mtj"}),
        **_MAGNET,
    },
    "gaussian_source": {
        "smu": Slot("source_meter", "keithley2400", "GPIB0::24::INSTR",
                    {"drives_sample": True, "probe": "mtj"}),
        "gate": Slot("source_meter", "keithley2450", "GPIB0::18::INSTR",
                     {"drives_sample": False, "drives_gate": True, "probe": "mtj"}),
    },
    "spectrum": {
        "smu": Slot("source_meter", "keithley2400", "GPIB0::24::INSTR",
                    {"drives_sample": True, "probe": "mtj"}),
        "spectrum": Slot("spectrum_analyzer", "n9030a", "TCPIP::192.168.10.31::INSTR",
                         {"probe": "mtj"}),
        **_MAGNET,
    },
}


def probe_for(sample: SampleModel, probe: str) -> str:
    """Get the probe a wiring keyword means on this sample ("mtj" on pillars, else as is)."""
    if sample.geometry in ("pillar", "domain_wall"):
        return "mtj"
    return "xx" if probe == "mtj" else probe


def build_bench(sample: SampleModel, wiring: str = "transport", *, seed: int = 0,
                magnet: VirtualMagnet | None = None):
    """Make a VirtualBench for ``sample`` with the twins of ``wiring``, each registered in
    the bench's registry under its slot's resource; get (bench, slots)."""
    if wiring not in WIRINGS:
        raise ValueError(f"unknown wiring {wiring!r}; wirings: {', '.join(WIRINGS)}")
    bench = VirtualBench(sample, seed=seed, magnet=magnet)
    twins = twin_classes()
    slots = WIRINGS[wiring]
    for name, slot in slots.items():
        kw = dict(slot.wiring)
        if "probe" in kw:
            kw["probe"] = probe_for(sample, kw["probe"])
        twin = twins[slot.driver](bench, name, **kw)
        bench.resources.register(slot.resource, twin)
    return bench, slots


def warm_up(sample: SampleModel) -> None:
    """Run the macrospin kernels once on a scratch bench of ``sample``: their first call
    compiles them (about 2 s), which a client's VISA timeout over the LAN (often 2 s) would
    otherwise measure on the first reading of a served twin. The scratch bench is thrown
    away: the served bench's state and random streams are untouched."""
    scratch = VirtualBench(sample, seed=0)
    scratch.set_dc_current("warm-up", 1e-3)
    scratch.dc_voltage(probe_for(scratch.sample, "xx"))
    scratch.apply_current_pulse(1e-3, 1e-9, 1e-10)


def follow_wall_clock(bench: VirtualBench, twins) -> None:
    """Make served twins keep the bench's virtual clock in step with wall time.

    Clients in another process wait in real time (magnet ramps, lock-in settling), so each
    message first advances the virtual clock to the time elapsed since serving began; one
    bench-wide lock serializes messages, since every twin shares the bench's state.
    ``bench.message_arrived_s`` is the wall time (``time.monotonic``) at which the message
    being handled arrived, before it waited for that lock: when the client sent it, to within
    the server's scheduling (what a slew auditor of a served bench times changes by).
    """
    import threading
    import time

    lock = threading.RLock()
    start = time.monotonic() - bench.clock.now()
    bench.message_arrived_s = time.monotonic()
    for twin in twins:
        original = twin.respond

        def respond(message, _original=original):
            arrived = time.monotonic()
            with lock:
                bench.message_arrived_s = arrived
                lag = time.monotonic() - start - bench.clock.now()
                if lag > 0:
                    bench.clock.sleep(lag)
                return _original(message)
        twin.respond = respond


BENCH_MAX_CURRENT_A, BENCH_MAX_VOLTAGE_V = 0.02, 20.0
"""The simulated benches' own sample limits (A, V), tightened by a sample's [limits]."""


BENCH_MAX_FIELD_T, MAGNET_SUPPLY_MAX_A = 0.45, 12.0
"""The simulated benches' field limit (T) and the magnet calibration's current range (A)."""


def _max_field_T(magnet) -> float:
    """Get the bench's max_field_T: 0.45 T, or less where the virtual magnet cannot reach it
    on both branches within the calibration's current range (a weaker magnet: the bench must
    not promise a field its supply cannot make), rounded down to 1 mT."""
    reach = magnet.tesla_per_A * MAGNET_SUPPLY_MAX_A - abs(magnet.remanence_T)
    return min(BENCH_MAX_FIELD_T, math.floor(reach * 1e3) / 1e3)


def series_resistor_ohm(twin) -> float:
    """Get the resistor (Ω) a twin's output drives the sample through, beyond the output's
    own impedance (a lock-in's ``series_ohm`` less its 50 Ω), as the bench config's
    ``series_resistance_ohm``: the hardware that bounds the current into a shorted sample."""
    total = getattr(twin, "series_ohm", 0.0)
    return max(0.0, total - getattr(twin, "OUTPUT_OHM", 0.0))


def sample_limits_note(sample: SampleModel, text: str = "") -> str:
    """Get a sentence saying which of the simulated bench's limits (max_sample_current_A,
    max_sample_voltage_V) the sample's [limits] set, and from which key (e.g. its current
    density through its cross-section); only those named in ``text`` if given (a refusal's
    message); "" if none."""
    survives, parts = sample.limits, []
    for key, own, unit, bench_key in (("max_current_A", BENCH_MAX_CURRENT_A, "A",
                                       "max_sample_current_A"),
                                      ("max_voltage_V", BENCH_MAX_VOLTAGE_V, "V",
                                       "max_sample_voltage_V")):
        if survives.get(key, math.inf) < own and (not text or bench_key in text):
            parts.append(f"{bench_key} = {survives[key]:g} {unit} is the sample's "
                         f"{sample.limit_origins.get(key, key)}")
    if not parts:
        return ""
    return (f"on the simulated bench the sample {sample.name} limits the bench's "
            f"{BENCH_MAX_CURRENT_A:g} A / {BENCH_MAX_VOLTAGE_V:g} V: " + "; ".join(parts))


def bench_config_text(bench: VirtualBench, slots: dict[str, Slot], *,
                      resources: dict[str, str] | None = None, visa_library: str | None = None,
                      name: str = "simulated bench", settle_delay_s: float = 1.0) -> str:
    """Get a bench config (TOML) for the twins of ``slots``: their resources (or the given
    socket resources) through ``visa_library`` (default: the bench's own, in-process), a
    magnet calibration equal to the virtual magnet's, and limits (the sample's [limits]
    tighten the bench's). ``settle_delay_s``: the magnet's wait after each field step (s; a
    served bench waits it in wall time, so a campaign of many short runs shortens it)."""
    mg = bench.magnet
    visa_library = visa_library or bench.visa_library
    survives = bench.sample.limits      # the tighter of the bench's and the sample's holds
    current = min(BENCH_MAX_CURRENT_A, survives.get("max_current_A", BENCH_MAX_CURRENT_A))
    voltage = min(BENCH_MAX_VOLTAGE_V, survives.get("max_voltage_V", BENCH_MAX_VOLTAGE_V))
    lines = [f'[bench]\nname = "{name} ({bench.sample.name})"\n',
             "[limits]", f"max_sample_current_A = {current!r}",
             f"max_sample_voltage_V = {voltage!r}",
             "max_current_ramp_A_per_s = 0.01", f"max_field_T = {_max_field_T(mg)!r}",
             "max_field_ramp_T_per_s = 0.5", "max_rf_power_dBm = 20.0", ""]
    for n, slot in slots.items():
        res = (resources or {}).get(n, slot.resource)
        lines += [f"[instruments.{n}]", f'role = "{slot.role}"', f'driver = "{slot.driver}"',
                  f'resource = "{res}"', f'visa_library = "{visa_library}"']
        if slot.options:
            opts = ", ".join(f"{k} = {json.dumps(v)}" for k, v in slot.options)
            lines.append(f"options = {{ {opts} }}")
        series = series_resistor_ohm(bench.instruments.get(n))
        if series:
            lines.append(f"series_resistance_ohm = {series!r}")
        if getattr(bench.instruments.get(n), "coil_T_per_A", 0.0):
            lines.append(f"max_coil_current_A = {MODULATION_COIL_MAX_A!r}")
        lines.append("")
    supply = next((n for n, s in slots.items() if s.role == "magnet_supply"), None)
    gauss = next((n for n, s in slots.items() if s.role == "gaussmeter"), None)
    if supply:
        lines += ["[magnet]", f'supply = "{supply}"']
        if gauss:
            lines.append(f'gaussmeter = "{gauss}"')
        lines += ["max_step_T = 0.01", "tolerance_T = 5e-4", "settle_timeout_s = 30.0",
                  f"settle_delay_s = {settle_delay_s!r}", "", "[magnet.calibration]",
                  f"tesla_per_A = {mg.tesla_per_A!r}", f"max_current_A = {MAGNET_SUPPLY_MAX_A!r}",
                  f"remanence_T = {mg.remanence_T!r}", ""]
    return "\n".join(lines)


def simulated_bench(wiring: str, sample: str = "inplane_sot_hallbar",
                    overrides: list[str] | None = None, seed: int = 0, magnet=None):
    """Make a :class:`labspin.bench.session.Bench` of a standard wiring for a sample (name or
    TOML file), its instruments the simulated ones of a new virtual bench."""
    import hashlib
    import tomllib

    from labspin.bench.config import parse_bench_config
    from labspin.bench.session import Bench

    from .samples import load_sample

    model = load_sample(sample, overrides or [])
    vb, slots = build_bench(model, wiring, seed=seed, magnet=magnet)
    text = bench_config_text(vb, slots, name=f"simulated {wiring} bench")
    cfg = parse_bench_config(tomllib.loads(text),
                             sha256=hashlib.sha256(text.encode()).hexdigest())
    return Bench(cfg, vb.clock, rotation_stage=vb.rotation_stage, virtual=vb)
