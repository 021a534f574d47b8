"""The estimator (issue 15, item 6): a "Time left" column in the queue from the procedure's
own point count and the measured row rate, and an end-of-run line (status, rows, duration,
file) in the log and the status bar."""
import re

import pandas as pd
import pytest

from labspin.gui.estimator import RunClock, end_of_run_line, format_duration
from labspin.run.runner import ABORTED


def test_time_left_is_the_points_to_come_at_the_measured_rate():
    clock = RunClock(points=101, started=100.0)
    assert clock.remaining_s(105.0) is None                # no rate before two rows
    clock.row(110.0)                                       # 10 s start-up: not a point cost
    assert clock.remaining_s(110.0) is None
    for k in range(1, 21):
        clock.row(110.0 + 0.5 * k)                         # 0.5 s per row
    # 21 rows done, 80 to come at 0.5 s; 1 s since the latest row
    assert clock.remaining_s(121.0) == pytest.approx(80 * 0.5 - 1.0)
    assert clock.remaining_s(1e6) == 0.0                   # late, never negative
    assert clock.describe(121.0).startswith("39.0 s left (ends ≈ ")


def test_cells_before_during_and_after_a_run():
    clock = RunClock(points=21)
    assert clock.describe(0.0) == "queued, 21 points"
    clock.started = 10.0
    assert clock.describe(11.0) == "starting, 21 points"
    clock.row(12.0)
    assert clock.describe(12.5) == "measuring (1 of 21 points)"
    clock.ended = 75.0
    assert clock.describe(80.0) == "took 1 min 05 s"
    clock.message = "stopped by the user"
    assert end_of_run_line("field-sweep", ABORTED, clock, "/x/f.csv") == \
        "field-sweep ABORTED: 1 rows in 1 min 05 s, file /x/f.csv — stopped by the user"


@pytest.mark.parametrize("s, text", [(4.23, "4.2 s"), (83, "1 min 23 s"),
                                     (7500, "2 h 05 min")])
def test_durations(s, text):
    assert format_duration(s) == text


def test_a_finished_run_shows_its_time_left_then_its_end_line(qtbot, window):
    win = window("field-sweep", seed=2)
    p = win.make_procedure()
    p.max_field, p.field_step = 0.1, 0.001
    n = p.estimate()[0]
    exp = win.queue(procedure=p)
    col = win.time_left
    assert col.text(exp) in (f"queued, {n} points", f"starting, {n} points")
    assert win.browser.headerItem().text(col.column) == "Time left"
    qtbot.waitUntil(lambda: exp.run_clock.rows >= 50 or not win.manager.is_running(),
                    timeout=60_000)
    if win.manager.is_running():
        col.refresh()
        assert re.fullmatch(r"\S+( min \d\d)? s left \(ends ≈ \d\d:\d\d:\d\d\)", col.text(exp)) \
            or col.text(exp).startswith("took")
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=120_000)
    rows = len(pd.read_csv(exp.data_filename, comment="#"))
    assert rows == n == exp.run_clock.rows
    assert col.text(exp).startswith("took ")
    line = win.end_of_run.text()
    assert line.startswith(f"field-sweep FINISHED: {n} rows in ")
    assert line.endswith(f"file {exp.data_filename}")
    assert exp.run_clock.started <= exp.run_clock.first_row <= exp.run_clock.last_row \
        <= exp.run_clock.ended


def test_a_first_run_says_it_waits_for_the_physics_kernels(qtbot, window, monkeypatch,
                                                           caplog):
    """Item 9: before its first point a run whose kernels are not compiled yet says so, in
    the log, the bench panel and its "Time left" cell; a later run does not."""
    from labspin.gui import worker
    from labspin.gui.estimator import RunClock
    clock = RunClock(points=21, started=1.0, waiting_for=worker.PREPARING)
    assert clock.describe(2.0) == f"{worker.PREPARING}, 21 points"
    win = window("field-sweep")
    for ready in (False, True):
        monkeypatch.setattr(worker, "physics_kernels_ready", lambda ready=ready: ready)
        caplog.clear()
        p = win.make_procedure()
        p.max_field, p.field_step = 0.02, 0.01
        exp = win.queue(procedure=p)
        qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
        said = [r.getMessage() for r in caplog.records if worker.PREPARING in r.getMessage()]
        assert (exp.run_clock.waiting_for == worker.PREPARING) == (not ready)
        assert len(said) == (0 if ready else 1)



def test_the_kernel_check_sees_the_kernels_after_a_simulated_run(tmp_path):
    from labspin.gui.worker import physics_kernels_ready
    from labspin.run import api
    api.run("field-sweep", params={"max_field": 0.02, "field_step": 0.01}, out=tmp_path)
    assert physics_kernels_ready()
