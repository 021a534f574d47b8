"""Tests for labspin.physics.domainwall: the thermally jittering pinned wall as a Gaussian random source.

Statistical tolerances are 4 standard errors. For a variance estimated from n_w independent
walls, each sampled n times at spacing h, the effective number of independent samples is
N_eff = n_w·n² / Σ_ij ρ(|i−j|·h)² (Gaussian process; ρ the normalized autocorrelation of q from
the linearized model), and std(s²)/σ² = sqrt(2/N_eff).
"""
import math

import numpy as np
import pytest
from scipy import stats

from labspin.physics.constants import GAMMA0, KB, MU0
from labspin.physics.domainwall import DomainWall, DomainWallParams, Pulse

DW = DomainWall()
GATES = (-1.0, 0.0, 1.0)


def n_effective(n_walls, n_snap, spacing, gate_V=0.0):
    """Effective independent samples for a variance from n_snap snapshots spaced ``spacing`` (s)."""
    lag = np.abs(np.subtract.outer(np.arange(n_snap), np.arange(n_snap))) * spacing
    return n_walls * n_snap ** 2 / np.sum(DW.q_autocorrelation(lag, gate_V) ** 2)


# --- statics -------------------------------------------------------------------------------

def test_well_from_wall_energy_and_vcma_sign():
    p = DW.params
    for v in GATES:
        k_eff = p.K_eff0 + p.xi_vcma * v / (p.t_ox * p.t_F)
        k = 8.0 * math.sqrt(p.A_ex * k_eff) * p.t_F * p.notch_depth / p.notch_half_length ** 2
        assert DW.stiffness(v) == pytest.approx(k, rel=1e-12)
        assert DW.sigma_q(v) == pytest.approx(math.sqrt(KB * p.temperature / k), rel=1e-12)
        gamma_q = 2 * p.alpha * MU0 * p.Ms * p.t_F * p.width / (GAMMA0 * math.sqrt(p.A_ex / k_eff))
        assert DW.friction(v) == pytest.approx(gamma_q, rel=1e-12)
        assert DW.correlation_time(v) == pytest.approx(gamma_q / k, rel=1e-12)
    # documented convention: V > 0 raises K_eff, stiffens the well, narrows the reads
    k = [DW.stiffness(v) for v in GATES]
    s = [DW.sigma_q(v) for v in GATES]
    assert k[0] < k[1] < k[2] and s[0] > s[1] > s[2]
    # the barrier between abutting notches keeps the wall in its site (≫ k_B T)
    assert DW.barrier(-1.0) / DW.kT > 20
    with pytest.raises(ValueError):
        DW.K_eff(-10.0)


def test_linearized_autocorrelation_integrates_to_correlation_time():
    """∫ρ_q dt = Γ_q/k although the wall rings (underdamped) for ~1000 τ_q."""
    tau, te = DW.correlation_time(), DW.decorrelation_time()
    assert DW.pinning_frequency() > 0 and te > 100 * tau
    t = np.linspace(0.0, 40 * te, 400_001)
    rho = DW.q_autocorrelation(t)
    integral = np.sum(0.5 * (rho[1:] + rho[:-1])) * (t[1] - t[0])
    assert integral == pytest.approx(tau, rel=2e-3)
    assert rho[0] == pytest.approx(1.0)


# --- stationary statistics from the stochastic (q, φ) dynamics ----------------------------

N_WALLS = 2048
BURN = 8      # decorrelation times from the δ start (q = q_site, φ = 0): residual ~e^{-16}
SPAN = 12     # decorrelation times sampled after the burn-in


@pytest.fixture(scope="module")
def stationary():
    """q − q_site at snapshots spaced τ_e/2 after the burn-in, per gate (different seeds)."""
    out = {}
    for j, v in enumerate(GATES):
        te, dt = DW.decorrelation_time(v), DW.default_dt(v)
        every = int(round(0.5 * te / dt))
        tr = DW.simulate(N_WALLS, (BURN + SPAN) * te, dt, gate_V=v, site=1, seed=100 + j,
                         init="site", record_every=every)
        keep = tr.t >= BURN * te - 0.5 * every * dt
        out[v] = (tr.q[keep] - DW.site_position(1), every * dt)
    return out


