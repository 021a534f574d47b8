"""The broadband-FMR detector of the simulated bench: the sample face down on a coplanar
waveguide (CPW), the transmitted rf power read by a zero-bias Schottky diode, the field
modulated by coils driven from a lock-in's sine output.

Model (SI; fields μ0H in T at the boundary):

- rf field: a matched source of power P_in (dBm → W) drives I_rf = √(2·P_in/Z0) along the CPW's
  signal line (width ``CPW_WIDTH_M``), whose field at the film is in plane and transverse to
  the line, h_rf = I_rf/(2w) (a wide strip); the static field lies in plane along the line,
  so h_rf ⊥ H (the bench's in-plane direction rotated by 90° in plane).
- absorption: P_abs(B) of the physics core's susceptibility
  (:func:`labspin.physics.macrospin.absorbed_power_W`, linear response about the equilibrium
  at the field B, the sample's own Kittel law and damping).
- diode: negative output, V = −K·(P_in − P_abs), K = ``DIODE_V_PER_W``; its video resistance
  ``DIODE_OHM`` sets the Johnson noise at the lock-in input.
- field modulation: b(t) = B + b_m·sin ωt along the static field (``bench.drives.field_mod``:
  source → (b_m in T, f in Hz)); for b_m ≪ the linewidth the diode voltage carries
  b_m·dV/dB·sin ωt (bench phasor c_1 = −i·b_m·K·dP_abs/dB, dP_abs/dB by a central difference
  of ±``DB_T``), read by a lock-in referenced to the modulation as X = b_m·K·dP_abs/dB/√2.
  The second harmonic (b_m²/4·d²V/dB²) is not modelled (c_2 = 0), nor the modulation's effect
  on other probes.
"""
from __future__ import annotations

import math

import numpy as np

from labspin.physics.constants import MU0
from labspin.physics.macrospin import absorbed_power_W

from .sample_harmonics import ProbeSignal, match_harmonic
from .virtual_bench import VirtualBench

Z0 = 50.0
"""The CPW's impedance (Ω)."""
CPW_WIDTH_M = 50e-6
"""The CPW signal line's width (m)."""
DIODE_V_PER_W = 500.0
"""Zero-bias Schottky diode sensitivity (V/W; 0.5 mV/µW), negative output."""
DIODE_OHM = 2e3
"""The diode's video resistance (Ω)."""
DB_T = 1e-6
"""Half step of the field derivative (T): ≪ any linewidth of the built-in samples."""


def rf_field_Apm(power_dBm: float) -> float:
    """Get the CPW's rf field amplitude h_rf = I_rf/(2w) (A/m) at a source power (dBm)."""
    p = 1e-3 * 10 ** (power_dBm / 10.0)
    return math.sqrt(2 * p / Z0) / (2 * CPW_WIDTH_M)


def absorbed_power(bench: VirtualBench, frequency_Hz: float, power_dBm: float,
                   db_T: float = 0.0) -> float:
    """Get P_abs (W) with the static field changed by ``db_T`` (T) along itself."""
    h = bench._h()
    mag = float(np.linalg.norm(h))
    if mag == 0.0:
        return 0.0
    h1 = h * (1.0 + db_T / (MU0 * mag))
    m = bench.state()
    if db_T:
        m = bench._nearby_equilibrium(bench.drives.dc_total(), m, h1)
    d = np.cross([0.0, 0.0, 1.0], h1 / mag)
    if np.linalg.norm(d) < 1e-9:                     # field along the normal: h_rf along x
        d = np.array([1.0, 0.0, 0.0])
    return float(absorbed_power_W(bench.system, m[:, None], frequency_Hz,
                                  rf_field_Apm(power_dBm), d, h1[:, None],
                                  bench.drives.dc_total())[0])


def diode_signal(bench: VirtualBench, f_det_Hz: float | None) -> ProbeSignal:
    """Get the diode's signal at ``f_det_Hz`` (module docstring): the phasor of every field
    modulation at the detection frequency, the modulation's peak, the dc diode voltage."""
    z, peak, dc = 0j, 0.0, 0.0
    for rf in list(bench.drives.rf.values()):
        p_in = 1e-3 * 10 ** (rf.power_dBm / 10.0)
        dc += -DIODE_V_PER_W * (p_in - absorbed_power(bench, rf.frequency_Hz, rf.power_dBm))
        for b_m, f_m in list(bench.drives.field_mod.values()):
            slope = (absorbed_power(bench, rf.frequency_Hz, rf.power_dBm, DB_T)
                     - absorbed_power(bench, rf.frequency_Hz, rf.power_dBm, -DB_T)) / (2 * DB_T)
            amp = b_m * DIODE_V_PER_W * slope
            peak += abs(amp)
            if match_harmonic(f_det_Hz, f_m) == 1:
                z += -1j * amp
    return ProbeSignal(complex(z), float(peak), float(dc))
