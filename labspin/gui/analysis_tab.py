"""The Analysis tab: the procedure's analysis of a finished run or an opened file — the same
code as ``labspin analyze --plot`` (labspin.run.analysis): the key numbers with their errors,
the warnings, and the notebook figure with the fit, computed in a thread of its own."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from pymeasure.display.Qt import QtCore, QtGui, QtWidgets

from labspin.run import analysis

WARNING_STYLE = "color: #b35900"
ERROR_STYLE = "color: #b00020"


@dataclass
class Outcome:
    """One analysis: the ``files`` analyzed, the ``result`` (design.md's keys) or the
    ``error`` that stopped it, the ``figure`` (or why it could not be drawn: ``figure_error``),
    the seconds it took."""
    files: list[str]
    result: dict | None = None
    error: str = ""
    figure: object = None
    figure_error: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


def run_analysis(procedure: str, files: list[str]) -> Outcome:
    """Get the Outcome of ``procedure``'s analysis of ``files`` (never raises: a file that
    cannot be read, data the analysis cannot fit or a figure it cannot draw is reported)."""
    import time
    t0 = time.perf_counter()
    out = Outcome(list(files))
    try:
        data = analysis.read_files(files, procedure=procedure)
        out.result = analysis.analyze(procedure, data)
    except (analysis.UnreadableFile, *analysis.ANALYSIS_ERRORS) as exc:
        out.error = f"{procedure} cannot analyze {', '.join(files)}: {exc}"
    except Exception as exc:  # noqa: BLE001 — a fault of the analysis: shown, never lost
        out.error = (f"{procedure} analysis of {', '.join(files)} failed: "
                     f"{type(exc).__name__}: {exc}")
    else:
        out.warnings = [str(w) for w in out.result.get("warnings") or []]
        try:
            out.figure = analysis.figure(procedure, data, out.result, files)
        except Exception as exc:  # noqa: BLE001 — the numbers stand without the figure
            out.figure_error = f"the figure cannot be drawn: {type(exc).__name__}: {exc}"
    out.seconds = time.perf_counter() - t0
    return out


class AnalysisTab(QtWidgets.QWidget):
    """Show the analysis of procedure ``procedure``'s results files (:meth:`analyze`): the
    status line, the report (as ``labspin analyze`` prints it), the warnings and the figure.
    ``outcome`` is the latest shown; ``pending`` counts analyses still computing."""

    done = QtCore.Signal(object, int)

    def __init__(self, procedure: str, parent=None):
        super().__init__(parent)
        self.name = "Analysis"
        self.procedure = procedure
        self.outcome: Outcome | None = None
        self.pending = 0
        self._generation = 0
        self.status = QtWidgets.QLabel("No analysis yet: it runs when a run finishes or a "
                                       "results file is opened (File > Open results…).")
        self.status.setWordWrap(True)
        self.warnings = QtWidgets.QLabel("")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(WARNING_STYLE)
        self.report = QtWidgets.QPlainTextEdit()
        self.report.setReadOnly(True)
        self.report.setFont(QtGui.QFontDatabase.systemFont(
            QtGui.QFontDatabase.SystemFont.FixedFont))
        self.figure_box = QtWidgets.QVBoxLayout()
        self.canvas: FigureCanvasQTAgg | None = None
        left = QtWidgets.QWidget()
        lay = QtWidgets.QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.warnings)
        lay.addWidget(self.report, 1)
        right = QtWidgets.QWidget()
        right.setLayout(self.figure_box)
        split = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(right)
        split.setStretchFactor(1, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(split, 1)
        self.done.connect(self._show)

    def analyze(self, files: list[str]) -> threading.Thread:
        """Analyze ``files`` off the GUI thread; the tab shows the outcome when it comes (a
        later call's outcome supersedes an earlier one still computing). Get the thread."""
        self._generation += 1
        self.pending += 1
        generation = self._generation
        self.status.setText(f"Analyzing {', '.join(files)} …")
        self.status.setStyleSheet("")

        def work():
            outcome = run_analysis(self.procedure, list(files))
            try:
                self.done.emit(outcome, generation)
            except RuntimeError:        # the window was closed meanwhile: nobody to tell
                pass
        thread = threading.Thread(target=work, name="labspin-analysis", daemon=True)
        thread.start()
        return thread

    def _show(self, outcome: Outcome, generation: int) -> None:
        self.pending -= 1
        if generation != self._generation:
            return
        self.outcome = outcome
        files = ", ".join(outcome.files)
        if outcome.error:
            self.status.setText(outcome.error)
            self.status.setStyleSheet(ERROR_STYLE)
            self.report.setPlainText("")
            self.warnings.setText("")
            self._set_figure(None)
            return
        self.status.setText(f"{self.procedure} analysis of {files} "
                            f"({outcome.seconds:.1f} s; as `labspin analyze --plot`)")
        self.status.setStyleSheet("")
        self.report.setPlainText("\n".join(analysis.report_lines(
            {k: v for k, v in outcome.result.items() if k != "warnings"})))
        shown = outcome.warnings + ([outcome.figure_error] if outcome.figure_error else [])
        self.warnings.setText("\n".join(f"⚠ {w}" for w in shown))
        self._set_figure(outcome.figure)

    def _set_figure(self, fig) -> None:
        if self.canvas is not None:
            self.figure_box.removeWidget(self.canvas)
            self.canvas.deleteLater()
            self.canvas = None
        if fig is not None:
            self.canvas = FigureCanvasQTAgg(fig)
            self.canvas.setMinimumSize(200, 150)
            self.figure_box.addWidget(self.canvas)
