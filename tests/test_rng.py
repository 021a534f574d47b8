"""The counter-based normal generator: distribution, independence, reproducibility."""
import numpy as np
from scipy import stats

from labspin.physics.macrospin import rng


def test_normals_are_standard_normal():
    z = rng.normals(rng.seed_key(11), 5, 400_000)
    n = z.shape[0]
    # mean within 4 standard errors (1/√n), variance within 4·√(2/n)
    assert np.all(np.abs(z.mean(0)) < 4 / np.sqrt(n))
    assert np.all(np.abs(z.var(0) - 1) < 4 * np.sqrt(2 / n))
    # excess kurtosis: standard error √(24/n)
    assert np.all(np.abs(stats.kurtosis(z, axis=0)) < 4 * np.sqrt(24 / n))
    for j in range(3):
        assert stats.kstest(z[:, j], "norm").pvalue > 1e-3


def test_components_and_streams_uncorrelated():
    n = 200_000
    a = rng.normals(rng.seed_key(3), 0, n)
    b = rng.normals(rng.seed_key(3), 1, n)
    c = rng.normals(rng.seed_key(4), 0, n)
    lim = 4 / np.sqrt(n)   # standard error of a correlation coefficient ≈ 1/√n
    for x, y in [(a[:, 0], a[:, 1]), (a[:, 1], a[:, 2]), (a[:, 0], b[:, 0]), (a[:, 0], c[:, 0]),
                 (a[1:, 0], a[:-1, 0])]:
        assert abs(np.corrcoef(x, y)[0, 1]) < lim


def test_same_seed_same_numbers():
    np.testing.assert_array_equal(rng.normals(rng.seed_key(9), 2, 100),
                                  rng.normals(rng.seed_key(9), 2, 100))
    assert not np.array_equal(rng.normals(rng.seed_key(9), 2, 100),
                              rng.normals(rng.seed_key(10), 2, 100))
