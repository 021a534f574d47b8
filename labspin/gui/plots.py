"""Live plots of results files: segmented and shaded curves, histograms and maps, in a dock
area that pymeasure's window and manager drive like its own DockWidget (one item per view
and run; each item re-reads its run's file while the run is going)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyqtgraph as pg
from pymeasure.display.Qt import QtCore, QtGui, QtWidgets
from pymeasure.display.widgets.tab_widget import TabWidget
from pymeasure.experiment import Procedure
from pyqtgraph.dockarea import Dock, DockArea

from labspin.procedures.views import View, strip_sign
from labspin.results.units import split_unit

from .axis_choice import AxisChooser
from .fit import scrolling
from .table import LiveTable, live_table
from .theme import group_looks, plot_colours, run_colour

SI_UNITS = {"T", "A", "V", "Hz", "s", "Ω", "m", "W"}
"""Units shown with an SI prefix (mT, µA, GHz, …); others (deg, dBm, %) as they are."""
SYMBOLS_MAX = 2000
"""Views with symbols draw them up to this many points (lines only beyond: 10^5 symbols take
~0.4 s per redraw)."""
LEGEND_MAX = 12
"""Most legend entries per plot (further groups are summarised in one line)."""
LEGEND_FONT = "8pt"
"""The legend's text size: a point smaller than the axes' (a legend covers data)."""
DISPLAY_MAX = 10_000
"""Most points a curve hands to the renderer. Beyond, each run of k consecutive points is
drawn as its minimum and maximum (pyqtgraph's "peak" reduction in the data's own order), k
from the number of points alone. pyqtgraph's autoDownsample (and clipToView) derive k from
the view's width and assume x increasing with uniform spacing: for a loop (x returns to its
start) or a view 1 A wide over data 20 µA wide they drop every point and the curve reports
no bounds, so autorange never finds it."""


def downsample_factor(n_points: int) -> int:
    """Get k for ``n_points``: 1 (every point drawn) up to DISPLAY_MAX points."""
    return max(1, -(-n_points // (DISPLAY_MAX // 2)))


def new_curve_item() -> pg.PlotDataItem:
    """Get a PlotDataItem that draws every point whatever its view (see DISPLAY_MAX)."""
    return pg.PlotDataItem(antialias=False, downsampleMethod="peak")


def set_curve_data(item: pg.PlotDataItem, **data) -> None:
    """Set an item's data with the reduction of its size (see DISPLAY_MAX)."""
    x = data.get("x")
    n = 0 if x is None else len(x)
    if data.get("stepMode") is None:
        item.setDownsampling(ds=downsample_factor(n), auto=False, method="peak")
    item.setData(**data)


def split_column(column: str) -> tuple[str, str]:
    """Get (name, unit) of a column "Name (unit)"; "ohm" becomes "Ω"."""
    name, unit = split_unit(column)
    return name, "Ω" if unit == "ohm" else unit


def format_value(column: str, value) -> str:
    """Get "value unit" for a legend or tick: 6e9 in "Frequency (Hz)" → "6 GHz"."""
    _, unit = split_column(column)
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    if unit in SI_UNITS:
        return pg.siFormat(v, precision=3, suffix=unit)
    return f"{v:g} {unit}".strip() if unit != "deg" else f"{v:g}°"


def segment_connect(table: LiveTable, breaks: tuple[str, ...]) -> np.ndarray:
    """Get pyqtgraph's connect array: True at i where point i joins point i+1, i.e. none of
    the ``breaks`` columns changes between them ("sign(COLUMN)": its sign changes)."""
    n = len(table)
    conn = np.ones(n, bool)
    if n:
        conn[-1] = False
    for b in breaks:
        col = strip_sign(b)
        if col not in table.columns or n < 2:
            continue
        v = np.sign(table.column(col)) if b != col else table.values(col)
        missing = pd.isna(v)                  # a column left empty (NaN) breaks nothing
        conn[:-1] &= (v[1:] == v[:-1]) | (missing[1:] & missing[:-1])
    return conn


