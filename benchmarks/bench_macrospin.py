"""Speed of labspin's macrospin core next to cmtj, measured in the same run.

Run from the repository root::

    python benchmarks/bench_macrospin.py            # table, default sizes
    python benchmarks/bench_macrospin.py --json     # one JSON object on stdout
    python benchmarks/bench_macrospin.py --small    # quick sizes for CI smoke runs

Cases (rates in spin-steps per second, dt = 1 ps):

(a) N = 10,000 spins at 300 K, stochastic Heun        — target ≥ 25× cmtj (Heun, 300 K)
(b) N = 10,000 spins at 0 K, RK4                      — target ≥ 100× cmtj (RK4, 0 K)
(c) one spin, 10⁵ steps at 300 K, stochastic Heun     — target ≥ 2× cmtj (Heun, 300 K)

cmtj integrates one junction per call, so its rate is measured on a single junction run for
many steps (Heun with a 300 K temperature driver, RK4 without one). Both codes get the same
physics: Ms, K (uniaxial along z), thin-film demag (0, 0, 1), volume, α, field along z, m0,
dt and temperature; cmtj's μ0 and γ0 are set to labspin's values, and a 0 K trajectory
check (m after the same 300 RK4 steps, while m still precesses) shows that they agree.
cmtj logs every total_time/100 so that its logging does not dominate its time.

Timing policy (both codes alike): time.perf_counter around the integration call only,
best of ``--repeats`` (default 3) repeats; setup is outside the timed region, and labspin's
numba kernels are compiled by a warm-up run before timing.

cmtj is GPL-2.0: it is an optional benchmark-only dependency, imported only by this script
and never by labspin (``pip install 'labspin[bench]'`` installs it). Without cmtj the script
prints a notice, reports labspin's rates with null ratios, and exits 0.

The machine's core count and other load make absolute numbers noisy; the ratios, taken in
the same run, are what to compare.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

try:
    import labspin  # noqa: F401
except ImportError:  # running from a checkout without installing
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numba

from labspin.physics.constants import GAMMA0, MU0
from labspin.physics.macrospin.ensemble import Ensemble
from labspin.physics.macrospin.system import Macrospin, Magnet, Uniaxial

# --- the physics shared by both codes -------------------------------------------------------
MS_APM = 1.0e6            # Ms (A/m)
K_J_PER_M3 = 8.0e5        # uniaxial K along z (J/m³): H_k = 2K/(μ0 Ms) ≈ 1.27 MA/m > Ms → PMA
THICKNESS_M = 1.0e-9      # t_F (m)
AREA_M2 = 50e-9 * 50e-9   # lateral area (m²); Δ = K_eff V / k_B T ≈ 100 at 300 K
ALPHA = 0.02              # Gilbert damping
H_EXT_APM = 2.0e4         # field along +z (A/m)
M0 = (0.3, 0.0, 1.0)      # initial direction (normalised), tilted so that m precesses
DT_S = 1e-12              # 1 ps
TEMPERATURE_K = 300.0

CHECK_STEPS = 300
"""Steps of the 0 K cross-check: 0.3 ns, while m still precesses (it relaxes in ~1 ns)."""

TARGETS = {"ensemble_300K": 25.0, "ensemble_0K": 100.0, "single_300K": 2.0}

SIZES = {
    #          spins, ensemble steps, single-spin steps, cmtj steps
    "default": (10_000, 5_000, 100_000, 500_000),
    "small": (2_000, 200, 10_000, 20_000),
}


def _m0() -> np.ndarray:
    m = np.asarray(M0, dtype=float)
    return m / np.linalg.norm(m)


def _best_of(repeats: int, setup, work) -> float:
    """Get the shortest wall time (s) of ``work(setup())`` over ``repeats`` runs."""
    best = math.inf
    for _ in range(repeats):
        state = setup()
        t0 = time.perf_counter()
        work(state)
        best = min(best, time.perf_counter() - t0)
    return best


# --- labspin --------------------------------------------------------------------------------
def _labspin_macrospin(temperature_K: float) -> Macrospin:
    mg = Magnet(ms_A_per_m=MS_APM, alpha=ALPHA, thickness_m=THICKNESS_M, area_m2=AREA_M2,
                anisotropies=(Uniaxial(K_J_PER_M3, (0.0, 0.0, 1.0)),), demag=(0.0, 0.0, 1.0),
                gamma0=GAMMA0, temperature_K=temperature_K)
    return Macrospin(mg)


def _labspin_ensemble(n: int, temperature_K: float, seed: int = 1,
                      device: str = "cpu") -> Ensemble:
    return Ensemble(_labspin_macrospin(temperature_K), n=n, h_ext_Apm=(0.0, 0.0, H_EXT_APM),
                    m0=_m0(), seed=seed, device=device)


def labspin_rate(n: int, n_steps: int, temperature_K: float, repeats: int,
                 device: str = "cpu") -> float:
    """Get labspin's spin-steps per second for ``n`` spins × ``n_steps`` steps."""
    def work(ens):
        ens.run(n_steps=n_steps, dt_s=DT_S)
    best = _best_of(repeats, lambda: _labspin_ensemble(n, temperature_K, device=device), work)
    return n * n_steps / best


