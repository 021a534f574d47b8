"""Drawing a procedure's window to a PNG (documentation, tests, headless checks)."""
from __future__ import annotations

import time
from pathlib import Path

from pymeasure.display.Qt import QtWidgets

_APP = []
"""The QApplication made here, kept alive (Qt objects must not outlive it)."""


def application() -> QtWidgets.QApplication:
    """Get the running QApplication, making one (kept for the process) if there is none."""
    app = QtWidgets.QApplication.instance()
    if app is None:
        app = QtWidgets.QApplication(["labspin"])
        _APP.append(app)
    return app


def render_to_png(name: str, path: str | Path, *, results_file: str | Path | None = None,
                  options=None, size: tuple[int, int] = (1400, 900)) -> float:
    """Draw the window of procedure ``name`` (with ``results_file`` loaded, if given) at
    ``size`` pixels to the PNG ``path``; get the seconds it took (window built, drawn and
    saved). Needs a display or ``QT_QPA_PLATFORM=offscreen``."""
    from .window import ProcedureWindow
    app = application()
    t0 = time.perf_counter()
    window = ProcedureWindow(name, options)
    try:
        if results_file is not None:
            window.load_results(results_file, analyze=False)
        window.resize(*size)
        window.show()
        app.processEvents()
        window.dock_widget.update_all()
        app.processEvents()
        if not window.grab().save(str(path), "PNG"):
            raise OSError(f"cannot write the PNG {path}")
    finally:
        window.close()
        window.deleteLater()
        app.processEvents()
    return time.perf_counter() - t0
