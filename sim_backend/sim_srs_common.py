"""What the simulated SRS lock-ins share (:class:`SRSLockIn`): the SRS dialect rewritten
to SCPI, the reference, the sine drive, the low-pass filter in virtual time
(:class:`RCFilter`), noise, sensitivity and status.

Wiring keywords, the physics of a reading, the data buffers and the known deviations of
the SRS lock-in twins: :mod:`labspin.sim_backend.sim_srs`.
"""
from __future__ import annotations

import logging
import math
import re

import numpy as np

from labspin.physics.constants import KB

from .sample_fmr import DIODE_OHM, diode_signal
from .sample_harmonics import bench_fingerprint, probe_signal
from .scpi import Arg, SCPIError, SimInstrument, split_top
from .srs_buffer import SampleBuffer
from .virtual_bench import VirtualBench

log = logging.getLogger(__name__)

SQRT2 = math.sqrt(2.0)
OVERRANGE = 1.1
"""X and Y saturate at ± this factor times the full scale."""
ENBW_PER_TAU = {1: 1 / 4, 2: 1 / 8, 3: 3 / 32, 4: 5 / 64}
"""Equivalent noise bandwidth × τ of an n-pole RC filter."""

_UNIT = re.compile(r"\s*([*:]?[A-Za-z]+)\s*(\?)?(.*)\Z", re.DOTALL)


def normalize_unit(unit: str) -> str:
    """Rewrite one SRS command ("SENS5", "OUTP?1", "SNAP? X, Y") as "HEADER[?] params"."""
    m = _UNIT.match(unit)
    if m is None:
        return unit
    head, mark, rest = m.groups()
    return f"{head}{mark or ''} {rest.strip()}".rstrip()


def step_response(x: float, n: int) -> float:
    """Get the unit step response of n identical RC poles after x = t/τ."""
    return 1.0 - math.exp(-x) * sum(x ** k / math.factorial(k) for k in range(n))


class RCFilter:
    """n identical RC stages on a complex input held constant between updates."""

    def __init__(self, order: int, t: float = 0.0):
        self.stages = np.zeros(order, complex)
        self.input = 0j
        self.t = float(t)

    @property
    def order(self) -> int:
        return len(self.stages)

    def output(self) -> complex:
        return complex(self.stages[-1])

    def advance(self, t: float, tau: float) -> None:
        """Advance to time t (s) with the input held, time constant tau (s)."""
        dt = t - self.t
        if dt <= 0:
            return
        self.t = t
        x = dt / tau
        if x > 700:
            self.stages[:] = self.input
            return
        e = self.stages - self.input
        a = math.exp(-x)
        new = np.empty_like(e)
        for k in range(len(e)):
            new[k] = a * sum(e[j] * x ** (k - j) / math.factorial(k - j) for j in range(k + 1))
        self.stages = self.input + new

    def settle(self) -> None:
        """Put every stage at the input (a filter that has been running for long)."""
        self.stages[:] = self.input

    def set_order(self, order: int) -> None:
        """Change the number of stages, keeping the output where it is."""
        if order != self.order:
            self.stages = np.full(order, self.output(), complex)


class _Latch:
    """Status bits: ``word`` latched until read, set from the present conditions."""

    def __init__(self) -> None:
        self.word = 0

    def read(self, bit: int | None) -> int:
        if bit is None:
            value, self.word = self.word, 0
            return value
        value = (self.word >> bit) & 1
        self.word &= ~(1 << bit)
        return value


def _bit_arg(bits: int) -> Arg:
    return Arg(int, range=(0, bits - 1), default=None)


