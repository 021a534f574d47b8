"""The Python API (labspin.run.api, issue 7 "Scripted sweeps"): a run gives back its data as a
pandas DataFrame and its results file, which pymeasure and pandas read with the full
metadata; user errors raise before any instrument is touched."""
import json

import pandas as pd
import pytest
from pymeasure.experiment import Results

from labspin import __version__
from labspin.bench.config import ConfigError
from labspin.bench.safety import LimitError
from labspin.bench.session import Bench
from labspin.procedures.field_sweep import FieldSweep
from labspin.procedures.field_sweep_analysis import analyze_loop
from labspin.run import api
from labspin.sim_backend.samples import SampleError, load_sample

SMALL = {"max_field": 0.2, "field_step": 0.02}      # 41 points (saturating), about 1 s


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """One small field-sweep run through a PreparedRun; get (prepared, RunOutput)."""
    p = api.prepare("field-sweep", params=SMALL, seed=3)
    return p, api.run(p, out=tmp_path_factory.mktemp("api"))


def test_run_returns_dataframe_and_file(quick):
    p, out = quick
    assert out.status_name == "FINISHED" and out.message == ""
    assert isinstance(out.data, pd.DataFrame)
    assert list(out.data.columns) == FieldSweep.DATA_COLUMNS
    assert len(out.data) == p.procedure.estimate()[0]
    assert out.path.is_file() and out.path.suffix == ".csv"
    # pandas alone reads the same table (the header and the status lines are comments); the
    # results reader gives numbers as floats and text as object, pandas its own dtypes
    pd.testing.assert_frame_equal(pd.read_csv(out.path, comment="#"), out.data,
                                  check_dtype=False)


def test_file_loads_with_pymeasure_and_has_the_metadata(quick):
    p, out = quick
    res = Results.load(str(out.path))
    assert isinstance(res.procedure, FieldSweep)
    assert res.procedure.max_field == SMALL["max_field"]
    assert res.procedure.field_step == SMALL["field_step"]
    pd.testing.assert_frame_equal(res.data.reset_index(drop=True), out.data,
                                  check_dtype=False)
    proc = res.procedure
    assert proc.sample_name == "perpendicular_sot_hallbar"
    # pymeasure writes metadata through "unicode_escape" and reads it back as written
    text = proc.sample_parameters.encode("ascii").decode("unicode_escape")
    assert json.loads(text) == json.loads(json.dumps(
        load_sample("perpendicular_sot_hallbar").describe()))
    assert proc.seed == "3"
    assert proc.labspin_version == __version__
    versions = json.loads(proc.versions)
    import numpy
    import pymeasure
    assert versions["labspin"] == __version__ and versions["numpy"] == numpy.__version__
    assert versions["pymeasure"] == pymeasure.__version__ and versions["python"]
    assert proc.bench_config_sha256 == p.bench.config.sha256
    assert len(proc.bench_config_sha256) == 64
    ids = json.loads(proc.instruments)
    assert set(ids) == set(p.bench.config.instruments)
    for name, text in ids.items():
        assert text and not text.startswith("unavailable"), (name, text)
    assert "KEITHLEY" in ids["smu"].upper() and "2400" in ids["smu"]
    lines = out.path.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "#Status: FINISHED"
    assert lines[-2].startswith("#End time: ")
    assert out.results().procedure.seed == "3"


def test_a_prepared_run_keeps_its_own_simulated_bench(tmp_path):
    """Preparing a second run registers its own twins under the same VISA names; running the
    first must still measure the first sample (dr_ahe −1.7 Ω, not the second's +3 Ω)."""
    first = api.prepare("field-sweep", set=["dr_ahe_ohm=-1.7"], params=SMALL)
    api.prepare("field-sweep", set=["dr_ahe_ohm=3"], params=SMALL)
    out = api.run(first, out=tmp_path)
    fit = analyze_loop(out.data)
    # the saturated levels average 10 points each of µΩ-level noise: 1 % is ample
    assert fit["dr_ahe_ohm"] == pytest.approx(-1.7, rel=0.01)


def test_a_run_by_name_equals_prepare_then_run(tmp_path):
    a = api.run("field-sweep", params=SMALL, seed=3, out=tmp_path / "a")
    b = api.run(api.prepare("field-sweep", params=SMALL, seed=3), out=tmp_path / "b")
    pd.testing.assert_frame_equal(a.data, b.data)       # same seed, same numbers


@pytest.mark.parametrize("kwargs, error, names", [
    ({"procedure": "field-swep"}, ValueError, "field-swep"),
    ({"params": {"max_fieldd": 0.1}}, ValueError, "max_fieldd"),
    ({"params": {"max_field": 50}}, ValueError, "max_field=50"),
    ({"params": ["max_field"]}, ValueError, "max_field"),
    ({"params": {"max_field": 1.0}}, LimitError, "Max field"),
    ({"params": {"current": 0.5}}, LimitError, "Current"),
    ({"sample": "no_such_sample"}, SampleError, "no_such_sample"),
    ({"set": ["alphaa=0.1"]}, SampleError, "alphaa"),
    ({"bench": "no_such_bench.toml"}, ConfigError, "no_such_bench.toml"),
    ({"bench": "x.toml", "sample": "mtj_pillar"}, ValueError, "simulated"),
])
def test_user_errors_raise_before_anything_is_touched(kwargs, error, names, tmp_path,
                                                      monkeypatch):
    opened = []
    monkeypatch.setattr(Bench, "open", lambda self: opened.append(self) or self)
    kwargs = {"procedure": "field-sweep", **kwargs}
    with pytest.raises(error, match=None) as info:
        api.run(kwargs.pop("procedure"), out=tmp_path / "out", **kwargs)
    assert names in str(info.value)
    assert opened == [] and not (tmp_path / "out").exists()


def test_a_prepared_run_takes_no_new_parameters(tmp_path):
    p = api.prepare("field-sweep", params=SMALL)
    with pytest.raises(ValueError, match="params"):
        api.run(p, params={"max_field": 0.2}, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
