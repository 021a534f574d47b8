"""Simulated benches owned by their VirtualBench: two benches in one process, each reached
through its own VISA library string, used interleaved, each reading its own sample; the
default ``@labspin`` bench in a fresh interpreter, with raw pyvisa and an unmodified pymeasure
driver."""
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError

from labspin.sim_backend.wirings import probe_for, simulated_bench

I_SOURCE_A = 1e-3


def _rm_and_smu(bench):
    rm = pyvisa.ResourceManager(bench.virtual.visa_library)
    smu = rm.open_resource("GPIB0::24::INSTR", read_termination="\n")
    smu.write(":SOUR:FUNC CURR")
    smu.write(f":SOUR:CURR {I_SOURCE_A}")
    smu.write(":SENS:FUNC 'VOLT'")
    smu.write(":OUTP ON")
    return rm, smu


def _ohms(smu) -> float:
    volts = float(smu.query(":READ?").split(",")[0])
    return volts / I_SOURCE_A


def test_two_simulated_benches_interleaved_read_their_own_samples():
    """Both benches put a Keithley 2400 at GPIB0::24 and never share it: interleaved reads of
    R_xx give each bench's own sample (304.3 Ω and 1200 Ω at zero field). Tolerance 1e-3:
    at 1 mA the sample voltages are 0.3–1.2 V, Johnson noise over the integration is nV and the
    thermoelectric offsets µV, both < 1e-5 relative."""
    a = simulated_bench("transport", sample="perpendicular_sot_hallbar", seed=1)
    b = simulated_bench("transport", sample="inplane_sot_hallbar", seed=2)
    assert a.virtual.visa_library != b.virtual.visa_library
    expected = {}
    for bench in (a, b):
        vb = bench.virtual
        expected[vb.visa_library] = vb.resistance(probe_for(vb.sample, "xx"))
    assert expected[a.virtual.visa_library] / expected[b.virtual.visa_library] < 0.5
    _, smu_a = _rm_and_smu(a)
    _, smu_b = _rm_and_smu(b)
    for _ in range(3):
        for bench, smu in ((a, smu_a), (b, smu_b)):
            assert _ohms(smu) == pytest.approx(expected[bench.virtual.visa_library], rel=1e-3)
    assert a.set_field_angle(30.0) and a.virtual.magnet.angle_deg == 30.0
    assert b.virtual.magnet.angle_deg != 30.0



def test_two_simulated_benches_used_from_two_threads_at_once():
    """Concurrent use: a thread per bench, each reading its own sample (tolerance as above)."""
    from concurrent.futures import ThreadPoolExecutor

    benches = [simulated_bench("transport", sample=s, seed=i)
               for i, s in enumerate(("perpendicular_sot_hallbar", "inplane_sot_hallbar"))]

    def readings(bench):
        vb = bench.virtual
        _, smu = _rm_and_smu(bench)
        return vb.resistance(probe_for(vb.sample, "xx")), [_ohms(smu) for _ in range(10)]

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(readings, benches))
    for expected, got in results:
        assert got == pytest.approx([expected] * len(got), rel=1e-3)
    assert results[0][0] != pytest.approx(results[1][0], rel=0.5)

def test_released_bench_and_missing_resource_name_what_exists():
    bench = simulated_bench("transport", sample="perpendicular_sot_hallbar")
    rm = pyvisa.ResourceManager(bench.virtual.visa_library)
    with pytest.raises(VisaIOError) as err:
        rm.open_resource("GPIB0::25::INSTR")
    assert err.value.error_code == constants.StatusCode.error_resource_not_found
    assert "GPIB0::25::INSTR" in str(err.value) and "GPIB0::24::INSTR" in str(err.value)
    with pytest.raises(VisaIOError, match="no simulated bench bench-999999@labspin"):
        pyvisa.ResourceManager("bench-999999@labspin").list_resources()


def _fresh(code: str, env_extra: dict | None = None) -> str:
    import os
    env = {k: v for k, v in os.environ.items() if k not in ("LABSPIN_SIM_BENCH",)}
    env.update(env_extra or {})
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stdout + out.stderr
    return out.stdout


def test_default_labspin_in_a_fresh_interpreter_lists_exactly_what_opens():
    from labspin.sim_backend.default_bench import DEFAULT_ADDRESSES
    out = _fresh("""
        import pyvisa
        rm = pyvisa.ResourceManager("@labspin")
        names = rm.list_resources()
        for n in names:
            r = rm.open_resource(n)
            r.read_termination = r.write_termination = "\\n" if "::1::" not in n else "\\r\\n"
            print(n)
        try:
            rm.open_resource("GPIB0::30::INSTR")
        except pyvisa.errors.VisaIOError as exc:
            print("ERR", exc)
    """)
    lines = out.splitlines()
    listed = [x for x in lines if not x.startswith("ERR")]
    assert sorted(listed) == sorted(f"GPIB0::{a}::INSTR" for a, _ in DEFAULT_ADDRESSES.values())
    err = [x for x in lines if x.startswith("ERR")][0]
    assert "GPIB0::30::INSTR" in err and "GPIB0::24::INSTR" in err


