"""Screenshots of every procedure's window with data (issue 15, item 8): in the light and in a
dark theme each plot is drawn on the palette's base colour, and every curve plot with data
shows its run's colour on screen (every map: its colour map), i.e. no plot with data is blank.
Offscreen here; under a real X server: ``scripts/gui_screenshots.sh``."""
import numpy as np
import pytest
from pymeasure.display.Qt import QtGui
from test_gui_plots_draw import GROUPED, _table, _write

from labspin.gui.plots import ResultsMap
from labspin.gui.theme import is_dark, plot_colours
from labspin.procedures import PROCEDURES
from labspin.procedures.views import strip_sign

DARK = {"Window": "#202124", "Base": "#15161a", "AlternateBase": "#202124",
        "Text": "#e8eaed", "WindowText": "#e8eaed", "Button": "#303134",
        "ButtonText": "#e8eaed"}


@pytest.fixture(params=["light", "dark"])
def theme(request, qapp):
    before = QtGui.QPalette(qapp.palette())
    if request.param == "dark":
        pal = QtGui.QPalette(before)
        for role, colour in DARK.items():
            pal.setColor(getattr(QtGui.QPalette.ColorRole, role), QtGui.QColor(colour))
        qapp.setPalette(pal)
    assert is_dark() == (request.param == "dark")
    yield request.param
    qapp.setPalette(before)


def _rgb(image: QtGui.QImage) -> np.ndarray:
    image = image.convertToFormat(QtGui.QImage.Format.Format_RGB32)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    a = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return a[:, :image.width(), 2::-1].astype(int)


def _hue_pixels(rgb: np.ndarray, colour: QtGui.QColor) -> int:
    """Count saturated pixels within 25° of ``colour``'s hue (its shades included)."""
    r, g, b = (rgb[..., k] / 255.0 for k in range(3))
    mx, mn = np.max(rgb, -1) / 255.0, np.min(rgb, -1) / 255.0
    sat = np.where(mx > 0, (mx - mn) / np.where(mx > 0, mx, 1), 0)
    d = np.where(mx > mn, mx - mn, 1)
    hue = np.where(mx == r, (g - b) / d % 6, np.where(mx == g, (b - r) / d + 2,
                                                         (r - g) / d + 4)) * 60
    target = colour.hsvHueF() * 360
    close = np.abs((hue - target + 180) % 360 - 180) <= 25
    return int((close & (sat > 0.3) & (mx > 0.2) & (mx > mn)).sum())


@pytest.mark.parametrize("name", list(PROCEDURES))
def test_every_window_shows_its_data_in_both_themes(qapp, window, tmp_path, theme, name):
    path = tmp_path / f"{name}.csv"
    cols = _table(name, 30, np.random.default_rng(5))
    win = window(name)
    n = len(next(iter(cols.values())))
    for view in win.views:             # segment and group columns in 3 runs of rows (as in
        for column in (*map(strip_sign, view.breaks), view.shade_by):   # a real run), so a
            if column in cols and column not in GROUPED:               # curve is lines,
                cols[column] = (np.arange(n) * 3 // n).astype(float)   # not lone points
    _write(path, name, cols)
    win.resize(1366, 768)
    exp = win.load_results(path, analyze=False)
    qapp.processEvents()
    win.dock_widget.update_all()
    for pw in win.dock_widget.plot_widgets:
        pw.grab()                       # drawn once, as on screen: the views autorange
    qapp.processEvents()
    whole = _rgb(win.grab().toImage())
    assert np.unique(whole.reshape(-1, 3), axis=0).shape[0] > 50      # not blank
    background, _ = plot_colours()
    for legend in win.dock_widget.legends:
        if legend is not None:         # its colour swatches must not count as the curves
            legend.hide()
    for item, pw in zip(exp.curve_list, win.dock_widget.plot_widgets):
        rgb = _rgb(pw.grab().toImage())
        corner = rgb[2:8, -8:-2].reshape(-1, 3).mean(axis=0)
        assert np.abs(corner - [background.red(), background.green(),
                                background.blue()]).max() < 8, (theme, item.view.title)
        if isinstance(item, ResultsMap):
            assert np.unique(rgb.reshape(-1, 3), axis=0).shape[0] > 30, item.view.title
            continue
        # the curves: 90 points joined (or their markers), at least a line across the plot
        drawn = _hue_pixels(rgb, item.color)
        assert drawn > 100, (theme, item.view.title, drawn)
