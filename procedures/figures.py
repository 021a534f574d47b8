"""Figures for the lab notebook (``labspin analyze PROCEDURE FILE… --plot PNG``): the data,
the fit and the key numbers (value ± standard error) of an analysis.

The layout is common to every procedure: one to three panels side by side, a column on the
right with the key numbers, a title naming the procedure and the sample, and a footer with
the files and labspin's version. Each procedure's panels are drawn by its function in
:mod:`labspin.procedures.plots`. Figures are made without pyplot (``matplotlib.figure``, the
Agg canvas), so plotting never needs a display and never touches global state.
Each key number is one ``Text`` whose gid is its analysis key; fitted curves have gid "fit".
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path

from labspin.results.units import DISPLAY_PREFIXES

# unit suffix of design.md's keys → display unit (checked in this order)
_UNITS = (("_Hz_per_T", "Hz/T"), ("_Hz_per_A", "Hz/A"), ("_per_A2_V", "V/A²"),
          ("_per_A_T", "T/A"), ("_T_per_A", "T/A"), ("_ohm_per_V", "Ω/V"), ("_per_T", "/T"),
          ("_per_A", "/A"), ("_per_V", "/V"), ("_S", "S"), ("_ohm", "Ω"), ("_Hz", "Hz"),
          ("_T", "T"), ("_A", "A"), ("_V", "V"), ("_W", "W"), ("_s", "s"), ("_K", "K"),
          ("_m", "m"), ("_deg", "°"), ("_dBm", "dBm"))
_PREFIXES = DISPLAY_PREFIXES                   # the one unit table's, largest first
_NO_PREFIX = ("°", "dBm", "K", "T/A", "V/A²", "Ω/V")

LABELS = {
    "alpha": "α", "xi": "ξ (S/A)", "xi_dl": "ξ_DL", "xi_fl": "ξ_FL", "delta": "Δ (barrier)",
    "s_over_a": "S/A", "mr_ratio": "MR", "tmr_ratio": "TMR", "gamma_Hz_per_T": "γ/2π",
    "tesla_per_A": "B/I", "mu0_meff_T": "μ0M_eff", "mu0_dh0_T": "μ0ΔH_0",
    "mu0_hk_eff_T": "μ0H_k,eff", "mu0_hk_T": "μ0H_k", "mu0_remanence_T": "B_r (remanence)",
    "mu0_offset_T": "B at I = 0 (offset)", "residual_rms_T": "rms residual",
    "mu0_h_per_A_T": "dμ0H/dI (boundary)", "mu0_h0_T": "μ0H_0 (boundary)",
    "dr_ahe_ohm": "ΔR_AHE", "dr_amr_ohm": "ΔR_AMR", "dr_smr_ohm": "ΔR_SMR", "r0_ohm": "R_0",
    "dr_phe_ohm": "ΔR_PHE", "r_high_ohm": "R_high", "r_low_ohm": "R_low", "r_p_ohm": "R_P",
    "r_ap_ohm": "R_AP", "ic_pos_A": "I_c+", "ic_neg_A": "I_c−", "vc_pos_V": "V_c+",
    "vc_neg_V": "V_c−", "ic0_A": "I_c0", "tau_n_s": "τ_N", "tau0_s": "τ0 (fixed)",
    "tau_p_s": "τ_P", "tau_ap_s": "τ_AP", "threshold_ohm": "threshold", "mean_ohm": "mean R",
    "std_ohm": "σ_R", "normality_pvalue": "normality p", "dstd_dvgate_ohm_per_V": "dσ_R/dV_gate",
    "dmean_dsite_ohm": "dR/d(site)", "dconductance_dsite_S": "dG/d(site)",
    "dln_tau_p_dB_per_T": "d ln τ_P/dB", "dln_tau_ap_dB_per_T": "d ln τ_AP/dB",
    "dln_tau_p_dI_per_A": "d ln τ_P/dI", "dln_tau_ap_dI_per_A": "d ln τ_AP/dI",
    "ic_A": "I_c (onset)", "df_dI_Hz_per_A": "df/dI", "f0_Hz": "f at I = 0", "mu0_h_T": "μ0H",
    "current_amplitude_A": "I0 (amplitude)", "window_T": "fit window ±",
    "mu0_hdl_T": "μ0H_DL", "mu0_hfl_T": "μ0H_FL", "mu0_hdl_per_A_T": "μ0H_DL per A",
    "mu0_hfl_per_A_T": "μ0H_FL per A", "v_ane_per_A2_V": "V_ANE/I²", "xi_dc": "ξ (dc bias)",
    "langevin_max_abs_dev": "max |⟨m·Ĥ⟩ − L|", "langevin_rms_dev": "rms (⟨m·Ĥ⟩ − L)",
    "boundary_fields": "fields with a crossing", "gof_pvalue": "fit p-value",
    "n_points": "points", "n_trials": "trials", "sample_interval_s": "sample interval",
}


def split_unit(key: str) -> tuple[str, str]:
    """Get (name, display unit) of a design.md key: 'mu0_hc_T' → ('mu0_hc', 'T'),
    'gamma_Hz_per_T' → ('gamma', 'Hz/T'), 'alpha' → ('alpha', '')."""
    if key == "tesla_per_A":
        return key, "T/A"
    for suffix, unit in _UNITS:
        if key.endswith(suffix):
            return key[: -len(suffix)], unit
    return key, ""


def label(key: str) -> str:
    """Get a readable name of a key: 'mu0_hsw_up_T' → 'μ0H_sw,up'."""
    if key in LABELS:
        return LABELS[key]
    name, _ = split_unit(key)
    if name.startswith("mu0_h"):
        rest = name[len("mu0_h"):].strip("_").replace("_", ",")
        return "μ0H" + (f"_{rest}" if rest else "")
    return name


def _prefix(scale: float, unit: str) -> tuple[float, str]:
    """Get (factor, unit with prefix) that puts ``scale`` in [1, 1000): 'T' → 'mT' for
    0.08; a per-unit '/A' → '/µA' for 3e6 (the value is then divided by 1e6)."""
    if not unit or unit in _NO_PREFIX or not math.isfinite(scale) or scale == 0:
        return 1.0, unit
    if unit.startswith("/"):
        for factor, p in _PREFIXES[3:]:                  # per unit, per milli-unit, …
            if scale * factor < 1000:
                return 1.0 / factor, f"/{p}{unit[1:]}"
        return 1.0 / _PREFIXES[-1][0], f"/{_PREFIXES[-1][1]}{unit[1:]}"
    for factor, p in _PREFIXES:
        if scale >= factor * 0.9999:
            return factor, p + unit
    return _PREFIXES[-1][0], _PREFIXES[-1][1] + unit


def format_value(value: float, err: float | None = None, unit: str = "") -> str:
    """Get 'value ± err unit' with an SI prefix and the value rounded where the error's
    second significant digit sits (4 significant digits without an error)."""
    if not math.isfinite(value):
        return "n/a"
    good_err = err is not None and math.isfinite(err) and err > 0
    factor, shown = _prefix(max(abs(value), err if good_err else 0.0), unit)
    v = value / factor
    if good_err:
        e = err / factor
        place = math.floor(math.log10(e)) - 1          # the error's second digit
        if place >= 0:                                   # round to tens, hundreds, …
            text = f"{round(v, -place):.0f} ± {round(e, -place):.0f}"
        else:
            digits = min(12, -place)
            text = f"{v:.{digits}f} ± {e:.{digits}f}"
    else:
        text = f"{v:.4g}"
    return f"{text} {shown}".strip()


def key_lines(result: dict, keys: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Get (key, 'label = value ± err unit') for the scalar keys of ``result`` named in
    ``keys`` (in that order; absent or non-numeric ones left out) or, without ``keys``,
    every scalar key that has an ``_err``."""
    if keys is None:
        keys = [k for k in result if not k.endswith("_err") and k + "_err" in result]
    out = []
    for k in keys:
        v = result.get(k)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            continue
        err = result.get(k + "_err")
        err = float(err) if isinstance(err, (int, float)) else None
        out.append((k, f"{label(k)} = {format_value(float(v), err, split_unit(k)[1])}"))
    return out


