"""What every labspin procedure adds to pymeasure's Procedure: the bench it runs on, the
metadata every results file carries, limits checked before anything is written, and a
shutdown that never raises (design.md's safety contract)."""
from __future__ import annotations

import copy
import logging
import math
import re

import numpy as np
from pymeasure.experiment import FloatParameter, IntegerParameter, Metadata, Procedure

from labspin.bench.safety import LimitError
from labspin.results.units import parse_quantity, split_unit, unit_scale

log = logging.getLogger(__name__)


def parse_numbers(text, name: str, unit: str = "", *, example: str = "", scale: float = 1.0,
                  positive: bool = False, ranges: bool = False) -> list[float]:
    """Get the values of a list parameter, each times ``scale``: a number, a sequence, or text
    with the values separated by commas, semicolons or spaces ("6, 12, 18"); with ``ranges``
    also "start:stop:n" (n values evenly spaced, both ends included). ValueError names the
    parameter, its unit and an example if the list is empty, not numbers, not finite, or
    (with ``positive``) not all > 0."""
    unit_text = f" in {unit}" if unit else ""
    hint = f"; give e.g. '{example}'" if example else ""
    if isinstance(text, (int, float)):
        items = [text]
    elif isinstance(text, (list, tuple)) or hasattr(text, "tolist"):
        items = list(text)
    else:
        s = str(text).strip()
        if ranges and ":" in s:
            parts = [t.strip() for t in s.split(":")]
            try:
                start, stop, n = float(parts[0]), float(parts[1]), int(parts[2])
                if len(parts) != 3 or n < 1:
                    raise ValueError
            except (ValueError, IndexError):
                raise ValueError(f"parameter '{name}' = {s!r}: expected 'start:stop:n' with "
                                 f"n ≥ 1{unit_text}{hint}") from None
            items = [start + (stop - start) * k / (n - 1) for k in range(n - 1)] + [stop] \
                if n > 1 else [start]
        else:
            items = _join_units(t for t in re.split(r"[,;\s]+", s) if t)
    in_unit = unit or split_unit(name)[1]
    try:
        unit_scale(in_unit)
    except ValueError:
        in_unit = None                                  # not in the unit table: numbers only
    try:
        values = [(parse_quantity(v, in_unit, name=f"parameter '{name}'")
                   if in_unit is not None and isinstance(v, str) else float(v)) * scale
                  for v in items]
    except (TypeError, ValueError) as e:
        detail = f" ({e})" if in_unit is not None and str(e).startswith("parameter") else ""
        raise ValueError(f"parameter '{name}' = {text!r} is not a list of numbers"
                         f"{unit_text}{hint}{detail}") from None
    if not values:
        raise ValueError(f"parameter '{name}' is empty: give at least one value{unit_text}"
                         f"{hint}")
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"parameter '{name}' = {text!r}: every value must be finite{hint}")
    if positive and not all(v > 0 for v in values):
        raise ValueError(f"parameter '{name}' = {text!r}: every value must be > 0"
                         f"{unit_text}{hint}")
    return values


def _join_units(tokens) -> list[str]:
    """Join a unit to the number before it: ['-20', 'mT', '0'] → ['-20 mT', '0']."""
    out: list[str] = []
    for t in tokens:
        starts_number = t[0].isdigit() or t[0] in "+-."
        if out and not starts_number:
            out[-1] = f"{out[-1]} {t}"
        else:
            out.append(t)
    return out


class FilmParameters:
    """Mixin: the film parameters the torque-efficiency analyses need (0 = not given: the
    analysis falls back on the sample metadata, or leaves the efficiencies out)."""
    film_ms = FloatParameter("Film mu0Ms", units="T", default=0.0, minimum=0.0, maximum=10.0)
    film_thickness = FloatParameter("Film thickness", units="m", default=0.0, minimum=0.0,
                                    maximum=1e-6)
    hm_thickness = FloatParameter("Heavy-metal thickness", units="m", default=0.0,
                                  minimum=0.0, maximum=1e-6)
    bar_width = FloatParameter("Bar width", units="m", default=0.0, minimum=0.0, maximum=1e-2)


def with_default(parameter, default):
    """Get a copy of ``parameter`` (of a mixin) with a procedure's own default."""
    p = copy.deepcopy(parameter)
    p.value = p.default = default
    return p


class LockInSettings:
    """Mixin: a lock-in readout's settings, setting a lock-in up with them, and the one
    reading that steps the sensitivity up on overload (:meth:`_read`). A reading waits
    "Settle time constants" × "Time constant" on the bench clock, then averages "Readings
    per point" readings."""
    time_constant = FloatParameter("Time constant", units="s", default=0.1, minimum=1e-5,
                                   maximum=3e4)
    settle = FloatParameter("Settle time constants", default=7.0, minimum=0.0, maximum=1000.0)
    averages = IntegerParameter("Readings per point", default=1, minimum=1, maximum=1000)

    def set_up_lockin(self, lockin, sensitivity: float, filter_slope: int = 12) -> None:
        """Set ``lockin``'s time constant, filter slope (dB/oct) and sensitivity (V)."""
        lockin.time_constant = self.time_constant
        lockin.filter_slope = filter_slope
        lockin.sensitivity = sensitivity

    def settle_lockin(self) -> None:
        """Wait for the lock-in's output to settle (virtual time on a simulated bench)."""
        self.sleep(self.settle * self.time_constant)

    def _read(self, lockin) -> tuple[float, float]:
        """Read X, Y (V rms), "Readings per point" averaged; on overload step the
        sensitivity up (×1.5, to the next range), settle and read again — an overloaded
        reading is never returned (LimitError at the largest sensitivity, 1 V)."""
        lockin.overloaded          # noqa: B018 — clear the latched status
        for _ in range(30):
            xy = np.array([lockin.measure_xy() for _ in range(self.averages)])
            if not lockin.overloaded:
                return float(xy[:, 0].mean()), float(xy[:, 1].mean())
            sens = float(lockin.sensitivity)
            if sens >= 1.0:
                raise LimitError("lock-in overloaded at its largest sensitivity (1 V)")
            lockin.sensitivity = sens * 1.5
            self.settle_lockin()
        raise RuntimeError("lock-in still overloaded after 30 sensitivity steps")


