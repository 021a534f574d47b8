"""The virtual bench core: magnet, sources, quasi-static state and readings."""
import numpy as np
import pytest

from labspin.physics.constants import MU0
from labspin.physics.macrospin import kittel_inplane
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.virtual_bench import VirtualBench, VirtualMagnet


def test_magnet_follows_setpoint_with_l_over_r_and_keeps_remanence():
    bench = VirtualBench(load_sample("inplane_sot_hallbar"), magnet=VirtualMagnet(
        tesla_per_A=0.05, remanence_T=0.004, l_over_r_s=0.5))
    bench.set_magnet_current(4.0)
    bench.clock.sleep(0.5)
    assert bench.magnet.coil_A == pytest.approx(4.0 * (1 - np.exp(-1)), rel=1e-9)
    bench.clock.sleep(20.0)
    assert bench.field_T()[0] == pytest.approx(0.2 - 0.004)
    bench.set_magnet_current(0.0)
    bench.clock.sleep(20.0)
    assert bench.field_T()[0] == pytest.approx(0.004)      # remanence on the down branch
    bench.set_field_angle(90.0)
    assert bench.field_T() == pytest.approx([0.0, 0.004, 0.0], abs=1e-12)


def test_dc_voltage_is_ir_with_johnson_noise():
    bench = VirtualBench(load_sample("inplane_sot_hallbar"), seed=3)
    bench.set_dc_current("smu", 1e-3)
    r = bench.resistance("xx")
    v = np.array([bench.dc_voltage("xx", integration_s=0.02) for _ in range(2000)])
    sigma = bench.johnson_noise_V("xx", 1 / 0.04)
    assert abs(v.mean() - 1e-3 * r) < 4 * sigma / np.sqrt(v.size)
    assert v.std() == pytest.approx(sigma, rel=4 * np.sqrt(1 / (2 * v.size)))


def test_mixing_voltage_peaks_at_kittel_resonance():
    sample = load_sample("inplane_sot_hallbar")
    bench = VirtualBench(sample, magnet=VirtualMagnet(l_over_r_s=1e-3, remanence_T=0.0,
                                                      angle_deg=45.0))
    mg = sample.system.magnet
    f = 8e9
    fields = np.linspace(0.05, 0.2, 151)
    v = []
    for b in fields:
        bench.set_magnet_current(b / bench.magnet.tesla_per_A)
        bench.clock.sleep(0.05)
        v.append(bench.mixing_voltage("xx", f, 1e-3))
    v = np.array(v)
    peak = fields[np.argmax(np.abs(v))]
    expected = fields[np.argmin(np.abs(kittel_inplane(fields / MU0, mg.meff, 0.0, mg.gamma) - f))]
    # the in-plane anisotropy (3.6 mT along x, field at 45°) and the antisymmetric part shift
    # the extremum by less than a few linewidths (2πfα/γ0 ≈ 2 mT)
    assert abs(peak - expected) < 0.01


def test_current_pulse_switches_the_pillar_and_the_state_stays():
    # at T = 0 a magnet exactly along the polarizer feels no torque: switching needs the
    # thermal fluctuations of the sample's 300 K (the pulse runs the stochastic LLG)
    sample = load_sample("mtj_pillar")
    bench = VirtualBench(sample, seed=2)
    r_before = bench.resistance("mtj")
    # STT toward −z needs a negative current of a few critical currents (I_c ≈ αMeff/h)
    info = sample.describe()
    ic = sample.system.magnet.alpha * abs(info["mu0_meff_T"]) / info["mu0_hdl_per_A_T"]
    bench.apply_current_pulse(-4 * ic, 20e-9)
    assert bench.m[2] < -0.9
    assert bench.resistance("mtj") > r_before * 2
    bench.clock.sleep(1.0)
    assert bench.state()[2] < -0.9                      # stays switched


def test_rf_current_from_power_and_mismatch():
    bench = VirtualBench(load_sample("perpendicular_sot_hallbar"))
    r = bench.resistance("xx")
    i = bench.rf_current_A(10.0)
    assert i == pytest.approx(2 * np.sqrt(2 * 50 * 0.01) / (50 + r))


def _coercive_field(seconds_per_point: float, seed: int) -> float:
    bench = VirtualBench(load_sample("perpendicular_sot_hallbar"), seed=seed,
                         magnet=VirtualMagnet(axis="z", l_over_r_s=1e-3))
    bench.set_dc_current("smu", 1e-3)
    fields, volts = [], []
    for i in np.r_[np.linspace(0, 4, 41), np.linspace(4, -4, 321)]:
        bench.set_magnet_current(i)
        bench.clock.sleep(seconds_per_point)
        fields.append(bench.field_T()[2])
        volts.append(bench.dc_voltage("xy"))
    v = np.array(volts[41:])
    k = np.nonzero(np.diff(np.sign(v)))[0][0]
    return -fields[41 + k]


def test_loop_coercivity_is_thermally_activated():
    """Reversal at Brown's rates: H_c lies below H_K and falls for slower sweeps
    (H_c ≈ H_K[1 − √(ln(t/τ0)/Δ)], Δ = 60: slower by 10⁴ lowers H_c by ~0.06 H_K)."""
    hk = 0.212
    fast = np.mean([_coercive_field(1e-3, s) for s in range(3)])
    slow = np.mean([_coercive_field(10.0, s) for s in range(3)])
    assert 0.1 * hk < slow < fast < 0.8 * hk
    assert fast - slow > 0.03 * hk


