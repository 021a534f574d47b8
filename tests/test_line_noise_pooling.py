"""The lines of one file share their noise (stfmr_analysis.pool_line_noise) only where they
do: one lock-in at one sensitivity pools one voltage noise, a VNA map whose floor changes
with frequency (the real permalloy set: 0.25–25 × 10⁻³ between lines) keeps each line's own
voltage noise beside one shared field noise. Fixed seeds; bounds from the statistics."""
import numpy as np

from labspin.procedures.stfmr_analysis import (
    fit_line,
    lineshape,
    pool_line_noise,
    voltage_noise_differs,
)

B0, DH = 0.10, 0.002


def _line(rng, sigma_v: float, b0: float = B0) -> dict:
    b = np.linspace(b0 - 15 * DH, b0 + 15 * DH, 241)
    v = lineshape(b, b0, DH, 1.0, 0.4, 0.05, 0.0) + sigma_v * rng.standard_normal(b.size)
    return fit_line(b, v)


def test_equal_noise_is_pooled_and_unequal_noise_is_not():
    rng = np.random.default_rng(7)
    same = [_line(rng, 0.01, b0) for b0 in (0.08, 0.10, 0.12, 0.14)]
    # Bartlett's test at p < 1e-3: equal noises are called different 0.1 % of the time
    assert not voltage_noise_differs(same)
    mixed = [_line(rng, s, b0) for s, b0 in ((0.002, 0.08), (0.002, 0.10), (0.02, 0.12),
                                            (0.02, 0.14))]
    assert voltage_noise_differs(mixed)
    quiet_own = mixed[0]["mu0_hres_T_err"]
    pool_line_noise(mixed)
    # each line keeps its own voltage noise: the quiet lines' errors are not set by the
    # noisy ones (one pooled σ_V would make them ≈ √50 = 7× larger). σ_V within 20 %: from
    # 240 residual differences its relative error is ≈ 1/√(2·240) = 4.6 %, so 20 % is > 4σ;
    # the quiet line's B_res error within 20 % of its own fit's (the same estimate)
    assert abs(mixed[0]["voltage_noise_V"] / 0.002 - 1) < 0.2
    assert abs(mixed[3]["voltage_noise_V"] / 0.02 - 1) < 0.2
    assert abs(mixed[0]["mu0_hres_T_err"] / quiet_own - 1) < 0.2
    pool_line_noise(same)
    assert len({round(f["voltage_noise_V"], 12) for f in same}) == 1     # one σ_V for all
