"""The fmr procedure on the simulated bench: rf through a waveguide, a diode read by a
lock-in, field modulation from the lock-in's sine output; the physics core's absorbed power;
`labspin run fmr --sim` then `labspin analyze fmr` recovers the sample's α and M_eff."""
from __future__ import annotations

import json

import numpy as np
import pytest

from labspin.cli.main import main
from labspin.physics.constants import MU0
from labspin.physics.macrospin import absorbed_power_W, equilibrium
from labspin.sim_backend.samples import load_sample


def test_absorbed_power_is_the_kittel_lorentzian():
    """P_abs(B) at 10 GHz of the FMR sample: positive everywhere (a passive magnet), peaked at
    the Kittel field, HWHM α·f/γ (physics.md check 5 and the ST-FMR linewidth), to the
    0.02 mT grid."""
    sample = load_sample("py_film_fmr")
    d = sample.describe()
    system, f = sample.system, 10e9
    bk = d["mu0_hk_T"]
    b = np.linspace(0.07, 0.14, 701)
    p = np.array([absorbed_power_W(system, equilibrium(system, [x / MU0, 0, 0], 0.0,
                                                       m0=np.array([1.0, 0, 0])).m,
                                   f, 10.0, (0, 1, 0), np.array([[x / MU0], [0], [0]]))[0]
                  for x in b])
    assert (p > 0).all()
    g, meff = d["gamma_Hz_per_T"], d["mu0_meff_T"]
    # f = γ√((B + B_k)(B + B_k + M_eff))
    b0 = -bk - 0.5 * meff + np.sqrt(0.25 * meff ** 2 + (f / g) ** 2)
    assert b[np.argmax(p)] == pytest.approx(b0, abs=2e-4)
    half = b[p > p.max() / 2]
    assert 0.5 * (half[-1] - half[0]) == pytest.approx(d["alpha"] * f / g, abs=2e-4)


@pytest.fixture(scope="module")
def dry_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fmr")
    rc = main(["run", "fmr", "--sim", "--out", str(out), "--param", "power=-10",
               "--param", "frequencies=8, 12, 16", "--param", "field_points=31"])
    assert rc == 0
    return next(out.glob("fmr_*.csv"))


def test_dry_run_then_analyze_recovers_alpha_and_meff(dry_run, capsys):
    """The user gives the in-plane anisotropy (0.25 mT, a constant they know) and γ from the
    g-factor (29.4 ± 0.3 GHz/T); α and μ0M_eff are recovered within 3 standard errors."""
    capsys.readouterr()
    truth = load_sample("py_film_fmr").describe()
    assert main(["analyze", "fmr", str(dry_run), "--json",
                 "--option", f"mu0_hk_T={truth['mu0_hk_T']}",
                 "--option", "gamma_Hz_per_T=29.4e9±0.3e9"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["lineshape"] == "derivative" and r["n_lines"] == 3
    for key in ("alpha", "mu0_meff_T"):
        assert abs(r[key] - truth[key]) < 3 * r[key + "_err"], (key, r[key], r[key + "_err"])
    assert r["alpha_err"] < 0.05 * truth["alpha"]
    assert r["mu0_meff_T_err"] < 0.05


def test_file_records_the_lockin_channels(dry_run):
    import pandas as pd

    from labspin.results.reader import read_table
    df = read_table(dry_run)
    assert {"X (V)", "Y (V)", "Field (T)", "Frequency (Hz)"} <= set(df.columns)
    assert sorted(pd.unique(df["Frequency (Hz)"])) == [8e9, 12e9, 16e9]
    # the diode signal is in phase with the sine output that drives the coils: Y ≈ 0
    assert np.abs(df["Y (V)"]).max() < 0.05 * np.abs(df["X (V)"]).max()


def test_windows_follow_the_lines_found():
    """A 10 % wrong Expected μ0M_eff (0.9 T for 1.0 T, and γ/2π 29 for 29.39 GHz/T) puts
    the 16 GHz window 27 mT off the resonance, outside ±15 mT; centred from the 8 GHz line
    found, it holds the resonance well inside."""
    from labspin.procedures.fmr import FMR
    from labspin.procedures.stfmr import resonance_field_estimate
    p = FMR()
    p.meff_guess, p.gamma_guess = 0.9, 29.0e9
    truth = load_sample("py_film_fmr").describe()

    def b_true(f):
        return resonance_field_estimate(f, truth["mu0_meff_T"], truth["gamma_Hz_per_T"])
    blind = p.window(16e9, p.next_meff([]))
    assert not blind[0] < b_true(16e9) < blind[-1]
    placed = p.window(16e9, p.next_meff([(8e9, b_true(8e9))]))
    assert placed[0] + 0.005 < b_true(16e9) < placed[-1] - 0.005


def test_the_modulation_coils_have_their_own_limit_not_the_samples():
    import dataclasses
    import math

    from labspin.bench.safety import LimitError
    from labspin.procedures.fmr import FMR
    from labspin.run.api import prepare
    from labspin.sim_backend.wirings import MODULATION_COIL_MAX_A, simulated_bench

    bench = simulated_bench("fmr", "py_film_fmr")
    lockin = bench.config.instruments["lockin"]
    assert lockin.max_coil_current_A == MODULATION_COIL_MAX_A
    bench.open()
    try:
        # the peak √2·V_rms into a shorted coil behind the sine output's 50 Ω is the coils'
        # rated current — not the sample's 20 mA, which would stop the sine at 0.707 V rms
        high = bench.role("lock_in").limits_of("sine_amplitude")[1]
        assert math.sqrt(2) * high / 50.0 == pytest.approx(MODULATION_COIL_MAX_A, rel=1e-12)
    finally:
        bench.close()
    # check(), before any instrument is opened: beyond the coils' current, and a bench that
    # does not say what its coils take
    with pytest.raises(LimitError, match=r"parameter 'Modulation amplitude' = 4.0 V is outside "
                                         r"the allowed range \[0.004, 3.53553\] V .*drives "
                                         r"modulation coils: max_coil_current_A = 0.1 A"):
        prepare("fmr", params={"modulation_amplitude": 4.0})
    no_coil = dataclasses.replace(lockin, max_coil_current_A=None)
    config = dataclasses.replace(bench.config, instruments={**bench.config.instruments,
                                                             "lockin": no_coil})
    with pytest.raises(LimitError, match=r"gives no instruments.lockin.max_coil_current_A"):
        FMR().check(config)
    FMR().check(bench.config)                 # the defaults pass
