"""What each procedure's window plots: one :class:`View` per dock (no Qt here).

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


_STFMR_SWEEP = ("Frequency (Hz)", "Power (dBm)", "DC current (A)", "sign(Field set (T))")

VIEWS: dict[str, tuple[View, ...]] = {
    "field-sweep": (
        View("R–H loop", "Field (T)", "Resistance (ohm)", breaks=("Probe",)),
        View("Measured field vs setpoint", "Field set (T)", "Field (T)", symbols=True),
    ),
    "current-sweep": (
        View("R–I loops", "Current (A)", "Resistance (ohm)", breaks=("Cycle",),
             shade_by="Cycle"),
        View("V–I", "Current (A)", "Voltage (V)", breaks=("Cycle",), shade_by="Cycle"),
    ),
    "pulse-switching": (
        View("R after each pulse", "Pulse amplitude (V)", "Resistance (ohm)",
             breaks=("Field set (T)", "Cycle"), shade_by="Field set (T)", symbols=True),
        View("R vs pulse current", "Pulse current (A)", "Resistance (ohm)",
             breaks=("Field set (T)", "Cycle"), shade_by="Field set (T)", symbols=True),
    ),
    "switching-probability": (
        View("Switching probability", "Pulse amplitude (V)", "Probability",
             breaks=("Pulse width (s)",), shade_by="Pulse width (s)", symbols=True),
        View("Probability vs pulse current", "Pulse current (A)", "Probability",
             breaks=("Pulse width (s)",), shade_by="Pulse width (s)", symbols=True),
    ),
    "tmr-statistics": (
        View("Resistance reads", "Time (s)", "Resistance (ohm)",
             breaks=("Site", "Gate voltage (V)"), shade_by="Gate voltage (V)"),
        View("Resistance histogram", "Resistance (ohm)", "Counts", kind="histogram",
             shade_by="Gate voltage (V)"),
    ),
    "telegraph-dwell": (
        View("Telegraph traces", "Time (s)", "Resistance (ohm)", breaks=("Trace",),
             shade_by="Bias current (A)"),
        View("Resistance histogram", "Resistance (ohm)", "Counts", kind="histogram",
             shade_by="Bias current (A)"),
    ),
    "magnet-calibration": (
        View("Field vs supply current", "Supply current (A)", "Field (T)",
             breaks=("Branch",), shade_by="Branch", symbols=True),
        View("Field noise", "Supply current (A)", "Field std (T)", breaks=("Branch",),
             shade_by="Branch", symbols=True),
    ),
    "stfmr": (
        View("Vmix vs field, per frequency", "Field (T)", "Vmix (V)", breaks=_STFMR_SWEEP,
             shade_by="Frequency (Hz)"),
        View("Y (quadrature) vs field", "Field (T)", "Y (V)", breaks=_STFMR_SWEEP,
             shade_by="Frequency (Hz)"),
    ),
    "fmr": (View("Lock-in X vs field, per frequency", "Field (T)", "X (V)",
                 breaks=("Frequency (Hz)",), shade_by="Frequency (Hz)"),
            View("Lock-in Y vs field", "Field (T)", "Y (V)", breaks=("Frequency (Hz)",),
                 shade_by="Frequency (Hz)")),
    "harmonic-hall": (
        View("V1ω vs field", "Field (T)", "V1w (V)", breaks=("Field angle (deg)",),
             shade_by="Field angle (deg)"),
        View("V2ω vs field", "Field (T)", "V2w (V)", breaks=("Field angle (deg)",),
             shade_by="Field angle (deg)"),
    ),
    "stno-spectrum": (
        View("Spectrum waterfall (power, dBm)", "Frequency (Hz)", "Trace", kind="image",
             z="Power (dBm)", y_label_by="Current (A)"),
        View("Spectra", "Frequency (Hz)", "Power (dBm)", breaks=("Trace",),
             shade_by="Current (A)"),
    ),
    "kapitza-map": (
        View("Hall resistance map (ohm)", "Current (A)", "Field set (T)", kind="image",
             z="Hall resistance (ohm)"),
        View("Fluctuation map (std, ohm)", "Current (A)", "Field set (T)", kind="image",
             z="Hall resistance std (ohm)"),
        View("Hall resistance vs current, per field", "Current (A)", "Hall resistance (ohm)",
             breaks=("Field set (T)",), shade_by="Field set (T)", symbols=True),
    ),
}
"""The plots of each procedure (keys: labspin.procedures.PROCEDURES)."""


def views_for(name: str, data_columns: list[str]) -> tuple[View, ...]:
    """Get the views of procedure ``name``: its entry in VIEWS, or (for a procedure without
    one) its first data column against each of the next two."""
    if name in VIEWS:
        return VIEWS[name]
    x = data_columns[0]
    return tuple(View(f"{y} vs {x}", x, y) for y in data_columns[1:3])
