"""Built-in simulated samples, `--set` overrides and `labspin sim samples/show`; every key of a
sample file is checked (a typo is refused, naming the file, table and key)."""
import copy
import json

import pytest

from labspin.cli.main import main
from labspin.physics.constants import MU0
from labspin.sim_backend.samples import (
    DERIVED,
    SampleError,
    allowed_keys,
    apply_overrides,
    build_sample,
    builtin_names,
    load_sample,
    load_sample_data,
)

DESIGN_KEYS = {"alpha", "gamma_Hz_per_T", "mu0_ms_T", "mu0_meff_T", "mu0_hk_T", "temperature_K",
               "volume_m3", "mu0_hdl_per_A_T", "mu0_hfl_per_A_T"}


def test_builtin_samples_build():
    names = builtin_names()
    assert set(names) == {"inplane_sot_hallbar", "perpendicular_sot_hallbar", "mtj_pillar",
                          "mtj_pillar_low_barrier", "mtj_pillar_switching",
                          "spin_torque_oscillator",
                          "dw_gaussian_source", "kapitza_cofeb_w", "py_film_fmr"}
    for n in names:
        info = load_sample(n).describe()
        assert info["name"] == n and info["description"]
        if info["geometry"] != "domain_wall":
            assert DESIGN_KEYS <= set(info)


def test_perpendicular_sample_matches_the_published_values():
    """Ta/CoFeB 5360 (../shared/realdata/README.md): μ0Hk,eff ≈ 0.21 T; at 2.68 mA
    H_DL = −420 A/m and |H_FL| = 574 A/m (Oersted included), H_FL < 0 in design.md's sign
    convention (σ along the Oersted field), in which the real loops give −545 A/m;
    R_xx0 = 304.3 Ω."""
    info = load_sample("perpendicular_sot_hallbar").describe()
    assert -info["mu0_meff_T"] == pytest.approx(0.21, abs=0.005)
    assert info["mu0_hdl_per_A_T"] * 2.68e-3 / MU0 == pytest.approx(-420, rel=1e-3)
    assert info["mu0_hfl_per_A_T"] * 2.68e-3 / MU0 == pytest.approx(-574, rel=1e-3)
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


# ---------------------------------------------------------------- every key is checked
def _dump(d: dict) -> str:
    """A sample table as TOML (numbers, strings, booleans, lists; one level of tables)."""
    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        return repr(v)
    top = [f"{k} = {val(v)}" for k, v in d.items() if not isinstance(v, dict)]
    tables = [f"[{k}]\n" + "\n".join(f"{kk} = {val(vv)}" for kk, vv in v.items())
              for k, v in d.items() if isinstance(v, dict)]
    return "\n".join(top) + "\n\n" + "\n\n".join(tables) + "\n"


def _typo(key: str) -> str:
    """A close miss: the last two letters swapped (a short key: its last letter doubled)."""
    return key[:-2] + key[-1] + key[-2] if len(key) > 3 and key[-1] != key[-2] else key + key[-1]


@pytest.mark.parametrize("name", builtin_names())
def test_a_typo_in_any_table_of_any_builtin_sample_is_refused_naming_it(name, tmp_path):
    """Every table of every built-in sample, its first key misspelt: the error names the file,
    the table, the key, the intended key (difflib) and every allowed key."""
    data = load_sample_data(name)
    tables = allowed_keys(data["geometry"])
    for table, content in data.items():
        if not isinstance(content, dict):
            continue
        key = next(iter(content))
        bad = copy.deepcopy(data)
        bad[table][_typo(key)] = bad[table].pop(key)
        f = tmp_path / f"{table}.toml"
        f.write_text(_dump(bad), encoding="utf-8")
        with pytest.raises(SampleError) as err:
            load_sample(f)
        msg = str(err.value)
        assert str(f) in msg and f"{table}.{_typo(key)}: unknown key in [{table}]" in msg, msg
        assert f"(did you mean {key!r}?)" in msg, msg
        assert all(k in msg for k in tables[table]), msg
        f.write_text(_dump(data), encoding="utf-8")         # the same file without the typo
        assert load_sample(f).describe() == load_sample(name).describe()


def test_typo_in_magnet_alpha_no_longer_uses_the_default(tmp_path):
    data = load_sample_data("inplane_sot_hallbar")
    data["magnet"]["alfa"] = 0.01
    f = tmp_path / "typo.toml"
    f.write_text(_dump(data), encoding="utf-8")
    with pytest.raises(SampleError, match=r"typo.toml: magnet.alfa: unknown key in \[magnet\] "
                                          r"\(did you mean 'alpha'\?\); allowed: "):
        load_sample(f)


@pytest.mark.parametrize("edit, fragments", [
    (lambda d: d.__setitem__("readuot", d.pop("readout")),
     ["readuot: unknown top-level key (did you mean 'readout'?)", "tables of a hallbar"]),
    (lambda d: d.__setitem__("descripton", d.pop("description")),
     ["descripton: unknown top-level key (did you mean 'description'?)"]),
    (lambda d: d.__setitem__("domain_wall", {"alpha": 0.02}),
     ["[domain_wall] is a table of a domain_wall sample, not of a hallbar one"]),
    (lambda d: d["magnet"].__setitem__("zzz", 1.0),
     ["magnet.zzz: unknown key in [magnet]; allowed: activation_volume_m3"]),
    (lambda d: d["heavy_metal"].__setitem__("oersted", 1),
     ["heavy_metal.oersted: must be true or false"]),
])
def test_unknown_tables_and_top_level_keys_are_refused(tmp_path, edit, fragments):
    data = load_sample_data("inplane_sot_hallbar")
    edit(data)
    f = tmp_path / "s.toml"
    f.write_text(_dump(data), encoding="utf-8")
    with pytest.raises(SampleError) as err:
        load_sample(f)
    assert str(f) in str(err.value)
    for fragment in fragments:
        assert fragment in str(err.value), str(err.value)


