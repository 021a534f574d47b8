"""The sample's signal at a detection frequency: the harmonics of its voltage under the
bench's ac currents and the rectified envelopes of its AM rf drives, as a lock-in (or any
phase-sensitive meter) on a probe sees them. The meter twins only demodulate it.

Phasors: the bench's, V(t) = Σ Re[c_k e^{ikωt}] (V) for an ac source I(t) = I0 sin ωt.

    *Sources summed at the detection frequency* (all taken phase-locked to the reference,
    phase 0): every ac current source (``bench.drives.ac``) at f_s with k·f_s = n·f_ref
    (relative tolerance FREQ_MATCH_REL) contributes c_k of ``bench.harmonics(probe, I0_s, k)``
    (quasi-static torque balance; cross terms between different ac sources are neglected);
    every rf drive with AM contributes its rectified envelope (below).

    *ST-FMR with AM.* The carrier amplitude is (1 + d sin Ωt)·I_rf with I_rf =
    ``bench.rf_current_A(power, load_probe)``. The mixing voltage is quadratic in the rf
    current, V_mix = ½ I_rf² Re[∇R·χ_I], and Ω ≪ the magnetization's response rate, so it
    follows the envelope quasi-statically:
    V(t) = V_mix0·(1 + d sin Ωt)² = V_mix0·[(1 + d²/2) + 2d sin Ωt − (d²/2) cos 2Ωt],
    V_mix0 = ``bench.mixing_voltage(probe, f_rf, I_rf)``. The Ω component is 2d·V_mix0 in sine
    phase (c_1 = −2i·d·V_mix0): a lock-in referenced to the AM (LF output in phase with the
    modulation) reads X = 2d·V_mix0/√2 = √2·d·V_mix0, Y = 0; at HARM 2 it reads
    Y = −d²V_mix0/(2√2).
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from .virtual_bench import VirtualBench

FREQ_MATCH_REL = 1e-6
"""Relative tolerance for a source frequency to fall on the detection frequency."""

# Harmonic phasors are shared between lock-ins on the same bench (a 1ω and a 2ω lock-in on
# one probe): keyed by the bench's state.
_HARMONICS_CACHE: "weakref.WeakKeyDictionary[VirtualBench, dict]" = weakref.WeakKeyDictionary()


def bench_fingerprint(bench: VirtualBench) -> tuple:
    """Get a cheap key of everything a lock-in's signal depends on in the bench."""
    d = bench.drives
    return (tuple(bench.field_T().tolist()), tuple(sorted(d.dc_A.items())),
            tuple(sorted(d.ac.items())), tuple(sorted(d.rf.items())),
            tuple(sorted(d.references.items())), tuple(sorted(d.field_mod.items())),
            tuple(bench.m.tolist()))


def harmonics_at(bench: VirtualBench, probe: str, amplitude_A: float, k: int,
                 m: np.ndarray) -> np.ndarray:
    """Get the phasors c_0..c_n (V), n = max(k, 3), of ``bench.harmonics`` (cached per bench
    state, so lock-ins at 1ω and 2ω on one probe share one evaluation).

    On a thermal bench (low barrier) ``bench.harmonics`` holds m at its thermal average ⟨m⟩
    over the cycle, V(t) = I(t)·R(⟨m⟩); this is computed here from the ⟨m⟩ given, to spare a
    second stochastic-LLG average."""
    n = max(k, 3)
    if bench.thermal:
        r = bench.resistance(probe, m)
        c = np.zeros(n + 1, complex)
        c[0], c[1] = bench.drives.dc_total() * r, -1j * amplitude_A * r
        return c
    key = (bench_fingerprint(bench), probe, amplitude_A, n)
    cache = _HARMONICS_CACHE.setdefault(bench, {})
    hit = cache.get(key)
    if hit is None:
        if len(cache) > 64:
            cache.clear()
        hit = cache[key] = bench.harmonics(probe, amplitude_A, n_max=n, n_phase=max(32, 2 * n + 2))
    return hit


def match_harmonic(f_det: float | None, f_source: float) -> int | None:
    """Get k when k·f_source equals the detection frequency, else None."""
    if f_det is None or f_source <= 0:
        return None
    k = round(f_det / f_source)
    if k >= 1 and abs(k * f_source - f_det) <= FREQ_MATCH_REL * f_det:
        return int(k)
    return None


@dataclass(frozen=True)
class ProbeSignal:
    """What a probe carries: phasor_V, the complex amplitude c_n (V) at the detection
    frequency in the bench's convention; peak_V, the sum of the ac amplitudes on the probe
    (V; an input-overload measure); dc_V, its dc part (V)."""
    phasor_V: complex
    peak_V: float
    dc_V: float


def probe_signal(bench: VirtualBench, probe: str, f_det_Hz: float | None, m: np.ndarray, *,
                 load_probe: str, r_probe: float) -> ProbeSignal:
    """Get the signal of ``probe`` at ``f_det_Hz`` (None: no detection, phasor 0) in state m
    (module docstring): every ac current source's harmonic k with k·f_s = f_det, every rf
    drive's AM envelope (its rf current from the resistance of ``load_probe``). ``r_probe``:
    the probe's resistance (Ω) in state m, for the dc part and unmatched sources."""
    z, peak, dc = 0j, 0.0, bench.drives.dc_total() * r_probe
    for amp, f_s in list(bench.drives.ac.values()):
        k = match_harmonic(f_det_Hz, f_s)
        if k is not None and k <= 99:
            c = harmonics_at(bench, probe, amp, k, m)
            z += c[k]
            peak += float(np.abs(c[1:]).sum())
        else:
            peak += abs(amp) * r_probe
    for rf in list(bench.drives.rf.values()):
        d, f_am = rf.am_depth, rf.am_frequency_Hz
        i_rf = bench.rf_current_A(rf.power_dBm, load_probe)
        v0 = bench.mixing_voltage(probe, rf.frequency_Hz, i_rf)
        dc += v0 * (1 + d * d / 2)
        if d <= 0 or f_am <= 0:
            continue
        c = {1: -2j * d * v0, 2: -0.5 * d * d * v0}
        peak += 2 * abs(d * v0) + 0.5 * d * d * abs(v0)
        k = match_harmonic(f_det_Hz, f_am)
        if k in c:
            z += c[k]
    return ProbeSignal(complex(z), float(peak), float(dc))
