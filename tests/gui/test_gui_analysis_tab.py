"""The Analysis tab (issue 15, item 7): when a run finishes or a file is opened, the tab shows
the procedure's analysis — the numbers `labspin analyze` prints for the same file, and its
figure — computed off the GUI thread; a file the analysis cannot fit says why."""
import threading

import numpy as np
import pytest

from labspin.run import analysis, api

SMALL = {"max_field": 0.05, "field_step": 0.01}


def _wait(qtbot, tab):
    qtbot.waitUntil(lambda: tab.pending == 0 and tab.outcome is not None, timeout=60_000)


def test_a_finished_run_is_analyzed_as_the_cli_does(qtbot, window):
    win = window("field-sweep", seed=5)
    p = win.make_procedure()
    for k, v in SMALL.items():
        setattr(p, k, v)
    exp = win.queue(procedure=p)
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    tab = win.analysis_tab
    assert win.tabs.indexOf(tab) >= 0 and win.tabs.tabText(win.tabs.indexOf(tab)) == "Analysis"
    _wait(qtbot, tab)
    cli = analysis.analyze("field-sweep", analysis.read_files([exp.data_filename]))
    assert tab.outcome.files == [exp.data_filename] and not tab.outcome.error
    assert tab.outcome.result.keys() == cli.keys()
    for k, v in cli.items():
        if isinstance(v, float):
            np.testing.assert_allclose(tab.outcome.result[k], v, rtol=1e-12, equal_nan=True)
    report = tab.report.toPlainText().splitlines()
    assert report == analysis.report_lines({k: v for k, v in cli.items() if k != "warnings"})
    assert tab.canvas is not None and tab.canvas.figure is tab.outcome.figure
    assert tab.outcome.figure.axes                    # the notebook figure, with its axes


def test_the_analysis_runs_in_a_thread_of_its_own(qtbot, window, tmp_path, monkeypatch):
    out = api.run("field-sweep", params=SMALL, seed=1, out=tmp_path)
    win = window("field-sweep")
    threads = []
    real = analysis.analyze

    def spy(*args, **kwargs):
        threads.append(threading.current_thread())
        return real(*args, **kwargs)
    monkeypatch.setattr(analysis, "analyze", spy)
    win.load_results(out.path)
    _wait(qtbot, win.analysis_tab)
    assert threads and threads[0] is not threading.main_thread()
    assert win.analysis_tab.status.text().startswith(f"field-sweep analysis of {out.path}")


def test_a_file_the_analysis_cannot_fit_is_reported(qtbot, window, tmp_path):
    out = api.run("field-sweep", params=SMALL, seed=1, out=tmp_path)
    win = window("stfmr")                       # an R–H loop is not an ST-FMR measurement
    win.analysis_tab.analyze([str(out.path)])
    _wait(qtbot, win.analysis_tab)
    outcome = win.analysis_tab.outcome
    assert outcome.result is None and outcome.figure is None
    assert win.analysis_tab.status.text().startswith(f"stfmr cannot analyze {out.path}: ")
    assert win.analysis_tab.canvas is None


@pytest.mark.parametrize("text", ["not,a\n1,2\n", ""])
def test_an_unreadable_file_is_named(qtbot, window, tmp_path, text):
    bad = tmp_path / "bad.csv"
    bad.write_text(text)
    win = window("field-sweep")
    win.analysis_tab.analyze([str(bad)])
    _wait(qtbot, win.analysis_tab)
    assert str(bad) in win.analysis_tab.status.text()
    assert "cannot" in win.analysis_tab.status.text()
