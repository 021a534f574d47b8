"""The queue's "Time left" column: each run's RunClock, described (labspin.gui.estimator)."""
from __future__ import annotations

import time

from pymeasure.display.Qt import QtCore

HEADER = "Time left"


class TimeLeftColumn(QtCore.QObject):
    """Add a "Time left" column to pymeasure's queue ``browser`` and refresh the cells of the
    experiments of ``manager`` every ``refresh_s`` seconds (queued: their point count;
    running: time left and the finish time; ended: how long they took)."""

    def __init__(self, browser, manager, refresh_s: float = 0.5, parent=None):
        super().__init__(parent)
        self.browser, self.manager = browser, manager
        self.column = browser.columnCount()
        browser.setColumnCount(self.column + 1)
        browser.headerItem().setText(self.column, HEADER)
        browser.header().resizeSection(self.column, 220)
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(int(refresh_s * 1000))

    def text(self, experiment) -> str:
        """Get the cell of ``experiment`` as shown."""
        return experiment.browser_item.text(self.column)

    def refresh(self, now: float | None = None) -> None:
        """Describe every experiment's RunClock at ``now`` (wall time, s; default: now);
        experiments loaded from files (no clock) keep an empty cell."""
        now = time.time() if now is None else now
        for experiment in self.manager.experiments.queue:
            clock = getattr(experiment, "run_clock", None)
            if clock is not None:
                experiment.browser_item.setText(self.column, clock.describe(now))
