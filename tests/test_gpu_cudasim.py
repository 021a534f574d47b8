"""The numba-cuda kernel under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1, set in a
subprocess before numba.cuda is imported) reproduces the CPU kernel to rounding: the same
random streams, torques (STT with a field-like part, Oersted field, tilted anisotropy) and a
trapezoidal pulse, stochastic Heun and RK4."""
import json
import os
import subprocess
import sys
import textwrap

import pytest

CODE = textwrap.dedent("""
    import numpy as np
    from labspin.physics.macrospin import gpu, kernel
    from labspin.physics.macrospin.rng import member_key
    from labspin.physics.macrospin.system import Macrospin, Magnet, SpinTorque, Uniaxial, pulse
    mg = Magnet(1e6, 0.02, thickness_m=1.5e-9, area_m2=2e-15,
                anisotropies=(Uniaxial(2e5, (0.1, 0, 1)),), temperature_K=300)
    sysm = Macrospin(mg, (SpinTorque.stt(mg, 0.6, polarizer=(0.3, 0, -1), h_fl_ratio=0.2),),
                     oersted_per_A=(10.0, 0, 0))
    assert gpu.available()
    n = 5
    m = np.tile(np.array([[0.0], [0.1], [1.0]]) / np.sqrt(1.01), (1, n))
    h = np.zeros((3, n)); h[0] = np.linspace(0, 3e4, n)
    idc = np.linspace(0, 2e-4, n)
    waves = np.array([pulse(2e-12, 10e-12, current_A=1e-4, rise_s=2e-12).row()])
    key = member_key(3, 7)
    for stochastic in (True, False):
        mc, mgpu = m.copy(), m.copy()
        ac, ag = np.zeros((9, n)), np.zeros((9, n))
        sig = 300.0 if stochastic else 0.0
        kernel.integrate(mc, h, idc, sysm.folded(), waves, 0.0, 1e-12, 20, 4, key, sig,
                         stochastic, False, 0, np.zeros((0, 3, n)), 5, ac)
        rc, rg, mc0 = np.zeros((4, 3, n)), np.full((4, 3, n), np.nan), m.copy()
        kernel.integrate(mc0, h, idc, sysm.folded(), waves, 0.0, 1e-12, 20, 4, key,
                         sig, stochastic, False, 5, rc, 5, np.zeros((9, n)))
        gpu.integrate(mgpu, h, idc, sysm.folded(), waves, 0.0, 1e-12, 20, 4, key, sig,
                      stochastic, 5, rg, 5, ag)
        assert np.abs(rc - rg).max() < 1e-13             # m recorded every 5th step
        assert np.abs(rc[-1] - mc0).max() == 0.0
        assert np.abs(mc - m).max() > 0.1            # the drives moved m
        assert np.abs(mc - mgpu).max() < 1e-13, np.abs(mc - mgpu).max()
        assert np.abs(ac - ag).max() < 1e-12
    print("ok")
""")


def test_gpu_kernel_in_the_simulator_matches_the_cpu_kernel():
    pytest.importorskip("numba.cuda")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


ENSEMBLE = textwrap.dedent("""
    import numpy as np
    from labspin.physics.macrospin.ensemble import Ensemble
    from labspin.physics.macrospin.system import Macrospin, Magnet, Uniaxial
    mg = Magnet(1e6, 0.02, thickness_m=1.5e-9, area_m2=2e-15, anisotropies=(Uniaxial(2e5),),
                temperature_K=300)
    runs = []
    for device in ("cpu", "gpu"):
        e = Ensemble(Macrospin(mg), n=3, m0=(0, 0.2, 1), seed=2, member0=5, device=device)
        assert e.device == device
        runs.append((e.run(20e-12, 1e-12, average_from_s=10e-12, record_every=4), e.m))
    assert np.abs(runs[0][1] - runs[1][1]).max() < 1e-13
    assert np.abs(runs[0][0].mean_m - runs[1][0].mean_m).max() < 1e-13
    (cpu, _), (dev, _) = runs
    assert dev.m.shape == (5, 3, 3) and np.array_equal(cpu.times_s, dev.times_s)
    assert np.abs(cpu.m - dev.m).max() < 1e-13         # samples recorded on the device
    assert Ensemble(Macrospin(mg), n=3).device == "cpu"     # auto: small ensembles stay
    print("ok")
""")


def test_ensemble_on_the_simulated_gpu_matches_the_cpu():
    pytest.importorskip("numba.cuda")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-c", ENSEMBLE], env=env, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr[-3000:]


def test_gpu_asked_for_without_a_device_is_refused():
    from labspin.physics.macrospin import gpu
    from labspin.physics.macrospin.ensemble import Ensemble
    from labspin.physics.macrospin.system import Macrospin, Magnet
    if gpu.available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ValueError, match="device='gpu' needs numba-cuda"):
        Ensemble(Macrospin(Magnet(1e6, 0.02, area_m2=1e-15)), n=2, device="gpu")