def test_small_reversal_travels_a_flat_minor_loop():
    """Backlash hysteresis: reversing by less than 2B_r/k leaves B unchanged (no jump of
    2B_r); reversing further follows the other branch."""
    mag = VirtualMagnet(tesla_per_A=0.05, remanence_T=0.004, l_over_r_s=1e-6)
    mag.setpoint_A = 4.0
    mag.advance(1.0)
    assert mag.field_magnitude_T() == pytest.approx(0.2 - 0.004)
    mag.setpoint_A = 4.0 - 0.1            # 5 mT of current, less than 2B_r = 8 mT
    mag.advance(1.0)
    assert mag.field_magnitude_T() == pytest.approx(0.2 - 0.004)
    mag.setpoint_A = 3.0
    mag.advance(1.0)
    assert mag.field_magnitude_T() == pytest.approx(0.15 + 0.004)


def test_low_barrier_mtj_telegraph_dwells_follow_brown():
    """Reads every 2 µs of an MTJ with Δ ≈ 11 hop between R_P and R_AP; the censoring-safe
    dwell estimates (time in state / exits) match the exact mean first-passage times."""
    from labspin.physics.telegraph import estimate_dwell_times, mean_first_passage_time
    sample = load_sample("mtj_pillar", ["mu0_meff_T=-0.06"])
    bench = VirtualBench(sample, seed=5, magnet=VirtualMagnet(axis="z", remanence_T=0.0))
    axis, hk, delta, tau = bench._activation
    assert 9 < delta < 14
    dt, n = 2e-6, 100_000
    states = np.empty(n, dtype=int)
    for k in range(n):
        bench.clock.sleep(dt)
        states[k] = 1 if bench.resistance("mtj") < 0.5 * (2000 + 4400) else -1
    est = estimate_dwell_times(np.arange(n) * dt, states)
    # any field tilts the wells: h = H·u/H_K, with states counted along the activation
    # axis u (R_P is m ∥ +z); here the magnet is at zero field
    h = float(np.dot(bench.field_T() / MU0, axis)) / hk
    sign = 1 if axis[2] > 0 else -1
    for s in (+1, -1):
        exact = mean_first_passage_time(delta, h, 0.0, tau_n=tau, from_state=s * sign)
        e = est[s]
        # 4 standard errors (1/√exits) plus 3 % for the 2 µs sampling of ≈ 40 µs dwells
        assert abs(e.mean_s / exact - 1) < 4 / np.sqrt(e.n_exits) + 0.03, (s, e.mean_s, exact)


def _well_mean_one_minus_mz(delta: float, h: float) -> float:
    """Get ⟨1 − m_z⟩ of the Boltzmann distribution in the well m_z > −h of an axially
    symmetric macrospin, βE = −Δm_z² − 2Δh·m_z (physics.md check 4), by quadrature."""
    from scipy.integrate import quad

    def w(x):
        return np.exp(delta * (x * x - 1.0) + 2.0 * delta * h * (x - 1.0))
    num = quad(lambda x: (1.0 - x) * w(x), -h, 1.0, points=[0.9, 0.99])[0]
    return num / quad(w, -h, 1.0, points=[0.9, 0.99])[0]


def test_pulse_trials_start_in_thermal_equilibrium_in_the_well():
    """Each pulse meets the magnet Boltzmann-distributed in its well at the holding drive,
    not at the T = 0 fixed point: after a pulse of zero amplitude, 4000 trials of the
    mtj_pillar (α = 0.01, whose in-well energy relaxes over 1/(2αγ'H_K) ≈ 1.2 ns, longer
    than the 2 ns left after a pulse) give ⟨1 − m_z⟩ of the Boltzmann distribution at
    h = I_read/I_c0 within 4 standard errors (SE = std/√n ≈ 1.6 %) plus 1 % for the Heun
    step (dt = 1 ps). Without the thermalization the same run falls short by > 8 SE."""
    sample = load_sample("mtj_pillar")
    info = sample.describe()
    ic0 = info["alpha"] * abs(info["mu0_meff_T"]) / info["mu0_hdl_per_A_T"]
    for relaxations in (VirtualBench.THERMALIZE_RELAXATIONS, 0.0):
        bench = VirtualBench(sample, seed=4, magnet=VirtualMagnet(axis="z", remanence_T=0.0))
        bench.THERMALIZE_RELAXATIONS = relaxations
        bench.set_dc_current("smu", 2e-6)
        u = 1.0 - bench.pulse_trials(0.0, 1e-12, n=4000, seed=9)[2]
        se = u.std() / np.sqrt(u.size)
        exact = _well_mean_one_minus_mz(info["delta"], 2e-6 / ic0)
        if relaxations:
            assert 5e-9 < bench.thermalization_time() < 1e-8     # 3/(αγ'H_K)
            assert abs(u.mean() - exact) < 4 * se + 0.01 * exact, (u.mean(), exact)
        else:
            assert exact - u.mean() > 8 * se, (u.mean(), exact)
    assert bench.m[2] > 0.99 and bench.drives.dc_total() == 2e-6   # the bench is untouched


def test_current_pulses_are_reproducible_for_a_seed():
    """Same seed → the same sequence of end states; another seed → different ones."""
    def ends(seed):
        bench = VirtualBench(load_sample("mtj_pillar"), seed=seed)
        out = []
        for _ in range(3):
            bench.apply_current_pulse(-3e-5, 3e-9, 1e-9)
            out.append(bench.m.copy())
        return np.array(out)
    np.testing.assert_array_equal(ends(7), ends(7))
    assert not np.array_equal(ends(7), ends(8))
