"""The sample's stochastic rf power spectrum, as the bias tee delivers it into Z0: the
sample-side physics that the spectrum-analyzer twins (:mod:`.sim_spectrum`) only display.

Physics (physics.md, "Spin-torque oscillator spectra")
    V(t) = I_dc·R(m(t)) from the stochastic LLG (:class:`labspin.physics.macrospin.Ensemble`, the
    sample's system at its temperature, the bench field ``bench.field_T()/μ0`` and dc current
    ``bench.drives.dc_total()``), ``members`` independent members starting from the bench's
    state, after 10 relaxation times 1/(αγ0(H + M_eff/2)) (2–50 ns). Step Δt = 0.2/(γ0·h),
    h = |H| + |D|max + Σ|H_DL|/α + |H_FL| + |H_Oe| (A/m): ≤ 1/(20 f) for every frequency
    f ≤ γ0h/2π the dynamics can reach (the stochastic Heun needs γ0|H_eff|Δt ≲ 0.2: at
    Δt = 6 ps the STO's ⟨m_z⟩ is 7 % low, at 1 ps 0.2 %); m is kept every k steps, sampling at
    fs ≥ 2.5·γ0h/2π. One-sided PSD S_V (V²/Hz) by Welch (Hann, 50 % overlap) with segments of
    at least 1/``resolution_Hz`` (a power of two of samples; 5 MHz is far below the STO
    linewidths of 100s of MHz at 300 K), ``segments`` segments per member (record ≫
    1/linewidth), averaged over the members.
    Power into the analyzer: the sample is a Thevenin source (open-circuit rf voltage
    I_dc·δR(t), source resistance R̄ = ⟨R⟩; the dc supply is behind the bias tee's inductor)
    loading Z0 = 50 Ω through the capacitor: V_a = V·Z0/(R̄ + Z0), S_P = S_V·Z0/(R̄ + Z0)²
    (W/Hz). The sample's Johnson noise adds 4k_B·T·R̄·Z0/(R̄ + Z0)² (W/Hz). The LLG PSD is
    cached per bench state (probe, field, current, starting state) and is a deterministic
    function of the bench seed and that state; it is zero above fs/2 and at I_dc = 0.
"""
from __future__ import annotations

import math
import weakref
import zlib
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from scipy.signal import welch

from labspin.physics.constants import KB, MU0
from labspin.physics.macrospin.ensemble import Ensemble
from labspin.physics.readout import HallBar

from .virtual_bench import Z0, VirtualBench


@dataclass(frozen=True)
class SamplePSD:
    """The sample's rf output, one-sided, as delivered into Z0.

    f_Hz: frequency grid (Hz, uniform from 0); s_W_per_Hz: magnetization part of the power
    density into Z0 (W/Hz); r_ohm: mean source resistance R̄ (Ω); johnson_W_per_Hz: the
    sample's Johnson noise into Z0 (W/Hz); resolution_Hz: grid spacing (Hz).
    """
    f_Hz: np.ndarray
    s_W_per_Hz: np.ndarray
    r_ohm: float
    johnson_W_per_Hz: float
    resolution_Hz: float


_CACHE: "weakref.WeakKeyDictionary[VirtualBench, OrderedDict]" = weakref.WeakKeyDictionary()
_CACHE_SIZE = 16


def _source_resistance(bench: VirtualBench, probe: str, m: np.ndarray) -> np.ndarray:
    ro = bench.sample.readout
    if isinstance(ro, HallBar):
        if probe not in ("xx", "xy"):
            raise ValueError(f"a Hall bar has probes 'xx' and 'xy', not {probe!r}")
        return ro.rxx(m)
    if probe != "mtj":
        raise ValueError(f"a pillar has the probe 'mtj', not {probe!r}")
    return ro.resistance(m)


def _voltage(bench: VirtualBench, probe: str, current_A: float, m: np.ndarray) -> np.ndarray:
    """Get V = I·R(m) (V) for m of shape (3, ...), the junction's bias dependence included."""
    ro = bench.sample.readout
    if isinstance(ro, HallBar):
        return current_A * (ro.rxx(m) if probe == "xx" else ro.rxy(m))
    return ro.voltage(current_A, m)