def test_unmodified_pymeasure_keithley2400_on_default_labspin():
    """pymeasure's own Keithley2400 reads the default sample's R_xx (inplane_sot_hallbar,
    1200 Ω at zero field; tolerance as above)."""
    out = _fresh("""
        from pymeasure.instruments.keithley import Keithley2400
        smu = Keithley2400("GPIB0::24::INSTR", visa_library="@labspin")
        print(smu.id)
        smu.apply_current(compliance_voltage=10)
        smu.source_current = 1e-3
        smu.enable_source()
        smu.measure_voltage()
        print(smu.voltage / 1e-3)
    """)
    ident, ohms = out.splitlines()[-2:]
    assert "KEITHLEY" in ident.upper() and "2400" in ident
    from labspin.sim_backend.default_bench import bench_for_spec
    vb = bench_for_spec("")
    assert float(ohms) == pytest.approx(vb.resistance(probe_for(vb.sample, "xx")), rel=1e-3)


def test_spec_and_environment_pick_the_bench():
    code = """
        import pyvisa
        print(sorted(pyvisa.ResourceManager("{lib}").list_resources()))
    """
    spec = _fresh(code.format(lib="perpendicular_sot_hallbar:transport@labspin"))
    assert spec.strip() == str(sorted(["GPIB0::24::INSTR", "GPIB0::7::INSTR", "GPIB0::6::INSTR",
                                       "GPIB0::11::INSTR"]))
    env = _fresh(code.format(lib="@labspin"),
                 {"LABSPIN_SIM_BENCH": "perpendicular_sot_hallbar:transport"})
    assert env == spec


def test_default_bench_clock_follows_wall_time_for_clients_that_do_not_drive_it():
    """A client of plain @labspin waits in real time (here 0.2 s between two queries): the
    bench's virtual clock has caught up by the next message. A bench of labspin's own runs
    (bench-<n>@labspin) keeps virtual time: no wall time reaches its clock."""
    out = _fresh("""
        import time
        import pyvisa
        from labspin.sim_backend.default_bench import served_bench
        smu = pyvisa.ResourceManager("@labspin").open_resource("GPIB0::24::INSTR",
                                                               read_termination="\\n")
        clock = served_bench(None).clock
        smu.query("*IDN?")
        t0 = clock.now()
        time.sleep(0.2)
        smu.query("*IDN?")
        print(clock.now() - t0)
    """)
    assert 0.2 <= float(out.split()[-1]) < 5.0
    bench = simulated_bench("transport", sample="perpendicular_sot_hallbar")
    smu = pyvisa.ResourceManager(bench.virtual.visa_library).open_resource(
        "GPIB0::24::INSTR", read_termination="\n")
    t0 = bench.clock.now()
    for _ in range(20):
        smu.query("*IDN?")
    assert bench.clock.now() == t0


def test_spec_may_be_a_bench_config_or_a_sample_file(tmp_path):
    """A bench config file: a twin at each of its resources; a sample file: the default
    bench's twins on that sample."""
    from labspin.sim_backend.default_bench import DEFAULT_ADDRESSES
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.wirings import bench_config_text, build_bench

    vb, slots = build_bench(load_sample("perpendicular_sot_hallbar"), "transport")
    cfg = tmp_path / "bench.toml"
    cfg.write_text(bench_config_text(vb, slots))
    rm = pyvisa.ResourceManager(f"{cfg}@labspin")
    assert sorted(rm.list_resources()) == sorted(s.resource for s in slots.values())
    smu = rm.open_resource("GPIB0::24::INSTR", read_termination="\n")
    assert "2400" in smu.query("*IDN?")
    sample = tmp_path / "mine.toml"
    sample.write_text(
        (Path(__file__).parents[1] / "sim_backend" / "builtin_samples"
         / "perpendicular_sot_hallbar.toml").read_text())
    listed = pyvisa.ResourceManager(f"{sample}@labspin").list_resources()
    assert sorted(listed) == sorted(f"GPIB0::{a}::INSTR" for a, _ in DEFAULT_ADDRESSES.values())
    from labspin.sim_backend.default_bench import served_bench
    assert served_bench(str(sample)).sample.readout.r0 == pytest.approx(304.3)   # not 1200 Ω
