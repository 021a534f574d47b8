"""Role interfaces: what a procedure may ask of "a lock-in", "an rf source", … .

A procedure never names a model; it asks the bench for a role and uses only the members
below, so every listed model of that role fits. Units are SI at this boundary (A, V, Hz, s,
T), RF power in dBm. Each driver class names its role(s) in a ``roles`` class attribute and
satisfies these protocols (checked in the tests with ``isinstance``).

Every role that can source something has ``shutdown()``, which brings it to its safe state
by ramping within its slew limits (``drivers.safety``), and ``limits`` checked before any
write.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Sourcing(Protocol):
    """Anything that can source: it has a safe state and reaches it by ramping."""

    def shutdown(self) -> None:
        """Ramp the output to its safe value within the slew limits, then disable it."""


@runtime_checkable
class SourceMeter(Sourcing, Protocol):
    """A dc source/measure unit (Keithley 2400, 2450)."""
    source_mode: str            # "current" | "voltage"
    source_current: float       # A, setpoint (checked against limits before the write)
    source_voltage: float       # V
    compliance_voltage: float   # V
    compliance_current: float   # A
    source_enabled: bool

    def measure_voltage(self) -> float:
        """Measure the voltage (V) once, with the configured integration time."""

    def measure_current(self) -> float:
        """Measure the current (A) once."""

    def ramp_to_current(self, current_A: float) -> None:
        """Ramp the current setpoint to ``current_A`` within the slew limits."""

    def ramp_to_voltage(self, voltage_V: float) -> None:
        """Ramp the voltage setpoint to ``voltage_V`` within the slew limits."""


@runtime_checkable
class CurrentSource(Sourcing, Protocol):
    """A precision current source with an ac waveform mode (Keithley 6221)."""
    source_current: float       # A, dc setpoint
    compliance_voltage: float   # V
    source_enabled: bool

    def ramp_to_current(self, current_A: float) -> None:
        """Ramp the dc current to ``current_A`` within the slew limits."""

    def start_sine(self, amplitude_A: float, frequency_Hz: float, offset_A: float = 0.0) -> None:
        """Start a sine I(t) = offset + amplitude·sin(2πft) (amplitude, not rms)."""

    def stop_waveform(self) -> None:
        """Stop the waveform (output returns to the dc setpoint)."""


@runtime_checkable
class Voltmeter(Protocol):
    """A dc voltmeter / nanovoltmeter (Keithley 2182A)."""

    def measure_voltage(self) -> float:
        """Measure the voltage (V) once."""


@runtime_checkable
class LockIn(Sourcing, Protocol):
    """A lock-in amplifier (SR830, SR860, SR865). ``shutdown`` sets the sine output to its
    minimum amplitude."""
    frequency: float            # Hz (internal reference) or the measured external one
    reference_source: str       # "internal" | "external"
    harmonic: int               # detection harmonic (1, 2, …)
    sensitivity: float          # V full scale (set: the smallest range ≥ value)
    time_constant: float        # s (set: the nearest available)
    filter_slope: int           # dB/octave: 6, 12, 18, 24
    sine_amplitude: float       # V rms of the sine output

    def measure_xy(self) -> tuple[float, float]:
        """Measure X and Y (V rms) simultaneously."""

    @property
    def overloaded(self) -> bool:
        """Whether the input or the output is overloaded."""


@runtime_checkable
class RFSource(Sourcing, Protocol):
    """A microwave generator with AM and an LF output usable as lock-in reference
    (E8257D, N5183B, SMB100A). ``shutdown`` ramps the power down, then turns RF off."""
    frequency: float            # Hz
    power: float                # dBm (checked against the bench's max RF power)
    output_enabled: bool
    am_enabled: bool
    am_depth: float             # %, 0–100
    am_frequency: float         # Hz, internal AM rate
    lf_output_enabled: bool
    lf_output_amplitude: float  # V (peak)

    def check_output(self) -> None:
        """Raise OutputNotFollowingError unless the RF is on at the power last written and
        levelled (one query; the drivers run it after RF on and at each ramp's end)."""


@runtime_checkable
class SpectrumAnalyzer(Protocol):
    """A spectrum analyzer (N9020A/N9030A X-series, FSV)."""
    center_frequency: float     # Hz
    span: float                 # Hz
    resolution_bandwidth: float  # Hz
    video_bandwidth: float      # Hz
    sweep_points: int
    reference_level: float      # dBm
    averages: int

    def read_trace(self) -> tuple[np.ndarray, np.ndarray]:
        """Take one (averaged) sweep and get (frequencies in Hz, power in dBm)."""


@runtime_checkable
class MagnetSupply(Sourcing, Protocol):
    """A bipolar (or relay-switched) magnet power supply (Kepco BOP, Danfysik 8500)."""
    current_setpoint: float     # A, signed
    output_enabled: bool
    max_current: float          # A, the supply's or the bench's limit

    def measure_current(self) -> float:
        """Measure the output current (A), signed."""


@runtime_checkable
class Gaussmeter(Protocol):
    """A Hall gaussmeter (LakeShore 425, 455, 475). Fields are μ0·H in tesla."""

    def measure_field(self) -> float:
        """Measure the field (T), whatever unit the instrument displays."""


@runtime_checkable
class PulseGenerator(Sourcing, Protocol):
    """A pulse generator (Keysight 81160A, 33500B; Picosecond 10070A)."""
    amplitude: float            # V, pulse high level into 50 Ω (signed for polarity)
    width: float                # s
    output_enabled: bool

    def fire(self, count: int = 1) -> None:
        """Emit ``count`` pulses now (single/burst trigger)."""

    def configure_pulse_mode(self) -> None:
        """Put the generator in triggered single-pulse mode (once, before ``fire``)."""


ROLE_PROTOCOLS: dict[str, type] = {
    "source_meter": SourceMeter, "current_source": CurrentSource, "voltmeter": Voltmeter,
    "lock_in": LockIn, "rf_source": RFSource, "spectrum_analyzer": SpectrumAnalyzer,
    "magnet_supply": MagnetSupply, "gaussmeter": Gaussmeter, "pulse_generator": PulseGenerator,
}


def role_members(role: str) -> set[str]:
    """Get the member names a driver must have to serve ``role``."""
    names: set[str] = set()
    for cls in ROLE_PROTOCOLS[role].__mro__:
        if cls in (Protocol, object) or not getattr(cls, "_is_protocol", False):
            continue
        names |= set(getattr(cls, "__annotations__", {}))
        names |= {k for k, v in vars(cls).items()
                  if not k.startswith("_") and (callable(v) or isinstance(v, property))}
    return names


def missing_members(obj, role: str) -> list[str]:
    """Get the members of ``role`` that obj (or its class) lacks, looked up statically."""
    import inspect

    sentinel = object()
    return sorted(n for n in role_members(role)
                  if inspect.getattr_static(obj, n, sentinel) is sentinel)


def serves(obj, role: str) -> bool:
    """Whether obj declares ``role`` in its ``roles`` and has every member of it.

    Unlike ``isinstance`` with these protocols on Python 3.11, this reads no property, so
    it sends nothing to an instrument.
    """
    return role in getattr(type(obj), "roles", ()) and not missing_members(obj, role)
