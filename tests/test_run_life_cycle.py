"""The one run life cycle (labspin.run.runner.run_life_cycle) that the CLI, the API, sequences
and the GUI worker share: the hooks come in the order the GUI relies on (metadata in the file
before the first row, every source safe before the bench closes and before the file's status
lines), and every exit ends with the status in the file."""
import threading

import pytest
from pymeasure.experiment import Results

from labspin.run import api
from labspin.run.runner import ABORTED, FAILED, FINISHED, RunHooks, RunResult, run_life_cycle
from labspin.run.signals import ramp_down_lines

SMALL = {"max_field": 0.2, "field_step": 0.02}      # a 51-point loop, about 1 s


def _run(tmp_path, abort=None, execute=None):
    """Run a small field sweep through the life cycle; get (status, message, events, file)."""
    p = api.prepare("field-sweep", params=SMALL, seed=3)
    proc, bench = p.procedure, p.bench
    if execute is not None:
        proc.execute = lambda: execute(proc)
    path = tmp_path / "run.csv"
    results = Results(proc, str(path))
    events = []

    def safe(status, message, failures):
        # every output a driver wrote is back at its safe level, the bench still open
        events.append(("safe", status, failures, ramp_down_lines(bench),
                       bool(bench.instruments)))

    def emit(topic, record):
        if topic == "results":
            events.append((topic, ramp_down_lines(bench)))

    hooks = RunHooks(emit,
                     opened=lambda ids: events.append(("opened", sorted(ids),
                                                       path.read_text().count("#\t"))),
                     safe=safe, rows_closed=lambda: events.append(("rows_closed",)),
                     fault=lambda exc: events.append(("fault", type(exc).__name__)))
    status, message = run_life_cycle(proc, bench, results, abort or threading.Event(), hooks,
                                     sample_name=p.sample_name, seed=p.seed)
    return status, message, events, path.read_text(encoding=Results.ENCODING)


def bench_names():
    return list(api.prepare("field-sweep", params=SMALL).bench.config.instruments)


def test_a_finished_run_calls_the_hooks_in_order_and_ends_safe_with_its_status(tmp_path):
    status, message, events, text = _run(tmp_path)
    assert (status, message) == (FINISHED, "")
    kinds = [e[0] for e in events]
    assert kinds[0] == "opened" and kinds[-2:] == ["safe", "rows_closed"]
    planned = api.prepare("field-sweep", params=SMALL).procedure.estimate()[0]
    assert kinds.count("results") == planned            # every point of the loop
    _, names, metadata_lines = events[0]
    assert names == sorted(bench_names())               # the opened bench's instruments
    assert events[-3][1] != []                          # the last point: magnet at 0.2 T
    assert metadata_lines > 0                           # metadata stored before the rows
    _, st, failures, setpoint, still_open = events[-2]
    assert (st, failures, setpoint, still_open) == (FINISHED, [], [], True)
    assert text.rstrip().splitlines()[-1] == "#Status: FINISHED"


def test_a_fault_mid_run_ends_failed_named_safe_and_in_the_file(tmp_path):
    def execute(proc):
        proc.emit("results", {c: 0.0 for c in proc.DATA_COLUMNS})
        raise RuntimeError("lock-in overload")
    status, message, events, text = _run(tmp_path, execute=execute)
    assert status == FAILED and message == "RuntimeError: lock-in overload"
    assert ("fault", "RuntimeError") in events
    assert events[-2][:5] == ("safe", FAILED, [], [], True)
    assert text.rstrip().splitlines()[-2:] == ["#Status: FAILED",
                                               "#Message: RuntimeError: lock-in overload"]


def test_an_abort_before_the_run_skips_execute_and_ends_aborted(tmp_path):
    abort = threading.Event()
    abort.set()

    def execute(proc):
        pytest.fail("execute ran although the run was aborted")
    status, _, events, text = _run(tmp_path, abort=abort, execute=execute)
    assert status == ABORTED and [e[0] for e in events] == ["opened", "safe", "rows_closed"]
    assert text.rstrip().splitlines()[-1] == "#Status: ABORTED"


def test_the_run_result_reads_its_file_with_the_results_reader(tmp_path):
    """RunResult.data reads the file with the one results reader: a '#' inside a cell is
    data (pandas' comment='#' would cut the row there), the header is in attrs, and a run
    that ended before its first point gives its columns without rows."""
    path = tmp_path / "run.csv"
    path.write_text("#Procedure: <labspin.procedures.field_sweep.FieldSweep>\n#Parameters:\n"
                    "#\tMax field: 0.02 T\n#Data:\nNote,Field (T),Resistance (ohm)\n"
                    "bar #2,0.01,101.5\nafter reset #3,0.02,102.5\n#Status: FINISHED\n",
                    encoding="utf-8")
    df = RunResult(path, FINISHED, "").data()
    assert list(df["Note"]) == ["bar #2", "after reset #3"]
    assert list(df["Resistance (ohm)"]) == [101.5, 102.5]
    assert "Max field: 0.02 T" in df.attrs["header"]
    empty = tmp_path / "aborted.csv"
    empty.write_text("#Parameters:\n#\tMax field: 0.02 T\n#Data:\nField (T),Resistance (ohm)\n"
                     "#Status: ABORTED\n", encoding="utf-8")
    none = RunResult(empty, ABORTED, "").data()
    assert list(none.columns) == ["Field (T)", "Resistance (ohm)"] and len(none) == 0
