"""Per-sample [limits] (issue 13 item 6): a sample file says what the sample survives, and the
tighter of the bench's and the sample's limits holds on the simulated bench built for it. A
40 nm tunnel junction given its barrier's breakdown voltage and a current density does not
get a Hall bar's 20 mA / 20 V: current-sweep with max_current = 15 mA on it is refused
before any instrument is touched. The built-in samples carry physical [limits]: a Hall bar's
current density through its heavy metal, a tunnel junction's barrier voltage and the current
density its pillar survives."""
from __future__ import annotations

import math
import tomllib

import pytest

from labspin.bench.safety import LimitError
from labspin.run.api import prepare
from labspin.sim_backend.samples import SampleError, build_sample, load_sample_data

LIMITS = """
[limits]
# a ~1 nm MgO barrier breaks down at ~1.2-1.5 V; 5e11 A/m2 through pi*(20 nm)^2 is 0.63 mA
max_voltage_V = 1.0
max_current_density_A_per_m2 = 5e11
"""


def _builtin_without_limits(name: str) -> str:
    """Get a built-in sample's file text without its [limits] table (the last table)."""
    from importlib import resources
    text = (resources.files("labspin.sim_backend") / "builtin_samples" / f"{name}.toml") \
        .read_text(encoding="utf-8")
    return text.split("\n[limits]")[0] + "\n"


@pytest.fixture
def junction_file(tmp_path):
    """mtj_pillar (40 nm) with a current density limit too, as a sample file."""
    path = tmp_path / "junction40.toml"
    path.write_text(_builtin_without_limits("mtj_pillar") + LIMITS, encoding="utf-8")
    return path


def test_a_40_nm_junction_is_limited_by_its_barrier_and_its_current_density(junction_file):
    prepared = prepare("current-sweep", sample=str(junction_file), seed=0)
    lim = prepared.bench.config.limits
    data = tomllib.loads(junction_file.read_text(encoding="utf-8"))
    area = math.pi * data["magnet"]["width_m"] * data["magnet"]["length_m"] / 4
    assert lim.max_sample_current_A == pytest.approx(5e11 * area)       # 0.628 mA
    assert lim.max_sample_voltage_V == 1.0
    bench = prepared.bench.open()       # the source meter's own limits narrowed to them
    try:
        smu = bench.role("source_meter")
        assert smu.limits_of("current")[1] == pytest.approx(lim.max_sample_current_A)
        assert smu.limits_of("voltage")[1] == 1.0
    finally:
        bench.close()


def test_current_sweep_beyond_the_junction_limit_is_refused(junction_file):
    with pytest.raises(LimitError, match=r"'Max current' = 0.015 A is outside the allowed "
                                         r"range \[0, 0.000628319\] A"):
        prepare("current-sweep", sample=str(junction_file),
                params={"max_current": 0.015, "compliance": 1.0}, seed=0)
    with pytest.raises(LimitError, match=r"'Compliance voltage' = 2.0 V is outside the "
                                         r"allowed range \[0, 1\] V"):
        prepare("current-sweep", sample=str(junction_file), params={"compliance": 2.0},
                seed=0)
    prepare("current-sweep", sample=str(junction_file), seed=0)      # the 1 V default runs


def test_a_sample_without_limits_keeps_the_bench_ones(tmp_path):
    path = tmp_path / "bare.toml"
    path.write_text(_builtin_without_limits("mtj_pillar"), encoding="utf-8")
    lim = prepare("current-sweep", sample=str(path), seed=0).bench.config.limits
    assert (lim.max_sample_current_A, lim.max_sample_voltage_V) == (0.02, 20.0)


