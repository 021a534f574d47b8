"""Measurements queued in the GUI on the simulated bench: finished, aborted, refused and
sequenced runs, their files and the bench's safe state."""
import json
import threading

import numpy as np
import pandas as pd
import pytest
from pymeasure.display.Qt import QtCore
from pymeasure.experiment import Procedure, Results

from labspin.bench.session import Bench
from labspin.gui.worker import LabspinWorker
from labspin.results.reader import read_table
from labspin.run import api

SMALL = {"max_field": 0.05, "field_step": 0.01}       # field-sweep: 21 points, ~1 s
LONG = {"max_field": 0.4, "field_step": 0.0001}       # 16001 points (about a minute of wall
                                                      # time): a run the test stops mid-way
                                                      # must not end first on a loaded machine


def _queue(win, **params):
    p = win.make_procedure()
    for k, v in params.items():
        setattr(p, k, v)
    return win.queue(procedure=p)


def _tail(path):
    return [line.strip() for line in open(path, encoding="utf-8") if line.startswith("#")][-3:]


def test_queued_run_finishes_with_the_runners_file_and_data(qtbot, window, tmp_path):
    win = window("field-sweep", seed=4)
    exp = _queue(win, **SMALL)
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    assert exp.procedure.status == Procedure.FINISHED
    assert "#Status: FINISHED" in _tail(exp.data_filename)
    loaded = Results.load(exp.data_filename)
    proc = loaded.procedure
    assert proc.sample_name == "perpendicular_sot_hallbar" and proc.seed == "4"
    assert proc.bench_config_sha256 == exp.procedure.labspin_prepared.bench.config.sha256
    assert set(json.loads(proc.instruments)) == {"smu", "nanovoltmeter", "magnet_psu",
                                                 "gaussmeter"}
    assert json.loads(proc.sample_parameters)["name"] == "perpendicular_sot_hallbar"
    assert proc.labspin_version and proc.start_time
    df = read_table(exp.data_filename, add_constants=False)    # the one reader, as .data
    assert len(df) == len(loaded.data) == exp.procedure.estimate()[0]
    # the GUI's worker is the runner's path: the same seed gives the same numbers
    ref = api.run("field-sweep", params=SMALL, seed=4, out=tmp_path / "cli").data
    pd.testing.assert_frame_equal(df, ref)
    # the plots show the file's points: the R–H loop is Resistance against Field
    loop = win.dock_widget.items[0]
    np.testing.assert_array_equal(loop.xData, df["Field (T)"])
    np.testing.assert_array_equal(loop.yData, df["Resistance (ohm)"])
    # the bench panel shows the bench after the run: connected, safe
    snap = win.manager.bench_state.snapshot()
    assert snap["phase"] == "FINISHED — bench in its safe state"
    assert snap["instruments"]["smu"]["outputs"] == {"source_enabled": False,
                                                     "source_current": 0.0}
    win.bench_panel.refresh()
    assert "FINISHED" in win.bench_panel.phase.text()


def test_abort_mid_run_ends_aborted_with_the_sources_ramped_to_zero(qtbot, window,
                                                                    monkeypatch):
    # The worker is held at the first point, after 20 rows, where the bench panel's own paced
    # sampling shows the source meter on: the test then reads the panel and aborts. Without
    # the hold the check raced the run (on a quiet CI machine the 16001-point run ended while
    # the GUI thread was busy drawing it, and the panel was never seen mid-run).
    reached, go = threading.Event(), threading.Event()
    rows = [0]
    emit = LabspinWorker.emit

    def smu_on(snap):
        outputs = snap["instruments"].get("smu", {}).get("outputs", {})
        return snap["phase"] == "running" and outputs.get("source_enabled") is True \
            and outputs.get("source_current") == 1e-3 and snap["field_T"] is not None

    def held_emit(self, topic, record):
        emit(self, topic, record)
        if topic == "results" and not reached.is_set():
            rows[0] += 1
            if rows[0] >= 20 and smu_on(self.state.snapshot()):
                reached.set()
                go.wait(120)
    monkeypatch.setattr(LabspinWorker, "emit", held_emit)
    win = window("field-sweep")
    exp = _queue(win, **LONG)
    qtbot.waitUntil(reached.is_set, timeout=120_000)
    assert smu_on(win.manager.bench_state.snapshot())    # the panel's view, mid-run
    win.bench_panel.refresh()
    assert "on, 1 mA" in win.bench_panel.tree.topLevelItem(0).text(1)
    win.abort()
    go.set()
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    assert exp.procedure.status == Procedure.ABORTED
    assert "#Status: ABORTED" in _tail(exp.data_filename)
    n = len(pd.read_csv(exp.data_filename, comment="#"))
    assert 20 <= n < exp.procedure.estimate()[0]
    vb = exp.procedure.labspin_prepared.bench.virtual
    assert vb.drives.dc_total() == 0.0                   # no current through the sample
    assert vb.magnet.setpoint_A == 0.0                   # magnet supply ramped to zero
    smu = [v for _, name, v in vb.instruments["smu"].output_log if name == "source_current"]
    assert smu and smu[-1] == 0.0
    assert np.abs(np.diff([0.0, *smu])).max() <= 1e-4 + 1e-12     # ramped, never jumped
    psu = [v for _, name, v in vb.instruments["magnet_psu"].output_log if "curr" in name.lower()]
    assert psu and psu[-1] == 0.0
    assert win.manager.bench_state.snapshot()["phase"] == "ABORTED — bench in its safe state"