def test_domain_wall_values_must_be_numbers(tmp_path):
    data = load_sample_data("dw_gaussian_source")
    data["domain_wall"]["n_sites"] = 2.5
    f = tmp_path / "dw.toml"
    f.write_text(_dump(data), encoding="utf-8")
    with pytest.raises(SampleError, match="domain_wall.n_sites: must be an integer"):
        load_sample(f)
    data["domain_wall"]["n_sites"], data["dw_readout"]["tmr"] = 4, "150 %"
    f.write_text(_dump(data), encoding="utf-8")
    with pytest.raises(SampleError, match="dw_readout.tmr: must be a finite number"):
        load_sample(f)


def test_activation_volume_is_a_known_magnet_key():
    data = apply_overrides(load_sample_data("mtj_pillar"), ["magnet.activation_volume_m3=1e-24"])
    assert data["magnet"]["activation_volume_m3"] == 1e-24


def test_a_misspelt_dotted_override_is_refused():
    with pytest.raises(SampleError, match=r"--set magnet.alfa: unknown key in \[magnet\] \(did "
                                          r"you mean 'alpha'\?\)"):
        apply_overrides(load_sample_data("inplane_sot_hallbar"), ["magnet.alfa=0.01"])
    with pytest.raises(SampleError, match=r"--set magent.alpha: unknown table \[magent\] \(did "
                                          r"you mean 'magnet'\?\)"):
        apply_overrides(load_sample_data("inplane_sot_hallbar"), ["magent.alpha=0.01"])
    with pytest.raises(SampleError, match="readout.r0_ohm: unknown key in \\[readout\\]"):
        apply_overrides(load_sample_data("mtj_pillar"), ["readout.r0_ohm=100"])


# ---------------------------------------------------------------- --set names the key given
@pytest.mark.parametrize("key", sorted(DERIVED))
@pytest.mark.parametrize("text", ["nan", "inf", "-inf"])
def test_non_finite_derived_value_is_refused_on_the_key_given(key, text):
    sample = "mtj_pillar" if key in ("r_p_ohm", "r_ap_ohm") else "inplane_sot_hallbar"
    with pytest.raises(SampleError) as err:
        apply_overrides(load_sample_data(sample), [f"{key}={text}"])
    msg = str(err.value)
    assert msg.startswith(f"--set {key}: must be a finite number") and repr(text) in msg, msg
    dotted = DERIVED[key][0]
    assert dotted.split(".")[1] == key or dotted not in msg, msg      # not the mapped key


@pytest.mark.parametrize("key, text, allowed", [
    ("alpha", "0", "> 0"), ("mu0_ms_T", "-1.2", "> 0"), ("gamma_Hz_per_T", "-28e9", "> 0"),
    ("temperature_K", "-1", "≥ 0"), ("r0_ohm", "0", "> 0"), ("alpha", "true", "> 0"),
    ("mu0_meff_T", "0.8 T", "a finite number (SI)")])
def test_derived_value_out_of_range_names_the_key_and_the_range(key, text, allowed):
    with pytest.raises(SampleError) as err:
        apply_overrides(load_sample_data("inplane_sot_hallbar"), [f"{key}={text}"])
    msg = str(err.value)
    assert msg.startswith(f"--set {key}: must be ") and allowed in msg and repr(text) in msg


def test_cli_set_nan_names_the_key_the_user_typed(capsys):
    assert main(["sim", "show", "inplane_sot_hallbar", "--set", "mu0_meff_T=nan", "--json"]) == 2
    err = capsys.readouterr().err
    assert "--set mu0_meff_T: must be a finite number" in err and "ks_J_per_m2" not in err, err


def test_derived_keys_of_another_geometry_are_refused():
    with pytest.raises(SampleError, match="--set r_p_ohm: not a key of inplane_sot_hallbar "
                                          "\\(a hallbar sample\\)"):
        apply_overrides(load_sample_data("inplane_sot_hallbar"), ["r_p_ohm=500"])
    with pytest.raises(SampleError, match="--set mu0_meff_T: not a key of dw_gaussian_source"):
        apply_overrides(load_sample_data("dw_gaussian_source"), ["mu0_meff_T=0.1"])
    with pytest.raises(SampleError, match="--set xi_dl: sample mtj_pillar has no"):
        apply_overrides(load_sample_data("mtj_pillar"), ["xi_dl=0.1"])


@pytest.mark.parametrize("key, value", [("alpha", 0.031), ("mu0_ms_T", 0.9),
                                        ("temperature_K", 77.0), ("gamma_Hz_per_T", 29e9)])
def test_derived_overrides_of_a_domain_wall_sample_land_on_their_value(key, value):
    data = apply_overrides(load_sample_data("dw_gaussian_source"), [f"{key}={value}"])
    assert "magnet" not in data
    assert build_sample(data).describe()[key] == pytest.approx(value, rel=1e-12)


def test_overrides_that_are_only_valid_together_are_accepted_and_a_bad_one_is_named():
    """The sample is validated once all --set overrides are applied: a smaller site pitch
    with smaller notches is fine in either order; a pitch that breaks the default notches
    alone is named."""
    pair = ["domain_wall.site_pitch=80e-9", "domain_wall.notch_half_length=40e-9"]
    for overrides in (pair, pair[::-1]):
        wall = load_sample("dw_gaussian_source", overrides).wall
        assert wall.params.site_pitch == pytest.approx(80e-9)
    with pytest.raises(SampleError, match=r"--set domain_wall.site_pitch=80e-9: notches overlap"):
        load_sample("dw_gaussian_source", pair[:1])