@pytest.mark.parametrize("name,current_A,voltage_V", [
    # Hall bars: the current density through the heavy metal's width × thickness
    ("perpendicular_sot_hallbar", 0.02, 20.0),      # 2e11 A/m² · 30 µm · 5 nm = 30 mA
    ("inplane_sot_hallbar", 2e11 * 10e-6 * 5e-9, 20.0),          # 10 mA
    ("kapitza_cofeb_w", 1e12 * 60e-9 * 5e-9, 20.0),              # 0.3 mA
    # tunnel junctions: their MgO barrier's 1 V, 5e11 A/m² through the pillar's cross-section
    ("mtj_pillar", 5e11 * math.pi * 40e-9 * 40e-9 / 4, 1.0),                 # 0.628 mA
    ("mtj_pillar_switching", 5e11 * math.pi * 50e-9 * 50e-9 / 4, 1.0),       # 0.982 mA
    ("mtj_pillar_low_barrier", 5e11 * math.pi * 40e-9 * 40e-9 / 4, 1.0),
    ("spin_torque_oscillator", 1e12 * math.pi * 120e-9 * 60e-9 / 4, 1.0),   # 5.7 mA
    # the domain-wall source: 4.5e12 A/m² in its 200 nm × 1.1 nm strip, its MgO's 1 V
    ("dw_gaussian_source", 1e-3, 1.0),
])
def test_the_built_in_samples_carry_physical_limits(name, current_A, voltage_V):
    from labspin.sim_backend.wirings import simulated_bench
    lim = simulated_bench("transport", name).config.limits
    assert lim.max_sample_current_A == pytest.approx(current_A, rel=1e-12)
    assert lim.max_sample_voltage_V == voltage_V


def test_current_sweep_of_15_mA_on_the_built_in_40_nm_junction_is_refused_by_name():
    """The issue's case on the built-in mtj_pillar itself: refused in check() (no instrument
    opened), the message giving the allowed range and the sample limit behind it."""
    with pytest.raises(LimitError) as refused:
        prepare("current-sweep", params={"max_current": 0.015}, seed=0)
    text = str(refused.value)
    assert ("parameter 'Max current' = 0.015 A is outside the allowed range [0, 0.000628319] "
            "A (source_meter smu: bench/sample limit max_sample_current_A)") in text
    assert ("the sample mtj_pillar limits the bench's 0.02 A / 20 V: max_sample_current_A = "
            "0.000628319 A is the sample's [limits] max_current_density_A_per_m2 = 5e+11 "
            "A/m² through its 1.257e-15 m² cross-section") in text


def test_every_procedure_default_runs_within_its_default_sample_limits():
    """check() with the defaults on each procedure's own simulated bench (its sample's
    [limits] applied): none is refused."""
    from labspin.procedures import PROCEDURES
    for name in PROCEDURES:
        prepare(name, seed=0)         # raises LimitError/ValueError on a refused default


def test_the_domain_wall_source_refuses_a_move_pulse_beyond_its_strip_limit():
    # 1.2 mA through the 2.2e-16 m² strip would be 5.5e12 A/m²; the default 0.5 mA passes
    with pytest.raises(LimitError, match=r"'Move pulse amplitude' = 0.0012 A is outside the "
                                         r"allowed range \[0, 0.001\] A"):
        prepare("tmr-statistics", params={"sites": "0, 1", "move_current": 1.2e-3}, seed=0)
    prepare("tmr-statistics", params={"sites": "0, 1"}, seed=0)


def test_a_sample_limit_is_checked_like_any_key():
    data = load_sample_data("mtj_pillar")
    data["limits"] = {"max_curent_A": 1e-3}
    with pytest.raises(SampleError, match=r"limits.max_curent_A: .*did you mean "
                                          r"'max_current_A'"):
        build_sample(data)
    data["limits"] = {"max_current_A": -1e-3}
    with pytest.raises(SampleError, match="max_current_A"):
        build_sample(data)
    data["limits"] = {"max_current_A": 1e-4, "max_current_density_A_per_m2": 5e11}
    assert build_sample(data).limits["max_current_A"] == 1e-4      # the tighter of the two
