"""The bench panel: the bench, its instruments with their identities and output states, and
the field, as last sampled by the running worker (labspin.gui.worker.BenchState), each
reading with its age: a reading older than STALE_S, or any reading once the run has ended,
says "last read … at HH:MM:SS (… ago)" and is greyed, so that it never looks current."""
from __future__ import annotations

import time

import pyqtgraph as pg
from pymeasure.display.Qt import QtCore, QtWidgets

from .plots import format_value

_UNITS = {"source_current": "(A)", "source_voltage": "(V)", "current_setpoint": "(A)",
          "sine_amplitude": "(V)", "frequency": "(Hz)", "amplitude": "(V)", "power": "(dBm)"}


STALE_S = 5.0
"""A reading of a running bench older than this (s) is marked stale (the worker samples the
outputs at least every BenchState.MIN_INTERVAL_S and the field at every point)."""
STALE_STYLE = "color: palette(placeholder-text); font-style: italic"


def describe_age(age_s: float) -> str:
    """Get "0.4 s ago" / "12 s ago" / "3 min ago" / "2 h ago" for an age in s."""
    if age_s < 10:
        return f"{max(age_s, 0.0):.1f} s ago"
    if age_s < 120:
        return f"{age_s:.0f} s ago"
    if age_s < 7200:
        return f"{age_s / 60:.0f} min ago"
    return f"{age_s / 3600:.0f} h ago"


def is_stale(phase: str, read_at: float, now: float) -> bool:
    """Get whether a reading taken at ``read_at`` (wall time, s) no longer shows the bench
    at ``now``: the run is over (``phase`` not "running…") or it is older than STALE_S."""
    return not phase.startswith("running") or now - read_at > STALE_S


def describe_reading(text: str, read_at: float | None, phase: str, now: float) -> str:
    """Get ``text`` with its age: "TEXT, read 0.4 s ago" while current, else
    "last read TEXT at 21:05:03 (2 min ago)" ("—" when never read; ``text`` may be empty)."""
    if read_at is None:
        return "—"
    age = describe_age(now - read_at)
    if not is_stale(phase, read_at, now):
        return f"{text}, read {age}" if text else f"read {age}"
    at = time.strftime("%H:%M:%S", time.localtime(read_at))
    return f"last read {text + ' ' if text else ''}at {at} ({age})"


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
        self.field.setWordWrap(True)
        self.outputs_age = QtWidgets.QLabel("")
        self.outputs_age.setWordWrap(True)
        self.tree = QtWidgets.QTreeWidget()
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Instrument", "State"])
        self.tree.setRootIsDecorated(True)
        layout = QtWidgets.QVBoxLayout(self)
        for w in (self.header, self.phase, self.field, self.outputs_age, self.tree):
            layout.addWidget(w)
        self._configured = instruments
        self._shown = None
        self._show({"phase": "idle", "instruments": {}})
        self._show_ages(time.time())
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

    def refresh(self, now: float | None = None) -> None:
        """Show the latest snapshot if it changed, and the readings' ages at ``now`` (wall
        time, s; default: the clock)."""
        snap = self.manager.bench_state.snapshot()
        if snap != self._shown:
            self._show(snap)
        self._show_ages(time.time() if now is None else now)

    def _show_ages(self, now: float) -> None:
        """Label the field and the outputs with their age; grey them once stale."""
        snap = self._shown
        phase = snap.get("phase", "idle")
        f, fs, read = snap.get("field_T"), snap.get("field_setpoint_T"), snap.get("field_read")
        text = "" if f is None else pg.siFormat(f, suffix="T") + (
            f" (setpoint {pg.siFormat(fs, suffix='T')})" if fs is not None else "")
        self.field.setText("Field: " + describe_reading(text, read if f is not None else None,
                                                        phase, now))
        sampled = snap.get("sampled")
        self.outputs_age.setText("" if sampled is None else
                                 "Outputs: " + describe_reading("", sampled, phase, now))
        for label, read_at in ((self.field, read), (self.outputs_age, sampled)):
            stale = read_at is not None and is_stale(phase, read_at, now)
            label.setStyleSheet(STALE_STYLE if stale else "")
        self.tree.setEnabled(sampled is None or not is_stale(phase, sampled, now))

    def _show(self, snap: dict) -> None:
        self._shown = snap
        phase = snap.get("phase", "idle")
        self.phase.setText("Run: " + (phase if phase != "idle"
                                      else "idle: no run (instruments not connected)"))
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
