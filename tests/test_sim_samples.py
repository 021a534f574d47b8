"""Built-in simulated samples, `--set` overrides and `labspin sim samples/show`."""
import json

import pytest

from labspin.cli import main
from labspin.constants import MU0
from labspin.sim_backend.samples import (DERIVED, SampleError, apply_overrides, build_sample,
                                         builtin_names, load_sample, load_sample_data)

DESIGN_KEYS = {"alpha", "gamma_Hz_per_T", "mu0_ms_T", "mu0_meff_T", "mu0_hk_T", "temperature_K",
               "volume_m3", "mu0_hdl_per_A_T", "mu0_hfl_per_A_T"}


def test_builtin_samples_build():
    names = builtin_names()
    assert set(names) == {"inplane_sot_hallbar", "perpendicular_sot_hallbar", "mtj_pillar",
                          "mtj_pillar_low_barrier", "spin_torque_oscillator",
                          "dw_gaussian_source", "kapitza_cofeb_w"}
    for n in names:
        info = load_sample(n).describe()
        assert info["name"] == n and info["description"]
        if info["geometry"] != "domain_wall":
            assert DESIGN_KEYS <= set(info)


def test_perpendicular_sample_matches_the_published_values():
    """Ta/CoFeB 5360 (../shared/realdata/README.md): μ0Hk,eff ≈ 0.21 T; at 2.68 mA
    H_DL = −420 A/m and H_FL = 574 A/m (Oersted included); R_xx0 = 304.3 Ω."""
    info = load_sample("perpendicular_sot_hallbar").describe()
    assert -info["mu0_meff_T"] == pytest.approx(0.21, abs=0.005)
    assert info["mu0_hdl_per_A_T"] * 2.68e-3 / MU0 == pytest.approx(-420, rel=1e-3)
    assert info["mu0_hfl_per_A_T"] * 2.68e-3 / MU0 == pytest.approx(574, rel=1e-3)
    assert info["r0_ohm"] == 304.3 and info["dr_ahe_ohm"] == pytest.approx(-5.71 / 2)


def test_mtj_barriers():
    assert load_sample("mtj_pillar").describe()["delta"] == pytest.approx(45, abs=1)
    assert load_sample("mtj_pillar_low_barrier").describe()["delta"] == pytest.approx(19, abs=1)


@pytest.mark.parametrize("key, value", [
    ("alpha", 0.0123), ("mu0_meff_T", 0.65), ("mu0_hk_T", 5e-3), ("gamma_Hz_per_T", 29.5e9),
    ("mu0_hdl_per_A_T", -0.5), ("mu0_hfl_per_A_T", 0.2), ("dr_ahe_ohm", 1.7), ("xi_dl", -0.2),
    ("temperature_K", 77.0), ("mu0_ms_T", 1.1)])
def test_derived_overrides_land_on_their_value(key, value):
    data = apply_overrides(load_sample_data("inplane_sot_hallbar"), [f"{key}={value}"])
    assert build_sample(data).describe()[key] == pytest.approx(value, rel=1e-9)


def test_dotted_override_and_errors():
    data = apply_overrides(load_sample_data("mtj_pillar"), ["magnet.alpha=0.02",
                                                            "readout.reference=[1, 0, 0]"])
    assert data["magnet"]["alpha"] == 0.02 and data["readout"]["reference"] == [1, 0, 0]
    with pytest.raises(SampleError, match="not a sample key"):
        apply_overrides(load_sample_data("mtj_pillar"), ["damping=0.1"])
    with pytest.raises(SampleError, match="expected KEY=VALUE"):
        apply_overrides(load_sample_data("mtj_pillar"), ["alpha"])
    with pytest.raises(SampleError, match="magnet.alpha: must be > 0"):
        apply_overrides(load_sample_data("mtj_pillar"), ["magnet.alpha=-1"])
    with pytest.raises(SampleError, match="has no \\[heavy_metal\\]"):
        apply_overrides(load_sample_data("mtj_pillar"), ["mu0_hdl_per_A_T=0.1"])
    with pytest.raises(SampleError, match="unknown sample 'nope'"):
        load_sample("nope")
    assert set(DERIVED) >= {"alpha", "mu0_meff_T", "dr_ahe_ohm"}


def test_cli_sim_samples_and_show(capsys):
    assert main(["sim", "samples"]) == 0
    assert "kapitza_cofeb_w" in capsys.readouterr().out
    assert main(["sim", "show", "inplane_sot_hallbar", "--set", "alpha=0.02", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["alpha"] == 0.02
    assert main(["sim", "show", "inplane_sot_hallbar", "--set", "alpha=oops"]) == 2
    assert "must be a number" in capsys.readouterr().err


def test_sample_file_with_a_bad_key_names_it(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('geometry = "hallbar"\n[magnet]\nmu0_ms_T = 1.0\nalpha = 0.01\n'
                 'thickness_m = 1e-9\nwidth_m = 1e-6\n[readout]\nr0_ohm = 100.0\n')
    with pytest.raises(SampleError, match="magnet.length_m: missing"):
        load_sample(f)
