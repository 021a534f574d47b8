"""Every procedure's window runs a small measurement on the simulated bench and draws it
(issue 15, "Done when"): each curve with data shows its run's colour at the pixels where its
points are (every map: non-background colour at its measured cells), the window fits its
screen, and a table of what the run shows (plots with point counts, the Analysis tab, the
estimator) is printed. Offscreen here; under a real X server, at 100 % on 1366×768 and at
150 % on 1600×1000: ``scripts/gui_screenshots.sh``."""
import numpy as np
import pytest
from pymeasure.display.Qt import QtCore, QtWidgets
from pymeasure.experiment import Procedure
from test_gui_plots_draw import _curves
from test_gui_screenshots import _rgb

from labspin.gui.fit import SMALLEST
from labspin.gui.plots import HistogramCurve, ResultsMap
from labspin.gui.theme import plot_colours
from labspin.procedures import PROCEDURES

# runs of a few points each (all twelve: ~25 s of CPU, most of it kapitza-map's thermal
# averages and harmonic-hall's lock-in ramps); the plots need data, not a fit that holds
TINY = {
    "field-sweep": {"max_field": 0.05, "field_step": 0.01},
    "current-sweep": {"cycles": 2, "current_step": 2e-6},
    "pulse-switching": {"fields": "0, 0.02", "cycles": 1, "amplitude_step": 0.1},
    "stfmr": {"frequencies": "8, 12", "field_points": 15, "field_halfwidth": 0.02,
              "both_polarities": False},
    "switching-probability": {"amplitudes": "-0.08, -0.1, -0.12", "widths": "1e-8, 3e-8",
                              "trials": 4},
    "tmr-statistics": {"reads": 100},
    "telegraph-dwell": {"fields": "-0.001, 0.001", "bias_currents": "5e-8", "reads": 300},
    "magnet-calibration": {"current_step": 2.0},
    "kapitza-map": {"current_points": 4, "field_points": 3, "averages": 2},
    "harmonic-hall": {"max_field": 0.04, "field_step": 0.01},
    "stno-spectrum": {"currents": "0.2e-3, 0.4e-3", "sweep_points": 201},
    "fmr": {"frequencies": "8, 12", "field_points": 15},
}
TOLERANCE = 10
"""Largest channel difference of a drawn pixel from its pen (curves are not antialiased: a
line's pixels are its pen's colour; 10 of 255 allows for the 8-bit rounding of shades)."""
NEAR_PX = 2
"""How far (logical px) from a point's mapped position its line or marker may be drawn
(rounding of the mapping, the line's width)."""


def test_every_procedure_has_a_tiny_run():
    assert set(TINY) == set(PROCEDURES)


def _colour_near(rgb, px, py, colours, reach: int) -> np.ndarray:
    """Get, per point (px, py: image pixels), whether a pixel within ``reach`` has one of
    ``colours`` ((k, 3) RGB)."""
    h, w, _ = rgb.shape
    found = np.zeros(px.size, bool)
    for i, (cx, cy) in enumerate(zip(px, py)):
        if not (0 <= cx < w and 0 <= cy < h):
            continue
        patch = rgb[max(cy - reach, 0):cy + reach + 1, max(cx - reach, 0):cx + reach + 1]
        diff = np.abs(patch[:, :, None, :] - colours[None, None, :, :]).max(axis=-1)
        found[i] = bool((diff <= TOLERANCE).any())
    return found


def _pixels(pw, x, y, ratio: float):
    """Get the image pixels of view coordinates (x, y) in PlotWidget ``pw``'s grab."""
    vb = pw.getPlotItem().vb
    px, py = [], []
    for xi, yi in zip(x, y):
        p = pw.mapFromScene(vb.mapViewToScene(QtCore.QPointF(float(xi), float(yi))))
        px.append(int(round(p.x() * ratio)))
        py.append(int(round(p.y() * ratio)))
    return np.array(px), np.array(py)


def _points(curve, item):
    """Get the (x, y) where a curve is drawn: its points, or a histogram's bin tops."""
    x, y = np.asarray(curve.xData, float), np.asarray(curve.yData, float)
    if isinstance(item, HistogramCurve):
        x = 0.5 * (x[1:] + x[:-1])
        keep = y > 0                    # an empty bin is the axis line
        x, y = x[keep], y[keep]
    ok = np.isfinite(x) & np.isfinite(y)
    return x[ok], y[ok]


def _colours(curve) -> list:
    """Get the colours a curve draws with: its pen's, its markers'."""
    out = [curve.opts["pen"].color()] if curve.opts["pen"] is not None else []
    if curve.opts.get("symbol") is not None:
        out.append(curve.opts["symbolBrush"].color())
    return out


def _rgb_of(qcolor) -> list[int]:
    return [qcolor.red(), qcolor.green(), qcolor.blue()]


