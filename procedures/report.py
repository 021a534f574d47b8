"""The text form of an analysis result (``labspin analyze`` without ``--json``): every
scalar with its standard error, every list of records (ST-FMR's ``lines``, ``per_polarity``)
as a table with one row per record, the priors with their sources, the warnings.
The JSON form is :func:`estimates.strict` of the same dictionary: both list the same
things."""
from __future__ import annotations

import math


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}" if math.isfinite(value) else "–"
    return str(value)


def _table(records: list[dict]) -> list[str]:
    """Get aligned text rows of ``records`` (dicts; columns in first-seen order, a value
    with a matching ``_err`` column shown as "v ± e")."""
    cols: list[str] = []
    for r in records:
        cols += [k for k in r if k not in cols]
    shown = [c for c in cols if not (c.endswith("_err") and c[:-4] in cols)]
    rows = []
    for r in records:
        row = []
        for c in shown:
            text = _cell(r.get(c))
            err = r.get(c + "_err")
            if c + "_err" in cols and isinstance(err, float) and math.isfinite(err):
                text += f" ± {err:.2g}"
            row.append(text)
        rows.append(row)
    widths = [max(len(c), *(len(r[k]) for r in rows)) for k, c in enumerate(shown)]
    out = ["  " + "  ".join(c.ljust(w) for c, w in zip(shown, widths))]
    out += ["  " + "  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in rows]
    return out


def format_result(result: dict) -> str:
    """Get the text report of an analysis result (see the module doc)."""
    lines = []
    for key, value in result.items():
        if key.endswith("_err") or key in ("priors", "warnings"):
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            lines.append(f"{key}:")
            lines += _table(value)
            continue
        err = result.get(key + "_err")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            plus = f" ± {err:.2g}" if isinstance(err, (int, float)) else ""
            lines.append(f"{key:24s} {_cell(float(value)) if isinstance(value, float) else value}"
                         f"{plus}")
        else:
            lines.append(f"{key:24s} {value}")
    priors = result.get("priors") or {}
    if priors:
        lines.append("priors:")
        for name, p in priors.items():
            lines.append(f"  {name:22s} {_cell(p.get('value'))} ± {_cell(p.get('err'))}"
                         f"  ({p.get('source')})")
    for w in result.get("warnings") or []:
        lines.append(f"warning: {w}")
    return "\n".join(lines)
