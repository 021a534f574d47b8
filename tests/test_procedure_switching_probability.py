"""switching-probability end to end on the simulated bench (pulsed wiring): the
Beta-posterior interval, the maximum-likelihood fit of the exact thermally activated model
(pulls on draws from it), closed-loop recovery of Δ and I_c0 with the defaults (sample
mtj_pillar_switching) and on mtj_pillar with Δ and I_c0 set with --set, limits refused before
anything is touched, and an abort leaving the sources safe. The model against the simulated
pillar's stochastic LLG is in test_brown_switching.py."""
import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from labspin.cli.main import main
from labspin.physics.constants import GAMMA0, MU0
from labspin.procedures.estimates import resolve_priors
from labspin.procedures.switching_probability import SwitchingProbability, beta_interval
from labspin.procedures.switching_probability_analysis import (
    OPTIONS,
    ThermalSwitchingModel,
    analyze_switching_probability,
    fit_thermal_activation,
    header_constants,
    pooled_counts,
    probability_table,
)
from labspin.results.reader import read_table
from labspin.run.runner import ABORTED, run_procedure
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.virtual_bench import VirtualMagnet
from labspin.sim_backend.wirings import simulated_bench


def _bench(overrides=(), seed=1):
    return simulated_bench("pulsed", "mtj_pillar", list(overrides), seed=seed,
                           magnet=VirtualMagnet(axis="z"))


def test_beta_interval_jeffreys_and_uniform():
    mean, lo, hi = beta_interval(0, 20)
    assert 0 <= lo < 2e-3            # Jeffreys: Beta(½, 20½), its 15.9 % quantile
    assert 0 < hi < 0.1 and mean == pytest.approx(0.5 / 21)
    mean, lo, hi = beta_interval(10, 20, prior="uniform")
    assert mean == pytest.approx(0.5) and lo == pytest.approx(1 - hi)
    # 68.3 % central interval ≈ ±1 binomial σ for mid probabilities and large n
    _, lo, hi = beta_interval(500, 1000)
    assert (hi - lo) / 2 == pytest.approx(np.sqrt(0.25 / 1000), rel=0.02)


def _design(alpha=0.1, mu0_hk_T=0.13):
    """Pooled rows like a run's: 7 levels × 2 widths, 1 ns edges, 1 µA read bias, the
    simulated bench's wait between the pulse and the read after it."""
    amps = np.linspace(0.07, 0.13, 7)
    rows = [{"current": 2 * a / 2050, "width": w, "direction": -1.0, "rise": 1e-9,
             "bias": 1e-6, "field": 0.0, "wait_before": 0.0, "wait_after": 0.035, "n": 60.0,
             "k": 0.0} for w in (3e-9, 1e-8) for a in amps]
    tau_d = (1 + alpha ** 2) / (alpha * GAMMA0 * mu0_hk_T / MU0)
    return pd.DataFrame(rows), tau_d


def test_fit_recovers_delta_and_ic0_from_draws_of_the_exact_model():
    """Binomial draws (60 trials per point, 840 in all) from the exact model itself. τ_D
    fixed: over 3 seeds every estimate lies within 3.5 reported standard errors of the truth
    and the 6 pulls' rms is below 1.6 (p ≈ 0.02 for correct errors; Fisher errors 2× too
    small would give an rms near 2). τ_D free (one seed): Δ, I_c0 and τ_N within 3.5σ."""
    counts, tau_d = _design()
    delta, ic0 = 24.5, 123e-6
    p = ThermalSwitchingModel(counts, 0.13).probabilities(delta, ic0, tau_d)
    assert p.min() < 0.01 and p.max() > 0.95             # the design spans the S-curve
    pulls = []
    for seed in range(3):
        counts["k"] = np.random.default_rng(seed).binomial(60, p).astype(float)
        fit = fit_thermal_activation(counts, alpha=0.1, mu0_hk_T=0.13)
        assert fit["tau_d_fixed"] is True and fit["success"]
        assert fit["tau_d_s"] == pytest.approx(tau_d, rel=1e-12)
        pulls += [(fit["delta"] - delta) / fit["delta_err"],
                  (fit["ic0_A"] - ic0) / fit["ic0_A_err"]]
    pulls = np.array(pulls)
    assert np.all(np.abs(pulls) < 3.5) and np.sqrt(np.mean(pulls ** 2)) < 1.6, pulls
    free = fit_thermal_activation(counts, mu0_hk_T=0.13)
    assert free["tau_d_fixed"] is False
    for key, truth in (("delta", delta), ("ic0_A", ic0), ("tau_n_s", delta * tau_d)):
        assert abs(free[key] - truth) < 3.5 * free[key + "_err"], (key, free[key], truth)