GPU_SPINS = (10 ** 6, 10 ** 7)


def gpu_columns(steps: int, repeats: int) -> dict:
    """Get the GPU kernel's spin-steps per second at 10⁶ and 10⁷ members, 300 K and 0 K, with
    the device's name; all None without a CUDA device (or under the CUDA simulator)."""
    from numba import config

    from labspin.physics.macrospin import gpu
    res = {"gpu_device": None}
    keys = [f"gpu_{n:.0e}_{t:.0f}K_spin_steps_per_s".replace("+0", "")
            for n in GPU_SPINS for t in (TEMPERATURE_K, 0.0)]
    res.update(dict.fromkeys(keys))
    if config.ENABLE_CUDASIM or not gpu.available():
        return res
    res["gpu_device"] = gpu.device_name()
    for t in (TEMPERATURE_K, 0.0):
        _labspin_ensemble(64, t, device="gpu").run(n_steps=4, dt_s=DT_S)   # compile
    for key, (n, t) in zip(keys, [(n, t) for n in GPU_SPINS for t in (TEMPERATURE_K, 0.0)]):
        res[key] = labspin_rate(n, steps, t, repeats, device="gpu")
    return res


def labspin_warm_up() -> None:
    """Compile the numba kernels (both integrators) outside the timed region."""
    for temperature in (TEMPERATURE_K, 0.0):
        _labspin_ensemble(64, temperature).run(n_steps=4, dt_s=DT_S)


# --- cmtj -----------------------------------------------------------------------------------
def import_cmtj():
    """Get the cmtj module, or None when it is not installed."""
    try:
        import cmtj
    except ImportError:
        return None
    return cmtj


def cmtj_version() -> str | None:
    """Get the installed cmtj version string, or None."""
    try:
        from importlib.metadata import version
        return version("cmtj")
    except Exception:
        return None


def cmtj_match_constants(cmtj) -> dict:
    """Set cmtj's μ0 and γ0 to labspin's (global to cmtj; this process only)."""
    pc = getattr(getattr(cmtj, "constants", None), "PhysicalConstants", None)
    out = {"matched": False}
    if pc is None:
        return out
    try:
        pc.set_magnetic_permeability(MU0)
        pc.set_gyromagnetic_ratio(GAMMA0)
        out = {"matched": True, "mu0": pc.magnetic_permeability(),
               "gamma0": pc.gyromagnetic_ratio()}
    except Exception:
        pass
    return out


def cmtj_junction(cmtj, temperature_K: float):
    """Make one cmtj junction with labspin's physics (cmtj's Ms is μ0·Ms in tesla)."""
    from cmtj import AxialDriver, CVector, Junction, Layer, ScalarDriver
    m0 = _m0()
    demag = [CVector(0.0, 0.0, 0.0), CVector(0.0, 0.0, 0.0), CVector(0.0, 0.0, 1.0)]
    layer = Layer("free", mag=CVector(*m0), anis=CVector(0.0, 0.0, 1.0), Ms=MU0 * MS_APM,
                  thickness=THICKNESS_M, cellSurface=AREA_M2, demagTensor=demag,
                  damping=ALPHA)
    j = Junction([layer])
    j.setLayerAnisotropyDriver("free", ScalarDriver.getConstantDriver(K_J_PER_M3))
    j.setLayerExternalFieldDriver("all", AxialDriver(0.0, 0.0, H_EXT_APM))
    if temperature_K > 0:
        j.setLayerTemperatureDriver("all", ScalarDriver.getConstantDriver(temperature_K))
    return j


