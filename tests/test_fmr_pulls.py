"""Closed loop on the real path for broadband FMR (issue 18 item 9): simulated fmr runs
(py_film_fmr, 8/12/16 GHz, −10 dBm) analysed as a foreign file — the table read back without
its header — with the priors a user gives: μ0H_k exact (the film's known anisotropy) and
either γ/2π drawn about the truth with its stated ±1 % (γ fixed, its error propagated) or
no γ at all (γ free: three lines of µT errors determine it). Pulls (truth − value)/error of
α, μ0M_eff, ΔB0 (truth 0: the macrospin has no inhomogeneous broadening) and, where free, γ
have mean ≈ 0 and width ≈ 1.

The noise of these lines is mostly the gaussmeter's jitter (7 µT on its 0.35 T range) times
dV/dB, which concentrates on the few steep points where B_res and Δ are decided, beside the
lock-in's voltage noise: the line errors take the two-variance noise model
(``stfmr_analysis.noise_columns``: σ_V² + σ_B²·(dV/dB)², both estimated from the residuals
of the lines of the file together), without which B_res pulls had width ≈ 2 (plain
errors) or ΔB0 pulls width 0.51 (the per-point HC3 sandwich, which overstates Δ's errors
where the voltage noise dominates). Each point's field is read after the lock-in
(``LockInReadout._read_at_field``): read at the magnet's settle, while the coil current
still crept toward the setpoint, it put every resonance ≈ 7 µT (≈ 2 standard errors) low
and the free fit's μ0M_eff pulls at mean −0.67.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from labspin.procedures.fmr import FMR
from labspin.procedures.fmr_analysis import analyze_fmr, fit_fmr_line
from labspin.procedures.stfmr import resonance_field_estimate
from labspin.procedures.stfmr_analysis import derivative_lineshape, pool_line_noise
from labspin.run.runner import FINISHED, run_procedure
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import simulated_bench

SAMPLE = "py_film_fmr"
GAMMA_PRIOR_REL = 0.01


def _run(seed: int, tmp_path) -> tuple[pd.DataFrame, dict]:
    """Get (the run's table read without its header, the sample's truth)."""
    truth = load_sample(SAMPLE).describe()
    p = FMR()
    p.frequencies, p.power, p.field_points = "8, 12, 16", -10.0, 31
    bench = simulated_bench("fmr", SAMPLE, [], seed=seed,
                            magnet=VirtualMagnet(**FMR.SIM_MAGNET))
    result = run_procedure(p, bench, tmp_path, sample_name=SAMPLE, sample_parameters=truth,
                           seed=seed)
    assert result.status == FINISHED, result.message
    return pd.read_csv(result.path, comment="#"), truth


def _pulls(seed: int, tmp_path) -> tuple[dict, dict]:
    """Get the pulls of one run (γ given about the truth; γ free)."""
    foreign, truth = _run(seed, tmp_path)
    g = truth["gamma_Hz_per_T"]
    rng = np.random.default_rng(1000 + seed)
    given = analyze_fmr(foreign, mu0_hk_T=truth["mu0_hk_T"],
                        gamma_Hz_per_T=f"{g * (1 + GAMMA_PRIOR_REL * rng.standard_normal())}"
                                       f"±{g * GAMMA_PRIOR_REL}")
    free = analyze_fmr(foreign, mu0_hk_T=truth["mu0_hk_T"])
    assert given["n_lines"] == free["n_lines"] == 3
    assert free["gamma_fitted"], free["warnings"]
    want = {"alpha": truth["alpha"], "mu0_meff_T": truth["mu0_meff_T"], "mu0_dh0_T": 0.0,
            "gamma_Hz_per_T": g}

    def pulls(res, keys):
        return {k: (want[k] - res[k]) / res[k + "_err"] for k in keys}
    return (pulls(given, ("alpha", "mu0_meff_T", "mu0_dh0_T")),
            pulls(free, ("alpha", "mu0_meff_T", "mu0_dh0_T", "gamma_Hz_per_T")))


def _check(pulls: list[dict]) -> dict:
    """Mean within 3 standard errors of 0 (1/√N); sample width within 3 of its standard
    errors, 1/√(2(N−1)), of 1 — the statistics of N unit-normal pulls. Get {key: (mean,
    width, worst)}."""
    n = len(pulls)
    out = {}
    for key in pulls[0]:
        x = np.array([p[key] for p in pulls])
        out[key] = (x.mean(), x.std(ddof=1), x[np.argmax(np.abs(x))])
        assert abs(x.mean()) < 3 / math.sqrt(n), (key, x)
        assert abs(x.std(ddof=1) - 1) < 3 / math.sqrt(2 * (n - 1)), (key, x)
    return out


def _seeds(n: int, tmp_path) -> tuple[list, list]:
    runs = [_pulls(seed, tmp_path / str(seed)) for seed in range(n)]
    return [given for given, _ in runs], [free for _, free in runs]


def test_pulls_over_three_seeds(tmp_path):
    """3 seeds in CI (mean |·| < 1.73, width within 1 ± 1.5): the real check is below."""
    for pulls in _seeds(3, tmp_path):
        _check(pulls)


@pytest.fixture(scope="module")
def twenty(tmp_path_factory):
    return _seeds(20, tmp_path_factory.mktemp("fmr_pulls"))


@pytest.mark.slow
def test_pulls_over_twenty_seeds(twenty):
    """20 seeds: mean |·| < 0.67, width within 1 ± 0.49. Measured (mean, width, worst):
    γ given — α +0.27, 0.88, −1.46; μ0M_eff −0.22, 0.87, −1.65; ΔB0 −0.21, 0.88, +2.53;
    γ free — α +0.17, 0.89, −2.66; μ0M_eff +0.17, 1.15, −2.12; γ −0.15, 1.15, +2.16 (with
    the windows widened to 5 HWHM of the predicted line). (With the HC3 line errors: γ
    given α +0.31, 0.78; ΔB0 −0.22, 0.51; γ free α +0.21, 0.62, μ0M_eff +0.43, 1.09; with the field read at the magnet's settle: γ free μ0M_eff
    −0.67, 1.19; with plain line errors: μ0M_eff +0.51, 2.06, γ −0.49, 1.99.)"""
    for pulls in twenty:
        _check(pulls)


def _synthetic_pulls(rng, jitter_T: float, noise: float, groups: int) -> dict:
    """Pulls of B_res and Δ of ``groups`` × 3 synthetic derivative lines (HWHM 2 mT, 31 points
    over ±15 mT, as the fmr procedure takes them; amplitude 1), the field read with
    ``jitter_T`` noise, the voltage with ``noise``; each 3 lines' noise pooled, as the lines
    of one file are (``pool_line_noise``)."""
    dh, pulls = 2e-3, {"mu0_hres_T": [], "mu0_dh_T": []}
    for _ in range(groups):
        fits = []
        for _ in range(3):
            b0 = resonance_field_estimate(8e9, 1.0, 29.4e9) + rng.uniform(-1e-3, 1e-3)
            b = np.linspace(b0 - 0.015 + rng.uniform(-1e-3, 1e-3), b0 + 0.015, 31)
            v = derivative_lineshape(b, b0, dh, 1.0, 0.1, 0.0, 0.0) + noise * rng.standard_normal(31)
            fits.append((fit_fmr_line(b + jitter_T * rng.standard_normal(31), v, "derivative"), b0))
        pool_line_noise([f for f, _ in fits])
        for fit, b0 in fits:
            for key, truth in (("mu0_hres_T", b0), ("mu0_dh_T", dh)):
                pulls[key].append((fit[key] - truth) / fit[key + "_err"])
    return pulls


@pytest.mark.parametrize("jitter_T, noise", [(7e-6, 1e-4), (0.0, 1e-3)],
                         ids=["field-jitter", "voltage-noise"])
def test_line_errors_hold_in_both_noise_regimes(jitter_T, noise):
    """150 synthetic lines in each regime — the field read with 7 µT jitter and a voltage noise
    of 10⁻⁴ of the line (the jitter dominates the steep points), or a voltage noise of 10⁻³
    alone: the share of B_res and Δ within 2 reported errors of the truth is the normal
    95.4 % within 3 binomial standard errors (± 5.1 %). Measured: jitter 92.0 % and 97.3 %
    (plain errors: B_res pulls of width 2.6), voltage 96.7 % and 98.7 %. The pulls have heavier
    tails than a normal's (an error estimated from a few steep points is itself uncertain:
    the largest of 150 is 3.5σ), so no width is asserted."""
    pulls = _synthetic_pulls(np.random.default_rng(6), jitter_T, noise, 50)
    p2 = math.erf(2 / math.sqrt(2))
    for key, x in pulls.items():
        inside = np.mean(np.abs(x) < 2)
        assert abs(inside - p2) < 3 * math.sqrt(p2 * (1 - p2) / len(x)), (key, inside)
