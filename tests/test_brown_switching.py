"""labspin.physics.brown_switching: the Fokker–Planck switching probability against Brown's exact
mean first-passage time (labspin.physics.telegraph), its numerical convergence, and the stochastic
LLG of the simulated pillar (the physics the switching-probability analysis fits)."""
import numpy as np
import pytest
from scipy.special import erfc

from labspin.physics.brown_switching import BrownGrid, neel_time_from_delta, switching_probability
from labspin.physics.telegraph import mean_first_passage_time, neel_time
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.virtual_bench import VirtualBench, VirtualMagnet


def test_constant_drive_escapes_at_brown_rate():
    """At a constant drive with a high barrier, P(t) = 1 − exp(−t/T) with T Brown's exact
    mean first-passage time (physics.md check 4): the effective rate −ln(1 − P)/t equals 1/T
    within 0.5 % for Δ(1 + h)² ≥ 19 (corrections ~ 1/barrier: 1.5 % at a barrier of 11)."""
    for delta, h in [(30.0, -0.2), (45.0, -0.3)]:
        t_mfpt = mean_first_passage_time(delta, h, tau_n=1.0, from_state=+1)
        t = np.array([0.3, 1.0, 3.0]) * t_mfpt
        p = switching_probability(delta, h, t, h_hold=h, n_cells=160)
        assert -np.log1p(-p) / (t / t_mfpt) == pytest.approx(1.0, abs=5e-3)


def test_grid_and_edges_converge():
    """The defaults (96 cells, 6 edge stages) against 320 cells and 16 stages: ≤ 2.5e-3
    absolute, across barriers 22–60 and drives up to 0.95 of the critical one."""
    for delta, h, w, r in [(22.6, -0.6, 0.5, 0.1), (22.6, -0.9, 0.3, 0.1),
                           (60.0, -0.95, 0.2, 0.05)]:
        ref = switching_probability(delta, h, [w], rise=r, n_cells=320, n_edge=16,
                                    start="pole")[0]
        p = switching_probability(delta, h, [w], rise=r, start="pole")[0]
        assert abs(p - ref) < 2.5e-3, (delta, h, p, ref)


def test_equilibrium_and_committor():
    g = BrownGrid(96)
    q = g.generator(20.0, 0.1)
    assert np.allclose(q.sum(axis=0), 0.0, atol=1e-9)          # mass conserved
    c = g.centers
    boltzmann = g.widths * np.exp(20.0 * c * c + 4.0 * c)
    assert np.allclose(q @ boltzmann / boltzmann.max(), 0.0, atol=1e-9)   # exact equilibrium
    commit = g.committor(20.0, 0.0)
    assert commit[0] == 1.0 and commit[-1] == 0.0
    # near the barrier top the splitting probability is ½·erfc(√Δ·x) up to the 1/(1 − x²)
    # factor of the diffusion (≤ 1 % within |x| < 0.3 at Δ = 20)
    top = np.abs(c) < 0.3
    assert commit[top] == pytest.approx(0.5 * erfc(np.sqrt(20.0) * c[top]), abs=0.01)
    assert np.all(np.diff(commit) <= 1e-12)
    with pytest.raises(ValueError, match="start"):
        switching_probability(20.0, -0.5, [1.0], start="thermal")


def test_neel_time_from_delta_matches_telegraph():
    sm = load_sample("mtj_pillar", ["mu0_meff_T=-0.12", "alpha=0.1"])
    mg = sm.system.magnet
    d = np.linalg.eigvalsh(mg.d_tensor())
    mu0_hk = 1.25663706212e-6 * (d[1] - d[0])
    assert neel_time_from_delta(sm.barrier(), mg.alpha, mu0_hk, mg.gamma) == pytest.approx(
        neel_time(mg.ms_A_per_m, mg.volume, mg.alpha, mg.temperature_K, mg.gamma), rel=1e-9)


def test_simulated_pillar_switches_as_the_fokker_planck_says():
    """The simulated bench's write pulse (VirtualBench.pulse_trials: the stochastic LLG,
    thermalized in the well at the holding drive, a trapezoidal pulse, 2 ns of relaxation,
    then the side of the barrier) against switching_probability with the default
    start="well": 4000 trials per point agree within 3.5 binomial σ plus the model's
    numerical error (2.5e-3), from the thermal regime to above I_c0 (α = 0.1, Δ = 22.6),
    and at a short pulse far above I_c0 where the start matters (α = 0.03, Δ = 45:
    P = 0.40 from the well, 0.30 from the pole), which the pole start misses by > 8σ."""
    n = 4000
    cases = [(["mu0_meff_T=-0.12", "alpha=0.1"],
              [(0.6, 5e-9, 1e-9), (0.8, 3e-9, 1e-9), (1.1, 2.5e-9, 1e-9), (1.2, 2e-9, 5e-10)]),
             (["alpha=0.03"], [(2.0, 2e-9, 5e-10)])]
    for overrides, points in cases:
        sm = load_sample("mtj_pillar", overrides)
        mg = sm.system.magnet
        d = np.linalg.eigvalsh(mg.d_tensor())
        ic0 = mg.alpha * (d[1] - d[0]) / sm.system.torques[0].h_dl_per_A
        tau_n = neel_time(mg.ms_A_per_m, mg.volume, mg.alpha, mg.temperature_K, mg.gamma)
        bench = VirtualBench(sm, seed=11, magnet=VirtualMagnet(axis="z", remanence_T=0.0))
        for i_frac, width, rise in points:
            m = bench.pulse_trials(-i_frac * ic0, width, rise, n=n, seed=11)
            sim = float(np.mean(m[2] < 0))
            kw = {"rise": rise / tau_n}
            model = switching_probability(sm.barrier(), -i_frac, [width / tau_n], **kw)[0]
            sigma = np.sqrt(model * (1 - model) / n)
            assert abs(sim - model) < 3.5 * sigma + 2.5e-3, (i_frac, width, sim, model)
            if i_frac == 2.0:
                pole = switching_probability(sm.barrier(), -i_frac, [width / tau_n],
                                             start="pole", **kw)[0]
                assert abs(sim - pole) > 8 * sigma, (sim, pole)
