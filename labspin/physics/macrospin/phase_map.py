"""Maps of where a magnet's states are stable over a grid of fields and currents.

One ensemble call integrates every grid point (and its repeats) at once: at T > 0 the
time-averaged ⟨m⟩ per point; at T = 0 the attractor reached from a chosen starting state.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from labspin.physics.macrospin.chunks import balanced_chunk, member_ranges, solve
from labspin.physics.macrospin.ensemble import Ensemble
from labspin.physics.macrospin.rng import MAX_MEMBERS
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


@dataclass(frozen=True)
class PhaseMapProblem:
    """A phase map as a chunked problem (:mod:`.chunks`): members are the flattened
    (field, current, repeat) grid, ``chunk`` members per task, one stream for all.

    The arguments are :func:`phase_map`'s; ``average_from_s`` is resolved (a fifth of the run
    when None)."""
    system: Macrospin
    fields_Apm: tuple[float, ...]
    currents_A: tuple[float, ...]
    field_direction: tuple[float, float, float] = (0.0, 0.0, 1.0)
    m0: tuple[float, float, float] | None = None
    repeats: int = 8
    duration_s: float = 50e-9
    dt_s: float = 1e-12
    average_from_s: float | None = None
    temperature_K: float | None = None
    seed: int = 0
    chunk: int | None = None

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "fields_Apm", tuple(float(v) for v in np.atleast_1d(self.fields_Apm)))
        set_(self, "currents_A", tuple(float(v) for v in np.atleast_1d(self.currents_A)))
        if self.repeats < 2:
            raise ValueError("repeats must be ≥ 2 to estimate an error")
        if self.n_members > MAX_MEMBERS:
            raise ValueError(f"a phase map holds at most {MAX_MEMBERS} members (fields × "
                             f"currents × repeats), got {self.n_members}")
        u = np.asarray(self.field_direction, float)
        set_(self, "field_direction", tuple(float(v) for v in u / np.linalg.norm(u)))
        if self.average_from_s is None:
            set_(self, "average_from_s", self.duration_s / 5)

    @property
    def n_members(self) -> int:
        return len(self.fields_Apm) * len(self.currents_A) * int(self.repeats)

    def tasks(self) -> list[tuple[int, int]]:
        """Get (lo, hi) member ranges; one task holding every member when chunk is None."""
        return [(lo, hi) for _, lo, hi in member_ranges(self.n_members,
                                                        self.chunk or self.n_members)]

    def balanced(self, slots: int) -> "PhaseMapProblem":
        """Get the problem with its members cut into a multiple of ``slots`` tasks of at
        most ``chunk`` members (:func:`~.chunks.balanced_chunk`)."""
        most = self.chunk or self.n_members
        return replace(self, chunk=balanced_chunk(self.n_members, slots, most))

    def cost(self, task) -> float:
        return float((task[1] - task[0]) * round(self.duration_s / self.dt_s))

    def describe(self, task) -> str:
        lo, hi = task
        nr, ni = int(self.repeats), len(self.currents_A)
        first, last = divmod(lo // nr, ni), divmod((hi - 1) // nr, ni)
        return (f"members {lo}..{hi - 1}: field {self.fields_Apm[first[0]]:.6g} A/m, current "
                f"{self.currents_A[first[1]]:.6g} A to field {self.fields_Apm[last[0]]:.6g} "
                f"A/m, current {self.currents_A[last[1]]:.6g} A (seed {self.seed})")

    def run_task(self, task) -> tuple[np.ndarray, np.ndarray]:
        """Get (member time averages (3, k), final m (3, k)) of members [lo, hi)."""
        lo, hi = task
        hh, ii, _ = np.meshgrid(self.fields_Apm, self.currents_A, np.arange(self.repeats),
                                indexing="ij")
        u = np.asarray(self.field_direction)
        h = u[:, None] * hh.ravel()[None, lo:hi]
        start = u if self.m0 is None else np.asarray(self.m0, float)
        ens = Ensemble(self.system, h_ext_Apm=h, current_A=ii.ravel()[lo:hi], m0=start,
                       temperature_K=self.temperature_K, seed=self.seed, member0=lo)
        run = ens.run(self.duration_s, self.dt_s, average_from_s=self.average_from_s)
        return run.mean_m, ens.m

    def reduce(self, tasks, partials) -> PhaseMap:
        means = np.concatenate([p[0] for p in partials], axis=1)
        final = np.concatenate([p[1] for p in partials], axis=1)
        shape = (3, len(self.fields_Apm), len(self.currents_A), int(self.repeats))
        means = means.reshape(shape)
        return PhaseMap(np.array(self.fields_Apm), np.array(self.currents_A),
                        np.array(self.field_direction), means.mean(-1),
                        means.std(-1, ddof=1) / np.sqrt(self.repeats), final.reshape(shape))


def phase_map(system: Macrospin, fields_Apm, currents_A, field_direction=(0.0, 0.0, 1.0), *,
              m0=None, repeats: int = 8, duration_s: float = 50e-9, dt_s: float = 1e-12,
              average_from_s: float | None = None, temperature_K: float | None = None,
              seed: int = 0) -> PhaseMap:
    """Integrate every (field, current) grid point ``repeats`` times and average.

    m0 defaults to the field direction (start aligned); average_from_s defaults to a fifth
    of the run. Members are independent, so the standard error of each point's mean is the
    spread of the member time-averages over √repeats. One ensemble call in this process;
    :class:`PhaseMapProblem` is the same map in chunks for other executors.
    """
    return solve(PhaseMapProblem(system, fields_Apm, currents_A, field_direction,
                                 None if m0 is None else tuple(np.asarray(m0, float)),
                                 repeats, duration_s, dt_s, average_from_s, temperature_K,
                                 seed))
