"""Analysis of a magnet calibration: slope (T/A), remanence, the calibration table on a
common current grid, and writing that table into a bench config file.

Model (an iron yoke with remanence): on the up branch (current increasing) B = k·I + c − B_r,
on the down branch B = k·I + c + B_r; B_r is half the gap between the branches at zero
current, c the gaussmeter's zero offset (plus any asymmetry). Right after a reversal the yoke
travels a minor loop (the field stays put for a current change of about 2·B_r/k); those points
belong to neither branch and are left out of the fit and of the table (the table there is the
branch's straight-line continuation through its nearest points).
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from labspin.bench.calibration import MagnetCalibration
from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs

FIELD = "Field (T)"
BRANCH = "Branch"


def _current_column(df: pd.DataFrame) -> str:
    for c in ("Current setpoint (A)", "Supply current (A)"):
        if c in df.columns:
            return c
    raise KeyError("a magnet-calibration table needs 'Supply current (A)' (or "
                   "'Current setpoint (A)'), 'Field (T)' and 'Branch' (+1 up, −1 down)")


def _branches(df: pd.DataFrame):
    col = _current_column(df)
    for c in (FIELD, BRANCH):
        if c not in df.columns:
            raise KeyError(f"a magnet-calibration table needs the column {c!r}")
    d = df[[col, FIELD, BRANCH]].apply(pd.to_numeric, errors="coerce").dropna()
    i, b, br = (d[c].to_numpy(float) for c in (col, FIELD, BRANCH))
    up, down = br > 0, br < 0
    if up.sum() < 3 or down.sum() < 3:
        raise ValueError("need at least 3 points on each branch (Branch +1 up, −1 down)")
    return i, b, up, down


def _joint_fit(i, b, up, down, mask):
    """Least squares B = k·I + a_up·[up] + a_down·[down] over ``mask``; get (params, cov,
    residual rms). The covariance is the heteroscedasticity-consistent sandwich (HC1): a
    gaussmeter's noise grows with its range, so the large fields that set the slope are
    noisier than the average residual."""
    x = np.column_stack([i, up.astype(float), down.astype(float)])[mask]
    y = b[mask]
    p, *_ = np.linalg.lstsq(x, y, rcond=None)
    res = y - x @ p
    bread = np.linalg.inv(x.T @ x)
    meat = (x * res[:, None] ** 2).T @ x
    cov = bread @ meat @ bread * y.size / max(1, y.size - 3)
    return p, cov, float(np.sqrt(np.mean(res ** 2)))


def _fit(df: pd.DataFrame, fit_max_current_A: float | None = None):
    """Get (i, b, up, down, kept mask, params, cov, rms): the joint fit without the minor-loop
    points after each reversal (found with a first fit over the inner half of the range)."""
    i, b, up, down = _branches(df)
    sel = up | down
    imax = np.abs(i[sel]).max()
    window = sel & (np.abs(i) <= (fit_max_current_A if fit_max_current_A else imax) + 1e-12)
    p, _, _ = _joint_fit(i, b, up, down, window & (np.abs(i) <= 0.5 * imax + 1e-12))
    k, a_up, a_down = p
    zone = 1.25 * max(0.0, a_down - a_up) / abs(k)          # 2·B_r/k with a margin
    turn_down, turn_up = i[down].max(), i[up].min()         # where each branch starts
    keep = window & ~(down & (i > turn_down - zone)) & ~(up & (i < turn_up + zone))
    p, cov, rms = _joint_fit(i, b, up, down, keep)
    return i, b, up, down, keep, p, cov, rms


def analyze_calibration(df: pd.DataFrame, fit_max_current_A: float | None = None) -> dict:
    """Get design.md's keys from a magnet-calibration table: ``tesla_per_A`` (common slope of
    both branches), ``mu0_remanence_T`` (half the gap between the branches at zero current),
    ``mu0_offset_T`` (mean of the branches at zero current: gaussmeter zero offset), each with
    ``_err`` (one standard error from the fit covariance, scaled by the residuals, i.e. the
    gaussmeter noise), and ``residual_rms_T``. fit_max_current_A: fit only |I| ≤ this (the
    linear part of a magnet that saturates)."""
    *_, keep, p, cov, rms = _fit(df, fit_max_current_A)
    k, a_up, a_down = p
    g = np.array([0.0, -0.5, 0.5])       # d(remanence)/d(params)
    o = np.array([0.0, 0.5, 0.5])
    out = {"tesla_per_A": k, "tesla_per_A_err": np.sqrt(cov[0, 0]),
           "mu0_remanence_T": 0.5 * (a_down - a_up), "mu0_remanence_T_err": np.sqrt(g @ cov @ g),
           "mu0_offset_T": 0.5 * (a_down + a_up), "mu0_offset_T_err": np.sqrt(o @ cov @ o),
           "residual_rms_T": rms}
    return {key: float(v) for key, v in out.items()}


def _branch_on_grid(i: np.ndarray, b: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Get one branch's field on the grid: its points averaged per current and interpolated;
    outside their range, the straight line through the nearest three points."""
    u, inv = np.unique(np.round(i, 12), return_inverse=True)
    f = np.bincount(inv, weights=b) / np.bincount(inv)
    out = np.interp(grid, u, f)
    n = min(3, u.size)
    lo, hi = grid < u[0], grid > u[-1]
    if lo.any():
        c = np.polyfit(u[:n], f[:n], 1)
        out[lo] = np.polyval(c, grid[lo])
    if hi.any():
        c = np.polyfit(u[-n:], f[-n:], 1)
        out[hi] = np.polyval(c, grid[hi])
    return out


