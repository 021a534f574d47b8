"""``labspin demo kapitza``: the Kapitza phase map of a nearly isotropic magnet with the
physics core alone (no hardware, no config), printed and saved as PNG and CSV."""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from labspin.physics.kapitza import KapitzaMap


def kapitza_sample(temperature_K: float = 300.0):
    """Make the illustrative isotropic CoFeB nanomagnet on W (built-in sample
    ``kapitza_cofeb_w``): σ = −ẑ, so a field along +ẑ puts σ along −Ĥ.

    Ms = 1.0 MA/m, 1.5 nm × 60 nm × 60 nm (V = 5.4e-24 m³), isotropic demag, α = 0.1,
    ξ_DL = 0.3 in 5 nm of W under the 60 nm wide magnet.
    """
    from labspin.sim_backend.samples import load_sample
    return load_sample("kapitza_cofeb_w", [f"temperature_K={temperature_K}"]).system


def plot_kapitza_map(result: KapitzaMap, path) -> None:
    """Save the map (image of ⟨m·Ĥ⟩, the line H_DL = αH) and cuts against L(ξ_eff) as PNG."""
    from matplotlib.figure import Figure  # no pyplot: no global backend is set

    fig = Figure(figsize=(11, 4.2))
    ax0, ax1 = fig.subplots(1, 2)
    i_mA = result.currents_A * 1e3
    b_mT = result.fields_T * 1e3
    im = ax0.pcolormesh(i_mA, b_mT, result.m_dot_h, cmap="RdBu", vmin=-1, vmax=1,
                        shading="nearest")
    ax0.plot(result.critical_current_A * 1e3, b_mT, "k--", label="H_DL = αH")
    ax0.set_xlabel("current (mA)")
    ax0.set_ylabel("μ0H (mT)")
    ax0.set_title("⟨m·Ĥ⟩, stochastic LLG")
    ax0.legend(loc="lower right")
    fig.colorbar(im, ax=ax0)
    for k, b in enumerate(b_mT):
        line = ax1.errorbar(i_mA, result.m_dot_h[k], result.m_dot_h_err[k], fmt="o", ms=3)
        ax1.plot(i_mA, result.theory[k], "-", color=line[0].get_color(), label=f"{b:.0f} mT")
    ax1.set_xlabel("current (mA)")
    ax1.set_ylabel("⟨m·Ĥ⟩")
    ax1.set_title("points: simulation, lines: L(ξ_eff)")
    ax1.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def demo_kapitza(args) -> int:
    """Run the demo for the parsed ``labspin demo kapitza`` arguments; get the exit code."""
    import numpy as np

    from labspin.cli.simulate import solve_or_report
    from labspin.physics.kapitza import kapitza_problem, kapitza_result
    from labspin.run.distributed import Where

    system = kapitza_sample(temperature_K=args.temperature)
    mg = system.magnet
    duration = 0.5e-6 if args.quick else 2e-6
    try:
        where = Where(workers=args.workers, scheduler=args.scheduler)
        problem = kapitza_problem(system, duration_s=duration, repeats=args.repeats,
                                  seed=args.seed)
    except ValueError as exc:
        print(f"labspin demo kapitza: {exc}", file=sys.stderr)
        return 2
    print(f"Kapitza map: isotropic CoFeB nanomagnet, Ms = {mg.ms_A_per_m:.3g} A/m, "
          f"V = {mg.volume:.3g} m³, α = {mg.alpha}, T = {mg.temperature_K} K; "
          f"σ = −ẑ, field along +ẑ; stochastic Heun, {duration * 1e9:.0f} ns per point",
          file=sys.stderr)
    if where.distributed:        # tasks of a field's worth of members: the numbers stay the same
        problem = replace(problem, chunk=len(problem.currents_A) * args.repeats)
    pm, status = solve_or_report(problem, where, "labspin demo kapitza")
    if pm is None:
        return status
    result = kapitza_result(system, pm)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    header = "  μ0H (mT) | I_c = αH/H_DL per A (mA) | ⟨m·Ĥ⟩ at I = 0, I_c, 2 I_c (sim / L(ξ_eff))"
    print(header)
    n_i = result.currents_A.size
    for k, b in enumerate(result.fields_T):
        j = [int(np.argmin(np.abs(result.currents_A - f * result.critical_current_A[k])))
             for f in (0.0, 1.0, 2.0)]
        cells = "  ".join(f"{result.m_dot_h[k, i]:+.2f}/{result.theory[k, i]:+.2f}" for i in j
                          if i < n_i)
        print(f"  {b * 1e3:8.1f} | {result.critical_current_A[k] * 1e3:24.4f} | {cells}")
    print(f"max |sim − theory| = {np.abs(result.m_dot_h - result.theory).max():.3f} "
          f"(typical standard error {np.median(result.m_dot_h_err):.3f})")
    csv = out / "kapitza_map.csv"
    ff, ii = np.meshgrid(result.fields_T, result.currents_A, indexing="ij")
    np.savetxt(csv, np.column_stack([ff.ravel(), ii.ravel(), result.m_dot_h.ravel(),
                                     result.m_dot_h_err.ravel(), result.theory.ravel()]),
               delimiter=",", header="Field (T),Current (A),m_dot_h,m_dot_h_err,langevin_xi_eff",
               comments="")
    png = out / "kapitza_map.png"
    plot_kapitza_map(result, png)
    print(f"data: {csv}")
    print(png)
    return 0
