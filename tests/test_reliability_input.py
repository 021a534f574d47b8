"""Bad input (issue 8): malformed bench and sample configs, wrong units, unknown instruments,
bad command-line values. Each is refused by ``labspin run`` with exit status 2 and a message on
stderr that names the problem — no traceback, no results file, no instrument opened.

Mostly in-process through ``labspin.cli.main.main`` (fast), property-based with hypothesis where the
input space is open; a few subprocess checks confirm the real exit status and stderr.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import labspin.bench.session
from labspin.bench.config import EXAMPLE
from labspin.cli.main import main
from labspin.procedures import PROCEDURES, procedure_class
from labspin.sim_backend.samples import builtin_names

COUNT = {"bad inputs": 0}
HYP = settings(max_examples=40, deadline=None,
               suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module", autouse=True)
def report_count():
    """Print how many bad inputs the module tried (pytest -s shows it)."""
    yield
    print("\nbad inputs tried:", COUNT["bad inputs"])


@pytest.fixture
def untouched(monkeypatch, tmp_path):
    """Record every instrument opened; get (out dir, opened list)."""
    opened = []
    real = labspin.bench.session.open_instrument

    def spy(cfg, **kw):
        opened.append(cfg.name)
        return real(cfg, **kw)
    monkeypatch.setattr(labspin.bench.session, "open_instrument", spy)
    out = tmp_path / "out"
    return out, opened


def refused(argv, capsys, untouched, *expect: str) -> str:
    """Run ``labspin ARGV`` in-process; assert exit 2, stderr naming every ``expect`` fragment,
    no traceback, no results file and no instrument opened; get stderr."""
    out, opened = untouched
    argv = [*argv, "--out", str(out)] if argv and argv[0] == "run" and "--out" not in argv \
        else list(argv)
    try:
        rc = main(argv)
    except SystemExit as exc:          # argparse's own usage errors
        rc = exc.code
    cap = capsys.readouterr()
    COUNT["bad inputs"] += 1
    assert rc == 2, (argv, rc, cap.err[-500:])
    assert "Traceback" not in cap.err and cap.err.strip(), cap.err
    for fragment in expect:
        assert fragment in cap.err, (fragment, cap.err)
    assert opened == [], opened
    assert not out.exists() or not any(out.iterdir())
    assert cap.out == ""
    return cap.err


# ---------------------------------------------------------------- command-line values
CLI_CASES = [
    (["run", "field-sweeps"], "unknown procedure 'field-sweeps'"),
    (["run"], "the following arguments are required: procedure"),
    (["run", "field-sweep", "--seed", "abc"], "--seed: invalid int value: 'abc'"),
    (["run", "field-sweep", "--bench", "b.toml", "--sim"], "not allowed with argument"),
    (["run", "field-sweep", "--param", "max_field"], "parameter 'max_field'"),
    (["run", "field-sweep", "--param", "max_feild=0.1"], "parameters of field-sweep are"),
    (["run", "field-sweep", "--param", "probe=hall bar"], "parameter probe=hall bar: not one of the choices; allowed"),
    (["run", "field-sweep", "--param", "max_field=0.3A"], "parameter max_field"),
    (["run", "field-sweep", "--param", "max_field=300 mA"], "max_field: '300 mA': cannot convert 'mA'"),
    (["run", "field-sweep", "--param", "current=1 mT"], "parameter current"),
    (["run", "field-sweep", "--param", "max_field=nan"], "max_field: 'nan' is not finite"),
    (["run", "field-sweep", "--param", "max_field=inf"], "max_field=inf"),
    (["run", "field-sweep", "--param", "delay=nan"], "delay"),
    (["run", "field-sweep", "--param", "averages=2.5"], "averages"),
    (["run", "field-sweep", "--param", "max_field=0.6"], "'Max field' = 0.6 T is outside"),
    # units are read (results.units), so 600 mT is 0.6 T and meets the same limit
    (["run", "field-sweep", "--param", "max_field=600 mT"], "'Max field' = 0.6 T is outside"),
    (["run", "field-sweep", "--sample", "no_such_sample"], "unknown sample 'no_such_sample'"),
    (["run", "field-sweep", "--set", "alpha"], "--set 'alpha': expected KEY=VALUE"),
    (["run", "field-sweep", "--set", "alpha=0.01 T"], "--set alpha: must be a number"),
    (["run", "field-sweep", "--set", "alhpa=0.01"], "--set alhpa: not a sample key"),
    (["run", "field-sweep", "--seed", "-1"], "--seed -1: must be an integer"),
    (["run", "stfmr", "--param", "powers=10 dBW"], "Powers"),
    (["run", "stfmr", "--param", "frequencies=6 GHz, 12 A"], "Frequencies"),
    (["run", "telegraph-dwell", "--param", "fields=0,abc"], "Fields"),
    (["run", "stno-spectrum", "--param", "currents=1:2"], "Currents"),
]


@pytest.mark.parametrize("argv,fragment", CLI_CASES, ids=[" ".join(a) for a, _ in CLI_CASES])
def test_bad_command_line_values(argv, fragment, capsys, untouched):
    refused(argv, capsys, untouched, fragment)


def test_out_folder_that_is_a_file_is_refused(tmp_path, capsys, untouched):
    """A results folder that cannot be made is a user error, refused before anything is
    touched (it used to end in a FileExistsError traceback)."""
    blocker = tmp_path / "taken"
    blocker.write_text("")
    err = refused(["run", "field-sweep", "--param", "max_field=0.02", "--out", str(blocker)],
                  capsys, untouched, "--out", str(blocker))
    assert "not a folder" in err or "cannot" in err


def _numeric_parameters():
    out = []
    for name in PROCEDURES:
        for key, p in procedure_class(name)().parameter_objects().items():
            if hasattr(p, "minimum") and hasattr(p, "maximum"):
                out.append((name, key, p))
    return out


NUMERIC = _numeric_parameters()
_not_a_number = st.text(min_size=1, max_size=12).filter(lambda s: _not_float(s))


def _not_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return "=" not in text and text.strip() != ""
    return False


def _same_dimension(unit: str, declared: str) -> bool:
    """Whether ``unit`` converts to the parameter's ``declared`` unit by the unit table."""
    from labspin.results.units import factor
    try:
        factor(unit, declared)
    except (KeyError, ValueError):
        return unit == declared
    return True


