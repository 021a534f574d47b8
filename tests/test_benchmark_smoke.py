"""The benchmark script runs at its CI size and prints the JSON keys the issue names.

Speed is never asserted here (guide: ratios live in benchmarks/, not in tests).
"""
import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_macrospin.py"


def _run_json(script):
    """Run a benchmark script at its small size; get its stdout (its stderr shown on failure)."""
    done = subprocess.run([sys.executable, str(script), "--small", "--json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{script.name} exited {done.returncode}:\n{done.stderr[-4000:]}"
    return done.stdout


def test_benchmark_small_json_has_the_ratio_keys():
    if not SCRIPT.exists():
        pytest.skip("benchmarks/ not in this checkout")
    out = _run_json(SCRIPT)
    d = json.loads(out)
    for key in ("ensemble_300K_ratio", "ensemble_0K_ratio", "single_300K_ratio"):
        assert key in d                       # null when cmtj is not installed
    assert d["labspin_ensemble_300K_spin_steps_per_s"] > 0
    assert d["labspin_ensemble_0K_spin_steps_per_s"] > 0


def test_stack_benchmark_small_json_has_its_keys():
    script = SCRIPT.with_name("bench_stack.py")
    if not script.exists():
        pytest.skip("benchmarks/ not in this checkout")
    out = _run_json(script)
    d = json.loads(out)
    assert "query_overhead_ratio" in d and d["labspin_driver_query_s"] > 0   # ratio null without pyvisa-sim
    assert d["stfmr_points"] == 21 and d["stfmr_virtual_s"] > 0


def test_scale_benchmark_small_json_has_its_keys():
    script = SCRIPT.with_name("bench_scale.py")
    if not script.exists():
        pytest.skip("benchmarks/ not in this checkout")
    pytest.importorskip("distributed")
    out = _run_json(script)
    d = json.loads(out)
    assert d["bit_identical"] is True   # 1 process at 1 and all threads, 1 and 2 workers: equal
    assert d["map_speedup_2_workers"] > 0 and d["dask_overhead_1_worker"] > 0
    assert d["map_speedup_threads_in_process"] > 0
    assert 0 < d["worker_busy_1_workers"] <= 1 and 0 < d["worker_busy_2_workers"] <= 1
    assert d["dask_cpu_overhead_1_worker"] > 0 and d["map_cpu_1_process_1_thread_s"] > 0
    assert d["sequence_complete"] is True and d["sequence_speedup_2_workers"] > 0
    assert d["long_sequence_complete"] is True and d["long_sequence_speedup_2_workers"] > 0
    assert set(d["load_1min"]) >= {"map_2_workers", "sequence_2_workers"}
