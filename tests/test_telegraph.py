"""Tests of the two-state telegraph model (physics.md check 4, "Telegraph noise and switching").

Statistical tolerances are k standard errors of the quantity compared, with the standard
error derived in a comment next to each assertion; seeds are fixed, so the tests are
deterministic, and k = 4–5 means a correct implementation would fail for fewer than ~1e-4
of seeds.
"""
import math

import numpy as np
import pytest
from scipy import signal, stats

from labspin.physics.constants import GAMMA0, KB, MU0
from labspin.physics.telegraph import (
    TelegraphModel,
    completed_dwells,
    dwell_thresholds,
    estimate_dwell_times,
    first_passage_time,
    mean_first_passage_time,
    neel_time,
    pool_dwell_estimates,
)

# ---------------------------------------------------------------- Néel time, MFPT

def test_neel_time_formula():
    ms, vol, alpha, temp = 1.2e6, 40e-9 * 40e-9 * 1.5e-9, 0.02, 300.0
    expected = (1 + alpha**2) * MU0 * ms * vol / (2 * alpha * GAMMA0 * KB * temp)
    assert neel_time(ms, vol, alpha, temp) == pytest.approx(expected, rel=1e-14)
    assert neel_time(ms, 2 * vol, alpha, temp) == pytest.approx(2 * expected, rel=1e-14)
    assert neel_time(ms, vol, alpha, 2 * temp) == pytest.approx(expected / 2, rel=1e-14)


def _fd_first_passage(delta, h_total, tau_n, x_start, x_end, n=20001):
    """Solve the backward Kolmogorov equation by finite volumes (independent of the quad).

    (1/2τ_N) e^{βE} d/dx[(1−x²) e^{−βE} dT/dx] = −1 on [x_end, 1] for x_end < x_start,
    T(x_end) = 0, zero flux at x = 1 (where 1 − x² vanishes); mirror image for upward escape.
    Grid: uniform on [x_end, x_start] and on [x_start, 1], so x_start is a node. Discrete
    equations, node i with control volume V_i: F_{i+1/2} − F_{i−1/2} = −2τ_N w_i V_i,
    F_{i+1/2} = a_{i+1/2}(T_{i+1} − T_i), F = 0 past the last node. This tridiagonal system
    is solved by back-substitution from the reflecting end (fluxes first, then T): a
    general banded LU loses digits once the barrier makes a span e^{30}.
    """
    if x_end > x_start:
        return _fd_first_passage(delta, -h_total, tau_n, -x_start, -x_end, n)
    if x_start >= 1.0:
        n1, x = n, np.linspace(x_end, 1.0, n)
    else:
        n1 = int(n * (x_start - x_end) / (1 - x_end)) + 2
        x = np.concatenate((np.linspace(x_end, x_start, n1),
                            np.linspace(x_start, 1.0, max(n - n1, 2))[1:]))
    u = delta * (x + h_total) ** 2                     # −βE up to a constant
    umax = u.max()
    xm = 0.5 * (x[1:] + x[:-1])
    a = (1 - xm**2) * np.exp(delta * (xm + h_total) ** 2 - umax) / np.diff(x)
    vol = np.empty_like(x)                               # control volumes
    vol[0] = 0.0
    vol[1:-1] = 0.5 * (x[2:] - x[:-2])
    vol[-1] = 0.5 * (x[-1] - x[-2])
    source = 2.0 * tau_n * np.exp(u - umax) * vol
    flux = np.cumsum(source[::-1])[::-1][1:]             # −F_{i+1/2} = 2τ Σ_{j>i} w_j V_j
    t = np.concatenate(([0.0], np.cumsum(flux / a)))     # T_{i+1} = T_i − F_{i+1/2}/a
    return t[n1 - 1]


@pytest.mark.parametrize("delta", [0.5, 3.0, 8.0, 15.0])
@pytest.mark.parametrize("h_total", [0.0, 0.25, -0.4])
@pytest.mark.parametrize("from_state", [+1, -1])
def test_mfpt_matches_finite_difference_backward_equation(delta, h_total, from_state):
    x_up, x_dn = dwell_thresholds(h_total)
    start, end = (x_up, x_dn) if from_state == +1 else (x_dn, x_up)
    fd = _fd_first_passage(delta, h_total, 1.0, start, end)
    mfpt = mean_first_passage_time(delta, h_total, tau_n=1.0, from_state=from_state)
    assert mfpt == pytest.approx(fd, rel=1e-5)     # second-order grid, ~1e-7 at n = 2e4
    # start at the pole itself (the reflecting boundary), end at the barrier top
    x_b = -h_total
    pole = float(from_state)
    fd_pole = _fd_first_passage(delta, h_total, 1.0, pole, x_b)
    assert first_passage_time(delta, h_total, 1.0, pole, x_b) == pytest.approx(fd_pole, rel=1e-5)


