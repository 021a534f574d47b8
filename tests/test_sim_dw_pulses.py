"""Domain-wall moves by current on the virtual bench (sim_backend/virtual_bench.py).

Sign convention: I > 0 flows along +x, electrons along −x, and spin transfer moves the wall
along the electron flow: I > 0 → lower site index, I < 0 → higher. Moves clamp at the end
sites. Two paths: a pulse generator's ns pulse (apply_current_pulse → the 1D (q, φ) model
of labspin.physics.domainwall, thermal) and a source meter's current step (edge-triggered: one site
per rise above the quasi-static depinning current).
"""
import numpy as np
import pytest

from labspin.physics.constants import E_CHARGE, MU_B
from labspin.sim_backend.wirings import simulated_bench


def _bench(seed=0, overrides=None):
    return simulated_bench("gaussian_source", "dw_gaussian_source", overrides or [], seed=seed)


def test_depinning_current_is_the_walker_limit_of_the_1d_model():
    vb = _bench().virtual
    w, p = vb.wall, vb.wall.params
    # u = P g μB J / (2 e Ms), J = I / (width · t_F); u_W = γ0 Δ K⊥/(μ0 Ms) ≪ kℓΔ/(βG) here
    u_per_A = p.polarization * 2 * MU_B / (2 * E_CHARGE * p.Ms) / (p.width * p.t_F)
    assert vb.dw_depinning_current_A() == pytest.approx(w.walker_velocity() / u_per_A)
    assert 0.1e-3 < vb.dw_depinning_current_A() < 0.3e-3
    assert vb.dw_drift_velocity(1e-3) < 0          # I > 0: electrons (and the wall) go −x
    # VCMA: V_g < 0 lowers K_eff, widens the wall (u_W ∝ Δ) and raises the threshold
    vb.set_gate_voltage("gate", -1.0)
    i_neg = vb.dw_depinning_current_A()
    vb.set_gate_voltage("gate", 1.0)
    assert i_neg > vb.dw_depinning_current_A()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ns_pulse_moves_one_site_along_the_electron_flow_and_not_below_threshold(seed):
    vb = _bench(seed).virtual
    i_dep = vb.dw_depinning_current_A()
    vb.set_wall_site(1)
    for _ in range(3):                      # below threshold: the wall stays in its notch
        vb.apply_current_pulse(-0.4 * i_dep, 3e-9)
        vb.apply_current_pulse(0.4 * i_dep, 3e-9)
        assert vb.wall_site == 1
    t = vb.clock.now()
    vb.apply_current_pulse(-1.5 * i_dep, 3e-9)      # I < 0 → +x → the next site up
    assert vb.wall_site == 2
    assert vb.clock.now() == pytest.approx(t + 3e-9)
    vb.apply_current_pulse(-1.5 * i_dep, 3e-9)
    assert vb.wall_site == 3
    vb.apply_current_pulse(-1.5 * i_dep, 3e-9)      # clamped at the last site
    assert vb.wall_site == 3
    for want in (2, 1, 0, 0):                        # I > 0 → −x, clamped at site 0
        vb.apply_current_pulse(1.5 * i_dep, 3e-9)
        assert vb.wall_site == want


def test_domainwall_move_calibrated_pulse_lands_on_its_target():
    """The pulse DomainWall.move calibrates (u = 3·u_W until the T = 0 wall reaches the
    target) moves the bench's wall by exactly that one site."""
    vb = _bench(3).virtual
    cal = vb.wall.move(1, 2, n_walls=64, seed=1)
    assert cal.success > 0.9
    amps = cal.pulse.u / vb.dw_drift_velocity(1.0)
    assert amps < 0                                  # toward higher sites: I < 0
    vb.set_wall_site(1)
    vb.apply_current_pulse(amps, cal.pulse.duration)
    assert vb.wall_site == 2


def test_read_mean_follows_the_site():
    vb = _bench(4).virtual
    vb.set_dc_current("smu", 1e-5)
    for site in (0, 3):
        vb.set_wall_site(site)
        r = []
        for _ in range(200):
            vb.clock.sleep(1e-6)
            r.append(vb.resistance("mtj"))
        assert np.mean(r) == pytest.approx(1 / vb.wall.expected_read_mean(site), rel=2e-3)


def test_source_meter_step_moves_one_site_per_rise_above_threshold():
    bench = _bench(5).open()
    vb = bench.virtual
    i_dep = vb.dw_depinning_current_A()
    smu = bench.role("source_meter", name="smu")
    smu.source_mode = "current"
    smu.compliance_voltage = 1.0                     # the sample's [limits] max_voltage_V
    smu.source_enabled = True
    smu.ramp_to_current(1e-5)                        # the read bias: far below threshold
    vb.set_wall_site(1)
    for amps in (-0.5 * i_dep, 0.9 * i_dep):         # below threshold: no move
        smu.ramp_to_current(amps)
        bench.clock.sleep(1e-3)
        smu.ramp_to_current(1e-5)
        assert vb.wall_site == 1
    for want in (2, 3, 3):                           # I < 0: up one site per pulse, clamped
        smu.ramp_to_current(-2 * i_dep)
        bench.clock.sleep(1e-3)
        smu.ramp_to_current(-2.5 * i_dep)            # still above: the same pulse
        smu.ramp_to_current(1e-5)
        assert vb.wall_site == want
    smu.ramp_to_current(2 * i_dep)                   # I > 0: down one site
    smu.ramp_to_current(1e-5)
    assert vb.wall_site == 2
    smu.source_enabled = False
    assert vb.wall_site == 2 and vb.drives.dc_total() == 0.0
    bench.close()
