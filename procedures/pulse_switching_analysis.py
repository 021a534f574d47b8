"""Analysis of pulse-switching loops: critical pulse amplitude (V) and estimated pulse
current (A) of each polarity at each field, and the I–H phase-diagram boundary.

In each lobe (one field, one cycle, one polarity) the reads follow a reference read without
a pulse; a switching event is a resistance step larger than half the jump between the two
levels. Its critical amplitude is halfway between the magnitude of the pulse that switched
and that of the pulse before it (0 for the reference read), so for a grid step s it is
uniform within ±s/2 (error s/√12); several events are averaged with
:func:`~labspin.procedures.current_sweep_analysis.mean_with_grid`. Only the first switch of
each lobe counts: later steps in the same lobe are the device flipping back and forth (a
marginal short pulse leaves the magnetization near the equator, and a field against the
written state pulls it back), not a threshold of the loop.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from labspin.results.needs import Column, Needs

from .current_sweep_analysis import mean_with_grid, resistance_levels

KEYS = ("vc_pos_V", "vc_neg_V", "ic_pos_A", "ic_neg_A")
AMPLITUDE, FIELD_SET, CURRENT = "Pulse amplitude (V)", "Field set (T)", "Pulse current (A)"


def _complete(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """Get the table with the columns another program's loop lacks filled in, and
    sentences saying so: no 'Field set (T)' → one loop at the median of 'Field (T)', or
    at an unknown field (NaN: no mu0_h_T is reported); no 'Cycle' → 0 (lobes still split
    at each change of sign); no 'Pulse current (A)' → NaN (no critical current)."""
    if AMPLITUDE not in df.columns:
        raise KeyError(f"pulse-switching needs the column {AMPLITUDE!r} (map yours with "
                       f"--column \"{AMPLITUDE}=NAME\"); columns: "
                       f"{', '.join(map(str, df.columns))}")
    notes, fill = [], {}
    if FIELD_SET not in df.columns:
        measured = pd.to_numeric(df.get("Field (T)", pd.Series(dtype=float)), errors="coerce")
        if measured.notna().any():      # readings scatter: one loop at their median
            fill[FIELD_SET] = float(measured.median())
            notes.append("no 'Field set (T)' column: one loop, at the median of 'Field (T)'")
        else:
            fill[FIELD_SET] = np.nan
            notes.append("no field column ('Field set (T)' or 'Field (T)'): one loop at an "
                         "unknown field, mu0_h_T not reported")
    if "Cycle" not in df.columns:
        fill["Cycle"] = 0
    if CURRENT not in df.columns:
        fill[CURRENT] = np.nan
        notes.append(f"no {CURRENT!r} column: critical pulse currents not estimated (only "
                     "the amplitudes)")
    return (df.assign(**fill) if fill else df), notes


def _events(df: pd.DataFrame, r_low: float, r_high: float):
    """Get arrays (field set, signed critical amplitude, signed critical current) of every
    switching event, and the amplitude grid step."""
    jump = 0.5 * abs(r_high - r_low)
    a_all = df[AMPLITUDE].to_numpy(float)
    steps = np.abs(np.diff(np.unique(np.round(np.abs(a_all[a_all != 0]), 12))))
    step = float(steps.min()) if steps.size else 0.0
    fields, amps, curs = [], [], []
    keys = [FIELD_SET, "Cycle"]
    # a lobe: starts at each reference read (amplitude 0) or change of sign, to the next one
    sign = np.sign(a_all)
    lobe = np.cumsum((a_all == 0.0) | np.r_[True, (sign[1:] != sign[:-1]) & (sign[:-1] != 0)])
    for _, g in df.groupby([*(df[k].fillna(0.0) for k in keys), lobe], sort=False):
        a = g["Pulse amplitude (V)"].to_numpy(float)
        i = g["Pulse current (A)"].to_numpy(float)
        r = g["Resistance (ohm)"].to_numpy(float)
        for k in range(1, a.size):
            if abs(a[k]) < abs(a[k - 1]):
                continue            # falling magnitude: a step there is no threshold
            if np.isfinite(r[k]) and np.isfinite(r[k - 1]) and abs(r[k] - r[k - 1]) > jump:
                s = np.sign(a[k])
                prev_a = abs(a[k - 1]) if a[k - 1] * s > 0 else 0.0
                prev_i = abs(i[k - 1]) if i[k - 1] * s > 0 else 0.0
                fields.append(float(g[FIELD_SET].iloc[0]))
                amps.append(s * 0.5 * (abs(a[k]) + prev_a))
                curs.append(s * 0.5 * (abs(i[k]) + prev_i))
                break               # only the first switch of a lobe (see the module notes)
    return np.array(fields), np.array(amps), np.array(curs), step


def _critical(amps, curs, step_V, sign) -> dict:
    sel = np.sign(amps) == sign
    name = "pos" if sign > 0 else "neg"
    out = {}
    if not np.any(sel):
        return {f"vc_{name}_V": None, f"vc_{name}_V_err": None,
                f"ic_{name}_A": None, f"ic_{name}_A_err": None, f"n_{name}": 0}
    v, ve = mean_with_grid(amps[sel], step_V)
    # the current grid step follows the amplitude step through I = 2V/(50 Ω + R)
    ratio = float(np.median(curs[sel] / amps[sel]))
    c, ce = mean_with_grid(curs[sel], step_V * ratio)
    out.update({f"vc_{name}_V": v, f"vc_{name}_V_err": ve, f"ic_{name}_A": c,
                f"ic_{name}_A_err": ce, f"n_{name}": int(sel.sum())})
    return out


def phase_boundary(df: pd.DataFrame) -> pd.DataFrame:
    """Get the phase-diagram boundary as a table, one row per field: 'mu0_h_T' and the
    critical vc_pos_V, vc_neg_V (V, signed), ic_pos_A, ic_neg_A (A, signed), each with
    ``_err``, and the number of switching events n_pos, n_neg (None where a polarity never
    switched at that field)."""
    r = df["Resistance (ohm)"].to_numpy(float)
    r_low, _, r_high, _ = resistance_levels(r)
    if not np.isfinite(r_high):
        raise ValueError("the resistance never switched between two levels")
    df, _ = _complete(df)
    fields, amps, curs, step = _events(df, r_low, r_high)
    rows = []
    for b in pd.unique(df[FIELD_SET]):
        at = (fields == b) | (np.isnan(fields) & np.isnan(b))
        row = {"mu0_h_T": float(b)}
        row.update(_critical(amps[at], curs[at], step, +1))
        row.update(_critical(amps[at], curs[at], step, -1))
        rows.append(row)
    return pd.DataFrame(rows)


def analyze_pulse_switching(df: pd.DataFrame) -> dict:
    """Get design.md's keys from a pulse-switching table (columns 'Field set (T)', 'Cycle',
    'Pulse amplitude (V)', 'Pulse current (A)', 'Resistance (ohm)'):

    vc_pos_V, vc_neg_V: critical pulse amplitudes (V, signed) and ic_pos_A, ic_neg_A: the
    estimated critical pulse currents (A, signed), at the field nearest zero, each with
    ``_err`` (NaN where a polarity never switched); mu0_h_T, the field they refer to; r_p_ohm,
    r_ap_ohm, tmr_ratio with ``_err``; with more than one field, ``phase_boundary``: the
    table of :func:`phase_boundary` as a list of records (one per field).
    """
    df, notes = _complete(df)
    r = df["Resistance (ohm)"].to_numpy(float)
    r_low, e_low, r_high, e_high = resistance_levels(r)
    if not np.isfinite(r_high) or (r_high - r_low) < 10 * max(e_low, e_high, 1e-12):
        raise ValueError("the resistance never switched between two levels")
    table = phase_boundary(df)
    if table[["n_pos", "n_neg"]].to_numpy().sum() == 0:
        raise ValueError("no switching event at any field")
    row = table.iloc[int(np.argmin(np.abs(table["mu0_h_T"].to_numpy(float))))]
    out = {"mu0_h_T": float(row["mu0_h_T"]), "mu0_h_T_err": 0.0}
    for k in KEYS:
        for kk in (k, k + "_err"):
            v = row[kk]
            out[kk] = float("nan") if v is None or pd.isna(v) else float(v)
    tmr = (r_high - r_low) / r_low
    out.update({"r_p_ohm": r_low, "r_p_ohm_err": e_low, "r_ap_ohm": r_high,
                "r_ap_ohm_err": e_high, "tmr_ratio": tmr,
                "tmr_ratio_err": float(np.hypot(e_high / r_low, r_high * e_low / r_low ** 2))})
    out = {k: float(v) for k, v in out.items()}
    if len(table) > 1:
        out["phase_boundary"] = [
            {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else
                 (int(v) if k.startswith("n_") else float(v))) for k, v in rec.items()}
            for rec in table.to_dict("records")]
    if notes:                       # another program's loop: say what it could not give
        out["warnings"] = notes
        if df[FIELD_SET].isna().all():
            out.pop("mu0_h_T"), out.pop("mu0_h_T_err")
        if df[CURRENT].isna().all():
            out.update({k: None for k in ("ic_pos_A", "ic_pos_A_err", "ic_neg_A",
                                          "ic_neg_A_err")})
    return out


NEEDS = Needs(columns=(
    Column("Pulse amplitude (V)", "write pulse amplitude, V (0 for the reference reads)"),
    Column("Pulse current (A)", "write pulse current, A (absent: no critical current)",
           required=False),
    Column("Resistance (ohm)", "resistance read after each pulse, Ω"),
    Column("Field set (T)", "field set point, T (absent: one loop, at the median of "
           "'Field (T)' if measured)", required=False),
    Column("Cycle", "loop number (absent: branches from the sweep direction)",
           required=False),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
