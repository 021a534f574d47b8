"""Two-state telegraph model of a thermally switching macrospin with uniaxial anisotropy.

Device-scale traces (µs to hours) come from a continuous-time Markov chain between the two
wells, m_z ≈ +1 (state ``+1``) and m_z ≈ −1 (state ``-1``), with rates from the exact
axially symmetric mean first-passage time of Brown's Fokker–Planck equation (physics.md,
check 4). Readout (P/AP, resistance levels) maps the states; this module only knows ±1.

Conventions
-----------
- ``delta`` Δ = K V / k_B T (thermal stability factor, dimensionless).
- ``h`` = H_z / H_K, the reduced applied field along +z; ``h_s`` = H_DL / (α H_K), the reduced
  damping-like torque with σ = +z. Positive ``h`` or ``h_s`` favours state +1. The axially
  symmetric model depends on them only through h + h_s.
- Reduced energy βE(x) = −Δ x² − 2Δ (h + h_s) x, x = m_z; barrier top at x_b = −(h + h_s).
- A **dwell** is defined by a Schmitt trigger: the magnet enters state +1 when x rises to
  x_up, and leaves it when x falls to x_dn < x_b < x_up (mirror for state −1). The mean dwell
  is then exactly the mean first-passage time from x_up to x_dn (see
  :func:`mean_first_passage_time`), the quantity an LLG or a measured trace gives, and the
  telegraph rate out of a state is 1 / (its mean dwell).

Note the factor of 2 against Brown's asymptote τ_B = τ_N (√π/2) Δ^{-3/2} e^Δ (h = 0): τ_B is
the relaxation time of ⟨m_z⟩, 1/(k₊ + k₋), and equals the mean time to reach the barrier
*top*; the mean dwell (well to well) is 2 τ_B, because half the arrivals at the top fall back.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import integrate, special

from labspin.physics.constants import GAMMA0, KB, MU0

__all__ = [
    "neel_time",
    "first_passage_time",
    "mean_first_passage_time",
    "dwell_thresholds",
    "TelegraphModel",
    "TelegraphTrace",
    "DwellEstimate",
    "estimate_dwell_times",
    "completed_dwells",
    "pool_dwell_estimates",
]


def neel_time(ms_A_per_m, volume_m3, alpha, temperature_K, gamma0=GAMMA0):
    """Get the free-diffusion (Néel) time τ_N = (1+α²) μ0 Ms V / (2 α γ0 k_B T) (s).

    ⟨m_z⟩(t) = exp(−t/τ_N) for free rotational diffusion (physics.md, check 3).
    ms_A_per_m: Ms (A/m); volume_m3: V (m³); alpha: Gilbert damping; temperature_K: T (K);
    gamma0: γ0 = μ0|γ_e| (m/(A·s)).
    """
    if alpha <= 0 or temperature_K <= 0:
        raise ValueError("alpha and temperature_K must be > 0")
    return (1.0 + alpha**2) * MU0 * ms_A_per_m * volume_m3 / (
        2.0 * alpha * gamma0 * KB * temperature_K)


def _log_fpt_down(delta, h_total, x_start, x_end):
    """Get log(T / 2τ_N) for escape downward from x_start to x_end, reflecting at x = +1.

    T = 2τ_N ∫_{x_end}^{x_start} dy g(y)/(1−y²), g(y) = e^{βE(y)} ∫_y^1 e^{−βE(z)} dz.
    With s = √Δ (x + h_total), ∫ e^{s²} dz = e^{s²} D(s)/√Δ (D: Dawson function), so
    g(y) = [e^{s1² − sy²} D(s1) − D(sy)]/√Δ, s1 = s(1): closed form, no overflow, since the
    large factor e^{c}, c = max over y of (s1² − sy²), is taken out into the log.
    """
    rd = math.sqrt(delta)
    s1 = rd * (1.0 + h_total)
    barrier_inside = x_end < -h_total < x_start
    s_min_sq = 0.0 if barrier_inside else min((rd * (x_end + h_total)) ** 2,
                                              (rd * (x_start + h_total)) ** 2)
    c = s1 * s1 - s_min_sq
    d1 = special.dawsn(s1)
    exp_mc = math.exp(-c)

    def integrand(y):
        sy = rd * (y + h_total)
        return (math.exp(s1 * s1 - sy * sy - c) * d1 - exp_mc * special.dawsn(sy)) / (
            (1.0 - y) * (1.0 + y))

    points = [-h_total] if barrier_inside else None
    j, _ = integrate.quad(integrand, x_end, x_start, points=points,
                          epsabs=0.0, epsrel=1e-11, limit=400)
    return c + math.log(j) - 0.5 * math.log(delta)


def first_passage_time(delta, h_total, tau_n, x_start, x_end):
    """Get Brown's exact axially symmetric mean first-passage time from x_start to x_end (s).

    x = m_z, βE(x) = −Δx² − 2Δ h_total x, reflecting boundary at the pole behind the start.
    Escape downward (x_end < x_start ≤ 1, reflecting at +1):
        T = 2τ_N ∫_{x_end}^{x_start} dy e^{βE(y)}/(1−y²) ∫_y^1 e^{−βE(z)} dz;
    escape upward (x_end > x_start ≥ −1, reflecting at −1) is the mirror image
    x → −x, h_total → −h_total. This solves the backward equation
    (1/2τ_N) e^{βE} d/dx[(1−x²) e^{−βE} dT/dx] = −1, T(x_end) = 0.
    x_end = ∓1 (the far pole itself) is never reached in finite mean time: |x_end| < 1.
    Works for any Δ > 0 up to Δ(1 + |h_total|)² ≈ 700 (float range of the result).
    """
    if delta <= 0:
        raise ValueError("delta must be > 0")
    if not (-1.0 < x_end < 1.0 and -1.0 <= x_start <= 1.0) or x_start == x_end:
        raise ValueError("need -1 <= x_start <= 1, -1 < x_end < 1, x_start != x_end")
    if x_end < x_start:
        log_t = _log_fpt_down(delta, h_total, x_start, x_end)
    else:
        log_t = _log_fpt_down(delta, -h_total, -x_start, -x_end)
    return 2.0 * tau_n * math.exp(log_t)


def dwell_thresholds(h_total):
    """Get the default Schmitt thresholds (x_up, x_dn) on m_z for a total reduced field.

    Each threshold lies halfway between the barrier top x_b = −h_total and the well at ±1:
    x_up = (1 + x_b)/2 (entering +1), x_dn = (x_b − 1)/2 (entering −1); ±0.5 at zero field.
    """
    if not abs(h_total) < 1.0:
        raise ValueError(f"|h + h_s| = {abs(h_total):g} >= 1: no barrier, no two-state model")
    x_b = -h_total
    return 0.5 * (1.0 + x_b), 0.5 * (x_b - 1.0)


def mean_first_passage_time(delta, h=0.0, h_s=0.0, *, tau_n, from_state=+1, x0=None):
    """Get the mean dwell time in a state, i.e. the mean first-passage time out of it (s).

    physics.md, check 4: T = 2τ_N ∫_{−x0}^{x0} dy e^{βE(y)}/(1−y²) ∫_y^1 e^{−βE(z)} dz,
    βE = −Δx² − 2Δ(h + h_s)x, is the exact mean time to go from x = +x0 (where the magnet
    is counted as having entered state +1) to x = −x0 (entered state −1), with the pole
    x = +1 reflecting. ±x0 are Schmitt-trigger thresholds, not the barrier top: integrating
    from the barrier top instead (x_start = 1, x_end = x_b) gives half the dwell at high Δ.

    from_state=+1: start at x_up, absorb at x_dn, reflect at +1 (limits x_dn … x_up).
    from_state=−1: the mirror image, equal to the from_state=+1 time with (h, h_s) → −(h, h_s).

    delta: Δ = KV/k_BT; h = H_z/H_K; h_s = H_DL/(αH_K) (both favour +1 when positive);
    tau_n: Néel time τ_N (s), see :func:`neel_time`; x0: symmetric thresholds ±x0 as written
    in physics.md (needs |h + h_s| < x0 < 1); default None uses :func:`dwell_thresholds`.
    At high Δ the result hardly depends on the thresholds (corrections ~ e^{−Δ(x_b∓x)²}).

    Raises ValueError when |h + h_s| >= 1: one well has vanished, the switch is
    deterministic and a two-state telegraph description does not apply.
    """
    if from_state not in (+1, -1):
        raise ValueError("from_state must be +1 or -1")
    h_total = float(h) + float(h_s)
    x_up, x_dn = dwell_thresholds(h_total)
    if x0 is not None:
        if not abs(h_total) < x0 < 1.0:
            raise ValueError(f"need |h + h_s| < x0 < 1, got x0={x0:g}, h + h_s={h_total:g}")
        x_up, x_dn = x0, -x0
    if from_state == +1:
        return first_passage_time(delta, h_total, tau_n, x_up, x_dn)
    return first_passage_time(delta, h_total, tau_n, x_dn, x_up)


@dataclass(frozen=True)
class TelegraphTrace:
    """An exact telegraph trace as an event list.

    times: segment start times (s), times[0] = 0, then each switch time;
    states: int8 state (±1) on [times[i], times[i+1]) (the last until ``duration``);
    duration: end of the record (s).
    """

    times: np.ndarray
    states: np.ndarray
    duration: float

    @property
    def n_switches(self):
        """Get the number of switches in the record."""
        return len(self.times) - 1

    def sample(self, times_s):
        """Get the state (int8 ±1) at each of ``times_s`` (s, within [0, duration])."""
        t = np.asarray(times_s, dtype=float)
        if t.size and (t.min() < 0.0 or t.max() > self.duration):
            raise ValueError("sample times must lie within [0, duration]")
        return self.states[np.searchsorted(self.times, t, side="right") - 1]

    def dwell_estimates(self):
        """Get :func:`estimate_dwell_times` of this record, keyed by state."""
        return estimate_dwell_times(self.times, self.states, end_time=self.duration)


_FIRST_CHUNK = 4096          # even, so every chunk starts in the start state
_MAX_CHUNK = 1 << 22


@dataclass(frozen=True)
class TelegraphModel:
    """Two-state continuous-time Markov chain.

    k_plus: rate of leaving +1 (+1 → −1), 1/s; k_minus: rate of leaving −1 (−1 → +1), 1/s.
    A zero rate makes that state absorbing. For another current or field, build a new model.
    """

    k_plus: float
    k_minus: float

    def __post_init__(self):
        for name in ("k_plus", "k_minus"):
            k = getattr(self, name)
            if not (np.isfinite(k) and k >= 0.0):
                raise ValueError(f"{name} must be finite and >= 0, got {k!r}")

    @classmethod
    def from_rates(cls, k_plus_to_minus, k_minus_to_plus):
        """Build from the two switching rates (1/s)."""
        return cls(float(k_plus_to_minus), float(k_minus_to_plus))

    @classmethod
    def from_barrier(cls, delta, h=0.0, h_s=0.0, *, tau_n, x0=None):
        """Build from Brown's exact mean dwell times (:func:`mean_first_passage_time`).

        delta: Δ; h = H_z/H_K; h_s = H_DL/(αH_K); tau_n: τ_N (s); x0: see
        :func:`mean_first_passage_time`. Rates are 1/(mean dwell) in each state.
        """
        kw = dict(tau_n=tau_n, x0=x0)
        t_plus = mean_first_passage_time(delta, h, h_s, from_state=+1, **kw)
        t_minus = mean_first_passage_time(delta, h, h_s, from_state=-1, **kw)
        return cls(1.0 / t_plus, 1.0 / t_minus)

    @classmethod
    def from_neel_brown(cls, tau0, delta, h=0.0, i_over_ic0=0.0):
        """Build from the phenomenological Néel–Brown / Li–Zhang law.

        τ = τ0 exp[Δ (1 − h')² (1 − i')] with h', i' the field and current components that
        push *out of* the state. Here h = H_z/H_K and i = I/I_c0 are signed, positive
        favouring +1, so the mean dwell in +1 is τ0 exp[Δ(1 + h)²(1 + i)] and in −1 is
        τ0 exp[Δ(1 − h)²(1 − i)]. tau0: attempt time (s). Needs |h| < 1 and |i| < 1.
        The exact axially symmetric model (:meth:`from_barrier`) instead has current
        entering like field, squared, with a Δ-dependent prefactor.
        """
        if not (abs(h) < 1.0 and abs(i_over_ic0) < 1.0):
            raise ValueError("the Néel–Brown law needs |h| < 1 and |I/I_c0| < 1")
        t_plus = tau0 * math.exp(delta * (1.0 + h) ** 2 * (1.0 + i_over_ic0))
        t_minus = tau0 * math.exp(delta * (1.0 - h) ** 2 * (1.0 - i_over_ic0))
        return cls(1.0 / t_plus, 1.0 / t_minus)

    def rate_out(self, state):
        """Get the rate of leaving ``state`` (±1), 1/s."""
        return self.k_plus if state == +1 else self.k_minus

    def mean_dwell(self, state):
        """Get the mean dwell time in ``state`` (±1), s (inf if absorbing)."""
        k = self.rate_out(state)
        return math.inf if k == 0.0 else 1.0 / k

    @property
    def relaxation_rate(self):
        """Get k₊ + k₋ (1/s), the decay rate of the autocorrelation."""
        return self.k_plus + self.k_minus

    def stationary_probability(self, state=+1):
        """Get the stationary probability of ``state``: k_other / (k₊ + k₋)."""
        total = self.relaxation_rate
        if total == 0.0:
            raise ValueError("both rates are zero: no stationary distribution")
        return (self.k_minus if state == +1 else self.k_plus) / total

    def autocorrelation(self, tau, normalized=True, amplitude=2.0):
        """Get the autocorrelation of the stationary telegraph signal at lag ``tau`` (s).

        normalized: exp(−(k₊+k₋)|τ|); otherwise the autocovariance of a signal stepping by
        ``amplitude`` between the states, (amplitude²·p₊p₋) exp(−(k₊+k₋)|τ|)
        (amplitude 2: the ±1 signal, variance 1 − ⟨s⟩²).
        """
        rho = np.exp(-self.relaxation_rate * np.abs(np.asarray(tau, dtype=float)))
        if normalized:
            return rho
        p = self.stationary_probability(+1)
        return amplitude**2 * p * (1.0 - p) * rho

    def psd(self, f, amplitude=2.0, one_sided=True):
        """Get the power spectral density of the stationary telegraph signal (amplitude²/Hz).

        Lorentzian: S(f) = 2 A² p₊p₋ λ / (λ² + (2πf)²) two-sided, twice that one-sided,
        λ = k₊ + k₋, A = ``amplitude`` (the step between states; 2 for the ±1 signal).
        Equivalently 4A²/[(τ₊+τ₋)(λ² + ω²)] one-sided (Machlup 1954).
        """
        lam = self.relaxation_rate
        p = self.stationary_probability(+1)
        w = 2.0 * np.pi * np.asarray(f, dtype=float)
        s2 = 2.0 * amplitude**2 * p * (1.0 - p) * lam / (lam**2 + w**2)
        return 2.0 * s2 if one_sided else s2

    def expected_switches(self, duration_s):
        """Get the stationary mean number of switches in ``duration_s`` (s)."""
        total = self.relaxation_rate
        return 0.0 if total == 0.0 else 2.0 * duration_s * self.k_plus * self.k_minus / total

    def simulate(self, duration_s, seed=None, start_state=None, max_events=50_000_000):
        """Simulate an exact trace on [0, duration_s] (Gillespie, bulk exponential draws).

        seed: int, None or an ``np.random.Generator``; the same seed gives the same trace,
        and a longer run with the same seed extends a shorter one (random numbers are drawn
        in chunks whose sizes do not depend on the duration).
        start_state: ±1, or None to draw it from the stationary distribution.
        max_events: refuse a run expected to switch more often than this (memory guard).
        Returns a :class:`TelegraphTrace`.
        """
        if not duration_s >= 0:
            raise ValueError("duration_s must be >= 0")
        if self.expected_switches(duration_s) > max_events:
            raise ValueError(f"~{self.expected_switches(duration_s):.3g} switches expected, "
                             f"more than max_events={max_events}; shorten the run")
        rng = np.random.default_rng(seed)
        u0 = rng.random()       # always drawn, so the stream does not depend on start_state
        if start_state is None:
            start_state = +1 if u0 < self.stationary_probability(+1) else -1
        if start_state not in (+1, -1):
            raise ValueError("start_state must be +1, -1 or None")
        # dwell j (j = 0, 1, ...) is spent in start_state·(−1)^j; chunks have even sizes
        scale = (self.mean_dwell(start_state), self.mean_dwell(-start_state))
        switch_chunks, t, chunk = [], 0.0, _FIRST_CHUNK
        while True:
            dwell = rng.standard_exponential(chunk)
            for parity in (0, 1):
                if math.isinf(scale[parity]):      # absorbing state: never leaves
                    dwell[parity::2] = math.inf
                else:
                    dwell[parity::2] *= scale[parity]
            ends = np.cumsum(dwell)
            ends += t
            n_in = int(np.searchsorted(ends, duration_s, side="left"))
            switch_chunks.append(ends[:n_in])
            if n_in < chunk:
                break
            t = ends[-1]
            chunk = min(2 * chunk, _MAX_CHUNK)
        times = np.concatenate([[0.0], *switch_chunks])
        states = np.empty(times.size, dtype=np.int8)
        states[0::2] = start_state
        states[1::2] = -start_state
        return TelegraphTrace(times, states, float(duration_s))

    def sample(self, times_s, seed=None, start_state=None):
        """Get the state (int8 ±1) at ``times_s`` (s, >= 0) of one simulated trace.

        Identical to ``simulate(D, seed, start_state).sample(times_s)`` for any
        D >= max(times_s).
        """
        t = np.asarray(times_s, dtype=float)
        if t.size == 0:
            return np.empty(0, dtype=np.int8)
        return self.simulate(float(t.max()), seed, start_state).sample(t)


@dataclass(frozen=True)
class DwellEstimate:
    """Dwell-time statistics of one state in one record (or pooled records).

    mean_s: censoring-safe estimate, total time in the state / number of exits (s);
    inf when no exit was seen (then total_time_s is only a lower bound on the dwell).
    stderr_s: mean_s/√n_exits, its standard error for exponential dwells (s).
    naive_mean_s: mean of the completed dwells only (both ends inside the record): biased
    low when the record is not much longer than the dwell; nan if there are none.
    """

    state: int | float
    total_time_s: float
    n_exits: int
    completed_sum_s: float
    n_completed: int

    @property
    def mean_s(self):
        return math.inf if self.n_exits == 0 else self.total_time_s / self.n_exits

    @property
    def stderr_s(self):
        return math.inf if self.n_exits == 0 else self.mean_s / math.sqrt(self.n_exits)

    @property
    def rate_per_s(self):
        """Get the estimated rate of leaving the state, n_exits / total time (1/s)."""
        return self.n_exits / self.total_time_s

    @property
    def naive_mean_s(self):
        return math.nan if self.n_completed == 0 else self.completed_sum_s / self.n_completed


def _segments(times, states, end_time):
    """Get (state, duration) of the constant runs of a trace, merging equal neighbours.

    end_time given: (times, states) is an event list, states[i] holding on
    [times[i], times[i+1]) and the last until end_time. end_time None: a regularly sampled
    trace, each sample standing for one sampling interval dt centred on it.
    """
    t = np.asarray(times, dtype=float)
    s = np.asarray(states)
    if t.ndim != 1 or t.shape != s.shape or t.size == 0:
        raise ValueError("times and states must be 1-D arrays of the same, non-zero length")
    if end_time is None:
        if t.size < 2:
            raise ValueError("a sampled trace needs at least two samples")
        dt = (t[-1] - t[0]) / (t.size - 1)
        if not (dt > 0 and np.allclose(np.diff(t), dt, rtol=1e-6, atol=0.0)):
            raise ValueError("sampled trace must be on a regular, increasing time grid "
                             "(pass end_time for an event list)")
        t = t - 0.5 * dt
        end_time = t[-1] + dt
    elif np.any(np.diff(t) < 0) or end_time < t[-1]:
        raise ValueError("event times must be increasing and end before end_time")
    change = np.flatnonzero(s[1:] != s[:-1]) + 1
    starts = np.concatenate(([0], change))
    bounds = np.concatenate((t[starts], [end_time]))
    return s[starts], np.diff(bounds)


def estimate_dwell_times(times, states, end_time=None):
    """Estimate the mean dwell time of each state of a two-state trace.

    Primary estimate (censoring-safe, physics.md check 4): total time in the state divided
    by the number of exits from it, the maximum-likelihood estimate for exponential dwells
    (E[n_exits] = k·E[time in state] holds exactly, whatever the window).
    times, states: an event list (with end_time, e.g. a :class:`TelegraphTrace`) or a
    regularly sampled trace (end_time None; values may be ±1, 0/1 or any two levels).
    Returns {state value: :class:`DwellEstimate`} for each state seen.
    """
    seg_state, seg_dur = _segments(times, states, end_time)
    values = np.unique(seg_state)
    if values.size > 2:
        raise ValueError(f"trace has {values.size} distinct values; threshold it first")
    out = {}
    for v in values:
        mine = seg_state == v
        exits = mine.copy()
        exits[-1] = False                      # the last run has not ended
        completed = exits.copy()
        completed[0] = False                   # the first run started before the record
        key = v.item()
        out[key] = DwellEstimate(key, float(seg_dur[mine].sum()), int(exits.sum()),
                                 float(seg_dur[completed].sum()), int(completed.sum()))
    return out


def completed_dwells(times, states, end_time=None):
    """Get {state value: array of completed dwell durations (s)} of a trace.

    Same inputs as :func:`estimate_dwell_times`; the first and last runs are censored
    and left out (use for histograms, not for the mean).
    """
    seg_state, seg_dur = _segments(times, states, end_time)
    inner_state, inner_dur = seg_state[1:-1], seg_dur[1:-1]
    return {v.item(): inner_dur[inner_state == v] for v in np.unique(seg_state)}


def pool_dwell_estimates(estimates):
    """Pool per-record results of :func:`estimate_dwell_times` (an iterable of dicts).

    Times and counts add, so many short records give the same censoring-safe estimate as
    one long one.
    """
    acc = {}
    for est in estimates:
        for key, e in est.items():
            a = acc.get(key, (0.0, 0, 0.0, 0))
            acc[key] = (a[0] + e.total_time_s, a[1] + e.n_exits,
                        a[2] + e.completed_sum_s, a[3] + e.n_completed)
    return {k: DwellEstimate(k, *a) for k, a in acc.items()}
