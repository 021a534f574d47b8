"""labspin export FILE… --netcdf OUT: results as xarray Datasets in netCDF4/HDF5, read back
by xarray and, independently, by h5py (a plain HDF5 reader)."""
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

xr = pytest.importorskip("xarray")
h5py = pytest.importorskip("h5py")
pytest.importorskip("h5netcdf")

from labspin.cli.main import main  # noqa: E402


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A real field-sweep dry run (11 points, a loop: the set field repeats)."""
    out = tmp_path_factory.mktemp("runs")
    r = subprocess.run([sys.executable, "-m", "labspin.cli.main", "run", "field-sweep", "--sim",
                        "--seed", "3", "--param", "max_field=0.02", "--param",
                        "field_step=0.01", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return out / r.stdout.strip().splitlines()[-1].split("/")[-1]


def test_a_run_round_trips_with_its_header_as_attributes(sweep, tmp_path, capsys):
    out = tmp_path / "runs.nc"
    assert main(["export", str(sweep), str(sweep), "--netcdf", str(out)]) == 0
    groups = capsys.readouterr().out.strip().split(": ")[-1].split(", ")
    assert len(groups) == 2 and groups[0] != groups[1]
    df = pd.read_csv(sweep, comment="#")
    ds = xr.open_dataset(out, group=groups[0], engine="h5netcdf")
    assert ds.sizes["point"] == len(df) == 11
    np.testing.assert_array_equal(ds["Resistance"].values, df["Resistance (ohm)"].values)
    np.testing.assert_array_equal(ds["Field_set"].values, df["Field set (T)"].values)
    assert "Field_set" in ds.coords and ds["Field"].attrs["units"] == "T"
    assert ds["Resistance"].attrs["long_name"] == "Resistance (ohm)"
    assert ds.attrs["Status"] == "FINISHED" and ds.attrs["Seed"] == "3"
    assert len(ds.attrs["Bench config sha256"]) == 64
    assert json.loads(ds.attrs["Versions"])["pymeasure"]
    assert ds.attrs["parameter: Max field"] == "0.02 T"
    assert json.loads(ds.attrs["sample_parameters"])["name"] == "perpendicular_sot_hallbar"
    # the constants a lab knows before measuring, as the run's header has them (value, error)
    from labspin.results.header import read_header
    assert json.loads(ds.attrs["sample_constants"]) == read_header(sweep).sample_constants
    assert json.loads(ds.attrs["sample_constants"])["mu0_ms_T"][1] > 0
    with h5py.File(out, "r") as f:                  # an independent HDF5 reader
        assert set(f) == set(groups)
        np.testing.assert_array_equal(f[groups[1]]["Current"][()], df["Current (A)"].values)
        assert f[groups[1]]["Field"].attrs["units"] in (b"T", "T")


def test_a_map_becomes_a_grid_and_a_loop_is_refused_as_one(sweep, tmp_path, capsys):
    fields, currents = [0.0, 0.01, 0.02], [-1e-3, 0.0, 1e-3]
    rows = [(h, i, 100 + 1e3 * i + h) for h in fields for i in currents]
    path = tmp_path / "map.csv"
    path.write_text("#Parameters:\n#\tRepeats: 1\n#Data:\n"
                    "Field set (T),Current set (A),Resistance (ohm)\n"
                    + "".join(f"{h},{i},{r}\n" for h, i, r in rows)
                    + "#End time: x\n#Status: FINISHED\n", encoding="utf-8")
    out = tmp_path / "map.nc"
    assert main(["export", str(path), "--netcdf", str(out),
                 "--grid", "Field set,Current set"]) == 0
    ds = xr.open_dataset(out, group="map", engine="h5netcdf")
    assert dict(ds["Resistance"].sizes) == {"Field_set": 3, "Current_set": 3}
    assert float(ds["Resistance"].sel(Field_set=0.02, Current_set=1e-3)) == \
        pytest.approx(100 + 1 + 0.02)
    capsys.readouterr()
    assert main(["export", str(sweep), "--netcdf", str(out), "--grid", "Field set"]) == 2
    assert "more than once (a loop, not a grid)" in capsys.readouterr().err
    assert main(["export", str(path), "--netcdf", str(out), "--grid", "Nope"]) == 2
    assert "--grid Nope: not a column" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing.csv"), "--netcdf", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_cell_holding_a_hash_is_data_not_a_comment(tmp_path):
    """A '#' inside a cell (a note on the bar) belongs to the cell: the one results reader
    takes only lines that start with '#' as the header; pandas' comment='#' would cut the
    line there and lose the columns after it."""
    from labspin.results.export import to_dataset
    path = tmp_path / "notes.csv"
    path.write_text("#Parameters:\n#\tRepeats: 1\n#Data:\n"
                    "Note,Field set (T),Resistance (ohm)\n"
                    "bar #2,0.01,101.5\nbar #3,0.02,102.5\n#Status: FINISHED\n",
                    encoding="utf-8")
    ds = to_dataset(path)
    assert list(ds["Note"].values) == ["bar #2", "bar #3"]
    assert list(ds["Resistance"].values) == [101.5, 102.5]
    assert list(ds["Field_set"].values) == [0.01, 0.02]
