"""The bench config (TOML): instruments by role → driver, VISA resource and options; the
magnet's calibration and control settings; the bench's safety limits.

Every problem is reported with the key that holds it (``instruments.lockin.driver``) and the
allowed values, before any instrument is touched. See ``labspin/bench/data/bench_example.toml``.
"""
from __future__ import annotations

import dataclasses
import difflib
import hashlib
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from labspin.bench.calibration import MagnetCalibration
from labspin.bench.registry import DRIVERS, driver_roles

ROLES = ("source_meter", "current_source", "voltmeter", "lock_in", "rf_source",
         "spectrum_analyzer", "magnet_supply", "gaussmeter", "pulse_generator")
EXAMPLE = Path(__file__).with_name("data") / "bench_example.toml"


class ConfigError(ValueError):
    """A malformed bench config; the message lists every problem with its key."""


@dataclass(frozen=True)
class InstrumentConfig:
    """One instrument: its name in the config, role, driver key, VISA resource, options."""
    name: str
    role: str
    driver: str
    resource: str
    visa_library: str = ""
    timeout_ms: int = 5000
    options: dict = field(default_factory=dict)
    series_resistance_ohm: float = 0.0
    """A resistor (Ω) wired in series between this source's output and the sample: with the
    output's own impedance it bounds the current into a shorted sample
    (:mod:`labspin.bench.limits`)."""
    max_coil_current_A: float | None = None
    """For a source that drives field-modulation coils, not the sample (fmr's lock-in sine):
    the largest peak current (A) the coils (or their amplifier) take. Its outputs are then
    limited by it into a shorted coil behind the output and ``series_resistance_ohm``, and
    not by the sample's limits."""


@dataclass(frozen=True)
class Limits:
    """The bench's safety limits (SI); checked before any command reaches an instrument."""
    max_sample_current_A: float
    max_field_T: float
    max_field_ramp_T_per_s: float
    max_rf_power_dBm: float
    max_sample_voltage_V: float = 10.0
    max_current_ramp_A_per_s: float = 1e-3


@dataclass(frozen=True)
class MagnetConfig:
    """The electromagnet: its supply and gaussmeter (instrument names), calibration and
    control settings."""
    supply: str
    calibration: MagnetCalibration
    gaussmeter: str | None = None
    max_step_T: float = 0.005
    tolerance_T: float = 2e-4
    settle_timeout_s: float = 30.0
    settle_delay_s: float = 0.2


@dataclass(frozen=True)
class BenchConfig:
    """A validated bench config; sha256 is the hash of the file's bytes (for metadata)."""
    name: str
    instruments: dict[str, InstrumentConfig]
    limits: Limits
    magnet: MagnetConfig | None
    sha256: str
    path: Path | None = None

    @property
    def settable_field_T(self) -> float:
        """Get the largest |field| (T) a procedure may ask for: the field both branches of
        the magnet's calibration make, either polarity, within the current at which the
        first branch reaches max_field_T (an iron yoke's remanence puts the other branch
        lower); max_field_T without a [magnet]."""
        lim = self.limits.max_field_T
        if self.magnet is None:
            return lim
        cal = self.magnet.calibration
        return min(lim, cal.reach_T(cal.current_limit(lim)))

    def by_role(self, role: str) -> list[InstrumentConfig]:
        """Get the instruments that serve ``role``, in config order."""
        return [i for i in self.instruments.values() if i.role == role]


_TOP = {"bench", "instruments", "limits", "magnet"}
_INSTRUMENT_KEYS = {"role", "driver", "resource", "visa_library", "timeout_ms", "options",
                    "series_resistance_ohm", "max_coil_current_A"}
_LIMIT_KEYS = {f for f in Limits.__dataclass_fields__}
_MAGNET_KEYS = {"supply", "gaussmeter", "calibration", "max_step_T", "tolerance_T",
                "settle_timeout_s", "settle_delay_s"}
_CAL_KEYS = {"current_A", "field_up_T", "field_down_T", "tesla_per_A", "max_current_A",
             "remanence_T"}


class _Problems:
    def __init__(self):
        self.items: list[str] = []

    def add(self, key: str, message: str) -> None:
        self.items.append(f"{key}: {message}")

    def unknown(self, prefix: str, table: dict, allowed: set) -> None:
        for k in table:
            if k not in allowed:
                hint = difflib.get_close_matches(k, sorted(allowed), n=1)
                extra = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.add(f"{prefix}{k}",
                         f"unknown key{extra}; allowed: {', '.join(sorted(allowed))}")

    def number(self, key: str, table: dict, name: str, *, positive=True, required=True,
               default=None):
        if name not in table:
            if required:
                self.add(key + name, "missing (a number)")
            return default
        v = table[name]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            self.add(key + name, f"must be a finite number, got {v!r}")
            return default
        if positive and v <= 0:
            self.add(key + name, f"must be > 0, got {v!r}")
            return default
        return float(v)


