"""ST-FMR per-line and per-polarity output on synthetic sweeps of known truth (fast: no
simulated bench): every sweep listed with its fit or why it was not used, Kittel and damping
per polarity and joint, a polarity field offset (remanence) given as an option, the text
report and strict JSON listing the same lines."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from labspin.physics.constants import MU0
from labspin.physics.macrospin.analytic import kittel_inplane
from labspin.procedures.estimates import strict
from labspin.procedures.report import format_result
from labspin.procedures.stfmr_analysis import analyze_stfmr, lineshape

GAMMA, MEFF, ALPHA, DH0 = 29.0e9, 0.90, 0.010, 0.3e-3       # Hz/T, T, –, T
FREQS = (8e9, 10e9, 12e9, 14e9)
NOISE_V = 20e-9


def _b_res(f_Hz: float) -> float:
    """Invert the core's Kittel law numerically (bisection on |B|, T)."""
    lo, hi = 1e-4, 2.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        f = kittel_inplane(mid / MU0, MEFF / MU0, 0.0, gamma0=2 * math.pi * MU0 * GAMMA)
        lo, hi = (mid, hi) if f < f_Hz else (lo, mid)
    return 0.5 * (lo + hi)


def _sweeps(offset_T: float = 0.0, seed: int = 4, outside_at: float | None = None):
    """Synthetic µV-scale lines, both polarities, 81 fields ± 25 mT around resonance; the
    field reading is off by the remanence: |B_read| = |B_true| − polarity·offset_T. With
    ``outside_at`` the sweep at that frequency (+ polarity) misses its resonance."""
    rng = np.random.default_rng(seed)
    rows = []
    for f in FREQS:
        b0 = _b_res(f)
        dh = DH0 + f * ALPHA / GAMMA
        for pol in (1, -1):
            centre = b0 + (0.035 if f == outside_at and pol == 1 else 0.0)
            b_true = np.linspace(centre - 0.025, centre + 0.025, 81)
            v = lineshape(b_true, b0, dh, 4e-6, 2.5e-6, 1e-6, 0.0)
            v = v + NOISE_V * rng.standard_normal(b_true.size)
            b_read = b_true - pol * offset_T
            rows.append(pd.DataFrame({"Frequency (Hz)": f, "Field (T)": pol * b_read,
                                      "Vmix (V)": v}))
    return pd.concat(rows, ignore_index=True)


def test_every_line_is_listed_with_its_fit_and_the_polarities_apart():
    res = analyze_stfmr(_sweeps(outside_at=12e9))
    lines = res["lines"]
    assert len(lines) == 2 * len(FREQS)
    keys = {"frequency_Hz", "polarity", "file", "repeat", "mu0_hres_T", "mu0_hres_T_err",
            "mu0_dh_T", "mu0_dh_T_err", "s_V", "s_V_err", "a_V", "a_V_err", "s_over_a",
            "s_over_a_err", "used", "reason"}
    assert all(keys <= set(r) for r in lines)
    bad = [r for r in lines if not r["used"]]
    assert [(r["frequency_Hz"], r["polarity"]) for r in bad] == [(12e9, 1)]
    # only the tail was swept: either the fit puts the resonance outside the window or it
    # cannot converge; both are named
    assert ("outside the swept window" in bad[0]["reason"]
            or "did not converge" in bad[0]["reason"]), bad[0]["reason"]
    assert any("12 GHz, polarity +1 not used" in w for w in res["warnings"])
    # per polarity and joint: γ fixed at the joint fit's for each polarity
    pols = {p["polarity"]: p for p in res["per_polarity"]}
    assert set(pols) == {1, -1} and pols[1]["n_lines"] == 3 and pols[-1]["n_lines"] == 4
    for p in pols.values():
        assert p["mu0_meff_T"] == pytest.approx(MEFF, abs=5 * p["mu0_meff_T_err"] + 1e-4)
    assert res["alpha"] == pytest.approx(ALPHA, abs=5 * res["alpha_err"])