def _brown_dwell_asymptote(delta, h_total):
    """Mean dwell in +1 for Δ → ∞: τ_N √π e^{Δ(1+h)²} / [Δ^{3/2} (1+h)(1−h²)] (τ_N = 1)."""
    return (math.sqrt(math.pi) * math.exp(delta * (1 + h_total) ** 2)
            / (delta**1.5 * (1 + h_total) * (1 - h_total**2)))


@pytest.mark.parametrize("delta", [20.0, 30.0, 40.0, 60.0])
def test_mfpt_high_barrier_brown_asymptote(delta):
    # Brown (1963): τ_B = τ_N (√π/2) Δ^{-3/2} e^Δ is the time from the well to the barrier
    # top; the series is τ_B (1 + 1/Δ + O(1/Δ²)), so |ratio − 1 − 1/Δ| <~ 1/Δ².
    tau_b = 0.5 * math.sqrt(math.pi) * delta**-1.5 * math.exp(delta)
    to_top = first_passage_time(delta, 0.0, 1.0, 1.0, 0.0)
    assert to_top / tau_b - 1 == pytest.approx(1 / delta, abs=5 / delta**2)
    # The dwell (Schmitt thresholds ±0.5) is twice that: half the arrivals at the top fall
    # back. Same 1/Δ correction, plus e^{−Δ/4} from the finite thresholds.
    dwell = mean_first_passage_time(delta, tau_n=1.0)
    assert np.isfinite(dwell)
    assert dwell / (2 * tau_b) - 1 == pytest.approx(1 / delta, abs=5 / delta**2)


@pytest.mark.parametrize("h_total", [-0.3, 0.2])
@pytest.mark.parametrize("delta", [20.0, 40.0, 60.0])
def test_mfpt_high_barrier_with_field(h_total, delta):
    # relative correction ~ 1/(Δ(1 − |h|)²) (effective barrier curvature); measured
    # coefficient 0.6–0.9 for these fields, tolerance 1.5 of it
    ratio = mean_first_passage_time(delta, h_total, tau_n=1.0) / _brown_dwell_asymptote(
        delta, h_total)
    assert abs(ratio - 1) < 1.5 / (delta * (1 - abs(h_total)) ** 2)


def test_mfpt_free_diffusion_limit():
    # Δ → 0: T = 2τ_N ∫_{−x0}^{x0} dy/(1+y) = 2τ_N ln[(1+x0)/(1−x0)]
    tau_n = 3e-9
    assert mean_first_passage_time(1e-7, tau_n=tau_n) == pytest.approx(
        2 * tau_n * math.log(3.0), rel=1e-6)
    assert mean_first_passage_time(1e-7, tau_n=tau_n, x0=0.8) == pytest.approx(
        2 * tau_n * math.log(9.0), rel=1e-6)


def test_mfpt_symmetries_and_field_dependence():
    d, tn = 25.0, 1e-9

    def t(h=0.0, hs=0.0, s=+1):
        return mean_first_passage_time(d, h, hs, tau_n=tn, from_state=s)
    # mirror symmetry: leaving +1 in field h is leaving −1 in field −h
    for h in (0.0, 0.1, -0.35):
        assert t(h, s=+1) == pytest.approx(t(-h, s=-1), rel=1e-10)
    assert t(s=+1) == pytest.approx(t(s=-1), rel=1e-12)
    # h > 0 favours +1: longer stay in +1, shorter in −1, monotonic
    hs = [0.0, 0.1, 0.2, 0.4]
    plus = [t(h, s=+1) for h in hs]
    minus = [t(h, s=-1) for h in hs]
    assert np.all(np.diff(plus) > 0) and np.all(np.diff(minus) < 0)
    # only h + h_s enters
    assert t(0.2, 0.1) == pytest.approx(t(0.3, 0.0), rel=1e-12)
    assert t(0.0, 0.3, s=-1) == pytest.approx(t(0.3, 0.0, s=-1), rel=1e-12)
    # thresholds barely matter at high Δ: default (0.45, −0.55) vs physics.md's ±0.7 for
    # h = 0.1 differ by ~e^{−Δ·0.45²} ≈ 6e-3 × O(1)
    assert t(0.1) == pytest.approx(
        mean_first_passage_time(d, 0.1, tau_n=tn, x0=0.7), rel=5e-3)