def load_bench_config(path: str | Path) -> BenchConfig:
    """Read and validate a bench config file; raise ConfigError listing every problem."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read bench config {p}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None
    return parse_bench_config(data, sha256=hashlib.sha256(raw).hexdigest(), path=p)


def parse_bench_config(data: dict, sha256: str = "", path: Path | None = None) -> BenchConfig:
    """Validate a parsed config table; raise ConfigError listing every problem."""
    pr = _Problems()
    pr.unknown("", data, _TOP)
    bench = data.get("bench", {})
    name = bench.get("name", path.stem if path else "bench") if isinstance(bench, dict) else "bench"
    instruments = _instruments(data.get("instruments"), pr)
    limits = _limits(data.get("limits"), pr)
    magnet = _magnet(data.get("magnet"), instruments, pr)
    if pr.items:
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}{len(pr.items)} problem(s) in the bench config:\n  "
                          + "\n  ".join(pr.items))
    return BenchConfig(str(name), instruments, limits, magnet, sha256, path)


def _instruments(table, pr: _Problems) -> dict[str, InstrumentConfig]:
    out: dict[str, InstrumentConfig] = {}
    if not isinstance(table, dict) or not table:
        pr.add("instruments", "missing: add one [instruments.NAME] table per instrument")
        return out
    for name, t in table.items():
        key = f"instruments.{name}."
        if not isinstance(t, dict):
            pr.add(key[:-1], "must be a table with role, driver and resource")
            continue
        pr.unknown(key, t, _INSTRUMENT_KEYS)
        role, driver, resource = t.get("role"), t.get("driver"), t.get("resource")
        ok = True
        if role not in ROLES:
            pr.add(key + "role", f"{role!r} is not a role; roles: {', '.join(ROLES)}")
            ok = False
        if driver not in DRIVERS:
            hint = difflib.get_close_matches(str(driver), sorted(DRIVERS), n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            pr.add(key + "driver", f"unknown driver {driver!r}{extra}; drivers: "
                   f"{', '.join(sorted(DRIVERS))}")
            ok = False
        elif role in ROLES and role not in driver_roles(driver):
            pr.add(key + "driver", f"{driver} cannot serve role {role!r} (it serves "
                   f"{', '.join(driver_roles(driver))})")
            ok = False
        if not isinstance(resource, str) or not resource.strip():
            pr.add(key + "resource", "missing: a VISA resource string such as "
                   "'GPIB0::24::INSTR' or 'TCPIP::192.168.1.5::INSTR'")
            ok = False
        options = t.get("options", {})
        if not isinstance(options, dict):
            pr.add(key + "options", "must be a table of keyword arguments for the driver")
            ok = False
        lib = t.get("visa_library", "")
        if not isinstance(lib, str):
            pr.add(key + "visa_library", f"must be a string such as '@py', got {lib!r}")
            ok = False
        timeout = t.get("timeout_ms", 5000)
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0:
            pr.add(key + "timeout_ms", f"must be a positive integer (ms), got {timeout!r}")
            ok = False
        series = pr.number(key, t, "series_resistance_ohm", positive=False, required=False,
                           default=0.0)
        if series is not None and series < 0:
            pr.add(key + "series_resistance_ohm", f"must be ≥ 0 (Ω), got {series!r}")
            ok = False
        coil = pr.number(key, t, "max_coil_current_A", required=False)
        if ok:
            out[name] = InstrumentConfig(name, role, driver, resource, lib, timeout, options,
                                         series_resistance_ohm=series or 0.0,
                                         max_coil_current_A=coil)
    return out


def _limits(table, pr: _Problems) -> Limits | None:
    if not isinstance(table, dict):
        pr.add("limits", "missing: the bench's safety limits are required "
               f"({', '.join(sorted(_LIMIT_KEYS))})")
        return None
    pr.unknown("limits.", table, _LIMIT_KEYS)
    vals = {}
    for f_name, f in Limits.__dataclass_fields__.items():
        required = f.default is dataclasses.MISSING
        positive = f_name != "max_rf_power_dBm"
        v = pr.number("limits.", table, f_name, positive=positive, required=required)
        if v is not None:
            vals[f_name] = v
    try:
        return Limits(**vals)
    except TypeError:
        return None


def _magnet(table, instruments: dict, pr: _Problems) -> MagnetConfig | None:
    if table is None:
        return None
    if not isinstance(table, dict):
        pr.add("magnet", "must be a table")
        return None
    pr.unknown("magnet.", table, _MAGNET_KEYS)
    supply = table.get("supply")
    if supply not in instruments or instruments[supply].role != "magnet_supply":
        names = [n for n, i in instruments.items() if i.role == "magnet_supply"]
        pr.add("magnet.supply", f"{supply!r} is not an instrument with role magnet_supply; "
               f"those are: {names or 'none'}")
    gm = table.get("gaussmeter")
    if gm is not None and (gm not in instruments or instruments[gm].role != "gaussmeter"):
        names = [n for n, i in instruments.items() if i.role == "gaussmeter"]
        pr.add("magnet.gaussmeter", f"{gm!r} is not an instrument with role gaussmeter; "
               f"those are: {names or 'none'}")
    settings = {}
    for name in ("max_step_T", "tolerance_T", "settle_timeout_s", "settle_delay_s"):
        v = pr.number("magnet.", table, name, required=False)
        if v is not None:
            settings[name] = v
    cal = _calibration(table.get("calibration"), pr)
    if cal is None:
        return None
    return MagnetConfig(supply=supply, gaussmeter=gm, calibration=cal, **settings)


def _calibration(table, pr: _Problems) -> MagnetCalibration | None:
    if not isinstance(table, dict):
        pr.add("magnet.calibration", "missing: give current_A, field_up_T, field_down_T "
               "(measured with `labspin run magnet-calibration`) or tesla_per_A, "
               "max_current_A and remanence_T")
        return None
    pr.unknown("magnet.calibration.", table, _CAL_KEYS)
    try:
        if "current_A" in table:
            return MagnetCalibration(table.get("current_A"), table.get("field_up_T"),
                                     table.get("field_down_T"))
        k = pr.number("magnet.calibration.", table, "tesla_per_A")
        imax = pr.number("magnet.calibration.", table, "max_current_A")
        br = pr.number("magnet.calibration.", table, "remanence_T", positive=False,
                       required=False, default=0.0)
        if k is None or imax is None:
            return None
        return MagnetCalibration.linear(k, imax, br)
    except (ValueError, TypeError) as exc:
        pr.add("magnet.calibration", str(exc))
        return None
