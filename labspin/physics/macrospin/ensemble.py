"""Run N independent macrospins in one call, each with its own static field and dc current.

>>> ens = Ensemble(system, n=100, h_ext_Apm=h, current_A=i, seed=1)
>>> run = ens.run(duration_s=10e-9, dt_s=1e-12, average_from_s=2e-9)
>>> run.mean_m            # (3, N) time average after 2 ns

The ensemble keeps its state (m, time, random-number counter) between runs, so a run split
into pieces gives the same numbers as one long run with the same seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from labspin.physics.macrospin import kernel
from labspin.physics.macrospin.rng import MAX_MEMBERS, member_key
from labspin.physics.macrospin.system import Macrospin, Wave
from labspin.physics.work_items import item_length


@dataclass
class Run:
    """What one :meth:`Ensemble.run` returns.

    times_s (n_rec,) and m (n_rec, 3, N) when recording; mean_m (3, N) and
    mean_mm (3, 3, N) the time averages of m and m⊗m when averaging; n_averaged the number
    of steps averaged.
    """
    times_s: np.ndarray | None
    m: np.ndarray | None
    mean_m: np.ndarray | None
    mean_mm: np.ndarray | None
    n_averaged: int


def _per_spin(value, n: int, shape_one: tuple, name: str) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    if a.shape == shape_one:
        a = np.broadcast_to(a.reshape(shape_one + (1,)) if shape_one else a, shape_one + (n,))
    if a.shape != shape_one + (n,):
        raise ValueError(f"{name} must have shape {shape_one} or {shape_one + (n,)}, "
                         f"got {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return np.ascontiguousarray(a, dtype=np.float64)


class Ensemble:
    """N independent macrospins sharing one :class:`Macrospin` and its time-dependent drives.

    h_ext_Apm: static field (A/m), shape (3,) or (3, N); current_A: dc current (A), scalar or
    (N,); m0: initial unit vectors, (3,) or (3, N); waves: time-dependent drives shared by all
    members; temperature_K overrides the magnet's; seed: random stream (same seed → same
    numbers, whatever the thread count); member0: the global index of the first member in
    that stream, so that members [a, b) of a large ensemble run as a piece of their own (on
    another process or machine) draw exactly the numbers they draw in the whole;
    device: "cpu", "gpu" (:mod:`.gpu`, needs numba-cuda and a CUDA device) or "auto" (the GPU
    from GPU_AUTO_MEMBERS members when one is present).
    """

    def __init__(self, system: Macrospin, n: int | None = None, *, h_ext_Apm=(0.0, 0.0, 0.0),
                 current_A=0.0, m0=(0.0, 0.0, 1.0), waves: tuple[Wave, ...] = (),
                 temperature_K: float | None = None, seed: int = 0, member0: int = 0,
                 device: str = "auto"):
        if n is None:
            shapes = [np.shape(h_ext_Apm)[1:], np.shape(current_A), np.shape(m0)[1:]]
            sizes = {s[0] for s in shapes if s}
            if len(sizes) > 1:
                raise ValueError(f"per-spin arrays disagree on N: {sorted(sizes)}")
            n = sizes.pop() if sizes else 1
        if n < 1:
            raise ValueError(f"n must be ≥ 1, got {n}")
        self.system = system
        self.n = int(n)
        self.h_ext = _per_spin(h_ext_Apm, self.n, (3,), "h_ext_Apm")
        self.current = _per_spin(current_A, self.n, (), "current_A")
        m = _per_spin(m0, self.n, (3,), "m0").copy()
        norm = np.linalg.norm(m, axis=0)
        if np.any(norm == 0):
            raise ValueError("m0 must be non-zero")
        self.m = np.ascontiguousarray(m / norm)
        self.waves = tuple(waves)
        self._wave_table = np.array([w.row() for w in self.waves],
                                    dtype=np.float64).reshape(-1, kernel.N_WCOLS)
        self.temperature_K = (system.magnet.temperature_K if temperature_K is None
                              else float(temperature_K))
        if self.temperature_K < 0:
            raise ValueError(f"temperature_K must be ≥ 0, got {self.temperature_K}")
        self.seed = int(seed)
        self.member0 = int(member0)
        if not (0 <= self.member0 and self.member0 + self.n <= MAX_MEMBERS):
            raise ValueError(f"members [{self.member0}, {self.member0 + self.n}) lie outside "
                             f"one stream's [0, {MAX_MEMBERS}); split them over seeds")
        self._key = member_key(seed, self.member0)
        if device not in ("auto", "cpu", "gpu"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'gpu', got {device!r}")
        self.device = self._pick_device(device)
        self._sys = system.folded()
        self.time_s = 0.0
        self.steps_done = 0

    GPU_AUTO_MEMBERS = 100_000
    """Members from which device="auto" runs on a CUDA device when one is present."""

    def _pick_device(self, device: str) -> str:
        if device == "cpu" or (device == "auto" and self.n < self.GPU_AUTO_MEMBERS):
            return "cpu"
        from labspin.physics.macrospin import gpu
        if gpu.available():
            return "gpu"
        if device == "gpu":
            raise ValueError("device='gpu' needs numba-cuda (pip install 'labspin[gpu]') and "
                             "a CUDA device; none found")
        return "cpu"

    @property
    def stochastic(self) -> bool:
        """Whether runs use stochastic Heun (T > 0) rather than RK4 (T = 0)."""
        return self.temperature_K > 0.0

    def run(self, duration_s: float | None = None, dt_s: float = 1e-12, *,
            n_steps: int | None = None, record_every: int = 0,
            average_from_s: float | None = None) -> Run:
        """Advance by ``duration_s`` (or ``n_steps``) in steps of ``dt_s`` (s).

        record_every: keep m after every k-th step (0: keep nothing);
        average_from_s: accumulate ⟨m⟩ and ⟨m⊗m⟩ from this time (s) after the run's start.
        """
        if not (dt_s > 0 and np.isfinite(dt_s)):
            raise ValueError(f"dt_s must be > 0, got {dt_s}")
        if n_steps is None:
            if duration_s is None:
                raise ValueError("give duration_s or n_steps")
            n_steps = int(round(duration_s / dt_s))
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ValueError(f"n_steps must be ≥ 0, got {n_steps}")
        n_rec = n_steps // record_every if record_every > 0 else 0
        rec = np.empty((n_rec, 3, self.n))
        acc_from = n_steps + 1 if average_from_s is None else max(
            0, int(math.ceil(average_from_s / dt_s - 1e-9)) - 1)
        acc = np.zeros((9, self.n)) if average_from_s is not None else np.zeros((9, 0))
        sigma = (self.system.magnet.thermal_field_std(dt_s, self.temperature_K)
                 if self.stochastic else 0.0)
        if self.device == "gpu":
            from labspin.physics.macrospin import gpu
            if acc.shape[1] == 0:
                acc = np.zeros((9, self.n))
            n_acc = gpu.integrate(self.m, self.h_ext, self.current, self._sys,
                                  self._wave_table, self.time_s, dt_s, n_steps,
                                  self.steps_done, self._key, sigma, self.stochastic,
                                  record_every, rec, acc_from, acc)
        else:
            n_acc = kernel.integrate(self.m, self.h_ext, self.current, self._sys,
                                     self._wave_table, self.time_s, dt_s, n_steps,
                                     self.steps_done, self._key, sigma, self.stochastic,
                                     kernel.is_plain(self._sys), record_every, rec, acc_from,
                                     acc, item_length(self.n, numba.get_num_threads(),
                                                      kernel.CHUNK))
        times = None
        if n_rec:
            times = self.time_s + dt_s * record_every * np.arange(1, n_rec + 1)
        self.time_s += n_steps * dt_s
        self.steps_done += n_steps
        mean_m = mean_mm = None
        if average_from_s is not None and n_acc > 0:
            mean_m = acc[:3] / n_acc
            xx, yy, zz, xy, xz, yz = acc[3:] / n_acc
            mean_mm = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        return Run(times, rec if n_rec else None, mean_m, mean_mm, int(n_acc))
