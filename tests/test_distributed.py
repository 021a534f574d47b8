"""Chunked ensembles: members split anywhere draw the numbers they draw in the whole, so maps
solved in chunks, in this process or on Dask workers, are bit for bit the one-call result."""
import math

import numpy as np
import pytest

from labspin.physics.constants import MU0
from labspin.physics.counting import trials_for_rate, zero_count_upper_bound
from labspin.physics.macrospin.chunks import member_ranges, solve
from labspin.physics.macrospin.ensemble import Ensemble
from labspin.physics.macrospin.phase_map import PhaseMapProblem, phase_map
from labspin.physics.macrospin.rng import MAX_MEMBERS
from labspin.physics.macrospin.system import Macrospin, Magnet, SpinTorque, Uniaxial
from labspin.physics.macrospin.trials import SwitchingProblem
from labspin.run import distributed as dist


def _pillar(temperature_K=300.0):
    """A perpendicular STT pillar (Δ ≈ 145 kT at 300 K), polarizer −z (switches +z → −z)."""
    mg = Magnet(1e6, 0.02, thickness_m=1.5e-9, area_m2=2e-15,
                anisotropies=(Uniaxial(2e5),), demag=(1 / 3, 1 / 3, 1 / 3),
                temperature_K=temperature_K)
    return Macrospin(mg, (SpinTorque.stt(mg, 0.6, polarizer=(0.0, 0.0, -1.0)),))


def _critical_current(system):
    """I_c0 = α H_K / (H_DL per A): the T = 0 threshold of a collinear STT pillar."""
    hk = 2 * system.magnet.anisotropies[0].k_J_per_m3 / (MU0 * system.magnet.ms_A_per_m)
    return system.magnet.alpha * hk / system.torques[0].h_dl_per_A


def test_members_split_anywhere_draw_the_numbers_of_the_whole():
    sys_ = _pillar()
    whole = Ensemble(sys_, n=11, m0=(0.0, 0.0, 1.0), seed=5)
    whole.run(0.3e-9, 1e-12)
    pieces = []
    for lo, hi in [(0, 4), (4, 5), (5, 11)]:
        e = Ensemble(sys_, n=hi - lo, m0=(0.0, 0.0, 1.0), seed=5, member0=lo)
        e.run(0.3e-9, 1e-12)
        pieces.append(e.m)
    assert np.array_equal(np.concatenate(pieces, axis=1), whole.m)
    # thermal noise did act: members differ from each other
    assert np.ptp(whole.m[0]) > 1e-3


def test_members_beyond_one_stream_are_refused():
    with pytest.raises(ValueError, match=r"outside one stream's \[0, 134217728\)"):
        Ensemble(_pillar(), n=2, seed=0, member0=MAX_MEMBERS - 1)


