"""Cost of the simulated bench's stack, next to pyvisa-sim in the same run.

    python benchmarks/bench_stack.py            # table
    python benchmarks/bench_stack.py --json     # one JSON object
    python benchmarks/bench_stack.py --small    # CI smoke sizes

1. One SCPI query through driver → pyvisa → simulated instrument (labspin's Keithley 2400
   driver reading its compliance setting from the Keithley 2400 twin over ``@labspin``),
   next to pyvisa-sim's static round trip (a raw ``query`` of its default device), both
   timed the same way (best of 3 repeats of N queries). ``query_overhead_ratio`` = ours ÷
   pyvisa-sim; the raw pyvisa round trip to our twin is reported too.
2. The wall time of a 3-frequency × 401-field ST-FMR dry run on the simulated bench
   through our drivers (E8257D with AM, SR830 on external reference, electromagnet from the
   Kepco and LakeShore 475 twins with closed-loop settling), next to its virtual duration.
   ``stfmr_dry_run_s`` is the wall time. Targets: ratio ≤ 2, dry run ≤ 10 s on 2 cores.

pyvisa-sim (MIT) is a benchmark-only reference: ``pip install 'labspin[bench]'``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from labspin.sim_backend.wirings import simulated_bench


def _best(fn, n: int, repeats: int = 3) -> float:
    """Get the best per-call time (s) of fn over ``repeats`` runs of n calls."""
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t) / n)
    return best


def query_costs(n: int) -> dict:
    """Get per-query seconds: labspin driver, labspin raw pyvisa, pyvisa-sim raw."""
    import pyvisa

    from labspin.drivers.keithley import Keithley2400
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.wirings import build_bench

    bench, _ = build_bench(load_sample("inplane_sot_hallbar"), "transport", seed=0)
    smu = Keithley2400("GPIB0::24::INSTR", visa_library=bench.visa_library, clock=bench.clock)
    out = {"labspin_driver_query_s": _best(lambda: smu.compliance_voltage, n)}
    raw = pyvisa.ResourceManager(bench.visa_library).open_resource(
        "GPIB0::24::INSTR", read_termination="\n")
    out["labspin_raw_query_s"] = _best(lambda: raw.query(":SENS:VOLT:PROT?"), n)
    try:
        sim = pyvisa.ResourceManager("@sim").open_resource(
            "GPIB::8::INSTR", read_termination="\n", write_termination="\n")
    except (ValueError, OSError, ImportError) as exc:   # pyvisa-sim not installed
        print(f"pyvisa-sim unavailable ({exc}); install labspin[bench]", file=sys.stderr)
        out["pyvisa_sim_query_s"] = None
        out["query_overhead_ratio"] = None
        return out
    out["pyvisa_sim_query_s"] = _best(lambda: sim.query(":VOLT:IMM:AMPL?"), n)
    out["query_overhead_ratio"] = out["labspin_driver_query_s"] / out["pyvisa_sim_query_s"]
    return out


def stfmr_dry_run(frequencies: list[float], n_fields: int) -> dict:
    """Run the ST-FMR sweep; get wall and virtual seconds."""
    from labspin.sim_backend.virtual_bench import VirtualMagnet

    t0 = time.perf_counter()
    bench = simulated_bench("stfmr", "inplane_sot_hallbar", seed=1,
                            magnet=VirtualMagnet(angle_deg=45.0)).open()
    clock = bench.clock
    rf, lockin, em = bench.role("rf_source"), bench.role("lock_in"), bench.magnet
    rf.power = 10.0
    rf.configure_am_reference(1.7e3, 100.0, 1.0)
    rf.output_enabled = True
    lockin.reference_source = "external"
    lockin.time_constant = 0.03
    lockin.sensitivity = 0.1
    points = 0
    for f in frequencies:
        rf.frequency = f
        for b in np.linspace(0.02, 0.25, n_fields):
            em.set_field(float(b))
            clock.sleep(10 * 0.03)
            lockin.measure_xy()
            points += 1
    rf.shutdown()
    em.shutdown()
    return {"stfmr_dry_run_s": time.perf_counter() - t0, "stfmr_virtual_s": clock.now(),
            "stfmr_points": points}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--small", action="store_true", help="CI smoke sizes")
    a = p.parse_args(argv)
    n_q, freqs, n_f = (200, [6e9], 21) if a.small else (3000, [6e9, 8e9, 10e9], 401)
    res = {**query_costs(n_q), **stfmr_dry_run(freqs, n_f)}
    if a.json:
        print(json.dumps(res, indent=2))
        return 0
    sim = res["pyvisa_sim_query_s"]
    print(f"query via driver → pyvisa → twin  {res['labspin_driver_query_s'] * 1e6:8.1f} µs")
    print(f"raw pyvisa query → twin           {res['labspin_raw_query_s'] * 1e6:8.1f} µs")
    if sim:
        print(f"pyvisa-sim raw static query       {sim * 1e6:8.1f} µs   ratio "
              f"{res['query_overhead_ratio']:.2f} (target ≤ 2)")
    print(f"ST-FMR dry run, {res['stfmr_points']} points: {res['stfmr_dry_run_s']:.2f} s wall "
          f"for {res['stfmr_virtual_s']:.0f} s virtual (target ≤ 10 s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
