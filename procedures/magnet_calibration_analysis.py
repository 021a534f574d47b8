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

import fnmatch
import os
import re
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd

from labspin.bench.calibration import MagnetCalibration
from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs
from labspin.results.reader import read_table
from labspin.results.sweep_direction import segments, sweep_branches
from labspin.results.units import factor, split_unit

from .estimates import Option, flag_undetermined, resolve_priors, settings

FIELD = "Field (T)"
BRANCH = "Branch"
CURRENTS = ("Current setpoint (A)", "Supply current (A)", "Magnet current (A)", "Current (A)")
"""Current columns a calibration table may have, the first present is used (labspin's set
point before its measured current)."""
DESCRIPTIVE_KEYS = ("residual_rms_T", "mu0_branch_difference_max_T", "nonlinearity_max_T",
                    "nonlinearity", "max_current_A", "mu0_field_at_max_current_T", "n_trials",
                    "trial_scatter_T", "branches", "warnings")
"""Keys of :func:`analyze_calibration` that describe the table (its residuals, its largest
reading, the spread of its trials), not fitted values: they have no ``_err``."""
NONLINEARITY_WARN = 0.01
"""A table whose field departs from its line by more than 1 % of full scale gets a warning."""


def _current_column(df: pd.DataFrame) -> str:
    for c in CURRENTS:
        if c in df.columns:
            return c
    raise KeyError("a magnet-calibration table needs a current column (one of "
                   f"{', '.join(repr(c) for c in CURRENTS)}) and 'Field (T)' or trial columns "
                   "(--option trials=NAME,NAME or a pattern like trial*)")


def _trial_columns(df: pd.DataFrame, trials: str | None) -> list[str]:
    """Get the field columns: those ``trials`` names (comma-separated names or fnmatch
    patterns), by default 'Field (T)' and its numbered repeats ('Field (T).1', …)."""
    if trials is None:
        cols = [c for c in df.columns if c == FIELD or str(c).startswith(FIELD + ".")]
        if not cols:
            raise KeyError(f"a magnet-calibration table needs the column {FIELD!r} (or "
                           "--option trials=NAME,NAME for several trial columns)")
        return cols
    cols = []
    for pattern in (t.strip() for t in str(trials).split(",")):
        hit = [c for c in df.columns if fnmatch.fnmatchcase(str(c), pattern)]
        if not hit:
            raise KeyError(f"option trials: no column matches {pattern!r}; columns: "
                           f"{', '.join(map(str, df.columns))}")
        cols += [c for c in hit if c not in cols]
    return cols


def calibration_points(df: pd.DataFrame, trials: str | None = None,
                       field_unit: str | None = None):
    """Get (current A, field T, branch, trial number) as flat arrays, one entry per reading:
    each trial column in turn. The branch is the table's 'Branch' (+1 up, −1 down, 0 the
    conditioning leg) or, without one, the sweep direction of the current
    (:func:`~labspin.results.sweep_direction.sweep_branches`), with a first leg that starts
    inside the range (from zero: the virgin curve) set to 0. field_unit: the trial columns'
    unit when their names carry none (default T)."""
    col = _current_column(df)
    cols = _trial_columns(df, trials)
    i = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    if BRANCH in df.columns:
        branch = pd.to_numeric(df[BRANCH], errors="coerce").to_numpy(float)
    else:
        branch = sweep_branches(i).astype(float)
        seg = segments(branch)
        first = seg == 0
        if seg.max() >= 2 and np.abs(i[first][0]) < 0.5 * np.nanmax(np.abs(i)):
            branch[first] = 0.0
    out = []
    for n, c in enumerate(cols):
        unit = field_unit or split_unit(str(c))[1] or "T"
        try:
            k = factor(unit, "T")
        except (KeyError, ValueError) as e:
            raise ValueError(f"field column {c!r}: {e.args[0]}") from None
        b = pd.to_numeric(df[c], errors="coerce").to_numpy(float) * k
        out.append(np.column_stack([i, b, branch, np.full(i.size, n)]))
    a = np.concatenate(out)
    a = a[np.all(np.isfinite(a), axis=1)]
    return a[:, 0], a[:, 1], a[:, 2], a[:, 3].astype(int)


def _has_both_branches(branch: np.ndarray) -> bool:
    return (branch > 0).sum() >= 3 and (branch < 0).sum() >= 3


def _branches(df: pd.DataFrame, **columns):
    i, b, br, _ = calibration_points(df, **columns)
    up, down = br > 0, br < 0
    if not _has_both_branches(br):
        raise ValueError("need at least 3 points on each branch (Branch +1 up, −1 down)")
    return i, b, up, down


