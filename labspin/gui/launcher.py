"""The launcher: every procedure with its one-line description; opens their windows."""
from __future__ import annotations

from pymeasure.display.Qt import QtWidgets

from labspin.procedures import PROCEDURES, procedure_class

from .window import GuiOptions, ProcedureWindow


class Launcher(QtWidgets.QMainWindow):
    """List labspin.procedures.PROCEDURES (name, DESCRIPTION); Open (or a double click)
    shows the procedure's window, one per procedure."""

    def __init__(self, options: GuiOptions | None = None, parent=None):
        super().__init__(parent)
        self.options = options or GuiOptions()
        self.windows: dict[str, ProcedureWindow] = {}
        self.setWindowTitle("labspin — procedures")
        self.list = QtWidgets.QTreeWidget()
        self.list.setColumnCount(2)
        self.list.setHeaderLabels(["Procedure", "What it measures"])
        self.list.setRootIsDecorated(False)
        for name in PROCEDURES:
            self.list.addTopLevelItem(
                QtWidgets.QTreeWidgetItem([name, procedure_class(name).DESCRIPTION]))
        self.list.resizeColumnToContents(0)
        self.list.itemDoubleClicked.connect(lambda item, _col: self.open(item.text(0)))
        self.list.setCurrentItem(self.list.topLevelItem(0))
        where = (f"real bench: {self.options.bench}" if self.options.bench else
                 "simulated bench (each procedure's standard wiring"
                 + (f", sample {self.options.sample}" if self.options.sample else "")
                 + f", seed {self.options.seed})")
        header = QtWidgets.QLabel(f"Runs go to the {where}; results files to "
                                  f"{self.options.out}")
        header.setWordWrap(True)
        button = QtWidgets.QPushButton("Open")
        button.clicked.connect(self._open_current)
        central = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(central)
        layout.addWidget(header)
        layout.addWidget(self.list)
        layout.addWidget(button)
        self.setCentralWidget(central)
        self.resize(900, 420)

    def names(self) -> list[str]:
        """Get the procedure names listed."""
        return [self.list.topLevelItem(i).text(0) for i in range(self.list.topLevelItemCount())]

    def _open_current(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.open(item.text(0))

    def open(self, name: str) -> ProcedureWindow:
        """Show the window of procedure ``name`` (created once); get it."""
        win = self.windows.get(name)
        if win is None or not win.isVisible():
            win = ProcedureWindow(name, self.options)
            self.windows[name] = win
        win.show()
        win.raise_()
        return win

    def closeEvent(self, event):
        """Closing the launcher closes the procedure windows (each waits for a safe bench)."""
        for win in self.windows.values():
            win.close()
        super().closeEvent(event)
