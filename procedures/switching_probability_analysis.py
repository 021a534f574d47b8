"""Analysis of switching-probability runs: pooled counts per (current, width), Beta-posterior
intervals, and a maximum-likelihood fit of the thermally activated model of physics.md
check 4 in its exact form, for the barrier Δ and the critical current I_c0 (``delta``,
``ic0_A``).

Model (labspin.physics.brown_switching): the free layer's m_z diffuses in Brown's axially symmetric
Fokker–Planck equation with βE = −Δx² − 2Δ(h + h_s)x, h_s = I/I_c0 (I_c0 = αH_K/(H_DL per
A)) and the time scale τ_N = Δ·τ_D, τ_D = (1 + α²)/(αγ0H_K). Each trial starts
Boltzmann-distributed in the reset well at the holding drive (``start="well"``, a real
magnet, and the simulated bench's pulses, which thermalize the stochastic LLG in the well
first), takes the trapezoidal write pulse (width = full width, "Pulse rise (s)" edges inside
it, on top of the read "Bias current (A)"), and counts as switched when it ends in the other
well. Between the read after the reset and the read after the write ("Wait before pulse
(s)", "Wait after pulse (s)") the magnet also hops between the wells at the exact Brown
rates (labspin.physics.telegraph.mean_first_passage_time) at the holding bias and field: a
background that matters for Δ ≲ 25 (dwell ~ 1 s) and vanishes for larger barriers. This is
the physics of the simulated bench (stochastic LLG of an axially symmetric pillar from the
thermalized well through the pulse, Brown hops between reads), so Δ and I_c0 come back
within the binomial noise there; the Néel–Brown/Li–Zhang form τ0·exp[Δ(1 − I/I_c0)] that
this replaces has the wrong current dependence (the exponent is Δ(1 − I/I_c0)², plus the
prefactor and the pulse's transient) and gave Δ ≈ 7 for a barrier of 22.6.

Sign convention (the simulated pillar's): a positive current or a field along +z favours
m_z = +1; the write pulse (sign of "Pulse amplitude (V)") pushes out of the reset well.

Attempt time: τ_D is **fixed** when α and μ0H_K are known (priors: keywords or
``--option``, else the file's Sample constants, else the procedure's "Damping"/"Anisotropy
field" parameters a user typed; never the simulator's truth): with τ_N = Δ·τ_D tied to
the fitted Δ, the absolute switching rates carry information on Δ and the fit is well
conditioned; the priors' errors are propagated by refitting. Without them τ_D is a **free** third
parameter (``tau_d_fixed`` false): it is then set mostly by the switching near I_c0 and
its correlation with Δ widens ``delta_err`` several-fold.

Fit: lmfit (least squares on the binomial deviance residuals, i.e. exact binomial maximum
likelihood); errors from the inverse expected Fisher information Σ n ∇p∇pᵀ/(p(1 − p)) at
the optimum (p from the model, gradients by central differences). Intervals are the central
68.3 % of the Beta posterior under the Jeffreys prior Beta(½, ½).
"""
from __future__ import annotations

import math

import lmfit
import numpy as np
import pandas as pd
from scipy.stats import chi2

from labspin.physics.brown_switching import switching_probability
from labspin.physics.constants import GAMMA0, MU0
from labspin.physics.telegraph import mean_first_passage_time
from labspin.results.header import parse_header
from labspin.results.needs import Column, Needs

from .estimates import Option, priors_dict, resolve_priors, settings
from .switching_probability import INTERVAL_CL, beta_interval

# optional columns and their values when absent
_OPTIONAL = {"Pulse rise (s)": 0.0, "Bias current (A)": 0.0, "Field (T)": 0.0,
             "Wait before pulse (s)": 0.0, "Wait after pulse (s)": 0.0}