def cmtj_run(cmtj, j, n_steps: int, stochastic: bool) -> None:
    """Run ``n_steps`` steps of dt, logging 100 times (Heun if stochastic, else RK4)."""
    total = n_steps * DT_S
    mode = cmtj.SolverMode.Heun if stochastic else cmtj.SolverMode.RK4
    j.runSimulation(total, DT_S, total / 100.0, solverMode=mode)


def cmtj_rate(cmtj, n_steps: int, temperature_K: float, repeats: int) -> float:
    """Get cmtj's steps per second on one junction (fresh junction per repeat)."""
    stochastic = temperature_K > 0
    best = _best_of(repeats, lambda: cmtj_junction(cmtj, temperature_K),
                    lambda j: cmtj_run(cmtj, j, n_steps, stochastic))
    return n_steps / best


def zero_K_agreement(cmtj, n_steps: int) -> float:
    """Get max |m_labspin − m_cmtj| after ``n_steps`` RK4 steps of the same single spin."""
    j = cmtj_junction(cmtj, 0.0)
    cmtj_run(cmtj, j, n_steps, stochastic=False)
    mc = j.getLayerMagnetisation("free")
    mc = np.array([mc.x, mc.y, mc.z])
    ens = _labspin_ensemble(1, 0.0)
    ens.run(n_steps=n_steps, dt_s=DT_S)
    return float(np.max(np.abs(ens.m[:, 0] - mc)))


# --- driver ---------------------------------------------------------------------------------
def run_benchmark(spins: int, steps: int, single_steps: int, cmtj_steps: int,
                  repeats: int) -> dict:
    """Measure all cases; return the result dictionary (ratios None without cmtj)."""
    labspin_warm_up()
    res = {
        "ensemble_300K_ratio": None,
        "ensemble_0K_ratio": None,
        "single_300K_ratio": None,
        "labspin_ensemble_300K_spin_steps_per_s":
            labspin_rate(spins, steps, TEMPERATURE_K, repeats),
        "labspin_ensemble_0K_spin_steps_per_s": labspin_rate(spins, steps, 0.0, repeats),
        "labspin_single_300K_steps_per_s": labspin_rate(1, single_steps, TEMPERATURE_K,
                                                        repeats),
        "cmtj_heun_steps_per_s": None,
        "cmtj_rk4_steps_per_s": None,
        "cmtj_available": False,
        "cmtj_version": None,
        "cmtj_constants_matched": None,
        "zero_K_max_abs_dm_vs_cmtj": None,
        "numba_threads": numba.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "spins": spins,
        "ensemble_steps": steps,
        "single_steps": single_steps,
        "cmtj_steps": cmtj_steps,
        "cmtj_write_frequency_s": cmtj_steps * DT_S / 100.0,
        "dt_s": DT_S,
        "temperature_K": TEMPERATURE_K,
        "repeats": repeats,
        "timing": "time.perf_counter, best of repeats, same policy for labspin and cmtj; "
                  "labspin warmed up (JIT) before timing",
        "targets": TARGETS,
        "python": platform.python_version(),
        "numba_version": numba.__version__,
        "numpy_version": np.__version__,
    }
    res.update(gpu_columns(steps, repeats))
    cmtj = import_cmtj()
    if cmtj is None:
        return res
    res["cmtj_available"] = True
    res["cmtj_version"] = cmtj_version()
    res["cmtj_constants_matched"] = cmtj_match_constants(cmtj)["matched"]
    heun = cmtj_rate(cmtj, cmtj_steps, TEMPERATURE_K, repeats)
    rk4 = cmtj_rate(cmtj, cmtj_steps, 0.0, repeats)
    res["cmtj_heun_steps_per_s"] = heun
    res["cmtj_rk4_steps_per_s"] = rk4
    res["ensemble_300K_ratio"] = res["labspin_ensemble_300K_spin_steps_per_s"] / heun
    res["ensemble_0K_ratio"] = res["labspin_ensemble_0K_spin_steps_per_s"] / rk4
    res["single_300K_ratio"] = res["labspin_single_300K_steps_per_s"] / heun
    res["zero_K_max_abs_dm_vs_cmtj"] = zero_K_agreement(cmtj, CHECK_STEPS)
    return res


def _fmt_rate(x) -> str:
    return "n/a" if x is None else f"{x:.3g}"


