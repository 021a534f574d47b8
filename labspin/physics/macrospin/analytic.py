"""Closed-form results the core, the simulated bench and the analysis rely on (physics.md).

Fields H in A/m; frequencies in Hz; γ0 in m/(A·s). Reduced variables are dimensionless.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import integrate

from labspin.physics.constants import GAMMA0, KB, MU0


def langevin(x):
    """Get L(x) = coth x − 1/x, ⟨m·Ĥ⟩ of a free moment at reduced field x (stable near 0)."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-3
    xs = np.where(small, 1.0, x)
    out = np.where(small, x / 3.0 - x ** 3 / 45.0, 1.0 / np.tanh(xs) - 1.0 / xs)
    return out if out.ndim else float(out)


def langevin_second_moment(x):
    """Get ⟨(m·Ĥ)²⟩ = 1 − 2L(x)/x of a free moment at reduced field x."""
    x = np.asarray(x, dtype=float)
    small = np.abs(x) < 1e-3
    xs = np.where(small, 1.0, x)
    out = np.where(small, 1.0 / 3.0 + 2.0 * x ** 2 / 45.0, 1.0 - 2.0 * langevin(xs) / xs)
    return out if out.ndim else float(out)


def zeeman_reduced_field(ms_A_per_m: float, volume_m3: float, h_Apm, temperature_K: float):
    """Get x = μ0 Ms V H / (k_B T)."""
    return MU0 * ms_A_per_m * volume_m3 * np.asarray(h_Apm) / (KB * temperature_K)


def uniaxial_mz2(delta: float) -> float:
    """Get ⟨m_z²⟩ = ∫c² e^{Δc²}dc / ∫e^{Δc²}dc over [−1, 1] for barrier Δ = KV/k_BT.

    Evaluated with the weight e^{Δ(c²−1)} so that large Δ does not overflow.
    """
    if delta == 0:
        return 1.0 / 3.0
    w = lambda c: math.exp(delta * (c * c - 1.0))  # noqa: E731
    num = integrate.quad(lambda c: c * c * w(c), 0.0, 1.0, epsabs=0, epsrel=1e-12)[0]
    den = integrate.quad(w, 0.0, 1.0, epsabs=0, epsrel=1e-12)[0]
    return num / den


def boltzmann_average(energy_J, quantity, temperature_K: float, n_theta: int = 400,
                      n_phi: int = 400):
    """Get the Boltzmann average of quantity(m) over the unit sphere.

    energy_J(m) and quantity(m) take m of shape (3, ...) and return arrays of shape (...);
    quadrature: Gauss–Legendre in cos θ × uniform in φ (spectral for smooth integrands).
    """
    c, wc = np.polynomial.legendre.leggauss(n_theta)
    phi = (np.arange(n_phi) + 0.5) * (2 * np.pi / n_phi)
    cc, pp = np.meshgrid(c, phi, indexing="ij")
    s = np.sqrt(1.0 - cc ** 2)
    m = np.stack([s * np.cos(pp), s * np.sin(pp), cc])
    e = np.asarray(energy_J(m), dtype=float) / (KB * temperature_K)
    w = np.exp(-(e - e.min())) * wc[:, None]
    q = np.asarray(quantity(m), dtype=float)
    return float((w * q).sum() / w.sum())


def kittel_inplane(h_Apm, meff_Apm: float, hk_Apm: float = 0.0, gamma0: float = GAMMA0):
    """Get f (Hz) of an in-plane film, field in plane along m: γ0/2π·√[(H+H_k)(H+H_k+M_eff)]."""
    h = np.asarray(h_Apm, dtype=float) + hk_Apm
    return gamma0 / (2 * np.pi) * np.sqrt(np.clip(h * (h + meff_Apm), 0.0, None))


