"""Analysis of R–H loops (source-meter or lock-in readout alike): switching fields of each
branch, coercive field, loop shift, resistance levels, MR ratio and the AHE amplitude; and,
from saturated longitudinal runs along several field directions, the AMR and SMR
amplitudes."""
from __future__ import annotations

import numpy as np
import pandas as pd

from labspin.results.needs import FIELD_ALTERNATIVES, Column, Needs
from labspin.results.sweep_direction import segments, with_branch

from .estimates import Option, resolve_priors, settings, weighted_fit


def _switch(field: np.ndarray, r: np.ndarray, rising: bool) -> tuple[float, float]:
    """Get (switching field, its standard error) of one branch: the largest resistance step
    between neighbouring points; the error is the field spacing over √12 (uniform)."""
    order = np.argsort(field) if rising else np.argsort(field)[::-1]
    f, rr = field[order], r[order]
    k = int(np.argmax(np.abs(np.diff(rr))))
    return 0.5 * (f[k] + f[k + 1]), abs(f[k + 1] - f[k]) / np.sqrt(12)


POLAR = "Field polar angle (deg)"
AZIMUTH = "Field angle (deg)"
PROBE = "Probe"
HALL_PROBES = ("voltmeter", "lock-in")
"""Probes that read the Hall voltage on the standard wirings: the voltmeter of "transport",
the lock-in of "lockin_transport" and "harmonic_hall" (the lock-in readout)."""


def _directions(df: pd.DataFrame) -> pd.Series:
    """Get each row's field direction as a label "z" (along the normal) or "inplane:φ" (φ in
    degrees modulo 180, rounded to 0.1°: R_xx depends on m² only, so φ and φ + 180° are one
    direction); all "z" in a table without the direction columns (a file from before they
    existed, or from elsewhere: one loop)."""
    if POLAR not in df.columns:
        return pd.Series("z", index=df.index)
    polar = pd.to_numeric(df[POLAR], errors="coerce").to_numpy(float)
    phi = pd.to_numeric(df[AZIMUTH], errors="coerce").to_numpy(float) if AZIMUTH in df \
        else np.zeros(len(df))
    phi = np.round(np.mod(phi, 180.0), 1) % 180.0
    labels = np.where(np.abs(polar) < 45.0, "z",
                      np.char.add("inplane:", np.char.mod("%g", phi)))
    return pd.Series(labels, index=df.index)


FIELDS = ("Field set (T)", "Field (T)")
"""The columns a field loop's branches are found from, set point first."""


def analyze_amr_smr(df: pd.DataFrame, saturation_fraction: float = 0.9) -> dict:
    """Get r0_ohm, dr_amr_ohm and dr_smr_ohm (each with ``_err``) from saturated longitudinal
    resistances along several field directions.

    Model (labspin.physics.readout.HallBar): R_xx = r0 + dr_amr·m_x² + dr_smr·m_y². Each direction's
    saturated resistance is the mean of its rows with |field| ≥ ``saturation_fraction`` of
    that direction's largest |field| (the field must exceed the saturation field there: for
    a perpendicular magnet μ0·H_k,eff = −μ0·M_eff in plane; at and above it m lies along the
    field, so R = r0 + dr_amr·cos²φ + dr_smr·sin²φ in plane at φ from +x, R = r0 along z).
    These means are fitted by weighted linear least squares to (r0, dr_amr, dr_smr); with
    exactly z, x (φ = 0) and y (φ = 90°) this is r0 = R(z), dr_amr = R(x) − R(z), dr_smr =
    R(y) − R(z). Errors: the pooled within-direction scatter s of the saturated rows, each
    mean's error s/√n, propagated through the fit's covariance (NaN without a repeated
    saturated reading) and, with more than three directions, widened by the reduced χ²
    when above 1 (:func:`~labspin.procedures.estimates.weighted_fit`, the rule of every
    analysis). Needs the normal direction and two in-plane angles with different
    cos²φ (ValueError otherwise). The rows must be longitudinal (probe "source meter" on the
    transport wiring): with a "Probe" column, only the "source meter" rows are used.
    """
    if PROBE in df.columns and (df[PROBE] == "source meter").any():
        df = df[df[PROBE] == "source meter"]
    labels = _directions(df)
    field = np.abs(df["Field (T)"].to_numpy(float))
    r = df["Resistance (ohm)"].to_numpy(float)
    rows, means, counts, ss, dof = [], [], [], 0.0, 0
    for lab in sorted(set(labels)):
        sel = (labels == lab).to_numpy()
        f, rr = field[sel], r[sel]
        sat = rr[f >= saturation_fraction * f.max()]
        sat = sat[np.isfinite(sat)]
        if sat.size == 0:
            continue
        if lab == "z":
            rows.append([1.0, 0.0, 0.0])
        else:
            phi = np.radians(float(lab.split(":")[1]))
            rows.append([1.0, np.cos(phi) ** 2, np.sin(phi) ** 2])
        means.append(sat.mean())
        counts.append(sat.size)
        ss += float(np.sum((sat - sat.mean()) ** 2))
        dof += sat.size - 1
    a = np.array(rows)
    if a.shape[0] < 3 or np.linalg.matrix_rank(a) < 3:
        raise ValueError("AMR/SMR needs saturated longitudinal runs along the normal and at two "
                         "in-plane angles with different cos²φ (e.g. 0° and 90°); found "
                         f"directions {sorted(set(labels))}")
    s2 = ss / dof if dof > 0 else float("nan")
    # each mean's error s/√n (weights by count alone when s is unknown: errors NaN)
    scale = np.sqrt(s2) if np.isfinite(s2) else 1.0
    p, cov = weighted_fit(a, means, scale / np.sqrt(np.array(counts, float)))
    err = np.sqrt(np.diag(cov)) if np.isfinite(s2) else np.full(3, np.nan)
    out = {"r0_ohm": p[0], "r0_ohm_err": err[0], "dr_amr_ohm": p[1], "dr_amr_ohm_err": err[1],
           "dr_smr_ohm": p[2], "dr_smr_ohm_err": err[2]}
    return {k: float(v) for k, v in out.items()}


