"""The sweep direction of a loop's set points: which branch each point of a table belongs to,
found from the order of the points when a file has no "Branch" column (another program's
R–H loop, R–I loop, pulse-switching loop, or a magnet calibration).

A branch is a run of points over which the swept quantity x (field, current, pulse
amplitude) rises (+1) or falls (−1). The sign of x[k+1] − x[k] alone is not robust: a
measured field has noise larger than a small step, and set points are often repeated
(several readings per point). The turning points are therefore found with hysteresis: a
reversal is declared only once x has come back from its running extremum by more than a
threshold, and every point after that extremum joins the new branch; repeated points and
noise smaller than the threshold stay on their branch.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MIN_RANGE_FRACTION = 0.05
"""Default threshold, as a fraction of x's full range: a reversal smaller than 5 % of the
sweep is noise or a minor loop, not a branch."""
NOISE_FACTOR = 6.0
"""The threshold is at least this many standard deviations of x's point-to-point noise."""


def point_noise(x: np.ndarray) -> float:
    """Get the standard deviation of the noise on x (same unit): from the median absolute
    second difference, which a linear ramp does not contribute to (σ of a second difference
    of white noise is √6·σ; 1.4826·MAD is σ for Gaussian noise)."""
    d2 = np.diff(np.asarray(x, float), 2)
    d2 = d2[np.isfinite(d2)]
    if d2.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(d2 - np.median(d2))) / np.sqrt(6.0))


def sweep_branches(x, threshold: float | None = None) -> np.ndarray:
    """Get each point's branch: +1 while x rises, −1 while it falls, 0 for non-finite x.

    threshold: the return from an extremum (unit of x) that marks a reversal; default the
    larger of 5 % of x's range and 6σ of its point noise (:func:`point_noise`). The
    extremum itself (and its repeats) ends the old branch. Points before x first leaves
    the starting value by the threshold take the first branch's direction.
    Raises ValueError if x never moves by the threshold (nothing is swept).
    """
    x = np.asarray(x, float)
    out = np.zeros(x.size, dtype=int)
    idx = np.flatnonzero(np.isfinite(x))
    if idx.size < 2:
        raise ValueError("need at least two finite points to find a sweep direction")
    v = x[idx]
    span = float(v.max() - v.min())
    if threshold is None:
        threshold = max(MIN_RANGE_FRACTION * span, NOISE_FACTOR * point_noise(v))
    if not span > threshold:
        raise ValueError(f"the swept values stay within {span:g} of each other: no sweep "
                         "direction (and no branch) to find")
    b = np.zeros(v.size, dtype=int)
    direction, start, lo_k, hi_k = 0, 0, 0, 0       # lo_k, hi_k: the last running extrema
    for k in range(1, v.size):
        if direction == 0:
            hi_k = k if v[k] >= v[hi_k] else hi_k
            lo_k = k if v[k] <= v[lo_k] else lo_k
            if v[k] - v[lo_k] > threshold:
                direction = 1
            elif v[hi_k] - v[k] > threshold:
                direction = -1
            continue
        ext = hi_k if direction > 0 else lo_k
        if direction * (v[k] - v[ext]) >= 0:                 # further along (or repeated)
            hi_k, lo_k = (k, lo_k) if direction > 0 else (hi_k, k)
        elif direction * (v[ext] - v[k]) > threshold:       # came back: a reversal at ext
            b[start:ext + 1] = direction
            start, direction = ext + 1, -direction
            seg = v[start:k + 1]
            last = start + int(np.flatnonzero(seg == (seg.max() if direction > 0
                                                        else seg.min()))[-1])
            hi_k, lo_k = (last, lo_k) if direction > 0 else (hi_k, last)
    b[start:] = direction
    out[idx] = b
    return out


def segments(branch: np.ndarray) -> np.ndarray:
    """Get a segment number per point: it grows by one at each change of branch."""
    branch = np.asarray(branch)
    return np.concatenate([[0], np.cumsum(branch[1:] != branch[:-1])]).astype(int)


def with_branch(df: pd.DataFrame, swept: tuple[str, ...]) -> pd.DataFrame:
    """Get ``df`` with a 'Branch' column (+1 rising, −1 falling): its own, or, for a file
    from another program, found from the sweep direction of the first of the ``swept``
    columns it has (set points before readings: :func:`sweep_branches`)."""
    if "Branch" in df.columns:
        return df
    col = next((c for c in swept if c in df.columns), None)
    if col is None:
        raise KeyError(f"a loop needs a 'Branch' column or one of {list(swept)} to find "
                       f"its branches from; columns: {', '.join(map(str, df.columns))}")
    x = pd.to_numeric(df[col], errors="coerce").to_numpy(float)
    return df.assign(Branch=sweep_branches(x))
