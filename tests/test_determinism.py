"""Same seed → same numbers, whatever the thread count; a split run equals one long run."""
import numba
import numpy as np

from labspin.physics.macrospin import Ensemble, Macrospin, Magnet


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


def test_plain_right_hand_side_matches_general_one():
    """The reduced kernel path (diagonal D, no current terms) integrates the same LLG."""
    from labspin.physics.macrospin import Uniaxial, kernel
    from labspin.physics.macrospin.rng import seed_key

    mg = Magnet(ms_A_per_m=8e5, alpha=0.05, volume_m3=1e-25, temperature_K=300,
                anisotropies=(Uniaxial(3e5, (0, 0, 1)),))
    sysv = Macrospin(mg).folded()
    assert kernel.is_plain(sysv)
    n = 700
    h = np.zeros((3, n))
    h[0] = np.linspace(-5e4, 5e4, n)
    sigma = mg.thermal_field_std(1e-12)
    for stochastic in (False, True):
        out = []
        for plain in (False, True):
            m = np.zeros((3, n))
            m[0], m[2] = 0.3, 1.0
            m /= np.linalg.norm(m, axis=0)
            kernel.integrate(m, h, np.zeros(n), sysv, np.zeros((0, kernel.N_WCOLS)), 0.0,
                             1e-12, 400, 0, seed_key(3), sigma if stochastic else 0.0,
                             stochastic, plain, 0, np.zeros((0, 3, n)), 10**9,
                             np.zeros((9, n)))
            out.append(m)
        np.testing.assert_allclose(out[0], out[1], rtol=0, atol=1e-12)


def test_work_items_keep_every_thread_busy_in_whole_cache_lines():
    """A call of 512 spins on 2 threads is cut in two (one item of 512 left a thread idle);
    items are whole 64-byte lines of float64, at most the kernel's CHUNK, and no thread idles
    while another has more than one item to go."""
    from labspin.physics.macrospin.kernel import CHUNK
    from labspin.physics.work_items import LINE, item_length
    for n, threads in [(512, 2), (600, 2), (4096, 2), (1500, 3), (10**6, 16), (64, 4)]:
        length = item_length(n, threads, CHUNK)
        items = -(-n // length)
        assert length % LINE == 0 and length <= CHUNK, (n, threads, length)
        assert items >= threads, (n, threads, items)
        if n <= threads * CHUNK:
            assert items == threads, (n, threads, items)      # one item per thread
        else:
            assert items / threads > 0.98 * n / (threads * CHUNK), (n, threads, items)
    assert item_length(512, 2, CHUNK) == 256
    assert item_length(4096, 2, CHUNK) == 512
    assert item_length(512, 1, CHUNK) == 512
    assert item_length(5, 4, CHUNK) == LINE                   # fewer spins than lines: one