def test_mfpt_rejects_vanished_barrier():
    with pytest.raises(ValueError, match="no barrier"):
        mean_first_passage_time(30.0, 0.7, 0.4, tau_n=1e-9)
    with pytest.raises(ValueError):
        mean_first_passage_time(30.0, 0.3, tau_n=1e-9, x0=0.2)   # barrier outside ±x0


# ---------------------------------------------------------------- model constructors

def test_from_barrier_and_neel_brown():
    tn = 1e-9
    m = TelegraphModel.from_barrier(30.0, 0.1, 0.05, tau_n=tn)
    assert m.k_plus == pytest.approx(
        1 / mean_first_passage_time(30.0, 0.15, tau_n=tn, from_state=+1), rel=1e-12)
    assert m.k_minus == pytest.approx(
        1 / mean_first_passage_time(30.0, 0.15, tau_n=tn, from_state=-1), rel=1e-12)
    assert m.k_plus < m.k_minus
    nb = TelegraphModel.from_neel_brown(1e-9, 40.0, h=0.1, i_over_ic0=0.2)
    assert nb.mean_dwell(+1) == pytest.approx(1e-9 * math.exp(40 * 1.1**2 * 1.2), rel=1e-12)
    assert nb.mean_dwell(-1) == pytest.approx(1e-9 * math.exp(40 * 0.9**2 * 0.8), rel=1e-12)
    sym = TelegraphModel.from_neel_brown(1e-9, 40.0)
    assert sym.k_plus == sym.k_minus == pytest.approx(1 / (1e-9 * math.exp(40)))
    with pytest.raises(ValueError):
        TelegraphModel.from_neel_brown(1e-9, 40.0, h=1.0)
    with pytest.raises(ValueError):
        TelegraphModel.from_rates(-1.0, 1.0)


def test_analytic_stationary_autocorrelation_psd():
    m = TelegraphModel.from_rates(300.0, 100.0)
    assert m.stationary_probability(+1) == pytest.approx(0.25)
    assert m.stationary_probability(-1) == pytest.approx(0.75)
    assert m.autocorrelation(0.0) == 1.0
    assert m.autocorrelation(-1e-3) == pytest.approx(math.exp(-0.4))
    var = 1 - (0.25 - 0.75) ** 2
    assert m.autocorrelation(0.0, normalized=False) == pytest.approx(var)
    # Parseval: ∫_0^∞ S_one-sided df = variance; Machlup's form
    f = np.logspace(-3, 8, 200001)
    assert np.trapezoid(m.psd(f), f) == pytest.approx(var, rel=1e-3)
    assert m.psd(50.0) == pytest.approx(
        16 / ((1 / 300 + 1 / 100) * (400**2 + (2 * np.pi * 50) ** 2)), rel=1e-12)
    assert m.psd(50.0, one_sided=False) == pytest.approx(m.psd(50.0) / 2)


# ---------------------------------------------------------------- simulation

def test_simulation_reproducible_and_prefix_consistent():
    m = TelegraphModel.from_rates(2e3, 5e2)
    a, b = m.simulate(2.0, seed=7), m.simulate(2.0, seed=7)
    np.testing.assert_array_equal(a.times, b.times)
    np.testing.assert_array_equal(a.states, b.states)
    longer = m.simulate(50.0, seed=7)
    np.testing.assert_array_equal(longer.times[: a.times.size], a.times)
    assert longer.times[a.times.size] >= 2.0
    t = np.linspace(0, 2.0, 10001)
    np.testing.assert_array_equal(m.sample(t, seed=7), a.sample(t))
    assert not np.array_equal(m.simulate(2.0, seed=8).times[:10], a.times[:10])
    # start state honoured; states alternate
    tr = m.simulate(1.0, seed=1, start_state=-1)
    assert tr.states[0] == -1 and np.all(tr.states[1:] == -tr.states[:-1])
    assert np.all(np.diff(tr.times) > 0) and tr.times[-1] < 1.0


