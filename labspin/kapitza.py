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

from .constants import MU0
from .macrospin.analytic import kapitza_xi_eff, langevin
from .macrospin.phase_map import PhaseMap, phase_map
from .macrospin.system import Macrospin


def kapitza_sample(temperature_K: float = 300.0) -> Macrospin:
    """Make the illustrative isotropic CoFeB nanomagnet on W (built-in sample
    ``kapitza_cofeb_w``): σ = −ẑ, so a field along +ẑ puts σ along −Ĥ.

    Ms = 1.0 MA/m, 1.5 nm × 60 nm × 60 nm (V = 5.4e-24 m³), isotropic demag, α = 0.1,
    ξ_DL = 0.3 in 5 nm of W under the 60 nm wide magnet.
    """
    from .sim_backend.samples import load_sample
    return load_sample("kapitza_cofeb_w", [f"temperature_K={temperature_K}"]).system


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


def kapitza_map(system: Macrospin | None = None, fields_T=None, currents_A=None, *,
                repeats: int = 6, duration_s: float = 400e-9, dt_s: float = 5e-12,
                seed: int = 0) -> KapitzaMap:
    """Map ⟨m·Ĥ⟩ over a field × current grid (field along +z, σ along −z) at the magnet's T."""
    system = kapitza_sample() if system is None else system
    mg = system.magnet
    hdl = system.h_dl_per_A(direction=(0.0, 0.0, -1.0))
    fields_T = np.linspace(4e-3, 16e-3, 4) if fields_T is None else np.asarray(fields_T)
    h = fields_T / MU0
    if currents_A is None:
        currents_A = np.linspace(0.0, 2.0 * mg.alpha * h.max() / hdl, 21)
    currents_A = np.asarray(currents_A, float)
    pm = phase_map(system, h, currents_A, (0.0, 0.0, 1.0), repeats=repeats,
                   duration_s=duration_s, dt_s=dt_s, seed=seed)
    xi = kapitza_xi_eff(mg.ms_A_per_m, mg.volume, h[:, None], hdl * currents_A[None, :],
                        mg.alpha, mg.temperature_K)
    return KapitzaMap(pm, fields_T, currents_A, pm.m_dot_h, pm.m_dot_h_err, langevin(xi),
                      mg.alpha * h / hdl)


def plot_kapitza_map(result: KapitzaMap, path) -> None:
    """Save the map (image of ⟨m·Ĥ⟩, the line H_DL = αH) and cuts against L(ξ_eff) as PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(11, 4.2))
    i_mA = result.currents_A * 1e3
    b_mT = result.fields_T * 1e3
    im = ax0.pcolormesh(i_mA, b_mT, result.m_dot_h, cmap="RdBu", vmin=-1, vmax=1,
                        shading="nearest")
    ax0.plot(result.critical_current_A * 1e3, b_mT, "k--", label="H_DL = αH")
    ax0.set_xlabel("current (mA)")
    ax0.set_ylabel("μ0H (mT)")
    ax0.set_title("⟨m·Ĥ⟩, stochastic LLG")
    ax0.legend(loc="lower right")
    fig.colorbar(im, ax=ax0)
    for k, b in enumerate(b_mT):
        line = ax1.errorbar(i_mA, result.m_dot_h[k], result.m_dot_h_err[k], fmt="o", ms=3)
        ax1.plot(i_mA, result.theory[k], "-", color=line[0].get_color(), label=f"{b:.0f} mT")
    ax1.set_xlabel("current (mA)")
    ax1.set_ylabel("⟨m·Ĥ⟩")
    ax1.set_title("points: simulation, lines: L(ξ_eff)")
    ax1.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
