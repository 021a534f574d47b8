"""The field (μ0·H, T) of a file that recorded only the magnet's current:
``labspin analyze … --field-from-current SPEC`` turns the column "Magnet current (A)" (map
yours onto it with ``--column``) into "Field (T)".

SPEC is one of
    * ``SLOPE_T_PER_A[,OFFSET_T]``: B = slope·I + offset (a linear magnet);
    * ``FILE[,UNIT]``: a calibration table, read by :func:`read_calibration`: labspin's own
      magnet-calibration results (up and down branches: the branch of each point is chosen
      from the sweep direction of the current, as the yoke's hysteresis requires), or a
      table of current then one or more field columns (trials, averaged), e.g.
      ``# current (A)  field (T)``. UNIT names the field unit when the table's header does
      not (``cal.csv,mT``). A table may be nonlinear and saturating: it is interpolated by a
      monotone cubic (PCHIP: no overshoot between points), and a current outside the table
      is refused, never extrapolated.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from labspin.results.formats import numeric, split_table
from labspin.results.reader import read_table
from labspin.results.sweep_direction import sweep_branches
from labspin.results.units import factor, split_unit

MAGNET_CURRENT = "Magnet current (A)"
FIELD = "Field (T)"
LABSPIN_CURRENTS = ("Current setpoint (A)", "Supply current (A)")
"""Current columns of labspin's magnet-calibration results, the set point preferred."""


@dataclass(frozen=True)
class CurrentToField:
    """A magnet's current → field law: linear (``slope_T_per_A``, ``offset_T``) or a table
    (``current_A`` increasing, ``field_up_T`` and ``field_down_T`` on it; equal for a table
    with one branch). ``source`` says where it came from, for messages."""
    source: str
    slope_T_per_A: float = float("nan")
    offset_T: float = 0.0
    current_A: np.ndarray | None = None
    field_up_T: np.ndarray | None = None
    field_down_T: np.ndarray | None = None

    @property
    def hysteretic(self) -> bool:
        return self.current_A is not None and not np.array_equal(self.field_up_T,
                                                                 self.field_down_T)

    def field(self, current_A) -> np.ndarray:
        """Get μ0·H (T) at each current (A), in the order measured (the order picks the
        branch of a hysteretic table). Raises ValueError for a current outside the table."""
        i = np.asarray(current_A, float)
        if self.current_A is None:
            return self.slope_T_per_A * i + self.offset_T
        lo, hi = self.current_A[0], self.current_A[-1]
        bad = np.isfinite(i) & ((i < lo - 1e-12 * abs(lo)) | (i > hi + 1e-12 * abs(hi)))
        if bad.any():
            k = int(np.argmax(bad))
            raise ValueError(f"magnet current {i[k]:g} A (row {k + 1}) is outside the "
                             f"calibration {self.source} ({lo:g} A to {hi:g} A): not "
                             "extrapolated; calibrate over the whole range")
        from scipy.interpolate import PchipInterpolator
        up = PchipInterpolator(self.current_A, self.field_up_T)(i)
        if not self.hysteretic:
            return up
        down = PchipInterpolator(self.current_A, self.field_down_T)(i)
        return np.where(sweep_branches(i) < 0, down, up)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_field_from_current(spec: str) -> CurrentToField:
    """Get the law of ``--field-from-current SPEC`` (see the module notes); ValueError with
    the expected forms when SPEC is neither numbers nor a readable table."""
    parts = [p.strip() for p in spec.split(",")]
    if _number(parts[0]) is not None:
        nums = [_number(p) for p in parts]
        if len(nums) > 2 or None in nums or not all(np.isfinite(nums)) or nums[0] == 0:
            raise ValueError(f"--field-from-current {spec!r}: expected SLOPE_T_PER_A"
                             "[,OFFSET_T] (a non-zero slope in T/A, an offset in T) or "
                             "FILE[,FIELD_UNIT]")
        return CurrentToField(f"B = {nums[0]:g} T/A · I + {nums[1] if len(nums) > 1 else 0:g} T",
                              slope_T_per_A=nums[0], offset_T=nums[1] if len(nums) > 1 else 0.0)
    if len(parts) > 2:
        raise ValueError(f"--field-from-current {spec!r}: expected FILE[,FIELD_UNIT]")
    return read_calibration(parts[0], parts[1] if len(parts) > 1 else None)