def test_absorbing_state():
    m = TelegraphModel.from_rates(1e3, 0.0)
    tr = m.simulate(10.0, seed=3, start_state=+1)
    assert tr.n_switches == 1 and tr.states[-1] == -1
    assert m.simulate(10.0, seed=3, start_state=-1).n_switches == 0


def test_dwell_times_match_rates():
    k_plus, k_minus, dur = 1e3, 3e3, 100.0
    m = TelegraphModel.from_rates(k_plus, k_minus)
    tr = m.simulate(dur, seed=11)
    est = tr.dwell_estimates()
    for s, k in ((+1, k_plus), (-1, k_minus)):
        e = est[s]
        # relative standard error 1/√n_exits (n ≈ 7.5e4 → 0.4 %), 4 SE
        assert abs(e.mean_s - 1 / k) < 4 * e.stderr_s
        assert e.stderr_s == pytest.approx(e.mean_s / math.sqrt(e.n_exits))
        # completed dwells are exponential with rate k (KS test, fixed seed)
        d = completed_dwells(tr.times, tr.states, tr.duration)[s]
        assert stats.kstest(d, "expon", args=(0, 1 / k)).pvalue > 1e-3
    # fraction of time in +1: Var = 2 p₊p₋ / (λ D) for an exponentially correlated indicator
    p_hat = est[+1].total_time_s / dur
    p = m.stationary_probability(+1)
    se = math.sqrt(2 * p * (1 - p) / (m.relaxation_rate * dur))
    assert abs(p_hat - p) < 4 * se
    # number of switches: mean 2D k₊k₋/λ; alternating renewal, so Var = 2·CV²·mean with
    # CV² the squared coefficient of variation of a cycle Exp(k₊) + Exp(k₋)
    n_exp = m.expected_switches(dur)
    cv2 = (k_plus**-2 + k_minus**-2) / (1 / k_plus + 1 / k_minus) ** 2
    assert abs(tr.n_switches - n_exp) < 4 * math.sqrt(2 * cv2 * n_exp)


def test_sampled_trace_autocorrelation_psd_and_dwells():
    k_plus, k_minus, dur, fs = 2e3, 1e3, 20.0, 1e5
    m = TelegraphModel.from_rates(k_plus, k_minus)
    t = np.arange(int(dur * fs)) / fs
    x = m.sample(t, seed=5).astype(float)
    lam, mean = m.relaxation_rate, 2 * m.stationary_probability(+1) - 1
    var = 1 - mean**2
    assert abs(x.mean() - mean) < 4 * math.sqrt(2 * var / (lam * dur))   # Var = 2σ²/(λD)
    # autocovariance by FFT at lags 0 … 3/λ
    y = x - x.mean()
    n = y.size
    spec = np.fft.rfft(y, 2 * n)
    lags = np.arange(0, int(3 * fs / lam) + 1, 5)
    acov = np.fft.irfft(spec * np.conj(spec))[lags] / (n - lags)
    tau = lags / fs
    expected = m.autocorrelation(tau, normalized=False)
    # Bartlett: Var ĉ(τ) ≈ (σ⁴/λD)[1 + (1 + 2λτ) e^{−2λτ}]; 5 SE over ~20 correlated lags
    se = var * np.sqrt((1 + (1 + 2 * lam * tau) * np.exp(-2 * lam * tau)) / (lam * dur))
    assert np.all(np.abs(acov - expected) < 5 * se)
    assert acov[0] == pytest.approx(var, abs=5 * se[0])
    # Welch PSD vs the Lorentzian aliased at fs (instantaneous samples): S_a(f) = Σ S(f + j fs)
    nper = 1 << 14
    f, pxx = signal.welch(x, fs=fs, nperseg=nper)
    band = (f > 50) & (f < fs / 4)
    j = np.arange(-300, 301)[:, None]
    aliased = m.psd(f[band] + j * fs, one_sided=False).sum(axis=0) * 2
    n_seg = 2 * x.size // nper - 1
    # per-bin relative SD ≈ 1/√(K/1.06) for Hann, 50 % overlap; 5 SD over ~800 bins
    assert np.all(np.abs(pxx[band] / aliased - 1) < 5 * math.sqrt(1.06 / n_seg))
    # dwell estimates from the samples (missed sub-sample dwells bias by ~k·dt/2 ≤ 1 %)
    est = estimate_dwell_times(t, x)
    for s, k in ((1.0, k_plus), (-1.0, k_minus)):
        assert abs(est[s].mean_s - 1 / k) < 4 * est[s].stderr_s + 0.5 * (k_plus + k_minus) / fs / k
    # any two levels: 0/1 readout gives the same numbers
    est01 = estimate_dwell_times(t, (x > 0).astype(int))
    assert est01[1].n_exits == est[1.0].n_exits
    assert est01[0].total_time_s == pytest.approx(est[-1.0].total_time_s)


