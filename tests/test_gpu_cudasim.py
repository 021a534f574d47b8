"""The numba-cuda kernel under the CUDA simulator (NUMBA_ENABLE_CUDASIM=1, set in a
subprocess before numba.cuda is imported) reproduces the CPU kernel to rounding: the same
random streams, torques (STT with a field-like part, Oersted field, tilted anisotropy) and a
trapezoidal pulse, stochastic Heun and RK4."""
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
