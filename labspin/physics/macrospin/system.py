"""Parameters of a macrospin and its drives, folded into the kernel's constants.

SI throughout: Ms and H in A/m, K in J/m³, lengths in m, currents in A. Torques are given per
ampere of charge current so that a current sweep is one array of currents.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from labspin.physics.constants import E_CHARGE, GAMMA0, HBAR, MU0, gamma0_from_g
from labspin.physics.macrospin import kernel


def _unit(v, name: str) -> tuple[float, float, float]:
    a = np.asarray(v, dtype=float).reshape(3)
    n = float(np.linalg.norm(a))
    if not np.isfinite(n) or n == 0.0:
        raise ValueError(f"{name} must be a non-zero 3-vector, got {tuple(a)}")
    return tuple(float(x) for x in a / n)


def _vec(v, name: str) -> tuple[float, float, float]:
    a = np.asarray(v, dtype=float)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be a finite 3-vector, got {v!r}")
    return tuple(float(x) for x in a)


@dataclass(frozen=True)
class Uniaxial:
    """Uniaxial anisotropy: energy density −K (u·m)² (J/m³); K > 0 makes u an easy axis."""
    k_J_per_m3: float
    axis: tuple[float, float, float] = (0.0, 0.0, 1.0)

    def __post_init__(self):
        object.__setattr__(self, "axis", _unit(self.axis, "anisotropy axis"))


@dataclass(frozen=True)
class Magnet:
    """A single-domain magnet.

    ms_A_per_m: saturation magnetization Ms (A/m); alpha: Gilbert damping;
    thickness_m: film thickness t_F (m); area_m2: lateral area (m²) — or give volume_m3;
    anisotropies: bulk uniaxial terms; ks_J_per_m2: interface perpendicular anisotropy
    (adds K = Ks/t_F along z); demag: demagnetizing factors (Nx, Ny, Nz), sum 1 (thin film
    (0, 0, 1), sphere (⅓, ⅓, ⅓)); g: Landé factor (sets γ0), else gamma0 (m/(A·s));
    temperature_K: bath temperature (K).
    """
    ms_A_per_m: float
    alpha: float
    thickness_m: float = 1e-9
    area_m2: float | None = None
    volume_m3: float | None = None
    anisotropies: tuple[Uniaxial, ...] = ()
    ks_J_per_m2: float = 0.0
    demag: tuple[float, float, float] = (0.0, 0.0, 1.0)
    g: float | None = None
    gamma0: float = GAMMA0
    temperature_K: float = 0.0

    def __post_init__(self):
        checks = [("ms_A_per_m", self.ms_A_per_m, 0.0), ("alpha", self.alpha, 0.0),
                  ("thickness_m", self.thickness_m, 0.0)]
        for name, value, lower in checks:
            if not (np.isfinite(value) and value > lower):
                raise ValueError(f"{name} must be > {lower}, got {value!r}")
        if self.temperature_K < 0 or not np.isfinite(self.temperature_K):
            raise ValueError(f"temperature_K must be ≥ 0, got {self.temperature_K!r}")
        if self.volume_m3 is None and self.area_m2 is None:
            raise ValueError("give the magnet's volume_m3, or area_m2 with thickness_m")
        if self.volume_m3 is not None and self.area_m2 is not None and not math.isclose(
                self.volume_m3, self.area_m2 * self.thickness_m, rel_tol=1e-9):
            raise ValueError("volume_m3 disagrees with area_m2·thickness_m; give one of them")
        if self.volume <= 0:
            raise ValueError(f"volume must be > 0, got {self.volume!r}")
        d = _vec(self.demag, "demag")
        if min(d) < 0 or not math.isclose(sum(d), 1.0, abs_tol=1e-6):
            raise ValueError(f"demag factors must be ≥ 0 and sum to 1, got {d}")
        object.__setattr__(self, "demag", d)
        object.__setattr__(self, "anisotropies", tuple(self.anisotropies))

    @property
    def volume(self) -> float:
        """Get the volume V (m³)."""
        return self.volume_m3 if self.volume_m3 is not None else self.area_m2 * self.thickness_m

    @property
    def gamma(self) -> float:
        """Get γ0 (m/(A·s)), from g when given."""
        return gamma0_from_g(self.g) if self.g is not None else self.gamma0

    def all_anisotropies(self) -> tuple[Uniaxial, ...]:
        """Get the bulk anisotropies plus the interface term Ks/t_F along z."""
        extra = (Uniaxial(self.ks_J_per_m2 / self.thickness_m),) if self.ks_J_per_m2 else ()
        return self.anisotropies + extra

    def d_tensor(self) -> np.ndarray:
        """Get D (3×3, A/m) with H_anis + H_demag = −D·m: Ms·N − Σ 2K/(μ0 Ms) u uᵀ."""
        d = self.ms_A_per_m * np.diag(self.demag)
        for a in self.all_anisotropies():
            u = np.asarray(a.axis)
            d = d - 2.0 * a.k_J_per_m3 / (MU0 * self.ms_A_per_m) * np.outer(u, u)
        return d

    @property
    def hk_perp(self) -> float:
        """Get the perpendicular anisotropy field H_k⊥ = Σ 2K u_z²/(μ0 Ms) (A/m)."""
        return float(sum(2.0 * a.k_J_per_m3 * a.axis[2] ** 2 / (MU0 * self.ms_A_per_m)
                         for a in self.all_anisotropies()))

    @property
    def meff(self) -> float:
        """Get M_eff = Ms·(Nz − Nx) − H_k⊥ (A/m); negative for perpendicular magnets."""
        return self.ms_A_per_m * (self.demag[2] - self.demag[0]) - self.hk_perp

    @property
    def hk_inplane(self) -> float:
        """Get the in-plane uniaxial anisotropy field H_k∥ = 2K/(μ0 Ms) (A/m), 0 if none."""
        return float(sum(2.0 * a.k_J_per_m3 / (MU0 * self.ms_A_per_m)
                         * (a.axis[0] ** 2 + a.axis[1] ** 2) for a in self.all_anisotropies()))

    def thermal_field_std(self, dt_s: float, temperature_K: float | None = None) -> float:
        """Get the Brown thermal-field std per component, sqrt(2αk_BT/(γ0 μ0 Ms V Δt)) (A/m)."""
        from labspin.physics.constants import KB
        t = self.temperature_K if temperature_K is None else temperature_K
        return math.sqrt(2.0 * self.alpha * KB * t
                         / (self.gamma * MU0 * self.ms_A_per_m * self.volume * dt_s))


SIGMA_SPIN_HALL = (0.0, -1.0, 0.0)
"""σ of a heavy metal with θ_SH > 0 below the magnet, current along +x (design.md's sign
convention, the literature's): along the Oersted field at the magnet, −ŷ
(:func:`sheet_oersted_per_A`), so that Pt (θ_SH > 0) shows S/A > 0 in ST-FMR and Ta or W
(θ_SH < 0) show S/A < 0 and H_DL < 0. The simulated samples' default σ and every analysis's
reading of a damping-like field use it."""


@dataclass(frozen=True)
class SpinTorque:
    """A spin torque with polarization σ: H_DL and H_FL (A/m) per ampere of charge current.

    Gilbert form −γ0 H_FL m×σ − γ0 H_DL m×(m×σ); H_DL > 0 drives m toward +σ.
    """
    sigma: tuple[float, float, float]
    h_dl_per_A: float
    h_fl_per_A: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "sigma", _unit(self.sigma, "sigma"))

    @classmethod
    def sot(cls, magnet: Magnet, xi_dl: float, hm_thickness_m: float, hm_width_m: float,
            xi_fl: float = 0.0, sigma=SIGMA_SPIN_HALL) -> "SpinTorque":
        """Make a spin-orbit torque from efficiencies ξ_DL, ξ_FL of a heavy metal d × w (m).

        H = ħ ξ J_c / (2 e μ0 Ms t_F) with J_c = I/(w d); σ = −ŷ (:data:`SIGMA_SPIN_HALL`)
        for current along +x and the magnet on top of the heavy metal: ξ has the sign of θ_SH.
        """
        per_A = HBAR / (2.0 * E_CHARGE * MU0 * magnet.ms_A_per_m * magnet.thickness_m
                        * hm_width_m * hm_thickness_m)
        return cls(sigma, xi_dl * per_A, xi_fl * per_A)

    @classmethod
    def stt(cls, magnet: Magnet, eta: float, polarizer=(0.0, 0.0, 1.0),
            area_m2: float | None = None, h_fl_ratio: float = 0.0) -> "SpinTorque":
        """Make a Slonczewski torque H_DL = ħ η I / (2 e μ0 Ms t_F A) toward the polarizer.

        η: spin polarization efficiency (angle-independent here); area_m2 defaults to the
        magnet's area; h_fl_ratio: field-like part as a fraction of the damping-like part.
        """
        area = area_m2 if area_m2 is not None else magnet.volume / magnet.thickness_m
        h_dl = HBAR * eta / (2.0 * E_CHARGE * MU0 * magnet.ms_A_per_m * magnet.thickness_m
                             * area)
        return cls(polarizer, h_dl, h_fl_ratio * h_dl)


def sheet_oersted_per_A(width_m: float, below: bool = True) -> tuple[float, float, float]:
    """Get the Oersted field (A/m per A) of a current sheet along +x of width w: I/(2w).

    A heavy metal below the magnet gives −ŷ (x̂ × ẑ), above it gives +ŷ.
    """
    h = 1.0 / (2.0 * width_m)
    return (0.0, -h if below else h, 0.0)


@dataclass(frozen=True)
class Wave:
    """A time-dependent drive: field (A/m, 3-vector) and/or current (A) times a waveform.

    Build with :func:`sine`, :func:`pulse` or :func:`step`.
    """
    kind: int
    field_Apm: tuple[float, float, float]
    current_A: float
    frequency_Hz: float = 0.0
    phase_rad: float = 0.0
    start_s: float = 0.0
    stop_s: float = math.inf
    rise_s: float = 0.0

    def row(self) -> list[float]:
        r = [0.0] * kernel.N_WCOLS
        r[kernel.W_KIND] = self.kind
        r[kernel.W_HX], r[kernel.W_HY], r[kernel.W_HZ] = self.field_Apm
        r[kernel.W_I] = self.current_A
        r[kernel.W_FREQ] = self.frequency_Hz
        r[kernel.W_PHASE] = self.phase_rad
        r[kernel.W_T0] = self.start_s
        r[kernel.W_T1] = self.stop_s
        r[kernel.W_RISE] = self.rise_s
        return r


def sine(frequency_Hz: float, *, field_Apm=(0.0, 0.0, 0.0), current_A: float = 0.0,
         phase_rad: float = 0.0, start_s: float = 0.0, stop_s: float = math.inf) -> Wave:
    """Make a drive amplitude·sin(2πft + phase) on [start, stop) (rf field or rf current)."""
    return Wave(kernel.KIND_SINE, _vec(field_Apm, "field_Apm"), float(current_A),
                float(frequency_Hz), float(phase_rad), float(start_s), float(stop_s))


def pulse(start_s: float, width_s: float, *, field_Apm=(0.0, 0.0, 0.0),
          current_A: float = 0.0, rise_s: float = 0.0) -> Wave:
    """Make a trapezoidal pulse of full amplitude from start to start+width, linear edges."""
    if width_s <= 0 or rise_s < 0:
        raise ValueError(f"pulse width must be > 0 and rise ≥ 0, got {width_s}, {rise_s}")
    return Wave(kernel.KIND_TRAPEZOID, _vec(field_Apm, "field_Apm"), float(current_A),
                start_s=float(start_s), stop_s=float(start_s + width_s), rise_s=float(rise_s))


def step(start_s: float, *, field_Apm=(0.0, 0.0, 0.0), current_A: float = 0.0,
         rise_s: float = 0.0) -> Wave:
    """Make a step to full amplitude at ``start_s`` with a linear rise of ``rise_s``."""
    return Wave(kernel.KIND_TRAPEZOID, _vec(field_Apm, "field_Apm"), float(current_A),
                start_s=float(start_s), stop_s=math.inf, rise_s=float(rise_s))


@dataclass(frozen=True)
class Macrospin:
    """A magnet with its spin torques and Oersted field (A/m per A of charge current)."""
    magnet: Magnet
    torques: tuple[SpinTorque, ...] = ()
    oersted_per_A: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def __post_init__(self):
        object.__setattr__(self, "torques", tuple(self.torques))
        object.__setattr__(self, "oersted_per_A", _vec(self.oersted_per_A, "oersted_per_A"))

    def folded(self) -> tuple[float, ...]:
        """Get the 17 kernel constants (γ', α, D, P, Q, h_Oe); see :mod:`.kernel`."""
        mg = self.magnet
        a = mg.alpha
        d = mg.d_tensor()
        p = np.zeros(3)
        q = np.zeros(3)
        for t in self.torques:
            s = np.asarray(t.sigma)
            p += (t.h_fl_per_A - a * t.h_dl_per_A) * s
            q += (t.h_dl_per_A + a * t.h_fl_per_A) * s
        vals = (mg.gamma / (1.0 + a * a), a, d[0, 0], d[1, 1], d[2, 2], d[0, 1], d[0, 2],
                d[1, 2], *p, *q, *self.oersted_per_A)
        return tuple(float(v) for v in vals)

    def h_dl_per_A(self, direction=None) -> float:
        """Get the summed damping-like field per ampere (A/m/A), projected on ``direction``."""
        return self._project("h_dl_per_A", direction)

    def h_fl_per_A(self, direction=None) -> float:
        """Get the summed field-like field per ampere (A/m/A), projected on ``direction``."""
        return self._project("h_fl_per_A", direction)

    def _project(self, attr, direction):
        if not self.torques:
            return 0.0
        s = np.asarray(self.torques[0].sigma if direction is None else direction, float)
        s = s / np.linalg.norm(s)
        return float(sum(getattr(t, attr) * np.dot(t.sigma, s) for t in self.torques))
