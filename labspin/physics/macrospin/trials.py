"""Pulse trials of a macrospin from thermal equilibrium, and switching / write-error-rate maps
over pulse amplitude × width as a chunked problem (:mod:`.chunks`).

A trial: the magnet starts at the fixed point ``m_start`` of the holding drive (static field,
dc current), the stochastic LLG runs at that drive for ``thermalize_s`` so that the trial
starts Boltzmann-distributed in its well, then a trapezoidal current pulse (full width, linear
edges inside it, :func:`~labspin.physics.macrospin.system.pulse`) arrives, and the magnet
relaxes for ``relax_s`` after it. The trial switched when it ends in the other hemisphere,
m·m_start < 0. The write error rate of a point is the fraction of trials that did NOT switch.

Random streams: each (amplitude, width) point has its own stream, keyed by the seed and the
point's values (not its place in the grid), its trials are that stream's members 0, 1, …;
so a point's counts do not depend on the grid around it or on how its trials were split.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from labspin.physics.counting import INTERVAL_CL, beta_interval, zero_count_upper_bound
from labspin.physics.macrospin.chunks import DEFAULT_CHUNK, balanced_chunk, member_ranges
from labspin.physics.macrospin.ensemble import Ensemble
from labspin.physics.macrospin.equilibrium import equilibrium
from labspin.physics.macrospin.rng import MAX_MEMBERS, derived_seed
from labspin.physics.macrospin.system import Macrospin, pulse

THERMALIZE_RELAXATIONS = 3.0
"""Thermalization before a pulse, in units of the slowest small-signal relaxation time
1/min|Re λ| at the holding drive: from the fixed point the in-well energy distribution
approaches equilibrium as e^{−2|Re λ|t}, so 3 leave a deficit of e^{−6} ≈ 0.25 %."""
THERMALIZE_MAX_S = 50e-9
"""Upper bound of the thermalization time (s), for a well that is barely stable."""


def thermalization_time(system: Macrospin, m, h_ext_Apm=(0.0, 0.0, 0.0),
                        current_A: float = 0.0, temperature_K: float | None = None, *,
                        relaxations: float = THERMALIZE_RELAXATIONS,
                        max_s: float = THERMALIZE_MAX_S) -> float:
    """Get the time (s) to thermalize from the fixed point near ``m`` at the holding drive:
    ``relaxations``/min|Re λ| with λ the tangent-plane Jacobian's eigenvalues there
    (αγ'H_K(1 + h) for a uniaxial well), at most ``max_s``; 0 at T = 0."""
    t = system.magnet.temperature_K if temperature_K is None else temperature_K
    if t <= 0:
        return 0.0
    eq = equilibrium(system, h_ext_Apm, current_A, m0=m, max_relax_periods=0)
    rate = float(np.min(-np.real(eq.eigenvalues[:, 0])))
    if eq.converged[0] and eq.stable[0] and rate > 0:
        return min(relaxations / rate, max_s)
    return max_s


def pulse_trials(system: Macrospin, m_start, amplitude_A: float, width_s: float,
                 rise_s: float = 0.0, *, n: int, thermalize_s: float,
                 h_ext_Apm=(0.0, 0.0, 0.0), current_A: float = 0.0, relax_s: float = 2e-9,
                 seed: int = 0, member0: int = 0, dt_s: float = 1e-12) -> np.ndarray:
    """Get m (3, n) after n trials (members member0 … member0+n−1 of stream ``seed``): the
    holding drive for ``thermalize_s`` (rounded to whole steps), the pulse (A, on top of the
    dc current), ``relax_s`` of relaxation."""
    t_th = round(thermalize_s / dt_s) * dt_s
    ens = Ensemble(system, n=n, h_ext_Apm=h_ext_Apm, current_A=current_A, m0=m_start,
                   waves=(pulse(t_th, width_s, current_A=amplitude_A, rise_s=rise_s),),
                   seed=seed, member0=member0)
    ens.run(t_th + width_s + relax_s, dt_s)
    return ens.m


@dataclass
class SwitchingMap:
    """Switching counts over amplitudes_A (n_a,) × widths_s (n_w,), ``trials`` per point.

    switched (n_a, n_w) counts; errors = trials − switched, the write errors."""
    amplitudes_A: np.ndarray
    widths_s: np.ndarray
    trials: int
    switched: np.ndarray

    @property
    def errors(self) -> np.ndarray:
        return self.trials - self.switched

    def switching_probability(self, cl: float = INTERVAL_CL):
        """Get (posterior mean, lower, upper) of P(switch) per point (Jeffreys Beta)."""
        return beta_interval(self.switched, self.trials, cl)

    def write_error_rate(self, cl: float = INTERVAL_CL):
        """Get (posterior mean, lower, upper) of the write error rate per point."""
        return beta_interval(self.errors, self.trials, cl)

    def error_upper_bound(self, cl: float = 0.95) -> np.ndarray:
        """Get the one-sided ``cl`` upper bound on the write error rate where no trial failed
        (NaN elsewhere): the smallest rate these trials can claim (≈ 3/trials at 95 %)."""
        return np.where(self.errors == 0, zero_count_upper_bound(self.trials, cl), np.nan)


def _bits(x: float) -> int:
    return int(np.float64(x).view(np.int64))


@dataclass(frozen=True)
class SwitchingProblem:
    """A write-error-rate map as a chunked problem: trials per (amplitude, width) point.

    m_start: the holding drive's fixed point (the state written from); h_ext_Apm (3,) and
    hold_current_A the holding drive; amplitudes_A and widths_s the pulse grid (the pulse adds
    to the dc current), rise_s its edges; thermalize_s (None: :func:`thermalization_time`),
    relax_s, dt_s (s); chunk: trials per task.
    """
    system: Macrospin
    m_start: tuple[float, float, float]
    amplitudes_A: tuple[float, ...]
    widths_s: tuple[float, ...]
    trials: int
    h_ext_Apm: tuple[float, float, float] = (0.0, 0.0, 0.0)
    hold_current_A: float = 0.0
    rise_s: float = 0.0
    thermalize_s: float | None = None
    relax_s: float = 2e-9
    dt_s: float = 1e-12
    seed: int = 0
    chunk: int = DEFAULT_CHUNK

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "amplitudes_A", tuple(float(a) for a in np.atleast_1d(self.amplitudes_A)))
        set_(self, "widths_s", tuple(float(w) for w in np.atleast_1d(self.widths_s)))
        set_(self, "m_start", tuple(float(v) for v in np.asarray(self.m_start, float)))
        set_(self, "h_ext_Apm", tuple(float(v) for v in np.asarray(self.h_ext_Apm, float)))
        if not self.amplitudes_A or not self.widths_s:
            raise ValueError("give at least one pulse amplitude and one width")
        bad = [w for w in self.widths_s if not w > 0]
        if bad:
            raise ValueError(f"pulse widths must be > 0 s, got {bad[0]!r}")
        if not 0 <= self.rise_s <= 0.5 * min(self.widths_s):
            raise ValueError(f"rise_s must be in [0, {0.5 * min(self.widths_s):g}] s (half the "
                             f"shortest width), got {self.rise_s!r}")
        if int(self.trials) < 1:
            raise ValueError(f"trials must be ≥ 1, got {self.trials!r}")
        if not (self.dt_s > 0 and self.relax_s >= 0):
            raise ValueError(f"dt_s must be > 0 and relax_s ≥ 0, got {self.dt_s}, "
                             f"{self.relax_s}")
        if self.thermalize_s is None:
            set_(self, "thermalize_s", thermalization_time(
                self.system, self.m_start, self.h_ext_Apm, self.hold_current_A))

    @classmethod
    def from_rest(cls, system: Macrospin, amplitudes_A, widths_s, trials: int, *,
                  m_guess=(0.0, 0.0, 1.0), h_ext_Apm=(0.0, 0.0, 0.0),
                  hold_current_A: float = 0.0, **kw) -> "SwitchingProblem":
        """Make the problem from the state the magnet relaxes to from ``m_guess`` (T = 0)."""
        eq = equilibrium(system, h_ext_Apm, hold_current_A, m0=m_guess)
        if not (eq.converged[0] and eq.stable[0]):
            raise ValueError(f"no stable state near m = {tuple(m_guess)} at the holding drive")
        return cls(system, tuple(eq.m[:, 0]), amplitudes_A, widths_s, int(trials),
                   h_ext_Apm=h_ext_Apm, hold_current_A=hold_current_A, **kw)

    def tasks(self) -> list[tuple[int, int, int, int, int]]:
        """Get (amplitude index, width index, stream block, lo, hi) per task."""
        return [(ia, iw, b, lo, hi) for ia in range(len(self.amplitudes_A))
                for iw in range(len(self.widths_s))
                for b, lo, hi in member_ranges(int(self.trials), self.chunk)]

    def balanced(self, slots: int) -> "SwitchingProblem":
        """Get the problem with each point's trials cut into a multiple of ``slots`` tasks
        (:func:`~.chunks.balanced_chunk`; at most ``chunk`` trials each)."""
        return replace(self, chunk=balanced_chunk(int(self.trials), slots, self.chunk))

    def steps(self, iw: int) -> int:
        """Get the steps of one trial at width index ``iw``."""
        t_th = round(self.thermalize_s / self.dt_s) * self.dt_s
        return int(round((t_th + self.widths_s[iw] + self.relax_s) / self.dt_s))

    def cost(self, task) -> float:
        ia, iw, b, lo, hi = task
        return float((hi - lo) * self.steps(iw))

    def describe(self, task) -> str:
        ia, iw, b, lo, hi = task
        first = b * MAX_MEMBERS + lo
        return (f"amplitude {self.amplitudes_A[ia]:.6g} A, width {self.widths_s[iw]:.6g} s, "
                f"trials {first}..{first + hi - lo - 1} (seed {self.seed})")

    def run_task(self, task) -> int:
        """Get the number of switched trials of one task."""
        ia, iw, b, lo, hi = task
        amp, width = self.amplitudes_A[ia], self.widths_s[iw]
        stream = derived_seed(self.seed, _bits(amp), _bits(width), b)
        m = pulse_trials(self.system, self.m_start, amp, width, self.rise_s, n=hi - lo,
                         thermalize_s=self.thermalize_s, h_ext_Apm=self.h_ext_Apm,
                         current_A=self.hold_current_A, relax_s=self.relax_s,
                         seed=stream, member0=lo, dt_s=self.dt_s)
        return int(np.count_nonzero(np.asarray(self.m_start) @ m < 0.0))

    def reduce(self, tasks, partials) -> SwitchingMap:
        switched = np.zeros((len(self.amplitudes_A), len(self.widths_s)), dtype=np.int64)
        for (ia, iw, *_), k in zip(tasks, partials):
            switched[ia, iw] += k
        return SwitchingMap(np.array(self.amplitudes_A), np.array(self.widths_s),
                            int(self.trials), switched)


def brute_force_reach(trials: int, cl: float = 0.95) -> float:
    """Get the smallest write error rate ``trials`` brute-force trials can establish (the
    bound a point with no error gets): rates below it need more trials or a rare-event
    method (importance sampling, splitting)."""
    return float(zero_count_upper_bound(trials, cl))


def spin_steps(problem: SwitchingProblem) -> float:
    """Get the spin-steps (trials × steps) of a whole map."""
    return float(sum(problem.cost(t) for t in problem.tasks()))


__all__ = ["SwitchingMap", "SwitchingProblem", "brute_force_reach", "pulse_trials",
           "spin_steps", "thermalization_time", "THERMALIZE_MAX_S", "THERMALIZE_RELAXATIONS"]