def groups_in_order(values: np.ndarray) -> list:
    """Get the distinct values in order of first appearance."""
    return list(pd.unique(values)) if len(values) else []


def run_label(results) -> str:
    """Get a run's legend name: its file's name without the procedure's prefix and suffix
    ("run 20261207_005537"; the whole name is in the queue), short enough for a legend in a
    plot a third of a small screen wide (a longer one overflows the plot and is cut)."""
    stem = Path(results.data_filename).stem
    prefix = f"{getattr(results.procedure, 'NAME', '')}_"
    return "run " + (stem[len(prefix):] if stem.startswith(prefix) and stem != prefix
                     else stem)


def _detach(item) -> None:
    # out of the scene first: a parentless item left in a plot's scene finds the PlotWidget
    # instead of the ViewBox and fails on its next redraw
    if item.scene() is not None:
        item.scene().removeItem(item)
    item.setParentItem(None)


class _Shaded:
    """A run's item whose ``shade_by`` groups are drawn as separate curves in shades of the
    run's colour, then line styles (:func:`~labspin.gui.theme.group_looks`): siblings in the
    view, with legend entries (label, curve); the item itself then draws nothing and
    reports the groups' extent to the view."""

    def _init_shaded(self, view: View, color, linewidth: int):
        self.view, self.color, self.linewidth = view, pg.mkColor(color), linewidth
        self.children_items: list[pg.PlotDataItem] = []
        self.entries: list[tuple[str, pg.PlotDataItem]] = []
        self._own_pen()

    def _own_pen(self) -> None:
        self.setPen(None if self.view.shade_by else pg.mkPen(self.color, width=self.linewidth))

    def _set_groups(self, labels: list[str], datasets: list[dict], symbols: bool) -> None:
        while len(self.children_items) < len(datasets):
            self.children_items.append(new_curve_item())
        while len(self.children_items) > len(datasets):
            _detach(self.children_items.pop())
        for child, look, data in zip(self.children_items,
                                     group_looks(self.color, len(datasets)), datasets):
            # siblings in the view (not children: pyqtgraph's ViewBox finds the bounds and
            # the view range of its direct items)
            if child.parentItem() is not self.parentItem():
                child.setParentItem(self.parentItem())
            child.setZValue(self.zValue() + 1)
            child.setPen(pg.mkPen(look.color, width=self.linewidth, style=look.dash))
            child.setSymbol(look.symbol if symbols else None)
            if symbols:
                child.setSymbolSize(6)
                child.setSymbolPen(None)
                child.setSymbolBrush(look.color)
            set_curve_data(child, **data)
        self.entries = list(zip(labels, self.children_items))
        self.informViewBoundsChanged()

    def dataBounds(self, ax, frac=1.0, orthoRange=None):
        if not self.view.shade_by:
            return super().dataBounds(ax, frac, orthoRange)
        bounds = [c.dataBounds(ax, frac, orthoRange) for c in self.children_items]
        bounds = [b for b in bounds if b[0] is not None]
        if not bounds:
            return None, None
        return min(b[0] for b in bounds), max(b[1] for b in bounds)

    def detach_groups(self) -> None:
        """Take the group curves out of the view (when the item is removed)."""
        for child in self.children_items:
            _detach(child)

    def set_color(self, color) -> None:
        """Set the run's colour (pymeasure's "Change Color")."""
        self.color = pg.mkColor(color)
        self.swatch = None
        self._own_pen()
        self.setSymbolBrush(self.color)
        self.update_data()

    def _label(self, value) -> str:
        return f"{split_column(self.view.shade_by)[0]} {format_value(self.view.shade_by, value)}"


