"""Colours the plots use, following the system's light or dark palette: run colours from
Okabe & Ito's colour-blind-safe set (the one that reads on the background first), groups in
shades of their run's colour kept apart from the background, axes and legend in the palette's
text colour on its base colour."""
from __future__ import annotations

import pyqtgraph as pg
from pymeasure.display.Qt import QtGui, QtWidgets

OKABE_ITO_ON_LIGHT = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
                      "#000000")
"""Okabe & Ito (2008) without yellow (too pale on white), black last."""
OKABE_ITO_ON_DARK = ("#56B4E9", "#E69F00", "#009E73", "#CC79A7", "#F0E442", "#D55E00",
                     "#FFFFFF")
"""The same set for dark backgrounds: sky blue and orange first, white for black."""


def palette() -> QtGui.QPalette:
    """Get the application's palette (the system theme, or one set on the application)."""
    app = QtWidgets.QApplication.instance()
    return app.palette() if app is not None else QtGui.QPalette()


def is_dark(pal: QtGui.QPalette | None = None) -> bool:
    """Get whether the palette's base (the plots' background) is dark."""
    return (pal or palette()).color(QtGui.QPalette.ColorRole.Base).lightnessF() < 0.5


def plot_colours(pal: QtGui.QPalette | None = None) -> tuple[QtGui.QColor, QtGui.QColor]:
    """Get (background, foreground) of the plots: the palette's base and text colours."""
    pal = pal or palette()
    return pal.color(QtGui.QPalette.ColorRole.Base), pal.color(QtGui.QPalette.ColorRole.Text)


def run_colour(k: int, dark: bool | None = None) -> QtGui.QColor:
    """Get the colour of the ``k``-th run (0-based) on a light or ``dark`` background."""
    colours = OKABE_ITO_ON_DARK if (is_dark() if dark is None else dark) else \
        OKABE_ITO_ON_LIGHT
    return pg.mkColor(colours[k % len(colours)])


def shades(color, count: int, dark: bool | None = None) -> list[QtGui.QColor]:
    """Get ``count`` shades of ``color`` (one: the colour itself), spread away from the
    background: on a light one from the colour darker, to 45 % of its value (never pale);
    on a dark one from 70 % brightness, saturated, to full brightness, paler (never dim)."""
    base = pg.mkColor(color)
    if count <= 1:
        return [base]
    dark = is_dark() if dark is None else dark
    h, s, v, a = base.getHsvF()
    h = max(h, 0.0)
    out = []
    for k in range(count):
        t = k / (count - 1)
        if dark:
            out.append(QtGui.QColor.fromHsvF(h, s * (1.0 - 0.5 * t), 0.7 + 0.3 * t, a))
        else:
            top = min(max(v, 0.35), 0.9)
            out.append(QtGui.QColor.fromHsvF(h, s, top * (1.0 - 0.55 * t), a))
    return out