def new_figure(n_panels: int = 1, *, width_per_panel: float = 4.6, height: float = 4.2):
    """Get (figure, axes list): ``n_panels`` panels side by side and a key-number column."""
    from matplotlib.figure import Figure
    width = width_per_panel * n_panels + 3.4
    fig = Figure(figsize=(width, height), dpi=110)
    right = 1.0 - 3.4 / width
    gs = fig.add_gridspec(1, n_panels, left=0.9 / width, right=right - 0.25 / width,
                          top=0.84, bottom=0.2, wspace=0.38)
    axes = [fig.add_subplot(gs[0, k]) for k in range(n_panels)]
    fig._labspin_text_x = right + 0.1 / width      # where the key numbers start
    return fig, axes


def add_key_numbers(fig, result: dict, keys: Sequence[str] | None = None,
                    notes: Sequence[str] = ()) -> list:
    """Write the key numbers (and free-text ``notes``) in the figure's right column; get the
    Text objects (gid = the key)."""
    x = getattr(fig, "_labspin_text_x", 0.75)
    texts = [fig.text(x, 0.84, "Key numbers (± 1 s.e.)", fontsize=9.5, weight="bold",
                      va="top")]
    y = 0.84 - 0.065
    for key, line in key_lines(result, keys):
        texts.append(fig.text(x, y, line, fontsize=9, va="top", gid=key, family="DejaVu Sans"))
        y -= 0.055
    for note in notes:
        texts.append(fig.text(x, y, note, fontsize=8, va="top", color="0.3"))
        y -= 0.05
    return texts


def decorate(fig, procedure: str, files: Sequence[str | Path] = (), sample: str = "") -> None:
    """Add the title (procedure, sample) and the footer (files, labspin version)."""
    from labspin import __version__
    fig.suptitle(f"{procedure}" + (f" — sample {sample}" if sample else ""), x=0.02,
                 ha="left", fontsize=12, weight="bold")
    names = [Path(f).name for f in files]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    fig.text(0.02, 0.015, (f"{shown}   " if shown else "") + f"labspin {__version__}",
             fontsize=7, color="0.4")


def mark_fit(artists) -> None:
    """Give fitted-curve artists the gid "fit" (tests and readers find them)."""
    for a in artists if isinstance(artists, (list, tuple)) else [artists]:
        if a is not None:
            a.set_gid("fit")


def save_figure(fig, path: str | Path) -> Path:
    """Save the figure as PNG (Agg); get the path. The folder must exist."""
    path = Path(path)
    fig.savefig(path, format="png")
    return path