class SegmentCurve(_Shaded, pg.PlotDataItem):
    """``view.y`` against ``view.x`` of one run, a new segment wherever a ``breaks`` column
    changes, each ``shade_by`` group in its own shade; symbols (if the view asks for them)
    up to SYMBOLS_MAX points."""

    def __init__(self, results, view: View, wdg, color, linewidth: int = 1):
        super().__init__(antialias=False, downsampleMethod="peak")
        self.results, self.wdg = results, wdg
        self._init_shaded(view, color, linewidth)

    def update_data(self) -> None:
        """Read the run's new lines and redraw."""
        table = live_table(self.results)
        x, y = table.column(self.view.x), table.column(self.view.y)
        conn = segment_connect(table, self.view.breaks)
        symbols = self.view.symbols and len(table) <= SYMBOLS_MAX
        if not self.view.shade_by:
            if symbols != (self.opts["symbol"] is not None):
                self.setSymbol("o" if symbols else None)
                self.setSymbolSize(5)
                self.setSymbolPen(None)
                self.setSymbolBrush(self.color)
            # one unbroken line: pyqtgraph's faster path
            set_curve_data(self, x=x, y=y, connect="all" if conn[:-1].all() else conn)
            return
        set_curve_data(self, x=x, y=y)  # kept for the item's users; drawn by the groups
        labels, datasets = [], []
        values = table.values(self.view.shade_by)
        for g in groups_in_order(values):
            idx = np.flatnonzero(values == g)
            # within a group, a point joins the next group point only if it is the next row
            c = conn[idx] & (np.diff(idx, append=-1) == 1)
            labels.append(self._label(g))
            datasets.append({"x": x[idx], "y": y[idx],
                             "connect": "all" if c[:-1].all() else c})
        self._set_groups(labels, datasets, symbols)


class HistogramCurve(_Shaded, pg.PlotDataItem):
    """Counts of ``view.x`` per bin for one run (steps), per ``shade_by`` group in shades;
    √n bins (5 to MAX_BINS) over the data's range."""

    MAX_BINS = 100

    def __init__(self, results, view: View, wdg, color, linewidth: int = 1):
        super().__init__(antialias=False)
        self.results, self.wdg = results, wdg
        self._init_shaded(view, color, linewidth)

    def update_data(self) -> None:
        """Read the run's new lines and re-bin."""
        table = live_table(self.results)
        v = table.column(self.view.x)
        ok = np.isfinite(v)
        n = int(ok.sum())
        if n == 0:
            self.setData([], [])
            self._set_groups([], [], False)
            return
        nbins = int(np.clip(np.sqrt(n), 5, self.MAX_BINS))
        lo, hi = float(v[ok].min()), float(v[ok].max())
        hi = hi if hi > lo else lo + 1.0
        edges = np.linspace(lo, hi, nbins + 1)
        bins = np.minimum(((v[ok] - lo) / (hi - lo) * nbins).astype(int), nbins - 1)
        self.setData(edges, np.bincount(bins, minlength=nbins), stepMode="center")
        if not self.view.shade_by:
            return
        values = table.values(self.view.shade_by)[ok]
        groups = groups_in_order(values)
        code = np.zeros(n, int)
        for k, g in enumerate(groups):
            code[values == g] = k
        counts = np.bincount(code * nbins + bins, minlength=len(groups) * nbins)
        counts = counts.reshape(len(groups), nbins)
        self._set_groups([self._label(g) for g in groups],
                         [{"x": edges, "y": c, "stepMode": "center"} for c in counts], False)


def _axis_mapping(values: np.ndarray) -> tuple[float, float, bool]:
    """Get (start, pixel width, evenly spaced) for the sorted unique values of an axis."""
    if values.size > 1:
        d = np.diff(values)
        step = float(d.mean())
        if np.all(np.abs(d - step) <= 1e-3 * abs(step)):
            return float(values[0]) - step / 2, step, True
    return -0.5, 1.0, False


