"""The wheel scrolls the inputs panel and never changes an unfocused input (issue 15,
item 3): over a spin box or combo box that has not been clicked, the panel scrolls and the
value stays; once the input has the focus, the wheel changes it as Qt users expect."""
from pymeasure.display.Qt import QtCore, QtGui, QtWidgets

from labspin.gui.quantity_input import QuantityInput


def _wheel(widget, steps: int = -1) -> None:
    """Send one wheel notch (120 eighths of a degree; negative: towards the user)."""
    at = QtCore.QPointF(widget.rect().center())
    event = QtGui.QWheelEvent(at, QtCore.QPointF(widget.mapToGlobal(at.toPoint())),
                              QtCore.QPoint(0, 0), QtCore.QPoint(0, 120 * steps),
                              QtCore.Qt.MouseButton.NoButton,
                              QtCore.Qt.KeyboardModifier.NoModifier,
                              QtCore.Qt.ScrollPhase.NoScrollPhase, False)
    QtWidgets.QApplication.sendEvent(widget, event)


def _inputs_area(win) -> QtWidgets.QScrollArea:
    areas = [a for a in win.inputs.findChildren(QtWidgets.QScrollArea)] or \
        [a for a in win.findChildren(QtWidgets.QScrollArea) if win.inputs.isAncestorOf(a)
         or a.isAncestorOf(win.inputs)]
    return areas[0]


def _value(w):
    if isinstance(w, QtWidgets.QComboBox):
        return w.currentIndex()
    return w.text() if isinstance(w, QtWidgets.QLineEdit) else w.value()


def test_the_wheel_scrolls_the_inputs_and_leaves_unfocused_values(qapp, window):
    win = window("field-sweep")                    # number fields and a list (combo box)
    area = _inputs_area(win)
    area.setFixedHeight(120)                       # a small screen: the inputs scroll
    qapp.processEvents()
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0
    inputs = [w for w in area.widget().findChildren(QtWidgets.QWidget)
              if isinstance(w, (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QuantityInput))
              and w.isEnabled()]
    assert any(isinstance(w, QtWidgets.QComboBox) for w in inputs)
    assert any(isinstance(w, QuantityInput) for w in inputs)    # the numbers: text fields
    win.setFocus()
    for w in inputs:
        before, top = _value(w), bar.value()
        _wheel(w, -1)
        assert _value(w) == before, w.objectName() or type(w).__name__
        assert bar.value() > top or bar.value() == bar.maximum()
        bar.setValue(0)
    spin = win.bench_choice.seed                   # a stepped spin box (the seed)
    before = spin.value()
    _wheel(spin, 1)
    assert spin.value() == before
    assert spin.focusPolicy() == QtCore.Qt.FocusPolicy.StrongFocus   # no focus by wheel
    win.activateWindow()
    spin.setFocus()
    qapp.processEvents()
    if spin.hasFocus():                            # the platform gave the focus: wheel edits
        before = _value(spin)
        _wheel(spin, 1)
        assert _value(spin) != before


def test_a_sequencer_row_made_later_is_guarded_too(qapp, window):
    win = window("current-sweep")
    seq = win.sequencer
    seq._add_tree_item(level=0)
    qapp.processEvents()
    combos = [w for w in seq.findChildren(QtWidgets.QComboBox) if w.isVisible()]
    assert combos
    for c in combos:
        before = c.currentIndex()
        _wheel(c, -1)
        assert c.currentIndex() == before
