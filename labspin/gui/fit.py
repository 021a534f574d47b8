"""Fitting a procedure window on small screens (1366×768, or 1600×1000 at 150 % scaling, i.e.
1066×666 logical pixels): the side panels and the plots scroll instead of holding the window
wide, and the window opens no larger than the screen's free area."""
from __future__ import annotations

from pymeasure.display.Qt import QtCore, QtWidgets

SMALLEST = (1000, 600)
"""The window's largest minimum size (px): what 1600×1000 at 150 % leaves, less the frame."""
PANEL_MIN_WIDTH = 220
"""A side panel narrower than this scrolls (px): wide enough for a label and a number."""


def scrolling(widget: QtWidgets.QWidget, min_width: int = PANEL_MIN_WIDTH,
              min_height: int = 120) -> QtWidgets.QScrollArea:
    """Get ``widget`` in a frameless scroll area that shows it at its full size when there
    is room and scrolls when there is not (no smaller than ``min_width`` × ``min_height``)."""
    area = QtWidgets.QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setMinimumSize(min_width, min_height)
    return area


def scroll_docks(window: QtWidgets.QMainWindow) -> None:
    """Put the content of every dock of ``window`` in a scroll area (once)."""
    for dock in window.findChildren(QtWidgets.QDockWidget):
        inner = dock.widget()
        if inner is not None and not isinstance(inner, QtWidgets.QScrollArea):
            dock.setWidget(scrolling(inner))


def dock_of(widget: QtWidgets.QWidget) -> QtWidgets.QDockWidget | None:
    """Get the dock ``widget`` is in (None: not in one)."""
    while widget is not None and not isinstance(widget, QtWidgets.QDockWidget):
        widget = widget.parentWidget()
    return widget


def compact_docks(window: QtWidgets.QMainWindow, first: QtWidgets.QDockWidget,
                  side_width: int = 300) -> None:
    """Give the plots the room: the docks of the left area (inputs, sequencer) become tabs
    of one panel, ``first`` shown, and the side panels start ``side_width`` px wide."""
    docks = window.findChildren(QtWidgets.QDockWidget)
    for other in docks:
        if other is not first and window.dockWidgetArea(other) == window.dockWidgetArea(first):
            window.tabifyDockWidget(first, other)
    first.raise_()
    window.resizeDocks(docks, [side_width] * len(docks), QtCore.Qt.Orientation.Horizontal)


def fit_to_screen(window: QtWidgets.QWidget, wanted: tuple[int, int] = (1400, 900)) -> None:
    """Resize ``window`` to ``wanted`` (px) or the free area of its screen, if smaller."""
    screen = window.screen() or QtWidgets.QApplication.primaryScreen()
    free = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, *wanted)
    window.resize(min(wanted[0], free.width()), min(wanted[1], free.height()))