def test_fit_needs_points_on_two_currents():
    counts, _ = _design()
    with pytest.raises(ValueError, match="three"):
        fit_thermal_activation(counts.iloc[:2], alpha=0.1, mu0_hk_T=0.13)
    one = counts[counts.current == counts.current.iloc[0]]
    with pytest.raises(ValueError, match="same current"):
        fit_thermal_activation(pd.concat([one] * 3), alpha=0.1, mu0_hk_T=0.13)


def test_priors_are_options_or_typed_parameters_never_the_sample_parameters():
    """α and μ0H_K fix τ_D only when a user gives them (--option with its error, or the
    procedure's "Damping"/"Anisotropy field" typed at run time); the simulator's truth in
    the header ("Sample parameters") is not a prior (design.md). A prior's error widens Δ's
    by the shift α's error causes (linearised at the fit)."""
    counts, tau_d = _design()
    p = ThermalSwitchingModel(counts, 0.13).probabilities(24.5, 123e-6, tau_d)
    df = pd.DataFrame({"Pulse current (A)": counts.current, "Pulse width (s)": counts.width,
                       "Pulse amplitude (V)": -1025 * counts.current, "Trials": counts.n,
                       "Switched": np.random.default_rng(1).binomial(60, p),
                       "Pulse rise (s)": counts.rise, "Bias current (A)": counts.bias,
                       "Wait after pulse (s)": counts.wait_after})
    truth = '#Metadata:\n#\tSample parameters: {"alpha": 0.1, "mu0_meff_T": -0.13}'
    typed = "#Parameters:\n#\tDamping: 0.1\n#\tAnisotropy field: 0.13 T"
    # the priors the analysis resolves (the fits themselves take ~30 s each)
    df.attrs["header"] = truth
    found = resolve_priors(OPTIONS, {}, df.attrs, header_constants(df))
    assert set(found) == {"gamma_Hz_per_T"} and found["gamma_Hz_per_T"].source == "default"
    df.attrs["header"] = typed
    found = resolve_priors(OPTIONS, {}, df.attrs, header_constants(df))
    assert (found["alpha"].value, found["mu0_hk_T"].value) == (0.1, 0.13)
    assert {found[k].source for k in ("alpha", "mu0_hk_T")} == {"file: procedure parameters"}
    df.attrs["header"] = truth
    given = analyze_switching_probability(df, alpha="0.1±0.01", mu0_hk_T="0.13")
    assert given["tau_d_fixed"] is True and given["tau_d_s"] == pytest.approx(tau_d)
    assert given["priors"]["alpha"] == {"value": 0.1, "err": 0.01, "source": "option"}
    assert given["warnings"] == []
    # a 10 % error on α moves Δ by ≈ 0.2 (a refit with α = 0.11 gives 0.20): the total error
    # is the binomial one and that shift in quadrature
    shift = math.sqrt(given["delta_err"] ** 2 - given["delta_err_stat"] ** 2)
    assert 0.1 < shift < 0.3, given
    assert abs(given["delta"] - 24.5) < 3 * given["delta_err"]


# Closed loop: Δ set through μ0M_eff (the pillar's barrier field H_K = −M_eff), I_c0 through
# the STT efficiency η; α = 0.1 keeps I_c0 = αH_K/(H_DL per A) above the 81160A's smallest
# pulse (50 mV → 28 µA into R_P behind the 1.5 kΩ protection resistor) so the pulses probe
# the thermally activated regime. The writes, −0.116 to −0.215 V, are 65–121 µA into R_P
# (2V/(50 Ω + 1.5 kΩ + 2 kΩ)); the reset, 0.48 V (within the 0.487 V that the junction's
# 0.628 mA allow into a short), is 161 µA ≈ 1.3 I_c0 into R_AP, so it lasts 20 ns: the
# chance that a thermal start outlasts it, ≈ Δ(π/2)²·exp(−2·20 ns·0.31/τ_D) with
# τ_D ≈ 0.44 ns, is ~1e-10.
RECOVERY = ["mu0_meff_T=-0.13", "alpha=0.1", "stt.eta=0.5"]


def _truth(overrides):
    d = load_sample("mtj_pillar", overrides).describe()
    return d["delta"], d["alpha"] * -d["mu0_meff_T"] / d["mu0_hdl_per_A_T"]