READOUTS = ("auto", "hall", "longitudinal")
OPTIONS = (
    Option("readout", "", "what the loop's resistance is: 'hall' (R_xy: dr_ahe_ohm, no MR "
           "ratio), 'longitudinal' (R_xx, a junction, a spin valve: mr_ratio, no dr_ahe_ohm) "
           "or 'auto' (from the file's Probe column; a file without one gets both, with a "
           "warning)", "auto", constant=False, kind=str),
)


def _readout(df: pd.DataFrame, given: str, warnings: list[str]) -> str:
    """Get 'hall' or 'longitudinal' for a loop, or 'unknown' (then with a warning)."""
    readout = str(given).strip().lower()
    if readout not in READOUTS:
        raise ValueError(f"option readout: {given!r}; expected one of {', '.join(READOUTS)}")
    if readout != "auto":
        return readout
    if PROBE in df.columns and len(df):
        return "hall" if df[PROBE].isin(HALL_PROBES).all() else "longitudinal"
    warnings.append("the file does not say whether the loop is a Hall (R_xy) or a "
                    "longitudinal (R_xx, junction) resistance: both mr_ratio and dr_ahe_ohm "
                    "are given, and only one means something; say which with --option "
                    "readout=hall or readout=longitudinal")
    return "unknown"


def analyze_field_sweep(df: pd.DataFrame, **options) -> dict:
    """Analyze one or several concatenated field-sweep files (``labspin analyze``'s entry).

    One field direction: :func:`_analyze_one_loop`'s keys (the loop). Several directions
    (files concatenated, told apart by the "Field polar angle (deg)" and "Field angle (deg)"
    columns): the AMR/SMR keys of :func:`analyze_amr_smr` (``r0_ohm``, ``dr_amr_ohm``,
    ``dr_smr_ohm`` with ``_err``, from the "source meter" rows), plus the loop keys of the
    normal-direction loop when there is one read on a Hall probe (:data:`HALL_PROBES`: the
    "voltmeter" of the transport wiring or the "lock-in" readout; a longitudinal loop along
    the normal has no switching step, so its loop keys would be noise and are left out). A
    table without a "Probe" column (older files) takes the loop keys from all its
    normal-direction rows.

    Both readouts give the same columns: "Resistance (ohm)" is V/I of the source meter's dc
    current, or V_ω/I0 of the lock-in's in-phase 1ω voltage and the ac current amplitude
    ("Probe" = "lock-in"), so one loop is analyzed alike whichever readout took it.
    """
    resolve_priors(OPTIONS, options)                 # refuses unknown names
    given = settings(OPTIONS, options)["readout"]
    warnings: list[str] = []
    labels = _directions(df)
    if labels.nunique() <= 1:
        loop = with_branch(_readings(df), FIELDS)
        out = _analyze_one_loop(loop, _readout(loop, given, warnings))
        if warnings:
            out["warnings"] = warnings
        return out
    out = analyze_amr_smr(df)
    normal = df[(labels == "z").to_numpy()]
    if PROBE in normal.columns:                      # a loop of R_xx has no switching step
        normal = normal[normal[PROBE].isin(HALL_PROBES)]
    if len(normal) > 2:
        normal = with_branch(_readings(normal), FIELDS)
    if len(normal) > 2 and (normal["Branch"].to_numpy(float) < 0).any():
        try:
            out.update(_analyze_one_loop(normal.reset_index(drop=True), "hall"))
        except (ValueError, IndexError):
            pass                                # too few points for a loop: AMR/SMR only
    return out


