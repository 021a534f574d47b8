"""Analysis of R–H loops: switching fields of each branch, coercive field, loop shift,
resistance levels, MR ratio and the AHE amplitude."""
from __future__ import annotations

import numpy as np
import pandas as pd


def _switch(field: np.ndarray, r: np.ndarray, rising: bool) -> tuple[float, float]:
    """Get (switching field, its standard error) of one branch: the largest resistance step
    between neighbouring points; the error is the field spacing over √12 (uniform)."""
    order = np.argsort(field) if rising else np.argsort(field)[::-1]
    f, rr = field[order], r[order]
    k = int(np.argmax(np.abs(np.diff(rr))))
    return 0.5 * (f[k] + f[k + 1]), abs(f[k + 1] - f[k]) / np.sqrt(12)


def analyze_loop(df: pd.DataFrame) -> dict:
    """Get design.md's keys from a field-sweep table (columns 'Field (T)', 'Branch',
    'Resistance (ohm)'): mu0_hsw_down_T, mu0_hsw_up_T, mu0_hc_T, mu0_hshift_T,
    r_high_ohm, r_low_ohm, mr_ratio, dr_ahe_ohm (half the jump: an amplitude), each with
    ``_err`` (one standard error)."""
    field = df["Field (T)"].to_numpy(float)
    r = df["Resistance (ohm)"].to_numpy(float)
    branch = df["Branch"].to_numpy(float)
    # the down branch and the second up branch (the first up branch starts at zero field)
    start_down = int(np.argmax(branch < 0))
    down = slice(start_down, start_down + int(np.sum(branch[start_down:] < 0)))
    up = slice(down.stop, None)
    h_down, e_down = _switch(field[down], r[down], rising=False)
    h_up, e_up = _switch(field[up], r[up], rising=True)
    # saturated levels: the outer quarter of the field range on each side
    fmax = np.abs(field).max()
    hi_side, lo_side = r[field > 0.75 * fmax], r[field < -0.75 * fmax]
    lvl_pos, lvl_neg = hi_side.mean(), lo_side.mean()
    se = lambda a: a.std(ddof=1) / np.sqrt(a.size) if a.size > 1 else 0.0  # noqa: E731
    r_high, r_low = max(lvl_pos, lvl_neg), min(lvl_pos, lvl_neg)
    e_level = float(np.hypot(se(hi_side), se(lo_side)))
    out = {
        "mu0_hsw_down_T": h_down, "mu0_hsw_down_T_err": e_down,
        "mu0_hsw_up_T": h_up, "mu0_hsw_up_T_err": e_up,
        "mu0_hc_T": 0.5 * (h_up - h_down), "mu0_hc_T_err": 0.5 * np.hypot(e_up, e_down),
        "mu0_hshift_T": 0.5 * (h_up + h_down), "mu0_hshift_T_err": 0.5 * np.hypot(e_up, e_down),
        "r_high_ohm": r_high, "r_high_ohm_err": se(hi_side if lvl_pos >= lvl_neg else lo_side),
        "r_low_ohm": r_low, "r_low_ohm_err": se(lo_side if lvl_pos >= lvl_neg else hi_side),
        "mr_ratio": (r_high - r_low) / abs(r_low),
        "mr_ratio_err": e_level / abs(r_low),
        "dr_ahe_ohm": 0.5 * (lvl_pos - lvl_neg), "dr_ahe_ohm_err": 0.5 * e_level,
    }
    return {k: float(v) for k, v in out.items()}