def inplane_magnetization_angle(b_T, field_angle_deg, mu0_hk_T: float,
                                easy_axis_deg: float = 0.0):
    """Get φ_M (rad): the angle of a saturated in-plane magnetization under an in-plane field
    of magnitude |b_T| (T, μ0H) at ``field_angle_deg`` with a uniaxial in-plane anisotropy
    field μ0H_k (T) along ``easy_axis_deg`` (angles from +x): the root near the field's angle
    of B·sin(φ − φ_H) + (B_k/2)·sin 2(φ − φ_K) = 0 (Newton from φ_H)."""
    b = np.abs(np.asarray(b_T, float))
    ph = np.radians(np.broadcast_to(np.asarray(field_angle_deg, float), b.shape)).copy()
    pk = np.radians(easy_axis_deg)
    phi = ph.copy()
    for _ in range(30):
        g = b * np.sin(phi - ph) + 0.5 * mu0_hk_T * np.sin(2 * (phi - pk))
        dg = b * np.cos(phi - ph) + mu0_hk_T * np.cos(2 * (phi - pk))
        phi = phi - g / np.where(np.abs(dg) > 1e-12, dg, 1e-12)
    return phi


def kittel_perpendicular(h_Apm, meff_Apm: float, gamma0: float = GAMMA0):
    """Get f (Hz) of a perpendicular magnet (M_eff < 0), field in plane (physics.md check 5).

    Above saturation, |H| ≥ H_k,eff = −M_eff: γ0/2π·√[H(H − H_k,eff)];
    below: γ0/2π·√(H_k,eff² − H²).
    """
    if meff_Apm >= 0:
        raise ValueError(f"kittel_perpendicular needs M_eff < 0, got {meff_Apm} A/m")
    hk = -meff_Apm
    h = np.abs(np.asarray(h_Apm, dtype=float))
    f2 = np.where(h >= hk, h * (h - hk), hk ** 2 - h ** 2)
    return gamma0 / (2 * np.pi) * np.sqrt(f2)


def kittel_normal(h_Apm, meff_Apm: float, gamma0: float = GAMMA0):
    """Get f (Hz) for the field along the film normal, above saturation: γ0/2π·(H − M_eff)."""
    return gamma0 / (2 * np.pi) * (np.asarray(h_Apm, dtype=float) - meff_Apm)


def fmr_hwhm_field(frequency_Hz, alpha: float, dh0_Apm: float = 0.0, gamma0: float = GAMMA0):
    """Get the field half width Δ(f) = Δ0 + 2πfα/γ0 (A/m, HWHM)."""
    return dh0_Apm + 2 * np.pi * np.asarray(frequency_Hz, dtype=float) * alpha / gamma0


def auto_oscillation(h_dl_Apm: float, alpha: float, meff_Apm: float, gamma0: float = GAMMA0):
    """Get (m_z, f in Hz) of an in-plane free layer under a perpendicular polarizer at H = 0.

    m_z = H_DL/(α M_eff), f = γ0 H_DL/(2π α) (physics.md check 6; valid for m_z < 1).
    """
    return h_dl_Apm / (alpha * meff_Apm), gamma0 * h_dl_Apm / (2 * np.pi * alpha)


def kapitza_xi_eff(ms_A_per_m: float, volume_m3: float, h_Apm, h_dl_Apm, alpha: float,
                   temperature_K: float):
    """Get ξ_eff = μ0 Ms V (H − H_DL/α)/(k_B T) for σ along −Ĥ (physics.md check 7).

    ⟨m·Ĥ⟩ = L(ξ_eff); P(m·Ĥ > 0) = 1/(1 + e^{−ξ_eff}).
    """
    h = np.asarray(h_Apm, dtype=float) - np.asarray(h_dl_Apm, dtype=float) / alpha
    return MU0 * ms_A_per_m * volume_m3 * h / (KB * temperature_K)


def kapitza_stability_h_dl(h_Apm: float, alpha: float, psi_rad: float) -> float:
    """Get the signed H_DL (A/m, along σ) where the state anti-aligned with H changes stability.

    σ at angle ψ from H. Root of α(H² − h²) + (1 − α²)·h·H·cos ψ = 0 (physics.md check 7)
    of small magnitude, |h| ≈ αH/|cos ψ|; for ψ = π it is exactly αH. Returns inf for
    σ ⊥ H: the magnet never anti-aligns.
    """
    c = math.cos(psi_rad)
    if abs(c) < 1e-12:
        return math.inf
    b = (1 - alpha ** 2) * h_Apm * c
    large = (b + math.copysign(math.sqrt(b * b + 4 * alpha ** 2 * h_Apm ** 2), c)) / (2 * alpha)
    return -h_Apm ** 2 / large      # product of the roots is −H²
