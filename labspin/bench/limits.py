"""The limits of every sourcing output, derived in one place from the bench config alone
(issue 13 item 6): the bench's (or sample's) current and voltage, the sourcing hardware's
output impedance and series resistor, the magnet's calibration.

Current limits follow from the worst case, a shorted device: a voltage source's EMF E drives
at most E/(R_out + R_series) into it, R_out the instrument's own output impedance
(``OUTPUT_IMPEDANCE_OHM`` of its driver, 50 Ω for a lock-in's sine out or a pulse
generator), R_series the resistor wired in series (``series_resistance_ohm`` of the
instrument in the bench config) — never a sample resistance typed into a parameter. An open
device sees the whole EMF, so the voltage limit bounds E too.

The magnet supply's current is held below the smallest |I| at which any branch of the
calibration (either polarity) reaches max_field_T, so no branch ever exceeds it.

:func:`output_limits` is used by :class:`labspin.bench.session.Bench` to narrow each driver
when the bench opens, and by procedures' ``check()`` to refuse parameters before any
instrument is touched, with the same numbers and the same message.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from labspin.bench.safety import LimitError, check_limit

SQRT2 = math.sqrt(2.0)

PULSE_EMF_PER_LEVEL = 2.0
"""A pulse generator's EMF per volt of level set into its expected 50 Ω load (E = 2V)."""


@dataclass(frozen=True)
class OutputLimit:
    """The range (low, high) of one output in its unit, and where the limit comes from."""
    low: float
    high: float
    unit: str
    origin: str

    def check(self, name: str, value: float) -> float:
        """Get value if low ≤ value ≤ high, else raise LimitError naming ``name``, the
        value, the range and the limit's origin."""
        return check_limit(name, value, self.low, self.high, self.unit, self.origin)


def series_resistance_ohm(config, role: str) -> float:
    """Get the series resistor (Ω) of the first instrument of ``role`` (0 without one)."""
    found = config.by_role(role)
    return found[0].series_resistance_ohm if found else 0.0


def output_impedance_ohm(instrument) -> float:
    """Get the source ``instrument``'s own output impedance (Ω, ``OUTPUT_IMPEDANCE_OHM`` of
    its driver class; 0 where it declares none)."""
    from labspin.bench.registry import driver_class
    return float(getattr(driver_class(instrument.driver), "OUTPUT_IMPEDANCE_OHM", 0.0))


def short_circuit_budget_V(config, instrument) -> tuple[float, str]:
    """Get the largest EMF (V) the source ``instrument`` (an InstrumentConfig) may apply to
    the sample, and why: the bench's max_sample_voltage_V (an open device), and
    max_sample_current_A·(R_out + R_series) (a shorted one); for a source that drives
    modulation coils instead, max_coil_current_A·(R_out + R_series) (a shorted coil)."""
    lim = config.limits
    r_out = output_impedance_ohm(instrument)
    r = r_out + instrument.series_resistance_ohm
    coil = instrument.max_coil_current_A
    if coil is not None:            # it drives modulation coils: the sample's limits do not apply
        return coil * r, (f"{instrument.role} {instrument.name} drives modulation coils: "
                          f"max_coil_current_A = {coil:g} A into a shorted coil behind "
                          f"{r_out:g} Ω output + {instrument.series_resistance_ohm:g} Ω series "
                          f"(instruments.{instrument.name}.max_coil_current_A)")
    by_current = lim.max_sample_current_A * r
    where = (f"{instrument.role} {instrument.name}: max_sample_current_A = "
             f"{lim.max_sample_current_A:g} A into a shorted sample behind {r_out:g} Ω output "
             f"+ {instrument.series_resistance_ohm:g} Ω series "
             f"(instruments.{instrument.name}.series_resistance_ohm)")
    if by_current < lim.max_sample_voltage_V:
        return by_current, where
    return lim.max_sample_voltage_V, (f"{instrument.role} {instrument.name}: "
                                      f"max_sample_voltage_V = {lim.max_sample_voltage_V:g} V "
                                      "across an open sample")