def print_table(res: dict) -> None:
    """Print the human-readable table."""
    rows = [
        (f"(a) {res['spins']} spins × {res['ensemble_steps']} steps, 300 K, Heun",
         res["labspin_ensemble_300K_spin_steps_per_s"], res["cmtj_heun_steps_per_s"],
         res["ensemble_300K_ratio"], TARGETS["ensemble_300K"]),
        (f"(b) {res['spins']} spins × {res['ensemble_steps']} steps, 0 K, RK4",
         res["labspin_ensemble_0K_spin_steps_per_s"], res["cmtj_rk4_steps_per_s"],
         res["ensemble_0K_ratio"], TARGETS["ensemble_0K"]),
        (f"(c) 1 spin × {res['single_steps']} steps, 300 K, Heun",
         res["labspin_single_300K_steps_per_s"], res["cmtj_heun_steps_per_s"],
         res["single_300K_ratio"], TARGETS["single_300K"]),
    ]
    w = max(len(r[0]) for r in rows)
    head = (f"{'case':<{w}}  {'labspin /s':>11}  {'cmtj /s':>9}  {'ratio':>7}  "
            f"{'target':>7}  ok")
    print(head)
    print("-" * len(head))
    for name, lab, ref, ratio, target in rows:
        ok = "-" if ratio is None else ("yes" if ratio >= target else "NO")
        r = "n/a" if ratio is None else f"{ratio:.1f}×"
        print(f"{name:<{w}}  {_fmt_rate(lab):>11}  {_fmt_rate(ref):>9}  {r:>7}  "
              f"{'≥' + format(target, 'g') + '×':>7}  {ok}")
    print()
    print("rates: spin-steps per second, dt = 1 ps; cmtj is one junction per call, run for "
          f"{res['cmtj_steps']} steps (Heun with a 300 K temperature driver; RK4 at 0 K), "
          f"logging every total/100 = {res['cmtj_write_frequency_s']:.3g} s so logging does "
          "not dominate.")
    print(f"timing: {res['timing']}; repeats = {res['repeats']}.")
    print(f"numba threads = {res['numba_threads']} (cpu_count = {res['cpu_count']}); "
          f"numba {res['numba_version']}, numpy {res['numpy_version']}, "
          f"cmtj {res['cmtj_version'] or 'not installed'}.")
    if res["cmtj_available"]:
        print(f"same physics check: max |Δm| after {CHECK_STEPS} RK4 steps at 0 K, labspin "
              f"vs cmtj = {res['zero_K_max_abs_dm_vs_cmtj']:.2e} (cmtj μ0, γ0 set to labspin's: "
              f"{res['cmtj_constants_matched']}).")


CMTJ_MISSING = ("cmtj is not installed: reporting labspin's rates only (ratios null). "
                "Install the GPL-2.0 benchmark reference with: pip install 'labspin[bench]'")


def main(argv=None) -> int:
    """Run the benchmark from the command line."""
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON object to stdout")
    p.add_argument("--small", action="store_true",
                   help="quick sizes for CI smoke runs (2000 spins × 200 steps, 10⁴ "
                        "single-spin steps, 2×10⁴ cmtj steps)")
    p.add_argument("--spins", type=int, default=None, help="ensemble size for (a) and (b)")
    p.add_argument("--steps", type=int, default=None, help="ensemble steps for (a) and (b)")
    p.add_argument("--single-steps", type=int, default=None, help="steps for (c)")
    p.add_argument("--cmtj-steps", type=int, default=None,
                   help="steps of the single cmtj junction")
    p.add_argument("--repeats", type=int, default=3, help="best of this many (default 3)")
    args = p.parse_args(argv)
    spins, steps, single_steps, cmtj_steps = SIZES["small" if args.small else "default"]
    spins = args.spins if args.spins is not None else spins
    steps = args.steps if args.steps is not None else steps
    single_steps = args.single_steps if args.single_steps is not None else single_steps
    cmtj_steps = args.cmtj_steps if args.cmtj_steps is not None else cmtj_steps
    for name, v in [("--spins", spins), ("--steps", steps), ("--single-steps", single_steps),
                    ("--cmtj-steps", cmtj_steps), ("--repeats", args.repeats)]:
        if v < 1:
            p.error(f"{name} must be ≥ 1, got {v}")

    if import_cmtj() is None:
        print(CMTJ_MISSING, file=sys.stderr if args.json else sys.stdout)
    res = run_benchmark(spins, steps, single_steps, cmtj_steps, args.repeats)
    if args.json:
        print(json.dumps(res))
    else:
        print_table(res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
