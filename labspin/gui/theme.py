"""Colours the plots use, following the system's light or dark palette: run colours from
Okabe & Ito's colour-blind-safe set (the one that reads on the background first), groups in
shades of their run's colour a measured lightness step apart (then line styles and markers),
kept apart from the background, axes and legend in the palette's text colour on its base
colour."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from pymeasure.display.Qt import QtCore, QtGui, QtWidgets

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


MIN_DELTA_L = 15.0
"""Least CIELAB lightness difference (L*, of 100) between two groups of a run drawn in the
same line style: a step every eye sees, colour-blind or not (ΔE76 is at least as large)."""
SHADE_STEP = 20.0
"""The L* step between shades when the range has room (few groups), around the colour."""
LIGHTNESS_ON_LIGHT = (20.0, 65.0)
"""The L* range of shades on a light background: never pale (white is 100), never black."""
LIGHTNESS_ON_DARK = (45.0, 90.0)
"""The L* range of shades on a dark background: never dim."""
DASHES = (QtCore.Qt.PenStyle.SolidLine, QtCore.Qt.PenStyle.DashLine,
          QtCore.Qt.PenStyle.DotLine, QtCore.Qt.PenStyle.DashDotLine,
          QtCore.Qt.PenStyle.DashDotDotLine)
SYMBOLS = ("o", "s", "t", "d", "+", "x")
"""Line styles and markers of the groups beyond a run's distinct shades."""


@dataclass(frozen=True)
class GroupLook:
    """How one group of a run is drawn: ``color``, line ``dash`` and marker ``symbol``."""
    color: QtGui.QColor
    dash: QtCore.Qt.PenStyle
    symbol: str


def lab(color) -> tuple[float, float, float]:
    """Get the CIELAB (L*, a*, b*) of an sRGB colour (D65 white)."""
    c = pg.mkColor(color)
    rgb = np.array([c.redF(), c.greenF(), c.blueF()])
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def delta_e(c1, c2) -> float:
    """Get the CIE76 colour difference ΔE*ab of two colours."""
    return float(np.linalg.norm(np.subtract(lab(c1), lab(c2))))


def _along(base: QtGui.QColor, t: float) -> QtGui.QColor:
    """Get the colour at ``t`` (0 to 1) of a path of ``base``'s hue from dark to light:
    its value rising from 25 % at its saturation, then, at full value, paler (to half its
    saturation: still its hue)."""
    h, s, _, a = base.getHsvF()
    h = max(h, 0.0)
    if t <= 0.5:
        return QtGui.QColor.fromHsvF(h, s, 0.25 + 1.5 * t, a)
    return QtGui.QColor.fromHsvF(h, s * (1.0 - (t - 0.5)), 1.0, a)


def _at_lightness(base: QtGui.QColor, target: float) -> QtGui.QColor:
    lo, hi = 0.0, 1.0                       # L* rises along the path: bisect
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if lab(_along(base, mid))[0] < target else (lo, mid)
    return _along(base, 0.5 * (lo + hi))


def group_looks(color, count: int, dark: bool | None = None) -> list[GroupLook]:
    """Get how to draw ``count`` groups of a run in ``color`` (one: the colour itself):
    shades of its hue at lightness steps of SHADE_STEP around its own, or at least
    MIN_DELTA_L across the background's range (on a light one from light to dark, on a
    dark one from dim to bright), as many
    distinct shades as that range holds; further groups repeat the shades in the next line
    style and marker, so two groups differ in lightness or in style."""
    base = pg.mkColor(color)
    if count <= 1:
        return [GroupLook(base, DASHES[0], SYMBOLS[0])]
    dark = is_dark() if dark is None else dark
    lo, hi = LIGHTNESS_ON_DARK if dark else LIGHTNESS_ON_LIGHT
    lo, hi = max(lo, lab(_along(base, 0.0))[0]), min(hi, lab(_along(base, 1.0))[0])
    levels = max(1, min(count, 1 + int((hi - lo) // MIN_DELTA_L)))
    span = min(hi - lo, (levels - 1) * SHADE_STEP)     # few groups: around the colour
    centre = float(np.clip(lab(base)[0], lo + span / 2, hi - span / 2))
    targets = np.linspace(centre - span / 2, centre + span / 2, levels)
    colours = [_at_lightness(base, t) for t in (targets if dark else targets[::-1])]
    return [GroupLook(colours[k % levels], DASHES[(k // levels) % len(DASHES)],
                      SYMBOLS[(k // levels) % len(SYMBOLS)]) for k in range(count)]
