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

One module per command set (``sim_srs_830``; ``sim_srs_86x`` for the SR860, SR865 and
SR865A), what they share in ``sim_srs_common``.

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

from .sim_srs_86x import SR860Twin, SR865ATwin, SR865Twin
from .sim_srs_830 import SR830Twin
from .sim_srs_common import ENBW_PER_TAU, OVERRANGE, RCFilter, normalize_unit, step_response

TWINS = {"sr830": SR830Twin, "sr860": SR860Twin, "sr865": SR865Twin, "sr865a": SR865ATwin}
"""Driver registry key → twin class."""

__all__ = ["ENBW_PER_TAU", "OVERRANGE", "TWINS", "RCFilter", "SR830Twin", "SR860Twin",
           "SR865ATwin", "SR865Twin", "normalize_unit", "step_response"]
