"""Quasi-static and small-signal solutions of the same LLG the integrators solve.

- :func:`equilibrium`: states with dm/dt = 0 with fields and dc currents on (torque balance,
  damping-like torques included), reached from a starting state by deterministic relaxation
  and polished by Newton's method in the tangent plane; stability from the Jacobian.
- :func:`linear_response`: the complex δm per unit rf field or rf current about such a state,
  for the convention drive(t) = Re[u e^{iωt}], δm(t) = Re[χ u e^{iωt}].
Fields in A/m, currents in A, frequencies in Hz. Vectorized over N states.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labspin.physics.constants import MU0
from labspin.physics.macrospin.ensemble import Ensemble, _per_spin
from labspin.physics.macrospin.kernel import rhs_array
from labspin.physics.macrospin.system import Macrospin


@dataclass
class Equilibrium:
    """m (3, N) unit vectors; stable (N,) whether every Jacobian eigenvalue has Re < 0;
    converged (N,) whether the residual |dm/dt|/(γ0·H_scale) fell below the tolerance;
    eigenvalues (2, N) of the tangent-plane Jacobian (1/s)."""
    m: np.ndarray
    stable: np.ndarray
    converged: np.ndarray
    eigenvalues: np.ndarray


def _tangent_basis(m):
    """Get two unit vectors (3, N) each, orthogonal to m and to each other."""
    ref = np.where(np.abs(m[2]) < 0.9, 0.0, 1.0)
    r = np.stack([ref, np.zeros_like(ref), 1.0 - ref])
    e1 = np.cross(m, r, axis=0)
    e1 /= np.linalg.norm(e1, axis=0)
    e2 = np.cross(m, e1, axis=0)
    return e1, e2


def _field_scale(system: Macrospin, h, cur):
    """Get a field scale (A/m, per state) for step sizes and tolerances."""
    sysv = system.folded()
    d = np.abs(np.asarray(sysv[2:8])).max()
    pq = np.abs(np.asarray(sysv[8:17])).max()
    return np.linalg.norm(h, axis=0) + d + np.abs(cur) * pq + 1.0


def _jacobian(system, m, h, cur, eps=1e-6):
    """Get the tangent-plane Jacobian (2, 2, N) of dm/dt at m, and the basis (e1, e2)."""
    sysv = system.folded()
    e1, e2 = _tangent_basis(m)
    jac = np.empty((2, 2) + m.shape[1:])
    for k, e in enumerate((e1, e2)):
        fp = rhs_array(_norm(m + eps * e), h, cur, sysv)
        fm = rhs_array(_norm(m - eps * e), h, cur, sysv)
        df = (fp - fm) / (2 * eps)
        jac[0, k] = (df * e1).sum(0)
        jac[1, k] = (df * e2).sum(0)
    return jac, e1, e2


def _norm(m):
    return m / np.linalg.norm(m, axis=0)


def equilibrium(system: Macrospin, h_ext_Apm=(0.0, 0.0, 0.0), current_A=0.0,
                m0=(0.0, 0.0, 1.0), n: int | None = None, tol: float = 1e-10,
                max_relax_periods: float = 2e5, kicks: int = 3) -> Equilibrium:
    """Find the state each member relaxes to from m0 with the fields and currents on (T = 0).

    Relaxes with RK4 (dt = 0.2/(γ0·H_scale)) until the residual is below 1e-4 or
    ``max_relax_periods`` precession periods have passed, then Newton-polishes to ``tol``;
    members that landed on an unstable fixed point are kicked off and relaxed again
    (``kicks`` times). ``max_relax_periods=0``: polish m0 only (find the nearby fixed point).
    Members that end on a limit cycle (auto-oscillation) are reported as not converged.
    """
    ens = Ensemble(system, n, h_ext_Apm=h_ext_Apm, current_A=current_A, m0=m0,
                   temperature_K=0.0)
    h, cur, sysv = ens.h_ext, ens.current, system.folded()
    gamma = system.magnet.gamma
    scale = _field_scale(system, h, cur)
    dt = 0.2 / (gamma * scale.max())
    period_steps = int(np.ceil(2 * np.pi / (gamma * scale.min() * dt)))
    chunk = max(200, 20 * period_steps)

    def residual(m):
        return np.linalg.norm(rhs_array(m, h, cur, sysv), axis=0) / (gamma * scale)

    def relax():
        steps = 0
        while residual(ens.m).max() > 1e-4 and steps < max_relax_periods * period_steps:
            ens.run(n_steps=chunk, dt_s=dt)
            steps += chunk

    def polish(m):
        for _ in range(30):
            if residual(m).max() < tol:
                break
            jac, e1, e2 = _jacobian(system, m, h, cur)
            f = rhs_array(m, h, cur, sysv)
            r = np.stack([(f * e1).sum(0), (f * e2).sum(0)])
            det = jac[0, 0] * jac[1, 1] - jac[0, 1] * jac[1, 0]
            da = -(jac[1, 1] * r[0] - jac[0, 1] * r[1]) / det
            db = -(-jac[1, 0] * r[0] + jac[0, 0] * r[1]) / det
            size = np.sqrt(da ** 2 + db ** 2)
            lim = np.minimum(1.0, 0.2 / np.maximum(size, 1e-300))  # damp large Newton steps
            m = _norm(m + lim * (da * e1 + db * e2))
        return m

    relax()
    m = polish(ens.m.copy())
    # relaxation also stops on unstable fixed points (the torque vanishes there too): kick
    # those members off by 1e-3 rad and relax again, a few times
    kick = np.random.default_rng(0)
    for _ in range(kicks if max_relax_periods > 0 else 0):
        jac, _, _ = _jacobian(system, m, h, cur)
        unstable = (jac[0, 0] + jac[1, 1] > 0) | (jac[0, 0] * jac[1, 1] - jac[0, 1] * jac[1, 0] < 0)
        if not unstable.any():
            break
        ens.m[:] = np.where(unstable, _norm(m + 1e-3 * kick.normal(size=m.shape)), m)
        relax()
        m = np.where(unstable, polish(ens.m.copy()), m)
    jac, _, _ = _jacobian(system, m, h, cur)
    tr = jac[0, 0] + jac[1, 1]
    det = jac[0, 0] * jac[1, 1] - jac[0, 1] * jac[1, 0]
    disc = np.sqrt((tr / 2) ** 2 - det + 0j)
    eig = np.stack([tr / 2 + disc, tr / 2 - disc])
    converged = residual(m) < max(tol, 1e-8)
    return Equilibrium(m, np.all(eig.real < 0, axis=0) & converged, converged, eig)


def linear_response(system: Macrospin, m_eq, frequency_Hz, h_ext_Apm=(0.0, 0.0, 0.0),
                    current_A=0.0, drive: str = "field", direction=(1.0, 0.0, 0.0),
                    eps: float = 1e-3):
    """Get χ (3, N) complex: δm per unit drive at each frequency (per A/m or per A).

    drive "field": an rf field along ``direction`` (A/m); "current": an rf current (A) that
    carries the system's spin torques and Oersted field. m_eq (3, N) must be an
    equilibrium of the static fields and dc currents given. frequency_Hz scalar or (N,).
    """
    m = np.asarray(m_eq, float).reshape(3, -1)
    n = m.shape[1]
    h = _per_spin(h_ext_Apm, n, (3,), "h_ext_Apm")
    cur = _per_spin(current_A, n, (), "current_A")
    sysv = system.folded()
    jac, e1, e2 = _jacobian(system, m, h, cur)
    if drive == "field":
        d = np.asarray(direction, float)
        d = d / np.linalg.norm(d)
        scale = _field_scale(system, h, cur) * eps
        du = (rhs_array(m, h + scale * d[:, None], cur, sysv)
              - rhs_array(m, h - scale * d[:, None], cur, sysv)) / (2 * scale)
    elif drive == "current":
        di = eps * np.maximum(np.abs(cur), 1e-3)
        du = (rhs_array(m, h, cur + di, sysv) - rhs_array(m, h, cur - di, sysv)) / (2 * di)
    else:
        raise ValueError(f"drive must be 'field' or 'current', got {drive!r}")
    b = np.stack([(du * e1).sum(0), (du * e2).sum(0)])
    w = 2j * np.pi * np.broadcast_to(np.asarray(frequency_Hz, float), (n,))
    # (iω − J) x = b, solved per member (2×2)
    a11, a12, a21, a22 = w - jac[0, 0], -jac[0, 1], -jac[1, 0], w - jac[1, 1]
    det = a11 * a22 - a12 * a21
    xa = (a22 * b[0] - a12 * b[1]) / det
    xb = (-a21 * b[0] + a11 * b[1]) / det
    return xa * e1 + xb * e2


def absorbed_power_W(system: Macrospin, m_eq, frequency_Hz, h_rf_Apm: float, direction,
                     h_ext_Apm=(0.0, 0.0, 0.0), current_A=0.0):
    """Get the power (W, time average) an rf field h_rf·cos ωt along ``direction`` (a unit
    vector, normalised here; amplitude ``h_rf_Apm`` in A/m) puts into the magnet at its
    equilibrium m_eq (3, N): P = ½·μ0·M_s·V·ω·h_rf²·χ''_dd, χ''_dd = −Im(d·χ) with χ the
    :func:`linear_response` to a field along d (δm per A/m; the e^{iωt} convention makes the
    absorptive part −Im). Linear response: h_rf ≪ the linewidth. Shape (N,)."""
    d = np.asarray(direction, float)
    d = d / np.linalg.norm(d)
    chi = linear_response(system, m_eq, frequency_Hz, h_ext_Apm, current_A, drive="field",
                          direction=d)
    chi_dd = np.einsum("i,in->n", d, chi)
    mag = system.magnet
    omega = 2 * np.pi * np.asarray(frequency_Hz, float)
    return 0.5 * MU0 * mag.ms_A_per_m * mag.volume * omega * h_rf_Apm ** 2 * -np.imag(chi_dd)
