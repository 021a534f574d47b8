"""Standard wirings: every twin reachable through our drivers in-process, a generated bench
config that validates, and `labspin sim serve --bench-out` + `labspin bench check` over
loopback sockets."""
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from labspin.bench.config import load_bench_config
from labspin.bench.session import identify, open_instrument
from labspin.sim_backend.samples import load_sample
from labspin.sim_backend.wirings import WIRINGS, bench_config_text, build_bench

SAMPLE_FOR = {"transport": "perpendicular_sot_hallbar", "stfmr": "inplane_sot_hallbar",
              "harmonic_hall": "perpendicular_sot_hallbar", "pulsed": "mtj_pillar",
              "spectrum": "spin_torque_oscillator", "gaussian_source": "dw_gaussian_source",
              "lockin_transport": "perpendicular_sot_hallbar",
              "harmonic_hall_6221": "inplane_sot_hallbar", "fmr": "py_film_fmr"}


@pytest.mark.parametrize("wiring", sorted(WIRINGS))
def test_wiring_twins_answer_through_our_drivers(wiring, tmp_path):
    bench, slots = build_bench(load_sample(SAMPLE_FOR[wiring]), wiring, seed=1)
    text = bench_config_text(bench, slots)
    f = tmp_path / "bench.toml"
    f.write_text(text)
    cfg = load_bench_config(f)
    assert set(cfg.instruments) == set(slots)
    answers = identify(cfg)
    for name, (ok, ident) in answers.items():
        assert ok, (name, ident)
        assert ident
    if any(s.role == "magnet_supply" for s in slots.values()):
        assert cfg.magnet.calibration.remanence_T[1] == pytest.approx(bench.magnet.remanence_T)
    else:
        assert cfg.magnet is None


def test_sim_serve_bench_out_then_bench_check_over_sockets(tmp_path):
    out = tmp_path / "served.toml"
    proc = subprocess.Popen([sys.executable, "-m", "labspin.cli.main", "sim", "serve", "--wiring",
                             "transport", "--sample", "perpendicular_sot_hallbar",
                             "--bench-out", str(out)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    # cwd outside the checkout: `python -m` must import the installed package, whose
    # labspin.sim_backend exists only through the install's package mapping
    try:
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert out.exists(), proc.stderr.read() if proc.poll() is not None else "timed out"
        time.sleep(0.2)
        text = out.read_text()
        assert "TCPIP::127.0.0.1::" in text and '"@py"' in text
        check = subprocess.run([sys.executable, "-m", "labspin.cli.main", "bench", "check", str(out)],
                               capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.count("ok  ") == len(WIRINGS["transport"])
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_served_twins_follow_wall_time():
    """Over sockets the client waits in real time: the virtual clock catches up per message."""
    import time as _time

    from labspin.sim_backend.wirings import follow_wall_clock
    bench, slots = build_bench(load_sample("perpendicular_sot_hallbar"), "transport")
    twins = [bench.instruments[n] for n in slots]
    follow_wall_clock(bench, twins)
    t0 = bench.clock.now()
    _time.sleep(0.05)
    twins[0].respond("*IDN?")
    assert bench.clock.now() - t0 >= 0.05


def test_every_driver_model_has_a_simulated_twin():
    from labspin.bench.registry import DRIVERS
    from labspin.sim_backend.wirings import twin_classes
    assert set(twin_classes()) == set(DRIVERS)


def _dry_run(seed):
    import tomllib as _toml

    from labspin.bench.config import parse_bench_config as _parse
    bench, slots = build_bench(load_sample("inplane_sot_hallbar"), "stfmr", seed=seed)
    cfg = _parse(_toml.loads(bench_config_text(bench, slots)))
    rf = open_instrument(cfg.instruments["rf"], clock=bench.clock)
    lockin = open_instrument(cfg.instruments["lockin"], clock=bench.clock)
    psu = open_instrument(cfg.instruments["magnet_psu"], clock=bench.clock)
    rf.frequency, rf.power = 7e9, 8.0
    rf.configure_am_reference(1.7e3, 100.0, 1.0)
    rf.output_enabled = True
    lockin.reference_source = "external"
    lockin.sensitivity = 0.1
    psu.output_enabled = True
    out = []
    for i in np.linspace(0.5, 3.0, 6):
        psu.current_setpoint = float(i)
        bench.clock.sleep(1.0)
        out.append(lockin.measure_xy())
    return np.array(out)


def test_same_seed_reproduces_a_dry_run():
    a, b, c = _dry_run(7), _dry_run(7), _dry_run(8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_sim_serve_rejects_bad_faults(capsys):
    from labspin.cli.main import main
    assert main(["sim", "serve", "--wiring", "transport", "--fault", "nope:timeout"]) == 2
    assert "no instrument 'nope'" in capsys.readouterr().err
    assert main(["sim", "serve", "--wiring", "transport", "--fault", "smu:melt"]) == 2
    assert "melt" in capsys.readouterr().err


def test_sim_serve_injects_the_rf_sources_own_faults(capsys):
    """`sim serve --fault rf:unlevel:DBM` and `NAME:trip_protection` reach the RF twins'
    own faults (a served bench can then show a client an unlevelled or tripped output)."""
    from labspin.cli.main import _apply_fault, main
    from labspin.sim_backend.default_bench import models_bench
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.wirings import build_bench

    bench, slots = build_bench(load_sample("inplane_sot_hallbar"), "stfmr", seed=0)
    twins = {n: bench.instruments[n] for n in slots}
    _apply_fault(twins, "rf:unlevel:2")
    rf = twins["rf"]
    rf.set("power", 5.0)
    rf.set("rf_on", True)
    assert rf.delivered_power_dBm() == 2.0 and rf.unleveled()
    for spec, words in [("rf:unlevel", "in dBm"), ("rf:unlevel:99", "-150 to +30 dBm"),
                        ("rf:trip_protection", "no trip_protection fault"),
                        ("smu:unlevel:2", "RF source's: rf")]:
        with pytest.raises(ValueError, match=re.escape(words)):
            _apply_fault(twins, spec)
    bench2, models = models_bench(load_sample("inplane_sot_hallbar"), ["smb100a"], seed=0)
    sources = {n: bench2.instruments[n] for n in models}
    (name,) = sources
    sources[name].set("rf_on", True)
    _apply_fault(sources, f"{name}:trip_protection")
    assert sources[name].delivered_power_dBm() is None
    assert main(["sim", "serve", "--wiring", "stfmr", "--fault", "rf:unlevel:x"]) == 2
    assert "unlevel needs the most power" in capsys.readouterr().err
