"""Choosing the columns of each plot (issue 15, item 6, as pymeasure's X/Y boxes): every run's
item re-reads its file in the chosen columns, the axes and the title follow, "Default" goes
back; a column the procedure does not write is refused with its name."""
import numpy as np
import pandas as pd
import pytest

from labspin.run import api


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory):
    out = api.run("field-sweep", params={"max_field": 0.03, "field_step": 0.01}, seed=3,
                  out=tmp_path_factory.mktemp("sweep"))
    return out.path


def test_choosing_x_and_y_redraws_every_run_in_those_columns(qtbot, window, sweep_file):
    win = window("field-sweep")
    win.load_results(sweep_file)
    df = pd.read_csv(sweep_file, comment="#")
    dock, chooser = win.dock_widget, win.dock_widget.choosers[0]
    assert set(chooser.boxes) == {"x", "y"}
    assert [chooser.boxes["x"].itemText(i) for i in range(chooser.boxes["x"].count())] == \
        list(win.procedure_class.DATA_COLUMNS)
    chooser.choose(x="Field set (T)", y="Field (T)")
    item = next(i for i in dock.items if i.dock_index == 0)
    np.testing.assert_array_equal(item.xData, df["Field set (T)"])
    np.testing.assert_array_equal(item.yData, df["Field (T)"])
    assert dock.plots[0].getAxis("bottom").labelText == "Field set"
    assert dock.plots[0].getAxis("left").labelText == "Field"
    assert dock.docks[0].title() == "Field vs Field set"
    # a run queued now is drawn in the chosen columns too
    assert win.dock_widget.new_curve(item.results)[0].view.x == "Field set (T)"
    chooser.restore()
    np.testing.assert_array_equal(item.xData, df["Field (T)"])
    np.testing.assert_array_equal(item.yData, df["Resistance (ohm)"])
    assert dock.docks[0].title() == "R–H loop"


def test_a_column_the_procedure_does_not_write_is_refused(qtbot, window):
    win = window("tmr-statistics")
    hist = win.dock_widget.choosers[1]
    assert set(hist.boxes) == {"x"}                      # a histogram: counts of X
    with pytest.raises(ValueError, match=r"x column 'Voltage \(mV\)' is not one of"):
        hist.choose(x="Voltage (mV)")
    with pytest.raises(ValueError, match="a histogram view has no 'y' axis"):
        hist.choose(y="Time (s)")


def test_a_map_chooses_its_colour_column(qtbot, window, tmp_path):
    win = window("kapitza-map")
    chooser = win.dock_widget.choosers[0]
    assert set(chooser.boxes) == {"z"}
    chooser.choose(z="Hall resistance std (ohm)")
    assert win.dock_widget.views[0].z == "Hall resistance std (ohm)"
    assert win.dock_widget.docks[0].title() == "Hall resistance std map"
