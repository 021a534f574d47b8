"""The window fits small screens (issue 15, item 8): at 1366×768, and at 1066×640 (1600×1000
at 150 % scaling, less the frame), every control is reachable — inside the window, or inside
a scroll area that is — and none is squeezed below its minimum size; the window opens no
larger than the screen."""
import pytest
from pymeasure.display.Qt import QtCore, QtWidgets

from labspin.gui.fit import SMALLEST, dock_of
from labspin.procedures import PROCEDURES

CONTROLS = (QtWidgets.QAbstractButton, QtWidgets.QLineEdit, QtWidgets.QComboBox,
            QtWidgets.QAbstractSpinBox, QtWidgets.QAbstractItemView)


def _container(widget, window):
    """Get the widget whose area ``widget`` must lie in: the content of the nearest scroll
    area around it (reached by scrolling), else the window."""
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QtWidgets.QAbstractScrollArea) and \
                not isinstance(widget, QtWidgets.QAbstractScrollArea) or \
                isinstance(parent, QtWidgets.QScrollArea):
            inner = parent.widget() if isinstance(parent, QtWidgets.QScrollArea) else None
            if inner is not None and inner.isAncestorOf(widget):
                return inner
            return parent.viewport()
        parent = parent.parentWidget()
    return window


def _internal(widget) -> bool:
    """Parts of a compound control (a combo box's editor, a tab bar's scroll buttons, a view's
    scroll bars and header) are laid out by it."""
    parent = widget.parentWidget()
    return isinstance(parent, (QtWidgets.QComboBox, QtWidgets.QAbstractSpinBox,
                               QtWidgets.QTabBar, QtWidgets.QAbstractScrollArea,
                               QtWidgets.QLineEdit)) or \
        isinstance(widget, QtWidgets.QHeaderView) or (
            parent is not None and isinstance(parent.parentWidget(),
                                              QtWidgets.QAbstractScrollArea)
            and parent is not getattr(parent.parentWidget(), "widget", lambda: None)())


def _problems(window) -> list[str]:
    out = []
    for w in window.findChildren(QtWidgets.QWidget):
        if not isinstance(w, CONTROLS) or not w.isVisible() or _internal(w):
            continue
        dock = dock_of(w)
        if dock is not None and dock.visibleRegion().isEmpty():
            continue                     # in a dock tab behind another: see _every_view
        chain, widget = [], w
        while widget is not None and widget is not window:
            container = _container(widget, window)
            rect = QtCore.QRect(widget.mapTo(container, QtCore.QPoint(0, 0)),
                                QtWidgets.QWidget.size(widget))
            if not container.rect().adjusted(-1, -1, 1, 1).contains(rect):
                chain.append(f"outside {type(container).__name__} {container.rect()}: {rect}")
                break
            widget = container.parentWidget() if container is not window else None
            while widget is not None and not isinstance(widget, QtWidgets.QAbstractScrollArea):
                widget = widget.parentWidget()
        hint, size = w.minimumSizeHint(), QtWidgets.QWidget.size(w)  # some override width
        if size.width() < hint.width() - 1 or size.height() < hint.height() - 1:
            chain.append(f"squeezed to {size.width()}×{size.height()} < {hint.width()}×"
                         f"{hint.height()}")
        text = getattr(w, "text", None)
        label = text() if callable(text) else w.toolTip()[:40] or w.objectName()
        out += [f"{type(w).__name__} {label!r} in {type(w.parentWidget()).__name__}: {c}"
                for c in chain]
    return out


def _every_view(qapp, win):
    """Yield as each central tab and each tab of the left panel is shown."""
    left = [d for d in win.findChildren(QtWidgets.QDockWidget)
            if win.dockWidgetArea(d) == QtCore.Qt.DockWidgetArea.LeftDockWidgetArea]
    for dock in left:
        dock.raise_()
        qapp.processEvents()
        assert not dock.visibleRegion().isEmpty(), dock.windowTitle()
        for i in range(win.tabs.count()):
            win.tabs.setCurrentIndex(i)
            qapp.processEvents()
            yield f"{dock.windowTitle()} / {win.tabs.tabText(i)}"


@pytest.mark.parametrize("size", [(1366, 768), (1066, 640)])
@pytest.mark.parametrize("name", ["field-sweep", "stfmr", "kapitza-map"])
def test_every_control_is_reachable_and_unsqueezed(qapp, window, name, size):
    win = window(name)
    win.resize(*size)
    qapp.processEvents()
    assert (win.width(), win.height()) == size          # the window's minimum is smaller
    for where in _every_view(qapp, win):
        assert _problems(win) == [], where


@pytest.mark.parametrize("name", list(PROCEDURES))
def test_every_window_can_be_smaller_than_a_150_percent_screen(qapp, window, name):
    hint = window(name).minimumSizeHint()
    assert hint.width() <= SMALLEST[0] and hint.height() <= SMALLEST[1]


def test_the_window_opens_within_the_screen(qapp, window):
    """1400×900 where the screen has room, else the screen's free area (the offscreen
    platform's screen is 800×800: the window opens at its minimum width, 800 high)."""
    free = qapp.primaryScreen().availableGeometry()
    win = window("field-sweep")
    least = win.minimumSizeHint()
    assert win.width() == max(min(1400, free.width()), least.width())
    assert win.height() == max(min(900, free.height()), least.height())