PHYSICS = textwrap.dedent("""
    import json
    import numpy as np
    from labspin.physics.constants import KB, MU0
    from labspin.physics.macrospin.analytic import (
        kittel_inplane, langevin, langevin_second_moment)
    from labspin.physics.macrospin.ensemble import Ensemble
    from labspin.physics.macrospin.system import Macrospin, Magnet, Uniaxial
    from labspin.physics.telegraph import neel_time
    T, n = 300.0, 48
    # test_physics_thermal's isotropic magnet and 1 ps step (0.024 rad of thermal rotation
    # per step, where the stochastic Heun's bias is ≤ 0.3 %)
    iso = Magnet(ms_A_per_m=8e5, alpha=0.5, volume_m3=1e-24, demag=(1 / 3, 1 / 3, 1 / 3),
                 temperature_K=T)
    out = {}
    # check 1: x = 2 and 10 along a general direction u, n members each, started from the
    # exact Boltzmann distribution P(c) ∝ exp(x c) (no burn-in), averaged over 200 steps
    x, u = np.repeat([2.0, 10.0], n), np.array([1.0, 2.0, 2.0]) / 3.0
    h = x * KB * T / (MU0 * iso.ms_A_per_m * iso.volume)
    rng = np.random.default_rng(7)
    c = 1.0 + np.log(rng.random(x.size) * (1.0 - np.exp(-2 * x)) + np.exp(-2 * x)) / x
    phi = rng.random(x.size) * 2 * np.pi
    e1 = np.cross(u, [0.0, 0.0, 1.0]); e1 /= np.linalg.norm(e1); e2 = np.cross(u, e1)
    s = np.sqrt(1 - c ** 2)
    m0 = c * u[:, None] + s * (np.cos(phi) * e1[:, None] + np.sin(phi) * e2[:, None])
    runs = {}
    for device in ("gpu", "cpu"):
        e = Ensemble(Macrospin(iso), h_ext_Apm=u[:, None] * h, m0=m0, seed=3, device=device)
        runs[device] = e.run(n_steps=200, dt_s=1e-12, average_from_s=0.0)
    g = runs["gpu"]
    proj = (u @ g.mean_m).reshape(2, n)
    proj2 = np.einsum("i,j,ijn->n", u, u, g.mean_mm).reshape(2, n)
    out["check1"] = [[float(v.mean()), float(v.std(ddof=1) / np.sqrt(n)), float(exact)]
                     for k, xk in enumerate((2.0, 10.0))
                     for v, exact in ((proj[k], langevin(xk)),
                                      (proj2[k], langevin_second_moment(xk)))]
    out["check1_cpu_dev"] = float(np.abs(g.mean_mm - runs["cpu"].mean_mm).max())
    # check 3: free diffusion from +z, m recorded on the device at τ_N/8 and τ_N/4
    tau = neel_time(iso.ms_A_per_m, iso.volume, iso.alpha, T)
    every = int(round(tau / 8 / 1e-12))
    e = Ensemble(Macrospin(iso), n=n, m0=(0, 0, 1), seed=4, device="gpu")
    r = e.run(n_steps=2 * every, dt_s=1e-12, record_every=every)
    mz = r.m[:, 2, :]
    out["check3"] = [[float(a), float(b), float(np.exp(-t / tau))] for a, b, t in zip(
        mz.mean(axis=1), mz.std(axis=1, ddof=1) / np.sqrt(n), r.times_s)]
    # check 5: in-plane film, field along the in-plane easy axis, T = 0 (RK4) ring-down
    film = Magnet(ms_A_per_m=1.1e6, alpha=1e-3, thickness_m=2e-9, area_m2=1e-14,
                  anisotropies=(Uniaxial(4e3, (1, 0, 0)),), demag=(0.0, 0.0, 1.0))
    hs = np.array([3e4, 1e5])
    e = Ensemble(Macrospin(film), h_ext_Apm=np.stack([hs, 0 * hs, 0 * hs]), m0=(1, 0.01, 0),
                 device="gpu")
    dt = 1e-12
    r = e.run(n_steps=600, dt_s=dt, record_every=1)
    fs = []
    for k in range(hs.size):
        y = r.m[:, 1, k]
        up = np.nonzero((y[:-1] < 0) & (y[1:] >= 0))[0]
        tc = r.times_s[up] + dt * (-y[up] / (y[up + 1] - y[up]))
        fs.append((len(tc) - 1) / (tc[-1] - tc[0]))
    out["check5"] = [[float(f), float(kittel_inplane(hh, film.meff, film.hk_inplane))]
                     for f, hh in zip(fs, hs)]
    print(json.dumps(out))
""")


def test_gpu_kernel_in_the_simulator_passes_physics_checks_1_3_5():
    """physics.md's checks on the simulated GPU at tiny sizes (the simulator runs each
    thread in Python, ~1 ms per member-step): 48 members. Check 1 (⟨m·Ĥ⟩ = L(x),
    ⟨(m·Ĥ)²⟩ = 1 − 2L/x at x = 2 and 10; the standard error of ⟨m·Ĥ⟩ is ~0.06 at x = 2 and
    ~0.011 at x = 10, where a thermal field of twice the variance moves it by 0.044 in
    these 200 steps) and check 3 (⟨m_z⟩ = exp(−t/τ_N)) within 4 standard errors
    of the member scatter plus the step's 0.3 % bias, and the check-1 run equal to the CPU
    kernel's (whose full-size checks are test_physics_thermal's); check 5 (Kittel, RK4
    ring-down over ~4 periods) to 1e-3 (crossings interpolated linearly at 1 ps steps:
    ~1e-4; α = 1e-3 shifts f by O(α²))."""
    pytest.importorskip("numba.cuda")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1")
    r = subprocess.run([sys.executable, "-c", PHYSICS], env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for mean, se, exact in out["check1"] + out["check3"]:
        assert se > 0 and abs(mean - exact) < 4 * se + 0.003 * abs(exact), out
    assert out["check1_cpu_dev"] < 1e-12
    for f, exact in out["check5"]:
        assert f == pytest.approx(exact, rel=1e-3)