def analyze_loop(df: pd.DataFrame, **options) -> dict:
    """Get the keys of one R–H loop, or with several field directions in the table those of
    :func:`analyze_field_sweep` (the entry ``labspin analyze field-sweep`` calls; options:
    :data:`OPTIONS`)."""
    return analyze_field_sweep(df, **options)


analyze_loop.OPTIONS = analyze_field_sweep.OPTIONS = OPTIONS


def _readings(df: pd.DataFrame) -> pd.DataFrame:
    """Get the rows with a finite field and resistance (another program's file may pad a
    shorter column with empty cells: those rows are no readings)."""
    ok = np.ones(len(df), bool)
    for c in ("Field (T)", "Resistance (ohm)"):
        if c in df.columns:
            ok &= np.isfinite(pd.to_numeric(df[c], errors="coerce").to_numpy(float))
    return df[ok].reset_index(drop=True) if not ok.all() else df


def _loop_branches(branch: np.ndarray) -> tuple[slice, slice]:
    """Get (down, up): the first falling segment and the rising segment after it (labspin's
    0 → +max → −max → +max: the first up branch starts at zero field), or before it when
    the loop ends on the down branch (−max → +max → −max)."""
    seg = segments(branch)
    falling = np.flatnonzero(branch < 0)
    if falling.size == 0:
        raise ValueError("the loop has no down branch (field decreasing)")
    s_down = seg[falling[0]]
    down = np.flatnonzero(seg == s_down)
    after = np.flatnonzero((seg == s_down + 1) & (branch > 0))
    before = np.flatnonzero((seg == s_down - 1) & (branch > 0))
    rising = after if after.size >= 2 else before
    if rising.size < 2:
        raise ValueError("the loop has no up branch (field increasing) next to its down branch")
    return slice(down[0], down[-1] + 1), (slice(rising[0], None) if rising is after
                                           else slice(rising[0], rising[-1] + 1))


def _analyze_one_loop(df: pd.DataFrame, readout: str = "unknown") -> dict:
    """Get design.md's keys from a field-sweep table (columns 'Field (T)', 'Branch',
    'Resistance (ohm)'): mu0_hsw_down_T, mu0_hsw_up_T, mu0_hc_T, mu0_hshift_T,
    r_high_ohm, r_low_ohm, mr_ratio (not for a Hall ``readout``), dr_ahe_ohm (half the
    jump: an amplitude; not for a longitudinal ``readout``), each with ``_err`` (one
    standard error)."""
    field = df["Field (T)"].to_numpy(float)
    r = df["Resistance (ohm)"].to_numpy(float)
    down, up = _loop_branches(df["Branch"].to_numpy(float))
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
    if readout == "hall":
        # a Hall loop: its levels are ±ΔR_A about an offset, a ratio of them means nothing
        del out["mr_ratio"], out["mr_ratio_err"]
    elif readout == "longitudinal":
        # R_xx or a junction: its levels are two states' resistances, not ±ΔR_A
        del out["dr_ahe_ohm"], out["dr_ahe_ohm_err"]
    return {k: float(v) for k, v in out.items()}


NEEDS = Needs(columns=(
    Column("Field (T)", "applied field μ0H, T", FIELD_ALTERNATIVES),
    Column("Resistance (ohm)", "Hall or longitudinal resistance, Ω"),
    Column("Branch", "+1 on the up sweep, −1 on the down sweep", required=False),
    Column(AZIMUTH, "in-plane field angle φ, deg (absent: 0)", required=False),
    Column(POLAR, "field polar angle θ, deg (absent: out of plane)", required=False),
    Column(PROBE, "'voltmeter' or 'lock-in' (absent: one readout)", required=False),
))
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