def check_plots(win, exp) -> list[str]:
    """Assert every plot with data of ``exp`` shows it where its points are; get one line per
    plot: its title and what it draws."""
    dock = win.dock_widget
    for pw in dock.plot_widgets:
        pw.grab()                       # drawn once, as on screen: the views autorange
    QtWidgets.QApplication.processEvents()
    for legend in dock.legends:
        if legend is not None:          # it may cover points; its swatches are not curves
            legend.hide()
    background = np.array(_rgb_of(plot_colours()[0]))
    lines = []
    try:
        for item, pw in zip(exp.curve_list, dock.plot_widgets):
            image = pw.grab().toImage()
            ratio = image.devicePixelRatio()
            rgb = _rgb(image)
            reach = int(np.ceil(NEAR_PX * ratio))
            title = item.view.title
            if isinstance(item, ResultsMap):
                assert item.image is not None, title
                ix, iy = np.nonzero(np.isfinite(item.image))
                rect = item.mapRectToView(item.boundingRect())
                nx, ny = item.image.shape
                cx = rect.left() + (ix + 0.5) * rect.width() / nx
                cy = rect.top() + (iy + 0.5) * rect.height() / ny
                px, py = _pixels(pw, cx, cy, ratio)
                # cells narrower than a pixel: the map's pixel nearest each cell centre
                drawn = [(np.abs(rgb[max(b - reach, 0):b + reach + 1,
                                     max(a - reach, 0):a + reach + 1] - background)
                          .max(axis=-1) > TOLERANCE).any() for a, b in zip(px, py)]
                assert all(drawn), (title, int(np.sum(drawn)), len(drawn))
                lines.append(f"{title}: map of {ix.size} cells ({nx}×{ny})")
                continue
            curves = [c for c in _curves(item) if _points(c, item)[0].size]
            assert curves, f"{title}: no curve with data"
            # groups of one run in its shades: a point may lie under a later group's curve
            # (a second cycle retraces the first), so any of the run's colours counts
            colours = np.array([_rgb_of(c) for curve in curves for c in _colours(curve)])
            counts = []
            for curve in curves:
                x, y = _points(curve, item)
                px, py = _pixels(pw, x, y, ratio)
                shown = _colour_near(rgb, px, py, colours, reach)
                assert shown.mean() >= 0.9, (title, int(shown.sum()), x.size)
                counts.append(x.size)
            assert counts, f"{title}: no curve with data"
            what = "bins" if isinstance(item, HistogramCurve) else "points"
            lines.append(f"{title}: {sum(counts)} {what}"
                         + (f" in {len(counts)} groups ({item.view.shade_by})"
                            if item.view.shade_by else ""))
    finally:
        for legend in dock.legends:
            if legend is not None:
                legend.show()
    return lines


def _fits_screen(win) -> None:
    """Assert the window's frame lies within its screen's free area (the bench panel too)
    on a screen at least the smallest the GUI is made for (Qt's offscreen screen, 800×800,
    is narrower)."""
    free = win.screen().availableGeometry()
    if free.width() < SMALLEST[0] or free.height() < SMALLEST[1]:
        return
    frame = win.frameGeometry()
    assert frame.width() <= free.width() and frame.height() <= free.height(), (frame, free)
    bench = win.bench_dock
    corner = bench.mapToGlobal(QtCore.QPoint(bench.width() - 1, bench.height() - 1))
    assert win.geometry().contains(corner) or free.contains(corner), (corner, free)


@pytest.mark.parametrize("name", list(PROCEDURES))
def test_every_window_runs_on_the_simulated_bench_and_draws_its_points(qtbot, window, name,
                                                                       capsys):
    win = window(name)
    qtbot.waitExposed(win)
    _fits_screen(win)
    procedure = win.make_procedure()
    estimate = procedure.estimate()
    for key, value in TINY[name].items():
        setattr(procedure, key, value)
    points = procedure.estimate()[0]
    exp = win.queue(procedure=procedure)
    assert exp is not None, win.refusal.text()
    seen = []                           # the "Time left" cells while it runs

    def ended() -> bool:
        win.time_left.refresh()
        text = win.time_left.text(exp)
        if exp.procedure.status == Procedure.RUNNING and text not in seen \
                and not text.startswith("took"):     # (the status is told after the end)
            seen.append(text)
        return exp.procedure.status == Procedure.FINISHED and not win.manager.is_running() \
            and win.analysis_tab.pending == 0
    qtbot.waitUntil(ended, timeout=120_000)
    win.dock_widget.update_all()
    win.tabs.setCurrentIndex(0)
    plots = check_plots(win, exp)
    outcome = win.analysis_tab.outcome
    assert outcome is not None and outcome.files == [exp.data_filename]
    if outcome.error:
        analysis = f"no fit: {outcome.error.split(': ', 1)[-1][:80]}"
    else:
        keys = [k for k in outcome.result if k + "_err" in outcome.result]
        analysis = (f"{len(keys)} fitted values ({', '.join(keys[:3])}"
                    + (", …" if len(keys) > 3 else "") + f"), {len(outcome.warnings)} "
                    f"warnings, figure {'shown' if win.analysis_tab.canvas else 'none'}")
    row = [f"### {name} (tiny run: {points} points; default parameters: {estimate[0]} "
           f"points, estimate {estimate[1]:.0f} s)",
           *(f"- plot {line}" for line in plots),
           f"- Analysis tab: {analysis}",
           f"- Time left column while running: {', '.join(map(repr, seen[:2]))}"
           + (f", … {next((t for t in seen[2:] if 'left' in t), seen[-1])!r} ({len(seen)} "
              "texts)" if len(seen) > 2 else ""),
           f"- Time left column after: {win.time_left.text(exp)!r}; end line: "
           f"{win.end_of_run.text().split(', file')[0]!r}"]
    with capsys.disabled():
        print("\n" + "\n".join(row))
