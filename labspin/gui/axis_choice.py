"""Choosing the columns a plot shows (as pymeasure's X/Y axis boxes): a row of combo boxes
above each plot of the ViewDock: X and Y for a curve, X for a histogram, the colour (Z) for
a map, and "Default" to go back to the procedure's own view."""
from __future__ import annotations

import dataclasses

from pymeasure.display.Qt import QtCore, QtWidgets

from .views import View

AXES = {"curve": ("x", "y"), "histogram": ("x",), "image": ("z",)}
"""The View fields a person may choose, per kind of view."""
LABELS = {"x": "X", "y": "Y", "z": "Colour"}


class AxisChooser(QtWidgets.QWidget):
    """Combo boxes for the chosen axes of ``view`` among ``columns``; emits ``chosen(View)``
    with the view those columns make (its breaks and groups kept), and ``default`` restores
    ``view``."""

    chosen = QtCore.Signal(object)

    def __init__(self, view: View, columns: list[str], parent=None):
        super().__init__(parent)
        self.default_view = self.view = view
        self.boxes: dict[str, QtWidgets.QComboBox] = {}
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        for axis in AXES[view.kind]:
            box = QtWidgets.QComboBox()
            box.addItems([c for c in columns if c])
            box.setCurrentText(getattr(view, axis))
            box.setSizeAdjustPolicy(
                QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(4)          # narrow box; its list shows names whole:
            box.view().setMinimumWidth(box.view().sizeHintForColumn(0) + 24)
            box.setToolTip(f"The column on the {LABELS[axis]} axis of this plot")
            box.currentTextChanged.connect(self._changed)
            label = QtWidgets.QLabel(LABELS[axis])
            label.setBuddy(box)
            layout.addWidget(label)
            layout.addWidget(box, 1)
            self.boxes[axis] = box
        self.reset = QtWidgets.QToolButton()
        self.reset.setText("Default")
        self.reset.setToolTip(f"Show this plot's own columns again ({view.title})")
        self.reset.clicked.connect(self.restore)
        layout.addWidget(self.reset)

    def choose(self, **axes: str) -> None:
        """Set axes by name (``x="Time (s)"``): as a person picking them in the boxes; a
        column the procedure does not write is refused (ValueError naming it)."""
        for axis, column in axes.items():
            box = self.boxes.get(axis)
            if box is None:
                raise ValueError(f"a {self.view.kind} view has no {axis!r} axis to choose; "
                                 f"it has {', '.join(self.boxes)}")
            if box.findText(column) < 0:
                raise ValueError(f"{axis} column {column!r} is not one of "
                                 f"{', '.join(box.itemText(i) for i in range(box.count()))}")
            box.setCurrentText(column)

    def restore(self) -> None:
        """Go back to the procedure's own view."""
        self.choose(**{a: getattr(self.default_view, a) for a in self.boxes})

    def _changed(self, _text: str) -> None:
        view = dataclasses.replace(self.default_view,
                                   **{a: b.currentText() for a, b in self.boxes.items()})
        if view != self.view:
            self.view = view
            self.chosen.emit(view)
