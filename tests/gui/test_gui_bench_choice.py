"""The bench choice in a procedure window: sample, overrides and seed chosen in the window
apply to the runs queued after; bad choices are refused at Queue before any instrument."""
import json

import pandas as pd
import pytest
from pymeasure.display.Qt import QtCore, QtWidgets
from pymeasure.experiment import Procedure, Results

from labspin.bench.session import Bench
from labspin.gui.bench_choice import CONFIG, SAMPLE_FILE, SIMULATED, split_overrides
from labspin.results.reader import read_table
from labspin.run import api

SMALL = {"max_field": 0.05, "field_step": 0.01}       # field-sweep: 21 points, ~1 s


def _set_inputs(win, **params):
    p = win.make_procedure()
    for k, v in params.items():
        setattr(p, k, v)
    win.set_parameters(p.parameter_objects())            # as if typed into the inputs


@pytest.fixture
def no_open(monkeypatch):
    """Get the list of benches opened (none may be: Bench.open is replaced by a recorder)."""
    opened = []
    monkeypatch.setattr(Bench, "open", lambda self: opened.append(self) or self)
    return opened


def test_split_overrides_as_repeated_set():
    assert split_overrides("a=1, b=2 c=3,,d=-1e-3") == ["a=1", "b=2", "c=3", "d=-1e-3"]
    assert split_overrides("magnet.axis=[0, 0, 1] alpha = 0.01") == ["magnet.axis=[0, 0, 1]",
                                                                      "alpha=0.01"]
    assert split_overrides("name='a b', x=1") == ["name='a b'", "x=1"]
    assert split_overrides("  ") == []


def test_the_controls_start_from_the_command_line_options(window, tmp_path):
    win = window("field-sweep", sample="mtj_pillar", set=("alpha=0.02",), seed=7)
    choice = win.bench_choice
    assert choice.kind.currentText() == SIMULATED and choice.seed.value() == 7
    assert choice.values() == {"bench": None, "sample": "mtj_pillar", "set": ("alpha=0.02",),
                               "seed": 7}
    toml = tmp_path / "mine.toml"
    win2 = window("field-sweep", sample=str(toml))
    assert win2.bench_choice.sample.currentData() == SAMPLE_FILE
    assert win2.bench_choice.values()["sample"] == str(toml)
    win3 = window("field-sweep", bench="bench.toml")
    assert win3.bench_choice.kind.currentText() == CONFIG
    assert not win3.bench_choice.overrides.isEnabled()
    assert win3.bench_choice.values() == {"bench": "bench.toml", "sample": None, "set": (),
                                          "seed": 0}
    # no sample chosen: None, so that api.prepare keeps the procedure's default sample
    assert window("field-sweep").bench_choice.values()["sample"] is None


def test_overrides_and_seed_chosen_in_the_window_reach_the_file(qtbot, window, tmp_path):
    win = window("field-sweep", seed=0)
    first = win.bench_choice
    first.overrides.setText("dr_ahe_ohm=-1.7")
    first.seed.setValue(5)
    assert "dr_ahe_ohm=-1.7" in win.bench_panel.header.text()
    assert "seed 5" in win.bench_panel.header.text()
    _set_inputs(win, **SMALL)
    qtbot.mouseClick(win.queue_button, QtCore.Qt.MouseButton.LeftButton)
    exp = win.manager.experiments.queue[-1]
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    assert exp.procedure.status == Procedure.FINISHED
    proc = Results.load(exp.data_filename).procedure
    assert proc.seed == "5"
    # the procedure's default sample (none chosen), with the override applied
    assert proc.sample_name == "perpendicular_sot_hallbar"
    sample = json.loads(proc.sample_parameters)
    default = api.prepare("field-sweep").sample_parameters
    assert sample["dr_ahe_ohm"] == -1.7 != default["dr_ahe_ohm"]
    df = read_table(exp.data_filename, add_constants=False)    # the one reader, as .data
    ref = api.run("field-sweep", params=SMALL, set=["dr_ahe_ohm=-1.7"], seed=5,
                  out=tmp_path / "cli").data
    pd.testing.assert_frame_equal(df, ref)
    # the other seed gives other noise: the seed the file names is the one that was used
    other = api.run("field-sweep", params=SMALL, set=["dr_ahe_ohm=-1.7"], seed=0,
                    out=tmp_path / "cli0").data
    assert not df["Resistance (ohm)"].equals(other["Resistance (ohm)"])


def _click_queue(qtbot, win):
    qtbot.mouseClick(win.queue_button, QtCore.Qt.MouseButton.LeftButton)
    text = win.refusal_box.text()
    assert win.refusal_box.isVisible() and text == win.refusal.text()
    assert "Traceback" not in text and len(win.manager.experiments.queue) == 0
    return text


def test_a_bad_override_is_refused_naming_it(qtbot, window, no_open):
    win = window("field-sweep")
    win.bench_choice.overrides.setText("alfa=0.1")
    text = _click_queue(qtbot, win)
    assert text.startswith("field-sweep not queued:") and "alfa" in text, text
    assert "'alpha'" in text                              # the spelling it meant
    assert no_open == []


def test_bad_bench_and_sample_files_are_refused(qtbot, window, no_open, tmp_path):
    win = window("field-sweep")
    choice = win.bench_choice
    choice.sample.setCurrentIndex(choice.sample.findData(SAMPLE_FILE))
    assert "no sample file" in _click_queue(qtbot, win)
    choice.sample_file.setText(str(tmp_path / "absent.toml"))
    assert "absent.toml" in _click_queue(qtbot, win)
    choice.kind.setCurrentText(CONFIG)
    assert "no bench config file" in _click_queue(qtbot, win)
    bad = tmp_path / "bench.toml"
    bad.write_text("[instruments\n")
    choice.bench_file.setText(str(bad))
    text = _click_queue(qtbot, win)
    assert str(bad) in text and "not valid TOML" in text, text
    assert no_open == []


def test_the_bench_heading_appears_once(window):
    """One "Bench" heading (the dock's), not repeated by the group box or a form row."""
    win = window("current-sweep")
    headings = [d.windowTitle() for d in win.findChildren(QtWidgets.QDockWidget)]
    headings += [g.title() for g in win.findChildren(QtWidgets.QGroupBox)]
    headings += [lab.text() for lab in win.findChildren(QtWidgets.QLabel)]
    assert headings.count("Bench") == 1, headings