def calibration_table(df: pd.DataFrame) -> dict:
    """Get the bench config's [magnet.calibration] table — ``{"current_A", "field_up_T",
    "field_down_T"}``, lists on a common current grid, strictly increasing (the format of
    :meth:`labspin.drivers.electromagnet.MagnetCalibration.to_dict`) — from a
    magnet-calibration table.

    The grid is the set of currents both branches were measured at (the setpoints), over the
    range both cover; minor-loop points after a reversal are replaced by the branch's
    straight-line continuation. Raises ValueError if a branch is not strictly increasing on
    the grid (a current step too small for the gaussmeter noise).
    """
    i, b, up, down, keep, *_ = _fit(df)
    lo = max(i[up].min(), i[down].min())
    hi = min(i[up].max(), i[down].max())
    grid = np.unique(np.round(i[(up | down) & (i >= lo - 1e-12) & (i <= hi + 1e-12)], 9))
    if "Current setpoint (A)" not in df.columns:        # measured currents: a regular grid
        n = int(np.median([np.unique(np.round(i[m], 9)).size for m in (up, down)]))
        grid = np.linspace(lo, hi, max(2, n))
    f_up = _branch_on_grid(i[up & keep], b[up & keep], grid)
    f_down = _branch_on_grid(i[down & keep], b[down & keep], grid)
    for name, f in (("up", f_up), ("down", f_down)):
        if np.any(np.diff(f) <= 0):
            k = int(np.argmax(np.diff(f) <= 0))
            raise ValueError(f"the {name} branch does not increase strictly between "
                             f"{grid[k]:g} A and {grid[k + 1]:g} A ({f[k]:g} T, {f[k + 1]:g} T): "
                             "use a larger current step or more readings per point")
    return MagnetCalibration(grid, f_up, f_down).to_dict()


# --- writing the table into a bench config -----------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*[A-Za-z_\"'][^\]]*\]\]?\s*(#.*)?$")
_CAL_HEADER = re.compile(r"^\s*\[\s*magnet\s*\.\s*calibration\s*\]\s*(#.*)?$")
_MAGNET_HEADER = re.compile(r"^\s*\[\s*magnet\s*\]\s*(#.*)?$")