class ResultsMap(pg.ImageItem):
    """``view.z`` of one run on the grid of its unique ``view.x`` and ``view.y`` values (NaN,
    i.e. transparent, where nothing was measured yet). Evenly spaced axes are drawn in their
    units; others by index with the values as tick labels."""

    def __init__(self, results, view: View, wdg, color, linewidth: int = 1):
        super().__init__(axisOrder="col-major")
        self.results, self.view, self.wdg = results, view, wdg
        self.color = pg.mkColor(color)
        self.entries: list = []
        self.z_range: tuple[float, float] | None = None
        self.ticks: dict[str, list | None] = {"bottom": None, "left": None}

    def set_color(self, color) -> None:
        """Keep the run's colour (the map uses its colour map)."""
        self.color = pg.mkColor(color)

    def update_data(self) -> None:
        """Re-read the run's data and re-grid it."""
        table = live_table(self.results)
        x, y, z = (table.column(c) for c in (self.view.x, self.view.y, self.view.z))
        ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(z)
        if not ok.any():
            return
        ux, ix = np.unique(x[ok], return_inverse=True)
        uy, iy = np.unique(y[ok], return_inverse=True)
        img = np.full((ux.size, uy.size), np.nan)
        img[ix, iy] = z[ok]
        self.z_range = (float(np.nanmin(img)), float(np.nanmax(img)))
        if self.z_range[1] <= self.z_range[0]:
            self.z_range = (self.z_range[0] - 0.5, self.z_range[0] + 0.5)
        self.setImage(img, levels=self.z_range, autoLevels=False)
        (x0, dx, xeven), (y0, dy, yeven) = _axis_mapping(ux), _axis_mapping(uy)
        self.setRect(QtCore.QRectF(x0, y0, dx * ux.size, dy * uy.size))
        self.ticks = {"bottom": None if xeven else _index_ticks(self.view.x, ux),
                      "left": None if yeven else _index_ticks(self.view.y, uy)}
        if self.view.y_label_by:
            first = np.zeros(uy.size, int)
            rows = np.flatnonzero(ok)
            first[iy[::-1]] = rows[::-1]                 # the first row of each image row
            labels = table.values(self.view.y_label_by)[first]
            pos = uy if yeven else np.arange(uy.size, dtype=float)
            step = max(1, int(np.ceil(uy.size / 12)))
            self.ticks["left"] = [[(float(pos[i]), format_value(self.view.y_label_by,
                                                                labels[i]))
                                   for i in range(0, uy.size, step)]]


def _index_ticks(column: str, values: np.ndarray, most: int = 8) -> list:
    step = max(1, int(np.ceil(values.size / most)))
    return [[(float(i), format_value(column, values[i])) for i in range(0, values.size, step)]]


def view_title(view: View, default: View) -> str:
    """Get a plot's title: its own (``default``'s) or one naming the chosen columns."""
    if view == default:
        return default.title
    name = {c: split_column(c)[0] for c in (view.x, view.y, view.z)}
    return {"curve": f"{name[view.y]} vs {name[view.x]}", "histogram":
            f"{name[view.x]} histogram", "image": f"{name[view.z]} map"}[view.kind]


ITEM_CLASSES = {"curve": SegmentCurve, "histogram": HistogramCurve, "image": ResultsMap}


