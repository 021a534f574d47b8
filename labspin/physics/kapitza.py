"""The spintronic Kapitza pendulum (Kurebayashi et al., Nature Materials 2026,
arXiv:2601.08738): a nearly isotropic magnet whose state anti-aligned with the field becomes
the attractor when the damping-like torque exceeds H_DL = αH (physics.md check 7).

:func:`kapitza_sample` gives the built-in simulated sample ``kapitza_cofeb_w``, an illustrative
MgO|CoFeB|W nanomagnet (values chosen so that the thermal band |H − H_DL/α| ≲ k_BT/(μ0 Ms V)
is visible on a 0–20 mT grid; they are not the paper's fitted values). :func:`kapitza_map` maps
⟨m·Ĥ⟩ over current and field and compares it with L(ξ_eff); :func:`plot_kapitza_map` draws it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labspin.physics.constants import MU0
from labspin.physics.macrospin.analytic import kapitza_xi_eff, langevin
from labspin.physics.macrospin.chunks import solve
from labspin.physics.macrospin.phase_map import PhaseMap, PhaseMapProblem
from labspin.physics.macrospin.system import Macrospin


@dataclass
class KapitzaMap:
    """The simulated map with the analytic prediction: m_dot_h and theory (n_h, n_i)."""
    map: PhaseMap
    fields_T: np.ndarray
    currents_A: np.ndarray
    m_dot_h: np.ndarray
    m_dot_h_err: np.ndarray
    theory: np.ndarray
    critical_current_A: np.ndarray

    def max_deviation_sigma(self) -> float:
        """Get max |simulated − L(ξ_eff)| in units of each point's standard error."""
        return float(np.max(np.abs(self.m_dot_h - self.theory) / self.m_dot_h_err))


def kapitza_problem(system: Macrospin, fields_T=None, currents_A=None, *,
                    repeats: int = 6, duration_s: float = 400e-9, dt_s: float = 5e-12,
                    seed: int = 0, chunk: int | None = None) -> PhaseMapProblem:
    """Get the map of :func:`kapitza_map` as a chunked problem (field along +z, σ along −z;
    currents default to 0 … 2αH_max/H_DL per A, 21 points)."""
    hdl = system.h_dl_per_A(direction=(0.0, 0.0, -1.0))
    fields_T = np.linspace(4e-3, 16e-3, 4) if fields_T is None else np.asarray(fields_T)
    h = np.asarray(fields_T, float) / MU0
    if currents_A is None:
        currents_A = np.linspace(0.0, 2.0 * system.magnet.alpha * h.max() / hdl, 21)
    return PhaseMapProblem(system, h, currents_A, (0.0, 0.0, 1.0), repeats=repeats,
                           duration_s=duration_s, dt_s=dt_s, seed=seed, chunk=chunk)


def kapitza_result(system: Macrospin, pm: PhaseMap) -> KapitzaMap:
    """Get the :class:`KapitzaMap` of a solved :func:`kapitza_problem` (adds L(ξ_eff))."""
    mg = system.magnet
    hdl = system.h_dl_per_A(direction=(0.0, 0.0, -1.0))
    h, currents_A = pm.fields_Apm, pm.currents_A
    xi = kapitza_xi_eff(mg.ms_A_per_m, mg.volume, h[:, None], hdl * currents_A[None, :],
                        mg.alpha, mg.temperature_K)
    return KapitzaMap(pm, h * MU0, currents_A, pm.m_dot_h, pm.m_dot_h_err, langevin(xi),
                      mg.alpha * h / hdl)


def kapitza_map(system: Macrospin, fields_T=None, currents_A=None, *,
                repeats: int = 6, duration_s: float = 400e-9, dt_s: float = 5e-12,
                seed: int = 0) -> KapitzaMap:
    """Map ⟨m·Ĥ⟩ over a field × current grid (field along +z, σ along −z) at the magnet's T."""
    problem = kapitza_problem(system, fields_T, currents_A, repeats=repeats,
                              duration_s=duration_s, dt_s=dt_s, seed=seed)
    return kapitza_result(system, solve(problem))