def _recovery(tmp_path, capsys, trials, seed):
    """Run switching-probability from the CLI on the overridden pillar and analyze it from
    the CLI; get (the results path, the analysis)."""
    args = ["run", "switching-probability", "--sim", "--sample", "mtj_pillar",
            "--seed", str(seed), "--out", str(tmp_path)]
    for s in RECOVERY:
        args += ["--set", s]
    for p in ("amplitudes=-0.116,-0.132,-0.149,-0.165,-0.182,-0.198,-0.215",
              "widths=3e-9,1e-8", f"trials={trials}", "reset_amplitude=0.48",
              "reset_width=2e-8"):
        args += ["--param", p]
    rc = main(args)
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    assert main(["analyze", "switching-probability", path, "--json",
                 *_measured_priors("mtj_pillar", RECOVERY)]) == 0
    return path, json.loads(capsys.readouterr().out)


def _measured_priors(sample, overrides=()):
    """Get the --options a user gives who measured α (FMR linewidth) and μ0H_K (FMR or a
    hard-axis loop) of the free layer to 3 %: the values of ``labspin sim show`` with that
    uncertainty (the analysis never reads the file's Sample parameters)."""
    d = load_sample(sample, list(overrides)).describe()
    out = []
    for name, value in (("alpha", d["alpha"]), ("mu0_hk_T", -d["mu0_meff_T"])):
        out += ["--option", f"{name}={value:.6g}±{0.03 * abs(value):.3g}"]
    return out


def _check_recovery(res, truth, capsys):
    """|error| < 3σ (σ: the fit's binomial standard error from the Fisher information). No
    systematic is added: the bench's trials start Boltzmann-distributed in the reset well,
    as the default analysis (start="well") assumes, and the model's numerical error
    (≤ 2.5e-3 in P where these designs put their points, test_brown_switching.py) is far
    below the binomial σ of 24–100 trials per point (≥ 0.02)."""
    assert res["tau_d_fixed"] is True            # α, μ0H_K given as priors
    assert {res["priors"][k]["source"] for k in ("alpha", "mu0_hk_T")} == {"option"}
    # the priors' 3 % errors are propagated: the total error is not below the binomial one
    assert res["delta_err"] >= res["delta_err_stat"] and res["ic0_A_err"] >= res["ic0_A_err_stat"]
    for key, value in truth.items():
        err = res[key] - value
        with capsys.disabled():
            print(f"\n{key}: {res[key]:.4g} ± {res[key + '_err']:.2g} (truth {value:.4g}, "
                  f"error {err:+.2g} = {err / res[key + '_err']:+.2f}σ)")
        assert abs(err) < 3 * res[key + "_err"], key
    assert res["gof_pvalue"] > 1e-3              # the model describes the counts


def test_closed_loop_recovery_of_delta_and_ic0(tmp_path, capsys):
    """--set Δ = 24.5 and I_c0 = 123 µA, 14 points × 24 trials (336), analyze: both back
    within 3σ. The design informs both: its Fisher errors at the truth (the fit of the
    model's expected counts) are σ_Δ ≈ 1.6 and σ_Ic0 ≈ 3.1 µA. A draw's own errors scatter
    far more, the likelihood being skewed toward large Δ (this seed: Δ = 26.8 ± 4.2,
    I_c0 = 119.6 ± 5.4 µA), so the design is checked at the truth, not on the draw."""
    path, res = _recovery(tmp_path, capsys, trials=24, seed=5)
    assert res["n_trials"] == 336
    df = read_table(path)
    truth = load_sample("mtj_pillar", RECOVERY).describe()
    alpha, hk = truth["alpha"], -truth["mu0_meff_T"]
    tau_d = (1 + alpha ** 2) / (alpha * GAMMA0 * hk / MU0)
    counts = pooled_counts(df)
    expected = ThermalSwitchingModel(counts, hk).probabilities(*_truth(RECOVERY), tau_d)
    fisher = fit_thermal_activation(counts.assign(k=counts["n"] * expected), alpha=alpha,
                                    mu0_hk_T=hk)
    assert fisher["delta_err"] < 4 and fisher["ic0_A_err"] < 8e-6
    assert (df["Pulse rise (s)"] == 1e-9).all() and (df["Bias current (A)"] == 1e-6).all()
    assert (df["Wait after pulse (s)"] > 1e-3).all()  # the settle and the read, clock time
    delta, ic0 = _truth(RECOVERY)
    _check_recovery(res, {"delta": delta, "ic0_A": ic0}, capsys)
    table = probability_table(df)
    assert (table.p_low <= table.p_mean).all() and (table.p_mean <= table.p_high).all()