def _lstsq_hc1(x: np.ndarray, y: np.ndarray):
    """Least squares y = x·p; get (p, cov, residual rms). The covariance is the
    heteroscedasticity-consistent sandwich (HC1): a gaussmeter's noise grows with its
    range, so the large fields that set the slope are noisier than the average residual."""
    p, *_ = np.linalg.lstsq(x, y, rcond=None)
    res = y - x @ p
    bread = np.linalg.inv(x.T @ x)
    meat = (x * res[:, None] ** 2).T @ x
    cov = bread @ meat @ bread * y.size / max(1, y.size - x.shape[1])
    return p, cov, float(np.sqrt(np.mean(res ** 2)))


def _joint_fit(i, b, up, down, mask):
    """Least squares B = k·I + a_up·[up] + a_down·[down] over ``mask``; get (params, cov,
    residual rms), see :func:`_lstsq_hc1`."""
    x = np.column_stack([i, up.astype(float), down.astype(float)])[mask]
    return _lstsq_hc1(x, b[mask])


def _fit(df: pd.DataFrame, fit_max_current_A: float | None = None, **columns):
    """Get (i, b, up, down, kept mask, params, cov, rms): the joint fit without the minor-loop
    points after each reversal (found with a first fit over the inner half of the range)."""
    i, b, up, down = _branches(df, **columns)
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


