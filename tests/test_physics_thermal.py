"""physics.md checks 1–3: thermal equilibrium and free diffusion of the stochastic Heun core.

Tolerances: members are independent, so the standard error of an ensemble average is the
member-to-member spread of the time averages over √N; we allow 4 standard errors plus the
discretisation bias physics.md quotes for Δt = 1 ps (≤ 0.3 %).
"""
import numpy as np
import pytest

from labspin.physics.constants import KB, MU0
from labspin.physics.macrospin import (
    Ensemble,
    Macrospin,
    Magnet,
    Uniaxial,
    langevin,
    langevin_second_moment,
    uniaxial_mz2,
)
from labspin.physics.telegraph import neel_time

T = 300.0


# V = 1e-24 m³, α = 0.5: τ_N = 1.4 ns and a thermal rotation γ'σ_thΔt ≈ 0.024 rad per 1 ps
# step, where physics.md's ≤ 0.3 % step bias holds (a 50× smaller volume gives 0.12 rad per
# step and a visibly biased decay).
VOLUME, ALPHA = 1e-24, 0.5


def _iso(alpha=ALPHA, volume=VOLUME):
    return Magnet(ms_A_per_m=8e5, alpha=alpha, volume_m3=volume,
                  demag=(1 / 3, 1 / 3, 1 / 3), temperature_K=T)


def _sizes(slow):
    return (4000, 40e-9) if slow else (800, 16e-9)


@pytest.mark.parametrize("slow", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_check1_zeeman_langevin(slow):
    n_per, duration = _sizes(slow)
    mg = _iso()
    x = np.array([0.5, 2.0, 5.0, 10.0])
    h = x * KB * T / (MU0 * mg.ms_A_per_m * mg.volume)
    # field along a general direction, to exercise all components
    u = np.array([1.0, 2.0, 2.0]) / 3.0
    hh = np.repeat(h, n_per)
    ens = Ensemble(Macrospin(mg), h_ext_Apm=u[:, None] * hh, m0=u, seed=1)
    run = ens.run(duration, 1e-12, average_from_s=duration / 4)
    proj = np.einsum("i,in->n", u, run.mean_m).reshape(x.size, n_per)
    proj2 = np.einsum("i,j,ijn->n", u, u, run.mean_mm).reshape(x.size, n_per)
    for k in range(x.size):
        for vals, exact in [(proj[k], langevin(x[k])), (proj2[k], langevin_second_moment(x[k]))]:
            se = vals.std(ddof=1) / np.sqrt(n_per)
            assert abs(vals.mean() - exact) < 4 * se + 0.003 * abs(exact), (x[k], vals.mean(), exact, se)


@pytest.mark.parametrize("slow", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_check2_uniaxial_mz2(slow):
    n_per, duration = _sizes(slow)
    volume = VOLUME
    deltas = np.array([0.5, 2.0, 6.0])
    k = deltas * KB * T / volume
    vals = []
    for j, kk in enumerate(k):
        mg = Magnet(ms_A_per_m=8e5, alpha=ALPHA, volume_m3=volume, demag=(1 / 3, 1 / 3, 1 / 3),
                    anisotropies=(Uniaxial(kk, (0, 0, 1)),), temperature_K=T)
        run = Ensemble(Macrospin(mg), n=n_per, m0=(0, 0, 1), seed=10 + j).run(
            duration, 1e-12, average_from_s=duration / 4)
        vals.append(run.mean_mm[2, 2])
    for d, v in zip(deltas, vals):
        exact = uniaxial_mz2(d)
        se = v.std(ddof=1) / np.sqrt(v.size)
        assert abs(v.mean() - exact) < 4 * se + 0.003 * exact, (d, v.mean(), exact, se)


def test_uniaxial_mz2_limits():
    assert uniaxial_mz2(0.0) == pytest.approx(1 / 3)
    assert uniaxial_mz2(1e-6) == pytest.approx(1 / 3, rel=1e-5)
    # large barrier: ⟨m_z²⟩ ≈ 1 − 1/Δ
    assert uniaxial_mz2(200.0) == pytest.approx(1 - 1 / 200 - 1 / 200 ** 2, rel=1e-4)


@pytest.mark.parametrize("slow", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_check3_free_rotational_diffusion(slow):
    n = 40000 if slow else 6000
    mg = _iso()
    tau = neel_time(mg.ms_A_per_m, mg.volume, mg.alpha, T)
    dt = 1e-12
    every = max(1, int(tau / 4 / dt))
    ens = Ensemble(Macrospin(mg), n=n, m0=(0, 0, 1), seed=4)
    run = ens.run(n_steps=every * 10, dt_s=dt, record_every=every)
    mz = run.m[:, 2, :]
    exact = np.exp(-run.times_s / tau)
    se = mz.std(axis=1, ddof=1) / np.sqrt(n)
    assert np.all(np.abs(mz.mean(axis=1) - exact) < 4 * se + 0.003), (mz.mean(1), exact)