class SineDrive:
    """Mixin: the ac current of a lock-in readout: its frequency, and for the lock-in's own
    sine output, the sample's two-terminal resistance that with the bench's series resistor
    (bench hardware: the lock-in's ``series_resistance_ohm`` plus its 50 Ω output, never a
    typed parameter) turns the sine's voltage into I0 = √2·V_sine/(R_series + R_sample)."""
    frequency = FloatParameter("Frequency", units="Hz", default=133.0, minimum=0.01,
                               maximum=50e3)
    sample_resistance = FloatParameter("Sample resistance", units="ohm", default=300.0,
                                       minimum=0.0, maximum=1e9)


class LockInReadout(LockInSettings):
    """Mixin: :class:`LockInSettings` with one sensitivity, and a field point's reading
    (ST-FMR, FMR)."""
    settle = with_default(LockInSettings.settle, 10.0)
    sensitivity = FloatParameter("Sensitivity", units="V", default=1e-3, minimum=2e-9,
                                 maximum=1.0)

    def _read_at_field(self, lockin, field_T: float) -> tuple[float, float, float]:
        """Set the magnet to ``field_T`` (T), let the lock-in settle, read X, Y (V rms,
        :meth:`_read`); get (the field measured after the reading (T), X, Y).

        The field is read again after the lock-in: the magnet's settle returns within its
        tolerance while the coil current still relaxes toward the setpoint (on the simulated
        bench e^−5 of a 1 mT step, 7 µT, after its 1 s delay), and the lock-in's output is the
        signal at the field that followed — a sweep's resonances sat that much low."""
        magnet = self.bench.magnet
        magnet.set_field(float(field_T))
        self.settle_lockin()
        x, y = self._read(lockin)
        return float(magnet.measure_field()), x, y


class LabspinProcedure(Procedure):
    """Base of labspin's procedures.

    Subclasses set NAME (the command-line name), DESCRIPTION (one line), WIRING and SAMPLE
    (the standard simulated bench and sample for ``--sim``), and implement ``check`` (raise
    ValueError or LimitError before any write), ``estimate`` and ``execute``. The runner sets
    ``bench`` (a :class:`labspin.bench.session.Bench`) before ``startup``.
    """
    NAME = ""
    DESCRIPTION = ""
    WIRING = "transport"
    SAMPLE = "inplane_sot_hallbar"
    SIM_MAGNET: dict = {}
    """Keywords of the simulated bench's VirtualMagnet for ``--sim`` (e.g. {"axis": "z"});
    empty: the sample's default (normal for perpendicular magnets, in-plane otherwise)."""

    sample_name = Metadata("Sample", default="")
    sample_constants = Metadata("Sample constants", default="")
    """What the experimenter knows before measuring (JSON {name: [value, err]}); analyses
    take priors from it."""
    sample_parameters = Metadata("Sample parameters", default="")
    seed = Metadata("Seed", default="")
    instruments = Metadata("Instruments", default="")
    bench_config_sha256 = Metadata("Bench config sha256", default="")
    labspin_version = Metadata("labspin version", default="")
    versions = Metadata("Versions", default="")
    start_time = Metadata("Start time", default="")

    bench = None

    def sim_magnet(self) -> dict:
        """Get the VirtualMagnet keywords for ``--sim`` from this run's parameters (default:
        the class's SIM_MAGNET); e.g. a field direction parameter picks the magnet's axis."""
        return dict(self.SIM_MAGNET)

    def sim_wiring(self) -> str:
        """Get the simulated bench's wiring for ``--sim`` from this run's parameters
        (default: the class's WIRING); e.g. a lock-in readout picks a lock-in wiring."""
        return self.WIRING

    def check(self, config) -> None:
        """Raise ValueError or LimitError, naming the parameter and its allowed range, if
        this run would exceed the limits of the bench config (a
        :class:`labspin.bench.config.BenchConfig`); nothing has been opened or written yet."""

    def estimate(self) -> tuple[int, float]:
        """Get (number of points, estimated duration in s) for the summary and progress."""
        return 0, 0.0

    def sleep(self, seconds: float) -> None:
        """Wait through the bench clock (virtual on the simulated bench)."""
        self.bench.clock.sleep(seconds)

    def shutdown(self) -> None:
        """Bring every source to its safe state; log failures, never raise (a raise here
        hangs pymeasure 0.16's worker with the status still 'running')."""
        if self.bench is None:
            return
        try:
            for message in self.bench.shutdown():
                log.error(message)
        except BaseException as exc:  # noqa: BLE001
            log.error("shutdown failed: %s", exc)
