"""The bench choice of a procedure window: the simulated bench (with its sample, the sample's
KEY=VALUE overrides and the seed) or a bench config file, initialised from ``labspin gui``'s
options and read each time a run is queued."""
from __future__ import annotations

from pymeasure.display.Qt import QtCore, QtWidgets

from labspin.sim_backend.samples import builtin_names

SIMULATED, CONFIG = "simulated", "config file"
SAMPLE_FILE = "file…"


def split_overrides(text: str) -> list[str]:
    """Get the KEY=VALUE items of ``text``, separated by commas or spaces (as repeated
    ``--set``); a comma or space inside brackets or quotes (a list value) does not split, and
    spaces around ``=`` are allowed ("alpha = 0.01")."""
    items, word, depth, quote = [], "", 0, ""
    for ch in text:
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(depth - 1, 0)
        elif depth == 0 and (ch == "," or ch.isspace()):
            if word:
                items.append(word)
            word = ""
            continue
        word += ch
    if word:
        items.append(word)
    joined: list[str] = []
    for item in items:      # "alpha = 0.01" came apart at its spaces: put it back together
        if joined and (item.startswith("=") or joined[-1].endswith("=")):
            joined[-1] += item
        else:
            joined.append(item)
    return joined


class BenchChoice(QtWidgets.QGroupBox):
    """Controls for the bench runs go to: "simulated" (sample: the procedure's default
    ``default_sample``, a built-in sample or a sample TOML file; overrides; seed) or a bench
    config file. ``changed`` is emitted on every edit; :meth:`values` reads the controls."""

    changed = QtCore.Signal()

    def __init__(self, options, default_sample: str, parent=None):
        super().__init__(parent)              # the dock around it is headed "Bench"
        self.kind = QtWidgets.QComboBox()
        self.kind.addItems([SIMULATED, CONFIG])
        self.bench_file = QtWidgets.QLineEdit()
        self.bench_file.setPlaceholderText("bench config (.toml)")
        self.bench_browse = QtWidgets.QPushButton("Browse…")
        self.sample = QtWidgets.QComboBox()
        self.sample.addItem(f"default ({default_sample})", None)
        for name in builtin_names():
            self.sample.addItem(name, name)
        self.sample.addItem(SAMPLE_FILE, SAMPLE_FILE)
        for box in (self.kind, self.sample):    # narrow panels: the lists show names whole
            box.setSizeAdjustPolicy(
                QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(12)
            box.view().setMinimumWidth(box.view().sizeHintForColumn(0) + 24)
        self.sample_file = QtWidgets.QLineEdit()
        self.sample_file.setPlaceholderText("sample file (.toml)")
        self.sample_browse = QtWidgets.QPushButton("Browse…")
        self.overrides = QtWidgets.QLineEdit()
        self.overrides.setPlaceholderText("KEY=VALUE, … (as --set), e.g. dr_ahe_ohm=-1.7")
        self.seed = QtWidgets.QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.set_values(options.bench, options.sample, options.set, options.seed)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Instruments", self._row(self.kind, self.bench_file, self.bench_browse))
        form.addRow("Sample", self._row(self.sample, self.sample_file, self.sample_browse))
        form.addRow("Overrides", self.overrides)
        form.addRow("Seed", self.seed)
        self.bench_browse.clicked.connect(lambda: self._browse(self.bench_file, "bench config"))
        self.sample_browse.clicked.connect(lambda: self._browse(self.sample_file, "sample"))
        for signal in (self.kind.currentIndexChanged, self.sample.currentIndexChanged,
                       self.bench_file.textChanged, self.sample_file.textChanged,
                       self.overrides.textChanged, self.seed.valueChanged):
            signal.connect(self._changed)
        self._enable()

    def set_values(self, bench: str | None, sample: str | None, overrides, seed: int) -> None:
        """Show a bench choice (as :meth:`values` gets it): ``bench`` (a config file, or None:
        simulated), ``sample`` (a built-in name, a sample file, None: the default), the
        ``overrides`` (KEY=VALUE texts) and the ``seed``."""
        self.kind.setCurrentText(CONFIG if bench else SIMULATED)
        self.bench_file.setText(str(bench) if bench else "")
        at = self.sample.findData(str(sample)) if sample else 0
        if at < 0:
            at = self.sample.findData(SAMPLE_FILE)
        self.sample_file.setText(str(sample) if sample and at == self.sample.findData(
            SAMPLE_FILE) else "")
        self.sample.setCurrentIndex(at)
        self.overrides.setText(" ".join(overrides or ()))
        self.seed.setValue(int(seed or 0))

    @staticmethod
    def _row(choice, path, browse) -> QtWidgets.QWidget:
        """The ``choice`` above its ``path`` field and ``browse`` button (narrow panels)."""
        row = QtWidgets.QWidget()
        layout = QtWidgets.QGridLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(choice, 0, 0, 1, 2)
        layout.addWidget(path, 1, 0)
        layout.addWidget(browse, 1, 1)
        return row

    def _browse(self, edit: QtWidgets.QLineEdit, what: str) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, f"Choose a {what} file",
                                                        edit.text(), "TOML (*.toml);;All (*)")
        if path:
            edit.setText(path)

    def _enable(self) -> None:
        simulated = self.kind.currentText() == SIMULATED
        file_sample = self.sample.currentData() == SAMPLE_FILE
        self.bench_file.setEnabled(not simulated)
        self.bench_browse.setEnabled(not simulated)
        for w in (self.sample, self.overrides, self.seed):
            w.setEnabled(simulated)
        self.sample_file.setEnabled(simulated and file_sample)
        self.sample_browse.setEnabled(simulated and file_sample)

    def _changed(self, *_args) -> None:
        self._enable()
        self.changed.emit()

    def values(self) -> dict:
        """Get the chosen ``bench`` (a file, or None: simulated), ``sample`` (None: the
        procedure's default), ``set`` (tuple of KEY=VALUE) and ``seed``; raise ValueError
        naming the control when a file is chosen but not given."""
        if self.kind.currentText() == CONFIG:
            path = self.bench_file.text().strip()
            if not path:
                raise ValueError("Bench: 'config file' is chosen but no bench config file is "
                                 "given; give one or choose 'simulated'")
            return {"bench": path, "sample": None, "set": (), "seed": self.seed.value()}
        sample = self.sample.currentData()
        if sample == SAMPLE_FILE:
            sample = self.sample_file.text().strip()
            if not sample:
                raise ValueError("Sample: 'file…' is chosen but no sample file is given; give "
                                 "a .toml file or choose a built-in sample")
        return {"bench": None, "sample": sample,
                "set": tuple(split_overrides(self.overrides.text())),
                "seed": self.seed.value()}