def sine_drive_resistance_ohm(config, instrument) -> float:
    """Get the resistance (Ω) outside the sample in the current path of the lock-in
    ``instrument``'s sine output: its output impedance plus the bench's series resistor, so
    I0 = √2·V_rms/(this + R_sample). Raises ValueError naming the key if the bench declares
    no series resistor (a sine drive without one is no current drive)."""
    if not instrument.series_resistance_ohm > 0:
        raise ValueError(f"{instrument.role} {instrument.name} drives the sample from its sine "
                         "output, but the bench config gives no "
                         f"instruments.{instrument.name}.series_resistance_ohm (Ω, the "
                         "resistor wired in series that sets I0 = √2·V_sine/(R_out + "
                         "R_series + R_sample)); add it, or drive with a current_source")
    return output_impedance_ohm(instrument) + instrument.series_resistance_ohm


def magnet_current_limit_A(config) -> tuple[float, str]:
    """Get the supply current (A) within which no branch of the magnet's calibration, either
    polarity, exceeds the bench's max_field_T, and why; inf without a [magnet]."""
    if config.magnet is None:
        return math.inf, "no [magnet]"
    b = config.limits.max_field_T
    i = config.magnet.calibration.current_limit(b)
    return i, (f"magnet_supply {config.magnet.supply}: max_field_T = {b:g} T is reached at "
               f"{i:g} A on the first branch that gets there (magnet calibration)")


def sine_peak_limit(config, instrument) -> OutputLimit:
    """Get the limit (V) of a lock-in's sine output peak |offset| + √2·V_rms, the largest
    EMF it puts on the sample with a dc offset set (the same worst case as each alone)."""
    emf, why = short_circuit_budget_V(config, instrument)
    return OutputLimit(0.0, emf, "V", f"|offset| + √2·V_rms ≤ {emf:g} V, {why}")


def check_sine_peak(name: str, offset_V: float, amplitude_V: float, peak_V: float,
                    origin: str = "") -> None:
    """Raise LimitError naming both values and the allowed peak if the sine output with dc
    offset ``offset_V`` (V) and amplitude ``amplitude_V`` (V rms) peaks beyond ``peak_V``."""
    peak = abs(offset_V) + SQRT2 * amplitude_V
    if not peak <= peak_V:
        why = f" ({origin})" if origin else ""
        raise LimitError(f"{name}: dc offset {offset_V:g} V with sine amplitude "
                         f"{amplitude_V:g} V rms peaks at |offset| + √2·V_rms = {peak:g} V, "
                         f"outside the allowed range [0, {peak_V:g}] V{why}")


def output_limits(config, instrument, model=None) -> dict[str, OutputLimit]:
    """Get the limits of each output of ``instrument`` (an InstrumentConfig) on this bench,
    within its model's own range (``model``: the driver class or instance, default the
    registry's class; an instance for models whose range depends on options)."""
    from labspin.bench.registry import driver_class
    model = model if model is not None else driver_class(instrument.driver)
    own = getattr(model, "SAFE_LIMITS", {})
    lim, role = config.limits, instrument.role
    wanted: dict[str, tuple[float, float, str]] = {}
    if role in ("source_meter", "current_source"):
        what = f"{role} {instrument.name}: bench/sample limit"
        wanted["current"] = (-lim.max_sample_current_A, lim.max_sample_current_A,
                             f"{what} max_sample_current_A")
        wanted["voltage"] = (-lim.max_sample_voltage_V, lim.max_sample_voltage_V,
                             f"{what} max_sample_voltage_V")
    elif role == "rf_source":
        wanted["power"] = (-math.inf, lim.max_rf_power_dBm,
                           f"rf_source {instrument.name}: bench limit max_rf_power_dBm")
    elif role == "lock_in":
        emf, why = short_circuit_budget_V(config, instrument)
        wanted["sine_amplitude"] = (-math.inf, emf / SQRT2, f"the sine's peak √2·V_rms ≤ "
                                    f"{emf:g} V, {why}")
        wanted["sine_offset"] = (-emf, emf, f"|offset| ≤ {emf:g} V, {why}")
    elif role == "pulse_generator":
        emf, why = short_circuit_budget_V(config, instrument)
        level = emf / PULSE_EMF_PER_LEVEL
        for output in ("amplitude", "offset"):
            wanted[output] = (-level, level, f"a level V into 50 Ω is an EMF 2V ≤ {emf:g} V, "
                              f"{why}")
    elif role == "magnet_supply":
        i, why = magnet_current_limit_A(config)
        wanted["current"] = (-i, i, why)
    out = {}
    for output, (low, high, origin) in wanted.items():
        if output not in own:
            continue
        mlow, mhigh, unit = own[output]
        low, high = max(mlow, low), min(mhigh, high)
        out[output] = OutputLimit(low, max(low, high), unit, origin)
    return out
