"""One procedure's window: pymeasure's ManagedDockWindow with labspin's plots (ViewDock),
queue and sequencer, the bench panel, limit checks at queue time and an abort that ends with
the bench in its safe state."""
from __future__ import annotations

import dataclasses
import logging
import tempfile
import time
from dataclasses import dataclass, field

from pymeasure.display.Qt import QtCore, QtGui, QtWidgets
from pymeasure.display.widgets import LogWidget, sequencer_widget
from pymeasure.display.windows.managed_dock_window import ManagedDockWindow
from pymeasure.display.windows.managed_window import ManagedWindowBase
from pymeasure.experiment import Parameter, Results, unique_filename

from labspin.procedures import procedure_class
from labspin.run import api
from labspin.run.sequence import literal_sequence_handler

from .analysis_tab import AnalysisTab
from .bench_choice import BenchChoice
from .bench_panel import BenchPanel
from .estimator import RunClock, end_of_run_line
from .fit import compact_docks, dock_of, fit_to_screen, scroll_docks
from .plots import ViewDock
from .presets import read_preset, save_preset
from .quantity_input import QuantityInput, use_quantity_inputs
from .queue_times import TimeLeftColumn
from .theme import run_colour
from .views import views_for
from .wheel import guard_wheel
from .worker import LabspinManager

log = logging.getLogger(__name__)

WAITS_FOR_RESUME = "Queued — waits for Resume"
"""A waiting run's status cell while an Abort keeps the queue paused."""


@dataclass
class GuiOptions:
    """Where runs go: ``bench`` (a bench config file; None: the simulated bench of each
    procedure's wiring with ``sample``, the ``set`` overrides and ``seed``), ``out`` (the
    folder for results files)."""
    bench: str | None = None
    sample: str | None = None
    set: tuple[str, ...] = field(default_factory=tuple)
    out: str = "."
    seed: int = 0

    @classmethod
    def from_args(cls, args) -> GuiOptions:
        """Get the options of ``labspin gui``'s argparse Namespace."""
        return cls(bench=getattr(args, "bench", None), sample=getattr(args, "sample", None),
                   set=tuple(getattr(args, "set", None) or ()),
                   out=getattr(args, "out", None) or ".", seed=int(getattr(args, "seed", 0)
                                                                   or 0))

    def describe(self, procedure) -> str:
        """Get one line naming the bench runs of ``procedure`` will use."""
        if self.bench:
            return f"Bench: config {self.bench}"
        return (f"Bench: simulated {procedure.sim_wiring()} bench, sample "
                f"{self.sample or procedure.SAMPLE}"
                + (f" ({', '.join(self.set)})" if self.set else "") + f", seed {self.seed}")

    def prepare(self, procedure):
        """Get the PreparedRun of ``procedure`` (limits checked; nothing opened)."""
        return api.prepare(procedure, bench=self.bench, sample=self.sample, set=self.set,
                           seed=self.seed)


class _LogWidget(LogWidget):
    """pymeasure's LogWidget with a blink timer of its own: pymeasure 0.16 shares one class
    QTimer among all log widgets, so with two windows one's warning blinks the other's tab
    and raises there."""

    def __init__(self, name, parent=None):
        self._blink_qtimer = QtCore.QTimer()
        super().__init__(name, parent)
        self._blink_qtimer.setParent(self)


def parameter_names(cls) -> list[str]:
    """Get the Parameter attributes of a procedure class in declaration order, the class's
    own first, then those of its bases and mixins (e.g. the film parameters), as the inputs
    are shown."""
    names: list[str] = []
    for klass in cls.__mro__:
        for key, value in vars(klass).items():
            if isinstance(value, Parameter) and key not in names:
                names.append(key)
    return names


