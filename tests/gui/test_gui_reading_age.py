"""The bench panel's readings carry their age (issue 15, item 4): current while the run
samples them, "last read … at HH:MM:SS (… ago)" and greyed once the run has ended or they are
older than STALE_S."""
import time
from types import SimpleNamespace

import pytest

from labspin.gui.bench_panel import STALE_S, BenchPanel, describe_age, describe_reading
from labspin.gui.worker import BenchState


@pytest.mark.parametrize("age, text", [(0.42, "0.4 s ago"), (12.4, "12 s ago"),
                                       (180, "3 min ago"), (3 * 3600, "3 h ago")])
def test_ages_read_in_the_unit_that_fits(age, text):
    assert describe_age(age) == text


def test_a_reading_is_current_only_while_running_and_younger_than_stale_s():
    t = 1_000_000.0
    assert describe_reading("-3 mT", t, "running", t + 0.4) == "-3 mT, read 0.4 s ago"
    at = time.strftime("%H:%M:%S", time.localtime(t))
    assert describe_reading("-3 mT", t, "running", t + STALE_S + 1) == \
        f"last read -3 mT at {at} (6.0 s ago)"
    assert describe_reading("-3 mT", t, "FINISHED", t + 0.4).startswith("last read -3 mT at")
    assert describe_reading("", None, "idle", t) == "—"


def _panel(qtbot, snap):
    state = BenchState()
    state._publish(snap)
    panel = BenchPanel(SimpleNamespace(bench_state=state), "Bench: test", {}, refresh_s=60)
    qtbot.addWidget(panel)
    return panel


def test_panel_marks_the_field_and_outputs_stale_after_the_run(qtbot):
    t = time.time()
    snap = {"phase": "running", "instruments": {}, "field_T": -0.206, "field_read": t,
            "field_setpoint_T": -0.003, "sampled": t}
    panel = _panel(qtbot, snap)
    panel.refresh(now=t + 0.5)
    assert panel.field.text() == "Field: -206 mT (setpoint -3 mT), read 0.5 s ago"
    assert panel.outputs_age.text() == "Outputs: read 0.5 s ago"
    assert panel.field.styleSheet() == "" and panel.tree.isEnabled()
    # the run ends; two minutes later nothing reads as current
    panel.manager.bench_state._publish({**snap, "phase": "FINISHED — bench in its safe state",
                                        "sampled": t + 1.0})
    panel.refresh(now=t + 121.0)
    at = time.strftime("%H:%M:%S", time.localtime(t))
    assert panel.field.text() == f"Field: last read -206 mT (setpoint -3 mT) at {at} (2 min ago)"
    assert panel.outputs_age.text().startswith("Outputs: last read at ")
    assert "italic" in panel.field.styleSheet() and not panel.tree.isEnabled()


def test_a_finished_run_leaves_readings_labelled_last_read(qtbot, window):
    win = window("field-sweep", seed=1)
    p = win.make_procedure()
    p.max_field, p.field_step = 0.02, 0.01
    t0 = time.time()
    win.queue(procedure=p)
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    snap = win.manager.bench_state.snapshot()
    assert t0 <= snap["field_read"] <= snap["sampled"] <= time.time()
    win.bench_panel.refresh()
    assert win.bench_panel.field.text().startswith("Field: last read ")
    assert win.bench_panel.outputs_age.text().startswith("Outputs: last read at ")