def test_event_and_sampled_estimates_agree():
    m = TelegraphModel.from_rates(50.0, 20.0)
    tr = m.simulate(40.0, seed=2)
    fs = 5e4
    t = np.arange(int(40.0 * fs)) / fs
    ev, sa = tr.dwell_estimates(), estimate_dwell_times(t, tr.sample(t))
    for s in (+1, -1):
        # each switch is located to within one sample; a dwell shorter than 1/fs may be
        # missed (probability ~ k/fs = 1e-3 per dwell)
        assert abs(ev[s].total_time_s - sa[s].total_time_s) <= tr.n_switches / fs + 1 / fs
        assert abs(ev[s].n_exits - sa[s].n_exits) <= 5


def test_censoring_safe_estimator_unbiased_in_short_windows():
    # symmetric chain, k = 1/s, windows of W = 2 mean dwells
    k, w, n_win = 1.0, 2.0, 5000
    m = TelegraphModel.from_rates(k, k)
    tr = m.simulate(w * n_win, seed=4)
    idx = np.searchsorted(tr.times, np.arange(n_win + 1) * w, side="right") - 1
    per_window = []
    for i in range(n_win):
        lo, hi = idx[i], idx[i + 1]
        times = np.concatenate(([i * w], tr.times[lo + 1: hi + 1]))
        per_window.append(estimate_dwell_times(times, tr.states[lo: hi + 1], (i + 1) * w))
    pooled = pool_dwell_estimates(per_window)
    # expected naive value: completed dwells of length u occur at rate k²(W − u)e^{−ku}, so
    # E = ∫u(W−u)e^{−ku} / ∫(W−u)e^{−ku} = 0.477/k for W = 2/k (→ W/3 for W ≪ 1/k)
    u = np.linspace(0, w, 20001)
    wt = (w - u) * np.exp(-k * u)
    naive_expected = np.trapezoid(u * wt, u) / np.trapezoid(wt, u)
    for s in (+1, -1):
        e = pooled[s]
        # pooled ratio: rel SE 1/√n_exits (n ≈ 5000 → 1.4 %), 4 SE
        assert abs(e.mean_s - 1 / k) < 4 * e.stderr_s
        # naive mean of completed dwells is biased low by ~2×; its SE ≈ naive/√n_completed
        assert e.naive_mean_s < 0.55 / k
        assert abs(e.naive_mean_s - naive_expected) < 4 * e.naive_mean_s / math.sqrt(e.n_completed)


def test_long_trace_microseconds_to_hours():
    # one hour at 1 ms mean dwell: ~3.6e6 switches, event list and 1e6 samples
    m = TelegraphModel.from_rates(1e3, 1e3)
    tr = m.simulate(3600.0, seed=9)
    n_exp = m.expected_switches(3600.0)
    assert abs(tr.n_switches - n_exp) < 4 * math.sqrt(n_exp)     # Poisson, symmetric rates
    est = tr.dwell_estimates()
    for s in (+1, -1):
        assert abs(est[s].mean_s - 1e-3) < 4 * est[s].stderr_s     # rel SE 0.075 %
    t = np.linspace(0, 3600.0, 1_000_000)
    x = tr.sample(t)
    # samples 3.6 ms apart, correlation e^{−λΔt} = e^{−7.2}: ~independent, SE ≈ 1/√N
    assert abs(x.mean()) < 4 / math.sqrt(x.size)
    np.testing.assert_array_equal(m.simulate(1.0, seed=9).states,
                                  tr.states[: m.simulate(1.0, seed=9).states.size])
    with pytest.raises(ValueError, match="max_events"):
        m.simulate(3600.0, max_events=10**6)