def _per_current(i: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Get (distinct currents, mean field at each)."""
    u, inv = np.unique(np.round(i, 12), return_inverse=True)
    return u, np.bincount(inv, weights=b) / np.bincount(inv)


def _nonlinearity(i, b, line, window, warnings: list[str]) -> dict:
    """Get the residual nonlinearity of the per-current mean field against ``line`` (a
    function of I) within the fit ``window``: the largest departure (T, signed) and it over
    the full-scale |B| there; and the table's largest current and the mean |B| there (both
    polarities when both reached it)."""
    u, f = _per_current(i[window], b[window])
    dev = f - line(u)
    k = int(np.argmax(np.abs(dev)))
    frac = float(abs(dev[k]) / np.abs(f).max())
    if frac > NONLINEARITY_WARN:
        warnings.append(f"the field departs from the line by {dev[k]:.3g} T at {u[k]:g} A "
                        f"({100 * frac:.2g} % of full scale): the magnet is not linear over "
                        "the fit range; fit its linear part (fit_max_current_A) and use the "
                        "table itself for fields (--field-from-current FILE)")
    ua, fa = _per_current(i, b)
    ends = np.isclose(np.abs(ua), np.abs(ua).max(), rtol=1e-9, atol=0)
    return {"nonlinearity_max_T": float(dev[k]), "nonlinearity": frac,
            "max_current_A": float(np.abs(ua).max()),
            "mu0_field_at_max_current_T": float(np.abs(fa[ends]).mean())}


def _trial_scatter(i, b, trial, branch) -> dict:
    """Get the pooled standard deviation (T) of the trials at one current on one branch
    (repeatability), with the number of trials; nothing with one trial."""
    if trial.max() == 0:
        return {}
    _, group = np.unique(np.column_stack([np.round(i, 12), branch]), axis=0,
                         return_inverse=True)
    group = group.ravel()
    ss, dof = 0.0, 0
    for v in np.unique(group):
        g = b[group == v]
        ss += float(np.sum((g - g.mean()) ** 2))
        dof += g.size - 1
    return {"n_trials": int(trial.max() + 1),
            "trial_scatter_T": float(np.sqrt(ss / dof)) if dof else float("nan")}


def _single_branch(df, fit_max_current_A, columns) -> dict:
    """Get slope, offset and nonlinearity of a table swept in one direction (or whose
    branches are one: an averaged table)."""
    i, b, branch, trial = calibration_points(df, **columns)
    imax = np.abs(i).max()
    window = np.abs(i) <= (fit_max_current_A if fit_max_current_A else imax) + 1e-12
    if window.sum() < 3:
        raise ValueError("need at least 3 readings within the fit range")
    p, cov, rms = _lstsq_hc1(np.column_stack([i, np.ones(i.size)])[window], b[window])
    warnings: list[str] = []
    out = {"tesla_per_A": p[0], "tesla_per_A_err": np.sqrt(cov[0, 0]),
           "mu0_offset_T": p[1], "mu0_offset_T_err": np.sqrt(cov[1, 1]),
           "residual_rms_T": rms}
    out = {k: float(v) for k, v in out.items()}
    out.update(_nonlinearity(i, b, lambda x: p[0] * x + p[1], window, warnings))
    out.update(_trial_scatter(i, b, trial, branch))
    out["branches"] = 1
    out["warnings"] = warnings
    return out


def _branch_difference(i, b, up, down, keep) -> float:
    """Get the largest |B_down − B_up| (T) at the currents both branches were read at
    (minor-loop points after a reversal left out)."""
    iu, fu = _per_current(i[up & keep], b[up & keep])
    idn, fd = _per_current(i[down & keep], b[down & keep])
    common, a, c = np.intersect1d(iu, idn, return_indices=True)
    return float(np.abs(fd[c] - fu[a]).max()) if common.size else float("nan")


OPTIONS = (
    Option("fit_max_current_A", "A", "fit only |I| ≤ this (the linear part of a magnet that "
           "saturates)", constant=False),
    Option("trials", "", "the field columns: comma-separated names or patterns (trial*); "
           "default 'Field (T)'", constant=False, kind=str),
    Option("field_unit", "", "the trial columns' unit when their names carry none (mT, G, "
           "Oe, …; default T)", constant=False, kind=str),
)


def analyze_calibration(df: pd.DataFrame, **options) -> dict:
    """Get design.md's keys from a magnet-calibration table.

    Both branches (a 'Branch' column, or up and down sweeps found from the current's sweep
    direction): ``tesla_per_A`` (common slope of both branches), ``mu0_remanence_T`` (half
    the gap between the branches at zero current), ``mu0_offset_T`` (mean of the branches
    at zero current: gaussmeter zero offset), each with ``_err`` (one standard error from
    the fit covariance, scaled by the residuals, i.e. the gaussmeter noise),
    ``residual_rms_T`` and ``mu0_branch_difference_max_T`` (the largest measured gap).
    One sweep direction (or an averaged table): ``tesla_per_A``, ``mu0_offset_T`` (the
    line's field at zero current) with ``_err``, ``residual_rms_T``.
    Both: ``nonlinearity_max_T`` (the largest departure of the mean field from the line,
    signed), ``nonlinearity`` (that over the full-scale field), ``max_current_A`` and
    ``mu0_field_at_max_current_T``; with several trials ``n_trials`` and
    ``trial_scatter_T`` (pooled standard deviation at one current); ``branches`` (1 or 2)
    and ``warnings``.

    Options (:data:`OPTIONS`, settings): fit_max_current_A (A), trials, field_unit; an
    unknown name is refused (ValueError naming the known ones).
    """
    resolve_priors(OPTIONS, options)                 # refuses unknown names
    given = settings(OPTIONS, options)
    columns = {"trials": given["trials"], "field_unit": given["field_unit"]}
    fit_max_current_A = given["fit_max_current_A"] or None
    if not _has_both_branches(calibration_points(df, **columns)[2]):
        return _flagged(_single_branch(df, fit_max_current_A, columns))
    return _flagged(_both_branches(df, fit_max_current_A, columns))


def _flagged(out: dict) -> dict:
    """design.md's rule on a calibration: an undetermined slope is left out; an offset or a
    remanence within its error of zero stays, with a warning saying so."""
    flag_undetermined(out, ("tesla_per_A", "mu0_offset_T", "mu0_remanence_T"),
                      out["warnings"], may_vanish=("mu0_offset_T", "mu0_remanence_T"))
    return out


def _both_branches(df, fit_max_current_A, columns) -> dict:
    """Get common slope, remanence, offset and nonlinearity of a table with both branches."""
    i, b, up, down, keep, p, cov, rms = _fit(df, fit_max_current_A, **columns)
    k, a_up, a_down = p
    g = np.array([0.0, -0.5, 0.5])       # d(remanence)/d(params)
    o = np.array([0.0, 0.5, 0.5])
    out = {"tesla_per_A": k, "tesla_per_A_err": np.sqrt(cov[0, 0]),
           "mu0_remanence_T": 0.5 * (a_down - a_up), "mu0_remanence_T_err": np.sqrt(g @ cov @ g),
           "mu0_offset_T": 0.5 * (a_down + a_up), "mu0_offset_T_err": np.sqrt(o @ cov @ o),
           "residual_rms_T": rms,
           "mu0_branch_difference_max_T": _branch_difference(i, b, up, down, keep)}
    out = {key: float(v) for key, v in out.items()}
    warnings: list[str] = []
    sel = up | down
    on_line = b + np.where(up, 1, -1) * out["mu0_remanence_T"]     # both branches on one
    out.update(_nonlinearity(i[sel], on_line[sel], lambda x: k * x + out["mu0_offset_T"],
                             keep[sel], warnings))
    trial = calibration_points(df, **columns)[3]
    out.update(_trial_scatter(i[sel], b[sel], trial[sel], up[sel]))
    out["branches"] = 2
    out["warnings"] = warnings
    return out


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
    df = read_table(a.results)
    print(json.dumps(analyze_calibration(df), indent=2))
    print(write_calibration(a.bench, calibration_table(df)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


NEEDS = Needs(columns=(
    Column("Supply current (A)", "magnet supply current, A", ("Current setpoint (A)",)),
    Column(FIELD, "gaussmeter reading μ0H, T (or one column per trial: option trials)",
           FIELD_ALTERNATIVES, required=False),
    Column(BRANCH, "+1 on the up sweep, −1 on the down sweep", required=False),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
