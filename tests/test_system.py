"""Parameters, torques per ampere and drives: values and the errors a user can cause."""
import math

import numpy as np
import pytest

from labspin.physics.constants import E_CHARGE, GAMMA0, HBAR, MU0, gamma0_from_g
from labspin.physics.macrospin import (
    Ensemble,
    Macrospin,
    Magnet,
    SpinTorque,
    Uniaxial,
    pulse,
    sheet_oersted_per_A,
    sine,
    step,
)


def test_sot_field_per_ampere_matches_formula():
    mg = Magnet(ms_A_per_m=1e6, alpha=0.01, thickness_m=1e-9, area_m2=1e-12)
    t = SpinTorque.sot(mg, xi_dl=0.2, xi_fl=-0.05, hm_thickness_m=5e-9, hm_width_m=2e-6)
    j_per_A = 1 / (5e-9 * 2e-6)
    expected = HBAR * 0.2 * j_per_A / (2 * E_CHARGE * MU0 * 1e6 * 1e-9)
    assert t.h_dl_per_A == pytest.approx(expected)
    assert t.h_fl_per_A == pytest.approx(-0.25 * expected)
    assert t.sigma == (0.0, -1.0, 0.0)        # design.md: along the Oersted field


def test_damping_like_torque_drives_toward_sigma():
    """H_DL > 0 drives m toward +σ (design.md): an isotropic magnet ends along σ."""
    mg = Magnet(ms_A_per_m=1e6, alpha=0.1, volume_m3=1e-24, demag=(1 / 3,) * 3)
    system = Macrospin(mg, (SpinTorque((0, 1, 0), h_dl_per_A=1e3),))
    ens = Ensemble(system, current_A=1.0, m0=(1, 0, 0.1))
    ens.run(60e-9, 1e-12)   # relaxation rate γ0·H_DL ≈ 2.2e8 /s
    assert ens.m[1, 0] > 0.9999
    ens = Ensemble(system, current_A=-1.0, m0=(1, 0, 0.1))
    ens.run(60e-9, 1e-12)   # relaxation rate γ0·H_DL ≈ 2.2e8 /s
    assert ens.m[1, 0] < -0.9999


def test_stt_and_oersted_and_g():
    mg = Magnet(ms_A_per_m=1e6, alpha=0.01, thickness_m=2e-9, area_m2=1e-15, g=2.1)
    t = SpinTorque.stt(mg, eta=0.5)
    assert t.h_dl_per_A == pytest.approx(HBAR * 0.5 / (2 * E_CHARGE * MU0 * 1e6 * 2e-9 * 1e-15))
    assert sheet_oersted_per_A(10e-6) == pytest.approx((0.0, -5e4, 0.0))
    assert mg.gamma == pytest.approx(gamma0_from_g(2.1))
    assert gamma0_from_g(2.0023) == pytest.approx(GAMMA0, rel=2e-3)


def test_meff_and_hk():
    mg = Magnet(ms_A_per_m=1e6, alpha=0.01, thickness_m=1e-9, area_m2=1e-14,
                ks_J_per_m2=5e-4, anisotropies=(Uniaxial(2e3, (1, 0, 0)),))
    hk_perp = 2 * 5e5 / (MU0 * 1e6)
    assert mg.meff == pytest.approx(1e6 - hk_perp)
    assert mg.hk_inplane == pytest.approx(2 * 2e3 / (MU0 * 1e6))


@pytest.mark.parametrize("kwargs, message", [
    (dict(ms_A_per_m=-1, alpha=0.01, volume_m3=1e-24), "ms_A_per_m must be > 0"),
    (dict(ms_A_per_m=1e6, alpha=0, volume_m3=1e-24), "alpha must be > 0"),
    (dict(ms_A_per_m=1e6, alpha=0.01), "give the magnet's volume_m3"),
    (dict(ms_A_per_m=1e6, alpha=0.01, volume_m3=1e-24, demag=(0.5, 0.5, 0.5)), "sum to 1"),
    (dict(ms_A_per_m=1e6, alpha=0.01, volume_m3=1e-24, temperature_K=-1), "temperature_K"),
    (dict(ms_A_per_m=1e6, alpha=0.01, volume_m3=1e-24, area_m2=1e-12), "disagrees"),
])
def test_bad_magnet_parameters_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Magnet(**kwargs)


def test_bad_ensemble_inputs_name_the_problem():
    system = Macrospin(Magnet(ms_A_per_m=1e6, alpha=0.01, volume_m3=1e-24))
    with pytest.raises(ValueError, match="h_ext_Apm must have shape"):
        Ensemble(system, n=4, h_ext_Apm=np.zeros((3, 5)))
    with pytest.raises(ValueError, match="disagree on N"):
        Ensemble(system, h_ext_Apm=np.zeros((3, 5)), current_A=np.zeros(4))
    with pytest.raises(ValueError, match="sigma must be a non-zero"):
        SpinTorque((0, 0, 0), 1.0)
    with pytest.raises(ValueError, match="dt_s must be > 0"):
        Ensemble(system).run(1e-9, 0.0)
    with pytest.raises(ValueError, match="pulse width"):
        pulse(0.0, -1e-9, current_A=1.0)


def test_waves_pulse_step_and_sine_act_when_they_should():
    """A field pulse rotates m only during the pulse; a sine drives at its frequency."""
    mg = Magnet(ms_A_per_m=1e6, alpha=0.5, volume_m3=1e-24, demag=(1 / 3,) * 3)
    system = Macrospin(mg)
    ens = Ensemble(system, h_ext_Apm=(0, 0, 1e4), m0=(0, 0, 1),
                   waves=(pulse(1e-9, 2e-9, field_Apm=(0, 0, -1e6), rise_s=0.1e-9),))
    run = ens.run(n_steps=6000, dt_s=1e-12, record_every=100)
    mz = run.m[:, 2, 0]
    assert mz[(run.times_s < 0.95e-9)].min() > 0.999     # before: untouched
    # a reversed field pulse with a tiny tilt-free start does not switch (m ∥ H: no torque)
    ens2 = Ensemble(system, h_ext_Apm=(0, 0, 1e4), m0=(0.1, 0, 1),
                    waves=(step(1e-9, field_Apm=(0, 0, -1e6)),))
    ens2.run(n_steps=4000, dt_s=1e-12)
    assert ens2.m[2, 0] < -0.999                         # a step from a tilted start switches
    w = sine(5e9, current_A=1e-3, phase_rad=0.5, stop_s=1e-9)
    assert (w.frequency_Hz, w.current_A, w.stop_s) == (5e9, 1e-3, 1e-9)
    assert math.isinf(step(0.0, current_A=1.0).stop_s)