class SRSLockIn(SimInstrument):
    """What the SRS lock-in twins share: parsing, reference, drive, filter, noise, status."""

    scpi = False
    MODEL = ""
    F_MIN, F_MAX = 1e-3, 102e3
    H_MAX = 19999
    SENSITIVITIES: tuple[float, ...] = ()
    TIME_CONSTANTS: tuple[float, ...] = ()
    INPUT_NOISE = 6e-9
    STB_FIXED = 0
    OUTPUT_OHM = 50.0
    """The sine output's own impedance (Ω), part of ``series_ohm``."""

    def __init__(self, bench: VirtualBench, name: str, *, probe: str = "xy",
                 drives_sample: bool = False, series_ohm: float = 10e3,
                 reference_source: str | None = None, load_probe: str | None = None,
                 coil_T_per_A: float = 0.0, coil_ohm: float = 2.0):
        super().__init__(clock=bench.clock)
        if series_ohm < 0:
            raise ValueError(f"series_ohm must be ≥ 0, got {series_ohm!r}")
        if reference_source == name:
            raise ValueError(f"{name}: a lock-in cannot take its own reference output")
        self.bench, self.name = bench, name
        self.probe = probe
        self.drives_sample = bool(drives_sample)
        self.series_ohm = float(series_ohm)
        self.coil_T_per_A, self.coil_ohm = float(coil_T_per_A), float(coil_ohm)
        self.reference_source = reference_source
        self.load_probe = load_probe or ("mtj" if bench.sample.geometry == "pillar" else "xx")
        self.lias = _Latch()
        self.liae = 0
        self.errs, self.erre = 0, 0
        self._version = 0
        self._fp = None
        self._fresh = True
        self._target = 0j
        self._input_peak = 0.0
        self._noise_density = self.INPUT_NOISE
        self._last_locked: float | None = None
        self._last_m: np.ndarray | None = None
        self._aux_out = [0.0] * 4
        self._buffer = SampleBuffer(1)
        self._declare_common()
        self._declare()
        self._filter = RCFilter(self._order(), self.clock.now())
        bench.instruments[name] = self
        self._refresh_drive()
        self.clock.on_advance(self._on_advance)

    def respond(self, message: str):
        """Process one message in the SRS dialect (headers rewritten, then as SCPI)."""
        return super().respond(normalize_message(message))

    # ------------------------------------------------------------ declaration helpers
    def _param(self, name: str, pattern: str, type=int, *, hook=None, check=None,
               transform=None, **kw):
        """add_parameter whose set first advances the filter to now (old settings), then
        runs ``check(value)`` (may raise SCPIError), stores ``transform(value)`` and runs
        ``hook(value)``; every set counts as a settings change."""
        def changed(value, *key):
            self._version += 1
            if hook is not None:
                hook(value)

        p = self.add_parameter(name, pattern, type, on_change=changed, **kw)
        setter = p.command.setter
        store = setter.fn

        def wrapped(value, **suffixes):
            if check is not None:
                check(value)
            self._sync()
            store(transform(value) if transform is not None else value, **suffixes)

        setter.fn = wrapped
        return p

    def _declare_common(self) -> None:
        self.add_query("*ESR", self._read_esr_bit, args=(_bit_arg(8),))
        self.add_query("*STB", self._read_stb_bit, args=(_bit_arg(8),))
        self.add_command("*ESE", self._set_register("ese"), args=None)
        self.add_command("*SRE", self._set_register("sre"), args=None)
        self.add_command("*PSC", lambda v: None, args=(Arg(int, range=(0, 1)),))
        self.add_query("*PSC", lambda: 0)
        self.add_query("LIAS", self._read_lias, args=(_bit_arg(16),))
        self.add_command("LIAE", self._set_register("liae", bits=16), args=None)
        self.add_query("LIAE", lambda: self.liae)
        self.add_query("ERRS", self._read_errs, args=(_bit_arg(8),))
        self.add_command("ERRE", self._set_register("erre"), args=None)
        self.add_query("ERRE", lambda: self.erre)
        self.add_command("APHS", self._auto_phase)

    def _declare(self) -> None:
        raise NotImplementedError

    def _set_register(self, attr: str, bits: int = 8):
        """SRS register write: "REG j" sets the register (``bits`` wide: 8 for *ESE/*SRE,
        16 for LIAE), "REG i,j" sets bit i to j; out of range: -222, unchanged."""
        def handler(*tokens: str) -> None:
            values = []
            for tok in tokens:
                try:
                    values.append(int(round(float(tok))))
                except ValueError:
                    raise SCPIError(-104) from None
            if len(values) == 1 and 0 <= values[0] < 1 << bits:
                value = values[0]
            elif len(values) == 2 and 0 <= values[0] < bits and values[1] in (0, 1):
                old = getattr(self, attr)
                value = (old | (1 << values[0])) if values[1] else (old & ~(1 << values[0]))
            else:
                raise SCPIError(-222 if values else -109)
            setattr(self, attr, value & ~0x40 if attr == "sre" else value)
        return handler

    # ------------------------------------------------------------ settings accessors
    def _fs(self) -> float:
        return self.SENSITIVITIES[self.get("sensitivity")]

    def _tau(self) -> float:
        return self.TIME_CONSTANTS[self.get("time_constant")]

    def _order(self) -> int:
        return int(self.get("filter_slope")) + 1

    def enbw(self) -> float:
        """Get the equivalent noise bandwidth (Hz) of the output filter."""
        return ENBW_PER_TAU[self._order()] / self._tau()

    def _external(self) -> bool:
        raise NotImplementedError

    def _internal_frequency(self) -> float:
        return float(self.output("frequency"))

    def _phase(self) -> float:
        return float(self.get("phase"))

    def _input_range_V(self) -> float:
        raise NotImplementedError

    def _dc_coupled(self) -> bool:
        return int(self.get("coupling")) == 1

    def _sine_offset_V(self) -> float:
        return 0.0

    # ------------------------------------------------------------ reference and drive
    def locked_frequency(self) -> float | None:
        """Get the reference frequency (Hz) the lock-in detects on, None when unlocked."""
        if not self._external():
            return self._internal_frequency()
        if self.reference_source is None:
            return None
        f = self.bench.reference_frequency(self.reference_source)
        if f is None or not self.F_MIN <= f <= self.F_MAX:
            return None
        return f

    def reference_frequency(self) -> float:
        """Get FREQ?: the internal frequency, or the measured external one (the last locked
        one while unlocked)."""
        if not self._external():
            return self._internal_frequency()
        f = self.locked_frequency()
        if f is not None:
            self._last_locked = f
        return self._last_locked if self._last_locked is not None else self._internal_frequency()

    def _harmonic_max(self) -> int:
        f = self.reference_frequency()
        return max(1, min(self.H_MAX, int(math.floor(self.F_MAX / f * (1 + 1e-9)))))

    def _clamp_harmonic(self) -> None:
        hmax = self._harmonic_max()
        if self.get("harmonic") > hmax:
            self.set("harmonic", hmax)
            self._version += 1

    def _refresh_drive(self, m: np.ndarray | None = None) -> None:
        """Publish the sine output as a reference and, when wired, drive the sample (the
        load's resistance in state m, default the present state)."""
        f = self.reference_frequency()
        b = self.bench
        b.set_reference(self.name, f)
        if self.coil_T_per_A:
            amp = SQRT2 * float(self.output("sine_amplitude")) / (self.series_ohm + self.coil_ohm)
            b.set_field_modulation(self.name, self.coil_T_per_A * amp, f)
        if not self.drives_sample:
            return
        if m is None and b.thermal:     # no new stochastic-LLG average for a drive update
            m = self._last_m if self._last_m is not None else b.m
        r_total = self.series_ohm + abs(b.resistance(self.load_probe, m))
        amp = float(self.output("sine_amplitude"))
        i0 = SQRT2 * amp / r_total if r_total > 0 else 0.0
        if b.drives.ac.get(self.name) != ((i0, f) if i0 else None):
            b.set_ac_current(self.name, i0, f)
        i_dc = self._sine_offset_V() / r_total if r_total > 0 else 0.0
        if b.drives.dc_A.get(self.name, 0.0) != i_dc:
            b.set_dc_current(self.name, i_dc)

    # ------------------------------------------------------------ signal and filter
    def _fingerprint(self) -> tuple:
        return (self._version, bench_fingerprint(self.bench))

    def _evaluate(self) -> None:
        """Compute the demodulated input (X + iY, V rms, unfiltered) and the input's peak."""
        b = self.bench
        self._clamp_harmonic()
        m = self._last_m = b.state()
        self._refresh_drive(m)
        if self.probe == "diode":
            r_probe = r_noise = DIODE_OHM
        else:
            r_probe = abs(b.resistance(self.probe, m))
            r_noise = r_probe if self.probe != "xy" else abs(b.resistance("xx", m))
        temp = max(b.system.magnet.temperature_K, 0.0)
        self._noise_density = math.sqrt(4 * KB * temp * r_noise + self.INPUT_NOISE ** 2)
        f_ref = self.locked_frequency()
        f_det = None if f_ref is None else self.get("harmonic") * f_ref
        signal = diode_signal(b, f_det) if self.probe == "diode" else probe_signal(
            b, self.probe, f_det, m, load_probe=self.load_probe, r_probe=r_probe)
        z = 1j * signal.phasor_V / SQRT2        # X + iY = i·c_n/√2 (module docstring)
        peak = signal.peak_V + (abs(signal.dc_V) if self._dc_coupled() else 0.0)
        self._target = z * complex(math.cos(math.radians(self._phase())),
                                   -math.sin(math.radians(self._phase())))
        self._input_peak = peak

    def _sync(self, t_change: float | None = None) -> None:
        """Bring the filter to now; re-evaluate the input if the bench or settings changed
        (at ``t_change``, default now)."""
        now = self.clock.now()
        if self._buffer.running and self._fp is not None:
            self._buffer.fill(now if t_change is None else t_change, self._buffer_reading)
        if self._fingerprint() != self._fp:
            self._filter.advance(now if t_change is None else t_change, self._tau())
            self._evaluate()
            self._filter.input = self._target
            if self._fresh:
                self._filter.settle()
                self._fresh = False
            self._fp = self._fingerprint()
        self._filter.advance(now, self._tau())
        self._update_status(self._filter.output())

    def _on_advance(self, t_old: float, t_new: float) -> None:
        with self.lock:
            try:
                if self._fingerprint() != self._fp:
                    self._sync(t_change=t_old)
            except Exception:  # noqa: BLE001 — never break the clock for everyone else
                log.exception("%s: evaluating the lock-in signal failed", self.name)
                self._fp = None

    def settled_value(self) -> complex:
        """Get the value (X + iY, V rms) the outputs settle to, without noise (for tests)."""
        with self.lock:
            self._sync()
            return self._target

    # ------------------------------------------------------------ status
    def _conditions(self, z: complex) -> dict[str, bool]:
        fs = self._fs()
        return {"x": abs(z.real) > fs, "y": abs(z.imag) > fs, "r": abs(z) > fs,
                "input": self._input_peak > self._input_range_V(),
                "unlock": self._external() and self.locked_frequency() is None}

    def _update_status(self, z: complex) -> None:
        raise NotImplementedError

    def status_byte(self, mav: bool = False) -> int:
        stb = self.STB_FIXED
        if self.errs & self.erre:
            stb |= 1 << 2
        if self.lias.word & self.liae:
            stb |= 1 << 3
        if mav:
            stb |= 1 << 4
        if self.esr & self.ese:
            stb |= 1 << 5
        if stb & self.sre:
            stb |= 1 << 6
        return stb

    def _read_esr_bit(self, bit: int | None) -> int:
        if bit is None:
            value, self.esr = self.esr, 0
            return value
        value = (self.esr >> bit) & 1
        self.esr &= ~(1 << bit)
        return value

    def _read_stb_bit(self, bit: int | None) -> int:
        self._sync()
        stb = self.status_byte(self._mav)
        return stb if bit is None else (stb >> bit) & 1

    def _read_lias(self, bit: int | None) -> int:
        self._sync()
        return self.lias.read(bit)

    def _read_errs(self, bit: int | None) -> int:
        value = self.errs if bit is None else (self.errs >> bit) & 1
        if bit is None:
            self.errs = 0
        else:
            self.errs &= ~(1 << bit)
        return value

    def clear_status(self) -> None:
        with self.lock:
            super().clear_status()
            self.lias.word = 0
            self.errs = 0

    # ------------------------------------------------------------ readings
    def snapshot(self) -> dict[str, float]:
        """Take one reading: X, Y, R, θ (V rms, degrees) with noise and saturation."""
        self._sync()
        return self._reading(self._filter.output())

    def _reading(self, z: complex) -> dict[str, float]:
        """One reading of the filter output ``z``: noise drawn, status updated, saturated."""
        sigma = self._noise_density * math.sqrt(self.enbw())
        nx, ny = self.bench.rng.normal(size=2)
        x, y = z.real + sigma * float(nx), z.imag + sigma * float(ny)
        self._update_status(complex(x, y))
        lim = OVERRANGE * self._fs()
        x, y = min(max(x, -lim), lim), min(max(y, -lim), lim)
        return {"x": x, "y": y, "r": math.hypot(x, y), "theta": math.degrees(math.atan2(y, x)),
                "noise": sigma, "frequency": self.reference_frequency()}

    def _buffer_reading(self, t: float) -> tuple[float, ...]:
        """The point a running buffer stores at time ``t`` (s), the filter advanced to it."""
        self._filter.advance(t, self._tau())
        return self._buffer_point(self._reading(self._filter.output()))

    def _buffer_point(self, s: dict[str, float]) -> tuple[float, ...]:
        raise NotImplementedError

    def _buffer_now(self) -> SampleBuffer:
        """The buffer filled up to now."""
        self._sync()
        return self._buffer

    def _auto_phase(self) -> None:
        """APHS: shift the reference phase so that the signal lies along X."""
        self._sync()
        z = self._target
        if abs(z) == 0:
            return
        new = self._phase() + math.degrees(math.atan2(z.imag, z.real))
        self.set("phase", wrap_phase(new))
        self._version += 1

    def _auto_scale(self) -> None:
        """Pick the smallest full scale above the settled signal's R (AGAN, ASCL)."""
        self._sync()
        r = abs(self._target)
        fits = [i for i, fs in enumerate(self.SENSITIVITIES) if fs >= 1.05 * r]
        if fits:
            self.set("sensitivity", min(fits, key=lambda i: self.SENSITIVITIES[i]))
            self._version += 1

    # ------------------------------------------------------------ reset
    def reset(self) -> None:
        with self.lock:
            self._sync()
            super().reset()

    def on_reset(self) -> None:
        self._version += 1
        self._aux_out = [0.0] * 4
        self._buffer = SampleBuffer(1)
        self._reset_extra()
        self._filter.set_order(self._order())
        self._refresh_drive()

    def _reset_extra(self) -> None:
        pass

    def _on_slope(self, value) -> None:
        self._filter.set_order(self._order())

    def _on_reference_change(self, value=None) -> None:
        self._clamp_harmonic()
        self._refresh_drive()


def wrap_phase(deg: float) -> float:
    """Wrap a phase into (−180°, 180°]."""
    w = math.fmod(deg + 180.0, 360.0)
    w = w + 360.0 if w < 0 else w
    w -= 180.0
    return 180.0 if w == -180.0 else w


def int_tokens(tokens, count_range, value_range):
    """Parse raw integer parameters; SCPIError on the wrong count or values."""
    if not count_range[0] <= len(tokens) <= count_range[1]:
        raise SCPIError(-109 if len(tokens) < count_range[0] else -108)
    out = []
    for tok in tokens:
        try:
            v = float(tok)
        except ValueError:
            raise SCPIError(-104) from None
        v = int(round(v))
        if not value_range[0] <= v <= value_range[1]:
            raise SCPIError(-222)
        out.append(v)
    return out


def normalize_message(message: str) -> str:
    """Rewrite every unit of an SRS message with :func:`normalize_unit`."""
    try:
        units = split_top(message, ";")
    except SCPIError:
        return message
    return ";".join(normalize_unit(u) if u else u for u in units)