@HYP
@given(case=st.sampled_from(NUMERIC), data=st.data())
def test_numeric_parameters_refuse_units_garbage_and_out_of_range(case, data, capsys,
                                                                  untouched):
    """Any numeric --param given a unit suffix, text, a non-finite number or a value past its
    range: refused, naming the parameter."""
    name, key, p = case
    kind = data.draw(st.sampled_from(["unit", "text", "nonfinite", "range"]))
    if kind == "unit":
        number = data.draw(st.floats(p.minimum, p.maximum, allow_nan=False))
        # a unit of the parameter's dimension is converted (issue 15: "0.01 mA" is 1e-5 A,
        # tests/test_units.py); one of another dimension is refused
        unit = data.draw(st.sampled_from(["T", " mT", "A", " mA", " Oe", " s", "V", " dBm", "%"])
                         .filter(lambda u: not _same_dimension(u.strip(), p.units or "")))
        value = f"{number:g}{unit}"
    elif kind == "text":
        value = data.draw(_not_a_number)
    elif kind == "nonfinite":
        value = data.draw(st.sampled_from(["nan", "inf", "-inf", "1e999"]))
    else:
        span = max(abs(p.maximum - p.minimum), 1.0)
        value = repr(data.draw(st.sampled_from([p.maximum + span, p.minimum - span])))
    err = refused(["run", name, "--param", f"{key}={value}"], capsys, untouched)
    assert key in err or (p.name in err), err


# ---------------------------------------------------------------- bench configs
def _sim_config(tmp_path, capsys) -> str:
    """The simulated transport bench's config, as `labspin sim serve --bench-out` writes it,
    pointed at the in-process twins."""
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.wirings import WIRINGS, bench_config_text, build_bench
    vb, _ = build_bench(load_sample("perpendicular_sot_hallbar"), "transport")
    return bench_config_text(vb, WIRINGS["transport"])


MUTATIONS = {
    "limit not a number": (lambda d, v: d["limits"].__setitem__("max_field_T", v),
                           "limits.max_field_T"),
    "limit with a unit": (lambda d, v: d["limits"].__setitem__("max_sample_current_A", "20 mA"),
                          "limits.max_sample_current_A"),
    "limit negative": (lambda d, v: d["limits"].__setitem__("max_field_ramp_T_per_s", -abs(
        v if isinstance(v, float) else 1.0)), "limits.max_field_ramp_T_per_s"),
    "limit missing": (lambda d, v: d["limits"].pop("max_rf_power_dBm"),
                      "limits.max_rf_power_dBm: missing"),
    "unknown driver": (lambda d, v: d["instruments"]["smu"].__setitem__("driver", f"k{v}"),
                       "instruments.smu.driver: unknown driver"),
    "unknown role": (lambda d, v: d["instruments"]["smu"].__setitem__("role", f"r{v}"),
                     "instruments.smu.role"),
    "unknown key": (lambda d, v: d["instruments"]["smu"].__setitem__("resorce", "x"),
                    "instruments.smu.resorce: unknown key"),
    "no resource": (lambda d, v: d["instruments"]["nanovoltmeter"].pop("resource"),
                    "instruments.nanovoltmeter.resource: missing"),
    "unknown supply": (lambda d, v: d["magnet"].__setitem__("supply", f"psu{v}"),
                       "magnet.supply"),
    "timeout text": (lambda d, v: d["instruments"]["smu"].__setitem__("timeout_ms", "5 s"),
                     "instruments.smu.timeout_ms"),
    "calibration backwards": (lambda d, v: d["magnet"]["calibration"].__setitem__(
        "tesla_per_A", -0.035), "magnet.calibration.tesla_per_A"),
}
_junk = st.one_of(st.text(max_size=6), st.booleans(), st.lists(st.integers(), max_size=2),
                  st.just(float("nan")), st.just(float("inf")))


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(value), repr(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)   # JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f'"{k}" = {_toml(v)}' for k, v in value.items()) + " }"
    return repr(value)