def test_member_ranges_cover_and_respect_stream_blocks():
    r = member_ranges(MAX_MEMBERS + 10, chunk=MAX_MEMBERS // 2 + 1)
    assert sum(hi - lo for _, lo, hi in r) == MAX_MEMBERS + 10
    assert all(hi <= MAX_MEMBERS for _, _, hi in r)
    assert r[-1] == (1, 0, 10)


def test_phase_map_in_chunks_is_the_one_call_map():
    sys_ = _pillar()
    args = dict(fields_Apm=[1e4, 3e4], currents_A=[0.0, 1e-4, 2e-4], repeats=3,
                duration_s=0.2e-9, dt_s=1e-12, seed=2)
    one = phase_map(sys_, **args)
    chunked = solve(PhaseMapProblem(sys_, chunk=4, **args))   # 18 members, tasks across points
    for name in ("mean_m", "mean_m_err", "final_m"):
        assert np.array_equal(getattr(chunked, name), getattr(one, name)), name


def _wer_problem(chunk, trials=24):
    sys_ = _pillar()
    ic = _critical_current(sys_)
    return SwitchingProblem.from_rest(sys_, [0.0, 1.2 * ic, 4.0 * ic], [3e-9], trials,
                                      relax_s=0.3e-9, dt_s=2e-12, seed=9, chunk=chunk)


def test_switching_counts_do_not_depend_on_the_chunking():
    a = solve(_wer_problem(chunk=24))
    b = solve(_wer_problem(chunk=5))
    assert np.array_equal(a.switched, b.switched)
    # no pulse: a Δ ≈ 145 barrier does not flip in a few ns; 4 I_c0 for 3 ns (≈ 4 incubation
    # times τ ln(π/2θ0), τ = 1/(αγ′H_K(I/I_c0 − 1)) ≈ 0.24 ns): all switch
    assert a.switched[0, 0] == 0 and a.switched[2, 0] == 24
    assert np.isnan(a.error_upper_bound()[0, 0])
    assert a.error_upper_bound()[2, 0] == pytest.approx(1 - 0.05 ** (1 / 24))


def test_zero_count_bound_and_trials_needed():
    # (1 − p)ⁿ = 1 − cl defines the bound; ≈ 3/n at 95 % (rule of three)
    p = zero_count_upper_bound(10 ** 6)
    assert (1 - p) ** 1e6 == pytest.approx(0.05, rel=1e-9)
    assert p == pytest.approx(3e-6, rel=2e-3)
    n = trials_for_rate(1e-6)
    assert zero_count_upper_bound(n) <= 1e-6 < zero_count_upper_bound(n - 1)


def test_map_tasks_reports_a_failing_item_and_keeps_the_others():
    seen = []
    with pytest.raises(dist.ChunkFailure) as e:
        dist.map_tasks(math.sqrt, [4.0, -1.0, 9.0], None, describe=lambda x: f"x = {x}",
                       progress=lambda done, total, t: seen.append(done / total))
    assert e.value.failures == [("x = -1.0", "ValueError: math domain error")]
    assert e.value.partials == [2.0, None, 3.0]
    assert seen == pytest.approx([1 / 3, 2 / 3, 1.0])


def test_where_rejects_both_workers_and_scheduler():
    with pytest.raises(ValueError, match="not both"):
        dist.Where(workers=2, scheduler="tcp://127.0.0.1:8786")
    with pytest.raises(ValueError, match="workers must be ≥ 1"):
        dist.Where(workers=0)


def test_dask_workers_give_the_in_process_map_bit_for_bit():
    pytest.importorskip("distributed")
    problem = _wer_problem(chunk=7)
    here = solve(problem)
    with dist.cluster(dist.Where(workers=2, threads_per_worker=1)) as client:
        assert dist.slots(client) == 2
        there = dist.solve(problem, client=client)
        with pytest.raises(dist.ChunkFailure) as e:
            dist.map_tasks(math.sqrt, [4.0, -1.0, 9.0], client, in_flight=1)
        # forked from the preloaded server, a worker still runs numba on its own thread
        threads = client.submit(_worker_numba_threads, pure=False).result()
    assert threads == 1
    assert np.array_equal(there.switched, here.switched)
    assert e.value.partials == [2.0, None, 3.0]
    assert "math domain error" in e.value.failures[0][1]


def _worker_numba_threads():
    import numba
    dist.worker_threads()
    return numba.get_num_threads()


def test_balanced_chunks_share_a_point_out_evenly_and_keep_the_counts():
    from labspin.physics.macrospin.chunks import balanced_chunk
    assert balanced_chunk(100_000, 2, 65_536) == 50_000      # not 65 536 + 34 464
    assert balanced_chunk(4096, 2, 512) == 512               # already even: unchanged
    assert balanced_chunk(10, 4, 100) == 3                   # 4 pieces: 3, 3, 3, 1
    problem = _wer_problem(chunk=24)
    even = problem.balanced(2)
    assert [hi - lo for *_, lo, hi in even.tasks()] == [12] * 6     # 3 points × 2 tasks
    assert np.array_equal(solve(even).switched, solve(problem).switched)


def test_the_costliest_tasks_are_submitted_first():
    """One slot, one task in flight: they run in submission order, longest first, and come
    back in item order."""
    pytest.importorskip("distributed")
    order = []
    with dist.cluster(dist.Where(workers=1, threads_per_worker=1)) as client:
        out = dist.map_tasks(math.sqrt, [1.0, 9.0, 4.0], client, cost=[1, 3, 2], in_flight=1,
                             on_result=lambda k, v: order.append(k))
    assert order == [1, 2, 0] and out == [1.0, 3.0, 2.0]


def test_a_million_trial_point_through_dask():
    """10⁶ trials of one point, 16 tasks on 2 workers. Reduced to 10 steps per trial (no
    thermalization, a 10 ps zero-amplitude pulse): the full LLG trial (~3000 steps) would
    take minutes here; what is checked is the chunking, the reduction and the bound at 10⁶,
    which do not depend on the trial's length. A Δ ≈ 145 well does not empty in 10 ps
    (Brown's rate ~ 1e9 s⁻¹ · e^−145)."""
    pytest.importorskip("distributed")
    problem = SwitchingProblem(_pillar(), (0.0, 0.0, 1.0), [0.0], [10e-12], 10 ** 6,
                               thermalize_s=0.0, relax_s=0.0, dt_s=1e-12, seed=1)
    assert len(problem.tasks()) == 16
    result = dist.solve(problem, dist.Where(workers=2, threads_per_worker=1))
    # a disturb point: no trial switched, so every trial is a write error (WER = 1, no
    # zero-error bound), and P(switch) is only bounded: 1 − 0.05^(1e-6) ≈ 3.0e-6 at 95 %
    assert result.switched.tolist() == [[0]] and result.errors.tolist() == [[10 ** 6]]
    assert np.isnan(result.error_upper_bound()[0, 0])
    p, lo, hi = result.switching_probability()
    assert lo[0, 0] == 0.0 or lo[0, 0] < 1e-7
    assert 1e-7 < hi[0, 0] < zero_count_upper_bound(10 ** 6) < 3.0e-6


def _compile_after_the_pool_runs() -> int:
    import numba
    from numba.np.ufunc import parallel
    parallel._launch_threads()
    return numba.njit(lambda x: x + 1)(1)       # a fresh compile re-reads numba's environment


def test_a_worker_compiles_after_its_thread_pool_runs():
    """A fresh machine has no numba cache, so workers compile: a worker's environment must
    not disagree with the NUMBA_NUM_THREADS numba read in the forkserver (CI's first failure:
    'Cannot set NUMBA_NUM_THREADS to a different value once the threads have been launched')."""
    pytest.importorskip("distributed")
    with dist.cluster(dist.Where(workers=1, threads_per_worker=1)) as c:
        assert c.submit(_compile_after_the_pool_runs, pure=False).result(timeout=120) == 2