def test_stationary_variance_is_kT_over_k(stationary):
    for v, (x, h) in stationary.items():
        n_eff = n_effective(N_WALLS, x.shape[0], h, v)
        ratio = np.mean(x ** 2) / DW.sigma_q(v) ** 2
        tol = 4 * math.sqrt(2 / n_eff)
        print(f"V={v:+.0f}: <x²>/(kT/k) = {ratio:.4f} ± {tol / 4:.4f} (N_eff = {n_eff:.0f})")
        assert abs(ratio - 1) < tol


def test_q_is_gaussian(stationary):
    x, h = stationary[0.0]
    stride = (x.shape[0] - 1) // 2                  # first, middle, last snapshot
    assert stride * h >= 5 * DW.decorrelation_time()  # |ρ| ≤ e^{-5}: independent samples
    z = x[::stride].ravel() / DW.sigma_q(0.0)
    p_norm = stats.normaltest(z).pvalue
    p_ks = stats.kstest(z, "norm").pvalue           # the predicted N(q_site, kT/k), no fit
    print(f"normaltest p = {p_norm:.3f}, KS p = {p_ks:.3f}, n = {z.size}")
    assert p_norm > 0.01 and p_ks > 0.01


def test_width_follows_stiffness_and_gate_sign(stationary):
    var = {v: np.mean(x ** 2) for v, (x, _) in stationary.items()}
    for v, (x, h) in stationary.items():
        if v == 0.0:
            continue
        tol = 4 * math.sqrt(2 / n_effective(N_WALLS, x.shape[0], h, v)
                            + 2 / n_effective(N_WALLS, x.shape[0], h, 0.0))
        measured = var[v] / var[0.0]
        predicted = DW.stiffness(0.0) / DW.stiffness(v)     # σ_q² ∝ 1/k
        print(f"V={v:+.0f}: σ²(V)/σ²(0) = {measured:.4f}, k(0)/k(V) = {predicted:.4f}")
        assert abs(measured / predicted - 1) < tol
    assert var[-1.0] > var[0.0] > var[1.0]                  # V > 0 stiffens → narrower


def test_integrated_correlation_time():
    """Var over walls of the time average q̄_T → 2σ²·τ_q/T, τ_q = Γ_q/k (underdamped or not).

    The exact finite-T, discrete-sampling expectation from the linearized model is
    σ²/n²·[n + 2Σ_j (n−j)ρ(jh)]; the estimator's relative std is sqrt(2/N_walls).
    """
    n_walls, span = 4096, 20
    te, dt = DW.decorrelation_time(), DW.default_dt()
    every = 10
    tr = DW.simulate(n_walls, span * te, dt, site=0, seed=7, record_every=every)
    qbar = tr.q.mean(axis=0) - DW.site_position(0)
    n, h = tr.q.shape[0], every * dt
    rho = DW.q_autocorrelation(h * np.arange(1, n))
    s2 = DW.sigma_q() ** 2
    expected = s2 / n ** 2 * (n + 2 * np.sum((n - np.arange(1, n)) * rho))
    measured = np.mean(qbar ** 2)
    tau_meas = measured * n * h / (2 * s2)
    tau_pred = expected * n * h / (2 * s2)          # includes the finite-T correction
    print(f"τ_meas = {tau_meas:.4g} s, τ_q = Γ_q/k = {DW.correlation_time():.4g} s, "
          f"finite-T expectation {tau_pred:.4g} s, ratio {measured / expected:.4f}")
    assert abs(measured / expected - 1) < 4 * math.sqrt(2 / n_walls)
    assert tau_pred == pytest.approx(DW.correlation_time(), rel=0.05)


# --- readout, sites and moves ----------------------------------------------------------------