def test_estimator_input_validation():
    with pytest.raises(ValueError, match="regular"):
        estimate_dwell_times([0.0, 1.0, 3.0], [1, -1, 1])
    with pytest.raises(ValueError, match="distinct"):
        estimate_dwell_times([0.0, 1.0, 2.0], [1, 0, -1])
    one = estimate_dwell_times([0.0, 1.0, 2.0], [1, 1, 1])
    assert one[1].n_exits == 0 and one[1].mean_s == math.inf and one[1].total_time_s == 3.0


# ---------------------------------------------------------------- LLG cross-check

def _llg_schmitt_dwells(delta, h, h_s, alpha, n_spins, n_steps, x_up, x_dn, seed):
    """Run labspin's stochastic-Heun core and count Schmitt-trigger dwells in ±1.

    Uniaxial anisotropy along ẑ (barrier Δ = KV/k_BT), field h·H_K ẑ, damping-like torque
    H_DL = α h_s H_K along σ = ẑ; isotropic demag. Δt = 5e-3/(γ0 H_K); m_z is read every
    2 steps (0.01/(γ0 H_K), far below τ_N = 6/(γ0 H_K)). Returns (time in each state in
    units of 1/(γ0 H_K), exit counts), index 0: state +1, index 1: state −1.
    """
    from labspin.physics.macrospin import Ensemble, Macrospin, Magnet, SpinTorque, Uniaxial

    k, ms, temp = 1e5, 8e5, 300.0
    hk = 2 * k / (MU0 * ms)
    mg = Magnet(ms_A_per_m=ms, alpha=alpha, volume_m3=delta * KB * temp / k,
                anisotropies=(Uniaxial(k, (0, 0, 1)),), demag=(1 / 3, 1 / 3, 1 / 3),
                temperature_K=temp)
    system = Macrospin(mg, (SpinTorque((0, 0, 1), h_dl_per_A=alpha * h_s * hk),))
    unit = 1.0 / (mg.gamma * hk)
    ens = Ensemble(system, n=n_spins, h_ext_Apm=(0, 0, h * hk), current_A=1.0, m0=(0, 0, 1),
                   seed=seed)
    every, seg = 2, 20_000
    state = np.zeros(n_spins, dtype=int)
    t_in = np.zeros(2)
    exits = np.zeros(2)
    for _ in range(n_steps // seg):
        run = ens.run(n_steps=seg, dt_s=5e-3 * unit, record_every=every)
        for mz in run.m[:, 2, :]:
            leave_p = (state == 0) & (mz <= x_dn)
            leave_m = (state == 1) & (mz >= x_up)
            exits += leave_p.sum(), leave_m.sum()
            state[leave_p] = 1
            state[leave_m] = 0
            t_in += np.bincount(state, minlength=2) * every * 5e-3
    return t_in, exits


@pytest.mark.parametrize("n_spins, n_steps", [
    (200, 160_000), pytest.param(600, 400_000, marks=pytest.mark.slow)])
def test_mfpt_matches_stochastic_llg_schmitt_dwells(n_spins, n_steps):
    # Δ = 3, h + h_s = 0.2 split between field and damping-like torque, α = 1. τ_N =
    # (1+α²)Δ/α in units of 1/(γ0 H_K). Theory: 128.7 (+1) and 19.5 (−1); the time from the
    # +1 pole to the barrier top would be 80.1, so the test tells a dwell from a barrier-top
    # passage.
    delta, h, h_s, alpha = 3.0, 0.1, 0.1, 1.0
    x_up, x_dn = dwell_thresholds(h + h_s)
    tau_n = (1 + alpha**2) * delta / alpha
    t_in, exits = _llg_schmitt_dwells(delta, h, h_s, alpha, n_spins, n_steps, x_up, x_dn, 1)
    for i, s in enumerate((+1, -1)):
        theory = mean_first_passage_time(delta, h, h_s, tau_n=tau_n, from_state=s)
        # 4 SE (1/√n_exits) plus 2 % for the finite step Δt = 5e-3 and the sampled threshold
        # crossing (every 0.01/(γ0 H_K))
        assert abs(t_in[i] / exits[i] / theory - 1) < 4 / math.sqrt(exits[i]) + 0.02, (
            s, t_in[i] / exits[i], theory, exits[i])
