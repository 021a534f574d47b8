"""The launcher and every procedure's window: listed, built with plots of existing columns,
drawn to PNG; ``labspin gui`` starts and refuses bad options."""
import argparse

import numpy as np
import pytest
from pymeasure.display.Qt import QtCore, QtGui

from labspin.gui import main, render_to_png
from labspin.gui.launcher import Launcher
from labspin.gui.views import views_for
from labspin.procedures import PROCEDURES, procedure_class


def test_launcher_lists_every_procedure_and_opens_its_window(qtbot):
    launcher = Launcher()
    qtbot.addWidget(launcher)
    assert launcher.names() == list(PROCEDURES)
    descriptions = [launcher.list.topLevelItem(i).text(1) for i in range(len(PROCEDURES))]
    assert descriptions == [procedure_class(n).DESCRIPTION for n in PROCEDURES]
    win = launcher.open("stfmr")
    assert win.isVisible() and "stfmr" in win.windowTitle()
    assert launcher.open("stfmr") is win                     # one window per procedure
    launcher.close()
    assert not win.isVisible()


@pytest.mark.parametrize("name", list(PROCEDURES))
def test_views_plot_existing_columns(name):
    cls = procedure_class(name)
    for view in views_for(name, cls.DATA_COLUMNS):
        assert set(view.columns()) <= set(cls.DATA_COLUMNS), view


def _png_stats(path):
    img = QtGui.QImage(str(path)).convertToFormat(QtGui.QImage.Format.Format_RGB32)
    ptr = img.constBits()
    ptr.setsize(img.sizeInBytes())
    rgb = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    rgb = rgb[:, :img.width(), 2::-1].copy()     # RGB32 is B, G, R, A in memory; copy
    return img.width(), img.height(), rgb           # before the QImage goes


@pytest.mark.parametrize("name", list(PROCEDURES))
def test_every_window_renders_to_a_nonblank_png(qapp, tmp_path, name):
    path = tmp_path / f"{name}.png"
    seconds = render_to_png(name, path, size=(1400, 900))
    w, h, rgb = _png_stats(path)
    assert (w, h) == (1400, 900)
    # not blank: a drawn window has many colours (text anti-aliasing, frames, docks); a blank
    # or failed grab has one or two
    packed = (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) \
        | rgb[..., 2]
    colours = np.unique(packed).size
    assert colours > 50, colours
    assert seconds < 30
    print(f"{name}: rendered in {seconds:.2f} s")


def test_a_loaded_run_is_drawn_in_its_colour(qapp, tmp_path):
    """The plots draw the data: a finished run's file, loaded, puts the run's colour (the
    theme's first, Okabe–Ito blue on white) on at least a loop's worth of pixels more than
    the empty window has."""
    from labspin.gui.theme import run_colour
    from labspin.run import api
    out = api.run("field-sweep", params={"max_field": 0.05, "field_step": 0.01}, out=tmp_path)
    path = tmp_path / "loaded.png"
    render_to_png("field-sweep", path, results_file=out.path)
    colour = run_colour(0)
    _, _, rgb = _png_stats(path)
    render_to_png("field-sweep", tmp_path / "empty.png")
    _, _, rgb0 = _png_stats(tmp_path / "empty.png")
    drawn, empty = _near(rgb, colour), _near(rgb0, colour)
    assert drawn > empty + 200, (drawn, empty)


def _near(rgb, colour, tol: int = 40) -> int:
    """Count the pixels within ``tol`` of ``colour`` in each channel."""
    target = np.array([colour.red(), colour.green(), colour.blue()])
    return int((np.abs(rgb.astype(int) - target).max(axis=-1) <= tol).sum())


def _args(**kw):
    base = {"procedure": None, "bench": None, "sample": None, "set": [], "out": None,
            "seed": 0}
    base.update(kw)
    return argparse.Namespace(**base)


def test_main_refuses_unknown_procedure_and_bad_options(capsys):
    assert main(_args(procedure="no-such")) == 2
    assert "unknown procedure 'no-such'" in capsys.readouterr().err
    assert main(_args(bench="missing.toml", sample="x")) == 2
    assert "--sample and --set" in capsys.readouterr().err
    assert main(_args(bench="/nonexistent/bench.toml")) == 2
    assert "bench config /nonexistent/bench.toml" in capsys.readouterr().err
    assert main(_args(sample="no_such_sample")) == 2
    assert "sample:" in capsys.readouterr().err


class _LocalLoopApp:
    """The test's QApplication with ``exec`` running a local event loop that ``quit`` ends.
    QApplication.quit() would leave Qt's quitNow flag set: every later QEventLoop.exec()
    in the process (pytest-qt's qtbot.wait and waitUntil) returns at once without
    processing events, so later tests' runs never end and windows never activate."""

    def __init__(self, app):
        self.app, self.loop = app, QtCore.QEventLoop()

    def exec(self) -> int:
        return self.loop.exec()

    def quit(self) -> None:
        self.loop.quit()


@pytest.mark.parametrize("procedure", [None, "field-sweep"])
def test_main_opens_the_launcher_or_a_window(qapp, procedure, monkeypatch):
    app = _LocalLoopApp(qapp)
    monkeypatch.setattr("labspin.gui.application", lambda: app)
    shown = []

    def look_and_quit():
        shown.extend(w for w in qapp.topLevelWidgets() if w.isVisible())
        for w in shown:
            w.close()
        app.quit()
    QtCore.QTimer.singleShot(300, look_and_quit)
    assert main(_args(procedure=procedure, seed=2)) == 0
    titles = [w.windowTitle() for w in shown]
    expected = "labspin — procedures" if procedure is None else "labspin — field-sweep"
    assert any(t.startswith(expected) for t in titles), titles


def test_hiding_and_showing_a_run_in_the_browser(qapp, window, tmp_path):
    """Unchecking a run in pymeasure's browser removes its curves and their shaded groups;
    checking it again brings them back."""
    from labspin.run import api
    out = api.run("current-sweep", params={"cycles": 2, "current_step": 5e-6}, out=tmp_path)
    win = window("current-sweep")
    exp = win.load_results(out.path)
    plot = win.dock_widget.plots[0]
    groups = exp.curve_list[0].children_items
    assert len(groups) == 2                               # one shaded curve per cycle
    assert all(g.scene() is plot.scene() for g in groups)
    exp.browser_item.setCheckState(0, QtCore.Qt.CheckState.Unchecked)
    assert all(g.scene() is None for g in groups) and not win.dock_widget.items
    exp.browser_item.setCheckState(0, QtCore.Qt.CheckState.Checked)
    assert all(g.scene() is plot.scene() for g in exp.curve_list[0].children_items)
    assert len(win.dock_widget.items) == len(win.views)