def test_reads_gaussian_mean_at_site_and_site_moves_mean():
    n, te = 500, DW.decorrelation_time()
    means = {}
    for site, seed in ((0, 1), (2, 2)):
        r = DW.read(n, 8 * te, gate_V=0.0, site=site, seed=seed)
        m, s = DW.expected_read_mean(site), DW.expected_read_std(0.0)
        print(f"site {site}: mean {r.mean():.6e} S (expect {m:.6e}), std {r.std():.3e} "
              f"(expect {s:.3e}), lag-1 corr {np.corrcoef(r[1:], r[:-1])[0, 1]:+.3f}")
        assert abs(r.mean() - m) < 4 * s / math.sqrt(n)
        assert abs(r.std() / s - 1) < 4 * math.sqrt(1 / (2 * n))
        assert abs(np.corrcoef(r[1:], r[:-1])[0, 1]) < 4 / math.sqrt(n)   # 8 τ_e apart
        means[site] = r.mean()
    shift = DW.expected_read_mean(2) - DW.expected_read_mean(0)
    assert shift == pytest.approx(DW.readout.slope * 2 * DW.params.site_pitch)
    assert abs(means[2] - means[0] - shift) < 4 * math.sqrt(2 / n) * DW.expected_read_std()
    # conductance is linear in q under the pillar; resistance is its inverse
    q = np.linspace(DW.readout.x0, DW.readout.x1, 5)
    assert np.allclose(np.diff(DW.readout.conductance(q), 2), 0.0, atol=1e-15)
    assert DW.readout.resistance(DW.readout.x1) == pytest.approx(1 / DW.readout.g_p)


def test_current_pulse_moves_wall_between_sites():
    for a, b in ((0, 1), (2, 1)):
        res = DW.move(a, b, n_walls=256, seed=3)
        assert res.pulse.u * (b - a) > 0 and abs(res.pulse.u) > DW.walker_velocity()
        print(f"{a}→{b}: pulse {res.pulse.duration * 1e9:.2f} ns at u = {res.pulse.u:.1f} m/s, "
              f"success {res.success:.3f}")
        assert res.success > 0.97
        x = res.q[res.pinned] - DW.site_position(b)
        assert abs(x.mean()) < 4 * DW.sigma_q() / math.sqrt(x.size)


def test_deterministic_drive_textbook_velocities():
    """T = 0, wall beyond the notches: steady v = γ0ΔH/α (H < H_W) and v = βu/α (u < u_W)."""
    dw = DomainWall(DomainWallParams(n_sites=1))
    far = np.array([1e-6]), np.array([0.0])
    delta, a = dw.wall_width(), dw.params.alpha
    h_w = a * dw.params.K_perp / (MU0 * dw.params.Ms)          # Walker field α·H_K⊥/2
    for pulse, v_expect in ((Pulse(H_z=0.5 * h_w), GAMMA0 * delta * 0.5 * h_w / a),
                            (Pulse(u=0.5 * dw.walker_velocity()),
                             dw.params.beta * 0.5 * dw.walker_velocity() / a)):
        tr = dw.simulate(1, 1000e-9, 20e-12, state=far, pulse=pulse, temperature=0.0,
                         record_every=1000)
        v = (tr.q[-1, 0] - tr.q[-11, 0]) / (tr.t[-1] - tr.t[-11])
        assert v == pytest.approx(v_expect, rel=1e-3)


def test_seeded_runs_reproduce():
    a = DW.simulate(300, 5e-9, seed=9, record_every=50)
    b = DW.simulate(300, 5e-9, seed=9, record_every=50)
    c = DW.simulate(300, 5e-9, seed=10, record_every=50)
    assert np.array_equal(a.q, b.q) and np.array_equal(a.phi, b.phi)
    assert not np.array_equal(a.q, c.q)


# --- larger run ----------------------------------------------------------------------------

@pytest.mark.slow
def test_stationary_variance_large_and_step_converged():
    """8192 walls, samples 2 τ_e apart: ⟨x²⟩ = k_BT/k to ~0.4 % at dt and 2·dt."""
    te = DW.decorrelation_time()
    for f in (1.0, 2.0):
        dt = f * DW.default_dt()
        every = int(round(2 * te / dt))
        tr = DW.simulate(8192, 40 * te, dt, site=2, seed=21, init="site", record_every=every)
        x = tr.q[tr.t >= 10 * te - 0.5 * every * dt] - DW.site_position(2)
        n_eff = n_effective(8192, x.shape[0], every * dt)
        ratio = np.mean(x ** 2) / DW.sigma_q() ** 2
        print(f"dt = {dt:.3g} s: <x²>/(kT/k) = {ratio:.5f} ± {math.sqrt(2 / n_eff):.5f}")
        assert abs(ratio - 1) < 4 * math.sqrt(2 / n_eff)
        assert stats.kstest(x[-1] / DW.sigma_q(), "norm").pvalue > 0.01
