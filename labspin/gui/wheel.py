"""The mouse wheel scrolls the panel under the pointer and never changes an input that has
not been given the focus (a click or Tab): over an unfocused spin box, combo box or slider,
the wheel goes to the nearest scroll area around it (inputs, sequencer, bench panel)."""
from __future__ import annotations

from pymeasure.display.Qt import QtCore, QtWidgets

GUARDED = (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox, QtWidgets.QAbstractSlider)
"""Inputs whose value the wheel changes (Qt's default): guarded unless focused. Scroll bars
are not guarded: the wheel over one is meant for it."""


def _guarded(obj) -> bool:
    return isinstance(obj, GUARDED) and not isinstance(obj, QtWidgets.QScrollBar)


def _text_field(obj) -> bool:
    """A line edit of its own (the number fields), not the editor inside a spin/combo box:
    it has no use for the wheel, which goes to its panel whether it has the focus or not."""
    return isinstance(obj, QtWidgets.QLineEdit) and not isinstance(
        obj.parentWidget(), (QtWidgets.QAbstractSpinBox, QtWidgets.QComboBox))


class WheelGuard(QtCore.QObject):
    """Application event filter: a wheel over an unfocused guarded input scrolls its scroll
    area; guarded inputs take the focus from a click or Tab only, not from the wheel."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 — Qt's name
        kind = event.type()
        if kind == QtCore.QEvent.Type.Polish and _guarded(obj):
            obj.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
            return False
        if kind != QtCore.QEvent.Type.Wheel:
            return False
        if not _text_field(obj) and (not _guarded(obj) or obj.hasFocus()):
            return False
        area = _scroll_area_around(obj)
        if area is not None:
            sideways = event.angleDelta().y() == 0 and event.angleDelta().x() != 0
            bar = area.horizontalScrollBar() if sideways else area.verticalScrollBar()
            QtCore.QCoreApplication.sendEvent(bar, event)
        return True


def _scroll_area_around(widget) -> QtWidgets.QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QtWidgets.QAbstractScrollArea):
        parent = parent.parentWidget()
    return parent


def guard_wheel(root: QtWidgets.QWidget | None = None) -> WheelGuard:
    """Install the guard on the application once (inputs made later are guarded too) and
    give the inputs already under ``root`` the focus policy; get the guard."""
    app = QtWidgets.QApplication.instance()
    guard = getattr(app, "_labspin_wheel_guard", None)
    if guard is None:
        guard = WheelGuard(app)
        app._labspin_wheel_guard = guard
        app.installEventFilter(guard)
    for w in root.findChildren(QtWidgets.QWidget) if root is not None else ():
        if _guarded(w):
            w.setFocusPolicy(QtCore.Qt.FocusPolicy.StrongFocus)
    return guard