def _field_scale(bench: VirtualBench, h: np.ndarray, current_A: float) -> float:
    """Get the largest effective field the dynamics can reach, h (A/m), for the time step."""
    system = bench.system
    mg = system.magnet
    d = float(np.max(np.abs(np.linalg.eigvalsh(mg.d_tensor()))))
    torque = sum(abs(t.h_dl_per_A) / mg.alpha + abs(t.h_fl_per_A) for t in system.torques)
    oe = float(np.linalg.norm(system.oersted_per_A))
    return float(np.linalg.norm(h)) + d + (torque + oe) * abs(current_A) + 1.0


def sample_psd(bench: VirtualBench, probe: str, *, members: int = 16, segments: int = 4,
               resolution_Hz: float = 5e6) -> SamplePSD:
    """Get the sample's rf power spectrum into Z0 for the bench's present field and current.

    Stochastic LLG, Welch PSD, Thevenin divider: see the module docstring. Cached per bench
    state; the LLG's random stream is derived from the bench seed and the state.
    """
    mg = bench.system.magnet
    current = float(bench.drives.dc_total())
    b_T = np.asarray(bench.field_T(), float)
    m0 = np.asarray(bench.m if bench.thermal else bench.state(), float)
    key = (probe, round(current, 15), tuple(np.round(b_T, 9)), tuple(np.round(m0, 3)),
           int(members), int(segments), float(resolution_Hz))
    cache = _CACHE.setdefault(bench, OrderedDict())
    if key in cache:
        cache.move_to_end(key)
        return cache[key]
    h = b_T / MU0
    hs = _field_scale(bench, h, current)
    f_top = mg.gamma * hs / (2 * math.pi)
    dt = 0.2 / (mg.gamma * hs)
    every = max(1, int(1.0 / (2.5 * f_top * dt)))
    fs = 1.0 / (every * dt)
    nperseg = 1 << max(4, math.ceil(math.log2(fs / resolution_Hz)))
    temperature = max(mg.temperature_K, 0.0)
    if current == 0.0:
        f = np.arange(nperseg // 2 + 1) * fs / nperseg
        s_v = np.zeros_like(f)
        r = float(np.mean(_source_resistance(bench, probe, m0)))
    else:
        seed = (bench.seed * 1_000_003 + zlib.crc32(repr(key).encode())) % (1 << 62)
        ens = Ensemble(bench.system, n=int(members), h_ext_Apm=h, current_A=current, m0=m0,
                       seed=seed)
        relax = 1.0 / (max(mg.alpha, 1e-3) * mg.gamma * (np.linalg.norm(h) + abs(mg.meff) / 2
                                                        + mg.hk_inplane + 1.0))
        ens.run(min(max(10 * relax, 2e-9), 50e-9), dt)
        n_rec = nperseg * (int(segments) + 1) // 2      # Welch: `segments` with 50 % overlap
        volts, r_sum = [], 0.0
        done = 0
        while done < n_rec:
            chunk = min(nperseg, n_rec - done)
            run = ens.run(dt_s=dt, n_steps=chunk * every, record_every=every)
            m = np.moveaxis(run.m, 1, 0)                   # (3, chunk, members)
            volts.append(_voltage(bench, probe, current, m))
            r_sum += float(np.sum(_source_resistance(bench, probe, m)))
            done += chunk
        v = np.concatenate(volts, axis=0)
        r = r_sum / v.size
        f, s = welch(v, fs=fs, nperseg=nperseg, axis=0)
        s_v = s.mean(axis=1)
    divider = Z0 / (abs(r) + Z0) ** 2
    out = SamplePSD(f, s_v * divider, abs(r), 4 * KB * temperature * abs(r) * divider,
                    float(f[1] - f[0]))
    cache[key] = out
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return out


def clear_cache(bench: VirtualBench | None = None) -> None:
    """Forget the cached spectra (of one bench, or of all)."""
    if bench is None:
        _CACHE.clear()
    else:
        _CACHE.pop(bench, None)


__all__ = ["SamplePSD", "sample_psd", "clear_cache"]