class ProcedureWindow(ManagedDockWindow):
    """The window of procedure ``name`` (a key of labspin.procedures.PROCEDURES).

    Built on ManagedWindowBase as ManagedDockWindow is, with a ViewDock of the procedure's
    views in place of pymeasure's DockWidget (which plots only x–y curves), a LabspinManager
    in place of pymeasure's Manager, the sequencer over every parameter and the bench panel
    with its bench choice (initialised from ``options``, a copy of which the window keeps and
    updates from the choice at each Queue).
    """

    def __init__(self, name: str, options: GuiOptions | None = None, parent=None):
        cls = procedure_class(name)
        self.name = name
        self.options = dataclasses.replace(options) if options else GuiOptions()
        self.views = views_for(name, cls.DATA_COLUMNS)
        self.x_axis, self.y_axis = self.views[0].x, self.views[0].y
        self.x_axis_labels = [v.x for v in self.views]
        self.y_axis_labels = [v.y for v in self.views]
        self.log_widget = _LogWidget("Experiment Log")
        self.dock_widget = ViewDock("Plots", self.views, columns=cls.DATA_COLUMNS)
        inputs = parameter_names(cls)
        use_quantity_inputs(cls)                     # numbers read as typed, or refused
        sequencer_widget.SequenceHandler = literal_sequence_handler()  # sequences are data
        self.refusal_box: QtWidgets.QMessageBox | None = None
        ManagedWindowBase.__init__(
            self, cls, widget_list=(self.dock_widget, self.log_widget), inputs=inputs,
            displays=inputs[:4], sequencer=True, sequencer_inputs=inputs,
            inputs_in_scrollarea=True, parent=parent)
        self.setWindowTitle(f"labspin — {cls.NAME}: {cls.DESCRIPTION}")
        self.analysis_tab = AnalysisTab(name)
        self.tabs.addTab(self.analysis_tab, self.analysis_tab.name)
        self.browser_widget.browser.measured_quantities.update(
            [c for v in self.views for c in v.columns()])
        self.directory = self.options.out
        self.filename = f"{cls.NAME}_"
        self._log_handler = self.log_widget.handler
        logging.getLogger().addHandler(self._log_handler)
        self.refusal = QtWidgets.QLabel("")
        self.refusal.setStyleSheet("color: #b00020")
        self.refusal.setWordWrap(True)
        self.statusBar().addWidget(self.refusal, 1)
        self.end_of_run = QtWidgets.QLabel("")
        """The last run's end: status, rows, duration and file (also logged)."""
        self.end_of_run.setWordWrap(True)
        self.end_of_run.setTextInteractionFlags(
            QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.end_of_run, 2)
        self.queue_note = QtWidgets.QLabel("")
        """What the queue waits for (after an Abort: Resume), empty when it runs on."""
        self.queue_note.setWordWrap(True)
        self.queue_note.setStyleSheet("color: #b35900")
        self.statusBar().addWidget(self.queue_note, 2)
        self.paused_at: str | None = None
        """When an Abort paused the queue (HH:MM:SS; None: not paused)."""
        self.time_left = TimeLeftColumn(self.browser, self.manager, parent=self)
        self._add_bench_panel(cls)
        guard_wheel(self)
        self._add_shortcuts()
        self._add_menu()
        self.ask_before_closing = True
        """Whether closing mid-run asks first (tests of other things set it False)."""
        self.close_question: QtWidgets.QMessageBox | None = None
        scroll_docks(self)                  # fits 1366×768 and 150 % on 1600×1000
        compact_docks(self, dock_of(self.inputs))
        fit_to_screen(self)

    # --- construction --------------------------------------------------------------------
    def _setup_ui(self):
        super()._setup_ui()
        pymeasure_manager = self.manager
        self.manager = LabspinManager(self.widget_list, self.browser,
                                      log_level=self.log_level, parent=self)
        self.manager.abort_returned.connect(self.abort_returned)
        self.manager.queued.connect(self.queued)
        self.manager.running.connect(self.running)
        self.manager.finished.connect(self.finished)
        self.manager.failed.connect(self.failed)
        self.manager.log.connect(self.log.handle)
        pymeasure_manager.deleteLater()

    def _add_bench_panel(self, cls) -> None:
        try:
            instruments = self.options.prepare(cls()).bench.config.instruments
        except Exception as exc:  # noqa: BLE001 — the defaults may not fit this bench
            log.warning("bench of %s: %s", cls.NAME, exc)
            instruments = {}
        self.bench_choice = BenchChoice(self.options, cls.SAMPLE)
        self.bench_panel = BenchPanel(self.manager, self.options.describe(cls()), instruments)
        self.bench_choice.changed.connect(self._describe_choice)
        box = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bench_choice)
        layout.addWidget(self.bench_panel, 1)
        dock = QtWidgets.QDockWidget("Bench", self)
        dock.setWidget(box)
        dock.setFeatures(QtWidgets.QDockWidget.DockWidgetFeature.NoDockWidgetFeatures)
        self.addDockWidget(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.bench_dock = dock

    def _add_shortcuts(self) -> None:
        """Queue: Ctrl+Return anywhere, Return in the inputs; Abort: Esc; Open: Ctrl+O;
        Quit: Ctrl+Q (asks first mid-run). The buttons' tooltips name them."""
        def on(keys: str, slot, widget=None) -> None:
            shortcut = QtGui.QShortcut(QtGui.QKeySequence(keys), widget or self)
            if widget is not None:
                shortcut.setContext(QtCore.Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        on("Ctrl+Return", self._queue_shortcut)
        on("Ctrl+Enter", self._queue_shortcut)
        on("Return", self._queue_shortcut, self.inputs)
        on("Enter", self._queue_shortcut, self.inputs)
        on("Esc", self._abort_shortcut)
        on("Ctrl+O", lambda: self.open_experiment())
        on("Ctrl+Q", self.close)
        self.queue_button.setToolTip("Queue a run with these parameters (Ctrl+Return)")
        self.abort_button.setToolTip("Abort the running measurement (Esc); sources ramp to "
                                     "their safe state")

    def _add_menu(self) -> None:
        """File: open a results file, load and save parameter presets, quit (the shortcuts
        are :meth:`_add_shortcuts`'; named here only)."""
        menu = self.menuBar().addMenu("&File")
        menu.addAction("&Open results…\tCtrl+O", lambda: self.open_experiment())
        menu.addSeparator()
        menu.addAction("&Load preset…", lambda: self.load_preset())
        menu.addAction("&Save preset…", lambda: self.save_preset())
        menu.addSeparator()
        menu.addAction("&Quit\tCtrl+Q", self.close)

    def save_preset(self, path: str | None = None) -> str | None:
        """Save the parameters as typed and the bench choice to the preset ``path`` (TOML,
        the sequence file's format; None: ask for it); get the path, None if not saved."""
        bad = self.invalid_inputs()
        try:
            if bad:
                raise ValueError("; ".join(bad))
            procedure, bench = self.make_procedure(), self.bench_choice.values()
        except Exception as exc:  # noqa: BLE001 — user errors: shown, not raised
            self.refuse(f"preset not saved: {exc}", "Preset not saved")
            return None
        if path is None:
            path, _ = QtWidgets.QFileDialog.getSaveFileName(
                self, "Save the parameters as a preset", f"{self.directory}/{self.name}.toml",
                "labspin preset (*.toml)")
            if not path:
                return None
        save_preset(path, procedure, bench)
        log.info("Preset saved: %s", path)
        return str(path)

    def load_preset(self, path: str | None = None) -> bool:
        """Set the inputs and the bench choice from the preset ``path`` (None: ask for it);
        a preset of another procedure, a grid, or a value out of its range is refused with
        a message naming it, and nothing changes. Get whether it was loaded."""
        if path is None:
            path, _ = QtWidgets.QFileDialog.getOpenFileName(
                self, "Load a preset", str(self.directory), "labspin preset (*.toml)")
            if not path:
                return False
        try:
            seq = read_preset(path, self.name)
            procedure = self.make_procedure()
            api.set_parameters(procedure, seq.params)
        except Exception as exc:  # noqa: BLE001 — user errors: shown, not raised
            self.refuse(f"preset not loaded: {exc}", "Preset not loaded")
            return False
        self.inputs.set_parameters(procedure.parameter_objects())
        self.bench_choice.set_values(seq.bench, seq.sample, seq.set, seq.seed)
        log.info("Preset loaded: %s", path)
        return True

    def _queue_shortcut(self) -> None:
        if self.queue_button.isEnabled():
            self.queue_button.click()

    def _abort_shortcut(self) -> None:
        if self.abort_button.isEnabled() and self.abort_button.text() == "Abort":
            self.abort_button.click()

    def _describe_choice(self) -> None:
        """Show the bench the controls describe in the bench panel's header."""
        try:
            chosen = dataclasses.replace(self.options, **self.bench_choice.values())
        except ValueError as exc:
            self.bench_panel.header.setText(str(exc))
            return
        try:
            procedure = self.make_procedure()        # its parameters may pick the wiring
        except Exception:  # noqa: BLE001 — inputs being typed: the class's defaults then
            procedure = self.procedure_class()
        text = chosen.describe(procedure)
        self.bench_panel.header.setText(text)

    def new_curve(self, wdg, results, color=None, **kwargs):
        """The plots of a run, in the next colour-blind-safe colour of the theme."""
        if color is None:
            color = run_colour(self.browser.topLevelItemCount())
        return wdg.new_curve(results, color=color, **kwargs)

    # --- queue ---------------------------------------------------------------------------
    def queue(self, procedure=None):
        """Queue a run with the parameters of the inputs (or ``procedure``, from the
        sequencer) on the bench chosen now; a parameter beyond the bench's limits or a bad
        bench choice is refused with a message, before any instrument is touched."""
        if procedure is None:
            bad = self.invalid_inputs()
            if bad:
                self.refuse("not queued: " + "; ".join(bad))
                return None
            procedure = self.make_procedure()
        try:
            for key, value in self.bench_choice.values().items():
                setattr(self.options, key, value)
            prepared = self.options.prepare(procedure)
        except Exception as exc:  # noqa: BLE001 — user errors: shown, not raised
            self.refuse(f"{procedure.NAME} not queued: {exc}")
            return None
        procedure.labspin_prepared = prepared
        self.bench_panel.set_bench(self.options.describe(procedure),
                                   prepared.bench.config.instruments)
        if self.store_measurement:
            filename = unique_filename(self.directory, prefix=self.file_input.filename_base,
                                       datetimeformat="%Y%m%d_%H%M%S", procedure=procedure,
                                       ext=self.file_input.filename_extension)
        else:
            filename = tempfile.mktemp(prefix=f"{procedure.NAME}_", suffix=".csv")
        results = Results(procedure, filename)
        experiment = self.new_experiment(results)
        experiment.run_clock = RunClock(int(procedure.estimate()[0]))
        for line in prepared.summary():
            log.info(line)
        self.refusal.setText("")
        self.manager.queue(experiment)
        self._after_queue(experiment)
        self.time_left.refresh()
        return experiment

    # --- the queue after an Abort --------------------------------------------------------
    def waiting(self) -> list:
        """Get the queued experiments that have not started, in queue order."""
        return [e for e in self.manager.experiments.queue
                if e.procedure.status == e.procedure.QUEUED]

    def queue_paused(self) -> bool:
        """Get whether an Abort paused the queue (queued runs wait for Resume)."""
        return not self.manager._start_on_add and not self.manager.is_running()

    def _after_queue(self, experiment) -> None:
        """A run queued while an Abort keeps the queue paused: if it is the only run waiting,
        the queue resumes with it (what Queue asks for); if earlier runs wait too, it waits
        with them for Resume, as its row and the status bar say."""
        if not self.queue_paused():
            return
        if self.waiting() == [experiment]:
            log.info("Queue after the Abort at %s: the queue resumes with this run",
                     self.paused_at)
            self.resume()
            return
        self._mark_waiting()

    def _mark_waiting(self) -> None:
        """Say what the queue waits for: each waiting run's row ("Queued — waits for
        Resume") and the status bar; Resume enabled."""
        waiting = self.waiting()
        if not waiting:
            self.queue_note.setText("")
            return
        for e in waiting:
            e.browser_item.setText(3, WAITS_FOR_RESUME)
            e.browser_item.setToolTip(3, f"The Abort at {self.paused_at} paused the queue: "
                                         "this run starts when you press Resume")
        text = (f"Queue paused by the Abort at {self.paused_at}: {len(waiting)} run(s) wait "
                "— press Resume to run them (or remove them with Clear all)")
        self.queue_note.setText(text)
        log.warning(text)
        self.abort_button.setText("Resume")
        self.abort_button.clicked.disconnect()
        self.abort_button.clicked.connect(self.resume)
        self.abort_button.setEnabled(True)

    def resume(self):
        """Run the waiting runs (the queue goes on after an Abort)."""
        self.paused_at = None
        self.queue_note.setText("")
        for e in self.waiting():
            e.browser_item.setStatus(e.procedure.QUEUED)
            e.browser_item.setToolTip(3, "")
        super().resume()

    def invalid_inputs(self) -> list[str]:
        """Get the refusal message of every number field whose text reads as no value."""
        fields = (getattr(self.inputs, name) for name in self.inputs._inputs)
        return [f.error for f in fields if isinstance(f, QuantityInput) and f.error]

    def refuse(self, text: str, title: str = "Run not queued") -> None:
        """Show why a run was not queued (or a preset not saved or loaded: ``title``) in the
        status bar, the log, and a non-blocking dialog."""
        log.error(text)
        self.refusal.setText(text)
        if self.refusal_box is None:
            self.refusal_box = QtWidgets.QMessageBox(
                QtWidgets.QMessageBox.Icon.Warning, title, text,
                QtWidgets.QMessageBox.StandardButton.Ok, self)
            self.refusal_box.setModal(False)
        else:
            self.refusal_box.setWindowTitle(title)
            self.refusal_box.setText(text)
        self.refusal_box.show()

    # --- run life cycle --------------------------------------------------------------------
    def abort(self):
        """Stop the running measurement after its present point; the worker then ramps every
        source to its safe state and ends the run ABORTED. The queue pauses: runs waiting
        say they wait for Resume; a run queued when none waits resumes it."""
        log.info("Abort: stopping after the present point; every source ramps to its safe "
                 "state")
        self.paused_at = time.strftime("%H:%M:%S")
        super().abort()

    def report_end(self, experiment) -> None:
        """Log and show the end-of-run line of ``experiment`` (status, rows, duration, file)
        and its final "Time left" cell."""
        clock = getattr(experiment, "run_clock", None) or RunClock(0)
        line = end_of_run_line(experiment.procedure.NAME, experiment.procedure.status, clock,
                               experiment.data_filename)
        (log.error if experiment.procedure.status == experiment.procedure.FAILED
         else log.info)(line)
        self.end_of_run.setText(line)
        self.time_left.refresh()

    def finished(self, experiment):
        super().finished(experiment)
        self.report_end(experiment)
        self.analysis_tab.analyze([experiment.data_filename])

    def open_experiment(self):
        """pymeasure's Open (its dialog, the files shown); the Analysis tab then shows the
        analysis of the last file opened."""
        before = {id(e) for e in self.manager.experiments.queue}
        super().open_experiment()
        opened = [e for e in self.manager.experiments.queue if id(e) not in before]
        if opened:
            self.analysis_tab.analyze([opened[-1].data_filename])

    def abort_returned(self, experiment):
        super().abort_returned(experiment)
        self.dock_widget.update_all()
        self.report_end(experiment)
        self._mark_waiting()

    def failed(self, experiment):
        """A run ended FAILED (its bench was brought to its safe state); the queue stops."""
        self.report_end(experiment)
        self.dock_widget.update_all()
        self.abort_button.setEnabled(False)
        self.browser_widget.clear_button.setEnabled(True)
        if self.manager.experiments.has_next():
            self.abort_button.setText("Resume")
            self.abort_button.clicked.disconnect()
            self.abort_button.clicked.connect(self.resume)
            self.abort_button.setEnabled(True)

    def load_results(self, filename: str, analyze: bool = True):
        """Show a results file (as pymeasure's Open does) and, if ``analyze``, its analysis
        in the Analysis tab; get its experiment."""
        results = Results.load(str(filename))
        experiment = self.new_experiment(results)
        experiment.browser_item.progressbar.setValue(100)
        self.manager.load(experiment)
        if analyze:
            self.analysis_tab.analyze([str(filename)])
        return experiment

    def wait_idle(self, timeout_s: float = 60.0) -> bool:
        """Process events until no run is going (or the timeout); get whether idle."""
        timer = QtCore.QElapsedTimer()
        timer.start()
        app = QtWidgets.QApplication.instance()
        while self.manager.is_running() and timer.elapsed() < timeout_s * 1000:
            app.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 50)
        return not self.manager.is_running()

    def confirm_close(self) -> bool:
        """Ask whether to abort the running measurement and close; get the answer. The
        question is ``close_question`` (tests answer it with its buttons)."""
        running = self.manager._running_experiment
        name = running.procedure.NAME if running is not None else self.name
        waiting = sum(1 for e in self.manager.experiments.queue
                      if e.procedure.status == e.procedure.QUEUED)
        box = QtWidgets.QMessageBox(
            QtWidgets.QMessageBox.Icon.Question, "Close while measuring?",
            f"{name} is running" + (f" and {waiting} more run(s) wait in the queue"
                                    if waiting else "")
            + ". Abort it (sources ramp to their safe state) and close?",
            QtWidgets.QMessageBox.StandardButton.Abort
            | QtWidgets.QMessageBox.StandardButton.Cancel, self)
        box.button(QtWidgets.QMessageBox.StandardButton.Abort).setText("Abort and close")
        box.setDefaultButton(QtWidgets.QMessageBox.StandardButton.Cancel)
        self.close_question = box
        try:
            return box.exec() == QtWidgets.QMessageBox.StandardButton.Abort
        finally:
            self.close_question = None

    def closeEvent(self, event):
        """Closing mid-run asks first (:meth:`confirm_close`); then it aborts the running
        measurement and waits for its bench to be safe."""
        if self.manager.is_running() and self.ask_before_closing and not self.confirm_close():
            log.info("Close cancelled: the run goes on")
            event.ignore()
            return
        self.manager._start_on_add = False
        self.manager._is_continuous = False
        if self.manager.is_running():
            self.manager.abort()
            self.wait_idle()
        logging.getLogger().removeHandler(self._log_handler)
        self.dock_widget.timer.stop()
        self.bench_panel.timer.stop()
        self.time_left.timer.stop()
        super().closeEvent(event)
