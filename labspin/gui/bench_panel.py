"""The bench panel: the bench, its instruments with their identities and output states, and
the field, as last sampled by the running worker (labspin.gui.worker.BenchState)."""
from __future__ import annotations

import pyqtgraph as pg
from pymeasure.display.Qt import QtCore, QtWidgets

from .plots import format_value

_UNITS = {"source_current": "(A)", "source_voltage": "(V)", "current_setpoint": "(A)",
          "sine_amplitude": "(V)", "frequency": "(Hz)", "amplitude": "(V)", "power": "(dBm)"}


def describe_outputs(outputs: dict) -> str:
    """Get one line for a source's outputs: "on, 1 mA" / "off, 0 A" / "0.5 V, 133 Hz"."""
    parts = []
    for attr, value in outputs.items():
        if isinstance(value, bool) or attr.endswith("enabled"):
            parts.append("on" if value is True else "off" if value is False else str(value))
        elif isinstance(value, (int, float)):
            parts.append(format_value(_UNITS.get(attr, ""), value))
        else:
            parts.append(f"{attr}: {value}")
    return ", ".join(parts) if parts else "measures only"


class BenchPanel(QtWidgets.QWidget):
    """Show the bench description (``bench_text``) and the BenchState of ``manager``
    (a LabspinManager), refreshed every ``refresh_s`` seconds."""

    def __init__(self, manager, bench_text: str, instruments: dict, refresh_s: float = 0.3,
                 parent=None):
        super().__init__(parent)
        self.manager = manager
        self.header = QtWidgets.QLabel(bench_text)
        self.header.setWordWrap(True)
        self.phase = QtWidgets.QLabel("idle: no run (instruments not connected)")
        self.phase.setWordWrap(True)
        self.field = QtWidgets.QLabel("Field: —")
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Instrument", "State"])
        self.tree.setRootIsDecorated(True)
        self.setMinimumWidth(380)
        layout = QtWidgets.QVBoxLayout(self)
        for w in (self.header, self.phase, self.field, self.tree):
            layout.addWidget(w)
        self._configured = instruments
        self._shown = None
        self._show({"phase": "idle", "instruments": {}})
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(int(refresh_s * 1000))

    def set_bench(self, bench_text: str, instruments: dict) -> None:
        """Show the bench the next run goes to: its description and, when no run has
        connected one, its configured ``instruments``."""
        self.header.setText(bench_text)
        self._configured = instruments
        if not self._shown.get("instruments"):
            self._show(self._shown)

    def refresh(self) -> None:
        """Show the latest snapshot if it changed."""
        snap = self.manager.bench_state.snapshot()
        if snap != self._shown:
            self._show(snap)

    def _show(self, snap: dict) -> None:
        self._shown = snap
        phase = snap.get("phase", "idle")
        self.phase.setText("Run: " + (phase if phase != "idle"
                                      else "idle: no run (instruments not connected)"))
        f, fs = snap.get("field_T"), snap.get("field_setpoint_T")
        self.field.setText("Field: " + (pg.siFormat(f, suffix="T") if f is not None else "—")
                           + (f"  (setpoint {pg.siFormat(fs, suffix='T')})" if fs is not None
                              else ""))
        insts = snap.get("instruments") or {
            n: {"role": i.role, "driver": i.driver, "resource": i.resource,
                "identity": "not connected", "outputs": {}}
            for n, i in self._configured.items()}
        self.tree.clear()
        for name, info in insts.items():
            top = QtWidgets.QTreeWidgetItem([f"{name} ({info['role']})",
                                             describe_outputs(info["outputs"])
                                             if info["outputs"] else
                                             ("measures only" if info["identity"] !=
                                              "not connected" else "—")])
            for label, value in (("driver", info["driver"]), ("resource", info["resource"]),
                                 ("identity", info["identity"])):
                top.addChild(QtWidgets.QTreeWidgetItem([label, str(value)]))
            self.tree.addTopLevelItem(top)
        self.tree.resizeColumnToContents(0)
