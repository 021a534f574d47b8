"""What every analysis shares about its numbers: the external constants it takes (options
with units, priors with uncertainties and their source), the one rule that combines
estimates of one quantity (weighted mean or weighted straight line, widened by the scatter,
with a warning when they disagree), and strict JSON (no NaN or infinity).

Priors (design.md): each external constant an analysis uses is declared once in the
analysis's ``OPTIONS`` (:class:`Option`: name, unit, doc, default) and resolved by
:func:`resolve_priors` from, in order, the caller's keyword argument or ``--option
NAME=VALUE[±ERR]``, the file's ``Sample constants``, the file's procedure parameters, the
option's default; never from the simulator's ``Sample parameters``. Each resolved constant is
a :class:`Prior` (value, err, source) and goes into the result's ``priors``.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
from scipy import stats

from labspin.results.header import parse_header

DISAGREEMENT_P = 0.01
"""χ² probability below which estimates of one quantity are said to disagree (a warning and a
systematic term): 1 % keeps false alarms rare over the many combinations of one analysis."""


@dataclass(frozen=True)
class Option:
    """An input an analysis takes by name: ``name`` (the keyword argument and ``--option``
    name, SI with the unit suffix), ``unit``, ``doc`` (one line), ``default``.

    ``constant=True`` (an external constant: γ, M_s, t, …): a value with an uncertainty,
    "v", "v±e" or (v, e); default None (not used unless given) or a number or (v, e) (used,
    listed as "default"), resolved by :func:`resolve_priors` into ``priors``.
    ``constant=False`` (a setting of the analysis: a field window, the magnet's geometry):
    converted by ``kind`` (float, str, …) and not listed in ``priors``."""
    name: str
    unit: str
    doc: str
    default: object = None
    constant: bool = True
    kind: type = float

    def setting(self, given):
        """Get this setting's value from ``given`` (a string from the command line or a
        Python value; None → the default), converted by ``kind``; ValueError naming it."""
        if given is None:
            return self.default
        if isinstance(given, str) and self.kind is not str:
            try:
                return self.kind(given)
            except ValueError:
                raise ValueError(f"option {self.name}: cannot read {given!r} as "
                                 f"{self.kind.__name__}") from None
        return given


@dataclass(frozen=True)
class Prior:
    """One external constant as used: value and one standard error in the option's unit,
    and where it came from ("option", "file: sample constants", "file: procedure
    parameters", "default")."""
    value: float
    err: float
    source: str

    def as_dict(self) -> dict:
        return {"value": self.value, "err": self.err, "source": self.source}


_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_VALUE_ERR = re.compile(rf"^\s*({_NUMBER})\s*(?:(?:±|\+-|\+/-)\s*({_NUMBER}))?\s*$")


def parse_value_err(text: str, name: str = "value") -> tuple[float, float]:
    """Get (value, err) from "1.0", "1.0±0.05" or "1.0+-0.05" (err 0 when not given);
    ValueError naming ``name`` otherwise (or for a negative or non-finite error)."""
    m = _VALUE_ERR.match(str(text))
    try:
        value = float(m.group(1)) if m else float("nan")
        err = float(m.group(2)) if m and m.group(2) else 0.0
    except ValueError:
        value, err = float("nan"), 0.0
    if not (math.isfinite(value) and math.isfinite(err)) or err < 0:
        raise ValueError(f"{name}: expected a number with an optional uncertainty, e.g. "
                         f"'1.0' or '1.0±0.05' (also '1.0+-0.05'), got {text!r}")
    return value, err


def _as_value_err(given, name: str) -> tuple[float, float]:
    if isinstance(given, str):
        return parse_value_err(given, name)
    if isinstance(given, (tuple, list)):
        if len(given) != 2:
            raise ValueError(f"{name}: expected a number or (value, err), got {given!r}")
        value, err = float(given[0]), float(given[1])
    elif isinstance(given, dict):
        value, err = float(given["value"]), float(given.get("err", 0.0))
    else:
        value, err = float(given), 0.0
    if not (math.isfinite(value) and math.isfinite(err)) or err < 0:
        raise ValueError(f"{name}: value and error must be finite, error ≥ 0; got {given!r}")
    return value, err


def sample_constants(attrs: dict) -> dict:
    """Get the file's ``Sample constants`` ({name: value | [value, err] | {"value", "err"}}):
    ``attrs["sample_constants"]`` when the reader set it, else those of the header text
    ``attrs["header"]`` (:func:`labspin.results.header.parse_header`; {} when none)."""
    if isinstance(attrs.get("sample_constants"), dict):
        return dict(attrs["sample_constants"])
    return parse_header(attrs.get("header") or "").sample_constants


def resolve_priors(options, given: dict, attrs: dict | None = None,
                   procedure_parameters: dict | None = None) -> dict[str, Prior]:
    """Get {name: Prior} for each of ``options`` that has a value: ``given[name]`` (keyword
    argument or --option: number, "v±e", (v, e)) → source "option"; else the file's Sample
    constants; else ``procedure_parameters`` (the header's, parsed by the caller); else the
    option's default. Unknown names in ``given`` are refused, naming the known ones."""
    known = {o.name for o in options}
    unknown = sorted(k for k, v in given.items() if v is not None and k not in known)
    if unknown:
        raise ValueError(f"unknown option(s) {', '.join(unknown)}; options: "
                         f"{', '.join(sorted(known))}")
    constants = sample_constants(attrs or {})
    out = {}
    for o in (o for o in options if o.constant):
        for source, table in (("option", given), ("file: sample constants", constants),
                              ("file: procedure parameters", procedure_parameters or {}),
                              ("default", {o.name: o.default})):
            if table.get(o.name) is not None:
                value, err = _as_value_err(table[o.name], o.name)
                out[o.name] = Prior(value, err, source)
                break
    return out


def settings(options, given: dict) -> dict:
    """Get {name: value} of the settings (``constant=False``) among ``options``."""
    return {o.name: o.setting(given.get(o.name)) for o in options if not o.constant}


def priors_dict(priors: dict[str, Prior]) -> dict:
    """Get the result's ``priors`` entry from resolved priors."""
    return {k: p.as_dict() for k, p in priors.items()}


def options_help(options) -> str:
    """Get one line per option: name, unit, default, doc (for ``--help``)."""
    lines = []
    for o in options:
        d = o.default
        if d is None:
            d = ""
        elif o.constant:
            d = f" (default {d[0]:g}±{d[1]:g})" if isinstance(d, tuple) else f" (default {d:g})"
        else:
            d = f" (default {d})"
        lines.append(f"  {o.name} [{o.unit}]{d}: {o.doc}")
    return "\n".join(lines)


# ------------------------------------------------------------------------ one combination rule
def combine(values, errors, labels=None, name: str = "value") -> dict:
    """Combine estimates of one quantity (the one rule of every analysis).

    Weighted mean with weights 1/err²; its error is the internal one, 1/√Σw, widened by the
    Birge ratio R = √(χ²/(n−1)) when R > 1 (the scatter correction). Where the χ²
    probability is below :data:`DISAGREEMENT_P` the estimates disagree beyond their errors
    (branches, polarities, repeats): a systematic term τ — the excess scatter that, added in
    quadrature to every estimate's error, brings χ²/(n−1) to 1 — enters the weights
    1/(err² + τ²), the mean and its error are recomputed with them, and a warning names the
    estimates. (For two estimates with equal errors both routes give half their difference.)
    Non-finite values and errors ≤ 0 are left out.

    Get {"mean", "err", "stat_err", "sys_err" (τ), "birge", "n", "warning"}; mean NaN and
    err inf when nothing is left.
    """
    v, e = np.asarray(values, float), np.asarray(errors, float)
    labels = list(labels) if labels is not None else [str(k) for k in range(v.size)]
    ok = np.isfinite(v) & np.isfinite(e) & (e > 0)
    v, e = v[ok], e[ok]
    labels = [lab for lab, k in zip(labels, ok) if k]
    out = {"mean": float("nan"), "err": float("inf"), "stat_err": float("inf"),
           "sys_err": 0.0, "birge": float("nan"), "n": int(v.size), "warning": None}
    if v.size == 0:
        return out

    def mean_chi2(tau):
        w = 1.0 / (e ** 2 + tau ** 2)
        m = float(np.sum(w * v) / np.sum(w))
        return m, float(np.sum(w * (v - m) ** 2)), 1.0 / math.sqrt(float(np.sum(w)))

    mean, chi2, stat = mean_chi2(0.0)
    out.update(mean=mean, stat_err=stat, err=stat)
    if v.size == 1:
        return out
    birge = math.sqrt(chi2 / (v.size - 1))
    out["birge"] = birge
    out["stat_err"] = out["err"] = stat * max(1.0, birge)
    if stats.chi2.sf(chi2, v.size - 1) >= DISAGREEMENT_P:
        return out
    lo, hi = 0.0, float(np.ptp(v)) + float(e.max())
    for _ in range(100):                       # χ²(τ)/(n−1) = 1 by bisection
        tau = 0.5 * (lo + hi)
        lo, hi = (tau, hi) if mean_chi2(tau)[1] > v.size - 1 else (lo, tau)
    tau = 0.5 * (lo + hi)
    mean, _, err = mean_chi2(tau)
    out.update(mean=mean, err=err, sys_err=tau)
    parts = ", ".join(f"{lab}: {x:.4g} ± {s:.2g}" for lab, x, s in zip(labels, v, e))
    out["warning"] = (f"{name}: the estimates disagree beyond their errors ({parts}; χ²/dof = "
                      f"{birge ** 2:.3g}); a systematic scatter of {tau:.2g} per estimate is "
                      "added to their errors")
    return out


def least_squares(design, y) -> tuple[np.ndarray, np.ndarray]:
    """Get (coefficients, covariance) of the linear model y = design·c by ordinary least
    squares, the covariance scaled by the residual variance (readings without errors)."""
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    dof = max(1, y.size - design.shape[1])
    s2 = float(np.sum((y - design @ coef) ** 2)) / dof
    return coef, s2 * np.linalg.pinv(design.T @ design)


def weighted_fit(design, y, e) -> tuple[np.ndarray, np.ndarray]:
    """Get (coefficients, covariance) of the linear model y = design·c weighted by 1/e²
    (design: one column per coefficient), the covariance widened by the reduced χ² when it
    exceeds 1 (the same scatter correction as :func:`combine`). Errors ≤ 0 or non-finite
    take the smallest positive one."""
    design, y, e = (np.asarray(v, float) for v in (design, y, e))
    good = np.isfinite(e) & (e > 0)
    e = np.where(good, e, np.min(e[good]) if good.any() else 1.0)
    a = design / e[:, None]
    coef, *_ = np.linalg.lstsq(a, y / e, rcond=None)
    cov = np.linalg.pinv(a.T @ a)
    dof = y.size - a.shape[1]
    if dof > 0:
        cov = cov * max(1.0, float(np.sum((a @ coef - y / e) ** 2)) / dof)
    return coef, cov


def weighted_line(x, y, e, intercept: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Get (coefficients [slope, intercept], covariance) of y = c1·x (+ c0) weighted by
    1/e²: :func:`weighted_fit` of a straight line."""
    x = np.asarray(x, float)
    return weighted_fit(np.column_stack([x, np.ones_like(x)] if intercept else [x]), y, e)


# ------------------------------------------------------------------------ repeated readings
def average_repeats(cells, channels: dict, pools=None, min_dof: int = 5) -> dict:
    """Average repeated readings of one set point so that repeats enter a fit once, as
    their mean, with their scatter as its error — not as independent points.

    ``cells``: each row's set point, 0 … n − 1 (−1: no reading); ``channels``: {name:
    values per row} (NaN = no reading); ``pools``: a group per set point whose within-point
    variances are pooled (a lock-in's noise does not depend on the set point; default: one
    group), every set point pooled together where a group has fewer than ``min_dof``
    degrees of freedom. Each mean's error is √(pooled variance / its number of readings);
    without repeats (fewer than ``min_dof`` degrees of freedom in all) the errors are None
    and the fits scale their covariance by the residuals.

    Get {name: means, name + "_err": errors or None, "n": readings per set point (the most
    of any channel)}."""
    cells = np.asarray(cells, int)
    npts = int(cells.max()) + 1 if cells.size and cells.max() >= 0 else 0
    pools = np.zeros(npts, int) if pools is None else np.asarray(pools, int)
    used = cells >= 0
    out: dict = {}
    n_max = np.zeros(npts, int)
    for name, values in channels.items():
        v = np.asarray(values, float)
        ok = used & np.isfinite(v)
        n = np.bincount(cells[ok], minlength=npts)
        total = np.bincount(cells[ok], weights=v[ok], minlength=npts)
        mean = np.where(n > 0, total / np.maximum(n, 1), np.nan)
        dev2 = np.bincount(cells[ok], weights=(v[ok] - mean[cells[ok]]) ** 2, minlength=npts)
        n_max = np.maximum(n_max, n)
        dof = np.maximum(n - 1, 0)
        err = None
        if dof.sum() >= min_dof:
            s2 = np.full(npts, dev2.sum() / dof.sum())
            for g in np.unique(pools):
                sel = pools == g
                if dof[sel].sum() >= min_dof:
                    s2[sel] = dev2[sel].sum() / dof[sel].sum()
            err = np.where(n > 0, np.sqrt(s2 / np.maximum(n, 1)), np.nan)
        out[name], out[name + "_err"] = mean, err
    out["n"] = n_max
    return out


# ------------------------------------------------------------------------ strict JSON
def strict(obj):
    """Get ``obj`` with every non-finite float replaced by None and numpy scalars and arrays
    turned into Python numbers and lists, recursively (strict JSON, design.md)."""
    if isinstance(obj, dict):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [strict(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [strict(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def flag_undetermined(out: dict, keys, warnings: list, may_vanish=()) -> None:
    """Apply design.md's rule to ``out``: a value whose error is not smaller than its
    magnitude (or not finite) is not determined by the data. Keys in ``may_vanish``
    (quantities that may be zero, e.g. an inhomogeneous linewidth) stay, with a warning
    that they are consistent with zero; the others are removed with ``_err`` and a warning."""
    for key in keys:
        if key not in out or not isinstance(out[key], (int, float)):
            continue
        v, e = out[key], out.get(key + "_err", 0.0)
        if np.isfinite(v) and np.isfinite(e) and e < abs(v):
            continue
        if key in may_vanish and np.isfinite(v) and np.isfinite(e):
            warnings.append(f"{key} = {v:.3g} ± {e:.2g} is consistent with zero")
            continue
        warnings.append(f"{key} is not determined by these data ({v:.3g} ± {e:.2g}); "
                        "left out")
        out.pop(key)
        out.pop(key + "_err", None)