def calibration_toml(table: dict, per_line: int = 6) -> str:
    """Get the TOML text of a [magnet.calibration] table (header included)."""
    lines = ["[magnet.calibration]"]
    for key in ("current_A", "field_up_T", "field_down_T"):
        vals = [repr(float(v)) for v in table[key]]
        rows = [", ".join(vals[k:k + per_line]) for k in range(0, len(vals), per_line)]
        lines.append(f"{key} = [\n    " + ",\n    ".join(rows) + ",\n]")
    return "\n".join(lines) + "\n"


def _section_end(lines: list[str], start: int) -> int:
    for k in range(start + 1, len(lines)):
        if _HEADER.match(lines[k]):
            return k
    return len(lines)


def write_calibration(path: str | Path, table: dict, *, backup: bool = True) -> Path:
    """Write ``table`` (from :func:`calibration_table`) as the [magnet.calibration] of the
    bench config at ``path``: the existing table is replaced (or one is added after [magnet]),
    everything else is kept as written. The result is read back and checked before it
    replaces the file (atomically); the old file is kept as ``PATH.bak`` with backup=True.
    Raises ValueError if the file has no [magnet] table, gives the calibration inline, or the
    table is not a valid calibration. Get the path written."""
    path = Path(path)
    cal = MagnetCalibration(table["current_A"], table["field_up_T"], table["field_down_T"])
    table = cal.to_dict()
    text = path.read_text(encoding="utf-8")
    old = tomllib.loads(text)
    if not isinstance(old.get("magnet"), dict):
        raise ValueError(f"{path}: no [magnet] table to put the calibration in")
    lines = text.splitlines(keepends=True)
    new_block = calibration_toml(table)
    cal_at = [k for k, ln in enumerate(lines) if _CAL_HEADER.match(ln)]
    if cal_at:
        start = cal_at[0]
        end = _section_end(lines, start)
        new_lines = lines[:start] + [new_block, "\n"] + lines[end:]
    else:
        if "calibration" in old["magnet"]:
            raise ValueError(f"{path}: magnet.calibration is given inline; make it a "
                             "[magnet.calibration] table to have it replaced")
        mag = [k for k, ln in enumerate(lines) if _MAGNET_HEADER.match(ln)]
        if not mag:
            raise ValueError(f"{path}: [magnet] is not a table header this writer can find")
        end = _section_end(lines, mag[0])
        head = lines[:end]
        if head and not head[-1].endswith("\n"):
            head[-1] += "\n"
        new_lines = head + ["\n", new_block, "\n"] + lines[end:]
    new_text = "".join(new_lines)
    new = tomllib.loads(new_text)
    if new["magnet"].get("calibration") != table:
        raise ValueError(f"{path}: the written calibration does not read back (not written)")
    strip = lambda d: {**d, "magnet": {k: v for k, v in d["magnet"].items()  # noqa: E731
                                       if k != "calibration"}}
    if strip(new) != strip(old):
        raise ValueError(f"{path}: replacing the calibration would change other keys "
                         "(not written)")
    if backup:
        path.with_name(path.name + ".bak").write_text(text, encoding="utf-8")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m labspin.procedures.magnet_calibration_analysis RESULTS.csv BENCH.toml``:
    write the calibration measured in RESULTS into the bench config (keeping BENCH.toml.bak)."""
    import argparse
    import json
    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("results")
    ap.add_argument("bench")
    a = ap.parse_args(argv)
    df = pd.read_csv(a.results, comment="#")
    print(json.dumps(analyze_calibration(df), indent=2))
    print(write_calibration(a.bench, calibration_table(df)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


NEEDS = Needs(columns=(
    Column("Supply current (A)", "magnet supply current, A", ("Current setpoint (A)",)),
    Column(FIELD, "gaussmeter reading μ0H, T", FIELD_ALTERNATIVES),
    Column(BRANCH, "+1 on the up sweep, −1 on the down sweep", required=False),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
