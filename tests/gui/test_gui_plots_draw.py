"""Every plot draws every point it holds, whatever its units: curves against a current of
tens of µA (loops that return to their start) display all their points and the view
contains them, for loaded files and for a live run (issue 15, item 1)."""
import numpy as np
import pytest
from pymeasure.experiment import Procedure, Results

from labspin.gui.plots import DISPLAY_MAX, ResultsMap, downsample_factor
from labspin.procedures import procedure_class

GROUPED = {"Field set (T)": (-3e-3, 0.0, 3e-3), "Pulse width (s)": (1e-9, 1e-8, 1e-7),
           "Cycle": (0, 1, 2)}
CURRENTS = ("Current (A)", "Pulse current (A)", "Bias current (A)", "Read current (A)")


def _table(name: str, per_group: int, rng) -> dict:
    """Rows in the procedure's columns: three groups (the views' shade_by columns), in each
    a current loop 0 → +20 µA → −20 µA → 0 (x returns to its start, as in R–I loops and pulse
    sweeps), other columns noise around their typical size (Ω, V, probability)."""
    n = 3 * per_group
    group = np.arange(n) // per_group
    phase = (np.arange(n) % per_group) / per_group
    loop = 20e-6 * np.sin(2 * np.pi * phase)
    cols = {}
    for c in procedure_class(name).DATA_COLUMNS:
        if c in GROUPED:
            cols[c] = np.asarray(GROUPED[c])[group]
        elif c in CURRENTS:
            cols[c] = loop
        elif c.startswith("Probability"):
            cols[c] = np.clip(0.5 + 0.5 * np.sin(2 * np.pi * phase), 0, 1)
        elif c.endswith("(ohm)"):
            cols[c] = 2000.0 + 1.5 * np.sign(loop) + rng.normal(0, 0.01, n)
        elif c.endswith("(V)"):
            cols[c] = loop * 2000.0 + rng.normal(0, 1e-6, n)
        else:
            cols[c] = np.round(rng.random(n), 6)
    return cols


def _write(path, name: str, cols: dict) -> None:
    Results(procedure_class(name)(), str(path))           # pymeasure header + column names
    rows = zip(*(cols[c] for c in procedure_class(name).DATA_COLUMNS))
    with open(path, "a", encoding="utf-8") as f:
        f.write("".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows))


def _curves(item):
    """Get the curves an item draws: its shaded groups, or itself."""
    kids = getattr(item, "children_items", [])
    return kids if item.view.shade_by else [item]


def _assert_every_point_shown(win, exp) -> int:
    """Assert each curve with data displays all its points inside its view; get how many
    curves were checked. The plots are drawn first, as on screen (the ViewBox applies its
    autorange when it paints)."""
    for pw in win.dock_widget.plot_widgets:
        pw.grab()
    checked = 0
    for item, plot in zip(exp.curve_list, win.dock_widget.plots):
        (x0, x1), (y0, y1) = plot.viewRange()
        if isinstance(item, ResultsMap):
            rect = item.mapRectToView(item.boundingRect())
            assert item.image is not None and np.isfinite(item.image).any()
            assert x0 <= rect.left() and rect.right() <= x1, (item.view.title, rect, x0, x1)
            assert y0 <= rect.top() and rect.bottom() <= y1, (item.view.title, rect, y0, y1)
            checked += 1
            continue
        for curve in _curves(item):
            x, y = curve.xData, curve.yData
            if x is None or not len(x):
                continue
            shown_x, shown_y = curve.getData()
            assert len(shown_x) == len(x), (item.view.title, len(shown_x), len(x))
            assert x0 <= np.nanmin(x) and np.nanmax(x) <= x1, (item.view.title, x0, x1)
            assert y0 <= np.nanmin(y) and np.nanmax(y) <= y1, (item.view.title, y0, y1)
            checked += 1
    return checked


@pytest.mark.parametrize("name", ["current-sweep", "pulse-switching", "kapitza-map",
                                  "switching-probability"])
def test_a_loaded_file_with_microampere_currents_shows_every_point(qapp, window, tmp_path,
                                                                    name):
    path = tmp_path / f"{name}.csv"
    _write(path, name, _table(name, 40, np.random.default_rng(3)))
    win = window(name)
    exp = win.load_results(path)
    qapp.processEvents()
    win.dock_widget.update_all()
    qapp.processEvents()
    # every view of these procedures has data: each group's curve (3 per curve view) or map
    expected = sum(1 if v.kind == "image" else 3 if v.shade_by else 1 for v in win.views)
    assert _assert_every_point_shown(win, exp) == expected


def test_a_long_loop_is_reduced_to_its_envelope_not_emptied(qapp, window, tmp_path):
    """10^5 points of R–I loops: drawn as min/max pairs of consecutive points, so the curve
    keeps its full extent (the switching steps) and reports its bounds."""
    name = "current-sweep"
    path = tmp_path / "long.csv"
    per = 40_000
    _write(path, name, _table(name, per, np.random.default_rng(4)))
    win = window(name)
    exp = win.load_results(path)
    qapp.processEvents()
    k = downsample_factor(per)
    assert k > 1 and 2 * (per // k) <= DISPLAY_MAX
    for curve in _curves(exp.curve_list[0]):
        shown_x, shown_y = curve.getData()
        assert len(shown_x) == 2 * (len(curve.xData) // k)
        assert np.nanmax(shown_y) == np.nanmax(curve.yData[: k * (per // k)])
        assert np.nanmin(shown_y) == np.nanmin(curve.yData[: k * (per // k)])
    (x0, x1), _ = win.dock_widget.plots[0].viewRange()
    assert x0 <= -19e-6 and 19e-6 <= x1


def test_a_live_current_sweep_shows_its_points_while_it_runs(qtbot, window):
    """A run long enough to be watched (1000 cycles in 0.1 µA steps: 1.2e6 points; 20 cycles
    ended before the check on a quiet machine), aborted once its points were seen live; the
    aborted run's points stay shown."""
    win = window("current-sweep")
    p = win.make_procedure()
    p.cycles, p.current_step = 1000, 1e-7
    exp = win.queue(procedure=p)

    def live_points_shown():
        assert exp.procedure.status in (Procedure.QUEUED, Procedure.RUNNING), \
            "the run ended before its plots were checked live"
        win.dock_widget.refresh()
        curves = [c for c in _curves(exp.curve_list[0]) if c.xData is not None
                  and len(c.xData) >= 10]
        return bool(curves) and _assert_every_point_shown(win, exp) >= 2
    qtbot.waitUntil(live_points_shown, timeout=60_000)
    win.abort()
    qtbot.waitUntil(lambda: not win.manager.is_running(), timeout=60_000)
    assert exp.procedure.status == Procedure.ABORTED
    assert _assert_every_point_shown(win, exp) >= 2