def pooled_counts(df: pd.DataFrame) -> pd.DataFrame:
    """Get one row per (pulse level, width): Trials and Switched summed over rows and files;
    the current the trial-weighted mean over every row of that level (all widths: the same
    level drives the same current), and the optional columns' trial-weighted means (rise,
    bias, field, waits; 0 when absent); ``direction`` the write's sign (+1 without a
    'Pulse amplitude (V)' column). Without that column rows are grouped by current (1 nA)."""
    current = pd.to_numeric(df["Pulse current (A)"]).abs().astype(float)
    amp = df["Pulse amplitude (V)"].astype(float) if "Pulse amplitude (V)" in df else None
    level = amp.abs().round(9) if amp is not None else current.round(9)
    n = df["Trials"].astype(float)
    d = pd.DataFrame({"level": level, "width": df["Pulse width (s)"].astype(float), "n": n,
                      "k": df["Switched"].astype(float),
                      "direction": np.sign(amp).replace(0, 1.0) if amp is not None else 1.0,
                      "in_": current * n})
    names = {"Pulse rise (s)": "rise", "Bias current (A)": "bias", "Field (T)": "field",
             "Wait before pulse (s)": "wait_before", "Wait after pulse (s)": "wait_after"}
    for col, key in names.items():
        v = df[col].astype(float) if col in df else pd.Series(_OPTIONAL[col], index=df.index)
        d[key + "_"] = v.fillna(_OPTIONAL[col]) * n
    per_level = d.groupby("level")[["in_", "n"]].transform("sum")
    d["in_"] = per_level["in_"] / per_level["n"] * n
    sums = [c for c in d.columns if c.endswith("_")] + ["n", "k"]
    g = d.groupby(["level", "width", "direction"], as_index=False)[sums].sum()
    g.insert(0, "current", g.pop("in_") / g["n"])
    for key in names.values():
        g[key] = g.pop(key + "_") / g["n"]
    return g.drop(columns="level").sort_values(["width", "current"], ignore_index=True)


class ThermalSwitchingModel:
    """P(switched) of each pooled row for (Δ, I_c0, τ_D): see the module docstring.

    counts: :func:`pooled_counts`'s table; mu0_hk_T: μ0H_K (T) for the field term (None:
    the field is taken as zero); start: "well" (Boltzmann in the reset well, a real magnet)
    or "pole" (m exactly along the easy axis, the zero-temperature state: for comparison;
    above I_c0 with short pulses it underestimates P, e.g. 0.30 against 0.40 at 2 I_c0, 2 ns,
    Δ = 45, α = 0.03)."""

    def __init__(self, counts: pd.DataFrame, mu0_hk_T: float | None = None,
                 start: str = "well", n_cells: int = 64, n_edge: int = 6):
        self.c = counts.reset_index(drop=True)
        self.mu0_hk_T = mu0_hk_T
        self.start, self.n_cells, self.n_edge = start, n_cells, n_edge

    def _drives(self, ic0: float) -> tuple[np.ndarray, np.ndarray]:
        """Get the reduced drives (pulse top, holding) in the frame where the reset well is
        x = +1: h = −d·(B/μ0H_K + I_lab/I_c0), I_lab = d·I + I_bias."""
        c = self.c
        d = c["direction"].to_numpy(float)
        h_field = c["field"].to_numpy(float) / self.mu0_hk_T if self.mu0_hk_T else 0.0 * d
        hold = -d * (h_field + c["bias"].to_numpy(float) / ic0)
        pulse = hold - c["current"].to_numpy(float) / ic0
        return pulse, hold

    def probabilities(self, delta: float, ic0: float, tau_d: float) -> np.ndarray:
        """Get P(switched) per pooled row (Δ, I_c0 in A, τ_D in s)."""
        c = self.c
        tau_n = delta * tau_d
        pulse, hold = self._drives(ic0)
        width = c["width"].to_numpy(float)
        rise = c["rise"].to_numpy(float)
        p = np.empty(len(c))
        keys = np.round(np.stack([pulse, hold, rise / tau_n]), 12)
        for key in {tuple(k) for k in keys.T}:
            sel = np.all(keys.T == key, axis=1)
            p[sel] = switching_probability(delta, key[0], width[sel] / tau_n, rise=key[2],
                                           h_hold=key[1], start=self.start,
                                           n_cells=self.n_cells, n_edge=self.n_edge)
        return self._with_background(p, delta, tau_n, hold)

    def _with_background(self, p, delta, tau_n, hold) -> np.ndarray:
        """Add the thermal hops between the reads (:func:`_hops`) at the exact Brown rates
        of the holding drive."""
        c = self.c
        t_pre = c["wait_before"].to_numpy(float)
        t_post = c["wait_after"].to_numpy(float)
        if not (np.any(t_pre > 0) or np.any(t_post > 0)):
            return p
        out = p.copy()
        for h in np.unique(hold):
            sel = hold == h
            if abs(h) >= 1.0:
                continue                    # no barrier at the holding drive
            k_out = 1.0 / mean_first_passage_time(delta, h, tau_n=tau_n, from_state=+1)
            k_back = 1.0 / mean_first_passage_time(delta, h, tau_n=tau_n, from_state=-1)
            out[sel] = _hops(p[sel], k_out, k_back, t_pre[sel], t_post[sel])
        return out


