"""The domain-wall Gaussian source on the simulated bench, through our drivers: repeated
reads are Gaussian, centred on the pinning site, and narrower at higher gate voltage."""
import numpy as np
import pytest
from scipy import stats

from labspin.drivers.keithley import Keithley2400, Keithley2450
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.wirings import build_bench

N = 400


def _reads(gate_V: float, seed: int = 3, site: int = 1):
    bench, _ = build_bench(load_sample("dw_gaussian_source"), "gaussian_source", seed=seed)
    bench.set_wall_site(site)
    smu = Keithley2400("GPIB0::24::INSTR", visa_library=bench.visa_library, clock=bench.clock)
    gate = Keithley2450("GPIB0::18::INSTR", visa_library=bench.visa_library, clock=bench.clock)
    gate.source_mode = "voltage"
    gate.compliance_current = 1e-6
    gate.source_enabled = True
    gate.ramp_to_voltage(gate_V)
    smu.source_mode = "current"
    smu.compliance_voltage = 1.0
    smu.source_enabled = True
    smu.ramp_to_current(10e-6)
    r = []
    for _ in range(N):
        bench.clock.sleep(1e-3)              # ≫ the 25 ns ring-down: independent reads
        r.append(smu.measure_voltage() / 10e-6)
    return bench, np.array(r)


def test_reads_are_gaussian_at_the_site_and_gate_sets_the_width():
    widths = {}
    for v in (-1.0, 0.0, 1.0):
        bench, r = _reads(v)
        wall = bench.wall
        g_mean = wall.expected_read_mean(1)
        # R = 1/G: to first order σ_R = σ_G·R², centred on 1/Ḡ (σ_G/G ≈ 2 %: the 1/G
        # curvature biases the mean by (σ_G/G)² ≈ 4e-4, far below the tolerance)
        r_exp = 1.0 / g_mean
        s_exp = wall.expected_read_std(v) * r_exp ** 2
        assert abs(r.mean() - r_exp) < 4 * s_exp / np.sqrt(N) + 1e-3 * r_exp
        # the std of N Gaussian samples has relative standard error 1/√(2N) = 3.5 %
        assert r.std(ddof=1) == pytest.approx(s_exp, rel=4 / np.sqrt(2 * N))
        assert stats.normaltest(r).pvalue > 1e-3
        widths[v] = r.std(ddof=1)
    assert widths[-1.0] > widths[0.0] > widths[1.0]


def test_site_moves_the_mean():
    _, r1 = _reads(0.0, site=1)
    _, r2 = _reads(0.0, site=2)
    assert abs(r1.mean() - r2.mean()) > 10 * r1.std() / np.sqrt(N)
