"""physics.md checks 5–7 at T = 0 and the ST-FMR rectification of time domain vs linear response."""
import math

import numpy as np
import pytest

from labspin.physics.macrospin import (
    Ensemble,
    Macrospin,
    Magnet,
    SpinTorque,
    Uniaxial,
    auto_oscillation,
    equilibrium,
    kapitza_stability_h_dl,
    kittel_inplane,
    kittel_normal,
    kittel_perpendicular,
    linear_response,
    sine,
)
from labspin.physics.readout import HallBar

ALPHA_SMALL = 1e-3   # resonance shifts by O(α²) = 1e-6: below the 1e-4 tolerances used here


def _film(**kw):
    base = dict(ms_A_per_m=1.1e6, alpha=ALPHA_SMALL, thickness_m=2e-9, area_m2=1e-14,
                demag=(0.0, 0.0, 1.0))
    base.update(kw)
    return Magnet(**base)


def _resonance(system, h):
    """Get f (Hz) from the Jacobian eigenvalues at the equilibrium in field h (3, N)."""
    eq = equilibrium(system, h, 0.0, m0=h / np.linalg.norm(h, axis=0) + 0.05)
    assert eq.converged.all() and eq.stable.all()
    return np.abs(eq.eigenvalues[0].imag) * np.sqrt(1 + system.magnet.alpha ** 2) / (2 * np.pi), eq


def test_check5_kittel_inplane_with_anisotropy():
    mg = _film(anisotropies=(Uniaxial(4e3, (1, 0, 0)),), ks_J_per_m2=2e-4)
    h = np.zeros((3, 4))
    h[0] = [1e4, 3e4, 8e4, 2e5]
    f, _ = _resonance(Macrospin(mg), h)
    np.testing.assert_allclose(f, kittel_inplane(h[0], mg.meff, mg.hk_inplane), rtol=1e-4)


def test_check5_kittel_perpendicular_both_sides_of_saturation():
    mg = _film(ks_J_per_m2=2.0e-3)        # strong interface anisotropy: M_eff < 0
    assert mg.meff < 0
    hk = -mg.meff
    h = np.zeros((3, 4))
    h[0] = [0.3 * hk, 0.7 * hk, 1.3 * hk, 2.0 * hk]
    f, _ = _resonance(Macrospin(mg), h)
    np.testing.assert_allclose(f, kittel_perpendicular(h[0], mg.meff), rtol=1e-4)


def test_check5_kittel_field_along_normal():
    mg = _film(ks_J_per_m2=5e-4)
    hz = np.zeros((3, 2))
    hz[2] = [1.5 * mg.meff, 3.0 * mg.meff]     # above saturation
    f, _ = _resonance(Macrospin(mg), hz)
    np.testing.assert_allclose(f, kittel_normal(hz[2], mg.meff), rtol=1e-4)


def test_check5_rk4_ringdown_frequency():
    """Time domain: RK4 free precession counts the Kittel period to 1e-5."""
    mg = _film()
    h = 5e4
    ens = Ensemble(Macrospin(mg), h_ext_Apm=(h, 0, 0), m0=(1, 0.02, 0.0))
    dt = 0.2e-12
    run = ens.run(n_steps=100_000, dt_s=dt, record_every=1)
    y = run.m[:, 1, 0]
    up = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
    tc = run.times_s[up] + dt * (-y[up] / (y[up + 1] - y[up]))
    f = (len(tc) - 1) / (tc[-1] - tc[0])
    assert f == pytest.approx(kittel_inplane(h, mg.meff), rel=1e-5)


def test_check6_auto_oscillation():
    mg = _film(alpha=0.02, ms_A_per_m=8e5)
    h_dl = 0.3 * mg.alpha * mg.meff            # m_z = 0.3
    system = Macrospin(mg, (SpinTorque((0, 0, 1), h_dl_per_A=h_dl / 1e-3),))
    ens = Ensemble(system, current_A=1e-3, m0=(1, 0, 0.05))
    dt = 0.5e-12
    ens.run(40e-9, dt)                          # reach the limit cycle
    run = ens.run(n_steps=20_000, dt_s=dt, record_every=1, average_from_s=0.0)
    mz_exp, f_exp = auto_oscillation(h_dl, mg.alpha, mg.meff, mg.gamma)
    assert run.mean_m[2, 0] == pytest.approx(mz_exp, rel=1e-3)
    phi = np.unwrap(np.arctan2(run.m[:, 1, 0], run.m[:, 0, 0]))
    f = abs(phi[-1] - phi[0]) / (2 * np.pi * (run.times_s[-1] - run.times_s[0]))
    assert f == pytest.approx(f_exp, rel=1e-3)


def _isotropic(alpha=0.05, sigma=(0, 0, -1)):
    mg = Magnet(ms_A_per_m=1e6, alpha=alpha, thickness_m=1.5e-9, area_m2=3.6e-15,
                demag=(1 / 3, 1 / 3, 1 / 3))
    return Macrospin(mg, (SpinTorque(sigma, h_dl_per_A=1e5),))   # 1e5 A/m per A


