"""Maps of where a magnet's states are stable over a grid of fields and currents.

One ensemble call integrates every grid point (and its repeats) at once: at T > 0 the
time-averaged ⟨m⟩ per point; at T = 0 the attractor reached from a chosen starting state.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labspin.physics.macrospin.ensemble import Ensemble
from labspin.physics.macrospin.system import Macrospin


@dataclass
class PhaseMap:
    """fields_Apm (n_h,), currents_A (n_i,) the grid; field_direction the unit vector of H;
    mean_m (3, n_h, n_i) time- and member-averaged m; mean_m_err (3, n_h, n_i) its standard
    error from the spread between independent members; final_m (3, n_h, n_i, repeats)."""
    fields_Apm: np.ndarray
    currents_A: np.ndarray
    field_direction: np.ndarray
    mean_m: np.ndarray
    mean_m_err: np.ndarray
    final_m: np.ndarray

    @property
    def m_dot_h(self) -> np.ndarray:
        """Get ⟨m·Ĥ⟩ (n_h, n_i)."""
        return np.tensordot(self.field_direction, self.mean_m, axes=1)

    @property
    def m_dot_h_err(self) -> np.ndarray:
        """Get the standard error of ⟨m·Ĥ⟩ (n_h, n_i)."""
        return np.sqrt(np.tensordot(self.field_direction ** 2, self.mean_m_err ** 2, axes=1))


def phase_map(system: Macrospin, fields_Apm, currents_A, field_direction=(0.0, 0.0, 1.0), *,
              m0=None, repeats: int = 8, duration_s: float = 50e-9, dt_s: float = 1e-12,
              average_from_s: float | None = None, temperature_K: float | None = None,
              seed: int = 0) -> PhaseMap:
    """Integrate every (field, current) grid point ``repeats`` times and average.

    m0 defaults to the field direction (start aligned); average_from_s defaults to a fifth
    of the run. Members are independent, so the standard error of each point's mean is the
    spread of the member time-averages over √repeats.
    """
    fields = np.atleast_1d(np.asarray(fields_Apm, float))
    currents = np.atleast_1d(np.asarray(currents_A, float))
    if repeats < 2:
        raise ValueError("repeats must be ≥ 2 to estimate an error")
    u = np.asarray(field_direction, float)
    u = u / np.linalg.norm(u)
    hh, ii, _ = np.meshgrid(fields, currents, np.arange(repeats), indexing="ij")
    h = u[:, None] * hh.ravel()[None, :]
    start = u if m0 is None else np.asarray(m0, float)
    ens = Ensemble(system, h_ext_Apm=h, current_A=ii.ravel(), m0=start,
                   temperature_K=temperature_K, seed=seed)
    avg = duration_s / 5 if average_from_s is None else average_from_s
    run = ens.run(duration_s, dt_s, average_from_s=avg)
    shape = (3, fields.size, currents.size, repeats)
    means = run.mean_m.reshape(shape)
    return PhaseMap(fields, currents, u, means.mean(-1),
                    means.std(-1, ddof=1) / np.sqrt(repeats), ens.m.reshape(shape))