def dump_toml(d: dict, prefix: str = "") -> str:
    """A minimal TOML writer for these configs (tables of scalars, lists and inline tables)."""
    lines, tables = [], []
    for k, v in d.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml(v)}")
    text = "\n".join(lines) + "\n"
    for k, v in tables:
        name = f"{prefix}.{k}" if prefix else k
        if all(not isinstance(x, dict) for x in v.values()) or k == "options":
            text += f"\n[{name}]\n" + "\n".join(f"{a} = {_toml(b)}" for a, b in v.items()) + "\n"
        else:
            text += f"\n[{name}]\n" + dump_toml(v, name)
    return text


@HYP
@given(picks=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3, unique=True),
       junk=_junk)
def test_malformed_bench_configs_name_every_key(picks, junk, tmp_path_factory, capsys,
                                                untouched):
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.wirings import WIRINGS, bench_config_text, build_bench
    vb, _ = build_bench(load_sample("perpendicular_sot_hallbar"), "transport")
    d = tomllib.loads(bench_config_text(vb, WIRINGS["transport"]))
    for pick in picks:
        MUTATIONS[pick][0](d, junk)
    if isinstance(junk, str) and "unknown driver" in picks and f"k{junk}" in \
            __import__("labspin.bench.registry", fromlist=["x"]).DRIVERS:
        return
    f = tmp_path_factory.mktemp("bench") / "bench.toml"
    f.write_text(dump_toml(d), encoding="utf-8")
    keys = [MUTATIONS[p][1] for p in picks]
    if "unknown supply" in picks and ("unknown role" in picks or "unknown driver" in picks):
        keys.remove("magnet.supply")       # reported too, but as a consequence
    refused(["run", "field-sweep", "--bench", str(f)], capsys, untouched, *keys)


@pytest.mark.parametrize("content,fragment", [
    (b"[limits\nmax_field_T = ", "not valid TOML"),
    (b"\xff\xfe\x00garbage", "not valid TOML"),
    (b"".join(EXAMPLE.read_bytes().splitlines(keepends=True)[:12]), "problem"),
])
def test_broken_bench_files(content, fragment, tmp_path, capsys, untouched):
    f = tmp_path / "bench.toml"
    f.write_bytes(content)
    refused(["run", "stfmr", "--bench", str(f)], capsys, untouched, fragment)
    refused(["run", "stfmr", "--bench", str(tmp_path / "absent.toml")], capsys, untouched,
            "cannot read bench config")


def test_a_bench_without_a_role_the_procedure_needs_is_refused(tmp_path, capsys, untouched):
    """An instrument the procedure needs that the bench config does not have: refused before
    any instrument is opened, naming what is missing."""
    from labspin.sim_backend.samples import load_sample
    from labspin.sim_backend.wirings import WIRINGS, bench_config_text, build_bench
    vb, _ = build_bench(load_sample("perpendicular_sot_hallbar"), "transport")
    f = tmp_path / "transport.toml"
    f.write_text(bench_config_text(vb, WIRINGS["transport"]))
    refused(["run", "stfmr", "--bench", str(f)], capsys, untouched, "rf_source")
    refused(["run", "harmonic-hall", "--bench", str(f)], capsys, untouched, "lock-in")
    refused(["run", "stno-spectrum", "--bench", str(f)], capsys, untouched, "spectrum_analyzer")
    refused(["run", "field-sweep", "--bench", str(f), "--set", "alpha=0.01"], capsys,
            untouched, "sample and set describe a simulated sample")
    slots = {k: v for k, v in WIRINGS["gaussian_source"].items() if k != "smu"}
    g = tmp_path / "gate_only.toml"
    g.write_text(bench_config_text(vb, slots))
    refused(["run", "tmr-statistics", "--bench", str(g)], capsys, untouched,
            "source_meter to read the MTJ besides the gate")


