"""Keyboard shortcuts (Queue: Ctrl+Return, Return in the inputs; Abort: Esc; Open: Ctrl+O;
Quit: Ctrl+Q) and closing mid-run, which asks first (issue 15, items 5 and 6)."""
import pytest
from pymeasure.display.Qt import QtCore, QtWidgets
from pymeasure.experiment import Procedure
from PyQt6.QtTest import QTest

CTRL = QtCore.Qt.KeyboardModifier.ControlModifier
Key = QtCore.Qt.Key


def _long_run(win):
    """Set the inputs for a current sweep that runs long enough to be interrupted (1000 cycles:
    on a quiet machine 50 ended while the close question was open)."""
    win.inputs.cycles.setValue(1000)
    win.inputs.current_step.setValue(1e-7)


def _active(qtbot, win):
    """Make ``win`` the active window (shortcuts go to it): other top-levels left by earlier
    tests (message boxes, launchers) are hidden."""
    for other in QtWidgets.QApplication.topLevelWidgets():
        if other is not win and other.isVisible():
            other.hide()
    win.activateWindow()
    win.raise_()
    try:
        qtbot.waitUntil(lambda: QtWidgets.QApplication.activeWindow() is win, timeout=3000)
    except qtbot.TimeoutError:
        # it used to skip here after tests/gui/test_gui_windows.py: its main() test ended
        # the application's event loop with QApplication.quit(), and every later
        # QEventLoop.exec() (qtbot.wait) returned at once; that test now quits a local loop
        pytest.fail("the platform did not activate the window; keys and modal answers "
                    "need the active window")


def test_ctrl_return_queues_and_esc_aborts(qtbot, window):
    win = window("current-sweep")
    _long_run(win)
    _active(qtbot, win)
    QTest.keyClick(win, Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: win.manager.is_running(), timeout=30_000)
    exp = win.manager._running_experiment
    QTest.keyClick(win, Key.Key_Escape)
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    assert exp.procedure.status == Procedure.ABORTED


def test_ctrl_o_opens_and_ctrl_q_quits(qtbot, window, monkeypatch):
    win = window("current-sweep")
    opened = []
    monkeypatch.setattr(win, "open_experiment", lambda: opened.append(True))
    _active(qtbot, win)
    QTest.keyClick(win, Key.Key_O, CTRL)
    assert opened == [True]
    QTest.keyClick(win, Key.Key_Q, CTRL)
    qtbot.waitUntil(lambda: not win.isVisible(), timeout=5000)


def _answer(win, button) -> None:
    """Answer the close question with ``button`` as soon as it is shown."""
    def click():
        box = win.close_question
        if box is None or not box.isVisible():
            QtCore.QTimer.singleShot(20, click)
            return
        box.button(button).click()
    QtCore.QTimer.singleShot(20, click)


def test_closing_mid_run_asks_and_cancel_keeps_the_run(qtbot, window):
    win = window("current-sweep")
    _active(qtbot, win)
    _long_run(win)
    exp = win.queue()
    qtbot.waitUntil(lambda: win.manager.is_running(), timeout=30_000)
    _answer(win, QtWidgets.QMessageBox.StandardButton.Cancel)
    win.close()
    assert win.isVisible() and win.manager.is_running()
    assert exp.procedure.status == Procedure.RUNNING
    _answer(win, QtWidgets.QMessageBox.StandardButton.Abort)
    win.close()
    assert not win.isVisible() and not win.manager.is_running()
    assert exp.procedure.status == Procedure.ABORTED


def test_closing_when_idle_does_not_ask(qtbot, window):
    win = window("current-sweep")
    win.close()
    assert not win.isVisible() and win.close_question is None
