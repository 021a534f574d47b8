"""Magnetoresistive readout of a macrospin: Hall bar (AMR, SMR, AHE, PHE) and tunnel junction.

Magnetizations are unit vectors stored component-first, ``m`` of shape ``(3, ...)`` — the
ensemble layout of the physics core (``m[0], m[1], m[2]`` = m_x, m_y, m_z) — or ``(3,)`` for
one spin. Every method broadcasts over the trailing dimensions; a current or bias argument
broadcasts against ``m.shape[1:]``. Resistances in Ω, currents in A, voltages in V.

Geometry (design.md): Hall bar in the film plane with the current along +x, the Hall voltage
taken along y, z the film normal. Turning a current into a current density belongs to the
physics core, not here.

Hall bar (see :class:`HallBar`)::

    R_xx = R0 + ΔR_AMR m_x² + ΔR_SMR m_y²
    R_xy = R_xy0 + ΔR_A m_z + 2 ΔR_P m_x m_y

The transverse form is physics.md's harmonic-Hall convention: Hayashi's
R_xy = ΔR_A cos θ + ΔR_P sin²θ sin 2φ (perpendicular magnets) and Avci's
R_xy = R_A m_z + R_P sin 2φ_M (in-plane magnets) are the same expression, because
sin²θ sin 2φ = 2 m_x m_y. ``dr_ahe`` = ΔR_A = R_A and ``dr_phe`` = ΔR_P = R_P are *amplitudes*:
R_xy swings by 2·dr_ahe between m_z = −1 and +1, and by 2·dr_phe between φ = −45° and +45°.

Tunnel junction (see :class:`TunnelJunction`): conductance cosine law (Slonczewski, Jullière)
G = (G_P + G_AP)/2 + (G_P − G_AP)/2 · m·p, R = 1/G — not linear in resistance.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "HallBar",
    "TunnelJunction",
    "hall_resistances_scalar",
    "mtj_resistance_scalar",
]


def _as_m(m) -> np.ndarray:
    """Get m as a float array of shape (3, ...); raise ValueError otherwise."""
    arr = np.asarray(m, dtype=float)
    if arr.ndim == 0 or arr.shape[0] != 3:
        raise ValueError(f"magnetization must have shape (3, ...), got {arr.shape}")
    return arr


@dataclass(frozen=True)
class HallBar:
    """Hall-bar readout: longitudinal R_xx (AMR + SMR) and transverse R_xy (AHE + PHE).

    ``R_xx = r0 + dr_amr·m_x² + dr_smr·m_y²``, ``R_xy = r_xy0 + dr_ahe·m_z + 2·dr_phe·m_x·m_y``.

    Current along +x; the SMR term depends on m_y² because the spin polarization injected by a
    current along x is along y. dr_smr < 0 is the usual sign of SMR (R_xx lower with m along the
    spin polarization y than with m along the normal z). dr_amr takes either sign (the 5360
    reference below has dr_amr < 0).

    This R_xx is the convention of cmtj (``cmtj.utils.resistance.compute_resistance``:
    ``Rx0 + AMR·m_x² + SMR·m_y²``) and of the reference values in
    ``shared/realdata/README.md`` (Ta/CoFeB 5360: R_xx0 = 304.3 Ω, ΔR_SMR = −0.464 Ω,
    ΔR_AMR = −0.053 Ω), so those numbers go into ``r0``, ``dr_smr``, ``dr_amr`` unchanged. The
    transverse convention differs: cmtj writes ``Ry0 + ½·AHE·m_z + (w/l)(SMR − AMR)·m_x·m_y``,
    and the README's ΔR_AHE = −5.71 Ω is that full swing (the measured 1ω Hall loop spans
    5.70 Ω·I0), so ``dr_ahe = ΔR_AHE/2 ≈ −2.86 Ω`` here. :meth:`from_cmtj` does this mapping.

    Attributes (Ω): r0 (longitudinal base resistance), dr_amr, dr_smr, r_xy0 (transverse
    offset, e.g. contact misalignment), dr_ahe (anomalous-Hall amplitude ΔR_A), dr_phe
    (planar-Hall amplitude ΔR_P).
    """

    r0: float
    dr_amr: float = 0.0
    dr_smr: float = 0.0
    r_xy0: float = 0.0
    dr_ahe: float = 0.0
    dr_phe: float = 0.0

    @classmethod
    def from_cmtj(cls, rx0: float, ry0: float, amr: float, ahe: float, smr: float,
                  l: float, w: float) -> "HallBar":  # noqa: E741 (cmtj's name, a keyword)
        """Build from cmtj's per-layer parameters (Ω; bar length l and width w in m).

        Maps ``compute_resistance`` exactly: dr_ahe = ahe/2, dr_phe = (w/l)(smr − amr)/2.
        """
        return cls(r0=float(rx0), dr_amr=float(amr), dr_smr=float(smr), r_xy0=float(ry0),
                   dr_ahe=0.5 * float(ahe), dr_phe=0.5 * (w / l) * (float(smr) - float(amr)))

    def rxx(self, m) -> np.ndarray:
        """Get the longitudinal resistance R_xx (Ω), shape m.shape[1:]."""
        m = _as_m(m)
        return self.r0 + self.dr_amr * m[0] ** 2 + self.dr_smr * m[1] ** 2

    def rxy(self, m) -> np.ndarray:
        """Get the transverse (Hall) resistance R_xy (Ω), shape m.shape[1:]."""
        m = _as_m(m)
        return self.r_xy0 + self.dr_ahe * m[2] + 2.0 * self.dr_phe * m[0] * m[1]

    def drxx_dm(self, m) -> np.ndarray:
        """Get ∂R_xx/∂m (Ω), shape (3, ...) like m.

        Cartesian gradient of the formula; for a small change δm ⊥ m (|m| = 1 kept),
        δR_xx = ∂R_xx/∂m · δm, e.g. the mixing voltage V_mix = ½ I_rf (∂R/∂m)·Re δm.
        """
        m = _as_m(m)
        return np.stack(np.broadcast_arrays(2.0 * self.dr_amr * m[0], 2.0 * self.dr_smr * m[1],
                                            np.zeros_like(m[2])))

    def drxy_dm(self, m) -> np.ndarray:
        """Get ∂R_xy/∂m (Ω), shape (3, ...) like m (see :meth:`drxx_dm`)."""
        m = _as_m(m)
        return np.stack(np.broadcast_arrays(2.0 * self.dr_phe * m[1], 2.0 * self.dr_phe * m[0],
                                            np.full_like(m[2], self.dr_ahe)))

    def vxx(self, current, m) -> np.ndarray:
        """Get the longitudinal voltage V_xx = I·R_xx (V) for current I (A) along +x."""
        return np.asarray(current, dtype=float) * self.rxx(m)

    def vxy(self, current, m) -> np.ndarray:
        """Get the Hall voltage V_xy = I·R_xy (V) for current I (A) along +x."""
        return np.asarray(current, dtype=float) * self.rxy(m)

    def voltage(self, current, m) -> tuple[np.ndarray, np.ndarray]:
        """Get (V_xx, V_xy) in V for current I (A) along +x."""
        return self.vxx(current, m), self.vxy(current, m)

    def to_dict(self) -> dict[str, float]:
        """Get the parameters under design.md JSON keys (Ω)."""
        return {"r0_ohm": self.r0, "dr_amr_ohm": self.dr_amr, "dr_smr_ohm": self.dr_smr,
                "r_xy0_ohm": self.r_xy0, "dr_ahe_ohm": self.dr_ahe, "dr_phe_ohm": self.dr_phe}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "HallBar":
        """Build from :meth:`to_dict` keys; missing magnetoresistances default to 0."""
        return cls(r0=float(d["r0_ohm"]), dr_amr=float(d.get("dr_amr_ohm", 0.0)),
                   dr_smr=float(d.get("dr_smr_ohm", 0.0)), r_xy0=float(d.get("r_xy0_ohm", 0.0)),
                   dr_ahe=float(d.get("dr_ahe_ohm", 0.0)), dr_phe=float(d.get("dr_phe_ohm", 0.0)))


@dataclass(frozen=True)
class TunnelJunction:
    """MTJ pillar: free layer m, reference layer along the unit vector p.

    Conductance cosine law (Slonczewski 1989; Jullière), cos θ = m·p::

        G(θ) = (G_P + G_AP)/2 + (G_P − G_AP)/2 · cos θ,   R = 1/G,

    G_P = 1/r_p, G_AP = 1/r_ap, so R(m = p) = r_p, R(m = −p) = r_ap and
    R(90°) = 2/(G_P + G_AP) — the harmonic mean, below the resistance midpoint.

    Optional bias dependence (v_half in V; None = none): the TMR ratio falls as
    TMR(V) = TMR0 / (1 + (V/v_half)²), applied to the antiparallel state,
    R_AP(V) = r_p·(1 + TMR(V)); R_P is bias independent. V is the voltage across the junction.

    Attributes: r_p, r_ap (Ω, > 0), p (reference direction, normalised on construction;
    default +z, a perpendicular MTJ), v_half (V, > 0, or None).
    """

    r_p: float
    r_ap: float
    p: tuple[float, float, float] = (0.0, 0.0, 1.0)
    v_half: float | None = None
    _pv: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not (self.r_p > 0 and self.r_ap > 0):
            raise ValueError("r_p and r_ap must be positive")
        if self.v_half is not None and not self.v_half > 0:
            raise ValueError("v_half must be positive or None")
        pv = np.asarray(self.p, dtype=float).reshape(3)
        norm = float(np.linalg.norm(pv))
        if not norm > 0:
            raise ValueError("reference direction p must be non-zero")
        pv = pv / norm
        object.__setattr__(self, "p", tuple(float(c) for c in pv))
        object.__setattr__(self, "_pv", pv)

    @property
    def tmr_ratio(self) -> float:
        """Zero-bias TMR ratio (R_AP − R_P)/R_P (dimensionless)."""
        return (self.r_ap - self.r_p) / self.r_p

    def tmr(self, bias_V=0.0) -> np.ndarray:
        """Get the TMR ratio at junction bias V (V)."""
        v = np.asarray(bias_V, dtype=float)
        if self.v_half is None:
            return np.full_like(v, self.tmr_ratio)
        return self.tmr_ratio / (1.0 + (v / self.v_half) ** 2)

    def r_ap_at(self, bias_V=0.0) -> np.ndarray:
        """Get the antiparallel resistance R_AP(V) = r_p·(1 + TMR(V)) (Ω)."""
        return self.r_p * (1.0 + self.tmr(bias_V))

    def cos_theta(self, m) -> np.ndarray:
        """Get cos θ = m·p, shape m.shape[1:]."""
        m = _as_m(m)
        p = self._pv
        return p[0] * m[0] + p[1] * m[1] + p[2] * m[2]

    def _g_parts(self, bias_V):
        """Get (G_sum/2, G_diff/2) in S at bias V."""
        g_p = 1.0 / self.r_p
        g_ap = 1.0 / self.r_ap if self.v_half is None else 1.0 / self.r_ap_at(bias_V)
        return 0.5 * (g_p + g_ap), 0.5 * (g_p - g_ap)

    def conductance(self, m, bias_V=0.0) -> np.ndarray:
        """Get G(m) = (G_P + G_AP)/2 + (G_P − G_AP)/2·m·p (S) at junction bias V (V)."""
        gs, gd = self._g_parts(bias_V)
        return gs + gd * self.cos_theta(m)

    def resistance(self, m, bias_V=0.0) -> np.ndarray:
        """Get R(m) = 1/G(m) (Ω) at junction bias V (V), shape m.shape[1:] (with bias broadcast)."""
        return 1.0 / self.conductance(m, bias_V)

    def dresistance_dm(self, m, bias_V=0.0) -> np.ndarray:
        """Get ∂R/∂m = −(G_P − G_AP)/2 · p / G² (Ω), shape (3, ...) like m, at fixed bias V.

        Cartesian gradient; for δm ⊥ m, δR = ∂R/∂m · δm.
        """
        gs, gd = self._g_parts(bias_V)
        g = gs + gd * self.cos_theta(m)
        s = -gd / g ** 2
        p = self._pv
        return np.stack([p[0] * s, p[1] * s, p[2] * s])

    def current(self, voltage, m) -> np.ndarray:
        """Get I = V·G(m, V) (A) for a junction voltage V (V)."""
        v = np.asarray(voltage, dtype=float)
        return v * self.conductance(m, v)

    def voltage(self, current, m) -> np.ndarray:
        """Get the junction voltage V (V) for a current I (A): V = I·R(m, V).

        Without bias dependence this is I·R(m). With v_half set, the self-consistent V is
        solved (safeguarded Newton; I = V·G(V) is monotonic in V and V lies between
        |I|·r_p and |I|·R(m, 0)) to relative precision ~1e-14, typically in ≤ 8 steps.
        """
        cur = np.asarray(current, dtype=float)
        if self.v_half is None:
            return cur * self.resistance(m)
        c = self.cos_theta(m)
        cur, c = np.broadcast_arrays(cur, c)
        a = np.abs(cur)
        r0 = 1.0 / (0.5 * (1.0 / self.r_p + 1.0 / self.r_ap)
                    + 0.5 * (1.0 / self.r_p - 1.0 / self.r_ap) * c)
        lo = a * np.minimum(self.r_p, r0)
        hi = a * np.maximum(self.r_p, r0)
        v = a * r0  # the zero-bias solution: exact in the small-bias limit
        t0, vh, g_p = self.tmr_ratio, self.v_half, 1.0 / self.r_p
        for _ in range(200):
            u2 = (v / vh) ** 2
            t = t0 / (1.0 + u2)
            g_ap = g_p / (1.0 + t)
            g = 0.5 * (g_p + g_ap) + 0.5 * (g_p - g_ap) * c
            f = v * g - a
            # dG/dV = (1 − c)/2 · dG_AP/dV, dG_AP/dV = −g_p/(1+t)² · dt/dV,
            # dt/dV = −2 t0 V/(vh²(1+u²)²)
            dt_dv = -2.0 * t0 * v / (vh ** 2 * (1.0 + u2) ** 2)
            dg_dv = 0.5 * (1.0 - c) * (-g_p / (1.0 + t) ** 2) * dt_dv
            df = g + v * dg_dv
            hi = np.where(f > 0, v, hi)
            lo = np.where(f <= 0, v, lo)
            with np.errstate(divide="ignore", invalid="ignore"):
                v_new = v - f / df
            # bisect when Newton leaves the bracket; a round-off excursion is clipped instead
            slack = 1e-12 * hi
            bad = ~np.isfinite(v_new) | (v_new < lo - slack) | (v_new > hi + slack)
            v_new = np.where(bad, 0.5 * (lo + hi), np.clip(v_new, lo, hi))
            done = np.all((np.abs(v_new - v) <= 1e-14 * np.abs(v_new)) | (np.abs(f) <= 1e-15 * a))
            v = v_new
            if done:
                break
        return np.sign(cur) * v

    def to_dict(self) -> dict[str, Any]:
        """Get the parameters under design.md JSON keys (Ω, V); tmr_ratio at zero bias."""
        d: dict[str, Any] = {"r_p_ohm": self.r_p, "r_ap_ohm": self.r_ap,
                             "tmr_ratio": self.tmr_ratio, "p_ref": list(self.p)}
        if self.v_half is not None:
            d["v_half_V"] = self.v_half
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TunnelJunction":
        """Build from :meth:`to_dict` keys (tmr_ratio is derived and ignored)."""
        v_half = d.get("v_half_V")
        return cls(r_p=float(d["r_p_ohm"]), r_ap=float(d["r_ap_ohm"]),
                   p=tuple(d.get("p_ref", (0.0, 0.0, 1.0))),
                   v_half=None if v_half is None else float(v_half))


@njit(inline="always", error_model="numpy")
def hall_resistances_scalar(mx, my, mz, r0, dr_amr, dr_smr, r_xy0, dr_ahe, dr_phe):
    """Get (R_xx, R_xy) in Ω for one spin; numba-callable twin of :class:`HallBar`."""
    return (r0 + dr_amr * mx * mx + dr_smr * my * my,
            r_xy0 + dr_ahe * mz + 2.0 * dr_phe * mx * my)


@njit(inline="always", error_model="numpy")
def mtj_resistance_scalar(cos_theta, r_p, r_ap):
    """Get R (Ω) for cos θ = m·p by the conductance cosine law; numba twin of
    :meth:`TunnelJunction.resistance` without bias dependence."""
    g_p = 1.0 / r_p
    g_ap = 1.0 / r_ap
    return 1.0 / (0.5 * (g_p + g_ap) + 0.5 * (g_p - g_ap) * cos_theta)

