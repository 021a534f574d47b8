"""The plots keep up while a run adds points to 10^4 shown (issue 15): the appended rows reach
the plots and the dock keeps updating. The timed figures (update cost, event-loop lateness
against a 100 ms target, 10^5 points) are a benchmark: benchmarks/bench_gui_responsive.py,
whose measurement this runs untimed."""
import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_gui_responsive.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_gui_responsive", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", ["field-sweep", "telegraph-dwell"])
def test_a_live_run_of_1e4_points_keeps_updating(qapp, tmp_path, bench, name):
    out = bench.measure(name, n_points=10_000, extra=1_000, seconds=0.6, folder=tmp_path)
    assert out["points_shown"] > out["points_loaded"]          # appended rows arrived
    assert out["updates"] >= 3                                 # the dock kept refreshing
    assert out["update_wall_median_s"] > 0 and out["lateness_max_s"] >= -0.01
