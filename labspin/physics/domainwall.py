"""1D domain wall (q, φ) with thermal noise in a gate-tunable pinning well: Gaussian random source.

The Gaussian random source of Bayesian-network hardware (Advanced Science 2025,
doi:10.1002/advs.202520717, arXiv:2507.17193): a wall in the perpendicular free layer of an
MTJ-like strip sits in a notch, jitters thermally, and an MTJ pillar over the strip reads a
conductance linear in the wall position q. Repeated reads are Gaussian; the notch (moved by
current pulses) sets the mean and the gate voltage sets the width through voltage-controlled
magnetic anisotropy (VCMA). SI units throughout.

Model
-----
*Geometry and conventions.* Strip along x, width ``w``, free layer thickness ``t_F``, cross
section S = t_F·w. The domain at x < q is up (+z), the one at x > q down. φ is the angle of the
in-plane moment at the wall centre: φ = 0 or π Bloch (the two chiralities), φ = ±π/2 Néel.

*Anisotropy and gate.* K_eff(V) = K_eff0 + ξ·V/(t_ox·t_F): the gate field E = V/t_ox across
the gate oxide changes the interface anisotropy by ξ·E (J/m²), spread over the free layer.
**Sign convention: V > 0 raises K_eff** (ξ > 0; for CoFeB/MgO this is the polarity that
depletes electrons at the interface), so V > 0 stiffens the well and narrows the reads.
Wall width Δ = sqrt(A/K_eff), wall energy σ_w = 4 sqrt(A·K_eff) (J/m²).

*Pinning: parabolic notches.* Around each site q_i the strip width narrows as
w(x) = w − δw·(1 − (x − q_i)²/ℓ²) for |x − q_i| < ℓ (full width elsewhere). The wall energy
σ_w·t_F·w(q) gives the well

    V(q) = −E_b·(1 − (q − q_i)²/ℓ²),  |q − q_i| < ℓ,   E_b = σ_w·t_F·δw,
    k = 2·E_b/ℓ² = 8·sqrt(A·K_eff)·t_F·δw/ℓ²   (N/m)

exactly harmonic inside the notch (convolving a parabola with the wall's normalized, even
energy-density profile keeps its curvature, so the finite wall width does not change k).
k ∝ sqrt(K_eff) rises monotonically with K_eff. Notches abut when the site pitch is 2ℓ; the
wall then sees a scalloped landscape with barriers E_b between neighbouring sites.

*Dynamics (Malozemoff–Slonczewski / Thiele).* With E(q, φ) = V(q) − 2μ0·Ms·H_z·S·q
+ 2Δ·K⊥·S·sin²φ, F_q = −∂E/∂q, F_φ = −∂E/∂φ, gyrotropic constant G = 2μ0·Ms·S/γ0 (N·s),
frictions Γ_q = α·G/Δ (N·s/m) and Γ_φ = α·G·Δ (J·s), and spin-transfer drift u (m/s,
non-adiabatic β):

    Γ_q·q̇ + G·φ̇ = F_q + ξ_q + G·β·u/Δ
    Γ_φ·φ̇ − G·q̇ = F_φ + ξ_φ − G·u

Solved for the rates, with f_q = F_q/G (1/s) and f_φ = F_φ/G (m/s):

    (1+α²)·dq/dt = α·Δ·f_q − f_φ + (1 + α·β)·u
    (1+α²)·dφ/dt = f_q + (α/Δ)·f_φ + (β − α)·u/Δ

(with f_q = γ0·H_z and f_φ = −γ0·Δ·(H_K⊥/2)·sin 2φ, H_K⊥ = 2K⊥/(μ0 Ms), this is the textbook
form). Thermal forces: ⟨ξ_q ξ_q⟩ = 2k_BT·Γ_q·δ(t−t'), ⟨ξ_φ ξ_φ⟩ = 2k_BT·Γ_φ·δ(t−t').
Fluctuation–dissipation: the noise on the rates then has covariance 2k_BT·sym(M⁻¹) for the
mobility M⁻¹ = [[Γ_q, G], [−G, Γ_φ]]⁻¹, and the antisymmetric (gyrotropic) part carries no
probability current, so exp(−E/k_BT) is stationary. E separates in q and φ, hence inside a
notch q is **exactly Gaussian with σ_q² = k_BT/k**, whatever α, K⊥ or the gyrotropic coupling.
The noise is additive (constant coefficients), so Itô = Stratonovich; stochastic Heun with one
Gaussian sample per step in predictor and corrector.

*Time scales.* Integrating Γ_q·q̇ + G·φ̇ = −k·x + ξ_q over time (φ bounded) gives the
integrated autocorrelation time of q exactly, in any damping regime:

    τ_q = ∫₀^∞ ρ_q(t) dt = Γ_q/k = σ_q²/D,   D = k_BT/Γ_q,

the "D/k-type" time of physics.md, which fixes the variance of time averages. With small α the
wall is underdamped in the notch (Döring mass G²/k_φ, k_φ = 4Δ·K⊥·S): q rings at the pinning
frequency ω0 = sqrt(k·k_φ/((1+α²)·G²)) and the envelope decays in ``decorrelation_time`` (from
the eigenvalues of the linearized (q, φ) drift); reads spaced by several decorrelation times
are independent. ρ_q(t), hence τ_q and the decorrelation time, do not depend on the gate here
(Γ_q and k both scale as sqrt(K_eff), Δ·k and k_φ/Δ are constant, k·k_φ too), so the gate
changes the width of the reads, not their rate.

*Readout.* An MTJ pillar covers x ∈ [x0, x1] of the strip; its reference layer is up, so the
part x > q is antiparallel. The P and AP areas conduct in parallel through the barrier:

    G(q) = G_P − (G_P − G_AP)·f_AP(q),  f_AP = (x1 − q)/(x1 − x0) clipped to [0, 1],

G_P = area/RA_P, G_AP = G_P/(1 + TMR). The **conductance** is linear in q (the resistance
1/G is not: it has a curvature of order TMR·σ_q/L), so reads are reported as conductances (S)
and are exactly Gaussian while the wall stays under the pillar.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numba
import numpy as np
from numba import njit, prange

from labspin.physics.constants import E_CHARGE, GAMMA0, KB, MU0, MU_B
from labspin.physics.macrospin.rng import normal2, seed_key
from labspin.physics.work_items import item_length

CHUNK = 256
"""Most walls per parallel work item (fewer when a call has fewer than threads × CHUNK)."""

_TWO_PI = 2.0 * math.pi


# ----------------------------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TMRReadout:
    """MTJ pillar over the strip, covering x ∈ [x0, x1] (m); reference layer up (x < q is P).

    ra_p: resistance–area product in the parallel state (Ω·m²); tmr: (R_AP − R_P)/R_P;
    width: pillar width across the strip (m).
    """

    x0: float = -50e-9
    x1: float = 350e-9
    width: float = 200e-9
    ra_p: float = 10e-12
    tmr: float = 1.5

    @property
    def g_p(self) -> float:
        """Get the conductance with the whole pillar parallel (S)."""
        return (self.x1 - self.x0) * self.width / self.ra_p

    @property
    def g_ap(self) -> float:
        """Get the conductance with the whole pillar antiparallel (S)."""
        return self.g_p / (1.0 + self.tmr)

    @property
    def slope(self) -> float:
        """Get dG/dq (S/m) with the wall under the pillar."""
        return (self.g_p - self.g_ap) / (self.x1 - self.x0)

    def ap_fraction(self, q):
        """Get the antiparallel area fraction of the pillar for wall position q (m)."""
        return np.clip((self.x1 - np.asarray(q, dtype=float)) / (self.x1 - self.x0), 0.0, 1.0)

    def conductance(self, q):
        """Get the pillar conductance (S) for wall position q (m): linear in q under the pillar."""
        return self.g_p - (self.g_p - self.g_ap) * self.ap_fraction(q)

    def resistance(self, q):
        """Get the pillar resistance 1/G (Ω) for wall position q (m); not linear in q."""
        return 1.0 / self.conductance(q)


@dataclass(frozen=True)
class DomainWallParams:
    """SI parameters of the strip, the gate, the notches and the thermal bath.

    Ms (A/m), A_ex (J/m), K_eff0 (J/m³, effective perpendicular anisotropy at V = 0, demag
    included), xi_vcma (J/(V·m), ΔK_eff = ξ·V/(t_ox·t_F), V > 0 raises K_eff), t_ox gate oxide
    thickness (m), t_F free-layer thickness (m), width strip width (m), alpha Gilbert damping,
    beta non-adiabatic STT parameter, gamma0 (m/(A·s)), temperature (K), K_perp in-plane
    hard-axis (Bloch→Néel) anisotropy of the wall (J/m³), polarization P of the current;
    notches: depth δw (m), half-length ℓ (m), sites at site0 + i·site_pitch, i < n_sites.
    """

    Ms: float = 1.1e6
    A_ex: float = 1.5e-11
    K_eff0: float = 5.0e4
    xi_vcma: float = 50e-15
    t_ox: float = 1.5e-9
    t_F: float = 1.1e-9
    width: float = 200e-9
    alpha: float = 0.02
    beta: float = 0.04
    gamma0: float = GAMMA0
    temperature: float = 300.0
    K_perp: float = 1.0e4
    polarization: float = 0.6
    notch_depth: float = 40e-9
    notch_half_length: float = 50e-9
    site0: float = 0.0
    site_pitch: float = 100e-9
    n_sites: int = 4

    def __post_init__(self):
        if self.site_pitch < 2.0 * self.notch_half_length:
            raise ValueError("notches overlap: site_pitch must be ≥ 2·notch_half_length")
        if not 0.0 < self.notch_depth < self.width:
            raise ValueError("notch_depth must lie in (0, width)")
        if self.n_sites < 1:
            raise ValueError("n_sites must be ≥ 1")


@dataclass(frozen=True)
class Pulse:
    """Rectangular drive from t_start to t_start + duration (s): STT drift u (m/s), field H_z (A/m).

    u > 0 pushes the wall toward +x (u is along the electron flow, see ``stt_velocity``);
    H_z > 0 favours the up domain (x < q), which also pushes the wall toward +x.
    """

    u: float = 0.0
    H_z: float = 0.0
    t_start: float = 0.0
    duration: float = math.inf


@dataclass
class Trajectory:
    """Result of ``DomainWall.simulate``: t (n_rec,) s; q, phi (n_rec, n_walls) in m and rad.

    q_final, phi_final (n_walls,) the state after the last step; steps the number of steps.
    """

    t: np.ndarray
    q: np.ndarray
    phi: np.ndarray
    q_final: np.ndarray
    phi_final: np.ndarray
    dt: float
    steps: int


@dataclass
class MoveResult:
    """Result of ``DomainWall.move``: final positions (m), nearest sites, the pulse used."""

    q: np.ndarray
    sites: np.ndarray
    pinned: np.ndarray
    pulse: Pulse
    success: float


# ----------------------------------------------------------------------------------------------
# numba kernel
# ----------------------------------------------------------------------------------------------
@njit(fastmath=True, error_model="numpy")
def _noise_chunk(z1, z2, key, i0, step):
    """Fill z1, z2 with standard normals of walls i0, i0+1, … at global step ``step``.

    One Box–Muller pair per wall-step from :func:`labspin.physics.macrospin.rng.normal2`
    (branch-free, so the loop vectorizes).
    """
    for i in range(z1.size):
        z1[i], z2[i] = normal2(key, i0 + i, step)


@njit(inline="always", error_model="numpy")
def _pin_rate(q, site0, pitch, n_sites, half_len, kq):
    """Get the pinning force over G (1/s) at q (m): −(k/G)(q − q_i) inside notch i, else 0."""
    i = min(max(math.floor((q - site0) / pitch + 0.5), 0.0), n_sites - 1.0)
    x = q - (site0 + i * pitch)
    return -kq * x if abs(x) < half_len else 0.0


@njit(inline="always", error_model="numpy")
def _rates(q, phi, u, wz, c):
    """Get (dq/dt, dφ/dt) (m/s, rad/s) without noise; u STT drift (m/s), wz = γ0·H_z (1/s)."""
    (cc, alpha, beta, delta, kq, wphi, site0, pitch, n_sites, half_len) = c
    fq = _pin_rate(q, site0, pitch, n_sites, half_len, kq) + wz
    fphi = -wphi * math.sin(2.0 * phi)
    dq = cc * (alpha * delta * fq - fphi + (1.0 + alpha * beta) * u)
    dphi = cc * (fq + (alpha / delta) * fphi + (beta - alpha) * u / delta)
    return dq, dphi


@njit(inline="always", error_model="numpy")
def _local(c):
    """Get a register copy of the folded constants (lets LLVM vectorize the wall loop)."""
    (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9) = c
    return (a0, a1, a2, a3, a4, a5, a6, a7, a8, a9)


@njit(fastmath=True, error_model="numpy")
def _heun_chunk(q, phi, z1, z2, sq, sphi, pu, pwz, pt0, pt1, t, dt, c):
    """One stochastic Heun step (noise z1, z2 used in predictor and corrector) for one chunk."""
    c = _local(c)
    cc, alpha, delta = c[0], c[1], c[3]
    for i in range(q.size):
        on0 = (pt0[i] <= t) & (t < pt1[i])
        on1 = (pt0[i] <= t + dt) & (t + dt < pt1[i])
        u0 = pu[i] if on0 else 0.0
        w0 = pwz[i] if on0 else 0.0
        u1 = pu[i] if on1 else 0.0
        w1 = pwz[i] if on1 else 0.0
        dwq = sq * z1[i]
        dwp = sphi * z2[i]
        nq = cc * (alpha * delta * dwq - dwp)
        nphi = cc * (dwq + (alpha / delta) * dwp)
        x = q[i]
        p = phi[i]
        k1q, k1p = _rates(x, p, u0, w0, c)
        k2q, k2p = _rates(x + k1q * dt + nq, p + k1p * dt + nphi, u1, w1, c)
        q[i] = x + 0.5 * dt * (k1q + k2q) + nq
        phi[i] = p + 0.5 * dt * (k1p + k2p) + nphi


@njit(parallel=True, cache=True, error_model="numpy")
def _integrate(q, phi, c, sq, sphi, pu, pwz, pt0, pt1, dt, n_steps, step0, key,
               rec_every, rec_q, rec_phi, item):
    """Advance walls (q, phi) in place by n_steps stochastic-Heun steps of dt (s).

    c: folded constants (see ``_rates``); sq (rad) and sphi (m): per-step std of the scaled
    thermal kicks ξ_q·dt/G and ξ_φ·dt/G (0 → deterministic Heun); per-wall rectangular pulse
    pu (m/s), pwz (1/s) on [pt0, pt1) (s); step0 the global index of the first step (random
    stream counter, time origin); rec_q/rec_phi (n_rec, N) get the state after every
    rec_every-th step (rec_every ≤ 0: off); item: walls per parallel work item.
    """
    n = q.size
    n_chunks = (n + item - 1) // item
    for ch in prange(n_chunks):
        lo = ch * item
        hi = min(n, lo + item)
        z1 = np.zeros(hi - lo)
        z2 = np.zeros(hi - lo)
        qc, pc = q[lo:hi], phi[lo:hi]
        for s in range(n_steps):
            if sq > 0.0:
                _noise_chunk(z1, z2, key, lo, step0 + s)
            _heun_chunk(qc, pc, z1, z2, sq, sphi, pu[lo:hi], pwz[lo:hi], pt0[lo:hi],
                        pt1[lo:hi], (step0 + s) * dt, dt, c)
            if rec_every > 0 and (s + 1) % rec_every == 0:
                r = (s + 1) // rec_every - 1
                rec_q[r, lo:hi] = qc
                rec_phi[r, lo:hi] = pc


# ----------------------------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------------------------
class DomainWall:
    """A pinned wall with gate-tunable thermal jitter and a linear (conductance) TMR readout."""

    def __init__(self, params: DomainWallParams | None = None, readout: TMRReadout | None = None):
        self.params = params if params is not None else DomainWallParams()
        self.readout = readout if readout is not None else TMRReadout(width=self.params.width)

    # --- statics ------------------------------------------------------------------------------
    @property
    def kT(self) -> float:
        """Get the thermal energy k_B·T (J)."""
        return KB * self.params.temperature

    @property
    def area(self) -> float:
        """Get the wall cross section S = t_F·w (m²)."""
        return self.params.t_F * self.params.width

    @property
    def gyro(self) -> float:
        """Get the gyrotropic constant G = 2μ0·Ms·S/γ0 (N·s)."""
        return 2.0 * MU0 * self.params.Ms * self.area / self.params.gamma0

    @property
    def sites(self) -> np.ndarray:
        """Get the notch positions (m)."""
        return self.params.site0 + self.params.site_pitch * np.arange(self.params.n_sites)

    def site_position(self, site: int) -> float:
        """Get the position (m) of notch ``site``."""
        if not 0 <= site < self.params.n_sites:
            raise IndexError(f"site {site} not in 0..{self.params.n_sites - 1}")
        return float(self.sites[site])

    def nearest_site(self, q):
        """Get the index of the notch nearest to q (m)."""
        i = np.floor((np.asarray(q) - self.params.site0) / self.params.site_pitch + 0.5)
        return np.clip(i, 0, self.params.n_sites - 1).astype(int)

    def K_eff(self, gate_V: float = 0.0) -> float:
        """Get the effective anisotropy K_eff0 + ξ·V/(t_ox·t_F) (J/m³); V > 0 raises it."""
        k = self.params.K_eff0 + self.params.xi_vcma * gate_V / (self.params.t_ox * self.params.t_F)
        if k <= 0.0:
            raise ValueError(f"K_eff = {k:.3g} J/m³ ≤ 0 at {gate_V} V: no perpendicular wall")
        return k

    def wall_width(self, gate_V: float = 0.0) -> float:
        """Get the wall width parameter Δ = sqrt(A/K_eff) (m)."""
        return math.sqrt(self.params.A_ex / self.K_eff(gate_V))

    def wall_energy(self, gate_V: float = 0.0) -> float:
        """Get the wall energy per area σ_w = 4 sqrt(A·K_eff) (J/m²)."""
        return 4.0 * math.sqrt(self.params.A_ex * self.K_eff(gate_V))

    def barrier(self, gate_V: float = 0.0) -> float:
        """Get the notch depth E_b = σ_w·t_F·δw (J): the barrier between abutting notches."""
        return self.wall_energy(gate_V) * self.params.t_F * self.params.notch_depth

    def stiffness(self, gate_V: float = 0.0) -> float:
        """Get the well stiffness k = 2·E_b/ℓ² (N/m)."""
        return 2.0 * self.barrier(gate_V) / self.params.notch_half_length ** 2

    def sigma_q(self, gate_V: float = 0.0) -> float:
        """Get the stationary jitter sqrt(k_B·T/k) (m)."""
        return math.sqrt(self.kT / self.stiffness(gate_V))

    def friction(self, gate_V: float = 0.0) -> float:
        """Get the wall friction Γ_q = 2α·μ0·Ms·t_F·w/(γ0·Δ) (N·s/m)."""
        return self.params.alpha * self.gyro / self.wall_width(gate_V)

    def phi_stiffness(self, gate_V: float = 0.0) -> float:
        """Get k_φ = ∂²E/∂φ² at the Bloch state = 4Δ·K⊥·S (J/rad²)."""
        return 4.0 * self.wall_width(gate_V) * self.params.K_perp * self.area

    def correlation_time(self, gate_V: float = 0.0) -> float:
        """Get the integrated autocorrelation time of q, τ_q = Γ_q/k = σ_q²/D (s).

        Exact for the 1D model in any damping regime: Var(time average over T) → 2σ_q²·τ_q/T.
        """
        return self.friction(gate_V) / self.stiffness(gate_V)

    def drift_matrix(self, gate_V: float = 0.0) -> np.ndarray:
        """Get A (1/s, 2×2) of the (q, φ) dynamics linearized at the notch centre, ẋ = −A·x."""
        a = self.params.alpha
        d = self.wall_width(gate_V)
        g = self.gyro
        m_inv = np.array([[a * d, -1.0], [1.0, a / d]]) / (1.0 + a * a)   # G·M⁻¹
        kk = np.diag([self.stiffness(gate_V), self.phi_stiffness(gate_V)]) / g
        return m_inv @ kk

    def decorrelation_time(self, gate_V: float = 0.0) -> float:
        """Get 1/min Re λ (s) of the linearized drift: the envelope decay of ρ_q(t)."""
        return 1.0 / np.linalg.eigvals(self.drift_matrix(gate_V)).real.min()

    def pinning_frequency(self, gate_V: float = 0.0) -> float:
        """Get the ringing frequency |Im λ|/2π (Hz) of the wall in the notch (0 if overdamped)."""
        return float(np.abs(np.linalg.eigvals(self.drift_matrix(gate_V)).imag).max()) / _TWO_PI

    def q_autocorrelation(self, t, gate_V: float = 0.0) -> np.ndarray:
        """Get ρ_q(t) = [exp(−A|t|)]_qq of the linearized model ((q, φ) covariance is diagonal)."""
        lam, vec = np.linalg.eig(self.drift_matrix(gate_V))
        w = vec[0, :] * np.linalg.inv(vec)[:, 0]
        t = np.abs(np.asarray(t, dtype=float))
        return np.real(np.exp(-np.multiply.outer(t, lam)) @ w)

    def walker_velocity(self, gate_V: float = 0.0) -> float:
        """Get the intrinsic Walker drift u_W = γ0·Δ·K⊥/(μ0·Ms) (m/s) above which φ precesses."""
        p = self.params
        return p.gamma0 * self.wall_width(gate_V) * p.K_perp / (MU0 * p.Ms)

    def stt_velocity(self, J: float, g: float = 2.0) -> float:
        """Get the STT drift u = P·g·μB·J/(2e·Ms) (m/s) for electron-flow current density J (A/m²).

        The wall moves along the electron flow: u > 0 for electrons flowing toward +x.
        """
        return self.params.polarization * g * MU_B * J / (2.0 * E_CHARGE * self.params.Ms)

    def default_dt(self, gate_V: float = 0.0) -> float:
        """Get a step (s) of 0.03/|λ| of the linearized drift (the pinning ring, ≈ 20 ps here)."""
        return 0.03 / np.abs(np.linalg.eigvals(self.drift_matrix(gate_V))).max()

    # --- readout ------------------------------------------------------------------------------
    def expected_read_mean(self, site: int = 0) -> float:
        """Get the mean read (S): the pillar conductance with the wall at notch ``site``."""
        return float(self.readout.conductance(self.site_position(site)))

    def expected_read_std(self, gate_V: float = 0.0) -> float:
        """Get the read standard deviation |dG/dq|·σ_q (S)."""
        return self.readout.slope * self.sigma_q(gate_V)

    # --- dynamics -----------------------------------------------------------------------------
    def _constants(self, gate_V: float, temperature: float | None):
        p = self.params
        g = self.gyro
        d = self.wall_width(gate_V)
        c = (1.0 / (1.0 + p.alpha ** 2), p.alpha, p.beta, d, self.stiffness(gate_V) / g,
             2.0 * d * p.K_perp * self.area / g, p.site0, p.site_pitch, float(p.n_sites),
             p.notch_half_length)
        kT = KB * (p.temperature if temperature is None else temperature)
        return c, kT, d, g

    def equilibrium_state(self, n_walls: int, gate_V: float = 0.0, site: int = 0, seed: int = 0,
                          temperature: float | None = None):
        """Sample (q, φ) (m, rad) from exp(−E/k_BT) in notch ``site`` (φ of either chirality)."""
        rng = np.random.default_rng([seed, 0x0DD])
        kT = KB * (self.params.temperature if temperature is None else temperature)
        q_s = self.site_position(site)
        if kT == 0.0:
            return np.full(n_walls, q_s), np.zeros(n_walls)
        sig = math.sqrt(kT / self.stiffness(gate_V))
        ell = self.params.notch_half_length
        z = rng.standard_normal(n_walls)
        while np.any(bad := np.abs(z * sig) >= ell):   # truncated at the notch edge (≥ 6σ here)
            z[bad] = rng.standard_normal(bad.sum())
        b = 2.0 * self.wall_width(gate_V) * self.params.K_perp * self.area / kT
        phi = np.empty(n_walls)
        todo = np.arange(n_walls)
        while todo.size:
            x = rng.uniform(-0.5 * math.pi, 0.5 * math.pi, todo.size)
            ok = rng.uniform(size=todo.size) < np.exp(-b * np.sin(x) ** 2)
            phi[todo[ok]] = x[ok]
            todo = todo[~ok]
        phi += math.pi * (rng.uniform(size=n_walls) < 0.5)
        return q_s + sig * z, phi

    def simulate(self, n_walls: int, duration: float, dt: float | None = None,
                 gate_V: float = 0.0, site: int = 0, seed: int = 0, record_every: int = 1,
                 init: str = "equilibrium", pulse: Pulse | None = None,
                 temperature: float | None = None, state=None, step0: int = 0,
                 pulse_durations=None) -> Trajectory:
        """Integrate n_walls independent walls for ``duration`` (s) with stochastic Heun.

        init: "equilibrium" (Boltzmann sample in notch ``site``), "site" (q = q_site, φ = 0),
        or pass ``state=(q, φ)`` to continue a run (n_walls is then len(q); step0 = steps
        already done, so that the noise stream and the pulse clock continue). ``pulse``
        applies to every wall; ``pulse_durations`` (n_walls,) overrides its duration per wall.
        Same seed → same result (any thread count).
        """
        dt = self.default_dt(gate_V) if dt is None else dt
        n_steps = int(round(duration / dt))
        c, kT, d, g = self._constants(gate_V, temperature)
        a = self.params.alpha
        if state is not None:
            q = np.array(state[0], dtype=float, copy=True)
            phi = np.array(state[1], dtype=float, copy=True)
        elif init == "equilibrium":
            q, phi = self.equilibrium_state(n_walls, gate_V, site, seed, temperature)
        elif init == "site":
            q, phi = np.full(n_walls, self.site_position(site)), np.zeros(n_walls)
        else:
            raise ValueError(f"unknown init {init!r}")
        n = q.size
        pulse = Pulse(duration=0.0) if pulse is None else pulse
        pu = np.full(n, float(pulse.u))
        pwz = np.full(n, self.params.gamma0 * pulse.H_z)
        pt0 = np.full(n, float(pulse.t_start))
        dur = np.full(n, float(pulse.duration)) if pulse_durations is None else \
            np.asarray(pulse_durations, dtype=float)
        pt1 = pt0 + dur
        sq = math.sqrt(2.0 * kT * a * dt / (d * g))     # ξ_q·dt/G (rad)
        sphi = math.sqrt(2.0 * kT * a * d * dt / g)     # ξ_φ·dt/G (m)
        rec_every = int(record_every)
        n_rec = n_steps // rec_every if rec_every > 0 else 0
        rec_q = np.empty((n_rec, n))
        rec_phi = np.empty((n_rec, n))
        _integrate(q, phi, c, sq, sphi, pu, pwz, pt0, pt1, dt, n_steps, int(step0),
                   seed_key(seed), max(rec_every, 0), rec_q, rec_phi,
                   item_length(n, numba.get_num_threads(), CHUNK))
        t = (step0 + rec_every * np.arange(1, n_rec + 1)) * dt
        return Trajectory(t, rec_q, rec_phi, q, phi, dt, n_steps)

    def read(self, n_reads: int, interval_s: float, gate_V: float = 0.0, site: int = 0,
             seed: int = 0, dt: float | None = None) -> np.ndarray:
        """Get n_reads conductance reads (S) of one device, spaced by ``interval_s`` (s).

        One wall, started in equilibrium in notch ``site`` and integrated continuously; the
        step is shrunk so that ``interval_s`` is a whole number of steps. Reads are
        independent when interval_s ≫ ``decorrelation_time``.
        """
        dt_max = self.default_dt(gate_V) if dt is None else dt
        every = max(1, math.ceil(interval_s / dt_max - 1e-9))
        tr = self.simulate(1, n_reads * interval_s, interval_s / every, gate_V, site, seed,
                           record_every=every)
        return self.readout.conductance(tr.q[:, 0])

    def move(self, site_from: int, site_to: int, n_walls: int = 256, u: float | None = None,
             gate_V: float = 0.0, seed: int = 0, dt: float | None = None,
             settle: float | None = None) -> MoveResult:
        """Move walls from notch ``site_from`` to ``site_to`` with one STT current pulse.

        The drift |u| (default 3·u_W, above the Walker threshold where the pulse depins the
        wall) points toward the target; the pulse length is the time a T = 0 wall under that
        drive takes to reach the target notch centre, where it is left to ring down. The thermal
        ensemble (started in equilibrium) then gets that pulse and ``settle`` (s, default
        10 decorrelation times) to relax. Returns final q, nearest sites and the success rate
        (fraction of walls inside the target notch).
        """
        self.site_position(site_from)
        self.site_position(site_to)
        dt = self.default_dt(gate_V) if dt is None else dt
        settle = 10.0 * self.decorrelation_time(gate_V) if settle is None else settle
        if site_to == site_from:
            pulse = Pulse(duration=0.0)
        else:
            sign = 1.0 if site_to > site_from else -1.0
            speed = 3.0 * self.walker_velocity(gate_V) if u is None else abs(u)
            dist = abs(self.site_position(site_to) - self.site_position(site_from))
            # T = 0 calibration: keep the drive on, stop when the wall centre crosses the target
            cal = self.simulate(1, 5.0 * dist / speed, dt, gate_V, site_from, init="site",
                                pulse=Pulse(u=sign * speed), temperature=0.0)
            crossed = np.flatnonzero(sign * (cal.q[:, 0] - self.site_position(site_to)) >= 0.0)
            if crossed.size == 0:
                raise RuntimeError(f"the wall does not reach site {site_to} at u = {speed:.3g} m/s")
            pulse = Pulse(u=sign * speed, duration=float(cal.t[crossed[0]]))
        tr = self.simulate(n_walls, pulse.duration + settle, dt, gate_V, site_from, seed,
                           init="equilibrium", pulse=pulse, record_every=0)
        pinned = self._pinned_at(tr.q_final, site_to)
        return MoveResult(tr.q_final, self.nearest_site(tr.q_final), pinned, pulse,
                          float(pinned.mean()))

    def _pinned_at(self, q, site):
        return np.abs(np.asarray(q) - self.site_position(site)) < self.params.notch_half_length

    def with_params(self, **changes) -> "DomainWall":
        """Get a copy with some parameters changed (same readout)."""
        return DomainWall(replace(self.params, **changes), self.readout)