def _deviance_residuals(k, n, p) -> np.ndarray:
    """Get sign(k − np)·√(binomial deviance) per point (Σ r² = −2 ln L + const)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(k > 0, k * np.log(k / (n * p)), 0.0)
        b = np.where(n - k > 0, (n - k) * np.log((n - k) / (n * (1 - p))), 0.0)
    return np.sign(k - n * p) * np.sqrt(np.clip(2 * (a + b), 0.0, None))


def _hops(p, k_out, k_back, t_pre, t_post):
    """Get P(in the far well at the second read) from the pulse's P and the two-state chain
    between the reads: rate k_out out of the reset well, k_back back (1/s); flips before the
    pulse leave the magnet where the pulse pushes it."""
    lam = k_out + k_back
    pi_far = k_out / lam
    q = p + (1.0 - p) * -np.expm1(-k_out * t_pre)        # in the far well after the pulse
    decay = np.exp(-lam * t_post)
    return q * (pi_far + (1 - pi_far) * decay) + (1 - q) * pi_far * (1 - decay)


def _asymptotic_rate(delta, h, tau_n):
    """Get Brown's high-barrier escape rate (1/s) out of the well x = +1 at a reduced drive
    h (> −1): Δ^{3/2}(1 − h²)(1 + h)e^{−Δ(1+h)²}/(√π τ_N) (1/(2τ_B) at h = 0)."""
    h = np.clip(h, -0.999, 0.999)
    return delta ** 1.5 * (1 - h * h) * (1 + h) * np.exp(-delta * (1 + h) ** 2) / (
        math.sqrt(math.pi) * tau_n)


def _start(model: ThermalSwitchingModel, n, k, tau_d: float | None):
    """Get a starting (Δ, I_c0, τ_D): the binomial likelihood of the high-barrier asymptote
    (P = 1 − exp(−(width − rise)·rate at the pulse's top), hops between the reads at the
    asymptotic rates) maximized over a grid of Δ, I_c0 (and τ_D when it is free)."""
    c = model.c
    i_max = float(c["current"].max())
    deltas = np.geomspace(2.0, 300.0, 90)[:, None, None, None]
    ic0s = (i_max * np.geomspace(0.6, 6.0, 90))[None, :, None, None]
    taus = (np.array([tau_d]) if tau_d else np.geomspace(1e-13, 1e-7, 31))[None, None, :, None]
    tau_n = deltas * taus
    d = c["direction"].to_numpy(float)
    h_field = c["field"].to_numpy(float) / model.mu0_hk_T if model.mu0_hk_T else 0.0 * d
    hold = -d * (h_field + c["bias"].to_numpy(float) / ic0s)
    top = hold - c["current"].to_numpy(float) / ic0s
    t = np.clip(c["width"].to_numpy(float) - c["rise"].to_numpy(float), 0.0, None)
    p = -np.expm1(-t * _asymptotic_rate(deltas, top, tau_n))
    p = _hops(p, _asymptotic_rate(deltas, hold, tau_n), _asymptotic_rate(deltas, -hold, tau_n),
              c["wait_before"].to_numpy(float), c["wait_after"].to_numpy(float))
    p = np.clip(p, 1e-12, 1 - 1e-12)
    nll = -(k * np.log(p) + (n - k) * np.log1p(-p)).sum(axis=-1)
    j = np.unravel_index(int(np.argmin(nll)), nll.shape)
    return float(deltas.ravel()[j[0]]), float(ic0s.ravel()[j[1]]), float(taus.ravel()[j[2]])


def _refine_start(counts, mu0_hk_T, start, n, k, guess, tau_d):
    """Get the (Δ, I_c0) of the smallest binomial deviance among ``guess`` and a coarse grid
    (Δ 3–150, I_c0 0.15–3× the largest current) of the exact model at low resolution
    (32 cells, 3 edge stages): the high-barrier asymptote of :func:`_start` knows nothing
    of pulses above I_c0 (precessional switching), where the grid finds the basin. The grid
    is skipped when the guess already describes the counts (deviance p-value > 1e-3)."""
    coarse = ThermalSwitchingModel(counts, mu0_hk_T, start, n_cells=32, n_edge=3)

    def deviance(d, i0):
        return float(np.sum(_deviance_residuals(k, n, coarse.probabilities(d, i0, tau_d)) ** 2))
    if chi2.sf(deviance(*guess), max(len(counts) - 2, 1)) > 1e-3:
        return guess
    i_max = float(counts["current"].max())
    cands = [guess] + [(d, f * i_max) for d in np.geomspace(3.0, 150.0, 8)
                       for f in np.geomspace(0.15, 3.0, 8)]
    return min(cands, key=lambda c: deviance(*c))


def fit_thermal_activation(counts: pd.DataFrame, *, alpha: float | None = None,
                           mu0_hk_T: float | None = None, gamma0: float = GAMMA0,
                           start: str = "well") -> dict:
    """Maximum-likelihood fit of Δ and I_c0 (and τ_D when α or μ0H_K is missing) to pooled
    counts (:func:`pooled_counts`). Get delta, ic0_A (with _err), tau_n_s (τ_N = Δ·τ_D at
    the fitted Δ, with _err), tau_d_s, tau_d_fixed, deviance, gof_pvalue (χ² of the deviance
    with points − parameters degrees of freedom), cov (the parameters' covariance), and the
    fitted probabilities ``p_model``."""
    if len(counts) < 3:
        raise ValueError(f"need at least three (current, width) points to fit, got {len(counts)}")
    if counts["current"].nunique() < 2:
        raise ValueError("all points have the same current: Δ and I_c0 are not separable")
    fixed = bool(alpha and mu0_hk_T)
    tau_d = (1 + alpha ** 2) / (alpha * gamma0 * mu0_hk_T / MU0) if fixed else None
    model = ThermalSwitchingModel(counts, mu0_hk_T, start)
    n, k = counts["n"].to_numpy(float), counts["k"].to_numpy(float)
    d0, ic0_0, tau_d0 = _start(model, n, k, tau_d)
    d0, ic0_0 = _refine_start(counts, mu0_hk_T, start, n, k, (d0, ic0_0), tau_d or tau_d0)
    i_max = float(counts["current"].max())

    params = lmfit.Parameters()
    params.add("delta", value=min(max(d0, 2.0), 300.0), min=0.5, max=500.0)
    params.add("ic0", value=ic0_0 / i_max, min=0.05, max=100.0)     # in units of max I
    params.add("log_tau_d", value=math.log(tau_d if fixed else tau_d0), vary=not fixed,
               min=math.log(1e-15), max=math.log(1e-3))

    def unpack(pv) -> tuple[float, float, float]:
        return pv["delta"], pv["ic0"] * i_max, math.exp(pv["log_tau_d"])

    def residual(pars):
        pv = pars.valuesdict()
        return _deviance_residuals(k, n, model.probabilities(*unpack(pv)))

    result = lmfit.minimize(residual, params, method="least_squares",
                            diff_step=1e-4, xtol=1e-6, ftol=1e-8)
    pv = result.params.valuesdict()
    names = ["delta", "ic0", "log_tau_d"] if not fixed else ["delta", "ic0"]
    theta = np.array([pv[nm] for nm in names])

    def probs(th):
        v = dict(pv)
        v.update(zip(names, th, strict=True))
        return model.probabilities(*unpack(v))

    p = np.clip(probs(theta), 1e-9, 1 - 1e-9)
    grad = []
    for j in range(theta.size):
        step = 1e-4 * max(abs(theta[j]), 1.0)
        up, dn = theta.copy(), theta.copy()
        up[j] += step
        dn[j] -= step
        grad.append((probs(up) - probs(dn)) / (2 * step))
    grad = np.array(grad)
    fisher = (grad * (n / (p * (1 - p)))) @ grad.T
    cov = np.linalg.pinv(fisher)
    scale = np.ones(theta.size)
    scale[1] = i_max                                          # ic0 in A
    cov_si = cov * np.outer(scale, scale)
    delta, ic0, tau_d_fit = unpack(pv)
    dev = float(np.sum(_deviance_residuals(k, n, p) ** 2))
    dof = max(len(counts) - theta.size, 1)
    var_ln_tau_n = cov[0, 0] / delta ** 2 + (cov[2, 2] + 2 * cov[0, 2] / delta if not fixed
                                             else 0.0)
    tau_n = delta * tau_d_fit
    return {
        "delta": float(delta), "delta_err": float(math.sqrt(max(cov_si[0, 0], 0.0))),
        "ic0_A": float(ic0), "ic0_A_err": float(math.sqrt(max(cov_si[1, 1], 0.0))),
        "tau_n_s": float(tau_n), "tau_n_s_err": float(tau_n * math.sqrt(max(var_ln_tau_n, 0))),
        "tau_d_s": float(tau_d_fit), "tau_d_fixed": fixed,
        "deviance": dev, "gof_pvalue": float(chi2.sf(dev, dof)),
        "cov": cov_si, "p_model": p, "success": bool(result.success),
    }


OPTIONS = (
    Option("alpha", "", "Gilbert damping α of the free layer (with μ0H_K: fixes τ_D)"),
    Option("mu0_hk_T", "T", "μ0H_K of the easy axis, e.g. −μ0M_eff of a perpendicular free "
           "layer (with α: fixes τ_D)"),
    Option("gamma_Hz_per_T", "Hz/T", "γ/2π of the free layer", (GAMMA0 / (2 * math.pi * MU0),
                                                               0.0)),
    Option("start", "", "'well' (trials start thermalized in the reset well) or 'down'",
           "well", constant=False, kind=str),
)
"""The external constants of the fit (``--option NAME=VALUE[±ERR]``, keyword arguments, else
the file's Sample constants, else the procedure's "Damping"/"Anisotropy field" a user typed
when non-zero, else the defaults); never the simulator's Sample parameters."""


def header_constants(df: pd.DataFrame) -> dict:
    """Get alpha and mu0_hk_T from the procedure parameters a user typed ("Damping",
    "Anisotropy field", when non-zero) in a results file's header (``df.attrs["header"]``)."""
    header = parse_header(df.attrs.get("header") or "")
    out = {}
    for name, key in (("Damping", "alpha"), ("Anisotropy field", "mu0_hk_T")):
        value = header.number(name)
        if value is not None and value > 0:
            out[key] = value
    return out


def _gamma0(values: dict) -> float:
    """Get γ0 = 2π·μ0·(γ/2π) in m/(A·s) from the priors' values."""
    return 2 * math.pi * MU0 * values["gamma_Hz_per_T"]


def prior_shifts(counts: pd.DataFrame, fit: dict, priors: dict, start: str = "well"
                 ) -> dict[str, dict[str, float]]:
    """Get {prior: {"delta", "ic0_A", "tau_n_s": shift}}: how far the maximum-likelihood
    estimates move when a prior (α, μ0H_K, γ) moves by its error, linearised at the fit
    (Gauss–Newton): Δθ = −F⁻¹·Σ n ∇_θp ∂p/∂v /(p(1 − p))·σ_v, F the Fisher information of
    θ = (Δ, I_c0[, ln τ_D when free]); τ_D = (1 + α²)/(αγ0H_K) moves with α, γ, H_K when
    fixed, and H_K also scales the field term. Derivatives by central differences (on 14
    points × 60 trials the shifts agree with full refits to 10–20 %, at an eighth of the
    cost of one refit)."""
    values = {k: p.value for k, p in priors.items()}
    n = counts["n"].to_numpy(float)
    fixed = fit["tau_d_fixed"]

    def tau_d_of(v: dict) -> float:
        return (1 + v["alpha"] ** 2) / (v["alpha"] * _gamma0(v) * v["mu0_hk_T"] / MU0)

    def probabilities(theta, v):
        tau_d = tau_d_of(v) if fixed else math.exp(theta[2])
        return ThermalSwitchingModel(counts, v.get("mu0_hk_T"), start).probabilities(
            theta[0], theta[1], tau_d)

    def derivative(f, x, step, direction=1.0):
        return (f(x + step * direction) - f(x - step * direction)) / (2 * step)

    theta = np.array([fit["delta"], fit["ic0_A"]] + ([] if fixed else
                                                    [math.log(fit["tau_d_s"])]))
    steps = 1e-4 * np.maximum(np.abs(theta), 1.0)
    steps[1] = 1e-4 * theta[1]                                 # I_c0 in A
    grads = np.array([derivative(lambda x: probabilities(x, values), theta, h, e)
                      for h, e in zip(steps, np.eye(theta.size))])
    p = np.clip(probabilities(theta, values), 1e-9, 1 - 1e-9)
    weighted = grads * (n / (p * (1 - p)))
    fisher_inv = np.linalg.pinv(weighted @ grads.T)
    out = {}
    for name in ("alpha", "mu0_hk_T", "gamma_Hz_per_T"):
        if name not in priors or priors[name].err <= 0 or (name != "mu0_hk_T" and not fixed):
            continue
        err, v0 = priors[name].err, values[name]
        h = min(err, 0.01 * abs(v0)) or err

        def moved(x, name=name):
            return {**values, name: x}
        dp = derivative(lambda x: probabilities(theta, moved(x)), v0, h) * err
        d_theta = -fisher_inv @ weighted @ dp
        d_tau = (derivative(lambda x: tau_d_of(moved(x)), v0, h) * err if fixed
                 else fit["tau_d_s"] * d_theta[2])
        out[name] = {"delta": float(d_theta[0]), "ic0_A": float(d_theta[1]),
                     "tau_n_s": float(fit["tau_d_s"] * d_theta[0] + fit["delta"] * d_tau)}
    return out


def analyze_switching_probability(df: pd.DataFrame, **options) -> dict:
    """Get design.md's keys from a switching-probability table (columns 'Pulse current (A)',
    'Pulse width (s)', 'Trials', 'Switched'; optional 'Pulse amplitude (V)', 'Pulse rise (s)',
    'Bias current (A)', 'Field (T)', 'Wait before pulse (s)', 'Wait after pulse (s)'):
    ``delta``, ``ic0_A``, ``tau_n_s`` (with ``_err``, one standard error), ``tau_d_fixed``
    (τ_D fixed when α and μ0H_K are known, :data:`OPTIONS`), ``gof_pvalue``, the number of
    points and trials, ``priors`` and ``warnings``. The priors' errors propagate
    (:func:`prior_shifts`) and are added in quadrature to the binomial errors
    (``delta_err_stat``, … keep those alone; not named ``*_stat_err``, since every ``x_err``
    key names a reported ``x``). Probability intervals (Jeffreys prior, 68.3 %) are in
    :func:`probability_table`."""
    set_ = settings(OPTIONS, options)
    priors = resolve_priors(OPTIONS, {k: v for k, v in options.items() if k not in set_},
                            df.attrs, header_constants(df))
    warnings: list[str] = []
    values = {k: p.value for k, p in priors.items()}
    if not ("alpha" in values and "mu0_hk_T" in values):
        warnings.append("τ_D is fitted (α and μ0H_K not both given): Δ is less well "
                        "determined; give alpha and mu0_hk_T (--option NAME=VALUE±ERR)")
    counts = pooled_counts(df)

    best = fit_thermal_activation(
        counts, alpha=values.get("alpha"), mu0_hk_T=values.get("mu0_hk_T"),
        gamma0=_gamma0(values), start=set_["start"])
    out = {k: v for k, v in best.items() if k not in ("cov", "p_model", "success")}
    var = {k: 0.0 for k in ("delta", "ic0_A", "tau_n_s")}
    for shift in prior_shifts(counts, best, priors, set_["start"]).values():
        for k in var:
            var[k] += shift[k] ** 2
    for k in var:
        out[k + "_err_stat"] = out[k + "_err"]
        out[k + "_err"] = math.hypot(out[k + "_err"], math.sqrt(var[k]))
    if not best["success"]:
        warnings.append("the likelihood fit did not report convergence")
    out["n_points"] = len(counts)
    out["n_trials"] = int(counts["n"].sum())
    out["interval_credible_level"] = INTERVAL_CL
    out = {k: (v if isinstance(v, (bool, int)) else float(v)) for k, v in out.items()}
    out["priors"] = priors_dict(priors)
    out["warnings"] = warnings
    return out


def probability_table(df: pd.DataFrame, prior: str = "jeffreys") -> pd.DataFrame:
    """Get the pooled table with the probability, its Beta-posterior mean and 68.3 %
    interval (``prior``: "jeffreys" Beta(½,½) or "uniform" Beta(1,1))."""
    c = pooled_counts(df)
    mean, lo, hi = beta_interval(c["k"].to_numpy(), c["n"].to_numpy(), prior=prior)
    return c.assign(p=c["k"] / c["n"], p_mean=mean, p_low=lo, p_high=hi)


NEEDS = Needs(columns=(
    Column("Pulse current (A)", "write pulse current, A"),
    Column("Pulse width (s)", "write pulse width (full width), s", ("Pulse width (ns)",)),
    *(Column(name, f"optional, default {default:g}", required=False)
      for name, default in _OPTIONAL.items()),
    Column("Pulse amplitude (V)", "write pulse amplitude, V (its sign: the direction)",
           required=False),
), header_keys={"Damping": "α (procedure parameter, when non-zero)",
                "Anisotropy field": "μ0H_K, T (procedure parameter, when non-zero)",
                "Sample constants": "α, μ0H_K, γ/2π when the file has them"})
"""The columns and header keys this analysis reads (``labspin analyze --help``)."""
