"""A GUI run on a bench another run holds is refused through the runner's one life cycle:
nothing is touched, the file ends FAILED naming the holder (issue 13 item 4)."""
from pymeasure.experiment import Procedure

from labspin.bench.config import load_bench_config
from labspin.bench.lock import BenchLock
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.server import serve
from labspin.sim_backend.wirings import bench_config_text, build_bench, follow_wall_clock


def test_a_held_bench_refuses_the_gui_run_naming_the_holder(qtbot, window, tmp_path,
                                                            monkeypatch):
    monkeypatch.setenv("LABSPIN_LOCK_DIR", str(tmp_path / "locks"))
    vb, slots = build_bench(load_sample("inplane_sot_hallbar"), "transport")
    twins = {n: vb.instruments[n] for n in slots}
    follow_wall_clock(vb, twins.values())
    handle = serve(twins)
    try:
        path = tmp_path / "b.toml"
        path.write_text(bench_config_text(vb, slots, resources=handle.resources,
                                          visa_library="@py", name="served"))
        config = load_bench_config(path)
        holder = BenchLock([c.resource for c in config.instruments.values()], "stfmr",
                           config.name).acquire()
        try:
            win = window("field-sweep", bench=str(path))
            p = win.make_procedure()
            p.max_field, p.field_step = 0.02, 0.01
            exp = win.queue(procedure=p)
            assert exp is not None
            qtbot.waitUntil(lambda: exp.procedure.status == Procedure.FAILED, timeout=60_000)
            lines = open(exp.data_filename, encoding="utf-8").read().splitlines()
            assert lines[-2] == "#Status: FAILED" or "#Status: FAILED" in lines[-3:]
            assert any("in use by the run 'stfmr'" in line for line in lines[-2:])
            data = [ln for ln in lines if ln and not ln.startswith("#")]
            assert data[0].startswith("Field set (T),") and len(data) == 1   # no rows
            assert not any(t.outputs.get("output") for t in twins.values())
        finally:
            holder.release()
    finally:
        handle.close()