def test_a_parameter_beyond_the_limits_is_refused_before_any_instrument(qtbot, window,
                                                                        monkeypatch):
    opened = []
    monkeypatch.setattr(Bench, "open", lambda self: opened.append(self) or self)
    win = window("field-sweep")
    p = win.make_procedure()
    p.max_field = 5.0    # the simulated bench sets 0.444 T: both branches stay within 0.45 T
    win.set_parameters(p.parameter_objects())            # as if typed into the inputs
    qtbot.mouseClick(win.queue_button, QtCore.Qt.MouseButton.LeftButton)
    assert opened == [] and len(win.manager.experiments.queue) == 0
    text = win.refusal_box.text()
    assert win.refusal_box.isVisible()
    assert "Max field" in text and "allowed range [0, 0.444] T" in text, text
    assert "Traceback" not in text and text == win.refusal.text()


def test_the_sequencer_queues_runs_that_follow_each_other(qtbot, window, tmp_path):
    seq = tmp_path / "sequence.txt"
    seq.write_text('- "Max field", "[0.02, 0.03]"\n')
    win = window("field-sweep")
    p = win.make_procedure()
    p.field_step = 0.01
    win.set_parameters(p.parameter_objects())
    win.sequencer.load_sequence(filename=str(seq))
    win.sequencer.queue_sequence()
    queued = list(win.manager.experiments.queue)
    assert [e.procedure.max_field for e in queued] == [0.02, 0.03]
    qtbot.waitUntil(lambda: all(e.procedure.status == Procedure.FINISHED for e in queued),
                    timeout=60_000)
    lengths = [len(pd.read_csv(e.data_filename, comment="#")) for e in queued]
    assert lengths == [e.procedure.estimate()[0] for e in queued]
    assert lengths[0] < lengths[1]


def test_an_instrument_fault_ends_failed_safe_and_the_queue_stops(qtbot, window):
    """pymeasure 0.16's worker hangs when shutdown raises; ours reports FAILED after the
    bench is safe, names the instrument, and the window is ready for the next run."""
    from labspin.gui.window import GuiOptions
    win = window("field-sweep")

    def prepare_with_fault(procedure):
        prepared = GuiOptions.prepare(win.options, procedure)
        prepared.bench.virtual.instruments["nanovoltmeter"].inject("timeout", on=None,
                                                                   count=None)
        return prepared
    win.options.prepare = prepare_with_fault
    exp = _queue(win, **SMALL)
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    assert exp.procedure.status == Procedure.FAILED
    tail = _tail(exp.data_filename)
    assert "#Status: FAILED" in tail
    assert any(t.startswith("#Message:") and "nanovoltmeter" in t for t in tail), tail
    vb = exp.procedure.labspin_prepared.bench.virtual
    assert vb.drives.dc_total() == 0.0 and vb.magnet.setpoint_A == 0.0
    assert not win.abort_button.isEnabled()


def test_closing_the_window_mid_run_aborts_and_leaves_the_bench_safe(qtbot, window):
    win = window("field-sweep")
    exp = _queue(win, **LONG)
    qtbot.waitUntil(lambda: len(exp.results.data) >= 5, timeout=60_000)
    win.ask_before_closing = False                       # the question: test_gui_keys_close
    win.close()                                          # waits for the worker
    assert not win.manager.is_running()
    assert exp.procedure.status == Procedure.ABORTED
    assert "#Status: ABORTED" in _tail(exp.data_filename)
    vb = exp.procedure.labspin_prepared.bench.virtual
    assert vb.drives.dc_total() == 0.0 and vb.magnet.setpoint_A == 0.0


def test_each_queued_run_measures_on_its_own_simulated_instruments(qtbot, window, tmp_path):
    """Queueing prepares a run's simulated bench at once; a run queued behind another must
    still measure on its own instruments (fresh, same seed), not on the ones the later
    queue entry registered under the same VISA names."""
    win = window("field-sweep", seed=2)
    first, second = _queue(win, **SMALL), _queue(win, **SMALL)
    qtbot.waitUntil(lambda: all(e.procedure.status == Procedure.FINISHED
                                for e in (first, second)), timeout=60_000)
    ref = api.run("field-sweep", params=SMALL, seed=2, out=tmp_path / "cli").data
    for exp in (first, second):
        pd.testing.assert_frame_equal(read_table(exp.data_filename, add_constants=False), ref)


def test_the_gui_sequencer_reads_values_as_data_never_code(qtbot, window, tmp_path):
    """pymeasure's sequencer evaluates its value text with eval (a shared plan is code); the
    window's sequencer uses the CLI's whitelist parser: numbers and grids, nothing executed."""
    from pymeasure.display.widgets import sequencer_widget
    from pymeasure.experiment.sequencer import SequenceEvaluationError

    window("field-sweep")
    handler = sequencer_widget.SequenceHandler
    marker = tmp_path / "ran"
    escape = f"__import__('pathlib').Path({str(marker)!r}).touch()"
    with pytest.raises(SequenceEvaluationError):
        handler.eval_string(escape)
    with pytest.raises(SequenceEvaluationError):
        handler.eval_string("().__class__.__base__.__subclasses__()")
    assert not marker.exists()
    assert list(handler.eval_string("arange(0.02, 0.04, 0.01)")) == pytest.approx([0.02, 0.03])