def test_a_remanence_offset_splits_the_polarities_until_it_is_given():
    """A 2 mT offset moves B_res of the two polarities by ∓2 mT, far beyond the line fits'
    ≈ 5 µT errors: the per-polarity M_eff disagree, the joint error carries the systematic
    term with a warning. Given as the option field_offset_T, the polarities agree (no
    warning) and the joint M_eff is within 3 standard errors of the truth."""
    df = _sweeps(offset_T=2e-3)
    raw = analyze_stfmr(df, gamma_Hz_per_T=GAMMA)
    pols = {p["polarity"]: p["mu0_meff_T"] for p in raw["per_polarity"]}
    assert abs(pols[1] - pols[-1]) > 0.01
    assert any(w.startswith("mu0_meff_T: the estimates disagree") for w in raw["warnings"])
    fixed = analyze_stfmr(df, gamma_Hz_per_T=GAMMA, field_offset_T=2e-3)
    assert not any(w.startswith("mu0_meff_T: the estimates disagree")
                   for w in fixed["warnings"])
    assert fixed["mu0_meff_T"] == pytest.approx(MEFF, abs=3 * fixed["mu0_meff_T_err"])
    assert fixed["priors"]["field_offset_T"] == {"value": 2e-3, "err": 0.0,
                                                      "source": "option"}


def test_text_report_and_strict_json_list_the_same_lines():
    res = analyze_stfmr(_sweeps(outside_at=12e9))
    text = format_result(res)
    table = text.split("lines:\n", 1)[1].split("\n")
    rows = [r for r in table[1:1 + len(res["lines"])] if r.startswith("  ")]
    assert len(rows) == len(res["lines"]) and "mu0_hres_T" in table[0]
    assert sum(" no " in f" {r} " for r in rows) == 1           # the unused line
    assert "priors:" in text and "warning: line 12 GHz, polarity +1 not used" in text
    back = json.loads(json.dumps(strict(res), allow_nan=False))
    assert len(back["lines"]) == len(res["lines"])
    assert back["lines"][0]["mu0_hres_T"] == pytest.approx(res["lines"][0]["mu0_hres_T"])


def test_microvolt_line_on_a_drifting_baseline_converges_with_unit_pulls():
    """Real-scale data: S = 2 µV, A = 1 µV on a 30 µV offset drifting by 60 µV/T (3 µV over
    the 50 mT sweep, more than the line), 30 nV noise, 61 fields. Over 12 noise seeds the
    fit converges from its own start every time and the pulls of B_res and ΔH have mean
    within 3/√12 = 0.87 of 0 and width within 3/√22 = 0.64 of 1 (unit-normal statistics);
    the same data in V and in µV (labelled V) give the same line to 1e-3 of its errors."""
    from labspin.procedures.stfmr_analysis import fit_line
    b = np.linspace(0.075, 0.125, 61)
    x0, dh = 0.1, 2.5e-3
    clean = lineshape(b, x0, dh, 2e-6, 1e-6, 30e-6, 60e-6, 0.1)
    pulls = {"mu0_hres_T": [], "mu0_dh_T": []}
    for seed in range(12):
        v = clean + 30e-9 * np.random.default_rng(seed).standard_normal(b.size)
        fit = fit_line(b, v)
        pulls["mu0_hres_T"].append((x0 - fit["mu0_hres_T"]) / fit["mu0_hres_T_err"])
        pulls["mu0_dh_T"].append((dh - fit["mu0_dh_T"]) / fit["mu0_dh_T_err"])
        if seed < 3:
            micro = fit_line(b, v * 1e6)
            for key in pulls:
                assert abs(micro[key] - fit[key]) < 1e-3 * fit[key + "_err"]
    for key, x in pulls.items():
        x = np.array(x)
        assert abs(x.mean()) < 3 / math.sqrt(x.size), (key, x)
        assert abs(x.std(ddof=1) - 1) < 3 / math.sqrt(2 * (x.size - 1)), (key, x)


def test_a_table_without_usable_lines_is_refused_in_a_readable_message():
    """A field-major map (frequency changing every row, as the real permalloy map of
    ../shared/realdata is ordered) makes one-point sweeps: refused, naming how many sweeps
    and the first reasons, not tens of thousands of them."""
    f = np.tile([8e9, 9e9, 10e9], 400)
    b = np.repeat(np.linspace(0.05, 0.2, 400), 3)
    df = pd.DataFrame({"Frequency (Hz)": f, "Field (T)": b, "Vmix (V)": 1e-6 * np.sin(b)})
    with pytest.raises(ValueError, match=r"got 0 of 1200 sweeps") as info:
        analyze_stfmr(df)
    assert len(str(info.value)) < 1500 and "more" in str(info.value)