class ViewDock(TabWidget, QtWidgets.QWidget):
    """The plots of a procedure window: one dock per :class:`View`, one item per run and view.

    Follows pymeasure's TabWidget protocol (``new_curve``/``load``/``remove``/``set_color``)
    so the Manager adds, removes and finally updates the items; a timer re-reads the files
    of running experiments every ``refresh_s`` seconds. Above each plot, an AxisChooser
    picks its columns among ``columns`` (default: those the views read); ``views`` holds
    the views as chosen now.
    """

    def __init__(self, name: str, views: tuple[View, ...], linewidth: int = 1,
                 refresh_s: float = 0.2, columns: list[str] | None = None, parent=None):
        super().__init__(name, parent)
        self.views, self.linewidth = list(views), linewidth
        columns = list(columns) if columns is not None else list(
            dict.fromkeys(c for v in views for c in v.columns()))
        self.choosers: list[AxisChooser] = []
        self.docks: list[Dock] = []
        self.items: list = []
        self.plots: list[pg.PlotItem] = []
        self.legends: list[pg.LegendItem | None] = []
        self.colorbars: list[pg.ColorBarItem | None] = []
        self._legend_keys: list = []
        self.dock_area = DockArea()
        self.plot_widgets: list[pg.PlotWidget] = []
        for view in views:
            pw = pg.PlotWidget()
            plot = pw.getPlotItem()
            # no grid by default (as pymeasure's plots): with 10^5 points redrawn five times a
            # second it doubles the cost of a redraw; right click > Plot Options > Grid
            self._label(plot, "bottom", view.x)
            self._label(plot, "left", view.y_label_by or view.y)
            legend = plot.addLegend(offset=(-10, 10), labelTextSize=LEGEND_FONT,
                                    verSpacing=-6) if view.shade_by else None
            dock = Dock(view.title, size=(400, 300), closable=False)
            chooser = AxisChooser(view, columns)
            k = len(self.plots)
            chooser.chosen.connect(lambda v, k=k: self.set_view(k, v))
            self.choosers.append(chooser)
            self.docks.append(dock)
            dock.addWidget(chooser)
            dock.addWidget(pw)
            self.dock_area.addDock(dock, "bottom" if len(self.plots) % 2 == 0 else "right")
            self.plot_widgets.append(pw)
            self.plots.append(plot)
            self.legends.append(legend)
            self.colorbars.append(None)
            self._legend_keys.append(None)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scrolling(self.dock_area, 300, 200))   # narrow windows: scrolls
        self.apply_theme()
        self.timer = QtCore.QTimer(self)
        self.timer.timeout.connect(self.refresh)
        self.timer.start(int(refresh_s * 1000))

    def apply_theme(self) -> None:
        """Draw the plots in the application palette's colours (light or dark): its base
        behind the data, its text colour for axes, labels and legends."""
        background, foreground = plot_colours()
        for pw, plot, legend, view in zip(self.plot_widgets, self.plots, self.legends,
                                          self.views):
            pw.setBackground(background)
            for side in ("left", "bottom", "right", "top"):
                axis = plot.getAxis(side)
                axis.setPen(foreground)
                axis.setTextPen(foreground)
            self._label(plot, "bottom", view.x)
            self._label(plot, "left", view.y_label_by or view.y)
            if legend is not None:
                legend.setLabelTextColor(foreground)
                fill = QtGui.QColor(background)
                fill.setAlpha(200)
                legend.setBrush(pg.mkBrush(fill))
                legend.setPen(pg.mkPen(foreground))
                self._legend_keys[self.legends.index(legend)] = None   # redraw its labels

    def changeEvent(self, event):  # noqa: N802 — Qt's name
        """Follow a change of the system's (or the application's) light or dark theme."""
        if event.type() in (QtCore.QEvent.Type.PaletteChange,
                            QtCore.QEvent.Type.ApplicationPaletteChange) and self.plots:
            self.apply_theme()
            for item in list(self.items):
                self._after_update(item.dock_index, item)
        super().changeEvent(event)

    @staticmethod
    def _label(plot: pg.PlotItem, side: str, column: str) -> None:
        name, unit = split_column(column)
        axis = plot.getAxis(side)
        if unit in SI_UNITS:
            axis.enableAutoSIPrefix(True)
            plot.setLabel(side, name, units=unit)
        else:
            axis.enableAutoSIPrefix(False)
            plot.setLabel(side, f"{name} ({unit})" if unit else name)

    # --- pymeasure's TabWidget protocol -------------------------------------------------
    def new_curve(self, results, color=None, **kwargs):
        """Get one item per view for a run (``results``) in ``color`` (default: the first
        run colour of the theme)."""
        color = run_colour(0) if color is None else color
        items = []
        for k, v in enumerate(self.views):
            item = ITEM_CLASSES[v.kind](results, v, self, color, self.linewidth)
            item.dock_index = k
            items.append(item)
        return items

    def set_view(self, k: int, view: View) -> None:
        """Show ``view`` (other columns of the same kind) in plot ``k``: every run's item
        there re-reads its file in those columns; axes relabelled, range fitted anew."""
        self.views[k] = view
        self.docks[k].setTitle(view_title(view, self.choosers[k].default_view))
        plot = self.plots[k]
        if view.kind != "image":
            self._label(plot, "bottom", view.x)
            self._label(plot, "left", view.y_label_by or view.y)
        for item in self.items:
            if item.dock_index == k:
                item.view = view
                item.update_data()
                self._after_update(k, item)
        plot.enableAutoRange()

    def load(self, item) -> None:
        """Show an item and read its data."""
        k = item.dock_index
        self.plots[k].addItem(item)
        self.items.append(item)
        item.update_data()
        if isinstance(item, ResultsMap):
            self._attach_colorbar(k, item)
        self._after_update(k, item)

    def remove(self, item) -> None:
        """Hide an item."""
        k = item.dock_index
        self.plots[k].removeItem(item)
        if hasattr(item, "detach_groups"):
            item.detach_groups()
        if item in self.items:
            self.items.remove(item)
        shown = self._legend_keys[k]
        if self.legends[k] is not None and shown is not None and shown[0] is item:
            self.legends[k].clear()
            self._legend_keys[k] = None

    def set_color(self, item, color) -> None:
        item.set_color(color)
        self._legend_keys[item.dock_index] = None          # the run's entry in its colour
        self._after_update(item.dock_index, item)

    def clear_widget(self) -> None:
        """Remove every item."""
        for item in list(self.items):
            self.remove(item)

    # --- refresh ------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the files of running experiments and redraw their items."""
        for item in list(self.items):
            if item.results.procedure.status == Procedure.RUNNING:
                item.update_data()
                self._after_update(item.dock_index, item)

    def update_all(self) -> None:
        """Re-read every shown item (used after loading or when a run ends)."""
        for item in list(self.items):
            item.update_data()
            self._after_update(item.dock_index, item)

    def _after_update(self, k: int, item) -> None:
        if isinstance(item, ResultsMap):
            if item.z_range is not None and self.colorbars[k] is not None:
                self.colorbars[k].setLevels(item.z_range)
            for side, ticks in item.ticks.items():
                self.plots[k].getAxis(side).setTicks(ticks)
            return
        legend = self.legends[k]
        if legend is None:
            return
        labels = tuple(label for label, _ in item.entries)
        key = (item, labels, tuple(id(c) for _, c in item.entries))
        if self._legend_keys[k] is not None and self._legend_keys[k][0] is item \
                and self._legend_keys[k][1:] == key[1:]:
            return
        legend.clear()
        if getattr(item, "swatch", None) is None:     # the run's own entry, in its colour
            item.swatch = pg.PlotDataItem(pen=pg.mkPen(item.color, width=3))
        legend.addItem(item.swatch, run_label(item.results))
        shown = item.entries[:LEGEND_MAX - 2] if len(item.entries) > LEGEND_MAX - 1 \
            else item.entries
        for label, child in shown:
            legend.addItem(child, label)
        if len(item.entries) > len(shown):
            legend.addItem(pg.PlotDataItem(pen=None), f"… {len(item.entries) - len(shown)} "
                                                      "more")
        self._legend_keys[k] = key

    def _attach_colorbar(self, k: int, item: ResultsMap) -> None:
        if self.colorbars[k] is None:
            bar = pg.ColorBarItem(colorMap=pg.colormap.get("viridis"), interactive=False,
                                  width=15)
            bar.setImageItem(item, insert_in=self.plots[k])
            self.colorbars[k] = bar
        else:
            self.colorbars[k].setImageItem(item)