def test_check7_kapitza_stability_exchange_at_alpha_h():
    """σ = −Ĥ: the anti-aligned state is stable exactly for H_DL > αH (T = 0)."""
    system = _isotropic()
    h = 8e3
    ic = system.magnet.alpha * h / 1e5
    currents = ic * np.array([0.9, 0.99, 1.01, 1.1, 2.0])
    # −Ĥ is a fixed point for σ ∥ −Ĥ at any current: polish there, read its stability
    eq = equilibrium(system, (0, 0, h), currents, m0=(1e-4, 0.0, -1.0), max_relax_periods=0)
    assert np.all(eq.m[2] < -0.999999)
    np.testing.assert_array_equal(eq.stable, [False, False, True, True, True])
    # well below I_c a magnet started near −Ĥ relaxes back to the field direction
    eq = equilibrium(system, (0, 0, h), 0.8 * ic, m0=(0.01, 0.0, -1.0))
    assert eq.m[2][0] > 0.999999 and eq.stable[0]


@pytest.mark.parametrize("psi_deg", [180.0, 150.0, 120.0])
def test_check7_stability_line_general_angle(psi_deg):
    """Eigenvalues at m = −Ĥ change sign where α(H² − h²) + (1 − α²) h (H·σ̂) = 0."""
    psi = math.radians(psi_deg)
    h = 8e3
    sigma = (math.sin(psi), 0.0, math.cos(psi))
    system = _isotropic(sigma=sigma)
    hc = kapitza_stability_h_dl(h, system.magnet.alpha, psi)
    from labspin.physics.macrospin.equilibrium import _jacobian
    for factor, stable in [(0.98, False), (1.02, True)]:
        cur = np.array([factor * hc / 1e5])
        # fixed point near −Ĥ with the current on: polish from there
        eq = equilibrium(system, (0, 0, h), cur, m0=(0.0, 0.0, -1.0), max_relax_periods=0)
        if stable:
            assert eq.stable[0] and eq.m[2, 0] < -0.99
        else:
            jac, _, _ = _jacobian(system, eq.m, np.array([[0.0], [0.0], [h]]), cur)
            tr = jac[0, 0] + jac[1, 1]
            assert (not eq.converged[0]) or tr[0] > 0


def test_check7_sigma_perpendicular_never_antialigns():
    system = _isotropic(sigma=(1, 0, 0))
    h = 8e3
    currents = np.linspace(0, 20 * system.magnet.alpha * h / 1e5, 41)
    rng = np.random.default_rng(2)
    starts = rng.normal(size=(3, currents.size))
    starts[2] -= 2.0                              # start in the anti-aligned hemisphere
    ens = Ensemble(system, h_ext_Apm=(0, 0, h), current_A=currents, m0=starts)
    ens.run(200e-9, 2e-12)
    assert ens.m[2].min() > -1e-3                 # never below the equator
    # and beyond h = H it parks on the equator
    big = currents * 1e5 > 1.05 * h
    assert np.all(np.abs(ens.m[2][big]) < 1e-2)


def test_stfmr_rectification_time_domain_matches_linear_response():
    """V_mix = ⟨I(t) R(m(t))⟩ from RK4 agrees with ½ I_rf² Re[∇R·χ_I] within 1 %."""
    mg = Magnet(ms_A_per_m=1.1e6, alpha=0.01, thickness_m=2e-9, area_m2=1e-14)
    sot = SpinTorque.sot(mg, xi_dl=0.1, xi_fl=0.02, hm_thickness_m=6e-9, hm_width_m=10e-6)
    system = Macrospin(mg, (sot,), oersted_per_A=(0.0, -1 / (2 * 10e-6), 0.0))
    bar = HallBar(r0=200.0, dr_amr=1.0)
    f = 8e9
    phi = math.radians(45)
    hres = 1.0                                       # scan around the resonance field
    from labspin.physics.macrospin import kittel_inplane as kit
    hs = np.linspace(2e4, 9e4, 400)
    hres = hs[np.argmin(np.abs(kit(hs, mg.meff) - f))]
    fields = hres + np.linspace(-4, 4, 9) * (2 * np.pi * f * mg.alpha / mg.gamma)
    u = np.array([math.cos(phi), math.sin(phi), 0.0])
    h = u[:, None] * fields[None, :]
    eq = equilibrium(system, h, 0.0, m0=u)
    i_rf = 1e-4                                       # small: nonlinearity ∝ I_rf² below 1e-3
    chi = linear_response(system, eq.m, f, h, drive="current")
    v_lin = 0.5 * i_rf ** 2 * np.real((bar.drxx_dm(eq.m) * chi).sum(0))
    ens = Ensemble(system, h_ext_Apm=h, m0=eq.m, waves=(sine(f, current_A=i_rf),))
    dt = 1.0 / f / 64
    ens.run(n_steps=64 * 400, dt_s=dt)               # ring-up: ≫ 1/(α ω)
    run = ens.run(n_steps=64 * 200, dt_s=dt, record_every=1)
    t = run.times_s
    v = (i_rf * np.sin(2 * np.pi * f * t))[:, None] * bar.rxx(run.m.transpose(1, 0, 2))
    v_td = v.mean(0)
    scale = np.abs(v_lin).max()
    np.testing.assert_allclose(v_td, v_lin, atol=0.01 * scale)