def _on_grid(i: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Get (currents, fields) averaged per distinct current, sorted by current."""
    ok = np.isfinite(i) & np.isfinite(b)
    u, inv = np.unique(np.round(i[ok], 12), return_inverse=True)
    return u, np.bincount(inv, weights=b[ok]) / np.bincount(inv)


def _numeric_table(path: Path) -> tuple[list[str], np.ndarray]:
    """Get (header names, rows) of a numeric table, split as ``labspin analyze --format
    columns`` splits any lab's table (:func:`labspin.results.formats.split_table`); a cell
    that is not a number is an error naming its row and line."""
    raw = split_table(path, "columns")
    names = [str(n) for n in raw.names]
    columns = [numeric([r[j] if j < len(r) else "" for r in raw.rows], names[j] or
                       f"column {j + 1}", raw.lines, path) for j in range(len(names))]
    rows = np.column_stack(columns) if columns else np.empty((0, 0))
    if len(rows) < 2 or rows.shape[1] < 2 or np.isnan(rows).any():
        raise ValueError(f"{path}: a calibration table needs ≥ 2 rows of current and field "
                         "(same number of columns in each)")
    return names, rows


def _labspin_calibration(path: Path, df: pd.DataFrame) -> CurrentToField:
    col = next(c for c in LABSPIN_CURRENTS if c in df.columns)
    d = df[[col, FIELD, "Branch"]].apply(pd.to_numeric, errors="coerce").dropna()
    i, b, br = (d[c].to_numpy(float) for c in (col, FIELD, "Branch"))
    up_i, up_b = _on_grid(i[br > 0], b[br > 0])
    dn_i, dn_b = _on_grid(i[br < 0], b[br < 0])
    if up_i.size < 2 or dn_i.size < 2:
        raise ValueError(f"{path}: needs points on both branches (Branch +1 and −1)")
    grid = np.union1d(up_i, dn_i)
    grid = grid[(grid >= max(up_i[0], dn_i[0])) & (grid <= min(up_i[-1], dn_i[-1]))]
    return CurrentToField(f"table {path.name}", current_A=grid,
                          field_up_T=np.interp(grid, up_i, up_b),
                          field_down_T=np.interp(grid, dn_i, dn_b))


def read_calibration(path: str | Path, field_unit: str | None = None) -> CurrentToField:
    """Get the law of a calibration table (see the module notes): labspin's
    magnet-calibration results (columns 'Supply current (A)' or 'Current setpoint (A)',
    'Field (T)', 'Branch'), or current (A unless its header names another unit) and one or
    more field columns, in the unit their header names or ``field_unit``. Raises
    ValueError naming the file and what it lacks."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--field-from-current: no file {str(path)!r} (and not a slope "
                         "in T/A)")
    try:
        df = read_table(path, add_constants=False)
    except (UnicodeDecodeError, ValueError, csv.Error):
        df = pd.DataFrame()
    if {FIELD, "Branch"} <= set(df.columns) and any(c in df.columns for c in LABSPIN_CURRENTS):
        return _labspin_calibration(path, df)
    header, rows = _numeric_table(path)
    names = header if len(header) == rows.shape[1] else [""] * rows.shape[1]
    i_unit = split_unit(names[0])[1] or "A"
    units = {split_unit(n)[1] for n in names[1:]}
    if len(units) > 1 and "" in units:
        units.discard("")
    if len(units) > 1:
        raise ValueError(f"{path}: the field columns have different units {sorted(units)}")
    unit = units.pop()
    if field_unit and unit and factor(field_unit, unit) != 1.0:
        raise ValueError(f"{path}: the header says the field is in {unit}, the option "
                         f"says {field_unit}")
    unit = unit or field_unit
    if not unit:
        raise ValueError(f"{path}: the header names no field unit; give it, e.g. "
                         f"--field-from-current '{path},mT'")
    try:
        k_field, k_current = factor(unit, "T"), factor(i_unit, "A")
    except (KeyError, ValueError) as e:
        raise ValueError(f"{path}: {e.args[0]}") from None
    i, b = _on_grid(rows[:, 0] * k_current, rows[:, 1:].mean(axis=1) * k_field)
    if i.size < 2:
        raise ValueError(f"{path}: needs at least two distinct currents")
    return CurrentToField(f"table {path.name}", current_A=i, field_up_T=b, field_down_T=b)


def apply_field_from_current(df: pd.DataFrame, law: CurrentToField) -> pd.DataFrame:
    """Get ``df`` with the column 'Field (T)' computed from 'Magnet current (A)' by ``law``.
    Raises ValueError if there is no magnet current, or there already is a field."""
    if MAGNET_CURRENT not in df.columns:
        raise ValueError(f"--field-from-current needs the column {MAGNET_CURRENT!r}; map "
                         f"yours with --column \"{MAGNET_CURRENT}=NAME\" (columns: "
                         f"{', '.join(map(str, df.columns))})")
    if FIELD in df.columns:
        raise ValueError(f"--field-from-current: the file already has {FIELD!r}; drop one "
                         "of the two")
    out = df.copy()
    current = pd.to_numeric(out[MAGNET_CURRENT], errors="coerce").to_numpy(float)
    out[FIELD] = law.field(current)
    return out
