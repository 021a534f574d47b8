"""What a procedure's GUI window plots: one :class:`View` per dock (plain data, no Qt; each
procedure's views are in its :mod:`labspin.procedures.registry` entry).

A view draws the columns of the results file: a curve (``x`` against ``y``, a new line
segment wherever one of the ``breaks`` changes, each group of ``shade_by`` in its own shade
of the run's colour, with a legend), a histogram of ``x`` (counts per bin, per ``shade_by``
group), or an image (``z`` on the grid of the unique ``x`` and ``y`` values).
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class View:
    """One plot of a procedure window.

    kind: "curve", "histogram" or "image"; x, y, z: column names ("Name (unit)"); breaks:
    columns whose change starts a new line segment ("sign(COLUMN)" breaks where the column
    changes sign); shade_by: a column whose groups get their own shade and legend entry;
    symbols: draw the points (for measurements with few points); y_label_by (images): label
    the y ticks with this column's value in each row of the image (e.g. each spectrum's
    current).
    """
    title: str
    x: str
    y: str = ""
    kind: str = "curve"
    z: str = ""
    breaks: tuple[str, ...] = ()
    shade_by: str = ""
    symbols: bool = False
    y_label_by: str = ""

    def columns(self) -> list[str]:
        """Get the data columns this view reads (pseudo-columns resolved)."""
        cols = [self.x, self.y, self.z, self.shade_by, self.y_label_by, *self.breaks]
        return [strip_sign(c) for c in cols if c and c != "Counts"]


def strip_sign(column: str) -> str:
    """Get COLUMN from "sign(COLUMN)" (or the name itself)."""
    return column[5:-1] if column.startswith("sign(") and column.endswith(")") else column
