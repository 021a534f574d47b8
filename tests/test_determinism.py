"""Same seed → same numbers, whatever the thread count; a split run equals one long run."""
import numba
import numpy as np

from labspin.macrospin import Ensemble, Macrospin, Magnet


def _ens(seed=5, n=1500):
    mg = Magnet(ms_A_per_m=8e5, alpha=0.05, volume_m3=1e-25, temperature_K=300)
    h = np.zeros((3, n))
    h[2] = np.linspace(0, 5e4, n)
    return Ensemble(Macrospin(mg), h_ext_Apm=h, current_A=0.0, m0=(0, 0.1, 1), seed=seed)


def test_thread_count_does_not_change_results():
    old = numba.get_num_threads()
    try:
        out = []
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            e = _ens()
            e.run(n_steps=500, dt_s=1e-12)
            out.append(e.m.copy())
    finally:
        numba.set_num_threads(old)
    for m in out[1:]:
        np.testing.assert_array_equal(m, out[0])


def test_split_run_equals_one_run():
    a = _ens()
    a.run(n_steps=600, dt_s=1e-12)
    b = _ens()
    b.run(n_steps=250, dt_s=1e-12)
    b.run(n_steps=350, dt_s=1e-12)
    np.testing.assert_array_equal(a.m, b.m)
    assert a.time_s == b.time_s


def test_different_seeds_differ_and_members_are_independent():
    a = _ens(seed=1)
    b = _ens(seed=2)
    a.run(n_steps=300, dt_s=1e-12)
    b.run(n_steps=300, dt_s=1e-12)
    assert not np.array_equal(a.m, b.m)