@pytest.mark.slow
def test_closed_loop_recovery_full_size(tmp_path, capsys):
    """As above with 100 trials per point (1400): σ_Ic0 ≈ 2.4 µA; σ_Δ ≈ 2 hardly shrinks, as
    much of the information on Δ comes from the rare hops during the ≈ 35 ms between the
    reads (Brown's rate ∝ e^{−Δ}), whose size depends on Δ̂ itself."""
    _, res = _recovery(tmp_path, capsys, trials=100, seed=6)
    delta, ic0 = _truth(RECOVERY)
    _check_recovery(res, {"delta": delta, "ic0_A": ic0}, capsys)


def test_closed_loop_recovery_with_the_defaults(tmp_path, capsys):
    """`labspin run switching-probability --sim` with every default (sample
    mtj_pillar_switching: Δ = 50, I_c0 = 220 µA; 10 levels of 175–287.5 mV (137–225 µA
    behind the 1.5 kΩ protection resistor) × 10 and 30 ns × 40 trials = 800), then
    `labspin analyze … --json`: the probabilities span ≈ 0 to ≈ 1 at both widths (the
    model's 0.006–0.955 at 10 ns, 0.03–1 at 30 ns: the bounds below hold with probability
    > 0.99 for 40 trials), the reset (30 ns at ≈ 1.16 I_c0) rarely fails, the fit informs
    both parameters (σ_Δ ≈ 6, σ_Ic0 ≈ 5.2 µA: the Fisher errors of this design at the
    truth) and gives back `labspin sim show`'s truth within 3σ (this seed: Δ = 64 ± 9,
    I_c0 = 210 ± 5 µA, +1.6σ and −1.9σ; seed 1: 53.5 ± 7, 215 ± 5.5 µA)."""
    rc = main(["run", "switching-probability", "--sim", "--out", str(tmp_path)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    path = out.out.strip().splitlines()[-1]
    df = read_table(path)
    assert "Sample: mtj_pillar_switching\n" in df.attrs["header"] + "\n"
    assert int(df["Trials"].sum()) == 800 and df["Reset failures"].sum() <= 2
    for _, p in df.groupby("Pulse width (s)")["Probability"]:
        assert p.min() <= 0.15 and p.max() >= 0.85                    # the S-curve is spanned
    assert main(["analyze", "switching-probability", path, "--json",
                 *_measured_priors("mtj_pillar_switching")]) == 0
    res = json.loads(capsys.readouterr().out)
    assert main(["sim", "show", "mtj_pillar_switching", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    truth = {"delta": info["delta"],
             "ic0_A": info["alpha"] * -info["mu0_meff_T"] / info["mu0_hdl_per_A_T"]}
    assert res["delta_err"] < 0.2 * truth["delta"] and res["ic0_A_err"] < 0.04 * truth["ic0_A"]
    _check_recovery(res, truth, capsys)


def test_limits_are_refused_before_anything_is_touched():
    # the junction allows 1 V: a 50 Ω generator's EMF 2V across an open one
    for attr, value, text in (("reset_amplitude", 1.0, "parameter 'Reset amplitude'"),
                              ("amplitudes", "-0.1,-0.8", "parameter 'Write amplitudes'"),
                              ("read_current", 0.05, "parameter 'Read current'"),
                              ("field", 2.0, "parameter 'Field'"),
                              ("rise_time", 6e-9, "parameter 'Pulse rise time'")):
        bench = _bench()
        p = SwitchingProbability()
        setattr(p, attr, value)
        with pytest.raises(ValueError, match=re.escape(text)):
            run_procedure(p, bench, ".")
        for twin in bench.virtual.instruments.values():
            assert list(twin.log) == []
    with pytest.raises(ValueError, match="not a list of numbers"):
        p = SwitchingProbability()
        p.widths = "5nA"                   # "5ns" is 5 ns (units.parse_quantity); nA is no time
        run_procedure(p, _bench(), ".")


def test_abort_leaves_the_sources_safe(tmp_path, run_aborted):
    bench = _bench()
    p = SwitchingProbability()
    p.trials, p.amplitudes = 3, "-0.06,-0.08,-0.1"
    result = run_aborted(p, bench, tmp_path, at_percent=20)
    assert result.status == ABORTED
    vb = bench.virtual
    assert vb.drives.dc_total() == 0.0                   # read current and baseline off
    assert vb.instruments["pulser"].drive(1).on is False  # pulse output off
    assert vb.magnet.setpoint_A == 0.0
    n = len(result.data())
    assert 0 < n < 6 and "#Status: ABORTED" in result.path.read_text()
