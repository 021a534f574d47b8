"""Simulated Stanford Research lock-ins: SR830 and SR860/SR865/SR865A, wired to the virtual bench.

Two command dialects, as the manuals define them (SR830 manual rev. 2.5 ch. 5; SR860/SR865/
SR865A manuals ch. 4) and as our drivers (:mod:`labspin.drivers.srs`) and pymeasure's
``SR830``/``SR860`` send them: a command is a mnemonic of letters (``SENS``, ``CUROVLDSTAT``,
``*IDN``), an optional ``?``, then comma-separated parameters, with or without a space
("SENS5", "OUTP?1", "SNAP? X, Y", "PSTF2, 1e3"); ``;`` separates commands; case is ignored.
Neither model has a SCPI error queue: a bad command sets the command-error bit (bit 5, CME)
of the standard event status register (``*ESR?``), a parameter out of range or a command
not allowed in the present state sets the execution-error bit (bit 4, EXE) and the setting
is left unchanged. (The codes, -113, -222, …, are also kept in ``errors`` for inspection;
the real instruments only have the bits.)

Wiring keywords (``Twin(bench, name, **wiring)``)
    probe: the voltage the signal input reads ("xx", "xy" or "mtj"; default "xy").
    drives_sample: the sine output drives the sample's current through a series resistor.
    series_ohm: that resistor (Ω, default 10 kΩ).
    reference_source: the bench source whose reference output feeds REF IN (an rf source's
        LF/AM output, another lock-in's sine out); None: nothing is connected.
    load_probe: the resistance in series with ``series_ohm`` and whose rf current follows
        from the rf power (default "mtj" on pillars, else "xx").
    coil_T_per_A: the sine output drives field-modulation coils of this constant (T/A) and
        resistance ``coil_ohm`` (default 2 Ω) through ``series_ohm`` (the output's 50 Ω):
        b_m = coil_T_per_A·√2·V_rms/(series_ohm + coil_ohm), ``bench.set_field_modulation``.
        The probe "diode" reads the FMR diode (:mod:`labspin.sim_backend.sample_fmr`).

Physics of a reading
    *Reference.* Internal: the model's own oscillator at FREQ; the lock-in publishes its sine
    output with ``bench.set_reference(name, f)``. External (SR830 FMOD 0; SR86x RSRC 1, and
    DUAL/CHOP, which are treated alike): locks to ``bench.reference_frequency(reference_source)``;
    none (or outside the model's range) → unlocked: the real unlock status bit, outputs 0 plus
    noise. The detection frequency is n·f_ref (HARM n).

    *Drive.* With ``drives_sample`` the sine output V(t) = √2·V_rms·sin ωt drives
    I(t) = I0 sin ωt, I0 = √2·V_rms/(series_ohm + R_load) (R_load from the present state,
    refreshed at each evaluation) through ``bench.set_ac_current(name, I0, f)``; the SR86x dc
    level SOFF adds I_dc = V_dc/(series_ohm + R_load). The sine output cannot be switched off
    (SR830 minimum 4 mV); our driver's shutdown ramps it to the minimum, the twin follows.

    *Phase convention* (the SRS one): the reference is sin(nωt + θ_ref) with θ_ref = PHAS,
    the internal reference in phase with the sine output. A signal V(t) ⊃ A sin nωt +
    B cos nωt reads X = (A cos θ_ref + B sin θ_ref)/√2, Y = (B cos θ_ref − A sin θ_ref)/√2
    (rms), i.e. with the bench's phasors V(t) = Σ Re[c_k e^{ikωt}] (A = −Im c_n, B = Re c_n):
    X + iY = i·c_n·e^{−iθ_ref}/√2. So at PHAS 0 a signal in phase with the drive current reads
    X = I0·R/√2, and physics.md's V_2ω (V ⊃ V_2ω cos 2ωt) reads Y = V_2ω/√2 at HARM 2.
    R = √(X² + Y²), θ = atan2(Y, X) in degrees.

    *The signal at the detection frequency* (every ac current source's harmonic, the
    rectified AM envelope of every rf drive) is the bench's:
    :func:`labspin.sim_backend.sample_harmonics.probe_signal`; the twin demodulates it.

    *Low-pass filter in virtual time.* The output filter is n identical RC stages
    (n = slope/6) with the time constant τ; its state is advanced analytically between
    changes, with the input held constant: after a step at t0 the output approaches the new
    value as 1 − e^{−x}·Σ_{k<n} x^k/k!, x = (t − t0)/τ (6 dB/oct: 1 − e^{−1} at 1τ, 99.3 % at
    5τ; 24 dB/oct: 99 % at 10τ). Changes are noticed through a fingerprint of the bench
    (field, drives, references, magnetization) and of the settings: at every advance of the
    bench clock (the change took place at the start of the interval, all commands being
    instantaneous in virtual time; the state at the end of the interval stands for the whole
    interval, so a field still relaxing with the magnet's L/R is seen in steps) and at every
    query. On the first evaluation the filter starts settled (the lock-in has been running).

    *Noise.* Per reading, X and Y each get a Gaussian draw from ``bench.rng`` with
    σ = √(4k_B·T·R + e_n²)·√ENBW, R the probe's resistance (R_xx for the Hall probe, as
    ``bench.johnson_noise_V``), e_n the input noise (SR830 6 nV/√Hz, SR86x 2.5 nV/√Hz),
    ENBW = 1/(4τ), 1/(8τ), 3/(32τ), 5/(64τ) for 6, 12, 18, 24 dB/oct (∫|H|²df of n RC poles:
    (2n−3)!!/(2n−2)!!·1/(4τ)). Successive readings are independent (a real lock-in's
    readings closer than τ are correlated).

    *Sensitivity and overload.* Output overload when |X|, |Y| or R exceeds the full scale;
    X and Y saturate at ±1.1 full scale. Input overload when the input's peak (the sum of the
    harmonic amplitudes of every source on the probe, plus the dc part with dc coupling)
    exceeds the input range: SR86x IRNG (1 V … 10 mV peak); SR830 the full scale times the
    dynamic reserve (modelled as 20/40/60 dB for low noise/normal/high reserve), at most
    1 V rms. SR830: LIAS? bits 0 input, 2 output overload, 3 unlock, latched until read.
    SR86x: CUROVLDSTAT? the present state (bits 0/1 CH1/CH2 = X/Y, 3 unlock, 4 input range,
    8–11 data channels X, Y, R, θ); LIAS? the same bits latched.

*Data buffers* (``srs_buffer``): the SR830's data storage (SRAT, SEND, TSTR, STRT, PAUS,
REST, TRIG, SPTS?, TRCA?, TRCB?, TRCL?) stores the CH1/CH2 displays; the SR86x's capture
(CAPTURELEN, CAPTURECFG, CAPTURERATE(MAX), CAPTURESTART/STOP, CAPTURESTAT?, CAPTUREBYTES?,
CAPTUREPROG?, CAPTUREGET? as float32 blocks) stores X, XY, Rθ or XYRθ. Each point is the
filter's output at its sample time plus its reading's noise.

Deviations known and accepted: those of ``srs_buffer``'s buffers, no offsets/expands/ratios
(SR830 OEXP, SR86x COFP/CEXP) applied to the outputs (stored and answered only), no sync or
advanced filter, current input modes read as voltage, the input line notch filters and the
reference trigger slope have no effect, the time-constant restrictions of the SR830 (minimum
τ vs. reserve, ≥ 30 s above 200 Hz) are not enforced, aux inputs read 0 V, the SR830 sine
amplitude keeps 1 mV resolution (the real one rounds to 2 mV).
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
from .srs_buffer import SampleBuffer, SR86xCapture, SR830Storage
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


class _SRSLockIn(SimInstrument):
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
        return super().respond(_normalize_message(message))

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
        self.set("phase", _wrap_phase(new))
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


def _wrap_phase(deg: float) -> float:
    """Wrap a phase into (−180°, 180°]."""
    w = math.fmod(deg + 180.0, 360.0)
    w = w + 360.0 if w < 0 else w
    w -= 180.0
    return 180.0 if w == -180.0 else w


def _int_tokens(tokens, count_range, value_range):
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


# ================================================================ SR830
_SR830_SENS = (2e-9, 5e-9, 10e-9, 20e-9, 50e-9, 100e-9, 200e-9, 500e-9, 1e-6, 2e-6, 5e-6,
               10e-6, 20e-6, 50e-6, 100e-6, 200e-6, 500e-6, 1e-3, 2e-3, 5e-3, 10e-3, 20e-3,
               50e-3, 100e-3, 200e-3, 500e-3, 1.0)
_SR830_TC = (10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 100e-3, 300e-3, 1.0,
             3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 10e3, 30e3)
_SR830_RESERVE_DB = {0: 60.0, 1: 40.0, 2: 20.0}
"""Dynamic reserve modelled per RMOD (0 high reserve, 1 normal, 2 low noise)."""


def _g(value: float) -> str:
    return f"{value:.6g}"


class SR830Twin(SR830Storage, _SRSLockIn):
    """Simulated SR830 DSP lock-in (1 mHz–102 kHz), SR830 manual rev. 2.5 ch. 5.

    *RST (standard settings): internal reference 1 kHz, phase 0, harmonic 1, sine 1.000 V,
    sensitivity 1 V (SENS 26), normal reserve, 100 ms (OFLT 8), 12 dB/oct, AC coupling.
    """
    def audited_levels(self):
        return {"sine_amplitude": ("sine_amplitude", 1.0)}

    MODEL = "SR830"
    idn = "Stanford_Research_Systems,SR830,s/n12345,ver1.07"
    F_MIN, F_MAX, H_MAX = 1e-3, 102e3, 19999
    SENSITIVITIES = _SR830_SENS
    TIME_CONSTANTS = _SR830_TC
    INPUT_NOISE = 6e-9
    STB_FIXED = 0b11        # SCN (no scan in progress), IFC (no command executing)

    def _declare(self) -> None:
        p = self._param
        p("phase", "PHAS", float, range=(-360.0, 729.99), default=0.0, fmt=_g,
          transform=_wrap_phase)
        p("reference_mode", "FMOD", int, range=(0, 1), default=1,
          hook=self._on_reference_change)
        p("frequency", "FREQ", float, range=(self.F_MIN, self.F_MAX), default=1000.0, fmt=_g,
          output=True, check=self._check_internal, hook=self._on_reference_change)
        self.add_query("FREQ", lambda: _g(self.reference_frequency()))
        p("trigger_slope", "RSLP", int, range=(0, 2), default=0)
        p("harmonic", "HARM", int, range=lambda: (1, self._harmonic_max()), default=1)
        p("sine_amplitude", "SLVL", float, range=(0.004, 5.0), default=1.0,
          fmt="{:.3f}".format, output=True, transform=lambda v: round(v, 3),
          hook=lambda v: self._refresh_drive())
        p("input_source", "ISRC", int, range=(0, 3), default=0)
        p("grounding", "IGND", int, range=(0, 1), default=0)
        p("coupling", "ICPL", int, range=(0, 1), default=0)
        p("line_filter", "ILIN", int, range=(0, 3), default=0)
        p("sensitivity", "SENS", int, range=(0, 26), default=26)
        p("reserve", "RMOD", int, range=(0, 2), default=1)
        p("time_constant", "OFLT", int, range=(0, 19), default=8)
        p("filter_slope", "OFSL", int, range=(0, 3), default=1, hook=self._on_slope)
        p("sync_filter", "SYNC", int, range=(0, 1), default=0)
        p("local", "LOCL", int, range=(0, 2), default=0)
        p("override_remote", "OVRM", int, range=(0, 1), default=0)
        p("output_interface", "OUTX", int, range=(0, 1), default=1)   # 1: GPIB
        self._display = {1: [0, 0], 2: [0, 0]}
        self._offsets = {1: [0.0, 0], 2: [0.0, 0], 3: [0.0, 0]}
        self._setups: dict[int, dict] = {}
        self.add_command("DDEF", self._set_ddef, args=None)
        self.add_query("DDEF", lambda i: "{},{}".format(*self._display[i]),
                       args=(Arg(int, range=(1, 2)),))
        self.add_command("FPOP", lambda i, j: None,
                         args=(Arg(int, range=(1, 2)), Arg(int, range=(0, 1))))
        self.add_command("OEXP", self._set_oexp, args=None)
        self.add_query("OEXP", lambda i: "{:.2f},{}".format(*self._offsets[i]),
                       args=(Arg(int, range=(1, 3)),))
        self.add_command("AOFF", self._auto_offset, args=(Arg(int, range=(1, 3)),))
        self.add_command("AUXV", self._set_auxv, args=(Arg(int, range=(1, 4)),
                                                       Arg(float, range=(-10.5, 10.5))))
        self.add_query("AUXV", lambda i: f"{self._aux_out[i - 1]:.3f}",
                       args=(Arg(int, range=(1, 4)),))
        self.add_query("OAUX", lambda i: "0.000", args=(Arg(int, range=(1, 4)),))
        self.add_query("OUTP", self._outp, args=(Arg(int, range=(1, 4)),))
        self.add_query("OUTR", self._outr, args=(Arg(int, range=(1, 2)),))
        self.add_query("SNAP", self._snap, args=None)
        self.add_command("AGAN", self._auto_scale)
        self.add_command("ARSV", lambda: None)
        self.add_command("SSET", self._save_setup, args=(Arg(int, range=(1, 9)),))
        self.add_command("RSET", self._recall_setup, args=(Arg(int, range=(1, 9)),))
        self._declare_storage()

    # -- settings
    def _external(self) -> bool:
        return int(self.get("reference_mode")) == 0

    def _check_internal(self, value) -> None:
        if self._external():
            raise SCPIError(-221, "FREQ needs the internal reference")

    def _input_range_V(self) -> float:
        reserve = _SR830_RESERVE_DB[int(self.get("reserve"))]
        return SQRT2 * min(self._fs() * 10 ** (reserve / 20), 1.0)

    def _reset_extra(self) -> None:
        self._display = {1: [0, 0], 2: [0, 0]}
        self._offsets = {1: [0.0, 0], 2: [0.0, 0], 3: [0.0, 0]}
        self._storage_reset()

    def _set_ddef(self, *tokens: str) -> None:
        i, j, k = _int_tokens(tokens, (3, 3), (0, 4))
        if i not in (1, 2) or k > 2:
            raise SCPIError(-222)
        self._display[i] = [j, k]

    def _set_oexp(self, *tokens: str) -> None:
        if len(tokens) != 3:
            raise SCPIError(-109 if len(tokens) < 3 else -108)
        i, = _int_tokens(tokens[:1], (1, 1), (1, 3))
        j, = _int_tokens(tokens[2:], (1, 1), (0, 2))
        try:
            x = float(tokens[1])
        except ValueError:
            raise SCPIError(-104) from None
        if not -105.0 <= x <= 105.0:
            raise SCPIError(-222)
        self._offsets[i] = [x, j]

    def _auto_offset(self, i: int) -> None:
        s = self.snapshot()
        value = {1: s["x"], 2: s["y"], 3: s["r"]}[i]
        self._offsets[i][0] = max(-105.0, min(105.0, 100.0 * value / self._fs()))

    def _set_auxv(self, i: int, x: float) -> None:
        self._aux_out[i - 1] = x

    def _save_setup(self, i: int) -> None:
        self._setups[i] = {name: dict(p.values) for name, p in self.parameters().items()}

    def _recall_setup(self, i: int) -> None:
        saved = self._setups.get(i)
        if saved is None:
            raise SCPIError(-221, "no setup stored")
        self._sync()
        for name, values in saved.items():
            self.set(name, values.get((), self.parameters()[name].default))
        self._version += 1
        self._filter.set_order(self._order())
        self._refresh_drive()

    # -- status
    def _update_status(self, z: complex) -> None:
        c = self._conditions(z)
        bits = ((1 if c["input"] else 0) | (4 if c["x"] or c["y"] or c["r"] else 0)
                | (8 if c["unlock"] else 0))
        self.lias.word |= bits

    # -- readings
    _SNAP_KEYS = {1: "x", 2: "y", 3: "r", 4: "theta", 9: "frequency"}

    def _value(self, s: dict, i: int) -> float:
        if i in self._SNAP_KEYS:
            return s[self._SNAP_KEYS[i]]
        if 5 <= i <= 8:
            return 0.0
        return self._display_value(s, i - 9)

    def _display_value(self, s: dict, ch: int) -> float:
        j = self._display[ch][0]
        if j == 0:
            return s["x"] if ch == 1 else s["y"]
        if j == 1:
            return s["r"] if ch == 1 else s["theta"]
        if j == 2:
            return s["noise"]
        return 0.0

    def _outp(self, i: int) -> str:
        s = self.snapshot()
        return _g(self._value(s, i))

    def _outr(self, ch: int) -> str:
        return _g(self._display_value(self.snapshot(), ch))

    def _snap(self, *tokens: str) -> str:
        items = _int_tokens(tokens, (2, 6), (1, 11))
        s = self.snapshot()
        return ",".join(_g(self._value(s, i)) for i in items)



def _normalize_message(message: str) -> str:
    try:
        units = split_top(message, ";")
    except SCPIError:
        return message
    return ";".join(normalize_unit(u) if u else u for u in units)


# ================================================================ SR86x
_SR86X_SENS = (1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 5e-4, 2e-4, 1e-4,
               5e-5, 2e-5, 1e-5, 5e-6, 2e-6, 1e-6, 5e-7, 2e-7, 1e-7, 5e-8, 2e-8, 1e-8, 5e-9,
               2e-9, 1e-9)
_SR86X_TC = (1e-6, 3e-6, 10e-6, 30e-6, 100e-6, 300e-6, 1e-3, 3e-3, 10e-3, 30e-3, 100e-3,
             300e-3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 10e3, 30e3)
_SR86X_IRNG = (1.0, 0.3, 0.1, 0.03, 0.01)
_SR86X_RSRC = {"INT": 0, "INTERNAL": 0, "EXT": 1, "EXTERNAL": 1, "DUAL": 2, "CHOP": 3,
               "0": 0, "1": 1, "2": 2, "3": 3}
_SR86X_PARAMS = {"X": 0, "Y": 1, "R": 2, "THETA": 3, "TH": 3, "IN1": 4, "IN2": 5, "IN3": 6,
                 "IN4": 7, "XNOISE": 8, "XNO": 8, "YNOISE": 9, "YNO": 9, "OUT1": 10,
                 "OUT2": 11, "PHASE": 12, "PHA": 12, "SAMP": 13, "SAM": 13, "LEVEL": 14,
                 "LEV": 14, "FINT": 15, "FI": 15, "FEXT": 16, "FE": 16}
"""OUTP?/SNAP? parameters of the SR86x: index or name (long or short form)."""


def _e(value: float) -> str:
    return f"{value:.6e}"


class SR860Twin(SR86xCapture, _SRSLockIn):
    """Simulated SR860 DSP lock-in (1 mHz–500 kHz), SR860 manual rev. 2.04 ch. 4; the SR865
    and SR865A twins change only the frequency range.

    *RST: internal reference 1 kHz, phase 0, harmonic 1, sine 1.000 V, dc level 0, sensitivity
    1 V (SCAL 0), 100 ms (OFLT 10), 12 dB/oct, input range 1 V, AC coupling.
    """
    def audited_levels(self):
        return {"sine_amplitude": ("sine_amplitude", 1.0), "sine_offset": ("sine_offset", 1.0)}

    MODEL = "SR860"
    idn = "Stanford_Research_Systems,SR860,003456,v1.51"
    F_MIN, F_MAX, H_MAX = 1e-3, 500e3, 99
    SENSITIVITIES = _SR86X_SENS
    TIME_CONSTANTS = _SR86X_TC
    INPUT_NOISE = 2.5e-9

    def _declare(self) -> None:
        p = self._param
        fmax = self.F_MAX
        p("timebase_mode", "TBMODE", int, range=(0, 1), default=0)
        self.add_query("TBSTAT", lambda: 1)
        p("phase", "PHAS", float, range=(-360000.0, 360000.0), default=0.0, fmt=_e,
          transform=_wrap_phase)
        p("frequency", "FREQINT", float, range=(self.F_MIN, fmax), default=1000.0,
          fmt="{:.7e}".format, output=True, hook=self._on_reference_change)
        self.add_command("FREQ", self._set_freq, args=(Arg(float, range=(self.F_MIN, fmax)),))
        self.add_query("FREQ", lambda: f"{self.reference_frequency():.7e}")
        self.add_query("FREQEXT", self._freq_ext)
        self.add_query("FREQDET",
                       lambda: f"{self.get('harmonic') * self.reference_frequency():.7e}")
        p("harmonic", "HARM", int, range=lambda: (1, self._harmonic_max()), default=1)
        p("harmonic_dual", "HARMDUAL", int, range=(1, 99), default=1)
        p("sine_amplitude", "SLVL", float, range=(0.0, 2.0), default=1.0,
          fmt="{:.9e}".format, output=True, transform=lambda v: round(v, 9),
          hook=lambda v: self._refresh_drive())
        p("sine_offset", "SOFF", float, range=(-5.0, 5.0), default=0.0, fmt="{:.4e}".format,
          output=True, transform=lambda v: round(v, 4), hook=lambda v: self._refresh_drive())
        p("sine_dc_mode", "REFM", int, range=(0, 1), default=0)
        p("reference_mode", "RSRC", choices=_SR86X_RSRC, default=0, fmt=str,
          hook=self._on_reference_change)
        p("trigger_mode", "RTRG", int, range=(0, 2), default=0)
        p("trigger_input", "REFZ", int, range=(0, 1), default=1)
        self._presets = {"PSTF": [1e3, 1e4, 1e5, 2e5], "PSTA": [1e-3, 1e-2, 1e-1, 1.0],
                         "PSTL": [0.0, 1e-2, 1e-1, 1.0]}
        limits = {"PSTF": (self.F_MIN, fmax), "PSTA": (0.0, 2.0), "PSTL": (-5.0, 5.0)}
        for key, lim in limits.items():
            self.add_command(key, self._preset_setter(key),
                             args=(Arg(int, range=(0, 3)), Arg(float, range=lim)))
            self.add_query(key, self._preset_getter(key), args=(Arg(int, range=(0, 3)),))
        p("input_mode", "IVMD", int, range=(0, 1), default=0)
        p("input_source", "ISRC", int, range=(0, 1), default=0)
        p("coupling", "ICPL", int, range=(0, 1), default=0)
        p("grounding", "IGND", int, range=(0, 1), default=0)
        p("input_range", "IRNG", int, range=(0, 4), default=0)
        p("current_gain", "ICUR", int, range=(0, 1), default=0)
        self.add_query("ILVL", self._signal_strength)
        p("sensitivity", "SCAL", int, range=(0, 27), default=0)
        p("time_constant", "OFLT", int, range=(0, 21), default=10)
        p("filter_slope", "OFSL", int, range=(0, 3), default=1, hook=self._on_slope)
        p("sync_filter", "SYNC", int, range=(0, 1), default=0)
        p("advanced_filter", "ADVFILT", int, range=(0, 1), default=0)
        self.add_query("ENBW", lambda: _e(self.enbw()))
        self._cout = [0, 0]
        self._cdsp = [0, 1, 2, 3]
        self.add_command("COUT", self._set_list("_cout", 1), args=(Arg(int, range=(0, 1)),
                                                                    Arg(int, range=(0, 1))))
        self.add_query("COUT", lambda i: self._cout[i], args=(Arg(int, range=(0, 1)),))
        self.add_command("CDSP", self._set_list("_cdsp", 16), args=(Arg(int, range=(0, 3)),
                                                                     Arg(int, range=(0, 16))))
        self.add_query("CDSP", lambda i: self._cdsp[i], args=(Arg(int, range=(0, 3)),))
        p("blanking", "DBLK", int, range=(0, 1), default=0)
        p("layout", "DLAY", int, range=(0, 5), default=0)
        self.add_command("AUXV", self._set_auxv, args=(Arg(int, range=(0, 3)),
                                                       Arg(float, range=(-10.5, 10.5))))
        self.add_query("AUXV", lambda i: f"{self._aux_out[i]:.4e}",
                       args=(Arg(int, range=(0, 3)),))
        self.add_query("OAUX", lambda i: _e(0.0), args=(Arg(int, range=(0, 3)),))
        self.add_query("OUTP", self._outp, args=None)
        self.add_query("OUTR", self._outr, args=(Arg(int, range=(0, 3)),))
        self.add_query("SNAP", self._snap, args=None)
        self.add_query("SNAPD", self._snapd)
        self.add_query("CUROVLDSTAT", self._current_overload)
        self.add_command("ASCL", self._auto_scale)
        self.add_command("ARNG", self._auto_range)
        self.add_command("OAUT", lambda i: None, args=(Arg(int, range=(0, 2)),))
        self._offsets = {"COFP": [0.0] * 3, "CEXP": [0] * 3}
        for key, arg, fmt in (("COFP", Arg(float, range=(-999.99, 999.99)), "{:.4e}".format),
                              ("CEXP", Arg(int, range=(0, 2)), str)):
            self.add_command(key, self._offset_setter(key), args=(Arg(int, range=(0, 2)), arg))
            self.add_query(key, lambda i, key=key, fmt=fmt: fmt(self._offsets[key][i]),
                           args=(Arg(int, range=(0, 2)),))
        self._declare_capture()

    # -- settings
    def _external(self) -> bool:
        return int(self.get("reference_mode")) != 0

    def _set_freq(self, value: float) -> None:
        """FREQ x sets the internal frequency (the one used with the internal reference)."""
        self._sync()
        self.set("frequency", value)
        self._version += 1
        self._on_reference_change()

    def _freq_ext(self) -> str:
        f = self.bench.reference_frequency(self.reference_source) if self.reference_source \
            else None
        return f"{(f or 0.0):.7e}"

    def _input_range_V(self) -> float:
        return _SR86X_IRNG[int(self.get("input_range"))]

    def _sine_offset_V(self) -> float:
        return float(self.output("sine_offset"))

    def _preset_setter(self, key: str):
        def setter(i: int, x: float) -> None:
            self._presets[key][i] = x
        return setter

    def _preset_getter(self, key: str):
        def getter(i: int) -> str:
            return _e(self._presets[key][i])
        return getter

    def _offset_setter(self, key: str):
        """COFP i, x (offset, % of full scale) and CEXP i, j (expand ×1, ×10, ×100) of X, Y,
        R: stored and answered (see Known deviations)."""
        def setter(i: int, x) -> None:
            self._offsets[key][i] = x
        return setter

    def _set_list(self, attr: str, _max: int):
        def setter(i: int, j: int) -> None:
            getattr(self, attr)[i] = j
        return setter

    def _set_auxv(self, i: int, x: float) -> None:
        self._aux_out[i] = x

    def _reset_extra(self) -> None:
        self._cout = [0, 0]
        self._cdsp = [0, 1, 2, 3]
        self._offsets = {"COFP": [0.0] * 3, "CEXP": [0] * 3}
        self._capture_armed = False

    def _signal_strength(self) -> int:
        self._sync()
        ratio = self._input_peak / self._input_range_V()
        return 4 if ratio > 1 else 3 if ratio > 0.3 else 2 if ratio > 0.1 else \
            1 if ratio > 0.03 else 0

    def _auto_range(self) -> None:
        self._sync()
        fits = [i for i, v in enumerate(_SR86X_IRNG) if v >= 1.05 * self._input_peak]
        self.set("input_range", max(fits) if fits else 0)
        self._version += 1

    # -- status
    def _overload_word(self, z: complex) -> int:
        c = self._conditions(z)
        ch = {0: c["x"], 1: c["r"]}, {0: c["y"], 1: False}
        word = (int(ch[0][self._cout[0]]) | int(ch[1][self._cout[1]]) << 1
                | int(c["unlock"]) << 3 | int(c["input"]) << 4)
        per_param = {0: c["x"], 1: c["y"], 2: c["r"]}
        for i, param in enumerate(self._cdsp):
            if per_param.get(param, False):
                word |= 1 << (8 + i)
        return word

    def _update_status(self, z: complex) -> None:
        self.lias.word |= self._overload_word(z)

    def _current_overload(self) -> int:
        self._sync()
        return self._overload_word(self._filter.output())

    # -- readings
    def _param_index(self, token: str) -> int:
        t = token.strip().upper()
        if t in _SR86X_PARAMS:
            return _SR86X_PARAMS[t]
        try:
            i = int(round(float(t)))
        except ValueError:
            raise SCPIError(-224) from None
        if not 0 <= i <= 16:
            raise SCPIError(-222)
        return i

    def _value(self, s: dict, i: int) -> float:
        if i <= 3:
            return s[("x", "y", "r", "theta")[i]]
        if i in (8, 9):
            return s["noise"]
        if i in (10, 11):
            return self._aux_out[i - 10]
        if i == 12:
            return self._phase()
        if i == 13:
            return float(self.get("sine_amplitude"))
        if i == 14:
            return float(self.get("sine_offset"))
        if i == 15:
            return self._internal_frequency()
        if i == 16:
            return float(self._freq_ext())
        return 0.0

    def _outp(self, *tokens: str) -> str:
        if len(tokens) != 1:
            raise SCPIError(-109 if not tokens else -108)
        return _e(self._value(self.snapshot(), self._param_index(tokens[0])))

    def _outr(self, ch: int) -> str:
        return _e(self._value(self.snapshot(), self._cdsp[ch]))

    def _snap(self, *tokens: str) -> str:
        if not 2 <= len(tokens) <= 3:
            raise SCPIError(-109 if len(tokens) < 2 else -108)
        items = [self._param_index(t) for t in tokens]
        s = self.snapshot()
        return ",".join(_e(self._value(s, i)) for i in items)

    def _snapd(self) -> str:
        s = self.snapshot()
        return ",".join(_e(self._value(s, i)) for i in self._cdsp)



class SR865Twin(SR860Twin):
    """Simulated SR865 (1 mHz–2 MHz): the SR860 command set, SR865 manual rev. 1.26."""

    MODEL = "SR865"
    idn = "Stanford_Research_Systems,SR865,003456,v1.51"
    F_MAX = 2e6


class SR865ATwin(SR860Twin):
    """Simulated SR865A (1 mHz–4 MHz): the SR860 command set, SR865A manual rev. 2.07."""

    MODEL = "SR865A"
    idn = "Stanford_Research_Systems,SR865A,003456,v1.51"
    F_MAX = 4e6


TWINS = {"sr830": SR830Twin, "sr860": SR860Twin, "sr865": SR865Twin, "sr865a": SR865ATwin}