# ---------------------------------------------------------------- sample files
SAMPLE_MUTATIONS = {
    "alpha text": (lambda d, v: d["magnet"].__setitem__("alpha", "0.02 (Gilbert)"),
                   "magnet.alpha"),
    "ms negative": (lambda d, v: d["magnet"].__setitem__("mu0_ms_T", -0.5), "magnet.mu0_ms_T"),
    "thickness junk": (lambda d, v: d["magnet"].__setitem__("thickness_m", v),
                       "magnet.thickness_m"),
    "demag short": (lambda d, v: d["magnet"].__setitem__("demag", [0, 1]), "magnet.demag"),
    "geometry": (lambda d, v: d.__setitem__("geometry", f"g{v}"), "geometry"),
    "missing": (lambda d, v: d["magnet"].pop("mu0_ms_T"), "magnet.mu0_ms_T"),
}


@HYP
@given(pick=st.sampled_from(sorted(SAMPLE_MUTATIONS)), junk=_junk)
def test_malformed_sample_files_name_the_key(pick, junk, tmp_path_factory, capsys, untouched):
    from labspin.sim_backend.samples import load_sample_data
    d = load_sample_data("perpendicular_sot_hallbar")
    SAMPLE_MUTATIONS[pick][0](d, junk)
    f = tmp_path_factory.mktemp("sample") / "sample.toml"
    f.write_text(dump_toml(d), encoding="utf-8")
    refused(["run", "field-sweep", "--sample", str(f)], capsys, untouched,
            SAMPLE_MUTATIONS[pick][1])


@HYP
@given(key=st.sampled_from(["alpha", "mu0_meff_T", "dr_ahe_ohm", "magnet.alpha",
                            "readout.r0_ohm"]),
       text=st.one_of(_not_a_number, st.sampled_from(["nan", "inf", "0.01 T", "1,5"])))
def test_set_with_a_non_number_is_refused(key, text, capsys, untouched):
    err = refused(["run", "field-sweep", "--set", f"{key}={text}"], capsys, untouched,
                  f"--set {key}")
    # reported on the key the user typed, never on the parameter a derived key maps onto
    assert "ks_J_per_m2" not in err, err
    if text in ("nan", "inf"):
        assert "must be a finite number" in err, err


def _misspell(key: str, data) -> str:
    """A close miss of ``key``: one letter dropped, doubled or two neighbours swapped (a
    one-letter key can only be doubled)."""
    if len(key) < 2:
        return key + key
    i = data.draw(st.integers(0, len(key) - 2))
    kind = data.draw(st.sampled_from(["drop", "double", "swap"]))
    if kind == "drop":
        return key[:i] + key[i + 1:]
    if kind == "double":
        return key[:i] + key[i] + key[i:]
    return key[:i] + key[i + 1] + key[i] + key[i + 2:]


@HYP
@given(name=st.sampled_from(builtin_names()), data=st.data())
def test_a_misspelt_key_in_a_sample_file_is_refused(name, data, tmp_path_factory, capsys,
                                                     untouched):
    """Any table of any built-in sample, one key misspelt (or a table's name): refused,
    naming the file, the table and the key — a typo never falls back on the default."""
    from labspin.sim_backend.samples import TOP_KEYS, allowed_keys, load_sample_data
    d = load_sample_data(name)
    tables = allowed_keys(d["geometry"])
    table = data.draw(st.sampled_from([t for t in d if isinstance(d[t], dict)]))
    f = tmp_path_factory.mktemp("sample") / "typo.toml"
    if data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(d[table])))
        typo = _misspell(key, data)
        assume(typo not in tables[table])
        d[table][typo] = d[table].pop(key)
        expect = (str(f), f"{table}.{typo}: unknown key in [{table}]")
    else:
        typo = _misspell(table, data)
        assume(typo not in tables and typo not in TOP_KEYS)
        d[typo] = d.pop(table)
        expect = (str(f), f"{typo}: unknown top-level key")
    f.write_text(dump_toml(d), encoding="utf-8")
    refused(["run", "field-sweep", "--sample", str(f)], capsys, untouched, *expect)


def test_every_builtin_sample_name_is_accepted_by_sim_show(capsys):
    for name in builtin_names():
        assert main(["sim", "show", name, "--json"]) == 0
    capsys.readouterr()


# ---------------------------------------------------------------- real processes
@pytest.mark.parametrize("argv,fragment", [
    (["run", "field-sweep", "--param", "max_field=0.3A"],
     "max_field: '0.3A': cannot convert 'A'"),
    (["run", "field-sweep", "--seed", "x"], "invalid int value"),
    (["run", "nope"], "unknown procedure"),
    (["run", "field-sweep", "--bench", "missing.toml"], "cannot read bench config"),
])
def test_subprocess_exit_status_and_stderr(argv, fragment, tmp_path):
    r = subprocess.run([sys.executable, "-m", "labspin.cli.main", *argv, "--out", "o"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    COUNT["bad inputs"] += 1
    assert r.returncode == 2, r.stderr
    assert fragment in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == "" and not (tmp_path / "o").exists()
